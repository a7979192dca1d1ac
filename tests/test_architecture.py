"""The engine stays headless: nothing under core/ imports Qt, VTK or app."""
from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "vtk", "vtkmodules", "app")
CORE = Path(__file__).resolve().parents[1] / "core"


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_never_imports_qt_vtk_or_app():
    files = sorted(CORE.rglob("*.py"))
    assert files, "core/ has no Python files"
    offenders = {str(f.relative_to(CORE.parent)): sorted(_imported_roots(f) & set(FORBIDDEN)) for f in files}
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"core/ must stay headless; forbidden imports: {offenders}"


def test_checker_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy\nfrom PySide6.QtCore import QObject\nimport vtkmodules.all\n")
    assert _imported_roots(bad) & set(FORBIDDEN) == {"PySide6", "vtkmodules"}
