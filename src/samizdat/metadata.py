"""``book.yaml``: the book's metadata, read and checked."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Findings, ManuscriptError

METADATA_FILE = "book.yaml"
PAGE_SIZES = {"A5": "A5", "half-letter": "5.5in 8.5in"}
KNOWN_KEYS = {
    "title", "subtitle", "author", "language", "date", "identifier", "publisher",
    "rights", "description", "subjects", "slug", "page_size", "chapters",
}
# A pragmatic BCP 47 shape: language, optional script, region and variants.
LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z]{4})?(-([a-zA-Z]{2}|\d{3}))?(-[a-zA-Z\d]{5,8})*$")
# Fixed namespace, so that a book without an identifier keeps the same UUID forever.
SAMIZDAT_NAMESPACE = uuid.UUID("6f1d3b52-8a4e-5c1b-9d62-3e0f7a9c2b14")


@dataclass(frozen=True)
class Metadata:
    title: str
    identifier: str
    slug: str
    language: str = "en"
    subtitle: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None
    publisher: str | None = None
    rights: str | None = None
    description: str | None = None
    subjects: tuple[str, ...] = ()
    page_size: str = "A5"
    chapters: tuple[str, ...] | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    @property
    def page_size_css(self) -> str:
        return PAGE_SIZES[self.page_size]


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Serge: Life"`` → ``"serge-life"``."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))
    return "-".join(words)


def load_metadata(manuscript: Path, findings: Findings) -> Metadata:
    """Read ``book.yaml``. Problems go to ``findings``; only unreadable YAML stops here."""
    path = manuscript / METADATA_FILE
    if not path.is_file():
        raise ManuscriptError(path, "missing: every manuscript needs a book.yaml with at least a title")
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        raise ManuscriptError(path, "not UTF-8 text; save the file as UTF-8") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ManuscriptError(path, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ManuscriptError(path, "must be a mapping of keys to values (title: ..., author: ...)")
    return _metadata_from(data, _key_lines(node, path, findings), path, findings)


def _key_lines(node: yaml.Node | None, path: Path, findings: Findings) -> dict[str, int]:
    """1-based line of each top-level key, and of each item under ``chapters`` as ``chapters:NAME``.

    A key given twice is reported: YAML would silently keep only the last one.
    """
    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key, value in node.value:
        if str(key.value) in lines:
            findings.warning(path, f"key '{key.value}' is given twice; only the last one counts", key.start_mark.line + 1)
        lines[str(key.value)] = key.start_mark.line + 1
        if key.value == "chapters" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                lines[f"chapters:{item.value}"] = item.start_mark.line + 1
    return lines


def _metadata_from(data: dict, lines: dict[str, int], path: Path, findings: Findings) -> Metadata:
    def error(key: str, message: str) -> None:
        findings.error(path, message, lines.get(key))

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            error(key, f"'{key}' must be text, not a {'list' if isinstance(value, list) else 'mapping'}")
            return None
        return str(value).strip()

    def text_list(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, (str, int, float)):
            return (str(value).strip(),)
        if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
            return tuple(str(item).strip() for item in value)
        error(key, f"'{key}' must be text or a list of text")
        return ()

    title = text("title")
    if not title:
        findings.error(path, "'title' is required", lines.get("title"))
        title = "Untitled"
    authors = text_list("author")
    language = text("language") or "en"
    if not LANGUAGE_TAG.match(language):
        error("language", f"'language' must be a BCP 47 tag such as en or pt-BR, not '{language}'")
        language = "en"
    page_size = text("page_size") or "A5"
    if page_size not in PAGE_SIZES:
        error("page_size", f"'page_size' must be one of {', '.join(PAGE_SIZES)}, not '{page_size}'")
        page_size = "A5"
    slug = text("slug") or slugify(title)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", slug):
        error("slug", f"'slug' must be a plain file name stem, not '{slug}'")
        slug = slugify(title) or "book"
    chapters = None
    if "chapters" in data:
        chapters = text_list("chapters")
        if not chapters:
            error("chapters", "'chapters' must list at least one file")
    identifier = text("identifier")
    if identifier and (problem := isbn_problem(identifier)):
        error("identifier", problem)
    for key in sorted(set(data) - KNOWN_KEYS, key=str):
        close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        findings.warning(path, f"unknown key '{key}' is ignored{hint}", lines.get(str(key)))
    return Metadata(
        title=title,
        subtitle=text("subtitle"),
        authors=authors,
        language=language,
        date=_date(data.get("date"), lambda message: error("date", message)),
        identifier=identifier or _derived_identifier(title, authors),
        publisher=text("publisher"),
        rights=text("rights"),
        description=text("description"),
        subjects=text_list("subjects"),
        slug=slug,
        page_size=page_size,
        chapters=chapters,
        lines=lines,
    )


ISBN = re.compile(r"^(?:urn:isbn:|isbn(?:-1[03])?:?\s*)?([0-9][0-9 -]{8,}[0-9X])$", re.I)


def isbn_problem(identifier: str) -> str | None:
    """Why an ISBN identifier is invalid (length or check digit); None when valid or not an ISBN."""
    match = ISBN.match(identifier.strip())
    if not match:
        return None
    digits = re.sub(r"[ -]", "", match.group(1)).upper()
    if len(digits) == 13 and digits.isdigit():
        total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
        check = str(-total % 10)
    elif len(digits) == 10 and digits[:9].isdigit():
        value = -sum(int(d) * (10 - i) for i, d in enumerate(digits[:9])) % 11
        check = "X" if value == 10 else str(value)
    else:
        return f"identifier '{identifier}' looks like an ISBN but has {len(digits)} digits, not 10 or 13"
    if digits[-1] != check:
        return f"identifier '{identifier}': the ISBN check digit should be {check}, not {digits[-1]}"
    return None


def _date(value: object, complain: Callable[[str], None]) -> str | None:
    """The publication date as ISO 8601 (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", text):
        return text
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        complain(f"'date' must be a date such as 2026-11-24, not '{text}'")
        return None


def _derived_identifier(title: str, authors: tuple[str, ...]) -> str:
    return f"urn:uuid:{uuid.uuid5(SAMIZDAT_NAMESPACE, title + '|' + '|'.join(authors))}"
