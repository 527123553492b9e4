"""What keeps an EPUB build quick, checked against the slower ways it replaced.

The font coverage (rule T102) is read from the fonts' cmap tables without fontTools,
control characters are found by one regular expression, the installed libraries'
versions (for cache keys) are read from their metadata headers, and a build whose
cover image is cached never imports the typesetter: each must give exactly what the
slow way gives.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from fontTools.fontBuilder import FontBuilder
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

from conftest import EPOCH, MANUSCRIPT, ROOT, book_yaml
from samizdat import fonts
from samizdat.book import NOT_TEXT, load_book
from samizdat.fingerprint import _name_and_version
from samizdat.i18n import LOCALES, _load


def fonttools_codes(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


@pytest.mark.parametrize("path", sorted(path for folder in fonts.FONT_DIRECTORIES for path in folder.glob("*.ttf")), ids=lambda path: path.name)
def test_every_packaged_font_covers_what_fonttools_says(path: Path) -> None:
    assert fonts.mapped_code_points.__wrapped__(path) == fonttools_codes(path)


def synthetic_font(folder: Path, mapping: dict[int, str], subtables: list[tuple[int, int, int]]) -> Path:
    """A font with glyphs ``a``…, mapping code points to them in cmap subtables of the given (platform, encoding, format)."""
    glyphs = [".notdef", *sorted(set(mapping.values()) - {".notdef"})]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(glyphs)
    builder.setupCharacterMap(mapping)
    builder.setupGlyf({name: _empty_glyph() for name in glyphs})
    builder.setupHorizontalMetrics({name: (500, 0) for name in glyphs})
    builder.setupHorizontalHeader()
    builder.setupNameTable({"familyName": "Test", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    cmap = newTable("cmap")
    cmap.tableVersion = 0
    cmap.tables = []
    for platform, encoding, table_format in subtables:
        subtable = CmapSubtable.newSubtable(table_format)
        subtable.platformID, subtable.platEncID, subtable.language = platform, encoding, 0
        highest = {4: 0xFFFF, 6: 0xFF}.get(table_format, 0x10FFFF)
        subtable.cmap = {code: name for code, name in mapping.items() if code <= highest}
        cmap.tables.append(subtable)
    builder.font["cmap"] = cmap
    path = folder / f"synthetic-{'-'.join(str(f) for _, _, f in subtables)}.ttf"
    builder.save(str(path))
    return path


def _empty_glyph():
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    return TTGlyphPen(None).glyph()


# Consecutive codes on scattered glyphs (format 4's idRangeOffset), codes on .notdef, and letters beyond the BMP.
MAPPING = {0x41: "b", 0x42: "a", 0x43: "c", 0x44: ".notdef", 0x45: "a", 0x3B1: "c", 0x1D400: "b", 0x1D401: "c"}


@pytest.mark.parametrize("subtables", [[(3, 1, 4)], [(0, 3, 4), (3, 1, 4), (3, 10, 12)], [(3, 10, 12)], [(3, 1, 6)]],
                         ids=["format-4", "format-12-preferred", "format-12-only", "format-6-via-fonttools"])
def test_the_cmap_reader_agrees_with_fonttools_on_awkward_fonts(tmp_path: Path, subtables: list[tuple[int, int, int]]) -> None:
    path = synthetic_font(tmp_path, MAPPING, subtables)
    expected = fonttools_codes(path)
    assert expected  # the font maps something, so an empty answer cannot pass
    assert fonts.mapped_code_points.__wrapped__(path) == expected


def test_control_characters_are_exactly_the_ones_refused_before() -> None:
    """C102: the controls (Cc) but tab and line ends, and U+FFFE, U+FFFF; no other character, in any plane."""
    everything = "".join(map(chr, range(0x110000)))
    found = set(NOT_TEXT.findall(everything))
    expected = {c for c in map(chr, range(0x110000)) if (unicodedata.category(c) == "Cc" and c not in "\t\n\r") or c in "\ufffe\uffff"}
    assert found == expected


def test_distribution_names_and_versions_are_the_ones_their_metadata_gives() -> None:
    distributions = list(metadata.distributions())
    assert len(distributions) > 10
    for distribution in distributions:
        assert _name_and_version(distribution) == (distribution.metadata["Name"], distribution.version)


def test_shipped_labels_read_with_libyaml_are_the_ones_pyyaml_reads() -> None:
    for path in sorted(LOCALES.glob("*.yaml")):
        expected = yaml.safe_load(path.read_text(encoding="utf-8"))
        expected.setdefault("labels", {})
        assert _load(path.stem) == expected, path.name


def test_two_languages_each_mostly_in_a_foreign_script_are_reported_in_reading_order(tmp_path: Path) -> None:
    manuscript = tmp_path / "m"
    manuscript.mkdir()
    (manuscript / "book.yaml").write_text("title: T\nlanguage: en\nauthor: A\n", encoding="utf-8")
    (manuscript / "01.md").write_text("# One\n\nЭто длинный абзац по-русски [Ελληνικά κείμενα εδώ μέσα]{lang=ru} и ещё слова.\n",
                                      encoding="utf-8")
    found = [finding.message for finding in load_book(manuscript).warnings if finding.code == "T103"]
    assert len(found) == 2
    assert "Cyrillic" in found[0] and "'en'" in found[0]
    assert "Greek" in found[1] and "'ru'" in found[1]


def imported_modules(stderr: str) -> set[str]:
    """The modules ``python -X importtime`` says were imported."""
    return {match.group(1) for match in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", stderr, re.M)}


def test_an_epub_build_with_its_cover_cached_imports_neither_the_typesetter_nor_fonttools(tmp_path: Path) -> None:
    """README: an EPUB build whose cover image is cached never starts WeasyPrint; the second build is byte-identical."""
    manuscript = tmp_path / "manuscript"
    shutil.copytree(MANUSCRIPT, manuscript)
    dist = tmp_path / "dist"
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    command = [sys.executable, "-X", "importtime", "-m", "invoke", "epub", "--manuscript", str(manuscript), "--dist", str(dist)]
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    target = dist / f"{book_yaml(manuscript)['slug']}.epub"
    drawn = target.read_bytes()
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "cover   drawn" in first.stderr and "cover   from the cache" in second.stderr
    assert "weasyprint" in imported_modules(first.stderr)
    assert not imported_modules(second.stderr) & {"weasyprint", "fontTools", "samizdat.pdf", "samizdat.weasy", "multiprocessing"}
    assert target.read_bytes() == drawn
