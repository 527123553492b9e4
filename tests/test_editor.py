"""Editors' workflow: invoke check, hostile manuscripts, interruptions, concurrency and watch mode."""

from __future__ import annotations

import http.server
import multiprocessing
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import pdfread
from conftest import EPOCH, INVOKE, MANUSCRIPT, ROOT, STYLES, build, refusal, run_task
from samizdat import pipeline
from samizdat.errors import ManuscriptError
from tiny_book import write_manuscript

FINDING = re.compile(r"^(?P<file>[^:]+):(?:(?P<line>\d+):)? (?P<level>error|warning)\[(?P<code>[A-Z]\d{3})\]: (?P<message>.+)$")


def findings(output: str) -> list[dict]:
    lines = [line for line in output.strip().splitlines() if line]
    parsed = [FINDING.match(line) for line in lines]
    assert all(parsed), output
    return [match.groupdict() for match in parsed]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def refused_check(manuscript: Path) -> str:
    """What ``invoke check`` prints for a manuscript with an error (and exits 1: see the test below): one line per finding."""
    with pytest.raises(ManuscriptError) as refused:
        pipeline.check(manuscript, STYLES)
    return str(refused.value)


def test_check_is_clean_on_the_manuscript() -> None:
    result = run_task("check")
    assert result.returncode == 0
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_check_reports_every_finding_one_line_each(manuscript_copy: Path) -> None:
    chapter = manuscript_copy / "03-terror-and-degeneration.md"
    append(chapter, '\nHe said "stop. A [link](nowhere.md), a call[^ghost] and a snowman \u2603.\n\n[^spare]: Never used.\n\n![](images/timeline.svg)\n')
    append(manuscript_copy / "book.yaml", "identifier: urn:isbn:9780306406150\ncolour: red\n")
    got = findings(refused_check(manuscript_copy))
    messages = {(Path(f["file"]).name, f["level"], f["message"]) for f in got}
    as_text = "\n".join(f"{name} {level} {message}" for name, level, message in messages)
    assert re.search(r"03-terror-and-degeneration.md error link 'nowhere.md'", as_text)
    assert re.search(r"03-terror-and-degeneration.md error footnote \[\^ghost\] has no definition", as_text)
    assert re.search(r"03-terror-and-degeneration.md warning footnote \[\^spare\] is defined but never used", as_text)
    assert re.search(r'03-terror-and-degeneration.md warning straight quote "', as_text)
    assert re.search(r"03-terror-and-degeneration.md warning the book fonts cannot draw '\u2603' \(U\+2603 SNOWMAN\)", as_text)
    assert re.search(r"book.yaml error identifier 'urn:isbn:9780306406150': the ISBN check digit should be 7, not 0", as_text)
    assert re.search(r"book.yaml warning unknown key 'colour'", as_text)
    assert re.search(r"03-terror-and-degeneration.md warning image 'images/timeline.svg' has no alt text", as_text)
    line_of_call = next(f for f in got if "ghost" in f["message"])["line"]
    assert chapter.read_text().splitlines()[int(line_of_call) - 1].count("[^ghost]") == 1


def test_check_exits_0_when_there_are_only_warnings_and_1_on_an_error(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", '# One\n\nAn unbalanced "quotation.\n', author="A. Writer")
    result = run_task("check", "--manuscript", str(manuscript))
    assert result.returncode == 0
    assert [f["level"] for f in findings(result.stdout)] == ["warning"]
    append(manuscript / "01.md", "A call[^ghost].\n")
    result = run_task("check", "--manuscript", str(manuscript))
    assert result.returncode == 1 and result.stdout == ""
    assert sorted(f["level"] for f in findings(result.stderr)) == ["error", "warning"]


@pytest.mark.parametrize("breakage, fragment", [
    ("language: english!!", "BCP 47"),
    ("date: 24/11/2026", "'date' must be a date"),
    ("page_size: A4", "'page_size' must be one of"),
])
def test_check_rejects_bad_metadata_values(manuscript_copy: Path, breakage: str, fragment: str) -> None:
    yaml_path = manuscript_copy / "book.yaml"
    key = breakage.split(":")[0]
    lines = [line for line in yaml_path.read_text().splitlines() if not line.startswith(f"{key}:")]
    yaml_path.write_text("\n".join(lines + [breakage]) + "\n")
    [finding] = findings(refused_check(manuscript_copy))
    assert finding["file"].endswith("book.yaml") and fragment in finding["message"] and finding["line"]


def test_duplicate_heading_ids_and_empty_chapters(manuscript_copy: Path) -> None:
    append(manuscript_copy / "05-the-chronicler.md", "\n## Again {#beginnings}\n\nText.\n")
    (manuscript_copy / "06-empty.md").write_text("\n\n")
    append(manuscript_copy / "book.yaml", "  - 06-empty.md\n")
    messages = [f["message"] for f in findings(refused_check(manuscript_copy))]
    assert "heading id '#beginnings' is used twice in the book" in messages
    assert "chapter is empty" in messages


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        CountingHandler.requests.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def local_server():
    CountingHandler.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CountingHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)  # shutdown() waits a poll
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("markdown", [
    "![A remote picture]({url}/picture.svg)",
    '<img src="{url}/inline.svg" alt="x">',
    "![A file URL](file:///etc/hostname)",
])
def test_remote_and_file_urls_in_the_manuscript_are_refused_without_a_request(manuscript_copy: Path, tmp_path: Path, local_server: str, markdown: str) -> None:
    chapter = manuscript_copy / "03-terror-and-degeneration.md"
    append(chapter, "\n" + markdown.format(url=local_server) + "\n")
    for task in ("pdf", "epub"):
        [finding] = findings(refusal(task, manuscript_copy, tmp_path))
        assert finding["file"].endswith("03-terror-and-degeneration.md") and finding["line"]
    assert CountingHandler.requests == []
    assert not (tmp_path / "victor-serge.pdf").exists()


@pytest.mark.parametrize("task, sheet, rule", [
    ("pdf", "print.css", '.chapter h1 {{ background: url("{url}/paper.png"); }}'),
    ("epub", "cover.css", '.cover {{ background: url("{url}/paper.png"); }}'),  # the EPUB's cover image
])
def test_remote_resources_in_stylesheets_are_refused_without_a_request(tmp_path: Path, local_server: str, task: str, sheet: str, rule: str) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(ROOT / "styles", styles)
    append(styles / sheet, "\n" + rule.format(url=local_server) + "\n")
    [finding] = findings(refusal(task, MANUSCRIPT, tmp_path / "dist", styles))
    assert finding["file"].endswith(sheet) and finding["line"] and f"{local_server}/paper.png" in finding["message"]
    assert (styles / sheet).read_text().splitlines()[int(finding["line"]) - 1].count("paper.png") == 1
    assert CountingHandler.requests == []


def test_stylesheets_cannot_read_files_outside_their_folders(tmp_path: Path) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(ROOT / "styles", styles)
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red; }")
    css = styles / "print.css"
    css.write_text(f'@import url("{secret.as_uri()}");\n' + css.read_text())
    [finding] = findings(refusal("pdf", MANUSCRIPT, tmp_path / "dist", styles))
    assert finding["file"].endswith("print.css") and finding["line"] == "1" and "secret.css" in finding["message"] and "refused" in finding["message"]


def test_a_stylesheet_asking_for_a_missing_file_of_its_folder_says_it_is_missing(tmp_path: Path) -> None:
    """Not "only files inside the folders may be used": the file is inside, and missing."""
    styles = Path(shutil.copytree(ROOT / "styles", tmp_path / "styles"))
    append(styles / "print.css", "\nh1::after { content: url(ornament.png); }\n")
    [finding] = findings(refusal("pdf", MANUSCRIPT, tmp_path / "dist", styles))
    assert finding["file"].endswith("print.css") and finding["code"] == "S101"
    assert (styles / "print.css").read_text().splitlines()[int(finding["line"]) - 1].count("ornament.png") == 1
    assert finding["message"].endswith("ornament.png': no such file"), finding["message"]


def test_symlinks_out_of_the_manuscript_are_refused(manuscript_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside\n\nSecret words.\n")
    (manuscript_copy / "04-opposition-and-exile.md").unlink()
    (manuscript_copy / "04-opposition-and-exile.md").symlink_to(outside)
    picture = tmp_path / "picture.svg"
    picture.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (manuscript_copy / "images" / "timeline.svg").unlink()
    (manuscript_copy / "images" / "timeline.svg").symlink_to(picture)
    messages = [f["message"] for f in findings(refused_check(manuscript_copy))]
    assert "chapter '04-opposition-and-exile.md' lies outside the manuscript folder" in messages
    assert "image 'images/timeline.svg' lies outside the manuscript folder" in messages


def test_progress_reports_stages_and_quiet_silences_it(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n", author="A. Writer")
    said: list[str] = []
    pipeline.build("pdf", manuscript, tmp_path, STYLES, report=said.append)  # what invoke pdf prints without --quiet
    assert [line.split()[0] for line in said] == ["parse", "typeset", "check", "pdf"]
    assert re.search(r"typeset\s+4 pages, pdf/ua-1\s+\[\d+\.\d+s\]", "\n".join(said))
    assert re.search(r"check\s+PDF/UA check clean\s+\[\d+\.\d+s\]", "\n".join(said))
    quiet = run_task("pdf", "--manuscript", str(manuscript), "--dist", str(tmp_path), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_an_interrupted_build_leaves_the_last_good_output(manuscript_copy: Path, built_pdf: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(built_pdf, dist / "victor-serge.pdf")  # the last good output: the session's build of the same manuscript
    before = (dist / "victor-serge.pdf").read_bytes()
    yaml_path = manuscript_copy / "book.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("page_size: A5", "page_size: half-letter"))
    process = subprocess.Popen([*INVOKE, "pdf", "--manuscript", str(manuscript_copy), "--dist", str(dist)],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert process.stderr.readline().startswith("parse")  # layout has begun
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert (dist / "victor-serge.pdf").read_bytes() == before
    assert [p.name for p in dist.iterdir()] == ["victor-serge.pdf"]


def test_concurrent_builds_never_leave_a_damaged_file(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", *[f"# Chapter {n}\n\n{'Words on a page. ' * 60}\n" for n in range(1, 4)], author="A. Writer")
    dist = tmp_path / "dist"
    # Four builds at once, each in a process of its own as from four terminals; forked from this process, which has
    # imported samizdat and WeasyPrint already, so that they start together and spend their time building.
    fork = multiprocessing.get_context("fork")
    processes = [fork.Process(target=build, args=(task, manuscript, dist)) for task in ("pdf", "pdf", "epub", "epub")]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert pdfread.syntax_problems(dist / "t.pdf") == []
    assert sorted(p.name for p in dist.iterdir() if not p.name.startswith(".samizdat")) == ["t.epub", "t.pdf"]
    assert not list(dist.rglob("*.part"))


class Lines:
    """A process's stderr lines, read on a thread so that waiting for one can time out."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.queue.put(line) for line in process.stderr], daemon=True).start()

    def wait_for(self, pattern: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return
        pytest.fail(f"never saw {pattern!r}: {''.join(self.seen)}")


def test_watch_rebuilds_on_save_and_keeps_watching_after_an_error(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n", "# Two\n\nMore text.\n", author="A. Writer")
    styles = Path(shutil.copytree(ROOT / "styles", tmp_path / "styles"))
    dist = tmp_path / "dist"
    process = subprocess.Popen([*INVOKE, "watch", "--formats", "pdf", "--manuscript", str(manuscript), "--dist", str(dist),
                                "--styles", str(styles)],
                               cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", "SOURCE_DATE_EPOCH": EPOCH})
    lines = Lines(process)
    try:
        lines.wait_for(r"^watch\s+watching")
        first = (dist / "t.pdf").read_bytes()
        chapter = manuscript / "02.md"
        append(chapter, "\nA new closing sentence.\n")
        lines.wait_for(r"^watch\s+changed: 02.md")
        lines.wait_for(r"^watch\s+rebuilt pdf\s+\[\d+\.\d+s\]")
        after_edit = (dist / "t.pdf").read_bytes()
        assert after_edit != first
        append(chapter, "\nA broken call[^nowhere].\n")
        lines.wait_for(r"error\[N101\]: footnote \[\^nowhere\] has no definition")
        lines.wait_for(r"^watch\s+build failed")
        assert (dist / "t.pdf").read_bytes() == after_edit
        chapter.write_text(chapter.read_text().replace("[^nowhere]", ""))
        lines.wait_for(r"^watch\s+rebuilt pdf")
        fixed = (dist / "t.pdf").read_bytes()
        append(styles / "print.css", "\n.chapter p { letter-spacing: 0.02em; }\n")  # a save in the styles folder
        lines.wait_for(r"^watch\s+changed: print.css")
        lines.wait_for(r"^watch\s+rebuilt pdf")
        assert (dist / "t.pdf").read_bytes() != fixed
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.mark.parametrize("task, missing", [("pdf", "print.css"), ("epub", "epub.css"), ("epub", "cover.css")])
def test_a_restyled_folder_missing_a_stylesheet_is_named(tmp_path: Path, task: str, missing: str) -> None:
    styles = tmp_path / "styles"
    shutil.copytree(ROOT / "styles", styles)
    (styles / missing).unlink()
    [finding] = findings(refusal(task, MANUSCRIPT, tmp_path / "dist", styles))
    assert finding["file"].endswith(missing) and "stylesheet not found" in finding["message"]
