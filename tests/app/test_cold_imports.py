"""Cold start (issue 12): a command pays only the imports it needs. Structural checks of
``sys.modules`` in a fresh interpreter, not timings (benchmarks/bench_batch.py times them)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SAMPLES

HEAVY = ("vtk", "vtkmodules", "PySide6", "matplotlib", "h5py", "distributed", "dask")


def loaded_after(code: str) -> set[str]:
    """Top-level packages (of HEAVY and scipy submodules) loaded after running ``code``."""
    probe = (f"{code}\nimport sys, json\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             f"{HEAVY!r} and '.' not in m or m in ('scipy.stats', 'scipy.optimize', 'scipy.signal'))))")
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("command", ["analyze", "process", "batch", "report", "import"])
def test_help_of_a_command_imports_no_ui_plotting_or_cluster_library(command):
    code = (f"from app.cli import main\ntry:\n    main([{command!r}, '--help'])\n"
            "except SystemExit:\n    pass")
    assert loaded_after(code) == set()


def test_analyze_of_a_session_imports_no_ui_plotting_or_store_library(tmp_path):
    pre = SAMPLES / "GL-0001" / "pre"
    if not pre.is_dir():
        pytest.skip("sample sessions not generated")
    code = f"from app.cli import main\nassert main(['analyze', {str(pre)!r}, '--json', {str(tmp_path / 'a.json')!r}]) == 0"
    loaded = loaded_after(code)
    assert not loaded & {"vtk", "vtkmodules", "PySide6", "matplotlib", "h5py", "dask", "distributed"}, loaded


def test_statistics_and_crosstalk_modules_defer_scipy_stats_and_optimize():
    assert loaded_after("import core.analysis.stats, core.kinematics.crosstalk, core.store.store") == {"h5py"}
