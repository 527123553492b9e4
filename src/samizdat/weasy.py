"""WeasyPrint set up once for the book: its fonts, the page size, the styles folder and the sandbox.

The PDF and the EPUB's cover image both typeset through :class:`Weasy`, so both see
the same fonts, the same stylesheets and the same gate to the outside.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from .fonts import FONT_DIRECTORIES, font_face_css
from .styles import stylesheet

T = TypeVar("T")


FONTCONFIG_FILE = Path(__file__).with_name("fonts.conf")  # a fontconfig configuration with no font folder


@contextmanager
def packaged_fonts_only() -> Iterator[None]:
    """Fontconfig set up, while the block runs, from :data:`FONTCONFIG_FILE`: no font of the machine, so a character
    the book fonts lack is drawn as their ``.notdef`` (rule T102 warns) on every machine, never in whatever font
    this one has (DejaVu, Droid Sans Fallback, …), and a stylesheet's ``local()`` finds nothing. WeasyPrint
    reads the configuration when it is imported and when a ``FontConfiguration`` is made; the variable is put
    back after, so that a browser started later by the same process still finds the machine's fonts."""
    previous = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(FONTCONFIG_FILE)
    try:
        with warnings.catch_warnings():  # WeasyPrint's import warns of a configuration with no font: the point here
            warnings.filterwarnings("ignore", "No fonts configured in FontConfig", UserWarning)
            yield
    finally:
        if previous is None:
            del os.environ["FONTCONFIG_FILE"]
        else:
            os.environ["FONTCONFIG_FILE"] = previous


def import_weasyprint() -> None:
    """Import WeasyPrint, quickly, with no font of the machine (:func:`packaged_fonts_only`), its variable fonts
    instanced by HarfBuzz (see :mod:`samizdat.fontinstance`) and each leader's dots set as one run of text
    (see :mod:`samizdat.leaders`)."""
    with packaged_fonts_only():
        import_without_probing()
        import weasyprint.text.fonts  # noqa: F401 - checks fontconfig's configuration when imported
    from . import fontinstance, leaders  # both import parts of WeasyPrint: after the quick import above

    fontinstance.install()
    leaders.install()


def import_without_probing() -> None:
    """Import WeasyPrint without its slow library probing.

    WeasyPrint finds Pango, HarfBuzz and fontconfig by trying several names with cffi,
    and cffi answers every name it cannot open directly by asking ``ctypes.util.find_library``,
    which starts ``ldconfig`` and ``gcc`` (about 0.4 s of a build here). On Linux the
    sonames it also tries open directly, so the probe is skipped; if that fails on some
    system, WeasyPrint is imported again the ordinary way.
    """
    import ctypes.util
    import sys

    if "weasyprint.text.ffi" in sys.modules:
        return
    find_library = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        import weasyprint.text.ffi  # noqa: F401
    except (OSError, ImportError):
        for name in [module for module in sys.modules if module == "weasyprint" or module.startswith("weasyprint.")]:
            del sys.modules[name]
    finally:
        ctypes.util.find_library = find_library
    import weasyprint.text.ffi  # noqa: F401,F811


class Weasy:
    """One ``FontConfiguration``, colour profiles and ``SandboxedFetcher`` shared by stylesheets and renders."""

    def __init__(self, roots: tuple[Path, ...], styles: Path, page_size_css: str, extra_css: str = "",
                 files: dict[Path, bytes] | None = None) -> None:
        import_weasyprint()
        from weasyprint.text.fonts import FontConfiguration

        from .sandbox import SandboxedFetcher

        self.styles = styles
        self.fetcher = SandboxedFetcher((*roots, styles, *FONT_DIRECTORIES), files)
        with packaged_fonts_only():
            self.font_config = FontConfiguration()
        self.color_profiles: dict = {}
        self.base = [self.css(font_face_css() + f"\n@page {{ size: {page_size_css}; }}\n" + extra_css)]

    def css(self, text: str):
        from weasyprint import CSS

        return self.refusing(partial(CSS, string=text, font_config=self.font_config,
                                     color_profiles=self.color_profiles, url_fetcher=self.fetcher))

    def stylesheet(self, name: str):
        """``styles/name``, loaded through the sandbox."""
        from weasyprint import CSS

        path = stylesheet(self.styles, name)
        return self.refusing(partial(CSS, filename=str(path), font_config=self.font_config,
                                     color_profiles=self.color_profiles, url_fetcher=self.fetcher))

    def render(self, html: str, base_url: str, stylesheets: list):
        """Lay out ``html`` (a document :func:`samizdat.placement.place` can move); a refused resource becomes a
        finding naming the stylesheet and line."""
        from weasyprint import DEFAULT_OPTIONS, HTML

        from .placement import PlaceableDocument

        document = HTML(string=html, base_url=base_url, url_fetcher=self.fetcher)
        options = {**DEFAULT_OPTIONS, "stylesheets": stylesheets}
        return self.refusing(partial(PlaceableDocument._render, document, self.font_config, None, self.color_profiles, options))

    def refusing(self, step: Callable[[], T]) -> T:
        from .sandbox import RefusedResource

        try:
            return step()
        except RefusedResource as refused:
            raise refused.as_manuscript_error(self.styles) from None
