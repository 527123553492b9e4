"""Names made from text: slugs for file names and ids."""

from __future__ import annotations

import re
from collections.abc import Iterable


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Serge: Life"`` → ``"serge-life"``."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))
    return "-".join(words)


def file_names(stems: Iterable[tuple[str, str]], suffix: str, reserved: set[str]) -> dict[str, str]:
    """Key → file name for outputs made of one file per chapter: each ``(key, stem)`` as a plain ASCII
    name (``01-beginnings`` + ``suffix``), or ``chapter-N`` when that is empty, reserved for a generated
    file, or taken by an earlier chapter."""
    files: dict[str, str] = {}
    for index, (key, stem) in enumerate(stems, start=1):
        name = slugify(stem)
        if not name or name in reserved or name.startswith("chapter-") or f"{name}{suffix}" in files.values():
            name = f"chapter-{index}"
        files[key] = f"{name}{suffix}"
    return files
