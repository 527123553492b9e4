"""Shared fixtures: the real manuscript, built once per session through the real CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
MANUSCRIPT = ROOT / "manuscript"
INVOKE = [sys.executable, "-m", "invoke"]


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


@pytest.fixture(scope="session")
def built_pdf(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    result = run_task("pdf", "--dist", str(dist), "--quiet")
    assert result.returncode == 0, result.stderr
    return dist / f"{book_yaml()['slug']}.pdf"


@pytest.fixture()
def manuscript_copy(tmp_path) -> Path:
    """A scratch copy of the real manuscript, for tests that break it."""
    copy = tmp_path / "manuscript"
    shutil.copytree(MANUSCRIPT, copy)
    return copy
