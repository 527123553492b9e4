"""Random and hostile manuscripts, each made from one seed so that a failure can be replayed.

A case is a dict of files (manuscript-relative name → bytes). Three kinds, by seed:
pure Markdown, Markdown with raw HTML, and hostile (odd ``book.yaml`` values, odd
file names, broken and malicious images, inputs that ask for too much).
"""

from __future__ import annotations

import io
import posixpath
import random
import struct
import zlib
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import quote

KINDS = ("markdown", "html", "hostile")

WORDS = ["press", "word", "Freiheit", "свобода", "ελευθερία", "حرية", "חופש", "自由", "𝔉𝔯𝔢𝔦", "🙂", "naïve", "œuvre",
         "x", "A", "1984", "co-op", "it's", "“quoted”", "&amp;", "&#x1F600;", "&nbsp;", "&#0;", "&bogus;", "\\*", "`",
         "\u202eevil", "\u200d", "\u00ad", "a\u0301", "\ufeff", "l’été", "ﬁne", "<", ">", "&", "_", "*", "~~"]
HOSTILE_TEXT = ["\x00", "\x07", "\x1b[31m", "\x7f", "\ud800", "\uffff", "\u2028", "\r"]
RAW_INLINE_GOOD = ["<b>bold</b>", "<i>x</i>", "<span lang=\"ru\">да</span>", "<span dir=\"rtl\">עברית</span>", "<br>", "<br/>",
              "<wbr>", "<sup>2</sup>", "<a href=\"https://example.org\">ext</a>", "<a href=\"https://example.org/\">top</a>",
              "<img src=\"images/dot.png\" alt=\"dot\">", "<img src=\"images/pic.svg\">", "<abbr title=\"t\">T</abbr>",
              "<!-- a -- b -->", "<q>quote</q>", "<time datetime=\"2020\">then</time>", "<ruby>漢<rt>kan</rt></ruby>",
              "<span class=\"a b\">c</span>", "<span title=\"&quot;&lt;\">e</span>", "<span lang=\"he\" dir=\"rtl\">שלום</span>",
                   "<span id=\"note-1\">id</span>", "<span id=\"x:y\">c</span>", "<span id=\"cover\">c</span>", "<span id=\"toc\">t</span>"]
RAW_INLINE_BAD = ["<b foo:bar=\"1\">ns</b>", "<span lang=\"e\nn\">x</span>", "<script>alert(1)</script>",
                  "<span onclick=\"x()\">c</span>", "<img src=\" http://example.org/x.png\">", "<a href=\"javascript:alert(1)\">j</a>",
                  "<b>unclosed", "</i>", "<img src=\"images/cover.png\" alt=\"c\">", "<a href=\"b.md#x\">b</a>", "<![CDATA[x]]>",
                  "<?php x ?>"]
RAW_BLOCK_GOOD = ["<div>\n\nText in a div.\n\n</div>", "<aside>side</aside>", "<table><tr><td>1</td><td>2</td></tr></table>",
             "<figure><img src=\"images/dot.png\" alt=\"d\"><figcaption>cap</figcaption></figure>", "<hr>",
             "<dl><dt>t</dt><dd>d</dd></dl>", "<pre>pre  text</pre>",
             "<ol start=\"-5\" reversed><li>x</li></ol>", "<p lang=\"ar\" dir=\"rtl\">مرحبا</p>", "<div>" * 40 + "deep" + "</div>" * 40,
             "<blockquote><p>q</p></blockquote>", "<!-- a -- b -->", "<p>a <b>b</b></p>",
                  "<section id=\"titlepage\"><p>s</p></section>", "<h2 id=\"h\">raw heading</h2>"]
RAW_BLOCK_BAD = ["<div>\n<https://example.org>\n</div>", "<iframe src=\"http://example.org\"></iframe>", "<svg><use href=\"http://x/#a\"/></svg>",
                 "<table background=\"http://x/y.png\"><tr><td>a</td></tr></table>", "<input src=\"http://x/y.png\">", "<!DOCTYPE html>",
                 "<p>unclosed", "<img src=\"images/dot.png\" srcset=\"a.png 1x, http://x/b.png 2x\">",
                 "<div>" * 300 + "deep" + "</div>" * 300]
SVG_CLEAN = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20" viewBox="0 0 40 20"><rect width="40" height="20" fill="#345"/><text x="2" y="14" font-size="10">Hi</text></svg>'
SVG_HOSTILE = [
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><rect width="10" height="10"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image xlink:href="http://127.0.0.1:9/x.png" width="10" height="10"/></svg>',
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text y="9">&x;</text></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><style>@import url(http://127.0.0.1:9/a.css); rect{fill:url(file:///etc/passwd)}</style><rect width="10" height="10"/></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><a href="javascript:alert(1)"><rect width="10" height="10"/></a></svg>',
    b'<svg xmlns="http://www.w3.org/2000/svg"><rect',  # not well-formed
    b'<html><body>not svg</body></html>',
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" style="fill:url(http://x/#g)"/></svg>',
]
AUTHORS = ["Ann", "[Ann, Bob]", "[Ann, Ann]", '[""]', '""', "[[nested]]", "{a: b}"]
DATES = ["\"2024\u2028\"", "2024", "2024-02-29", "2024-13-45", "2024-02-30", "!!int x", "!!timestamp nope", "0", "''", "-1", "2024-1-1", "\"9999-12-31\""]
LANGS = ["en", "ru", "ar", "he", "de-CH", "zz", "x-klingon", "", "en_US", "123", "'ar'", "fa", "zh-Hant"]


@dataclass
class Case:
    seed: int
    kind: str
    files: dict[str, bytes] = field(default_factory=dict)

    def describe(self) -> str:
        return f"seed {self.seed} ({self.kind}): {', '.join(sorted(self.files))}"


def make_case(seed: int) -> Case:
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    return _Builder(rng, kind, seed).case()


@cache
def png(width: int = 4, height: int = 3) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@cache
def png_bomb(side: int = 12000) -> bytes:
    """A 1-bit PNG of ``side``² pixels that is a few kilobytes on disk (a decompression bomb)."""
    row = b"\0" + b"\0" * (side // 8)
    data = zlib.compress(row * side, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


ID_POOL = ["part:one", "note-1", "noteref-1", "cover", "toc", "nav", "titlepage", "landmarks", "toc-title", "x.y", "a_b",
           "chapter-1", "images", "h1", "h2"]


@dataclass
class _Builder:
    """Valid Markdown with odd content; a hostile case also gets, now and then, something wrong (``self.bad()``)."""

    rng: random.Random
    kind: str
    seed: int
    chapters: list[str] = field(default_factory=list)
    ids: dict[str, list[str]] = field(default_factory=dict)  # chapter → explicit heading ids it defines
    images: list[str] = field(default_factory=list)
    bad_images: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)
    raw_ids: set[str] = field(default_factory=set)
    current: str = ""  # The chapter being written: links and images are relative to its folder.
    level: int = 1  # The level of the chapter's last heading: the next may go one deeper (C107), or any way up.

    def relative(self, name: str) -> str:
        """``name`` (manuscript-relative) as a URL from the current chapter, escaped; sometimes in ``<…>`` instead."""
        path = posixpath.relpath(name, posixpath.dirname(self.current) or ".")
        if self.rng.random() < 0.2 and not any(c in path for c in "<>#%"):
            return f"<{path}>"
        return quote(path, safe="/&'()*+,;=!$") if self.rng.random() < 0.7 or any(c in path for c in " #%<>") else path

    def raw(self, snippets: list[str]) -> str:
        """A raw HTML snippet; one whose id this book already used is replaced (a repeated id is a clear error, tested elsewhere)."""
        snippet = self.rng.choice(snippets)
        if 'id="' in snippet:
            element_id = snippet.split('id="')[1].split('"')[0]
            if element_id in self.raw_ids or any(element_id in ids for ids in self.ids.values()):
                return "<b>bold</b>"
            self.raw_ids.add(element_id)
        if "<h2" in snippet:
            self.level = 2
        return snippet.replace('"images/', '"' + "../" * self.current.count("/") + "images/")

    budget: int = 0  # How many wrong things a hostile case may still get.

    def bad(self, chance: float = 0.03) -> bool:
        if self.kind == "hostile" and self.budget and self.rng.random() < chance:
            self.budget -= 1
            return True
        return False

    def case(self) -> Case:
        rng = self.rng
        files: dict[str, bytes] = {}
        self.budget = rng.choice([0, 0, 1, 1, 2])
        self._images(files)
        self.chapters = self._chapter_names(rng.randint(1, 4))
        pool = rng.sample(ID_POOL, rng.randint(0, 6))
        for index, name in enumerate(self.chapters):
            self.ids[name] = pool[index::len(self.chapters)]
        for name in self.chapters:
            self.current = name
            files[name] = self._chapter(name).encode("utf-8", "surrogatepass")
        files["book.yaml"] = self._book_yaml().encode("utf-8", "surrogatepass")
        return Case(self.seed, self.kind, files)

    # Files

    def _chapter_names(self, count: int) -> list[str]:
        plain = [f"{n:02d}-{self.rng.choice(['one', 'two', 'opening', 'end'])}.md" for n in range(1, count + 1)]
        if self.kind != "hostile":
            return list(dict.fromkeys(plain))
        odd = ["cover.md", "nav.md", "titlepage.md", "toc.md", "a b.md", "ünïcode.md", "a-b.md", "a/b.md", "chapter-1.md",
               "x#y.md", "images.md", "styles.md", "01-one.md", "sub/deep/ch.md", "UPPER.md", "x%20y.md", "&amp.md", "content.md"]
        return list(dict.fromkeys(self.rng.sample(odd, count) + plain[:1]))

    def _images(self, files: dict[str, bytes]) -> None:
        rng = self.rng
        files["images/dot.png"] = png()
        files["images/pic.svg"] = SVG_CLEAN
        self.images = ["images/dot.png", "images/pic.svg"]
        if self.kind != "hostile":
            return
        odd = {"images/cover.png": png(8, 8), "images/x y#1.png": png(), "images/ünï.png": png(), "images/nav.png": png(),
               "images/a&b.png": png()}
        broken = {
            "images/bad.png": b"\x89PNG\r\n\x1a\nnot really",
            "images/truncated.png": png(40, 40)[:60],
            "images/png.svg": png(),
            "images/svg.png": SVG_CLEAN,
            "images/bomb.png": png_bomb(),
            "images/evil.svg": rng.choice(SVG_HOSTILE),
            "images/empty.gif": b"",
        }
        for name in rng.sample(sorted(odd), rng.randint(1, 3)):
            files[name] = odd[name]
            self.images.append(name)
        for name in rng.sample(sorted(broken), rng.randint(0, 2)):
            files[name] = broken[name]
            self.bad_images.append(name)

    # book.yaml

    def _book_yaml(self) -> str:
        rng = self.rng
        lines = [f"title: {self._yaml_text(self._title())}"]
        if rng.random() < 0.6:
            lines.append("author: " + (rng.choice(AUTHORS) if self.bad(0.3) else rng.choice(["Ann", "[Ann, Bob]", "Анна Ахматова"])))
        lines.append(f"language: {rng.choice(LANGS) if self.bad(0.2) else rng.choice(['en', 'ru', 'ar', 'de', 'he', 'fr'])}")
        if rng.random() < 0.4:
            lines.append(f"date: {rng.choice(DATES) if self.bad(0.5) else '2024-05-01'}")
        if self.kind == "hostile":
            for key, values in {
                "subjects": ["[\"\"]", "[a, \"\"]", "x", "[]", "[' ']"],
                "description": ["\"\"", "' '", "\"line\\nbreak\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"a\\u2028b\""],
                "publisher": ["\"\"", "P & Q <x>", "~"],
                "rights": ["\"\"", "'©'"],
                "subtitle": ["\"\"", "' '", "\"a\\u0007b\""],
                "identifier": ["\"\"", "isbn 123", "urn:isbn:9780306406157", "' '"],
                "slug": ["../x", "\"\"", "a/b", "CON", ".hidden", "x" * 90, "ok-slug"],
                "page_size": ["A5", "A4", "\"\"", "half-letter"],
                "lint": ["{ignore: [T101]}", "[x]", "{ignore: [Q999]}"],
                "extra": ["&a [1, *a]", "!!python/object:os.system x", "!!binary aGk="],
            }.items():
                if rng.random() < 0.1:
                    lines.append(f"{key}: {rng.choice(values)}")
        if rng.random() < 0.5 or "/" in "".join(self.chapters):
            listed = list(self.chapters)
            if self.bad(0.2):
                listed.append(rng.choice(["../outside.md", "/etc/passwd", "missing.md", listed[0]]))
            lines.append("chapters:")
            lines += [f"  - {self._yaml_text(name)}" for name in listed]
        return "\n".join(lines) + "\n"

    def _title(self) -> str:
        rng = self.rng
        choices = ["A Book", "Serge: A Life", "Свобода", "حرية التعبير", " ".join(rng.choice(WORDS[:12]) for _ in range(60)),
                   "🙂", "<b>Bold</b> & co", "x" * 300, "Ti\ttle", "\\ud83d\\ude00", "---"]
        if self.bad(0.3):
            choices = ["", "\"\"", "Title\u0007", "[list]", "{a: 1}"]
        return rng.choice(choices)

    @staticmethod
    def _yaml_text(text: str) -> str:
        if text in {"", "\"\"", "[list]", "{a: 1}"} or "\\u" in text:
            return text if text else "\"\""
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\x07", "\\a")
        return f'"{escaped}"'

    # Markdown

    def _chapter(self, name: str) -> str:
        rng = self.rng
        blocks = [f"# {self._inline(3)}"]
        self.level = 1
        if rng.random() < 0.1:
            blocks[0] = rng.choice(["# ![only an image](images/dot.png)", "# `code`", "# <b>raw</b>", "# &#x1F600;", "# \\#", "# [^1]"])
            self.labels.add("1")
        if self.bad(0.05):
            blocks[0] = rng.choice(["#", "Text first.\n\n# Later", "# {#part:one}"])
        for heading_id in self.ids[name]:
            blocks.append(f"{'#' * self._heading_level(4)} {self._inline(2)} {{#{heading_id}}}")
        for _ in range(rng.randint(1, 8)):
            blocks.append(self._block(depth=0))
        defined = set(self.labels)
        for label in sorted(defined):
            blocks.append(f"[^{label}]: {self._note_body()}")
        if rng.random() < 0.15:
            blocks.append(f"[^orphan{rng.randint(0, 9)}]: {self._note_body()}")
        for label in sorted(self.labels - defined):  # Called from a note body.
            blocks.append(f"[^{label}]: A note called from a note.")
        self.labels.clear()
        text = "\n\n".join(blocks) + "\n"
        if self.bad(0.1):
            position = rng.randrange(len(text))
            text = text[:position] + rng.choice(HOSTILE_TEXT) + text[position:]
        return text

    def _heading_level(self, deepest: int) -> int:
        """A section's level: at most one below the last heading's, but in a hostile case now and then any (C107)."""
        self.level = self.rng.randint(2, deepest if self.bad(0.2) else max(2, min(deepest, self.level + 1)))
        return self.level

    def _block(self, depth: int) -> str:
        rng = self.rng
        kinds = ["para"] * 5 + ["heading", "list", "quote", "table", "code", "hr"]
        if self.kind != "markdown":
            kinds += ["raw"] * 2
        if self.bad(0.1):
            kinds = ["limits"]
        kind = rng.choice(kinds) if depth < 6 else "para"
        if kind == "para":
            return self._inline(rng.randint(1, 30))
        if kind == "heading":
            return f"{'#' * self._heading_level(6)} {self._inline(3)}"
        if kind == "list":
            marker = rng.choice(["-", "*", "1."])
            items = [self._block(depth + 1).replace("\n", "\n   ") for _ in range(rng.randint(1, 3))]
            return "\n".join(f"{marker} {item}" for item in items)
        if kind == "quote":
            return "> " + self._block(depth + 1).replace("\n", "\n> ")
        if kind == "table":
            columns = rng.randint(1, 4)
            rows = [" | ".join(self._inline(2).replace("|", "\\|") or "x" for _ in range(columns)) for _ in range(rng.randint(1, 3))]
            return "\n".join([rows[0], " | ".join(["---"] * columns), *rows[1:]])
        if kind == "code":
            fence = rng.choice(["```", "~~~"])
            return f"{fence}{rng.choice(['', 'python', '{.x}'])}\n{self._inline(5)}\n  <b>&amp;</b>\n{fence}"
        if kind == "hr":
            return rng.choice(["---", "***", "___"])
        if kind == "raw":
            return self.raw(RAW_BLOCK_BAD if self.bad(0.3) else RAW_BLOCK_GOOD)
        return self._limits()

    def _limits(self) -> str:
        """Inputs that ask for too much: nesting, giant words, note calls, long lines."""
        rng = self.rng
        choice = rng.randrange(6)
        if choice == 0:
            return ">" * rng.choice([30, 120, 300]) + " deep"
        if choice == 1:
            return "\n".join("  " * level + "- item" for level in range(rng.choice([20, 60, 200])))
        if choice == 2:
            return "Word: " + "hyphenation" * rng.choice([50, 400]) + "."
        if choice == 3:
            self.labels.add("many")
            return "Calls" + "[^many]" * rng.choice([20, 2000]) + "."
        if choice == 4:
            return "*" * 200 + "x" + "*" * 200
        return "[" * 300 + "x" + "]" * 300

    def _inline(self, words: int) -> str:
        rng = self.rng
        parts = []
        for _ in range(words):
            roll = rng.random()
            if roll < 0.55:
                parts.append(rng.choice(WORDS))
            elif roll < 0.62:
                parts.append(f"*{rng.choice(WORDS)}*" if rng.random() < 0.5 else f"**{rng.choice(WORDS)}**")
            elif roll < 0.67:
                parts.append(f"`{rng.choice(WORDS)}`")
            elif roll < 0.74:
                parts.append(f"[{rng.choice(WORDS)}]({self._href()})")
            elif roll < 0.78:
                caption = rng.choice(["", ' "A caption"'])
                parts.append(f"![{rng.choice(['', 'a picture', '*alt*'])}]({self._image_ref()}{caption})")
            elif roll < 0.85:
                label = rng.choice(["1", "2", "a", "note-1", "ü", "Ω"])
                self.labels.add(label)
                parts.append(f"[^{label}]")
            elif roll < 0.9 and self.kind != "markdown":
                parts.append(self.raw(RAW_INLINE_BAD if self.bad(0.3) else RAW_INLINE_GOOD))
            elif roll < 0.93:
                parts.append(rng.choice(["<https://example.org/a?b=c&d>", "<mailto:a@b.c>", "https://bare.example"]))
            elif roll < 0.96:
                parts.append(rng.choice(["x" * 120, "ﷺ" * 30, "\u0301" * 50, "👩‍👩‍👧‍👦" * 10, "\\" * 9, "&#xD800;", "&#1114112;"]))
            else:
                parts.append(rng.choice(WORDS))
        return " ".join(parts)

    def _href(self) -> str:
        rng = self.rng
        if self.bad(0.1):
            return rng.choice(["missing.md", "javascript:alert(1)", "file:///etc/passwd", "#", "../up.md", "http://", "#nowhere"])
        targets = [self.relative(rng.choice(self.chapters)), "https://example.org/x?y#z", "mailto:a@example.org", "tel:+123"]
        targets += [(self.relative(name) if name != self.current or rng.random() < 0.5 else "") + f"#{heading_id}"
                    for name, ids in self.ids.items() for heading_id in ids]
        href = rng.choice(targets)
        return href.replace(">#", "#").rstrip(">") + ">" if href.startswith("<") else href

    def _image_ref(self) -> str:
        rng = self.rng
        if self.bad(0.1):
            return rng.choice(["images/missing.png", "http://example.org/x.png", "/etc/passwd", "../outside.png", "images/dot.PNG", ""])
        if self.bad_images and rng.random() < 0.3:
            name = rng.choice(self.bad_images)
        else:
            name = rng.choice(self.images)
        return self.relative(name)

    def _note_body(self) -> str:
        rng = self.rng
        body = rng.choice([
            self._inline(rng.randint(1, 8)),
            "",
            f"See [the other chapter]({self._href()}).",
            f"![img]({self._image_ref()})",
            "- a list\n- in a note",
            "\n    indented code in a note",
            "> quoted in a note",
            "# heading in a note",
            "A second call[^1] inside a note.",
            "| a | b |\n| - | - |\n| 1 | 2 |",
            "<div>raw</div>" if self.kind != "markdown" else "plain",
            "```\ncode\n```",
        ])
        if "[^1]" in body:
            self.labels.add("1")
        return body.replace("\n", "\n    ")  # Continuation lines belong to the note.
