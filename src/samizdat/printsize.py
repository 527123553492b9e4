"""How sharp each raster image will print: its pixels over the width the pamphlet's stylesheets give it.

The printed width depends on the stylesheets (a figure's width, ``image-resolution``, the
measure, ``max-height``), so it is not computed here: each raster image is laid out by
WeasyPrint with the book's own print stylesheets, in the same surroundings as in the
book (alone in a figure, or inside a paragraph), and its box is measured. Rules I105
(below 300 ppi, warning) and I106 (below 150 ppi, error).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING
from pathlib import Path

from markdown_it.token import Token

from .book import Book
from .errors import Findings

if TYPE_CHECKING:
    from .pdf import Typesetter

CSS_PX_PER_INCH = 96
WARN_BELOW_PPI = 300
ERROR_BELOW_PPI = 150


def _placements(book: Book) -> list[tuple[Path, int, str, Token]]:
    """(chapter file, line, "figure" or "inline", image token) for every raster image in the book."""
    raster = {asset.name for asset in book.assets if asset.media_type != "image/svg+xml"}
    found = []
    for chapter in book.chapters:
        line = 1
        for token in chapter.tokens:
            line = token.map[0] + 1 if token.map else line
            for child in token.children or []:
                if child.type == "image" and child.attrGet("src") in raster:
                    found.append((book.manuscript / chapter.source, line, "figure" if token.type == "figure" else "inline", child))
    return found


def _html(book: Book, placements: list[tuple[Path, int, str, Token]]) -> str:
    from .pdf import PdfChapterRenderer

    href = PdfChapterRenderer(book).asset_href
    parts = []
    for index, (_, _, where, image) in enumerate(placements):
        size = "".join(f' {name}="{escape(str(image.attrGet(name)))}"' for name in ("width", "height") if image.attrGet(name))
        img = f'<img data-i="{index}" src="{escape(href(str(image.attrGet("src"))))}" alt=""{size}>'
        parts.append(f"<figure>{img}</figure>" if where == "figure" else f"<p>{img}</p>")
    return (f'<!DOCTYPE html><html lang="{escape(book.metadata.language)}"><head><meta charset="utf-8"><title>x</title></head>'
            f'<body><section class="chapter">{"".join(parts)}</section></body></html>')


def check_print_resolution(book: Book, setter: Typesetter | Path, findings: Findings) -> None:
    """Add I105/I106 findings for raster images that would print below 300 (150) pixels to the inch.

    ``setter`` is the build's typesetter, or the styles folder to set one up from (``invoke check``).
    """
    placements = _placements(book)
    if not placements:
        return
    from weasyprint.formatting_structure import boxes

    from .pdf import Typesetter

    if not isinstance(setter, Typesetter):
        setter = Typesetter(book, setter)
    setter._serve_images(book)
    document = setter.weasy.render(_html(book, placements), book.manuscript.as_uri() + "/", setter.stylesheets)
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.ReplacedBox) and box.element is not None and box.element.get("data-i") and box.width:
                path, line, where, image = placements[int(box.element.get("data-i"))]
                pixels = getattr(box.replacement, "width", None)
                if not pixels:
                    continue
                inches = box.width / CSS_PX_PER_INCH
                ppi = round(pixels / inches)
                if ppi < WARN_BELOW_PPI:
                    code = "I106" if ppi < ERROR_BELOW_PPI else "I105"
                    findings.add(code, path, f"image '{image.attrGet('src')}' ({pixels} px wide) prints {inches * 25.4:.0f} mm wide "
                                 f"{'in its figure' if where == 'figure' else 'in the text'}: {ppi} ppi, below "
                                 f"{ERROR_BELOW_PPI if code == 'I106' else WARN_BELOW_PPI}; use a larger image", line)
