"""The model and its seams: renderers see only the model, caches cannot go stale, dependencies are declared."""

from __future__ import annotations

import ast
import shutil
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from conftest import ROOT
from samizdat import cover, fingerprint, pipeline
from samizdat.book import load_book
from test_rules import GOOD_YAML, write_manuscript

PACKAGE = ROOT / "src" / "samizdat"
QUIET = {"report": lambda _: None, "warn": lambda _: None}


def imports(path: Path) -> set[str]:
    """Every module a file imports, absolute (``samizdat.x`` for ``from .x import``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(f"samizdat.{node.module}" if node.level else node.module)
    return found


def test_renderers_import_nothing_from_the_markdown_stage() -> None:
    for renderer in ("pdf.py", "epub.py", "render.py"):
        stage_modules = {"samizdat.markdown", "samizdat.rawhtml", "samizdat.lint", "samizdat.metadata", "markdown_it.main", "mdit_py_plugins"}
        assert not imports(PACKAGE / renderer) & stage_modules, renderer
        assert not any(name.startswith("mdit_py_plugins") for name in imports(PACKAGE / renderer))


def test_the_pipeline_takes_outputs_from_the_registry() -> None:
    """build, build_all and watch never name an output; only the PDF's derivatives (booklet, proof) name the PDF."""
    assert "samizdat.pdf" not in imports(PACKAGE / "pipeline.py") and "samizdat.epub" not in imports(PACKAGE / "pipeline.py")
    tree = ast.parse((PACKAGE / "pipeline.py").read_text(encoding="utf-8"))
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in {"build", "build_all", "watch"}):
        names = {node.value for node in ast.walk(function) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
        assert not names & {"pdf", "epub", "html"}, function.name


def test_every_module_imported_at_run_time_is_a_declared_dependency() -> None:
    """After a plain `pip install -e .` (no test extra), every task can import what it needs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {requirement.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower().replace("_", "-")
                for requirement in project["dependencies"]}
    distributions = packages_distributions()
    needed = set()
    for path in [*PACKAGE.glob("*.py"), ROOT / "build_tasks.py"]:
        for module in imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in {"samizdat", "__future__"} or (ROOT / "tests" / f"{top}.py").exists():
                continue
            needed |= {name.lower().replace("_", "-") for name in distributions.get(top, [top])}
    assert needed <= declared, needed - declared


def test_the_lock_pins_every_dependency_and_extra() -> None:
    """README: requirements.lock pins every package CI installs, and the bench extra's."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *(req for extra in project["optional-dependencies"].values() for req in extra)]
    pinned = {canonicalize_name(Requirement(line).name): Requirement(line).specifier
              for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines() if line.strip()}
    assert set(project["optional-dependencies"]) >= {"test", "bench"}
    for text in wanted:
        requirement = Requirement(text)
        specifier = pinned.get(canonicalize_name(requirement.name))
        assert specifier is not None and str(specifier).startswith("=="), text
        assert requirement.specifier.contains(str(specifier)[2:]), (text, str(specifier))


def test_code_fingerprint_follows_samizdat_source_bytes(tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "samizdat"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "PACKAGE", copy)
    fingerprint.code_fingerprint.cache_clear()
    before = fingerprint.code_fingerprint()
    (copy / "pdf.py").write_text((copy / "pdf.py").read_text() + "\n# an edit\n")
    fingerprint.code_fingerprint.cache_clear()
    assert fingerprint.code_fingerprint() != before
    fingerprint.code_fingerprint.cache_clear()


def test_cover_is_drawn_once_then_read_from_the_cache_until_its_text_changes(tmp_path: Path, monkeypatch) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {"01.md": "# One\n\nText.\n"})
    drawn: list[str] = []
    real = cover.render_cover_png
    monkeypatch.setattr(cover, "render_cover_png", lambda metadata, *rest: drawn.append(metadata.title) or real(metadata, *rest))
    for _ in range(2):
        pipeline.build("epub", manuscript, tmp_path / "dist", ROOT / "styles", **QUIET)
    assert drawn == ["A Book"]
    cached = next((tmp_path / "dist" / ".samizdat-cache").glob("cover-*.png"))
    cached.write_bytes(b"not the cover")  # A damaged cache file is never trusted.
    pipeline.build("epub", manuscript, tmp_path / "dist", ROOT / "styles", **QUIET)
    assert drawn == ["A Book", "A Book"]
    (manuscript / "book.yaml").write_text("title: Another Book\n")
    pipeline.build("epub", manuscript, tmp_path / "dist", ROOT / "styles", **QUIET)
    assert drawn == ["A Book", "A Book", "Another Book"]
    assert len(list((tmp_path / "dist" / ".samizdat-cache").glob("cover-*.png"))) == 1  # bounded: one image


def test_notes_links_and_images_are_decided_once_in_the_model(tmp_path: Path) -> None:
    manuscript = write_manuscript(tmp_path, GOOD_YAML, {
        "01.md": "# One\n\nA call[^a] and again[^a], see [two](02.md#later).\n\n[^a]: The note.\n",
        "02.md": "# Two\n\n## Later\n\n![A dot](img/dot.svg)\n",
        "img/dot.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>',
    })
    book = load_book(manuscript)
    [note] = book.notes
    assert note.number == 1 and note.calls == ("noteref-1", "noteref-1-2")
    link = next(child for token in book.chapters[0].tokens for child in token.children or [] if child.type == "link_open")
    assert (link.meta["target"].chapter, link.meta["target"].fragment) == ("two", "later")
    assert [asset.name for asset in book.assets] == ["img/dot.svg"] and book.every_image_described


def test_weasyprint_is_imported_without_starting_ldconfig_or_gcc() -> None:
    """Library probing through ctypes.util.find_library starts subprocesses: a build skips it."""
    import subprocess

    probe = ("import sys\nstarted = []\nsys.addaudithook(lambda event, args: started.append(args[0]) if event == 'subprocess.Popen' else None)\n"
             "from samizdat.weasy import import_weasyprint\nimport_weasyprint()\nimport weasyprint\nprint(started)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_invoke_test_names_the_debian_package_of_a_missing_command_or_library(monkeypatch) -> None:
    """`invoke test` says which system package is missing (README): a command, or a shared library WeasyPrint loads."""
    import environment

    assert environment.missing_system_tools() == []  # all there: the suite runs on this machine
    monkeypatch.setattr(environment, "loads", lambda soname: soname != "libpango-1.0.so.0")  # as on a system without Pango
    assert environment.missing_system_tools() == ["libpango-1.0-0"]
    monkeypatch.undo()
    monkeypatch.setitem(environment.SYSTEM_LIBRARIES, "libsamizdat-absent-1.0.so.0", "libsamizdat-absent0")  # through the real loader
    monkeypatch.setitem(environment.SYSTEM_TOOLS, "samizdat-absent-command", "samizdat-absent-tools")
    assert environment.missing_system_tools() == ["libsamizdat-absent0", "samizdat-absent-tools"]


def test_the_libraries_checked_are_those_weasyprint_loads_and_the_readme_installs() -> None:
    import importlib.util
    import re

    import environment

    source = Path(importlib.util.find_spec("weasyprint.text.ffi").origin).read_text(encoding="utf-8")
    assert [soname for soname in environment.SYSTEM_LIBRARIES if f"'{soname}'" not in source] == []
    [install] = re.findall(r"^sudo apt-get install (.+)$", (ROOT / "README.md").read_text(encoding="utf-8"), re.M)
    assert sorted(install.split()) == sorted({*environment.SYSTEM_LIBRARIES.values(), *environment.SYSTEM_TOOLS.values()})
