"""The built pamphlet, read back with pypdf, PDFium and pikepdf (qpdf): never with WeasyPrint."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

import pdfread
from conftest import book_yaml, build, chapter_files, chapter_titles, headings, manuscript_words, normalise_words
from tiny_book import write_manuscript

MM = 72 / 25.4


def test_every_page_is_a5(built_pdf: Path) -> None:
    reader = PdfReader(built_pdf)
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(148 * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(210 * MM, abs=0.5)


def test_page_count_suits_a_folded_pamphlet(built_pdf: Path) -> None:
    # Cover, contents and five chapters that each open a page: at least seven pages, and not sprawling.
    assert 7 <= len(PdfReader(built_pdf).pages) <= 16


def test_metadata_equals_book_yaml(built_pdf: Path) -> None:
    meta = book_yaml()
    info = PdfReader(built_pdf).metadata
    assert info.title == meta["title"]
    assert info.subject == " ".join(meta["description"].split())
    assert info.get("/Keywords") == ", ".join(meta["subjects"])
    assert info.creation_date.date() == meta["date"]
    with pikepdf.open(built_pdf) as pdf:
        assert str(pdf.Root.Lang) == meta["language"]


def test_bookmarks_follow_chapters_and_sections(built_pdf: Path) -> None:
    reader = PdfReader(built_pdf)
    outline = reader.outline
    top = [item.title for item in outline if not isinstance(item, list)]
    assert top == chapter_titles()
    # Sections (## headings) are nested under their chapter.
    nested = {}
    for index, item in enumerate(outline):
        if isinstance(item, list):
            nested[outline[index - 1].title] = [child.title for child in item]
    for path in chapter_files():
        sections = headings(path, 2)
        if sections:
            assert nested[headings(path, 1)[0]] == sections


def test_every_font_is_embedded_and_from_the_book_fonts(built_pdf: Path) -> None:
    fonts = pdfread.fonts(built_pdf)
    assert fonts, "no fonts at all"
    for font in fonts:
        assert font.embedded, font
        assert re.match(r"[A-Z]{6}\+Source-(Serif-4|Sans-3|Code-Pro)", font.name), f"not a book font: {font}"


def body_text(pdf: Path) -> str:
    """The text of every page without running heads and folios, pages joined, so a word hyphenated across a page break rejoins."""
    titles, book_title, opened = set(chapter_titles()), book_yaml()["title"], set()
    bodies = []
    for number, text in enumerate(pdfread.page_texts(pdf), start=1):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines and lines[-1].strip() == str(number):
            lines.pop()  # the folio
        if lines and number > 1 and (lines[0] == book_title or (lines[0] in titles and lines[0] in opened)):
            lines.pop(0)  # the running head
        elif lines and lines[0] in titles:
            opened.add(lines[0])  # a chapter opening: its title is text
        bodies.append("\n".join(lines))
    return "\n".join(bodies)


def test_every_word_of_the_manuscript_is_in_the_text_layer(built_pdf: Path) -> None:
    expected = manuscript_words()
    found = normalise_words(body_text(built_pdf))
    missing = {word: count - found[word] for word, count in expected.items() if found[word] < count}
    assert not missing


def test_contents_page_numbers_are_where_chapters_start(built_pdf: Path) -> None:
    pages = pdfread.page_texts(built_pdf)
    contents_page = next(text for text in pages if text.lstrip().startswith("Contents"))
    reader = PdfReader(built_pdf)
    destinations = {item.title: reader.get_destination_page_number(item) + 1 for item in reader.outline if not isinstance(item, list)}
    for title in chapter_titles():
        match = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", contents_page, re.M)
        assert match, f"{title} not in contents"
        number = int(match.group(1))
        first_line = pages[number - 1].strip().splitlines()[0]
        assert first_line == title, f"page {number} begins with {first_line!r}, not {title!r}"
        assert destinations[title] == number


def test_the_contents_dots_keep_off_each_title(built_pdf: Path) -> None:
    """A dot touching a title's last letter reads as a full stop, and a text extractor makes it part of the word."""
    number = next(n for n, text in enumerate(pdfread.page_texts(built_pdf), 1) if text.lstrip().startswith("Contents"))
    words = pdfread.page_words(built_pdf, number)
    for title in chapter_titles():
        last = title.split()[-1]
        [end] = [index for index, word in enumerate(words) if word.text.rstrip(".") == last and words[index + 1].text == "."]
        assert words[end].text == last, f"the first dot is joined to {title!r}"
        assert words[end + 1].x0 - words[end].x1 >= 3, title  # points: more than a word space


def test_the_contents_dots_stand_in_columns_and_each_line_of_them_is_one_run_of_text(built_pdf: Path) -> None:
    """The dots of every line on one grid, as WeasyPrint places a leader's repetitions; drawn as one text object a
    line (samizdat.leaders), where WeasyPrint draws one a dot: 18 text objects on the page, not 216."""
    number = next(n for n, text in enumerate(pdfread.page_texts(built_pdf), 1) if text.lstrip().startswith("Contents"))
    dots = [word.x0 for word in pdfread.page_words(built_pdf, number) if word.text == "."]
    pitch = dots[1] - dots[0]
    assert len(dots) > 100 and 3 < pitch < 8
    assert all(abs((x - dots[0]) / pitch - round((x - dots[0]) / pitch)) < 0.01 for x in dots)
    with pikepdf.open(built_pdf) as pdf:
        operators = [str(operator) for _, operator in pikepdf.parse_content_stream(pdf.pages[number - 1])]
    assert operators.count("BT") <= 4 * len(chapter_titles())  # heading, title, dots and page number of each line


def test_few_justified_lines_are_loose(built_pdf: Path) -> None:
    """A line whose word spaces are over twice the normal space (about 2.6 pt at 10.25 pt) makes a hole in the page.
    WeasyPrint breaks lines one at a time, so some are unavoidable: at most one line in eight."""
    loose = lines = 0
    for number in range(3, pdfread.page_count(built_pdf) + 1):
        words = pdfread.page_words(built_pdf, number)
        rows: dict[int, list] = {}
        for word in words:
            rows.setdefault(round(word.bottom), []).append(word)
        right = max((word.x1 for word in words), default=0)
        for row in rows.values():
            row.sort(key=lambda word: word.x0)
            if len(row) >= 6 and row[-1].x1 > right - 1.5:  # a full, justified line of text
                gaps = [b.x0 - a.x1 for a, b in zip(row, row[1:])]
                lines += 1
                loose += sum(gaps) / len(gaps) > 5.2
    assert lines > 80 and loose <= lines / 8, (loose, lines)


def test_running_heads_and_folios(built_pdf: Path) -> None:
    """Chapter openings carry no head; later pages carry the book title (left) or chapter title (right)."""
    pages = pdfread.page_texts(built_pdf)
    titles = chapter_titles()
    openings, seen = set(), set()
    for index, text in enumerate(pages):  # A chapter opens where its title first heads a page; later it is the running head.
        first = (text.strip().splitlines() or [""])[0]
        if first in titles and first not in seen:
            openings.add(index)
            seen.add(first)
    assert len(openings) == len(titles)
    current = None
    for index, text in enumerate(pages[:-1]):  # the last page is the back cover
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        number = index + 1
        if not lines:
            continue  # a blank before the back cover
        if index < min(openings):
            assert str(number) != lines[-1] or number > 2  # no folio on cover or contents
            continue
        assert lines[-1] == str(number), f"page {number} has no folio"
        if index in openings:
            current = lines[0]
            continue
        expected = book_yaml()["title"] if number % 2 == 0 else current
        assert lines[0] == expected, f"page {number} running head {lines[0]!r}"


def test_footnote_sits_at_the_foot_of_the_page_of_its_call(built_pdf: Path) -> None:
    for text in pdfread.page_texts(built_pdf):
        if "Editor’s note" in text:
            lines = [line for line in text.splitlines() if line.strip()]
            note_line = next(i for i, line in enumerate(lines) if "Editor’s note" in line)
            assert "illegalist" in text  # the call is on the same page
            assert note_line >= len(lines) - 4  # and the note is at the foot, above the folio
            return
    pytest.fail("footnote text not found")


def test_text_is_hyphenated_in_the_book_language(built_pdf: Path) -> None:
    # pypdf keeps line-end hyphens as drawn.
    text = "\n".join(page.extract_text() for page in PdfReader(built_pdf).pages)
    words = set(manuscript_words())
    breaks = re.findall(r"(\w+)-\n(\w+)", text)
    joined = [a + b for a, b in breaks if (a + b).lower() in words and f"{a}-{b}".lower() not in text.lower()]
    assert joined, "no word was hyphenated at a line end"


def test_tagged_pdf_ua(built_pdf: Path) -> None:
    with pikepdf.open(built_pdf) as pdf:
        assert pdf.Root.MarkInfo.Marked
        assert "/StructTreeRoot" in pdf.Root
        assert b"pdfuaid:part" in pdf.Root.Metadata.read_bytes()


def test_qpdf_check_is_clean(built_pdf: Path) -> None:
    assert pdfread.syntax_problems(built_pdf) == []


def test_figure_caption_is_under_the_timeline(built_pdf: Path) -> None:
    with pikepdf.open(built_pdf) as pdf:
        texts = pdfread.page_texts(built_pdf)
        page_index = next(i for i, text in enumerate(texts) if "A life on the move" in text)
        # The SVG is drawn as vector paths with its labels as text, on the caption's page.
        assert "Born in Brussels" in texts[page_index]
        assert "1947" in texts[page_index]
        assert len(pdf.pages[page_index].Contents.read_bytes()) > 0


def test_half_letter_page_size(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n")
    (manuscript / "book.yaml").write_text((manuscript / "book.yaml").read_text() + "page_size: half-letter\n")
    pages = PdfReader(build("pdf", manuscript, tmp_path / "out")).pages
    assert [(float(page.mediabox.width), float(page.mediabox.height)) for page in pages] == [pytest.approx((5.5 * 72, 8.5 * 72), abs=0.5)] * len(pages)


def _imprint_and_contents(pdf: Path, page: int, imprint_word: str) -> tuple[float, float, float]:
    """The top and bottom of the imprint (from its first word) on ``page``, and the bottom of the lines above it, in points."""
    words = pdfread.page_words(pdf, page)
    top = min(word.top for word in words if word.text == imprint_word)
    return top, max(word.bottom for word in words), max((word.bottom for word in words if word.bottom < top), default=0.0)


def test_the_imprint_sits_at_the_foot_of_the_contents_last_page_or_of_a_page_of_its_own(built_pdf: Path, tmp_path: Path) -> None:
    """As on a copyright page. Where the contents leave less than 8 mm above it there, it goes to the foot of
    the next page, and the chapters' page numbers follow."""
    seed_top, seed_bottom, contents_bottom = _imprint_and_contents(built_pdf, 2, "samizdat")
    assert seed_bottom > 210 * MM - 25 * MM and seed_top - contents_bottom > 30 * MM  # A5 is 210 mm tall
    manuscript = write_manuscript(tmp_path / "m", *(f"# Chapter number {n}\n\nText.\n" for n in range(1, 20)), publisher="Pressname")
    (manuscript / "book.yaml").write_text((manuscript / "book.yaml").read_text() + "isbn: {print: 978-3-16-148410-0}\n")
    pdf = build("pdf", manuscript, tmp_path / "dist")
    assert "Pressname" not in pdfread.page_text(pdf, 2)
    top, bottom, above = _imprint_and_contents(pdf, 3, "Pressname")
    assert above == 0.0 and abs(bottom - seed_bottom) < 1  # alone on its page, at the same foot
    assert pdfread.page_text(pdf, 4).startswith("Chapter number 1") and re.search(r"Chapter number 1 [. ]+4\n", pdfread.page_text(pdf, 2))
