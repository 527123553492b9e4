"""The book fonts: packaged faces with Latin, Cyrillic and Greek in every style, embedded as real faces."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pikepdf
import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from samizdat import fonts
import pdfread
from tiny_book import build, write_manuscript

LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzÀÉÎÕÜßçłœ"
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюяІЇЄҐ"
GREEK = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩαβγδεζηθικλμνξοπρστυφχψωάέήίόύώ"

CHAPTER = """# Глава

Roman text in Cyrillic: Привет, мир. *Курсив по-русски: Привет, мир, и Ελληνικά.* **Жирный: Привет.**
***Полужирный курсив: Привет.***

```
print("Привет, код")  # codeline
```
"""


@pytest.mark.parametrize("role", ["roman", "italic", "bold", "code"])
def test_every_role_draws_latin_cyrillic_and_greek(role: str) -> None:
    missing = [c for c in LATIN + CYRILLIC + GREEK if ord(c) not in fonts.drawable(role)]
    assert missing == []


def test_italic_draws_cyrillic_pe() -> None:
    assert ord("П") in fonts.drawable("italic")
    assert fonts.drawable("italic") is fonts.drawable("italic")  # cached


def test_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown font role"):
        fonts.drawable("blackletter")


def test_font_face_rules_name_the_three_families_and_packaged_files() -> None:
    css = fonts.font_face_css()
    assert set(re.findall(r'font-family: "([^"]+)"', css)) == {"Source Serif 4", "Source Sans 3", "Source Code Pro", "Amiri", "Frank Ruhl Libre"}
    for url in re.findall(r'url\("([^"]+)"\)', css):
        path = Path(unquote(urlsplit(url).path))
        assert path.is_file() and any(path.is_relative_to(folder) for folder in fonts.FONT_DIRECTORIES), url
    assert {face.path for face in fonts.BOOK_FONTS} == {Path(unquote(urlsplit(u).path)) for u in re.findall(r'url\("([^"]+)"\)', css)}


@pytest.fixture(scope="module")
def cyrillic_pdf(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fonts")
    pdf, warnings = build(write_manuscript(root / "manuscript", CHAPTER), root / "dist", "pdf")
    assert warnings == []
    return pdf


def test_pdf_embeds_only_the_book_fonts_with_real_italic_and_bold(cyrillic_pdf: Path) -> None:
    fonts = pdfread.fonts(cyrillic_pdf)
    names = [font.name for font in fonts]
    for font in fonts:
        assert re.match(r"[A-Z]{6}\+Source-(Serif-4|Sans-3|Code-Pro)\b", font.name), font
        assert font.embedded, font
        assert "Oblique" not in font.name, font
    for style in ("Italic", "Bold", "Bold-Italic"):
        assert any(name.endswith(f"Source-Serif-4-{style}") for name in names), (style, names)
    assert any("Source-Code-Pro" in name for name in names), names


def test_embedded_faces_are_static_instances_of_the_styles_they_claim(cyrillic_pdf: Path) -> None:
    """A synthetic italic would be the upright outlines (italic angle 0); a synthetic bold, weight 400."""
    with pikepdf.open(cyrillic_pdf) as pdf:
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                name = str(descendant.BaseFont)
                face = TTFont(io.BytesIO(descendant.FontDescriptor.FontFile2.read_bytes()))
                assert "fvar" not in face, name
                assert (face["post"].italicAngle < 0) == ("Italic" in name), name
                assert (face["OS/2"].usWeightClass >= 600) == ("Bold" in name), name


def test_code_is_set_in_source_code_pro_and_italic_cyrillic_in_the_italic(cyrillic_pdf: Path) -> None:
    fonts_of: dict[str, set[str]] = {}

    def visit(text, cm, tm, font, size):
        if font is not None:
            for word in text.split():
                fonts_of.setdefault(word, set()).add(str(font["/BaseFont"]))

    for page in PdfReader(cyrillic_pdf).pages:
        page.extract_text(visitor_text=visit)
    assert fonts_of["codeline"] and all("Source-Code-Pro" in name for name in fonts_of["codeline"]), fonts_of.get("codeline")
    assert all(name.endswith("Source-Serif-4-Italic") for name in fonts_of["Курсив"]), fonts_of.get("Курсив")
    assert all(name.endswith("Source-Serif-4-Bold") for name in fonts_of["Жирный:"]), fonts_of.get("Жирный:")
