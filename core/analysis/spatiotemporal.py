"""Spatio-temporal parameters of walking from gait events and marker positions.

Definitions (per stride of side S = foot strike FS_S(k) to the next FS_S(k+1); frames are
C3D frame numbers, times ``(frame - 1) / rate``; the progression direction ``d`` is the unit
horizontal vector of the pelvis displacement over the trial, Z up):

* stride time = t(FS_S(k+1)) - t(FS_S(k));  cadence = 2 x 60 / stride time (steps/min);
* stride length = (heel_S(FS_S(k+1)) - heel_S(FS_S(k))) . d (m);
* step time / step length of S = from the contralateral foot strike FS_C inside the stride
  to FS_S(k+1): t difference, and (heel_S(FS_S(k+1)) - heel_C(FS_C)) . d;
* speed = (pelvis(FS_S(k+1)) - pelvis(FS_S(k))) . d / stride time (m/s), pelvis = midpoint
  of LASI/RASI (the CGM1 pelvis origin), else the mean of LPSI/RPSI or SACR;
* stance % = 100 (FO_S - FS_S(k)) / stride duration, swing % = 100 - stance %;
* opposite foot off % / opposite foot strike % = timing of FO_C / FS_C inside the stride;
  double support % = opposite foot off % + (stance % - opposite foot strike %) (initial +
  terminal double support); single support % = opposite foot strike % - opposite foot off %.

The heel marker is ``LHEE``/``RHEE`` (``LANK``/``RANK`` when the heel is missing at that
frame). Values that cannot be derived are NaN. These follow the usual Vicon/Perry definitions
(Perry J, Burnfield JM (2010) Gait Analysis: Normal and Pathological Function, 2nd ed.).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, SIDE_PREFIX, SIDES, GaitEvent, Trial

PARAMETERS = ("speed_m_s", "cadence_steps_min", "stride_time_s", "step_time_s", "stride_length_m",
              "step_length_m", "stance_pct", "swing_pct", "double_support_pct", "single_support_pct",
              "opposite_foot_off_pct", "opposite_foot_strike_pct")
UNITS = {"speed_m_s": "m/s", "cadence_steps_min": "steps/min", "stride_time_s": "s", "step_time_s": "s",
         "stride_length_m": "m", "step_length_m": "m"}


@dataclass(frozen=True)
class SpatioTemporal:
    """Spatio-temporal parameters of one or more walking trials.

    strides: side -> parameter name (:data:`PARAMETERS`) -> ``(n_strides,)`` per-stride values;
    progression: ``(3,)`` unit progression direction of the (first) trial.
    """

    strides: Mapping[str, Mapping[str, np.ndarray]]
    progression: np.ndarray

    def __post_init__(self) -> None:
        frozen = {}
        for side, d in self.strides.items():
            arrs = {}
            for k, v in d.items():
                a = np.array(v, dtype=float)
                a.setflags(write=False)
                arrs[k] = a
            frozen[side] = MappingProxyType(arrs)
        object.__setattr__(self, "strides", MappingProxyType(frozen))
        p = np.array(self.progression, dtype=float)
        p.setflags(write=False)
        object.__setattr__(self, "progression", p)

    def n_strides(self, side: str) -> int:
        d = self.strides.get(side)
        return int(d["stride_time_s"].size) if d else 0

    def side(self, side: str) -> dict[str, float]:
        """Mean of each parameter over the side's strides (NaN-aware), plus ``n_strides``."""
        d = self.strides.get(side, {})
        out = {k: _nanmean(d[k]) if k in d else float("nan") for k in PARAMETERS}
        out["n_strides"] = float(self.n_strides(side))
        return out

    def overall(self) -> dict[str, float]:
        """Mean over the strides of both sides."""
        out = {}
        for k in PARAMETERS:
            vals = [self.strides[s][k] for s in self.strides if k in self.strides[s]]
            out[k] = _nanmean(np.concatenate(vals)) if vals else float("nan")
        out["n_strides"] = float(sum(self.n_strides(s) for s in self.strides))
        return out

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{"Left": {...}, "Right": {...}, "Overall": {...}}`` of means."""
        d = {s: self.side(s) for s in SIDES}
        d["Overall"] = self.overall()
        return d


def _nanmean(a: np.ndarray) -> float:
    a = np.asarray(a, dtype=float)
    return float(np.nanmean(a)) if np.any(np.isfinite(a)) else float("nan")


def _positions_at(trial: Trial, labels: Sequence[str], frames: np.ndarray) -> np.ndarray:
    """``(n, 3)`` mean position (mm) of the first available group of ``labels`` at C3D frames.

    ``labels`` is a sequence of alternatives, each a ``"A+B"`` string (mean of A and B); per
    frame the first alternative with all its markers valid is used. NaN where none is.
    """
    frames = np.asarray(frames, dtype=int)
    rows = frames - trial.first_frame
    inside = (rows >= 0) & (rows < trial.n_frames)
    rows_c = np.clip(rows, 0, max(trial.n_frames - 1, 0))
    out = np.full((frames.size, 3), np.nan)
    for alt in labels:
        names = alt.split("+")
        if not all(trial.has(n) for n in names):
            continue
        pos = np.mean([trial.point(n)[rows_c] for n in names], axis=0)
        use = np.isnan(out[:, 0]) & inside & np.all(np.isfinite(pos), axis=1)
        out[use] = pos[use]
    return out


PELVIS_ALTERNATIVES = ("LASI+RASI", "LPSI+RPSI", "SACR")


def progression_direction(trial: Trial) -> np.ndarray:
    """Unit horizontal direction of the pelvis displacement from its first to last valid frame."""
    pel = _positions_at(trial, PELVIS_ALTERNATIVES, trial.frames)
    ok = np.flatnonzero(np.all(np.isfinite(pel), axis=1))
    if ok.size < 2:
        return np.full(3, np.nan)
    d = pel[ok[-1]] - pel[ok[0]]
    d[2] = 0.0
    n = np.linalg.norm(d)
    return d / n if n > 0 else np.full(3, np.nan)


def _frames(events: Iterable[GaitEvent], label: str, side: str) -> np.ndarray:
    # unique: a repeated event (same frame twice in a file) would make a zero-length stride
    return np.unique(np.array([e.frame for e in events if e.label == label and e.context == side], dtype=int))


def _first_between(frames: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """First of ``frames`` strictly inside (lo, hi) per pair; -1 where none. Vectorised."""
    if frames.size == 0:
        return np.full(lo.shape, -1)
    i = np.searchsorted(frames, lo, side="right")
    cand = frames[np.clip(i, 0, frames.size - 1)]
    return np.where((i < frames.size) & (cand < hi), cand, -1)


def _side_strides(trial: Trial, events: Sequence[GaitEvent], side: str, d: np.ndarray) -> dict[str, np.ndarray]:
    other = "Right" if side == "Left" else "Left"
    fs = _frames(events, EVENT_FOOT_STRIKE, side)
    start, end = fs[:-1], fs[1:]
    rate = trial.point_rate_hz
    fo = _first_between(_frames(events, EVENT_FOOT_OFF, side), start, end).astype(float)
    ofo = _first_between(_frames(events, EVENT_FOOT_OFF, other), start, end).astype(float)
    ofs = _first_between(_frames(events, EVENT_FOOT_STRIKE, other), start, end).astype(float)
    for a in (fo, ofo, ofs):
        a[a < 0] = np.nan
    dur = (end - start).astype(float)
    pct = lambda f: 100.0 * (f - start) / dur  # noqa: E731
    heel = (f"{SIDE_PREFIX[side]}HEE", f"{SIDE_PREFIX[side]}ANK")
    oheel = (f"{SIDE_PREFIX[other]}HEE", f"{SIDE_PREFIX[other]}ANK")
    h0, h1 = _positions_at(trial, heel, start), _positions_at(trial, heel, end)
    ofs_i = np.where(np.isfinite(ofs), ofs, trial.first_frame - 1).astype(int)
    hc = _positions_at(trial, oheel, ofs_i)
    p0, p1 = _positions_at(trial, PELVIS_ALTERNATIVES, start), _positions_at(trial, PELVIS_ALTERNATIVES, end)
    stride_time = dur / rate
    stance = pct(fo)
    out = {
        "stride_time_s": stride_time,
        "cadence_steps_min": 120.0 / stride_time,
        "step_time_s": (end - ofs) / rate,
        "stride_length_m": (h1 - h0) @ d / 1000.0,
        "step_length_m": (h1 - hc) @ d / 1000.0,
        "speed_m_s": (p1 - p0) @ d / 1000.0 / stride_time,
        "stance_pct": stance,
        "swing_pct": 100.0 - stance,
        "opposite_foot_off_pct": pct(ofo),
        "opposite_foot_strike_pct": pct(ofs),
    }
    out["double_support_pct"] = out["opposite_foot_off_pct"] + (stance - out["opposite_foot_strike_pct"])
    out["single_support_pct"] = out["opposite_foot_strike_pct"] - out["opposite_foot_off_pct"]
    return out


def spatiotemporal(events: Sequence[GaitEvent], trial: Trial,
                   progression: Optional[np.ndarray] = None) -> SpatioTemporal:
    """Spatio-temporal parameters of one walking trial (definitions in the module docstring).

    Parameters
    ----------
    events: the trial's gait events (``"Foot Strike"`` / ``"Foot Off"``, Left/Right context).
    trial: the trial (markers in mm; LASI/RASI or PSIS/SACR, L/RHEE or L/RANK).
    progression: optional ``(3,)`` progression direction; default from the pelvis path.
    """
    d = progression_direction(trial) if progression is None else np.asarray(progression, float) / np.linalg.norm(progression)
    strides = {s: _side_strides(trial, events, s, d) for s in SIDES}
    return SpatioTemporal(strides, d)


def pool_spatiotemporal(results: Sequence[SpatioTemporal]) -> SpatioTemporal:
    """Strides of several trials pooled into one :class:`SpatioTemporal`."""
    if not results:
        return SpatioTemporal({s: {k: np.empty(0) for k in PARAMETERS} for s in SIDES}, np.full(3, np.nan))
    strides = {s: {k: np.concatenate([r.strides[s][k] for r in results if s in r.strides])
                   for k in PARAMETERS} for s in SIDES}
    return SpatioTemporal(strides, results[0].progression)
