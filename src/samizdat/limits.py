"""Limits on what a chapter may ask of the typesetter, checked before any layout.

WeasyPrint's time grows much faster than the input for a few shapes of text: a
4,000-letter word it may hyphenate takes about 25 s, 200 note calls in one
paragraph about 20 s, and elements nested a few hundred deep exceed what XML
parsers accept. None of these occur in a real book; each is reported (rule C105)
with the line and what to do, instead of a build that seems to hang.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it.token import Token

from .errors import Findings

MAX_WORD = 300  # Letters without a space; the longest words in dictionaries have under 200.
MAX_NOTE_CALLS = 40  # Note calls in one paragraph.
MAX_DEPTH = 40  # Elements inside each other: lists, quotes, raw HTML.


def check_limits(tokens: list[Token], path: Path, findings: Findings) -> None:
    """Report each limit a chapter exceeds, once per paragraph or block."""
    line = 1
    depth = 0
    deep_reported = False
    for token in tokens:
        line = token.map[0] + 1 if token.map else line
        depth += token.nesting if token.nesting > 0 else 0
        inline_depth = _deepest(token.children or [])
        if depth + inline_depth > MAX_DEPTH and not deep_reported:
            deep_reported = True
            findings.add("C105", path, f"elements are nested more than {MAX_DEPTH} deep (lists, quotes or raw HTML inside each other): flatten them", line)
        depth += token.nesting if token.nesting < 0 else 0
        longest = max((max(child.content.split(), key=len, default="") for child in token.children or () if child.type in {"text", "code_inline"}),
                      key=len, default="")  # the first of the longest words
        if longest:
            if len(longest) > MAX_WORD:
                findings.add("C105", path, f"a word of {len(longest)} letters without a space ('{longest[:20]}…'): "
                                           f"the limit is {MAX_WORD}; break it with spaces", line)
        calls = sum(1 for child in token.children or [] if child.type == "footnote_ref")
        if calls > MAX_NOTE_CALLS:
            findings.add("C105", path, f"{calls} note calls in one paragraph: the limit is {MAX_NOTE_CALLS}; split the paragraph or merge notes", line)


def _deepest(children: list[Token]) -> int:
    depth = deepest = 0
    for child in children:
        depth += child.nesting
        deepest = max(deepest, depth)
        if child.children:
            deepest = max(deepest, depth + _deepest(child.children))
    return deepest
