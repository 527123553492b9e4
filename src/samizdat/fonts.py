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

import array
import struct
import sys
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
    return frozenset().union(*(mapped_code_points(face.path) for face in faces))


# The Unicode cmap subtables in the order fontTools' ``getBestCmap`` (and HarfBuzz) prefers them.
CMAP_PREFERENCES = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


@cache
def mapped_code_points(path: Path) -> frozenset[int]:
    """The code points the font maps to a glyph other than .notdef: the keys of fontTools' ``getBestCmap``.

    The book fonts' best subtables are of format 4 or 12, read here with ``struct``: importing
    fontTools and decoding glyph names cost an EPUB build a tenth of its time. Any other
    format goes to fontTools.
    """
    data = path.read_bytes()
    subtable = _best_cmap_subtable(data)
    cmap_format = struct.unpack_from(">H", data, subtable)[0] if subtable is not None else None
    if cmap_format == 4:
        return _cmap_format_4(data, subtable)
    if cmap_format == 12:
        return _cmap_format_12(data, subtable)
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


def _best_cmap_subtable(font: bytes) -> int | None:
    """The offset in ``font`` of its preferred Unicode cmap subtable (``CMAP_PREFERENCES``), or None."""
    table_count = struct.unpack_from(">H", font, 4)[0]
    for record in range(12, 12 + 16 * table_count, 16):
        tag, _, cmap, _ = struct.unpack_from(">4sLLL", font, record)
        if tag == b"cmap":
            break
    else:
        return None
    subtables: dict[tuple[int, int], int] = {}
    for record in range(cmap + 4, cmap + 4 + 8 * struct.unpack_from(">H", font, cmap + 2)[0], 8):
        platform, encoding, offset = struct.unpack_from(">HHL", font, record)
        subtables.setdefault((platform, encoding), cmap + offset)
    return next((subtables[key] for key in CMAP_PREFERENCES if key in subtables), None)


def _cmap_format_4(font: bytes, start: int) -> frozenset[int]:
    """Segments of BMP code points; as fontTools reads them, the last (0xFFFF) segment is skipped."""
    length, _, segments_x2 = struct.unpack_from(">HHH", font, start + 2)
    words = array.array("H", font[start + 14 : start + length])
    if sys.byteorder != "big":
        words.byteswap()
    segments = segments_x2 // 2
    ends, starts = words[:segments], words[segments + 1 : 2 * segments + 1]  # reservedPad between them
    deltas, range_offsets = words[2 * segments + 1 : 3 * segments + 1], words[3 * segments + 1 : 4 * segments + 1]
    glyph_ids = words[4 * segments + 1 :]
    codes: set[int] = set()
    for segment in range(segments - 1):
        first, delta, range_offset = starts[segment], deltas[segment], range_offsets[segment]
        if range_offset == 0:
            codes.update(code for code in range(first, ends[segment] + 1) if (code + delta) & 0xFFFF)
            continue
        shift = range_offset // 2 - first + segment - segments  # from a code to its index in glyph_ids
        for code in range(first, ends[segment] + 1):
            if not 0 <= code + shift < len(glyph_ids):
                raise ValueError(f"cmap format 4: glyph index out of range in segment {segment}")
            if (glyph := glyph_ids[code + shift]) and (glyph + delta) & 0xFFFF:
                codes.add(code)
    return frozenset(codes)


def _cmap_format_12(font: bytes, start: int) -> frozenset[int]:
    """Groups of code points mapped to consecutive glyphs; as fontTools reads them (after HarfBuzz), a group is
    clamped to U+10FFFF and skipped when inverted or overlapping the one before, and glyph 0 maps nothing."""
    group_count = struct.unpack_from(">L", font, start + 12)[0]
    codes: set[int] = set()
    last_end = 0
    for first, last, glyph in struct.iter_unpack(">LLL", font[start + 16 : start + 16 + 12 * group_count]):
        last = min(last, 0x10FFFF)
        if first > last or first < last_end:
            continue
        last_end = last
        codes.update(range(first + (glyph == 0), last + 1))
    return frozenset(codes)
