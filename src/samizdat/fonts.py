"""The book fonts, taken from PyPI font packages so every machine typesets the same.

Source Serif 4 (text), Source Sans 3 (cover, display) and Source Code Pro (code) come
from the ``fontpkg-*`` wheels. Each package ships variable fonts: one file for the
upright faces and one for the italics, with a weight axis (and, in Source Serif 4, an
optical-size axis). WeasyPrint 70 shapes text with the weight and size in use and embeds
a static instance of each (family, weight, style, size) it sets, so the PDF carries real
semibold, bold and italic faces, never synthetic ones.

Every face used has the same coverage: Latin, Cyrillic and Greek. The one exception in
the packages, Source Code Pro Italic (no Cyrillic, no Greek), is left out: code is
always set upright (the stylesheets say ``font-style: normal`` for it).

This module imports nothing else from samizdat.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fontpkg_source_code_pro
import fontpkg_source_sans_3
import fontpkg_source_serif_4


@dataclass(frozen=True)
class FontFace:
    """One face of a family as the stylesheets ask for it: ``font-weight`` and ``font-style``.

    Faces of one style share a variable font file; the weight is an instance of its axis.
    """

    family: str
    path: Path
    weight: int
    style: str


SERIF = fontpkg_source_serif_4.FAMILY  # "Source Serif 4"
SANS = fontpkg_source_sans_3.FAMILY  # "Source Sans 3"
MONO = fontpkg_source_code_pro.FAMILY  # "Source Code Pro"

SERIF_DIR = fontpkg_source_serif_4.ROOT / "files"
SANS_DIR = fontpkg_source_sans_3.ROOT / "files"
MONO_DIR = fontpkg_source_code_pro.ROOT / "files"
FONT_DIRECTORIES = (SERIF_DIR, SANS_DIR, MONO_DIR)

_SERIF_UPRIGHT = SERIF_DIR / "SourceSerif4[opsz,wght].ttf"
_SERIF_ITALIC = SERIF_DIR / "SourceSerif4-Italic[opsz,wght].ttf"
_SANS_UPRIGHT = SANS_DIR / "SourceSans3[wght].ttf"
_SANS_ITALIC = SANS_DIR / "SourceSans3-Italic[wght].ttf"
_MONO_UPRIGHT = MONO_DIR / "SourceCodePro[wght].ttf"

# The weights the stylesheets use: 400 (text), 600 (headings, cover), 700 (<strong>).
_WEIGHTS = (400, 600, 700)

BOOK_FONTS: tuple[FontFace, ...] = tuple(
    FontFace(family, path, weight, style)
    for family, path, style in (
        (SERIF, _SERIF_UPRIGHT, "normal"),
        (SERIF, _SERIF_ITALIC, "italic"),
        (SANS, _SANS_UPRIGHT, "normal"),
        (SANS, _SANS_ITALIC, "italic"),
        (MONO, _MONO_UPRIGHT, "normal"),
    )
    for weight in _WEIGHTS
)

# The face a character is set in, by the role of the text around it.
ROLES: dict[str, FontFace] = {
    "roman": FontFace(SERIF, _SERIF_UPRIGHT, 400, "normal"),
    "italic": FontFace(SERIF, _SERIF_ITALIC, 400, "italic"),
    "bold": FontFace(SERIF, _SERIF_UPRIGHT, 700, "normal"),
    "code": FontFace(MONO, _MONO_UPRIGHT, 400, "normal"),
}


def font_face_css() -> str:
    """``@font-face`` rules for every book font file, pointing at the package's files.

    One rule per file, with no ``font-weight``: WeasyPrint 70 accepts only single weights
    there, and a single weight on a variable file would relabel all its instances. Without
    it, Fontconfig reads the file's weight axis and every weight from 200 to 900 is real.
    """
    rules: dict[Path, str] = {}
    for face in BOOK_FONTS:
        rules.setdefault(
            face.path,
            f'@font-face {{ font-family: "{face.family}"; src: url("{face.path.as_uri()}"); font-style: {face.style}; }}',
        )
    return "\n".join(rules.values())


@cache
def drawable(role: str) -> frozenset[int]:
    """The code points the face used for ``role`` ("roman", "italic", "bold", "code") can draw."""
    try:
        face = ROLES[role]
    except KeyError:
        raise ValueError(f"unknown font role {role!r}: one of {', '.join(ROLES)}") from None
    return _cmap(face.path)


@cache
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())
