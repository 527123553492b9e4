"""Print production: the saddle-stitch booklet, the contact-sheet proof and the press PDF."""

from __future__ import annotations

import re
from collections import deque
from decimal import Decimal
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

import pdfread
from conftest import MANUSCRIPT, STYLES, build
from samizdat import pipeline
from samizdat.booklet import impose
from tiny_book import write_manuscript

MM = 72 / 25.4


def half_texts(pdf: Path, page: int, width: float, height: float) -> tuple[str, str]:
    """The text of the left and right halves of one sheet side."""
    return pdfread.page_text(pdf, page, crop=(0, 0, width / 2, height)), pdfread.page_text(pdf, page, crop=(width / 2, 0, width / 2, height))


@pytest.fixture(scope="module")
def booklet(built_pdf: Path, tmp_path_factory) -> tuple[Path, Path]:
    """The seed pamphlet and its booklet on A4 (the task's own steps are tested on small books below)."""
    target = tmp_path_factory.mktemp("booklet") / "victor-serge-booklet.pdf"
    impose(built_pdf, target)
    return built_pdf, target


def identify(text: str, sources: list[str]) -> int | None:
    """Which 1-based source page a half-sheet shows (None for a blank)."""
    if not text:
        return None
    matches = [index + 1 for index, source in enumerate(sources) if source and " ".join(source.split()) == " ".join(text.split())]
    assert len(matches) == 1, text[:80]
    return matches[0]


# Saddle-stitch sides (left, right) in printing order, written out by hand from a folded dummy:
# sheet 1 front, sheet 1 back, sheet 2 front, …
EXPECTED_SIDES = {
    4: [(4, 1), (2, 3)],
    8: [(8, 1), (2, 7), (6, 3), (4, 5)],
    12: [(12, 1), (2, 11), (10, 3), (4, 9), (8, 5), (6, 7)],
    16: [(16, 1), (2, 15), (14, 3), (4, 13), (12, 5), (6, 11), (10, 7), (8, 9)],
}


def expected_sides(pages: int) -> list[tuple[int, int]]:
    return EXPECTED_SIDES[pages]


@pytest.mark.parametrize("pages", EXPECTED_SIDES)
def test_saddle_stitch_order_matches_a_folded_dummy(pages: int) -> None:
    from samizdat.booklet import saddle_stitch_order

    assert saddle_stitch_order(pages) == EXPECTED_SIDES[pages]


def test_booklet_sheets_are_landscape_a4_in_saddle_stitch_order(booklet) -> None:
    pamphlet, imposed = booklet
    sources = pdfread.page_texts(pamphlet)
    reader = PdfReader(imposed)
    padded = len(sources) + (-len(sources) % 4)
    assert len(reader.pages) == padded // 2
    for number, page in enumerate(reader.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width, height) == pytest.approx((297 * MM, 210 * MM), abs=0.5)
        left, right = half_texts(imposed, number, width, height)
        want_left, want_right = expected_sides(padded)[number - 1]
        assert identify(left, sources) == (want_left if sources[want_left - 1] else None)
        assert identify(right, sources) == (want_right if sources[want_right - 1] else None)


def test_blanks_go_between_the_text_and_the_back_cover(tmp_path: Path) -> None:
    """The pamphlet is a multiple of four pages; its last page is the back cover, whatever the text's length."""
    for number, extra in enumerate(("", "A short closing note.\n", "A longer closing note. " * 150 + "\n")):
        manuscript = write_manuscript(tmp_path / f"m{number}", "# One\n\nText.\n", "# Two\n\nMore.\n", "# An Added Page\n\n" + extra)
        (manuscript / "book.yaml").write_text((manuscript / "book.yaml").read_text() + "description: The blurb on the back.\n")
        booklet = pipeline.build_booklet(manuscript, tmp_path / f"d{number}", STYLES, report=pipeline.quiet)
        sources = pdfread.page_texts(tmp_path / f"d{number}" / "t.pdf")
        assert len(sources) % 4 == 0
        assert "The blurb on the back." in sources[-1] and not re.search(r"^\d+$", sources[-1], re.M)  # the back cover, no folio
        last_text = max(index for index, text in enumerate(sources[:-1]) if text)
        assert last_text >= len(sources) - 5 and all(not text for text in sources[last_text + 1 : -1])
        assert booklet.name == "t-booklet.pdf" and len(PdfReader(booklet).pages) == len(sources) // 2  # the booklet adds nothing
    assert len(sources) > 4  # the longest note took more than one sheet


def test_booklet_on_letter_scales_to_fit_and_keeps_text(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nVictor Serge and the Left Opposition.\n")
    booklet = pipeline.build_booklet(manuscript, tmp_path, STYLES, sheet="letter", report=pipeline.quiet)
    assert booklet.name == "t-booklet-letter.pdf"
    assert not (tmp_path / "t-booklet.pdf").exists(), "the letter booklet must not overwrite the A4 one"
    page = PdfReader(booklet).pages[0]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx((11 * 72, 8.5 * 72), abs=0.5)
    text = pdfread.text(booklet)
    assert "Victor Serge and the Left Opposition." in text
    # Each A5 page is scaled down to fit its half of the sheet and centred on it: read from the sheet's content stream.
    a5_width, a5_height = 148 / 25.4 * 72, 210 / 25.4 * 72
    with pikepdf.open(booklet) as pdf:
        instructions = [(str(operator), [float(x) if isinstance(x, (int, float, Decimal)) else 0.0 for x in operands])
                        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0])]
    # The matrix that places a page comes just before the clip to that page's box.
    halves = [instructions[i - 1][1] for i, (operator, operands) in enumerate(instructions)
              if operator == "re" and operands[2:] == pytest.approx([a5_width, a5_height], abs=0.05) and instructions[i - 1][0] == "cm"]
    assert [round(m[4]) for m in halves] == [0, 396]  # the left and right halves of an 11 in sheet
    for scale, _, _, _, x, y in halves:
        assert scale * a5_width <= 396 + 0.01 and scale * a5_height <= 612 + 0.01 and max(scale * a5_width - 396, scale * a5_height - 612) > -0.01
        assert y == pytest.approx(612 - (y + scale * a5_height), abs=0.05) and x % 396 == pytest.approx(396 - (x % 396 + scale * a5_width), abs=0.05)


def test_booklet_stays_vector_and_has_no_links(booklet) -> None:
    _, imposed = booklet
    with pikepdf.open(imposed) as pdf:
        for page in pdf.pages:
            images = list(page.get_images())
            assert images == []  # nothing was rasterised
            assert "/Annots" not in page.obj  # a page's links would lie over the other half of the sheet
    assert any("Source-Serif-4" in font.name for font in pdfread.fonts(imposed))


def test_press_pdf_has_3mm_bleed_marks_outside_it_and_is_pdf_x4(tmp_path: Path) -> None:
    warnings: list[str] = []
    press = build("pdf", MANUSCRIPT, tmp_path, press=True, warnings=warnings)
    assert press.name == "victor-serge-press.pdf"
    assert warnings == []  # nothing in press.css that WeasyPrint ignores
    with pikepdf.open(press) as pdf:
        for page in pdf.pages:
            media = [float(v) for v in page.MediaBox]
            trim = [float(v) for v in page.TrimBox]
            bleed = [float(v) for v in page.BleedBox]
            assert "/ArtBox" not in page.obj, "TrimBox or ArtBox, not both"
            assert trim[2] - trim[0] == pytest.approx(148 * MM, abs=0.5)
            for side in range(2):  # BleedBox is the trim plus 3 mm; the MediaBox leaves room for marks outside it.
                assert trim[side] - bleed[side] == pytest.approx(3 * MM, abs=0.05)
                assert bleed[side + 2] - trim[side + 2] == pytest.approx(3 * MM, abs=0.05)
                assert bleed[side] - media[side] >= 8 * MM
        xmp = pdf.Root.Metadata.read_bytes()
        assert b"PDF/X-4" in xmp
        assert "/OutputIntents" in pdf.Root
        assert "/GTS_PDFX" == str(pdf.Root.OutputIntents[0].S)
        # Nothing at all is painted in DeviceRGB, the figure included.
        for number, page in enumerate(pdf.pages):
            operators = {str(op) for _, op in pikepdf.parse_content_stream(page)}
            assert not operators & {"rg", "RG"}, f"page {number + 1} paints in DeviceRGB"
        assert not any("/DeviceRGB" in repr(obj) for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary))
        # The output intent is styles/press-cmyk.icc, byte for byte; the type is in black ink alone (a tint of it at most).
        assert pdf.Root.OutputIntents[0].DestOutputProfile.read_bytes() == (STYLES / "press-cmyk.icc").read_bytes()
        text_fills = set()
        for page in pdf.pages:
            fill = None
            for operands, operator in pikepdf.parse_content_stream(page):
                if str(operator) in {"k", "sc", "scn", "g", "rg"}:
                    fill = (str(operator), tuple(float(x) for x in operands))
                elif str(operator) in {"Tj", "TJ", "'", '"'}:
                    text_fills.add(fill)
        assert ("k", (0, 0, 0, 1)) in text_fills or ("scn", (0, 0, 0, 1)) in text_fills
        assert all(operator in {"k", "scn", "sc"} and len(values) == 4 and values[:3] == (0, 0, 0) for operator, values in text_fills), text_fills
    assert press.stat().st_mode & 0o444 == 0o444  # readable by all (the print shop's upload tool), as every output is


def test_archive_variant_is_pdf_a3b(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n\n![A timeline](images/timeline.svg \"A caption.\")\n")
    archive = build("pdf", manuscript, tmp_path / "dist", variant="pdf/a-3b")
    assert archive.name == "t-pdfa.pdf"
    assert not (tmp_path / "dist" / "t.pdf").exists(), "the archive variant must not overwrite the pamphlet"
    with pikepdf.open(archive) as pdf:
        assert "/StructTreeRoot" in pdf.Root and pdf.Root.MarkInfo.Marked  # the archive keeps the structure tags
        intent = pdf.Root.OutputIntents[0]
        assert intent.DestOutputProfile.N == 3 and "sRGB" in str(intent.OutputConditionIdentifier)  # RGB content, RGB intent
        xmp = pdf.Root.Metadata.read_bytes()
        assert b"<pdfaid:part>3</pdfaid:part>" in xmp or b'pdfaid:part="3"' in xmp


def cell_boxes(image: Image.Image, background: tuple[int, int, int], step: int = 6) -> list[tuple[int, int, int, int]]:
    """The bounding box (left, top, right, bottom) of each connected region that is not the background colour,
    found on a copy downscaled by ``step``."""
    small = image.convert("RGB").resize((image.width // step, image.height // step), Image.NEAREST)
    width, height = small.size
    pixels = small.load()
    seen = [[False] * height for _ in range(width)]
    boxes = []
    for x in range(width):
        for y in range(height):
            if seen[x][y] or pixels[x, y] == background:
                continue
            queue = deque([(x, y)])
            seen[x][y] = True
            left, top, right, bottom = x, y, x, y
            while queue:
                cx, cy = queue.popleft()
                left, top, right, bottom = min(left, cx), min(top, cy), max(right, cx), max(bottom, cy)
                for nx, ny in ((cx + 1, cy), (cx - 1, cy), (cx, cy + 1), (cx, cy - 1)):
                    if 0 <= nx < width and 0 <= ny < height and not seen[nx][ny] and pixels[nx, ny] != background:
                        seen[nx][ny] = True
                        queue.append((nx, ny))
            boxes.append((left * step, top * step, (right + 1) * step, (bottom + 1) * step))
    return boxes


def count_cells(image: Image.Image, background: tuple[int, int, int]) -> int:
    """Connected regions that are not the background colour, on a downscaled copy."""
    return len(cell_boxes(image, background))


def test_proof_has_one_cell_per_page(tmp_path: Path) -> None:
    # Each chapter a page, each with another number of paragraphs, so that no two pages look alike.
    manuscript = write_manuscript(tmp_path / "m", *[f"# Chapter {n}\n\n" + ("Words of the chapter, " * 10 + "end.\n\n") * n for n in range(1, 6)])
    proof = pipeline.build_proof(manuscript, tmp_path, STYLES, report=pipeline.quiet)
    assert proof.name == "t-proof.png"
    image = Image.open(proof)
    background = image.convert("RGB").getpixel((0, 0))
    pages = len(PdfReader(tmp_path / "t.pdf").pages)
    assert pages == 8 and count_cells(image, background) == pages
    # Four to a row: the middle line of the first row crosses four page thumbnails.
    row = [image.convert("RGB").getpixel((x, 24 + 180)) != background for x in range(image.width)]
    assert sum(1 for x in range(1, len(row)) if row[x] and not row[x - 1]) == min(4, pages)
    # In reading order: the cells, read row by row and left to right, are the pages in turn. Each cell looks most
    # like its own page as PDFium draws it, of all the pages (the blank ones before the back cover alike).
    cells = sorted(cell_boxes(image, background), key=lambda box: (round(box[1] / 100), box[0]))
    drawn = [pdfread.render(tmp_path / "t.pdf", number, 40).convert("L") for number in range(1, pages + 1)]

    def difference(cell: tuple[int, int, int, int], page: Image.Image) -> float:
        """Both made small (each pixel the average of a patch), so that a pixel's misalignment does not count."""
        size = (24, 34)
        crop = image.convert("L").crop(cell).resize(size, Image.BOX)
        return sum(abs(a - b) for a, b in zip(crop.tobytes(), page.resize(size, Image.BOX).tobytes()))

    for index, cell in enumerate(cells):
        distances = [difference(cell, page) for page in drawn]
        assert distances[index] == min(distances), (index, [round(d, 2) for d in distances])


def test_the_booklet_task_takes_its_sheet_in_any_case_and_refuses_another_in_one_line(tmp_path: Path) -> None:
    from conftest import run_task

    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n")
    made = run_task("booklet", "--sheet", "LETTER", "--manuscript", str(manuscript), "--dist", str(tmp_path / "dist"))
    assert made.returncode == 0 and (tmp_path / "dist" / "t-booklet-letter.pdf").is_file()
    refused = run_task("booklet", "--sheet", "a3", "--manuscript", str(manuscript), "--dist", str(tmp_path / "dist"))
    assert refused.returncode == 2 and refused.stderr.strip() == "--sheet must be a4 or letter, not 'a3'"
