"""Checks on a chapter's parsed text that need no other chapter: Standard Ebooks-style, one named rule each.

- ``straight-quote``: a ``"`` or ``'`` that smart punctuation could not turn into a curly one
  (usually an unbalanced quotation), so it would print as a straight quote.
- ``missing-glyph``: a character the book fonts cannot draw; it would fall back to another font
  or print as a box.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from markdown_it.token import Token

from .errors import Findings
from .fonts import BOOK_FONTS

# Characters that never reach the page as glyphs.
INVISIBLE = {"\n", "\r", "\t", "\u00ad", "\u200b", "\u200c", "\u200d", "\ufeff"}


@cache
def drawable() -> frozenset[int]:
    """Code points every body face (serif roman and italic) can draw."""
    from fontTools.ttLib import TTFont

    faces = [face for face in BOOK_FONTS if face.family == "Source Serif Pro" and face.weight == 400]
    maps = [set(TTFont(face.path, lazy=True).getBestCmap()) for face in faces]
    return frozenset(set.intersection(*maps))


def lint_tokens(tokens: list[Token], path: Path, findings: Findings) -> None:
    line = 1
    reported: set[str] = set()
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        for child in token.children or []:
            if child.type != "text":
                continue
            for quote in {'"', "'"} & set(child.content):
                findings.warning(path, f"straight quote {quote} left in prose (unbalanced quotation?): use “ ” or ‘ ’", line)
            for character in sorted(set(child.content) - reported):
                if character not in INVISIBLE and ord(character) not in drawable() and not character.isspace():
                    reported.add(character)
                    name = unicodedata.name(character, "unnamed character")
                    findings.warning(path, f"the book fonts cannot draw '{character}' (U+{ord(character):04X} {name})", line)
