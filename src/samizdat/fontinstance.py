"""Static instances of the variable book fonts, made by HarfBuzz in the same call that subsets them.

WeasyPrint 70 embeds each variable face it used as a static instance: ``Font.clean()``
(``weasyprint/pdf/fonts.py``) subsets the font with HarfBuzz, then hands the subset to
fontTools' ``instantiateVariableFont``. That second step costs 20-170 ms a face, most of
the time of writing a PDF, and seconds for a large subset. HarfBuzz 6.0 and later can
pin the axes while it subsets (``hb_subset_input_pin_axis_location``): one call, 2-3 ms
a face. (A cache of instances would not help as much: the parts of a book written
by several processes use different glyphs, so each would still make its own.)

:func:`install` replaces ``Font.clean`` once. For a variable TrueType font subset by
glyph (the usual case) it pins every axis where WeasyPrint would instantiate it
(:func:`_location`, its own rules: ``wght`` from the weight, ``opsz`` from the size, ``slnt``
and ``ital`` from the style, unnamed axes at their default) and subsets in that one call.
Everything else goes to WeasyPrint's own ``clean`` unchanged: static and CFF fonts, colour
fonts, a location naming an axis the font lacks, an axis HarfBuzz
refuses to pin, a subset it fails to make or makes with a glyph missing
(:func:`_lost_glyphs`), and a HarfBuzz without the call.

Compared with fontTools' instance of the same subset, over every glyph of the five
variable files at several weights and optical sizes (4 to 144, beyond the axis at both
ends): the same outlines and advance widths, except a difference of one font unit where
a value falls on an exact half and the two libraries round it differently (and
``.notdef`` of Source Sans 3, whose HVAR and gvar disagree: HarfBuzz follows gvar). The
overlap flags and the bounding box in ``head`` are set as fontTools sets them
(:func:`_finished_like_fonttools`), and the pages then render the same, pixel for pixel.
What stays as in the full font: ``hhea``'s extents and ``maxp``'s maxima (true bounds,
only looser), OS/2 ``xAvgCharWidth``, ``sxHeight`` and the strikeout position (the PDF's
font descriptor gives the metrics a viewer uses) and ``head.modified`` (the font's own
date, so the file is reproducible even without ``SOURCE_DATE_EPOCH``). A glyph's stored
``xMin`` may be one unit below its points, as is its left side bearing, so glyphs sit
where fontTools puts them.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Iterable

_PIN_DECLARATIONS = """
hb_bool_t hb_subset_input_pin_axis_location (hb_subset_input_t *input, hb_face_t *face, hb_tag_t axis_tag, float axis_value);
hb_bool_t hb_subset_input_pin_axis_to_default (hb_subset_input_t *input, hb_face_t *face, hb_tag_t axis_tag);
"""

# The tables WeasyPrint drops when it subsets (``Font._harfbuzz_subset``).
_DROPPED_TABLES = (b"BASE", b"DSIG", b"EBDT", b"EBLC", b"EBSC", b"GPOS", b"GSUB", b"JSTF",
                   b"LTSH", b"PCLT", b"SVG ")


def install() -> bool:
    """Make WeasyPrint's ``Font.clean`` instance variable fonts with HarfBuzz; False if this HarfBuzz cannot."""
    from weasyprint.pdf.fonts import Font

    if getattr(Font.clean, "instances_with_harfbuzz", False):
        return True
    if not _harfbuzz_pins():
        return False
    Font.clean = _clean_with(Font.clean)
    return True


def _harfbuzz_pins() -> bool:
    """Declare the pinning calls on WeasyPrint's own cffi handle of HarfBuzz-subset; whether the library has them.

    cffi's ABI mode looks a function up when it is first used, so declarations added
    after WeasyPrint opened the library still find it, and no second copy is opened.
    """
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset

    if harfbuzz_subset is None or not harfbuzz.hb_version_atleast(6, 0, 0):
        return False
    ffi.cdef(_PIN_DECLARATIONS, override=True)  # override: the same declarations again are no error.
    try:  # Looking the functions up is what fails when the library lacks them.
        harfbuzz_subset.hb_subset_input_pin_axis_location
        harfbuzz_subset.hb_subset_input_pin_axis_to_default
    except AttributeError:
        return False
    return True


def _clean_with(weasyprint_clean: Callable) -> Callable:
    def clean(font, to_unicode: dict, hinting: bool) -> None:
        """WeasyPrint's ``Font.clean``, with a variable font subset and instanced by HarfBuzz in one call."""
        if {"fvar", "glyf"} <= set(font.tables) and not (font.png or font.svg or font.colr):
            axes = _axes(font.file_content, font.index)
            place = _location(font, axes)
            if set(place) <= set(axes):
                content = _subset_instance(font, to_unicode, hinting, axes, place)
                if content:
                    font.variations = place
                    font.file_content = content
                    return
        weasyprint_clean(font, to_unicode, hinting)

    clean.instances_with_harfbuzz = True  # type: ignore[attr-defined]
    return clean


def _axes(content: bytes, index: int) -> dict:
    """The font's axes by tag (fontTools ``Axis`` records), read without parsing anything else."""
    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(content), fontNumber=index, lazy=True) as font:
        return {axis.axisTag: axis for axis in font["fvar"].axes}


def _location(font, axes: dict) -> dict[str, float]:
    """Where WeasyPrint 70 instantiates ``font`` (the rules of its ``Font.clean``); unnamed axes stay at their default."""
    place = dict(font.variations)
    if "wght" in axes and "wght" not in place:
        place["wght"] = font.weight
    if "opsz" in axes and "opsz" not in place:
        place["opsz"] = font.font_size
    if "slnt" in axes and "slnt" not in place:
        slnt = 0
        if font.style == 1:
            slnt = axes["slnt"].minValue if axes["slnt"].maxValue == 0 else axes["slnt"].maxValue
        place["slnt"] = slnt
    if "ital" in axes and "ital" not in place:
        place["ital"] = int(font.style == 2)
    return place


def _subset_instance(font, to_unicode: dict, hinting: bool, axes: dict, place: dict[str, float]) -> bytes | None:
    """WeasyPrint's two HarfBuzz subsetting passes, with every axis pinned in the first; None when HarfBuzz fails."""
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset
    from weasyprint.text.fonts import get_hb_object_data

    subset_input = ffi.gc(harfbuzz_subset.hb_subset_input_create_or_fail(), harfbuzz_subset.hb_subset_input_destroy)
    if subset_input == ffi.NULL:
        return None

    # First pass: the glyphs used, at their own ids, every axis pinned. A face used only for characters it lacks has
    # drawn nothing but .notdef: WeasyPrint would then embed the whole font, instanced by fontTools (seconds).
    glyphs = sorted(to_unicode) or [0]
    _add(harfbuzz_subset.hb_subset_input_glyph_set(subset_input), glyphs)
    flags = (harfbuzz_subset.HB_SUBSET_FLAGS_RETAIN_GIDS | harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
             | harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE)
    if font.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, flags)
    dropped = harfbuzz_subset.hb_subset_input_set(subset_input, harfbuzz_subset.HB_SUBSET_SETS_DROP_TABLE_TAG)
    _add(dropped, sorted(harfbuzz.hb_tag_from_string(tag, -1) for tag in _DROPPED_TABLES))
    for tag in axes:
        hb_tag = harfbuzz.hb_tag_from_string(tag.encode(), -1)
        if tag in place:
            pinned = harfbuzz_subset.hb_subset_input_pin_axis_location(subset_input, font.hb_face, hb_tag, float(place[tag]))
        else:
            pinned = harfbuzz_subset.hb_subset_input_pin_axis_to_default(subset_input, font.hb_face, hb_tag)
        if not pinned:
            return None
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(font.hb_face, subset_input), harfbuzz.hb_face_destroy)
    if face == ffi.NULL:
        return None

    # Second pass: the empty glyphs after the last one used dropped, and the hinting unless it is asked for.
    _add(harfbuzz_subset.hb_subset_input_glyph_set(subset_input), range(glyphs[-1] + 1))
    flags = harfbuzz_subset.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED | harfbuzz_subset.HB_SUBSET_FLAGS_DESUBROUTINIZE
    if not hinting:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= harfbuzz_subset.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    harfbuzz_subset.hb_subset_input_set_flags(subset_input, flags)
    face = ffi.gc(harfbuzz_subset.hb_subset_or_fail(face, subset_input), harfbuzz.hb_face_destroy)
    if face == ffi.NULL:
        return None
    content = get_hb_object_data(face)
    if not content or _lost_glyphs(font.file_content, font.index, content, to_unicode):
        return None
    return _finished_like_fonttools(content)


def _lost_glyphs(source: bytes, index: int, output: bytes, glyph_ids) -> bool:
    """Whether a glyph used has an outline in ``source`` and none in ``output``.

    HarfBuzz 6.0 picks the short ``loca`` format for a subset whose outlines fit it before
    instancing, and when the instanced outlines no longer fit, silently leaves the last
    glyphs empty (seen with nearly all of Source Sans 3 at weight 650).
    """
    before, after = _glyph_lengths(source, index), _glyph_lengths(output, 0)
    return any(before[glyph] and (glyph >= len(after) or not after[glyph]) for glyph in glyph_ids if glyph < len(before))


def _glyph_lengths(content: bytes, index: int) -> list[int]:
    """The length in bytes of each glyph's outline (0 for an empty glyph), from the ``loca`` table."""
    return [end - start for start, end in _glyph_spans(content, _table_directory(content, index))]


def _table_directory(font: bytes | bytearray, index: int) -> dict[bytes, tuple[int, int, int]]:
    """Each table's tag: where its checksum is written, its offset and its length (font ``index`` of a collection)."""
    start = struct.unpack_from(">I", font, 12 + 4 * index)[0] if font[:4] == b"ttcf" else 0
    records = range(start + 12, start + 12 + 16 * struct.unpack_from(">H", font, start + 4)[0], 16)
    return {bytes(font[at:at + 4]): (at + 4, *struct.unpack_from(">II", font, at + 8)) for at in records}


def _finished_like_fonttools(content: bytes) -> bytes:
    """Overlap flags on every glyph and the subset's own bounding box: what fontTools' instancer sets and HarfBuzz 6.0 does not.

    Without them the pages render differently in Poppler (FreeType): a variable font's
    contours overlap, and FreeType supersamples a glyph flagged so (``OVERLAP_SIMPLE`` on
    a simple glyph's first point, ``OVERLAP_COMPOUND`` on a composite's first component),
    so every edge is antialiased a little differently without it; and HarfBuzz keeps the
    full font's box in ``head``, large enough that Poppler draws display-size glyphs as
    paths instead of cached bitmaps. Both are set in place (no length changes), then the
    checksums of ``glyf``, ``head`` and the whole file are made right again.
    """
    font = bytearray(content)
    tables = _table_directory(font, 0)
    head, glyf = tables[b"head"][1], tables[b"glyf"][1]
    boxes = []
    for start, end in _glyph_spans(font, tables):
        if end > start:
            contours, *box = struct.unpack_from(">5h", font, glyf + start)
            boxes.append(box)
            if contours > 0:
                instructions = struct.unpack_from(">H", font, glyf + start + 10 + 2 * contours)[0]
                font[glyf + start + 12 + 2 * contours + instructions] |= 0x40  # OVERLAP_SIMPLE
            elif contours < 0:
                flags = struct.unpack_from(">H", font, glyf + start + 10)[0]
                struct.pack_into(">H", font, glyf + start + 10, flags | 0x0400)  # OVERLAP_COMPOUND
    bounds = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)) if boxes else (0, 0, 0, 0)
    struct.pack_into(">4h", font, head + 36, *bounds)
    struct.pack_into(">I", font, head + 8, 0)  # checkSumAdjustment is left out of the sums
    for tag in (b"glyf", b"head"):
        checksum_at, offset, length = tables[tag]
        struct.pack_into(">I", font, checksum_at, _checksum(font[offset:offset + length]))
    struct.pack_into(">I", font, head + 8, (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF)
    return bytes(font)


def _glyph_spans(font: bytes | bytearray, tables: dict) -> Iterable[tuple[int, int]]:
    """Where each glyph starts and ends in ``glyf``, from ``loca`` (its format given in ``head``, its length in ``maxp``)."""
    glyphs = struct.unpack_from(">H", font, tables[b"maxp"][1] + 4)[0]
    long_offsets = struct.unpack_from(">h", font, tables[b"head"][1] + 50)[0] == 1
    offsets = struct.unpack_from(f">{glyphs + 1}{'I' if long_offsets else 'H'}", font, tables[b"loca"][1])
    offsets = offsets if long_offsets else tuple(2 * offset for offset in offsets)
    return zip(offsets, offsets[1:])


def _checksum(data: bytes | bytearray) -> int:
    """The OpenType checksum: the sum of big-endian 32-bit words, the last one padded with zeros."""
    padded = bytes(data) + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}I", padded)) & 0xFFFFFFFF


def _add(hb_set, sorted_values: Iterable[int]) -> None:
    """Add values to a HarfBuzz set, in one call.

    The array type is ``hb_codepoint_t[]`` whatever the length: cffi parses each distinct
    type string with pycparser, and a string a length (as in WeasyPrint) costs more
    than the subsetting.
    """
    from weasyprint.text.ffi import ffi, harfbuzz

    values = tuple(sorted_values)
    harfbuzz.hb_set_add_sorted_array(hb_set, ffi.new("hb_codepoint_t[]", values), len(values))
