"""What a typesetter would correct, checked on a small book's PDF (read with PDFium) and EPUB (read with lxml):
heading levels, note calls, superscripts, small capitals, spaced dashes and images in the line."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

import pdfread
from conftest import build
from tiny_book import write_manuscript

WORDS = "Words that fill a line of the page and then another, as prose does. " * 3
CHAPTER = f"""# Typography

{WORDS}A first call.[^a] {WORDS}Another call of the same note.[^a]

[^a]: The note.

## Second level

{WORDS}Small capitals: [Small capitals here]{{.smallcaps}}. Plain: small capitals there.

### Third level

{WORDS}

#### Fourth level

{WORDS}

##### Fifth level

{WORDS}

###### Sixth level

{WORDS}

{WORDS}A raised word<sup>sup</sup> in the middle of the paragraph. {WORDS}{WORDS}

{"A pause -- then more, " * 40}and an end.

A dash that ends a line of the source --
and the next. He admired V. I. Lenin, and Plan B. worked, but not U.S. Army rules.

An icon ![dot](images/dot.png) in a sentence.

![A dot on its own line](images/dot.png)
"""
HEADINGS = ["Second level", "Third level", "Fourth level", "Fifth level", "Sixth level"]


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("typography")
    manuscript = write_manuscript(root / "m", CHAPTER, author="A. Writer")
    Image.new("RGB", (400, 200), (139, 30, 30)).save(manuscript / "images" / "dot.png")
    warnings: list[str] = []
    built = {kind: build(kind, manuscript, root / "dist", warnings=warnings) for kind in ("pdf", "epub")}
    assert warnings == []
    return built


def chars(pdf: Path) -> list[tuple[int, pdfread.StyledChar]]:
    return [(number, char) for number in range(1, pdfread.page_count(pdf) + 1) for char in pdfread.styled_chars(pdf, number)]


def first_char_of(text: str, found: list[tuple[int, pdfread.StyledChar]]) -> pdfread.StyledChar:
    joined = "".join(char.text for _, char in found)
    return found[joined.index(text)][1]


def prominence(char: pdfread.StyledChar) -> tuple[float, int, int]:
    """Size, then weight (from the face's name), then upright before italic."""
    name = char.font.split("+")[-1]
    return char.size, 600 if "Semi-Bold" in name else 400, 0 if "Italic" in name else 1


def test_each_heading_level_is_less_prominent_than_the_one_above(book: dict[str, Path]) -> None:
    found = chars(book["pdf"])
    levels = [prominence(first_char_of(heading, found)) for heading in HEADINGS]
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels), levels
    assert levels[0][1:] == (600, 1)  # the second level is the semibold roman, not an italic that reads lighter


def test_a_later_call_of_a_note_is_set_as_the_first(book: dict[str, Path]) -> None:
    """The first call is WeasyPrint's footnote call, a later one a link to the note: the same size, both raised."""
    found = chars(book["pdf"])
    joined = "".join(char.text for _, char in found)
    calls = [(found[match.end() - 2][1], found[match.end() - 1][1]) for match in re.finditer(r"call\.1|note\.1", joined)]
    assert len(calls) == 2 and calls[0][1].size == calls[1][1].size < calls[0][0].size * 0.8
    assert all(call.bottom < stop.bottom - 2 for stop, call in calls)  # raised above the full stop's baseline


def test_a_superscript_keeps_its_lines_as_far_apart_as_the_others(book: dict[str, Path]) -> None:
    words = pdfread.page_words(book["pdf"], 3) + pdfread.page_words(book["pdf"], 4)
    paragraph = next(index for index, word in enumerate(words) if word.text.startswith("raised"))
    lines = sorted({round(word.bottom, 1) for word in words[paragraph - 40:paragraph + 40]})
    gaps = [round(b - a, 1) for a, b in zip(lines, lines[1:]) if b > a and b - a < 30]
    assert max(gaps) - min(gaps) < 0.5, gaps


def test_small_capitals_are_the_fonts_own(book: dict[str, Path]) -> None:
    """The font's small capitals (its smcp glyphs, at the text's size): wider than the lower-case letters they
    stand for, where capitals scaled down by the typesetter would be set at a smaller size."""
    found = chars(book["pdf"])
    joined = "".join(char.text for _, char in found)
    small = [char for _, char in found[joined.index("Small capitals here") + 1:][:12]]  # "mall capital"
    plain = [char for _, char in found[joined.index("small capitals there") + 1:][:12]]
    assert {char.size for char in small} == {char.size for char in plain}
    assert small[-1].x1 - small[0].x0 > 1.15 * (plain[-1].x1 - plain[0].x0)
    with zipfile.ZipFile(book["epub"]) as epub:
        xhtml = etree.fromstring(epub.read("EPUB/01.xhtml"))
    assert [span.text for span in xhtml.iter("{*}span") if span.get("class") == "smallcaps"] == ["Small capitals here"]


def test_no_line_begins_with_a_spaced_dash(book: dict[str, Path]) -> None:
    lines = [line for number in range(1, pdfread.page_count(book["pdf"]) + 1) for line in pdfread.page_text(book["pdf"], number).splitlines()]
    assert sum("–" in line for line in lines) > 5
    assert [line for line in lines if line.lstrip().startswith("–")] == []
    with zipfile.ZipFile(book["epub"]) as epub:
        text = "".join(etree.fromstring(epub.read("EPUB/01.xhtml")).itertext())
    assert "pause\u00a0– then" in text and "pause – then" not in text
    assert "source\u00a0–\nand" in text


def test_initials_never_part_from_the_name(book: dict[str, Path]) -> None:
    with zipfile.ZipFile(book["epub"]) as epub:
        text = "".join(etree.fromstring(epub.read("EPUB/01.xhtml")).itertext())
    assert "V.\u00a0I.\u00a0Lenin" in text and "U.S. Army" in text


def test_an_image_in_a_sentence_stays_in_the_line_and_one_alone_stands_on_its_own(book: dict[str, Path]) -> None:
    pdf = book["pdf"]
    page = next(number for number in range(1, pdfread.page_count(pdf) + 1) if "An icon" in pdfread.page_text(pdf, number))
    words = pdfread.page_words(pdf, page)
    icon_line = next(word for word in words if word.text == "icon")
    placed = [(number, box) for number in range(page, pdfread.page_count(pdf) + 1) for box in pdfread.image_boxes(pdf, number)]
    assert len(placed) == 2
    (_, inline), (alone_page, alone) = placed
    assert inline[3] - inline[1] < 1.5 * (icon_line.bottom - icon_line.top)  # no taller than the text
    assert inline[1] < icon_line.bottom and inline[3] > icon_line.top  # in its line,
    sentence_end = next(word for word in words if word.text.startswith("sentence"))
    assert abs(sentence_end.bottom - icon_line.bottom) < 1  # and the sentence ends on that line
    assert alone_page > page or alone[1] > icon_line.bottom  # below it,
    assert alone[3] - alone[1] > 3 * (icon_line.bottom - icon_line.top)  # full size
    # and centred in the measure: the justified lines of the last full page on the same side fill it
    measure = [word for word in pdfread.page_words(pdf, alone_page - 2) if word.bottom < 500]  # the text, not the folio
    left, right = min(word.x0 for word in measure), max(word.x1 for word in measure)
    assert alone[0] - left == pytest.approx(right - alone[2], abs=1.0) and alone[0] - left > 10


def _german_paragraphs() -> str:
    """Fourteen paragraphs of long German words, in an order fixed by the seed: long words hyphenate often."""
    import random

    words = ("Die Arbeiterbewegung entwickelte in den Jahrzehnten vor dem Ersten Weltkrieg eine außerordentliche "
             "Organisationsfähigkeit, deren Gewerkschaftsverbände und Bildungsvereine eine Gegenöffentlichkeit schufen. "
             "Die Revolutionsregierung verstaatlichte die Schwerindustrie, während die Bauernschaft ihre Getreidelieferungen "
             "verweigerte und die Versorgungslage der Großstädte sich dramatisch verschlechterte. Die Unabhängigkeitserklärung "
             "der Randgebiete, die Bürgerkriegsfronten und die Wirtschaftsblockade zwangen die Parteiführung zu "
             "Zwangsmaßnahmen, die viele Zeitgenossen als Verrat an den ursprünglichen Zielen empfanden. Serge beschrieb "
             "diese Widersprüchlichkeiten mit schonungsloser Aufrichtigkeit in seinen Erinnerungen eines Revolutionärs, "
             "die zu den eindrucksvollsten Selbstzeugnissen der Zwischenkriegszeit gehören.").split()
    shuffled = random.Random(3)
    paragraphs = []
    for _ in range(14):
        shuffled.shuffle(words)
        paragraphs.append(" ".join(words[:shuffled.randint(60, 110)]) + ".")
    return "\n\n".join(paragraphs)


def _set(pdf: Path) -> tuple[int, int, list[str]]:
    """Justified lines set loose (mean word space over twice the book's median), lines ending in a hyphen, and the
    last line of each page of text, as PDFium reads the pages."""
    rows: list[tuple[str, float]] = []
    page_ends = []
    for text, words in pdfread.texts_and_words(pdf)[2:]:  # after the cover and contents
        lines: dict[int, list] = {}
        for word in words:
            lines.setdefault(round(word.top), []).append(word)
        ordered = [sorted(line, key=lambda w: w.x0) for top, line in sorted(lines.items())]
        body = [line for line in ordered if len(line) >= 4]  # justified lines, whose spaces say how loose they are
        rows += [(" ".join(w.text for w in line), sum(b.x0 - a.x1 for a, b in zip(line, line[1:])) / (len(line) - 1)) for line in body]
        text_lines = [" ".join(w.text for w in line) for line in ordered if not all(w.text.isdigit() for w in line)]  # not the folio
        page_ends += text_lines[-1:]
    normal = sorted(gap for _, gap in rows)[len(rows) // 2]
    return sum(gap > 2 * normal for _, gap in rows), sum(bool(re.search(r"\w-$", line)) for line, _ in rows), page_ends


def test_a_word_split_across_a_page_turn_is_set_whole_and_its_paragraph_stays_hyphenated(tmp_path: Path, monkeypatch) -> None:
    """The word goes whole to one page; its paragraph keeps its hyphens, and so fewer loose lines than when the
    whole paragraph was set unhyphenated (which the build still does when it cannot find the word)."""
    from samizdat import pdf

    manuscript = tmp_path / "manuscript"
    manuscript.mkdir()
    (manuscript / "book.yaml").write_text("title: Probe\nlanguage: de\nauthor: A. Schreiber\n", encoding="utf-8")
    (manuscript / "01.md").write_text(f"# Erinnerungen\n\n{_german_paragraphs()}\n", encoding="utf-8")
    kept_whole = _set(build("pdf", manuscript, tmp_path / "whole"))
    monkeypatch.setattr(pdf, "WORD", re.compile("(?!)"))  # no word found: each such paragraph is set unhyphenated
    unhyphenated = _set(build("pdf", manuscript, tmp_path / "unhyphenated"))
    for _, _, page_ends in (kept_whole, unhyphenated):
        assert len(page_ends) >= 4 and not [end for end in page_ends if re.search(r"\w-$", end)]
    assert kept_whole[1] > unhyphenated[1]  # more hyphens
    assert kept_whole[0] < unhyphenated[0]  # fewer loose lines


def test_a_word_kept_whole_is_found_in_the_text_never_inside_an_escaped_character() -> None:
    """The PDF renderer's rule for text: 'amp' and 'lt' kept whole leave '&amp;' and '&lt;' as they are."""
    from markdown_it.token import Token

    from samizdat.pdf import PdfChapterRenderer

    text = Token("text", "", 0, content="amp & lt <x> amp-ere amp")
    html = PdfChapterRenderer.text(None, [text], 0, None, {"whole_words": {"p-1": frozenset({"amp", "lt"})}, "paragraph": "p-1"})
    assert html == ('<span class="samizdat-whole">amp</span> &amp; <span class="samizdat-whole">lt</span> &lt;x&gt; amp-ere '
                    '<span class="samizdat-whole">amp</span>')
