"""The EPUB renderer: ``Book`` → XHTML documents, nav, NCX and OPF via ebooklib → a reproducible zip.

ebooklib limitations worked around here (see ``../shared/notes/epub-facts.md``):
chapters are added as finished XHTML bytes in plain ``EpubItem`` objects so that
ebooklib's lxml HTML parser never rewrites them; each author gets its own ``uid``;
``write_epub`` is asked to raise; and the zip is rewritten for reproducibility.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from html import escape
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ebooklib import epub
from lxml import etree
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .book import Book, Chapter, Note, Target
from .cover import cached_cover_png, imprint_lines, title_html, title_label
from .dates import build_time
from .names import file_names
from .output import CACHE_FOLDER, atomic_output
from .render import ChapterRenderer
from .renderers import Report
from .styles import stylesheet

XHTML = "http://www.w3.org/1999/xhtml"
OPS = "http://www.idpf.org/2007/ops"
STYLESHEET = "styles/epub.css"
COVER_IMAGE = "images/cover.png"


def xhtml_document(title: str, language: str, body: str, body_type: str | None = None, direction: str = "ltr",
                   page_class: str | None = None) -> bytes:
    """A complete XHTML5 content document, checked to be well-formed XML; ``dir="rtl"`` for right-to-left books."""
    body_attrs = f' epub:type="{body_type}"' if body_type else ""
    dir_attr = ' dir="rtl"' if direction == "rtl" else ""
    html_class = f' class="{page_class}"' if page_class else ""
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="{XHTML}" xmlns:epub="{OPS}" lang="{escape(language)}" xml:lang="{escape(language)}"{dir_attr}{html_class}>\n'
        f'<head>\n<meta charset="utf-8"/>\n<title>{escape(title)}</title>\n'
        f'<link rel="stylesheet" type="text/css" href="{STYLESHEET}"/>\n</head>\n'
        f"<body{body_attrs}>\n{body}\n</body>\n</html>\n"
    )
    etree.fromstring(text.encode("utf-8"))  # Fails loudly on our own bug, never on a reader's device.
    return text.encode("utf-8")


class EpubChapterRenderer(ChapterRenderer):
    """Chapters as XHTML files: links point into the right file; notes are EPUB 3 footnotes after the text."""

    def __init__(self, book: Book) -> None:
        super().__init__(book, xhtml=True)
        self.files = chapter_files(book)
        self.asset_files = asset_files(book)

    def asset_href(self, name: str) -> str:
        return self.asset_files[name]

    def renderAttrs(self, token: Token) -> str:
        """``lang`` is doubled as ``xml:lang``, which XHTML reading systems and checkers read."""
        attributes = super().renderAttrs(token)
        if token.attrGet("lang"):
            attributes += f' xml:lang="{escape(str(token.attrGet("lang")))}"'
        return attributes

    def internal_href(self, target: Target, chapter: Chapter) -> str:
        fragment = f"#{target.fragment}" if target.fragment else ""
        if target.chapter == chapter.id:
            return fragment or "#" + chapter.id
        return self.files[target.chapter] + fragment

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        meta = tokens[idx].meta
        return (f'<a class="noteref" epub:type="noteref" role="doc-noteref" href="#{meta["note_id"]}" '
                f'id="{meta["ref_id"]}">{meta["number"]}</a>')

    def note(self, note: Note, chapter: Chapter) -> str:
        """The note's own blocks; its number links back to the first call, and each later call gets a backlink too
        (an arrow with the text variation selector: without it Apple's readers draw ↩ as an emoji)."""
        first, *others = note.calls or ("",)
        back = f'<a href="#{first}" role="doc-backlink">{note.number}.</a> ' if first else f"{note.number}. "
        more = "".join(f' <a href="#{ref}" role="doc-backlink" aria-label="{escape(self.book.locale.label("back_to_note_call"))} {n}">↩\ufe0e{n}</a>'
                       for n, ref in enumerate(others, start=2))
        body = self.render_tokens(note.tokens, chapter)
        if body.startswith("<p>"):
            body = "<p>" + back + body[3:]
        else:
            body = f"<p>{back}</p>\n{body}"
        if more:
            body = body.rstrip()
            body = body[: -len("</p>")] + more + "</p>" if body.endswith("</p>") else body + f"<p>{more}</p>"
        return (f'<aside class="footnote" id="{note.id}" epub:type="footnote" role="doc-footnote">\n'
                f"{body.strip()}\n</aside>")


GENERATED_FILES = {"cover", "titlepage", "nav", "toc", "content", "styles", "images"}


def chapter_files(book: Book) -> dict[str, str]:
    """Chapter id → file name: the chapter's own name in plain ASCII (``01-beginnings.xhtml``), or
    ``chapter-N.xhtml`` when that is empty, taken by a generated file (cover, title page, nav) or by another chapter."""
    return file_names(((chapter.id, chapter.stem) for chapter in book.chapters), ".xhtml", GENERATED_FILES)


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*)*")


def asset_files(book: Book) -> dict[str, str]:
    """Asset name → file name in the EPUB: the same when it is plain ASCII with no character to escape,
    else ``images/image-N.ext``; never the cover image's name (:func:`cover_file`)."""
    files: dict[str, str] = {}
    taken = {COVER_IMAGE}
    for index, asset in enumerate(book.assets, start=1):
        name = asset.name
        if not SAFE_NAME.fullmatch(name) or name.lower() in {taken_name.lower() for taken_name in taken}:
            suffix = PurePosixPath(name).suffix.lower()
            name = next(f"images/image-{n}{suffix}" for n in range(index, index + len(book.assets) + 2)
                        if f"images/image-{n}{suffix}" not in taken and f"images/image-{n}{suffix}" not in {a.name for a in book.assets})
        files[asset.name] = name
        taken.add(name)
    return files


def _chapter_body(renderer: EpubChapterRenderer, chapter: Chapter) -> str:
    """The chapter's text, then its notes."""
    body = renderer.render_tokens(chapter.tokens, chapter)
    notes = "\n".join(renderer.note(note, chapter) for note in chapter.notes)
    return f'<section epub:type="chapter" role="doc-chapter" aria-labelledby="{chapter.id}">\n{body}{notes}\n</section>'


def _title_page(book: Book) -> str:
    meta = book.metadata
    label = book.locale.label
    lines = [f'<section epub:type="titlepage" class="titlepage" aria-label="{escape(label("title_page"))}">', f'<h1 class="title"{title_label(meta.title)}>{title_html(meta.title)}</h1>']
    if meta.subtitle:
        lines.append(f'<p class="subtitle">{escape(meta.subtitle)}</p>')
    if meta.authors:
        lines.append(f'<p class="author">{escape(book.locale.join_names(meta.authors))}</p>')
    lines.append('<div class="imprint">')
    lines += [f"<p>{escape(line)}</p>" for line in imprint_lines(meta, book.locale, "epub")]
    lines.append("</div>\n</section>")
    return "\n".join(lines)


def _accessibility(book: Book, epub_book: epub.EpubBook) -> None:
    """schema.org accessibility metadata that states what the build knows, and no more.

    Conformance (``dcterms:conformsTo``, ``a11y:certifiedBy``) is a person's judgement
    after a review: it is written only when ``book.yaml`` declares it, and the summary
    says when nobody has.
    """
    meta, label = book.metadata, book.locale.label
    images = book.images
    every_image_described = book.every_image_described
    properties: list[tuple[str, str]] = [("schema:accessMode", "textual")]
    if images:
        properties += [("schema:accessMode", "visual"), ("schema:accessModeSufficient", "textual,visual")]
    if every_image_described:
        properties.append(("schema:accessModeSufficient", "textual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if images and every_image_described:
        features.append("alternativeText")
    properties += [("schema:accessibilityFeature", feature) for feature in features]
    if any(_may_move(asset.content, asset.media_type) for asset in book.assets):
        hazards = ["noSoundHazard", "unknownFlashingHazard", "unknownMotionSimulationHazard"]
    else:
        hazards = ["none"]  # Text and still images only: nothing flashes, moves or sounds.
    properties += [("schema:accessibilityHazard", hazard) for hazard in hazards]
    summary = [label("a11y_summary")]
    if book.notes:
        summary.append(label("a11y_notes"))
    if images:
        summary.append(label("a11y_images_described") if every_image_described else label("a11y_images_undescribed"))
    if _marks_languages(book):
        summary.append(label("a11y_languages"))
    summary.append(label("a11y_conformance", conforms_to=meta.conforms_to) if meta.conforms_to else label("a11y_unreviewed"))
    properties.append(("schema:accessibilitySummary", "; ".join(summary) + "."))
    if meta.conforms_to:
        properties.append(("dcterms:conformsTo", meta.conforms_to))
    if meta.certified_by:
        properties.append(("a11y:certifiedBy", meta.certified_by))
    for name, value in properties:
        epub_book.add_metadata(None, "meta", value, {"property": name})


def _marks_languages(book: Book) -> bool:
    """True when some passage carries its own ``lang`` (a span, a div or raw HTML)."""
    blocks = [*(token for chapter in book.chapters for token in chapter.tokens),
              *(token for note in book.notes for token in note.tokens)]
    return any(part.attrGet("lang") for token in blocks for part in (token, *(token.children or [])))


def _may_move(content: bytes, media_type: str) -> bool:
    """Whether an image might animate (and so flash): an animated GIF, PNG or WebP, or an SVG with CSS animation
    (SVG animation elements never pass the image check)."""
    if media_type == "image/svg+xml":
        text = content.decode("utf-8", errors="replace")
        return any(word in text for word in ("@keyframes", "animation"))
    from PIL import Image

    try:
        with Image.open(io.BytesIO(content)) as image:
            return bool(getattr(image, "is_animated", False))
    except OSError:
        return True  # Unreadable here: the build cannot say it is still.


def render(book: Book, styles: Path, dist: Path, report: Report, state: dict) -> list[Path]:
    """Write ``<slug>.epub`` atomically; byte-identical for the same ``SOURCE_DATE_EPOCH``."""
    meta = book.metadata
    target = dist / f"{meta.slug}.epub"
    modified = build_time()
    epub_book = epub.EpubBook()
    epub_book.set_identifier(f"urn:isbn:{meta.isbns['epub'].replace('-', '')}" if "epub" in meta.isbns else meta.identifier)
    epub_book.set_language(meta.language)
    _titles_and_creators(book, epub_book)
    for name, value in (("date", meta.date), ("publisher", meta.publisher), ("rights", meta.rights), ("description", meta.description)):
        if value:
            epub_book.add_metadata("DC", name, value)
    for subject in meta.subjects:
        epub_book.add_metadata("DC", "subject", subject)
    epub_book.add_prefix("a11y", "http://www.idpf.org/epub/vocab/package/a11y/#")
    _accessibility(book, epub_book)

    css = epub.EpubItem(uid="style", file_name=STYLESHEET, media_type="text/css", content=stylesheet(styles, "epub.css").read_bytes())
    epub_book.add_item(css)
    cover_png, drawn = cached_cover_png(meta, book.locale, styles, dist / CACHE_FOLDER)
    report(f"cover   {'drawn' if drawn else 'from the cache'}")
    _set_cover(epub_book, cover_png)
    renderer = EpubChapterRenderer(book)
    for index, asset in enumerate(book.assets, start=1):
        epub_book.add_item(epub.EpubItem(uid=f"asset-{index}", file_name=renderer.asset_files[asset.name], media_type=asset.media_type,
                                         content=asset.content))

    direction = book.locale.direction
    if direction == "rtl":
        epub_book.set_direction("rtl")  # The spine's page-progression-direction (and the package's dir, below).
    cover_page = _document("cover", "cover.xhtml", xhtml_document(meta.title, meta.language, _cover_page(book), "cover", direction, "cover-page"))
    title_page = _document("titlepage", "titlepage.xhtml", xhtml_document(meta.title, meta.language, _title_page(book), "frontmatter", direction))
    chapters = [
        _document(f"chapter-{index}", renderer.files[chapter.id], xhtml_document(chapter.title, meta.language, _chapter_body(renderer, chapter), "bodymatter", direction))
        for index, chapter in enumerate(book.chapters, start=1)
    ]
    nav = _document("nav", "nav.xhtml", xhtml_document(book.locale.label("contents"), meta.language, _nav(book, renderer), direction=direction))
    nav.properties = ["nav"]
    for item in (cover_page, title_page, *chapters):
        epub_book.add_item(item)
    epub_book.add_item(nav)
    epub_book.add_item(epub.EpubNcx())
    epub_book.toc = [_toc_entry(chapter, renderer, index) for index, chapter in enumerate(book.chapters, start=1)]
    epub_book.spine = [cover_page, title_page, nav, *chapters]
    epub_book.guide = [{"type": kind, "href": href, "title": title} for kind, href, title in _landmarks(book, renderer)]
    packed = io.BytesIO()  # ebooklib's zip, unpacked and written again by _write_reproducible: kept in memory and not compressed
    epub.write_epub(packed, epub_book, {"mtime": modified, "raise_exceptions": True, "epub3_pages": False, "package_direction": True,
                                        "compresslevel": 0})
    with atomic_output(target) as temporary:
        _write_reproducible(packed, temporary, modified.timetuple()[:6], meta.language)
    return [target]


def _set_cover(epub_book: epub.EpubBook, png: bytes) -> None:
    """What ``epub_book.set_cover(COVER_IMAGE, png, create_page=False)`` does, with the media type given: ebooklib
    would guess it, and its first guess reads the system's MIME type files (``mimetypes.init``), a few milliseconds."""
    cover = epub.EpubCover(file_name=COVER_IMAGE)
    cover.media_type = "image/png"
    cover.content = png
    epub_book.add_item(cover)
    epub_book.add_metadata(None, "meta", "", {"name": "cover", "content": "cover-img"})


def _titles_and_creators(book: Book, epub_book: epub.EpubBook) -> None:
    """Titles and creators as stores read them: title types, each author's role, sort name and order."""
    meta = book.metadata
    epub_book.title = meta.title  # ebooklib's NCX docTitle
    titles = [("title", meta.title, "main")] + ([("subtitle", meta.subtitle, "subtitle")] if meta.subtitle else [])
    for uid, text, kind in titles:
        epub_book.add_metadata("DC", "title", text, {"id": uid})
        epub_book.add_metadata(None, "meta", kind, {"refines": f"#{uid}", "property": "title-type"})
    for index, (author, sort) in enumerate(zip(meta.authors, meta.author_sorts), start=1):
        uid = f"creator-{index}"
        epub_book.add_metadata("DC", "creator", author, {"id": uid})
        epub_book.add_metadata(None, "meta", "aut", {"refines": f"#{uid}", "property": "role", "scheme": "marc:relators"})
        epub_book.add_metadata(None, "meta", sort, {"refines": f"#{uid}", "property": "file-as"})
        epub_book.add_metadata(None, "meta", str(index), {"refines": f"#{uid}", "property": "display-seq"})


def _landmarks(book: Book, renderer: EpubChapterRenderer) -> list[tuple[str, str, str]]:
    """(EPUB 2 guide type, file, title) for the cover, the contents and the start of the text."""
    label = book.locale.label
    return [("cover", "cover.xhtml", label("cover")), ("toc", "nav.xhtml", label("contents")),
            ("text", renderer.files[book.chapters[0].id], label("start_of_text"))]


def _nav(book: Book, renderer: EpubChapterRenderer) -> str:
    """The EPUB 3 navigation document: contents two levels deep, and hidden landmarks."""
    items = []
    for chapter in book.chapters:
        file = renderer.files[chapter.id]
        sections = "".join(f'<li><a href="{file}#{s.id}">{escape(s.text)}</a></li>' for s in chapter.sections)
        nested = f"<ol>{sections}</ol>" if sections else ""
        items.append(f'<li><a href="{file}">{escape(chapter.title)}</a>{nested}</li>')
    epub3_types = {"text": "bodymatter"}
    landmarks = "".join(f'<li><a epub:type="{epub3_types.get(kind, kind)}" href="{href}">{escape(title)}</a></li>' for kind, href, title in _landmarks(book, renderer))
    return (
        f'<nav epub:type="toc" role="doc-toc" id="toc" aria-labelledby="toc-title">\n<h1 id="toc-title">{escape(book.locale.label("contents"))}</h1>\n'
        + "<ol>\n" + "\n".join(items) + "\n</ol>\n</nav>\n"
        + f'<nav epub:type="landmarks" id="landmarks" hidden="hidden" aria-label="{escape(book.locale.label("landmarks"))}">\n<ol>{landmarks}</ol>\n</nav>'
    )


def _document(uid: str, file_name: str, content: bytes) -> epub.EpubItem:
    return epub.EpubItem(uid=uid, file_name=file_name, media_type="application/xhtml+xml", content=content)


def _cover_page(book: Book) -> str:
    """The cover image, with the cover's text as its description."""
    meta, locale = book.metadata, book.locale
    alt = (locale.label("cover_alt_authors", title=meta.title, authors=locale.join_names(meta.authors)) if meta.authors
           else locale.label("cover_alt", title=meta.title))
    return f'<section class="cover" epub:type="cover"><img role="doc-cover" src="{COVER_IMAGE}" alt="{escape(alt)}"/></section>'


def _toc_entry(chapter: Chapter, renderer: EpubChapterRenderer, number: int):
    """A chapter's NCX entries; their ids are numbered (``navpoint-3-2``): a heading id may hold a colon, an NCX id may not."""
    file = renderer.files[chapter.id]
    link = epub.Link(file, chapter.title, f"navpoint-{number}")
    if not chapter.sections:
        return link
    section = epub.Section(chapter.title, href=file)
    return (section, [epub.Link(f"{file}#{heading.id}", heading.text, f"navpoint-{number}-{index}")
                      for index, heading in enumerate(chapter.sections, start=1)])


def _numbered_ncx(ncx: bytes) -> bytes:
    """The EPUB 2 contents as Adobe's engine (Kobo's sideloading) reads it: ``playOrder`` on every navPoint, the real depth."""
    namespace = "{http://www.daisy.org/z3986/2005/ncx/}"
    root = etree.fromstring(ncx)
    for order, point in enumerate(root.iter(f"{namespace}navPoint"), start=1):
        point.set("playOrder", str(order))
    depth = max((len(list(point.iterancestors(f"{namespace}navPoint"))) + 1 for point in root.iter(f"{namespace}navPoint")), default=1)
    for meta in root.iter(f"{namespace}meta"):
        if meta.get("name") == "dtb:depth":
            meta.set("content", str(depth))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _write_reproducible(packed: BinaryIO, path: Path, date_time: tuple[int, ...], language: str) -> None:
    """Write ebooklib's zip (``packed``) again to ``path``: ``mimetype`` first and stored, other entries sorted, fixed times and permissions.

    On the way, the OPF gets the ``xml:lang`` that ebooklib leaves out (accessibility checkers require it).
    """
    with zipfile.ZipFile(packed) as source:
        entries = {info.filename: source.read(info) for info in source.infolist()}
    for name in entries:
        if name.endswith(".ncx"):
            entries[name] = _numbered_ncx(entries[name])
        if name.endswith(".opf"):
            package = etree.fromstring(entries[name])
            package.set("{http://www.w3.org/XML/1998/namespace}lang", language)
            entries[name] = etree.tostring(package, xml_declaration=True, encoding="utf-8", pretty_print=True)
    date_time = min(max(date_time, (1980, 1, 1, 0, 0, 0)), (2107, 12, 31, 23, 59, 58))  # what a zip entry's date can hold
    with zipfile.ZipFile(path, "w") as out:
        for name in ["mimetype", *sorted(set(entries) - {"mimetype"})]:
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.external_attr = 0o100644 << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            out.writestr(info, entries[name], compresslevel=9 if name != "mimetype" else None)
