"""Raw HTML is parsed and allow-listed: attacks refused with file:line, allowed markup kept in both outputs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from lxml import etree

from samizdat.book import load_book
from samizdat.errors import ManuscriptError
from test_rules import GOOD_YAML, write_manuscript

REFUSED = {
    "entity-encoded javascript": ('<a href="JaVaScRiPt&#58;alert(1)">x</a>', "L101"),
    "tab inside the scheme": ('<a href="java&#x09;script:alert(1)">x</a>', "L101"),
    "file URL": ('<a href="file:///etc/passwd">x</a>', "L101"),
    "event handler": ('<span onmouseover="alert(1)">x</span>', "H102"),
    "style attribute": ('<span style="background:url(http://x/)">x</span>', "H102"),
    "style element": ("<style>p { color: red }</style>", "H101"),
    "script": ("<script>alert(1)</script>", "H101"),
    "inline svg": ('<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "H101"),
    "namespaced attribute": ('<b foo:bar="1">x</b>', "H102"),
    "remote image": ('<img src="http://127.0.0.1:9/x.png" alt="x">', "I101"),
    "image outside": ('<img src="../../etc/passwd.png" alt="x">', "I101"),
    "div inside a paragraph": ("Text <div>block</div> text", "H101"),
    "bad nesting": ("<b><i>x</b></i>", "H103"),
    "bad lang": ('<span lang="english!!">x</span>', "H102"),
    "cdata": ("<![CDATA[x]]>", "H101"),
}


def findings_for(tmp_path: Path, chapter: str) -> list:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter})
    try:
        load_book(manuscript)
    except ManuscriptError as error:
        return [f for f in error.findings if f.level == "error"]
    return []


@pytest.mark.parametrize("name", REFUSED)
def test_unsafe_raw_html_is_refused_with_file_and_line(name: str, tmp_path: Path) -> None:
    html, code = REFUSED[name]
    found = findings_for(tmp_path, f"# One\n\nFirst paragraph.\n\n{html}\n")
    assert [f.code for f in found] == [code], [str(f) for f in found]
    assert found[0].line == 5 and found[0].path.name == "01.md"


def test_raw_html_single_quoted_alt_counts_as_described(tmp_path: Path) -> None:
    """The alt-text rule and the EPUB's claim are one decision: single quotes are alt text too."""
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {
        "01.md": "# One\n\n<img src='dot.svg' alt='A dot'>\n",
        "dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
    })
    book = load_book(manuscript)
    assert book.warnings == () and book.every_image_described


def test_allowed_markup_reaches_both_outputs_well_formed(tmp_path: Path) -> None:
    from samizdat import epub, pdf

    chapter = (
        "# One\n\n"
        'A <abbr title="North Atlantic">NATO</abbr> <span lang="ru" class="name">Товарищ</span>, H<sub>2</sub>O, '
        '<a href="#one" title="up">up</a> and <br> a break <!-- a -- b --> end.\n\n'
        "<table>\n<tr><th scope=\"col\">A</th><td colspan=\"2\">B &amp; C</td></tr>\n</table>\n"
    )
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter})
    book = load_book(manuscript)
    html = pdf.book_html(book)
    assert '<abbr title="North Atlantic">NATO</abbr>' in html and '<span lang="ru" class="name">Товарищ</span>' in html
    assert "<!--" not in html and 'colspan="2"' in html and "B &amp; C" in html
    dist = tmp_path / "dist"
    [path] = epub.render(book, Path("styles"), dist, lambda _: None, {})
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("one.xhtml") or n.endswith("01.xhtml"))
        root = etree.fromstring(archive.read(name))  # well-formed XML, read by lxml, not by what wrote it
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    span = root.find(".//x:span[@lang='ru']", ns)
    assert span is not None and span.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    assert root.find(".//x:table//x:td[@colspan='2']", ns).text == "B & C"
    assert root.find(".//x:abbr", ns).get("title") == "North Atlantic"


INLINE = ["abbr", "b", "bdi", "cite", "code", "del", "dfn", "em", "i", "ins", "kbd", "mark", "q", "s", "samp", "small", "span",
          "strong", "sub", "sup", "u", "var"]
BLOCKS = ["div", "section", "aside", "blockquote", "p", "pre", "h2"]


def test_every_element_the_readme_allows_is_kept_with_the_attributes_every_element_may_carry(tmp_path: Path) -> None:
    """README's allow-list, each element with class, id, lang, dir and title: no finding, and each in the EPUB's XHTML."""
    from samizdat import epub

    def attributes(name: str) -> str:
        return f'class="c-{name}" id="x-{name}" lang="fr" dir="ltr" title="t {name}"'

    inline = " ".join(f"<{name} {attributes(name)}>{name} text</{name}>" for name in INLINE)
    special = (f'<bdo {attributes("bdo")}>bdo</bdo> <time {attributes("time")} datetime="1947-11-17">1947</time> '
               f'<ruby {attributes("ruby")}>Moskva<rp>(</rp><rt>Москва</rt><rp>)</rp></ruby> long<wbr>word '
               f'<a href="#one" {attributes("a")}>a link</a> <img src="dot.svg" alt="A dot" width="4" height="4" {attributes("img")}>')
    blocks = "\n\n".join(f"<{name} {attributes(name)}>\n{name} block\n</{name}>" if name in {"div", "section", "aside", "blockquote"}
                         else f"<{name} {attributes(name)}>{name} block</{name}>" for name in BLOCKS)
    figure = f'<figure {attributes("figure")}>\n<img src="dot.svg" alt="Another dot">\n<figcaption {attributes("figcaption")}>A caption</figcaption>\n</figure>'
    chapter = f"# One\n\nA paragraph with {inline} {special}.\n\n{blocks}\n\n{figure}\n\n<hr {attributes('hr')}>\n"
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": chapter, "dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'})
    book = load_book(manuscript)
    assert book.warnings == ()
    [path] = epub.render(book, Path("styles"), tmp_path / "dist", lambda _: None, {})
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist() if n.endswith("01.xhtml"))
        root = etree.fromstring(archive.read(name))
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    for element in [*INLINE, *BLOCKS, "bdo", "time", "ruby", "a", "figure", "figcaption", "hr"]:
        found = root.find(f".//x:{element}[@id='x-{element}']", ns)
        assert found is not None, element
        assert (found.get("class"), found.get("lang"), found.get("dir"), found.get("title")) == (f"c-{element}", "fr", "ltr", f"t {element}"), element
    assert root.find(".//x:time", ns).get("datetime") == "1947-11-17"
    assert root.find(".//x:ruby/x:rt", ns).text == "Москва" and root.find(".//x:wbr", ns) is not None
