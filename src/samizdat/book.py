"""The ``Book`` model: a manuscript folder parsed once, for every renderer to use.

A chapter is kept as markdown-it tokens, with everything a renderer needs decided
here, once: heading ids (unique across the book), raw HTML turned into allowed
tokens (:mod:`samizdat.rawhtml`), where each link goes (``meta["target"]``, a
chapter id and fragment, or an external URL), image sources as assets of the
manuscript, and footnotes numbered through the book with an id for every call.
Renderers (one module per output) render these tokens with their own rules and
never parse Markdown or each other's HTML.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import langcodes
from markdown_it.token import Token

from .errors import Finding, Findings, ManuscriptError
from .images import ImageProblem, check_image
from .i18n import LabelsError, Locale, locale_for
from .limits import check_limits
from .lint import image_is_described, lint_tokens
from .markdown import create_parser, smart_text
from .metadata import Metadata, load_metadata
from .rawhtml import IDENTIFIER, Nesting, Sanitizer, clean_url, is_class_list

IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel"}
# What is not text: the control characters (Unicode category Cc) but tab and line ends, and the noncharacters U+FFFE, U+FFFF.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
HEADING_TAGS = frozenset(f"h{level}" for level in range(1, 7))
RESERVED_IDS = frozenset({"contents-title"})  # Ids the outputs give to what they add (the PDF's contents).
UNDEFINED_NOTE = re.compile(r"\[\^([^\]\s]+)\]")
# The attributes a bracketed span or fenced div may take (rule H104), and what their values must be.
PART_ATTRIBUTES: dict[str, Callable[[str], bool]] = {
    "lang": langcodes.tag_is_valid,
    "dir": lambda value: value in {"ltr", "rtl", "auto"},
    "class": is_class_list,
    "id": lambda value: bool(IDENTIFIER.match(value)),
}


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Target:
    """Where an internal link goes: a chapter (by its id) and, optionally, an id inside it."""

    chapter: str
    fragment: str | None = None


@dataclass(frozen=True)
class Note:
    """A footnote: its number in the book, its block tokens and the id of each call to it, in order."""

    id: str
    number: int
    tokens: tuple[Token, ...]
    calls: tuple[str, ...]


@dataclass(frozen=True)
class Image:
    """An image in the text (Markdown or raw HTML): its asset name and description."""

    src: str
    alt: str


@dataclass(frozen=True)
class Chapter:
    source: PurePosixPath
    id: str
    title: str
    tokens: tuple[Token, ...]
    sections: tuple[Heading, ...]
    notes: tuple[Note, ...]
    anchors: frozenset[str]
    assets: frozenset[str]
    images: tuple[Image, ...]

    @property
    def stem(self) -> str:
        return self.source.with_suffix("").as_posix().replace("/", "-")


@dataclass(frozen=True)
class Asset:
    name: str
    path: Path
    media_type: str
    content: bytes = b""  # The bytes checked by images.py (a sanitised SVG): what every output uses.


@dataclass(frozen=True)
class Book:
    manuscript: Path
    metadata: Metadata
    chapters: tuple[Chapter, ...]
    assets: tuple[Asset, ...]
    warnings: tuple[Finding, ...]
    locale: Locale

    def chapter_with_id(self, chapter_id: str) -> Chapter:
        return next(chapter for chapter in self.chapters if chapter.id == chapter_id)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(note for chapter in self.chapters for note in chapter.notes)

    @property
    def images(self) -> tuple[Image, ...]:
        return tuple(image for chapter in self.chapters for image in chapter.images)

    @property
    def every_image_described(self) -> bool:
        """True when every image has alt text: the one place that decides it (lint rule I102 and the EPUB's claims)."""
        return all(image_is_described(image.alt) for image in self.images)


def load_book(manuscript: Path, styles: Path | None = None) -> Book:
    """Read, check and parse a manuscript folder (and the labels of ``styles/labels.yaml``, if any).

    Every check runs; if any found an error, :class:`ManuscriptError` carries all of
    them. Warnings travel with the book.
    """
    manuscript = manuscript.resolve()
    if not manuscript.is_dir():
        raise ManuscriptError("C101", manuscript, "manuscript folder not found")
    findings = Findings()
    metadata = load_metadata(manuscript, findings)
    findings.silence(metadata.ignored_rules)
    locale = _locale(metadata, styles, manuscript, findings)
    sources = _chapter_sources(manuscript, metadata, findings)
    parser = create_parser(locale)
    smart = partial(smart_text, parser)
    metadata = dataclasses.replace(metadata, title=smart(metadata.title), subtitle=metadata.subtitle and smart(metadata.subtitle),
                                   description=metadata.description and smart(metadata.description))
    book_ids: dict[str, int] = dict.fromkeys(RESERVED_IDS, 1)
    parsed: list[_Parsed] = []
    unreadable: set[PurePosixPath] = set()  # Already reported; links into them are not reported again.
    for source in sources:
        path = manuscript / source
        text = _read_chapter(path, findings)
        if text is None:
            unreadable.add(source)
            continue
        env: dict = {"ids": book_ids}  # Footnotes are per chapter; heading ids are per book.
        tokens = parser.parse(text, env)
        for heading_id, line in env.get("duplicate_ids", []):
            problem = "is reserved for the book's contents" if heading_id in RESERVED_IDS else "is used twice in the book"
            findings.add("C104", path, f"heading id '#{heading_id}' {problem}", line)
        heading = _chapter_title(tokens)
        if heading is None:
            findings.add("C103", path, "a chapter must begin with its title as a '# ' heading", 1)
            unreadable.add(source)
            continue
        raw_ids = _sanitize_raw_html(tokens, path, book_ids, findings)
        raw_ids |= _check_part_attributes(tokens, path, book_ids, findings)
        _check_heading_levels(tokens, path, findings)
        check_limits(tokens, path, findings)
        parsed.append(_Parsed(source, path, text, tokens, env, heading, _ids(tokens) | raw_ids))
    ids_by_source = {chapter.source: chapter.ids for chapter in parsed}
    chapter_ids = {chapter.source: chapter.heading[0] for chapter in parsed}
    assets: dict[str, Asset] = {}
    chapters = []
    note_number = 0
    taken_ids = set(book_ids)
    for chapter in parsed:
        context = _ChapterContext(manuscript, chapter.path, chapter.source, ids_by_source, chapter_ids, unreadable, assets, findings, smart)
        context.check_and_resolve(chapter.tokens)
        _check_unused_notes(chapter.env, chapter.text, chapter.path, findings)
        lint_tokens(chapter.tokens, chapter.path, findings, metadata.language)
        model, note_number = _chapter_model(chapter, context.used_assets, note_number, taken_ids)
        chapters.append(model)
    findings.raise_if_errors()
    assets_sorted = tuple(sorted(assets.values(), key=lambda asset: asset.name))
    return Book(manuscript, metadata, tuple(chapters), assets_sorted, tuple(findings.warnings), locale)


def _locale(metadata: Metadata, styles: Path | None, manuscript: Path, findings: Findings) -> Locale:
    """The furniture's language; English, with a warning, when there is no translation for the book's."""
    try:
        resolution = locale_for(metadata.language, styles)
    except LabelsError as error:
        findings.add("S102", error.path, error.message, error.line)
        resolution = locale_for(metadata.language)
    if resolution.message:
        findings.add("M107", manuscript / "book.yaml", resolution.message, metadata.lines.get("language"))
    return resolution.locale


@dataclass
class _Parsed:
    source: PurePosixPath
    path: Path
    text: str
    tokens: list[Token]
    env: dict
    heading: tuple[str, str]
    ids: set[str]


def _chapter_sources(manuscript: Path, metadata: Metadata, findings: Findings) -> list[PurePosixPath]:
    yaml_path = manuscript / "book.yaml"
    if metadata.chapters is None:
        found = [p for p in manuscript.glob("*.md") if p.name.lower() != "readme.md" and p.is_file()]
        for path in found:
            if not _inside(path, manuscript):
                findings.add("C101", path, "this chapter is a link to a file outside the manuscript folder: copy the file in instead")
        sources = sorted(PurePosixPath(p.name) for p in found if _inside(p, manuscript))
        if not sources:
            findings.raise_if_errors()
            raise ManuscriptError("C101", manuscript, "no chapters: add *.md files or list them under 'chapters' in book.yaml")
        return sources
    listed: dict[PurePosixPath, None] = {}  # in the book's order; a dict, so that a repeat is found at once in a long book
    seen: Counter[str] = Counter()
    for name in metadata.chapters:
        source = PurePosixPath(name)
        path = manuscript / source
        seen[name] += 1
        line = metadata.lines.get(f"chapters:{name}" if seen[name] == 1 else f"chapters:{name}#{seen[name]}")
        if source.is_absolute() or not _inside(path, manuscript):
            findings.add("C101", yaml_path, f"chapter '{name}' lies outside the manuscript folder", line)
        elif not path.is_file():
            findings.add("C101", yaml_path, f"chapter '{name}' not found", line)
        elif source in listed:
            findings.add("C101", yaml_path, f"chapter '{name}' is listed twice", line)
        else:
            listed[source] = None
    return list(listed)


def _read_chapter(path: Path, findings: Findings) -> str | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        findings.add("C102", path, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8", line)
        return None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        findings.add("C102", path, "chapter is empty")
        return None
    if control := NOT_TEXT.search(text):
        line = text.count("\n", 0, control.start()) + 1
        findings.add("C102", path, f"control character U+{ord(control.group()):04X} is not text: delete it", line)
        return None
    return text


def _inside(path: Path, folder: Path) -> bool:
    """True when ``path``, with symlinks and ``..`` resolved, lies within ``folder``."""
    return path.resolve().is_relative_to(folder.resolve())


def _ids(tokens: list[Token]) -> set[str]:
    return {token.attrGet("id") for token in tokens if token.type == "heading_open"} - {None}


def _chapter_title(tokens: list[Token]) -> tuple[str, str] | None:
    """(id, title) of the ``# `` heading that opens a chapter, or None if it does not open with one."""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return token.attrGet("id"), heading_text(tokens[index + 1])
        if token.type != "html_block":
            return None
    return None


def _check_heading_levels(tokens: list[Token], path: Path, findings: Findings) -> None:
    """Each heading at most one level below the one before it (C107), Markdown's and raw HTML's alike: a screen
    reader's outline has no gaps, and PDF/UA forbids them (ISO 14289-1 7.4.2, Matterhorn 14-003)."""
    previous, line = 1, 1
    for token in tokens:
        line = token.map[0] + 1 if token.map else line
        for heading in [token, *(token.children or [])] if token.type == "raw_block" else [token]:
            if heading.type not in {"heading_open", "raw_open"} or heading.tag not in HEADING_TAGS:
                continue
            level = int(heading.tag[1])
            if level > previous + 1:
                at = line + heading.map[0] if heading is not token and heading.map else line
                findings.add("C107", path, f"a level-{level} heading follows a level-{previous} one: a level is skipped "
                                           f"(use {'#' * (previous + 1)} or <h{previous + 1}>)", at)
            previous = level


def heading_text(inline: Token) -> str:
    """A heading's words for contents and titles: its text, code and images' descriptions, spaces joined;
    empty when nothing visible is left (a heading of a soft hyphen only)."""
    words = "".join(child.content for child in _walk(inline) if child.type in {"text", "code_inline"} and child is not inline)
    words = " ".join(words.split())
    return words if any(unicodedata.category(c)[0] in "LNPS" for c in words) else ""


def _sanitize_raw_html(tokens: list[Token], path: Path, book_ids: dict[str, int], findings: Findings) -> set[str]:
    """Replace every raw HTML fragment with allowed tokens; check that elements nest. Returns the raw ids."""
    line = 1

    def report(code: str, message: str) -> None:
        findings.add(code, path, message, line)

    blocks = Nesting(report)
    raw_ids: set[str] = set()
    for index, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else line
        if token.type == "html_block":
            children = Sanitizer(inline=False, report=report).fragment(token.content)
            tokens[index] = Token("raw_block", "", 0, map=token.map, block=True, children=children)
            for child in children:
                blocks.token(child)
        elif token.type == "inline" and token.children:
            inline = Nesting(report)
            sanitizer = Sanitizer(inline=True, report=report)
            children: list[Token] = []
            for child in token.children:
                if child.type == "html_inline":
                    children += sanitizer.fragment(child.content)
                elif not sanitizer.skipping:
                    children.append(child)
            for child in children:
                inline.token(child)
            inline.finish("in the same paragraph")
            token.children = children
        else:
            blocks.token(token)
        for child in tokens[index].children or []:
            if child.type.startswith(("raw_", "link_open")) and (element_id := child.attrGet("id")):
                if element_id in book_ids or element_id in raw_ids:
                    report("C104", f"id '#{element_id}' is used twice in the book")
                raw_ids.add(element_id)
    blocks.finish("at the end of the chapter")
    book_ids.update(dict.fromkeys(raw_ids, 1))
    return raw_ids


def _check_part_attributes(tokens: list[Token], path: Path, book_ids: dict[str, int], findings: Findings) -> set[str]:
    """Allow-list the attributes of bracketed spans and fenced divs (``{lang=ru}``); returns their ids.

    A refused attribute is reported (H104) and removed, so it never reaches an output.
    """
    part_ids: set[str] = set()
    line = 1
    for token in tokens:
        line = token.map[0] + 1 if token.map else line
        for part in [token, *(token.children or [])]:
            if part.type not in {"span_open", "div_open"}:
                continue
            element = part.tag
            for name, value in {**part.meta.pop("insecure_attrs", {}), **part.attrs}.items():
                value = str(value)
                check = PART_ATTRIBUTES.get(name)
                if check is None:
                    findings.add("H104", path, f"attribute '{name}' is not allowed on a {element}: only lang, dir, class and id", line)
                elif not check(value):
                    findings.add("H104", path, f"{name}=\"{value}\" on a {element} is not a valid value", line)
                elif name == "id" and (value in book_ids or value in part_ids):
                    findings.add("C104", path, f"id '#{value}' is used twice in the book", line)
                else:
                    if name == "id":
                        part_ids.add(value)
                    continue
                part.attrs.pop(name, None)
    book_ids.update(dict.fromkeys(part_ids, 1))
    return part_ids


@dataclass
class _ChapterContext:
    """Checks one chapter's links, images and note calls, and records where each link goes."""

    manuscript: Path
    path: Path
    source: PurePosixPath
    ids_by_source: dict[PurePosixPath, set[str]]
    chapter_ids: dict[PurePosixPath, str]
    unreadable: set[PurePosixPath]
    assets: dict[str, Asset]
    findings: Findings
    smart: Callable[[str], str]
    used_assets: set[str] | None = None

    def check_and_resolve(self, tokens: list[Token]) -> None:
        self.used_assets = set()
        line = 1
        for token in tokens:
            if token.map:
                line = token.map[0] + 1
            children = token.children or []
            for index, child in enumerate(children):
                if child.type == "image":
                    child.attrSet("src", self._asset(child.attrGet("src") or "", line))
                    if child.attrGet("title"):  # a figure's caption: smart punctuation, like the text
                        child.attrSet("title", self.smart(str(child.attrGet("title"))))
                elif child.type == "link_open":
                    self._link(child, line)
                    if not _link_words(children[index + 1:]):
                        self.findings.add("L103", self.path, f"link '{child.attrGet('href')}' has no text: a screen reader would say only "
                                          "\"link\" (give it words, or its image alt text)", line)
                elif child.type == "text" and "[^" in child.content:
                    self._undefined_notes(child.content, line)

    def _undefined_notes(self, text: str, line: int) -> None:
        """A ``[^label]`` left as text is a call whose definition markdown-it did not find."""
        for match in UNDEFINED_NOTE.finditer(text):
            self.findings.add("N101", self.path, f"footnote [^{match.group(1)}] has no definition", line)

    def _asset(self, reference: str, line: int) -> str:
        """Check that an image reference is a file inside the manuscript; return its manuscript-relative name.

        Chapters refer to assets by that name, whichever chapter folder they came from.
        """
        reference = clean_url(reference)
        parts = urlsplit(reference)
        target = self.path.parent / unquote(parts.path)
        media_type = IMAGE_TYPES.get(target.suffix.lower())
        if parts.scheme or parts.netloc or reference.startswith("/"):
            self.findings.add("I101", self.path, f"image '{reference}' is not a file in the manuscript folder (remote and absolute references are refused)", line)
        elif not parts.path:
            self.findings.add("I101", self.path, "image without a file name", line)
        elif not _inside(target, self.manuscript):
            self.findings.add("I101", self.path, f"image '{reference}' lies outside the manuscript folder", line)
        elif not target.is_file():
            self.findings.add("I101", self.path, f"image '{reference}' not found", line)
        elif media_type is None:
            self.findings.add("I101", self.path, f"image '{reference}' is not SVG, PNG, JPEG, GIF or WebP", line)
        else:
            name = target.resolve().relative_to(self.manuscript.resolve()).as_posix()
            if name not in self.assets:
                try:
                    checked = check_image(target.resolve(), target.suffix)
                except ImageProblem as problem:
                    self.findings.add(problem.code, self.path, f"image '{reference}' {problem}", line)
                    return reference
                self.assets[name] = Asset(name, target.resolve(), media_type, checked.content)
            self.used_assets.add(name)
            return name
        return reference

    def _link(self, token: Token, line: int) -> None:
        """Set ``meta["target"]`` (internal) or ``meta["external"]``; report links that go nowhere."""
        href = clean_url(token.attrGet("href") or "")
        token.attrSet("href", href)
        parts = urlsplit(href)
        scheme = parts.scheme.lower()
        if scheme in EXTERNAL_SCHEMES and (parts.netloc or scheme in {"mailto", "tel"}):
            token.meta["external"] = href
            return
        token.meta["target"] = Target(self.chapter_ids[self.source])  # Where a broken link points, so that renderers always have one.
        if parts.scheme or parts.netloc:
            self.findings.add("L101", self.path, f"link '{href}': only http, https, mailto and tel links may leave the book", line)
            return
        if not parts.path:
            if parts.fragment not in self.ids_by_source[self.source]:
                self.findings.add("L102", self.path, f"link '{href}': no heading with id '{parts.fragment}' in this chapter", line)
            token.meta["target"] = Target(self.chapter_ids[self.source], parts.fragment)
            return
        target = PurePosixPath(*_normalise(PurePosixPath((self.source.parent / unquote(parts.path)).as_posix()).parts))
        if target in self.unreadable:
            return
        if target not in self.ids_by_source:
            self.findings.add("L102", self.path, f"link '{href}': '{parts.path}' is not a chapter of this book", line)
            return
        if parts.fragment and parts.fragment not in self.ids_by_source[target]:
            self.findings.add("L102", self.path, f"link '{href}': no heading with id '{parts.fragment}' in {target}", line)
            return
        token.meta["target"] = Target(self.chapter_ids[target], parts.fragment or None)


def _link_words(after_open: list[Token]) -> str:
    """What a reader hears of a link: its text and its images' alt text, up to its ``link_close``."""
    words = []
    for token in after_open:
        if token.type == "link_close":
            break
        words.append(token.content if token.type in {"text", "code_inline", "image"} else "")
    return "".join(words).strip()


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in {".", ""}:
            out.append(part)
    return out


def _check_unused_notes(env: dict, text: str, path: Path, findings: Findings) -> None:
    for label, used in env.get("footnotes", {}).get("refs", {}).items():
        if used == -1:
            definition = re.search(rf"^\[\^{re.escape(label[1:])}\]:", text, re.M)
            line = text[: definition.start()].count("\n") + 1 if definition else None
            findings.add("N102", path, f"footnote [^{label[1:]}] is defined but never used", line)


def _chapter_model(parsed: _Parsed, assets: set[str], first_note: int, taken: set[str]) -> tuple[Chapter, int]:
    """Split body and notes; number notes through the book and give every call its own id.

    Note ids (``note-3``, ``noteref-3-2``) step aside for ids the book already uses (``taken``, updated).
    """
    footnotes = parsed.env.get("footnotes", {}).get("list", {})
    numbers = {local_id: first_note + 1 + offset for offset, local_id in enumerate(sorted(footnotes))}
    note_ids = {number: _free_id(f"note-{number}", taken) for number in numbers.values()}
    body: list[Token] = []
    note_tokens: dict[int, list[Token]] = {}
    current: list[Token] | None = None
    calls: dict[int, list[str]] = {number: [] for number in numbers.values()}
    for token in parsed.tokens:
        if token.type == "footnote_open":
            current = note_tokens.setdefault(numbers[token.meta["id"]], [])
        elif token.type == "footnote_close":
            current = None
        elif token.type in {"footnote_block_open", "footnote_block_close", "footnote_anchor"}:
            continue
        else:
            (body if current is None else current).append(token)
        for child in token.children or []:
            if child.type == "footnote_ref":
                number, sub_id = numbers[child.meta["id"]], child.meta.get("subId", 0)
                ref_id = _free_id(f"noteref-{number}" if not sub_id else f"noteref-{number}-{sub_id + 1}", taken)
                child.meta.update(number=number, note_id=note_ids[number], ref_id=ref_id, first=not sub_id)
                calls[number].append(ref_id)
    for tokens in note_tokens.values():  # The footnote anchor sits inside the last paragraph.
        for token in tokens:
            if token.children:
                token.children = [child for child in token.children if child.type != "footnote_anchor"]
    notes = tuple(Note(note_ids[number], number, tuple(note_tokens.get(number, [])), tuple(calls[number]))
                  for number in sorted(numbers.values()))
    sections = tuple(  # A heading with nothing to read has nothing to show in the contents.
        Heading(int(token.tag[1]), token.attrGet("id"), text)
        for index, token in enumerate(body)
        if token.type == "heading_open" and token.tag == "h2" and (text := heading_text(body[index + 1]))
    )
    images = tuple(
        Image(child.attrGet("src") or "", "".join(grandchild.content for grandchild in child.children or []))
        for token in parsed.tokens for child in _walk(token) if child.type == "image"
    )
    anchors = frozenset(parsed.ids) | {note.id for note in notes} | {ref for note in notes for ref in note.calls}
    chapter_id, title = parsed.heading
    title = title or parsed.source.stem  # A title of nothing readable: the file's name stands in for it.
    chapter = Chapter(parsed.source, chapter_id, title, tuple(body), sections, notes, anchors, frozenset(assets), images)
    return chapter, first_note + len(numbers)


def _free_id(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-x2``, ``wanted-x3``… when the book already uses it; recorded as taken."""
    candidate, n = wanted, 1
    while candidate in taken:
        n += 1
        candidate = f"{wanted}-x{n}"
    taken.add(candidate)
    return candidate


def _walk(token: Token):
    """A token and every token inside it (figures hold their image as a child)."""
    yield token
    for child in token.children or []:
        yield from _walk(child)

