"""The PDF renderer: ``Book`` → HTML → WeasyPrint (``styles/cover.css``, ``styles/print.css``) → PDF.

A build lays the book out as one document; watch mode lays it out chapter by
chapter and keeps the layouts (see :class:`Typesetter`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from html import escape
from pathlib import Path

from .book import Book, Chapter
from .cover import cover_html
from .dates import build_time, iso_utc
from .errors import ManuscriptError
from .fonts import FONT_DIRECTORIES, font_face_css
from .markdown import NOTEREF
from .output import atomic_output
from .styles import stylesheet

PRINT_STYLESHEETS = ("cover.css", "print.css")
PRESS_STYLESHEET = "press.css"  # Added after the others for press PDFs: CMYK colours.
VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/x-4")
PRESS_PROFILE = "press-cmyk.icc"  # The output intent of press PDFs: FOGRA39 unless replaced.


@dataclass(frozen=True)
class PdfResult:
    path: Path
    pages: int


def _head(book: Book) -> str:
    """``<head>``: WeasyPrint turns these into the PDF's metadata (Title, Author, Subject, Keywords, dates)."""
    meta = book.metadata
    head = [
        '<meta charset="utf-8">',
        f"<title>{escape(meta.title)}</title>",
        *(f'<meta name="author" content="{escape(author)}">' for author in meta.authors),
        '<meta name="generator" content="samizdat">',
    ]
    if meta.description:
        head.append(f'<meta name="description" content="{escape(meta.description)}">')
    if meta.subjects:
        head.append(f'<meta name="keywords" content="{escape(", ".join(meta.subjects))}">')
    if meta.date:
        head.append(f'<meta name="dcterms.created" content="{escape(meta.date)}">')
    return "<head>\n" + "\n".join(head) + "\n</head>"


def _document(book: Book, body: list[str]) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(book.metadata.language)}">\n{_head(book)}\n'
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def book_html(book: Book) -> str:
    """The whole book as one HTML document: cover, contents, chapters with inline footnotes."""
    return _document(book, [cover_html(book.metadata), _contents(book), *(_chapter(chapter, book) for chapter in book.chapters)])


def _contents(book: Book) -> str:
    items = "\n".join(f'<li><a href="#{chapter.id}">{escape(chapter.title)}</a></li>' for chapter in book.chapters)
    meta = book.metadata
    imprint = [escape(part) for part in (meta.publisher, meta.date and meta.date[:4], meta.rights) if part]
    return (
        '<nav class="contents" role="doc-toc" aria-labelledby="contents-title">\n'
        '<h2 id="contents-title">Contents</h2>\n'
        f"<ol>\n{items}\n</ol>\n</nav>\n"
        f'<aside class="imprint" aria-label="Imprint"><p>{" · ".join(imprint)}</p><p>{escape(meta.identifier)}</p></aside>'
    )


def _chapter(chapter: Chapter, book: Book) -> str:
    """A chapter with each note call replaced by the note itself, which CSS floats to the page foot."""
    notes = {note.id: note for note in chapter.notes}
    placed: set[str] = set()

    def footnote(match: re.Match) -> str:
        note_id = match["note_id"]
        if note_id in placed:  # A second call to the same note links to the first.
            return f'<a class="noteref" href="#{note_id}">{match["number"]}</a>'
        placed.add(note_id)
        inline = re.sub(r"</p>\s*<p>", " ", notes[note_id].html).removeprefix("<p>").removesuffix("</p>")
        return f'<span class="footnote" id="{note_id}">{inline}</span>'

    html = NOTEREF.sub(footnote, chapter.html)
    # An empty marker carries the running title: set where the chapter opens, so
    # `first-except` hides the head on that page and shows it on every later one.
    marker = f'<div class="running-title" data-title="{escape(book.metadata.title)}"></div>'
    return f'<section class="chapter" role="doc-chapter" aria-labelledby="{chapter.id}">\n{marker}\n{html}</section>'


class Typesetter:
    """WeasyPrint with the book fonts, the styles folder and the sandbox, set up once.

    ``layout`` sets the book as one document. ``layout_by_chapter`` sets each chapter
    as a document of its own, starting at the right page number, side and footnote
    number, and keeps those layouts: laying the book out again after an edit redoes
    only the chapters whose text, first page or first note number changed. The
    contents page is then set with hidden stub pages that carry each chapter's page
    number, so ``target-counter()`` in the stylesheet works as in a whole layout.
    """

    def __init__(self, book: Book, styles: Path, press: bool = False) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from .sandbox import SandboxedFetcher

        self.manuscript = book.manuscript
        self.styles = styles
        self.fetcher = SandboxedFetcher((book.manuscript, styles, *FONT_DIRECTORIES))
        self.font_config = FontConfiguration()
        self.color_profiles: dict = {}  # Like font_config, shared by the stylesheets and the render.
        generated = font_face_css() + f"\n@page {{ size: {book.metadata.page_size_css}; }}\n"
        if press:
            profile = styles / PRESS_PROFILE
            if not profile.is_file():
                raise ManuscriptError(profile, "not found: a press PDF needs the print shop's CMYK profile (PDF/X output intent)")
            generated += (
                "@page { bleed: 3mm; marks: crop; }\n"
                f'@color-profile device-cmyk {{ src: url("{profile.resolve().as_uri()}"); components: cyan, magenta, yellow, black; }}\n'
            )
        self.stylesheets = [self._css(generated)]
        for name in PRINT_STYLESHEETS + ((PRESS_STYLESHEET,) if press else ()):
            path = stylesheet(styles, name)
            self.stylesheets.append(self._refusing(partial(CSS, filename=str(path), font_config=self.font_config,
                                                           color_profiles=self.color_profiles, url_fetcher=self.fetcher)))
        self.cache: dict[tuple[str, str], object] = {}  # (HTML, extra CSS) → laid-out document

    def _css(self, text: str):
        from weasyprint import CSS

        return CSS(string=text, font_config=self.font_config, color_profiles=self.color_profiles, url_fetcher=self.fetcher)

    def _refusing(self, step):
        from .sandbox import RefusedResource

        try:
            return step()
        except RefusedResource as refused:
            raise refused.as_manuscript_error(self.styles) from None

    def _render(self, html: str, extra_css: str = ""):
        from weasyprint import HTML

        document = HTML(string=html, base_url=self.manuscript.as_uri() + "/", url_fetcher=self.fetcher)
        stylesheets = self.stylesheets + ([self._css(extra_css)] if extra_css else [])
        return self._refusing(partial(document.render, stylesheets=stylesheets, font_config=self.font_config, color_profiles=self.color_profiles))

    def layout(self, book: Book):
        return self._stamped(self._render(book_html(book)))

    @staticmethod
    def _stamped(document):
        """Set the PDF's ModDate here, not in the HTML, so that cached layouts stay valid."""
        document.metadata.modified = iso_utc(build_time())
        return document

    def layout_by_chapter(self, book: Book):
        """The same pages as :meth:`layout`, set chapter by chapter, reusing unchanged chapters."""
        front_pages = len(self._cached(_document(book, [cover_html(book.metadata), _contents(book)])).pages)
        pages, starts, first_note = [], {}, 1
        next_page = front_pages + 1
        for chapter in book.chapters:
            document = self._chapter_document(book, chapter, next_page, first_note)
            chapter_pages = document.pages[1:] if next_page % 2 == 0 else document.pages  # Drop the side blank.
            starts[chapter.id] = next_page
            pages.extend(chapter_pages)
            next_page += len(chapter_pages)
            first_note += len(chapter.notes)
        front = self._front(book, starts)
        return self._stamped(front.copy(front.pages[:front_pages] + pages))

    def _cached(self, html: str, extra_css: str = ""):
        if (html, extra_css) not in self.cache:
            self.cache[html, extra_css] = self._render(html, extra_css)
        return self.cache[html, extra_css]

    def _front(self, book: Book, starts: dict[str, int]):
        """Cover and contents, then one small, empty stub page per chapter, numbered as that chapter's first page."""
        stubs = "".join(
            f'<section class="chapter-stub" style="page: stub-{index}"><span id="{chapter.id}"></span></section>'
            for index, chapter in enumerate(book.chapters)
        )
        blank_margins = " ".join(f"@{box} {{ content: none; }}" for box in ("top-left", "top-right", "bottom-left", "bottom-right"))
        numbering = "".join(
            f"@page stub-{index} {{ size: 20mm; margin: 0; counter-reset: page {starts[chapter.id]}; {blank_margins} }}\n"
            for index, chapter in enumerate(book.chapters)
        )
        return self._cached(_document(book, [cover_html(book.metadata), _contents(book), stubs]), numbering)

    def _chapter_document(self, book: Book, chapter: Chapter, first_page: int, first_note: int):
        left_start = first_page % 2 == 0
        # A blank first page makes an even-numbered start a left-hand page, as in the whole book.
        blank = '<div class="side-blank" style="break-after: page"></div>' if left_start else ""
        numbering = f"@page :first {{ counter-reset: page {first_page - left_start}; }}\nhtml {{ counter-reset: footnote {first_note - 1}; }}\n"
        return self._cached(_document(book, [blank + _chapter(chapter, book)]), numbering)

    def write(self, document, target: Path, variant: str) -> None:
        with atomic_output(target) as temporary:
            document.write_pdf(temporary, font_config=self.font_config, pdf_variant=variant, pdf_identifier=True)


def render_pdf(book: Book, styles: Path, target: Path, *, variant: str = "pdf/ua-1", press: bool = False,
               report: Callable[[str], None] = lambda _: None, typesetter: Typesetter | None = None) -> PdfResult:
    """Lay out the book and write it to ``target`` atomically, reporting each stage.

    With a ``typesetter`` kept from an earlier build (watch mode), only what changed is laid out again.
    """
    started = time.perf_counter()
    setter = typesetter or Typesetter(book, styles, press)
    document = setter.layout_by_chapter(book) if typesetter else setter.layout(book)
    report(f"layout  {len(document.pages)} pages  [{time.perf_counter() - started:.2f}s]")
    started = time.perf_counter()
    setter.write(document, target, variant)
    report(f"write   {variant}  [{time.perf_counter() - started:.2f}s]")
    return PdfResult(target, len(document.pages))
