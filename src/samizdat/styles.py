"""The styles folder: where each output's stylesheet lives."""

from __future__ import annotations

from pathlib import Path

from .errors import ManuscriptError


def stylesheet(styles: Path, name: str) -> Path:
    """``styles/name``, or a clear error when a restyled folder lacks it."""
    path = styles / name
    if not path.is_file():
        raise ManuscriptError("S101", path, "stylesheet not found (copy it from the samizdat repository's styles/ folder)")
    return path
