"""The rule catalogue: one small manuscript per rule in, the expected finding out (in-process, no build)."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest

from conftest import ROOT
from fuzz.manuscripts import png_bomb
from samizdat.book import load_book
from samizdat.errors import ManuscriptError
from samizdat.rules import RULES

GOOD_YAML = "title: A Book\nlanguage: en\nauthor: A. Writer\n"
GOOD_CHAPTER = "# One\n\nText.\n"
SMALL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="  # 1×1 pixel


def _small_jpeg() -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 0, 0)).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


SMALL_JPEG = _small_jpeg()

# code → (book.yaml, {file: text}, expected line or None, fragment of the message)
CASES: dict[str, tuple[str, dict[str, str], int | None, str]] = {
    "M101": ("title: [unclosed\n", {}, 2, "invalid YAML"),
    "M102": ("language: en\n", {}, None, "'title' is required"),
    "M103": (GOOD_YAML + "date: 2024-02-30\n", {}, 4, "'date' must be a date"),
    "M104": (GOOD_YAML + "identifier: urn:isbn:9780306406150\n", {}, 4, "check digit should be 7"),
    "M105": (GOOD_YAML + "colour: red\n", {}, 4, "unknown key 'colour'"),
    "M106": (GOOD_YAML + "lint:\n  ignore: [L101]\n", {}, 5, "only warnings can be silenced"),
    "M107": ("title: A Book\nlanguage: eo\n", {}, 2, "eo"),
    "M108": ("title: A Book\nlanguage: en\n", {}, 1, "no 'author'"),
    "C101": (GOOD_YAML + "chapters:\n  - missing.md\n", {}, 5, "not found"),
    "C102": (GOOD_YAML, {"01.md": "# One\n\nA bell\x07 rings.\n"}, 3, "control character U+0007"),
    "C103": (GOOD_YAML, {"01.md": "Text before any title.\n"}, 1, "must begin with its title"),
    "C104": (GOOD_YAML, {"01.md": "# One {#same}\n\n## Two {#same}\n"}, 3, "'#same' is used twice"),
    "C105": (GOOD_YAML, {"01.md": "# One\n\nA " + "x" * 400 + ".\n"}, 3, "a word of 401 letters"),
    "C107": (GOOD_YAML, {"01.md": "# One\n\n## Two\n\n# Three\n\nText.\n\n<div>\n<h3>Four</h3>\n</div>\n"}, 10, "a level-3 heading follows a level-1 one"),
    "L101": (GOOD_YAML, {"01.md": "# One\n\nA [link](JaVaScRiPt:alert(1)).\n"}, 3, "only http, https, mailto and tel"),
    "L102": (GOOD_YAML, {"01.md": "# One\n\nSee [there](02.md).\n"}, 3, "'02.md' is not a chapter"),
    "L103": (GOOD_YAML, {"01.md": "# One {#one}\n\nSee [](#one) and [ *there* ](#one).\n"}, 3, "link '#one' has no text"),
    "N101": (GOOD_YAML, {"01.md": "# One\n\nA claim.[^ghost]\n"}, 3, "[^ghost] has no definition"),
    "N102": (GOOD_YAML, {"01.md": "# One\n\nText.\n\n[^spare]: Never used.\n"}, 5, "[^spare] is defined but never used"),
    "I101": (GOOD_YAML, {"01.md": "# One\n\n![A map](images/none.png)\n"}, 3, "not found"),
    "I102": (GOOD_YAML, {"01.md": "# One\n\n![](dot.svg)\n", "dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'}, 3, "no alt text"),
    "I103": (GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.png)\n", "dot.png": "not a picture"}, 3, "is not a PNG image"),
    "I104": (GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.svg)\n", "dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'}, 3, "event handler onload="),
    "H101": (GOOD_YAML, {"01.md": "# One\n\n<iframe src=x></iframe>\n"}, 3, "<iframe> is not allowed"),
    "H102": (GOOD_YAML, {"01.md": "# One\n\nA <span style=\"color:red\">word</span>.\n"}, 3, "'style'"),
    "H103": (GOOD_YAML, {"01.md": "# One\n\nAn <b>unclosed word.\n"}, 3, "<b> is not closed"),
    "H104": (GOOD_YAML, {"01.md": "# One\n\nA [word]{style=\"color:red\"}.\n"}, 3, "'style' is not allowed on a span"),
    "T101": (GOOD_YAML, {"01.md": "# One\n\nHe said \"stop.\n"}, 3, "straight quote"),
    "T102": (GOOD_YAML, {"01.md": "# One\n\nA snowman \u2603.\n"}, 3, "U+2603 SNOWMAN"),
    "T103": (GOOD_YAML, {"01.md": "# One\n\nЭто длинный абзац на русском языке.\n"}, 3, "mostly in Cyrillic script"),
    "S102": (GOOD_YAML, {"01.md": GOOD_CHAPTER, "../styles/labels.yaml": "contnets: Inhalt\n"}, None, "contnets"),
}


def write_manuscript(root: Path, book_yaml: str, files: dict[str, str]) -> Path:
    manuscript = root / "manuscript"
    manuscript.mkdir(parents=True)
    (manuscript / "book.yaml").write_text(book_yaml, encoding="utf-8")
    files = files if any(name.endswith(".md") for name in files) else {"01.md": GOOD_CHAPTER, **files}
    for name, text in files.items():
        path = manuscript / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return manuscript


def findings_of(manuscript: Path) -> list:
    styles = manuscript.parent / "styles"
    try:
        return list(load_book(manuscript, styles if styles.is_dir() else None).warnings)
    except ManuscriptError as error:
        return list(error.findings)


def test_every_rule_has_a_case_here() -> None:
    # S101 (stylesheets) is tested by building (tests/test_editor.py), S103 (WeasyPrint's log) in tests/test_robustness.py,
    # P… (press PDFs) in tests/test_preflight.py, U… (tagged PDFs) in tests/test_pdfua.py.
    # I105 and I106 (print resolution) need raster images: tests/test_claims.py. C106 (the layout time limit): tests/test_robustness.py.
    untested = {code for code in set(RULES) - set(CASES) - {"S101", "S103", "I105", "I106", "C106"} if not code.startswith(("P", "U"))}
    assert not untested


@pytest.mark.parametrize("code", CASES)
def test_rule_reports_its_finding(code: str, tmp_path: Path) -> None:
    book_yaml, files, line, fragment = CASES[code]
    found = findings_of(write_manuscript(tmp_path, book_yaml, files))
    matching = [f for f in found if f.code == code]
    assert matching, [str(f) for f in found]
    assert any(fragment in f.message for f in matching), [str(f) for f in matching]
    if line is not None:
        assert any(f.line == line for f in matching), [str(f) for f in matching]
    assert all(f"{RULES[code].level}[{code}]" in str(f) for f in matching)


def test_a_book_can_silence_a_warning_but_not_an_error(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML + "lint:\n  ignore: [T101, t102]\n", {"01.md": "# One\n\nHe said \"stop \u2603.\n"})
    assert findings_of(manuscript) == []


def test_check_rules_lists_the_catalogue_as_the_readme_does() -> None:
    """The README's checks table has one row per rule, with the same code and level."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Z]\d{3})` \| (error|warning) \|", readme, re.M))
    assert rows == {code: rule.level for code, rule in RULES.items()}


def test_a_link_with_no_text_is_refused_in_raw_html_too_and_one_with_an_image_is_not(tmp_path: Path) -> None:
    chapter = ('# One {#one}\n\nSee <a href="#one"></a> and [![A dot](dot.svg)](#one).\n\n<p><a href="#one"> </a></p>\n')
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter, "dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'})
    with pytest.raises(ManuscriptError) as refused:
        load_book(manuscript)
    assert [(line.split(":")[1], "L103" in line) for line in str(refused.value).splitlines()] == [("3", True), ("5", True)]


# The other ways a rule is broken, each with its message, and the limits at their edges.
FURTHER_CASES: dict[str, tuple[str, str, dict[str, str], int | None, str]] = {
    "a chapter listed twice": ("C101", GOOD_YAML + "chapters:\n  - 01.md\n  - 01.md\n", {"01.md": GOOD_CHAPTER}, 6, "'01.md' is listed twice"),
    "a YAML alias": ("M101", GOOD_YAML + "subjects: &a [x]\nkeywords: *a\n", {}, 4, "aliases (*name) are not allowed"),
    "a YAML merge key": ("M101", GOOD_YAML + "a: &b {x: 1}\nc:\n  <<: *b\n", {}, 4, "aliases (*name) are not allowed"),
    "a Python tag": ("M101", GOOD_YAML + "description: !!python/object:os.system x\n", {}, 4, "python/object:os.system' is not allowed"),
    "a custom tag": ("M101", GOOD_YAML + "description: !custom x\n", {}, 4, "the YAML tag '!custom' is not allowed"),
    "a heading two levels down, after headings that go down one and back up": (
        "C107", GOOD_YAML, {"01.md": "# One\n\n## Two\n\n### Three\n\n# Four\n\n### Five\n"}, 9, "a level-3 heading follows a level-1 one"),
    "a class samizdat keeps for itself, in a span": ("H104", GOOD_YAML, {"01.md": "# One\n\nA [word]{.samizdat-whole}.\n"}, 3,
                                                    'class="samizdat-whole" on a span is not a valid value'),
    "a class samizdat keeps for itself, in raw HTML": ("H102", GOOD_YAML, {"01.md": '# One\n\nA <span class="x samizdat-y">word</span>.\n'}, 3,
                                                       "samizdat-y"),
    "an SVG that embeds a damaged PNG": ("I103", GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.svg)\n", "dot.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image width="4" height="4" '
        'href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"/></svg>')}, 3, "embeds a picture that cannot be decoded as PNG"),
    "an SVG that embeds JPEG data called PNG": ("I103", GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.svg)\n", "dot.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image width="4" height="4" '
        f'href="data:image/png;base64,{SMALL_JPEG}"/></svg>')}, 3, "is JPEG data, not PNG as its data: URL says"),
    "an SVG that embeds a decompression bomb": ("I103", GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.svg)\n", "dot.svg": (
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image width="4" height="4" '
        f'href="data:image/png;base64,{base64.b64encode(png_bomb()).decode()}"/></svg>')}, 3, "embeds a picture that has more than 40 million pixels"),
    "a word of 301 letters": ("C105", GOOD_YAML, {"01.md": "# One\n\nA " + "x" * 301 + " word.\n"}, 3, "a word of 301 letters"),
    "41 note calls in a paragraph": ("C105", GOOD_YAML, {"01.md": "# One\n\nCalls" + "[^a]" * 41 + ".\n\n[^a]: A note.\n"}, 3, "41 note calls"),
}


@pytest.mark.parametrize("case", FURTHER_CASES)
def test_each_way_a_rule_is_broken_reports_it(case: str, tmp_path: Path) -> None:
    code, book_yaml, files, line, fragment = FURTHER_CASES[case]
    found = findings_of(write_manuscript(tmp_path, book_yaml, files))
    assert [(f.code, f.line) for f in found if fragment in f.message] == [(code, line)], [str(f) for f in found]


@pytest.mark.parametrize("chapter", ["# One\n\nA " + "x" * 300 + " word.\n", "# One\n\nCalls" + "[^a]" * 40 + ".\n\n[^a]: A note.\n"])
def test_a_word_of_300_letters_and_40_note_calls_are_within_the_limits(chapter: str, tmp_path: Path) -> None:
    assert findings_of(write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter})) == []


def test_a_folder_without_chapters_or_without_book_yaml_is_one_finding(tmp_path: Path) -> None:
    empty = write_manuscript(tmp_path / "empty", GOOD_YAML, {})
    (empty / "01.md").unlink()
    [finding] = findings_of(empty)
    assert (finding.code, finding.path) == ("C101", empty) and "no chapters" in finding.message
    bare = write_manuscript(tmp_path / "bare", GOOD_YAML, {})
    (bare / "book.yaml").unlink()
    [finding] = findings_of(bare)
    assert (finding.code, finding.path.name) == ("M101", "book.yaml") and "missing" in finding.message


def test_each_repeat_of_a_chapter_is_named_at_its_own_line(tmp_path: Path) -> None:
    book_yaml = GOOD_YAML + "chapters:\n  - 01.md\n  - 02.md\n  - 01.md\n  - 01.md\n  - 03.md\n"
    found = findings_of(write_manuscript(tmp_path, book_yaml, {"01.md": GOOD_CHAPTER, "02.md": GOOD_CHAPTER}))
    assert [(f.line, f.message) for f in found] == [(7, "chapter '01.md' is listed twice"), (8, "chapter '01.md' is listed twice"),
                                                    (9, "chapter '03.md' not found")]


def test_an_svg_that_embeds_a_sound_picture_passes(tmp_path: Path) -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><image width="4" height="4" '
           f'href="data:image/png;base64,{SMALL_PNG}"/></svg>')
    assert findings_of(write_manuscript(tmp_path, GOOD_YAML, {"01.md": "# One\n\n![A dot](dot.svg)\n", "dot.svg": svg})) == []
