"""Shared fixtures and helpers: the real manuscript built once per run through the real CLI, and builds
in-process (``build``, ``refusal``) for the many tests that are about what a build makes or refuses, not about the CLI."""

from __future__ import annotations

import fcntl
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

# A shell without job control starts a background command (`.ci/run &`) with Ctrl-C ignored, and
# every process the tests start would inherit that: the tests that press Ctrl-C need it back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPT = ROOT / "manuscript"
STYLES = ROOT / "styles"
INVOKE = [sys.executable, "-m", "invoke"]
EPOCH = "1764000000"  # SOURCE_DATE_EPOCH for the builds that must be reproducible


# Modules that use what a test process starts once and keeps, run by one worker with -n: EPUBCheck's JVM
# (environment.epubcheck) takes seconds of processor time to start and warm up.
SAME_WORKER = {"test_epub.py": "epubcheck", "test_features.py": "epubcheck", "test_languages.py": "epubcheck"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fuzz batch first, then the modules marked long: with -n they run beside the rest, not after it."""
    items.sort(key=lambda item: (item.get_closest_marker("fuzz") is None, item.get_closest_marker("long") is None))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadfile`` (pyproject), with the modules of :data:`SAME_WORKER` as one unit: a module at a time on
    whichever worker is free, in the order collected, but those on the same worker."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return SAME_WORKER.get(Path(module).name, module)

    return Scheduling(config, log)


def run_task_afresh(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run an Invoke task from the repository root, as a user would, in a new interpreter."""
    return subprocess.run([*INVOKE, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def run_task(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run an Invoke task as a user would: Invoke's own program with these arguments, in a child process with its
    own working folder, environment, standard output and error, and exit status.

    The child is forked from this test process, where samizdat and WeasyPrint are imported already: a new
    interpreter would spend most of a second importing them. What only a new interpreter shows (what a task
    imports, signals to a process group, a build's bytes in another process's hash seed) is tested with
    :func:`run_task_afresh` or ``subprocess`` itself.
    """
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.dup2(out_write, 1)
            os.dup2(err_write, 2)
            for fd in (out_read, out_write, err_read, err_write):
                os.close(fd)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # not pytest's capture
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
            os.chdir(cwd)
            if env is not None:
                os.environ.clear()
                os.environ.update(env)
            from invoke.main import program

            program.run(["invoke", *args])
            code = 0
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else (print(exit.code, file=sys.stderr) or 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(out_write)
    os.close(err_write)
    output = {out_read: bytearray(), err_read: bytearray()}
    with selectors.DefaultSelector() as selector:
        for fd in output:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select(timeout=600) or pytest.fail(f"invoke {' '.join(args)} said nothing for 10 minutes"):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    output[key.fd] += chunk
                else:
                    selector.unregister(key.fd)
                    os.close(key.fd)
    _, status = os.waitpid(pid, 0)
    return subprocess.CompletedProcess(["invoke", *args], os.waitstatus_to_exitcode(status), output[out_read].decode(), output[err_read].decode())


def book_yaml(manuscript: Path = MANUSCRIPT) -> dict:
    return yaml.safe_load((manuscript / "book.yaml").read_text(encoding="utf-8"))


def chapter_files(manuscript: Path = MANUSCRIPT) -> list[Path]:
    return [manuscript / name for name in book_yaml(manuscript)["chapters"]]


def headings(path: Path, level: int) -> list[str]:
    """Heading texts of one level, read straight from the Markdown source."""
    pattern = re.compile(rf"^{'#' * level} (.+?)(?:\s*\{{#[^}}]+\}})?\s*$")
    return [m.group(1) for line in path.read_text(encoding="utf-8").splitlines() if (m := pattern.match(line))]


def chapter_titles(manuscript: Path = MANUSCRIPT) -> list[str]:
    return [headings(path, 1)[0] for path in chapter_files(manuscript)]


def normalise_words(text: str) -> Counter:
    """Words, lower-cased, with hyphens and apostrophes dropped, so line-end hyphenation is forgiven."""
    text = text.replace("\u00ad", "")
    text = re.sub(r"(\w)-\n\s*(\w)", r"\1\2", text)
    words = re.findall(r"[\w’'-]+", text.lower())
    return Counter(w for w in (re.sub(r"[-’']", "", word) for word in words) if w)


def manuscript_words(manuscript: Path = MANUSCRIPT) -> Counter:
    """Every word a reader should find: body text, headings, captions, notes (not alt text or link targets)."""
    words: Counter = Counter()
    for path in chapter_files(manuscript):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"!\[[^\]]*\]\([^)\s]+\s+\"([^\"]*)\"\)", r"\1", text)  # figure → its caption
        text = re.sub(r"\{#[^}]+\}", "", text)
        text = re.sub(r"\[\^[^\]]+\]:?", "", text)
        text = re.sub(r"\]\([^)]*\)", "", text)
        words += normalise_words(re.sub(r"[#*_\[\]]", " ", text))
    return words


def build(kind: str, manuscript: Path, dist: Path, styles: Path = STYLES, warnings: list[str] | None = None, **options) -> Path:
    """Build one output in this process, as ``invoke KIND`` would; what it warns about goes to ``warnings`` if given."""
    from samizdat import pipeline

    warn = warnings.append if warnings is not None else pipeline.quiet
    [path] = pipeline.build(kind, manuscript, dist, styles, report=pipeline.quiet, warn=warn, **options)
    return path


def refusal(kind: str, manuscript: Path, dist: Path, styles: Path = STYLES, **options) -> str:
    """The lines a refused build prints (one per finding); fails the test if the build is not refused."""
    from samizdat.errors import ManuscriptError

    with pytest.raises(ManuscriptError) as refused:
        build(kind, manuscript, dist, styles, **options)
    return str(refused.value)


def once_per_run(tmp_path_factory, worker_id: str, name: str, make) -> Path:
    """The folder ``name`` of the run's shared folder, filled by ``make(folder)`` once per run: with -n, the first
    worker to need it makes it while any other waits on the lock. Tests only read it."""
    run = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    folder = run / name
    with open(run / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (run / f"{name}.done").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            (run / f"{name}.done").touch()
    return folder


@pytest.fixture(scope="session")
def built_pdf(tmp_path_factory, worker_id: str) -> Path:
    """The seed pamphlet, through ``invoke pdf`` (with SOURCE_DATE_EPOCH, so an in-process build can be compared byte for byte)."""
    def make(folder: Path) -> None:
        result = run_task_afresh("pdf", "--dist", str(folder), "--quiet", env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
        assert result.returncode == 0 and result.stderr == "", result.stderr

    return once_per_run(tmp_path_factory, worker_id, "seed-pdf", make) / f"{book_yaml()['slug']}.pdf"


@pytest.fixture(scope="session")
def seed_laid_out_whole(tmp_path_factory, worker_id: str) -> Path:
    """The seed laid out as one document and written as a tagged PDF, with SOURCE_DATE_EPOCH: what the builds that
    lay a book out by chapter, or write it in parts, must read the same as."""
    def make(folder: Path) -> None:
        from samizdat.book import load_book
        from samizdat.pdf import Typesetter

        book = load_book(MANUSCRIPT)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
            setter = Typesetter(book, STYLES)
            setter.write(setter.layout(book), folder / "whole.pdf", "pdf/ua-1")

    return once_per_run(tmp_path_factory, worker_id, "seed-whole", make) / "whole.pdf"


@pytest.fixture()
def manuscript_copy(tmp_path) -> Path:
    """A scratch copy of the real manuscript, for tests that break it."""
    copy = tmp_path / "manuscript"
    shutil.copytree(MANUSCRIPT, copy)
    return copy
