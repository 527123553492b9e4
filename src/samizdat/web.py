"""The web edition: ``Book`` → a small static site (``<slug>-web/``) or the whole book in one file (``<slug>.html``).

Both forms work offline and from ``file://``: nothing is fetched from another host,
and no script is written at all (a Content-Security-Policy in every page says so to
the browser). The book fonts are subset with HarfBuzz to the characters the book
uses and written as WOFF2; the single file carries them, and every image, as
``data:`` URLs. SVG images are always embedded as ``data:`` URLs inside ``<img>``,
where a browser runs none of their scripts and loads nothing they name; the site
never serves a manuscript's SVG as a file of its own, which a browser would run as a
document. Raster images are copied into the site.

Notes are numbered through the book and listed at the end of each chapter, with
links back to each call; on wide screens ``styles/web.css`` also sets each note
beside the line that calls it (a copy hidden from screen readers, whose users
follow the call to the note and back).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .book import Book, Chapter, Note, Target
from .cover import cover_html, imprint_lines
from .errors import ManuscriptError
from .fonts import BOOK_FONTS, MONO, SANS, SERIF, FontFace, mapped_code_points
from .names import file_names, slugify
from .output import CACHE_FOLDER, atomic_output, naming, part_prefix
from .rawhtml import PHRASING
from .render import ChapterRenderer
from .renderers import Report
from .styles import stylesheet

STYLESHEET = "web.css"
FONTS_STYLESHEET = "fonts.css"
INDEX = "index.html"
# The faces web.css uses: the serif upright and italic (every weight is an instance of
# the variable files), the sans upright for the cover, the monospace upright for code.
WEB_FACES = ((SERIF, "normal"), (SERIF, "italic"), (SANS, "normal"), (MONO, "normal"))
# Kept in every subset whatever the text holds: printable ASCII and the punctuation
# and arrows the furniture uses.
ALWAYS = frozenset(chr(code) for code in range(0x20, 0x7F)) | frozenset("\u00a0\u202f“”‘’«»–—…·←→↑")


@dataclass(frozen=True)
class WebFont:
    """One subset face: its ``@font-face`` description, file name and WOFF2 bytes."""

    face: FontFace
    file: str
    woff2: bytes
    weights: tuple[int, int]

    def rule(self, url: str) -> str:
        return (f'@font-face {{ font-family: "{self.face.family}"; src: url("{url}") format("woff2"); '
                f"font-weight: {self.weights[0]} {self.weights[1]}; font-style: {self.face.style}; font-display: swap; }}")


class WebChapterRenderer(ChapterRenderer):
    """Chapters as HTML pages (``pages`` maps chapter ids to files) or as sections of one page (``pages`` is None).

    ``images`` maps each asset's name to its URL in the output (a file or a ``data:`` URL).
    """

    def __init__(self, book: Book, pages: dict[str, str] | None, images: dict[str, str]) -> None:
        super().__init__(book)
        self.pages = pages
        self.images = images

    def internal_href(self, target: Target, chapter: Chapter) -> str:
        fragment = f"#{target.fragment}" if target.fragment else ""
        if self.pages is None:
            return fragment or f"#{target.chapter}"
        if target.chapter == chapter.id:
            return fragment or f"#{chapter.id}"
        return self.pages[target.chapter] + fragment

    # Rules, one per token type. With ``env["sidenote"]`` a note is being rendered a second
    # time, beside its call: inside a paragraph, without ids, and out of the tab order.

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        if not env.get("sidenote"):
            env["open_links"] = env.get("open_links", 0) + 1
            return super().link_open(tokens, idx, options, env)
        return super().link_open([self._without_id(tokens[idx], env)], 0, options, env)[:-1] + ' tabindex="-1">'

    def link_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        if not env.get("sidenote"):
            env["open_links"] -= 1
        return "</a>"

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        return self._img(self._without_id(tokens[idx], env), options, env, skip=())

    def figure(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        image = tokens[idx].children[0]
        caption = escape(image.attrGet("title") or "", quote=False)
        return f"<figure>\n{self._img(image, options, env, skip=('title',))}\n<figcaption>{caption}</figcaption>\n</figure>\n"

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        meta = tokens[idx].meta
        if env.get("sidenote"):  # A call inside a note's copy: a number, not a second link with the same id.
            return f'<sup class="noteref">{meta["number"]}</sup>'
        call = f'<a class="noteref" href="#{meta["note_id"]}" id="{meta["ref_id"]}" role="doc-noteref">{meta["number"]}</a>'
        if not meta["first"] or env.get("open_links"):  # A copy holding links may not sit inside a link.
            return call
        note = next(note for note in env["chapter"].notes if note.id == meta["note_id"])
        return call + self._sidenote(note, env)

    def raw_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        if env.get("sidenote") and tokens[idx].tag not in PHRASING:
            return "<span>"  # A block element of a note, inside the paragraph that holds the note's copy.
        return self.renderToken(self._without_id_list(tokens, idx, env), idx, options, env)

    def raw_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        if env.get("sidenote") and tokens[idx].tag not in PHRASING:
            return "</span>"
        return self.renderToken(tokens, idx, options, env)

    def raw_void(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        if env.get("sidenote") and tokens[idx].tag not in PHRASING:
            return " "
        return self.renderToken(self._without_id_list(tokens, idx, env), idx, options, env)

    def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        """A column's alignment as a class (``align-right``): the pages' Content-Security-Policy allows no style attribute."""
        token = tokens[idx]
        style = token.attrGet("style")
        if not isinstance(style, str) or not style.startswith("text-align:"):
            return self.renderToken(tokens, idx, options, env)
        cell = token.copy()
        cell.attrs = {name: value for name, value in token.attrs.items() if name != "style"}
        cell.attrJoin("class", f"align-{style.removeprefix('text-align:').strip()}")
        return self.renderToken([*tokens[:idx], cell, *tokens[idx + 1:]], idx, options, env)

    td_open = th_open

    # Helpers (named with "_" or "render" so that markdown-it does not take them for rules).

    @staticmethod
    def _without_id(token: Token, env: dict) -> Token:
        if not env.get("sidenote") or token.attrGet("id") is None:
            return token
        copy = token.copy()
        copy.attrs = {name: value for name, value in token.attrs.items() if name != "id"}
        return copy

    def _without_id_list(self, tokens: Sequence[Token], idx: int, env: dict) -> Sequence[Token]:
        if not env.get("sidenote"):
            return tokens
        return [*tokens[:idx], self._without_id(tokens[idx], env), *tokens[idx + 1:]]

    def _img(self, token: Token, options: OptionsDict, env: dict, skip: Iterable[str]) -> str:
        alt = self.renderInlineAsText(token.children or [], options, env)
        attributes = {"src": self.images[token.attrGet("src") or ""], "alt": alt}
        attributes |= {name: value for name, value in token.attrs.items() if name not in {"src", "alt", *skip}}
        return "<img" + "".join(f' {name}="{escape(str(value))}"' for name, value in attributes.items()) + ">"

    def _sidenote(self, note: Note, env: dict) -> str:
        """The note's text again, as phrasing content to sit in the calling paragraph (web.css floats it beside)."""
        inner = {**env, "sidenote": True}
        parts = []
        for token in note.tokens:
            if token.type in {"inline", "raw_block"}:
                parts.append(self.renderInline(token.children or [], self.options, inner))
            elif token.type in {"code_block", "fence"}:
                parts.append(f"<code>{escape(token.content.rstrip())}</code>")
        body = "".join(f'<span class="sidenote-paragraph">{part}</span>' for part in parts if part.strip())
        return f'<span class="sidenote" aria-hidden="true"><span class="sidenote-number">{note.number}</span> {body}</span>'

    def render_notes(self, chapter: Chapter) -> str:
        """The chapter's notes, after its text: numbered through the book, each with links back to its calls."""
        if not chapter.notes:
            return ""
        label = self.book.locale.label
        items = []
        for note in chapter.notes:
            backlinks = [f'<a href="#{ref}" role="doc-backlink" aria-label="{escape(label("back_to_text") if n == 1 else label("back_to_note_call") + f" {n}")}">↑{n if n > 1 else ""}</a>'
                         for n, ref in enumerate(note.calls, start=1)]
            back = " ".join(backlinks)
            body = self.render_tokens(note.tokens, chapter).rstrip()
            if body.endswith("</p>"):
                body = f"{body[:-4]} {back}</p>"
            else:
                body = f"{body}\n<p>{back}</p>"
            items.append(f'<li id="{note.id}">\n{body}\n</li>')
        return (f'<section class="notes" role="doc-endnotes">\n<h2>{escape(label("notes"))}</h2>\n'
                f'<ol start="{chapter.notes[0].number}">\n' + "\n".join(items) + "\n</ol>\n</section>\n")


def page_files(book: Book) -> dict[str, str]:
    """Chapter id → page: the chapter's file name in plain ASCII (``01-beginnings.html``), or ``chapter-N.html``
    when that is empty, is ``index`` or is taken."""
    return file_names(((chapter.id, chapter.stem) for chapter in book.chapters), ".html", {"index"})


def free_id(book: Book, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, … : an id no heading, note or raw element of the book uses."""
    taken = {anchor for chapter in book.chapters for anchor in chapter.anchors} | {chapter.id for chapter in book.chapters}
    candidate, number = wanted, 1
    while candidate in taken:
        number += 1
        candidate = f"{wanted}-{number}"
    return candidate


# The pages.

def _document(book: Book, title: str, body: str, head: Sequence[str]) -> str:
    meta = book.metadata
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{escape(title)}</title>",
        *(f'<meta name="author" content="{escape(author)}">' for author in meta.authors),
        *([f'<meta name="description" content="{escape(meta.description)}">'] if meta.description else []),
        '<meta name="generator" content="samizdat">',
        *head,
    ]
    return (f'<!DOCTYPE html>\n<html lang="{escape(meta.language)}" dir="{book.locale.direction}">\n<head>\n'
            + "\n".join(lines) + f"\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _contents(book: Book, href: dict[str, str], contents_id: str) -> str:
    """Chapters and their sections, two levels, as the EPUB's contents."""
    items = []
    for chapter in book.chapters:
        page = href[chapter.id]
        sections = "".join(f'<li><a href="{page.split("#")[0]}#{heading.id}">{escape(heading.text)}</a></li>' for heading in chapter.sections)
        items.append(f'<li><a href="{page}">{escape(chapter.title)}</a>' + (f"\n<ol>{sections}</ol>" if sections else "") + "</li>")
    return (f'<nav class="contents" role="doc-toc" aria-labelledby="{contents_id}">\n'
            f'<h2 id="{contents_id}">{escape(book.locale.label("contents"))}</h2>\n<ol>\n' + "\n".join(items) + "\n</ol>\n</nav>")


def _imprint(book: Book) -> str:
    lines = imprint_lines(book.metadata, book.locale, "web")
    if not lines:
        return ""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return f'<footer class="imprint" aria-label="{escape(book.locale.label("imprint"))}">{paragraphs}</footer>'


def _chapter_section(renderer: WebChapterRenderer, chapter: Chapter) -> str:
    return (f'<section class="chapter" role="doc-chapter" aria-labelledby="{chapter.id}">\n'
            f"{renderer.render_tokens(chapter.tokens, chapter)}{renderer.render_notes(chapter)}</section>")


def _arrows(book: Book) -> tuple[str, str]:
    """(back, forward): the arrows point the way the text runs."""
    return ("→", "←") if book.locale.direction == "rtl" else ("←", "→")


def site_pages(book: Book, images: dict[str, str], head: Sequence[str]) -> dict[str, str]:
    """File name → HTML for the site: ``index.html`` and one page per chapter."""
    files = page_files(book)
    renderer = WebChapterRenderer(book, files, images)
    meta, label = book.metadata, book.locale.label
    contents_id = free_id(book, "contents")
    index_body = (f'<main>\n{cover_html(meta, book.locale)}\n{_contents(book, files, contents_id)}\n</main>\n{_imprint(book)}')
    pages = {INDEX: _document(book, meta.title, index_body, head)}
    back, forward = _arrows(book)
    chapters = book.chapters
    for index, chapter in enumerate(chapters):
        previous = (files[chapters[index - 1].id], chapters[index - 1].title) if index else (INDEX, meta.title)
        following = (files[chapters[index + 1].id], chapters[index + 1].title) if index + 1 < len(chapters) else None
        links = [f'<a class="previous" rel="prev" href="{previous[0]}"><span aria-hidden="true">{back}</span> {escape(previous[1])}</a>',
                 f'<a class="up" href="{INDEX}#{contents_id}">{escape(label("contents"))}</a>']
        if following:
            links.append(f'<a class="next" rel="next" href="{following[0]}">{escape(following[1])} <span aria-hidden="true">{forward}</span></a>')
        body = (f'<header class="masthead"><a href="{INDEX}">{escape(meta.title)}</a></header>\n'
                f"<main>\n{_chapter_section(renderer, chapter)}\n</main>\n"
                f'<nav class="pager" aria-label="{escape(label("chapters"))}">\n' + "\n".join(links) + "\n</nav>")
        page_head = [*head, f'<link rel="prev" href="{previous[0]}">'] + ([f'<link rel="next" href="{following[0]}">'] if following else [])
        pages[files[chapter.id]] = _document(book, f"{chapter.title} · {meta.title}", body, page_head)
    return pages


def single_page(book: Book, images: dict[str, str], head: Sequence[str]) -> str:
    """The whole book as one HTML document: cover, contents, chapters (each with its notes), imprint."""
    renderer = WebChapterRenderer(book, None, images)
    contents_id = free_id(book, "contents")
    href = {chapter.id: f"#{chapter.id}" for chapter in book.chapters}
    chapters = "\n".join(_chapter_section(renderer, chapter) for chapter in book.chapters)
    body = (f'<main>\n{cover_html(book.metadata, book.locale)}\n{_contents(book, href, contents_id)}\n{chapters}\n</main>\n'
            f"{_imprint(book)}")
    return _document(book, book.metadata.title, body, head)


# Fonts, images and the stylesheet.

def web_fonts(text: str, cover_text: str, cache: Path) -> list[WebFont]:
    """The faces web.css uses, each subset to the characters it may have to draw, as WOFF2 (kept in ``cache``).

    The sans face sets only the cover's text (in capitals there); the others anything.
    The four faces are made at once, on threads: most of the time is Brotli's, which
    lets go of the interpreter while it compresses.
    """
    faces = []
    for family, style in WEB_FACES:
        face = next(face for face in BOOK_FONTS if (face.family, face.style) == (family, style))
        characters = (cover_text if family == SANS else text)
        wanted = {ord(character) for character in set(characters) | set(characters.upper()) | ALWAYS}
        faces.append((face, frozenset(wanted & mapped_code_points(face.path))))  # what the face cannot draw changes nothing
    _harfbuzz_version()  # once, before the threads: it declares the HarfBuzz calls
    with ThreadPoolExecutor(len(faces)) as pool:
        subsets = list(pool.map(lambda job: _subset(job[0].path, job[1], cache), faces))
    return [WebFont(face, f"fonts/{slugify(face.family)}{'-italic' if face.style == 'italic' else ''}.woff2", woff2, _weights(woff2))
            for (face, _), woff2 in zip(faces, subsets)]


def _subset(path: Path, code_points: frozenset[int], cache: Path) -> bytes:
    """A WOFF2 subset of the variable font at ``path`` with every axis kept.

    Each subset is kept in ``cache`` under a hash of the font, the code points and the
    subsetter's version, and made again only when one of them changes; one a face.
    """
    import fontTools

    font = path.read_bytes()
    subsetter = _harfbuzz_version() or f"fontTools {fontTools.version}"
    ordered = sorted(code_points)
    key = hashlib.sha256(hashlib.sha256(font).digest() + str(ordered).encode() + subsetter.encode()).hexdigest()[:24]
    stem = f"font-{path.stem.split('[')[0].lower()}"
    cached = cache / f"{stem}-{key}.woff2"
    if cached.is_file() and (data := cached.read_bytes()).startswith(b"wOF2"):
        return data
    woff2 = _woff2(_subset_with_harfbuzz(font, ordered) if _harfbuzz_version() else _subset_with_fonttools(font, ordered))
    for stale in cache.glob(f"{stem}-{'?' * len(key)}.woff2"):  # this face's: not the italic's, whose name begins the same
        stale.unlink(missing_ok=True)
    with atomic_output(cached) as temporary:
        temporary.write_bytes(woff2)
    return woff2


_HARFBUZZ_DECLARATIONS = """
typedef enum { HB_MEMORY_MODE_DUPLICATE, HB_MEMORY_MODE_READONLY, HB_MEMORY_MODE_WRITABLE,
               HB_MEMORY_MODE_READONLY_MAY_MAKE_WRITABLE } hb_memory_mode_t;
typedef void (*hb_destroy_func_t) (void *user_data);
hb_blob_t * hb_blob_create (const char *data, unsigned int length, hb_memory_mode_t mode, void *user_data, hb_destroy_func_t destroy);
hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
const char * hb_version_string (void);
"""


@functools.cache
def _harfbuzz_version() -> str | None:
    """HarfBuzz's version when its subsetter is there (as WeasyPrint needs it to be for its own subsets), else None.

    The declarations WeasyPrint's cffi handle lacks are added to it: cffi's ABI mode looks
    a function up when it is first used, so no second copy of the library is opened.
    """
    from .weasy import import_without_probing

    import_without_probing()
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

    if harfbuzz_subset is None:
        return None
    ffi.cdef(_HARFBUZZ_DECLARATIONS, override=True)
    return "HarfBuzz " + ffi.string(harfbuzz.hb_version_string()).decode()


def _subset_with_harfbuzz(font: bytes, codepoints: list[int]) -> bytes:
    """HarfBuzz's subset of ``font`` to ``codepoints`` (and the glyphs their features reach), without hinting.

    A hundred times as fast as fontTools' for a variable serif (10 ms against a second).
    """
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    _harfbuzz_version()  # declares what this needs
    data = ffi.from_buffer(font)  # kept (and unmoved) until this returns: HarfBuzz reads it in place
    blob = ffi.gc(harfbuzz.hb_blob_create(data, len(font), harfbuzz.HB_MEMORY_MODE_READONLY, ffi.NULL, ffi.NULL), harfbuzz.hb_blob_destroy)
    face = ffi.gc(harfbuzz.hb_face_create(blob, 0), harfbuzz.hb_face_destroy)
    subset_input = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy)
    unicodes = harfbuzz_subset.hb_subset_input_set(subset_input, harfbuzz_subset.HB_SUBSET_SETS_UNICODE)
    harfbuzz_subset.hb_set_add_sorted_array(unicodes, codepoints, len(codepoints))
    # Screens with high resolutions ignore hints; they are a third of the file.
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING)
    subset = harfbuzz_subset.hb_subset_or_fail(face, subset_input)
    if subset == ffi.NULL:
        raise RuntimeError("HarfBuzz could not subset a book font")
    subset = ffi.gc(subset, harfbuzz.hb_face_destroy)
    return get_hb_object_data(subset)


def _subset_with_fonttools(font: bytes, codepoints: list[int]) -> bytes:
    """fontTools' subset of ``font`` to ``codepoints``, without hinting: where HarfBuzz has no subsetter."""
    from fontTools import subset

    options = subset.Options()
    options.hinting = False
    options.desubroutinize = True
    loaded = subset.load_font(io.BytesIO(font), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(loaded)
    buffer = io.BytesIO()
    subset.save_font(loaded, buffer, options)
    return buffer.getvalue()


def _woff2(sfnt: bytes) -> bytes:
    """``sfnt`` as WOFF2 (fontTools' encoder, Brotli at its best quality)."""
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(sfnt), recalcTimestamp=False)  # the font's own date: the same bytes at every build
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer, reorderTables=False)
    return buffer.getvalue()


def _weights(woff2: bytes) -> tuple[int, int]:
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(woff2))
    axis = next(axis for axis in font["fvar"].axes if axis.axisTag == "wght")
    return int(axis.minValue), int(axis.maxValue)


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def checked_stylesheet(styles: Path) -> str:
    """``styles/web.css``, refused (S101) if it loads anything: the web edition must open offline, in one file."""
    import tinycss2

    path = stylesheet(styles, STYLESHEET)
    text = path.read_text(encoding="utf-8")

    def walk(nodes) -> None:
        for node in nodes or ():
            url = None
            if node.type == "url":
                url = node.value
            elif node.type == "function" and node.lower_name == "url":
                url = next((arg.value for arg in node.arguments if arg.type == "string"), "")
            elif node.type == "at-rule" and node.lower_at_keyword == "import":
                url = tinycss2.serialize(node.prelude).strip()
            if url is not None and not url.strip().lower().startswith("data:"):
                raise ManuscriptError("S101", path, f"refused to load '{url}': the web edition loads nothing (use a data: URL)", node.source_line)
            for attribute in ("prelude", "content", "arguments"):
                walk(getattr(node, attribute, None))

    walk(tinycss2.parse_stylesheet(text))
    return text


def _csp(style: str, images: str, fonts: str) -> str:
    """No script, no frame, no form, and nothing from another host, even if a page were changed after the build."""
    policy = f"default-src 'none'; style-src {style}; img-src {images}; font-src {fonts}; base-uri 'none'; form-action 'none'"
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


def render(book: Book, styles: Path, dist: Path, report: Report, state: dict, *, single: bool = False) -> list[Path]:
    """Write the site ``<slug>-web/`` (or, with ``single``, ``<slug>.html``) atomically."""
    css = checked_stylesheet(styles)
    svg = {asset.name: data_url(asset.media_type, asset.path.read_bytes()) for asset in book.assets if asset.media_type == "image/svg+xml"}
    if single:
        images = {asset.name: svg.get(asset.name) or data_url(asset.media_type, asset.path.read_bytes()) for asset in book.assets}
        draft = single_page(book, images, [])
        fonts = _fonts(book, draft, dist, report)
        style = "\n" + "\n".join(font.rule(data_url("font/woff2", font.woff2)) for font in fonts) + "\n" + css
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()  # of the element's exact text
        head = [_csp(f"'sha256-{digest}'", "data:", "data:"), f"<style>{style}</style>"]
        target = dist / f"{book.metadata.slug}.html"
        with atomic_output(target) as temporary:
            temporary.write_text(single_page(book, images, head), encoding="utf-8")
        return [target]
    images = {asset.name: svg.get(asset.name) or quote(asset.name) for asset in book.assets}
    draft = site_pages(book, images, [])
    fonts = _fonts(book, "".join(draft.values()), dist, report)
    # file: beside 'self', for browsers that give each file:// page an origin of its own.
    head = [_csp("'self' file:", "'self' file: data:", "'self' file:"), f'<link rel="stylesheet" href="{FONTS_STYLESHEET}">', f'<link rel="stylesheet" href="{STYLESHEET}">']
    target = dist / f"{book.metadata.slug}-web"
    with atomic_folder(target) as folder:
        for name, html in site_pages(book, images, head).items():
            (folder / name).write_text(html, encoding="utf-8")
        (folder / STYLESHEET).write_text(css, encoding="utf-8")
        (folder / FONTS_STYLESHEET).write_text("\n".join(font.rule(font.file) for font in fonts) + "\n", encoding="utf-8")
        (folder / "fonts").mkdir()
        for font in fonts:
            (folder / font.file).write_bytes(font.woff2)
        for asset in book.assets:
            if asset.name not in svg:
                (folder / asset.name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(asset.path, folder / asset.name)
    report(f"pages   {len(book.chapters) + 1} pages, {len(book.assets) - len(svg)} images copied")
    return [target]


def _fonts(book: Book, html: str, dist: Path, report: Report) -> list[WebFont]:
    fonts = web_fonts(html, cover_html(book.metadata, book.locale), dist / CACHE_FOLDER)
    report(f"fonts   {len(fonts)} WOFF2 subsets, {sum(len(font.woff2) for font in fonts) // 1024} KB")
    return fonts


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; put it in ``target``'s place only on success.

    The old folder is moved aside, the new one renamed into place (two renames on one
    file system), then the old one removed: a failed or interrupted build leaves the
    last good site as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=target.parent, prefix=part_prefix(target), suffix=".part"))
    try:
        with naming(target, temporary):
            yield temporary
            temporary.chmod(0o755)
            old = temporary.with_name(f"{temporary.name}.old")
            if target.exists():
                os.replace(target, old)
            os.replace(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
