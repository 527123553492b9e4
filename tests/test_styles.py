"""The stylesheets as readers see them: notes, indents and the cover on paper; code and figures on a phone."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

import pdfread
from environment import A11Y, CHROMIUM, NODE_BIN, install_node_packages, node_environment
from tiny_book import STYLES, build, unzip, write_manuscript

NOTE = "Notetext " + "a note long enough to take several lines at the foot of the page, " * 3
PROSE = "Plain words set in a paragraph of the chapter, long enough to fill a line or two of the page. "
LONG_CODE = "result = some_function_with_a_long_name(first_argument, second_argument, third_argument, 'Привет')  # endofline"
LONG_URL = "https://example.org/a/very/long/path/that/does/not/fit/on/one/line/of/a/phone/at/all?query=string&and=more"

PRINT_CHAPTER = f"""# Chapter

Firstpara {PROSE}

Secondpara {PROSE}

## Section

Afterheading {PROSE}{''.join(f'Call.[^n{i}] ' for i in range(8))}

```
code
```

Aftercode {PROSE}

""" + "".join(f"[^n{i}]: {NOTE}\n" for i in range(8))

NEXT_CHAPTER = "# Next\n\nThe notes that did not fit go to the following page.\n"

EPUB_CHAPTER = f"""# Chapter

{PROSE}

```
{LONG_CODE}
```

A link whose text is its address: <{LONG_URL}>.

![A timeline of Serge's life](images/timeline.svg "A caption.")

Words in [small capitals]{{.smallcaps}}.

## Second

### Third

#### Fourth

##### Fifth

###### Sixth
"""


def words(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(word, xMin, yMin, xMax, yMax) of one page, read by PDFium."""
    return [(w.text, w.x0, w.top, w.x1, w.bottom) for w in pdfread.page_words(pdf, page)]


def test_footnote_rule_sits_inside_page() -> None:
    """At the top level WeasyPrint ignores @footnote ("Unknown rule"): it must be nested in an @page."""
    css = re.sub(r"/\*.*?\*/", "", (STYLES / "print.css").read_text(), flags=re.S)
    depth, page_depths = 0, []
    for token in re.finditer(r"@page\b|@footnote\b|\{|\}", css):
        if token.group() == "{":
            depth += 1
        elif token.group() == "}":
            depth -= 1
            page_depths = [d for d in page_depths if d <= depth]
        elif token.group() == "@page":
            page_depths.append(depth + 1)
        else:
            assert depth in page_depths, "@footnote outside @page"
    assert "@footnote" in css


@pytest.fixture(scope="module")
def print_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("print")
    manuscript = write_manuscript(root / "manuscript", PRINT_CHAPTER, NEXT_CHAPTER, author="Анна Автор", publisher="Pressname")
    pdf, warnings = build(manuscript, root / "dist", "pdf")
    assert warnings == []  # no CSS WeasyPrint ignored
    return pdf


def test_notes_have_a_short_rule_above_them(print_build: Path) -> None:
    pages = [page for page in range(1, pdfread.page_count(print_build) + 1) if any(w[0].startswith("Notetext") for w in words(print_build, page))]
    assert pages
    for page in pages:
        found = words(print_build, page)
        body = [w for w in found if w[0].startswith(("Afterheading", "Firstpara"))] or found
        notes_top = min(w[2] for w in found if w[0].startswith("Notetext"))
        # The rule: a row of grey pixels just above the first note, short (about 22 mm) and from the left margin.
        image = pdfread.render(print_build, page, dpi=144).convert("L")
        scale = 144 / 72
        left = int(min(w[1] for w in body) * scale)
        rows = range(int((notes_top - 14) * scale), int(notes_top * scale))
        runs = [sum(1 for x in range(left - 2, left + int(40 / 25.4 * 144)) if image.getpixel((x, y)) < 200) for y in rows]
        length_mm = max(runs) / 144 * 25.4
        assert 15 <= length_mm <= 30, (page, length_mm)


def test_notes_at_the_end_of_the_book_are_all_kept(tmp_path: Path) -> None:
    pdf, _ = build(write_manuscript(tmp_path / "manuscript", PRINT_CHAPTER), tmp_path / "dist", "pdf")
    assert pdfread.text(pdf).count("Notetext") == 8


def test_only_a_paragraph_after_a_paragraph_is_indented(print_build: Path) -> None:
    first_x = {}
    for page in range(3, pdfread.page_count(print_build) + 1):  # after the cover and the contents
        found = words(print_build, page)
        if not found:
            continue  # a blank before the back cover
        margin = min(x for _, x, *_ in found)  # left and right pages have their own margins
        for word, x, *_ in found:
            if word in {"Firstpara", "Secondpara", "Afterheading", "Aftercode", "Chapter", "Section"}:
                first_x.setdefault(word, x - margin)
    margin = first_x["Chapter"]
    assert abs(first_x["Firstpara"] - margin) < 1 and abs(first_x["Afterheading"] - margin) < 1 and abs(first_x["Aftercode"] - margin) < 1, first_x
    assert first_x["Secondpara"] - margin > 8, first_x  # 1.2 em of 10.5 pt


def test_every_cover_line_is_flush(print_build: Path) -> None:
    cover = {w[0]: w[1] for w in words(print_build, 1)}
    assert abs(cover["T"] - cover["АННА"]) < 1 and abs(cover["T"] - cover["PRESSNAME"]) < 1, cover


@pytest.fixture(scope="module")
def epub_chapter(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("epub")
    epub, _ = build(write_manuscript(root / "manuscript", EPUB_CHAPTER), root / "dist", "epub")
    chapter = next((unzip(epub, root / "unzipped")).rglob("01.xhtml"))
    assert LONG_CODE.split()[0] in chapter.read_text()
    return chapter


PROBE = """<style>html { width: 390px; }</style>
<script>//<![CDATA[
addEventListener("load", () => {
  let right = 0;
  for (const element of document.body.querySelectorAll("*")) right = Math.max(right, element.getBoundingClientRect().right);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), range = document.createRange();
  while (walker.nextNode()) { range.selectNodeContents(walker.currentNode); for (const r of range.getClientRects()) right = Math.max(right, r.right); }
  const image = document.querySelector("figure img");
  const headings = [...document.querySelectorAll("h2, h3, h4, h5, h6")].map(h => { const style = getComputedStyle(h);
    return [parseFloat(style.fontSize), parseInt(style.fontWeight), style.fontStyle, style.fontVariantCaps]; });
  document.body.setAttribute("data-probe", JSON.stringify({right, background: getComputedStyle(image).backgroundColor, font: getComputedStyle(document.querySelector("pre")).fontFamily, whiteSpace: getComputedStyle(document.querySelector("pre")).whiteSpace, dark: matchMedia("(prefers-color-scheme: dark)").matches,
    headings, smallcaps: getComputedStyle(document.querySelector(".smallcaps")).fontVariantCaps}));
});
//]]></script>
</head>"""


BROWSER = r"""
const puppeteer = require(%(puppeteer)s);
(async () => {
  const browser = await puppeteer.launch({executablePath: %(chromium)s, headless: true, args: ["--no-sandbox", "--disable-gpu"]});
  const page = await browser.newPage();
  await page.setViewport({width: 500, height: 900});
  const measured = {};
  for (const scheme of ["light", "dark"]) {
    await page.emulateMediaFeatures([{name: "prefers-color-scheme", value: scheme}]);
    await page.goto(%(url)s, {waitUntil: "load"});
    await page.waitForFunction(() => document.body.hasAttribute("data-probe"));
    measured[scheme] = JSON.parse(await page.evaluate(() => document.body.getAttribute("data-probe")));
  }
  await browser.close();
  console.log(JSON.stringify(measured));
})().catch(error => { console.error(error); process.exit(1); });
"""


@pytest.fixture(scope="module")
def phone(epub_chapter: Path) -> dict[str, dict]:
    """A copy of the chapter opened 390 px wide in one headless Chromium, light and dark, measured by a small script."""
    copy = epub_chapter.with_name("probe.xhtml")
    copy.write_text(epub_chapter.read_text(encoding="utf-8").replace("</head>", PROBE, 1), encoding="utf-8")
    script = epub_chapter.with_name("probe.js")
    script.write_text(BROWSER % {"puppeteer": json.dumps(str(A11Y / "node_modules" / "puppeteer-core")), "chromium": json.dumps(CHROMIUM),
                                 "url": json.dumps(copy.as_uri())})
    install_node_packages()
    result = subprocess.run([str(NODE_BIN / "node"), str(script)], capture_output=True, text=True, timeout=120, env=node_environment())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_is_wider_than_a_390_px_phone(phone: dict[str, dict]) -> None:
    measured = phone["light"]
    assert not measured["dark"] and measured["right"] <= 390.5, measured
    assert "Source Code Pro" in measured["font"] and "monospace" in measured["font"] and measured["whiteSpace"] in {"pre-wrap", "break-spaces"}, measured


def test_epub_headings_step_down_and_small_capitals_are_set(phone: dict[str, dict]) -> None:
    """As Chromium computes them: each level less prominent than the one above (size, then weight, then upright
    before italic); the .smallcaps span in small capitals."""
    levels = [(size, weight, style == "normal") for size, weight, style, _ in phone["light"]["headings"]]
    assert len(levels) == 5 and levels == sorted(levels, reverse=True) and len(set(levels)) == 5, levels
    assert phone["light"]["headings"][0][2] == "normal"  # the second level upright: an italic reads lighter
    assert phone["light"]["smallcaps"] == "small-caps"


def test_figures_keep_a_light_ground_in_dark_mode(phone: dict[str, dict]) -> None:
    assert phone["dark"]["dark"]  # the page was seen in dark mode
    red, green, blue, *alpha = map(float, re.findall(r"[\d.]+", phone["dark"]["background"]))
    assert min(red, green, blue) >= 240 and (not alpha or alpha[0] == 1)


def test_landmarks_are_hidden_by_the_stylesheet(epub_chapter: Path) -> None:
    css = (STYLES / "epub.css").read_text()
    assert re.search(r'@namespace epub "http://www\.idpf\.org/2007/ops"', css)
    assert re.search(r'nav\[epub\|type~="landmarks"\][^{]*\{\s*display:\s*none', css)
