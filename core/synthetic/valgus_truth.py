"""True valgus metrics and phases of a prescribed motion (the generator's own code).

Definitions follow docs/valgus.md (project copy: ../shared/docs/valgus.md) with its defaults:

* 3D knee valgus = ``-KneeAngles.y``.
* FPPA: hip, knee and ankle joint centres projected on the frontal plane (normal = the
  facing direction, here the progression axis); ``FPPA = 180 - angle(HJC, KJC, AJC)``,
  positive when KJC lies medial to the HJC-AJC line. MKD: signed distance of KJC from that
  line (mm, + medial), also as % of the knee width.
* Phases: contiguous frames inside a task window where the metric exceeds its threshold
  for at least 20 ms (a run of ``n`` frames lasts ``n / rate``); onset and offset are the
  first and last frames above the threshold.
* Thresholds: walking, 3D valgus above the valgus band mean + 2 SD at the same percent of
  the gait cycle (valgus band = minus the KneeAngles.y band of Schwartz et al. 2008, class
  closest to the dimensionless speed v / sqrt(g L)); single-leg squat FPPA 12 deg women /
  9 deg men, drop jump 13 / 8 deg (Herrington & Munro 2010).
"""
from __future__ import annotations

import math

import numpy as np

from core.synthetic.knee_band import KNEE_VARUS_BAND, SPEED_CLASSES
from core.synthetic.tasks import Motion, Window

MIN_DURATION_S = 0.020
FPPA_THRESHOLDS = {"sls": {"female": 12.0, "male": 9.0}, "sl_landing": {"female": 12.0, "male": 9.0},
                   "drop_jump": {"female": 13.0, "male": 8.0}}
FPPA_SOURCE = "Herrington & Munro 2010 (2D video), docs/valgus.md default"
BAND_SOURCE = "Schwartz 2008 ({cls} speed class) KneeAngles.y band: valgus mean + 2 SD"
MEDIAL = {"Left": -1.0, "Right": 1.0}


def speed_class(speed_m_s: float, leg_length_mm: float) -> tuple[str, float]:
    """Schwartz 2008 class closest to the dimensionless speed, and that speed."""
    v = speed_m_s / math.sqrt(9.81 * leg_length_mm / 1000.0)
    return min(SPEED_CLASSES, key=lambda c: abs(SPEED_CLASSES[c] - v)), v


def valgus_band(cls: str, percent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valgus band (mean, SD) ``(N,)`` at ``percent`` of the cycle, linear interpolation."""
    rows = np.asarray(KNEE_VARUS_BAND[cls])
    grid = np.arange(0.0, 100.1, 2.0)
    mean_var = np.interp(percent, grid, (rows[:, 0] + rows[:, 1]) / 2.0)
    sd = np.interp(percent, grid, (rows[:, 1] - rows[:, 0]) / 2.0)
    return -mean_var, sd


def frontal_metrics(hjc: np.ndarray, kjc: np.ndarray, ajc: np.ndarray, facing: np.ndarray,
                    side: str) -> tuple[np.ndarray, np.ndarray]:
    """FPPA (deg) and MKD (mm) ``(F,)`` of one side; plane normal ``facing`` ``(3,)``."""
    n = np.asarray(facing, float)
    n = n - n[2] * np.array([0.0, 0.0, 1.0])
    n = n / np.linalg.norm(n)
    lat = np.cross([0.0, 0.0, 1.0], n)

    def proj(p):
        return np.stack([p @ lat, p[:, 2]], axis=1)

    h, k, a = proj(hjc), proj(kjc), proj(ajc)
    u, v = h - k, a - k
    cr = u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]
    inner = np.degrees(np.arctan2(np.abs(cr), (u * v).sum(axis=1)))
    line = a - h
    c2 = line[:, 0] * (k - h)[:, 1] - line[:, 1] * (k - h)[:, 0]
    mkd = MEDIAL[side] * np.sign(-line[:, 1]) * c2 / np.linalg.norm(line, axis=1)
    fppa = np.where(mkd >= 0.0, 1.0, -1.0) * (180.0 - inner)
    return fppa, mkd


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) row indices of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


def window_phases(values: np.ndarray, threshold: np.ndarray, win: Window, metric: str,
                  source: str, rate_hz: float) -> list[dict]:
    """Valgus phases of one window. values/threshold: ``(F,)`` per frame (row = frame - 1)."""
    lo, hi = win.start_frame - 1, win.end_frame - 1
    seg, thr = values[lo:hi + 1], threshold[lo:hi + 1]
    out = []
    for a, b in _runs(seg > thr):
        n = b - a + 1
        if n / rate_hz < MIN_DURATION_S - 1e-12:
            continue
        pk = a + int(np.argmax(seg[a:b + 1]))
        before = seg[a - 1] - thr[a - 1] if a > 0 else np.nan
        after = seg[b + 1] - thr[b + 1] if b + 1 < seg.size else np.nan
        margin = np.nanmin(np.abs([seg[a] - thr[a], seg[b] - thr[b], before, after]))
        out.append({
            "side": win.side, "window_index": win.index, "window_kind": win.kind,
            "window": [win.start_frame, win.end_frame],
            "onset_frame": int(lo + a + 1), "offset_frame": int(lo + b + 1),
            "duration_ms": round(1000.0 * n / rate_hz, 3),
            "peak_frame": int(lo + pk + 1), "peak_value": round(float(seg[pk]), 6),
            "mean_value": round(float(seg[a:b + 1].mean()), 6),
            "metric": metric, "threshold_at_onset": round(float(thr[a]), 6),
            "threshold_at_peak": round(float(thr[pk]), 6), "threshold_source": source,
            "boundary_margin": round(float(margin), 6),
        })
    return out


def walk_thresholds(motion: Motion, cls: str) -> dict[str, np.ndarray]:
    """Per-frame 3D valgus threshold per side (NaN outside stance windows)."""
    out = {}
    for side in ("Left", "Right"):
        thr = np.full(motion.n_frames, np.nan)
        for w in motion.windows:
            if w.side != side:
                continue
            fr = np.arange(w.start_frame, w.end_frame + 1)
            pct = 100.0 * (fr - w.start_frame) / (w.cycle_end_frame - w.start_frame)
            mean, sd = valgus_band(cls, pct)
            thr[fr - 1] = mean + 2.0 * sd
        out[side] = thr
    return out


def true_phases(motion: Motion, angles: dict, centres: dict, sex: str, leg_length_mm: float,
                rate_hz: float) -> dict:
    """Metrics per frame, thresholds and phases of a motion (see the module docstring)."""
    metrics, thresholds, phases = {}, {}, []
    info: dict = {}
    for side in ("Left", "Right"):
        p = side[0]
        fppa, mkd = frontal_metrics(centres[f"{p}HJC"], centres[f"{p}KJC"], centres[f"{p}AJC"],
                                    motion.facing, side)
        metrics[side] = {"valgus_3d": -angles[f"{p}KneeAngles"][:, 1], "fppa": fppa, "mkd": mkd}
    if motion.task == "walk":
        cls, v = speed_class(motion.speed_m_s, leg_length_mm)
        info = {"speed_class": cls, "dimensionless_speed": round(v, 6)}
        thr = walk_thresholds(motion, cls)
        metric, source = "valgus_3d", BAND_SOURCE.format(cls=cls)
    elif motion.task in FPPA_THRESHOLDS:
        value = FPPA_THRESHOLDS[motion.task][sex]
        thr = {s: np.full(motion.n_frames, value) for s in ("Left", "Right")}
        metric, source = "fppa", f"{value:g} deg ({sex}), {FPPA_SOURCE}"
    else:
        return {"metrics": metrics, "thresholds": {}, "phases": [], "info": info}
    for w in motion.windows:
        phases += window_phases(metrics[w.side][metric], thr[w.side], w, metric, source, rate_hz)
    for ph in phases:
        w = next(x for x in motion.windows if x.side == ph["side"] and x.index == ph["window_index"])
        span = w.end_frame - w.start_frame
        ph["onset_percent_window"] = round(100.0 * (ph["onset_frame"] - w.start_frame) / span, 6)
        ph["offset_percent_window"] = round(100.0 * (ph["offset_frame"] - w.start_frame) / span, 6)
        if w.cycle_end_frame is not None:
            cyc = w.cycle_end_frame - w.start_frame
            ph["onset_percent_cycle"] = round(100.0 * (ph["onset_frame"] - w.start_frame) / cyc, 6)
            ph["offset_percent_cycle"] = round(100.0 * (ph["offset_frame"] - w.start_frame) / cyc, 6)
    phases.sort(key=lambda q: (q["side"], q["onset_frame"]))
    return {"metrics": metrics, "thresholds": {s: thr[s] for s in thr}, "phases": phases,
            "metric": metric, "threshold_source": source, "info": info}
