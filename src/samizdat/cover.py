"""The cover: one HTML design (styled by ``styles/cover.css``) for the PDF's first page and the EPUB's cover image."""

from __future__ import annotations

from html import escape

from .metadata import Metadata


def cover_html(metadata: Metadata) -> str:
    """The cover as an HTML fragment. A title with a colon is set as a main title and a second line."""
    main, colon, rest = metadata.title.partition(": ")
    if colon:
        title = f'<span class="title-main">{escape(main)}:</span> <span class="title-rest">{escape(rest)}</span>'
    else:
        title = f'<span class="title-main">{escape(main)}</span>'
    parts = [f'<section class="cover" role="doc-cover" aria-label="Cover">', f'<h1 class="cover-title">{title}</h1>']
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
