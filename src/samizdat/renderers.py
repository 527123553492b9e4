"""The registry of outputs: one line per output, naming the module that renders it.

A renderer module has ``render(book, styles, dist, report, state) -> list[Path]``:
it writes its files into ``dist`` (atomically) and returns their paths. ``state`` is
a dict the caller keeps between builds (watch mode), for whatever the renderer
wants to reuse. Modules are imported only when used, so that an up-to-date check
never imports WeasyPrint. Adding an output is one module, one stylesheet and one
line here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Protocol

Report = Callable[[str], None]

REGISTRY: dict[str, str] = {
    "pdf": "samizdat.pdf",
    "epub": "samizdat.epub",
    "html": "samizdat.web",
}


class RenderFunction(Protocol):
    def __call__(self, book, styles: Path, dist: Path, report: Report, state: dict) -> list[Path]: ...


def renderer(name: str) -> RenderFunction:
    """The ``render`` function of the output called ``name``."""
    return import_module(REGISTRY[name]).render
