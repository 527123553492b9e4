"""The task boundary: one clear line for a manuscript problem, a non-zero exit, and nothing lost."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfread
from conftest import build, refusal, run_task
from tiny_book import write_manuscript


@pytest.fixture()
def good_build(manuscript_copy: Path, built_pdf: Path, tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A scratch manuscript and a dist/ holding its good pamphlet (the session's build of the same manuscript)."""
    dist = tmp_path / "dist"
    dist.mkdir()
    shutil.copy(built_pdf, dist / "victor-serge.pdf")
    return manuscript_copy, dist, built_pdf.read_bytes()


def assert_refused(result, *fragments: str) -> None:
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


BREAKAGES = {
    "malformed yaml": ("book.yaml", lambda m: (m / "book.yaml").write_text("title: [unclosed\n"), ("book.yaml:", "error[M101]:")),
    "missing title": ("book.yaml", lambda m: (m / "book.yaml").write_text("".join(line for line in (m / "book.yaml").read_text().splitlines(True) if not line.startswith("title:"))), ("book.yaml", "'title' is required")),
    "missing chapter": ("book.yaml", lambda m: (m / "03-terror-and-degeneration.md").unlink(), ("book.yaml", "03-terror-and-degeneration.md", "not found")),
    "not utf-8": ("04", lambda m: (m / "04-opposition-and-exile.md").write_bytes("# Exil\n\nCaf\u00e9".encode("latin-1")), ("04-opposition-and-exile.md:3:", "UTF-8")),
    "missing image": ("01", lambda m: (m / "images" / "timeline.svg").unlink(), ("01-beginnings.md:5:", "images/timeline.svg", "not found")),
    "image outside": ("01", lambda m: (m / "01-beginnings.md").write_text((m / "01-beginnings.md").read_text().replace("(images/timeline.svg", "(../../etc/passwd.svg")), ("01-beginnings.md:5:", "outside the manuscript")),
    "remote image": ("01", lambda m: (m / "01-beginnings.md").write_text((m / "01-beginnings.md").read_text().replace("(images/timeline.svg", "(http://127.0.0.1:9/x.svg")), ("01-beginnings.md:5:", "http://127.0.0.1:9/x.svg")),
    "broken link": ("05", lambda m: (m / "05-the-chronicler.md").write_text((m / "05-the-chronicler.md").read_text().replace("04-opposition-and-exile.md", "04-opposition-and-exile.md#nowhere")), ("05-the-chronicler.md:", "#nowhere")),
    "undefined footnote": ("03", lambda m: (m / "03-terror-and-degeneration.md").write_text((m / "03-terror-and-degeneration.md").read_text() + "\nA claim.[^missing]\n"), ("03-terror-and-degeneration.md:", "[^missing]")),
    "script": ("03", lambda m: (m / "03-terror-and-degeneration.md").write_text((m / "03-terror-and-degeneration.md").read_text() + "\n<script>alert(1)</script>\n"), ("03-terror-and-degeneration.md:", "<script>")),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_bad_input_is_one_line_and_loses_nothing(good_build, breakage: str) -> None:
    manuscript, dist, before = good_build
    _, breaking, fragments = BREAKAGES[breakage]
    breaking(manuscript)
    [line] = refusal("pdf", manuscript, dist).splitlines()
    assert all(fragment in line for fragment in fragments), line
    assert (dist / "victor-serge.pdf").read_bytes() == before
    assert [p.name for p in dist.iterdir()] == ["victor-serge.pdf"], "a temporary file was left behind"


def test_through_the_task_a_manuscript_problem_is_one_line_on_stderr_and_exit_status_1(good_build) -> None:
    manuscript, dist, before = good_build
    (manuscript / "images" / "timeline.svg").unlink()
    result = run_task("pdf", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet")
    assert_refused(result, "01-beginnings.md:5:", "images/timeline.svg", "not found")
    assert (dist / "victor-serge.pdf").read_bytes() == before
    assert [p.name for p in dist.iterdir()] == ["victor-serge.pdf"]


def test_unknown_key_is_a_warning_naming_it(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path / "manuscript", "# One\n\nText.\n", author="A. Writer")
    (manuscript / "book.yaml").write_text((manuscript / "book.yaml").read_text() + "colour: red\n")
    warnings: list[str] = []
    assert build("pdf", manuscript, tmp_path / "dist", warnings=warnings).is_file()  # a warning does not stop the build
    assert [line for line in warnings if re.search(r"book\.yaml:4: warning\[M105\]: unknown key 'colour'", line)], warnings


def test_default_identifier_is_stable_and_chapters_default_to_sorted_files(tmp_path: Path) -> None:
    manuscript = tmp_path / "manuscript"
    manuscript.mkdir()
    (manuscript / "book.yaml").write_text("title: T\nlanguage: en\nauthor: A. Writer\n")
    for name, title in (("10-third.md", "Third"), ("02-second.md", "Second"), ("01-first.md", "First")):
        (manuscript / name).write_text(f"# {title}\n\nText.\n")
    pdf = build("pdf", manuscript, tmp_path / "a")
    assert [item.title for item in PdfReader(pdf).outline if not isinstance(item, list)] == ["First", "Second", "Third"]
    assert "urn:uuid" not in pdfread.text(pdf), "a generated identifier means nothing to a reader"
    identifiers = []
    for d in "ab":  # two builds, in two folders: the same identifier
        with zipfile.ZipFile(build("epub", manuscript, tmp_path / d)) as epub:
            identifiers.append(re.findall(r"<dc:identifier[^>]*>(urn:uuid:[0-9a-f-]{36})<", epub.read("EPUB/content.opf").decode()))
    assert identifiers[0] == identifiers[1] and len(identifiers[0]) == 1
    # Derived from the title and the authors: another of either is another book.
    from samizdat.book import load_book

    def identifier(yaml_text: str) -> str:
        (manuscript / "book.yaml").write_text(yaml_text)
        return load_book(manuscript).metadata.identifier

    assert identifier("title: T\nlanguage: en\nauthor: A. Writer\n") == identifiers[0][0]
    assert len({identifiers[0][0], identifier("title: T2\nlanguage: en\nauthor: A. Writer\n"),
                identifier("title: T\nlanguage: en\nauthor: B. Writer\n")}) == 3


def test_tasks_are_listed_with_descriptions_and_documented_one_by_one() -> None:
    result = run_task("--list")
    assert result.returncode == 0
    assert "pdf" in result.stdout and "pamphlet" in result.stdout
    assert "html" in run_task("--help", "watch").stdout


def test_a_bug_is_one_line_asking_for_a_report_and_samizdat_debug_shows_its_traceback(tmp_path: Path, monkeypatch) -> None:
    from samizdat import pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("a made-up bug")

    monkeypatch.setattr(pipeline, "build", broken)  # run_task forks: the task sees it
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n")
    task = ("epub", "--manuscript", str(manuscript), "--dist", str(tmp_path / "dist"))
    result = run_task(*task)
    [line] = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "RuntimeError: a made-up bug" in line and "this is a bug in samizdat" in line and "SAMIZDAT_DEBUG=1" in line
    debug = run_task(*task, env={**os.environ, "SAMIZDAT_DEBUG": "1"})
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr and 'raise RuntimeError("a made-up bug")' in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == line


def test_check_rules_prints_the_catalogue_one_rule_a_line() -> None:
    from samizdat.rules import RULES

    result = run_task("check", "--rules")
    assert result.returncode == 0
    printed = [line.split(maxsplit=2) for line in result.stdout.strip().splitlines()]
    assert [(code, level) for code, level, _ in printed] == [(code, rule.level) for code, rule in RULES.items()]
    assert all(summary == RULES[code].summary for code, _, summary in printed)
