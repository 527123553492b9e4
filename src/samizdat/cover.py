"""The cover: one HTML design (styled by ``styles/cover.css``) for the PDF's first page and the EPUB's cover image."""

from __future__ import annotations

import hashlib
import io
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from .fingerprint import code_fingerprint
from .i18n import Locale
from .metadata import Metadata
from .output import atomic_output
from .styles import stylesheet

if TYPE_CHECKING:
    from PIL import Image

COVER_PX = (1600, 2560)  # What stores ask for: Apple ≥ 1400 px on the short side, Amazon 1600 × 2560 (1 : 1.6).
# The cover design on a page of the e-book cover's proportions, as wide as the printed page; the cover block
# (cover.css) grows to the taller page, less the cover page's vertical margins (22 + 18 mm) and 2 mm.
EBOOK_COVER_PAGES = {"A5": (148.0,), "half-letter": (139.7,)}


def title_html(title: str) -> str:
    """The title's words as HTML: a title with a colon as a main title and, after it, the rest, each in a span
    the stylesheets set on a line of its own (the colon dropped, as on a title page)."""
    main, colon, rest = title.partition(": ")
    main = main.rstrip()  # a French title's no-break space before the colon
    if colon:
        return f'<span class="title-main">{escape(main)}</span> <span class="title-rest">{escape(rest)}</span>'
    return f'<span class="title-main">{escape(main)}</span>'


def title_label(title: str) -> str:
    """The ``aria-label`` attribute of a heading set by :func:`title_html`, for a title it splits: the whole title,
    colon and all, for a screen reader, which would otherwise read the two lines as one run of words."""
    return f' aria-label="{escape(title)}"' if ": " in title else ""


def cover_html(metadata: Metadata, locale: Locale) -> str:
    """The cover as an HTML fragment (its title as :func:`title_html` sets it)."""
    parts = [f'<section class="cover" aria-label="{escape(locale.label("cover"))}">', f'<h1 class="cover-title"{title_label(metadata.title)}>{title_html(metadata.title)}</h1>']
    if metadata.subtitle:
        parts.append(f'<p class="cover-subtitle">{escape(metadata.subtitle)}</p>')
    if metadata.authors:
        parts.append(f'<p class="cover-authors">{escape(locale.join_names(metadata.authors))}</p>')
    if metadata.publisher:
        parts.append(f'<p class="cover-publisher">{escape(metadata.publisher)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


BLANKS_BEFORE_BACK = 3  # At most three blank pages make a pamphlet a multiple of four pages.


def back_matter_html(metadata: Metadata, locale: Locale) -> str:
    """Three blank pages, then the outside back cover: the blurb, the publisher and, for an ISBN, its EAN-13 barcode.

    The PDF keeps as many blanks as make its page count a multiple of four, so that the back
    cover is the last page of the folded pamphlet, and never a page of text or a folio.
    """
    blanks = '<section class="blank-page"></section>\n' * BLANKS_BEFORE_BACK
    parts = [f'<section class="back-cover" aria-label="{escape(locale.label("back_cover"))}">']
    if metadata.description:
        parts.append(f'<p class="back-blurb">{escape(metadata.description)}</p>')
    if metadata.publisher:
        parts.append(f'<p class="back-publisher">{escape(metadata.publisher)}</p>')
    if number := metadata.isbn_for("print"):
        parts.append(f'<figure class="back-barcode"><figcaption>{escape(locale.label("isbn"))} {escape(number)}</figcaption>'
                     f'<img src="{isbn_barcode_uri(number)}" alt="{escape(locale.label("isbn"))} {escape(number)}"></figure>')
    parts.append("</section>")
    return blanks + "\n".join(parts)


def isbn_barcode_uri(isbn: str) -> str:
    """The ISBN's EAN-13 barcode as an SVG data URL (python-barcode), bars only: the ISBN is printed above it."""
    import base64

    import barcode
    from barcode.writer import SVGWriter

    code = barcode.get("ean13", isbn.replace("-", "")[:12], writer=SVGWriter())
    svg = io.BytesIO()
    code.write(svg, options={"module_height": 18.0, "quiet_zone": 4.0, "write_text": False, "background": "white"})
    text = svg.getvalue().decode()
    text = text[text.index("<svg"):]  # no DOCTYPE: nothing for an SVG parser to fetch
    return "data:image/svg+xml;base64," + base64.b64encode(text.encode()).decode()


def imprint_lines(metadata: Metadata, locale: Locale, book_format: str) -> list[str]:
    """The imprint every output prints: publisher, date written out in the book's language, rights, and
    the ISBN of this format (``print`` or ``epub``).

    A generated identifier (``urn:uuid:…``) stays in the metadata: readers cannot use it.
    """
    date = locale.format_date(metadata.date) if metadata.date else None
    lines = [part for part in (metadata.publisher, date, metadata.rights) if part]
    if number := metadata.isbn_for(book_format):
        lines.append(f"{locale.label('isbn')} {number}")
    return lines


def cached_cover_png(metadata: Metadata, locale: Locale, styles: Path, cache: Path) -> tuple[bytes, bool]:
    """The cover image and whether it was drawn now; drawn again only when anything it depends on changed.

    Drawing it means starting WeasyPrint, most of an EPUB build's time; the cache in
    ``cache`` (under ``dist/``) keeps one image, named by a hash of the cover's text,
    stylesheet, size and samizdat's code and library versions. The file's own hash
    is in its name too, so a damaged or replaced file is never trusted.
    """
    design = stylesheet(styles, "cover.css").read_bytes()
    key = hashlib.sha256("|".join((code_fingerprint(), metadata.page_size, str(COVER_PX), cover_html(metadata, locale))).encode() + design)
    for path in cache.glob(f"cover-{key.hexdigest()[:20]}-*.png"):
        png = path.read_bytes()
        if path.stem.endswith(hashlib.sha256(png).hexdigest()[:16]):
            return png, False
    png = render_cover_png(metadata, locale, styles)
    for stale in cache.glob("cover-*.png"):
        stale.unlink(missing_ok=True)
    with atomic_output(cache / f"cover-{key.hexdigest()[:20]}-{hashlib.sha256(png).hexdigest()[:16]}.png") as temporary:
        temporary.write_bytes(png)
    return png, True


def render_cover_png(metadata: Metadata, locale: Locale, styles: Path) -> bytes:
    """The cover page drawn by WeasyPrint with ``styles/cover.css`` on a 1 : 1.6 page, rasterised at ``COVER_PX``."""
    import pypdfium2

    from .weasy import Weasy

    [width_mm] = EBOOK_COVER_PAGES[metadata.page_size]
    height_mm = width_mm * COVER_PX[1] / COVER_PX[0]
    taller = f".cover {{ height: {height_mm - 42:.1f}mm; }}"
    weasy = Weasy((), styles, f"{width_mm}mm {height_mm:.1f}mm")
    html = (f'<!DOCTYPE html><html lang="{escape(metadata.language)}" dir="{locale.direction}"><head><meta charset="utf-8"><title>{escape(metadata.title)}</title>'
            f'</head><body style="margin:0">{cover_html(metadata, locale)}</body></html>')
    document = weasy.render(html, styles.resolve().as_uri() + "/", [*weasy.base, weasy.stylesheet("cover.css"), weasy.css(taller)])
    page = pypdfium2.PdfDocument(document.write_pdf())[0]
    image = page.render(scale=COVER_PX[0] / page.get_width()).to_pil().convert("RGB").resize(COVER_PX)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    """``image`` as a PNG: with a palette when it has 256 colours or fewer (a cover of type on a ground colour,
    anti-aliased, has about 230), every pixel kept exactly; a third of the size of a true-colour
    PNG, and written in half the time. Else true colour."""
    from PIL import Image

    buffer = io.BytesIO()
    colours = image.getcolors(256)
    if colours is not None:
        palette = Image.new("P", (1, 1))
        palette.putpalette([channel for _, colour in colours for channel in colour])
        image = image.quantize(palette=palette, dither=Image.Dither.NONE)
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
