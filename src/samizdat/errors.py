"""The one error type for problems in a manuscript, and the findings behind it.

Every finding names a rule of the catalogue (:mod:`samizdat.rules`), which gives its level.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .rules import Level, rule


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a manuscript, located as precisely as we can."""

    code: str
    path: Path
    message: str
    line: int | None = None

    @property
    def level(self) -> Level:
        return rule(self.code).level

    def __str__(self) -> str:
        path = self.path
        if path.is_absolute() and path.is_relative_to(Path.cwd()):
            path = path.relative_to(Path.cwd())  # Short paths, as an editor's terminal shows them.
        where = f"{path}:{self.line}" if self.line else str(path)
        message = " ".join(self.message.splitlines())  # A quoted value with a line break stays on the finding's line.
        return f"{where}: {self.level}[{self.code}]: {message}"


class ManuscriptError(Exception):
    """The manuscript cannot be built; ``str()`` is one line per finding a user sees."""

    def __init__(self, code: str, path: Path, message: str, line: int | None = None) -> None:
        self.findings: tuple[Finding, ...] = (Finding(code, path, message, line),)
        super().__init__(str(self.findings[0]))

    def __reduce__(self):
        """Picklable, so that a build in a worker process can report it to the parent."""
        return _rebuild_error, (self.findings,)

    @classmethod
    def from_findings(cls, findings: list[Finding]) -> ManuscriptError:
        """One error for a whole check: every finding, warnings included, one line each."""
        first = next(finding for finding in findings if finding.level == "error")
        error = cls(first.code, first.path, first.message, first.line)
        error.findings = tuple(findings)
        error.args = ("\n".join(str(finding) for finding in findings),)
        return error


@dataclass
class Findings:
    """Collects what the checks find, so that one run reports every problem, not just the first.

    Warnings whose rule the book silences (``lint: ignore`` in ``book.yaml``) are dropped.
    """

    items: list[Finding] = field(default_factory=list)
    ignored: frozenset[str] = frozenset()

    def add(self, code: str, path: Path, message: str, line: int | None = None) -> None:
        if rule(code).level == "warning" and code in self.ignored:
            return
        self.items.append(Finding(code, path, message, line))

    def silence(self, codes: frozenset[str]) -> None:
        """From now on, and for what was found so far, drop warnings of these rules."""
        self.ignored = codes
        self.items = [item for item in self.items if not (item.level == "warning" and item.code in codes)]

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


class BadSetting(Exception):
    """A setting of the machine that builds (an environment variable such as ``SAMIZDAT_LAYOUT_TIMEOUT`` or
    ``SOURCE_DATE_EPOCH``) is not valid; ``str()`` is the one line a user sees."""
