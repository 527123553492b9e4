"""Every Markdown feature the README promises, in one extra chapter: valid EPUB, clean PDF, book fonts only."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from lxml import etree

import pdfread
from environment import epubcheck, serious
from conftest import STYLES, build, normalise_words
from samizdat import pipeline

FIXTURE = Path(__file__).parent / "fixtures" / "every-feature.md"


@pytest.fixture(scope="module")
def feature_build(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("features")
    manuscript = root / "manuscript"
    shutil.copytree(Path(__file__).parent.parent / "manuscript", manuscript)
    shutil.copy(FIXTURE, manuscript / "06-every-feature.md")
    (manuscript / "book.yaml").write_text((manuscript / "book.yaml").read_text() + "  - 06-every-feature.md\n")
    assert pipeline.check(manuscript, STYLES) == []  # no finding at all, not even a warning
    warnings: list[str] = []
    for kind in ("pdf", "epub"):
        build(kind, manuscript, root / "dist", warnings=warnings)
    assert warnings == []
    return root / "dist"


def test_every_feature_passes_epubcheck(feature_build: Path) -> None:
    assert serious(epubcheck(feature_build / "victor-serge.epub")) == []


def test_every_feature_renders_in_the_epub(feature_build: Path) -> None:
    with zipfile.ZipFile(feature_build / "victor-serge.epub") as epub:
        root = etree.fromstring(epub.read("EPUB/06-every-feature.xhtml"))
    tags = {element.tag.split("}")[1] for element in root.iter() if isinstance(element.tag, str)}
    assert {"table", "blockquote", "ol", "ul", "pre", "code", "s", "em", "strong", "h3", "hr", "br", "abbr", "aside", "img"} <= tags
    hrefs = [a.get("href") for a in root.iter("{*}a")]
    assert "https://example.org/serge?a=1&b=2" in hrefs and "mailto:editor@example.org" in hrefs
    assert "04-opposition-and-exile.xhtml#mexico-city" in hrefs and "#lists" in hrefs
    asides = [a for a in root.iter("{*}aside")]
    assert len(asides) == 2  # two notes, the first called twice
    calls = [a for a in root.iter("{*}a") if a.get("role") == "doc-noteref"]
    assert [a.text for a in calls] == ["2", "2", "3"]  # numbered on from chapter 2's note
    text = "".join(root.find(".//{*}body").itertext())
    for phrase in ("“quotes”", "‘single quotes’", "apostrophe’s", "sake\u00a0– an en dash\u00a0— an em dash…", "code block <with> & \"specials\""):
        assert phrase in text, phrase
    backlinks = [a.text for a in root.iter("{*}a") if a.get("role") == "doc-backlink" and "aria-label" in a.attrib]
    assert backlinks == ["↩\ufe0e2"]  # the text variation selector: no emoji arrow on Apple's readers


def test_every_feature_pdf_uses_only_the_book_fonts_and_is_clean(feature_build: Path) -> None:
    pdf = feature_build / "victor-serge.pdf"
    fonts = [font.name for font in pdfread.fonts(pdf)]
    assert fonts and all(re.match(r"[A-Z]{6}\+Source-(Serif-4|Sans-3|Code-Pro)", name) for name in fonts), fonts
    assert pdfread.syntax_problems(pdf) == []
    text = pdfread.text(pdf)
    assert "(https://example.org/serge?a=1&b=2)" in text.replace("\n", "")  # the address is printed for paper readers
    found = normalise_words(text)
    for word in ("struck", "blockquote", "brussels", "specials", "superscript", "comintern"):
        assert found[word], word
