"""README promises that had no test: each built from a tiny manuscript and read back with other tools."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

import pdfread
from conftest import ROOT, run_task
from samizdat import pipeline
from samizdat.book import load_book
from samizdat.errors import ManuscriptError
from test_rules import GOOD_YAML, write_manuscript

STYLES = ROOT / "styles"
QUIET = {"report": lambda _: None, "warn": lambda _: None}


def build(name: str, manuscript: Path, dist: Path) -> Path:
    [path] = pipeline.build(name, manuscript, dist, STYLES, **QUIET)
    return path


def test_a_repeated_key_in_book_yaml_is_a_warning_with_its_line(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, "title: One\nauthor: A. Writer\ntitle: Two\n", {})
    book = load_book(manuscript)
    assert book.metadata.title == "Two"
    [warning] = book.warnings
    assert warning.code == "M105" and warning.line == 3 and "'title' is given twice" in warning.message


@pytest.mark.parametrize("title, slug", [
    ("Victor Serge: Revolutionary and Chronicler", "victor-serge-revolutionary-and-chronicler"),
    ("Товарищ Тулаев", "tovarishch-tulaev"),
    ("الثورة والأدب", None),  # transliterated, whatever the letters: ASCII, never empty
    ("!!!", "book"),
    (" ".join(["word"] * 60), None),
])
def test_every_title_gives_a_usable_ascii_slug(tmp_path: Path, title: str, slug: str | None) -> None:
    manuscript = write_manuscript(tmp_path, f'title: "{title}"\n', {})
    made = load_book(manuscript).metadata.slug
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", made), made
    if slug:
        assert made == slug


def test_a_slug_that_is_not_a_plain_file_name_is_refused(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, "title: T\nslug: ../escape\nauthor: A. Writer\n", {})
    with pytest.raises(ManuscriptError) as raised:
        load_book(manuscript)
    assert [(f.code, f.line) for f in raised.value.findings] == [("M103", 2)]


def test_cover_splits_a_title_at_its_colon_and_prints_subtitle_and_rights(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, 'title: "Main Words: The Second Line"\nsubtitle: A Subtitle Here\n'
                                            "rights: Free to copy\npublisher: Small Press\n", {})
    pdf = build("pdf", manuscript, tmp_path / "dist")
    cover, contents = pdfread.page_texts(pdf)[:2]
    lines = [line.strip() for line in cover.splitlines() if line.strip()]
    assert lines[:3] == ["Main Words", "The Second Line", "A Subtitle Here"]
    assert "SMALL PRESS" in cover.upper() and "Free to copy" in contents


def test_a5_pages_sit_on_a4_at_full_size(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": "# One\n\nText.\n"})
    booklet = pipeline.build_booklet(manuscript, tmp_path / "dist", STYLES, report=lambda _: None)

    def matrices(path: Path, page: int) -> list[tuple[float, ...]]:
        with pikepdf.open(path) as pdf:
            return [tuple(float(v) for v in operands) for operands, operator in pikepdf.parse_content_stream(pdf.pages[page]) if str(operator) == "cm"]

    pamphlet = booklet.with_name(booklet.name.replace("-booklet", ""))
    own = {m for page in range(len(PdfReader(pamphlet).pages)) for m in matrices(pamphlet, page)}
    placements = [m for m in matrices(booklet, 0) if m not in own]  # what imposition added: one per placed page
    assert placements and all(m[0] == pytest.approx(1.0) and m[3] == pytest.approx(1.0) for m in placements), placements


def test_png_jpeg_gif_and_webp_images_reach_both_outputs(tmp_path: Path) -> None:
    formats = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}
    files = {"01.md": "# One\n\n" + "".join(f"![A {kind} square](images/square.{kind})\n\n" for kind in formats)}
    manuscript = write_manuscript(tmp_path, GOOD_YAML, files)
    (manuscript / "images").mkdir()
    for kind, pillow_format in formats.items():
        Image.new("RGB", (600, 600), (200, 40, 40)).save(manuscript / "images" / f"square.{kind}", pillow_format)
    pdf = build("pdf", manuscript, tmp_path / "dist")
    assert [(image.width, image.height) for image in pdfread.images(pdf)] == [(600, 600)] * 4
    epub = build("epub", manuscript, tmp_path / "dist")
    with zipfile.ZipFile(epub) as archive:
        opf = archive.read("EPUB/content.opf").decode()
    for media_type in ("image/png", "image/jpeg", "image/gif", "image/webp"):
        assert re.search(rf'href="images/square\.\w+"[^>]*media-type="{media_type}"|media-type="{media_type}"[^>]*href="images/square', opf), media_type
    from samizdat import web

    with pytest.MonkeyPatch.context() as patch:  # the web fonts uncompressed: test_web checks them
        patch.setattr(web, "_woff2", lambda sfnt: sfnt)
        site = build("html", manuscript, tmp_path / "dist")
    for kind in formats:  # copied as they are
        assert (site / "images" / f"square.{kind}").read_bytes() == (manuscript / "images" / f"square.{kind}").read_bytes(), kind


def test_text_is_hyphenated_in_the_language_book_yaml_names(tmp_path: Path) -> None:
    words = " ".join(["Die Donaudampfschifffahrtsgesellschaft und die Bundesverfassungsgerichtsentscheidung"] * 6)
    manuscript = write_manuscript(tmp_path, "title: Ein Buch\nlanguage: de\n", {"01.md": "# Eins\n\n" + f"{words}\n\n" * 5})
    text = pdfread.text(build("pdf", manuscript, tmp_path / "dist"))
    broken = re.findall(r"(\w+)-\s*\n\s*(\w+)", text)
    assert broken and all(head + tail in words.replace(" ", "") or (head + tail) in words for head, tail in broken)


def test_a_book_in_english_with_no_region_is_hyphenated_as_american_english(tmp_path: Path) -> None:
    """CLDR's likely region for ``en`` is the US: "knowl-edge", where British dictionaries (and Pyphen's bare
    ``en``) break "know-ledge". An ``en-GB`` book keeps the British breaks."""
    words = " ".join(f"{'a' * (1 + n * n % 13)} knowledge" for n in range(150))
    breaks = {}
    for language in ("en", "en-GB"):
        (tmp_path / language).mkdir()
        manuscript = write_manuscript(tmp_path / language, f"title: A Book\nlanguage: {language}\nauthor: A. Writer\n", {"01.md": f"# One\n\n{words}\n"})
        text = pdfread.text(build("pdf", manuscript, tmp_path / language / "dist"))
        breaks[language] = set(re.findall(r"(know\w*)-\s*\n", text))
    assert breaks == {"en": {"knowl"}, "en-GB": {"know"}}
    with pikepdf.open(tmp_path / "en" / "dist" / "a-book.pdf") as pdf:
        assert str(pdf.Root.Lang) == "en"  # the region is for hyphenation only: the book's language is as it said


def test_warnings_are_shown_under_quiet(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": '# One\n\nHe said "stop.\n'})
    result = run_task("epub", "--manuscript", str(manuscript), "--dist", str(tmp_path / "dist"), "--quiet")
    assert result.returncode == 0
    assert re.fullmatch(r"\S*01\.md:3: warning\[T101\]: straight quote .*\n", result.stderr)


def test_the_seed_pamphlet_has_exactly_its_pages(built_pdf: Path) -> None:
    """A fixed manuscript, a fixed page count: a change in layout shows here first (look at the pages, then update)."""
    assert len(PdfReader(built_pdf).pages) == 12  # 9 of text, 2 blanks, the back cover


def test_the_figure_caption_sits_under_the_figure(built_pdf: Path) -> None:
    """By position: every word of the timeline is above the caption's first line, on the same page."""
    for number in range(1, pdfread.page_count(built_pdf) + 1):
        found = [(word.text, word.top) for word in pdfread.page_words(built_pdf, number)]
        if any(word == "move:" for word, _ in found):
            caption_top = next(top for word, top in found if word == "move:")
            labels = [top for word, top in found if word in {"Dies", "Moves", "Expelled", "Arrested"}]  # words only the timeline has
            assert len(labels) >= 4 and max(labels) < caption_top
            return
    pytest.fail("caption not found")


def test_smart_punctuation_reaches_metadata_captions_and_notes_keep_paragraphs(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, 'title: "Serge\'s \\"Life\\" -- 1890"\nauthor: A. Writer\n', {
        "01.md": "# One\n\nA note.[^a] See <https://example.org/path>.\n\n[^a]: First paragraph.\n\n    Second paragraph.\n\n"
                 '![A dot](d.svg "The \\"dot\\" -- small")\n',
        "d.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><circle r="10" cx="20" cy="20"/></svg>',
    })
    pdf = build("pdf", manuscript, tmp_path / "dist")
    assert PdfReader(pdf).metadata.title == "Serge’s “Life”\u00a0– 1890"  # as typeset: the dash never begins a line
    text = pdfread.text(pdf)
    assert "The “dot” – small" in text  # (PDFium reads the no-break space's glyph as a space)
    assert text.count("example.org/path") == 1  # an autolink's address is printed once
    lines = [line.strip() for line in text.splitlines()]
    assert "Second paragraph." in lines and "1. First paragraph." in lines  # two paragraphs, two lines
    epub = build("epub", manuscript, tmp_path / "dist")
    with zipfile.ZipFile(epub) as archive:
        assert "<dc:title id=\"title\">Serge’s “Life”\u00a0– 1890</dc:title>" in archive.read("EPUB/content.opf").decode()


def test_back_cover_carries_blurb_publisher_and_a_barcode_a_scanner_reads(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, "title: T\nauthor: A. Writer\npublisher: Small Press\n"
                                            "description: A blurb for the back.\nisbn: {print: 9783161484100}\n", {})
    pdf = build("pdf", manuscript, tmp_path / "dist")
    pages = len(PdfReader(pdf).pages)
    assert pages % 4 == 0
    back = pdfread.page_text(pdf, pages)
    assert "A blurb for the back." in back and "ISBN 978-3-16-148410-0" in back and "SMALL PRESS" in back.upper()
    assert pdfread.barcodes(pdfread.render(pdf, pages, dpi=300)) == ["9783161484100"]


def test_a_long_code_line_wraps_with_a_hanging_continuation(tmp_path: Path) -> None:
    code = "very_long_command --with-an-option=value --another=another-value --third-option=yes --fourth=no input.txt\n    indented\n"
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": f"# One\n\n```\nshort\n{code}```\n"})
    pdf = build("pdf", manuscript, tmp_path / "dist")
    x = {word.text: word.x0 for word in pdfread.page_words(pdf, 3)}
    continuation = next(word for word in x if word.startswith(("--third", "--fourth", "input.txt")))
    assert x["short"] == pytest.approx(x["very_long_command"])
    assert x[continuation] > x["indented"] > x["short"]  # wrapped text hangs further in than the source's own indent


def test_an_unsized_raster_image_prints_at_300_ppi(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": "# One\n\nText.\n\n![A square](square.png)\n"})
    Image.new("RGB", (300, 300), (20, 90, 160)).save(manuscript / "square.png")
    [image] = pdfread.images(build("pdf", manuscript, tmp_path / "dist"))
    assert abs(image.x_ppi - 300) <= 1 and abs(image.y_ppi - 300) <= 1


def test_no_page_ends_on_a_hyphenated_word(built_pdf: Path) -> None:
    """A word is never split across a page turn (the seed had 'col-' at the foot of page 7 before the fix)."""
    for number, page in enumerate(pdfread.page_texts(built_pdf), start=1):
        lines = [line.strip() for line in page.splitlines() if re.search(r"[a-z]", line)]
        assert not (lines and re.search(r"\w-$", lines[-1])), f"page {number} ends with {lines[-1]!r}"


@pytest.mark.parametrize("options, hint", [(["--variant", "pdf/x-4"], "use invoke pdf --press"),
                                           (["--press", "--variant", "pdf/a-3b"], "pdf/x-4 (with --press)")])
def test_a_variant_that_cannot_hold_is_refused_with_what_to_do(tmp_path: Path, options: list[str], hint: str) -> None:
    result = run_task("pdf", *options, "--dist", str(tmp_path))
    assert result.returncode == 2 and hint in result.stderr and "Traceback" not in result.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_check_measures_how_sharp_each_raster_image_prints(tmp_path: Path) -> None:
    """The printed width comes from a layout with the book's stylesheets; PDFium reads the same ppi in the PDF."""
    chapter = ("# One\n\n![Low](images/low.png \"A coarse picture.\")\n\n![Mid](images/mid.png \"A middling picture.\")\n\n"
               "![High](images/high.png \"A sharp picture.\")\n\nText with ![inline](images/mid.png) picture.\n")
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter})
    (manuscript / "images").mkdir()
    for name, width in (("low", 300), ("mid", 700), ("high", 1200)):
        Image.new("RGB", (width, width * 2 // 3), (90, 120, 200)).save(manuscript / "images" / f"{name}.png")
    with pytest.raises(ManuscriptError) as refused:
        pipeline.check(manuscript, STYLES)
    found = {(f.code, f.line): f.message for f in refused.value.findings}
    assert set(found) == {("I106", 3), ("I105", 5)}, found  # the sharp figure and the inline image (300 ppi) pass
    ppi = int(re.search(r"(\d+) ppi", found["I105", 5]).group(1))
    (manuscript / "01.md").write_text(chapter.replace('![Low](images/low.png "A coarse picture.")', ""))
    pdf = build("pdf", manuscript, tmp_path / "dist")  # a warning does not stop the build
    x_ppi = sorted(image.x_ppi for image in pdfread.images(pdf))
    assert abs(x_ppi[0] - ppi) <= 2 and x_ppi[1] >= 298  # the middling figure, then the inline copy: no taller than the text, sharper
