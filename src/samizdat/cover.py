"""The cover: one HTML design (styled by ``styles/cover.css``) for the PDF's first page and the EPUB's cover image."""

from __future__ import annotations

import hashlib
import io
from html import escape
from pathlib import Path

from .fingerprint import code_fingerprint
from .i18n import Locale
from .metadata import Metadata
from .output import atomic_output
from .styles import stylesheet

COVER_HEIGHT_PX = 1600


def cover_html(metadata: Metadata, locale: Locale) -> str:
    """The cover as an HTML fragment. A title with a colon is set as a main title over a second line."""
    main, colon, rest = metadata.title.partition(": ")
    if colon:
        title = f'<span class="title-main">{escape(main)}</span> <span class="title-rest">{escape(rest)}</span>'
    else:
        title = f'<span class="title-main">{escape(main)}</span>'
    parts = [f'<section class="cover" aria-label="{escape(locale.label("cover"))}">', f'<h1 class="cover-title">{title}</h1>']
    if metadata.subtitle:
        parts.append(f'<p class="cover-subtitle">{escape(metadata.subtitle)}</p>')
    if metadata.authors:
        parts.append(f'<p class="cover-authors">{escape(locale.join_names(metadata.authors))}</p>')
    if metadata.publisher:
        parts.append(f'<p class="cover-publisher">{escape(metadata.publisher)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def imprint_lines(metadata: Metadata, locale: Locale) -> list[str]:
    """The imprint both outputs print: publisher, date written out in the book's language, rights, ISBN.

    A generated identifier (``urn:uuid:…``) stays in the metadata: readers cannot use it.
    """
    date = locale.format_date(metadata.date) if metadata.date else None
    lines = [part for part in (metadata.publisher, date, metadata.rights) if part]
    if metadata.isbn:
        lines.append(f"{locale.label('isbn')} {metadata.isbn}")
    return lines


def cached_cover_png(metadata: Metadata, locale: Locale, styles: Path, cache: Path) -> tuple[bytes, bool]:
    """The cover image and whether it was drawn now; drawn again only when anything it depends on changed.

    Drawing it means starting WeasyPrint, most of an EPUB build's time; the cache in
    ``cache`` (under ``dist/``) keeps one image, named by a hash of the cover's text,
    stylesheet, size and samizdat's code and library versions. The file's own hash
    is in its name too, so a damaged or replaced file is never trusted.
    """
    design = stylesheet(styles, "cover.css").read_bytes()
    key = hashlib.sha256("|".join((code_fingerprint(), metadata.page_size_css, str(COVER_HEIGHT_PX), cover_html(metadata, locale))).encode() + design)
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
    """The cover page drawn by WeasyPrint with ``styles/cover.css``, rasterised for e-reader libraries.

    The long side is ``COVER_HEIGHT_PX`` pixels, above the 1400 px that stores ask for.
    """
    import pypdfium2

    from .weasy import Weasy

    weasy = Weasy((), styles, metadata.page_size_css)
    html = (f'<!DOCTYPE html><html lang="{escape(metadata.language)}" dir="{locale.direction}"><head><meta charset="utf-8"><title>{escape(metadata.title)}</title>'
            f'</head><body style="margin:0">{cover_html(metadata, locale)}</body></html>')
    document = weasy.render(html, styles.resolve().as_uri() + "/", [*weasy.base, weasy.stylesheet("cover.css")])
    page = pypdfium2.PdfDocument(document.write_pdf())[0]
    image = page.render(scale=COVER_HEIGHT_PX / page.get_height()).to_pil().convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
