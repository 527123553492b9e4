"""The contents' dotted leaders drawn as one run of text each, not one run a dot.

WeasyPrint lays a CSS ``leader(". ")`` out as one text box for each repetition, placed on a
grid counted from the right edge, so that the dots of every line stand in columns. Each box
costs as much to draw as a word: a contents line has some fifty, a 400-chapter contents some
20,000, which were most of the time (and memory) its pages took to draw. Here each leader's
boxes are joined into one box with the text repeated, starting where the leftmost began: the
same glyphs at the same places, since a run's advances are the sum of its repetitions'. Where
they are not (a font that kerns one repetition against the next), the boxes are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from weasyprint.formatting_structure import boxes
from weasyprint.text.line_break import split_first_line

TOLERANCE = 0.01  # CSS pixels: how far the joined run's width may differ from the boxes' widths added up


def join_leaders(document) -> None:
    """Join the dot boxes of every leader on ``document``'s pages (laid out, with its ``layout_context``) into one box."""
    for page in document.pages:
        for leader in _leaders(page._page_box):
            if len(leader.children) > 1:
                leader.children = _joined(document.layout_context, leader.children)


def _leaders(box: boxes.Box) -> Iterator[boxes.Box]:
    if box.is_leader:
        yield box
    elif isinstance(box, boxes.ParentBox):
        for child in box.children:
            yield from _leaders(child)


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
