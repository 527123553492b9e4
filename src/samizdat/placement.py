"""Chapters laid out once, as if each began on page 1, then placed at their real pages.

A chapter's page count does not depend on where it starts: left-hand and right-hand pages have
the same measure (their inner and outer margins swap), and nothing else in a chapter's pages
depends on its page numbers except the folios. So each chapter is laid out at page 1, with no
knowledge of the chapters before it and without margin boxes, and :func:`place` puts it at its
real first page: every page's margin boxes (folio, running head) are made with the real page
number and, when the chapter starts on an even page, every page is turned to the other side (its
text moved by the difference of the margins). Chapters can then be laid out in any order, in
parallel, and watch mode keeps a chapter's layout when an edit before it moves it to other pages.
Watch mode goes one step further: it draws pages placed without margin boxes once, and draws
their margin boxes apart (:func:`furniture`), to be put over them, moved by :func:`moves`.

This works on WeasyPrint's laid-out boxes, with the layout context that
:class:`PlaceableDocument` keeps: ``layout_document`` does the same when it adds margin boxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import weasyprint.layout
from weasyprint.document import Document, Page
from weasyprint.formatting_structure import boxes
from weasyprint.layout.background import layout_backgrounds, layout_box_backgrounds
from weasyprint.layout.page import make_margin_boxes, page_height, page_width, set_page_type_computed_styles
from weasyprint.layout.percent import resolve_percentages

LAID_OUT_AT = 1  # The first page number every chapter is laid out with.
PDF_POINTS_PER_PIXEL = 0.75  # WeasyPrint's CSS pixel, in the PDF's units


class PlaceableDocument(Document):
    """A WeasyPrint ``Document`` that keeps its layout context, which :func:`place` needs to make margin boxes."""

    _building = None  # The context of the document being laid out (one at a time in a process).
    layout_context = None
    placed_at: int | None = None  # The first page number the pages are placed at; None: as laid out, without margin boxes.
    margins = False  # whether the pages have their margin boxes

    @classmethod
    def _build_layout_context(cls, *args, **kwargs):
        PlaceableDocument._building = super()._build_layout_context(*args, **kwargs)
        return PlaceableDocument._building

    @classmethod
    def _render(cls, *args, **kwargs):
        try:
            document = super()._render(*args, **kwargs)
            document.layout_context = PlaceableDocument._building
            return document
        finally:
            PlaceableDocument._building = None


@contextmanager
def without_margin_boxes() -> Iterator[None]:
    """Lay out without margin boxes: :func:`place` makes them, with the real page numbers."""
    make = weasyprint.layout.make_margin_boxes
    weasyprint.layout.make_margin_boxes = lambda context, page, state: ()
    try:
        yield
    finally:
        weasyprint.layout.make_margin_boxes = make


def place(document: PlaceableDocument, first_page: int, margins: bool = True) -> list[Page]:
    """``document``'s pages numbered from ``first_page``, on the sides that number gives, with their
    margin boxes (or none: see :func:`furniture`); they are changed in place. Placing again at another
    page works from the pages as they are (watch mode places a kept layout at each build)."""
    if document.placed_at == first_page and document.margins == margins:
        return document.pages
    context = document.layout_context
    turn = _turns(document, first_page)
    for index, page in enumerate(document.pages):
        if turn:
            document.pages[index] = Page(_turned(document, context, page._page_box))
        box = document.pages[index]._page_box
        box.children = _content(box)
        if margins:
            box.children += _margin_boxes(context, box, index + 1, first_page - LAID_OUT_AT)
    document.placed_at, document.margins = first_page, margins
    return document.pages


def furniture(document: PlaceableDocument, first_page: int) -> list[Page]:
    """For each page of ``document`` (placed without margin boxes), a page holding only the margin boxes
    (folio, running head) it gets at ``first_page`` and on. Watch mode draws these over pages it drew
    before, so that an edit that moves later pages does not draw them again."""
    context = document.layout_context
    pages = []
    for index, (page, side) in enumerate(zip(document.pages, _sides(document, first_page))):
        box = _page_box(document, context, page._page_box, side)
        box.children = _margin_boxes(context, box, index + 1, first_page - LAID_OUT_AT)
        layout_box_backgrounds(box, box, context.get_image_from_uri, layout_children=False)
        box.canvas_background = None  # The page under it paints the canvas.
        pages.append(Page(box))
    return pages


def moves(document: PlaceableDocument, first_page: int) -> list[float]:
    """How far, in PDF points, the text of each page of ``document`` (placed without margin boxes) must move
    right to sit on the side it has at ``first_page`` and on: the other side's margins."""
    context = document.layout_context
    offsets = []
    for page, side in zip(document.pages, _sides(document, first_page)):
        drawn = page._page_box
        moved = drawn if side == drawn.page_type.side else _page_box(document, context, drawn, side)
        offsets.append((moved.content_box_x() - drawn.content_box_x()) * PDF_POINTS_PER_PIXEL)
    return offsets


def furniture_key(document: PlaceableDocument, first_page: int) -> tuple:
    """All that :func:`furniture` draws depends on: the page numbers, and the running strings on each page."""
    strings = document.layout_context.string_set
    return first_page, len(document.pages), tuple(sorted((name, tuple(sorted(pages.items()))) for name, pages in strings.items()))


def _turns(document: PlaceableDocument, first_page: int) -> bool:
    """Whether the pages, as they are now, are on the other side than numbering from ``first_page`` puts them."""
    return (first_page - (document.placed_at or LAID_OUT_AT)) % 2 == 1


def _sides(document: PlaceableDocument, first_page: int) -> list[str]:
    turn = _turns(document, first_page)
    return [_other(page._page_box.page_type.side) if turn else page._page_box.page_type.side for page in document.pages]


def _content(page: boxes.PageBox) -> tuple:
    return tuple(child for child in page.children if not isinstance(child, boxes.MarginBox))


def _margin_boxes(context, page: boxes.PageBox, number: int, shift: int) -> tuple:
    """Margin boxes for page ``number`` of the layout, its page number moved on by ``shift``."""
    quote_depth, counters, scopes, groups = context.page_maker[number][3]
    counters = {**counters, "page": [counters["page"][-1] + shift]}
    context.current_page = number
    margin_boxes = tuple(make_margin_boxes(context, page, (quote_depth, counters, scopes, groups)))
    for box in margin_boxes:
        layout_box_backgrounds(page, box, context.get_image_from_uri)
    return margin_boxes


def _turned(document: PlaceableDocument, context, old: boxes.PageBox) -> boxes.PageBox:
    """A page box for the other side holding the old one's content, moved by the difference of their margins."""
    page = _page_box(document, context, old, _other(old.page_type.side))
    content = _content(old)
    dx = page.content_box_x() - old.content_box_x()
    for child in content:
        child.translate(dx, 0)
    page.fixed_boxes = old.fixed_boxes
    page.children = content
    layout_backgrounds(page, context.get_image_from_uri)
    return page


def _page_box(document: PlaceableDocument, context, old: boxes.PageBox, side: str) -> boxes.PageBox:
    """An empty page box like ``old``, on ``side``."""
    page_type = old.page_type._replace(side=side)
    if context.style_for(page_type) is None:
        set_page_type_computed_styles(page_type, document._html, context.style_for)
    style = context.style_for(page_type)
    style["overflow"] = old.style["overflow"]
    page = boxes.PageBox(page_type, style)
    resolve_percentages(page, style["size"])
    page.position_x = page.position_y = 0
    width, height = style["size"]
    page_width(page, context, width)
    page_height(page, context, height)
    return page


def _other(side: str) -> str:
    return "left" if side == "right" else "right"
