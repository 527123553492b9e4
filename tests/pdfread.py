"""Built PDFs read back by readers that did not write them: PDFium (text, words, images, rendering, boxes),
qpdf through pikepdf (syntax, font dictionaries) and zxing-cpp (barcodes).

Every function opens the file itself, so a test reads what is on disk. Coordinates are in points with the
origin at the top left of the page's CropBox (as a reader's eye goes, and as poppler's tools give them).

Text comes back as rows, top to bottom: PDFium's characters are grouped into lines by position (WeasyPrint
draws running heads and folios after the body, so the order they are drawn in is not the reading order),
a right-to-left line is put in logical order, and words break at a space character, at a space PDFium
inferred unless the gap is narrower than letter-spacing, and at any gap wider than half the line height.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import zxingcpp
from PIL import Image

LETTER_SPACING = 0.1  # of the line height: letter-spaced capitals measure 0.08, the narrowest drawn-less space 0.14
FAR_APART = 0.5  # of the line height: two runs PDFium did not see as separate words
COLOUR_SPACES = {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY: "gray", pdfium_c.FPDF_COLORSPACE_DEVICERGB: "rgb",
                 pdfium_c.FPDF_COLORSPACE_DEVICECMYK: "cmyk", pdfium_c.FPDF_COLORSPACE_ICCBASED: "icc",
                 pdfium_c.FPDF_COLORSPACE_INDEXED: "index"}


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True)
class PlacedImage:
    """A raster image as drawn on a page: its pixels, colour space and the resolution it prints at."""
    page: int
    width: int
    height: int
    colour: str
    x_ppi: float
    y_ppi: float


@dataclass(frozen=True)
class Font:
    """One font dictionary: its name (with any subset tag), PDF type, and whether the font file is inside."""
    name: str
    kind: str
    embedded: bool
    to_unicode: bool


@dataclass
class _Glyph:
    """A character PDFium found, with its loose box (advance × ascent and descent) in top-left coordinates."""
    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    angle: float
    spaced: bool  # PDFium inferred a space before it

    @property
    def space(self) -> bool:
        return self.text.isspace()


@contextmanager
def _document(pdf: Path) -> Iterator[pdfium.PdfDocument]:
    document = pdfium.PdfDocument(pdf)
    try:
        yield document
    finally:
        document.close()


def page_count(pdf: Path) -> int:
    with _document(pdf) as document:
        return len(document)


def _glyph_lines(page: pdfium.PdfPage) -> list[list[_Glyph]]:
    """The page's characters in drawing order, cut where PDFium ends a line or the next character is not beside the last."""
    left, _, _, top = page.get_cropbox()
    textpage = page.get_textpage()
    lines: list[list[_Glyph]] = [[]]
    top_of_line, bottom_of_line = float("inf"), float("-inf")  # of the current line's glyphs
    spaced = False
    for index in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        hyphen = pdfium_c.FPDFText_IsHyphen(textpage, index) == 1  # a line-end hyphen: PDFium drops the break after it
        if pdfium_c.FPDFText_IsGenerated(textpage, index) == 1:
            if chr(code) in "\r\n" and lines[-1]:
                lines.append([])
                top_of_line, bottom_of_line = float("inf"), float("-inf")
            spaced = chr(code) == " "
            continue
        if code < 32 and not hyphen:
            continue
        x0, y0, x1, y1 = textpage.get_charbox(index, loose=True)
        glyph = _Glyph("-" if hyphen else chr(code), x0 - left, top - y1, x1 - left, top - y0, round(pdfium_c.FPDFText_GetCharAngle(textpage, index), 2), spaced)
        spaced = False
        current = lines[-1]
        if current and not glyph.space and (glyph.bottom <= top_of_line or glyph.top >= bottom_of_line or glyph.angle != current[-1].angle):
            lines.append(current := [])  # no vertical overlap or another direction: another line
            top_of_line, bottom_of_line = float("inf"), float("-inf")
        current.append(glyph)
        top_of_line, bottom_of_line = min(top_of_line, glyph.top), max(bottom_of_line, glyph.bottom)
        if hyphen:
            lines.append([])
            top_of_line, bottom_of_line = float("inf"), float("-inf")
    textpage.close()
    return [line for line in lines if line]


def _rows(lines: list[list[_Glyph]]) -> list[list[_Glyph]]:
    """Level lines that share a baseline (a superscript, a running head's two ends) joined into rows, top to bottom;
    rotated text (an SVG's labels) keeps its own rows."""
    rows: list[tuple[float, float, list[_Glyph]]] = []
    for line in sorted(lines, key=lambda line: min(g.top for g in line)):
        top, bottom = min(g.top for g in line), max(g.bottom for g in line)
        for index, (row_top, row_bottom, glyphs) in enumerate(rows):
            overlap = min(bottom, row_bottom) - max(top, row_top)
            if line[0].angle == glyphs[0].angle == 0 and overlap >= 0.5 * min(bottom - top, row_bottom - row_top):
                rows[index] = (min(top, row_top), max(bottom, row_bottom), glyphs + line)
                break
        else:
            rows.append((top, bottom, line))
    return [glyphs for _, _, glyphs in sorted(rows, key=lambda row: row[0])]


Cluster = list[_Glyph]  # a base character with the marks drawn on it


def _clusters(row: list[_Glyph]) -> list[Cluster]:
    """The row's clusters, left to right."""
    clusters: list[Cluster] = []
    for glyph in row:
        if clusters and unicodedata.combining(glyph.text):
            clusters[-1].append(glyph)
        else:
            clusters.append([glyph])
    return sorted(clusters, key=lambda cluster: cluster[0].x0)


def _visual(row: list[_Glyph]) -> list[Cluster | None]:
    """The row's clusters left to right, with None where a word breaks (see the module's docstring)."""
    tokens: list[Cluster | None] = []
    for cluster in _clusters(row):
        glyph = cluster[0]
        if glyph.space:
            tokens.append(None)
            continue
        if tokens and tokens[-1] is not None:
            last = tokens[-1][0]
            gap = (glyph.x0 - last.x1) / max(last.bottom - last.top, glyph.bottom - glyph.top, 0.01)
            if gap > FAR_APART or gap > LETTER_SPACING and glyph.spaced:
                tokens.append(None)
        tokens.append(cluster)
    return tokens


def _classes(token: Cluster | None) -> set[str]:
    return {unicodedata.bidirectional(g.text) for g in token} if token else set()


def _logical(tokens: list[Cluster | None]) -> list[Cluster | None]:
    """Tokens drawn left to right, in reading order: a right-to-left row (more Arabic or Hebrew letters than Latin)
    reversed, its left-to-right runs (Latin words, numbers, and what lies between them) kept as drawn."""
    classes = [c for token in tokens for c in _classes(token)]
    if sum(c in {"R", "AL"} for c in classes) <= sum(c == "L" for c in classes):
        return tokens
    tokens, ordered, index = tokens[::-1], [], 0
    while index < len(tokens):
        if _classes(tokens[index]) & {"L", "EN", "AN"}:
            end = index
            for scan in range(index, len(tokens)):
                if _classes(tokens[scan]) & {"R", "AL"}:
                    break
                if _classes(tokens[scan]) & {"L", "EN", "AN"}:
                    end = scan
            ordered += tokens[index : end + 1][::-1]
            index = end + 1
        else:
            ordered.append(tokens[index])
            index += 1
    return ordered


def _row_words(row: list[_Glyph]) -> list[list[_Glyph]]:
    """The row's words in reading order, each its glyphs in reading order."""
    words: list[list[_Glyph]] = [[]]
    for token in _logical(_visual(row)):
        if token is None:
            words.append([])
        else:
            words[-1] += token
    return [word for word in words if word]


def _page_rows(page: pdfium.PdfPage, crop: tuple[float, float, float, float] | None) -> list[list[_Glyph]]:
    lines = _glyph_lines(page)
    if crop:
        x, y, width, height = crop
        inside = lambda g: x <= (g.x0 + g.x1) / 2 < x + width and y <= (g.top + g.bottom) / 2 < y + height
        lines = [kept for line in lines if (kept := [g for g in line if inside(g)])]
    return _rows(lines)


def page_words(pdf: Path, number: int) -> list[Word]:
    """The words of page ``number`` (from 1), row by row, each with its box."""
    with _document(pdf) as document:
        return _words(_page_rows(document[number - 1], None))


def _words(rows: list[list[_Glyph]]) -> list[Word]:
    return [Word("".join(g.text for g in word), min(g.x0 for g in word), min(g.top for g in word), max(g.x1 for g in word),
                 max(g.bottom for g in word)) for row in rows for word in _row_words(row)]


def texts_and_words(pdf: Path) -> list[tuple[str, list[Word]]]:
    """Each page's text (as :func:`page_text`) and words (as :func:`page_words`), the page read once."""
    with _document(pdf) as document:
        return [(_text(rows), _words(rows)) for rows in (_page_rows(page, None) for page in document)]


def _text(rows: list[list[_Glyph]]) -> str:
    """One line per row that has a word."""
    lines = (" ".join("".join(g.text for g in word) for word in _row_words(row)) for row in rows)
    return "\n".join(line for line in lines if line)


def page_text(pdf: Path, number: int, crop: tuple[float, float, float, float] | None = None) -> str:
    """The text of page ``number`` (from 1), one line per row; ``crop`` (x, y, width, height) keeps only what lies inside."""
    with _document(pdf) as document:
        return _text(_page_rows(document[number - 1], crop))


def page_texts(pdf: Path) -> list[str]:
    with _document(pdf) as document:
        return [_text(_page_rows(page, None)) for page in document]


def text(pdf: Path) -> str:
    """Every page's text, pages joined by a line break."""
    return "\n".join(page_texts(pdf))


def render(pdf: Path, number: int, dpi: int, grey: bool = False) -> Image.Image:
    """Page ``number`` (from 1) drawn by PDFium at ``dpi``: its CropBox, white under the page."""
    with _document(pdf) as document:
        bitmap = document[number - 1].render(scale=dpi / 72, grayscale=grey)
        return bitmap.to_pil().copy()


def boxes(pdf: Path, number: int) -> dict[str, tuple[float, float, float, float]]:
    """MediaBox, CropBox, BleedBox and TrimBox of page ``number`` as PDFium reads them (left, bottom, right, top)."""
    with _document(pdf) as document:
        page = document[number - 1]
        return {"MediaBox": page.get_mediabox(), "CropBox": page.get_cropbox(), "BleedBox": page.get_bleedbox(), "TrimBox": page.get_trimbox()}


@dataclass(frozen=True)
class StyledChar:
    """A character as PDFium reads it: its font's name (which says its weight and style), size, and tight glyph box
    (top-left coordinates)."""
    text: str
    font: str
    size: float
    x0: float
    top: float
    x1: float
    bottom: float


def styled_chars(pdf: Path, number: int) -> list[StyledChar]:
    """Page ``number``'s characters in drawing order, with their font and size."""
    found = []
    with _document(pdf) as document:
        page = document[number - 1]
        left, _, _, top = page.get_cropbox()
        textpage = page.get_textpage()
        name = (pdfium_c.c_char * 200)()
        flags = pdfium_c.c_int()
        for index in range(textpage.count_chars()):
            if pdfium_c.FPDFText_IsGenerated(textpage, index) == 1:
                continue
            pdfium_c.FPDFText_GetFontInfo(textpage, index, name, len(name), flags)
            x0, y0, x1, y1 = textpage.get_charbox(index)
            found.append(StyledChar(chr(pdfium_c.FPDFText_GetUnicode(textpage, index)), name.value.decode("latin-1"),
                                    round(pdfium_c.FPDFText_GetFontSize(textpage, index), 2),
                                    x0 - left, top - y1, x1 - left, top - y0))
        textpage.close()
    return found


def image_boxes(pdf: Path, number: int) -> list[tuple[float, float, float, float]]:
    """Where each raster image is drawn on page ``number``: x0, top, x1, bottom in top-left coordinates."""
    with _document(pdf) as document:
        page = document[number - 1]
        left, _, _, top = page.get_cropbox()
        return [(x0 - left, top - y1, x1 - left, top - y0)
                for x0, y0, x1, y1 in (image.get_bounds() for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]))]


def images(pdf: Path) -> list[PlacedImage]:
    """Every raster image drawn, page by page (inside form XObjects too), with the resolution of its placement."""
    found = []
    with _document(pdf) as document:
        for number, page in enumerate(document, start=1):
            for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]):
                meta = image.get_metadata()
                found.append(PlacedImage(number, meta.width, meta.height, COLOUR_SPACES.get(meta.colorspace, str(meta.colorspace)),
                                         meta.horizontal_dpi, meta.vertical_dpi))
    return found


def fonts(pdf: Path) -> list[Font]:
    """Every font dictionary the pages use, in their resources, form XObjects, patterns, Type 3 glyphs and annotations."""
    found: dict[tuple[int, int], Font] = {}

    def embedded(font: pikepdf.Dictionary) -> bool:
        if font.get("/Subtype") == "/Type3":
            return True  # its glyphs are content streams in the file
        described = font.DescendantFonts[0] if font.get("/Subtype") == "/Type0" else font
        descriptor = described.get("/FontDescriptor", pikepdf.Dictionary())
        return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))

    def visit(resources: pikepdf.Object | None, seen: set[tuple[int, int]]) -> None:
        if not isinstance(resources, pikepdf.Dictionary):
            return
        for font in resources.get("/Font", pikepdf.Dictionary()).values():
            if font.objgen not in found:
                found[font.objgen] = Font(str(font.get("/BaseFont", "[none]"))[1:], str(font.Subtype)[1:], embedded(font), "/ToUnicode" in font)
                visit(font.get("/Resources"), seen)
        for group in ("/XObject", "/Pattern"):
            for child in resources.get(group, pikepdf.Dictionary()).values():
                if child.objgen not in seen:
                    seen.add(child.objgen)
                    visit(child.get("/Resources"), seen)

    with pikepdf.open(pdf) as document:
        seen: set[tuple[int, int]] = set()
        for page in document.pages:
            visit(page.obj.get("/Resources"), seen)
            for annotation in page.obj.get("/Annots", []):
                for appearance in annotation.get("/AP", pikepdf.Dictionary()).values():
                    streams = appearance.values() if isinstance(appearance, pikepdf.Dictionary) and not isinstance(appearance, pikepdf.Stream) else [appearance]
                    for stream in streams:
                        visit(stream.get("/Resources"), seen)
    return list(found.values())


def syntax_problems(pdf: Path) -> list[str]:
    """What ``qpdf --check`` would report (libqpdf through pikepdf): structure, every stream decoded, every page parsed."""
    with pikepdf.open(pdf) as document:
        return document.check_pdf_syntax()


def barcodes(image: Image.Image) -> list[str]:
    """The text of every barcode zxing-cpp finds in ``image``."""
    return [found.text for found in zxingcpp.read_barcodes(image)]
