"""Regression tests for what the fuzz suite (tests/fuzz/) and issue 15 found: one small manuscript each, in-process
but for what needs a real process (the task boundary, signals, a killed build).

Outputs are read back with lxml, zipfile, pikepdf and Pillow, never with the code that wrote them.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pikepdf
import pytest
from lxml import etree
from PIL import Image

from conftest import INVOKE, ROOT, run_task
from fuzz.manuscripts import SVG_CLEAN, png, png_bomb
from samizdat import epub as epub_renderer, pdf as pdf_renderer, pipeline
from samizdat.book import load_book
from samizdat.errors import BadSetting, ManuscriptError
from samizdat.output import CACHE_FOLDER
from samizdat.typesetlog import typesetter_findings
from samizdat.watchdog import layout_limit, watching

pytestmark = pytest.mark.long  # several builds through invoke, stopped and timed out

STYLES = ROOT / "styles"
NS = {"opf": "http://www.idpf.org/2007/opf", "x": "http://www.w3.org/1999/xhtml", "ncx": "http://www.daisy.org/z3986/2005/ncx/",
      "dc": "http://purl.org/dc/elements/1.1/", "svg": "http://www.w3.org/2000/svg"}
NCNAME = re.compile(r"[A-Za-z_][\w.-]*$")


def manuscript(tmp_path: Path, files: dict[str, str | bytes], book_yaml: str = "title: A Book\n") -> Path:
    """A manuscript of ``files``; ``book_yaml`` gets an author unless it names one (so M108 stays out of the findings)."""
    folder = tmp_path / "manuscript"
    if "author:" not in book_yaml and book_yaml.endswith("\n"):
        book_yaml += "author: A. Writer\n"
    for name, content in {"book.yaml": book_yaml, **files}.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def build(name: str, folder: Path, styles: Path = STYLES) -> tuple[Path, list[str]]:
    warnings: list[str] = []
    [output] = pipeline.build(name, folder, folder.parent / "dist", styles, report=pipeline.quiet, warn=warnings.append)
    return output, warnings


def errors(folder: Path) -> list[str]:
    with pytest.raises(ManuscriptError) as raised:
        load_book(folder, STYLES)
    return [f"{finding.code} {finding.message}" for finding in raised.value.findings if finding.level == "error"]


class Epub:
    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path)
        self.opf = etree.fromstring(self.zip.read("EPUB/content.opf"))
        self.items = self.opf.findall(".//opf:manifest/opf:item", NS)

    def xml(self, href: str):
        return etree.fromstring(self.zip.read(f"EPUB/{href}"))

    def documents(self) -> list[str]:
        return [item.get("href") for item in self.items if item.get("media-type") == "application/xhtml+xml"]


# Ids, file names and links in the EPUB


def test_note_ids_step_aside_for_heading_and_raw_ids(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": '# One\n\n## Note 1 {#note-1}\n\nA <span id="noteref-1">claim</span>.[^a]\n\n[^a]: The note.\n'})
    epub = Epub(build("epub", folder)[0])
    document = epub.xml("01.xhtml")
    ids = document.xpath("//@id")
    assert len(ids) == len(set(ids)), ids
    call = document.find(".//x:a[@role='doc-noteref']", NS)
    assert call.get("href") not in {"#note-1"} and document.xpath(f"//*[@id='{call.get('href')[1:]}']/@role") == ["doc-footnote"]


def test_ncx_ids_are_xml_names_even_for_heading_ids_with_a_colon(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\n## Part one {#part:one}\n\nText.\n"})
    ncx = Epub(build("epub", folder)[0]).xml("toc.ncx")
    ids = ncx.xpath("//ncx:navPoint/@id", namespaces=NS)
    assert ids and all(NCNAME.match(value) for value in ids), ids


def test_generated_files_never_collide_with_chapters_or_images(tmp_path: Path) -> None:
    user_cover = png(8, 8)
    files = {name: f"# {name}\n\n![A picture](images/cover.png)\n" for name in ("cover.md", "nav.md", "titlepage.md", "toc.md")}
    folder = manuscript(tmp_path, {**files, "images/cover.png": user_cover})
    epub = Epub(build("epub", folder)[0])
    hrefs = [item.get("href") for item in epub.items]
    assert len(hrefs) == len(set(hrefs)) and len(epub.zip.namelist()) == len(set(epub.zip.namelist()))
    cover = next(item for item in epub.items if "cover-image" in (item.get("properties") or ""))
    assert Image.open(io.BytesIO(epub.zip.read(f"EPUB/{cover.get('href')}"))).size != (8, 8)  # the drawn cover
    chapter = next(href for href in epub.documents() if href not in {"cover.xhtml", "titlepage.xhtml", "nav.xhtml"})
    src = epub.xml(chapter).find(".//x:img", NS).get("src")
    assert src != "images/cover.png" and epub.zip.read(f"EPUB/{src}") == user_cover


def test_a_dash_name_and_a_folder_name_give_two_chapter_files(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"a-b.md": "# Dash\n\nText.\n", "a/b.md": "# Folder\n\nText.\n"},
                        "title: A Book\nchapters: [a-b.md, a/b.md]\n")
    epub = Epub(build("epub", folder)[0])
    chapters = [href for href in epub.documents() if href not in {"cover.xhtml", "titlepage.xhtml", "nav.xhtml"}]
    assert len(set(chapters)) == 2


def test_image_names_with_spaces_and_hashes_reach_both_outputs(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\n![A red dot](<images/a dot%231.png>)\n", "images/a dot#1.png": png(30, 20)})
    epub = Epub(build("epub", folder)[0])
    src = epub.xml("01.xhtml").find(".//x:img", NS).get("src")
    href = next(item.get("href") for item in epub.items if item.get("media-type") == "image/png" and "cover" not in item.get("id"))
    assert src == href and not re.search(r"[ #%]", href) and epub.zip.read(f"EPUB/{href}") == png(30, 20)
    pdf, warnings = build("pdf", folder)
    assert not warnings
    with pikepdf.open(pdf) as document:
        sizes = {(image.Width, image.Height) for page in document.pages for image in page.get_images().values()}
    assert (30, 20) in sizes


def test_links_in_notes_point_at_the_other_chapters_file(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nA claim.[^a]\n\n[^a]: See [the end](02.md#far).\n",
                                   "02.md": "# Two\n\n## Far {#far}\n\nText.\n"})
    note = Epub(build("epub", folder)[0]).xml("01.xhtml").find(".//x:aside", NS)
    assert [a.get("href") for a in note.iter(f"{{{NS['x']}}}a") if "backlink" not in (a.get("role") or "")] == ["02.xhtml#far"]


def test_an_orphaned_note_is_a_warning_and_leaves_no_dangling_link(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n\n[^spare]: Never called, [linked](#one).\n"})
    path, warnings = build("epub", folder)
    assert any("N102" in warning for warning in warnings)
    document = Epub(path).xml("01.xhtml")
    ids = set(document.xpath("//@id"))
    assert all(href[1:] in ids for href in document.xpath("//x:a/@href", namespaces=NS) if href.startswith("#"))
    assert document.find(".//x:aside", NS) is None


def test_a_chapter_titled_by_an_image_or_nothing_readable_gets_a_title(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# ![The map](map.svg)\n\n## \u00ad\n\nText.\n", "02.md": "# \u200d\n\nText.\n", "map.svg": SVG_CLEAN})
    epub = Epub(build("epub", folder)[0])
    nav = epub.xml("nav.xhtml")
    texts = ["".join(a.itertext()).strip() for a in nav.iterfind(".//x:nav[@id='toc']//x:a", NS)]
    assert texts == ["The map", "02"]
    assert [epub.xml(href).findtext(".//x:title", namespaces=NS) for href in ("01.xhtml", "02.xhtml")] == ["The map", "02"]


def test_empty_metadata_values_are_dropped(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}, 'title: A Book\nauthor: ["", Ann]\nsubjects: ["", " "]\ndescription: " "\n')
    opf = Epub(build("epub", folder)[0]).opf
    assert [e.text for e in opf.iterfind(".//dc:creator", NS)] == ["Ann"]
    assert opf.find(".//dc:subject", NS) is None and opf.find(".//dc:description", NS) is None


def test_a_sixty_word_title_gives_a_short_slug_and_builds(tmp_path: Path) -> None:
    title = " ".join(["Freedom"] * 60)
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}, f"title: {title}\n")
    pdf, _ = build("pdf", folder)
    assert len(pdf.stem) <= 80 and pdf.stem.startswith("freedom-freedom") and not pdf.stem.endswith("-")


# Limits


@pytest.mark.parametrize("chapter, message", [
    ("# One\n\nWord: " + "hyphenation" * 400 + ".\n", "a word of 4401 letters"),
    ("# One\n\nCalls" + "[^a]" * 2000 + ".\n\n[^a]: A note.\n", "2000 note calls in one paragraph"),
    ("# One\n\n" + "<div>" * 300 + "deep" + "</div>" * 300 + "\n", "nested more than 40 deep"),
])
def test_what_would_take_minutes_to_lay_out_is_refused_first(chapter: str, message: str, tmp_path: Path) -> None:
    found = errors(manuscript(tmp_path, {"01.md": chapter}))
    assert any(line.startswith("C105") and message in line for line in found), found


# Images


def evil(body: str, head: str = "") -> bytes:
    return f'{head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">{body}</svg>'.encode()


@pytest.mark.parametrize("name, content, code, message", [
    ("bad.png", b"\x89PNG\r\n\x1a\nnot really", "I103", "cannot be decoded"),
    ("cut.png", png(40, 40)[:60], "I103", "cannot be decoded"),
    ("empty.gif", b"", "I103", "is not a GIF image"),
    ("drawing.png", SVG_CLEAN, "I103", "is not a PNG image"),
    ("photo.jpg", png(), "I103", "is PNG data, not JPEG"),
    ("bomb.png", png_bomb(), "I103", "million pixels"),
    ("picture.svg", png(), "I104", "not well-formed"),
    ("script.svg", evil("<script>alert(1)</script>"), "I104", "<script>"),
    ("handler.svg", evil('<rect width="1" height="1" onclick="x()"/>'), "I104", "onclick="),
    ("remote.svg", evil('<image xlink:href="http://127.0.0.1:9/x.png" width="1" height="1"/>'), "I104", "http://127.0.0.1:9/x.png"),
    ("file.svg", evil('<image href="file:///etc/passwd" width="1" height="1"/>'), "I104", "file:///etc/passwd"),
    ("use.svg", evil('<use href="other.svg#a"/>'), "I104", "other.svg#a"),
    ("xxe.svg", evil("<text>&x;</text>", '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'), "I104", "DOCTYPE"),
    ("import.svg", evil("<style>@import url(http://127.0.0.1:9/a.css);</style>"), "I104", "@import"),
    ("url.svg", evil('<rect width="1" height="1" style="fill:url(http://x/#g)"/>'), "I104", "url()"),
    ("escape.svg", evil("<style>rect { fill: u\\72l(http://x/) }</style>"), "I104", "escapes"),
    ("foreign.svg", evil('<foreignObject width="1" height="1"><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>'), "I104", "foreignObject"),
    ("html.svg", b"<html><body>not svg</body></html>", "I104", "not an SVG drawing"),
])
def test_broken_and_malicious_images_are_refused(name: str, content: bytes, code: str, message: str, tmp_path: Path) -> None:
    import weasyprint  # noqa: F401 - it makes Pillow lenient with damaged images when imported; the check must not be
    found = errors(manuscript(tmp_path, {"01.md": f"# One\n\n![A picture](images/{name})\n", f"images/{name}": content}))
    assert any(line.startswith(code) and message in line for line in found), found


def test_svg_editors_metadata_is_dropped_and_both_outputs_use_the_checked_bytes(tmp_path: Path) -> None:
    drawing = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
               b'width="40" height="20" inkscape:version="1.3"><metadata><x xmlns="urn:rdf">r</x></metadata>'
               b'<rect width="40" height="20" fill="url(#g)" data-name="box"/><linearGradient id="g"><stop offset="0" stop-color="red"/>'
               b"</linearGradient><!-- comment --></svg>")
    folder = manuscript(tmp_path, {"01.md": "# One\n\n![A box](box.svg)\n", "box.svg": drawing})
    book = load_book(folder, STYLES)
    (folder / "box.svg").write_bytes(b"replaced after the check")  # Never read again.
    dist = tmp_path / "dist"
    [epub_path] = epub_renderer.render(book, STYLES, dist, pipeline.quiet, {})
    svg = etree.fromstring(Epub(epub_path).zip.read("EPUB/box.svg"))
    assert svg.tag == f"{{{NS['svg']}}}svg" and svg.find("svg:rect", NS).get("fill") == "url(#g)"
    assert svg.find("svg:metadata", NS) is None and not any("inkscape" in key or key == "data-name" for element in svg.iter() for key in element.attrib)
    with typesetter_findings(book, STYLES) as found:  # WeasyPrint would say so if it could not draw the image.
        [pdf_path] = pdf_renderer.render(book, STYLES, dist, pipeline.quiet, {})
    assert found == []
    with pikepdf.open(pdf_path) as document:
        assert any("/XObject" in page.Resources for page in document.pages[2:])


# WeasyPrint's log


def test_weasyprint_warnings_become_findings_naming_the_stylesheet_line(tmp_path: Path) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(STYLES, styles)
    sheet = styles / "print.css"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\np { colr: red; }\n", encoding="utf-8")
    line = len(sheet.read_text(encoding="utf-8").splitlines())
    _, warnings = build("pdf", manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}), styles)
    assert any(re.search(rf"print\.css:{line}: warning\[S103\]: .*colr", warning) for warning in warnings), warnings


# The sandbox and the output folder


def test_a_discovered_chapter_linked_from_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nPrivate words.\n", encoding="utf-8")
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    (folder / "02.md").symlink_to(outside)
    assert any(line.startswith("C101") and "outside the manuscript folder" in line for line in errors(folder))


def test_a_book_yaml_linked_from_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "other.yaml"
    outside.write_text("title: Someone else's\n", encoding="utf-8")
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    (folder / "book.yaml").unlink()
    (folder / "book.yaml").symlink_to(outside)
    assert any(line.startswith("M101") and "outside the manuscript folder" in line for line in errors(folder))


def test_a_damaged_cover_cache_is_not_trusted(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    first = Epub(build("epub", folder)[0]).zip.read("EPUB/images/cover.png")
    [cached] = (tmp_path / "dist" / ".samizdat-cache").glob("cover-*.png")
    cached.write_bytes(png(8, 8))
    assert Epub(build("epub", folder)[0]).zip.read("EPUB/images/cover.png") == first


@pytest.mark.parametrize("where", ["a file", "inside the manuscript", "inside the styles"])
def test_a_dist_that_cannot_be_one_is_refused_in_one_line(where: str, tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    styles = Path(shutil.copytree(STYLES, tmp_path / "styles"))
    dist = {"a file": tmp_path / "dist-file", "inside the manuscript": folder / "dist", "inside the styles": styles / "out" / "dist"}[where]
    if where == "a file":
        dist.write_text("not a folder")
    with pytest.raises(OSError):
        pipeline.build("epub", folder, dist, styles, report=pipeline.quiet, warn=pipeline.quiet)
    result = run_task("epub", "--manuscript", str(folder), "--dist", str(dist), "--styles", str(styles), "--quiet")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert str(dist) in result.stderr and "Traceback" not in result.stderr
    assert where == "a file" or f"--dist lies {where} folder" in result.stderr
    assert sorted(path.name for path in styles.rglob("*")) == sorted(path.name for path in STYLES.rglob("*"))  # nothing written there


@pytest.mark.parametrize("task, output", [("epub", "a-book.epub"), ("html", "a-book-web")])
def test_a_full_disk_is_one_line_naming_the_output_and_the_previous_one_stays(task: str, output: str, tmp_path: Path, monkeypatch) -> None:
    """The disk fills while the output is written (as a write() fails: the error names no file)."""
    import errno
    import os

    from samizdat import epub, web

    monkeypatch.setattr(web, "_woff2", lambda sfnt: sfnt)  # the web fonts uncompressed: test_web checks them
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    dist = tmp_path / "dist"
    assert run_task(task, "--manuscript", str(folder), "--dist", str(dist), "--quiet").returncode == 0
    before = sorted((path.relative_to(dist), path.read_bytes()) for path in [dist / output, *(dist / output).rglob("*")] if path.is_file())

    def full(*args, **kwargs) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if task == "epub":
        monkeypatch.setattr(epub, "_write_reproducible", full)  # run_task forks: the task sees it
    else:
        write_text = Path.write_text
        monkeypatch.setattr(Path, "write_text", lambda path, *args, **kwargs: full() if path.name == "web.css" else write_text(path, *args, **kwargs))
    result = run_task(task, "--manuscript", str(folder), "--dist", str(dist), "--quiet")
    assert result.returncode == 1
    assert result.stderr.strip() == f"{dist / output}: error: No space left on device; the previous outputs in dist/ are untouched"
    after = sorted((path.relative_to(dist), path.read_bytes()) for path in [dist / output, *(dist / output).rglob("*")] if path.is_file())
    assert after == before and not list(dist.glob(".*.part*"))


@pytest.mark.parametrize("raised, named", [
    (lambda temporary: OSError(28, "No space left on device"), "output"),  # a write names no file
    (lambda temporary: OSError(28, "No space left on device", "/the/source.png", None, str(temporary / "images" / "x.png")), "output"),  # a copy
    (lambda temporary: OSError(28, "No space left on device", os.fsencode(temporary / "page.html")), "output"),  # a name in bytes
    (lambda temporary: OSError(9, "Bad file descriptor", 7), 7),  # a file descriptor's number: left as it is
    (lambda temporary: OSError("cannot identify image file"), None),  # not the system's: its own words
])
def test_an_error_while_an_output_is_written_names_the_output(raised, named, tmp_path: Path) -> None:
    from samizdat.output import naming

    target, temporary = tmp_path / "book-web", tmp_path / ".book-web.1-abcdefgh.part"
    error = raised(temporary)
    with pytest.raises(OSError) as caught, naming(target, temporary):
        raise error
    assert caught.value.filename == (str(target) if named == "output" else named)
    assert caught.value.filename2 is None and (named is not None or str(caught.value) == "cannot identify image file")


# Messages


def test_a_character_yaml_refuses_is_named_with_its_line(tmp_path: Path) -> None:
    found = errors(manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}, "title: A Book\nsubtitle: A\x7fB\n"))
    assert found == ["M101 character U+007F is not allowed in YAML: delete it"]


def test_a_value_with_a_line_break_stays_on_the_findings_line(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": '# One\n\nA <span lang="e\nn">word</span>.\n'}, 'title: A Book\nlint: {ignore: ["T1\\n01"]}\n')
    with pytest.raises(ManuscriptError) as raised:
        load_book(folder, STYLES)
    lines = str(raised.value).splitlines()
    assert len(lines) == 2 and all(re.match(r"^\S.*:\d+: error\[(M106|H102)\]: ", line) for line in lines), lines


# Stopping builds: the layout watchdog, killed builds, interrupted builds


@pytest.mark.parametrize("task", ["pdf", "build"])
def test_a_chapter_layout_over_the_time_limit_stops_the_build_naming_the_chapter(task: str, tmp_path: Path) -> None:
    pages = "A chapter of several pages, which no computer lays out in ten milliseconds of processor time. " * 400
    folder = manuscript(tmp_path, {"01.md": f"# One\n\n{pages}\n", "02.md": "# Two\n\nMore text.\n"})
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "a-book.pdf").write_bytes(b"the previous PDF")
    # `invoke build` lays the chapter out in a worker process.
    result = run_task(task, "--manuscript", str(folder), "--dist", str(dist), "--quiet", env={**os.environ, "SAMIZDAT_LAYOUT_TIMEOUT": "0.01"})
    assert result.returncode == 1, result.stderr
    assert re.fullmatch(rf"{re.escape(str(folder / '01.md'))}: error\[C106\]: laying this chapter out took over 0\.01 s of processor time: .*"
                        r"raise the limit: SAMIZDAT_LAYOUT_TIMEOUT=900 \(seconds\)\n", result.stderr), result.stderr
    assert (dist / "a-book.pdf").read_bytes() == b"the previous PDF"


def test_the_time_limit_is_300_seconds_unless_the_machine_sets_another(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SAMIZDAT_LAYOUT_TIMEOUT", raising=False)
    assert layout_limit() == 300
    monkeypatch.setenv("SAMIZDAT_LAYOUT_TIMEOUT", "900")
    assert layout_limit() == 900
    for wrong in ("0", "-5", "nan", "inf", "five minutes"):
        monkeypatch.setenv("SAMIZDAT_LAYOUT_TIMEOUT", wrong)
        with pytest.raises(BadSetting, match=f"must be a number of seconds above 0, such as 900, not '{wrong}'"):
            layout_limit()
    result = run_task("pdf", "--manuscript", str(manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})), "--dist", str(tmp_path / "dist"),
                      env={**os.environ, "SAMIZDAT_LAYOUT_TIMEOUT": "five minutes"})
    assert result.returncode == 2 and result.stderr.splitlines()[-1].startswith("error: SAMIZDAT_LAYOUT_TIMEOUT must be"), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("task, wrong", [("epub", "yesterday"), ("epub", "-5"), ("epub", "1.5"), ("epub", "99999999999999"),
                                         ("epub", "9" * 5000), ("watch", "yesterday")])
def test_a_source_date_epoch_that_is_no_time_stops_the_build_in_one_line(tmp_path: Path, task: str, wrong: str) -> None:
    """Watch too stops at once: no edit of the manuscript could mend it."""
    result = run_task(task, "--manuscript", str(manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})), "--dist", str(tmp_path / "dist"),
                      env={**os.environ, "SOURCE_DATE_EPOCH": wrong})
    assert result.returncode == 2 and result.stderr == (f"error: SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, "
                                                        f"such as 1764000000, not '{wrong}'\n"), result.stderr
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("epoch, modified", [(None, None), ("0", "1970-01-01T00:00:00Z"), ("5000000000", "2128-06-11T08:53:20Z")])
def test_the_epub_is_dated_source_date_epoch_any_year_a_date_can_hold_or_else_now(tmp_path: Path, monkeypatch, epoch: str | None,
                                                                                  modified: str | None) -> None:
    """A zip entry's date holds the years 1980 to 2107 alone; the EPUB's own date any."""
    if epoch is None:
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    else:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    before = time.time()
    [epub] = pipeline.build("epub", manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}), tmp_path / "dist", STYLES,
                            report=pipeline.quiet, warn=pipeline.quiet)
    with zipfile.ZipFile(epub) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    [stamp] = opf.xpath("//opf:meta[@property='dcterms:modified']/text()", namespaces={"opf": "http://www.idpf.org/2007/opf"})
    if modified is None:
        moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        assert before - 1 <= moment <= time.time() + 1
    else:
        assert stamp == modified


def test_without_source_date_epoch_the_pdf_is_dated_at_its_build(tmp_path: Path, monkeypatch) -> None:
    """Its XMP ModifyDate, as qpdf reads it, within the build's own seconds."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = time.time()
    [pdf] = pipeline.build("pdf", manuscript(tmp_path, {"01.md": "# One\n\nText.\n"}), tmp_path / "dist", STYLES,
                           report=pipeline.quiet, warn=pipeline.quiet)
    with pikepdf.open(pdf) as opened, opened.open_metadata() as xmp:
        stamp = datetime.fromisoformat(xmp["xmp:ModifyDate"].replace("Z", "+00:00")).timestamp()
    assert before - 1 <= stamp <= time.time() + 1


def test_the_watchdog_counts_processor_time_and_leaves_other_timers_as_it_found_them(tmp_path: Path) -> None:
    def clock_alarm(signum: int, frame: object) -> None:  # A wall-clock alarm, like the fuzz suite's time limit.
        raise AssertionError("the clock alarm went off: the watchdog did not stop the loop")

    def profiler(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGALRM, clock_alarm), signal.signal(signal.SIGPROF, profiler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 60)
        signal.setitimer(signal.ITIMER_PROF, 50)
        with pytest.raises(ManuscriptError, match=r"01\.md: error\[C106\]: laying this chapter out took over 0\.05 s of processor time"):
            with watching(tmp_path / "01.md", 0.05):
                while True:  # Runs away, using the processor.
                    pass
        assert signal.getsignal(signal.SIGALRM) is clock_alarm and signal.getsignal(signal.SIGPROF) is profiler
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 60 and 0 < signal.getitimer(signal.ITIMER_PROF)[0] <= 50
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGPROF, previous[1])
    outside_main: list[BaseException] = []  # Signals reach only the main thread: elsewhere the work goes unwatched.

    def work() -> None:
        try:
            with watching(tmp_path / "01.md", 100):
                pass
        except BaseException as error:  # noqa: BLE001 - recorded for the assertion
            outside_main.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert outside_main == []


KILLED_WHILE_WRITING = """
import os, signal, sys
from pathlib import Path
from samizdat.output import CACHE_FOLDER, atomic_output
from samizdat.web import atomic_folder

dist = Path(sys.argv[1])
with atomic_output(dist / "a-book.pdf") as pdf, atomic_output(dist / CACHE_FOLDER / "cover-x.png") as png, atomic_folder(dist / "a-book-web") as web:
    pdf.write_bytes(b"%PDF-1.7 half of it")
    png.write_bytes(b"half")
    (web / "index.html").write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_next_build_removes_what_a_killed_build_left_and_nothing_else(tmp_path: Path) -> None:
    folder = manuscript(tmp_path, {"01.md": "# One\n\nText.\n"})
    dist = tmp_path / "dist"
    killed = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_WRITING, str(dist)])
    assert killed.wait() == -signal.SIGKILL
    left = sorted(path.name for path in [*dist.iterdir(), *(dist / CACHE_FOLDER).iterdir()] if path.name.endswith(".part"))
    assert [re.sub(r"\.\d+-\w{8}\.", ".PID-RANDOM.", name) for name in left] == [
        ".a-book-web.PID-RANDOM.part", ".a-book.pdf.PID-RANDOM.part", ".cover-x.png.PID-RANDOM.part"]
    moved_aside = dist / f".a-book-web.{killed.pid}-abcdefgh.part.old"  # The old web folder, between its two renames.
    moved_aside.mkdir()
    foreign = [dist / "notes.part", dist / ".notes.part", dist / ".a-book.pdf.part", dist / "a-book.pdf.123-abcdefgh.part"]
    live = dist / f".a-book.epub.{os.getpid()}-abcdefgh.part"  # A build still running (this process) is writing it.
    for path in [*foreign, live]:
        path.write_text("keep me")
    build("epub", folder)
    assert sorted(path.name for path in dist.rglob("*") if "part" in path.name) == sorted(path.name for path in [*foreign, live])


def child_processes(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: read from /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # Gone meanwhile.
        if fields[1] == str(pid):
            children.append(int(stat.parent.name))
    return children


@pytest.mark.parametrize("how", ["SIGTERM to invoke", "Ctrl-C to its process group"])
def test_a_stopped_build_of_every_output_stops_its_workers_and_names_what_they_had_replaced(how: str, tmp_path: Path) -> None:
    paragraph = "The press was small, the paper poor and the censor near; still the pamphlet went from hand to hand. " * 8
    folder = manuscript(tmp_path, {f"{number:02d}.md": f"# Chapter {number}\n\n" + f"{paragraph}\n\n" * 25 for number in range(1, 11)})
    dist = tmp_path / "dist"
    build("epub", folder)  # A build before leaves the cover drawn in dist's cache: the EPUB is then done in a moment.
    (dist / "a-book-web").mkdir(parents=True)
    previous = {"a-book.pdf": dist / "a-book.pdf", "a-book.epub": dist / "a-book.epub", "a-book-web": dist / "a-book-web" / "index.html"}
    for path in previous.values():
        path.write_text("previous")

    def replaced() -> set[str]:
        return {name for name, path in previous.items() if not path.exists() or path.read_bytes() != b"previous"}

    process = subprocess.Popen([*INVOKE, "build", "--manuscript", str(folder), "--dist", str(dist), "--quiet"], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    while not replaced() and process.poll() is None:  # The EPUB and the web edition finish long before the 10-chapter PDF.
        time.sleep(0.01)
    assert process.poll() is None, "the build ended before it could be stopped: give the PDF more pages"
    workers = child_processes(process.pid)
    if how == "SIGTERM to invoke":
        process.send_signal(signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    stderr = process.communicate(timeout=300)[1]
    assert process.returncode == 130, stderr
    [line] = stderr.splitlines()
    done = replaced()
    assert done and "a-book.pdf" not in done, (done, line)
    named = set(re.findall(r"a-book(?:\.pdf|\.epub|-web)", line.split(" already replaced")[0]))
    assert line.startswith("interrupted: ") and named == done, line
    assert line.endswith(f"already replaced by this build; the other outputs in {dist} are as they were"), line
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # Stopped, not left to write after the build said it stopped.
    assert not [path for path in dist.rglob("*") if ".part" in path.name]
