"""The EPUB renderer: ``Book`` → XHTML documents, nav, NCX and OPF via ebooklib → a reproducible zip.

ebooklib limitations worked around here (see ``../shared/notes/epub-facts.md``):
chapters are added as finished XHTML bytes in plain ``EpubItem`` objects so that
ebooklib's lxml HTML parser never rewrites them; each author gets its own ``uid``;
``write_epub`` is asked to raise; and the zip is rewritten for reproducibility.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ebooklib import epub
from lxml import etree, html as lxml_html

from .book import Book, Chapter
from .cover import cached_cover_png
from .dates import build_time
from .markdown import NOTEREF
from .output import atomic_output
from .styles import stylesheet

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
STYLESHEET = "styles/epub.css"
COVER_IMAGE = "images/cover.png"
CACHE_FOLDER = ".samizdat-cache"


@dataclass(frozen=True)
class EpubResult:
    path: Path
    documents: int


def chapter_file(chapter: Chapter) -> str:
    return f"{chapter.stem}.xhtml"


def xhtml_document(title: str, language: str, body: str, body_type: str | None = None) -> bytes:
    """A complete XHTML5 content document, checked to be well-formed XML."""
    body_attrs = f' epub:type="{body_type}"' if body_type else ""
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="{XHTML}" xmlns:epub="{OPS}" lang="{escape(language)}" xml:lang="{escape(language)}">\n'
        f'<head>\n<meta charset="utf-8"/>\n<title>{escape(title)}</title>\n'
        f'<link rel="stylesheet" type="text/css" href="{STYLESHEET}"/>\n</head>\n'
        f"<body{body_attrs}>\n{body}\n</body>\n</html>\n"
    )
    etree.fromstring(text.encode("utf-8"))  # Fails loudly on our own bug, never on a reader's device.
    return text.encode("utf-8")


def as_xhtml(fragment: str) -> str:
    """HTML (as markdown-it and raw inline HTML produce it) re-serialised as well-formed XHTML."""
    parts = lxml_html.fragments_fromstring(fragment)
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(escape(part, quote=False))
        else:
            out.append(etree.tostring(part, method="xml", encoding="unicode", with_tail=True))
    return "".join(out)


def _chapter_body(chapter: Chapter, book: Book) -> str:
    """The chapter with EPUB 3 note semantics and links pointing at the right files."""

    def noteref(match: re.Match) -> str:
        return f'<a class="noteref" epub:type="noteref" role="doc-noteref" href="#{match["note_id"]}" id="{match["ref_id"]}">{match["number"]}</a>'

    def link(match: re.Match) -> str:
        target = match.group(1)
        owner = book.chapter_with_id(target)
        if owner is None or owner is chapter:
            return match.group(0)
        return f'href="{chapter_file(owner)}#{target}"'

    body = as_xhtml(chapter.html)
    body = NOTEREF.sub(noteref, body)
    body = re.sub(r'href="#([^"]+)"', link, body)
    notes = "\n".join(
        f'<aside class="footnote" id="{note.id}" epub:type="footnote" role="doc-footnote">\n'
        + as_xhtml(note.html).replace("<p>", f'<p><a href="#noteref-{note.number}" role="doc-backlink">{note.number}.</a> ', 1)
        + "\n</aside>"
        for note in chapter.notes
    )
    return f'<section epub:type="chapter" role="doc-chapter" aria-labelledby="{chapter.id}">\n{body}{notes}\n</section>'


def _title_page(book: Book) -> str:
    meta = book.metadata
    lines = ['<section epub:type="titlepage" class="titlepage" aria-label="Title page">', f'<h1 class="title">{escape(meta.title)}</h1>']
    if meta.subtitle:
        lines.append(f'<p class="subtitle">{escape(meta.subtitle)}</p>')
    lines += [f'<p class="author">{escape(author)}</p>' for author in meta.authors]
    imprint = [part for part in (meta.publisher, meta.date, meta.rights) if part]
    lines.append('<div class="imprint">')
    lines += [f"<p>{escape(part)}</p>" for part in imprint]
    lines.append(f"<p>{escape(meta.identifier)}</p>\n</div>\n</section>")
    return "\n".join(lines)


def _accessibility(book: Book, epub_book: epub.EpubBook) -> None:
    """schema.org accessibility metadata that describes this book truthfully, and no more."""
    images = [tag for chapter in book.chapters for tag in re.findall(r"<img\b[^>]*>", chapter.html)]
    every_image_described = all(re.search(r'\balt="[^"]*\S[^"]*"', tag) for tag in images)
    properties: list[tuple[str, str]] = [("schema:accessMode", "textual")]
    if images:
        properties.append(("schema:accessMode", "visual"))
    if every_image_described:
        properties.append(("schema:accessModeSufficient", "textual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if images and every_image_described:
        features.append("alternativeText")
    properties += [("schema:accessibilityFeature", feature) for feature in features]
    properties.append(("schema:accessibilityHazard", "none"))
    summary = ["Reflowable text with semantic headings, a navigable table of contents and landmarks"]
    if book.notes:
        summary.append("footnotes are linked from their calls and back")
    if images:
        summary.append("every image has a text description" if every_image_described else "some images have no text description")
    properties.append(("schema:accessibilitySummary", "; ".join(summary) + "."))
    if every_image_described:
        properties.append(("dcterms:conformsTo", "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"))
        properties.append(("a11y:certifiedBy", book.metadata.publisher or "samizdat"))
    for name, value in properties:
        epub_book.add_metadata(None, "meta", value, {"property": name})


def render_epub(book: Book, styles: Path, target: Path) -> EpubResult:
    """Write the EPUB to ``target`` atomically; byte-identical for the same ``SOURCE_DATE_EPOCH``."""
    meta = book.metadata
    modified = build_time()
    epub_book = epub.EpubBook()
    epub_book.set_identifier(meta.identifier)
    epub_book.set_title(meta.title)
    epub_book.set_language(meta.language)
    for index, author in enumerate(meta.authors, start=1):
        epub_book.add_author(author, uid=f"creator-{index}")
    for name, value in (("date", meta.date), ("publisher", meta.publisher), ("rights", meta.rights), ("description", meta.description)):
        if value:
            epub_book.add_metadata("DC", name, value)
    for subject in meta.subjects:
        epub_book.add_metadata("DC", "subject", subject)
    epub_book.add_prefix("a11y", "http://www.idpf.org/epub/vocab/package/a11y/#")
    _accessibility(book, epub_book)

    css = epub.EpubItem(uid="style", file_name=STYLESHEET, media_type="text/css", content=stylesheet(styles, "epub.css").read_bytes())
    epub_book.add_item(css)
    epub_book.set_cover(COVER_IMAGE, cached_cover_png(meta, styles, target.parent / CACHE_FOLDER), create_page=False)
    for index, asset in enumerate(book.assets, start=1):
        epub_book.add_item(epub.EpubItem(uid=f"asset-{index}", file_name=asset.name, media_type=asset.media_type, content=asset.path.read_bytes()))

    cover_page = _document("cover", "cover.xhtml", xhtml_document(meta.title, meta.language, _cover_page(book), "cover"))
    title_page = _document("titlepage", "titlepage.xhtml", xhtml_document(meta.title, meta.language, _title_page(book), "frontmatter"))
    chapters = [
        _document(f"chapter-{index}", chapter_file(chapter), xhtml_document(chapter.title, meta.language, _chapter_body(chapter, book), "bodymatter"))
        for index, chapter in enumerate(book.chapters, start=1)
    ]
    nav = _document("nav", "nav.xhtml", xhtml_document("Contents", meta.language, _nav(book)))
    nav.properties = ["nav"]
    for item in (cover_page, title_page, *chapters):
        epub_book.add_item(item)
    epub_book.add_item(nav)
    epub_book.add_item(epub.EpubNcx())
    epub_book.toc = [_toc_entry(chapter) for chapter in book.chapters]
    epub_book.spine = [cover_page, title_page, nav, *chapters]
    epub_book.guide = [{"type": kind, "href": href, "title": title} for kind, href, title in _landmarks(book)]
    with atomic_output(target) as temporary:
        epub.write_epub(str(temporary), epub_book, {"mtime": modified, "raise_exceptions": True, "epub3_pages": False})
        _make_reproducible(temporary, modified.timetuple()[:6], meta.language)
    return EpubResult(target, len(chapters) + 3)


def _landmarks(book: Book) -> list[tuple[str, str, str]]:
    """(EPUB 2 guide type, file, title) for the cover, the contents and the start of the text."""
    return [("cover", "cover.xhtml", "Cover"), ("toc", "nav.xhtml", "Contents"), ("text", chapter_file(book.chapters[0]), "Start of text")]


def _nav(book: Book) -> str:
    """The EPUB 3 navigation document: contents two levels deep, and hidden landmarks."""
    items = []
    for chapter in book.chapters:
        sections = "".join(f'<li><a href="{chapter_file(chapter)}#{s.id}">{escape(s.text)}</a></li>' for s in chapter.sections)
        nested = f"<ol>{sections}</ol>" if sections else ""
        items.append(f'<li><a href="{chapter_file(chapter)}">{escape(chapter.title)}</a>{nested}</li>')
    epub3_types = {"text": "bodymatter"}
    landmarks = "".join(f'<li><a epub:type="{epub3_types.get(kind, kind)}" href="{href}">{title}</a></li>' for kind, href, title in _landmarks(book))
    return (
        '<nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-title">\n<h1 id="toc-title">Contents</h1>\n'
        + "<ol>\n" + "\n".join(items) + "\n</ol>\n</nav>\n"
        + f'<nav epub:type="landmarks" id="landmarks" hidden="hidden" aria-label="Landmarks">\n<ol>{landmarks}</ol>\n</nav>'
    )


def _document(uid: str, file_name: str, content: bytes) -> epub.EpubItem:
    return epub.EpubItem(uid=uid, file_name=file_name, media_type="application/xhtml+xml", content=content)


def _cover_page(book: Book) -> str:
    """The cover image, with the cover's text as its description."""
    alt = f"Cover: {book.metadata.title}" + (f", by {', '.join(book.metadata.authors)}" if book.metadata.authors else "")
    return f'<section class="cover" epub:type="cover"><img role="doc-cover" src="{COVER_IMAGE}" alt="{escape(alt)}"/></section>'


def _toc_entry(chapter: Chapter):
    link = epub.Link(chapter_file(chapter), chapter.title, f"toc-{chapter.id}")
    if not chapter.sections:
        return link
    section = epub.Section(chapter.title, href=chapter_file(chapter))
    return (section, [epub.Link(f"{chapter_file(chapter)}#{heading.id}", heading.text, f"toc-{heading.id}") for heading in chapter.sections])


def _make_reproducible(path: Path, date_time: tuple[int, ...], language: str) -> None:
    """Rewrite the zip: ``mimetype`` first and stored, other entries sorted, fixed times and permissions.

    On the way, the OPF gets the ``xml:lang`` that ebooklib leaves out (accessibility checkers require it).
    """
    with zipfile.ZipFile(path) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    for name in entries:
        if name.endswith(".opf"):
            package = etree.fromstring(entries[name])
            package.set("{http://www.w3.org/XML/1998/namespace}lang", language)
            entries[name] = etree.tostring(package, xml_declaration=True, encoding="utf-8", pretty_print=True)
    date_time = max(date_time, (1980, 1, 1, 0, 0, 0))
    with zipfile.ZipFile(path, "w") as out:
        for name in ["mimetype", *sorted(set(entries) - {"mimetype"})]:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            out.writestr(info, entries[name], compresslevel=9 if name != "mimetype" else None)
