"""Checks on a chapter's tokens that need no other chapter (rules T101, T102, T103, I102 of the catalogue).

- T101: a ``"`` or ``'`` that smart punctuation could not turn into a curly one
  (usually an unbalanced quotation), so it would print as a straight quote.
- T102: a character the book font for its style (roman, italic, bold, code) cannot
  draw; it would fall back to another font or print as a box.
- T103: a paragraph mostly in a script that its language (the book's, or the
  nearest ``lang`` around it) is not written in, such as Cyrillic in an ``en``
  book: screen readers would read it with the wrong voice, and the PDF would
  hyphenate it with the wrong patterns. Mark it with ``[…]{lang=ru}`` or a
  ``::: {lang=ru}`` div.
- I102: an image with no text description, which readers who cannot see it miss
  (and which withdraws the EPUB's accessibility claim).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

import langcodes
from markdown_it.token import Token

from .errors import Findings
from .fonts import drawable

# Characters that never reach the page as glyphs.
INVISIBLE = {"\n", "\r", "\t", "\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}
ITALIC = {"em", "i", "cite", "dfn", "var"}
BOLD = {"strong", "b"}
# ISO 15924 codes by the first word of a letter's Unicode name (``CYRILLIC SMALL LETTER A``).
SCRIPT_OF_NAME = {
    "LATIN": "Latn", "CYRILLIC": "Cyrl", "GREEK": "Grek", "ARABIC": "Arab", "HEBREW": "Hebr", "ARMENIAN": "Armn",
    "GEORGIAN": "Geor", "DEVANAGARI": "Deva", "BENGALI": "Beng", "TAMIL": "Taml", "THAI": "Thai", "ETHIOPIC": "Ethi",
    "CJK": "Hani", "HIRAGANA": "Hira", "KATAKANA": "Kana", "HANGUL": "Hang", "SYRIAC": "Syrc", "THAANA": "Thaa",
}
SCRIPT_NAMES = {"Latn": "Latin", "Cyrl": "Cyrillic", "Grek": "Greek", "Arab": "Arabic", "Hebr": "Hebrew", "Hani": "Han"}
# Scripts that a language's likely script (langcodes) stands for.
SCRIPTS_OF = {"Jpan": {"Hani", "Hira", "Kana"}, "Kore": {"Hang", "Hani"}, "Hans": {"Hani"}, "Hant": {"Hani"}}
MIN_LETTERS = 12  # Shorter runs (a name, a word) are not reported.


def lint_tokens(tokens: list[Token], path: Path, findings: Findings, language: str = "en") -> None:
    line = 1
    reported: set[tuple[str, str]] = set()
    languages: list[str | None] = []  # The ``lang`` of every open element, None where it has none.
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        _script_of_parts(token, languages, language, path, line, findings)
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
    drawn = drawable(role)
    for character in sorted(character for character in set(text) if ord(character) not in drawn):
        if (character, role) not in reported and character not in INVISIBLE and not character.isspace():
            reported.add((character, role))
            name = unicodedata.name(character, "unnamed character")
            style = "" if role == "roman" else f" in {role}"
            findings.add("T102", path, f"the book fonts cannot draw '{character}' (U+{ord(character):04X} {name}){style}; "
                         "in the EPUB the reader's fonts decide", line)


def _script_of_parts(token: Token, languages: list[str | None], book_language: str, path: Path, line: int, findings: Findings) -> None:
    """T103: count a block's letters by script under the language in force; warn when most are foreign."""
    letters: dict[tuple[str, str], int] = {}  # in the order of each script's first letter
    for part in (token, *(token.children or ())):
        if part.nesting == 1:
            languages.append(part.attrGet("lang"))
        elif part.nesting == -1 and languages:
            languages.pop()
        elif part.type == "text":
            language = next((tag for tag in reversed(languages) if tag), book_language)
            for character, count in Counter(part.content).items():  # each letter once, in the order of its first use
                if script := script_of(character):
                    letters[language, script] = letters.get((language, script), 0) + count
    totals: dict[str, int] = {}
    for (language, _), count in letters.items():
        totals[language] = totals.get(language, 0) + count
    for (language, script), count in letters.items():
        if totals[language] >= MIN_LETTERS and count * 2 > totals[language] and script not in scripts_of(language):
            name = SCRIPT_NAMES.get(script, script)
            findings.add("T103", path, f"this paragraph is mostly in {name} script, which '{language}' is not written in: mark its "
                         "language, [words]{lang=xx} or a ::: {lang=xx} div, so readers and hyphenation use the right one", line)


@lru_cache(maxsize=4096)  # Letters of a few alphabets, met again and again.
def script_of(character: str) -> str | None:
    """The ISO 15924 script of a letter (None for anything else, or a script not in ``SCRIPT_OF_NAME``)."""
    if not unicodedata.category(character).startswith("L"):
        return None
    return SCRIPT_OF_NAME.get(unicodedata.name(character, "").split(" ", 1)[0])


@cache
def scripts_of(language: str) -> frozenset[str]:
    """The scripts a language is written in, from its tag or langcodes' likely script: ``ru`` → Cyrl, ``ja`` → Hani, Hira, Kana."""
    tag = langcodes.Language.get(language)
    script = tag.script or tag.maximize().script or "Latn"
    return frozenset(SCRIPTS_OF.get(script, {script}))


def image_is_described(alt: str) -> bool:
    """The one definition of a described image, for rule I102 and the EPUB's accessibility claims (the PDF makes
    any other image an artifact: :meth:`samizdat.pdfua._Fixer.decorative_images`)."""
    return bool(alt.strip())


def _missing_alt(image: Token, path: Path, line: int, findings: Findings) -> None:
    if not image_is_described("".join(child.content for child in image.children or [])):
        findings.add("I102", path, f"image '{image.attrGet('src')}' has no alt text: describe it for readers who cannot see it (without, it is treated as decoration)", line)
