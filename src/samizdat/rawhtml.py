"""Raw HTML in a chapter, parsed and allow-listed into markdown-it tokens.

A manuscript may come from a stranger, so raw HTML is never passed through: each
fragment is parsed (``html.parser``, entities decoded), and only elements and
attributes a book needs are kept, as tokens that every renderer renders with its
own rules: ``<a href>`` becomes ``link_open``/``link_close`` and ``<img>`` an
``image`` token, so raw links and images go through the same checks as Markdown
ones; other elements become ``raw_open``/``raw_close``/``raw_void``; text becomes
``text``. Anything else is a finding naming the element or attribute. Comments are
dropped. Whether the elements nest well (no ``<div>`` in a ``<span>``, every element
closed in order, table parts inside tables) is checked by :class:`Nesting`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

import langcodes
from markdown_it.token import Token

from .marks import is_reserved_class

# Elements allowed inside a paragraph (raw inline HTML), and their own attributes.
PHRASING: dict[str, set[str]] = {
    "a": {"href"}, "abbr": set(), "b": set(), "bdi": set(), "bdo": set(), "br": set(), "cite": set(),
    "code": set(), "del": set(), "dfn": set(), "em": set(), "i": set(), "img": {"src", "alt", "width", "height"},
    "ins": set(), "kbd": set(), "mark": set(), "q": set(), "rp": set(), "rt": set(), "ruby": set(), "s": set(),
    "samp": set(), "small": set(), "span": set(), "strong": set(), "sub": set(), "sup": set(),
    "time": {"datetime"}, "u": set(), "var": set(), "wbr": set(),
}
# Elements allowed only between blocks (raw HTML blocks).
FLOW: dict[str, set[str]] = {
    "aside": set(), "blockquote": set(), "caption": set(), "col": {"span"}, "colgroup": {"span"}, "dd": set(),
    "div": set(), "dl": set(), "dt": set(), "figcaption": set(), "figure": set(), "h2": set(), "h3": set(),
    "h4": set(), "h5": set(), "h6": set(), "hr": set(), "li": set(), "ol": {"start", "reversed"}, "p": set(),
    "pre": set(), "section": set(), "table": set(), "tbody": set(), "td": {"colspan", "rowspan"},
    "tfoot": set(), "th": {"colspan", "rowspan", "scope"}, "thead": set(), "tr": set(), "ul": set(),
}
GLOBAL_ATTRIBUTES = {"class", "id", "lang", "dir", "title"}
VOID = {"br", "col", "hr", "img", "wbr"}
# Elements that may only sit directly inside one of these parents.
PARENTS = {
    "caption": {"table"}, "col": {"colgroup", "table"}, "colgroup": {"table"}, "dd": {"dl"}, "dt": {"dl"},
    "figcaption": {"figure"}, "li": {"ul", "ol", "bullet_list", "ordered_list"}, "rp": {"ruby"}, "rt": {"ruby"},
    "tbody": {"table"}, "td": {"tr"}, "tfoot": {"table"}, "th": {"tr"}, "thead": {"table"},
    "tr": {"table", "thead", "tbody", "tfoot"},
}
NO_TEXT_INSIDE = {"table", "thead", "tbody", "tfoot", "tr", "ul", "ol", "dl", "colgroup"}
REFUSED_BECAUSE = {
    "script": "scripts are not allowed in a book",
    "style": "styles belong in the styles folder, not in a chapter",
    "svg": "inline SVG is not allowed: save it as a file in images/ and use ![description](images/name.svg)",
    "math": "MathML is not supported",
    "iframe": "nothing may be embedded from elsewhere",
    "object": "nothing may be embedded from elsewhere",
    "embed": "nothing may be embedded from elsewhere",
    "link": "nothing may be loaded from elsewhere",
    "base": "nothing may change where links point",
    "meta": "metadata belongs in book.yaml",
    "form": "forms are not allowed in a book",
    "input": "forms are not allowed in a book",
}
IDENTIFIER = re.compile(r"[A-Za-z][\w.:-]*$")
CLASS_NAMES = re.compile(r"[A-Za-z_][\w-]*(\s+[A-Za-z_][\w-]*)*$")
NUMBER = re.compile(r"[1-9]\d{0,3}$")
Report = Callable[[str, str], None]  # (rule code, message)


def clean_url(url: str) -> str:
    """A URL with every whitespace and control character removed, as browsers strip them before reading the scheme."""
    return "".join(c for c in url if not (c.isspace() or unicodedata.category(c) in {"Cc", "Cf"}))


def is_class_list(value: str) -> bool:
    """A ``class`` value a book may use: class names, none with the prefix samizdat keeps for itself (:mod:`samizdat.marks`)."""
    return bool(CLASS_NAMES.match(value.strip())) and not is_reserved_class(value)


def _attribute_problem(tag: str, name: str, value: str | None) -> str | None:
    """Why an attribute is refused, or None when it is allowed as it is."""
    allowed = GLOBAL_ATTRIBUTES | PHRASING.get(tag, set()) | FLOW.get(tag, set())
    if name not in allowed:
        if name.startswith("on"):
            return f"raw HTML attribute '{name}' on <{tag}> is not allowed: no scripts in a book"
        if name == "style":
            return f"raw HTML attribute 'style' on <{tag}> is not allowed: styles belong in the styles folder"
        return f"raw HTML attribute '{name}' is not allowed on <{tag}>"
    value = value or ""
    checks: dict[str, Callable[[str], bool]] = {
        "id": lambda v: bool(IDENTIFIER.match(v)),
        "class": is_class_list,
        "lang": langcodes.tag_is_valid,
        "dir": lambda v: v in {"ltr", "rtl", "auto"},
        "width": lambda v: bool(NUMBER.match(v)),
        "height": lambda v: bool(NUMBER.match(v)),
        "colspan": lambda v: bool(NUMBER.match(v)),
        "rowspan": lambda v: bool(NUMBER.match(v)),
        "span": lambda v: bool(NUMBER.match(v)),
        "start": lambda v: bool(re.fullmatch(r"-?\d{1,6}", v)),
        "scope": lambda v: v in {"row", "col", "rowgroup", "colgroup"},
        "reversed": lambda v: v in {"", "reversed"},
    }
    if name in checks and not checks[name](value):
        return f"raw HTML attribute {name}=\"{value}\" on <{tag}> is not a valid value"
    return None


@dataclass
class _FragmentParser(HTMLParser):
    """Turns one raw HTML fragment into allowed tokens, reporting what it refuses."""

    inline: bool
    report: Report
    tokens: list[Token] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # A refused element and what is inside it are skipped.

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.refused:
            self.refused.append(tag) if tag not in VOID else None
            return
        if not self._element(tag, attrs, closing=tag in VOID) and tag not in VOID:
            self.refused.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.refused:
            self._element(tag, attrs, closing=True)

    def handle_endtag(self, tag: str) -> None:
        if self.refused:
            if tag in self.refused:
                del self.refused[self.refused.index(tag):]
            return
        if tag in VOID or not self._allowed(tag):
            return
        self.tokens.append(Token("link_close" if tag == "a" else "raw_close", tag, -1))

    def handle_data(self, data: str) -> None:
        if data and not self.refused:
            self.tokens.append(Token("text", "", 0, content=data))

    def handle_comment(self, data: str) -> None:
        """Comments are not content: dropped."""

    def handle_decl(self, decl: str) -> None:
        self.report("H101", f"raw HTML <!{decl.split()[0] if decl.split() else decl}> is not allowed in a chapter")

    def handle_pi(self, data: str) -> None:
        self.report("H101", "raw HTML processing instructions (<?…?>) are not allowed")

    def unknown_decl(self, data: str) -> None:
        self.report("H101", "raw HTML <![CDATA[…]]> is not allowed: write the text itself")

    def _allowed(self, tag: str) -> bool:
        if tag in PHRASING:
            return True
        return tag in FLOW and not self.inline

    def _element(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> bool:
        """Keep an allowed element as tokens and return True; report a refused one and return False."""
        if not self._allowed(tag):
            if tag in FLOW:
                self.report("H101", f"raw HTML <{tag}> cannot sit inside a paragraph: put it on lines of its own, with blank lines around")
            else:
                reason = REFUSED_BECAUSE.get(tag, "it is not on the list of elements a book may use")
                self.report("H101", f"raw HTML <{tag}> is not allowed: {reason}")
            return False
        kept: dict[str, str] = {}
        for name, value in attrs:
            if problem := _attribute_problem(tag, name, value):
                self.report("H102", problem)
            elif name == "reversed":
                kept[name] = "reversed"
            else:
                kept[name] = " ".join((value or "").split()) if name == "class" else (value or "")
        if tag == "a":
            if "href" in kept:
                kept["href"] = clean_url(kept["href"])
            self.tokens.append(Token("link_open", "a", 1, attrs=kept, meta={"raw": True}))
            if closing:
                self.tokens.append(Token("link_close", "a", -1))
        elif tag == "img":
            alt = kept.pop("alt", "")
            kept["src"] = clean_url(kept.get("src", ""))
            image = Token("image", "img", 0, attrs={"src": kept.pop("src"), "alt": "", **kept},
                          children=[Token("text", "", 0, content=alt)] if alt else [], content=alt)
            self.tokens.append(image)
        elif tag in VOID:
            self.tokens.append(Token("raw_void", tag, 0, attrs=kept))
        else:
            row = self.getpos()[0] - 1  # lines into the fragment: where a heading of a raw block is, for its findings
            self.tokens.append(Token("raw_open", tag, 1, attrs=kept, map=[row, row + 1]))
            if closing:
                self.tokens.append(Token("raw_close", tag, -1))
        return True


class Sanitizer:
    """Raw HTML fragments of one paragraph (or one HTML block), fed in order: the allowed tokens of each.

    Whatever is refused is reported, not kept, and so is everything inside a refused
    element, even across fragments (``<svg>``, then ``<circle/>``, then ``</svg>``).
    """

    def __init__(self, inline: bool, report: Report) -> None:
        self.parser = _FragmentParser(inline=inline, report=report)

    def fragment(self, html: str) -> list[Token]:
        self.parser.tokens = []
        self.parser.feed(html)
        self.parser.goahead(True)  # Flush text held back at the fragment's end.
        return self.parser.tokens

    @property
    def skipping(self) -> bool:
        """True inside a refused element: Markdown text there is dropped too."""
        return bool(self.parser.refused)


@dataclass
class Nesting:
    """Checks that elements, raw and Markdown's own, nest as XHTML and HTML require.

    One ``Nesting`` follows a chapter's block level; each paragraph (inline token)
    gets its own, which must be empty again at its end.
    """

    report: Report
    stack: list[str] = field(default_factory=list)
    failed: bool = False

    def __post_init__(self) -> None:
        report = self.report

        def first_only(code: str, message: str) -> None:
            """One bad nesting upsets everything after it: report the first problem only."""
            if not self.failed:
                self.failed = True
                report(code, message)

        self.report = first_only

    def token(self, token: Token) -> None:
        name = token.tag if token.type.startswith(("raw_", "link_")) or token.type == "image" else token.type.removesuffix("_open").removesuffix("_close")
        if token.type == "text":
            if self.stack and self.stack[-1] in NO_TEXT_INSIDE and token.content.strip():
                self.report("H103", f"text cannot sit directly inside <{self.stack[-1]}>")
            return
        if token.nesting == 1:
            self._open(name, token)
        elif token.nesting == -1:
            self._close(name, token)
        elif token.tag in PARENTS:
            self._check_parent(token.tag)

    def _open(self, name: str, token: Token) -> None:
        raw = token.type.startswith("raw_")
        if raw or token.type == "link_open":
            self._check_parent(token.tag)
            if token.tag in FLOW and any(open_name in PHRASING or open_name in {"p", "paragraph", "heading"} for open_name in self.stack):
                self.report("H103", f"raw HTML <{token.tag}> cannot sit inside <{self.stack[-1]}>")
        elif token.block and self.stack and (self.stack[-1] in PHRASING or self.stack[-1] == "p"):
            self.report("H103", f"raw HTML <{self.stack[-1]}> is still open where a new block begins: close it on the same line")
        if token.type == "link_open" and "a" in self.stack:
            self.report("H103", "a link cannot sit inside another link")
        self.stack.append(name)

    def _close(self, name: str, token: Token) -> None:
        if name in self.stack:
            while self.stack and self.stack[-1] != name:
                self.report("H103", f"raw HTML <{self.stack.pop()}> is not closed before </{name}>")
            self.stack.pop()
        elif token.type.startswith(("raw_", "link_")):
            self.report("H103", f"raw HTML </{name}> closes an element that is not open")

    def _check_parent(self, tag: str) -> None:
        parents = PARENTS.get(tag)
        if parents and (not self.stack or self.stack[-1] not in parents):
            where = f"<{self.stack[-1]}>" if self.stack else "the chapter"
            self.report("H103", f"raw HTML <{tag}> must sit inside {' or '.join(sorted(f'<{p}>' for p in parents if '_' not in p))}, not {where}")

    def finish(self, where: str) -> None:
        for name in reversed(self.stack):
            self.report("H103", f"raw HTML <{name}> is not closed {where}")
        self.stack.clear()
