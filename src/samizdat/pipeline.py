"""What the tasks call: load the book once, run one renderer, report what happened."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .book import Book, load_book
from .dates import build_time
from .errors import Findings, ManuscriptError
from .fingerprint import code_fingerprint, folder_digest
from .output import atomic_output, check_dist, remove_stale_parts
from .renderers import REGISTRY, Report, renderer
from .typesetlog import typesetter_findings
from .watchdog import layout_limit

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


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


def check_settings() -> None:
    """The settings of the machine (``SOURCE_DATE_EPOCH``, ``SAMIZDAT_LAYOUT_TIMEOUT``), read before any work:
    a wrong one is one line (:class:`samizdat.errors.BadSetting`), not an error deep in a worker."""
    build_time()
    layout_limit()


def load(manuscript: Path, styles: Path, report: Report, warn: Report = to_stderr) -> Book:
    """Parse and check the manuscript; warnings reach the user whatever the verbosity (``warn``)."""
    clock = Stopwatch()
    book = load_book(manuscript, styles)
    for warning in book.warnings:
        warn(str(warning))
    report(f"parse   {len(book.chapters)} chapters, {len(book.assets)} assets  [{clock}]")
    return book


def check(manuscript: Path, styles: Path) -> list[str]:
    """Every finding about the manuscript, one line each, without building anything.

    Raises :class:`ManuscriptError` (carrying the errors) when there is any error.
    """
    from .printsize import check_print_resolution

    book = load_book(manuscript, styles)
    printing = Findings(ignored=book.metadata.ignored_rules)
    check_print_resolution(book, styles, printing)
    printing.items[:0] = book.warnings
    printing.raise_if_errors()
    return [str(finding) for finding in printing.items]


def build(name: str, manuscript: Path, dist: Path, styles: Path, *, report: Report = to_stderr, warn: Report = to_stderr,
          state: dict | None = None, render_warn: Report | None = None, **options) -> list[Path]:
    """Check the manuscript, then make the output called ``name`` (see :mod:`samizdat.renderers`).

    ``options`` are the renderer's own keyword arguments (the PDF's ``press`` and ``variant``).
    What the typesetter says while rendering goes to ``render_warn`` (default: ``warn``).
    """
    clock = Stopwatch()
    check_settings()
    check_dist(dist, manuscript, styles)
    remove_stale_parts(dist)
    book = load(manuscript, styles, report, warn)
    with typesetter_findings(book, styles) as found:
        paths = renderer(name)(book, styles, dist, report, state if state is not None else {}, **options)
    for finding in found:
        (render_warn or warn)(str(finding))
    report(f"{name:<7} {', '.join(str(path) for path in paths)}  [{clock}]")
    return paths


def build_booklet(manuscript: Path, dist: Path, styles: Path, *, sheet: str = "a4", report: Report = to_stderr) -> Path:
    """The pamphlet PDF, then its pages imposed for saddle stitching."""
    from .booklet import impose

    [pamphlet] = build("pdf", manuscript, dist, styles, report=report)
    clock = Stopwatch()
    target = pamphlet.with_name(f"{pamphlet.stem}-booklet{'' if sheet == 'a4' else '-' + sheet}.pdf")
    result = impose(pamphlet, target, sheet)
    report(f"booklet {result.sheets} sheets ({result.pages} pages + {result.blanks} blank) on {sheet.upper()}, scale {result.scale:.3f} → {target}  [{clock}]")
    return target


def build_proof(manuscript: Path, dist: Path, styles: Path, *, report: Report = to_stderr) -> Path:
    """The pamphlet PDF, then a contact sheet of its pages."""
    from .proof import contact_sheet

    [pamphlet] = build("pdf", manuscript, dist, styles, report=report)
    clock = Stopwatch()
    target = pamphlet.with_name(f"{pamphlet.stem}-proof.png")
    result = contact_sheet(pamphlet, target)
    report(f"proof   {result.pages} thumbnails → {target}  [{clock}]")
    return target


STAMP = ".samizdat-build.json"
INTERRUPTIONS = {signal.SIGINT, signal.SIGTERM}


def build_all(manuscript: Path, dist: Path, styles: Path, *, report: Report = to_stderr) -> list[Path]:
    """Every registered output, each in its own process; nothing at all when nothing changed.

    The up-to-date check reads file bytes, samizdat's code fingerprint and a stamp in
    ``dist/`` and never imports WeasyPrint, so an unchanged book returns at once.
    When the build fails or is interrupted, outputs that another worker had already
    finished are new while the rest are as they were: the error then carries a note
    naming the new ones (``build_tasks`` prints it), since "untouched" would be untrue.
    """
    clock = Stopwatch()
    check_settings()
    check_dist(dist, manuscript, styles)
    remove_stale_parts(dist)
    stamp_path = dist / STAMP
    inputs = _inputs_fingerprint(manuscript, styles)
    if (known := _read_stamp(stamp_path)) and known.get("inputs") == inputs and known.get("outputs") == _outputs_state(dist, known["outputs"]):
        report(f"build   up to date: {', '.join(sorted(known['outputs']))}  [{clock}]")
        return [dist / name for name in sorted(known["outputs"])]
    load(manuscript, styles, report)  # Check first, once, before starting the workers.
    before = _visible_entries(dist)
    try:
        outputs = _build_in_workers(list(REGISTRY), manuscript, dist, styles)
    except BaseException as error:
        if replaced := [dist / name for name, entry in _visible_entries(dist).items() if before.get(name) != entry]:
            error.add_note(f"{', '.join(map(str, sorted(replaced)))} already replaced by this build; the other outputs in {dist} are as they were")
        raise
    state = _outputs_state(dist, {path.name: None for path in outputs})
    with atomic_output(stamp_path) as temporary:
        temporary.write_text(json.dumps({"inputs": inputs, "outputs": state}, indent=1))
    report(f"build   {', '.join(str(path) for path in outputs)}  [{clock}]")
    return outputs


def _build_in_workers(names: list[str], manuscript: Path, dist: Path, styles: Path) -> list[Path]:
    """Build each output in a process of its own, all at once; their paths in the order of ``names``.

    The first failure, Ctrl-C or SIGTERM stops the workers still at work at once, so
    that nothing is written after the build has said it stopped. They are killed
    (SIGKILL): they write only through :func:`samizdat.output.atomic_output`, and the
    temporary files of a dead process are removed right after.
    """
    import multiprocessing  # Here: a build of one output starts no process.
    from multiprocessing.connection import wait

    context = multiprocessing.get_context()
    workers: dict[Connection, tuple[str, multiprocessing.process.BaseProcess]] = {}
    results: dict[str, list[Path]] = {}
    try:
        with _interruptions_held():  # A worker must not be interrupted before it has chosen how to take interruptions.
            for name in names:
                receiving, sending = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(sending, name, manuscript, dist, styles), name=f"samizdat-{name}")
                process.start()
                sending.close()
                workers[receiving] = (name, process)
        while len(results) < len(names):
            pending = [connection for connection, (name, _) in workers.items() if name not in results]
            for connection in wait(pending):
                name, process = workers[connection]
                try:
                    paths, error, remote = connection.recv()
                except EOFError:
                    process.join()
                    raise RuntimeError(f"the {name} worker ended (exit status {process.exitcode}) without a result") from None
                if error is not None:
                    raise error from _RemoteTraceback(remote)
                results[name] = paths
    finally:
        for name, process in workers.values():
            if name not in results:
                process.kill()
            process.join()
        remove_stale_parts(dist)
    return [path for name in names for path in results[name]]


def _worker(connection: Connection, name: str, manuscript: Path, dist: Path, styles: Path) -> None:
    """One output, built in a worker process; sends back ``(paths, None, "")`` or ``(None, error, its traceback)``.

    Ctrl-C reaches every process of the terminal's group: the parent alone answers
    it (by stopping the workers). The worker stays silent but for what the
    typesetter says: the check in the parent has already printed any warnings once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, INTERRUPTIONS)
    try:
        outcome = (build(name, manuscript, dist, styles, report=quiet, warn=quiet, render_warn=to_stderr), None, "")
    except Exception as error:  # noqa: BLE001 - every failure goes to the parent, which reports it
        outcome = (None, error, traceback.format_exc())
    try:
        connection.send(outcome)
    except Exception as error:  # noqa: BLE001 - an error that cannot be pickled is sent as its text
        connection.send((None, RuntimeError(f"{type(outcome[1]).__name__}: {outcome[1]}"), f"{outcome[2]}\n{error}"))


@contextmanager
def _interruptions_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait (they are not lost) while processes start: a worker begins with them held too."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTIONS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


class _RemoteTraceback(Exception):
    """A worker's traceback, shown as the cause of its error when ``SAMIZDAT_DEBUG=1`` prints the traceback."""

    def __str__(self) -> str:
        return str(self.args[0])


def _visible_entries(dist: Path) -> dict[str, tuple[int, int]]:
    """Identity of each output in ``dist`` (hidden stamps, caches and temporary files aside): a replaced file or folder is a new one."""
    entries = [entry for entry in (dist.iterdir() if dist.is_dir() else ()) if not entry.name.startswith(".")]
    return {entry.name: (status.st_ino, status.st_mtime_ns) for entry in entries for status in [entry.lstat()]}


def _inputs_fingerprint(manuscript: Path, styles: Path) -> str:
    digest = hashlib.sha256(f"{code_fingerprint()}|{os.environ.get('SOURCE_DATE_EPOCH', '')}".encode())
    for folder in (manuscript, styles):
        digest.update(folder_digest(folder).encode())
    return digest.hexdigest()


def _outputs_state(dist: Path, names: dict) -> dict[str, list[int] | None]:
    """Size and modification time of each output (a file, or a folder such as the web edition's), so a deleted or replaced output is rebuilt."""
    state = {}
    for name in names:
        path = dist / name
        state[name] = [path.stat().st_size, path.stat().st_mtime_ns] if path.exists() else None
    return state


def _read_stamp(path: Path) -> dict | None:
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and isinstance(stamp.get("outputs"), dict) else None


def watch(manuscript: Path, dist: Path, styles: Path, formats: list[str], *, report: Report = to_stderr) -> None:
    """Build, then rebuild on every save in the manuscript or styles folder until interrupted.

    A manuscript problem is printed and watching goes on; the last good outputs stay in place.
    """
    from watchfiles import watch as watch_files

    check_settings()  # What no edit of the manuscript can fix stops the watch at once, in one line.
    check_dist(dist, manuscript, styles)
    states: dict[str, dict] = {name: {"watching": True} for name in formats}  # What each renderer keeps between rebuilds.

    def rebuild() -> None:
        clock = Stopwatch()
        try:
            for index, name in enumerate(formats):
                warn = to_stderr if index == 0 else quiet  # Each warning once per rebuild.
                build(name, manuscript, dist, styles, report=report, warn=warn, state=states[name])
        except ManuscriptError as error:
            to_stderr(str(error))
            to_stderr(f"watch   build failed; fix and save to try again  [{clock}]")
        else:
            to_stderr(f"watch   rebuilt {', '.join(formats)}  [{clock}]")

    # The watcher starts first (its first, empty, yield says it is running), so that no
    # save made during the first build, or right after "watching" is printed, is missed.
    changes_seen = watch_files(manuscript, styles, debounce=300, step=50, rust_timeout=200, yield_on_timeout=True)
    next(changes_seen)
    rebuild()
    to_stderr(f"watch   watching {manuscript} and {styles}; Ctrl-C stops")
    for changes in changes_seen:
        if not changes:
            continue
        changed = sorted({Path(path).name for _, path in changes if Path(path).suffix})  # not editors' temp files
        to_stderr(f"watch   changed: {', '.join(changed)}")
        rebuild()
