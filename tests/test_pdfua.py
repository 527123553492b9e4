"""PDF/UA: the structure tree of built pamphlets, read with pikepdf and pypdf, and our PDF/UA check fed broken files."""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pypdf
import pytest
from pikepdf import Array, Dictionary, Name

from samizdat import pipeline
from samizdat.pdfua import check
from tests import pdfread
from tests.conftest import MANUSCRIPT
from tests.tiny_book import STYLES, write_manuscript

TINY = (
    "# T\n\n"
    'He said <span lang="ru">Да здравствует революция</span> and left.[^a]\n\n'
    "See [the site](https://example.org).\n\n"
    "![A timeline](images/timeline.svg)\n\n"
    "[^a]: A note.\n"
)


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def seed(built_pdf: Path) -> Path:
    """The seed pamphlet as ``invoke pdf`` makes it, each chapter laid out alone and placed (conftest.built_pdf, made
    once per run); watch mode's parts, merged, pass the same check in test_parts."""
    return built_pdf


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    [pdf] = pipeline.build("pdf", write_manuscript(folder / "manuscript", TINY), folder / "dist", STYLES, report=quiet, warn=quiet)
    return pdf


def elements(pdf: pikepdf.Pdf) -> list[Dictionary]:
    """Every structure element reachable from the StructTreeRoot, in document order."""
    found, stack = [], [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        kids = list(kids) if isinstance(kids, Array) else [] if kids is None else [kids]
        if "/S" in node:
            found.append(node)
        stack.extend(reversed([k for k in kids if isinstance(k, Dictionary) and "/S" in k]))
    return found


def marked_texts(path: Path) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """pypdf's reading of the content streams: text per (page index, MCID), and text inside Artifacts per page."""
    return _marked_texts(path, path.stat().st_mtime_ns)


@functools.cache
def _marked_texts(path: Path, modified: int) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """Read once per version of a file: the seed is read by several tests, and pypdf reads slowly."""
    texts: dict[tuple[int, int], str] = {}
    artifacts: dict[int, str] = {}
    for index, page in enumerate(pypdf.PdfReader(path).pages):
        _read_page(index, page, texts, artifacts)
    return texts, artifacts


def _read_page(index: int, page: pypdf.PageObject, texts: dict, artifacts: dict) -> None:
    stack: list[tuple[str, int | None]] = []  # (tag, MCID) of each open marked-content sequence.

    def before(operator, args, cm, tm):
        if operator in (b"BDC", b"BMC"):
            properties = args[1] if operator == b"BDC" and len(args) > 1 else {}
            stack.append((str(args[0]), properties.get("/MCID") if hasattr(properties, "get") else None))
        elif operator == b"EMC" and stack:
            stack.pop()

    def text(t, cm, tm, font, size):
        mcids = [m for _, m in stack if m is not None]
        if any(tag == "/Artifact" for tag, _ in stack):
            artifacts[index] = artifacts.get(index, "") + t
        elif mcids:
            texts[(index, mcids[-1])] = texts.get((index, mcids[-1]), "") + t

    page.extract_text(visitor_operand_before=before, visitor_text=text)


def element_text(element: Dictionary, pages: dict, texts: dict) -> tuple[str, set[int]]:
    """The text of a structure element's marked content, and the pages it is on."""
    parts, on = [], set()

    def visit(node: Dictionary, page) -> None:
        page = node.get("/Pg", page)
        kids = node.get("/K")
        for kid in list(kids) if isinstance(kids, Array) else [] if kids is None else [kids]:
            if isinstance(kid, int):
                on.add(pages[page.objgen])
                parts.append(texts.get((pages[page.objgen], kid), ""))
            elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
                on.add(pages[kid.Pg.objgen])
                parts.append(texts.get((pages[kid.Pg.objgen], int(kid.MCID)), ""))
            elif isinstance(kid, Dictionary) and "/S" in kid:
                visit(kid, page)

    visit(element, None)
    return " ".join(" ".join(parts).split()), on


def tree_texts(path: Path) -> list[tuple[str, str, set[int]]]:
    texts, _ = marked_texts(path)
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: index for index, page in enumerate(pdf.pages)}
        return [(str(e.S), *element_text(e, pages, texts)) for e in elements(pdf)]


# --- the seed ------------------------------------------------------------------------------------------


def test_our_check_is_clean_on_the_seed_and_qpdf_too(seed: Path) -> None:
    assert [str(f) for f in check(seed)] == []
    assert pdfread.syntax_problems(seed) == []


def test_running_heads_and_folios_are_pagination_artifacts_not_in_the_tree(seed: Path) -> None:
    texts, artifacts = marked_texts(seed)
    assert "Chronicler of Revolution" in artifacts[7] and artifacts[7].split()[-1] == "8"  # Head (the book's title, on a left page) and folio.
    with pikepdf.open(seed) as pdf:
        contents = pdf.pages[7].Contents.read_bytes()
        assert b"/Artifact <<" in contents and b"/Pagination" in contents and b"/Header" in contents and b"/Footer" in contents
    tagged = " ".join(" ".join(text for (page, _), text in sorted(texts.items()) if page == 7).split())
    assert tagged.startswith("collective consciousness") and tagged.endswith("attempting to do so.")  # No head, no folio.
    assert "Chronicler of Revolution" not in tagged


def test_the_contents_dots_are_a_layout_artifact_and_each_entry_reads_as_its_title_and_page(seed: Path) -> None:
    """A screen reader reads "Beginnings 3", not forty dots between them; the dots are drawn as before."""
    entries = [text for s, text, pages in tree_texts(seed) if s == "/LI" and pages == {1}]
    assert entries[:2] == ["Beginnings 3", "Prison, Spain and Russia 4"] and len(entries) == 5
    _, artifacts = marked_texts(seed)
    assert artifacts[1].count(".") > 100 and not artifacts[1].replace(".", "").strip()
    with pikepdf.open(seed) as pdf:
        assert b"/Artifact << /Type /Layout >> BDC" in pdf.pages[1].Contents.read_bytes()
    assert ". . . ." in pdfread.page_text(seed, 2)


def test_content_not_marked_as_weasyprint_writes_it_is_re_marked_by_parsing_it_the_same(seed: Path, tmp_path: Path, monkeypatch) -> None:
    from samizdat import pdfua

    monkeypatch.setattr(pdfua, "_MARKED", re.compile(rb"(?!)"))  # matches nothing: every page takes the parsing path
    [parsed] = pipeline.build("pdf", MANUSCRIPT, tmp_path, STYLES, report=quiet, warn=quiet)
    assert [str(f) for f in check(parsed)] == []
    assert marked_texts(parsed) == marked_texts(seed)  # the running heads, folios and leader dots alike


def test_a_paragraph_across_a_page_break_is_one_P(seed: Path) -> None:
    paragraphs = [(text, pages) for s, text, pages in tree_texts(seed) if s == "/P"]
    [(text, pages)] = [(t, p) for t, p in paragraphs if "novels painted vivid portraits" in t]
    assert pages == {6, 7} and text.endswith("beyond the Soviet Union.")
    assert not any(t.startswith("collective consciousness") for t, _ in paragraphs)
    with pikepdf.open(seed) as pdf:  # And one Sect per chapter: five, not one per page.
        assert sum(1 for e in elements(pdf) if e.S == Name.Sect and "/Pg" in e and e.P.S == Name.Document) == 1 + 5 + 4  # Cover, chapters, three blanks and the back cover.


def test_the_footnote_is_a_note_with_an_id_referenced_from_its_call(seed: Path) -> None:
    with pikepdf.open(seed) as pdf:
        [note] = [e for e in elements(pdf) if e.S == Name.Note]
        assert str(note.ID) == "note-1"
        [reference] = [e for e in elements(pdf) if e.S == Name.Reference]
        assert reference.Ref[0].objgen == note.objgen
        siblings = list(reference.P.K)
        at = next(i for i, k in enumerate(siblings) if isinstance(k, Dictionary) and k.objgen == reference.objgen)
        assert siblings[at + 1].objgen == note.objgen  # Read right after its call, inside the paragraph.
    texts = {s: t for s, t, _ in tree_texts(seed) if s in ("/Note", "/Reference")}
    assert texts["/Reference"] == "1" and texts["/Note"].startswith("1. Editor’s note: the 1912 police photograph")


def test_post_processing_leaves_the_text_as_weasyprint_wrote_it(seed: Path, tmp_path: Path) -> None:
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    book = load_book(MANUSCRIPT, STYLES)
    raw = tmp_path / "raw.pdf"
    Typesetter(book, STYLES).layout(book).write_pdf(raw, pdf_variant="pdf/ua-1", pdf_identifier=True)
    assert pdfread.text(raw) == pdfread.text(seed)
    assert "U102" in {f.code for f in check(raw)}  # WeasyPrint alone: running heads tagged outside the tree.


# --- a tiny book: lang, a link, a figure -----------------------------------------------------------------


def test_a_passage_in_another_language_carries_lang(tiny: Path) -> None:
    assert [str(f) for f in check(tiny)] == []
    spans = [(text, lang) for (s, text, _), lang in zip(tree_texts(tiny), langs(tiny)) if lang]
    assert spans == [("Да здравствует революция", "ru")]


def langs(path: Path) -> list[str | None]:
    with pikepdf.open(path) as pdf:
        return [str(e.Lang) if "/Lang" in e else None for e in elements(pdf)]


# --- our check, fed broken files -----------------------------------------------------------------------------


def _first(pdf: pikepdf.Pdf, kind: str) -> Dictionary:
    return next(e for e in elements(pdf) if e.S == Name(kind))


def _link(pdf: pikepdf.Pdf) -> tuple[pikepdf.Page, Dictionary]:
    return next((page, a) for page in pdf.pages for a in page.get("/Annots", []) if a.Subtype == Name.Link)


def _drop_pdfuaid(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        del meta["pdfuaid:part"]


def _untagged_paint(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pdf.make_stream(b"0 0 10 10 re f"), prepend=False)


def _swap_marked_content_owners(pdf: pikepdf.Pdf) -> None:
    """On the first page where two elements hold marked content, their parent-tree entries swapped: both still in the tree."""
    tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    for page in (page for page in pdf.pages if "/StructParents" in page):
        owners = tree[int(page.StructParents)]
        held = [i for i in range(len(owners)) if isinstance(owners[i], Dictionary)]
        pair = next(((i, j) for i in held for j in held if owners[i].objgen < owners[j].objgen), None)
        if pair:
            owners[pair[0]], owners[pair[1]] = owners[pair[1]], owners[pair[0]]
            return


def _no_font_program(pdf: pikepdf.Pdf) -> None:
    font = next(iter(dict(pdf.pages[0].Resources.Font).values()))
    described = font.DescendantFonts[0] if font.Subtype == Name.Type0 else font
    for key in ("/FontFile", "/FontFile2", "/FontFile3"):
        if key in described.FontDescriptor:
            del described.FontDescriptor[key]


BREAKS: dict[str, Callable[[pikepdf.Pdf], None]] = {
    "U101 no MarkInfo": lambda pdf: pdf.Root.__delitem__("/MarkInfo"),
    "U101 no StructTreeRoot": lambda pdf: pdf.Root.__delitem__("/StructTreeRoot"),
    "U102 untagged content": _untagged_paint,
    "U102 parent tree names an element that does not hold the content": _swap_marked_content_owners,
    "U103 no Lang": lambda pdf: pdf.Root.__delitem__("/Lang"),
    "U104 DisplayDocTitle false": lambda pdf: pdf.Root.ViewerPreferences.__setitem__("/DisplayDocTitle", False),
    "U105 no pdfuaid:part": _drop_pdfuaid,
    "U106 font not embedded": _no_font_program,
    "U107 figure without Alt": lambda pdf: _first(pdf, "/Figure").__delitem__("/Alt"),
    "U108 H1 becomes H3": lambda pdf: _first(pdf, "/H1").__setitem__("/S", Name.H3),
    "U109 Note without ID": lambda pdf: _first(pdf, "/Note").__delitem__("/ID"),
    "U109 Note ID not in the IDTree": lambda pdf: pdf.Root.StructTreeRoot.__delitem__("/IDTree"),
    "U110 Tabs R": lambda pdf: _link(pdf)[0].obj.__setitem__("/Tabs", Name.R),
    "U111 Link without Contents": lambda pdf: _link(pdf)[1].__delitem__("/Contents"),
    "U111 Link outside the tree": lambda pdf: _link(pdf)[1].__setitem__("/StructParent", 9999),
}


@pytest.mark.parametrize("name", BREAKS)
def test_each_broken_file_gives_its_finding(tiny: Path, tmp_path: Path, name: str) -> None:
    broken = tmp_path / "broken.pdf"
    shutil.copy(tiny, broken)
    with pikepdf.open(broken, allow_overwriting_input=True) as pdf:
        BREAKS[name](pdf)
        pdf.save(broken)
    findings = check(broken)
    code = name.split()[0]
    assert code in {f.code for f in findings}, [str(f) for f in findings]
    assert all(str(f).startswith(f"{broken}") and f"error[{f.code}]" in str(f) for f in findings)


def _inside_an_artifact(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].contents_add(pdf.make_stream(b"/Artifact BMC\n"), prepend=True)
    pdf.pages[0].contents_add(pdf.make_stream(b"\nEMC"), prepend=False)


def _no_dc_title(pdf: pikepdf.Pdf) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        del meta["dc:title"]


def _a_second_note_with_the_same_id(pdf: pikepdf.Pdf) -> None:
    note = _first(pdf, "/Note")
    twin = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Note, ID=note.ID, P=note.P, K=Array()))
    note.P.K.append(twin)


# The other conditions of a rule, each with the words of its finding.
FURTHER_BREAKS: dict[str, tuple[Callable[[pikepdf.Pdf], None], str, str]] = {
    "content both tagged and an artifact": (_inside_an_artifact, "U102", "both tagged and inside an Artifact"),
    "no dc:title": (_no_dc_title, "U104", "has no dc:title"),
    "no XMP metadata": (lambda pdf: pdf.Root.__delitem__("/Metadata"), "U105", "Matterhorn 06-001"),
    "two notes with one ID": (_a_second_note_with_the_same_id, "U109", "is used by 2 notes"),
}


@pytest.mark.parametrize("name", FURTHER_BREAKS)
def test_each_further_break_gives_its_finding(tiny: Path, tmp_path: Path, name: str) -> None:
    change, code, words = FURTHER_BREAKS[name]
    broken = tmp_path / "broken.pdf"
    shutil.copy(tiny, broken)
    with pikepdf.open(broken, allow_overwriting_input=True) as pdf:
        change(pdf)
        pdf.save(broken)
    assert any(f.code == code and words in f.message for f in check(broken)), [str(f) for f in check(broken)]


def test_a_file_that_is_not_a_pdf_is_one_finding_not_a_crash(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really")
    assert [f.code for f in check(junk)] == ["U101"]


def test_every_pdfua_rule_has_a_broken_file_here() -> None:
    from samizdat.rules import RULES

    assert {name.split()[0] for name in BREAKS} == {code for code in RULES if code.startswith("U")}


def test_the_lines_of_a_paragraph_are_its_own_marked_content_not_a_span_each(seed: Path) -> None:
    """WeasyPrint wraps each run of text in a Span of its own; samizdat gives its marked content to the element it is
    in. PDFium finds the paragraphs' marked content in the P elements, and the only Spans left are the HTML's own."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    def kind(element) -> str:
        size = raw.FPDF_StructElement_GetType(element, None, 0)
        buffer = ctypes.create_string_buffer(size)
        raw.FPDF_StructElement_GetType(element, buffer, size)
        return buffer.raw.decode("utf-16-le").rstrip("\x00")

    found: list[tuple[str, int]] = []  # (type, marked-content sequences it holds) of every element PDFium reads

    def walk(element) -> None:
        found.append((kind(element), raw.FPDF_StructElement_GetMarkedContentIdCount(element)))
        for index in range(raw.FPDF_StructElement_CountChildren(element)):
            if child := raw.FPDF_StructElement_GetChildAtIndex(element, index):
                walk(child)

    document = pdfium.PdfDocument(seed)
    try:
        for page in document:
            tree = raw.FPDF_StructTree_GetForPage(page)
            for index in range(raw.FPDF_StructTree_CountChildren(tree)):
                walk(raw.FPDF_StructTree_GetChildAtIndex(tree, index))
            raw.FPDF_StructTree_Close(tree)
    finally:
        document.close()
    paragraphs = [held for kind_, held in found if kind_ == "P"]
    assert len(paragraphs) >= 15 and all(held >= 1 for held in paragraphs) and max(paragraphs) >= 8  # a long paragraph's lines
    assert sum(1 for kind_, _ in found if kind_ == "Span") == 4
    spans = [text for s, text, _ in tree_texts(seed) if s == "/Span"]
    assert spans == ["Victor Serge", "Revolutionary and Chronicler of Revolution",  # the title's two parts (cover.title_html)
                     "Editor’s note: the 1912 police photograph that this caption described is not", "reproduced in this edition."]


def test_an_image_without_alt_text_is_an_artifact_and_one_with_it_a_figure(tmp_path: Path) -> None:
    """HTML's rule, and the EPUB's: no alt text means decoration. Alone, in a sentence or in raw HTML, such an image
    is drawn inside an Artifact and leaves no element (nor an emptied paragraph or emphasis); a described one is a
    Figure with Alt."""
    from PIL import Image

    chapter = ("# T\n\n![](images/dot.png)\n\nA word ![](images/dot.png) and ![A red dot](images/dot.png) here.\n\n"
               '<p><img src="images/dot.png"></p>\n\nAn emphasis that holds nothing else: *![](images/dot.png)*.\n')
    manuscript = write_manuscript(tmp_path / "manuscript", chapter)
    Image.new("RGB", (40, 40), (200, 0, 0)).save(manuscript / "images" / "dot.png")
    warnings: list[str] = []
    [pdf] = pipeline.build("pdf", manuscript, tmp_path / "dist", STYLES, report=quiet, warn=warnings.append)
    assert [str(f) for f in check(pdf)] == []
    assert [w.split(": ")[0].rsplit(":", 1)[-1] for w in warnings if "I102" in w] == ["3", "5", "7", "9"]
    assert not [w for w in warnings if "S103" in w]  # WeasyPrint's own complaint is the I102 above, not a second one
    draws: list[str] = []  # for each image drawn (pypdf's reading of the page), "artifact" or the MCID it is marked with
    for page in pypdf.PdfReader(pdf).pages:
        stack: list[tuple[str, int | None]] = []
        for operands, operator in pypdf.generic.ContentStream(page.get_contents(), page.pdf).operations:
            if operator in (b"BDC", b"BMC"):
                properties = operands[1] if operator == b"BDC" else {}
                stack.append((str(operands[0]), properties.get("/MCID") if hasattr(properties, "get") else None))
            elif operator == b"EMC":
                stack.pop()
            elif operator == b"Do":
                draws.append("artifact" if any(tag == "/Artifact" for tag, _ in stack) else str([m for _, m in stack if m is not None][-1]))
    assert len(draws) == 5 and draws.count("artifact") == 4, draws
    [described] = [int(draw) for draw in draws if draw != "artifact"]
    with pikepdf.open(pdf) as opened:
        figures = [e for e in elements(opened) if e.get("/S") == Name.Figure]
        assert [str(figure.Alt) for figure in figures] == ["A red dot"]
        assert [int(k) for k in figures[0].K] == [described]
        emptied = [e for e in elements(opened) if len(e.get("/K", [])) == 0 and (e.get("/S") == Name.P or e.P.get("/S") == Name.P)]
        assert not emptied  # (WeasyPrint makes empty elements of its own, such as the running title's marker: not here)
