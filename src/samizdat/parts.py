"""A long PDF laid out and written in parts by forked processes, then merged.

A chapter is laid out as if it began on page 1 (:mod:`samizdat.placement`), so runs of
chapters can be laid out at once: :class:`LayoutPool`'s workers each lay out a run, learn
where it starts once the runs before it are counted, place and write it as a tagged PDF of
its own, and let its pages go. Watch mode keeps its layouts in one process and has only the
parts an edit changed written, by the children of a :class:`PartWriter`.

:func:`merge` joins the parts with pikepdf into the document a single write would make:
pages, the structure tree (one ``Document`` element, with the parent tree renumbered),
named destinations, links between parts, the outline, and the front part's metadata.
Each part embeds its own subsets of the fonts, renamed here so that no two different subsets
share a name. A link to an anchor in another part is written by its part as a URI in
:data:`DEST_SCHEME` and becomes a named destination here.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import logging
import os
import pickle
import select
import signal
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from pathlib import Path
from typing import TypeVar

import pikepdf
from pikepdf import Array, Dictionary, Name, NameTree, NumberTree, OutlineItem, Pdf, String

from .pdfua import _kids, write_id_tree
from .typesetlog import _Collector

T = TypeVar("T")

# Runs a layout worker writes before a fresh one, forked from the typesetter, takes its place: a worker's own
# memory (WeasyPrint's and Pango's caches) grows by about 0.4 MB a run, and the typesetter lays nothing out
# while the workers run, so a new fork starts small (800 chapters: 229 → 213 MB at the peak, in the same time).
RECYCLE_AFTER = 8
DEST_SCHEME = "samizdat-dest:"  # A link to an anchor in another part; never left in a merged PDF.
MARGINS = "/SamizdatMargins"  # The form holding a page's margin boxes, drawn over it in watch mode.


def retargeted(document):
    """A copy of ``document`` whose links to anchors not on its pages are :data:`DEST_SCHEME` URIs, for :func:`merge` to resolve."""
    anchors = {name for page in document.pages for name in page.anchors}
    pages = []
    for page in document.pages:
        page = copy.copy(page)
        page.links = [
            ("external", DEST_SCHEME + target, rectangle, box) if kind == "internal" and target not in anchors else (kind, target, rectangle, box)
            for kind, target, rectangle, box in page.links
        ]
        pages.append(page)
    return document.copy(pages)


def _in_child(work: Callable[[], None], report: Callable[[bytes], None]) -> None:
    """Run ``work`` in a freshly forked child and end the process; an exception is pickled and passed to ``report``."""
    status = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        gc.freeze()  # The collector never walks what was inherited, so those pages stay shared with the parent.
        work()
        status = 0
    except BaseException as error:  # Reported by the parent, which raises it again.
        try:
            payload = pickle.dumps(error)
        except Exception:
            payload = pickle.dumps(RuntimeError("".join(traceback.format_exception(error)).strip()))
        report(payload)
    finally:
        os._exit(status)


def _warnings() -> _Collector:
    """WeasyPrint's warnings in a child, to be passed to the parent's log."""
    collector = _Collector()
    logging.getLogger("weasyprint").addHandler(collector)
    return collector


def _log(messages: list[str]) -> None:
    for message in messages:
        logging.getLogger("weasyprint").warning("%s", message)  # Seen by samizdat.typesetlog in this process.


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@dataclass
class PartWriter:
    """Writes parts in forked children, at most ``workers`` at a time; :meth:`finish` returns the files in book order."""

    write: Callable[[object, Path], None]  # (laid-out document, path): runs in the child
    workers: int
    running: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid → (part number, pidfd)
    files: dict[int, Path] = field(default_factory=dict)  # part number (book order) → file

    def submit(self, path: Path, order: int, document) -> None:
        """Start writing ``document`` (or what a function given instead makes, in the child) to ``path``, the part
        at position ``order``; wait first if every worker is busy."""
        while len(self.running) >= self.workers:
            self._reap()
        self.files[order] = path
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child: its coverage is not collected)
            _in_child(lambda: self._child(document, path), path.with_suffix(".error").write_bytes)
        self.running[pid] = (order, os.pidfd_open(pid))

    def write_here(self, path: Path, order: int, document) -> None:
        """Write ``document`` in this process: what writing loads (modules, font tables) stays for the children."""
        self.files[order] = path
        self._write_part(document, path)

    def _child(self, document, path: Path) -> None:
        collector = _warnings()
        self._write_part(document, path)
        path.with_suffix(".log").write_text("\n".join(collector.messages), encoding="utf-8")  # read by _reap once this child ends

    def _write_part(self, document, path: Path) -> None:
        """``document`` (or what the function given instead makes) written under a temporary name, then renamed to ``path``."""
        partial = path.with_suffix(".part")
        self.write(retargeted(document() if callable(document) else document), partial)
        partial.rename(path)

    def _reap(self) -> None:
        """Wait for one of this writer's children to end (never for another child of the process)."""
        ready, _, _ = select.select([fd for _, fd in self.running.values()], [], [])
        pid = next(pid for pid, (_, fd) in self.running.items() if fd == ready[0])
        order, fd = self.running.pop(pid)
        os.close(fd)
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        path = self.files[order]
        if status != 0:
            self.stop()
            error = path.with_suffix(".error")
            if error.exists():
                raise pickle.loads(error.read_bytes())
            raise RuntimeError(f"the process writing part {order} of the PDF stopped (status {status})")
        log = path.with_suffix(".log")
        _log(list(filter(None, log.read_text(encoding="utf-8").split("\n"))))
        log.unlink()

    def finish(self) -> list[Path]:
        while self.running:
            self._reap()
        return [self.files[order] for order in sorted(self.files)]

    def stop(self) -> None:
        """Stop every child still writing (on an error or an interrupt)."""
        for pid, (_, fd) in self.running.items():
            _kill(pid)
            os.close(fd)
        self.running.clear()


def computed_in_child(compute: Callable[[], T]) -> T:
    """``compute()`` in a forked child, its result sent back: what it allocates goes when the child ends.

    Python keeps the heap a large, short-lived layout grew (the front matter of a long book, 36 MB
    at 800 chapters), so done here it would stay for the whole build, beside the workers'.
    WeasyPrint's warnings in the child reach this process's log; its error is raised here.
    """
    receiving, sending = Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child: its coverage is not collected)
        receiving.close()

        def work() -> None:
            collector = _warnings()
            result = compute()
            sending.send(("result", result, collector.messages))

        _in_child(work, lambda payload: sending.send(("error", payload, [])))
    sending.close()
    running = True
    try:
        try:
            kind, value, messages = receiving.recv()
        except EOFError:
            raise RuntimeError("a process laying out the PDF stopped (the front matter)") from None
        os.waitpid(pid, 0)
        running = False
    except BaseException:
        if running:  # once reaped, its number may be another process's
            _kill(pid)
        raise
    finally:
        receiving.close()
    _log(messages)
    if kind == "error":
        raise pickle.loads(value)
    return value


@dataclass
class LayoutPool:
    """Runs of chapters laid out and written by forked workers, one run at a time each, in book order.

    A worker lays its run out (each chapter as if it began on page 1, see :mod:`samizdat.placement`)
    and sends back the chapters' page counts; once every earlier run's counts are in, the parent
    knows where the run starts and tells the worker, which places the pages there, writes the
    part and takes the next run. Workers hold one run's pages at a time, so memory does not grow
    with the book, and layout, which was sequential, runs on every core.
    """

    lay_out: Callable[[int], tuple[object, list[int]]]  # run number → (its layouts, each chapter's page count): in a worker
    write: Callable[[int, object, int, Path], None]  # (run number, its layouts, first page, path): in a worker
    runs: int
    workers: int
    folder: Path
    first_page: int | None = None  # of the first run: set by the parent once the front matter is counted
    counts: dict[int, list[int]] = field(default_factory=dict)  # run → its chapters' page counts
    _waiting: dict[int, Connection] = field(default_factory=dict)  # run laid out, its start not yet sent → worker
    _busy: dict[Connection, int] = field(default_factory=dict)  # worker → the run it holds
    _pids: dict[Connection, int] = field(default_factory=dict)
    _next_run: int = 0
    _written: set[int] = field(default_factory=set)
    _last: set[Connection] = field(default_factory=set)  # workers told that their run is their last
    _runs_done: dict[Connection, int] = field(default_factory=dict)  # worker → the runs it has written

    def start(self) -> None:
        """Fork the workers, each with a first run."""
        for _ in range(min(self.workers, self.runs)):
            self._fork()

    def _fork(self) -> None:
        parent, child = Pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover  (the child: its coverage is not collected)
            parent.close()
            _in_child(lambda: self._worker(child), lambda payload: child.send(("error", payload, [])))
        child.close()
        self._pids[parent] = pid
        self._runs_done[parent] = 0
        self._assign(parent)

    def _worker(self, connection: Connection) -> None:
        collector = _warnings()
        while (run := connection.recv()) is not None:
            layouts, counts = self.lay_out(run)
            connection.send(("pages", counts, collector.messages))
            collector.messages = []
            first_page, last = connection.recv()
            path = self._path(run)
            self.write(run, layouts, first_page, path)
            del layouts
            gc.collect()
            connection.send(("written", path, collector.messages))
            collector.messages = []
            if last:  # No run is left for it: its memory goes now, not when the typesetter is next free to say so.
                break

    def _assign(self, worker: Connection) -> None:
        worker.send(self._next_run)
        self._busy[worker] = self._next_run
        self._next_run += 1

    def start_of(self, run: int) -> int | None:
        """The first page of ``run``, once the front matter and every earlier run are counted."""
        if self.first_page is None or any(earlier not in self.counts for earlier in range(run)):
            return None
        return self.first_page + sum(sum(self.counts[earlier]) for earlier in range(run))

    def lay_out_all(self) -> None:
        """Serve the workers until every run is laid out and counted (their writing may go on)."""
        while len(self.counts) < self.runs:
            self._serve()

    def free_a_core(self) -> None:
        """Serve the workers until one has ended (no run left for it, its memory gone) or every run is written:
        the front matter, set next, then never shares the machine with every worker's memory at its largest."""
        while len(self._written) < self.runs and len(self._busy) >= min(self.workers, self.runs):
            self._serve()

    def finish(self) -> list[Path]:
        """Wait for every part; their files in book order."""
        while len(self._written) < self.runs:
            self._serve()
        for worker, pid in self._pids.items():
            os.waitpid(pid, 0)
            worker.close()
        self._pids.clear()
        return [self._path(run) for run in range(self.runs)]

    def _path(self, run: int) -> Path:
        return self.folder / f"run-{run:04d}.pdf"

    def _serve(self) -> None:
        self._send_starts()
        for worker in wait(list(self._busy)):
            try:
                kind, value, messages = worker.recv()
            except EOFError:
                raise RuntimeError(f"a process laying out the PDF stopped (run {self._busy[worker] + 1})") from None
            _log(messages)
            run = self._busy[worker]
            if kind == "error":
                raise pickle.loads(value)
            if kind == "pages":
                self.counts[run] = value
                self._waiting[run] = worker
            else:
                self._written.add(run)
                del self._busy[worker]
                self._runs_done[worker] += 1
                if worker in self._last:
                    continue
                if self._next_run < self.runs and self._runs_done[worker] < RECYCLE_AFTER:
                    self._assign(worker)
                else:
                    worker.send(None)
                    if self._next_run < self.runs:  # retired: reaped now, so that no later fork holds its pipe
                        os.waitpid(self._pids.pop(worker), 0)
                        worker.close()
                        self._fork()
        self._send_starts()

    def _send_starts(self) -> None:
        for run, worker in list(self._waiting.items()):
            if (first_page := self.start_of(run)) is not None:
                last = self._next_run >= self.runs  # Every run is handed out: none can come to this worker.
                worker.send((first_page, last))
                if last:
                    self._last.add(worker)
                del self._waiting[run]

    def stop(self) -> None:
        """Stop every worker still running (on an error or an interrupt)."""
        for worker, pid in self._pids.items():
            _kill(pid)
            worker.close()
        self._pids.clear()


# --- merging ------------------------------------------------------------------------------------------


def merge(parts: list[Path], target: Path, furniture: tuple[Path, tuple[float, ...]] | None = None, modified: str | None = None) -> None:
    """Join tagged PDF parts (in book order) into ``target``; the first part's catalog and metadata are the book's,
    with ``modified`` (``CCYY-MM-DDThh:mm:ssZ``) as its modification date if given (watch mode reuses a
    front part written at an earlier build).

    ``furniture`` (watch mode): a PDF of the margin boxes of the pages between the first part and the
    last, drawn over them as artifacts, and how far each of those pages' content moves right (a run of
    chapters drawn on one side and placed on the other).

    The parts are opened one at a time: each is closed once its pages, structure, destinations and
    bookmarks are copied, with its streams' bytes. An open part costs QPDF about 2 MB: every part
    open at once made a 400-chapter book's merge 149 MB where it is 103 MB.
    """
    out = Pdf.new()
    overlay = Pdf.open(furniture[0]) if furniture else None
    try:
        joined = _Joined(out)
        for index, part in enumerate(parts):
            with Pdf.open(part) as source:
                copied_from = len(out.objects)
                joined.add(source)
                if index == 0:
                    version = source.pdf_version
                    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata"):
                        if key in source.Root:
                            out.Root[key] = _copy(out, source, source.Root[key])
                    out.trailer.Info = _copy(out, source, source.trailer.Info)
                _own_streams(out, copied_from)
        joined.finish()
        _resolve_links(out)
        if overlay is not None:  # The chapters' pages: those just before the last part's (the back matter).
            _furnish(out, overlay, joined.offsets[-1] - len(furniture[1]), furniture[1])
        _retag_subsets(out)
        if modified:
            _set_modified(out, modified)
        out.save(target, deterministic_id=True, fix_metadata_version=False, min_version=version,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    finally:
        if overlay is not None:
            overlay.close()


def _copy(out: Pdf, source: Pdf, value):
    """``value`` from ``source``, direct or not."""
    if isinstance(value, (Dictionary, Array, pikepdf.Stream)):
        return out.copy_foreign(value if value.is_indirect else source.make_indirect(value))
    return value


def _own_streams(out: Pdf, copied_from: int) -> None:
    """QPDF copies a stream's bytes from its file only when ``out`` is saved: the streams copied since object
    ``copied_from`` take theirs now, so that the part they came from can be closed."""
    for number in range(copied_from + 1, len(out.objects) + 1):
        stream = out.get_object((number, 0))
        if isinstance(stream, pikepdf.Stream):
            stream.write(stream.read_raw_bytes(), filter=stream.get("/Filter"), decode_parms=stream.get("/DecodeParms"))


class _Joined:
    """What the parts add up to, a part at a time: pages, structure, named destinations, bookmarks."""

    def __init__(self, out: Pdf) -> None:
        self.out = out
        self.offsets: list[int] = []  # each part's first page
        self.document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
        self.parent_tree = NumberTree.new(out)
        self.next_key = 0
        self.destinations = NameTree.new(out)
        self.ids: dict[str, Dictionary] = {}  # the structure elements with an ID, from each part's IDTree
        self.bookmarks: list[OutlineItem] = []

    def add(self, source: Pdf) -> None:
        self.offsets.append(len(self.out.pages))
        with warnings.catch_warnings():  # It says named destinations are not copied: the loop below does that.
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            self.out.pages.extend(source.pages)
        self._structure(source)
        names = source.Root.get("/Names")
        if names is not None and "/Dests" in names:
            for name, destination in NameTree(names.Dests).items():
                if name not in self.destinations:  # the first of a name wins, as in WeasyPrint
                    self.destinations[name] = _copy(self.out, source, destination)
        with source.open_outline() as part:  # each part begins with a chapter: their top levels follow one another
            self.bookmarks += [_copy_item(self.out, source, item) for item in part.root]

    def _structure(self, source: Pdf) -> None:
        """The part's elements under the one ``Document`` element; its parent-tree keys shifted past the parts' before."""
        out, root = self.out, source.Root.StructTreeRoot
        for top in _kids(root):
            for kid in _kids(top):
                if isinstance(kid, Dictionary) and "/P" in kid:
                    del kid["/P"]  # Else copying it would copy the part's whole tree through its parent.
                    copied = _copy(out, source, kid)
                    copied.P = self.document
                    self.document.K.append(copied)
        if "/IDTree" in root:  # the first of an ID wins, as when the merged tree is walked in document order
            for name, element in NameTree(root.IDTree).items():
                self.ids.setdefault(name, _copy(out, source, element))
        keys = dict(NumberTree(root.ParentTree).items())
        for key, value in keys.items():
            self.parent_tree[int(key) + self.next_key] = _copy(out, source, value)
        for page in out.pages[self.offsets[-1]:]:
            if "/StructParents" in page.obj:
                page.obj.StructParents = int(page.obj.StructParents) + self.next_key
            for annotation in page.obj.get("/Annots", []):
                if "/StructParent" in annotation:
                    annotation.StructParent = int(annotation.StructParent) + self.next_key
        self.next_key += max((int(key) for key in keys), default=-1) + 1

    def finish(self) -> None:
        out = self.out
        root = out.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([self.document]), ParentTree=self.parent_tree.obj,
                                            ParentTreeNextKey=self.next_key))
        self.document.P = root
        out.Root.StructTreeRoot = root
        write_id_tree(out, self.ids)  # from each part's IDTree: the merged tree is not walked again
        out.Root.Names = Dictionary(Dests=self.destinations.obj)
        with out.open_outline() as outline:
            outline.root.extend(self.bookmarks)


def _copy_item(out: Pdf, source: Pdf, item: OutlineItem) -> OutlineItem:
    copied = OutlineItem(item.title, _copy(out, source, item.destination))
    copied.is_closed = item.is_closed
    copied.children.extend(_copy_item(out, source, child) for child in item.children)
    return copied


def _retag_subsets(out: Pdf) -> None:
    """Each part names its font subsets with WeasyPrint's tag for the face (``ABCDEF+Source-Serif-4``), but
    two parts' subsets of a face hold different glyphs, and different subsets in one file must have
    different tags (ISO 32000-1 9.6.4). The tag is made from the subset's own bytes instead."""
    fonts = [font for font in out.objects if isinstance(font, Dictionary) and font.get("/Type") == Name.Font]
    parents: dict[tuple[int, int], list[Dictionary]] = {}
    for font in fonts:
        for descendant in font.get("/DescendantFonts", []):
            parents.setdefault(descendant.objgen, []).append(font)
    for font in fonts:
        descriptor = font.get("/FontDescriptor")
        program = next((descriptor[key] for key in ("/FontFile2", "/FontFile3", "/FontFile") if key in descriptor), None) if descriptor else None
        if program is None:
            continue
        digest = hashlib.sha256(program.read_raw_bytes()).digest()
        tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
        for holder, key in ((font, "/BaseFont"), (descriptor, "/FontName"), *((parent, "/BaseFont") for parent in parents.get(font.objgen, []))):
            name = str(holder.get(key, ""))
            if len(name) > 8 and name[7] == "+":  # "/ABCDEF+…": a subset's tag
                holder[key] = Name("/" + tag + name[7:])


def _resolve_links(out: Pdf) -> None:
    """A link a part wrote to another part's anchor (:data:`DEST_SCHEME`) becomes a link to that named destination."""
    for page in out.pages:
        for annotation in page.obj.get("/Annots", []):
            action = annotation.get("/A")
            if action is None or action.get("/S") != Name.URI or not str(action.URI).startswith(DEST_SCHEME):
                continue
            name = str(action.URI)[len(DEST_SCHEME):]
            del annotation["/A"]
            annotation.Dest = String(name)
            if "/Contents" in annotation:
                annotation.Contents = String(name)


def _furnish(out: Pdf, furniture: Pdf, first: int, moves: tuple[float, ...]) -> None:
    """Each furniture page drawn over ``out``'s pages from ``first`` on, as a pagination artifact (ISO 32000-1
    14.8.2.2), after the page's own content is moved right by its ``moves`` entry, with its links and the
    destinations that point into it."""
    moved: dict[tuple[int, int], float] = {}
    for number, (margins, move) in enumerate(zip(furniture.pages, moves, strict=True)):
        page = out.pages[first + number]
        # The page's own content may leave its transformation in force (WeasyPrint's does): it is enclosed.
        page.contents_add(out.make_stream(b"q 1 0 0 1 %.4f 0 cm\n" % move if move else b"q\n"), prepend=True)
        if move:
            _move_annotations(page, move)
            moved[page.objgen] = move
        # The page's own resources (a part's pages share theirs), with the margin boxes as a form.
        resources = Dictionary(dict(page.obj.get("/Resources", Dictionary()).items()))
        resources.XObject = Dictionary({**dict(resources.get("/XObject", Dictionary()).items()), MARGINS: out.copy_foreign(margins.as_form_xobject())})
        page.obj.Resources = resources
        page.contents_add(out.make_stream(b"\nQ\n/Artifact <</Type /Pagination>> BDC q " + Name(MARGINS).unparse() + b" Do Q EMC\n"))
    if moved:
        destinations = out.Root.Names.Dests
        for _, destination in NameTree(destinations).items():
            _move_destination(destination, moved)
        with out.open_outline() as outline:
            for item in _outline_items(outline.root):
                _move_destination(item.destination, moved)


def _move_annotations(page: pikepdf.Page, move: float) -> None:
    """The annotations' rectangle and quadrilaterals (x, y pairs) follow the page's content."""
    for annotation in page.obj.get("/Annots", []):
        for key in ("/Rect", "/QuadPoints"):
            if isinstance(coordinates := annotation.get(key), Array):
                annotation[key] = Array([float(value) + (move if index % 2 == 0 else 0) for index, value in enumerate(coordinates)])


def _move_destination(destination, moved: dict[tuple[int, int], float]) -> None:
    """An explicit ``[page /XYZ left top zoom]`` destination into a moved page follows its content."""
    if isinstance(destination, Dictionary):
        destination = destination.get("/D")
    if not isinstance(destination, Array) or len(destination) < 3 or destination[1] != Name.XYZ:
        return
    page = destination[0]
    if isinstance(page, Dictionary) and page.objgen in moved and destination[2] is not None:
        destination[2] = float(destination[2]) + moved[page.objgen]


def _outline_items(items) -> Iterator[OutlineItem]:
    for item in items:
        yield item
        yield from _outline_items(item.children)


def _set_modified(out: Pdf, modified: str) -> None:
    """The modification date, in the document information and the XMP metadata alike (ISO 32000-1 14.3.3)."""
    out.trailer.Info.ModDate = String("D:" + "".join(character for character in modified if character.isdigit()) + "Z")
    with out.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as metadata:
        metadata["xmp:ModifyDate"] = modified
