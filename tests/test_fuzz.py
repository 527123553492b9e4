"""The fuzz suite: a few hundred random and hostile manuscripts (``tests/fuzz/``) through ``check``, ``pdf`` and ``epub``.

Every case must give a clean build or a clear ``ManuscriptError`` whose findings
are one line each: never a traceback, never a hang (``fuzz.runner.time_limit``),
and every EPUB that builds must pass EPUBCheck (run in one JVM beside the builds), every PDF our PDF/UA check.
Every case is also laid out as a PDF, which must pass our PDF/UA check: about a second a case,
two to three minutes for the batch, beside the rest of the suite.
``SAMIZDAT_FUZZ_CASES`` changes the number of cases; ``python -m fuzz.runner FIRST
COUNT`` (from ``tests/``) replays seeds and prints each outcome.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from fuzz.runner import FAILURES, run_cases

CASES = int(os.environ.get("SAMIZDAT_FUZZ_CASES", "200"))
SECONDS = 60  # Per stage; a normal case takes about one second.


@pytest.mark.fuzz
def test_random_manuscripts_build_or_fail_clearly_and_every_epub_passes_epubcheck(tmp_path: Path) -> None:
    results = run_cases(range(CASES), tmp_path, SECONDS)
    counts = Counter(result.outcome for result in results)
    failures = "\n".join(str(result) for result in results if result.outcome in FAILURES)
    assert not failures, f"{dict(counts)}\n{failures}"
    # The generator is worth running only if it makes books that build, and books that must be refused.
    assert counts["clean"] > CASES // 3, counts
    assert counts["error"] > CASES // 10, counts
    assert sum(1 for result in results if result.epub) == counts["clean"]
