"""The book's furniture in its own language: labels, quotes, dates, author lists, direction.

Translations are data, one file a language in ``locales/<lang>.yaml``; English
(``en.yaml``) is the reference and has every label. ``locale_for`` resolves the
book's BCP 47 tag to the closest file with langcodes (``pt-BR`` → ``pt``,
``de-CH-1901`` → ``de``) and says when there is none, so the core can warn once
with rule M107 and use English. Dates and author lists come from Babel's CLDR
data, written for the book's region when it names one (``en-US``, ``pt-BR``).
A styles folder may override any label with a ``labels.yaml`` (see ``locale_for``).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import babel
import langcodes
import yaml
from babel.dates import format_date, format_skeleton
from babel.lists import format_list

Direction = Literal["ltr", "rtl"]

LOCALES = Path(__file__).with_name("locales")
REFERENCE = "en"
LABELS_FILE = "labels.yaml"
SETTINGS = ("quotes", "quote_space", "punctuation_space", "colon_space", "unbreakable_after")  # what a locale file sets besides its labels
# langcodes' distance between tags of one language: 0 to 5 across regions and
# variants (pt-BR → pt, de-CH-1901 → de), 50 and more across scripts (zh-Hant, az-Arab).
MAX_DISTANCE = 9

# Scripts written right to left (ISO 15924), as langcodes names a language's likely script.
RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Hebr", "Mand", "Mend", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"})

# Narrow no-break, no-break and ordinary spaces, any of which an editor may leave inside « ».
_SPACES = "[ \u00a0\u202f]*"
# The space (or none) before a mark that follows a word and ends it: followed by a space, the end, a closing
# quote or bracket, or another mark.
_BEFORE_MARK = "(?<=[^\\s\u00a0\u202f(\\[«“‘;:!?])[ \u00a0\u202f]?(?=[%s](?:[\\s»”’)\\].,…;:!?]|$))"
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


class LabelsError(ValueError):
    """A ``labels.yaml`` that cannot be used; the core reports it against ``path``."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        super().__init__(f"{path}{f':{line}' if line else ''}: {message}")
        self.path, self.message, self.line = path, message, line


@dataclass(frozen=True)
class Locale:
    """Everything the outputs write in the book's language that the author did not.

    ``tag`` is the book's language (for ``lang`` attributes and ``direction``);
    ``language`` is the language the labels are in: ``en`` when no translation
    was found, so the core can mark English furniture in a French-less book.
    """

    tag: str
    language: str
    labels: Mapping[str, str]
    quotes: str
    quote_space: str
    punctuation_space: str
    colon_space: str
    unbreakable_after: str  # one-letter words, separated by spaces, that may not end a line
    direction: Direction
    cldr_locale: str
    reviewed: bool

    def label(self, key: str, **values: object) -> str:
        """The label ``key`` with its ``{placeholders}`` filled: ``label("cover_alt", title=…)``."""
        try:
            template = self.labels[key]
        except KeyError:
            raise KeyError(f"no label {key!r}; known labels: {', '.join(sorted(self.labels))}") from None
        return template.format_map(values)

    @property
    def typographer_quotes(self) -> tuple[str, str, str, str]:
        """``quotes`` with ``quote_space`` inside the primary pair, for markdown-it's ``quotes`` option.

        markdown-it-py's smartquotes accepts strings longer than one character
        (it moves its scan position by their length), so French gets « » with a
        narrow no-break space inside straight from the typographer.
        """
        space = self.quote_space
        return (self.quotes[0] + space, space + self.quotes[1], self.quotes[2], self.quotes[3])

    def space_quotes(self, text: str) -> str:
        """Set ``quote_space`` inside the primary quotes of ``text``, whatever space was there.

        The post-step for guillemets an editor typed directly (``«Bonjour»`` or
        ``« Bonjour »``): run it over text tokens (never code) after smartquotes.
        Idempotent, and a no-op for languages without ``quote_space``.
        """
        if not self.quote_space:
            return text
        opening, closing = re.escape(self.quotes[0]), re.escape(self.quotes[1])
        text = re.sub(f"{opening}{_SPACES}", self.quotes[0] + self.quote_space, text)
        return re.sub(f"{_SPACES}{closing}", self.quote_space + self.quotes[1], text)

    def space_punctuation(self, text: str) -> str:
        """Set ``punctuation_space`` before ; ! ? and ``colon_space`` before :, whatever space was there
        (``Bonjour!`` and ``Bonjour !`` alike), where the mark ends a word: not in ``10:30`` or ``https://``,
        nor between two marks (``?!``). The post-step for French: run it over prose text (never code).
        Idempotent, and a no-op for languages without these spaces.
        """
        for marks, space in ((";!?", self.punctuation_space), (":", self.colon_space)):
            if space:
                text = re.sub(_BEFORE_MARK % re.escape(marks), space, text)
        return text

    def tie_short_words(self, text: str) -> str:
        """The space after each of ``unbreakable_after``'s words (either case) becomes a no-break space, so that the
        word begins the next line rather than ending this one (Polish: ``w domu``). A no-op without such words."""
        words = self.unbreakable_after.split()
        if not words:
            return text
        alternatives = "|".join(re.escape(word) for word in {*words, *(word.upper() for word in words)})
        return re.sub(rf"(?<![\w\-])({alternatives}) (?=\S|$)", "\\1\u00a0", text)

    def join_names(self, names: Sequence[str]) -> str:
        """``A``, ``A and B``, ``A, B and C`` with the language's list pattern (Babel's CLDR data)."""
        return format_list(list(names), style="standard", locale=self.cldr_locale) if names else ""

    def format_date(self, iso: str) -> str:
        """A ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` date written out: ``24 November 2026``, ``November 2026``."""
        match = _ISO_DATE.match(iso.strip())
        if not match:
            raise ValueError(f"not a YYYY, YYYY-MM or YYYY-MM-DD date: {iso!r}")
        year, month, day = match.groups()
        date = dt.date(int(year), int(month or 1), int(day or 1))
        if day:
            return format_date(date, "long", locale=self.cldr_locale)
        return format_skeleton("yMMMM" if month else "y", date, locale=self.cldr_locale)


class Resolution(NamedTuple):
    """What ``locale_for`` found: the locale, and whether English stood in for a missing translation."""

    locale: Locale
    fallback: bool

    @property
    def message(self) -> str | None:
        """The M107 warning's text when English stood in, else None."""
        if not self.fallback:
            return None
        tag = self.locale.tag
        return (
            f"no translation of the book's furniture for language '{tag}': English is used "
            f"(translations exist for {', '.join(available_languages())}; a {LABELS_FILE} in the styles folder can add one)"
        )


def locale_for(language: str, overrides: Path | None = None) -> Resolution:
    """The furniture for a BCP 47 tag, and whether it fell back to English.

    ``overrides`` is a styles folder (its ``labels.yaml`` is read if present) or a
    ``labels.yaml`` itself. That file may hold labels for every language
    (``contents: Table``), per language (``fr: {contents: Sommaire}``, matched
    like the shipped files), or both; a language's section wins over the
    shared labels, and both over the shipped file. ``quotes`` and
    the :data:`SETTINGS` may be overridden the same way. A section for a language
    with no shipped file is a translation: no fallback is reported, and its
    missing labels are English's.
    """
    tag = langcodes.standardize_tag(language)
    parsed = langcodes.Language.get(tag)
    override = _read_overrides(overrides)
    section_tag = _closest(tag, [key for key, value in override.items() if isinstance(value, dict)])
    section: dict[str, Any] = override.get(section_tag, {}) if section_tag else {}
    shared = {key: value for key, value in override.items() if not isinstance(value, dict)}

    matched = _closest(tag, available_languages())
    fallback = matched is None and section_tag is None
    base = _load(matched or REFERENCE)
    reference = _load(REFERENCE)
    settings = {**reference, **base, **shared, **section}
    labels = {**reference["labels"], **base["labels"], **_labels(shared), **_labels(section)}

    return Resolution(
        Locale(
            tag=tag,
            language=REFERENCE if fallback else (matched or section_tag or REFERENCE),
            labels=MappingProxyType(labels),
            quotes=settings["quotes"],
            quote_space=settings["quote_space"],
            punctuation_space=settings["punctuation_space"],
            colon_space=settings["colon_space"],
            unbreakable_after=settings["unbreakable_after"],
            direction=_direction(parsed),
            cldr_locale=reference["cldr_locale"] if fallback else _cldr_locale(parsed, base),
            reviewed=matched is not None and bool(base.get("reviewed")),
        ),
        fallback,
    )


@cache
def available_languages() -> tuple[str, ...]:
    """The languages with a shipped translation, by file name."""
    return tuple(sorted(path.stem for path in LOCALES.glob("*.yaml")))


@cache
def _load(language: str) -> dict[str, Any]:
    """A shipped locale file, parsed once (with libyaml when PyYAML has it: a tenth of the time)."""
    data = yaml.load((LOCALES / f"{language}.yaml").read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    data.setdefault("labels", {})
    return data


def _closest(tag: str, candidates: Sequence[str]) -> str | None:
    """The candidate closest to ``tag`` in the same language: any region or variant, not another script.

    langcodes alone would also offer CLDR's fallbacks for readers (``ca`` → ``es``,
    ``be`` → ``ru``, ``br`` → ``fr``): right for a user interface, wrong for a
    book's own furniture, which then falls back to English with a warning.
    """
    language = langcodes.Language.get(tag).language
    same = [candidate for candidate in candidates if langcodes.Language.get(candidate).language == language]
    if not same:
        return None
    match, distance = langcodes.closest_match(tag, same, max_distance=MAX_DISTANCE)
    return None if match == "und" else match


def hyphenation_tag(tag: str) -> str:
    """The tag whose hyphenation rules the typesetter should use: the book's own, or, where it names no
    region, the language in the region CLDR finds most likely (``en`` → ``en-US``, ``pt`` → ``pt-BR``).
    Pyphen's bare ``en`` dictionary breaks as British English does (``know-ledge``, where an American
    book has ``knowl-edge``), while ``en`` with no region is, for CLDR as for most readers, American."""
    language = langcodes.Language.get(tag)
    if language.territory or language.private or language.extensions or not language.language or len(language.language) > 3:
        return tag
    likely = language.maximize().territory
    return f"{tag}-{likely}" if likely and likely != "ZZ" else tag  # a script the tag names stays: sr-Latn → sr-Latn-RS


def _direction(language: langcodes.Language) -> Direction:
    """Right to left when the language's (likely) script is: ``ar``, ``he``, ``fa``, ``ur``, ``az-Arab``."""
    script = language.script or language.maximize().script
    return "rtl" if script in RTL_SCRIPTS else "ltr"


def _cldr_locale(language: langcodes.Language, data: Mapping[str, Any]) -> str:
    """Babel's locale for dates and lists: the book's own region when Babel knows it, else the file's choice."""
    if language.territory or language.script:
        try:
            return str(babel.Locale(language.language or REFERENCE, territory=language.territory, script=language.script))
        except (babel.UnknownLocaleError, ValueError):
            pass
    return data.get("cldr_locale") or data["language"]


def _read_overrides(overrides: Path | None) -> dict[str, Any]:
    """A styles ``labels.yaml``, checked: known keys, strings, no placeholder English lacks."""
    if overrides is None:
        return {}
    path = overrides / LABELS_FILE if overrides.is_dir() else overrides
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise LabelsError(path, f"invalid YAML: {getattr(error, 'problem', None) or error}", mark.line + 1 if mark else None) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LabelsError(path, "must be a mapping of labels, or of language tags to labels")
    result: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if isinstance(value, dict):
            if not langcodes.tag_is_valid(key):
                raise LabelsError(path, f"'{key}' is neither a label nor a BCP 47 language tag")
            result[langcodes.standardize_tag(key)] = {str(k): _checked(path, str(k), v) for k, v in value.items()}
        else:
            result[key] = _checked(path, key, value)
    return result


def _checked(path: Path, key: str, value: object) -> str:
    """One overriding value, refused when it would break a build later."""
    reference = _load(REFERENCE)
    if key not in reference["labels"] and key not in SETTINGS:
        raise LabelsError(path, f"unknown label '{key}'; known labels: {', '.join(reference['labels'])}, {', '.join(SETTINGS)}")
    if not isinstance(value, str):
        raise LabelsError(path, f"'{key}' must be a string")
    if key == "quotes" and len(value) != 4:
        raise LabelsError(path, "'quotes' must be four characters: primary open and close, secondary open and close")
    if key in reference["labels"] and not placeholders(value) <= placeholders(reference["labels"][key]):
        allowed = ", ".join(f"{{{name}}}" for name in sorted(placeholders(reference["labels"][key]))) or "none"
        raise LabelsError(path, f"label '{key}' uses a placeholder it is not given (allowed: {allowed})")
    return value


def _labels(settings: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in settings.items() if key not in SETTINGS}


def placeholders(template: str) -> frozenset[str]:
    """The ``{names}`` a label template takes."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
