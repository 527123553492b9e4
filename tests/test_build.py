"""invoke build, reproducible outputs, and incremental layout checked against a whole layout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfread
from conftest import EPOCH, MANUSCRIPT, ROOT, STYLES, build
from samizdat import pipeline
from samizdat.renderers import REGISTRY, renderer
from tiny_book import write_manuscript

pytestmark = pytest.mark.long


def build_all(manuscript: Path, dist: Path, styles: Path = STYLES) -> str:
    """``invoke build`` in this process: what it reports. Its workers are forked from this process with the renderers
    (and WeasyPrint) imported already, as after any other build here, so that each does not spend a second importing them."""
    for name in REGISTRY:
        renderer(name)
    said: list[str] = []
    pipeline.build_all(manuscript, dist, styles, report=said.append)
    return "\n".join(said)


class Stale(Exception):
    """Raised where a build would begin: the up-to-date check said no."""


def stale(*args, **kwargs) -> None:
    raise Stale


def test_build_makes_every_output_then_does_nothing_until_an_input_output_or_samizdat_changes(tmp_path: Path, monkeypatch) -> None:
    from samizdat import web

    # The web fonts are left uncompressed (WOFF2's Brotli takes seconds in each new output folder): this test is about
    # what is built when, and test_web checks the fonts. The workers are forked from this process, so they see the stand-in.
    monkeypatch.setattr(web, "_woff2", lambda sfnt: sfnt)
    manuscript = write_manuscript(tmp_path / "manuscript", "# One\n\nText.\n", "# Two\n\nMore text.\n", author="A. Writer")
    styles = Path(shutil.copytree(STYLES, tmp_path / "styles"))
    dist = tmp_path / "dist"
    assert "up to date" not in build_all(manuscript, dist, styles)
    outputs = {name: (dist / name).stat().st_mtime_ns for name in ("t.pdf", "t.epub", "t-web/index.html")}
    made = [dist / "t.pdf", dist / "t.epub", dist / "t-web", *(dist / "t-web").rglob("*")]
    unreadable = [path for path in made if path.stat().st_mode & (0o555 if path.is_dir() else 0o444) != (0o555 if path.is_dir() else 0o444)]
    assert unreadable == []  # readable by all: by a web server, a share, a print shop's upload tool
    assert "up to date" in build_all(manuscript, dist, styles)
    assert {name: (dist / name).stat().st_mtime_ns for name in outputs} == outputs
    # Through the real task, the up-to-date path never imports WeasyPrint.
    probe = subprocess.run([sys.executable, "-X", "importtime", "-m", "invoke", "build", "--manuscript", str(manuscript), "--dist", str(dist)],
                           cwd=ROOT, capture_output=True, text=True)
    assert probe.returncode == 0 and "up to date" in probe.stderr and "weasyprint" not in probe.stderr
    chapter = manuscript / "02.md"
    chapter.write_text(chapter.read_text() + "\nA new last sentence.\n")
    assert "up to date" not in build_all(manuscript, dist, styles)
    assert all((dist / name).stat().st_mtime_ns != mtime for name, mtime in outputs.items())
    (dist / "t.epub").unlink()  # outputs deleted by hand are made again
    shutil.rmtree(dist / "t-web")
    assert "up to date" not in build_all(manuscript, dist, styles) and (dist / "t.epub").is_file() and (dist / "t-web" / "index.html").is_file()
    assert "up to date" in build_all(manuscript, dist, styles)
    monkeypatch.setattr(pipeline, "load", stale)  # where the build would begin
    design = (styles / "print.css").read_text(encoding="utf-8")
    (styles / "print.css").write_text(design + "\nh2 { letter-spacing: 0.01em; }\n", encoding="utf-8")
    with pytest.raises(Stale):  # a stylesheet edited
        build_all(manuscript, dist, styles)
    (styles / "print.css").write_text(design, encoding="utf-8")
    assert "up to date" in build_all(manuscript, dist, styles)  # the same bytes again: nothing to do
    monkeypatch.setattr(pipeline, "code_fingerprint", lambda: "samizdat after an upgrade")
    with pytest.raises(Stale):
        build_all(manuscript, dist, styles)


def test_pdf_is_byte_identical_across_builds_with_source_date_epoch(built_pdf: Path, tmp_path: Path, monkeypatch) -> None:
    """This process's build and the one ``invoke pdf`` made in another process (conftest.built_pdf)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    assert build("pdf", MANUSCRIPT, tmp_path).read_bytes() == built_pdf.read_bytes()


def pdf_facts(path: Path) -> dict:
    """What a reader sees and uses: page texts (heads, folios, notes), where each word is (to the point), bookmarks, links."""
    reader = PdfReader(path)
    pages = pdfread.texts_and_words(path)
    texts = [text for text, _ in pages]
    places = [[(word.text, round(word.x0), round(word.top)) for word in words] for _, words in pages]

    def outline(items, depth=0):
        entries = []
        for item in items:
            if isinstance(item, list):
                entries += outline(item, depth + 1)
            else:
                entries.append((depth, item.title, reader.get_destination_page_number(item)))
        return entries

    named = reader.named_destinations
    links = []
    for number, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link":
                target = annotation.get("/Dest") or annotation["/A"].get("/D") or annotation["/A"].get("/URI")
                if isinstance(target, str) and target in named:
                    target = reader.get_destination_page_number(named[target])
                links.append((number, str(target)))
    return {"pages": len(reader.pages), "texts": texts, "places": places, "outline": outline(reader.outline), "links": links}


@pytest.fixture(scope="module")
def typeset():
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    book = load_book(MANUSCRIPT)
    return book, Typesetter(book, ROOT / "styles")


def write_whole(book, path: Path) -> None:
    from samizdat.pdf import Typesetter

    setter = Typesetter(book, ROOT / "styles")
    setter.write(setter.layout(book), path, "pdf/ua-1")


@pytest.fixture(scope="module")
def seed_whole(seed_laid_out_whole: Path) -> dict:
    """The facts of the seed laid out whole, in one go: what the layouts by chapter of the seed must equal."""
    return pdf_facts(seed_laid_out_whole)


def test_chapter_by_chapter_layout_equals_the_whole_layout(typeset, seed_whole: dict, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book, setter = typeset
    setter.write(setter.layout_by_chapter(book), tmp_path / "parts.pdf", "pdf/ua-1")
    parts, whole = pdf_facts(tmp_path / "parts.pdf"), seed_whole
    assert parts == whole
    assert any(isinstance(target, str) and target.isdigit() for _, target in whole["links"])  # internal links resolved to pages


def _counting_renders(setter, monkeypatch) -> list[str]:
    renders: list[str] = []
    original_render = setter._render
    monkeypatch.setattr(setter, "_render", lambda html, css="", remake=None, imprint=False: renders.append(html) or original_render(html, css, remake, imprint))
    return renders


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_that_shifts_pages_lays_out_only_that_chapter_and_the_contents_and_still_equals_a_whole_layout(
        manuscript_copy: Path, seed_whole: dict, tmp_path: Path, monkeypatch) -> None:
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    book = load_book(manuscript_copy)
    setter = Typesetter(book, ROOT / "styles")
    setter.layout_by_chapter(book)  # the layouts a watch session would hold
    renders = _counting_renders(setter, monkeypatch)

    # A small edit in chapter 3 that does not change its length: only chapter 3 is laid out again.
    _edit(manuscript_copy / "03-terror-and-degeneration.md", "peasants", "the peasants")
    setter.layout_by_chapter(load_book(manuscript_copy))
    assert len(renders) == 1 and "the peasants" in renders[0]

    # A long addition to chapter 2 pushes every later chapter on by a page (and onto the other side).
    renders.clear()
    chapter = manuscript_copy / "02-prison-spain-and-russia.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n" + " ".join(["An added sentence that fills the page with words."] * 60) + "\n")
    edited = load_book(manuscript_copy)
    setter.write(setter.layout_by_chapter(edited), tmp_path / "parts.pdf", "pdf/ua-1")
    # Chapter 2 and the contents; the later chapters are moved to their new pages and sides, not laid out again.
    assert len(renders) == 2 and "An added sentence" in renders[0] and 'class="contents"' in renders[1]
    write_whole(edited, tmp_path / "whole.pdf")
    parts, whole = pdf_facts(tmp_path / "parts.pdf"), pdf_facts(tmp_path / "whole.pdf")
    assert sum(map(bool, whole["texts"])) > sum(map(bool, seed_whole["texts"]))  # more pages of text than the seed, unedited
    assert parts == whole


def test_an_edited_image_is_laid_out_again_and_the_cache_keeps_one_layout_per_slot(manuscript_copy: Path, monkeypatch) -> None:
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    book = load_book(manuscript_copy)
    setter = Typesetter(book, ROOT / "styles")
    setter.layout_by_chapter(book)
    renders = _counting_renders(setter, monkeypatch)
    # The chapter text is unchanged; only the image file's bytes change.
    _edit(manuscript_copy / "images" / "timeline.svg", "Brussels", "Bruxelles")
    setter.layout_by_chapter(load_book(manuscript_copy))
    assert len(renders) == 1 and "timeline.svg" in renders[0]
    slots = len(book.chapters) + 3  # front matter, contents, back matter, one per chapter
    for number in range(20):
        _edit(manuscript_copy / "03-terror-and-degeneration.md", "peasants", f"peasants{number}")
        setter.layout_by_chapter(load_book(manuscript_copy))
        _edit(manuscript_copy / "03-terror-and-degeneration.md", f"peasants{number}", "peasants")
    assert len(setter.slots) == slots
