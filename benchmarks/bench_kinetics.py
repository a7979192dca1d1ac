"""Kinetics benchmark: force plates + contacts + inverse dynamics per 1,000 frames.

Run from the project root::

    .venv/bin/python benchmarks/bench_kinetics.py            # prints the table
    .venv/bin/python benchmarks/bench_kinetics.py --repeat 20

Measures ``core.kinetics.inverse_dynamics.compute_kinetics`` (plates resampled from the
analog channels, contact assignment, both legs' Newton-Euler chain, Vicon expression) on
the reference trials with plates (../shared/reference), after the CGM1 reconstruction,
and on a long trial made by repeating one of them 40 times (analog and markers tiled, so
12,600 frames with 80 contacts). Best of ``--repeat`` wall-clock runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.io.c3d import read_c3d  # noqa: E402
from core.io.subject import resolve_subject  # noqa: E402
from core.kinematics.cgm1 import calibrate, reconstruct  # noqa: E402
from core.kinetics.inverse_dynamics import KineticsSettings, compute_kinetics  # noqa: E402
from core.model import AnalogData  # noqa: E402

SHARED = Path(os.environ.get("GENULAB_SHARED", ROOT.parent / "shared"))
PIG = SHARED / "reference" / "BTKData" / "PiG"
FLAT16 = {"MarkerDiameter": 16.0, "LeftFootFlat": 1.0, "RightFootFlat": 1.0}
CASES = [("FlatFoot-Full", "PiG_Calibration-FlatFoot-Full.c3d", "PiG_Motion-FlatFoot-Full.c3d", FLAT16, {1: "R"}),
         ("PiG3_FF", "PiG_Calibration3_FF.c3d", "PiG_Motion3_FF.c3d", {"LeftFootFlat": 1.0, "RightFootFlat": 1.0}, {})]


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def tiled(trial, n: int):
    """The trial repeated n times (markers, analog), events dropped."""
    analog = AnalogData(trial.analog.labels, trial.analog.units, trial.analog.rate_hz,
                        np.tile(trial.analog.values, (n, 1)))
    return trial.with_changes(points=np.tile(trial.points, (n, 1, 1)), analog=analog, events=())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    print("| trial | frames | reconstruct (ms) | kinetics (ms) | kinetics per 1,000 frames (ms) |")
    print("|---|---|---|---|---|")
    for name, static, dynamic, supply, assign in CASES:
        if not (PIG / dynamic).exists():
            print(f"| {name} | reference data not available | | | |")
            continue
        dyn, sta = read_c3d(PIG / dynamic), read_c3d(PIG / static)
        subject = resolve_subject(dynamic=dyn, static=sta, overrides=supply)
        cal = calibrate(sta, subject)
        settings = KineticsSettings(plate_assignment=assign)
        for label, trial in ((name, dyn), (f"{name} x40", tiled(dyn, 40))):
            t_rec = best_of(lambda: reconstruct(trial, cal.subject), max(1, args.repeat // 2))
            out = reconstruct(trial, cal.subject)
            t_kin = best_of(lambda: compute_kinetics(trial, out, cal.subject, settings), args.repeat)
            print(f"| {label} | {trial.n_frames} | {t_rec * 1e3:.1f} | {t_kin * 1e3:.1f} | "
                  f"{t_kin * 1e6 / trial.n_frames:.2f} |")


if __name__ == "__main__":
    main()
