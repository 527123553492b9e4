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


# --- static instances of the variable fonts, made by HarfBuzz (samizdat.fontinstance) ------------------

VARIABLE_TABLES = ("fvar", "gvar", "avar", "cvar", "HVAR", "VVAR", "MVAR")
EVERY_FAMILY = CHAPTER + "\nHebrew: שָׁלוֹם עוֹלָם, **שלום**.\n"  # Frank Ruhl Libre; the cover sets Source Sans 3.
SECOND_CHAPTER = "# Two\n\n" + "Text runs on. " * 300


def _every_family_manuscript(root: Path) -> Path:
    return write_manuscript(root / "manuscript", EVERY_FAMILY, SECOND_CHAPTER, author="Ann Author", publisher="Pub")


@pytest.fixture(scope="module")
def instanced(tmp_path_factory) -> tuple[Path, int]:
    """A book in every variable family, and how many faces HarfBuzz instanced while writing it."""
    from samizdat import fontinstance

    made: list[bytes] = []
    subset_instance = fontinstance._subset_instance

    def counted(*args, **kwargs):
        content = subset_instance(*args, **kwargs)
        made.extend([content] if content else [])
        return content

    root = tmp_path_factory.mktemp("instanced")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fontinstance, "_subset_instance", counted)
        pdf, warnings = build(_every_family_manuscript(root), root / "dist", "pdf")
    assert warnings == []
    return pdf, len(made)


def _embedded(pdf: Path) -> dict[str, tuple[TTFont, dict]]:
    """Each embedded font by BaseFont: its font program and its descendant font dictionary."""
    fonts_by_name = {}
    with pikepdf.open(pdf) as document:
        for page in document.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                program = descendant.FontDescriptor.FontFile2.read_bytes()
                fonts_by_name[str(descendant.BaseFont)] = (TTFont(io.BytesIO(program)), {
                    "family": str(descendant.FontDescriptor.FontFamily),
                    "glyphs": {int(cid) for cid in _cids(descendant.W)},
                })
    return fonts_by_name


def _cids(widths: pikepdf.Array) -> list[int]:
    """The CIDs (glyph ids, under Identity-H) a /W array gives widths for: ``first [w w …]`` runs."""
    cids, items = [], list(widths)
    for first, run in zip(items[::2], items[1::2]):
        cids += range(int(first), int(first) + len(run))
    return cids


def _sizes(pdf: Path) -> dict[str, set[float]]:
    """The sizes each font is set at (``Tf`` operands), by BaseFont."""
    sizes: dict[str, set[float]] = {}
    with pikepdf.open(pdf) as document:
        for page in document.pages:
            names = {str(key): str(font.DescendantFonts[0].BaseFont) for key, font in page.Resources.Font.items()}
            for operands, operator in pikepdf.parse_content_stream(page, "Tf"):
                sizes.setdefault(names[str(operands[0])], set()).add(float(operands[1]))
    return sizes


def _source(family: str, name: str) -> Path:
    style = "italic" if "Italic" in name else "normal"
    [path] = {face.path for face in fonts.BOOK_FONTS if face.family == family and face.style == style}
    return path


def _weight(name: str) -> int:
    """The weight Pango named the face with: …-Semi-Bold, …-Bold, or none for 400."""
    return 600 if "-Semi-Bold" in name else 700 if "-Bold" in name else 400


def test_harfbuzz_made_every_variable_instance(instanced) -> None:
    pdf, made = instanced
    variable = [name for name, (_, info) in _embedded(pdf).items() if info["family"] != fonts.ARABIC]
    assert {info["family"] for _, info in _embedded(pdf).values()} >= {fonts.SERIF, fonts.SANS, fonts.MONO, fonts.HEBREW}
    assert made == len(variable) > 0


def test_embedded_instances_are_static_and_match_fonttools_at_their_location(instanced) -> None:
    """Advances and glyph bounds as fontTools interpolates them at the face's weight and size (to a font unit)."""
    from fontTools.pens.boundsPen import BoundsPen

    pdf, _ = instanced
    sizes = _sizes(pdf)
    for name, (embedded, info) in _embedded(pdf).items():
        assert not any(tag in embedded for tag in VARIABLE_TABLES), name
        source = TTFont(_source(info["family"], name))
        axes = {axis.axisTag for axis in source["fvar"].axes}
        location = {"wght": _weight(name)}
        if "opsz" in axes:
            [size] = sizes[name]  # One face per size: the optical size is the size it is set at.
            location["opsz"] = size
        reference = source.getGlyphSet(location=location, normalized=False)
        source_order, order = source.getGlyphOrder(), embedded.getGlyphOrder()
        glyphs = embedded.getGlyphSet()
        for glyph in info["glyphs"]:
            expected, got = reference[source_order[glyph]], glyphs[order[glyph]]
            assert abs(got.width - expected.width) <= 1, (name, location, source_order[glyph], got.width, expected.width)
            expected_pen, got_pen = BoundsPen(reference), BoundsPen(glyphs)
            expected.draw(expected_pen)
            got.draw(got_pen)
            if expected_pen.bounds is None:
                assert got_pen.bounds is None, (name, source_order[glyph])
            else:
                assert max(abs(a - b) for a, b in zip(got_pen.bounds, expected_pen.bounds)) <= 1, (name, source_order[glyph])


def test_embedded_instances_carry_overlap_flags_and_their_own_bounding_box(instanced) -> None:
    """As fontTools' instancer leaves them: Poppler renders overlapping contours and big type by these."""
    from fontTools.ttLib.tables._g_l_y_f import OVERLAP_COMPOUND, flagOverlapSimple

    pdf, _ = instanced
    for name, (embedded, _) in _embedded(pdf).items():
        table = embedded["glyf"]
        drawn = [table[glyph] for glyph in embedded.getGlyphOrder() if table[glyph].numberOfContours]
        for glyph in drawn:
            if glyph.isComposite():
                assert glyph.components[0].flags & OVERLAP_COMPOUND, name
            else:
                assert glyph.flags[0] & flagOverlapSimple, name
            glyph.recalcBounds(table)
        head = embedded["head"]
        bounds = (min(g.xMin for g in drawn), min(g.yMin for g in drawn), max(g.xMax for g in drawn), max(g.yMax for g in drawn))
        assert max(abs(a - b) for a, b in zip((head.xMin, head.yMin, head.xMax, head.yMax), bounds)) <= 1, (name, bounds)


def test_harfbuzz_instances_render_and_read_as_fonttools_instances(instanced, tmp_path) -> None:
    """The same book with every face instanced by WeasyPrint's own path (fontTools): same pages, pixel for pixel."""
    from PIL import ImageChops

    from samizdat import fontinstance

    pdf, _ = instanced
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fontinstance, "_subset_instance", lambda *args, **kwargs: None)
        reference, warnings = build(_every_family_manuscript(tmp_path), tmp_path / "dist", "pdf")
    assert warnings == []
    assert "fvar" not in next(iter(_embedded(reference).values()))[0]

    assert pdfread.text(pdf) == pdfread.text(reference)
    pages = pdfread.page_count(pdf)
    assert pages == pdfread.page_count(reference) > 1
    for number in range(1, pages + 1):  # rendered by PDFium, not by the WeasyPrint that wrote them
        mine, other = pdfread.render(pdf, number, 80), pdfread.render(reference, number, 80)
        assert ImageChops.difference(mine.convert("RGB"), other.convert("RGB")).getbbox() is None, number


def test_a_subset_harfbuzz_would_truncate_is_instanced_by_fonttools() -> None:
    """HarfBuzz 6.0 drops the last glyphs of a subset whose instanced outlines outgrow the short ``loca`` format."""
    from types import SimpleNamespace

    from samizdat.weasy import import_weasyprint

    import_weasyprint()
    from weasyprint.pdf.fonts import Font
    from weasyprint.text.ffi import ffi, harfbuzz

    ffi.cdef("hb_blob_t * hb_blob_create (const char *data, unsigned int length, int mode, void *user_data, void *destroy);"
             "hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);", override=True)
    content = fonts._SANS_UPRIGHT.read_bytes()
    buffer = ffi.from_buffer(content)
    blob = harfbuzz.hb_blob_create(buffer, len(content), 1, ffi.NULL, ffi.NULL)  # 1: HB_MEMORY_MODE_READONLY
    face = ffi.gc(harfbuzz.hb_face_create(blob, 0), harfbuzz.hb_face_destroy)
    harfbuzz.hb_blob_destroy(blob)
    source = TTFont(io.BytesIO(content))
    glyphs = range(1, len(source.getGlyphOrder()))
    font = SimpleNamespace(hb_face=face, file_content=content, index=0, tables=list(source.keys()), variations={"wght": 650.0},
                           weight=650, font_size=12.0, style=0, family=fonts.SANS, missing={}, png=False, svg=False, colr=False)
    font.subset = lambda to_unicode, hinting: Font.subset(font, to_unicode, hinting)
    font._harfbuzz_subset = lambda to_unicode, hinting: Font._harfbuzz_subset(font, to_unicode, hinting)
    Font.clean(font, {glyph: "x" for glyph in glyphs}, False)
    instance = TTFont(io.BytesIO(font.file_content))
    assert "fvar" not in instance
    source_table, table, order = source["glyf"], instance["glyf"], instance.getGlyphOrder()
    empty = [name for glyph, name in enumerate(source.getGlyphOrder()) if glyph in glyphs
             and source_table[name].numberOfContours and not table[order[glyph]].numberOfContours]
    assert empty == []


def test_characters_no_book_font_has_are_boxes_of_the_book_fonts_never_a_font_of_the_machine(tmp_path: Path) -> None:
    """Chinese, emoji and mathematical letters, in roman and in bold: T102 names each, and the PDF holds the packaged
    fonts alone (this machine has DejaVu and Droid Sans Fallback, which fontconfig would pick), each a subset: a face
    that drew no glyph (a joiner alone in bold) was embedded whole, instanced by fontTools, in 10 to 15 s."""
    chapter = "# One\n\nFreedom, 自由, is 🙂 and 𝔉𝔯𝔢𝔦; and a joiner in bold: **\u200d**.\n"  # the bold face draws no glyph
    manuscript = write_manuscript(tmp_path / "manuscript", chapter)
    from samizdat.book import load_book

    assert {w.message.split("'")[1] for w in load_book(manuscript).warnings if w.code == "T102"} >= {"自", "由", "🙂", "𝔉"}
    pdf, _ = build(manuscript, tmp_path / "dist", "pdf")
    fonts = pdfread.fonts(pdf)
    assert fonts and all(re.match(r"[A-Z]{6}\+(Source-(Serif-4|Sans-3|Code-Pro)|Amiri|Frank-Ruhl-Libre)\b", font.name) for font in fonts), fonts
    with pikepdf.open(pdf) as opened:
        programs = [obj for obj in opened.objects if isinstance(obj, pikepdf.Stream) and "/Length1" in obj]
        assert programs and max(len(program.read_raw_bytes()) for program in programs) < 40_000  # Source Serif 4 Bold whole: 109 KB
