"""Benchmark: samizdat against pandoc, in one run, on the manuscript and on a 50-chapter book.

    python bench/run.py [--runs 3]

Each command runs in a fresh process, several times; the table shows medians of wall
time, pages per second and peak memory (the process's maximum resident set), and the
ratios to pandoc. pandoc is Debian's (`apt-get install pandoc`): its EPUB writer, and
`--pdf-engine=weasyprint --css styles/print.css` for the PDF.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from big_book import make_big_book
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024


def median_of(runs: int, command: list[str], cwd: Path, before=None) -> tuple[float, float]:
    results = []
    for _ in range(runs):
        if before:
            before()
        results.append(measure(command, cwd))
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def invoke(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", *args]


def pandoc_inputs(manuscript: Path) -> list[str]:
    import yaml

    meta = yaml.safe_load((manuscript / "book.yaml").read_text())
    return [*meta["chapters"], "--metadata", f"title={meta['title']}", "--metadata", f"lang={meta.get('language', 'en')}"]


def incremental(manuscript: Path, dist: Path) -> tuple[float, float]:
    """In one process, as watch mode runs: a full PDF build, then the rebuild after editing one chapter."""
    code = f"""
import time, pathlib, sys
from samizdat.pipeline import build, quiet
m, d, s = pathlib.Path({str(manuscript)!r}), pathlib.Path({str(dist)!r}), pathlib.Path({str(ROOT / 'styles')!r})
t = time.perf_counter(); build("pdf", m, d, s, report=quiet, warn=quiet); full = time.perf_counter() - t
keep = {{}}
build("pdf", m, d, s, report=quiet, warn=quiet, state=keep)
chapter = sorted(m.glob('*.md'))[len(list(m.glob('*.md'))) // 2]
chapter.write_text(chapter.read_text().replace('working class', 'working-class', 1) + '\\nAn edit.\\n')
t = time.perf_counter(); build("pdf", m, d, s, report=quiet, warn=quiet, state=keep); inc = time.perf_counter() - t
print(full, inc)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    if not shutil.which("pandoc"):
        raise SystemExit("pandoc not found: apt-get install pandoc")
    work = Path(tempfile.mkdtemp(prefix="samizdat-bench-"))
    books = {"manuscript": ROOT / "manuscript", "50 chapters": make_big_book(ROOT / "manuscript", work / "big")}
    rows = []
    for label, manuscript in books.items():
        dist = work / f"dist-{label.replace(' ', '-')}"
        slug = "big-book" if label == "50 chapters" else "victor-serge"
        ours_pdf = median_of(runs, invoke("pdf", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet"), ROOT)
        ours_epub = median_of(runs, invoke("epub", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet"), ROOT)
        pages = len(PdfReader(dist / f"{slug}.pdf").pages)
        pandoc_pdf = median_of(runs, ["pandoc", *pandoc_inputs(manuscript), "--pdf-engine=weasyprint", "--css", str(ROOT / "styles" / "print.css"), "-o", str(work / "pandoc.pdf")], manuscript)
        pandoc_pages = len(PdfReader(work / "pandoc.pdf").pages)
        pandoc_epub = median_of(runs, ["pandoc", *pandoc_inputs(manuscript), "-o", str(work / "pandoc.epub")], manuscript)
        stamp = dist / ".samizdat-build.json"
        build = median_of(runs, invoke("build", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet"), ROOT, before=lambda: stamp.unlink(missing_ok=True))
        unchanged = median_of(runs, invoke("build", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet"), ROOT)
        copy = work / f"edit-{label.replace(' ', '-')}"
        shutil.copytree(manuscript, copy, dirs_exist_ok=True)
        full, inc = incremental(copy, work / "dist-inc")
        rows.append((label, pages, pandoc_pages, ours_pdf, pandoc_pdf, ours_epub, pandoc_epub, build, unchanged, full, inc))
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{subprocess.run(['pandoc', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}; medians of {runs} runs.\n")
    print("| book | PDF: samizdat | PDF: pandoc + WeasyPrint | ratio | pages (samizdat / pandoc) | pages/s (samizdat / pandoc) "
          "| EPUB: samizdat | EPUB: pandoc | ratio | peak MB (PDF / EPUB) | `invoke build` | ÷ slower of PDF, EPUB "
          "| unchanged `invoke build` | watch: PDF after one edit | ÷ full build in the same process | ÷ `invoke pdf` |")
    print("|" + "---|" * 16)
    for label, pages, ppages, opdf, ppdf, oepub, pepub, build, unchanged, full, inc in rows:
        print(f"| {label} | {opdf[0]:.2f} s | {ppdf[0]:.2f} s | {opdf[0] / ppdf[0]:.2f} | {pages} / {ppages} | {pages / opdf[0]:.1f} / {ppages / ppdf[0]:.1f} "
              f"| {oepub[0]:.2f} s | {pepub[0]:.2f} s | {oepub[0] / pepub[0]:.2f} | {opdf[1]:.0f} / {oepub[1]:.0f} "
              f"| {build[0]:.2f} s | {build[0] / max(opdf[0], oepub[0]):.2f} | {unchanged[0]:.2f} s | {inc:.2f} s | {inc / full:.0%} | {inc / opdf[0]:.0%} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
