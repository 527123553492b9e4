"""The PDF renderer: ``Book`` tokens → HTML for WeasyPrint (``styles/cover.css``, ``styles/print.css``) → PDF.

Every build lays the book out chapter by chapter; watch mode keeps those layouts
between builds (see :class:`Typesetter`).
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from html import escape
from pathlib import Path

from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .book import Book, Chapter
from .cover import BLANKS_BEFORE_BACK, back_matter_html, cover_html, imprint_lines
from .dates import build_time, iso_utc
from .errors import Findings, ManuscriptError
from .fingerprint import folder_digest
from .i18n import hyphenation_tag
from .marks import WHOLE_WORD_CLASS
from .output import atomic_output
from .render import ChapterRenderer
from .renderers import Report
from .watchdog import watching

PRINT_STYLESHEETS = ("cover.css", "print.css")
PRESS_STYLESHEET = "press.css"  # Added after the others for press PDFs: CMYK colours.
VARIANTS = ("pdf/ua-1", "pdf/a-3b")  # pdf/x-4 comes with --press, which gives it its output intent.
PRESS_PROFILE = "press-cmyk.icc"  # The output intent of press PDFs: FOGRA39 unless replaced.
RUN_LENGTH = 48_000  # Characters in a run of chapters, about 32 A5 pages: a longer book is laid out and written in parts, in parallel (see samizdat.parts).
FRONT_PIECES = 2  # The front matter, if 4 pages or more, is written as this many parts, in parallel: a long contents is slow to draw.
FURNITURE = -1  # The order of the part that holds the chapter pages' margin boxes alone, in watch mode.
WATCH_RUN_LENGTH = 6_000  # About 4 pages: in watch mode a longer book is written in parts of at most about this, and only the parts an edit changed are drawn again.
WATCH_RUN_CHAPTERS = 3  # Chapters in a run, on average, in watch mode: few to draw again, but not so many parts that merging costs more.
MIN_RUNS = 4  # A long book's runs of chapters, at least: work for each of two to four cores until near the end.
CHAPTER_OPENING = 800  # What a chapter's opening (its heading's space, the page it may leave part empty) weighs, in characters.
FIGURE = 1_200  # What an image weighs, in characters.


class PdfChapterRenderer(ChapterRenderer):
    """Chapters for one WeasyPrint document: each note is put where it is first called and floated to the page foot."""

    def footnote_ref(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        meta = tokens[idx].meta
        if not meta["first"]:  # A later call of the same note links to it.
            return f'<a class="noteref" href="#{meta["note_id"]}" id="{meta["ref_id"]}">{meta["number"]}</a>'
        note = next(note for note in env["chapter"].notes if note.id == meta["note_id"])
        return f'<span class="footnote" id="{note.id}">{self._note_text(note.tokens, env)}</span>'

    def render_chapter(self, chapter: Chapter, whole_words: WholeWords) -> str:
        """The chapter's HTML, with ``whole_words`` (by paragraph name) kept whole: see :meth:`Typesetter._render`."""
        return self.render(chapter.tokens, self.options, {"chapter": chapter, "whole_words": whole_words})

    def paragraph_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        """Every paragraph gets a name (``data-p``), so that layout can keep a word of it whole, or turn its hyphenation
        off (see ``hyphenated_page_ends``)."""
        number = env["paragraphs"] = env.get("paragraphs", 0) + 1
        env["paragraph"] = f"{env['chapter'].id}-{number}"
        tokens[idx].attrSet("data-p", env["paragraph"])
        return self.renderToken(tokens, idx, options, env)

    def paragraph_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        env["paragraph"] = None
        return self.renderToken(tokens, idx, options, env)

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        """Text; a word laid out split across a page turn is kept whole in a ``span.samizdat-whole`` (styles/print.css)."""
        text = tokens[idx].content
        words = env.get("whole_words", {}).get(env.get("paragraph"))
        if not words:
            return escape(text, quote=False)
        pieces, done = [], 0
        for match in WORD.finditer(text):  # in the text, not its HTML: a word is never looked for inside "&amp;"
            if _word_key(match[0]) in words:
                pieces += [escape(text[done:match.start()], quote=False), f'<span class="{WHOLE_WORD_CLASS}">{escape(match[0])}</span>']
                done = match.end()
        return "".join(pieces) + escape(text[done:], quote=False)

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        """Code, one block per source line, so that a wrapped line hangs under its first characters."""
        lines = tokens[idx].content.rstrip("\n").split("\n")
        body = "".join(f'<span class="code-line">{escape(line) or " "}</span>' for line in lines)
        return f"<pre><code>{body}</code></pre>\n"

    code_block = fence

    def _note_text(self, tokens: Sequence[Token], env: dict) -> str:
        """A note's paragraphs as spans, since the note sits inside the paragraph that calls it."""
        parts = []
        for token in tokens:
            if token.type in {"inline", "raw_block"}:
                parts.append(self.renderInline(token.children or [], self.options, env))
            elif token.type in {"code_block", "fence"}:
                parts.append(f"<code>{escape(token.content.rstrip())}</code>")
        return "".join(f'<span class="footnote-paragraph">{part}</span>' for part in parts if part.strip())


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
    """The document in the book's language; its body in the language's most likely region where the book names
    none, for hyphenation alone (see :func:`samizdat.i18n.hyphenation_tag`): the PDF's /Lang stays the book's."""
    language = book.metadata.language
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}" dir="{book.locale.direction}">\n{_head(book)}\n'
        f'<body lang="{escape(hyphenation_tag(language))}">\n' + "\n".join(body) + "\n</body>\n</html>\n"
    )


def book_html(book: Book, whole_words: WholeWords | None = None) -> str:
    """The whole book as one HTML document: cover, contents, chapters with inline footnotes."""
    renderer = PdfChapterRenderer(book)
    chapters = [_chapter(renderer, chapter, book, whole_words) for chapter in book.chapters]
    return _document(book, [cover_html(book.metadata, book.locale), _contents(book), *chapters])


def _contents(book: Book, starts: dict[str, int] | None = None) -> str:
    """The contents page; with ``starts``, each chapter's page number is written in (``data-page``), else
    the stylesheet's ``target-counter()`` finds it in the laid-out book."""
    pages = {chapter.id: f' data-page="{starts[chapter.id]}"' if starts else "" for chapter in book.chapters}
    items = "\n".join(f'<li><a href="#{chapter.id}"{pages[chapter.id]}>{escape(chapter.title)}</a></li>' for chapter in book.chapters)
    imprint = "".join(f"<p>{escape(line)}</p>" for line in imprint_lines(book.metadata, book.locale, "print"))
    label = book.locale.label
    return (
        '<nav class="contents" role="doc-toc" aria-labelledby="contents-title">\n'
        f'<h2 id="contents-title">{escape(label("contents"))}</h2>\n'
        f"<ol>\n{items}\n</ol>\n</nav>\n"
        f'<aside class="imprint" aria-label="{escape(label("imprint"))}">{imprint}</aside>'
    )


def _chapter(renderer: PdfChapterRenderer, chapter: Chapter, book: Book, whole_words: WholeWords | None = None) -> str:
    # An empty marker carries the running title: set where the chapter opens, so
    # `first-except` hides the head on that page and shows it on every later one.
    marker = f'<div class="running-title" data-title="{escape(book.metadata.title)}"></div>'
    html = renderer.render_chapter(chapter, whole_words or {})
    return f'<section class="chapter" role="doc-chapter" aria-labelledby="{chapter.id}">\n{marker}\n{html}</section>'


@dataclass(frozen=True)
class Part:
    """Laid-out pages of the book: ``order`` is the part's place in the book (0 is the front matter)."""

    order: int  # FURNITURE for the chapters' margin boxes alone (see Typesetter.parts)
    document: object  # a WeasyPrint Document (FURNITURE: a function that makes it, called where it is drawn)
    key: str  # what its pages were laid out from: the same key, the same pages
    offsets: tuple[float, ...] = ()  # FURNITURE: how far each chapter page's text moves right to its side, in PDF points


class Typesetter:
    """WeasyPrint with the book fonts, the styles folder and the sandbox, set up once.

    ``layout`` sets the book as one document (the reference the tests compare with).
    :meth:`parts` sets each chapter as a document of its own, laid out as if it began on
    page 1 with its own first note number and then placed at its real pages
    (:mod:`samizdat.placement`), and hands the pages over in parts as they are done;
    the contents page, set last, has each chapter's page number written in. In watch mode
    (``keep_layouts``) the layouts are kept: laying the book out again after an edit redoes
    only the chapters whose text, images or first note number changed, with
    one layout per slot (front matter, contents, each chapter position), so memory does
    not grow with the number of edits. A single build lets each chapter's layout go once
    its part is handed over, so memory does not grow with the book.
    """

    def __init__(self, book: Book, styles: Path, press: bool = False, *, keep_layouts: bool = True, run_length: int = RUN_LENGTH) -> None:
        from .weasy import Weasy

        extra = ""
        if press:
            profile = styles / PRESS_PROFILE
            if not profile.is_file():
                raise ManuscriptError("S101", profile, "not found: a press PDF needs the print shop's CMYK profile (PDF/X output intent)")
            extra = (  # Crop marks are drawn outside the bleed by press.finish_press_pdf, not by WeasyPrint.
                "@page { bleed: 3mm; }\n"
                f'@color-profile device-cmyk {{ src: url("{profile.resolve().as_uri()}"); components: cyan, magenta, yellow, black; }}\n'
            )
        self.manuscript = book.manuscript
        self.direction = book.locale.direction
        self.weasy = Weasy((book.manuscript,), styles, book.metadata.page_size_css, extra)
        names = PRINT_STYLESHEETS + ((PRESS_STYLESHEET,) if press else ())
        self.stylesheets = [*self.weasy.base, *(self.weasy.stylesheet(name) for name in names)]
        self.slots: dict[str, tuple[tuple[str, str, str], object]] = {}  # slot → (key, laid-out document)
        self.keep_layouts = keep_layouts  # Watch mode keeps every chapter's layout; a single build lets each go once used.
        self.run_length = run_length
        self.part_folder: Path | None = None  # The parts last written (kept in watch mode: unchanged ones are not written again).

    def _render(self, html: str, extra_css: str = "", remake: Callable[[WholeWords], str] | None = None, imprint: bool = False):
        """Lay out ``html``.

        Where it holds the ``imprint`` and that, at the foot of the contents' last page, would lie over them, lay it
        out again with the imprint at the foot of a page of its own. Where a page ends on a hyphenated line, lay it
        out again with that word kept whole (``remake`` makes the HTML so); where that cannot be (no ``remake``, or
        the word is not found in one piece of text), with that paragraph unhyphenated. Keeping the one word whole
        leaves the rest of the paragraph hyphenated: unhyphenated, its lines were set loose (word spaces of twice
        the normal and more)."""
        whole: dict[str, set[str]] = {}
        unhyphenated: list[str] = []
        moved = ""
        for _ in range(MAX_RELAYOUTS + 1 + imprint):  # the imprint's move takes no round from the hyphens
            css = extra_css + "".join(f'p[data-p="{name}"] {{ hyphens: manual; }}\n' for name in unhyphenated)
            stylesheets = self.stylesheets + ([self.weasy.css(css)] if css else [])
            document = self.weasy.render(html, self.manuscript.as_uri() + "/", stylesheets)
            if imprint and not moved and (moved := imprint_in_flow(document)):
                extra_css += moved
                continue
            ends = [(name, words) for name, words in hyphenated_page_ends(document) if name not in unhyphenated]
            if not ends:
                break
            kept: list[str] = []
            for name, words in ends:
                if remake and words and not words <= whole.get(name, set()):
                    whole.setdefault(name, set()).update(words)
                    kept.append(name)
                else:
                    unhyphenated.append(name)
            if kept:
                remade = remake({name: frozenset(words) for name, words in whole.items()})
                if remade == html:  # no word found in one piece of text: no layout for nothing
                    unhyphenated += kept
                html = remade
        return document

    def _serve_images(self, book: Book) -> None:
        """The chapters' images are served as the bytes that were checked, never read from their files again."""
        self.weasy.fetcher.files = {asset.path: asset.content for asset in book.assets}

    def layout(self, book: Book):
        """The book as one WeasyPrint document: the reference that :meth:`parts`, which every build uses
        (faster, and only what changed is laid out again), is tested against page for page."""
        self._serve_images(book)
        return self._stamped(self._with_back_matter(book, self._render(book_html(book), remake=partial(book_html, book), imprint=True)))

    def _with_back_matter(self, book: Book, document):
        """The text's pages, the blanks that make a multiple of four, and the outside back cover last."""
        return document.copy(document.pages + self._back_pages(book, len(document.pages)))

    def _back_matter(self, book: Book):
        return self._cached("back", _document(book, [back_matter_html(book.metadata, book.locale)]))

    def _back_pages(self, book: Book, pages_before: int) -> list:
        """The blanks that make ``pages_before`` a multiple of four with the back cover, then the back cover."""
        blanks = -(pages_before + 1) % 4
        return self._back_matter(book).pages[BLANKS_BEFORE_BACK - blanks:]

    @staticmethod
    def _stamped(document):
        """Set the PDF's ModDate here, not in the HTML, so that cached layouts stay valid."""
        document.metadata.modified = iso_utc(build_time())
        return document

    def layout_by_chapter(self, book: Book):
        """The same pages as :meth:`layout`: :meth:`parts` joined, as :meth:`write_book` writes a short book."""
        return _joined(list(self.parts(book)))

    def parts(self, book: Book, furniture: bool = False) -> Iterator[Part]:
        """The book's pages in parts, as soon as each is laid out: the runs of chapters of
        :func:`plan_runs`, then the front matter (whose contents need every chapter's page
        number), then the back matter. ``order`` puts them back in book order.

        With ``furniture`` (watch mode), the runs' pages have no margin boxes and are placed as if
        each run began on page 1, so a run moved by an edit before it is the same part; the chapter
        pages' margin boxes come last, in a part of their own (:data:`FURNITURE`), with how far each
        page's text must move to its real side (see :func:`samizdat.placement.furniture`)."""
        from .placement import LAID_OUT_AT, furniture_key, moves

        self._serve_images(book)
        renderer = PdfChapterRenderer(book)
        front_pages = self._front_pages(book)
        runs = self._runs(book)
        starts: dict[str, int] = {}
        next_page = front_pages + 1
        furnished: list[tuple[object, int]] = []  # every chapter's layout, and its first page
        for number, run in enumerate(runs):
            layouts = self._lay_out_run(book, renderer, run)
            document, key = self._placed_run(book, run, layouts, LAID_OUT_AT if furniture else next_page, margins=not furniture)
            if furniture:
                furnished += zip(layouts, _chapter_starts(next_page, _page_counts(layouts)))
            starts.update(_starts(book, run, _page_counts(layouts), next_page))
            next_page += len(document.pages)
            yield Part(number + FRONT_PIECES, document, key)
            if not self.keep_layouts:
                self._forget(run)
        for stale in [slot for slot in self.slots if slot.startswith("chapter-") and int(slot[8:]) >= len(book.chapters)]:
            del self.slots[stale]
        if furniture:  # Its pages are made where the part is drawn: see _furniture_document.
            yield Part(FURNITURE, partial(self._furniture_document, furnished), _key([furniture_key(*item) for item in furnished]),
                       offsets=tuple(move for item in furnished for move in moves(*item)))
        yield from self._front_and_back(book, starts, front_pages, len(runs) + FRONT_PIECES, next_page - 1)

    def _runs(self, book: Book) -> list[range]:
        """Watch mode (which keeps the layouts) cuts runs where an edit cannot move the cut: see :func:`plan_stable_runs`."""
        return plan_stable_runs(book, self.run_length) if self.keep_layouts else plan_runs(book, self.run_length)

    def _furniture_document(self, furnished: list[tuple[object, int]]):
        """The margin boxes alone of every chapter's pages, each at its first page (see :func:`samizdat.placement.furniture`)."""
        from .placement import furniture

        return self._stamped(furnished[0][0].copy([page for layout, start in furnished for page in furniture(layout, start)]))

    def _front_pages(self, book: Book) -> int:
        """The pages of cover and contents, counted with a page number wider than any real one."""
        placeholders = {chapter.id: 8888 for chapter in book.chapters}
        front_pages = len(self._front(book, placeholders, "front").pages)
        if not self.keep_layouts:
            del self.slots["front"]  # A long contents is large: 40 MB for 400 chapters.
        return front_pages

    def _lay_out_run(self, book: Book, renderer: PdfChapterRenderer, run: range) -> list:
        """The run's chapters, each laid out as if it began on page 1 (see :mod:`samizdat.placement`)."""
        first_note = 1 + sum(len(chapter.notes) for chapter in book.chapters[:run.start])
        layouts = []
        for index in run:
            with watching(book.manuscript / book.chapters[index].source):
                layouts.append(self._chapter_document(renderer, book, index, first_note))
            first_note += len(book.chapters[index].notes)
        return layouts

    def _placed_run(self, book: Book, run: range, layouts: list, first_page: int, margins: bool = True):
        """The run's pages from ``first_page`` on (with their margin boxes, or none), as one document; and
        the key of what they were made from."""
        from .placement import place

        pages = [page for layout, start in zip(layouts, _chapter_starts(first_page, _page_counts(layouts))) for page in place(layout, start, margins)]
        key = _key([self.slots[f"chapter-{index}"][0] for index in run], first_page, margins)
        return self._stamped(layouts[0].copy(pages)), key

    def _forget(self, run: range) -> None:
        """Let the run's layouts go: memory that does not grow with the book."""
        for index in run:
            del self.slots[f"chapter-{index}"]

    def _front_and_back(self, book: Book, starts: dict[str, int], front_pages: int, back_order: int, last_page: int) -> Iterator[Part]:
        front, back = self._front(book, starts, "contents"), self._back_matter(book)
        # Shorter numbers than the placeholders' can save a line, and a page: a blank keeps the numbering.
        padding = front_pages - len(front.pages)
        pages = front.pages + back.pages[:padding]
        cut = -(-len(pages) // FRONT_PIECES) if len(pages) >= FRONT_PIECES * 2 else len(pages)  # A short front in one piece.
        for piece in range(FRONT_PIECES):
            if pages[piece * cut:(piece + 1) * cut]:
                yield Part(piece, self._stamped(front.copy(pages[piece * cut:(piece + 1) * cut])),
                           _key(self.slots["contents"][0], self.slots["back"][0], padding, piece))
        back_pages = self._back_pages(book, last_page)
        yield Part(back_order, self._stamped(back.copy(back_pages)), _key(self.slots["back"][0], len(back_pages)))

    def _cached(self, slot: str, html: str, extra_css: str = "", images: str = "", remake: Callable[[WholeWords], str] | None = None,
                imprint: bool = False):
        """The layout kept in ``slot`` if its HTML, CSS and image bytes are unchanged; else a new one, replacing it."""
        key = (html, extra_css, images)
        if slot not in self.slots or self.slots[slot][0] != key:
            self.slots[slot] = (key, self._render(html, extra_css, remake, imprint))
        return self.slots[slot][1]

    def _front(self, book: Book, starts: dict[str, int], slot: str):
        """Cover and contents, with each chapter's first page number written in."""
        return self._cached(slot, _document(book, [cover_html(book.metadata, book.locale), _contents(book, starts)]), imprint=True)

    def _chapter_document(self, renderer: PdfChapterRenderer, book: Book, index: int, first_note: int):
        """The chapter laid out as if it began on page 1 (see :mod:`samizdat.placement`), its notes numbered from ``first_note``."""
        from .placement import without_margin_boxes

        chapter = book.chapters[index]
        numbering = f"html {{ counter-reset: footnote {first_note - 1}; }}\n"
        images = hashlib.sha256(b"".join(asset.content for asset in book.assets if asset.name in chapter.assets)).hexdigest()
        def html(whole_words: WholeWords | None = None) -> str:
            return _document(book, [_chapter(renderer, chapter, book, whole_words)])

        with without_margin_boxes():
            return self._cached(f"chapter-{index}", html(), numbering, images, remake=html)

    def write(self, document, target: Path, variant: str) -> None:
        with atomic_output(target) as temporary:
            self._write(document, temporary, variant)

    def _write(self, document, path: Path, variant: str) -> None:
        finisher = _right_to_left if self.direction == "rtl" else None
        if variant == "pdf/ua-1":  # WeasyPrint's tags, corrected: see samizdat.pdfua.
            from .pdfua import write_pdfua

            write_pdfua(document, path, finisher)
        else:  # The archive variant keeps the structure tags too (WeasyPrint writes them only when asked).
            document.write_pdf(path, pdf_variant=variant, pdf_identifier=True, finisher=finisher, pdf_tags=variant == "pdf/a-3b")

    def write_book(self, book: Book, target: Path, variant: str, workers: int) -> int:
        """Lay the book out and write it to ``target``; the number of pages.

        A book of one run of chapters (:func:`plan_runs`), or in another variant than the
        default, is written as one document. A longer one is written in parts, merged by
        :mod:`samizdat.parts`: in watch mode from the layouts kept here, each part by a forked
        process while layout goes on; else every run laid out and written by up to ``workers``
        forked processes. The parts do not depend on ``workers``, so neither do the bytes.
        """
        runs = self._runs(book)
        if len(runs) == 1 or variant != "pdf/ua-1":
            document = _joined(list(self.parts(book)))
            self.write(document, target, variant)
            return len(document.pages)
        if self.part_folder is None or not self.part_folder.is_dir():
            self.part_folder = Path(tempfile.mkdtemp(prefix="samizdat-parts-"))
            weakref.finalize(self, shutil.rmtree, self.part_folder, True)
        try:
            furniture = None
            if self.keep_layouts:
                pages, files, furniture = self._write_kept_parts(book, variant, workers)
            else:
                pages, files = self._write_parts_in_parallel(book, runs, variant, workers)
            with atomic_output(target) as temporary:
                from .parts import merge

                merge(files, temporary, furniture, modified=iso_utc(build_time()))
        finally:
            if not self.keep_layouts:
                shutil.rmtree(self.part_folder, ignore_errors=True)
        return pages

    def _write_kept_parts(self, book: Book, variant: str, workers: int) -> tuple[int, list[Path], tuple[Path, tuple[float, ...]]]:
        """Watch mode: the layouts stay here, and a part is written again only if its pages changed: each
        by a forked child as soon as the next one to write is known, the last in this process meanwhile
        (an edit that changes one part forks nothing, and this process keeps what writing loads warm).
        The chapters' runs are drawn without margin boxes, which are drawn apart (``parts(furniture=True)``),
        so an edit that moves later pages draws only their folios and running heads again."""
        from .parts import PartWriter

        writer = PartWriter(lambda document, path: self._write(document, path, variant), workers)
        pages, held, offsets = 0, None, ()
        try:
            for part in self.parts(book, furniture=True):
                if part.order == FURNITURE:
                    offsets = part.offsets
                else:
                    pages += len(part.document.pages)
                written = self.part_folder / f"part-{part.order:04d}-{part.key[:16]}.pdf"
                if written.is_file():  # This part is as it was written last time.
                    writer.files[part.order] = written
                    continue
                if held is not None:
                    writer.submit(*held)
                held = (written, part.order, part.document)
            if held is not None:
                writer.write_here(*held)
            furniture = writer.files[FURNITURE]
            files = [file for file in writer.finish() if file != furniture]
        finally:
            writer.stop()
            for stale in set(self.part_folder.iterdir()) - set(writer.files.values()):
                stale.unlink()
        return pages, files, (furniture, offsets)

    def _write_parts_in_parallel(self, book: Book, runs: list[range], variant: str, workers: int) -> tuple[int, list[Path]]:
        """Every run laid out, placed and written by forked workers (:class:`samizdat.parts.LayoutPool`);
        meanwhile a child counts the front matter's pages, and then this process sets the contents and back matter."""
        from .parts import LayoutPool, PartWriter, computed_in_child, retargeted

        self._serve_images(book)
        renderer = PdfChapterRenderer(book)

        def lay_out(number: int) -> tuple[list, list[int]]:
            layouts = self._lay_out_run(book, renderer, runs[number])
            return layouts, _page_counts(layouts)

        def write(number: int, layouts: list, first_page: int, path: Path) -> None:
            document, _ = self._placed_run(book, runs[number], layouts, first_page)
            self._write(retargeted(document), path, variant)
            self._forget(runs[number])

        gc.collect()  # Before forking: what the workers inherit is shared, not collected there again.
        pool = LayoutPool(lay_out, write, len(runs), workers, self.part_folder)
        ends = PartWriter(lambda document, path: self._write(document, path, variant), 1)  # front and back
        try:
            pool.start()
            pool.first_page = computed_in_child(lambda: self._front_pages(book)) + 1
            pool.lay_out_all()
            starts = {}
            for number, run in enumerate(runs):
                starts.update(_starts(book, run, pool.counts[number], pool.start_of(number)))
            last_page = pool.start_of(len(runs)) - 1
            pool.free_a_core()
            *front, back = self._front_and_back(book, starts, pool.first_page - 1, len(runs) + FRONT_PIECES, last_page)
            for part in front[1:]:  # The contents' later pages, meanwhile, by a child.
                ends.submit(self.part_folder / f"part-{part.order:04d}.pdf", part.order, part.document)
            for part in (front[0], back):
                ends.write_here(self.part_folder / f"part-{part.order:04d}.pdf", part.order, part.document)
            pages = last_page + len(back.document.pages)
            del front, back, self.slots["contents"], self.slots["back"]  # Before the merge, which needs memory of its own.
            gc.collect()
            files = pool.finish()
            *front_files, back_file = ends.finish()
        finally:
            pool.stop()
            ends.stop()
        return pages, [*front_files, *files, back_file]


def plan_runs(book: Book, length: int) -> list[range]:
    """The book's chapters in runs: the parts a long book is laid out and written in. A book of
    more than ``length`` characters (a chapter's opening and its images weighed in) gets at least
    :data:`MIN_RUNS` runs of about equal weight, so that every core has work until near the end,
    and more if they would be longer than ``length``. They depend only on the book."""
    weights = [_weight(chapter) for chapter in book.chapters]
    total = sum(weights)
    if total <= length:
        return [range(len(weights))]
    target = total / max(MIN_RUNS, -(-total // length))
    runs, start, size = [], 0, 0
    for index, weight in enumerate(weights):
        size += weight
        if size >= target * (len(runs) + 1) - weight / 2 and index + 1 < len(weights):
            runs.append(range(start, index + 1))
            start = index + 1
    runs.append(range(start, len(weights)))
    return runs


def plan_stable_runs(book: Book, length: int) -> list[range]:
    """Runs for watch mode, where a run drawn before is kept as long as its chapters are unchanged: a run
    ends after a chapter chosen by its id (about one in :data:`WATCH_RUN_CHAPTERS`), or once it weighs
    ``length``, so an edit that lengthens a chapter moves no cut but maybe its own run's. A book of up
    to ``length`` characters is one run."""
    weights = [_weight(chapter) for chapter in book.chapters]
    if sum(weights) <= length:
        return [range(len(weights))]
    runs, start, size = [], 0, 0
    for index, (chapter, weight) in enumerate(zip(book.chapters, weights)):
        size += weight
        if index + 1 < len(weights) and (hashlib.sha256(chapter.id.encode()).digest()[0] % WATCH_RUN_CHAPTERS == 0 or size >= length):
            runs.append(range(start, index + 1))
            start, size = index + 1, 0
    runs.append(range(start, len(weights)))
    return runs


def _weight(chapter: Chapter) -> int:
    text = sum(len(token.content) for token in chapter.tokens) + sum(len(token.content) for note in chapter.notes for token in note.tokens)
    return text + CHAPTER_OPENING + FIGURE * len(chapter.images)


def _page_counts(layouts: list) -> list[int]:
    return [len(layout.pages) for layout in layouts]


def _chapter_starts(first_page: int, counts: list[int]) -> list[int]:
    """Where each of a row of chapters of ``counts`` pages starts, the first at ``first_page``."""
    starts = []
    for count in counts:
        starts.append(first_page)
        first_page += count
    return starts


def _starts(book: Book, run: range, counts: list[int], first_page: int) -> dict[str, int]:
    """The first page of each chapter of ``run``, by chapter id."""
    return dict(zip((chapter.id for chapter in book.chapters[run.start:run.stop]), _chapter_starts(first_page, counts)))


def _key(*values: object) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()


def _joined(parts: list[Part]):
    """One document of the parts' pages, in book order (the front part's metadata)."""
    parts = sorted(parts, key=lambda part: part.order)
    return Typesetter._stamped(parts[0].document.copy([page for part in parts for page in part.document.pages]))


def _right_to_left(document, pdf) -> None:
    """Viewers show spreads right to left, and ``booklet.py`` imposes for binding on the right."""
    pdf.catalog["ViewerPreferences"]["Direction"] = "/R2L"


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Layout makes millions of small objects that live until the PDF is written: collecting the youngest
    generation every 100,000 allocations instead of 700, with the imported modules frozen out of the
    collector's sight, saves about 5 % of a build's CPU (bench: 50 chapters, 3.3 → 3.1 s)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


MAX_RELAYOUTS = 3  # A fix can move later page breaks; a few rounds settle any book seen so far.
IMPRINT_GAP = 8 * 96 / 25.4  # 8 mm in CSS pixels: the least space between the contents and the imprint under them
HYPHENS = ("-", "\u2010", "\u00ad")
# A word, hyphenated compounds whole: letters, digits and soft hyphens, and the combining marks \w leaves out (a
# Russian stress mark, a decomposed accent, Hebrew points, Arabic vowel signs).
_LETTERS = r"[\w\u00ad\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u064b-\u065f\u0670\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+"
WORD = re.compile(rf"{_LETTERS}(?:[-\u2010]{_LETTERS})*")
WholeWords = Mapping[str, frozenset[str]]  # paragraph name → the words, as _word_key spells them, kept whole in it


def _word_key(word: str) -> str:
    """A word as the text and the laid-out lines both spell it: no soft hyphens, one kind of hyphen."""
    return word.replace("\u00ad", "").replace("\u2010", "-")


def imprint_in_flow(document) -> str:
    """CSS that sets the imprint at the foot of a page of its own, when at the foot of the contents' last page
    (``styles/print.css``) it would lie over their last lines or less than 8 mm under them; else nothing."""
    from weasyprint.formatting_structure import boxes

    for page in document.pages:
        on_page = list(page._page_box.descendants())
        found = [box for box in on_page if box.element_tag == "aside" and box.element is not None and box.element.get("class") == "imprint"]
        if not found:
            continue
        imprint = found[0]
        own = {id(box) for box in imprint.descendants()}
        top = imprint.position_y + imprint.margin_top
        if any(box.position_y + box.height + IMPRINT_GAP > top for box in on_page if isinstance(box, boxes.LineBox) and id(box) not in own):
            space = imprint.position_y - page._page_box.content_box_y() - 1  # the page area above it, less a rounding's worth
            return f".imprint {{ position: static; break-before: page; break-inside: avoid; margin-top: {space:.3f}px; }}\n"
        return ""
    return ""


def hyphenated_page_ends(document) -> list[tuple[str, frozenset[str]]]:
    """The paragraphs (``data-p`` names) whose last line on a page ends in a hyphen, a word split across a page
    turn, each with that word as :func:`_word_key` spells it (whole, and with the hyphen where the text has one;
    empty when the next page does not go on with the paragraph).

    WeasyPrint has no ``hyphenate-limit-last``, so the laid-out pages are read: the last line box of each
    page's body (not its margin boxes or footnote area), and the first of the next page.
    """
    from weasyprint.formatting_structure import boxes

    def line(box, paragraph: str | None, last: bool) -> tuple[object, str | None] | None:
        """The last (or first) line box under ``box`` and the ``data-p`` of the paragraph holding it."""
        if isinstance(box, (boxes.MarginBox, boxes.FootnoteAreaBox)):
            return None
        if box.element is not None and box.element.get("data-p"):
            paragraph = box.element.get("data-p")
        if isinstance(box, boxes.LineBox):
            return box, paragraph
        children = getattr(box, "children", [])
        for child in reversed(children) if last else children:
            if (found := line(child, paragraph, last)) is not None:
                return found
        return None

    def texts(line_box) -> list[str]:
        return [box.text for box in line_box.descendants() if isinstance(box, boxes.TextBox)] if line_box else []

    ends = []
    for number, page in enumerate(document.pages):
        last, paragraph = line(page._page_box, None, last=True) or (None, None)
        text = next(reversed(texts(last)), "").rstrip()
        if not (paragraph and text.endswith(HYPHENS)):
            continue
        following = line(document.pages[number + 1]._page_box, None, last=False) if number + 1 < len(document.pages) else None
        words: frozenset[str] = frozenset()
        if following and following[1] == paragraph and (rest := WORD.match("".join(texts(following[0])).lstrip())):
            head = WORD.findall(text.rstrip("".join(HYPHENS)))  # the split word's first part ends the line
            if head:
                words = frozenset({_word_key(head[-1] + rest[0]), _word_key(head[-1] + "-" + rest[0])})
        ends.append((paragraph, words))
    return ends


def _check_print_resolution(book: Book, setter: Typesetter) -> None:
    """Raster images too coarse for paper: a warning below 300 ppi, and below 150 ppi the build stops (I105, I106)."""
    import sys

    from .printsize import check_print_resolution

    findings = Findings(ignored=book.metadata.ignored_rules)
    check_print_resolution(book, setter, findings)
    findings.raise_if_errors()
    for finding in findings.warnings:
        print(finding, file=sys.stderr)  # Shown even with --quiet, like every warning.


class PreflightFailed(Exception):
    """A press PDF was written but fails the preflight: the print shop would refuse it."""


def _finish_press(target: Path, profile: Path, report: Report) -> None:
    """Convert to the output intent and draw marks outside the bleed, then preflight; errors stop the task."""
    import sys

    from .preflight import preflight_report
    from .press import finish_press_pdf

    started = time.perf_counter()
    finish_press_pdf(target, profile)
    lines, status = preflight_report(target)
    for line in lines:
        print(line, file=sys.stderr)  # Shown even with --quiet: the print shop would see them.
    report(f"press   CMYK, crop marks, preflight {'failed' if status else 'clean'}  [{time.perf_counter() - started:.2f}s]")
    if status:
        raise PreflightFailed(f"{target}: error: the press PDF fails the preflight (lines above)")


def _check_pdfua(target: Path) -> str:
    """Our PDF/UA check of what was written: findings are printed (a bug in samizdat, not in the manuscript)."""
    import sys

    from .pdfua import check

    findings = check(target)
    for finding in findings:
        print(finding, file=sys.stderr)
    return f"PDF/UA check {'clean' if not findings else f'{len(findings)} findings'}"


@dataclass(frozen=True)
class PdfOptions:
    press: bool = False
    variant: str | None = None

    @property
    def pdf_variant(self) -> str:
        return self.variant or ("pdf/x-4" if self.press else "pdf/ua-1")

    def __post_init__(self) -> None:
        if self.variant == "pdf/x-4" and not self.press:
            raise ValueError("--variant pdf/x-4 is what --press makes (bleed, crop marks, a CMYK output intent): use invoke pdf --press")
        if self.variant not in (None, *VARIANTS) or (self.press and self.variant not in (None, "pdf/x-4")):
            allowed = "pdf/x-4 (with --press)" if self.press else ", ".join(VARIANTS)
            raise ValueError(f"--variant must be {allowed}, not {self.variant!r}")

    def file_name(self, slug: str) -> str:
        suffix = "-press" if self.press else {"pdf/a-3b": "-pdfa"}.get(self.pdf_variant, "")
        return f"{slug}{suffix}.pdf"


def render(book: Book, styles: Path, dist: Path, report: Report, state: dict, *, press: bool = False, variant: str | None = None,
           workers: int | None = None) -> list[Path]:
    """Lay out the book and write it atomically, reporting each stage.

    ``state`` is kept between builds by watch mode: there the typesetter and its
    chapter layouts are kept, and only what changed is laid out again.
    """
    options = PdfOptions(press, variant)
    with fewer_collections():
        return _render(book, styles, dist, report, state, options, workers or len(os.sched_getaffinity(0)))


def _render(book: Book, styles: Path, dist: Path, report: Report, state: dict, options: PdfOptions, workers: int) -> list[Path]:
    target = dist / options.file_name(book.metadata.slug)
    started = time.perf_counter()
    key = (book.metadata.page_size, options.press, folder_digest(styles))
    if state.get("typesetter_key") != key:
        state["typesetter_key"], state["typesetter"] = key, Typesetter(book, styles, options.press)
    setter = state["typesetter"]
    # Watch mode keeps the layouts and the PDF in small parts, so that after an edit only the
    # parts holding changed chapters are written again.
    setter.keep_layouts = state.get("watching", False)
    setter.run_length = WATCH_RUN_LENGTH if setter.keep_layouts else RUN_LENGTH
    _check_print_resolution(book, setter)
    pages = setter.write_book(book, target, options.pdf_variant, workers)
    report(f"typeset {pages} pages, {options.pdf_variant}  [{time.perf_counter() - started:.2f}s]")
    started = time.perf_counter()
    checked = _check_pdfua(target) if options.pdf_variant == "pdf/ua-1" else ""
    if checked:
        report(f"check   {checked}  [{time.perf_counter() - started:.2f}s]")
    if options.press:
        _finish_press(target, styles / PRESS_PROFILE, report)
    return [target]
