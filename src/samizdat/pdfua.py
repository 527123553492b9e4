"""PDF/UA-1 for the pamphlet: WeasyPrint's structure tree, corrected, and our own PDF/UA check.

WeasyPrint 70 tags the PDF from its layout boxes (``weasyprint/pdf/tags.py``), page by page.
Seven things it gets wrong are put right here, after it has written the file:

- Running heads and folios (CSS margin boxes) are marked content with MCIDs whose
  structure elements hang from nothing: tagged, but not in the tree. Upstream keeps
  them out of the tree on purpose and wants to include them as Artifact elements,
  which only PDF 2.0 allows (Kozea/WeasyPrint#1836). We re-mark them in the content
  streams as ``/Artifact <</Type /Pagination>>`` (ISO 32000-1 14.8.2.2) and drop them
  from the ParentTree.
- The dots of a CSS ``leader()`` (the contents' dotted lines) are tagged as text, in marked
  content (one run a line: see :mod:`samizdat.leaders`) in an element of their own inside the link: a screen
  reader reads every dot. They become ``/Artifact <</Type /Layout>>`` (ISO 32000-1 14.8.2.2, a
  purely cosmetic typographical element), and the link annotations over them move to the
  element the dots were in.
- An image with no alt text is a ``Figure`` without ``Alt`` (and WeasyPrint logs an error). HTML, and the
  EPUB, read ``alt=""`` as decoration; here it becomes an ``/Artifact`` (ISO 14289-1 7.3), its element goes.
- A footnote is a ``Span`` in a ``NonStruct`` footnote area at the page's end; its call a
  ``NonStruct``. The footnote becomes a ``Note`` with the note's HTML id as its ID
  (ISO 14289-1 7.9, Matterhorn 19-003), the call a ``Reference`` whose ``Ref`` (the
  PDF 2.0 key; PDF 1.7 has none for this) names the note, and the Note moves to just
  after its call: in PDF 1.7 ``Note`` is inline-level, and a screen reader then reads
  the note where it is called, not in the middle of a paragraph that runs on.
- An element that runs onto the next page becomes one element per page
  (Kozea/WeasyPrint#2902, #2903). A continuation is merged into the element it
  continues: one ``Sect``, one ``P``, with content on both pages.
- ``lang`` on an element inside the book is dropped: it becomes ``/Lang`` on its
  structure element (ISO 14289-1 7.2, Matterhorn 11-001).
- Each run of text is wrapped in a ``Span`` of its own that stands for no HTML element (or for a
  ``span.samizdat-whole``, a word the layout keeps whole, which says nothing either):
  its marked content goes to the element it is in, and the ``Span`` goes (two structure
  elements in five, in a long book).

The notes' IDs are then listed in the structure tree's ``IDTree``, which ISO 32000-1
14.7.2 requires as soon as any element has an ID (:func:`write_id_tree`).

Which structure element comes from which HTML element cannot be read from the PDF, so
:func:`write_pdfua` notes it while WeasyPrint writes, by wrapping ``tags._build_box_tree``
(the one function that makes structure elements) and keying its records by PDF object
number. Nothing else of WeasyPrint is changed; an element it makes that this module
does not recognise is left as WeasyPrint made it.

Not done, and why: a footnote call gets no Link annotation (WeasyPrint draws the call
with no link, and a made-up annotation would need its own geometry); elements split
inside a line (an ``em`` across a page break) stay two ``Span`` elements; tables and
lists are merged by the same rule as paragraphs, but not tested here.

:func:`check` is our PDF/UA check, written from ISO 14289-1 and the Matterhorn
Protocol 1.02's machine-checkable failure conditions (cited by number). veraPDF does
not run here; this check covers what is listed in README.md's *Checks* (``U…`` rules)
and nothing that needs a human (reading order, alt text quality, colour contrast).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, NumberTree, Pdf, String

from .marks import WHOLE_WORD_CLASS
from .preflight import PreflightFinding, read_xmp

PDFUA_ID_NS = "http://www.aiim.org/pdfua/ns/id/"
DC_NS = "http://purl.org/dc/elements/1.1/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
HEADINGS = {f"/H{level}": level for level in range(1, 7)}
WRAPPERS = {Name.P, Name.Span, Name.NonStruct}  # elements that mean nothing once empty (a table cell or list item does)
PAINTING = {"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "INLINE IMAGE"}


# --- writing: WeasyPrint's tags, traced -------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What a structure element was made from: the HTML element (by identity), its tag, id and lang."""

    element: object | None  # The lxml element; anonymous boxes share their parent's.
    tag: str | None  # WeasyPrint's element_tag: 'p', 'span::footnote-call', …
    html_id: str | None
    lang: str | None
    margin: str | None  # '@top-left' … for content of a page-margin box.
    footnote_area: bool
    leader: bool  # CSS leader(): the contents' dots
    layout_only: bool  # an element that says nothing, there for the layout: a word kept whole (span.samizdat-whole, samizdat.pdf)


@contextmanager
def _traced() -> Iterator[dict[int, _Source]]:
    """While WeasyPrint writes, record the source of every structure element it makes, by object number."""
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import tags

    original = tags._build_box_tree
    sources: dict[int, _Source] = {}
    margins: list[str] = []

    def traced(box, *args):
        inner = getattr(box, "_box", box)  # An AbsolutePlaceholder stands for its box, as in tags.py.
        is_margin = isinstance(inner, boxes.MarginBox)
        if is_margin:
            margins.append(inner.at_keyword)
        try:
            for element in original(box, *args):  # Its recursive calls come back through here.
                sources.setdefault(element.number, _source(inner, margins[-1] if margins else None, boxes))
                yield element
        finally:
            if is_margin:
                margins.pop()

    tags._build_box_tree = traced
    try:
        yield sources
    finally:
        tags._build_box_tree = original


def _source(box, margin: str | None, boxes) -> _Source:
    element, tag = box.element, box.element_tag
    own = element is not None and tag is not None and "::" not in tag  # Pseudo-elements share their element's attributes.
    return _Source(
        element=element,
        tag=tag,
        html_id=element.get("id") if element is not None else None,
        lang=element.get("lang") if own else None,
        margin=margin,
        footnote_area=isinstance(box, boxes.FootnoteAreaBox),
        leader=bool(getattr(box, "is_leader", False)),
        layout_only=own and tag == "span" and WHOLE_WORD_CLASS in (element.get("class") or "").split(),
    )


def write_pdfua(document, target: Path, finisher=None) -> None:
    """Write ``document`` (a laid-out WeasyPrint document) as PDF/UA-1 to ``target``, with the structure fixed."""
    with _traced() as sources:
        document.write_pdf(target, pdf_variant="pdf/ua-1", pdf_identifier=True, finisher=finisher)
    fix_structure(target, sources)


def fix_structure(path: Path, sources: dict[int, _Source]) -> None:
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        _Fixer(pdf, sources).run()
        # A content-derived /ID, as WeasyPrint's pdf_identifier: the same book gives the same bytes.
        pdf.save(path, deterministic_id=True, fix_metadata_version=False)


# --- fixing ------------------------------------------------------------------------------------------


def _kids(element: Dictionary) -> list:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_element(obj) -> bool:
    return isinstance(obj, Dictionary) and "/S" in obj


def _same(a, b) -> bool:
    return a.is_indirect and b.is_indirect and a.objgen == b.objgen


class _Fixer:
    def __init__(self, pdf: Pdf, sources: dict[int, _Source]) -> None:
        self.pdf, self.sources = pdf, sources
        self.root = pdf.Root.StructTreeRoot
        self.document = _kids(self.root)[0]
        self.parent_tree = NumberTree(self.root.ParentTree)
        self.replaced: dict[tuple[int, int], Dictionary] = {}  # Merged-away element → the one it joined.

    def source(self, element) -> _Source | None:
        return self.sources.get(element.objgen[0]) if _is_element(element) and element.is_indirect else None

    def run(self) -> None:
        self.artifact_margins()
        self.artifact_leaders()
        self.decorative_images()
        self.notes()
        self.merge_continuations()
        self.languages()
        self.inline_text_spans()
        self.repoint_parent_tree()
        write_id_tree(self.pdf)

    # Running heads and folios

    def artifact_margins(self) -> None:
        reachable = {e.objgen for e in _walk(self.root)}
        for page in self.pdf.pages:
            if "/StructParents" not in page:
                continue
            mcids = _number(self.parent_tree, page.StructParents)
            if not isinstance(mcids, Array):
                continue
            subtypes = {}
            for mcid, element in enumerate(mcids):
                if _is_element(element) and element.objgen not in reachable and (margin := self._margin(element)):
                    subtypes[mcid] = margin
            if subtypes:
                _artifact(self.pdf, page, {mcid: _pagination(subtype) for mcid, subtype in subtypes.items()})
                for mcid in subtypes:
                    mcids[mcid] = None

    def _margin(self, element: Dictionary) -> str | None:
        """'Header', 'Footer' or '' when ``element`` is page-margin content; None when it is not."""
        for _ in range(64):
            source = self.source(element)
            if source and source.margin:
                return {"@top": "Header", "@bottom": "Footer"}.get(source.margin.split("-")[0], "")
            element = element.get("/P")
            if not _is_element(element):
                return None
        return None

    # Leaders

    def artifact_leaders(self) -> None:
        """The dots a CSS ``leader()`` draws between a title and its page number in the contents are a layout
        artifact (ISO 32000-1 14.8.2.2), not text: tagged, a screen reader reads every dot of every line."""
        dots: dict[tuple[int, int], set[int]] = {}  # page → MCIDs
        for element in [e for e in _walk(self.root) if (s := self.source(e)) and s.leader]:
            kept = []  # The link annotations over the dots (OBJR), which go to the element the dots were in.
            for kid in _kids(element):
                if (content := _marked_content(element, kid)) is not None:
                    dots.setdefault(content[0], set()).add(content[1])
                else:
                    kept.append(kid)
            parent = element.P
            for kid in kept:
                if _is_element(kid):
                    kid.P = parent
                elif isinstance(kid, Dictionary) and kid.get("/Type") == Name.OBJR and "/StructParent" in kid.Obj:
                    self.parent_tree[int(kid.Obj.StructParent)] = parent
            parent.K = Array([new for kid in _kids(parent) for new in (kept if _is_element(kid) and _same(kid, element) else [kid])])
        self._remark(dots, Dictionary(Type=Name.Layout))

    # Images without alt text

    def decorative_images(self) -> None:
        """An image with no alt text (``alt=""``) is decoration, in HTML's terms and the EPUB's: here an artifact
        (ISO 14289-1 7.3), not a ``Figure`` with nothing to say. A paragraph left empty by it goes too."""
        marks: dict[tuple[int, int], set[int]] = {}
        for element in list(_walk(self.root)):
            source = self.source(element)
            if element.get("/S") != Name.Figure or not source or source.tag != "img" or (source.element.get("alt") or "").strip():
                continue
            for content in filter(None, (_marked_content(element, kid) for kid in _kids(element))):
                marks.setdefault(content[0], set()).add(content[1])
            # The element goes, and each element it leaves empty that only wrapped it: a paragraph, an <em>.
            while _is_element(parent := element.get("/P")):
                parent.K = Array([kid for kid in _kids(parent) if not (_is_element(kid) and _same(kid, element))])
                if _kids(parent) or parent.get("/S") not in WRAPPERS:
                    break
                element = parent
        self._remark(marks, Dictionary())

    def _remark(self, marks: dict[tuple[int, int], set[int]], properties: Dictionary) -> None:
        """The marked content with these MCIDs (by page) becomes artifacts with ``properties``, out of the parent tree."""
        pages = {page.objgen: page for page in self.pdf.pages} if marks else {}
        for objgen, mcids in marks.items():
            page = pages[objgen]
            _artifact(self.pdf, page, {mcid: properties for mcid in mcids})
            marked = _number(self.parent_tree, page.StructParents)
            for mcid in mcids:
                marked[mcid] = None

    # Footnotes

    def notes(self) -> None:
        calls = {}
        for element in _walk(self.root):
            source = self.source(element)
            if source and source.tag and source.tag.endswith("::footnote-call"):
                calls.setdefault(id(source.element), element)
        for area in [k for k in _kids(self.document) if (s := self.source(k)) and s.footnote_area]:
            for note in _kids(area):
                source = self.source(note)
                if not source or not source.html_id or source.tag != "span" or id(source.element) not in calls:
                    continue
                call = calls[id(source.element)]
                parent = call.get("/P")
                siblings = _kids(parent) if _is_element(parent) else []
                at = next((i for i, kid in enumerate(siblings) if _is_element(kid) and _same(kid, call)), None)
                if at is None:
                    continue
                note.S, note.ID = Name.Note, String(source.html_id)
                for kid in _kids(note):
                    if (s := self.source(kid)) and s.tag and s.tag.endswith("::footnote-marker"):
                        kid.S = Name.Lbl
                call.S, call.Ref = Name.Reference, Array([note])
                parent.K = Array(siblings[: at + 1] + [note] + siblings[at + 1:])
                note.P = parent
                area.K = Array([k for k in _kids(area) if not (_is_element(k) and _same(k, note))])
            if not _kids(area):
                self.document.K = Array([k for k in _kids(self.document) if not _same(k, area)])

    # Elements continued on the next page

    def continues(self, earlier, later) -> bool:
        """True when ``later`` is the rest, on a later page, of the HTML element ``earlier`` began."""
        a, b = self.source(earlier), self.source(later)
        return bool(
            a and b and a.element is not None and a.element is b.element and a.tag == b.tag
            and "::" not in (a.tag or "") and not a.margin and not a.footnote_area
            and earlier.S == later.S and "/Pg" in earlier and "/Pg" in later and not _same(earlier.Pg, later.Pg)
        )

    def merge_continuations(self) -> None:
        kept: list = []
        for kid in _kids(self.document):
            previous = next((k for k in reversed(kept) if not (self.source(k) and self.source(k).footnote_area)), None)
            if previous is not None and self.continues(previous, kid):
                self.merge(previous, kid)
            else:
                kept.append(kid)
        self.document.K = Array(kept)

    def merge(self, keep: Dictionary, gone: Dictionary) -> None:
        """Move ``gone``'s content into ``keep``; where ``gone``'s first child continues ``keep``'s last, merge those too."""
        keep_kids, gone_kids = _kids(keep), _kids(gone)
        if keep_kids and gone_kids and _is_element(keep_kids[-1]) and self.continues(keep_kids[-1], gone_kids[0]):
            self.merge(keep_kids[-1], gone_kids[0])
            gone_kids = gone_kids[1:]
        moved = []
        for kid in gone_kids:
            if isinstance(kid, int):  # An MCID on gone's page: keep says which page, so name it.
                kid = self.pdf.make_indirect(Dictionary(Type=Name.MCR, Pg=gone.Pg, MCID=kid))
            elif _is_element(kid):
                kid.P = keep
            moved.append(kid)
        keep.K = Array(keep_kids + moved)
        self.replaced[gone.objgen] = keep

    # Languages and bookkeeping

    def languages(self) -> None:
        for element in _walk(self.root):
            source = self.source(element)
            if source and source.lang:
                element.Lang = String(source.lang)

    def inline_text_spans(self) -> None:
        """WeasyPrint wraps the marked content of every run of text (a line of a paragraph, mostly) in a ``Span``
        element of its own, made from no HTML element and saying nothing: its MCID goes to the element it is in
        (as an integer when on that element's page, else as a marked-content reference, ISO 32000-1 14.7.4.2).
        A screen reader reads the same; the tree loses two of every five objects, which the merge of a long book
        holds in memory and every reader walks."""
        for element in reversed(list(_walk(self.root))):  # children first: a span.samizdat-whole holds a run's Span
            kids = _kids(element)
            anonymous = [self._anonymous_span(kid) for kid in kids]
            if not any(anonymous):
                continue
            inlined = []
            for kid, inline in zip(kids, anonymous):
                if inline:
                    mcid = int(kid.K[0] if isinstance(kid.K, Array) else kid.K)
                    on_page = "/Pg" in element and _same(element.Pg, kid.Pg)
                    inlined.append(mcid if on_page else Dictionary(Type=Name.MCR, Pg=kid.Pg, MCID=mcid))
                    self.replaced[kid.objgen] = element
                else:
                    inlined.append(kid)
            element.K = Array(inlined)

    def _anonymous_span(self, kid) -> bool:
        """A ``Span`` WeasyPrint made around one run of text, from no HTML element or from one there for the layout
        alone, with one MCID and nothing else."""
        if not (_is_element(kid) and kid.is_indirect and kid.get("/S") == Name.Span):
            return False
        if (source := self.sources.get(kid.objgen[0])) is not None and not source.layout_only:
            return False
        mcids = _kids(kid)
        return set(kid.keys()) <= {"/Type", "/S", "/K", "/Pg", "/P"} and "/Pg" in kid and len(mcids) == 1 and isinstance(mcids[0], int)

    def repoint_parent_tree(self) -> None:
        """MCIDs and annotations that pointed at a merged-away element now point at the one it joined."""
        def current(value):
            while _is_element(value) and value.objgen in self.replaced:
                value = self.replaced[value.objgen]
            return value

        for key, value in list(self.parent_tree.items()):
            if isinstance(value, Array):
                for index, element in enumerate(value):
                    if _is_element(element) and element.objgen in self.replaced:
                        value[index] = current(element)
            elif _is_element(value) and value.objgen in self.replaced:
                self.parent_tree[key] = current(value)


def _marked_content(element: Dictionary, kid) -> tuple[tuple[int, int], int] | None:
    """``kid`` of ``element`` as (its page's object number, MCID) when it is marked content (an MCID on the element's
    page, or a marked-content reference); None for an element or an object reference."""
    if isinstance(kid, int) and "/Pg" in element:
        return element.Pg.objgen, kid
    if isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR:
        return kid.Pg.objgen, int(kid.MCID)
    return None


def _pagination(subtype: str) -> Dictionary:
    """A pagination artifact's properties: a running head (``Header``), a folio (``Footer``) or other margin content."""
    artifact = Dictionary(Type=Name.Pagination)
    if subtype:
        artifact.Subtype = Name("/" + subtype)
    return artifact


# A marked-content sequence with an MCID as WeasyPrint (pydyf) begins it: ``/P <</MCID 3>> BDC``. Text is
# written in hexadecimal strings, so the pattern cannot occur inside one.
_MARKED = re.compile(rb"/[^\s/<>\[\]()%]+\s*<<\s*/MCID\s+(\d+)\s*>>\s*BDC")


def _artifact(pdf: Pdf, page: pikepdf.Page, artifacts: dict[int, Dictionary]) -> None:
    """Re-mark the marked-content sequences with these MCIDs as artifacts with these properties.

    The page's content is edited as bytes when each MCID is found there once, as WeasyPrint writes it
    (parsing a contents page into instructions and back took a fifth of the time to write a long
    contents, when each leader dot was a sequence of its own); else it is parsed.
    """
    contents = page.obj.get("/Contents")
    if isinstance(contents, pikepdf.Stream):
        found: list[int] = []

        def remark(match: re.Match) -> bytes:
            if (mcid := int(match.group(1))) not in artifacts:
                return match.group(0)
            found.append(mcid)
            return b"/Artifact " + artifacts[mcid].unparse() + b" BDC"

        edited = _MARKED.sub(remark, contents.read_bytes())
        if sorted(found) == sorted(artifacts):
            page.Contents = pdf.make_stream(edited)
            return
    instructions = []
    for instruction in pikepdf.parse_content_stream(page):
        if isinstance(instruction, pikepdf.ContentStreamInstruction) and str(instruction.operator) == "BDC":
            properties = instruction.operands[1]
            if isinstance(properties, Dictionary) and int(properties.get("/MCID", -1)) in artifacts:
                instruction = pikepdf.ContentStreamInstruction([Name.Artifact, artifacts[int(properties.MCID)]], pikepdf.Operator("BDC"))
        instructions.append(instruction)
    page.Contents = pdf.make_stream(pikepdf.unparse_content_stream(instructions))


def write_id_tree(pdf: Pdf, elements: dict[str, Dictionary] | None = None) -> None:
    """The structure tree's IDTree: every element with an ID (the notes), by that ID (ISO 32000-1 14.7.2: required
    when any element has one). ``elements`` by ID when they are known already (a merge has each part's), else
    found by walking the tree; the first of an ID wins."""
    root = pdf.Root.StructTreeRoot
    if elements is None:
        elements = {}
        for element in _walk(root):
            if isinstance(element.get("/ID"), String) and element.is_indirect:
                elements.setdefault(str(element.ID), element)
    if "/IDTree" in root:
        del root["/IDTree"]
    if elements:
        ids = pikepdf.NameTree.new(pdf)
        for name, element in elements.items():
            ids[name] = element
        root.IDTree = ids.obj


def _number(tree: NumberTree, key) -> pikepdf.Object | None:
    """A number tree's value for ``key``, or None when there is none (pikepdf raises IndexError)."""
    try:
        return tree[int(key)]
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _walk(root: Dictionary) -> Iterator[Dictionary]:
    """Every structure element below ``root``, in document order, each once."""
    seen: set[tuple[int, int]] = set()
    stack = list(reversed(_kids(root)))
    while stack:
        element = stack.pop()
        if not _is_element(element):
            continue
        if element.is_indirect:
            if element.objgen in seen:
                continue
            seen.add(element.objgen)
        yield element
        stack.extend(reversed(_kids(element)))


# --- checking ----------------------------------------------------------------------------------------


def check(path: Path) -> list[PreflightFinding]:
    """Every PDF/UA finding for the PDF at ``path`` (``U…`` rules): document-level first, then page by page."""
    path = Path(path)
    try:
        with pikepdf.open(path) as pdf:
            return [PreflightFinding(path, page, code, message) for page, code, message in _checks(pdf)]
    except (OSError, pikepdf.PdfError) as error:
        return [PreflightFinding(path, None, "U101", f"cannot read it as a PDF ({error})")]


def _checks(pdf: Pdf) -> Iterator[tuple[int | None, str, str]]:
    root = pdf.Root
    mark_info = root.get("/MarkInfo")
    if not isinstance(mark_info, Dictionary) or mark_info.get("/Marked") is not True:
        yield None, "U101", "the catalog's MarkInfo has no Marked true: the file does not say it is tagged (ISO 14289-1 7.1)"
    tree_root = root.get("/StructTreeRoot")
    if not isinstance(tree_root, Dictionary):
        yield None, "U101", "no StructTreeRoot: the file has no structure tree (ISO 14289-1 7.1)"
        tree_root = Dictionary()
    lang = root.get("/Lang")
    if not isinstance(lang, String) or not str(lang).strip():
        yield None, "U103", "no /Lang in the catalog: the document's language is unknown (Matterhorn 11-006, ISO 14289-1 7.2)"
    yield from ((None, code, message) for code, message in _metadata_checks(root))
    elements = list(_walk(tree_root))
    ids = pikepdf.NameTree(tree_root.IDTree) if isinstance(tree_root.get("/IDTree"), Dictionary) else None
    yield from ((None, code, message) for code, message in _element_checks(elements, ids))
    reachable = {e.objgen for e in elements if e.is_indirect}
    parent_tree = NumberTree(tree_root.ParentTree) if isinstance(tree_root.get("/ParentTree"), Dictionary) else None
    fonts_seen: set[tuple[int, int]] = set()
    for number, page in enumerate(pdf.pages, start=1):
        for code, message in _page_checks(page, parent_tree, reachable, fonts_seen):
            yield number, code, message


def _metadata_checks(root: Dictionary) -> Iterator[tuple[str, str]]:
    preferences = root.get("/ViewerPreferences")
    if not isinstance(preferences, Dictionary) or preferences.get("/DisplayDocTitle") is not True:
        yield "U104", "ViewerPreferences has no DisplayDocTitle true: viewers show the file name (Matterhorn 07-001, 07-002)"
    xmp = read_xmp(root)
    if isinstance(xmp, str):
        yield "U105", f"{xmp} (Matterhorn 06-001)"
        return
    title = xmp.find(f".//{{{DC_NS}}}title")
    if title is None or not "".join(title.itertext()).strip():
        yield "U104", "the XMP metadata has no dc:title (Matterhorn 06-003)"
    parts = [d.get(f"{{{PDFUA_ID_NS}}}part") for d in xmp.iter(f"{{{RDF_NS}}}Description")]
    parts += [e.text for e in xmp.iter(f"{{{PDFUA_ID_NS}}}part")]
    if not any(p and p.strip() for p in parts):
        yield "U105", "the XMP metadata has no pdfuaid:part: the file does not claim PDF/UA (Matterhorn 06-002)"


def _element_checks(elements: list[Dictionary], ids: pikepdf.NameTree | None) -> Iterator[tuple[str, str]]:
    previous_level = 0
    counts: dict[bytes, int] = {}
    for element in elements:
        kind = str(element.get("/S"))
        if kind == "/Figure" and not str(element.get("/Alt", "")).strip() and "/ActualText" not in element:
            yield "U107", "a Figure has no Alt text (Matterhorn 13-004, ISO 14289-1 7.3)"
        if kind in HEADINGS:
            level = HEADINGS[kind]
            if previous_level == 0 and level != 1:
                yield "U108", f"the first heading is H{level}, not H1 (Matterhorn 14-002)"
            elif level > previous_level + 1 and previous_level:
                yield "U108", f"H{level} follows H{previous_level}: a heading level is skipped (Matterhorn 14-003)"
            previous_level = level
        if kind == "/Note":
            note_id = element.get("/ID")
            if not isinstance(note_id, String) or not bytes(note_id):
                yield "U109", "a Note has no ID (Matterhorn 19-003, ISO 14289-1 7.9)"
            else:
                counts[bytes(note_id)] = counts.get(bytes(note_id), 0) + 1
                listed = ids.get(str(note_id)) if ids is not None else None
                if listed is None or not element.is_indirect or listed.objgen != element.objgen:
                    yield "U109", f"Note ID '{bytes(note_id).decode('latin-1')}' is not in the structure tree's IDTree (ISO 32000-1 14.7.2)"
    for note_id, count in counts.items():
        if count > 1:
            yield "U109", f"Note ID '{note_id.decode('latin-1')}' is used by {count} notes (Matterhorn 19-004)"


def _page_checks(page: pikepdf.Page, parent_tree: NumberTree | None, reachable: set, fonts_seen: set) -> Iterator[tuple[str, str]]:
    mcids = None
    if parent_tree is not None and "/StructParents" in page:
        mcids = _number(parent_tree, page.StructParents)
    untagged = mixed = 0
    outside: list[int] = []
    stack: list[tuple[bool, int | None]] = []  # (artifact?, MCID) per open marked-content sequence.
    for instruction in pikepdf.parse_content_stream(page):
        operator = "INLINE IMAGE" if isinstance(instruction, pikepdf.ContentStreamInlineImage) else str(instruction.operator)
        if operator in ("BDC", "BMC"):
            tag = instruction.operands[0]
            properties = instruction.operands[1] if operator == "BDC" else None
            mcid = int(properties.MCID) if isinstance(properties, Dictionary) and "/MCID" in properties else None
            stack.append((tag == Name.Artifact, mcid))
            if mcid is not None and not _in_tree(mcids, mcid, reachable, page):
                outside.append(mcid)
        elif operator == "EMC" and stack:
            stack.pop()
        elif operator in PAINTING:
            artifact = any(a for a, _ in stack)
            tagged = any(m is not None for _, m in stack)
            untagged += not artifact and not tagged
            mixed += artifact and tagged
    if untagged:
        yield "U102", f"{untagged} painting operation(s) neither tagged nor marked as Artifact (Matterhorn 01-005, ISO 14289-1 7.1)"
    if mixed:
        yield "U102", f"{mixed} painting operation(s) both tagged and inside an Artifact (Matterhorn 01-003, 01-004)"
    if outside:
        shown = ", ".join(str(m) for m in outside[:5]) + (" …" if len(outside) > 5 else "")
        yield "U102", f"marked content (MCID {shown}) belongs to no structure element in the tree (ISO 14289-1 7.1)"
    yield from _font_checks(page, fonts_seen)
    yield from _annotation_checks(page, parent_tree, reachable)


def _in_tree(mcids, mcid: int, reachable: set, page: pikepdf.Page) -> bool:
    """The page's parent-tree entry for ``mcid`` is an element of the tree that holds it (ISO 32000-1 14.7.4.4):
    as an integer, on the element's page, or as a marked-content reference to this page."""
    if not isinstance(mcids, Array) or mcid >= len(mcids):
        return False
    element = mcids[mcid]
    if not (_is_element(element) and element.objgen in reachable):
        return False
    for kid in _kids(element):
        if isinstance(kid, int) and kid == mcid and "/Pg" in element and _same(element.Pg, page.obj):
            return True
        if isinstance(kid, Dictionary) and kid.get("/Type") == Name.MCR and kid.get("/MCID") == mcid:
            kid_page = kid.get("/Pg", element.get("/Pg"))
            if kid_page is not None and _same(kid_page, page.obj):
                return True
    return False


def _font_checks(page: pikepdf.Page, seen: set) -> Iterator[tuple[str, str]]:
    """Matterhorn 31-009 (ISO 14289-1 7.21.4.1): the font program of every font used for rendering is embedded."""
    resources = page.get("/Resources", Dictionary())
    for font in dict(resources.get("/Font", Dictionary())).values():
        if not isinstance(font, Dictionary) or (font.is_indirect and font.objgen in seen):
            continue
        if font.is_indirect:
            seen.add(font.objgen)
        if font.get("/Subtype") == Name.Type3:
            continue
        described = font.DescendantFonts[0] if font.get("/Subtype") == Name.Type0 else font
        descriptor = described.get("/FontDescriptor", Dictionary())
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            yield "U106", f"font '{str(font.get('/BaseFont', '/(unnamed)'))[1:]}' is not embedded (Matterhorn 31-009)"


def _annotation_checks(page: pikepdf.Page, parent_tree: NumberTree | None, reachable: set) -> Iterator[tuple[str, str]]:
    annotations = [a for a in page.get("/Annots", Array()) if isinstance(a, Dictionary)]
    if annotations and page.get("/Tabs") != Name.S:
        yield "U110", "a page with annotations has no /Tabs /S: tab order must follow the structure (Matterhorn 28-008, 28-009)"
    for annotation in annotations:
        if annotation.get("/Subtype") != Name.Link:
            continue
        if not str(annotation.get("/Contents", "")).strip():
            yield "U111", "a Link annotation has no /Contents describing it (Matterhorn 28-012)"
        parent = _number(parent_tree, annotation.StructParent) if parent_tree is not None and "/StructParent" in annotation else None
        if not (_is_element(parent) and parent.get("/S") == Name.Link and parent.objgen in reachable):
            yield "U111", "a Link annotation is not in a Link structure element of the tree (Matterhorn 28-011)"
