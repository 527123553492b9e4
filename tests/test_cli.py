"""The task boundary: one clear line for a manuscript problem, a non-zero exit, and nothing lost."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

import pdfread
from conftest import run_task


def build(manuscript: Path, dist: Path):
    return run_task("pdf", "--manuscript", str(manuscript), "--dist", str(dist), "--quiet")


@pytest.fixture()
def good_build(manuscript_copy: Path, tmp_path: Path) -> tuple[Path, Path, bytes]:
    dist = tmp_path / "dist"
    result = build(manuscript_copy, dist)
    assert result.returncode == 0, result.stderr
    output = dist / "victor-serge.pdf"
    return manuscript_copy, dist, output.read_bytes()


def assert_refused(result, *fragments: str) -> None:
    assert result.returncode != 0
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
    result = build(manuscript, dist)
    assert_refused(result, *fragments)
    assert (dist / "victor-serge.pdf").read_bytes() == before
    assert [p.name for p in dist.iterdir()] == ["victor-serge.pdf"], "a temporary file was left behind"


def test_unknown_key_is_a_warning_naming_it(manuscript_copy: Path, tmp_path: Path) -> None:
    (manuscript_copy / "book.yaml").write_text((manuscript_copy / "book.yaml").read_text() + "colour: red\n")
    result = build(manuscript_copy, tmp_path / "dist")
    assert result.returncode == 0
    assert re.search(r"book\.yaml:\d+: warning\[M105\]: unknown key 'colour'", result.stderr)


def test_default_identifier_is_stable_and_chapters_default_to_sorted_files(manuscript_copy: Path, tmp_path: Path) -> None:
    text = (manuscript_copy / "book.yaml").read_text()
    (manuscript_copy / "book.yaml").write_text(text.split("chapters:")[0])
    first = build(manuscript_copy, tmp_path / "a")
    second = build(manuscript_copy, tmp_path / "b")
    assert first.returncode == second.returncode == 0
    outlines = [[item.title for item in PdfReader(tmp_path / d / "victor-serge.pdf").outline if not isinstance(item, list)] for d in "ab"]
    assert outlines[0] == outlines[1] == ["Beginnings", "Prison, Spain and Russia", "Terror and Degeneration", "Opposition and Exile", "The Chronicler"]
    assert "urn:uuid" not in pdfread.text(tmp_path / "a" / "victor-serge.pdf"), "a generated identifier means nothing to a reader"
    identifiers = []
    for d in "ab":
        assert run_task("epub", "--manuscript", str(manuscript_copy), "--dist", str(tmp_path / d), "--quiet").returncode == 0
        with zipfile.ZipFile(tmp_path / d / "victor-serge.epub") as epub:
            identifiers.append(re.findall(r"<dc:identifier[^>]*>(urn:uuid:[0-9a-f-]{36})<", epub.read("EPUB/content.opf").decode()))
    assert identifiers[0] == identifiers[1] and len(identifiers[0]) == 1


def test_tasks_are_listed_with_descriptions() -> None:
    result = run_task("--list")
    assert result.returncode == 0
    assert "pdf" in result.stdout and "pamphlet" in result.stdout
