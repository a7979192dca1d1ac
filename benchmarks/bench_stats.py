"""Statistics benchmark: curve permutation test, GVS/GPS, pre/post comparison.

Run from the project root::

    .venv/bin/python benchmarks/bench_stats.py [--repeat 3]

Prints the best wall-clock time of ``--repeat`` runs of:

* ``curve_permutation_test`` on 10 vs 10, 20 vs 20 and 40 vs 40 cycles of 101 samples
  with 5,000 random relabellings (NaN-free and with 5 % NaN);
* ``gait_profile`` (15 GVS against Schwartz 2008) and ``gait_variable_score_rows`` on 1,000
  bootstrap mean curves;
* ``compare_sessions`` on two constructed sessions (2 walking trials x 10 cycles per side,
  11 walking variables per side, valgus peaks), 2,000 relabellings and 1,000 bootstrap
  resamplings.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.analysis.normative import CYCLE_GRID, load_normative  # noqa: E402
from core.analysis.stats import curve_permutation_test, gait_profile, gait_variable_score_rows  # noqa: E402
from core.variables import GVS_VARIABLES  # noqa: E402


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * min(times)


def _sessions(n_cycles: int):
    from core.analysis.types import AnalysisSettings, SessionAnalysis, TaskDecision, TrialAnalysis
    norms = load_normative()
    rng = np.random.default_rng(0)

    def session(label, shift):
        trials = []
        for t in range(2):
            curves = {s: {k: norms.band(k).at(CYCLE_GRID)[0] + shift + rng.normal(0, 1, (n_cycles, 101))
                          for k in GVS_VARIABLES + ("KneeAngles.y", "KneeAngles.z")} for s in ("Left", "Right")}
            peaks = {s: {"fppa": rng.normal(10 - shift, 2, n_cycles)} for s in ("Left", "Right")}
            trials.append(TrialAnalysis(f"w{t}", "walk", None, TaskDecision("walk", None, "user", "not applicable"),
                                        100.0, 1, 1000, {}, {}, {}, {}, (), cycle_curves=curves, window_peaks=peaks))
        return SessionAnalysis(label, tuple(trials), {}, (), "schwartz2008", norms.citation, "Free", {}, float("nan"),
                               {}, {}, AnalysisSettings())
    return session("pre", 0.0), session("post", 3.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    print("| case | ms |\n|---|---|")
    for n in (10, 20, 40):
        a, b = rng.normal(0, 1, (n, 101)), rng.normal(0.3, 1, (n, 101))
        print(f"| curve_permutation_test {n} vs {n}, 5000 relabellings | "
              f"{best(lambda: curve_permutation_test(a, b, n_perm=5000, seed=0), args.repeat):.1f} |")
        a[rng.random(a.shape) < 0.05] = np.nan
        print(f"| the same with 5 % NaN | {best(lambda: curve_permutation_test(a, b, n_perm=5000, seed=0), args.repeat):.1f} |")
    norms = load_normative()
    means = {s: {k: norms.band(k).at(CYCLE_GRID)[0] + 2.0 for k in GVS_VARIABLES} for s in ("Left", "Right")}
    print(f"| gait_profile (15 GVS) | {best(lambda: gait_profile(means, norms), args.repeat):.2f} |")
    rows = norms.band("KneeAngles.x").at(CYCLE_GRID)[0] + rng.normal(0, 1, (1000, 101))
    print(f"| gait_variable_score_rows, 1000 curves | "
          f"{best(lambda: gait_variable_score_rows(rows, norms.band('KneeAngles.x')), args.repeat):.2f} |")
    from core.analysis.comparison import compare_sessions
    pre, post = _sessions(10)
    print(f"| compare_sessions (22 variables, 20 vs 20 cycles, 2000 relabellings, 1000 bootstraps) | "
          f"{best(lambda: compare_sessions(pre, post, n_perm=2000, n_boot=1000), args.repeat):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
