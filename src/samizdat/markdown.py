"""Markdown → tokens: markdown-it-py configured for books, plus small plugins.

Two plugins are ours: heading ids (``{#id}`` or an automatic slug, unique across
the whole book) and figures (an image with a title, alone in its paragraph, becomes
a ``figure`` token holding the image). Rendering is each output's business
(:mod:`samizdat.render` and the renderers).
"""

from __future__ import annotations

import re
from functools import partial

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from .i18n import Locale
from .names import slugify

EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*$")


def create_parser(locale: Locale | None = None) -> MarkdownIt:
    """CommonMark, tables, strikethrough, footnotes, smart punctuation in the book's language, raw inline HTML."""
    options: dict = {"typographer": True, "html": True}
    if locale is not None:
        options["quotes"] = locale.quotes
    md = MarkdownIt("commonmark", options)
    # Every URL reaches our own checks (book.py), which refuse unsafe ones with a message,
    # instead of markdown-it silently leaving them as literal text.
    md.validateLink = lambda url: True
    md.enable(["table", "strikethrough", "replacements", "smartquotes"])
    md.use(footnote_plugin)
    if locale is not None and locale.quote_space:
        md.core.ruler.after("smartquotes", "quote_space", partial(_space_quotes, locale))
    md.core.ruler.push("heading_ids", _heading_ids)
    md.core.ruler.push("figures", _figures)
    return md


def plain_text(inline: Token) -> str:
    """The words of an inline token, without markup."""
    return "".join(child.content for child in inline.children or [] if child.type in {"text", "code_inline"})


def smart_text(md: MarkdownIt, text: str) -> str:
    """Plain text (a title, a caption) with the same smart punctuation as the chapters, and no Markdown read into it."""
    inline = Token("inline", "", 0, content=text, children=[Token("text", "", 0, content=text)])
    state = StateCore(text, md, {})
    state.tokens = [inline]
    for name in ("replacements", "smartquotes", "quote_space"):
        rule = next((r.fn for r in md.core.ruler.__rules__ if r.name == name and r.enabled), None)
        if rule is not None:
            rule(state)
    return "".join(child.content for child in inline.children)


def _space_quotes(locale: Locale, state: StateCore) -> None:
    """French and similar: the narrow no-break space inside « », in prose text only (never in code)."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text":
                child.content = locale.space_quotes(child.content)


def _heading_ids(state: StateCore) -> None:
    """Give every heading an id: ``{#explicit}`` if the editor wrote one, else a slug.

    ``env["ids"]`` is shared by all chapters of a book, so ids are unique book-wide
    and a renderer may put every chapter into one document.
    """
    used: dict[str, int] = state.env.setdefault("ids", {})
    for index, token in enumerate(state.tokens):
        if token.type != "heading_open":
            continue
        inline = state.tokens[index + 1]
        explicit = None
        last = inline.children[-1] if inline.children else None
        if last is not None and last.type == "text" and (match := EXPLICIT_ID.search(last.content)):
            explicit = match.group(1)
            last.content = last.content[: match.start()]
            inline.content = EXPLICIT_ID.sub("", inline.content)
        if explicit:
            heading_id = explicit
            if explicit in used:
                state.env.setdefault("duplicate_ids", []).append((explicit, (token.map or [0])[0] + 1))
        else:
            base = slugify(plain_text(inline)) or "section"
            heading_id, n = base, 1
            while heading_id in used:
                n += 1
                heading_id = f"{base}-{n}"
        used[heading_id] = used.get(heading_id, 0) + 1
        token.attrSet("id", heading_id)


def _figures(state: StateCore) -> None:
    """A paragraph holding only an image with a title becomes a ``figure`` token."""
    tokens = state.tokens
    for index in range(len(tokens) - 2, 0, -1):
        if index + 1 >= len(tokens):
            continue
        opening, inline, closing = tokens[index - 1], tokens[index], tokens[index + 1]
        if opening.type != "paragraph_open" or closing.type != "paragraph_close":
            continue
        children = [child for child in inline.children or [] if not (child.type == "text" and not child.content.strip())]
        if len(children) == 1 and children[0].type == "image" and children[0].attrGet("title"):
            figure = Token("figure", "figure", 0, map=opening.map, block=True, children=children)
            tokens[index - 1 : index + 2] = [figure]
