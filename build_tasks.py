"""The build tasks: each parses its options and calls the samizdat package.

Run ``invoke --list`` for the tasks and ``invoke --help TASK`` for a task's options.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from invoke import Collection, Exit, task

from samizdat import pipeline
from samizdat.errors import ManuscriptError

T = TypeVar("T")

COMMON_HELP = {
    "manuscript": "The manuscript folder (default: manuscript/).",
    "dist": "Where outputs are written (default: dist/).",
    "styles": "The stylesheets folder (default: styles/).",
    "quiet": "Print nothing but warnings and errors.",
}


def _run(build: Callable[[], T]) -> T:
    """Turn a manuscript problem into one line on stderr and exit status 1, with no traceback."""
    try:
        return build()
    except ManuscriptError as error:
        raise Exit(f"{error}", code=1) from None


def _reporter(quiet: bool) -> pipeline.Report:
    return pipeline.quiet if quiet else pipeline.to_stderr


@task(help={**COMMON_HELP,
            "press": "For a print shop: 3 mm bleed, crop marks, PDF/X-4.",
            "variant": "PDF variant: pdf/ua-1 (default, tagged), pdf/a-3b (archives) or pdf/x-4."})
def pdf(c, manuscript="manuscript", dist="dist", styles="styles", press=False, variant=None, quiet=False):
    """Build <dist>/<slug>.pdf, the pamphlet, from the manuscript."""
    chosen = variant or ("pdf/x-4" if press else "pdf/ua-1")
    _run(lambda: pipeline.build_pdf(Path(manuscript), Path(dist), Path(styles), variant=chosen, press=press, report=_reporter(quiet)))


@task(help=COMMON_HELP)
def epub(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build <dist>/<slug>.epub, the e-book, from the manuscript."""
    _run(lambda: pipeline.build_epub(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


ns = Collection(pdf, epub)
