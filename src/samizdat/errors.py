"""The one error type for problems in a manuscript, and the findings behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
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
        path = self.path
        if path.is_absolute() and path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())  # Short paths, as an editor's terminal shows them.
        where = f"{path}:{self.line}" if self.line else str(path)
        return f"{where}: {self.level}: {self.message}"


class ManuscriptError(Exception):
    """The manuscript cannot be built; ``str()`` is one line per error a user sees."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.findings = (Finding(path, message, line),)
        super().__init__(str(self.findings[0]))

    def __reduce__(self):
        """Picklable, so that a build in a worker process can report it to the parent."""
        return _rebuild_error, (self.findings,)

    @classmethod
    def from_findings(cls, findings: list[Finding]) -> ManuscriptError:
        """One error for a whole check: every finding, warnings included, one line each."""
        first = next(finding for finding in findings if finding.level == "error")
        error = cls(first.path, first.message, first.line)
        error.findings = tuple(findings)
        error.args = ("\n".join(str(finding) for finding in findings),)
        return error


@dataclass
class Findings:
    """Collects what the checks find, so that one run reports every problem, not just the first."""

    items: list[Finding] = field(default_factory=list)

    def error(self, path: Path, message: str, line: int | None = None) -> None:
        self.items.append(Finding(path, message, line, "error"))

    def warning(self, path: Path, message: str, line: int | None = None) -> None:
        self.items.append(Finding(path, message, line, "warning"))

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.items if finding.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.items if finding.level == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ManuscriptError.from_findings(self.items)


def _rebuild_error(findings: tuple[Finding, ...]) -> ManuscriptError:
    return ManuscriptError.from_findings(list(findings))
