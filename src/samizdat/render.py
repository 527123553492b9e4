"""What every output's chapter renderer shares: markdown-it's ``RendererHTML`` with the book's own token types.

Each output subclasses :class:`ChapterRenderer` and adds one rule per token type it
renders its own way (a method named after the token type, as markdown-it-py
intends): where internal links point (``internal_href``) and what a note call
becomes (``footnote_ref``). Nothing here, or in a subclass, parses HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import quote

from markdown_it.presets import commonmark
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import OptionsDict

from .book import Book, Chapter, Target


class ChapterRenderer(RendererHTML):
    """Renders a chapter's tokens to HTML (or, with ``xhtml``, to XHTML that is well-formed XML)."""

    def __init__(self, book: Book, xhtml: bool = False) -> None:
        super().__init__()
        self.book = book
        self.options = OptionsDict({**commonmark.make()["options"], "xhtmlOut": xhtml})

    def render_tokens(self, tokens: Sequence[Token], chapter: Chapter) -> str:
        return self.render(tokens, self.options, {"chapter": chapter})

    def render_inline_tokens(self, tokens: Sequence[Token], chapter: Chapter) -> str:
        return self.renderInline(tokens, self.options, {"chapter": chapter})

    def internal_href(self, target: Target, chapter: Chapter) -> str:
        """Where a link inside the book points, seen from ``chapter``; one document for the whole book by default."""
        return f"#{target.fragment or target.chapter}"

    def asset_href(self, name: str) -> str:
        """Where an image (its asset name, relative to the manuscript) is found from a rendered chapter."""
        return quote(name)

    # Rules, one per token type (markdown-it-py finds them by name).

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        token = tokens[idx]
        mapped = token.copy(attrs={**token.attrs, "src": self.asset_href(str(token.attrGet("src") or ""))})
        return super().image([mapped], 0, options, env)

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        token = tokens[idx]
        href = token.meta.get("external") or self.internal_href(token.meta["target"], env["chapter"])
        attributes = {**token.attrs, "href": href}
        if token.markup == "autolink":  # <https://…>: the text is the address
            attributes["class"] = "autolink"
        return "<a" + "".join(f' {name}="{escape(str(value))}"' for name, value in attributes.items()) + ">"

    def figure(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        image = tokens[idx].children[0]
        alt = self.renderInlineAsText(image.children or [], options, env)
        caption = escape(image.attrGet("title") or "", quote=False)
        close = " /" if options["xhtmlOut"] else ""
        return (f'<figure>\n<img src="{escape(self.asset_href(str(image.attrGet("src") or "")))}" alt="{escape(alt)}"{close}>\n'
                f"<figcaption>{caption}</figcaption>\n</figure>\n")

    def raw_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        """Allowed raw HTML between blocks, already turned into tokens by the model."""
        return self.renderInline(tokens[idx].children or [], options, env) + "\n"

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: dict) -> str:
        raise AssertionError("raw HTML reached a renderer without passing the model's allow-list")

    html_inline = html_block
