"""The build tasks: each parses its options and calls the samizdat package.

Run ``invoke --list`` for the tasks and ``invoke --help TASK`` for a task's options.
"""

from __future__ import annotations

import gc
import os
import signal
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from invoke import Collection, Exit, task

from samizdat import pipeline
from samizdat.errors import BadSetting, ManuscriptError
from samizdat.renderers import REGISTRY
from samizdat.rules import catalogue_text

T = TypeVar("T")

COMMON_HELP = {
    "manuscript": "The manuscript folder (default: manuscript/).",
    "dist": "Where outputs are written (default: dist/).",
    "styles": "The stylesheets folder (default: styles/).",
    "quiet": "Print nothing but warnings and errors.",
}


def _run(build: Callable[[], T], *, reported: tuple[type[Exception], ...] = (), stopped: str = "") -> T:
    """Turn a manuscript problem (or one of ``reported``) into one line per finding on stderr and exit status 1, with no traceback.

    A file system problem (a read-only or full ``dist/``) is one line too. A bug in
    samizdat is one line asking for a report; ``SAMIZDAT_DEBUG=1`` shows its traceback.
    SIGTERM is turned into an interruption so that half-written temporary files are
    cleaned up on the way out; for a task that runs until stopped (watch), an interruption
    is the ``stopped`` line and exit status 0.

    The process ends after this one build, so what it has imported (tens of thousands
    of objects that live until the end) is frozen out of the garbage collector's
    sight: neither the build's collections nor the interpreter's at exit walk it
    again (a tenth of an EPUB build's time). Only cycles already unreachable now
    would outlive their use, until the process ends.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    gc.freeze()
    try:
        return build()
    except (ManuscriptError, *reported) as error:
        raise Exit(f"{error}", code=1) from None
    except BadSetting as error:
        raise Exit(f"{error}", code=2) from None
    except KeyboardInterrupt as error:
        if stopped:
            raise Exit(stopped, code=0) from None
        raise Exit(f"interrupted: {_outputs_left(error)}", code=130) from None
    except OSError as error:
        where = error.filename or "?"
        raise Exit(f"{where}: error: {error.strerror or error}; {_outputs_left(error)}", code=1) from None
    except Exception as error:  # noqa: BLE001 - the task boundary: one line, never a traceback
        if os.environ.get("SAMIZDAT_DEBUG"):
            traceback.print_exc()
        raise Exit(f"error: samizdat failed unexpectedly ({type(error).__name__}: {error}); this is a bug in samizdat: "
                   "please report it with the manuscript (SAMIZDAT_DEBUG=1 shows the traceback)", code=2) from None


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _outputs_left(error: BaseException) -> str:
    """What a stopped build left in dist/: a build of every output notes which outputs it had already replaced
    (see ``pipeline.build_all``); any other build writes one output, atomically."""
    return "; ".join(getattr(error, "__notes__", ())) or "the previous outputs in dist/ are untouched"


def _reporter(quiet: bool) -> pipeline.Report:
    return pipeline.quiet if quiet else pipeline.to_stderr


@task(help={"manuscript": COMMON_HELP["manuscript"], "styles": COMMON_HELP["styles"],
            "rules": "List every rule of the catalogue (code, level, summary) and stop."})
def check(c, manuscript="manuscript", styles="styles", rules=False):
    """Check the manuscript without building: one line per finding; exit 1 on any error."""
    if rules:
        print(catalogue_text())
        return
    for line in _run(lambda: pipeline.check(Path(manuscript), Path(styles))):
        print(line)


@task(help={**COMMON_HELP,
            "press": "For a print shop: PDF/X-4 with 3 mm bleed, crop marks and a CMYK output intent (<slug>-press.pdf).",
            "variant": "pdf/ua-1 (default, tagged) or pdf/a-3b (archives, <slug>-pdfa.pdf)."})
def pdf(c, manuscript="manuscript", dist="dist", styles="styles", press=False, variant=None, quiet=False):
    """Build <dist>/<slug>.pdf, the pamphlet, from the manuscript."""
    from samizdat.pdf import PdfOptions, PreflightFailed  # Here, not above: the other tasks need none of the PDF code.

    try:
        PdfOptions(press, variant)
    except ValueError as error:
        raise Exit(str(error), code=2) from None
    _run(lambda: pipeline.build("pdf", Path(manuscript), Path(dist), Path(styles), press=press, variant=variant, report=_reporter(quiet)),
         reported=(PreflightFailed,))


@task(help=COMMON_HELP)
def epub(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build <dist>/<slug>.epub, the e-book, from the manuscript."""
    _run(lambda: pipeline.build("epub", Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help={**COMMON_HELP, "single": "The whole book in one self-contained file, <slug>.html, instead of the site <slug>-web/."})
def html(c, manuscript="manuscript", dist="dist", styles="styles", single=False, quiet=False):
    """Build <dist>/<slug>-web/, the web edition (index.html and a page per chapter), or with --single <dist>/<slug>.html."""
    _run(lambda: pipeline.build("html", Path(manuscript), Path(dist), Path(styles), single=single, report=_reporter(quiet)))


@task(help=COMMON_HELP)
def build(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build every output at the same time; does nothing when nothing changed."""
    _run(lambda: pipeline.build_all(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help={**COMMON_HELP, "sheet": "Paper to impose on: a4 (default) or letter; pages are scaled to fit when sizes differ."},
      auto_shortflags=False)
def booklet(c, manuscript="manuscript", dist="dist", styles="styles", sheet="a4", quiet=False):
    """Build <dist>/<slug>-booklet.pdf (-booklet-letter.pdf on letter): pages imposed two-up for folding and stapling."""
    from samizdat.booklet import SHEETS

    sheet = sheet.lower()
    if sheet not in SHEETS:
        raise Exit(f"--sheet must be {' or '.join(SHEETS)}, not {sheet!r}", code=2)
    _run(lambda: pipeline.build_booklet(Path(manuscript), Path(dist), Path(styles), sheet=sheet, report=_reporter(quiet)))


@task(help={"file": "The PDF to check, e.g. dist/<slug>-press.pdf."})
def preflight(c, file):
    """Check a press PDF against PDF/X-4 and press practice: one line per problem; exit 1 on any error."""
    from samizdat.preflight import preflight_report

    lines, status = preflight_report(Path(file))
    for line in lines:
        print(line)
    if status:
        raise Exit(code=status)


@task(help=COMMON_HELP)
def proof(c, manuscript="manuscript", dist="dist", styles="styles", quiet=False):
    """Build <dist>/<slug>-proof.png: every page as a thumbnail, for a look before printing."""
    _run(lambda: pipeline.build_proof(Path(manuscript), Path(dist), Path(styles), report=_reporter(quiet)))


@task(help={**COMMON_HELP, "formats": f"Comma-separated outputs to rebuild: {', '.join(REGISTRY)} (default: all)."})
def watch(c, manuscript="manuscript", dist="dist", styles="styles", formats=",".join(REGISTRY), quiet=False):
    """Rebuild on every save, printing what changed, how long it took and any findings."""
    chosen = [name.strip() for name in formats.split(",") if name.strip()]
    unknown = set(chosen) - set(REGISTRY)
    if unknown or not chosen:
        raise Exit(f"--formats takes {', '.join(REGISTRY)}, not {formats!r}", code=2)
    _run(lambda: pipeline.watch(Path(manuscript), Path(dist), Path(styles), chosen, report=_reporter(quiet)), stopped="watch   stopped")


@task(help={"args": "Extra pytest arguments, e.g. \"-k epub -x\"."})
def test(c, args=""):
    """Run the test suite on every core: installs the Node packages DAISY Ace needs, checks the system tools, then runs pytest."""
    import shlex
    import subprocess
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "tests"))
    from environment import install_node_packages, missing_system_tools

    missing = missing_system_tools()
    if missing:
        raise Exit(f"missing system packages: {' '.join(missing)}; install them with: sudo apt-get install {' '.join(missing)}", code=1)
    install_node_packages()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "auto", *shlex.split(args)], cwd=Path(__file__).parent)
    if result.returncode:
        raise Exit(code=result.returncode)


ns = Collection(check, build, pdf, epub, html, booklet, preflight, proof, watch, test)
