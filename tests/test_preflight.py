"""The press PDF finisher (press.py) and our PDF/X-4 preflight (preflight.py).

The preflight is fed small PDFs built here with pikepdf, one per rule, each broken
in one way and otherwise a clean PDF/X-4 (the clean one must pass with no finding,
or the broken ones would prove nothing). The end-to-end tests build the real
manuscript as a press PDF, finish it, and read the result with
PDFium (boxes, images, rendering, text) as well as pikepdf.
"""

from __future__ import annotations

import io
import re
import shutil
import zlib
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from samizdat.fonts import BOOK_FONTS
from PIL import Image, ImageCms

import pdfread
from conftest import ROOT, refusal, run_task
from samizdat.press import BLEED_MM, MARGIN_MM, MM, finish_press_pdf
from samizdat.preflight import preflight, preflight_report
from samizdat.rules import RULES
from tiny_book import write_manuscript

PROFILE = ROOT / "styles" / "press-cmyk.icc"
XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfxid="http://www.npes.org/pdfx/ns/id/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdfxid:GTS_PDFXVersion>{version}</pdfxid:GTS_PDFXVersion><pdf:Trapped>False</pdf:Trapped>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""
CLEAN_CONTENT = b"0 0 0 1 k 20 20 40 40 re f 0.5 w 0 0 0 1 K 20 20 m 60 60 l S"


def make_pdf(tmp_path: Path, *, content: bytes = CLEAN_CONTENT, resources: dict | None = None, intent: bool = True,
             version: str = "PDF/X-4", boxes: dict | None = None, build=None) -> Path:
    """A one-page PDF/X-4 (100 pt square trim, 3 mm bleed) that passes the preflight, unless told otherwise."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(130, 130))
    page = pdf.pages[0]
    page_boxes = {"/MediaBox": [-20, -20, 120, 120], "/TrimBox": [0, 0, 100, 100], "/BleedBox": [-8.5, -8.5, 108.5, 108.5]}
    page_boxes.update(boxes or {})
    for key, value in page_boxes.items():
        if value is not None:
            page.obj[key] = Array(value)
    page.obj.Resources = Dictionary(resources(pdf) if callable(resources) else (resources or {}))
    page.obj.Contents = pdf.make_stream(content)
    if intent:
        profile = pdf.make_stream(PROFILE.read_bytes(), N=4)
        pdf.Root.OutputIntents = Array([Dictionary(Type=Name.OutputIntent, S=Name("/GTS_PDFX"),
                                                   OutputConditionIdentifier=pikepdf.String("FOGRA39"),
                                                   DestOutputProfile=profile)])
    pdf.Root.Metadata = pdf.make_stream(XMP.format(version=version).encode(), Type=Name.Metadata, Subtype=Name.XML)
    if build:
        build(pdf)
    path = tmp_path / "test.pdf"
    pdf.save(path)
    return path


def codes(path: Path) -> list[str]:
    return [finding.code for finding in preflight(path)]


def image(pdf: pikepdf.Pdf, mode: str, size: tuple[int, int], colour) -> pikepdf.Stream:
    space = {"RGB": Name.DeviceRGB, "CMYK": Name.DeviceCMYK}[mode]
    pixels = Image.new(mode, size, colour).tobytes()
    return pdf.make_stream(zlib.compress(pixels), Type=Name.XObject, Subtype=Name.Image, Width=size[0], Height=size[1],
                           ColorSpace=space, BitsPerComponent=8, Filter=Name.FlateDecode)


def test_the_clean_pdf_has_no_finding(tmp_path: Path) -> None:
    path = make_pdf(tmp_path)
    assert preflight(path) == []
    assert preflight_report(path) == ([], 0)


def test_a_file_that_is_not_a_pdf_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "not.pdf").write_text("hello")
    lines, status = preflight_report(tmp_path / "not.pdf")
    assert status == 1 and len(lines) == 1 and lines[0].startswith(f"{tmp_path / 'not.pdf'}: error: ")


def test_rules_are_in_the_catalogue() -> None:
    assert [code for code in RULES if code.startswith("P")] == [f"P{n}" for n in range(101, 113)]


# --- one broken PDF per rule --------------------------------------------------------------------------


def test_p101_device_rgb_with_a_cmyk_intent(tmp_path: Path) -> None:
    findings = preflight(make_pdf(tmp_path, content=b"1 0 0 rg 20 20 40 40 re f"))
    assert [(f.code, f.page, f.level) for f in findings] == [("P101", 1, "error")]
    assert str(findings[0]).startswith(f"{tmp_path / 'test.pdf'}:page 1: error[P101]: ")
    assert preflight_report(tmp_path / "test.pdf")[1] == 1


def test_p101_rgb_image_and_rgb_in_a_form(tmp_path: Path) -> None:
    def resources(pdf):
        form = pdf.make_stream(b"/DeviceRGB cs 0 1 0 sc 0 0 10 10 re f", Type=Name.XObject, Subtype=Name.Form,
                               BBox=Array([0, 0, 10, 10]))
        return {"/XObject": Dictionary(Im1=image(pdf, "RGB", (600, 600), (255, 0, 0)), Fm1=form)}
    assert codes(make_pdf(tmp_path, content=b"q 72 0 0 72 10 10 cm /Im1 Do Q /Fm1 Do", resources=resources)) == ["P101"]
    assert "DeviceRGB colour" in str(preflight(tmp_path / "test.pdf")[0])


def test_p101_icc_based_space_that_does_not_match_its_profile(tmp_path: Path) -> None:
    def resources(pdf):
        bad = Array([Name.ICCBased, pdf.make_stream(PROFILE.read_bytes(), N=3)])  # A CMYK profile said to be RGB.
        return {"/ColorSpace": Dictionary(CS0=bad)}
    assert codes(make_pdf(tmp_path, content=b"/CS0 cs 0 0 0 sc 0 0 9 9 re f", resources=resources)) == ["P101"]


def test_p101_icc_based_cmyk_is_allowed(tmp_path: Path) -> None:
    def resources(pdf):
        return {"/ColorSpace": Dictionary(CS0=Array([Name.ICCBased, pdf.make_stream(PROFILE.read_bytes(), N=4)]))}
    assert codes(make_pdf(tmp_path, content=b"/CS0 cs 0 0 0 1 sc 0 0 9 9 re f", resources=resources)) == []


def test_p102_no_output_intent(tmp_path: Path) -> None:
    findings = preflight(make_pdf(tmp_path, intent=False))
    assert [f.code for f in findings] == ["P102", "P101"]  # And DeviceCMYK then means nothing.
    assert findings[0].page is None and str(findings[0]).startswith(f"{tmp_path / 'test.pdf'}: error[P102]")


def test_p102_output_intent_without_profile(tmp_path: Path) -> None:
    def build(pdf):
        del pdf.Root.OutputIntents[0].DestOutputProfile
    assert "P102" in codes(make_pdf(tmp_path, build=build))


def test_p103_xmp_not_pdf_x4(tmp_path: Path) -> None:
    assert codes(make_pdf(tmp_path, version="PDF/X-1a:2003")) == ["P103"]


def _second_intent(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OutputIntents.append(pdf.Root.OutputIntents[0])


def _no_condition(pdf: pikepdf.Pdf) -> None:
    del pdf.Root.OutputIntents[0].OutputConditionIdentifier


def _not_an_icc_profile(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OutputIntents[0].DestOutputProfile = pdf.make_stream(b"not a profile" * 20, N=4)


def _a_display_profile(pdf: pikepdf.Pdf) -> None:
    data = bytearray(PROFILE.read_bytes())
    data[12:16] = b"mntr"
    pdf.Root.OutputIntents[0].DestOutputProfile = pdf.make_stream(bytes(data), N=4)


def _trapped(value: str):
    def change(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Metadata = pdf.make_stream(XMP.format(version="PDF/X-4").replace("<pdf:Trapped>False</pdf:Trapped>", value).encode(),
                                            Type=Name.Metadata, Subtype=Name.XML)
    return change


# Every way the output intent and the identification can be wrong, each with the words of its finding.
INTENT_AND_IDENTIFICATION = {
    "two output intents": (_second_intent, "P102", "2 GTS_PDFX output intents"),
    "no condition identifier": (_no_condition, "P102", "no /OutputConditionIdentifier"),
    "not an ICC profile": (_not_an_icc_profile, "P102", "is not an ICC profile"),
    "a display profile": (_a_display_profile, "P102", "'mntr' profile, not an output ('prtr') profile"),
    "no XMP": (lambda pdf: pdf.Root.__delitem__("/Metadata"), "P103", "no XMP metadata stream"),
    "no PDF/X version": (lambda pdf: pdf.Root.__setitem__("/Metadata", pdf.make_stream(XMP.replace(
        "<pdfxid:GTS_PDFXVersion>{version}</pdfxid:GTS_PDFXVersion>", "").encode(), Type=Name.Metadata, Subtype=Name.XML)),
        "P103", "has no pdfxid:GTS_PDFXVersion"),
    "Trapped missing": (_trapped(""), "P103", "pdf:Trapped is None"),
    "Trapped Unknown": (_trapped("<pdf:Trapped>Unknown</pdf:Trapped>"), "P103", "pdf:Trapped is 'Unknown'"),
}


@pytest.mark.parametrize("case", INTENT_AND_IDENTIFICATION)
def test_each_wrong_output_intent_or_identification_is_named(tmp_path: Path, case: str) -> None:
    change, code, words = INTENT_AND_IDENTIFICATION[case]
    findings = preflight(make_pdf(tmp_path, build=change))
    assert [(f.code, words in f.message) for f in findings if f.code == code] == [(code, True)], [str(f) for f in findings]


@pytest.mark.parametrize("boxes", [
    {"/ArtBox": [0, 0, 100, 100]},  # Both TrimBox and ArtBox.
    {"/TrimBox": None},  # Neither.
    {"/BleedBox": [1, 1, 99, 99]},  # Bleed inside the trim.
    {"/MediaBox": [-5, -5, 105, 105]},  # Media smaller than the bleed.
])
def test_p104_page_boxes(tmp_path: Path, boxes: dict) -> None:
    assert codes(make_pdf(tmp_path, boxes=boxes)) == ["P104"]


def _font_resources(embedded: bool, subset: bool):
    def resources(pdf):
        font = Dictionary(Type=Name.Font, Subtype=Name.TrueType, FirstChar=32, LastChar=32, Widths=Array([250]),
                          Encoding=Name.WinAnsiEncoding)
        name = ("ABCDEF+" if subset else "") + "SourceSansPro-Regular"
        font.BaseFont = Name("/" + name)
        if embedded:
            data = next(face.path for face in BOOK_FONTS if face.path.suffix == ".ttf").read_bytes()  # any TrueType file will do
            font.FontDescriptor = Dictionary(Type=Name.FontDescriptor, FontName=Name("/" + name), Flags=32,
                                             FontFile2=pdf.make_stream(data))
        return {"/Font": Dictionary(F1=font)}
    return resources


@pytest.mark.parametrize(("embedded", "subset", "expected"), [(False, False, ["P105"]), (True, False, ["P106"]), (True, True, [])])
def test_p105_p106_fonts(tmp_path: Path, embedded: bool, subset: bool, expected: list[str]) -> None:
    content = b"0 0 0 1 k BT /F1 12 Tf 10 10 Td ( ) Tj ET"
    assert codes(make_pdf(tmp_path, content=content, resources=_font_resources(embedded, subset))) == expected


@pytest.mark.parametrize(("pixels", "matrix", "expected", "ppi"), [
    (100, b"72 0 0 72 0 0 cm", "P107", 100),  # 100 px over one inch.
    (200, b"144 0 0 144 0 0 cm", "P107", 100),  # Twice the pixels, twice the size: the same.
    (200, b"2 0 0 2 0 0 cm 36 0 0 36 0 0 cm", "P108", 200),  # Two cm in a row make one inch.
    (400, b"0 72 -72 0 72 0 cm", None, 400),  # Rotated a quarter turn: still one inch.
])
def test_p107_p108_resolution_at_placed_size(tmp_path: Path, pixels: int, matrix: bytes, expected: str | None, ppi: int) -> None:
    def resources(pdf):
        return {"/XObject": Dictionary(Im1=image(pdf, "CMYK", (pixels, pixels), (0, 0, 0, 128)))}
    findings = preflight(make_pdf(tmp_path, content=b"q " + matrix + b" /Im1 Do Q", resources=resources))
    assert [f.code for f in findings] == ([expected] if expected else [])
    if expected:
        assert f"{ppi}×{ppi} ppi" in findings[0].message


def test_p107_resolution_tracks_the_ctm_into_forms(tmp_path: Path) -> None:
    def resources(pdf):
        inner = Dictionary(XObject=Dictionary(Im1=image(pdf, "CMYK", (100, 100), (0, 0, 0, 128))))
        form = pdf.make_stream(b"q 72 0 0 72 0 0 cm /Im1 Do Q", Type=Name.XObject, Subtype=Name.Form,
                               BBox=Array([0, 0, 72, 72]), Matrix=Array([0.25, 0, 0, 0.25, 0, 0]), Resources=inner)
        return {"/XObject": Dictionary(Fm1=form)}
    # Page cm ×2, form /Matrix ×0.25, image cm 72: the 100 px land on half an inch, 200 ppi. Dropping the
    # form matrix would give 50 ppi, dropping the page cm 400 ppi.
    findings = preflight(make_pdf(tmp_path, content=b"q 2 0 0 2 0 0 cm /Fm1 Do Q", resources=resources))
    assert [f.code for f in findings] == ["P108"]
    assert "200×200 ppi" in findings[0].message


@pytest.mark.parametrize(("content", "expected"), [
    (b"0 0 0 1 K 0.1 w 0 0 m 50 50 l S", ["P109"]),
    (b"0 0 0 1 K 0.2 0 0 0.2 0 0 cm 1 w 0 0 m 50 50 l S", ["P109"]),  # 1 pt under a 0.2 scale: 0.2 pt.
    (b"0 0 0 1 K 0 w 0 0 m 50 50 l S", ["P109"]),  # Zero width: the thinnest line the device can draw.
    (b"0 0 0 1 K 0.3 w 0 0 m 50 50 l S", []),
])
def test_p109_hairlines(tmp_path: Path, content: bytes, expected: list[str]) -> None:
    assert codes(make_pdf(tmp_path, content=content)) == expected


@pytest.mark.parametrize(("colour", "masked", "expected"), [
    ((255, 255, 255, 255), False, ["P110"]),
    ((200, 180, 160, 255), False, ["P110"]),  # 312 %.
    ((200, 180, 160, 255), True, ["P110", "P111"]),  # A soft mask neither hides the ink nor the transparency.
    ((0, 0, 0, 255), False, []),
])
def test_p110_ink_coverage_of_cmyk_images(tmp_path: Path, colour, masked: bool, expected: list[str]) -> None:
    def resources(pdf):
        picture = image(pdf, "CMYK", (900, 900), colour)
        if masked:
            alpha = Image.new("L", (900, 900), 128).tobytes()
            picture.SMask = pdf.make_stream(zlib.compress(alpha), Type=Name.XObject, Subtype=Name.Image, Width=900,
                                            Height=900, ColorSpace=Name.DeviceGray, BitsPerComponent=8, Filter=Name.FlateDecode)
        return {"/XObject": Dictionary(Im1=picture)}
    assert sorted(codes(make_pdf(tmp_path, content=b"q 72 0 0 72 0 0 cm /Im1 Do Q", resources=resources))) == expected


def test_p111_transparency_is_a_warning(tmp_path: Path) -> None:
    resources = {"/ExtGState": Dictionary(GS1=Dictionary(Type=Name.ExtGState, ca=0.5))}
    findings = preflight(make_pdf(tmp_path, content=b"/GS1 gs 0 0 0 1 k 0 0 9 9 re f", resources=resources))
    assert [(f.code, f.level) for f in findings] == [("P111", "warning")]
    assert "fill opacity 0.5" in findings[0].message
    assert preflight_report(tmp_path / "test.pdf")[1] == 0


def test_p112_unknown_blend_mode(tmp_path: Path) -> None:
    resources = {"/ExtGState": Dictionary(GS1=Dictionary(Type=Name.ExtGState, BM=Name("/Glow")))}
    assert codes(make_pdf(tmp_path, content=b"/GS1 gs 0 0 0 1 k 0 0 9 9 re f", resources=resources)) == ["P112"]


# --- the real book, finished for the press ------------------------------------------------------------


def build_press(manuscript: Path, dist: Path) -> Path:
    """The press PDF as WeasyPrint writes it, before samizdat finishes it (``invoke pdf --press`` does both)."""
    from samizdat.book import load_book
    from samizdat.pdf import Typesetter

    book = load_book(manuscript)
    setter = Typesetter(book, ROOT / "styles", press=True)
    target = dist / f"{book.metadata.slug}-press.pdf"
    setter.write(setter.layout(book), target, "pdf/x-4")
    return target


def device_rgb_objects(path: Path) -> list[str]:
    """Every object naming /DeviceRGB, and every content stream painting with rg/RG, read with pikepdf."""
    found = []
    with pikepdf.open(path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream, pikepdf.Array)) and "/DeviceRGB" in repr(obj):
                found.append(repr(obj)[:80])
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == Name.Form:
                found += [f"form {obj.objgen}: {op}" for _, op in pikepdf.parse_content_stream(obj) if str(op) in ("rg", "RG")]
        for number, page in enumerate(pdf.pages, start=1):
            found += [f"page {number}: {op}" for _, op in pikepdf.parse_content_stream(page) if str(op) in ("rg", "RG")]
    return found


@pytest.fixture(scope="module")
def finished_seed(tmp_path_factory) -> tuple[Path, Path]:
    dist = tmp_path_factory.mktemp("press")
    press = build_press(ROOT / "manuscript", dist)
    original = dist / "as-weasyprint-wrote-it.pdf"
    shutil.copy(press, original)
    finish_press_pdf(press, PROFILE)
    return original, press


def test_weasyprint_press_output_fails_the_preflight(finished_seed) -> None:
    original, _ = finished_seed
    lines, status = preflight_report(original)
    assert status == 1 and any("error[P101]" in line and "DeviceRGB" in line for line in lines)
    assert device_rgb_objects(original)


def test_finished_seed_passes_the_preflight(finished_seed) -> None:
    _, press = finished_seed
    lines, status = preflight_report(press)
    assert status == 0, "\n".join(lines)
    assert device_rgb_objects(press) == []
    assert pdfread.syntax_problems(press) == []


def test_invoke_preflight_prints_one_line_per_problem_and_exits_1_on_an_error(finished_seed) -> None:
    original, press = finished_seed
    failed = run_task("preflight", str(original))
    lines = failed.stdout.strip().splitlines()
    assert failed.returncode == 1 and lines and all(line.startswith(f"{original}:") for line in lines)
    assert any("error[P101]" in line and "DeviceRGB" in line for line in lines) and "Traceback" not in failed.stderr
    passed = run_task("preflight", str(press))
    assert passed.returncode == 0 and "error[" not in passed.stdout


def test_a_press_build_that_fails_the_preflight_exits_1_naming_each_problem(tmp_path: Path, monkeypatch) -> None:
    """The press PDF as WeasyPrint writes it (the CMYK conversion and the marks left out) is stopped by the build's own preflight."""
    from samizdat import press

    monkeypatch.setattr(press, "finish_press_pdf", lambda target, profile: None)  # run_task forks: the build sees it
    manuscript = write_manuscript(tmp_path / "m", "# One\n\nText.\n\n![A timeline](images/timeline.svg)\n")  # drawn in RGB
    result = run_task("pdf", "--press", "--manuscript", str(manuscript), "--dist", str(tmp_path / "dist"))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert any("error[P101]" in line and "DeviceRGB" in line for line in lines)
    assert lines[-1].endswith("error: the press PDF fails the preflight (lines above)")


def test_finished_seed_keeps_pdfx_identity_structure_outline_and_links(finished_seed) -> None:
    original, press = finished_seed
    with pikepdf.open(original) as before, pikepdf.open(press) as after:
        assert after.Root.Metadata.read_bytes() == before.Root.Metadata.read_bytes()
        # The same profile, embedded as the styles folder's file (WeasyPrint writes it out again through LittleCMS, larger).
        profile = before.Root.OutputIntents[0].DestOutputProfile.read_bytes()
        finished = after.Root.OutputIntents[0].DestOutputProfile.read_bytes()
        assert finished == PROFILE.read_bytes() and len(finished) < len(profile)
        assert ImageCms.ImageCmsProfile(io.BytesIO(finished)).tobytes() == ImageCms.ImageCmsProfile(io.BytesIO(profile)).tobytes()
        assert ("/StructTreeRoot" in after.Root) == ("/StructTreeRoot" in before.Root)
        with before.open_outline() as a, after.open_outline() as b:
            assert [i.title for i in a.root] == [i.title for i in b.root] != []
        links = [[str(a.get("/Dest", a.get("/A", ""))) for a in p.obj.get("/Annots", [])] for p in before.pages]
        assert [[str(a.get("/Dest", a.get("/A", ""))) for a in p.obj.get("/Annots", [])] for p in after.pages] == links
        for page in after.pages:
            assert "/ArtBox" not in page.obj and "/TrimBox" in page.obj
    assert pdfread.text(press) == pdfread.text(original)


def test_finished_seed_boxes_read_by_pdfium(finished_seed) -> None:
    _, press = finished_seed
    boxes = pdfread.boxes(press, 3)
    trim, bleed, media = boxes["TrimBox"], boxes["BleedBox"], boxes["MediaBox"]
    assert trim[2] - trim[0] == pytest.approx(148 * MM, abs=0.5)
    for inner, outer, by in ((trim, bleed, BLEED_MM), (bleed, media, MARGIN_MM)):
        assert [inner[0] - outer[0], inner[1] - outer[1], outer[2] - inner[2], outer[3] - inner[3]] == \
            pytest.approx([by * MM] * 4, abs=0.05)


def test_crop_marks_are_drawn_outside_the_bleed(finished_seed) -> None:
    """Rendered by PDFium: dark pixels beyond the BleedBox (the marks), none between trim and bleed."""
    original, press = finished_seed
    dpi = 144
    for path, expect_marks_outside in ((press, True), (original, False)):
        render = pdfread.render(path, 3, dpi, grey=True).convert("L")
        boxes = pdfread.boxes(path, 3)
        media, bleed, trim = boxes["MediaBox"], boxes["BleedBox"], boxes["TrimBox"]

        def to_px(box):  # PDF points (origin bottom left of the MediaBox) → pixel rectangle, top left origin.
            scale = dpi / 72
            return (round((box[0] - media[0]) * scale), round((media[3] - box[3]) * scale),
                    round((box[2] - media[0]) * scale), round((media[3] - box[1]) * scale))

        bx0, by0, bx1, by1 = to_px(bleed)
        tx0, ty0, tx1, ty1 = to_px(trim)
        dark_outside_bleed = dark_in_bleed = 0
        width, height = render.size
        pixels = render.load()
        for y in range(height):
            for x in range(width):
                if pixels[x, y] > 128:
                    continue
                inside_bleed = bx0 + 1 <= x < bx1 - 1 and by0 + 1 <= y < by1 - 1
                inside_trim = tx0 - 1 <= x < tx1 + 1 and ty0 - 1 <= y < ty1 + 1
                dark_outside_bleed += not inside_bleed
                dark_in_bleed += inside_bleed and not inside_trim
        if expect_marks_outside:
            assert dark_outside_bleed > 8 * 5 * MM * dpi / 72 * 0.5  # Eight marks of 5 mm, at least half-dark.
            assert dark_in_bleed == 0
        else:
            assert dark_outside_bleed == dark_in_bleed == 0  # samizdat no longer asks WeasyPrint for marks inside the bleed.


def test_book_with_a_raster_image(tmp_path: Path) -> None:
    """A 240×160 px PNG in a chapter (of a small A5 book: the seed's length adds nothing here): converted to CMYK,
    and its resolution is its pixels over its placed size."""
    manuscript = write_manuscript(tmp_path / "manuscript", "# One\n\nText before the figure.\n", "# Two\n\nMore text.\n", author="A. Writer")
    picture = Image.new("RGB", (240, 160))
    picture.putdata([(x, (y * 255) // 160, 128) for y in range(160) for x in range(240)])
    picture.save(manuscript / "images" / "x.png")
    chapter = manuscript / "01.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + '\n![A test gradient](images/x.png "A raster image.")\n',
                       encoding="utf-8")
    # invoke pdf --press refuses an 85 ppi image before it writes anything (I106, measured by the check); the
    # preflight below finds the same in a press PDF written without that check.
    refused = refusal("pdf", manuscript, tmp_path / "task", press=True)
    assert "error[I106]" in refused and "85 ppi" in refused
    press = build_press(manuscript, tmp_path / "dist")
    assert (240, 160, "rgb") in [(image.width, image.height, image.colour) for image in pdfread.images(press)]  # WeasyPrint wrote it in RGB.

    finish_press_pdf(press, PROFILE)
    [picture] = [image for image in pdfread.images(press) if (image.width, image.height) == (240, 160)]
    assert picture.colour == "cmyk", picture
    page, x_ppi, y_ppi = picture.page, picture.x_ppi, picture.y_ppi
    assert device_rgb_objects(press) == []

    findings = [f for f in preflight(press) if f.code in ("P107", "P108")]
    assert len(findings) == 1, findings
    finding = findings[0]
    assert finding.page == page and finding.code == ("P107" if min(x_ppi, y_ppi) < 150 else "P108")
    measured = re.search(r"(\d+)×(\d+) ppi", finding.message)
    assert measured and abs(int(measured[1]) - x_ppi) <= 1 and abs(int(measured[2]) - y_ppi) <= 1
    assert "240×160 px" in finding.message
    assert [f.code for f in preflight(press) if f.level == "error"] == (["P107"] if finding.code == "P107" else [])


def test_finish_converts_every_kind_of_rgb(tmp_path: Path) -> None:
    """Greys to black ink alone, colours through the profile, in content, forms, shadings and Indexed images."""
    def resources(pdf):
        shading = Dictionary(ShadingType=2, ColorSpace=Name.DeviceRGB, Coords=Array([0, 0, 50, 0]),
                             Function=Dictionary(FunctionType=2, Domain=Array([0, 1]), C0=Array([1, 0, 0]),
                                                 C1=Array([0, 0, 1]), N=1))
        palette = pikepdf.String(bytes([255, 0, 0, 128, 128, 128]))
        indexed = pdf.make_stream(zlib.compress(bytes([0, 1] * 50)), Type=Name.XObject, Subtype=Name.Image, Width=10,
                                  Height=10, BitsPerComponent=8, Filter=Name.FlateDecode,
                                  ColorSpace=Array([Name.Indexed, Name.DeviceRGB, 1, palette]))
        form = pdf.make_stream(b"0.5 0.5 0.5 RG 1 w 0 0 m 9 9 l S", Type=Name.XObject, Subtype=Name.Form,
                               BBox=Array([0, 0, 10, 10]), Group=Dictionary(S=Name.Transparency, CS=Name.DeviceRGB))
        return {"/Shading": Dictionary(Sh1=shading), "/XObject": Dictionary(Im1=indexed, Fm1=form)}
    content = (b"0 0 0 rg 0 0 9 9 re f 1 0 0 rg 10 0 9 9 re f /DeviceRGB cs 0 0 1 sc 20 0 9 9 re f "
               b"q 20 0 0 20 30 30 cm /Im1 Do Q /Fm1 Do q 0 50 50 10 re W n /Sh1 sh Q")
    path = make_pdf(tmp_path, content=content, resources=resources)
    assert "P101" in codes(path)
    finish_press_pdf(path, PROFILE)
    assert [f.code for f in preflight(path) if f.code != "P107"] == []  # The 10 px image is low resolution.
    assert device_rgb_objects(path) == []
    with pikepdf.open(path) as pdf:
        page = pdf.pages[0]
        fills = [[float(v) for v in operands] for operands, op in pikepdf.parse_content_stream(page) if str(op) in ("k", "sc")]
        assert fills[0] == [0, 0, 0, 1]  # Black: K alone.
        red, blue = fills[1], fills[2]
        assert red[0] < 0.05 and red[1] > 0.85 and red[2] > 0.85 and red[3] < 0.05
        assert blue[0] > 0.85 and blue[2] < 0.05
        stroke = [[float(v) for v in operands] for operands, op in pikepdf.parse_content_stream(page.Resources.XObject.Fm1)
                  if str(op) == "K"]
        assert stroke[0][:3] == [0, 0, 0] and 0.5 < stroke[0][3] < 0.75  # Mid grey: a K tint alone.
        assert page.Resources.XObject.Fm1.Group.CS == Name.DeviceCMYK
        function = page.Resources.Shading.Sh1.Function
        assert len(function.C0) == len(function.C1) == 4
        assert page.Resources.XObject.Im1.ColorSpace == Name.DeviceCMYK


def test_finishing_twice_changes_nothing(tmp_path: Path) -> None:
    path = make_pdf(tmp_path, content=b"1 0 0 rg 0 0 9 9 re f")
    finish_press_pdf(path, PROFILE)
    once = path.read_bytes()
    finish_press_pdf(path, PROFILE)
    assert path.read_bytes() == once
    assert codes(path) == []
