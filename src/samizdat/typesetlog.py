"""WeasyPrint's own warnings, turned into findings (rule S103) instead of being lost.

WeasyPrint reports what it skips (an unknown CSS rule or property, an image it could
not load or decode) through ``logging.getLogger("weasyprint")`` and carries on, so a
broken image would simply vanish from the PDF. During a build the log is collected;
each distinct message becomes a warning naming the chapter that uses the image it
is about, or the styles folder for everything else.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .book import Book
from .errors import Finding

CODE = "S103"
# What WeasyPrint says that samizdat has already dealt with: an image with no alt text is reported at its line by
# rule I102, and made an artifact in the PDF (samizdat.pdfua), as decoration.
DEALT_WITH = re.compile(r'Image ".*" has no required alt description')


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())  # One line, whatever WeasyPrint put in it.
        if message not in self.messages and not DEALT_WITH.fullmatch(message):
            self.messages.append(message)


@contextmanager
def typesetter_findings(book: Book, styles: Path) -> Iterator[list[Finding]]:
    """Collect WeasyPrint's warnings while the block runs; the list is filled when it ends."""
    logger = logging.getLogger("weasyprint")
    collector = _Collector()
    logger.addHandler(collector)
    found: list[Finding] = []
    try:
        yield found
    finally:
        logger.removeHandler(collector)
        if CODE not in book.metadata.ignored_rules:
            found.extend(_finding(message, book, styles) for message in collector.messages)


def _finding(message: str, book: Book, styles: Path) -> Finding:
    for asset in book.assets:
        if asset.name in message or quote(asset.name) in message or str(asset.path) in message:
            chapter = next((chapter for chapter in book.chapters if asset.name in chapter.assets), None)
            where = book.manuscript / chapter.source if chapter else asset.path
            return Finding(CODE, where, f"the PDF typesetter (WeasyPrint) says about image '{asset.name}': {message}")
    sheet, line = _stylesheet_line(message, styles)
    return Finding(CODE, sheet, f"the PDF typesetter (WeasyPrint) says: {message}", line)


def _stylesheet_line(message: str, styles: Path) -> tuple[Path, int | None]:
    """The stylesheet and line a CSS message is about (WeasyPrint gives the line, not the file), else the folder."""
    position = re.search(r" at (\d+):\d+", message)
    snippet = re.search(r"`([^`]+)`|@[\w-]+", message)
    if position and snippet:
        line = int(position.group(1))
        text = snippet.group(1) or snippet.group(0)
        for sheet in sorted(styles.glob("*.css")):
            lines = sheet.read_text(encoding="utf-8", errors="replace").splitlines()
            if line <= len(lines) and text.split(":")[0].strip() in lines[line - 1]:
                return sheet, line
    return styles, None
