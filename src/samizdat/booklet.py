"""Saddle-stitch imposition: reading-order pages two-up on landscape sheets, still vector.

Print the result double-sided, flipped on the short edge; fold the stack in half and
staple through the fold. A right-to-left book (its PDF says ``/Direction /R2L``) binds
on the right: every sheet side is mirrored, so the front cover lies left of the fold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .output import atomic_output

MM = 72 / 25.4
SHEETS = {"a4": (297 * MM, 210 * MM), "letter": (11 * 72, 8.5 * 72)}  # landscape width, height in points


@dataclass(frozen=True)
class BookletResult:
    path: Path
    pages: int
    blanks: int
    sheets: int
    scale: float


def saddle_stitch_order(pages: int, right_to_left: bool = False) -> list[tuple[int, int]]:
    """Pairs of 1-based page numbers, (left, right), for each sheet side in printing order.

    ``pages`` must be a multiple of four. For eight: (8, 1), (2, 7), (6, 3), (4, 5); bound
    on the right (``right_to_left``), each side mirrored: (1, 8), (7, 2), (3, 6), (5, 4).
    """
    if pages % 4:
        raise ValueError(f"{pages} pages: saddle stitching needs a multiple of four")
    sides = []
    for sheet in range(pages // 4):
        outer, inner = pages - 2 * sheet, 2 * sheet + 1
        sides.append((outer, inner))  # front
        sides.append((inner + 1, outer - 1))  # back
    return [(right, left) for left, right in sides] if right_to_left else sides


def padded_order(pages: int) -> list[int | None]:
    """Reading order padded with blanks (``None``) to a multiple of four.

    Blanks never fall inside the text: they follow the last page, so the pamphlet's
    outside back cover is left clean.
    """
    return [*range(1, pages + 1), *[None] * (-pages % 4)]


def is_right_to_left(reader) -> bool:
    """True when the PDF's viewer preferences say its pages run right to left (``/Direction /R2L``)."""
    preferences = reader.trailer["/Root"].get("/ViewerPreferences")
    return preferences is not None and preferences.get_object().get("/Direction") == "/R2L"


def impose(source: Path, target: Path, sheet: str = "a4") -> BookletResult:
    from pypdf import PageObject, PdfReader, PdfWriter, Transformation

    reader = PdfReader(source)
    order = padded_order(len(reader.pages))
    sheet_width, sheet_height = SHEETS[sheet]
    first = reader.pages[0]
    page_width, page_height = float(first.mediabox.width), float(first.mediabox.height)
    scale = min(sheet_width / 2 / page_width, sheet_height / page_height)
    writer = PdfWriter()
    for left, right in saddle_stitch_order(len(order), is_right_to_left(reader)):
        side = PageObject.create_blank_page(width=sheet_width, height=sheet_height)
        for half, number in enumerate((left, right)):
            index = order[number - 1]
            if index is None:
                continue
            page = reader.pages[index - 1]
            box = page.mediabox
            # Centre each page in its half of the sheet, so the fold falls on the spine.
            x = half * sheet_width / 2 + (sheet_width / 2 - page_width * scale) / 2 - float(box.left) * scale
            y = (sheet_height - page_height * scale) / 2 - float(box.bottom) * scale
            side.merge_transformed_page(page, Transformation().scale(scale).translate(x, y))
        # A sheet is for the printer: the pages' links would keep their old places (over the other
        # half's text) and point at destinations a sheet does not have.
        if "/Annots" in side:
            del side["/Annots"]
        writer.add_page(side)
    writer.add_metadata({key: value for key, value in (reader.metadata or {}).items()})
    with atomic_output(target) as temporary:
        with temporary.open("wb") as handle:
            writer.write(handle)
    return BookletResult(target, len(reader.pages), len(order) - len(reader.pages), len(order) // 4, scale)
