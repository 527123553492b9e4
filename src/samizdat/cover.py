"""The cover: one HTML design (styled by ``styles/cover.css``) for the PDF's first page and the EPUB's cover image."""

from __future__ import annotations

import hashlib
import io
from html import escape
from pathlib import Path

from .metadata import Metadata
from .output import atomic_output
from .styles import stylesheet


def cover_html(metadata: Metadata) -> str:
    """The cover as an HTML fragment. A title with a colon is set as a main title over a second line."""
    main, colon, rest = metadata.title.partition(": ")
    if colon:
        title = f'<span class="title-main">{escape(main)}</span> <span class="title-rest">{escape(rest)}</span>'
    else:
        title = f'<span class="title-main">{escape(main)}</span>'
    parts = ['<section class="cover" aria-label="Cover">', f'<h1 class="cover-title">{title}</h1>']
    if metadata.subtitle:
        parts.append(f'<p class="cover-subtitle">{escape(metadata.subtitle)}</p>')
    if metadata.authors:
        parts.append(f'<p class="cover-authors">{escape(_names(metadata.authors))}</p>')
    if metadata.publisher:
        parts.append(f'<p class="cover-publisher">{escape(metadata.publisher)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _names(authors: tuple[str, ...]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]


COVER_HEIGHT_PX = 1600


def cached_cover_png(metadata: Metadata, styles: Path, cache: Path) -> bytes:
    """The cover image, drawn again only when the cover's text, stylesheet or size changed.

    Drawing it means starting WeasyPrint, most of an EPUB build's time; the cache in
    ``cache`` (under ``dist/``) keeps one image, named by a hash of what it depends on.
    """
    from . import __version__

    design = stylesheet(styles, "cover.css").read_bytes()
    key = hashlib.sha256("|".join((__version__, metadata.page_size_css, str(COVER_HEIGHT_PX), cover_html(metadata))).encode() + design)
    path = cache / f"cover-{key.hexdigest()[:20]}.png"
    if path.is_file():
        return path.read_bytes()
    png = render_cover_png(metadata, styles)
    for stale in cache.glob("cover-*.png"):
        stale.unlink(missing_ok=True)
    with atomic_output(path) as temporary:
        temporary.write_bytes(png)
    return png


def render_cover_png(metadata: Metadata, styles: Path) -> bytes:
    """The cover page drawn by WeasyPrint with ``styles/cover.css``, rasterised for e-reader libraries.

    The long side is ``COVER_HEIGHT_PX`` pixels, above the 1400 px that stores ask for.
    """
    import pypdfium2
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    from .fonts import FONT_DIRECTORIES, font_face_css
    from .sandbox import RefusedResource, SandboxedFetcher

    fetcher = SandboxedFetcher((styles, *FONT_DIRECTORIES))
    font_config = FontConfiguration()
    html = f'<!DOCTYPE html><html lang="{escape(metadata.language)}"><head><meta charset="utf-8"><title>{escape(metadata.title)}</title></head><body style="margin:0">{cover_html(metadata)}</body></html>'
    try:
        stylesheets = [
            CSS(string=font_face_css() + f"@page {{ size: {metadata.page_size_css}; }}", font_config=font_config, url_fetcher=fetcher),
            CSS(filename=str(stylesheet(styles, "cover.css")), font_config=font_config, url_fetcher=fetcher),
        ]
        pdf = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets, font_config=font_config)
    except RefusedResource as refused:
        raise refused.as_manuscript_error(styles) from None
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    image = page.render(scale=COVER_HEIGHT_PX / page.get_height()).to_pil().convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
