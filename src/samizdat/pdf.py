"""The PDF renderer: ``Book`` → one HTML document → WeasyPrint (``styles/print.css``) → PDF."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .book import Book, Chapter
from .cover import cover_html
from .dates import build_time, iso_utc
from .errors import ManuscriptError
from .fonts import FONT_DIRECTORIES, font_face_css
from .markdown import NOTEREF
from .output import atomic_output

PRINT_STYLESHEETS = ("cover.css", "print.css")
VARIANTS = ("pdf/ua-1", "pdf/a-3b", "pdf/x-4")
PRESS_PROFILE = "press-cmyk.icc"  # The output intent of press PDFs: FOGRA39 unless replaced.


@dataclass(frozen=True)
class PdfResult:
    path: Path
    pages: int


def book_html(book: Book) -> str:
    """The whole book as one HTML document: cover, contents, chapters with inline footnotes."""
    meta = book.metadata
    head = [
        '<meta charset="utf-8">',
        f"<title>{escape(meta.title)}</title>",
        *(f'<meta name="author" content="{escape(author)}">' for author in meta.authors),
        '<meta name="generator" content="samizdat">',
        f'<meta name="dcterms.modified" content="{iso_utc(build_time())}">',
    ]
    if meta.description:
        head.append(f'<meta name="description" content="{escape(meta.description)}">')
    if meta.subjects:
        head.append(f'<meta name="keywords" content="{escape(", ".join(meta.subjects))}">')
    if meta.date:
        head.append(f'<meta name="dcterms.created" content="{escape(meta.date)}">')
    body = [cover_html(meta), _contents(book), *(_chapter(chapter, book) for chapter in book.chapters)]
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(meta.language)}">\n<head>\n' + "\n".join(head) + "\n</head>\n"
        "<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


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


def render_pdf(book: Book, styles: Path, target: Path, *, variant: str = "pdf/ua-1", press: bool = False,
               report: Callable[[str], None] = lambda _: None) -> PdfResult:
    """Lay out the book and write it to ``target`` atomically, reporting each stage."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from .sandbox import RefusedResource, SandboxedFetcher

    fetcher = SandboxedFetcher((book.manuscript, styles, *FONT_DIRECTORIES))
    font_config = FontConfiguration()
    color_profiles: dict = {}  # Like font_config, shared by the stylesheets and the render.
    generated = font_face_css() + f"\n@page {{ size: {book.metadata.page_size_css}; }}\n"
    if press:
        profile = styles / PRESS_PROFILE
        if not profile.is_file():
            raise ManuscriptError(profile, "not found: a press PDF needs the print shop's CMYK profile (PDF/X output intent)")
        generated += f'@page {{ bleed: 3mm; marks: crop; }}\n@color-profile device-cmyk {{ src: url("{profile.resolve().as_uri()}"); components: cyan, magenta, yellow, black; }}\n'
    stylesheets = [CSS(string=generated, font_config=font_config, color_profiles=color_profiles, url_fetcher=fetcher)]
    for name in PRINT_STYLESHEETS:
        path = styles / name
        if not path.is_file():
            raise ManuscriptError(path, "stylesheet not found")
        stylesheets.append(CSS(filename=str(path), font_config=font_config, color_profiles=color_profiles, url_fetcher=fetcher))
    html = HTML(string=book_html(book), base_url=book.manuscript.as_uri() + "/", url_fetcher=fetcher)
    try:
        started = time.perf_counter()
        document = html.render(stylesheets=stylesheets, font_config=font_config, color_profiles=color_profiles)
        report(f"layout  {len(document.pages)} pages  [{time.perf_counter() - started:.2f}s]")
        started = time.perf_counter()
        with atomic_output(target) as temporary:
            document.write_pdf(temporary, font_config=font_config, pdf_variant=variant, pdf_identifier=True)
        report(f"write   {variant}  [{time.perf_counter() - started:.2f}s]")
    except RefusedResource as refused:
        raise ManuscriptError(book.manuscript, str(refused)) from None
    return PdfResult(target, len(document.pages))
