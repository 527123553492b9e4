"""The web edition (``invoke html``, ``invoke html --single``), read back with other tools than the ones that wrote it:
the Nu Html Checker, axe-core in headless Chromium (driven by puppeteer-core), lxml and fontTools."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from environment import JAVA, JAVA_FLAGS, NODE_BIN, install_node_packages, node_environment
from conftest import MANUSCRIPT, ROOT, build, chapter_files, chapter_titles, manuscript_words, normalise_words, refusal
from samizdat.fonts import BOOK_FONTS, MONO, SERIF

pytestmark = pytest.mark.long

A11Y = ROOT / "tests" / "a11y" / "node_modules"
VNU = A11Y / "vnu-jar" / "build" / "dist" / "vnu.jar"
FIXTURE = ROOT / "tests" / "fixtures" / "every-feature.md"
CHROMIUM = os.environ.get("PUPPETEER_EXECUTABLE_PATH", "/usr/bin/chromium")
PHONE = 390

RUSSIAN = """# Тихий голос {#tikhiy-golos}

::: {lang=ru}
Серж писал по-французски, но думал по-русски.[^ru] См. [главу о Мексике](04-opposition-and-exile.md#mexico-city)
и [начало книги](01-beginnings.md); *курсив*, **полужирный**, `код`.

![Маленькая картинка](images/dot.png "Точка: растровое изображение.")

## Годы {#gody}

| Год | Город |
|-----|------:|
| 1919 | Петроград |
| 1933 | Оренбург |

Назад к [таблице](#gody) и к [заметкам](06-every-feature.md#lists).
:::

[^ru]: [Примечание с *курсивом*, `кодом` и [ссылкой](05-the-chronicler.md#the-novels).]{lang=ru}
"""


def feature_manuscript(folder: Path) -> Path:
    """The seed, the every-feature chapter, and a Russian chapter with a PNG figure, a table, a note and links across chapters."""
    shutil.copytree(MANUSCRIPT, folder)
    shutil.copy(FIXTURE, folder / "06-every-feature.md")
    (folder / "07-russian.md").write_text(RUSSIAN, encoding="utf-8")
    Image.new("RGB", (40, 20), (139, 30, 30)).save(folder / "images" / "dot.png")
    (folder / "book.yaml").write_text((folder / "book.yaml").read_text() + "  - 06-every-feature.md\n  - 07-russian.md\n")
    return folder


def build_web(manuscript: Path, dist: Path, single: bool = False) -> Path:
    warnings: list[str] = []
    path = build("html", manuscript, dist, single=single, warnings=warnings)
    assert warnings == []
    return path


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """The feature book (the seed's chapters and two more), as a site and as a single file: built once for the module,
    since a web build subsets four variable fonts (seconds); the seed alone would add no page, template or furniture."""
    root = tmp_path_factory.mktemp("web")
    feature = feature_manuscript(root / "feature")
    build_web(feature, root / "dist")
    build_web(feature, root / "dist", single=True)
    return {"site": root / "dist" / "victor-serge-web", "single": root / "dist" / "victor-serge.html", "manuscript": feature}


def pages(builds: dict[str, Path]) -> list[Path]:
    """Every HTML page of the two outputs."""
    return sorted(builds["site"].glob("*.html")) + [builds["single"]]


def parse(page: Path):
    return lxml.html.fromstring(page.read_bytes())


def test_the_site_has_an_index_and_a_page_per_chapter(builds: dict[str, Path]) -> None:
    site = builds["site"]
    names = sorted(path.name for path in site.glob("*.html"))
    assert names == ["01-beginnings.html", "02-prison-spain-and-russia.html", "03-terror-and-degeneration.html",
                     "04-opposition-and-exile.html", "05-the-chronicler.html", "06-every-feature.html", "07-russian.html", "index.html"]
    assert (site / "images" / "dot.png").read_bytes() == (builds["manuscript"] / "images" / "dot.png").read_bytes()
    assert not list(site.rglob("*.svg")), "an SVG is embedded in <img> as a data: URL, never served as a document"
    assert not list(site.parent.glob(".*.part*")), "the temporary folder is gone"
    index = parse(site / "index.html")
    assert [a.text_content() for a in index.cssselect("nav.contents > ol > li > a")][-1] == "Тихий голос"
    assert index.cssselect("h1.cover-title")[0].text_content().startswith("Victor Serge")
    assert index.cssselect("h1.cover-title")[0].get("aria-label") == "Victor Serge: Revolutionary and Chronicler of Revolution"
    assert "24 November 2026" in index.cssselect("footer.imprint")[0].text_content()
    sections = {item.cssselect(":scope > a")[0].text_content(): [a.text_content() for a in item.cssselect(":scope > ol > li > a")]
                for item in index.cssselect("nav.contents > ol > li")}  # each chapter's ## headings, under it
    assert sections["Opposition and Exile"] == ["Mexico City"] and sections["The Chronicler"] == ["The novels", "Remembering Serge"]
    assert sections["Beginnings"] == [] and all(a.get("href").startswith("05-the-chronicler.html#") for a in index.cssselect("nav.contents > ol > li:nth-child(5) ol a"))


def test_pages_link_to_their_neighbours(builds: dict[str, Path]) -> None:
    site = builds["site"]
    first, last = parse(site / "01-beginnings.html"), parse(site / "07-russian.html")
    assert first.cssselect("nav.pager a[rel=prev]")[0].get("href") == "index.html"
    assert first.cssselect("nav.pager a[rel=next]")[0].get("href") == "02-prison-spain-and-russia.html"
    assert last.cssselect("nav.pager a[rel=prev]")[0].get("href") == "06-every-feature.html"
    assert not last.cssselect("nav.pager a[rel=next]")
    # Two navigation landmarks on a page, two names: the pager is not a second "Contents".
    assert first.cssselect("nav.pager")[0].get("aria-label") == "Chapters"


def test_every_internal_link_and_fragment_resolves(builds: dict[str, Path]) -> None:
    """Every href and src that is not a data: URL or an address outside the book names a file of the output and an id in it."""
    checked = 0
    for page in pages(builds):
        ids = {}
        root = parse(page)
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is None or value.startswith("data:") or urlsplit(value).scheme in {"http", "https", "mailto", "tel"}:
                    continue
                parts = urlsplit(value)
                target = page.parent / unquote(parts.path) if parts.path else page
                assert target.is_file(), f"{page.name}: {value} names no file"
                if parts.fragment:
                    if target not in ids:
                        ids[target] = {e.get("id") for e in parse(target).iter() if e.get("id")}
                    assert parts.fragment in ids[target], f"{page.name}: {value}: no id '{parts.fragment}' in {target.name}"
                checked += 1
    assert checked > 100


def test_cross_chapter_links_point_at_pages_and_fragments(builds: dict[str, Path]) -> None:
    russian = parse(builds["site"] / "07-russian.html")
    hrefs = [a.get("href") for a in russian.cssselect("main a")]
    assert {"04-opposition-and-exile.html#mexico-city", "01-beginnings.html", "#gody", "06-every-feature.html#lists",
            "05-the-chronicler.html#the-novels"} <= set(hrefs)
    single = parse(builds["single"])
    hrefs = [a.get("href") for a in single.cssselect("main a")]
    assert {"#mexico-city", "#beginnings", "#gody", "#lists", "#the-novels"} <= set(hrefs)


def test_notes_are_at_the_end_of_each_page_with_backlinks_and_beside_the_text(builds: dict[str, Path]) -> None:
    page = parse(builds["site"] / "06-every-feature.html")
    calls = page.cssselect("a[role=doc-noteref]")
    assert [(a.text, a.get("href")) for a in calls] == [("2", "#note-2"), ("2", "#note-2"), ("3", "#note-3")]
    notes = page.cssselect("section.notes[role=doc-endnotes] > ol > li")
    assert [li.get("id") for li in notes] == ["note-2", "note-3"]
    assert page.cssselect("section.notes > ol")[0].get("start") == "2"
    backlinks = [a.get("href") for a in notes[0].cssselect("a[role=doc-backlink]")]
    assert backlinks == [f"#{calls[0].get('id')}", f"#{calls[1].get('id')}"]
    assert "The first note, with emphasis" in notes[0].text_content()
    # The copy beside the text follows the first call only, hidden from screen readers, its links out of the tab order.
    sidenotes = page.cssselect("p > span.sidenote")
    assert len(sidenotes) == 2 and all(s.get("aria-hidden") == "true" for s in sidenotes)
    assert "The first note, with emphasis" in sidenotes[0].text_content()
    assert all(a.get("tabindex") == "-1" and not a.get("id") for s in sidenotes for a in s.iter("a"))


def test_language_direction_and_figures(builds: dict[str, Path], tmp_path: Path) -> None:
    page = parse(builds["site"] / "07-russian.html")
    assert (page.get("lang"), page.get("dir")) == ("en", "ltr")
    figure = page.cssselect("figure")[0]
    assert figure.cssselect("img")[0].get("src") == "images/dot.png"
    assert figure.cssselect("figcaption")[0].text_content() == "Точка: растровое изображение."
    assert [td.get("class") for td in page.cssselect("td")] == [None, "align-right"] * 2
    from samizdat.book import load_book
    from samizdat.web import site_pages

    hebrew = tmp_path / "he"
    shutil.copytree(MANUSCRIPT, hebrew)
    # An English text with Hebrew furniture: the book silences the warning that its text is not Hebrew.
    (hebrew / "book.yaml").write_text((hebrew / "book.yaml").read_text().replace("language: en", "language: he").replace("[M108]", "[M108, T103]"))
    book = load_book(hebrew)
    pages = site_pages(book, {asset.name: asset.name for asset in book.assets}, [])  # without the fonts a build would subset
    index = lxml.html.fromstring(pages["index.html"])
    assert (index.get("lang"), index.get("dir")) == ("he", "rtl")
    chapter = lxml.html.fromstring(pages["01-beginnings.html"])
    assert chapter.cssselect("a[rel=next] span")[0].text == "←"  # the way the text runs


def test_every_word_of_the_manuscript_is_present(builds: dict[str, Path]) -> None:
    """Every word of the seed's chapters, found in those chapters' own pages and sections (not the added chapters')."""
    expected = manuscript_words()
    seed = [path.stem for path in chapter_files()]
    site = "\n".join(parse(builds["site"] / f"{stem}.html").text_content() for stem in seed)
    titles = set(chapter_titles())
    sections = [section for section in parse(builds["single"]).cssselect("section.chapter") if section.cssselect("h1")[0].text_content() in titles]
    assert len(sections) == len(seed)
    single = "\n".join(section.text_content() for section in sections)
    for text in (site, single):
        missing = expected - normalise_words(text)
        assert not missing, sorted(missing)[:20]


def test_the_single_file_fetches_nothing(builds: dict[str, Path]) -> None:
    """Every resource is a data: URL; links go within the file, or are the author's links to elsewhere."""
    root = parse(builds["single"])
    for element in root.iter():
        if element.get("src") is not None:
            assert element.get("src").startswith("data:"), element.get("src")[:80]
        href = element.get("href")
        if href is not None:
            assert href.startswith("#") or (element.tag == "a" and urlsplit(href).scheme in {"https", "mailto"}), href
    assert not root.cssselect("link, script, iframe, object, embed, base")
    style = root.cssselect("style")[0].text
    assert not [url for url in re.findall(r"url\(\s*[\"']?([^\"')\s]+)", style) if not url.startswith("data:")]
    assert "https://example.org/serge?a=1&b=2" in [a.get("href") for a in parse(builds["single"]).iter("a")]


def test_no_script_anywhere_and_a_policy_that_forbids_it(builds: dict[str, Path], tmp_path: Path) -> None:
    evil = tmp_path / "evil"
    shutil.copytree(MANUSCRIPT, evil)
    (evil / "images" / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script>'
                                              '<rect width="10" height="10" onclick="alert(2)"/></svg>')
    chapter = evil / "03-terror-and-degeneration.md"
    chapter.write_text(chapter.read_text() + "\n![A red square](images/evil.svg)\n")
    refused = refusal("html", evil, tmp_path / "dist")
    assert "error[I104]" in refused and "<script>" in refused, refused
    assert not (tmp_path / "dist").exists()  # an SVG with a script never reaches any output
    for page in pages(builds):
        root = parse(page)
        assert not root.cssselect("script, iframe, object, embed")
        assert not [name for element in root.iter() for name in element.attrib if name.startswith("on") or name == "style"]
        [policy] = [m.get("content") for m in root.cssselect("meta[http-equiv=Content-Security-Policy]")]
        assert "default-src 'none'" in policy and "script-src" not in policy
    figure = parse(builds["site"] / "01-beginnings.html").cssselect("figure img")[0]
    assert figure.get("src").startswith("data:image/svg+xml;base64,")  # an SVG only ever as an image, never a page of its own


def test_fonts_are_woff2_subsets_that_draw_every_character(builds: dict[str, Path]) -> None:
    site = builds["site"]
    text = "".join(parse(page).text_content() for page in site.glob("*.html"))
    fonts = {path.name: TTFont(path) for path in (site / "fonts").glob("*.woff2")}
    assert set(fonts) == {"source-serif-4.woff2", "source-serif-4-italic.woff2", "source-sans-3.woff2", "source-code-pro.woff2"}
    for name, font in fonts.items():
        assert font.flavor == "woff2"
        assert {"wght"} <= {axis.axisTag for axis in font["fvar"].axes}, "still a variable font"
    serif = set(fonts["source-serif-4.woff2"].getBestCmap())
    assert {ord(c) for c in text if not c.isspace()} <= serif
    assert ord("Ж") in set(fonts["source-serif-4-italic.woff2"].getBestCmap())
    assert len(serif) < 1000, "subset to what the book uses"
    assert sum(path.stat().st_size for path in (site / "fonts").glob("*.woff2")) < 400_000
    single = builds["single"].read_text()
    assert single.count("data:font/woff2;base64,") == 4
    # Each keeps its font's own date, so that the bytes do not depend on the hour of the build; no hinting.
    assert {font["head"].modified for font in fonts.values()} <= {TTFont(face.path)["head"].modified for face in BOOK_FONTS}
    assert not any({"fpgm", "prep", "cvt "} & set(font.keys()) for font in fonts.values())


def test_without_harfbuzzs_subsetter_fonttools_makes_the_same_subset() -> None:
    from samizdat import web

    mono = next(face.path for face in BOOK_FONTS if face.family == MONO)
    codepoints = sorted(map(ord, "Serge, «Мемуары» — 1947"))
    harfbuzz, fonttools = (TTFont(io.BytesIO(web._woff2(subset(mono.read_bytes(), codepoints))))
                           for subset in (web._subset_with_harfbuzz, web._subset_with_fonttools))
    assert set(harfbuzz.getBestCmap()) == set(fonttools.getBestCmap()) >= set(codepoints)
    assert [axis.axisTag for axis in harfbuzz["fvar"].axes] == [axis.axisTag for axis in fonttools["fvar"].axes] == ["wght"]


def test_a_bad_stylesheet_stops_the_build_and_keeps_the_last_good_site(builds: dict[str, Path], tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    for name in ("victor-serge-web", ".samizdat-cache"):  # the good site, as its build left it
        shutil.copytree(builds["site"].parent / name, dist / name)
    before = {path: path.read_bytes() for path in (dist / "victor-serge-web").rglob("*") if path.is_file()}
    styles = tmp_path / "styles"
    shutil.copytree(ROOT / "styles", styles)
    (styles / "web.css").write_text((styles / "web.css").read_text() + '\nbody {\n  background: url("https://cdn.example/x.png");\n}\n')
    refused = refusal("html", builds["manuscript"], dist, styles)
    line = len((styles / "web.css").read_text().splitlines()) - 1
    assert f"web.css:{line}: error[S101]: refused to load 'https://cdn.example/x.png'" in refused
    assert {path: path.read_bytes() for path in (dist / "victor-serge-web").rglob("*") if path.is_file()} == before
    assert sorted(path.name for path in dist.iterdir()) == [".samizdat-cache", "victor-serge-web"]


def test_the_nu_html_checker_finds_no_error(builds: dict[str, Path]) -> None:
    install_node_packages()
    result = subprocess.run([JAVA, *JAVA_FLAGS, "-jar", str(VNU), "--format", "json", "--errors-only", *map(str, pages(builds))],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    assert [(Path(urlsplit(m.get("url", "")).path).name, m.get("lastLine"), m["message"]) for m in messages] == []


BROWSER_CHECK = r"""
const puppeteer = require(%(puppeteer)s);
const axeSource = require("fs").readFileSync(%(axe)s, "utf8");
const MODES = [[%(phone)d, "light"], [1280, "light"], [1280, "dark"]];
(async () => {
  const browser = await puppeteer.launch({executablePath: %(chromium)s, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]});
  const page = await browser.newPage();  // one tab for every page: a tab of its own costs each page a renderer's start
  let seen = {requests: [], refused: []};
  page.on("request", request => { if (!/^(file|data|about):/.test(request.url())) seen.requests.push(request.url()); });
  page.on("console", message => { if (/Refused|Content Security Policy/.test(message.text())) seen.refused.push(message.text()); });
  const mode = async (width, scheme) => {
    await page.setViewport({width, height: 844});
    await page.emulateMediaFeatures([{name: "prefers-color-scheme", value: scheme}]);
  };
  const results = [];
  for (const url of %(urls)s) {
    await page.goto("about:blank");  // the last page's late messages arrive before this, not in the next page's lists
    await mode(...MODES[0]);
    seen = {requests: [], refused: []};
    await page.goto(url, {waitUntil: "load"});
    // Each mode in turn, loaded once: what the page itself fetches and is refused in it, its fonts and width.
    const checks = [];
    for (const [width, scheme] of MODES) {
      await mode(width, scheme);
      await page.evaluate(() => document.fonts.ready);
      const fonts = await page.evaluate(() => [...document.fonts].filter(f => f.status !== "unloaded").map(f => f.family + " " + f.style + " " + f.status));
      const scrollWidth = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
      const headings = await page.evaluate(() => [...document.querySelectorAll("main h2, main h3, main h4, main h5, main h6")].map(h => {
        const style = getComputedStyle(h); return [h.tagName, parseFloat(style.fontSize), parseInt(style.fontWeight), style.fontStyle]; }));
      const smallcaps = await page.evaluate(() => [...document.querySelectorAll(".smallcaps")].map(e => getComputedStyle(e).fontVariantCaps));
      const colours = await page.evaluate(() => ({
        text: getComputedStyle(document.body).color,
        ground: [document.body, document.documentElement].map(e => getComputedStyle(e).backgroundColor).find(c => c !== "rgba(0, 0, 0, 0)") || "rgb(255, 255, 255)",
        figures: [...document.querySelectorAll("figure img")].map(img => getComputedStyle(img).backgroundColor)}));
      // Each note beside its call: where it is drawn, against the text column and the line of its call.
      const sidenotes = await page.evaluate(() => [...document.querySelectorAll("main p > .sidenote, main li > .sidenote")].map(note => {
        const box = note.getBoundingClientRect(), column = document.querySelector("main").getBoundingClientRect();
        const call = note.previousElementSibling ? note.previousElementSibling.getBoundingClientRect() : null;
        return {shown: getComputedStyle(note).display !== "none" && box.width > 0, left: box.left, columnRight: column.right,
                top: box.top, callTop: call ? call.top : null};
      }));
      checks.push({url, width, scheme, scrollWidth, requests: seen.requests, refused: seen.refused, fonts, headings, smallcaps, colours, sidenotes});
      seen = {requests: [], refused: []};
    }
    // Then axe: only now, since axe fetches stylesheets the page's policy refuses it. On the phone in light and the
    // desktop in dark, which is each width's layout and each scheme's colours: the desktop in light adds neither.
    await page.evaluate(axeSource);  // through DevTools: the page's policy forbids scripts, and rightly
    for (const check of checks) {
      check.violations = [];
      if (check.width !== %(phone)d && check.scheme === "light") continue;
      await mode(check.width, check.scheme);
      const axe = await page.evaluate(() => axe.run(document, {resultTypes: ["violations"]}));
      check.violations = axe.violations.map(v => [v.id, v.nodes.map(n => n.target.join(" ")).slice(0, 3)]);
    }
    // On paper: what print media makes of the page (black on white, no navigation or side notes, link addresses).
    await page.emulateMediaType("print");
    const printed = await page.evaluate(() => ({
      text: getComputedStyle(document.body).color,
      ground: [document.body, document.documentElement].map(e => getComputedStyle(e).backgroundColor).find(c => c !== "rgba(0, 0, 0, 0)") || "rgb(255, 255, 255)",
      hidden: [...document.querySelectorAll(".masthead, .pager, .sidenote")].map(e => getComputedStyle(e).display),
      addresses: [...document.querySelectorAll('main a[href^="http"]')].map(a => [a.getAttribute("href"), getComputedStyle(a, "::after").content])}));
    await page.emulateMediaType(null);
    checks[0].printed = printed;
    results.push(...checks);
  }
  await browser.close();
  console.log(JSON.stringify(results));
})().catch(error => { console.error(error); process.exit(1); });
"""


@pytest.fixture(scope="module")
def browser_results(builds: dict[str, Path], tmp_path_factory) -> list[dict]:
    """Every page of the site and the single file in one headless Chromium, each loaded once and checked on a phone
    and a desktop screen, light and dark: a page loaded afresh for each costs a second of processor time."""
    script = tmp_path_factory.mktemp("browser") / "check.js"
    urls = [page.as_uri() for page in pages(builds)]
    script.write_text(BROWSER_CHECK % {
        "puppeteer": json.dumps(str(A11Y / "puppeteer-core")), "axe": json.dumps(str(A11Y / "axe-core" / "axe.min.js")),
        "chromium": json.dumps(CHROMIUM), "urls": json.dumps(urls), "phone": PHONE})
    install_node_packages()
    result = subprocess.run([str(NODE_BIN / "node"), str(script)], capture_output=True, text=True, timeout=600, env=node_environment())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_axe_finds_no_violation_on_any_page_light_or_dark(browser_results: list[dict]) -> None:
    found = [(Path(r["url"]).name, r["width"], r["scheme"], r["violations"]) for r in browser_results if r["violations"]]
    assert found == []


def test_no_page_is_wider_than_a_phone(browser_results: list[dict]) -> None:
    widths = {r["url"]: r["scrollWidth"] for r in browser_results if r["width"] == PHONE}
    assert len(widths) == 9 and all(width <= PHONE for width in widths.values()), widths  # eight pages and the single file


def test_the_dark_scheme_darkens_the_page_but_keeps_illustrations_on_a_light_ground(browser_results: list[dict]) -> None:
    def brightness(colour: str) -> float:
        red, green, blue = (float(part) for part in re.findall(r"[\d.]+", colour)[:3])
        return (red + green + blue) / 3

    for result in browser_results:
        light = result["scheme"] == "light"
        colours = result["colours"]
        assert (brightness(colours["ground"]) > 200) == light and (brightness(colours["text"]) < 100) == light, result["url"]
        assert all(brightness(ground) == 255 for ground in colours["figures"]) if not light else True, (result["url"], colours)
    assert any(r["colours"]["figures"] for r in browser_results if r["scheme"] == "dark")  # the timeline, at least


def test_each_note_is_set_beside_its_call_on_a_wide_screen_and_only_there(browser_results: list[dict]) -> None:
    feature = [r for r in browser_results if r["url"].endswith("06-every-feature.html")]
    wide, phone = [r for r in feature if r["width"] == 1280][0], [r for r in feature if r["width"] == PHONE][0]
    assert wide["sidenotes"] and all(note["shown"] and note["left"] >= note["columnRight"] for note in wide["sidenotes"]), wide["sidenotes"]
    calls = [note for note in wide["sidenotes"] if note["callTop"] is not None]
    assert calls and abs(calls[0]["top"] - calls[0]["callTop"]) < 30  # level with its call's line
    assert all(note["top"] >= note["callTop"] - 10 for note in calls)  # a later one below the one before it, never above its call
    assert not any(note["shown"] for note in phone["sidenotes"])


def test_pages_print_black_on_white_without_navigation_and_with_link_addresses(browser_results: list[dict]) -> None:
    printed = [r["printed"] for r in browser_results if "printed" in r]
    assert len(printed) == 9
    for page in printed:
        assert page["text"] == "rgb(0, 0, 0)" and page["ground"] == "rgb(255, 255, 255)"
        assert set(page["hidden"]) <= {"none"}
        assert all(content == f'" ({href})"' for href, content in page["addresses"]), page["addresses"]
    assert any(page["addresses"] for page in printed) and sum(len(page["hidden"]) for page in printed) > 9  # pagers, mastheads, notes


def test_headings_step_down_and_small_capitals_are_set(browser_results: list[dict]) -> None:
    """As Chromium computes them on the feature page, phone and desktop: each heading level less prominent than the
    one above (size, then weight, then upright before italic); the .smallcaps span in small capitals."""
    for result in [r for r in browser_results if r["url"].endswith("06-every-feature.html") and r["scheme"] == "light"]:
        levels = {}
        for tag, size, weight, style in result["headings"]:
            levels.setdefault(tag, (size, weight, style == "normal"))
        ordered = [levels[f"H{n}"] for n in range(2, 7)]
        assert ordered == sorted(ordered, reverse=True) and len(set(ordered)) == 5, ordered
        assert ordered[0][2]  # the second level upright: an italic reads lighter
        assert result["smallcaps"] == ["small-caps"]


def test_pages_open_from_file_urls_with_their_fonts_and_no_request(browser_results: list[dict]) -> None:
    for result in browser_results:
        assert result["requests"] == [] and result["refused"] == [], result
        assert any(font.startswith("Source Serif 4 normal loaded") for font in result["fonts"]), result["fonts"]
        assert not [font for font in result["fonts"] if font.endswith("error")], result["fonts"]


def test_the_same_subset_gives_the_same_font_bytes_an_hour_later(monkeypatch) -> None:
    import time

    from samizdat import web

    mono = next(face.path for face in BOOK_FONTS if face.family == MONO)
    subset = web._subset_with_harfbuzz(mono.read_bytes(), sorted(map(ord, "Serge, «Мемуары» — 1947")))
    first = web._woff2(subset)
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert web._woff2(subset) == first


def test_each_face_keeps_one_subset_and_a_new_letter_subsets_only_that_face_again(tmp_path: Path, monkeypatch) -> None:
    """The cache's own rules, with the WOFF2 compression (seconds for the serif faces) left out."""
    from samizdat import web

    made: list[int] = []
    monkeypatch.setattr(web, "_woff2", lambda sfnt: made.append(len(sfnt)) or b"wOF2" + sfnt)
    upright, italic = (next(face.path for face in BOOK_FONTS if (face.family, face.style) == (SERIF, style)) for style in ("normal", "italic"))
    text = frozenset(map(ord, "Text."))
    for path in (upright, italic, upright, italic):
        web._subset(path, text, tmp_path)
    assert len(made) == 2 and len(list(tmp_path.glob("font-*.woff2"))) == 2  # the second of each from the cache
    web._subset(upright, text | {ord("é")}, tmp_path)
    web._subset(italic, text, tmp_path)
    assert len(made) == 3 and len(list(tmp_path.glob("font-*.woff2"))) == 2  # the upright's new subset replaced its old one only
