"""The build tasks: each parses its options and calls the samizdat package.

Run ``invoke --list`` for the tasks and ``invoke --help TASK`` for a task's options.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from invoke import Collection, Exit, task

from samizdat import pipeline
from samizdat.booklet import SHEETS
from samizdat.errors import ManuscriptError
from samizdat.pdf import VARIANTS

T = TypeVar("T")

COMMON_HELP = {
    "manuscript": "The manuscript folder (default: manuscript/).",
    "dist": "Where outputs are written (default: dist/).",
    "styles": "The stylesheets folder (default: styles/).",
    "quiet": "Print nothing but warnings and errors.",
}


def _run(build: Callable[[], T]) -> T:
    """Turn a manuscript problem into one line per error on stderr and exit status 1, with no traceback.

    A bug in samizdat itself still shows its traceback. SIGTERM is turned into an
    interruption so that half-written temporary files are cleaned up on the way out.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return build()
    except ManuscriptError as error:
        raise Exit(f"{error}", code=1) from None
    except KeyboardInterrupt:
        raise Exit("interrupted: the previous outputs in dist/ are untouched", code=130) from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _reporter(quiet: bool) -> pipeline.Report:
    return pipeline.quiet if quiet else pipeline.to_stderr


@task(help={"manuscript": COMMON_HELP["manuscript"]})
def check(c, manuscript="manuscript"):
    """Check the manuscript without building: one line per finding; exit 1 on any error."""
    for line in _run(lambda: pipeline.check(Path(manuscript))):
        print(line)


@task(help={**COMMON_HELP,
            "press": "For a print shop: 3 mm bleed, crop marks, PDF/X-4.",
            "variant": "PDF variant: pdf/ua-1 (default, tagged), pdf/a-3b (archives) or pdf/x-4."})
def pdf(c, manuscript="manuscript", dist="dist", styles="styles", press=False, variant=None, quiet=False):
    """Build <dist>/<slug>.pdf, the pamphlet, from the manuscript."""
    chosen = variant or ("pdf/x-4" if press else "pdf/ua-1")
    if chosen not in VARIANTS:
        raise Exit(f"--variant must be one of {', '.join(VARIANTS)}, not {chosen!r}", code=2)
    _run(lambda: pipeline.build_pdf(Path(manuscript), Path(dist), Path(styles), variant=chosen, press=press, report=_reporter(quiet)))


@task(help=COMMON_HELP)
def epub(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build <dist>/<slug>.epub, the e-book, from the manuscript."""
    _run(lambda: pipeline.build_epub(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help=COMMON_HELP)
def build(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build the PDF and the EPUB at the same time; does nothing when nothing changed."""
    _run(lambda: pipeline.build_all(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help={**COMMON_HELP, "sheet": "Paper to impose on: a4 (default) or letter; pages are scaled to fit when sizes differ."})
def booklet(c, manuscript="manuscript", dist="dist", styles="styles", sheet="a4", quiet=False):
    """Build <dist>/<slug>-booklet.pdf: pages imposed two-up for printing, folding and stapling."""
    if sheet not in SHEETS:
        raise Exit(f"--sheet must be {' or '.join(SHEETS)}, not {sheet!r}", code=2)
    _run(lambda: pipeline.build_booklet(Path(manuscript), Path(dist), Path(styles), sheet=sheet, report=_reporter(quiet)))


@task(help=COMMON_HELP)
def proof(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build <dist>/<slug>-proof.png: every page as a thumbnail, for a look before printing."""
    _run(lambda: pipeline.build_proof(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help={**COMMON_HELP, "formats": "Comma-separated outputs to rebuild: pdf, epub (default: pdf,epub)."})
def watch(c, manuscript="manuscript", dist="dist", styles="styles", formats="pdf,epub", quiet=False):
    """Rebuild on every save, printing what changed, how long it took and any findings."""
    chosen = [name.strip() for name in formats.split(",") if name.strip()]
    unknown = set(chosen) - set(pipeline.BUILDERS)
    if unknown or not chosen:
        raise Exit(f"--formats takes {', '.join(pipeline.BUILDERS)}, not {formats!r}", code=2)
    try:
        pipeline.watch(Path(manuscript), Path(dist), Path(styles), chosen, report=_reporter(quiet))
    except KeyboardInterrupt:
        raise Exit("watch   stopped", code=0) from None


ns = Collection(check, build, pdf, epub, booklet, proof, watch)
