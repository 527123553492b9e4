"""What the tasks call: load the book once, run one renderer, report what happened."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .book import Book, load_book
from .errors import ManuscriptError

Report = Callable[[str], None]


def quiet(_: str) -> None:
    """A reporter that says nothing."""


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Stopwatch:
    """Elapsed seconds since the build began, for progress lines."""

    start: float = 0.0

    def __post_init__(self) -> None:
        self.start = time.perf_counter()

    def __str__(self) -> str:
        return f"{time.perf_counter() - self.start:.2f}s"


def load(manuscript: Path, report: Report) -> Book:
    """Parse and check the manuscript; warnings always reach the user, whatever the verbosity."""
    clock = Stopwatch()
    book = load_book(manuscript)
    for warning in book.warnings:
        to_stderr(str(warning))
    report(f"parse   {len(book.chapters)} chapters, {len(book.assets)} assets  [{clock}]")
    return book


def check(manuscript: Path) -> list[str]:
    """Every finding about the manuscript, one line each, without building anything.

    Raises :class:`ManuscriptError` (carrying the errors) when there is any error.
    """
    return [str(warning) for warning in load_book(manuscript).warnings]


def build_pdf(manuscript: Path, dist: Path, styles: Path, *, variant: str = "pdf/ua-1", press: bool = False, report: Report = to_stderr) -> Path:
    from .pdf import render_pdf

    clock = Stopwatch()
    book = load(manuscript, report)
    target = dist / f"{book.metadata.slug}{'-press' if press else ''}.pdf"
    result = render_pdf(book, styles, target, variant=variant, press=press, report=report)
    report(f"pdf     {result.pages} pages → {target}  [{clock}]")
    return target


def build_booklet(manuscript: Path, dist: Path, styles: Path, *, sheet: str = "a4", report: Report = to_stderr) -> Path:
    """The pamphlet PDF, then its pages imposed for saddle stitching."""
    from .booklet import impose

    pamphlet = build_pdf(manuscript, dist, styles, report=report)
    clock = Stopwatch()
    target = pamphlet.with_name(f"{pamphlet.stem}-booklet.pdf")
    result = impose(pamphlet, target, sheet)
    report(f"booklet {result.sheets} sheets ({result.pages} pages + {result.blanks} blank) on {sheet.upper()}, scale {result.scale:.3f} → {target}  [{clock}]")
    return target


def build_proof(manuscript: Path, dist: Path, styles: Path, *, report: Report = to_stderr) -> Path:
    """The pamphlet PDF, then a contact sheet of its pages."""
    from .proof import contact_sheet

    pamphlet = build_pdf(manuscript, dist, styles, report=report)
    clock = Stopwatch()
    target = pamphlet.with_name(f"{pamphlet.stem}-proof.png")
    result = contact_sheet(pamphlet, target)
    report(f"proof   {result.pages} thumbnails → {target}  [{clock}]")
    return target


def build_epub(manuscript: Path, dist: Path, styles: Path, *, report: Report = to_stderr) -> Path:
    from .epub import render_epub

    clock = Stopwatch()
    book = load(manuscript, report)
    target = dist / f"{book.metadata.slug}.epub"
    result = render_epub(book, styles, target)
    report(f"epub    {result.documents} documents → {target}  [{clock}]")
    return target


BUILDERS = {"pdf": build_pdf, "epub": build_epub}


def watch(manuscript: Path, dist: Path, styles: Path, formats: list[str], *, report: Report = to_stderr) -> None:
    """Build, then rebuild on every save in the manuscript or styles folder until interrupted.

    A manuscript problem is printed and watching goes on; the last good outputs stay in place.
    """
    from watchfiles import watch as watch_files

    def rebuild() -> None:
        clock = Stopwatch()
        try:
            for name in formats:
                BUILDERS[name](manuscript, dist, styles, report=report)
        except ManuscriptError as error:
            to_stderr(str(error))
            to_stderr(f"watch   build failed; fix and save to try again  [{clock}]")
        else:
            to_stderr(f"watch   rebuilt {', '.join(formats)}  [{clock}]")

    # The watcher starts first (its first, empty, yield says it is running), so that no
    # save made during the first build, or right after "watching" is printed, is missed.
    changes_seen = watch_files(manuscript, styles, debounce=300, step=100, rust_timeout=200, yield_on_timeout=True)
    next(changes_seen)
    rebuild()
    to_stderr(f"watch   watching {manuscript} and {styles}; Ctrl-C stops")
    for changes in changes_seen:
        if not changes:
            continue
        changed = sorted({Path(path).name for _, path in changes})
        to_stderr(f"watch   changed: {', '.join(changed)}")
        rebuild()
