"""Images of a manuscript, checked before any output uses them.

A raster is decoded with Pillow: its format must match its extension, it must
decode to the end, and it may not have more than ``MAX_PIXELS`` pixels (a few
kilobytes of PNG can ask for gigabytes of memory). An SVG is parsed without
entities, DTDs or the network, and passed through an allow-list: SVG elements
that draw, and the attributes that style them, are kept; elements and attributes
of editors' own namespaces (Inkscape, Sodipodi, RDF) are dropped; anything that
runs a script, loads something from elsewhere or embeds another language is a
problem reported by name. Both outputs use the bytes checked here, never the file
again (:class:`samizdat.book.Asset`).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

MAX_PIXELS = 40_000_000  # A full A3 page at 300 ppi is 35 megapixels.
SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}

# SVG elements that draw or describe a drawing.
SVG_ELEMENTS = {
    "svg", "g", "defs", "title", "desc", "symbol", "use", "path", "rect", "circle", "ellipse", "line", "polyline",
    "polygon", "text", "tspan", "textPath", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "pattern",
    "marker", "image", "style", "switch", "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite",
    "feFlood", "feGaussianBlur", "feMerge", "feMergeNode", "feMorphology", "feOffset", "feFuncR", "feFuncG", "feFuncB",
    "feFuncA", "feDropShadow",
}
# Elements refused with a message rather than dropped: what they do is never harmless.
REFUSED = {
    "script": "scripts are not allowed in a book",
    "foreignObject": "<foreignObject> embeds another language (HTML) in the drawing",
    "a": "links inside an SVG image are not allowed",
    "set": "animation can change links and styles: not allowed",
    "animate": "animation can change links and styles: not allowed",
    "animateTransform": "animation is not allowed",
    "animateMotion": "animation is not allowed",
    "iframe": "nothing may be embedded from elsewhere",
    "handler": "scripts are not allowed in a book",
    "listener": "scripts are not allowed in a book",
}
SVG_ATTRIBUTES = {
    "id", "class", "style", "transform", "viewBox", "preserveAspectRatio", "width", "height", "x", "y", "x1", "y1", "x2",
    "y2", "cx", "cy", "r", "rx", "ry", "d", "points", "pathLength", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
    "stroke-dashoffset", "opacity", "color", "display", "visibility", "font-family", "font-size", "font-weight",
    "font-style", "font-variant", "font-stretch", "text-anchor", "dominant-baseline", "alignment-baseline",
    "baseline-shift", "letter-spacing", "word-spacing", "text-decoration", "writing-mode", "direction", "unicode-bidi",
    "dx", "dy", "rotate", "textLength", "lengthAdjust", "startOffset", "method", "spacing", "offset", "stop-color",
    "stop-opacity", "gradientUnits", "gradientTransform", "spreadMethod", "fx", "fy", "fr", "patternUnits",
    "patternContentUnits", "patternTransform", "clipPathUnits", "clip-path", "clip-rule", "mask", "maskUnits",
    "maskContentUnits", "markerWidth", "markerHeight", "markerUnits", "refX", "refY", "orient", "marker-start",
    "marker-mid", "marker-end", "filter", "filterUnits", "primitiveUnits", "in", "in2", "result", "stdDeviation", "mode",
    "operator", "k1", "k2", "k3", "k4", "values", "type", "flood-color", "flood-opacity", "color-interpolation",
    "color-interpolation-filters", "shape-rendering", "text-rendering", "image-rendering", "overflow", "version",
    "baseProfile", "mix-blend-mode", "isolation", "vector-effect", "paint-order", "role", "aria-label", "aria-hidden",
    "lang", "focusable", "aria-labelledby", "aria-describedby", "radius", "tableValues", "slope", "intercept", "amplitude", "exponent", "href",
    "requiredFeatures", "systemLanguage",
}
LOCAL_URL = re.compile(r"url\(\s*(['\"]?)#[\w.:-]+\1\s*\)", re.I)
RASTER_DATA = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")


class ImageProblem(Exception):
    """Why an image cannot be used; ``code`` is the rule (I103 for undecodable rasters, I104 for SVG content)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CheckedImage:
    content: bytes  # What the outputs use: the file's bytes, or the sanitised SVG.
    width: int | None = None
    height: int | None = None


def check_image(path: Path, suffix: str) -> CheckedImage:
    """Read ``path`` once and check it; raise :class:`ImageProblem` when it cannot be used."""
    data = path.read_bytes()
    if suffix.lower() == ".svg":
        return CheckedImage(sanitize_svg(data))
    return _check_raster(data, suffix.lower())


def _check_raster(data: bytes, suffix: str, named_by: str = "its name") -> CheckedImage:
    from PIL import Image, ImageFile, UnidentifiedImageError

    expected = RASTER_FORMATS[suffix]
    # WeasyPrint sets this to True when it is imported (it draws what it can of a damaged
    # image); here a damaged image must fail, whatever was imported before.
    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageProblem("I103", f"has {width}×{height} pixels, more than the {MAX_PIXELS // 1_000_000} million allowed: scale it down")
            if image.format != expected:
                raise ImageProblem("I103", f"is {image.format or 'not an image'} data, not {expected} as {named_by} says: convert it or rename it")
            image.load()
    except ImageProblem:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own limit is above ours.
        raise ImageProblem("I103", f"has more than {MAX_PIXELS // 1_000_000} million pixels, more than allowed: scale it down") from None
    except UnidentifiedImageError:
        raise ImageProblem("I103", f"is not a {expected} image Pillow can read (damaged, empty or another kind of file)") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as error:
        raise ImageProblem("I103", f"cannot be decoded as {expected} ({str(error) or type(error).__name__}): the file is damaged or cut short") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    return CheckedImage(data, width, height)


def sanitize_svg(data: bytes) -> bytes:
    """The SVG with only allowed elements and attributes; :class:`ImageProblem` for anything dangerous."""
    if re.search(rb"<!(DOCTYPE|ENTITY)", data, re.I):
        raise ImageProblem("I104", "declares a DOCTYPE or entities, which can read other files: delete the <!DOCTYPE …> line")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
                             remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ImageProblem("I104", f"is not well-formed XML ({error.msg}): save it again from the drawing program") from None
    if root.tag != f"{{{SVG}}}svg":
        raise ImageProblem("I104", "is not an SVG drawing (its root element is not <svg> in the SVG namespace)")
    _clean(root)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=False)


def _clean(element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str):  # comments and processing instructions were dropped by the parser
            element.remove(child)
            continue
        namespace, _, name = child.tag[1:].partition("}") if child.tag.startswith("{") else ("", "", child.tag)
        if name in REFUSED:
            raise ImageProblem("I104", f"contains <{name}>: {REFUSED[name]}")
        if namespace != SVG or name not in SVG_ELEMENTS:
            element.remove(child)  # Editors' metadata and anything unknown: not drawn, not kept.
            continue
        _clean(child)
    _clean_attributes(element)
    if element.tag == f"{{{SVG}}}style":
        _check_css(element.text or "", "<style>")


def _clean_attributes(element) -> None:
    name = etree.QName(element).localname
    for attribute, value in list(element.attrib.items()):
        qname = etree.QName(attribute)
        local = qname.localname
        if local.lower().startswith("on"):
            raise ImageProblem("I104", f"has the event handler {local}= on <{name}>: scripts are not allowed in a book")
        if local == "href" and qname.namespace in {None, XLINK}:
            _check_href(name, value)
            continue
        if qname.namespace == XML and local in {"space", "lang"}:
            continue
        if qname.namespace is not None or local not in SVG_ATTRIBUTES:
            del element.attrib[attribute]
            continue
        if "url(" in value.lower() or "\\" in value or "@import" in value.lower():
            _check_css(value, f"{local}= on <{name}>")


def _check_href(element: str, href: str) -> None:
    href = href.strip()
    if href.startswith("#"):
        return
    if element == "image" and (match := RASTER_DATA.match(href)):
        _check_embedded(match.group(1), href[href.index(",") + 1:])
        return
    raise ImageProblem("I104", f"<{element}> refers to '{href[:60]}': an SVG image may only refer inside itself (#id) "
                               "or embed a PNG, JPEG, GIF or WebP picture as data:")


def _check_embedded(kind: str, payload: str) -> None:
    """A picture an SVG embeds as ``data:`` is decoded as a file of its own would be (I103): WeasyPrint would skip
    one it cannot draw, and a decompression bomb must not hide inside a drawing."""
    try:
        data = base64.b64decode("".join(payload.split()), validate=True)
    except binascii.Error:
        raise ImageProblem("I103", f"embeds a {kind.upper()} picture whose base64 data is damaged") from None
    try:
        _check_raster(data, {"jpeg": ".jpg"}.get(kind, f".{kind}"), named_by="its data: URL")
    except ImageProblem as problem:
        raise ImageProblem("I103", f"embeds a picture that {problem}") from None


def _check_css(css: str, where: str) -> None:
    if "\\" in css:
        raise ImageProblem("I104", f"CSS escapes (\\) in {where} are not allowed")
    if "@import" in css.lower():
        raise ImageProblem("I104", f"@import in {where} loads a stylesheet from elsewhere: not allowed")
    if css.lower().count("url(") != len(LOCAL_URL.findall(css)):
        raise ImageProblem("I104", f"url() in {where} may only point inside the drawing (url(#id))")
