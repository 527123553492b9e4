"""A contact sheet: every page as a thumbnail in reading order, for a look before printing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .output import atomic_output

COLUMNS = 4
THUMB_HEIGHT = 360
GAP = 24
BACKGROUND = (128, 128, 128)


@dataclass(frozen=True)
class ProofResult:
    path: Path
    pages: int


def contact_sheet(source: Path, target: Path) -> ProofResult:
    import pypdfium2
    from PIL import Image

    document = pypdfium2.PdfDocument(source)
    thumbs = []
    for page in document:
        image = page.render(scale=THUMB_HEIGHT / page.get_height()).to_pil().convert("RGB")
        thumbs.append(image)
    width = max(image.width for image in thumbs)
    rows = math.ceil(len(thumbs) / COLUMNS)
    sheet = Image.new("RGB", (GAP + COLUMNS * (width + GAP), GAP + rows * (THUMB_HEIGHT + GAP)), BACKGROUND)
    for index, image in enumerate(thumbs):
        row, column = divmod(index, COLUMNS)
        sheet.paste(image, (GAP + column * (width + GAP), GAP + row * (THUMB_HEIGHT + GAP)))
    with atomic_output(target) as temporary:
        sheet.save(temporary, format="PNG", optimize=True)
    return ProofResult(target, len(thumbs))
