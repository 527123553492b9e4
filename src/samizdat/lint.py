"""Checks on a chapter's parsed text that need no other chapter: Standard Ebooks-style, one named rule each.

- ``straight-quote``: a ``"`` or ``'`` that smart punctuation could not turn into a curly one
  (usually an unbalanced quotation), so it would print as a straight quote.
- ``missing-glyph``: a character the book fonts cannot draw; it would fall back to another font
  or print as a box.
- ``missing-alt``: an image with no text description, which readers who cannot see it miss
  (and which withdraws the EPUB's accessibility claim).
"""

from __future__ import annotations

import re
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


RAW_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
ALT_TEXT = re.compile(r"""\balt\s*=\s*("[^"]*\S[^"]*"|'[^']*\S[^']*')""", re.I)


def lint_tokens(tokens: list[Token], path: Path, findings: Findings) -> None:
    line = 1
    reported: set[str] = set()
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        _missing_alt(token, path, line, findings)
        for child in token.children or []:
            _missing_alt(child, path, line, findings)
            if child.type != "text":
                continue
            for quote in {'"', "'"} & set(child.content):
                findings.warning(path, f"straight quote {quote} left in prose (unbalanced quotation?): use “ ” or ‘ ’", line)
            for character in sorted(set(child.content) - reported):
                if character not in INVISIBLE and ord(character) not in drawable() and not character.isspace():
                    reported.add(character)
                    name = unicodedata.name(character, "unnamed character")
                    findings.warning(path, f"the book fonts cannot draw '{character}' (U+{ord(character):04X} {name})", line)


def _missing_alt(token: Token, path: Path, line: int, findings: Findings) -> None:
    if token.type == "image" and not "".join(child.content for child in token.children or []).strip():
        findings.warning(path, f"image '{token.attrGet('src')}' has no alt text: describe it for readers who cannot see it", line)
    elif token.type in {"html_inline", "html_block"}:
        for tag in RAW_IMAGE.findall(token.content):
            if not ALT_TEXT.search(tag):
                findings.warning(path, f"image {tag} has no alt text: describe it for readers who cannot see it", line)
