"""The house stays in order: no import circle inside core/, and no arrow pointing up the
layers (issue 13, docs/architecture.md):

    root (model, errors, variables, resources) <- io <- kinematics, kinetics <- gait
        <- analysis <- store, report <- batch  (app sits on top and is not part of core)

Every import counts, module-level or deferred inside a function: a deferred import that
points upwards is still a hidden dependency. ``core.synthetic`` is the independent forward
model of the samples and may use only the root layer (tests/test_samples.py checks it
further).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"

#: layer of each top-level part of core/ (an import may point to the same or a lower layer)
LAYERS = {"": 0, "io": 1, "kinematics": 2, "kinetics": 2, "gait": 3, "analysis": 4,
          "store": 5, "report": 5, "batch": 6, "synthetic": 1}
#: pairs on the same layer that must not import each other (first must not import second)
FORBIDDEN_SIDEWAYS = {("kinematics", "kinetics"), ("store", "report"), ("report", "store"),
                      ("synthetic", "io")}


def module_name(path: Path, base: Path = ROOT) -> str:
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_edges(base: Path = ROOT, package: str = "core") -> dict[str, set[str]]:
    """module -> modules of ``package`` it imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    files = sorted((base / package).rglob("*.py"))
    modules = {module_name(f, base) for f in files}
    packages = {module_name(f, base) for f in files if f.name == "__init__.py"}
    edges: dict[str, set[str]] = {}
    for f in files:
        me = module_name(f, base)
        here = me if f.name == "__init__.py" else me.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), filename=str(f))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.split(".")[0] == package)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    target = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != package:
                    continue
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                deps.update(subs if subs and len(subs) == len(node.names) else [target, *subs])
        edges[me] = {d for d in deps if d != me and d in modules}
    return edges


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


def part_of(module: str) -> str:
    """Top-level part of core a module belongs to ("" for the root modules)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, deps in sorted(edges.items()):
        a = part_of(src)
        for dst in sorted(deps):
            b = part_of(dst)
            if a == b:
                continue
            if a not in LAYERS or b not in LAYERS:
                bad.append(f"{src} -> {dst}: part not in the layer table of tests/test_import_layers.py")
            elif LAYERS[b] > LAYERS[a] or (a, b) in FORBIDDEN_SIDEWAYS or (a == "synthetic" and b != ""):
                bad.append(f"{src} -> {dst}")
    return bad


def test_no_import_circle_inside_core():
    cycles = find_cycles(import_edges())
    assert not cycles, "import circles inside core/: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_point_down_the_layers():
    assert not layer_violations(import_edges()), "\n".join(layer_violations(import_edges()))


def test_every_part_of_core_has_a_layer():
    parts = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert parts <= set(LAYERS), f"add {sorted(parts - set(LAYERS))} to LAYERS"


def test_root_holds_only_shared_modules():
    flat = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert flat == ["errors", "model", "resources", "variables"], flat


# ------------------------------------------------------------------ the checks can fail
def _write(tmp: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp / "core" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp


def test_checker_finds_a_circle_and_an_upward_import(tmp_path):
    base = _write(tmp_path, {
        "__init__.py": "", "model.py": "",
        "gait/__init__.py": "", "gait/a.py": "from core.gait import b\n",
        "gait/b.py": "def f():\n    from core.gait.a import x\n",
        "analysis/__init__.py": "", "analysis/types.py": "from core.model import X\n",
        "io/__init__.py": "", "io/r.py": "from ..analysis import types\n",
    })
    edges = import_edges(base)
    assert find_cycles(edges) == [["core.gait.a", "core.gait.b"]]
    assert layer_violations(edges) == ["core.io.r -> core.analysis.types"]


@pytest.mark.parametrize("src,dst,ok", [
    ("core.analysis.valgus", "core.gait.cycles", True),
    ("core.gait.pipeline", "core.analysis.tasks", False),
    ("core.store.store", "core.report.build", False),
    ("core.kinetics.plates", "core.kinematics.cgm1", True),
    ("core.kinematics.cgm1", "core.kinetics.plates", False),
    ("core.synthetic.writer", "core.io.c3d", False),
    ("core.synthetic.writer", "core.model", True),
])
def test_layer_rule_examples(src, dst, ok):
    assert (layer_violations({src: {dst}}) == []) is ok
