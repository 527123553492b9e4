"""The book fonts, taken from PyPI font packages so every machine typesets the same."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import font_source_sans_pro
import font_source_serif_pro


@dataclass(frozen=True)
class FontFace:
    family: str
    path: Path
    weight: int
    style: str


def _faces(family: str, directory: Path, prefix: str, files: dict[str, tuple[int, str]]) -> list[FontFace]:
    return [FontFace(family, directory / f"{prefix}-{name}.ttf", weight, style) for name, (weight, style) in files.items()]


SERIF_DIR = Path(font_source_serif_pro.font_directory)
SANS_DIR = Path(font_source_sans_pro.font_directory)
FONT_DIRECTORIES = (SERIF_DIR, SANS_DIR)
BOOK_FONTS: tuple[FontFace, ...] = tuple(
    _faces("Source Serif Pro", SERIF_DIR, "SourceSerifPro", {
        "Regular": (400, "normal"), "It": (400, "italic"),
        "Semibold": (600, "normal"), "SemiboldIt": (600, "italic"),
        "Bold": (700, "normal"), "BoldIt": (700, "italic"),
    })
    + _faces("Source Sans Pro", SANS_DIR, "SourceSansPro", {
        "Regular": (400, "normal"), "It": (400, "italic"),
        "Semibold": (600, "normal"), "Bold": (700, "normal"),
    })
)


def font_face_css() -> str:
    """``@font-face`` rules for every book font, pointing at the package's files."""
    return "\n".join(
        f'@font-face {{ font-family: "{face.family}"; src: url("{face.path.as_uri()}"); '
        f"font-weight: {face.weight}; font-style: {face.style}; }}"
        for face in BOOK_FONTS
    )


ROLES = {"roman": ("Source Serif Pro", 400, "normal"), "italic": ("Source Serif Pro", 400, "italic"),
         "bold": ("Source Serif Pro", 700, "normal"), "code": ("Source Sans Pro", 400, "normal")}


@cache
def drawable(role: str) -> frozenset[int]:
    """Code points the face set for ``role`` (roman, italic, bold, code) can draw."""
    from fontTools.ttLib import TTFont

    family, weight, style = ROLES[role]
    face = next(f for f in BOOK_FONTS if (f.family, f.weight, f.style) == (family, weight, style))
    return frozenset(TTFont(face.path, lazy=True).getBestCmap())
