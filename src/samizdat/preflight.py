"""Our own PDF/X-4 preflight: what a print shop's preflight would refuse, one line per problem.

No free PDF/X validator runs on these machines, so this is the one samizdat ships.
The checks follow ISO 15930-7 (PDF/X-4). The ISO text itself is not available
here; the clause numbers cited are those of ISO 15930-7:2010 as given by public
secondary sources (LintPDF's PDF/X-4 suite, Adobe's PDF/X-4 printer-mark notes,
which quote the standard's box rules) and should be checked against the standard
before they are quoted to a print shop. Three checks are press practice rather
than PDF/X rules, and say so: image resolution, hairlines and ink coverage.

Each check has a rule code (``P101``…) in :mod:`samizdat.rules`. A finding reads
``file:page N: error[P101]: message``; :func:`preflight_report` gives the lines and
an exit status for a command-line task.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Matrix, Name, Pdf, PdfImage, Stream
from PIL import ImageMath

from .rules import rule

MIN_PPI_ERROR = 150  # Press practice: below this a photograph prints visibly blocky.
MIN_PPI_WARNING = 300  # Press practice: 300 ppi at placed size for offset printing.
HAIRLINE_PT = 0.25  # Press practice: thinner strokes may break up or vanish on plate.
MAX_INK_PERCENT = 300  # Press practice; FOGRA39 itself allows 330 %: warn before that.

BLEND_MODES = {"/Normal", "/Compatible", "/Multiply", "/Screen", "/Overlay", "/Darken", "/Lighten", "/ColorDodge",
               "/ColorBurn", "/HardLight", "/SoftLight", "/Difference", "/Exclusion", "/Hue", "/Saturation",
               "/Color", "/Luminosity"}
PDFX_ID_NS = "http://www.npes.org/pdfx/ns/id/"
PDF_NS = "http://ns.adobe.com/pdf/1.3/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ICC_SPACES = {b"CMYK": 4, b"RGB ": 3, b"GRAY": 1, b"Lab ": 3}


@dataclass(frozen=True)
class PreflightFinding:
    """One problem: which file, which page (None for the whole document), which rule, what is wrong."""

    file: Path
    page: int | None
    code: str
    message: str

    @property
    def level(self) -> str:
        return rule(self.code).level

    def __str__(self) -> str:
        where = f"{self.file}:page {self.page}" if self.page else f"{self.file}"
        return f"{where}: {self.level}[{self.code}]: {self.message}"


def preflight(path: Path) -> list[PreflightFinding]:
    """Every finding for the PDF at ``path``: document-level first, then page by page."""
    with pikepdf.open(path) as pdf:
        findings = [PreflightFinding(path, None, code, message) for code, message in _document_checks(pdf)]
        intent_space = _intent_space(pdf)
        fonts_seen: set[tuple[int, int]] = set()
        images_seen: set[tuple[int, int]] = set()
        for number, page in enumerate(pdf.pages, start=1):
            for code, message in _page_checks(page, intent_space, fonts_seen, images_seen):
                findings.append(PreflightFinding(path, number, code, message))
    return findings


def preflight_report(path: Path) -> tuple[list[str], int]:
    """The findings as lines for a terminal, and the exit status: 1 when any is an error, else 0."""
    try:
        findings = preflight(Path(path))
    except (OSError, pikepdf.PdfError) as error:
        return [f"{path}: error: cannot read it as a PDF ({error})"], 1
    return [str(f) for f in findings], int(any(f.level == "error" for f in findings))


# --- document: output intent and XMP --------------------------------------------------------------


def _document_checks(pdf: Pdf) -> Iterator[tuple[str, str]]:
    yield from _output_intent_checks(pdf)
    yield from _xmp_checks(pdf)


def _pdfx_intents(pdf: Pdf) -> list[Dictionary]:
    return [i for i in pdf.Root.get("/OutputIntents", Array()) if i.get("/S") == Name("/GTS_PDFX")]


def _output_intent_checks(pdf: Pdf) -> Iterator[tuple[str, str]]:
    """ISO 15930-7:2010 6.2.3 (output intent): one GTS_PDFX output intent, identifying the printing
    condition (OutputConditionIdentifier) and, for PDF/X-4 as opposed to X-4p, embedding the ICC profile
    (DestOutputProfile) of an output device ('prtr' class)."""
    intents = _pdfx_intents(pdf)
    if not intents:
        yield "P102", "no output intent with /S /GTS_PDFX: a PDF/X file names its printing condition"
        return
    if len(intents) > 1:
        yield "P102", f"{len(intents)} GTS_PDFX output intents: there must be exactly one"
    intent = intents[0]
    if "/OutputConditionIdentifier" not in intent:
        yield "P102", "the output intent has no /OutputConditionIdentifier"
    profile = intent.get("/DestOutputProfile")
    if not isinstance(profile, Stream):
        yield "P102", "the output intent has no embedded /DestOutputProfile (an ICC profile is required in PDF/X-4)"
        return
    header = profile.read_bytes()[:128]
    if len(header) < 128 or header[36:40] != b"acsp":
        yield "P102", "the output intent's /DestOutputProfile is not an ICC profile"
    elif header[12:16] != b"prtr":
        yield "P102", f"the output intent's profile is a '{header[12:16].decode('latin-1')}' profile, not an output ('prtr') profile"


def _intent_space(pdf: Pdf) -> str | None:
    """The output intent's colour space: 'CMYK', 'RGB', 'GRAY', or None when there is no usable profile."""
    intents = _pdfx_intents(pdf)
    profile = intents[0].get("/DestOutputProfile") if intents else None
    if not isinstance(profile, Stream):
        return None
    return profile.read_bytes()[16:20].decode("latin-1").strip().upper() or None


def read_xmp(catalog: Dictionary) -> ET.Element | str:
    """The catalog's XMP metadata parsed, or why it cannot be: the PDF/X and PDF/UA checks both start here."""
    metadata = catalog.get("/Metadata")
    if not isinstance(metadata, Stream):
        return "no XMP metadata stream"
    try:
        return ET.fromstring(metadata.read_bytes())
    except ET.ParseError as error:
        return f"the XMP metadata is not well-formed XML ({error})"


def _xmp_checks(pdf: Pdf) -> Iterator[tuple[str, str]]:
    """ISO 15930-7:2010 6.7 (identification): the XMP metadata says pdfxid:GTS_PDFXVersion 'PDF/X-4',
    and PDF/X requires the trapping state to be declared (pdf:Trapped True or False, not Unknown)."""
    root = read_xmp(pdf.Root)
    if isinstance(root, str):
        yield "P103", f"{root}: PDF/X-4 is identified by pdfxid:GTS_PDFXVersion in the XMP"
        return
    version = _xmp_value(root, PDFX_ID_NS, "GTS_PDFXVersion")
    if version is None:
        yield "P103", "the XMP metadata has no pdfxid:GTS_PDFXVersion"
    elif not version.startswith("PDF/X-4"):
        yield "P103", f"the XMP metadata says pdfxid:GTS_PDFXVersion '{version}', not 'PDF/X-4'"
    trapped = _xmp_value(root, PDF_NS, "Trapped")
    if trapped not in ("True", "False"):
        yield "P103", f"pdf:Trapped is {trapped!r} in the XMP metadata: it must be True or False"


def _xmp_value(root: ET.Element, namespace: str, name: str) -> str | None:
    """A simple XMP property, written either as an element or as an attribute of rdf:Description."""
    tag = f"{{{namespace}}}{name}"
    for description in root.iter(f"{{{RDF_NS}}}Description"):
        if tag in description.attrib:
            return description.attrib[tag]
        element = description.find(tag)
        if element is not None:
            return (element.text or "").strip()
    return None


# --- pages -------------------------------------------------------------------------------------------


def _page_checks(page: pikepdf.Page, intent_space: str | None, fonts_seen: set, images_seen: set) -> Iterator[tuple[str, str]]:
    yield from _box_checks(page)
    scan = _Scan(intent_space)
    scan.run(page, page.Resources, Matrix(), 0)
    yield from (("P101", message) for message in scan.colour_problems.values())
    yield from _font_checks(scan.fonts, fonts_seen)
    for placement in scan.images:
        yield from _resolution_check(placement)
    yield from _ink_checks(scan.images, images_seen)
    if scan.thin_strokes:
        thinnest = min(scan.thin_strokes)
        yield "P109", (f"{len(scan.thin_strokes)} stroke(s) thinner than {HAIRLINE_PT} pt, the thinnest {thinnest:.3g} pt "
                       "(press practice: hairlines break up on plate)")
    if scan.transparency:
        yield "P111", ("transparency: " + ", ".join(sorted(scan.transparency)) +
                       " (permitted in PDF/X-4, ISO 15930-7 6.2.5; the RIP flattens it: check the proof)")
    if scan.blend_modes:
        yield "P112", "blend mode(s) outside ISO 32000's list: " + ", ".join(sorted(scan.blend_modes))


def _box(obj: pikepdf.Object | None) -> list[float] | None:
    if not isinstance(obj, Array) or len(obj) != 4:
        return None
    x0, y0, x1, y1 = (float(v) for v in obj)
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def _contains(outer: list[float], inner: list[float], tolerance: float = 0.01) -> bool:
    return (outer[0] <= inner[0] + tolerance and outer[1] <= inner[1] + tolerance
            and outer[2] >= inner[2] - tolerance and outer[3] >= inner[3] - tolerance)


def _box_checks(page: pikepdf.Page) -> Iterator[tuple[str, str]]:
    """ISO 15930-7:2010 6.2.1 (page boxes): each page has a TrimBox or an ArtBox but not both; the
    BleedBox, when present, contains it; and everything lies within the MediaBox (and CropBox)."""
    obj = page.obj
    trim, art, bleed = _box(obj.get("/TrimBox")), _box(obj.get("/ArtBox")), _box(obj.get("/BleedBox"))
    media = _box(page.mediabox)
    finished = trim or art
    if trim and art:
        yield "P104", "the page has both a TrimBox and an ArtBox: PDF/X-4 allows one or the other"
    elif not finished:
        yield "P104", "the page has neither a TrimBox nor an ArtBox: the press cannot tell the finished size"
    if bleed and finished and not _contains(bleed, finished):
        yield "P104", f"the BleedBox {_fmt(bleed)} does not contain the {'TrimBox' if trim else 'ArtBox'} {_fmt(finished)}"
    outer = bleed or finished
    if media and outer and not _contains(media, outer):
        yield "P104", f"the MediaBox {_fmt(media)} does not contain the {'BleedBox' if bleed else 'TrimBox'} {_fmt(outer)}"


def _fmt(box: list[float]) -> str:
    return "[" + " ".join(f"{v:.2f}" for v in box) + "]"


def _font_checks(fonts: dict[tuple[int, int], Dictionary], seen: set) -> Iterator[tuple[str, str]]:
    """ISO 15930-7:2010 6.3 (fonts): every font used is embedded. Subsetting is not required by the
    standard, but a whole font is reported (a warning) because print shops ask for subsets."""
    for key, font in fonts.items():
        if key in seen:
            continue
        seen.add(key)
        name = str(font.get("/BaseFont", "(unnamed)"))[1:]
        if font.get("/Subtype") == Name.Type3:
            continue  # Type 3 glyphs are content streams: always embedded.
        described = font.DescendantFonts[0] if font.get("/Subtype") == Name.Type0 else font
        descriptor = described.get("/FontDescriptor", Dictionary())
        if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            yield "P105", f"font '{name}' is not embedded"
        elif not (len(name) > 7 and name[6] == "+" and name[:6].isalpha() and name[:6].isupper()):
            yield "P106", f"font '{name}' is embedded whole, not as a subset"


@dataclass
class _Placement:
    """One image painted on the page, with the CTM it was painted at."""

    name: str
    image: Stream | None  # None for inline images.
    width: int
    height: int
    ctm: Matrix


def _resolution_check(placement: _Placement) -> Iterator[tuple[str, str]]:
    """Press practice (not a PDF/X rule): effective resolution at placed size, the image's pixels over
    the length its unit square's sides take on the page (CTM tracked through q/Q/cm and forms)."""
    if placement.image is not None and placement.image.get("/ImageMask", False):
        return  # Stencil masks are line art, judged at other resolutions.
    ctm = placement.ctm
    width_in, height_in = math.hypot(ctm.a, ctm.b) / 72, math.hypot(ctm.c, ctm.d) / 72
    if not width_in or not height_in:
        return
    ppi_x, ppi_y = placement.width / width_in, placement.height / height_in
    ppi = min(ppi_x, ppi_y)
    if ppi >= MIN_PPI_WARNING:
        return
    code, limit = ("P107", MIN_PPI_ERROR) if ppi < MIN_PPI_ERROR else ("P108", MIN_PPI_WARNING)
    yield code, (f"image {placement.name} ({placement.width}×{placement.height} px placed at "
                 f"{width_in * 25.4:.1f}×{height_in * 25.4:.1f} mm) has {ppi_x:.0f}×{ppi_y:.0f} ppi, below {limit} ppi")


def _ink_checks(placements: list[_Placement], seen: set) -> Iterator[tuple[str, str]]:
    """Press practice: total ink of CMYK pixels above :data:`MAX_INK_PERCENT` (FOGRA39 allows 330 %)."""
    for placement in placements:
        image = placement.image
        if image is None or image.objgen in seen:
            continue
        seen.add(image.objgen)
        if _components(image.get("/ColorSpace")) != "CMYK":
            continue
        pixels = PdfImage(image).as_pil_image(apply_mask=False)  # The mask is judged apart (P111).
        if pixels.mode != "CMYK":
            continue
        c, m, y, k = pixels.split()
        total = ImageMath.lambda_eval(lambda args: args["c"] + args["m"] + args["y"] + args["k"], c=c, m=m, y=y, k=k)
        peak = total.getextrema()[1] * 100 / 255
        if peak > MAX_INK_PERCENT:
            yield "P110", f"image {placement.name} reaches {peak:.0f} % total ink, above {MAX_INK_PERCENT} %"


def _components(space: pikepdf.Object) -> str | None:
    if space == Name.DeviceCMYK:
        return "CMYK"
    if isinstance(space, Array) and len(space) > 1 and space[0] == Name.ICCBased:
        return {4: "CMYK", 3: "RGB", 1: "GRAY"}.get(int(space[1].get("/N", 0)))
    return None


# --- the content stream scan ------------------------------------------------------------------------

_STROKES = {"S", "s", "B", "B*", "b", "b*"}
_DEVICE = {"/DeviceRGB": "RGB", "/DeviceCMYK": "CMYK", "/DeviceGray": "GRAY"}
_INLINE_SPACES = {"/RGB": "/DeviceRGB", "/CMYK": "/DeviceCMYK", "/G": "/DeviceGray"}


@dataclass
class _Scan:
    """Walks a page's content (and its forms, patterns and annotation appearances), tracking the
    graphics state, and collects what the checks judge: colour spaces, fonts, images, strokes, transparency."""

    intent_space: str | None
    colour_problems: dict[str, str] = field(default_factory=dict)
    fonts: dict[tuple[int, int], Dictionary] = field(default_factory=dict)
    images: list[_Placement] = field(default_factory=list)
    thin_strokes: list[float] = field(default_factory=list)
    transparency: set[str] = field(default_factory=set)
    blend_modes: set[str] = field(default_factory=set)

    def run(self, owner, resources: Dictionary, ctm: Matrix, depth: int) -> None:
        if depth > 12:  # A form drawing itself; PDF forbids it, a broken file may not.
            return
        if isinstance(owner, pikepdf.Page):
            for annotation in owner.obj.get("/Annots", Array()):
                self._annotation(annotation, resources, depth)
        stack: list[tuple[Matrix, float]] = []
        line_width = 1.0
        for operands, operator in pikepdf.parse_content_stream(owner):
            op = str(operator)
            if op == "q":
                stack.append((ctm, line_width))
            elif op == "Q" and stack:
                ctm, line_width = stack.pop()
            elif op == "cm":
                ctm = Matrix(*[float(v) for v in operands]) @ ctm
            elif op == "w":
                line_width = float(operands[0])
            elif op == "gs":
                line_width = self._ext_gstate(resources, operands[0], line_width)
            elif op in _STROKES:
                self._stroke(line_width, ctm)
            elif op in ("rg", "RG", "k", "K", "g", "G"):
                self._colour_space(Name({"rg": "/DeviceRGB", "k": "/DeviceCMYK", "g": "/DeviceGray"}[op.lower()]), f"'{op}'")
            elif op in ("cs", "CS"):
                self._colour_space(_named_space(resources, operands[0]), f"'{op}' {operands[0]}")
            elif op in ("scn", "SCN") and operands and isinstance(operands[-1], Name):
                self._pattern(resources, operands[-1], depth)
            elif op == "sh":
                shading = resources.get("/Shading", Dictionary()).get(operands[0])
                if shading is not None:
                    self._colour_space(shading.get("/ColorSpace"), f"shading {operands[0]}")
            elif op == "Tf":
                font = resources.get("/Font", Dictionary()).get(operands[0])
                if font is not None:
                    self.fonts[font.objgen] = font
            elif op == "Do":
                self._xobject(resources, operands[0], ctm, depth)
            elif op == "INLINE IMAGE":
                self._inline_image(operands[0], ctm)

    def _annotation(self, annotation: Dictionary, resources: Dictionary, depth: int) -> None:
        for appearance in annotation.get("/AP", Dictionary()).values():
            streams = [appearance] if isinstance(appearance, Stream) else list(getattr(appearance, "values", list)())
            for stream in streams:
                if isinstance(stream, Stream):
                    self.run(stream, stream.get("/Resources", resources), _form_matrix(stream), depth + 1)

    def _colour_space(self, space: pikepdf.Object | None, where: str) -> None:
        """ISO 15930-7:2010 6.2.4 (colour): device colour spaces only where the output intent gives them
        meaning (DeviceRGB needs an RGB intent, DeviceCMYK a CMYK one, DeviceGray a CMYK or Gray one;
        a DefaultRGB/DefaultCMYK would remap them); ICC-based spaces must embed a profile matching /N."""
        if space is None:
            return
        if isinstance(space, Name) and str(space) in _DEVICE:
            kind = _DEVICE[str(space)]
            allowed = {"CMYK": {"CMYK", "GRAY"}, "RGB": {"RGB", "GRAY"}, "GRAY": {"GRAY"}}.get(self.intent_space or "", set())
            if kind not in allowed:
                intent = f"a {self.intent_space} output intent" if self.intent_space else "no usable output intent"
                self.colour_problems.setdefault(kind, f"{str(space)[1:]} colour ({where}) with {intent}: "
                                                      "convert it to the intent's colours or an ICC-based space")
            return
        if not isinstance(space, Array) or not len(space):
            return
        family = str(space[0])
        if family == "/ICCBased":
            self._icc(space[1], where)
        elif family == "/Indexed":
            self._colour_space(space[1], f"{where}, Indexed base")
        elif family in ("/Separation", "/DeviceN"):
            self._colour_space(space[2], f"{where}, {family[1:]} alternate")
        elif family in ("/CalRGB", "/CalGray", "/Lab"):
            return  # Device-independent: allowed.
        elif family == "/Pattern" and len(space) > 1:
            self._colour_space(space[1], f"{where}, uncoloured pattern")

    def _icc(self, profile: Stream, where: str) -> None:
        header = profile.read_bytes()[:128]
        expected = ICC_SPACES.get(header[16:20])
        if len(header) < 128 or header[36:40] != b"acsp":
            self.colour_problems.setdefault("ICC", f"ICCBased colour space ({where}) without a valid ICC profile")
        elif expected is None or expected != int(profile.get("/N", 0)):
            self.colour_problems.setdefault("ICC", f"ICCBased colour space ({where}): /N {profile.get('/N')} does not "
                                                   f"match its '{header[16:20].decode('latin-1')}' profile")

    def _ext_gstate(self, resources: Dictionary, name: Name, line_width: float) -> float:
        state = resources.get("/ExtGState", Dictionary()).get(name, Dictionary())
        for key, label in (("/CA", "stroke opacity"), ("/ca", "fill opacity")):
            if key in state and float(state[key]) < 1:
                self.transparency.add(f"{label} {float(state[key]):g}")
        mask = state.get("/SMask")
        if mask is not None and mask != Name("/None"):
            self.transparency.add("soft mask")
        for mode in (state.get("/BM"),) if not isinstance(state.get("/BM"), Array) else tuple(state.BM):
            if mode is None:
                continue
            if str(mode) not in BLEND_MODES:
                self.blend_modes.add(str(mode))
            elif str(mode) not in ("/Normal", "/Compatible"):
                self.transparency.add(f"blend mode {str(mode)[1:]}")
        return float(state["/LW"]) if "/LW" in state else line_width

    def _stroke(self, line_width: float, ctm: Matrix) -> None:
        """The stroke's thinnest rendering: width times the CTM's smaller singular value (0 w: one device pixel)."""
        a, b, c, d = ctm.a, ctm.b, ctm.c, ctm.d
        s = a * a + b * b + c * c + d * d
        det = abs(a * d - b * c)
        smallest = math.sqrt(max((s - math.sqrt(max(s * s - 4 * det * det, 0))) / 2, 0))
        width = line_width * smallest
        if width < HAIRLINE_PT:
            self.thin_strokes.append(width)

    def _pattern(self, resources: Dictionary, name: Name, depth: int) -> None:
        pattern = resources.get("/Pattern", Dictionary()).get(name)
        if pattern is None:
            return
        if pattern.get("/PatternType") == 2 and "/Shading" in pattern:
            self._colour_space(pattern.Shading.get("/ColorSpace"), f"shading pattern {name}")
        elif isinstance(pattern, Stream):  # Tiling: its own space is the pattern matrix on the page's default space.
            self.run(pattern, pattern.get("/Resources", resources), _form_matrix(pattern), depth + 1)

    def _xobject(self, resources: Dictionary, name: Name, ctm: Matrix, depth: int) -> None:
        xobject = resources.get("/XObject", Dictionary()).get(name)
        if not isinstance(xobject, Stream):
            return
        if xobject.get("/Subtype") == Name.Form:
            group = xobject.get("/Group")
            if isinstance(group, Dictionary) and "/CS" in group:
                self._colour_space(_named_space(resources, group.CS), f"transparency group of form {name}")
            self.run(xobject, xobject.get("/Resources", resources), _form_matrix(xobject) @ ctm, depth + 1)
        elif xobject.get("/Subtype") == Name.Image:
            if not xobject.get("/ImageMask", False):
                self._colour_space(_named_space(resources, xobject.get("/ColorSpace")), f"image {name}")
            if "/SMask" in xobject or int(xobject.get("/SMaskInData", 0)):
                self.transparency.add("image soft mask")
            self.images.append(_Placement(str(name), xobject, int(xobject.Width), int(xobject.Height), ctm))

    def _inline_image(self, image: pikepdf.PdfInlineImage, ctm: Matrix) -> None:
        space = image.obj.get("/CS", image.obj.get("/ColorSpace"))
        if isinstance(space, Name):
            space = Name(_INLINE_SPACES.get(str(space), str(space)))
        self._colour_space(space, "inline image")
        width = int(image.obj.get("/W", image.obj.get("/Width", 0)))
        height = int(image.obj.get("/H", image.obj.get("/Height", 0)))
        self.images.append(_Placement("(inline)", None, width, height, ctm))


def _named_space(resources: Dictionary, name: pikepdf.Object | None) -> pikepdf.Object | None:
    """A colour space operand resolved through the resources; device names map through Default* spaces."""
    if not isinstance(name, Name):
        return name
    spaces = resources.get("/ColorSpace", Dictionary())
    if str(name) in _DEVICE:
        default = spaces.get(Name("/Default" + str(name)[7:]))  # DefaultRGB remaps DeviceRGB (ISO 32000 8.6.5.6).
        return default if default is not None else name
    return spaces.get(name, name)


def _form_matrix(stream: Stream) -> Matrix:
    matrix = stream.get("/Matrix")
    return Matrix(*[float(v) for v in matrix]) if isinstance(matrix, Array) and len(matrix) == 6 else Matrix()
