"""``book.yaml``: the book's metadata, read and checked.

The YAML is composed into nodes and turned into plain text, lists and mappings by
hand: every scalar stays text (no implicit dates, numbers or custom tags to crash
on), aliases are refused (no alias bombs) and every value keeps its line.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import langcodes
import yaml
from stdnum import ean, isbn
from stdnum.exceptions import InvalidComponent, InvalidLength, ValidationError

from .errors import Findings, ManuscriptError
from .names import slugify
from .rules import RULES

METADATA_FILE = "book.yaml"
PAGE_SIZES = {"A5": "A5", "half-letter": "5.5in 8.5in"}
KNOWN_KEYS = {
    "title", "subtitle", "author", "language", "date", "identifier", "publisher",
    "rights", "description", "subjects", "slug", "page_size", "chapters", "lint", "isbn", "accessibility",
}
ISBN_FORMATS = ("print", "epub")  # Each format of a book has its own ISBN.
# Fixed namespace, so that a book without an identifier keeps the same UUID forever.
SAMIZDAT_NAMESPACE = uuid.UUID("6f1d3b52-8a4e-5c1b-9d62-3e0f7a9c2b14")
MAX_DEPTH = 8
SLUG_LENGTH = 80  # File names stay well under every file system's limit.
ISBN_PREFIX = re.compile(r"^(?:urn:isbn:|isbn(?:-1[03])?:?\s*)", re.I)
# EPUB Accessibility conformance statements: 1.1's text, or 1.0's IDPF address.
CONFORMANCE = re.compile(r"EPUB Accessibility 1\.1 - WCAG 2\.[012] Level (A|AA|AAA)"
                         r"|http://www\.idpf\.org/epub/a11y/accessibility-20170105\.html#wcag-(a|aa|aaa)")


@dataclass(frozen=True)
class Metadata:
    title: str
    identifier: str
    slug: str
    language: str = "en"
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    author_sorts: tuple[str, ...] = ()  # "Serge, Victor": how libraries file each author
    isbns: dict[str, str] = field(default_factory=dict, compare=False)  # format → ISBN, hyphenated
    date: str | None = None
    publisher: str | None = None
    rights: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    page_size: str = "A5"
    chapters: tuple[str, ...] | None = None
    ignored_rules: frozenset[str] = frozenset()
    conforms_to: str | None = None  # Declared after a person's review: ``accessibility: {conforms_to: …}``.
    certified_by: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def page_size_css(self) -> str:
        return PAGE_SIZES[self.page_size]

    @property
    def isbn(self) -> str | None:
        """The identifier as a hyphenated ISBN (``978-3-16-148410-0``), when it is one."""
        number = ISBN_PREFIX.sub("", self.identifier)
        return isbn.format(number) if isbn.is_valid(number) else None

    def isbn_for(self, book_format: str) -> str | None:
        """The ISBN of one format (``print`` or ``epub``), hyphenated; else the identifier's, if it is an ISBN."""
        return self.isbns.get(book_format) or self.isbn


@dataclass(frozen=True)
class _Value:
    """A value from ``book.yaml`` (text, list or mapping of ``_Value``) with the line it starts on."""

    data: object
    line: int


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_metadata(manuscript: Path, findings: Findings) -> Metadata:
    """Read ``book.yaml``. Problems go to ``findings``; only unreadable YAML stops here."""
    path = manuscript / METADATA_FILE
    if not path.is_file():
        raise ManuscriptError("M101", path, "missing: every manuscript needs a book.yaml with at least a title")
    if not path.resolve().is_relative_to(manuscript.resolve()):
        raise ManuscriptError("M101", path, "is a link to a file outside the manuscript folder, which is never read: copy the file in instead")
    try:
        text = path.read_bytes().decode("utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        root = _value(node, set(), 0) if node is not None else _Value({}, 1)
    except UnicodeDecodeError:
        raise ManuscriptError("M101", path, "not UTF-8 text; save the file as UTF-8") from None
    except yaml.reader.ReaderError as error:  # A character YAML does not allow (DEL, C1 controls, U+FFFE).
        line = text[: error.position].count("\n") + 1
        raise ManuscriptError("M101", path, f"character U+{error.character:04X} is not allowed in YAML: delete it", line) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ManuscriptError("M101", path, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except _Refused as refused:
        raise ManuscriptError("M101", path, str(refused), refused.line) from None
    if not isinstance(root.data, dict):
        raise ManuscriptError("M101", path, "must be a mapping of keys to values (title: ..., author: ...)", root.line)
    return _metadata_from(root.data, path, findings)


def _value(node: yaml.Node, seen: set[int], depth: int) -> _Value:
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise _Refused("YAML aliases (*name) are not allowed in book.yaml: write the value out", line)
    if depth > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels", line)
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in {"tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp"}:
            raise _Refused(f"the YAML tag '{node.tag}' is not allowed", line)
        if node.tag == "tag:yaml.org,2002:null":
            return _Value(None, line)
        return _Value(_clean_text(node.value, line), line)
    if isinstance(node, yaml.SequenceNode):
        return _Value([_value(item, seen, depth + 1) for item in node.value], line)
    mapping: dict[str, _Value] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _Refused("a key must be plain text", key.start_mark.line + 1)
        name = _clean_text(key.value, key.start_mark.line + 1)
        if name in mapping:
            mapping[f"\0repeated {name} {key.start_mark.line + 1}"] = _Value(name, key.start_mark.line + 1)
        mapping[name] = _value(value, seen, depth + 1)
        mapping[name] = _Value(mapping[name].data, key.start_mark.line + 1)
    return _Value(mapping, line)


def _clean_text(text: str, line: int) -> str:
    """Join escaped surrogate pairs (``"\\ud83d\\ude00"``, as ``json.dump`` writes emoji); refuse control characters."""
    try:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise _Refused("a lone surrogate (\\ud800–\\udfff) is not a character", line) from None
    for character in text:
        if unicodedata.category(character) == "Cc" and character not in "\n\t":
            raise _Refused(f"control character U+{ord(character):04X} is not allowed", line)
    return text


def _metadata_from(data: dict[str, _Value], path: Path, findings: Findings) -> Metadata:
    lines = {key: value.line for key, value in data.items()}

    def error(key: str, message: str, code: str = "M103") -> None:
        findings.add(code, path, message, lines.get(key))

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None or value.data is None:
            return None
        if not isinstance(value.data, str):
            error(key, f"'{key}' must be text, not a {'list' if isinstance(value.data, list) else 'mapping'}")
            return None
        return " ".join(value.data.split()) or None

    def text_list(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None or value.data is None:
            return ()
        if isinstance(value.data, str):
            return (value.data.strip(),) if value.data.strip() else ()
        if isinstance(value.data, list) and all(isinstance(item.data, str) for item in value.data):
            times: Counter[str] = Counter()
            for item in value.data:  # each item's line; a repeat's under "key:item#2", "#3", …
                name = f"{key}:{item.data.strip()}"
                times[name] += 1
                lines[name if times[name] == 1 else f"{name}#{times[name]}"] = item.line
            # Empty values say nothing: dropped, so that no output gets an empty author or subject.
            return tuple(item.data.strip() for item in value.data if item.data.strip())
        error(key, f"'{key}' must be text or a list of text")
        return ()

    for key, value in data.items():
        if key.startswith("\0repeated "):
            findings.add("M105", path, f"key '{value.data}' is given twice; only the last one counts", value.line)
    title = text("title")
    if not title:
        error("title", "'title' is required", "M102")
        title = "Untitled"
    authors, author_sorts = _authors(data.get("author"), lines, path, findings)
    if not authors:
        findings.add("M108", path, "no 'author': stores and e-readers will show the book as by \"Unknown\" (name the author, or the publisher as author)", lines.get("title"))
    language = text("language") or "en"
    if not langcodes.tag_is_valid(language):
        error("language", f"'language' must be a BCP 47 tag such as en or pt-BR, not '{language}'")
        language = "en"
    page_size = text("page_size") or "A5"
    if page_size not in PAGE_SIZES:
        error("page_size", f"'page_size' must be one of {', '.join(PAGE_SIZES)}, not '{page_size}'")
        page_size = "A5"
    slug = text("slug")
    if slug is not None and not re.fullmatch(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{SLUG_LENGTH - 1}}}", slug):
        error("slug", f"'slug' must be a plain file name stem of at most {SLUG_LENGTH} letters, digits, '.', '_' or '-', not '{slug}'")
        slug = None
    slug = slug or _slug_from_title(title)
    chapters = None
    if "chapters" in data:
        chapters = text_list("chapters")
        if not chapters:
            error("chapters", "'chapters' must list at least one file")
    identifier = text("identifier")
    if identifier and (problem := isbn_problem(identifier)):
        error("identifier", problem, "M104")
    for key in sorted(set(data) - KNOWN_KEYS):
        if key.startswith("\0"):
            continue
        close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        findings.add("M105", path, f"unknown key '{key}' is ignored{hint}", lines.get(key))
    return Metadata(
        title=title,
        subtitle=text("subtitle"),
        authors=authors,
        author_sorts=author_sorts,
        isbns=_isbns(data.get("isbn"), path, findings),
        language=language,
        date=_date(text("date"), lambda message: error("date", message)),
        identifier=identifier or _derived_identifier(title, authors),
        publisher=text("publisher"),
        rights=text("rights"),
        description=text("description"),
        subjects=text_list("subjects"),
        slug=slug,
        page_size=page_size,
        chapters=chapters,
        ignored_rules=_ignored_rules(data.get("lint"), path, findings),
        **_accessibility(data.get("accessibility"), path, findings),
        lines=lines,
    )


def _authors(value: _Value | None, lines: dict[str, int], path: Path, findings: Findings) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Names and sort names: ``author: Victor Serge``, a list of names, or items ``{name: …, sort: "Serge, Victor"}``.

    Without a sort name, a name in Latin, Cyrillic or Greek letters is filed with its last word first
    ("Serge, Victor"), as library catalogues file most such names; a name in another script is filed
    as written (turning "مجموعة من الكتّاب", "a group of writers", about its last word made nonsense).
    """
    if value is None or value.data is None:
        return (), ()
    items = value.data if isinstance(value.data, list) else [value]
    names, sorts = [], []
    for item in items:
        data = item.data
        if isinstance(data, dict) and isinstance(getattr(data.get("name"), "data", None), str):
            name = " ".join(data["name"].data.split())
            sort = data.get("sort").data if isinstance(getattr(data.get("sort"), "data", None), str) else None
        elif isinstance(data, str):
            name, sort = " ".join(data.split()), None
        else:
            findings.add("M103", path, "'author' must be a name, a list of names, or items such as {name: Victor Serge, sort: \"Serge, Victor\"}", item.line)
            continue
        if name:
            first, _, last = name.rpartition(" ")
            names.append(name)
            sorts.append(" ".join(sort.split()) if sort else (f"{last}, {first}" if first and _inverted_by_catalogues(name) else name))
    return tuple(names), tuple(sorts)


def _inverted_by_catalogues(name: str) -> bool:
    """Whether every letter of ``name`` is Latin, Cyrillic or Greek: scripts whose names catalogues file surname first."""
    return all(unicodedata.name(character, "").startswith(("LATIN", "CYRILLIC", "GREEK")) for character in name if character.isalpha())


def _isbns(value: _Value | None, path: Path, findings: Findings) -> dict[str, str]:
    """``isbn: {print: …, epub: …}``: one ISBN per format, checked and hyphenated."""
    if value is None or value.data is None:
        return {}
    if not isinstance(value.data, dict):
        findings.add("M103", path, "'isbn' must be a mapping such as {print: 978-…, epub: 978-…}", value.line)
        return {}
    isbns = {}
    for book_format, number in value.data.items():
        if book_format not in ISBN_FORMATS or not isinstance(number.data, str):
            findings.add("M103", path, f"'isbn' takes {' and '.join(ISBN_FORMATS)}, each an ISBN, not '{book_format}'", number.line)
        elif problem := isbn_problem(f"urn:isbn:{number.data}"):
            findings.add("M104", path, problem.replace("urn:isbn:", ""), number.line)
        else:
            isbns[book_format] = isbn.format(ISBN_PREFIX.sub("", number.data))
    return isbns


def _slug_from_title(title: str) -> str:
    """The title's words, transliterated to ASCII, cut at a word boundary; ``book`` when nothing is left."""
    from anyascii import anyascii

    slug = slugify(anyascii(title))[:SLUG_LENGTH].rstrip("-")
    if len(slug) == SLUG_LENGTH and "-" in slug:
        slug = slug.rsplit("-", 1)[0]
    return slug or "book"


def _ignored_rules(value: _Value | None, path: Path, findings: Findings) -> frozenset[str]:
    """``lint: {ignore: [T101, …]}``: warnings the book silences. Errors cannot be silenced."""
    if value is None or value.data is None:
        return frozenset()
    ignore = value.data.get("ignore") if isinstance(value.data, dict) else None
    items = ignore.data if ignore is not None else None
    if isinstance(items, str):
        items = [ignore]
    if not isinstance(items, list) or not all(isinstance(item.data, str) for item in items):
        findings.add("M106", path, "'lint' must be a mapping such as {ignore: [T101]}", value.line)
        return frozenset()
    codes = set()
    for item in items:
        code = item.data.strip().upper()
        if code not in RULES:
            findings.add("M106", path, f"'lint: ignore' names '{item.data}', which is not a rule (invoke check --rules lists them)", item.line)
        elif RULES[code].level == "error":
            findings.add("M106", path, f"'lint: ignore' names {code}, an error: only warnings can be silenced", item.line)
        else:
            codes.add(code)
    return frozenset(codes)


def _accessibility(value: _Value | None, path: Path, findings: Findings) -> dict[str, str | None]:
    """``accessibility: {conforms_to: "EPUB Accessibility 1.1 - WCAG 2.1 Level AA", certified_by: Name}``.

    Only what a person declares after reviewing the book; samizdat never claims it by itself.
    """
    declared: dict[str, str | None] = {"conforms_to": None, "certified_by": None}
    if value is None or value.data is None:
        return declared
    if not isinstance(value.data, dict):
        findings.add("M103", path, "'accessibility' must be a mapping such as {conforms_to: \"EPUB Accessibility 1.1 - WCAG 2.1 Level AA\", certified_by: Name}", value.line)
        return declared
    for key, item in value.data.items():
        if key.startswith("\0"):
            continue
        if key not in declared:
            findings.add("M105", path, f"unknown key 'accessibility: {key}' is ignored (known: conforms_to, certified_by)", item.line)
        elif not isinstance(item.data, str) or not item.data.strip():
            findings.add("M103", path, f"'accessibility: {key}' must be text", item.line)
        elif key == "conforms_to" and not CONFORMANCE.fullmatch(" ".join(item.data.split())):
            findings.add("M103", path, f"'accessibility: conforms_to' must be a conformance statement such as "
                         f"'EPUB Accessibility 1.1 - WCAG 2.1 Level AA', not '{item.data}'", item.line)
        else:
            declared[key] = " ".join(item.data.split())
    if declared["certified_by"] and not declared["conforms_to"]:
        findings.add("M103", path, "'accessibility: certified_by' needs 'conforms_to': the standard the book was certified against", value.line)
        declared["certified_by"] = None
    return declared


def isbn_problem(identifier: str) -> str | None:
    """Why an ISBN identifier is invalid; None when it is valid or is not meant as an ISBN.

    An identifier is meant as an ISBN when it says so (``urn:isbn:``, ``ISBN``) or is
    10 or 13 digits (hyphens and spaces aside); ``2026-11-24-0001`` is not.
    """
    stripped = identifier.strip()
    number = ISBN_PREFIX.sub("", stripped)
    compact = re.sub(r"[\s-]", "", number)
    if number == stripped and not re.fullmatch(r"\d{9}[\dXx]|\d{13}", compact):
        return None
    try:
        isbn.validate(number)
    except InvalidLength:
        return f"identifier '{identifier}' looks like an ISBN but has {len(compact)} characters, not 10 or 13"
    except InvalidComponent:
        return f"identifier '{identifier}': an ISBN-13 starts with 978 or 979"
    except ValidationError:
        if not re.fullmatch(r"\d{9}[\dXx]|\d{13}", compact):
            return f"identifier '{identifier}' is not an ISBN: only digits, and X as the last of ten"
        check = isbn._calc_isbn10_check_digit(compact[:-1]) if len(compact) == 10 else ean.calc_check_digit(compact[:-1])
        return f"identifier '{identifier}': the ISBN check digit should be {check}, not {compact[-1].upper()}"
    return None


def _date(text: str | None, complain) -> str | None:
    """The publication date as ISO 8601 (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), checked to exist."""
    if text is None:
        return None
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return text
        if re.fullmatch(r"\d{4}-\d{2}", text):
            dt.date.fromisoformat(text + "-01")
            return text
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    complain(f"'date' must be a date such as 2026-11-24, not '{text}'")
    return None


def _derived_identifier(title: str, authors: tuple[str, ...]) -> str:
    return f"urn:uuid:{uuid.uuid5(SAMIZDAT_NAMESPACE, title + '|' + '|'.join(authors))}"
