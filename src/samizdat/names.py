"""Names made from text: slugs for file names and ids."""

from __future__ import annotations

import re


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: ``"Serge: Life"`` → ``"serge-life"``."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))
    return "-".join(words)
