"""The rule catalogue: every check samizdat makes, with a stable code, a level and a one-line summary.

Like Standard Ebooks' ``se lint``: a finding names its rule (``warning[T102]``), a
book may silence warnings in ``book.yaml`` (``lint: {ignore: [T102]}``) and
``invoke check --rules`` prints this table. The letters group rules by what they
look at: M ``book.yaml``, C chapters, L links, N notes, I images, H raw HTML,
T typography, S stylesheets, P press PDFs (``invoke preflight``), U tagged PDFs (PDF/UA, ``samizdat.pdfua``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    code: str
    level: Level
    summary: str


def _catalogue(*rules: Rule) -> dict[str, Rule]:
    return {rule.code: rule for rule in rules}


RULES: dict[str, Rule] = _catalogue(
    Rule("M101", "error", "book.yaml is missing, unreadable or not valid YAML"),
    Rule("M102", "error", "required 'title' is missing"),
    Rule("M103", "error", "a value has the wrong type, or the language tag, date, page size or slug is invalid"),
    Rule("M104", "error", "an ISBN identifier has a wrong length, prefix or check digit"),
    Rule("M105", "warning", "an unknown or repeated key in book.yaml is ignored"),
    Rule("M106", "error", "'lint: ignore' names an unknown rule, or an error (only warnings can be silenced)"),
    Rule("M107", "warning", "no translation of the book's furniture (contents, notes, labels) for its language: English is used"),
    Rule("M108", "warning", "no author: stores and e-readers show the book as by \"Unknown\""),
    Rule("C101", "error", "a chapter is missing, outside the folder or listed twice; or there are no chapters"),
    Rule("C102", "error", "a chapter is not UTF-8 text, is empty, or holds control characters"),
    Rule("C103", "error", "a chapter does not open with its title as a '# ' heading"),
    Rule("C104", "error", "a heading or element id is used twice in the book"),
    Rule("C105", "error", "a chapter asks too much of the typesetter: a giant word, too many note calls in a paragraph, too deep nesting"),
    Rule("C106", "error", "laying a chapter out for the PDF used more processor time than the limit (SAMIZDAT_LAYOUT_TIMEOUT, default 300 s)"),
    Rule("C107", "error", "a heading skips a level (### right after #): an outline with a gap, which PDF/UA forbids"),
    Rule("L101", "error", "a link leaves the book by a scheme other than http, https, mailto or tel"),
    Rule("L102", "error", "an internal link does not reach a chapter, or a heading in it"),
    Rule("L103", "error", "a link has no text (nor an image with alt text) for a screen reader to say"),
    Rule("N101", "error", "a footnote call has no definition"),
    Rule("N102", "warning", "a footnote definition is never used"),
    Rule("I101", "error", "an image is remote, outside the folder, missing or not SVG, PNG, JPEG, GIF or WebP"),
    Rule("I102", "warning", "an image has no alt text"),
    Rule("I103", "error", "an image (or a picture an SVG embeds) cannot be decoded, is not the format its name says, or has more pixels than allowed"),
    Rule("I104", "error", "an SVG image holds what a book may not: scripts, event handlers, outside references, entities, foreignObject"),
    Rule("I105", "warning", "a raster image prints below 300 pixels to the inch at the size the stylesheets give it"),
    Rule("I106", "error", "a raster image prints below 150 pixels to the inch at the size the stylesheets give it"),
    Rule("H101", "error", "raw HTML uses an element that is not on the allow-list"),
    Rule("H102", "error", "raw HTML uses an attribute, or an attribute value, that is not on the allow-list"),
    Rule("H103", "error", "raw HTML elements are not closed, or closed out of order"),
    Rule("H104", "error", "a bracketed span or fenced div takes an attribute other than lang, dir, class and id, or a bad value"),
    Rule("T101", "warning", "a straight quote is left after smart punctuation"),
    Rule("T102", "warning", "a character the book fonts cannot draw"),
    Rule("T103", "warning", "a paragraph is mostly in a script its language does not use, and has no language mark"),
    Rule("S101", "error", "a stylesheet is missing, or loads a file that is missing or outside the manuscript and styles folders"),
    Rule("S102", "error", "labels.yaml in the styles folder is not valid (unknown key, wrong placeholders, bad YAML)"),
    Rule("S103", "warning", "the PDF typesetter (WeasyPrint) skipped something: a CSS rule or property it does not know, an image it could not draw"),
    Rule("P101", "error", "press PDF: a colour space the output intent does not allow (DeviceRGB with a CMYK intent), or a broken ICC-based space"),
    Rule("P102", "error", "press PDF: no GTS_PDFX output intent with an embedded output profile and condition identifier"),
    Rule("P103", "error", "press PDF: the XMP metadata does not identify PDF/X-4 or declare pdf:Trapped True or False"),
    Rule("P104", "error", "press PDF: page boxes wrong (no TrimBox or ArtBox, both, or BleedBox/MediaBox not containing them)"),
    Rule("P105", "error", "press PDF: a font is not embedded"),
    Rule("P106", "warning", "press PDF: a font is embedded whole rather than as a subset"),
    Rule("P107", "error", "press PDF: an image has less than 150 ppi at its placed size"),
    Rule("P108", "warning", "press PDF: an image has less than 300 ppi at its placed size"),
    Rule("P109", "warning", "press PDF: a stroke thinner than 0.25 pt (hairline)"),
    Rule("P110", "warning", "press PDF: a CMYK image with more than 300 % total ink"),
    Rule("P111", "warning", "press PDF: transparency is used (PDF/X-4 permits it; the RIP flattens it)"),
    Rule("P112", "error", "press PDF: a blend mode outside ISO 32000's list"),
    Rule("U101", "error", "PDF/UA: not marked as tagged (MarkInfo Marked true) or no structure tree"),
    Rule("U102", "error", "PDF/UA: content neither tagged nor an artifact, tagged inside an artifact, or tagged but outside the tree"),
    Rule("U103", "error", "PDF/UA: no /Lang in the catalog"),
    Rule("U104", "error", "PDF/UA: DisplayDocTitle is not true, or the XMP metadata has no dc:title"),
    Rule("U105", "error", "PDF/UA: no XMP metadata, or it has no pdfuaid:part"),
    Rule("U106", "error", "PDF/UA: a font is not embedded"),
    Rule("U107", "error", "PDF/UA: a Figure has no Alt text"),
    Rule("U108", "error", "PDF/UA: the first heading is not H1, or a heading level is skipped"),
    Rule("U109", "error", "PDF/UA: a Note has no ID, two Notes share one, or its ID is missing from the IDTree"),
    Rule("U110", "error", "PDF/UA: a page with annotations has no /Tabs /S"),
    Rule("U111", "error", "PDF/UA: a Link annotation has no /Contents, or is not in a Link structure element"),
)


def rule(code: str) -> Rule:
    return RULES[code]


def catalogue_text() -> str:
    """The catalogue as ``invoke check --rules`` prints it: code, level, summary."""
    return "\n".join(f"{r.code}  {r.level:<7}  {r.summary}" for r in RULES.values())
