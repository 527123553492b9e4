"""Writing outputs so that a failed or interrupted build never damages the last good file."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.

    The rename is atomic on one file system, so readers (and a concurrent build)
    see either the old file or the new one, never a half-written one.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        temporary.chmod(0o644)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def check_dist(dist: Path, manuscript: Path) -> None:
    """Refuse an output folder that cannot be one, with an ``OSError`` the tasks print as one line.

    Inside the manuscript, outputs and caches would become part of the manuscript
    (and a manuscript could ship files where the caches are looked for).
    """
    if dist.exists() and not dist.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "--dist names a file, not a folder: choose a folder for the outputs", str(dist))
    if dist.resolve().is_relative_to(manuscript.resolve()):
        raise IsADirectoryError(errno.EINVAL, "--dist lies inside the manuscript folder: choose a folder outside it (such as dist/)", str(dist))
