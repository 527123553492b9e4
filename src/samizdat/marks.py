"""Class names samizdat gives to elements it adds to a book's HTML for the layout alone.

The PDF renderer (:mod:`samizdat.pdf`) keeps a word split across a page turn whole in a span of
:data:`WHOLE_WORD_CLASS` (``styles/print.css`` sets it), and the tagger (:mod:`samizdat.pdfua`)
leaves such a span out of the structure tree. A manuscript may not use the prefix (rule H102/H104),
so that no class of its own is taken for one of these.
"""

from __future__ import annotations

RESERVED_CLASS_PREFIX = "samizdat-"
WHOLE_WORD_CLASS = "samizdat-whole"


def is_reserved_class(names: str) -> bool:
    """Whether a ``class`` attribute's value names a class samizdat keeps for itself."""
    return any(name.startswith(RESERVED_CLASS_PREFIX) for name in names.split())
