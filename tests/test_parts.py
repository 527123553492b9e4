"""A book written in parts by several processes, then merged, is the document a single write makes."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

import pdfread
from conftest import EPOCH, MANUSCRIPT, ROOT
from test_build import pdf_facts

STYLES = ROOT / "styles"

pytestmark = pytest.mark.long  # whole books laid out and written several ways


def structure(path: Path) -> list[tuple]:
    """The structure tree in reading order: depth, type, page, id, language, alt text and marked-content ids of each element."""
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: number for number, page in enumerate(pdf.pages)}
        rows: list[tuple] = []

        def walk(element, depth: int) -> None:
            kids = element.get("/K")
            kids = list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
            marked = [int(kid) for kid in kids if isinstance(kid, int)]
            page = pages.get(element.Pg.objgen) if "/Pg" in element else None
            rows.append((depth, str(element.get("/S")), page, str(element.get("/ID", "")), str(element.get("/Lang", "")), str(element.get("/Alt", "")), marked))
            for kid in kids:
                if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                    rows.append((depth + 1, "OBJR", pages.get(kid.Pg.objgen) if "/Pg" in kid else None, str(kid.Obj.get("/Subtype"))))
                elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") != "/MCR":
                    walk(kid, depth + 1)

        top = pdf.Root.StructTreeRoot.K
        for element in top if isinstance(top, pikepdf.Array) else [top]:
            walk(element, 0)
        return rows


def tree_elements(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """The structure elements reachable from the StructTreeRoot."""
    found, stack = set(), [pdf.Root.StructTreeRoot]
    while stack:
        kids = stack.pop().get("/K")
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and kid.objgen not in found:
                found.add(kid.objgen)
                stack.append(kid)
    return found


def holds(element: pikepdf.Dictionary, page: pikepdf.Page, mcid: int) -> bool:
    """``element`` has marked content ``mcid`` of ``page`` among its kids: an integer on its own page, or a
    marked-content reference to that page (ISO 32000-1 14.7.4)."""
    kids = element.get("/K")
    for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
        if isinstance(kid, int) and kid == mcid and element.Pg.objgen == page.objgen:
            return True
        if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR" and kid.MCID == mcid and kid.get("/Pg", element.Pg).objgen == page.objgen:
            return True
    return False


def parent_tree_resolves(path: Path) -> bool:
    """Every page's marked content finds, through the parent tree, the structure element that holds it, and every
    annotation the element that holds it."""
    with pikepdf.open(path) as pdf:
        tree = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        reachable = tree_elements(pdf)
        for page in pdf.pages:
            if "/StructParents" in page.obj:
                marked = [(mcid, element) for mcid, element in enumerate(tree[int(page.obj.StructParents)]) if isinstance(element, pikepdf.Dictionary)]
                if not marked or not all(element.objgen in reachable and holds(element, page, mcid) for mcid, element in marked):
                    return False
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    holder = tree[int(annotation.StructParent)]
                    kids = holder.K if isinstance(holder.K, pikepdf.Array) else [holder.K]
                    if not any(isinstance(kid, pikepdf.Dictionary) and kid.get("/Obj") is not None and kid.Obj.objgen == annotation.objgen for kid in kids):
                        return False
        return True


@pytest.fixture(scope="module")
def written(tmp_path_factory, seed_laid_out_whole: Path) -> dict[str, Path]:
    """The sample book written whole, and in parts (about two pages each) by one process (a fresh one for every run)
    and by three."""
    from samizdat import parts
    from samizdat.book import load_book
    from samizdat.parts import RECYCLE_AFTER
    from samizdat.pdf import Typesetter, plan_runs

    folder = tmp_path_factory.mktemp("parts")
    book = load_book(MANUSCRIPT)
    paths = {"whole": seed_laid_out_whole}
    forks: list[int] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        fork = parts.LayoutPool._fork
        patch.setattr(parts.LayoutPool, "_fork", lambda pool: forks.append(1) or fork(pool))
        for workers in (1, 3):
            patch.setattr(parts, "RECYCLE_AFTER", 1 if workers == 1 else RECYCLE_AFTER)  # one: a fresh worker for each run
            setter = Typesetter(book, STYLES, keep_layouts=False, run_length=2_000)
            setter.write_book(book, folder / f"parts-{workers}.pdf", "pdf/ua-1", workers)
            assert not [slot for slot in setter.slots if slot.startswith("chapter-")]  # each chapter's layout let go once written
            paths[f"parts-{workers}"] = folder / f"parts-{workers}.pdf"
            if workers == 1:
                assert len(forks) == len(plan_runs(book, 2_000)) >= 3
    return paths


def test_a_book_written_in_parts_reads_as_the_whole_document(written: dict[str, Path]) -> None:
    parts, whole = pdf_facts(written["parts-3"]), pdf_facts(written["whole"])
    assert parts == whole  # page texts with heads, folios and notes; bookmarks and their pages; every link's target page
    assert any(isinstance(target, str) and target.isdigit() for _, target in whole["links"])
    with pikepdf.open(written["parts-3"]) as pdf:  # more than one part was merged: each brings its own font subsets
        assert len({str(font.BaseFont) for page in pdf.pages for font in page.Resources.get("/Font", {}).values()}) > 6


def test_a_book_written_in_parts_has_the_whole_documents_structure_tree(written: dict[str, Path]) -> None:
    assert structure(written["parts-3"]) == structure(written["whole"])
    assert parent_tree_resolves(written["parts-3"])
    with pikepdf.open(written["parts-3"]) as merged, pikepdf.open(written["whole"]) as whole:
        for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
            assert merged.Root[key] == whole.Root[key]
        assert str(merged.docinfo["/Title"]) == str(whole.docinfo["/Title"])
        assert not any("samizdat-dest:" in str(annotation.get("/A", {}).get("/URI", "")) for page in merged.pages for annotation in page.obj.get("/Annots", []))


def test_the_bytes_do_not_depend_on_the_number_of_processes(written: dict[str, Path]) -> None:
    assert written["parts-1"].read_bytes() == written["parts-3"].read_bytes()


def test_our_pdfua_check_finds_nothing_in_a_merged_book(written: dict[str, Path]) -> None:
    from samizdat.pdfua import check

    assert check(written["parts-3"]) == []
    assert pdfread.syntax_problems(written["parts-3"]) == []  # qpdf's check: the streams copied from each part before it was closed


def test_watch_draws_again_only_the_parts_an_edit_changed_and_the_folios_it_moved(manuscript_copy: Path, tmp_path: Path, monkeypatch) -> None:
    from samizdat import parts, pdf, pipeline

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    monkeypatch.setattr(pdf, "WATCH_RUN_LENGTH", 2_000)  # the sample's 6 pages of chapters in parts,
    monkeypatch.setattr(pdf, "WATCH_RUN_CHAPTERS", 1)  # one chapter each
    submitted: list[int] = []
    for method in ("submit", "write_here"):  # in a child, or in this process
        original = getattr(parts.PartWriter, method)
        monkeypatch.setattr(parts.PartWriter, method, lambda self, path, order, document, original=original: submitted.append(order) or original(self, path, order, document))
    state = {"watching": True}  # what watch mode keeps between builds
    build = lambda: pipeline.build("pdf", manuscript_copy, tmp_path / "dist", STYLES, report=pipeline.quiet, warn=pipeline.quiet, state=state)  # noqa: E731
    build()
    assert len(submitted) >= 4  # front matter, runs of chapters of a few pages, back matter
    submitted.clear()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764100000")  # a later build: the front part drawn before gets its date
    text = (manuscript_copy / "03-terror-and-degeneration.md").read_text(encoding="utf-8")
    (manuscript_copy / "03-terror-and-degeneration.md").write_text(text.replace("peasants", "Peasants", 1), encoding="utf-8")
    [watched] = build()
    assert len(submitted) == 1 and submitted[0] > 0  # the part with chapter 3: its length, and so the contents, did not change
    [fresh] = pipeline.build("pdf", manuscript_copy, tmp_path / "fresh", STYLES, report=pipeline.quiet, warn=pipeline.quiet)
    assert pdf_facts(watched) == pdf_facts(fresh)
    assert "Peasants" in pdf_facts(watched)["texts"][4]
    reader = PdfReader(watched)
    assert reader.metadata["/ModDate"] == "D:20251125194640Z" and reader.xmp_metadata.xmp_modify_date.isoformat() == "2025-11-25T19:46:40"

    # A page added to chapter 1 moves every later page by one, to the other side: the later runs are
    # not drawn again, only their folios and running heads (the furniture part), the contents and the back.
    submitted.clear()
    chapter = manuscript_copy / "01-beginnings.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n" + " ".join(["An added sentence that fills the page with words."] * 40) + "\n")
    [watched] = build()
    assert sorted(submitted) == [pdf.FURNITURE, 0, 2, 7]  # furniture, the front (two pages: one part), chapter 1's run, the back
    [fresh] = pipeline.build("pdf", manuscript_copy, tmp_path / "fresh", STYLES, report=pipeline.quiet, warn=pipeline.quiet)
    assert pdf_facts(watched) == pdf_facts(fresh)
    from samizdat.pdfua import check

    assert check(watched) == []


def test_a_part_that_fails_stops_the_build_with_its_error_and_keeps_the_previous_pdf(tmp_path: Path, monkeypatch) -> None:
    from samizdat.book import load_book
    from samizdat.errors import ManuscriptError
    from samizdat.pdf import Typesetter

    book = load_book(MANUSCRIPT)
    target = tmp_path / "book.pdf"
    target.write_bytes(b"the previous good PDF")
    setter = Typesetter(book, STYLES, keep_layouts=False, run_length=2_000)
    original = Typesetter._write

    def failing(self, document, path, variant):
        if any(page.anchors.get("mexico-city") for page in document.pages):  # the part with chapter 4's section
            raise ManuscriptError("I103", MANUSCRIPT / "04-opposition-and-exile.md", "cannot be written")
        original(self, document, path, variant)

    monkeypatch.setattr(Typesetter, "_write", failing)
    with pytest.raises(ManuscriptError, match=r"04-opposition-and-exile\.md: error\[I103\]: cannot be written"):
        setter.write_book(book, target, "pdf/ua-1", 2)
    assert target.read_bytes() == b"the previous good PDF"
    assert not list(tmp_path.glob("*.part")) and not setter.part_folder.exists()


def test_the_front_matter_counted_in_a_child_brings_back_its_count_its_warnings_and_its_error(tmp_path: Path, monkeypatch) -> None:
    """The front matter is counted in a forked child (its layout's memory goes with it): what it says is said here."""
    import logging
    import os

    from samizdat import parts
    from samizdat.errors import ManuscriptError

    parent = os.getpid()
    heard: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: heard.append(record.getMessage())
    logging.getLogger("weasyprint").addHandler(handler)

    def front(pid_wanted: bool):
        logging.getLogger("weasyprint").warning("said in the child")
        if pid_wanted:
            return os.getpid()
        raise ManuscriptError("S101", STYLES / "print.css", "the front matter could not be set")

    try:
        assert parts.computed_in_child(lambda: front(True)) not in (parent, None)
        assert heard == ["said in the child"]
        with pytest.raises(ManuscriptError, match=r"print\.css: error\[S101\]: the front matter could not be set"):
            parts.computed_in_child(lambda: front(False))
    finally:
        logging.getLogger("weasyprint").removeHandler(handler)


def test_an_interrupted_build_in_parts_stops_its_writers_and_keeps_the_previous_pdf(tmp_path: Path, monkeypatch) -> None:
    from samizdat import parts
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    book = load_book(MANUSCRIPT)
    target = tmp_path / "book.pdf"
    target.write_bytes(b"the previous good PDF")
    setter = Typesetter(book, STYLES, keep_layouts=False, run_length=2_000)
    started: list[int] = []
    original = parts.LayoutPool.start

    def interrupted(self):
        original(self)
        started.extend(self._pids.values())
        raise KeyboardInterrupt  # Ctrl-C while two workers lay out and write

    monkeypatch.setattr(parts.LayoutPool, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        setter.write_book(book, target, "pdf/ua-1", 2)
    assert target.read_bytes() == b"the previous good PDF"
    assert len(started) == 2
    assert not any(Path(f"/proc/{pid}").exists() for pid in started)  # stopped and reaped, none left working
    assert not setter.part_folder.exists()


def test_parts_are_laid_out_and_written_by_at_most_one_process_per_core(tmp_path: Path, monkeypatch) -> None:
    from samizdat import parts, pdf, pipeline

    monkeypatch.setattr(pdf, "RUN_LENGTH", 2_000)  # the sample's five chapters in five runs
    monkeypatch.setattr(pdf.os, "sched_getaffinity", lambda pid: {0})  # a machine with one core for us
    workers: list[tuple[int, int]] = []
    original = parts.LayoutPool.start

    def counting(self):
        original(self)
        workers.append((self.runs, len(self._pids)))

    monkeypatch.setattr(parts.LayoutPool, "start", counting)
    pipeline.build("pdf", MANUSCRIPT, tmp_path, STYLES, report=pipeline.quiet, warn=pipeline.quiet)
    assert workers == [(5, 1)]


def test_different_font_subsets_in_a_merged_book_have_different_names(written: dict[str, Path]) -> None:
    """ISO 32000-1 9.6.4: a subset's tag names that subset; each part brings its own subsets of the same faces."""
    import hashlib

    from pypdf import PdfReader

    programs: dict[str, set[str]] = {}
    for page in PdfReader(written["parts-3"]).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            described = font["/DescendantFonts"][0].get_object() if font["/Subtype"] == "/Type0" else font
            descriptor = described["/FontDescriptor"].get_object()
            program = next(descriptor[key].get_object() for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in descriptor)
            assert font["/BaseFont"][:7] == described["/BaseFont"][:7] == descriptor["/FontName"][:7]
            programs.setdefault(font["/BaseFont"], set()).add(hashlib.sha256(program.get_data()).hexdigest())
    assert len(programs) > 6 and all(len(found) == 1 for found in programs.values()), programs


def test_a_right_to_left_book_in_parts_reads_as_the_whole_document(tmp_path: Path, monkeypatch) -> None:
    """Chapters laid out at page 1 and placed on both sides (samizdat.placement), in a book whose first page is a left-hand one."""
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    sentence = "وُلد فيكتور سيرج في بروكسل سنة 1890، وكتب بالفرنسية وبالروسية عن الثورة. "
    folder = tmp_path / "manuscript"
    folder.mkdir()
    (folder / "book.yaml").write_text('title: "الأدب والثورة"\nlanguage: ar\n', encoding="utf-8")
    for number, repeat in enumerate((40, 25, 60, 10, 30), start=1):
        (folder / f"{number:02d}.md").write_text(f"# الفصل {number}\n\n" + sentence * repeat + "\n", encoding="utf-8")
    book = load_book(folder, STYLES)
    whole = Typesetter(book, STYLES)
    whole.write(whole.layout(book), tmp_path / "whole.pdf", "pdf/ua-1")
    Typesetter(book, STYLES, keep_layouts=False, run_length=3_000).write_book(book, tmp_path / "parts.pdf", "pdf/ua-1", 2)
    parts, reference = pdf_facts(tmp_path / "parts.pdf"), pdf_facts(tmp_path / "whole.pdf")
    assert parts == reference
    assert {page % 2 for depth, _, page in reference["outline"] if depth == 0} == {0, 1}  # chapters open on both sides


def test_a_long_book_is_planned_in_at_least_four_runs_that_follow_one_another() -> None:
    from samizdat.book import load_book
    from samizdat.pdf import plan_runs

    book = load_book(MANUSCRIPT)  # five chapters, about 12,600 characters with their openings
    assert plan_runs(book, 20_000) == [range(0, 5)]  # one run: written in one piece
    # Weights 2,670, 2,555, 1,698, 2,516 and 3,197; a quarter is 3,159: a run ends where the next cut is nearer.
    assert plan_runs(book, 6_000) == [range(0, 1), range(1, 2), range(2, 4), range(4, 5)]
    assert plan_runs(book, 2_000) == [range(0, 1), range(1, 2), range(2, 3), range(3, 4), range(4, 5)]


def test_watch_cuts_runs_where_lengthening_a_chapter_cannot_move_them(manuscript_copy: Path) -> None:
    from samizdat.book import load_book
    from samizdat.pdf import plan_stable_runs

    before = plan_stable_runs(load_book(manuscript_copy), 2_000)
    chapter = manuscript_copy / "02-prison-spain-and-russia.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n" + " ".join(["An added sentence."] * 200) + "\n", encoding="utf-8")
    assert len(before) > 1 and plan_stable_runs(load_book(manuscript_copy), 2_000) == before
    assert plan_stable_runs(load_book(manuscript_copy), 20_000) == [range(0, 5)]  # a short book: one run


def test_a_long_front_matter_is_written_in_two_parts_and_reads_as_the_whole_document(tmp_path: Path, monkeypatch) -> None:
    from samizdat import parts
    from samizdat.book import load_book
    from samizdat.pdf import FRONT_PIECES, Typesetter

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764000000")
    folder = tmp_path / "manuscript"
    folder.mkdir()
    (folder / "book.yaml").write_text('title: "Long titles"\nlanguage: en\n', encoding="utf-8")
    title = "A chapter title long enough to take three lines in the contents, as some titles of old pamphlets do at length"
    for number in range(1, 41):  # a contents of three pages or more: with the cover, four
        (folder / f"{number:02d}.md").write_text(f"# {title} ({number})\n\nA sentence of the chapter.\n", encoding="utf-8")
    book = load_book(folder, STYLES)
    whole = Typesetter(book, STYLES)
    whole.write(whole.layout(book), tmp_path / "whole.pdf", "pdf/ua-1")
    merged: list[list[Path]] = []
    original = parts.merge
    monkeypatch.setattr(parts, "merge", lambda files, target, *args, **kwargs: merged.append(list(files)) or original(files, target, *args, **kwargs))
    Typesetter(book, STYLES, keep_layouts=False, run_length=8_000).write_book(book, tmp_path / "parts.pdf", "pdf/ua-1", 2)
    reference = pdf_facts(tmp_path / "whole.pdf")
    assert pdf_facts(tmp_path / "parts.pdf") == reference
    [files] = merged
    assert [file.name for file in files[:FRONT_PIECES]] == ["part-0000.pdf", "part-0001.pdf"]


def test_what_the_typesetter_says_in_a_worker_reaches_the_build_as_a_finding(tmp_path: Path, monkeypatch) -> None:
    """WeasyPrint's log in the processes that lay out and write the runs becomes S103 findings, as in one process."""
    import logging

    from conftest import build
    from samizdat import pdf

    monkeypatch.setattr(pdf, "RUN_LENGTH", 2_000)  # the sample's five chapters in five runs
    original = pdf.Typesetter._chapter_document

    def saying(self, renderer, book, index, first_note):
        logging.getLogger("weasyprint").warning("a word from the layout of chapter %d", index + 1)
        return original(self, renderer, book, index, first_note)

    monkeypatch.setattr(pdf.Typesetter, "_chapter_document", saying)
    warnings: list[str] = []
    build("pdf", MANUSCRIPT, tmp_path, warnings=warnings)
    said = sorted(warning for warning in warnings if "a word from the layout" in warning)
    assert len(said) == 5 and all("warning[S103]" in warning for warning in said), warnings
