"""Shared fixtures and helpers: the real manuscript built once per run through the real CLI, and builds
in-process (``build``, ``refusal``) for the many tests that are about what a build makes or refuses, not about the CLI."""

from __future__ import annotations

import fcntl
import os
import re
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


def run_task(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run an Invoke task from the repository root, as a user would."""
    return subprocess.run([*INVOKE, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


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


@pytest.fixture(scope="session")
def built_pdf(tmp_path_factory, worker_id: str) -> Path:
    """The seed pamphlet, through ``invoke pdf`` (with SOURCE_DATE_EPOCH, so an in-process build can be compared byte for byte).

    Made once per run: with -n, the first worker to need it builds it in the run's folder, which the workers share,
    while any other waits on the lock. Tests only read it.
    """
    run = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    pdf = run / "seed-pdf" / f"{book_yaml()['slug']}.pdf"
    with open(run / "seed-pdf.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not pdf.is_file():
            result = run_task("pdf", "--dist", str(pdf.parent), "--quiet", env={**os.environ, "SOURCE_DATE_EPOCH": EPOCH})
            assert result.returncode == 0 and result.stderr == "", result.stderr
    return pdf


@pytest.fixture()
def manuscript_copy(tmp_path) -> Path:
    """A scratch copy of the real manuscript, for tests that break it."""
    copy = tmp_path / "manuscript"
    shutil.copytree(MANUSCRIPT, copy)
    return copy
