"""A URL fetcher for WeasyPrint that reads only from allowed folders and never the network."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .errors import ManuscriptError


class RefusedResource(FatalURLFetchingError):
    """A document asked for something outside the allowed folders; it stops the build."""

    def __init__(self, url: str, reason: str = "only files inside the manuscript and styles folders may be used") -> None:
        self.url = url
        super().__init__(f"refused to load '{url}': {reason}")

    def as_manuscript_error(self, styles: Path) -> ManuscriptError:
        """Name the stylesheet and line that asked for the URL; WeasyPrint does not say, so look."""
        for stylesheet in sorted(styles.glob("*.css")):
            for number, line in enumerate(stylesheet.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
                if self.url in line or (self.url.startswith("file:") and Path(self.url).name in line):
                    return ManuscriptError("S101", stylesheet, str(self), number)
        return ManuscriptError("S101", styles, str(self))


class SandboxedFetcher(URLFetcher):
    """Serves ``files`` (checked bytes, by resolved path), ``file:`` URLs inside ``roots`` (symlinks resolved)
    and ``data:`` URLs; refuses the rest.

    A manuscript's images are passed as ``files``, with the bytes :mod:`samizdat.images`
    checked: the file is never read again, so what was checked is what is printed.
    """

    def __init__(self, roots: tuple[Path, ...], files: dict[Path, bytes] | None = None) -> None:
        super().__init__(allowed_protocols={"data"}, fail_on_errors=True)
        self.roots = tuple(root.resolve() for root in roots)
        self.files = dict(files or {})

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)  # The content is in the URL: nothing is fetched.
        if parts.scheme != "file" or parts.netloc not in {"", "localhost"}:
            raise RefusedResource(url)
        path = Path(unquote(parts.path)).resolve()
        if path in self.files:
            return URLFetcherResponse(url, self.files[path])
        if not any(path.is_relative_to(root) for root in self.roots):
            raise RefusedResource(url)
        if not path.is_file():
            raise RefusedResource(url, "no such file")
        return URLFetcherResponse(url, path.read_bytes())
