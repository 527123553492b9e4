"""The contents' dotted leaders set as one run of text each, not one run a dot.

WeasyPrint lays a CSS ``leader(". ")`` out as one text box for each repetition, placed on a
grid counted from the right edge, so that the dots of every line stand in columns. Each box
costs as much as a word: a contents line has some fifty, a 400-chapter contents some 20,000,
which were most of the time (and memory) its pages took to draw. :func:`install` joins each
leader's boxes into one box with the text repeated, starting where the leftmost began, as soon
as WeasyPrint has placed them: the same glyphs at the same places, since a run's advances are
the sum of its repetitions'. Where they are not (a font that kerns one repetition against the
next), the boxes are left as they are.
"""

from __future__ import annotations

from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline
from weasyprint.layout.leader import leader_index
from weasyprint.text.line_break import split_first_line

TOLERANCE = 0.01  # CSS pixels: how far the joined run's width may differ from the boxes' widths added up


def install() -> None:
    """Have WeasyPrint's line layout join a leader's dots right after it places them (once a process)."""
    if getattr(inline.handle_leader, "joins_dots", False):
        return
    place_dots = inline.handle_leader

    def handle_leader(context, line: boxes.LineBox, containing_block) -> None:
        place_dots(context, line, containing_block)
        _, leader = leader_index(line)
        if leader is not None and len(leader.children) > 1:
            leader.children = _joined(context, leader.children)

    handle_leader.joins_dots = True
    inline.handle_leader = handle_leader


def _joined(context, dots: tuple[boxes.TextBox, ...]) -> tuple[boxes.TextBox, ...]:
    """One text box drawing ``dots`` (copies of one box, side by side), or ``dots`` if it would not draw the same."""
    first = min(dots, key=lambda dot: dot.position_x)
    text = first.text * len(dots)
    layout, _, resume_at, width, _, _ = split_first_line(text, first.style, context, float("inf"), first.justification_spacing)
    if resume_at is not None or abs(width - sum(dot.width for dot in dots)) > TOLERANCE:
        return dots
    joined = first.copy_with_text(text)
    joined.pango_layout, joined.width = layout, width
    return (joined,)
