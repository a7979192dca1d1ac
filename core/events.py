"""Gait events: from the file, or detected from kinematics (Zeni et al. 2008).

Detection follows Zeni JA, Richards JG, Higginson JS (2008), "Two simple methods for
determining gait events during treadmill and overground walking using kinematic data",
Gait & Posture 27:710-714 (the coordinate-based method): along the direction of progression,
**foot strike** is a maximum of the heel position relative to the pelvis and **foot off** a
minimum of the toe position relative to the pelvis.

Here "relative to the pelvis" is taken from the pelvis centre (mean of the ASIS midpoint and
the rear pelvis point: SACR or the PSIS midpoint, per frame), and the direction of progression
per frame is the horizontal anterior axis of the pelvis (ASIS midpoint minus rear point),
which follows the walker through turns and along either direction of a walkway. Where the heel
marker is missing, the ankle joint centre (``LAJC``/``RAJC`` of the model outputs) or else the
lateral malleolus marker (``ANK``) stands in for it.

Foot strikes are then refined to the end of the heel's descent (first local minimum of the
heel height within ``refine_strike_s`` after the Zeni candidate): on the reference walking
trials this moves the strikes from 30-110 ms early to within a few frames of Vicon's events
(set ``refine_strike_s=0`` for the plain Zeni method). The refinement is used only with the
heel marker; with the ankle stand-ins the plain Zeni maximum is kept.

Peaks are found with :func:`find_peaks_1d` (the definitions of :func:`scipy.signal.find_peaks`
in numpy alone) on each run of valid frames (never across
a gap), at least ``min_interval_s`` apart and with a prominence of at least
``min_prominence_mm``; a peak at the edge of a run is not an event.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from core.model import (EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, SIDE_PREFIX, SIDES, GaitEvent,
                        ModelOutputs, Trial, frame_to_time)

GAIT_LABELS = (EVENT_FOOT_STRIKE, EVENT_FOOT_OFF)


@dataclass(frozen=True)
class EventDetectionSettings:
    """Settings of the Zeni 2008 detector.

    min_interval_s: minimum time between two events of the same kind and side (s).
    min_prominence_mm: minimum prominence of a heel maximum / toe minimum (mm).
    """

    min_interval_s: float = 0.5
    min_prominence_mm: float = 40.0
    refine_strike_s: float = 0.15


def refine_strikes(rows: np.ndarray, height: np.ndarray, rate_hz: float, window_s: float) -> np.ndarray:
    """Move each foot-strike row to the end of the heel's descent.

    Zeni's heel maximum comes some 30-110 ms before the contact that Vicon (force plate or
    visual) marks, because the heel is still descending; the refinement takes the first row,
    within ``window_s`` after the Zeni candidate, where the heel height ``(F,)`` stops
    decreasing (its first local minimum). A candidate without such a row is kept.
    """
    n = max(1, int(round(window_s * rate_hz)))
    out = rows.copy()
    for k, r in enumerate(rows):
        seg = height[r:r + n + 2]
        dz = np.diff(seg)
        stop = np.flatnonzero((dz[:-1] < 0) & (dz[1:] >= 0)) if dz.size > 1 else np.zeros(0, int)
        if stop.size and not np.isnan(seg[: stop[0] + 2]).any():
            out[k] = r + stop[0] + 1
    return out


@dataclass(frozen=True)
class TrialEvents:
    """The events used for a trial.

    events: sorted gait events. detected: True when they were detected from kinematics
    because the file had no foot strike/off events. notes: what the detector substituted
    (e.g. ankle centre for a missing heel marker).
    """

    events: tuple[GaitEvent, ...]
    detected: bool
    notes: tuple[str, ...] = ()


def gait_events(events: Sequence[GaitEvent]) -> tuple[GaitEvent, ...]:
    """The foot strike / foot off events among ``events`` (Left/Right context)."""
    return tuple(e for e in events if e.label in GAIT_LABELS and e.context in SIDES)


def _marker(trial: Trial, label: str) -> Optional[np.ndarray]:
    i = trial.index(label)
    if i is None:
        return None
    xyz = trial.points[:, i, :]
    return None if np.isnan(xyz).all() else xyz


def pelvis_centre_and_direction(trial: Trial) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis centre ``(F, 3)`` mm and horizontal unit progression direction ``(F, 3)``.

    The rear point is SACR where valid, else the PSIS midpoint (per frame, cgm1_spec 1).
    NaN where the pelvis markers are missing.
    """
    lasi, rasi = _marker(trial, "LASI"), _marker(trial, "RASI")
    if lasi is None or rasi is None:
        nan = np.full((trial.n_frames, 3), np.nan)
        return nan, nan
    front = 0.5 * (lasi + rasi)
    rear = np.full_like(front, np.nan)
    lpsi, rpsi = _marker(trial, "LPSI"), _marker(trial, "RPSI")
    if lpsi is not None and rpsi is not None:
        rear = 0.5 * (lpsi + rpsi)
    sacr = _marker(trial, "SACR")
    if sacr is not None:
        ok = ~np.isnan(sacr).any(axis=1)
        rear = np.where(ok[:, None], sacr, rear)
    centre = 0.5 * (front + rear)
    fwd = front - rear
    fwd[:, 2] = 0.0
    norm = np.linalg.norm(fwd, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(norm > 1e-9, fwd / norm, np.nan)
    return centre, direction


def _runs(valid: np.ndarray) -> list[tuple[int, int]]:
    """Half-open row ranges of consecutive True values."""
    d = np.diff(np.concatenate(([0], valid.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Rows of the local maxima of ``x`` (F,); a flat top gives its middle row (lower middle)."""
    n = x.size
    if n < 3:
        return np.zeros(0, dtype=int)
    new = np.concatenate(([True], x[1:] != x[:-1]))
    starts = np.flatnonzero(new)
    ends = np.concatenate((starts[1:] - 1, [n - 1]))
    v = x[starts]
    j = np.flatnonzero((v[1:-1] > v[:-2]) & (v[1:-1] > v[2:])) + 1
    return (starts[j] + ends[j]) // 2


def _select_by_distance(x: np.ndarray, peaks: np.ndarray, distance: int) -> np.ndarray:
    """Keep the highest peaks first, dropping lower ones closer than ``distance`` rows."""
    keep = np.ones(peaks.size, dtype=bool)
    for i in np.argsort(x[peaks])[::-1]:  # a loop over peaks, not frames
        if keep[i]:
            lo = np.searchsorted(peaks, peaks[i] - distance, side="right")
            hi = np.searchsorted(peaks, peaks[i] + distance, side="left")
            keep[lo:i] = False
            keep[i + 1:hi] = False
    return peaks[keep]


def _nearest_higher(x: np.ndarray, p: int, step: int, left: bool) -> int:
    """Row of the nearest sample higher than ``x[p]`` on one side, or -1 / ``x.size``.

    Searches windows growing four-fold from ``step`` rows, so a peak costs about one stride
    of samples instead of the whole trial.
    """
    w = max(step, 8)
    while True:
        if left:
            lo = max(0, p - w)
            hit = np.flatnonzero(x[lo:p] > x[p])
            if hit.size:
                return lo + int(hit[-1])
            if lo == 0:
                return -1
        else:
            hi = min(x.size, p + 1 + w)
            hit = np.flatnonzero(x[p + 1:hi] > x[p])
            if hit.size:
                return p + 1 + int(hit[0])
            if hi == x.size:
                return x.size
        w *= 4


def _prominences(x: np.ndarray, peaks: np.ndarray, step: int = 64) -> np.ndarray:
    """Topographic prominence of each peak: height above the higher of its two bases."""
    out = np.empty(peaks.size)
    for k, p in enumerate(peaks):  # a loop over peaks, not frames
        lo = _nearest_higher(x, int(p), step, left=True) + 1
        hi = _nearest_higher(x, int(p), step, left=False) - 1
        out[k] = x[p] - max(x[lo:p + 1].min(), x[p:hi + 1].min())
    return out


def find_peaks_1d(x: np.ndarray, distance: int = 1, prominence: float = 0.0) -> np.ndarray:
    """Peaks of a NaN-free 1-D signal, as ``scipy.signal.find_peaks(x, distance=, prominence=)``.

    Same definitions and order of selection as SciPy (local maxima with flat tops at their
    middle, then the distance rule keeping the highest peaks, then the prominence rule), in
    numpy alone, so that detecting events does not pay SciPy's signal-module import (~0.6 s),
    which matters for a command-line run on a short trial. A test checks it against SciPy.
    """
    x = np.asarray(x, dtype=float)
    peaks = _local_maxima(x)
    if distance > 1 and peaks.size > 1:
        peaks = _select_by_distance(x, peaks, distance)
    if prominence > 0 and peaks.size:
        peaks = peaks[_prominences(x, peaks, max(2 * distance, 8)) >= prominence]
    return peaks


def signal_extrema(signal: np.ndarray, rate_hz: float, maxima: bool,
                   settings: EventDetectionSettings = EventDetectionSettings()) -> np.ndarray:
    """Row indices of the maxima (or minima) of a 1-D signal with NaN gaps.

    signal: ``(F,)`` mm. Each run of valid samples is searched separately.
    """
    sig = signal if maxima else -signal
    distance = max(1, int(round(settings.min_interval_s * rate_hz)))
    rows: list[np.ndarray] = []
    for a, b in _runs(~np.isnan(sig)):
        if b - a < 3:
            continue
        peaks = find_peaks_1d(sig[a:b], distance=distance, prominence=settings.min_prominence_mm)
        rows.append(peaks + a)
    return np.concatenate(rows).astype(int) if rows else np.zeros(0, dtype=int)


def _foot_point(trial: Trial, outputs: Optional[ModelOutputs], side: str,
                notes: list[str]) -> tuple[Optional[np.ndarray], bool]:
    """The point for foot strikes and whether it is the heel marker."""
    p = SIDE_PREFIX[side]
    heel = _marker(trial, f"{p}HEE")
    if heel is not None:
        return heel, True
    if outputs is not None and f"{p}AJC" in outputs.channels:
        notes.append(f"{p}HEE missing: foot strikes of the {side.lower()} side detected from {p}AJC")
        return np.asarray(outputs.channels[f"{p}AJC"]), False
    ank = _marker(trial, f"{p}ANK")
    if ank is not None:
        notes.append(f"{p}HEE missing: foot strikes of the {side.lower()} side detected from {p}ANK")
    return ank, False


def detect_events(trial: Trial, outputs: Optional[ModelOutputs] = None,
                  settings: EventDetectionSettings = EventDetectionSettings(),
                  notes: Optional[list[str]] = None) -> tuple[GaitEvent, ...]:
    """Foot strikes and foot offs detected from marker kinematics (Zeni et al. 2008).

    Parameters
    ----------
    trial: the walking trial (markers in mm, pelvis and HEE/TOE markers per side).
    outputs: CGM1 outputs of the trial, used for ``LAJC``/``RAJC`` when a heel marker is missing.
    settings: minimum interval and prominence of the extrema.
    notes: if given, receives one line per substitution made.

    Returns
    -------
    Sorted events with ``source="detected"``, frames as C3D frame numbers.
    """
    notes = [] if notes is None else notes
    centre, direction = pelvis_centre_and_direction(trial)
    events: list[GaitEvent] = []
    for side in SIDES:
        p = SIDE_PREFIX[side]
        heel, is_heel = _foot_point(trial, outputs, side, notes)
        for label, point, maxima in ((EVENT_FOOT_STRIKE, heel, True),
                                     (EVENT_FOOT_OFF, _marker(trial, f"{p}TOE"), False)):
            if point is None:
                notes.append(f"no {p}TOE marker: {side.lower()} foot offs not detected" if not maxima
                             else f"no heel, ankle centre or ankle marker: {side.lower()} foot strikes not detected")
                continue
            rel = np.einsum("fi,fi->f", point - centre, direction)
            rows = signal_extrema(rel, trial.point_rate_hz, maxima, settings)
            if maxima and is_heel and settings.refine_strike_s > 0:
                rows = refine_strikes(rows, point[:, 2], trial.point_rate_hz, settings.refine_strike_s)
            frames = trial.first_frame + rows
            times = frame_to_time(frames, trial.point_rate_hz)
            events += [GaitEvent(label, side, int(f), float(t), "detected") for f, t in zip(frames, times)]
    return tuple(sorted(events, key=lambda e: (e.frame, e.context, e.label)))


def trial_events(trial: Trial, outputs: Optional[ModelOutputs] = None,
                 settings: EventDetectionSettings = EventDetectionSettings()) -> TrialEvents:
    """The events of a trial: the file's when it has foot strike/off events, else detected.

    Other file events (e.g. ``General`` ones) are kept in either case.
    """
    if gait_events(trial.events):
        return TrialEvents(tuple(trial.events), detected=False)
    notes: list[str] = []
    detected = detect_events(trial, outputs, settings, notes)
    merged = sorted(tuple(trial.events) + detected, key=lambda e: (e.frame, e.context, e.label))
    return TrialEvents(tuple(merged), detected=True, notes=tuple(notes))


def match_events(detected: Sequence[GaitEvent], reference: Sequence[GaitEvent],
                 max_frames: int = 15) -> list[tuple[GaitEvent, GaitEvent, int]]:
    """Pair each reference event with the nearest detected event of the same label and side.

    Returns ``(reference, detected, detected.frame - reference.frame)`` for every reference
    event that has a detected partner within ``max_frames``.
    """
    out = []
    for ref in gait_events(reference):
        cands = [d for d in detected if d.label == ref.label and d.context == ref.context]
        if not cands:
            continue
        best = min(cands, key=lambda d: abs(d.frame - ref.frame))
        if abs(best.frame - ref.frame) <= max_frames:
            out.append((ref, best, best.frame - ref.frame))
    return out
