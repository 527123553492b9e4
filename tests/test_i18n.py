"""The book's furniture per language: complete locale files, tag matching, dates, lists, quotes, overrides.

Expected strings are written out by hand, never computed with Babel here, so a
change in Babel's data or in our choice of it shows up as a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from samizdat.i18n import LOCALES, LabelsError, available_languages, locale_for, placeholders

SHIPPED = ["ar", "de", "en", "es", "fr", "he", "it", "pl", "pt", "ru", "uk"]
SETTINGS = {"language", "reviewed", "cldr_locale", "quotes", "quote_space", "punctuation_space", "colon_space", "unbreakable_after", "labels"}
NNBSP = "\u202f"


def raw(language: str) -> dict:
    return yaml.safe_load((LOCALES / f"{language}.yaml").read_text(encoding="utf-8"))


def test_every_language_is_shipped() -> None:
    assert set(SHIPPED) <= set(available_languages())


@pytest.mark.parametrize("language", sorted(path.stem for path in LOCALES.glob("*.yaml")))
def test_locale_file_is_complete(language: str) -> None:
    """Every label English has, no other, with English's placeholders; four quotes; a review flag."""
    english, data = raw("en")["labels"], raw(language)
    assert set(data) <= SETTINGS
    assert data["language"] == language
    assert isinstance(data["reviewed"], bool)
    assert isinstance(data["quotes"], str) and len(data["quotes"]) == 4
    assert isinstance(data["quote_space"], str)
    labels = data["labels"]
    assert set(labels) == set(english), f"missing: {set(english) - set(labels)}, unknown: {set(labels) - set(english)}"
    for key, value in labels.items():
        assert isinstance(value, str) and value.strip(), key
        assert placeholders(value) == placeholders(english[key]), key


@pytest.mark.parametrize(
    ("tag", "language", "contents"),
    [
        ("en", "en", "Contents"),
        ("fr", "fr", "Table des matières"),
        ("de", "de", "Inhalt"),
        ("ru", "ru", "Содержание"),
        ("ar", "ar", "المحتويات"),
        ("he", "he", "תוכן העניינים"),
        ("iw", "he", "תוכן העניינים"),
        ("pt-BR", "pt", "Sumário"),
        ("de-CH-1901", "de", "Inhalt"),
        ("es-419", "es", "Índice"),
    ],
)
def test_locale_for_finds_the_language(tag: str, language: str, contents: str) -> None:
    locale, fallback = locale_for(tag)
    assert not fallback and locale_for(tag).message is None
    assert locale.language == language
    assert locale.label("contents") == contents


@pytest.mark.parametrize("tag", ["eo", "qu", "sr-Latn", "zh-Hant", "ca", "be"])
def test_fallback_to_english_is_reported(tag: str) -> None:
    """No file for the language: English, and a flag for M107. Catalan is not given Spanish, nor Belarusian Russian."""
    resolution = locale_for(tag)
    assert resolution.fallback
    assert resolution.locale.language == "en" and resolution.locale.tag == tag
    assert resolution.locale.label("contents") == "Contents" and not resolution.locale.reviewed
    assert resolution.locale.format_date("2026-11-24") == "24 November 2026"
    assert f"'{tag}'" in (resolution.message or "") and "English is used" in (resolution.message or "")


def test_only_english_is_marked_reviewed() -> None:
    assert locale_for("en").locale.reviewed
    assert not any(locale_for(language).locale.reviewed for language in SHIPPED if language != "en")


def test_labels_take_placeholders() -> None:
    fr, _ = locale_for("fr")
    assert fr.label("cover_alt_authors", title="Ville conquise", authors=fr.join_names(["Victor Serge"])) == (
        "Couverture\u00a0: Ville conquise, par Victor Serge"
    )
    en, _ = locale_for("en")
    assert en.label("figure", number=3) == "Figure 3"
    with pytest.raises(KeyError, match="no label 'colophon'"):
        en.label("colophon")


@pytest.mark.parametrize(
    ("tag", "full", "month", "year"),
    [
        ("en", "24 November 2026", "November 2026", "2026"),
        ("en-US", "November 24, 2026", "November 2026", "2026"),
        ("fr", "24 novembre 2026", "novembre 2026", "2026"),
        ("de", "24. November 2026", "November 2026", "2026"),
        ("es", "24 de noviembre de 2026", "noviembre de 2026", "2026"),
        ("it", "24 novembre 2026", "novembre 2026", "2026"),
        ("pt-BR", "24 de novembro de 2026", "novembro de 2026", "2026"),
        # Babel keeps the year and its abbreviation together with a narrow no-break space.
        ("ru", f"24 ноября 2026{NNBSP}г.", f"ноябрь 2026{NNBSP}г.", "2026"),
        ("uk", f"24 листопада 2026{NNBSP}р.", f"листопад 2026{NNBSP}р.", "2026"),
        ("pl", "24 listopada 2026", "listopad 2026", "2026"),
        ("ar", "24 نوفمبر 2026", "نوفمبر 2026", "2026"),
        ("he", "24 בנובמבר 2026", "נובמבר 2026", "2026"),
    ],
)
def test_dates_are_written_out(tag: str, full: str, month: str, year: str) -> None:
    locale, _ = locale_for(tag)
    assert locale.format_date("2026-11-24") == full
    assert locale.format_date("2026-11") == month
    assert locale.format_date("2026") == year


def test_a_malformed_date_is_refused() -> None:
    with pytest.raises(ValueError):
        locale_for("en").locale.format_date("24/11/2026")


@pytest.mark.parametrize(
    ("tag", "quotes"),
    [("en", "“”‘’"), ("fr", "«»“”"), ("de", "„“‚‘"), ("es", "«»“”"), ("it", "«»“”"), ("pt", "“”‘’"),
     ("ru", "«»„“"), ("uk", "«»„“"), ("pl", "„”«»"), ("ar", "«»“”"), ("he", "””’’")],
)
def test_quotes(tag: str, quotes: str) -> None:
    assert locale_for(tag).locale.quotes == quotes


def typographer(quotes) -> MarkdownIt:
    return MarkdownIt("commonmark", {"typographer": True, "quotes": quotes}).enable(["replacements", "smartquotes"])


def test_quotes_drive_markdown_it() -> None:
    de, _ = locale_for("de")
    assert typographer(de.quotes).renderInline("Er sagte \"ja, 'vielleicht'\".") == "Er sagte „ja, ‚vielleicht‘“."


def test_french_quotes_take_narrow_no_break_spaces() -> None:
    """Either from the typographer itself (multi-character quotes) or by the post-step, which also mends typed guillemets."""
    fr, _ = locale_for("fr")
    expected = f"Il dit «{NNBSP}oui, “peut-être”{NNBSP}»."
    assert typographer(list(fr.typographer_quotes)).renderInline("Il dit \"oui, 'peut-être'\".") == expected
    assert fr.space_quotes(typographer(fr.quotes).renderInline("Il dit \"oui, 'peut-être'\".")) == expected
    assert fr.space_quotes("Il dit « oui, “peut-être” ».") == expected
    assert fr.space_quotes(fr.space_quotes(expected)) == expected
    en, _ = locale_for("en")
    assert en.typographer_quotes == ("“", "”", "‘", "’") and en.space_quotes("« a »") == "« a »"


@pytest.mark.parametrize(
    ("tag", "one", "two", "three"),
    [
        ("en", "Ann", "Ann and Bo", "Ann, Bo and Cy"),
        ("fr", "Ann", "Ann et Bo", "Ann, Bo et Cy"),
        ("de", "Ann", "Ann und Bo", "Ann, Bo und Cy"),
        ("es", "Ann", "Ann y Bo", "Ann, Bo y Cy"),
        ("ru", "Ann", "Ann и Bo", "Ann, Bo и Cy"),
        ("pl", "Ann", "Ann i Bo", "Ann, Bo i Cy"),
        # The Arabic and Hebrew "and" is a prefix of the next word.
        ("ar", "Ann", "Ann وBo", "Ann وBo وCy"),
        ("he", "Ann", "Ann וBo", "Ann, Bo וCy"),
    ],
)
def test_join_names(tag: str, one: str, two: str, three: str) -> None:
    locale, _ = locale_for(tag)
    assert locale.join_names([]) == ""
    assert locale.join_names(["Ann"]) == one
    assert locale.join_names(["Ann", "Bo"]) == two
    assert locale.join_names(("Ann", "Bo", "Cy")) == three


@pytest.mark.parametrize(("tag", "direction"), [("ar", "rtl"), ("he", "rtl"), ("fa", "rtl"), ("ur", "rtl"), ("en", "ltr"), ("ru", "ltr"), ("az-Arab", "rtl")])
def test_direction(tag: str, direction: str) -> None:
    """The book's language sets the direction, even when its furniture falls back to English (fa, ur)."""
    assert locale_for(tag).locale.direction == direction


def test_labels_yaml_overrides(tmp_path: Path) -> None:
    """Shared labels apply to every language; a language's section wins; the rest stays shipped or English."""
    (tmp_path / "labels.yaml").write_text(
        "contents: Table\n"
        "fr:\n  contents: Sommaire\n  quotes: \"«»‹›\"\n"
        "eo:\n  contents: Enhavo\n",
        encoding="utf-8",
    )
    fr, fallback = locale_for("fr-CA", tmp_path)
    assert not fallback
    assert fr.label("contents") == "Sommaire" and fr.quotes == "«»‹›" and fr.label("notes") == "Notes"
    de, _ = locale_for("de", tmp_path / "labels.yaml")
    assert de.label("contents") == "Table" and de.label("notes") == "Anmerkungen"
    eo, fallback = locale_for("eo", tmp_path)
    assert not fallback and eo.label("contents") == "Enhavo" and eo.label("notes") == "Notes" and not eo.reviewed
    assert locale_for("fr", tmp_path / "absent").locale.label("contents") == "Table des matières"
    assert locale_for("fr").locale.label("contents") == "Table des matières"  # nothing cached from the override


def test_labels_yaml_sets_a_languages_spacing(tmp_path: Path) -> None:
    """punctuation_space, colon_space and unbreakable_after from labels.yaml, for a language that ships none."""
    (tmp_path / "labels.yaml").write_text('de:\n  punctuation_space: "\\u202f"\n  colon_space: "\\u00a0"\n  unbreakable_after: "z"\n',
                                          encoding="utf-8")
    de = locale_for("de", tmp_path).locale
    assert de.tie_short_words(de.space_punctuation("Ja! Nein: z B")) == "Ja\u202f! Nein\u00a0: z\u00a0B"
    assert locale_for("de").locale.space_punctuation("Ja!") == "Ja!"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("contnets: Inhalt\n", "unknown label 'contnets'"),
        ("figure: Abb. {n}\n", "placeholder"),
        ("quotes: '«»'\n", "four characters"),
        ("contents: [a, b]\n", "must be a string"),
        ("- contents\n", "must be a mapping"),
        ("contents: 'open\n", "invalid YAML"),
    ],
)
def test_a_bad_labels_yaml_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "labels.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LabelsError, match=message) as caught:
        locale_for("de", tmp_path)
    assert caught.value.path == path


def test_a_labels_yaml_in_the_styles_folder_reaches_the_built_book(tmp_path: Path) -> None:
    """An Esperanto book, with the translation and the spacing a publisher added in styles/labels.yaml: no M107, the
    EPUB's contents called by its label, the quotes and the space before ! as the file says."""
    import shutil
    import zipfile

    from lxml import etree

    from conftest import STYLES, build
    from samizdat.book import load_book
    from tiny_book import write_manuscript

    styles = Path(shutil.copytree(STYLES, tmp_path / "styles"))
    (styles / "labels.yaml").write_text('eo:\n  contents: Enhavo\n  quotes: "«»‹›"\n  quote_space: "\\u202f"\n  punctuation_space: "\\u202f"\n',
                                        encoding="utf-8")
    manuscript = write_manuscript(tmp_path / "m", '# Unu\n\nLi diris "saluton"!\n', author="A. Verkisto")
    (manuscript / "book.yaml").write_text("title: T\nlanguage: eo\nauthor: A. Verkisto\n", encoding="utf-8")
    assert [f.code for f in load_book(manuscript, styles).warnings] == []
    epub = build("epub", manuscript, tmp_path / "dist", styles)
    with zipfile.ZipFile(epub) as archive:
        nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
        chapter = next(archive.read(name).decode() for name in archive.namelist() if name.endswith("01.xhtml"))
    assert nav.find(".//{http://www.w3.org/1999/xhtml}h1").text == "Enhavo"
    assert "Li diris «\u202fsaluton\u202f»\u202f!" in chapter
