"""Keep every true valgus-phase boundary clear of its threshold.

A phase boundary is exact to the frame only if the metric is not within round-off (or, for
noisy trials, within noise) of the threshold on the frames either side of it. The sample
motions therefore scale the pathological deviation of each window (gait cycle or squat
repetition) by a factor close to 1 (searched in steps of 0.5 %, nearest to 1 first) so that,
in every window, ``min |metric - threshold|`` over the window's frames is at least
:data:`MIN_MARGIN_DEG` (walking and landing) or :data:`SLS_MIN_MARGIN_DEG` (the slow squat:
its FPPA changes by at most about 0.28 deg per frame at the crossings, so about 0.13 deg is the
most any timing could give both crossings). Windows without a phase are held at the same
distance below the threshold.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

from core.synthetic import tasks
from core.synthetic.skeleton import joint_centres
from core.synthetic.subject import Anthropometry
from core.synthetic.tasks import Deviation, Window
from core.synthetic.valgus_truth import (FPPA_THRESHOLDS, frontal_metrics, speed_class,
                                         walk_thresholds)

MIN_MARGIN_DEG = 0.15
SLS_MIN_MARGIN_DEG = 0.08
#: candidate factors, nearest to 1 first: 1, 1.005, 0.995, 1.01, ...
CANDIDATES = tuple(1.0 + 0.005 * k * s for k in range(0, 31) for s in ((1,) if k == 0 else (1, -1)))


def window_margin(metric: np.ndarray, threshold: np.ndarray, win: Window) -> float:
    """``min |metric - threshold|`` over the window's frames (deg)."""
    sl = slice(win.start_frame - 1, win.end_frame)
    return float(np.min(np.abs(metric[sl] - threshold[sl])))


def _search(windows: Sequence[Window], margins_for: Callable[[float], Mapping[Window, float]],
            min_margin: float) -> dict[Window, float]:
    """Per window, the first candidate factor whose margin is at least ``min_margin``."""
    chosen: dict[Window, float] = {}
    for m in CANDIDATES:
        for w, margin in margins_for(m).items():
            if w not in chosen and margin >= min_margin:
                chosen[w] = m
        if len(chosen) == len(windows):
            return chosen
    missing = [w for w in windows if w not in chosen]
    raise RuntimeError(f"no deviation factor keeps these windows {min_margin} deg clear: {missing}")


def walk_scale(body: Anthropometry, direction: str, n_frames: int, phase_frames: int,
               dev: dict[str, Deviation], min_margin: float = MIN_MARGIN_DEG) -> dict:
    """``{(side, cycle): factor}`` for :func:`core.synthetic.tasks.walk`."""
    nominal = tasks.walk(body, direction, n_frames, phase_frames, dev)
    cls, _ = speed_class(nominal.speed_m_s, body.mean_leg_length_mm)
    thr = walk_thresholds(nominal, cls)
    p_left = tasks.walk_percent(n_frames, phase_frames)
    t = np.arange(n_frames) / tasks.RATE_HZ
    pct = {"Left": p_left, "Right": p_left - 50.0}
    cycle = {w: (w.side, float(np.floor(pct[w.side][w.start_frame - 1] / 100.0))) for w in nominal.windows}

    def margins(m: float) -> dict[Window, float]:
        scale = {cycle[w]: m for w in nominal.windows}
        _, legs = tasks.walk_angles(p_left, dev, t, scale)
        return {w: window_margin(-legs[w.side].knee_var, thr[w.side], w) for w in nominal.windows}

    chosen = _search(nominal.windows, margins, min_margin)
    return {cycle[w]: m for w, m in chosen.items() if m != 1.0}


def _fppa_margins(motion, sex: str) -> dict[Window, float]:
    thr_value = FPPA_THRESHOLDS[motion.task][sex]
    centres = joint_centres(motion.pose)
    out = {}
    for w in motion.windows:
        p = w.side[0]
        fppa, _ = frontal_metrics(centres[f"{p}HJC"], centres[f"{p}KJC"], centres[f"{p}AJC"],
                                  motion.facing, w.side)
        out[w] = window_margin(fppa, np.full(fppa.shape, thr_value), w)
    return out


def sls_scale(body: Anthropometry, side: str, dev: Deviation, sex: str,
              min_margin: float = SLS_MIN_MARGIN_DEG, **kw) -> tuple[float, ...]:
    """Per-repetition deviation factors for :func:`core.synthetic.tasks.sls`."""
    wins = tasks.sls_windows(side, 5)
    chosen = _search(wins, lambda m: _fppa_margins(tasks.sls(body, side, dev, scale=(m,) * 5, **kw), sex),
                     min_margin)
    return tuple(chosen[w] for w in wins)


def drop_scale(body: Anthropometry, dev: dict[str, Deviation], sex: str,
               min_margin: float = MIN_MARGIN_DEG, **kw) -> float:
    """Factor of both sides' deviations for :func:`core.synthetic.tasks.drop_landing`."""
    def margins(m):
        motion = tasks.drop_landing(body, {s: d.scaled(m) for s, d in dev.items()}, **kw)
        per = _fppa_margins(motion, sex)
        worst = min(per.values())
        return {w: worst for w in _DROP_KEYS}
    return _search(_DROP_KEYS, margins, min_margin)[_DROP_KEYS[0]]


_DROP_KEYS = (Window("Both", 0, "landing", 0, 0),)
