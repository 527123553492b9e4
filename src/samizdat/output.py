"""Writing outputs so that a failed or interrupted build never damages the last good file."""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_FOLDER = ".samizdat-cache"  # Inside the output folder: the EPUB's cover image, the web edition's font subsets.
# A temporary name: ".<output name>.<process id>-<tempfile's 8 random characters>.part", and ".old" after a web folder's.
PART = re.compile(r"\..+\.(?P<pid>[0-9]+)-[a-z0-9_]{8}\.part(?:\.old)?")


def part_prefix(target: Path) -> str:
    """The start of a temporary name for ``target``: it carries the process id, so that a later build can tell
    what a killed build left (its process is gone) from what a build still running is writing."""
    return f".{target.name}.{os.getpid()}-"


def temporary_beside(target: Path) -> Path:
    """A new, empty temporary file in ``target``'s folder (on the same file system, so it can be renamed over it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=part_prefix(target), suffix=".part")
    os.close(handle)
    return Path(name)


@contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.

    The rename is atomic on one file system, so readers (and a concurrent build)
    see either the old file or the new one, never a half-written one.
    """
    temporary = temporary_beside(target)
    try:
        with naming(target, temporary):
            yield temporary
            temporary.chmod(0o644)
            os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def naming(target: Path, temporary: Path) -> Iterator[None]:
    """A system error while ``target`` is written (through ``temporary``, a file or a folder) names ``target``:
    a write to a full disk names no file, a copy names its source first, and a temporary name means nothing
    to the reader. An error that is not the system's (no errno: a bad image, say) keeps its own words."""
    try:
        yield
    except OSError as error:
        if error.errno is not None and (error.filename is None or any(_within(name, temporary) for name in (error.filename, error.filename2))):
            error.filename, error.filename2 = str(target), None
        raise


def _within(name: object, folder: Path) -> bool:
    """Whether ``name`` (an error's file name: text, bytes, a path, or a file descriptor's number) lies in ``folder``."""
    return isinstance(name, (str, bytes, os.PathLike)) and Path(os.fsdecode(name)).is_relative_to(folder)


def check_dist(dist: Path, manuscript: Path, styles: Path) -> None:
    """Refuse an output folder that cannot be one, with an ``OSError`` the tasks print as one line.

    Inside the manuscript or the styles folder, outputs and caches would become part of what is built
    from (a manuscript could ship files where the caches are looked for, and every build would change
    the inputs of the next, which then would never be up to date).
    """
    if dist.exists() and not dist.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "--dist names a file, not a folder: choose a folder for the outputs", str(dist))
    for folder, name in ((manuscript, "manuscript"), (styles, "styles")):
        if dist.resolve().is_relative_to(folder.resolve()):
            raise IsADirectoryError(errno.EINVAL, f"--dist lies inside the {name} folder: choose a folder outside it (such as dist/)", str(dist))


def remove_stale_parts(dist: Path) -> None:
    """Remove the temporary files and folders that killed builds (SIGKILL, a crash, a power cut) left in ``dist``.

    Only names samizdat gives (:data:`PART`) whose process is gone: never another
    file, and never what a build still running (this one, its workers, another
    ``invoke``) is writing.
    """
    for folder in (dist, dist / CACHE_FOLDER):
        for entry in folder.iterdir() if folder.is_dir() else ():
            match = PART.fullmatch(entry.name)
            if match is None or not _gone(int(match["pid"])):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _gone(pid: int) -> bool:
    """Whether no process has the number ``pid`` (signal 0 sends nothing: it only asks)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        return False  # Another user's process (EPERM), or a number no process can have: keep its file.
    return False
