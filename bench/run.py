"""Benchmark: samizdat against its peers on the same text, printed as a Markdown table for the README.

    python bench/run.py [--runs 3] [--quick] [--edits 3]

Books of 50 and 400 chapters (``--quick``: 50 only) are made from the manuscript's chapters
(``bench/big_book.py``). Each command runs once to warm the caches, then ``--runs`` times in a fresh
process; the table shows medians of its wall time, CPU time (user + system of the whole process
tree) and peak memory (the summed proportional set size of the process and its descendants,
sampled every 20 ms or, for a big tree, as often as costs at most 5 % of a core; worker processes
count, and pages they share count once).

PDF, the same text to a finished A5 PDF:
- samizdat: ``invoke pdf`` (PDF/UA-1 with cover, contents, notes at the page foot, chapters on new pages).
- WeasyPrint on samizdat's HTML: the WeasyPrint CLI on ``samizdat.pdf.book_html(book)`` with the same
  stylesheets and fonts, PDF/UA-1: what samizdat adds around WeasyPrint.
- pandoc + WeasyPrint: pandoc 3 → HTML (``bench/pandoc/book.html``, a bare template) → the WeasyPrint CLI
  with ``styles/print.css`` at A5 and the book fonts (the ``@font-face`` rules of
  ``samizdat.fonts.font_face_css``), PDF/UA-1. ``bench/pandoc/book.lua`` asks pandoc for what samizdat does
  to the text: notes at the page foot, each chapter on a new page; ``--toc`` makes the contents.
- pandoc + Typst: pandoc 3 → Typst → the ``typst`` Python package, at A5 in the book fonts
  (``bench/pandoc/typst.yaml``): the fastest peer.

EPUB: ``invoke epub`` against pandoc 3 with ``styles/epub.css``.

Watch (50 chapters): ``invoke watch --formats pdf`` on a copy of the book; after its first build, a
same-length edit (a word replaced by one of the same length in a middle chapter) and a page-adding
edit (paragraphs appended to an early chapter), ``--edits`` times each; latency is from the file write
to the moment ``dist/<slug>.pdf`` is replaced (its inode or mtime changes), median of the edits.

samizdat's modules are compiled to bytecode first, as installing a package does.

Needs the ``bench`` extra (``pip install -e '.[bench]'``: pandoc 3 from pypandoc-binary, typst).
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import os
import platform
import queue
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import yaml
from big_book import make_big_book
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(__file__).resolve().parent / "pandoc"
STYLES = ROOT / "styles"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "SOURCE_DATE_EPOCH": "1764000000", "PATH": f"{BIN}:{os.environ['PATH']}"}
SAMPLE_SECONDS = 0.02
SAMPLER_SHARE = 0.05  # of one core, at most: reading a big process's PSS takes milliseconds
TYPST = "import sys, typst; typst.compile(sys.argv[1], output=sys.argv[2], font_paths=sys.argv[3:], ignore_system_fonts=True)"

Step = tuple[list[str], Path]  # A command and the folder it runs in.
Maker = tuple[list[Step], Path]  # The steps that make an output, and the output.


@dataclass(frozen=True)
class Usage:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process tree
    peak_mb: float  # the process tree's peak summed PSS


class TreeMemory:
    """Peak memory of a process and all its descendants, sampled by a thread.

    The sum of each process's PSS (``/proc/<pid>/smaps_rollup``): a page shared by forked workers is
    divided among them, so it counts once, as it does in the machine's memory. The kernel walks a
    process's pages to answer (about 5 ms of CPU for 400 MB), so samples come every ``SAMPLE_SECONDS``
    or, for a big process tree, as often as keeps the sampler under ``SAMPLER_SHARE`` of a core.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_kb = 0
        self._parents: dict[int, int] = {}  # pid → parent pid, read once per process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            started = time.perf_counter()
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in self._tree()))
            cost = time.perf_counter() - started
            if self._stop.wait(max(SAMPLE_SECONDS, cost / SAMPLER_SHARE - cost)):
                return

    def _tree(self) -> list[int]:
        alive = {int(name) for name in os.listdir("/proc") if name.isdigit()}
        self._parents = {pid: parent for pid, parent in self._parents.items() if pid in alive}
        for pid in alive - self._parents.keys():
            parent = _parent(pid)
            if parent is not None:
                self._parents[pid] = parent
        children: dict[int, list[int]] = defaultdict(list)
        for pid, parent in self._parents.items():
            children[parent].append(pid)
        tree, stack = [], [self.root]
        while stack:
            pid = stack.pop()
            tree.append(pid)
            stack.extend(children[pid])
        return tree


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # after the command name: state, then the parent's pid


def _pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:  # gone, or a zombie
        return 0
    match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
    return int(match.group(1)) if match else 0


def run_once(steps: Sequence[Step]) -> Usage:
    """Run the steps one after the other, each in a fresh process; their times add up, the peak is the highest."""
    wall = cpu = 0.0
    peak_kb = 0
    for command, cwd in steps:
        with tempfile.TemporaryFile() as errors:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=errors)
            with TreeMemory(process.pid) as memory:
                status = process.wait()
            wall += time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if status != 0:
                errors.seek(0)
                raise SystemExit(f"failed ({status}): {' '.join(command)}\n{errors.read().decode(errors='replace')[-3000:]}")
        cpu += (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peak_kb = max(peak_kb, memory.peak_kb)
    return Usage(wall, cpu, peak_kb / 1024)


def median_usage(runs: int, steps: Sequence[Step]) -> Usage:
    """One untimed run (file caches, samizdat's cover cache), then the median of ``runs`` timed ones."""
    run_once(steps)
    results = [run_once(steps) for _ in range(runs)]
    return Usage(*(statistics.median(getattr(r, field) for r in results) for field in ("wall", "cpu", "peak_mb")))


def invoke(*args: str) -> list[str]:
    return [sys.executable, "-m", "invoke", *args]


def pandoc_path() -> str:
    try:
        import pypandoc
    except ImportError:
        raise SystemExit("pandoc 3 and typst come with the bench extra: pip install -e '.[bench]'") from None
    return pypandoc.get_pandoc_path()


@dataclass(frozen=True)
class Peers:
    """The files each peer works from, written once per book before anything is timed."""

    pandoc: str
    book: Path
    chapters: list[str]
    title: str
    language: str
    work: Path
    font_dirs: list[str]

    @property
    def metadata(self) -> list[str]:
        return ["--metadata", f"title={self.title}", "--metadata", f"lang={self.language}"]

    def pandoc_args(self, writer: str, output: Path, *extra: str) -> list[str]:
        return [self.pandoc, *self.chapters, "--file-scope", "--lua-filter", str(PEERS / "book.lua"), *self.metadata,
                "--to", writer, "--output", str(output), *extra]

    def weasyprint(self, html: Path, pdf: Path, *stylesheets: Path) -> list[str]:
        return [str(BIN / "weasyprint"), str(html), str(pdf), "--base-url", self.book.as_uri() + "/",
                "--pdf-variant", "pdf/ua-1", *(arg for sheet in stylesheets for arg in ("--stylesheet", str(sheet)))]


def prepare_peers(pandoc: str, book: Path, work: Path) -> Peers:
    """The fonts-and-page-size stylesheet, and samizdat's own HTML for the WeasyPrint CLI (not timed)."""
    from samizdat.book import load_book
    from samizdat.fonts import FONT_DIRECTORIES, font_face_css
    from samizdat.pdf import book_html

    work.mkdir(parents=True, exist_ok=True)
    meta = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))
    (work / "fonts-a5.css").write_text(font_face_css() + "\n@page { size: A5; }\n", encoding="utf-8")
    (work / "samizdat.html").write_text(book_html(load_book(book, STYLES)), encoding="utf-8")
    return Peers(pandoc, book, meta["chapters"], meta["title"], meta.get("language", "en"), work, [str(d) for d in FONT_DIRECTORIES])


def pdf_makers(peers: Peers, dist: Path, slug: str) -> dict[str, Maker]:
    """samizdat first (into ``dist``), then its peers (into ``peers.work``)."""
    work, book = peers.work, peers.book
    fonts = work / "fonts-a5.css"
    return {
        "samizdat `invoke pdf`": ([(invoke("pdf", "--manuscript", str(book), "--dist", str(dist), "--quiet"), ROOT)], dist / f"{slug}.pdf"),
        "WeasyPrint CLI on samizdat's HTML": (
            [(peers.weasyprint(work / "samizdat.html", work / "weasyprint.pdf", fonts, STYLES / "cover.css", STYLES / "print.css"), book)],
            work / "weasyprint.pdf"),
        "pandoc → HTML → WeasyPrint": (
            [(peers.pandoc_args("html5", work / "pandoc.html", "--standalone", "--template", str(PEERS / "book.html"),
                                "--section-divs", "--toc", "--toc-depth=1", "--metadata", "toc-title=Contents"), book),
             (peers.weasyprint(work / "pandoc.html", work / "pandoc-weasyprint.pdf", fonts, STYLES / "print.css"), book)],
            work / "pandoc-weasyprint.pdf"),
        "pandoc → Typst": (  # The .typ file sits in the book, since Typst finds images from the file's folder.
            [(peers.pandoc_args("typst", book / "pandoc.typ", "--standalone", "--toc", "--toc-depth=1",
                                "--metadata-file", str(PEERS / "typst.yaml")), book),
             ([sys.executable, "-c", TYPST, "pandoc.typ", str(work / "pandoc-typst.pdf"), *peers.font_dirs], book)],
            work / "pandoc-typst.pdf"),
    }


def epub_makers(peers: Peers, dist: Path) -> dict[str, list[Step]]:
    return {
        "samizdat `invoke epub`": [(invoke("epub", "--manuscript", str(peers.book), "--dist", str(dist), "--quiet"), ROOT)],
        "pandoc": [(peers.pandoc_args("epub3", peers.work / "pandoc.epub", "--css", str(STYLES / "epub.css")), peers.book)],
    }


# Watch latency.

class WatchProcess:
    """``invoke watch --formats pdf`` on a book, with its report lines read as they come."""

    def __init__(self, book: Path, dist: Path) -> None:
        self.process = subprocess.Popen(invoke("watch", "--formats", "pdf", "--manuscript", str(book), "--dist", str(dist)),
                                        cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 600) -> list[str]:
        """The lines up to the first that matches ``pattern``; a failed build ends the benchmark."""
        seen, deadline = [], time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise SystemExit(f"watch: no {pattern!r} in {timeout:.0f} s; it said:\n" + "\n".join(seen)) from None
            seen.append(line)
            if "build failed" in line:
                raise SystemExit("watch: the build failed:\n" + "\n".join(seen))
            if re.search(pattern, line):
                return seen

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def file_version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def same_length_edit(chapter: Path) -> None:
    """One word replaced by another of the same length: the first remaining "the" becomes "its"."""
    text = chapter.read_text(encoding="utf-8")
    edited = re.sub(r"\bthe\b", "its", text, count=1)
    if edited == text:
        raise SystemExit(f"{chapter}: no 'the' left to replace")
    chapter.write_text(edited, encoding="utf-8")


def plain_paragraphs(book: Path, chapters: list[str], words: int) -> str:
    """Paragraphs of plain prose from the book's chapters, about ``words`` words: enough for more than a page."""
    chosen: list[str] = []
    for name in chapters:
        for block in re.split(r"\n\s*\n", (book / name).read_text(encoding="utf-8")):
            if block[:1].isalpha() and "[^" not in block:
                chosen.append(block.strip())
                if sum(len(paragraph.split()) for paragraph in chosen) >= words:
                    return "\n\n".join(chosen)
    raise SystemExit(f"{book}: not {words} words of plain paragraphs")


def watch_latency(book: Path, work: Path, edits: int) -> dict[str, tuple[float, int]]:
    """For each kind of edit: the median seconds from the write to the new PDF, and the median number of
    pages the last chapter moved (its start page, from the PDF's outline)."""
    copy, dist = work / "watched", work / "dist-watch"
    shutil.copytree(book, copy)
    meta = yaml.safe_load((copy / "book.yaml").read_text(encoding="utf-8"))
    chapters = meta["chapters"]
    middle, early = copy / chapters[len(chapters) // 2], copy / chapters[1]
    addition = plain_paragraphs(copy, chapters, 450)
    kinds: dict[str, Callable[[], None]] = {
        "same-length": lambda: same_length_edit(middle),
        "page-adding": lambda: early.write_text(early.read_text(encoding="utf-8") + "\n\n" + addition + "\n", encoding="utf-8"),
    }
    target = dist / f"{meta['slug']}.pdf"
    watcher = WatchProcess(copy, dist)
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    moved: dict[str, list[int]] = {kind: [] for kind in kinds}
    try:
        watcher.wait_for(r"^watch\s+watching")
        for _ in range(edits):
            for kind, edit in kinds.items():
                time.sleep(1.0)  # The watcher settles; no edit lands inside the previous one's debounce.
                before, start = file_version(target), chapter_start(target, -1)
                started = time.perf_counter()
                edit()
                while file_version(target) == before:
                    if time.perf_counter() - started > 300:
                        raise SystemExit(f"watch: {target} not replaced 300 s after a {kind} edit")
                    time.sleep(0.005)
                latencies[kind].append(time.perf_counter() - started)
                watcher.wait_for(r"^watch\s+rebuilt")
                moved[kind].append(chapter_start(target, -1) - start)
    finally:
        watcher.stop()
    return {kind: (statistics.median(latencies[kind]), round(statistics.median(moved[kind]))) for kind in kinds}


def chapter_start(pdf: Path, index: int) -> int:
    """The page where chapter ``index`` (from 0, or from the end if negative) starts, from the PDF's outline."""
    reader = PdfReader(pdf)
    chapters = [item for item in reader.outline if not isinstance(item, list)]
    return reader.get_destination_page_number(chapters[index])


# The report.

def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    memory_kb = int(re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M).group(1))
    return (f"{model.group(1) if model else platform.processor()} ({platform.machine()}), {os.cpu_count()} cores, "
            f"{memory_kb / 1024 ** 2:.0f} GiB")


def versions(pandoc: str) -> str:
    pandoc_version = subprocess.run([pandoc, "--version"], capture_output=True, text=True, check=True).stdout.split()[1]
    return (f"Python {platform.python_version()}, WeasyPrint {version('weasyprint')}, pandoc {pandoc_version}, "
            f"Typst (Python package) {version('typst')}")


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}"


HEADER = ("| book | output | made by | wall | CPU (user + sys) | peak memory | pages | pages/s "
          "| samizdat ÷ this, wall | samizdat ÷ this, CPU |\n|---|---|---|--:|--:|--:|--:|--:|--:|--:|")


def rows_for(label: str, kind: str, results: dict[str, Usage], pages: dict[str, int] | None) -> list[str]:
    """One row per maker; the first maker is samizdat, whose times are divided by the others'."""
    ours = next(iter(results.values()))
    rows = []
    for maker, usage in results.items():
        count = pages[maker] if pages else None
        peer = usage is not ours
        cells = [label, kind, maker, seconds(usage.wall), seconds(usage.cpu), f"{usage.peak_mb:.0f} MB",
                 str(count) if count else "—", f"{count / usage.wall:.1f}" if count else "—",
                 ratio(ours.wall, usage.wall) if peer else "—", ratio(ours.cpu, usage.cpu) if peer else "—"]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each command (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="the 50-chapter book only")
    parser.add_argument("--edits", type=int, default=3, help="edits of each kind in the watch measurement")
    args = parser.parse_args()
    pandoc = pandoc_path()
    # samizdat's bytecode, compiled as installing a package compiles it: where PYTHONDONTWRITEBYTECODE is set
    # (some sandboxes set it), an editable install would otherwise compile samizdat's modules at every run.
    for source in (ROOT / "src", ROOT / "tasks.py", ROOT / "build_tasks.py"):
        compileall.compile_dir(source, quiet=1) if source.is_dir() else compileall.compile_file(source, quiet=1)
    sizes = (50,) if args.quick else (50, 400)
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="samizdat-bench-"))
    rows: list[str] = []
    try:
        for chapters in sizes:
            label = f"{chapters} chapters"
            book = make_big_book(ROOT / "manuscript", work / f"book-{chapters}", chapters)
            slug = yaml.safe_load((book / "book.yaml").read_text(encoding="utf-8"))["slug"]
            peers = prepare_peers(pandoc, book, work / f"peers-{chapters}")
            dist = work / f"dist-{chapters}"
            makers = pdf_makers(peers, dist, slug)
            pdfs = {maker: median_usage(args.runs, steps) for maker, (steps, _) in makers.items()}
            pages = {maker: len(PdfReader(output).pages) for maker, (_, output) in makers.items()}
            rows += rows_for(label, "PDF", pdfs, pages)
            epubs = {maker: median_usage(args.runs, steps) for maker, steps in epub_makers(peers, dist).items()}
            rows += rows_for(label, "EPUB", epubs, None)
            if chapters == 50:
                for kind, (latency, moved) in watch_latency(book, work, args.edits).items():
                    rows.append(f"| {label} | watch: {kind} edit → new PDF (later pages move {moved:+d}) | samizdat `invoke watch` "
                                f"| {seconds(latency)} | — | — | — | — | — | — |")
    finally:
        shutil.rmtree(work)
    today = datetime.date.today().isoformat()
    print(f"{machine()}; {versions(pandoc)}; {today}; median of {args.runs} run{'s' * (args.runs != 1)} after one warm-up, "
          f"{args.edits} watch edit{'s' * (args.edits != 1)} of each kind; load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after.\n")
    print(HEADER)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
