"""samizdat: a folder of Markdown becomes a print-ready pamphlet and an EPUB.

The pipeline flows one way: ``manuscript/`` → :class:`samizdat.book.Book`
→ one renderer per output (``pdf``, ``epub``) → ``dist/``.
"""

__version__ = "0.1.0"
