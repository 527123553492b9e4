"""Run fuzz cases through ``check``, ``pdf`` and ``epub`` in-process, and EPUBCheck on every EPUB in one JVM.

Outcomes: ``clean`` (every output built), ``error`` (a clear ``ManuscriptError``),
``traceback`` (any other exception), ``hang`` (a stage ran past the time limit),
``blowup`` (``MemoryError``) and ``invalid`` (an EPUB that EPUBCheck rejects, or a PDF that fails our PDF/UA check).

``python -m fuzz.runner FIRST COUNT [SECONDS] [none]`` (from ``tests/``) prints the counts and each failure; ``none``
builds no PDF.
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from environment import epubcheck_batch
from samizdat import pdfua, pipeline
from samizdat.errors import ManuscriptError

from .manuscripts import Case, make_case

ROOT = Path(__file__).resolve().parents[2]
STYLES = ROOT / "styles"
FAILURES = ("traceback", "hang", "blowup", "invalid")


class Timeout(BaseException):
    """Raised by the alarm; a ``BaseException`` so that ``except Exception`` in the code under test cannot swallow it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Result:
    case: Case
    outcome: str = "clean"
    stage: str = ""
    detail: str = ""
    epub: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        return f"{self.outcome:<9} {self.stage:<5} {self.seconds:5.1f}s {self.case.describe()}\n    {self.detail}"


def write_case(case: Case, root: Path) -> Path:
    manuscript = root / f"case-{case.seed}" / "manuscript"
    for name, data in case.files.items():
        path = manuscript / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return manuscript


def run_case(case: Case, root: Path, seconds: float, outputs: tuple[str, ...] = ("pdf", "epub")) -> Result:
    """``check``, then (when the manuscript passes) each of ``outputs``; the first failure decides."""
    manuscript = write_case(case, root)
    dist = manuscript.parent / "dist"
    result = Result(case)
    stages = [("check", lambda: pipeline.check(manuscript, STYLES))]
    stages += [(name, lambda name=name: pipeline.build(name, manuscript, dist, STYLES, report=pipeline.quiet,
                                                       warn=result.warnings.append)) for name in outputs]
    for stage, run in stages:
        result.stage = stage
        try:
            with time_limit(seconds):
                outputs = run()
        except ManuscriptError as error:
            result.outcome, result.detail = "error", str(error)
            if any(len(str(finding).splitlines()) != 1 for finding in error.findings):
                result.outcome = "traceback"
                result.detail = f"a finding spans several lines: {error!r}"
            return result
        except Timeout:
            result.outcome, result.detail = "hang", f"over {seconds:g} s"
            return result
        except MemoryError:
            result.outcome, result.detail = "blowup", "MemoryError"
            return result
        except Exception as error:  # noqa: BLE001 - that is what we look for
            frames = traceback.extract_tb(error.__traceback__)[-3:]
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
            result.outcome, result.detail = "traceback", f"{type(error).__name__}: {str(error)[:300]} at {where}"
            return result
        if stage == "epub":
            result.epub = outputs[0]
        if stage == "pdf" and (findings := pdfua.check(outputs[0])):  # a PDF that breaks its PDF/UA claim
            result.outcome, result.detail = "invalid", "; ".join(str(finding) for finding in findings[:5])
            return result
    result.stage = ""
    return result


class EpubCheckBatch:
    """One JVM running EPUBCheck on each EPUB submitted, alongside the builds."""

    def __init__(self) -> None:
        self.process = epubcheck_batch()
        self.submitted: list[Path] = []

    def submit(self, epub: Path) -> None:
        self.process.stdin.write(f"{epub}\n")
        self.process.stdin.flush()
        self.submitted.append(epub)

    def problems(self) -> dict[Path, list[str]]:
        """Every submitted EPUB with its ERROR and FATAL messages (empty for a valid EPUB)."""
        self.process.stdin.close()
        answers = self.process.stdout.read().splitlines()
        self.process.wait(timeout=600)
        problems: dict[Path, list[str]] = {}
        for epub in self.submitted:
            report = epub.with_name(epub.name + ".json")
            if f"done {epub}" not in answers or not report.is_file():
                problems[epub] = [f"EPUBCheck did not finish: {[a for a in answers if str(epub) in a]}"]
                continue
            messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
            problems[epub] = [f"{m['severity']} {m['ID']}: {m['message']} ({(m.get('locations') or [{}])[0].get('path', '')})"
                              for m in messages if m["severity"] in {"ERROR", "FATAL"}]
        return problems


def run_cases(seeds: range, root: Path, seconds: float, log=None, started=None, pdf=lambda seed: True) -> list[Result]:
    """Every case through check, the PDF (unless ``pdf`` says not) and the EPUB; then EPUBCheck's verdicts."""
    checker = EpubCheckBatch()
    if started:
        started()
    results = []
    for seed in seeds:
        started_at = time.perf_counter()
        result = run_case(make_case(seed), root, seconds, ("pdf", "epub") if pdf(seed) else ("epub",))
        result.seconds = time.perf_counter() - started_at
        if result.epub:
            checker.submit(result.epub)
        if log:
            log(result)
        results.append(result)
    problems = checker.problems()
    for result in results:
        if result.epub and problems.get(result.epub):
            result.outcome, result.stage, result.detail = "invalid", "epub", "; ".join(problems[result.epub][:5])
    return results


def main() -> None:
    first, count = int(sys.argv[1]), int(sys.argv[2])
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 30
    pdf = (lambda seed: False) if len(sys.argv) > 4 and sys.argv[4] == "none" else (lambda seed: True)
    import resource

    def limit_memory() -> None:
        """After the JVM started: a blow-up is a MemoryError, not a swapping machine."""
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    with tempfile.TemporaryDirectory() as root:
        results = run_cases(range(first, first + count), Path(root), seconds, started=limit_memory, pdf=pdf,
                            log=lambda r: print(r, flush=True) if r.outcome in FAILURES or "-v" in sys.argv else None)
    counts = Counter(result.outcome for result in results)
    for result in results:
        if result.outcome in FAILURES:
            print(result)
    slowest = sorted(results, key=lambda result: -result.seconds)[:8]
    print("slowest:", ", ".join(f"seed {result.case.seed} {result.seconds:.1f}s" for result in slowest))
    print(f"total {sum(result.seconds for result in results):.0f}s")
    print(f"{count} cases: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in ("clean", "error", *FAILURES)))


if __name__ == "__main__":
    main()
