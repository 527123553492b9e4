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

Scripts the Source families lack come from packages too, one family a script
(``SCRIPT_FAMILIES``): Arabic in Amiri (static regular, bold, italic and bold italic)
and Hebrew in Frank Ruhl Libre (a variable upright font with a weight axis, and no
italic: Hebrew type has none, so its upright file is also declared as the italic face,
and an emphasis in Hebrew is set upright rather than slanted by the renderer). The
stylesheets name these families after the book's own (``"Source Serif 4", "Amiri",
"Frank Ruhl Libre"``), or first in an Arabic or Hebrew book, so the fallback for a
script is a packaged font and never a system one; ``drawable`` counts them.

This module imports nothing else from samizdat.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import fontpkg_amiri
import fontpkg_frank_ruhl_libre
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
ARABIC = fontpkg_amiri.FAMILY  # "Amiri"
HEBREW = fontpkg_frank_ruhl_libre.FAMILY  # "Frank Ruhl Libre"

ARABIC_DIR = fontpkg_amiri.ROOT / "files"
HEBREW_DIR = fontpkg_frank_ruhl_libre.ROOT / "files"
FONT_DIRECTORIES = (SERIF_DIR, SANS_DIR, MONO_DIR, ARABIC_DIR, HEBREW_DIR)

# The family for each script the Source families cannot draw (ISO 15924 codes).
SCRIPT_FAMILIES: dict[str, str] = {"Arab": ARABIC, "Hebr": HEBREW}

_SERIF_UPRIGHT = SERIF_DIR / "SourceSerif4[opsz,wght].ttf"
_SERIF_ITALIC = SERIF_DIR / "SourceSerif4-Italic[opsz,wght].ttf"
_SANS_UPRIGHT = SANS_DIR / "SourceSans3[wght].ttf"
_SANS_ITALIC = SANS_DIR / "SourceSans3-Italic[wght].ttf"
_MONO_UPRIGHT = MONO_DIR / "SourceCodePro[wght].ttf"
_ARABIC = {(400, "normal"): ARABIC_DIR / "Amiri-Regular.ttf", (700, "normal"): ARABIC_DIR / "Amiri-Bold.ttf",
           (400, "italic"): ARABIC_DIR / "Amiri-Italic.ttf", (700, "italic"): ARABIC_DIR / "Amiri-BoldItalic.ttf"}
_HEBREW = HEBREW_DIR / "FrankRuhlLibre[wght].ttf"

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
) + tuple(
    FontFace(ARABIC, path, weight, style) for (weight, style), path in _ARABIC.items()
) + tuple(
    FontFace(HEBREW, _HEBREW, weight, style) for style in ("normal", "italic") for weight in _WEIGHTS
)

# The faces a character may be set in, by the role of the text around it: the role's own
# face, then the script fallbacks the stylesheets name after it.
ROLES: dict[str, tuple[FontFace, ...]] = {
    "roman": (FontFace(SERIF, _SERIF_UPRIGHT, 400, "normal"), FontFace(ARABIC, _ARABIC[400, "normal"], 400, "normal"),
              FontFace(HEBREW, _HEBREW, 400, "normal")),
    "italic": (FontFace(SERIF, _SERIF_ITALIC, 400, "italic"), FontFace(ARABIC, _ARABIC[400, "italic"], 400, "italic"),
               FontFace(HEBREW, _HEBREW, 400, "italic")),
    "bold": (FontFace(SERIF, _SERIF_UPRIGHT, 700, "normal"), FontFace(ARABIC, _ARABIC[700, "normal"], 700, "normal"),
             FontFace(HEBREW, _HEBREW, 700, "normal")),
    "code": (FontFace(MONO, _MONO_UPRIGHT, 400, "normal"), FontFace(ARABIC, _ARABIC[400, "normal"], 400, "normal"),
             FontFace(HEBREW, _HEBREW, 400, "normal")),
}


def font_face_css() -> str:
    """``@font-face`` rules for every book font file, pointing at the package's files.

    One rule per file and style, with no ``font-weight``: WeasyPrint 70 accepts only single
    weights there, and a single weight on a variable file would relabel all its instances.
    Without it, Fontconfig reads the file's weight (axis) and every weight is real.
    """
    rules: dict[tuple[Path, str], str] = {}
    for face in BOOK_FONTS:
        rules.setdefault(
            (face.path, face.style),
            f'@font-face {{ font-family: "{face.family}"; src: url("{face.path.as_uri()}"); font-style: {face.style}; }}',
        )
    return "\n".join(rules.values())


@cache
def drawable(role: str) -> frozenset[int]:
    """The code points the faces used for ``role`` ("roman", "italic", "bold", "code") can draw, script fallbacks included."""
    try:
        faces = ROLES[role]
    except KeyError:
        raise ValueError(f"unknown font role {role!r}: one of {', '.join(ROLES)}") from None
    return frozenset().union(*(_cmap(face.path) for face in faces))


@cache
def _cmap(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())
