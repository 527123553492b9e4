"""The one error type for problems in a manuscript, and the findings behind it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a manuscript, located as precisely as we can."""

    path: Path
    message: str
    line: int | None = None
    level: Level = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.level}: {self.message}"


class ManuscriptError(Exception):
    """The manuscript cannot be built; ``str()`` is the one line a user sees."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.finding = Finding(path, message, line)
        super().__init__(str(self.finding))
