"""``book.yaml``: the book's metadata, read and checked."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import Finding, ManuscriptError

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
    warnings: tuple[Finding, ...] = field(default=(), compare=False)

    @property
    def page_size_css(self) -> str:
        return PAGE_SIZES[self.page_size]


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Serge: Life"`` → ``"serge-life"``."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))
    return "-".join(words)


def load_metadata(manuscript: Path) -> Metadata:
    path = manuscript / METADATA_FILE
    if not path.is_file():
        raise ManuscriptError(path, "missing: every manuscript needs a book.yaml with at least a title")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ManuscriptError(path, "not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ManuscriptError(path, f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ManuscriptError(path, "must be a mapping of keys to values (title: ..., author: ...)")
    return _metadata_from(data, path)


def _metadata_from(data: dict, path: Path) -> Metadata:
    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, (dict, list)):
            raise ManuscriptError(path, f"'{key}' must be text, not a {type(value).__name__}")
        return str(value).strip()

    def text_list(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, (str, int, float)):
            return (str(value).strip(),)
        if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
            return tuple(str(item).strip() for item in value)
        raise ManuscriptError(path, f"'{key}' must be text or a list of text")

    title = text("title")
    if not title:
        raise ManuscriptError(path, "'title' is required")
    authors = text_list("author")
    language = text("language") or "en"
    if not LANGUAGE_TAG.match(language):
        raise ManuscriptError(path, f"'language' must be a BCP 47 tag such as en or pt-BR, not '{language}'")
    page_size = text("page_size") or "A5"
    if page_size not in PAGE_SIZES:
        raise ManuscriptError(path, f"'page_size' must be one of {', '.join(PAGE_SIZES)}, not '{page_size}'")
    slug = text("slug") or slugify(title)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", slug):
        raise ManuscriptError(path, f"'slug' must be a plain file name stem, not '{slug}'")
    chapters = data.get("chapters")
    if chapters is not None:
        chapters = text_list("chapters")
        if not chapters:
            raise ManuscriptError(path, "'chapters' must list at least one file")
    unknown = sorted(set(data) - KNOWN_KEYS, key=str)
    return Metadata(
        title=title,
        subtitle=text("subtitle"),
        authors=authors,
        language=language,
        date=_date(data.get("date"), path),
        identifier=text("identifier") or _derived_identifier(title, authors),
        publisher=text("publisher"),
        rights=text("rights"),
        description=text("description"),
        subjects=text_list("subjects"),
        slug=slug,
        page_size=page_size,
        chapters=chapters,
        warnings=tuple(Finding(path, f"unknown key '{key}' is ignored", level="warning") for key in unknown),
    )


def _date(value: object, path: Path) -> str | None:
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
        raise ManuscriptError(path, f"'date' must be a date such as 2026-11-24, not '{text}'") from None


def _derived_identifier(title: str, authors: tuple[str, ...]) -> str:
    return f"urn:uuid:{uuid.uuid5(SAMIZDAT_NAMESPACE, title + '|' + '|'.join(authors))}"
