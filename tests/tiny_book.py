"""A tiny manuscript built in-process, for the font and stylesheet tests (tests/test_fonts.py, tests/test_styles.py)."""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STYLES = ROOT / "styles"
TIMELINE = ROOT / "manuscript" / "images" / "timeline.svg"


def write_manuscript(folder: Path, *chapters: str, author: str | None = None, publisher: str | None = None) -> Path:
    """``book.yaml`` and one ``NN.md`` per chapter (each beginning with its ``# `` title), plus the timeline image."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["title: T", "language: en"]
    lines += [f"author: {author}"] if author else []
    lines += [f"publisher: {publisher}"] if publisher else []
    (folder / "book.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for number, text in enumerate(chapters, start=1):
        (folder / f"{number:02d}.md").write_text(text, encoding="utf-8")
    (folder / "images").mkdir(exist_ok=True)
    shutil.copy(TIMELINE, folder / "images" / "timeline.svg")
    return folder


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.messages.append(message)


def build(manuscript: Path, dist: Path, kind: str) -> tuple[Path, list[str]]:
    """Build ``kind`` ("pdf" or "epub"); return the output and what WeasyPrint warned about."""
    from samizdat import pipeline

    handler = _Collect()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        [target] = pipeline.build(kind, manuscript, dist, STYLES, report=lambda s: None, warn=lambda s: None)
    finally:
        logger.removeHandler(handler)
    return target, handler.messages


def unzip(epub: Path, folder: Path) -> Path:
    with zipfile.ZipFile(epub) as archive:
        archive.extractall(folder)
    return folder
