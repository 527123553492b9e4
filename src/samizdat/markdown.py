"""Markdown → tokens: markdown-it-py configured for books, plus small plugins.

Three plugins are ours: heading ids (``{#id}`` or an automatic slug, unique across
the whole book), figures (an image with a title, alone in its paragraph, becomes
a ``figure`` token holding the image) and pandoc's fenced divs (``::: {lang=ru}`` …
``:::``, as ``div_open``/``div_close`` tokens). Bracketed spans
(``[Товарищ]{lang=ru}``, ``span_open``/``span_close``) come from mdit-py-plugins'
attrs plugin. Span and div attributes are kept as written; :mod:`samizdat.book`
allow-lists them (rule H104). Rendering is each output's business
(:mod:`samizdat.render` and the renderers).
"""

from __future__ import annotations

import re
from functools import partial

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attributes
from mdit_py_plugins.footnote import footnote_plugin

from .i18n import Locale
from .names import slugify

EXPLICIT_ID = re.compile(r"\s*\{#([A-Za-z][\w.:-]*)\}\s*$")
# A fenced div's fence: three or more colons, then (opening) attributes in braces or one class name.
DIV_FENCE = re.compile(r"(:{3,})[ \t]*(.*?)[ \t]*:*[ \t]*$")
CODE_FENCE = re.compile(r"(`{3,}|~{3,})")


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
    md.use(attrs_plugin, spans=True, after=("span_close",))
    md.block.ruler.before("fence", "fenced_div", _fenced_div, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    md.core.ruler.after("replacements", "no_break_spaces", _no_break_spaces)
    if locale is not None and locale.quote_space:
        md.core.ruler.after("smartquotes", "quote_space", partial(_space_quotes, locale))
    if locale is not None and (locale.punctuation_space or locale.colon_space or locale.unbreakable_after):
        md.core.ruler.after("smartquotes", "local_spacing", partial(_local_spacing, locale))
    if locale is not None and locale.direction == "rtl":
        md.core.ruler.push("code_direction", _code_left_to_right)
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
    for name in ("replacements", "no_break_spaces", "smartquotes", "quote_space", "local_spacing"):
        rule = next((r.fn for r in md.core.ruler.__rules__ if r.name == name and r.enabled), None)
        if rule is not None:
            rule(state)
    return "".join(child.content for child in inline.children)


SPACED_DASH = re.compile(" (?=[–—]( |$))")  # before a spaced dash, or one that ends a line of the source
INITIAL = re.compile(r"(?<![\w.])([^\W\d_]\.) (?=[^\W\d_])")  # "V. I. Lenin": a letter and its full stop, then a name


def _no_break_spaces(state: StateCore) -> None:
    """The space before a spaced en or em dash (``word – word``) becomes a no-break space, so that a line
    may end after the dash but never begin with one; and the space after an initial before a capital
    (``V. I. Lenin``), so that initials never part from the name (in prose text only, never in code)."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text":
                child.content = INITIAL.sub(_tied_initial, SPACED_DASH.sub("\u00a0", child.content))


def _tied_initial(match: re.Match) -> str:
    initial = match.group(1)
    following = match.string[match.end():match.end() + 1]
    return f"{initial}\u00a0" if initial[0].isupper() and following.isupper() else match.group(0)


def _space_quotes(locale: Locale, state: StateCore) -> None:
    """French and similar: the narrow no-break space inside « », in prose text only (never in code)."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text":
                child.content = locale.space_quotes(child.content)


def _local_spacing(locale: Locale, state: StateCore) -> None:
    """The book language's own spaces: French before ; ! ? and : (:meth:`Locale.space_punctuation`), Polish after
    one-letter words (:meth:`Locale.tie_short_words`); in prose text in the book's language only, never in code,
    nor in a span or div marked as another language (``[Hello!]{lang=en}``)."""
    language = locale.tag.split("-")[0].lower()
    divs: list[bool] = []  # for each open div: whether its text is in another language

    def foreign(token: Token, inherited: bool) -> bool:
        lang = token.attrGet("lang")
        return inherited if lang is None else str(lang).split("-")[0].lower() != language

    for token in state.tokens:
        if token.type == "div_open":
            divs.append(foreign(token, bool(divs and divs[-1])))
        elif token.type == "div_close" and divs:
            divs.pop()
        spans = [bool(divs and divs[-1])]
        for child in token.children or []:
            if child.type == "span_open":
                spans.append(foreign(child, spans[-1]))
            elif child.type == "span_close" and len(spans) > 1:
                spans.pop()
            elif child.type == "text" and not spans[-1]:
                child.content = locale.tie_short_words(locale.space_punctuation(child.content))


def _code_left_to_right(state: StateCore) -> None:
    """In a right-to-left book, code is still read left to right: ``dir="ltr"`` on every code element."""
    for token in state.tokens:
        for code in [token, *(token.children or [])]:
            if code.type in {"code_inline", "code_block", "fence"}:
                code.attrSet("dir", "ltr")


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
    """A paragraph holding only an image with a title becomes a ``figure`` token; one holding only an image
    without a title is of class ``image`` (the stylesheets set that image on a line of its own, and an
    image inside a sentence in the line)."""
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
        elif len(children) == 1 and children[0].type == "image":
            opening.attrJoin("class", "image")


def div_attributes(params: str) -> dict[str, str] | None:
    """A fenced div's opening attributes: ``{lang=ru .poem #id}`` or one class name; None if not an opening."""
    params = params.strip()
    if params.startswith("{"):
        try:
            end, attributes = parse_attributes(params)
        except ParseError:
            return None
        return attributes if not params[end + 1 :].strip() else None
    if re.fullmatch(r"[A-Za-z_][\w-]*", params):
        return {"class": params}
    return None


def _fence(state: StateBlock, line: int) -> tuple[str, str] | None:
    """(colons, params) when ``line`` is a fenced div's fence, not indented as code."""
    if state.sCount[line] - state.blkIndent >= 4:
        return None
    start, end = state.bMarks[line] + state.tShift[line], state.eMarks[line]
    match = DIV_FENCE.fullmatch(state.src[start:end])
    return (match.group(1), match.group(2)) if match else None


def _fenced_div(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """pandoc's fenced div: ``::: {lang=ru}`` … ``:::``, nesting as pandoc nests them.

    A fence with attributes opens a div, a bare fence closes the innermost open one
    (so inner and outer fences may have the same length); fences inside a code
    block do not count. A div left open ends with its container.
    """
    fence = _fence(state, start_line)
    if fence is None or (attributes := div_attributes(fence[1])) is None:
        return False
    if silent:
        return True
    depth, line, code_fence = 1, start_line, None
    while (line := line + 1) < end_line:
        start = state.bMarks[line] + state.tShift[line]
        if state.src[start:state.eMarks[line]].strip() and state.sCount[line] < state.blkIndent:
            break
        text = state.src[start:state.eMarks[line]]
        if code_fence:
            code_fence = None if text.startswith(code_fence) and not text[len(code_fence):].strip() else code_fence
            continue
        if match := CODE_FENCE.match(text):
            code_fence = match.group(1)
            continue
        if (inner := _fence(state, line)) is not None:
            if not inner[1]:
                depth -= 1
                if depth == 0:
                    break
            elif div_attributes(inner[1]) is not None:
                depth += 1
    closed = line < end_line and depth == 0
    old_parent, old_max = state.parentType, state.lineMax
    state.parentType, state.lineMax = "fenced_div", line
    token = state.push("div_open", "div", 1)
    token.attrs, token.markup, token.block, token.map = dict(attributes), fence[0], True, [start_line, line]
    state.md.block.tokenize(state, start_line + 1, line)
    token = state.push("div_close", "div", -1)
    token.markup, token.block = fence[0], True
    state.parentType, state.lineMax = old_parent, old_max
    state.line = line + (1 if closed else 0)
    return True
