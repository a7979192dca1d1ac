"""Gait events: from the file, or detected from kinematics (Zeni et al. 2008).

Detection follows Zeni JA, Richards JG, Higginson JS (2008), "Two simple methods for
determining gait events during treadmill and overground walking using kinematic data",
Gait & Posture 27:710-714 (the coordinate-based method): along the direction of progression,
**foot strike** is a maximum of the heel position relative to the pelvis and **foot off** a
minimum of the toe position relative to the pelvis.

"Relative to the pelvis" is taken from the pelvis centre (mean of the ASIS midpoint and the
rear pelvis point: SACR or the PSIS midpoint, per frame), and the direction of progression
per frame is the horizontal anterior axis of the pelvis (ASIS midpoint minus rear point),
which follows the walker along either direction of a walkway.

**Gaps.** Where the primary foot point (HEE for strikes, TOE for foot offs) is missing, the
signal is completed for that stretch from the next available stand-in (strikes: the model's
``AJC``, then ``ANK``; foot offs: ``ANK``, ``AJC``, then ``HEE``), shifted by the offset
between the two signals measured just before and just after the gap (linear across it) so the
completed signal is continuous. An extremum found on a stand-in stretch is moved by the lag
of the stand-in's extrema behind the primary's, measured on this trial's strides where both
are present (else the documented default, :data:`DEFAULT_LAG_S`), and reported in its
:class:`EventDetail` and in the notes. Stretches where no foot point exists are reported as
``missing`` (an event there cannot be detected), as are same-kind events further apart than
1.5 times the (lower) median interval.

**Refinement.** A heel-based strike is moved to the end of the heel's descent (first local
minimum of the heel height, smoothed over ``refine_smooth_s``, within ``refine_strike_s``)
only when that minimum lies within ``refine_floor_mm`` of the heel's stance height (5th
percentile of its height in the trial), i.e. only when the heel has reached the floor. On
Vicon's reference walks this moves strikes from 40-90 ms early to within a few frames of the
file events; on walks where the heel is still well above the floor there (the synthetic
samples) the plain Zeni maximum is kept. Measured errors: docs/events.md.

Peaks are found with :func:`scipy.signal.find_peaks` on each run of valid frames (never across
a gap), at least
``min_interval_s`` apart and with a prominence of at least ``min_prominence_mm``: an event at
the very start or end of a trial is detected only when the signal falls by that much on both
sides of the extremum within the data; a peak at the edge of a run is not an event.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from core.model import (EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, SIDE_PREFIX, SIDES, GaitEvent,
                        ModelOutputs, Trial, frame_to_time)

GAIT_LABELS = (EVENT_FOOT_STRIKE, EVENT_FOOT_OFF)

#: Foot points per event label, primary first, then the stand-ins in order of preference.
FOOT_POINTS = {EVENT_FOOT_STRIKE: ("HEE", "AJC", "ANK"), EVENT_FOOT_OFF: ("TOE", "ANK", "AJC", "HEE")}

#: Default lag (s) of a stand-in's extrema behind the true events, used when the trial has no
#: event found from the primary point to measure it on: medians over Vicon's events of the
#: reference walks with heel markers (docs/events.md): ANK maxima 40-67 ms before foot strike
#: (median 50 ms), ANK minima 15-50 ms before foot off (40 ms), HEE minima 25-67 ms (55 ms).
#: AJC lies on the same flexion axis as ANK and takes its values.
DEFAULT_LAG_S = {(EVENT_FOOT_STRIKE, "AJC"): -0.05, (EVENT_FOOT_STRIKE, "ANK"): -0.05,
                 (EVENT_FOOT_OFF, "ANK"): -0.04, (EVENT_FOOT_OFF, "AJC"): -0.04,
                 (EVENT_FOOT_OFF, "HEE"): -0.05}


@dataclass(frozen=True)
class EventDetectionSettings:
    """Settings of the Zeni 2008 detector.

    min_interval_s: minimum time between two events of the same kind and side (s).
    min_prominence_mm: minimum prominence of a heel maximum / toe minimum (mm).
    refine_strike_s: window after a heel maximum searched for the end of the heel's descent
        (s); 0 keeps the plain Zeni maxima.
    refine_smooth_s: width of the centred moving average applied to the heel height before
        looking for the end of its descent (s).
    refine_floor_mm: the end of the descent is used only within this distance of the heel's
        stance height (mm).
    """

    min_interval_s: float = 0.5
    min_prominence_mm: float = 40.0
    refine_strike_s: float = 0.15
    refine_smooth_s: float = 0.05
    refine_floor_mm: float = 15.0


@dataclass(frozen=True)
class EventDetail:
    """How one detected event was found.

    event: the event. point: label of the point whose extremum gave it (e.g. ``"LHEE"``,
    ``"LANK"``, ``"LAJC"``). fallback: True when a stand-in replaced the primary point.
    refined: True when the heel-descent refinement moved it. note: one line for a reader
    (empty for a plain primary-point event).
    """

    event: GaitEvent
    point: str
    fallback: bool = False
    refined: bool = False
    note: str = ""


@dataclass(frozen=True)
class EventDetection:
    """Result of :func:`detect_events_detailed`.

    events: sorted detected events. details: one :class:`EventDetail` per event, same order.
    notes: substitutions made (stand-in points). missing: stretches where events may be
    missing (no foot point, or an interval far longer than the others), one line each.
    """

    events: tuple[GaitEvent, ...]
    details: tuple[EventDetail, ...]
    notes: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class TrialEvents:
    """The events used for a trial.

    events: sorted gait events. detected: True when they were detected from kinematics
    because the file had no foot strike/off events. notes: what the detector substituted
    (e.g. ankle marker for a missing heel marker) and where events may be missing.
    details: per detected event, how it was found. missing: the ``missing`` lines alone (a
    caller reports them as a quality issue).
    """

    events: tuple[GaitEvent, ...]
    detected: bool
    notes: tuple[str, ...] = ()
    details: tuple[EventDetail, ...] = ()
    missing: tuple[str, ...] = ()


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


def signal_extrema(signal: np.ndarray, rate_hz: float, maxima: bool,
                   settings: EventDetectionSettings = EventDetectionSettings()) -> np.ndarray:
    """Row indices of the maxima (or minima) of a 1-D signal with NaN gaps.

    signal: ``(F,)`` mm. Each run of valid samples is searched separately.
    """
    from scipy.signal import find_peaks  # deferred: ~0.7 s to import, needed only to detect events
    sig = signal if maxima else -signal
    distance = max(1, int(round(settings.min_interval_s * rate_hz)))
    rows: list[np.ndarray] = []
    for a, b in _runs(~np.isnan(sig)):
        if b - a < 3:
            continue
        peaks, _ = find_peaks(sig[a:b], distance=distance, prominence=settings.min_prominence_mm)
        rows.append(peaks + a)
    return np.concatenate(rows).astype(int) if rows else np.zeros(0, dtype=int)


def _point(trial: Trial, outputs: Optional[ModelOutputs], side: str, name: str) -> Optional[np.ndarray]:
    """``(F, 3)`` mm of a foot point (a marker, or ``AJC`` from the model outputs), or None."""
    label = SIDE_PREFIX[side] + name
    if name != "AJC":
        return _marker(trial, label)
    if outputs is None or label not in outputs.channels or outputs.first_frame != trial.first_frame:
        return None
    xyz = np.asarray(outputs.channels[label], dtype=float)
    return None if xyz.shape != (trial.n_frames, 3) or np.isnan(xyz).all() else xyz


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of ``x`` ``(F,)`` over ``width`` samples (made odd).

    NaN where the window is not complete (the edges, and around every missing sample).
    """
    x = np.asarray(x, dtype=float)
    w = int(width) | 1
    out = np.full(x.shape, np.nan)
    if w <= 1:
        return x.copy()
    h = w // 2
    if x.size < w:
        return out
    total = np.concatenate(([0.0], np.cumsum(np.nan_to_num(x))))
    bad = np.concatenate(([0], np.cumsum(np.isnan(x))))
    i = np.arange(h, x.size - h)
    nbad = bad[i + h + 1] - bad[i - h]
    out[i] = np.where(nbad == 0, (total[i + h + 1] - total[i - h]) / w, np.nan)
    return out


def refine_strikes(rows: np.ndarray, height: np.ndarray, rate_hz: float, window_s: float,
                   smooth_s: float = 0.0, floor_mm: Optional[float] = None) -> np.ndarray:
    """Move each heel-based foot-strike row to the end of the heel's descent, where it is on the floor.

    Zeni's heel maximum comes some 40-90 ms before the contact that Vicon (force plate or
    visual) marks on real walks, because the heel is still descending. The end of the
    descent is the first local minimum of the heel height ``(F,)`` mm (after a centred moving
    average over ``smooth_s``, so that marker noise makes no spurious minima) within
    ``window_s`` after the candidate. It replaces the candidate only when it is within
    ``floor_mm`` of the heel's stance height (5th percentile of the valid heights), i.e. when
    the heel has reached the floor there; otherwise the candidate is kept.
    """
    n = max(1, int(round(window_s * rate_hz)))
    z = moving_average(height, int(round(smooth_s * rate_hz)))
    floor = np.nanpercentile(height, 5) if np.isfinite(height).any() else np.nan
    out = np.asarray(rows, dtype=int).copy()
    for k, r in enumerate(out):  # a loop over events, not frames
        seg = z[r:r + n + 2]
        dz = np.diff(seg)
        stop = np.flatnonzero((dz[:-1] < 0) & (dz[1:] >= 0)) + 1 if dz.size > 1 else np.zeros(0, int)
        if not stop.size or np.isnan(seg[: stop[0] + 2]).any():
            continue
        if floor_mm is None or abs(seg[stop[0]] - floor) <= floor_mm:
            out[k] = r + stop[0]
    return out


def _offset(sig: np.ndarray, fb: np.ndarray, lo: int, hi: int) -> float:
    d = sig[max(lo, 0):max(hi, 0)] - fb[max(lo, 0):max(hi, 0)]
    d = d[~np.isnan(d)]
    return float(np.median(d)) if d.size else np.nan


def complete_signal(sig: np.ndarray, fb: np.ndarray, n_edge: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Fill the NaN rows of ``sig`` ``(F,)`` with the stand-in ``fb`` ``(F,)`` plus an offset.

    The offset is the median ``sig - fb`` over the ``n_edge`` rows before and after each
    filled stretch, linear across it (one side's value if the other has none, the median
    over the whole trial if neither has). Returns the completed signal and the filled mask.
    """
    hole = np.isnan(sig) & ~np.isnan(fb)
    out = sig.copy()
    both = ~np.isnan(sig) & ~np.isnan(fb)
    whole = float(np.median(sig[both] - fb[both])) if both.any() else 0.0
    for a, b in _runs(hole):  # a loop over gaps, not frames
        left, right = _offset(sig, fb, a - n_edge, a), _offset(sig, fb, b, b + n_edge)
        left = right if np.isnan(left) else left
        right = left if np.isnan(right) else right
        if np.isnan(left):
            left = right = whole
        w = (np.arange(a, b) - a + 1) / (b - a + 1)
        out[a:b] = fb[a:b] + left + (right - left) * w
    return out, hole


def _lag(events: np.ndarray, fb: np.ndarray, rate: float, maxima: bool,
         settings: EventDetectionSettings, default_s: float) -> tuple[int, bool]:
    """Median lag (rows) of the stand-in's extrema behind the primary-point events, and whether measured.

    events: rows of the events found from the primary point (refined where they were).
    """
    b = signal_extrema(fb, rate, maxima, settings)
    if events.size and b.size:
        d = b[np.abs(b[None, :] - events[:, None]).argmin(axis=1)] - events
        d = d[np.abs(d) <= 0.3 * rate]
        if d.size:
            return int(round(float(np.median(d)))), True
    return int(round(default_s * rate)), False


def _ranges(mask: np.ndarray, first_frame: int) -> str:
    return ", ".join(f"{first_frame + a}-{first_frame + b - 1}" for a, b in _runs(mask))


def _detect_kind(trial: Trial, outputs: Optional[ModelOutputs], side: str, label: str,
                 centre: np.ndarray, direction: np.ndarray, settings: EventDetectionSettings
                 ) -> tuple[list[EventDetail], list[str], list[str]]:
    """Events of one label and side: details, notes, missing lines."""
    rate, p, maxima = trial.point_rate_hz, SIDE_PREFIX[side], label == EVENT_FOOT_STRIKE
    kind = f"{side.lower()} {label.lower()}s"
    names = FOOT_POINTS[label]
    rel = {}
    for n in names:
        xyz = _point(trial, outputs, side, n)
        if xyz is not None:
            rel[n] = np.einsum("fi,fi->f", xyz - centre, direction)
    if not rel:
        return [], [], [f"no {'/'.join(p + n for n in names)}: {kind} not detected"]
    primary = rel.get(names[0], np.full(trial.n_frames, np.nan))
    sig, src = primary.copy(), np.where(np.isnan(primary), -1, 0)
    for k, n in enumerate(names[1:], 1):
        if n in rel and np.isnan(sig).any():
            sig, filled = complete_signal(sig, rel[n])
            src[filled] = k
    rows = signal_extrema(sig, rate, maxima, settings)
    refined = rows.copy()
    if maxima and settings.refine_strike_s > 0 and names[0] in rel:
        refined = refine_strikes(rows, _point(trial, outputs, side, names[0])[:, 2], rate,
                                 settings.refine_strike_s, settings.refine_smooth_s, settings.refine_floor_mm)
    details, notes, lags = [], [], {}
    own = refined[src[rows] == 0]
    for r, r2 in zip(rows, refined):
        k = int(src[r])
        point, note = p + names[k], ""
        if k > 0:
            if k not in lags:
                lags[k] = _lag(own, rel[names[k]], rate, maxima, settings, DEFAULT_LAG_S[(label, names[k])])
            lag, measured = lags[k]
            r2 = int(np.clip(r - lag, 0, trial.n_frames - 1))
            note = (f"from {point} ({p}{names[0]} missing there; lag {lag:+d} frames, "
                    f"{'measured on this trial' if measured else 'default'})")
        frame = trial.first_frame + int(r2)
        ev = GaitEvent(label, side, frame, float(frame_to_time(frame, rate)), "detected")
        details.append(EventDetail(ev, point, k > 0, k == 0 and r2 != r, note))
    for k in sorted(lags):
        frames = [d.event.frame for d in details if d.point == p + names[k]]
        notes.append(f"{p}{names[0]} missing in frames {_ranges(np.isnan(primary), trial.first_frame)}: {kind} at "
                     f"frames {', '.join(map(str, frames))} detected from {p}{names[k]} "
                     f"(lag {lags[k][0]:+d} frames, {'measured' if lags[k][1] else 'default'})")
    return details, notes, _missing(sig, details, kind, p, names, trial.first_frame)


def _missing(sig: np.ndarray, details: list[EventDetail], kind: str, p: str, names: Sequence[str],
             first_frame: int) -> list[str]:
    """Lines for stretches without a foot point and for intervals far longer than the others."""
    out = []
    if np.isnan(sig).any():
        out.append(f"no {'/'.join(p + n for n in names)} (or no pelvis) in frames "
                   f"{_ranges(np.isnan(sig), first_frame)}: {kind} there may be missing")
    frames = np.array(sorted(d.event.frame for d in details))
    if frames.size >= 3:
        gaps = np.diff(frames)
        med = float(np.sort(gaps)[(gaps.size - 1) // 2])  # lower median: of two, the shorter
        for i in np.flatnonzero(gaps > 1.5 * med):
            out.append(f"{kind} at frames {frames[i]} and {frames[i + 1]} are {gaps[i]} frames apart "
                       f"(typical {med:.0f}): one may be missing")
    return out


def detect_events_detailed(trial: Trial, outputs: Optional[ModelOutputs] = None,
                           settings: EventDetectionSettings = EventDetectionSettings()) -> EventDetection:
    """Foot strikes and foot offs detected from marker kinematics (Zeni et al. 2008), with how.

    Parameters
    ----------
    trial: the walking trial (markers in mm: pelvis, HEE/TOE and ANK per side).
    outputs: CGM1 outputs of the trial (``LAJC``/``RAJC`` are stand-ins for missing heels).
    settings: :class:`EventDetectionSettings`.

    Returns
    -------
    :class:`EventDetection`: events sorted by frame (``source="detected"``, C3D frame
    numbers), their details, the stand-in notes and the possibly-missing lines.
    """
    centre, direction = pelvis_centre_and_direction(trial)
    details: list[EventDetail] = []
    notes: list[str] = []
    missing: list[str] = []
    for side in SIDES:
        for label in GAIT_LABELS:
            d, n, m = _detect_kind(trial, outputs, side, label, centre, direction, settings)
            details += d
            notes += n
            missing += m
    details.sort(key=lambda d: (d.event.frame, d.event.context, d.event.label))
    return EventDetection(tuple(d.event for d in details), tuple(details), tuple(notes), tuple(missing))


def detect_events(trial: Trial, outputs: Optional[ModelOutputs] = None,
                  settings: EventDetectionSettings = EventDetectionSettings(),
                  notes: Optional[list[str]] = None) -> tuple[GaitEvent, ...]:
    """Foot strikes and foot offs detected from marker kinematics (Zeni et al. 2008).

    Parameters
    ----------
    trial: the walking trial (markers in mm, pelvis and HEE/TOE markers per side).
    outputs: CGM1 outputs of the trial, used for ``LAJC``/``RAJC`` when a heel marker is missing.
    settings: minimum interval and prominence of the extrema, heel refinement.
    notes: if given, receives one line per substitution made and per stretch where events
        may be missing.

    Returns
    -------
    Sorted events with ``source="detected"``, frames as C3D frame numbers. See
    :func:`detect_events_detailed` for how each was found.
    """
    res = detect_events_detailed(trial, outputs, settings)
    if notes is not None:
        notes += list(res.notes) + list(res.missing)
    return res.events


def trial_events(trial: Trial, outputs: Optional[ModelOutputs] = None,
                 settings: EventDetectionSettings = EventDetectionSettings()) -> TrialEvents:
    """The events of a trial: the file's when it has foot strike/off events, else detected.

    Other file events (e.g. ``General`` ones) are kept in either case. Detected events come
    with their details and the lines saying where events may be missing.
    """
    if gait_events(trial.events):
        return TrialEvents(tuple(trial.events), detected=False)
    res = detect_events_detailed(trial, outputs, settings)
    merged = sorted(tuple(trial.events) + res.events, key=lambda e: (e.frame, e.context, e.label))
    return TrialEvents(tuple(merged), detected=True, notes=res.notes + res.missing,
                       details=res.details, missing=res.missing)


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
