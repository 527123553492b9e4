"""Checks on a chapter's tokens that need no other chapter (rules T101, T102, I102 of the catalogue).

- T101: a ``"`` or ``'`` that smart punctuation could not turn into a curly one
  (usually an unbalanced quotation), so it would print as a straight quote.
- T102: a character the book font for its style (roman, italic, bold, code) cannot
  draw; it would fall back to another font or print as a box.
- I102: an image with no text description, which readers who cannot see it miss
  (and which withdraws the EPUB's accessibility claim).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from markdown_it.token import Token

from .errors import Findings
from .fonts import drawable

# Characters that never reach the page as glyphs.
INVISIBLE = {"\n", "\r", "\t", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
ITALIC = {"em", "i", "cite", "dfn", "var"}
BOLD = {"strong", "b"}


def lint_tokens(tokens: list[Token], path: Path, findings: Findings) -> None:
    line = 1
    reported: set[tuple[str, str]] = set()
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        if token.type == "raw_block" or token.type == "inline" or token.type == "figure":
            _inline(token.children or [], path, line, findings, reported)
        elif token.type in {"code_block", "fence"}:
            _glyphs(token.content, "code", path, line, findings, reported)


def _inline(children: list[Token], path: Path, line: int, findings: Findings, reported: set) -> None:
    open_styles: list[str] = []
    for child in children:
        if child.type == "image":
            _missing_alt(child, path, line, findings)
        if child.nesting == 1:
            open_styles.append(child.tag)
        elif child.nesting == -1 and child.tag in open_styles:
            del open_styles[len(open_styles) - 1 - open_styles[::-1].index(child.tag)]
        elif child.type == "code_inline":
            _glyphs(child.content, "code", path, line, findings, reported)
        elif child.type == "text":
            for quote in sorted({'"', "'"} & set(child.content)):
                findings.add("T101", path, f"straight quote {quote} left in prose (unbalanced quotation?): use “ ” or ‘ ’", line)
            role = "bold" if BOLD & set(open_styles) else "italic" if ITALIC & set(open_styles) else "roman"
            _glyphs(child.content, role, path, line, findings, reported)


def _glyphs(text: str, role: str, path: Path, line: int, findings: Findings, reported: set) -> None:
    for character in sorted(set(text)):
        if (character, role) in reported or character in INVISIBLE or character.isspace():
            continue
        if ord(character) not in drawable(role):
            reported.add((character, role))
            name = unicodedata.name(character, "unnamed character")
            style = "" if role == "roman" else f" in {role}"
            findings.add("T102", path, f"the book fonts cannot draw '{character}' (U+{ord(character):04X} {name}){style}; "
                         "in the EPUB the reader's fonts decide", line)


def image_is_described(alt: str) -> bool:
    """The one definition of a described image, for rule I102 and the EPUB's accessibility claims."""
    return bool(alt.strip())


def _missing_alt(image: Token, path: Path, line: int, findings: Findings) -> None:
    if not image_is_described("".join(child.content for child in image.children or [])):
        findings.add("I102", path, f"image '{image.attrGet('src')}' has no alt text: describe it for readers who cannot see it", line)
