"""Fingerprints that cache keys and the up-to-date stamp are made of.

A cached output is valid only for the same inputs *and* the same code: samizdat's
own source files (whatever ``__version__`` says) and the exact versions of every
installed distribution (WeasyPrint, fonts, ebooklib, …).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


@cache
def code_fingerprint() -> str:
    """Hash of samizdat's source and data files and of every installed distribution's name and version."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and path.suffix in {".py", ".yaml", ".json", ".css"}:
            digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes())
    versions = sorted({"{}=={}".format(*_name_and_version(dist)) for dist in metadata.distributions()})
    digest.update("\n".join(versions).encode())
    return digest.hexdigest()


def _name_and_version(distribution: metadata.Distribution) -> tuple[str | None, str | None]:
    """The ``Name`` and ``Version`` fields of a distribution's metadata, as ``dist.metadata[...]`` gives them.

    Read from the header lines alone: ``dist.metadata`` parses the whole file (the long
    description too) with the email package, which for every installed distribution
    cost an EPUB build about a twentieth of its time.
    """
    text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO") or ""
    fields: dict[str, str] = {}
    for line in text.partition("\n\n")[0].splitlines():
        name, colon, value = line.partition(":")
        if colon and not name[:1].isspace():
            fields.setdefault(name.strip().lower(), value.lstrip(" \t"))
    return fields.get("name"), fields.get("version")


def folder_digest(folder: Path) -> str:
    """Hash of every file's path and bytes in ``folder``, to notice any edit, addition or removal."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()

