"""Reader benchmark: MIPS (SGI) big-endian files beside their Intel and DEC twins.

Run from the project root::

    .venv/bin/python benchmarks/bench_reader.py            # writes benchmarks/results_reader.md
    .venv/bin/python benchmarks/bench_reader.py --no-write --repeat 5

Measures ``read_c3d`` (the numpy reader of ``core/io/c3d_fast.py``: one ``numpy.fromfile``
in the file's byte order, a vectorised DEC F-float conversion) and, where it can open the
file, ezc3d's own parse (``ezc3d.c3d``, as the reader used it before), on:

* the c3d.org twins (../shared/reference, when present): sample_01 Eb015si/sr (MIPS), pi/pr
  (Intel), vi/vr (DEC); sample_02 sgi_int/real, pc_int/real, dec_int/real;
* a long synthetic trial (60 markers x 20,000 frames, float) written with
  ``core.io.c3d.write_trial_c3d`` and its MIPS copy made by byte swapping
  (``tests/data/make_bad_inputs.mips_copy``), so that the per-frame cost shows.

Every read is a cold read for the reader (nothing is cached between reads: the header,
parameter section and data are parsed again each time); the operating system's file cache
is warm. Timings are the best and the median of ``--repeat`` runs (``time.perf_counter``).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.c3d import read_c3d, write_trial_c3d  # noqa: E402
from core.io.c3d_params import PROCESSORS, read_section  # noqa: E402
from core.model import Trial  # noqa: E402
from tests.data.make_bad_inputs import mips_copy  # noqa: E402

SHARED = Path(os.environ.get("GENULAB_SHARED", ROOT.parent / "shared"))
REF = SHARED / "reference" / "c3d.org"
TWINS = [("sample_01", ("Eb015si", "Eb015pi", "Eb015vi")), ("sample_01", ("Eb015sr", "Eb015pr", "Eb015vr")),
         ("sample_02", ("sgi_int", "pc_int", "dec_int")), ("sample_02", ("sgi_real", "pc_real", "dec_real"))]


def _times(fn, repeat: int) -> tuple[float, float]:
    """Best and median wall time of ``fn()`` in ms."""
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return min(out), statistics.median(out)


def _ezc3d(path: Path):
    import ezc3d
    return ezc3d.c3d(str(path), extract_forceplat_data=False)


def _row(path: Path, repeat: int) -> str:
    section = read_section(path)
    trial = read_c3d(path)
    best, med = _times(lambda: read_c3d(path), repeat)
    try:
        _ezc3d(path)
        ez_best, _ = _times(lambda: _ezc3d(path), max(3, repeat // 4))
        ez = f"{ez_best:.2f}"
    except Exception:  # noqa: BLE001 - ezc3d refuses MIPS files
        ez = "refused"
    storage = "float" if float(section.groups["POINT"]["SCALE"]["value"][0]) < 0 else "int"
    per_k = best / max(trial.n_frames, 1) * 1e3
    return (f"| {path.name} | {PROCESSORS[section.processor]} {storage} | {trial.n_frames} x "
            f"{len(trial.labels)} | {path.stat().st_size / 1e6:.2f} | {best:.2f} | {med:.2f} | "
            f"{per_k:.2f} | {ez} |")


def _synthetic(tmp: Path, frames: int) -> Path:
    """A 60-marker float trial: smooth random trajectories (mm), some gaps."""
    rng = np.random.default_rng(3)
    steps = rng.normal(0.0, 1.0, (frames, 60, 3))
    pts = 500.0 + np.cumsum(steps, axis=0)
    pts[rng.random((frames, 60)) < 0.02] = np.nan
    labels = tuple(f"M{i:02d}" for i in range(60))
    return write_trial_c3d(tmp / "synthetic_intel.c3d", Trial("synthetic", labels, pts, 100.0))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    head = ("| file | processor, storage | frames x points | MB | read_c3d best ms | median ms | "
            "ms per 1,000 frames | ezc3d.c3d best ms |\n|---|---|---|---|---|---|---|---|")
    rows = []
    for folder, names in TWINS:
        for name in names:
            path = REF / folder / f"{name}.c3d"
            if path.exists():
                rows.append(_row(path, args.repeat))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        intel = _synthetic(tmp, args.frames)
        rows.append(_row(intel, max(3, args.repeat // 4)))
        rows.append(_row(mips_copy(intel, tmp / "synthetic_mips.c3d"), max(3, args.repeat // 4)))
    text = "\n".join([f"# Reader benchmark\n\n{platform.platform()}, Python {platform.python_version()}, "
                      f"{os.cpu_count()} cores; best/median of {args.repeat} cold reads "
                      "(synthetic files: of a quarter as many).\n", head, *rows, ""])
    print(text)
    if not args.no_write:
        (Path(__file__).parent / "results_reader.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
