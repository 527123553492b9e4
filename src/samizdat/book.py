"""The ``Book`` model: a manuscript folder parsed once, for every renderer to use.

Chapter HTML is final: ids are unique across the book, internal links are
``#id`` (renderers that split the book into files map ids to files with
:meth:`Book.chapter_with_id`), image paths are relative to the manuscript
folder, and footnotes are collected per chapter as :class:`Note`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

from .errors import Finding, Findings, ManuscriptError
from .lint import lint_tokens
from .markdown import create_parser, plain_text
from .metadata import Metadata, load_metadata

IMAGE_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
UNDEFINED_NOTE = re.compile(r"\[\^([^\]\s]+)\]")
# Raw HTML may format text; it may not run code or pull in anything from elsewhere.
FORBIDDEN_TAG = re.compile(r"<\s*(script|iframe|object|embed|link|meta|base|form|style)\b", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
RESOURCE_ATTRIBUTE = re.compile(r"""\b(?:src|srcset|poster|data|xlink:href)\s*=\s*["']?([^"'\s>]+)""", re.I)
EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Note:
    id: str
    number: int
    html: str


@dataclass(frozen=True)
class Chapter:
    source: PurePosixPath
    id: str
    title: str
    html: str
    sections: tuple[Heading, ...]
    notes: tuple[Note, ...]
    anchors: frozenset[str]

    @property
    def stem(self) -> str:
        return self.source.with_suffix("").as_posix().replace("/", "-")


@dataclass(frozen=True)
class Asset:
    name: str
    path: Path
    media_type: str


@dataclass(frozen=True)
class Book:
    manuscript: Path
    metadata: Metadata
    chapters: tuple[Chapter, ...]
    assets: tuple[Asset, ...]
    warnings: tuple[Finding, ...]

    def chapter_with_id(self, element_id: str) -> Chapter | None:
        return next((chapter for chapter in self.chapters if element_id in chapter.anchors), None)

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(note for chapter in self.chapters for note in chapter.notes)


def load_book(manuscript: Path) -> Book:
    """Read, check and parse a manuscript folder.

    Every check runs; if any found an error, :class:`ManuscriptError` carries all of
    them. Warnings travel with the book.
    """
    manuscript = manuscript.resolve()
    if not manuscript.is_dir():
        raise ManuscriptError(manuscript, "manuscript folder not found")
    findings = Findings()
    metadata = load_metadata(manuscript, findings)
    sources = _chapter_sources(manuscript, metadata, findings)
    parser = create_parser()
    book_ids: dict[str, int] = {}
    parsed: list[tuple[PurePosixPath, str, list[Token], dict, tuple[str, str]]] = []
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
            findings.error(path, f"heading id '#{heading_id}' is used twice in the book", line)
        heading = _chapter_title(tokens)
        if heading is None:
            findings.error(path, "a chapter must begin with its title as a '# ' heading", 1)
            unreadable.add(source)
            continue
        parsed.append((source, text, tokens, env, heading))
    ids_by_source = {source: _ids(tokens) for source, _, tokens, _, _ in parsed}
    chapter_ids = {source: heading[0] for source, _, _, _, heading in parsed}
    assets: dict[str, Asset] = {}
    chapters = []
    note_number = 0
    for source, text, tokens, env, heading in parsed:
        path = manuscript / source
        context = _ChapterContext(manuscript, path, source, ids_by_source, chapter_ids, unreadable, assets, findings)
        context.check_and_rewrite(tokens)
        _check_notes(env, text, path, findings)
        lint_tokens(tokens, path, findings)
        chapter, note_number = _render_chapter(parser, tokens, env, source, heading, note_number)
        chapters.append(chapter)
    findings.raise_if_errors()
    assets_sorted = tuple(sorted(assets.values(), key=lambda asset: asset.name))
    return Book(manuscript, metadata, tuple(chapters), assets_sorted, tuple(findings.warnings))


def _chapter_sources(manuscript: Path, metadata: Metadata, findings: Findings) -> list[PurePosixPath]:
    yaml_path = manuscript / "book.yaml"
    if metadata.chapters is None:
        sources = sorted(PurePosixPath(p.name) for p in manuscript.glob("*.md") if p.name.lower() != "readme.md")
        if not sources:
            raise ManuscriptError(manuscript, "no chapters: add *.md files or list them under 'chapters' in book.yaml")
        return sources
    sources: list[PurePosixPath] = []
    for name in metadata.chapters:
        source = PurePosixPath(name)
        path = manuscript / source
        line = metadata.lines.get(f"chapters:{name}")
        if source.is_absolute() or not _inside(path, manuscript):
            findings.error(yaml_path, f"chapter '{name}' lies outside the manuscript folder", line)
        elif not path.is_file():
            findings.error(yaml_path, f"chapter '{name}' not found", line)
        elif source in sources:
            findings.error(yaml_path, f"chapter '{name}' is listed twice", line)
        else:
            sources.append(source)
    return sources


def _read_chapter(path: Path, findings: Findings) -> str | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        findings.error(path, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8", line)
        return None
    if not text.strip():
        findings.error(path, "chapter is empty")
        return None
    return text.removeprefix("\ufeff")


def _inside(path: Path, folder: Path) -> bool:
    """True when ``path``, with symlinks and ``..`` resolved, lies within ``folder``."""
    return path.resolve().is_relative_to(folder.resolve())


def _ids(tokens: list[Token]) -> set[str]:
    return {token.attrGet("id") for token in tokens if token.type == "heading_open"} - {None}


def _chapter_title(tokens: list[Token]) -> tuple[str, str] | None:
    """(id, title) of the ``# `` heading that opens a chapter, or None if it does not open with one."""
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h1":
            return token.attrGet("id"), plain_text(tokens[index + 1]).strip()
        if token.type != "html_block":
            return None
    return None


@dataclass
class _ChapterContext:
    """Checks one chapter's links, images and raw HTML, and rewrites links to ``#id``."""

    manuscript: Path
    path: Path
    source: PurePosixPath
    ids_by_source: dict[PurePosixPath, set[str]]
    chapter_ids: dict[PurePosixPath, str]
    unreadable: set[PurePosixPath]
    assets: dict[str, Asset]
    findings: Findings

    def check_and_rewrite(self, tokens: list[Token]) -> None:
        line = 1
        for token in tokens:
            if token.map:
                line = token.map[0] + 1
            if token.type == "html_block":
                self._check_html(token.content, line)
            for child in token.children or []:
                if child.type == "html_inline":
                    self._check_html(child.content, line)
                elif child.type == "image":
                    self._image(child, line)
                elif child.type == "link_open":
                    child.attrSet("href", self._link(child.attrGet("href") or "", line))
                elif child.type == "text":
                    for match in UNDEFINED_NOTE.finditer(child.content):
                        self.findings.error(self.path, f"footnote [^{match.group(1)}] has no definition", line)

    def _check_html(self, html: str, line: int) -> None:
        lowered = html.lower()
        if match := FORBIDDEN_TAG.search(html):
            self.findings.error(self.path, f"raw HTML <{match.group(1).lower()}> is not allowed", line)
        elif EVENT_HANDLER.search(html) or "javascript:" in lowered:
            self.findings.error(self.path, "raw HTML with scripts (on… attributes, javascript: URLs) is not allowed", line)
        elif "url(" in lowered:
            self.findings.error(self.path, "raw HTML may not load resources with url(…)", line)
        for match in RESOURCE_ATTRIBUTE.finditer(html):
            self._asset(match.group(1), line)

    def _image(self, image: Token, line: int) -> None:
        image.attrSet("src", self._asset(image.attrGet("src") or "", line))

    def _asset(self, reference: str, line: int) -> str:
        """Check that an image reference is a file inside the manuscript; return its manuscript-relative name.

        Chapter HTML refers to assets by that name, whichever chapter folder they came from.
        """
        parts = urlsplit(reference)
        target = self.path.parent / unquote(parts.path)
        media_type = IMAGE_TYPES.get(target.suffix.lower())
        if parts.scheme or parts.netloc or reference.startswith("/"):
            self.findings.error(self.path, f"image '{reference}' is not a file in the manuscript folder (remote and absolute references are refused)", line)
        elif not _inside(target, self.manuscript):
            self.findings.error(self.path, f"image '{reference}' lies outside the manuscript folder", line)
        elif not target.is_file():
            self.findings.error(self.path, f"image '{reference}' not found", line)
        elif media_type is None:
            self.findings.error(self.path, f"image '{reference}' is not SVG, PNG, JPEG, GIF or WebP", line)
        else:
            name = target.resolve().relative_to(self.manuscript.resolve()).as_posix()
            self.assets[name] = Asset(name, target.resolve(), media_type)
            return name
        return reference

    def _link(self, href: str, line: int) -> str:
        parts = urlsplit(href)
        if parts.scheme.lower() in EXTERNAL_SCHEMES and (parts.netloc or parts.scheme.lower() in {"mailto", "tel"}):
            return href  # External links are kept as they are.
        if parts.scheme or parts.netloc:
            self.findings.error(self.path, f"link '{href}': only http, https, mailto and tel links may leave the book", line)
            return "#"
        if not parts.path:
            if parts.fragment not in self.ids_by_source[self.source]:
                self.findings.error(self.path, f"link '{href}': no heading with id '{parts.fragment}' in this chapter", line)
            return href
        target = PurePosixPath(*_normalise(PurePosixPath((self.source.parent / unquote(parts.path)).as_posix()).parts))
        if target in self.unreadable:
            return href
        if target not in self.ids_by_source:
            self.findings.error(self.path, f"link '{href}': '{parts.path}' is not a chapter of this book", line)
            return href
        if not parts.fragment:
            return f"#{self.chapter_ids[target]}"
        if parts.fragment not in self.ids_by_source[target]:
            self.findings.error(self.path, f"link '{href}': no heading with id '{parts.fragment}' in {target}", line)
        return f"#{parts.fragment}"


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if out:
                out.pop()
        elif part not in {".", ""}:
            out.append(part)
    return out


def _render_chapter(parser, tokens: list[Token], env: dict, source: PurePosixPath, heading: tuple[str, str], first_note: int) -> tuple[Chapter, int]:
    """Render body and notes separately; footnote numbers run on through the book."""
    footnotes = env.get("footnotes", {}).get("list", {})
    numbers = {local_id: first_note + 1 + offset for offset, local_id in enumerate(sorted(footnotes))}
    body: list[Token] = []
    notes: list[Note] = []
    note_tokens: list[Token] | None = None
    local_id = None
    ref_ids: set[str] = set()
    for token in tokens:
        if token.type == "footnote_open":
            note_tokens, local_id = [], token.meta["id"]
        elif token.type == "footnote_close":
            number = numbers[local_id]
            html = parser.renderer.render(note_tokens, parser.options, env).strip()
            notes.append(Note(f"note-{number}", number, html))
            note_tokens = None
        elif token.type in {"footnote_block_open", "footnote_block_close", "footnote_anchor"}:
            continue
        elif note_tokens is not None:
            note_tokens.append(token)
        else:
            body.append(token)
        for child in token.children or []:
            if child.type == "footnote_ref":
                number, sub_id = numbers[child.meta["id"]], child.meta.get("subId", 0)
                child.meta["number"] = number
                child.meta["ref_id"] = f"noteref-{number}" if not sub_id else f"noteref-{number}-{sub_id + 1}"
                ref_ids.add(child.meta["ref_id"])
    html = parser.renderer.render(body, parser.options, env)
    sections = tuple(
        Heading(int(token.tag[1]), token.attrGet("id"), plain_text(body[index + 1]).strip())
        for index, token in enumerate(body)
        if token.type == "heading_open" and token.tag == "h2"
    )
    anchors = frozenset(_ids(tokens)) | {note.id for note in notes} | ref_ids
    return Chapter(source, heading[0], heading[1], html, sections, tuple(notes), anchors), first_note + len(numbers)


def _check_notes(env: dict, text: str, path: Path, findings: Findings) -> None:
    for label, used in env.get("footnotes", {}).get("refs", {}).items():
        if used == -1:
            definition = re.search(rf"^\[\^{re.escape(label[1:])}\]:", text, re.M)
            line = text[: definition.start()].count("\n") + 1 if definition else None
            findings.warning(path, f"footnote [^{label[1:]}] is defined but never used", line)
