"""Finishing a WeasyPrint PDF/X-4 for the press: CMYK only, real page boxes, crop marks outside the bleed.

WeasyPrint 70 writes a PDF that *claims* PDF/X-4 with a CMYK output intent but
paints CSS and SVG colours, raster images and its own crop marks in DeviceRGB,
which a CMYK intent forbids (ISO 15930-7; see :mod:`samizdat.preflight`). It also
makes the MediaBox the CSS bleed area, so its crop marks sit inside the bleed.
This module fixes the written file in place, without touching the layout code:

- every RGB colour (``rg``/``RG``, ``sc``/``scn`` in DeviceRGB, shadings and their
  functions, Indexed palettes, Separation/DeviceN alternates) becomes DeviceCMYK
  through the output intent's profile. **Neutral greys and black go to black ink
  alone** (K only, the K tint whose lightness the profile gives that grey), so
  grey labels and rules print in one ink and cannot mis-register; other colours
  go through the profile (relative colorimetric with black point compensation);
- DeviceRGB and ICC-based RGB raster images become DeviceCMYK pixels through the
  profile (perceptual intent, as is usual for pictures); their soft masks stay;
- WeasyPrint's crop marks are removed, the MediaBox is enlarged to trim + bleed +
  :data:`MARGIN_MM`, the BleedBox set to trim + :data:`BLEED_MM`, any ArtBox and
  CropBox dropped, and our own crop marks drawn in the new margin in registration
  colour (Separation ``/All``), tagged as ``/Artifact`` so the structure tree is
  untouched.

XMP, output intent, structure tree, outline and links are objects this module
never rewrites; only content streams, images and page boxes change.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Matrix, Name, Operator, Page, Pdf, PdfImage, Stream
from PIL import Image, ImageCms

from .output import atomic_output

MM = 72 / 25.4
BLEED_MM = 3.0  # BleedBox = TrimBox + this on every side.
MARGIN_MM = 10.0  # MediaBox = BleedBox + this: room for the crop marks.
MARK_OFFSET_MM = 4.0  # Crop marks start this far from the trim: beyond the 3 mm bleed.
MARK_LENGTH_MM = 5.0
MARK_WIDTH_PT = 0.3  # Above the 0.25 pt hairline limit the preflight applies.
REGISTRATION = Name("/SamizdatRegistration")  # The colour space name our marks use in page resources.

RGB_NAMES = (Name.DeviceRGB, Name("/RGB"))


def _is_rgb(space: object) -> bool:
    """A colour space operand or entry that names DeviceRGB (``/RGB`` is its inline-image abbreviation)."""
    return isinstance(space, Name) and space in RGB_NAMES


class ColourConverter:
    """sRGB (or an embedded RGB profile) → the output intent's CMYK, through LittleCMS (Pillow's ImageCms)."""

    def __init__(self, profile: bytes) -> None:
        self.cmyk = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        self.srgb = ImageCms.createProfile("sRGB")
        lab = ImageCms.createProfile("LAB", 5000)
        flags = ImageCms.Flags.BLACKPOINTCOMPENSATION
        self.vector = ImageCms.buildTransform(self.srgb, self.cmyk, "RGB", "CMYK",
                                              ImageCms.Intent.RELATIVE_COLORIMETRIC, flags)
        self.to_lab = ImageCms.buildTransform(self.cmyk, lab, "CMYK", "LAB", ImageCms.Intent.RELATIVE_COLORIMETRIC)
        ramp = Image.frombytes("CMYK", (256, 1), bytes(b for k in range(256) for b in (0, 0, 0, k)))
        ramp_lab = ImageCms.applyTransform(ramp, self.to_lab)
        self.k_lightness = [ramp_lab.getpixel((k, 0))[0] for k in range(256)]
        self._image_transforms: dict[bytes | None, ImageCms.ImageCmsTransform] = {}

    @lru_cache(maxsize=4096)
    def rgb_to_cmyk(self, r: float, g: float, b: float) -> tuple[float, float, float, float]:
        """A vector colour (components 0–1): neutral → K only, otherwise through the profile."""
        rgb = tuple(round(min(max(c, 0.0), 1.0) * 255) for c in (r, g, b))
        cmyk = ImageCms.applyTransform(Image.new("RGB", (1, 1), rgb), self.vector).getpixel((0, 0))
        if max(rgb) - min(rgb) <= 1:  # A grey: the K tint as light as the profile's rendering of it.
            lightness = ImageCms.applyTransform(Image.new("CMYK", (1, 1), cmyk), self.to_lab).getpixel((0, 0))[0]
            return (0.0, 0.0, 0.0, self._k_for_lightness(lightness))
        return tuple(round(c / 255, 4) for c in cmyk)  # type: ignore[return-value]

    def _k_for_lightness(self, lightness: int) -> float:
        table = self.k_lightness  # Decreasing with k (more ink, darker).
        if lightness >= table[0]:
            return 0.0
        for k in range(1, 256):
            if table[k] <= lightness:
                span = table[k - 1] - table[k]
                fraction = (table[k - 1] - lightness) / span if span else 1.0
                return round((k - 1 + fraction) / 255, 4)
        return 1.0  # Darker than solid black ink: as dark as K alone goes.

    def image_to_cmyk(self, image: Image.Image, source_icc: bytes | None) -> Image.Image:
        """Pixels through the profile, perceptual intent; ``source_icc`` None means sRGB."""
        if source_icc not in self._image_transforms:
            source = ImageCms.ImageCmsProfile(io.BytesIO(source_icc)) if source_icc else self.srgb
            self._image_transforms[source_icc] = ImageCms.buildTransform(
                source, self.cmyk, "RGB", "CMYK", ImageCms.Intent.PERCEPTUAL, ImageCms.Flags.BLACKPOINTCOMPENSATION)
        return ImageCms.applyTransform(image.convert("RGB"), self._image_transforms[source_icc])


def finish_press_pdf(path: Path, profile: Path | None = None) -> None:
    """Rewrite the press PDF at ``path`` in place: CMYK only, bleed and media boxes, our crop marks.

    Colours go to the output intent's own profile (the PDF's GTS_PDFX DestOutputProfile), so
    what is painted always matches what the file declares; ``profile`` (``styles/press-cmyk.icc``)
    is used when the PDF has none, and embedded as it is when the PDF's is that profile re-encoded.
    Written to a temporary file and renamed (:func:`samizdat.output.atomic_output`), so a failure
    leaves the input as it was.
    """
    with pikepdf.open(path) as pdf:
        if _finished(pdf):
            return  # Twice would draw the marks twice.
        converter = ColourConverter(_intent_profile(pdf) or _read(profile))
        _remove_weasyprint_marks(pdf)
        _Recolourer(pdf, converter).run()
        registration = _registration_space(pdf)
        for page in pdf.pages:
            _set_boxes_and_marks(pdf, page, registration)
        if profile is not None:
            _embed_as_given(pdf, profile.read_bytes())
        with atomic_output(path) as temporary:
            pdf.save(temporary, fix_metadata_version=False)  # Leave the PDF/X XMP exactly as written.


def _finished(pdf: Pdf) -> bool:
    """Our registration colour in the first page's resources means this file was finished already."""
    return bool(len(pdf.pages)) and REGISTRATION in pdf.pages[0].Resources.get("/ColorSpace", Dictionary())


def _intent_profile(pdf: Pdf) -> bytes | None:
    for intent in pdf.Root.get("/OutputIntents", Array()):
        profile = intent.get("/DestOutputProfile")
        if intent.get("/S") == Name("/GTS_PDFX") and isinstance(profile, Stream) and int(profile.get("/N", 0)) == 4:
            return profile.read_bytes()
    return None


def _embed_as_given(pdf: Pdf, given: bytes) -> None:
    """The output intent's profile as the file it came from, when it is that profile re-encoded.

    WeasyPrint embeds a ``@color-profile`` as LittleCMS writes it out again, with every tag's
    data stored apart where the file shares one block between tags: FOGRA39 grows from 354 KB
    to 608 KB, most of the press PDF. Same header and same data for every tag, so the same profile.
    """
    content = _icc_content(given)
    for intent in pdf.Root.get("/OutputIntents", Array()):
        embedded = intent.get("/DestOutputProfile")
        if content is not None and isinstance(embedded, Stream) and len(given) < len(data := embedded.read_bytes()) and _icc_content(data) == content:
            embedded.write(given)


def _icc_content(profile: bytes) -> tuple[bytes, dict[bytes, bytes]] | None:
    """An ICC profile's header without its size and ID, and each tag's data by signature (ICC.1:2010 7.2, 7.3)."""
    if len(profile) < 132 or profile[36:40] != b"acsp":
        return None
    count = int.from_bytes(profile[128:132], "big")
    tags = {}
    for entry in range(132, min(132 + 12 * count, len(profile) - 11), 12):
        offset, size = int.from_bytes(profile[entry + 4:entry + 8], "big"), int.from_bytes(profile[entry + 8:entry + 12], "big")
        tags[profile[entry:entry + 4]] = profile[offset:offset + size]
    return profile[4:84], tags


def _read(profile: Path | None) -> bytes:
    if profile is None:
        raise ValueError("the PDF has no CMYK GTS_PDFX output intent and no profile was given")
    return profile.read_bytes()


# --- WeasyPrint's crop marks -------------------------------------------------------------------

_MARK_OPERATORS = {"q", "Q", "cm", "gs", "rg", "RG", "w", "d", "J", "j", "M", "m", "l", "B", "S", "h", "n"}


def _remove_weasyprint_marks(pdf: Pdf) -> None:
    """Drop the form XObject WeasyPrint draws its ``marks: crop`` with, from every page.

    WeasyPrint paints the marks as an SVG covering the whole CSS bleed area: a form
    whose box, placed, is the MediaBox and whose content is nothing but straight
    stroked lines. No other form matches both. (Better still, the core stops asking
    for ``marks: crop``; then there is nothing to remove.)
    """
    removed: set[tuple[int, int]] = set()
    for page in pdf.pages:
        media = [float(v) for v in page.obj.MediaBox]
        operations = pikepdf.parse_content_stream(page)
        kept, ctm, stack, changed = [], Matrix(), [], False
        for operands, operator in operations:
            name = str(operator)
            if name == "q":
                stack.append(ctm)
            elif name == "Q" and stack:
                ctm = stack.pop()
            elif name == "cm":
                ctm = Matrix(*[float(v) for v in operands]) @ ctm
            elif name == "Do" and _is_marks_form(page.Resources, operands[0], ctm, media):
                removed.add(page.Resources.XObject[operands[0]].objgen)
                changed = True
                continue
            kept.append((operands, operator))
        if changed:
            page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(kept))
    for page in pdf.pages:
        xobjects = page.Resources.get("/XObject", Dictionary())
        for key in [k for k, v in xobjects.items() if v.objgen in removed]:
            del xobjects[key]


def _is_marks_form(resources: Dictionary, name: Name, ctm: Matrix, media: list[float]) -> bool:
    xobject = resources.get("/XObject", Dictionary()).get(name)
    if not isinstance(xobject, Stream) or xobject.get("/Subtype") != Name.Form:
        return False
    x0, y0, x1, y1 = (float(v) for v in xobject.BBox)
    placed = _bounds([ctm.transform((x, y)) for x in (x0, x1) for y in (y0, y1)])
    if any(abs(a - b) > 1 for a, b in zip(placed, media)):
        return False
    operators = [str(op) for _, op in pikepdf.parse_content_stream(xobject)]
    return "l" in operators and set(operators) <= _MARK_OPERATORS


def _bounds(points: list[tuple[float, float]]) -> list[float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [min(xs), min(ys), max(xs), max(ys)]


# --- colours -----------------------------------------------------------------------------------


@dataclass
class _Recolourer:
    """Walks every content stream and resource reachable from the pages and turns RGB into CMYK."""

    pdf: Pdf
    converter: ColourConverter
    seen: set[tuple[int, int]] = field(default_factory=set)

    def run(self) -> None:
        for page in self.pdf.pages:
            self._content(page, page.Resources)
            self._resources(page.Resources)
            for annotation in page.obj.get("/Annots", Array()):
                for appearance in _appearance_streams(annotation):
                    self._form(appearance, page.Resources)
        for obj in self.pdf.objects:  # Images anywhere (including unreached ones) and stray RGB groups.
            if isinstance(obj, Stream) and obj.get("/Subtype") == Name.Image:
                self._image(obj)

    def _once(self, obj: pikepdf.Object) -> bool:
        if obj.is_indirect:
            if obj.objgen in self.seen:
                return False
            self.seen.add(obj.objgen)
        return True

    def _resources(self, resources: Dictionary) -> None:
        if not self._once(resources):
            return
        for xobject in resources.get("/XObject", Dictionary()).values():
            if xobject.get("/Subtype") == Name.Form:
                self._form(xobject, resources)
        for pattern in resources.get("/Pattern", Dictionary()).values():
            if pattern.get("/PatternType") == 1:
                self._form(pattern, resources)
            elif "/Shading" in pattern:
                self._shading(pattern.Shading)
        for shading in resources.get("/Shading", Dictionary()).values():
            self._shading(shading)
        for name, space in list(resources.get("/ColorSpace", Dictionary()).items()):
            resources.ColorSpace[name] = self._colour_space(space)
        for state in resources.get("/ExtGState", Dictionary()).values():
            mask = state.get("/SMask")
            if isinstance(mask, Dictionary) and "/G" in mask:
                self._form(mask.G, resources)

    def _form(self, form: Stream, parent: Dictionary) -> None:
        if not self._once(form):
            return
        resources = form.get("/Resources", parent)
        group = form.get("/Group")
        if isinstance(group, Dictionary) and _is_rgb(group.get("/CS")):
            group.CS = Name.DeviceCMYK
        self._content(form, resources)
        self._resources(resources)

    def _content(self, owner: Page | Stream, resources: Dictionary) -> None:
        operations = pikepdf.parse_content_stream(owner)
        rewritten, changed = _recolour_operations(operations, resources, self.converter.rgb_to_cmyk)
        if not changed:
            return
        data = pikepdf.unparse_content_stream(rewritten)
        if isinstance(owner, Page):
            owner.obj.Contents = self.pdf.make_stream(data)
        else:
            owner.write(data)  # Recompressed by qpdf on save.

    def _shading(self, shading: Dictionary | Stream) -> None:
        if not self._once(shading) or not _is_rgb(shading.get("/ColorSpace")):
            return
        shading.ColorSpace = Name.DeviceCMYK
        if "/Background" in shading:
            shading.Background = Array(self.converter.rgb_to_cmyk(*[float(v) for v in shading.Background]))
        if "/Function" in shading:
            shading.Function = self._function(shading.Function)

    def _function(self, function: pikepdf.Object) -> pikepdf.Object:
        """RGB-valued Type 2 (and Type 3 of Type 2) functions give CMYK; others cannot be converted here."""
        if isinstance(function, Array):
            return Array([self._function(f) for f in function])
        kind = function.get("/FunctionType")
        if kind == 2:
            for key, default in (("/C0", (0, 0, 0)), ("/C1", (1, 1, 1))):
                values = [float(v) for v in function.get(key, Array(default))]
                if len(values) == 3:
                    function[key] = Array(self.converter.rgb_to_cmyk(*values))
        elif kind == 3:
            function.Functions = Array([self._function(f) for f in function.Functions])
        return function

    def _colour_space(self, space: pikepdf.Object) -> pikepdf.Object:
        """Named colour spaces built on DeviceRGB: Indexed palettes and Separation/DeviceN alternates."""
        if _is_rgb(space):
            return Name.DeviceCMYK
        if not isinstance(space, Array) or not len(space):
            return space
        family = space[0]
        if family == Name.Indexed and _is_rgb(space[1]):
            lookup = space[3]
            table = lookup.read_bytes() if isinstance(lookup, Stream) else bytes(lookup)
            cmyk = bytearray()
            for i in range(0, len(table) - 2, 3):
                cmyk += bytes(round(c * 255) for c in self.converter.rgb_to_cmyk(*(v / 255 for v in table[i:i + 3])))
            return Array([Name.Indexed, Name.DeviceCMYK, space[2], pikepdf.String(bytes(cmyk))])
        if family in (Name.Separation, Name.DeviceN) and _is_rgb(space[2]):
            space[2] = Name.DeviceCMYK
            space[3] = self._function(space[3])
        return space

    def _image(self, image: Stream) -> None:
        if image.get("/ImageMask", False) or not self._once(image):
            return
        space = image.get("/ColorSpace")
        source: bytes | None
        if _is_rgb(space) or (isinstance(space, Array) and space[0] == Name.Indexed and _is_rgb(space[1])):
            source = None
        elif isinstance(space, Array) and space[0] == Name.ICCBased and int(space[1].get("/N", 0)) == 3:
            source = space[1].read_bytes()
        else:
            return
        pixels = PdfImage(image).as_pil_image(apply_mask=False)  # The soft mask stays as it is.
        cmyk = self.converter.image_to_cmyk(pixels, source)
        image.write(zlib.compress(cmyk.tobytes(), 6), filter=Name.FlateDecode)
        for key in ("/DecodeParms", "/Decode"):
            if key in image:
                del image[key]
        image.ColorSpace = Name.DeviceCMYK
        image.BitsPerComponent = 8


def _appearance_streams(annotation: Dictionary) -> Iterator[Stream]:
    for appearance in annotation.get("/AP", Dictionary()).values():
        if isinstance(appearance, Stream):
            yield appearance
        elif isinstance(appearance, Dictionary):
            yield from (state for state in appearance.values() if isinstance(state, Stream))


def _resolve_space(resources: Dictionary, name: pikepdf.Object) -> pikepdf.Object:
    if name in (Name.DeviceRGB, Name.DeviceCMYK, Name.DeviceGray, Name.Pattern):
        return name
    return resources.get("/ColorSpace", Dictionary()).get(name, name)


def _recolour_operations(operations, resources: Dictionary, to_cmyk) -> tuple[list, bool]:
    """``rg``/``RG`` → ``k``/``K``; ``cs``/``CS`` /DeviceRGB → /DeviceCMYK and its ``sc``/``scn`` operands.

    The current colour spaces are part of the graphics state, so ``q``/``Q`` save and restore them.
    """
    out, changed = [], False
    rgb = {"fill": False, "stroke": False}
    stack: list[dict[str, bool]] = []
    for operands, operator in operations:
        name = str(operator)
        side = "stroke" if name in ("RG", "CS", "SC", "SCN") else "fill"
        if name == "q":
            stack.append(dict(rgb))
        elif name == "Q" and stack:
            rgb = stack.pop()
        elif name in ("rg", "RG"):
            operands, operator = list(to_cmyk(*[float(v) for v in operands])), Operator("k" if name == "rg" else "K")
            changed = True
        elif name in ("cs", "CS"):
            rgb[side] = _is_rgb(_resolve_space(resources, operands[0]))
            if rgb[side]:
                operands, changed = [Name.DeviceCMYK], True
        elif name in ("sc", "scn", "SC", "SCN") and rgb[side] and len(operands) == 3:
            operands, changed = list(to_cmyk(*[float(v) for v in operands])), True
        elif name in ("g", "G", "k", "K"):
            rgb[side] = False
        out.append((operands, operator))
    return out, changed


# --- page boxes and crop marks -----------------------------------------------------------------


def _set_boxes_and_marks(pdf: Pdf, page: Page, registration: Array) -> None:
    """TrimBox kept (ArtBox dropped), BleedBox = trim + bleed, MediaBox = bleed + margin; marks drawn in the margin."""
    obj = page.obj
    trim = [float(v) for v in obj.get("/TrimBox", obj.get("/ArtBox", obj.MediaBox))]
    bleed = _grown(trim, BLEED_MM * MM)
    obj.TrimBox = Array(trim)
    obj.BleedBox = Array(bleed)
    obj.MediaBox = Array(_grown(bleed, MARGIN_MM * MM))
    for key in ("/ArtBox", "/CropBox"):
        if key in obj:
            del obj[key]
    if "/ColorSpace" not in page.Resources:
        page.Resources.ColorSpace = Dictionary()
    page.Resources.ColorSpace[REGISTRATION] = registration
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    page.contents_add(pdf.make_stream(b"\nQ\n" + crop_marks(trim)), prepend=False)


def _grown(box: list[float], by: float) -> list[float]:
    return [round(box[0] - by, 4), round(box[1] - by, 4), round(box[2] + by, 4), round(box[3] + by, 4)]


def crop_mark_lines(trim: list[float]) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The eight crop marks of a trim box: lines on the trim edges' extensions, starting beyond the bleed."""
    x0, y0, x1, y1 = trim
    near, far = MARK_OFFSET_MM * MM, (MARK_OFFSET_MM + MARK_LENGTH_MM) * MM
    lines = []
    for x, outward_x in ((x0, -1), (x1, 1)):
        for y, outward_y in ((y0, -1), (y1, 1)):
            lines.append(((x + outward_x * near, y), (x + outward_x * far, y)))  # Horizontal, marks the y edge.
            lines.append(((x, y + outward_y * near), (x, y + outward_y * far)))  # Vertical, marks the x edge.
    return lines


def crop_marks(trim: list[float]) -> bytes:
    """Content stream operators drawing the crop marks in registration colour, as an artifact of type Page."""
    path = "".join(f"{a[0]:.3f} {a[1]:.3f} m {b[0]:.3f} {b[1]:.3f} l S\n" for a, b in crop_mark_lines(trim))
    return (f"/Artifact <</Type /Page>> BDC\nq\n{REGISTRATION} CS 1 SCN {MARK_WIDTH_PT} w 0 J 0 j [] 0 d\n"
            f"{path}Q\nEMC\n").encode()


def _registration_space(pdf: Pdf) -> Array:
    """Separation /All: the marks print on every plate, as registration marks should."""
    tint = Dictionary(FunctionType=2, Domain=Array([0, 1]), C0=Array([0, 0, 0, 0]), C1=Array([1, 1, 1, 1]), N=1)
    return Array([Name.Separation, Name.All, Name.DeviceCMYK, pdf.make_indirect(tint)])
