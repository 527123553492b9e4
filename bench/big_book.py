"""Make a 50-chapter manuscript from the real one's chapters, for benchmarks and scale tests."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import yaml


def make_big_book(source: Path, target: Path, chapters: int = 50) -> Path:
    """Copy ``source`` to ``target`` with ``chapters`` chapters cycled from the originals.

    Explicit heading ids, footnote labels and links get a per-copy suffix so the book stays valid.
    """
    meta = yaml.safe_load((source / "book.yaml").read_text(encoding="utf-8"))
    originals = meta["chapters"]
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source / "images", target / "images")
    names = []
    for index in range(chapters):
        original = originals[index % len(originals)]
        copy = index // len(originals) + 1
        text = (source / original).read_text(encoding="utf-8")
        text = re.sub(r"\{#([\w-]+)\}", rf"{{#\1-{copy}}}", text)
        text = re.sub(r"\.md#([\w-]+)\)", rf".md#\1-{copy})", text)
        text = re.sub(r"\(0(\d)-([\w-]+)\.md", lambda m: f"({int(m.group(1)) + (copy - 1) * len(originals):03d}-{m.group(2)}.md", text)
        text = re.sub(r"^# (.+?) \{", rf"# \1 ({copy}) {{", text, count=1, flags=re.M)
        name = f"{index + 1:03d}-{original.split('-', 1)[1]}"
        (target / name).write_text(text, encoding="utf-8")
        names.append(name)
    meta["chapters"] = names
    meta["title"] = f"{meta['title']} ({chapters} chapters)"
    meta["slug"] = "big-book"
    (target / "book.yaml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


if __name__ == "__main__":
    make_big_book(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 50)
