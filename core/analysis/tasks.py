"""Task and side of a trial, and the task windows in which valgus is judged (docs/valgus.md).

Task and stance side come, in order, from: an explicit user choice; the C3D ``GENULAB``
group (``GENULAB:TASK``, ``GENULAB:SIDE``); keywords of the trial name; detection from the
kinematics (walking = the pelvis travels; the stance side of a single-leg task is the foot
that stays on the floor). :class:`core.analysis.TaskDecision` records the rule that decided.

Windows (C3D frames, inclusive):

* ``walk``: stance of each gait cycle, foot strike to foot off (events of the file or
  detected, Zeni et al. 2008); gait-cycle percent from foot strike to the next foot strike.
* ``sls``: each repetition from the start of the descent to the return, found from the
  knee-flexion peaks of the stance leg (``scipy.signal.find_peaks`` with a prominence).
* ``sl_stance``: the whole hold (the longest run with the other foot lifted).
* ``drop_jump`` / ``sl_landing``: initial contact (the foot reaching the floor level after
  being airborne) to the peak knee flexion that follows.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

from core.analysis.types import SINGLE_LEG_TASKS, TASKS, AnalysisSettings, TaskDecision, TaskWindow
from core.gait.trial_task import (SIDE_ALIASES, TASK_ALIASES, WALK_TRAVEL_MM, canonical_side,  # noqa: F401
                                  canonical_task, pelvis_travel_mm, task_from_name)
from core.errors import AnalysisError
from core.model import SIDE_PREFIX, SIDES, ModelOutputs, Trial

# --------------------------------------------------------------------------------------
# foot height and detection
# --------------------------------------------------------------------------------------
def foot_height(trial: Optional[Trial], outputs: Optional[ModelOutputs], side: str) -> np.ndarray:
    """``(F,)`` height (mm, lab Z) of the lowest of the foot's HEE, TOE, ANK markers.

    Falls back on the ankle joint centre of the model outputs when the markers are absent.
    """
    p = SIDE_PREFIX[side]
    cols = []
    if trial is not None:
        cols = [trial.point(f"{p}{m}")[:, 2] for m in ("HEE", "TOE", "ANK") if trial.has(f"{p}{m}")]
    if not cols and outputs is not None and f"{p}AJC" in outputs.channels:
        cols = [np.asarray(outputs.channels[f"{p}AJC"])[:, 2]]
    if not cols:
        raise AnalysisError(f"no foot markers ({p}HEE/{p}TOE/{p}ANK) nor {p}AJC to locate the {side.lower()} foot")
    stack = np.stack(cols, axis=1)
    out = np.full(stack.shape[0], np.nan)
    ok = np.isfinite(stack).any(axis=1)
    out[ok] = np.nanmin(stack[ok], axis=1)
    return out


def floor_level(heights: Iterable[np.ndarray]) -> float:
    """Floor level (mm): the 2nd percentile of the lowest foot over the trial."""
    h = np.stack(list(heights), axis=1)
    low = np.nanmin(np.where(np.isfinite(h), h, np.inf), axis=1)
    low = low[np.isfinite(low)]
    if low.size == 0:
        raise AnalysisError("the feet are never visible: cannot locate the floor")
    return float(np.percentile(low, 2.0))


def detect_task(trial: Optional[Trial], outputs: Optional[ModelOutputs],
                settings: AnalysisSettings = AnalysisSettings()) -> tuple[str, Optional[str], str]:
    """Detect task and stance side from the kinematics.

    Returns (task, side or None, sentence saying why). Raises AnalysisError when undecidable.
    """
    travel = pelvis_travel_mm(trial, outputs)
    if np.isfinite(travel) and travel > WALK_TRAVEL_MM:
        return "walk", None, f"the pelvis travels {travel:.0f} mm (> {WALK_TRAVEL_MM:.0f} mm)"
    h = {s: foot_height(trial, outputs, s) for s in SIDES}
    floor = floor_level(h.values())
    near = 2.0 * settings.contact_height_mm
    grounded = {s: np.isfinite(h[s]) & (h[s] <= floor + near) for s in SIDES}
    frac = {s: float(grounded[s].mean()) for s in SIDES}
    n0 = max(3, len(h["Left"]) // 20)
    start_air = all(not grounded[s][:n0].any() for s in SIDES)
    if start_air:
        end_on = [s for s in SIDES if grounded[s][-n0:].all()]
        if len(end_on) == 2:
            return "drop_jump", None, "both feet start above the floor and land"
        if len(end_on) == 1:
            return "sl_landing", end_on[0], f"both feet start above the floor; only the {end_on[0].lower()} foot lands"
    stance = max(SIDES, key=lambda s: frac[s])
    other = "Left" if stance == "Right" else "Right"
    if frac[stance] >= 0.8 and frac[other] <= 0.5:
        knee = outputs.channels.get(f"{SIDE_PREFIX[stance]}KneeAngles") if outputs is not None else None
        rom = float(np.nanmax(knee[:, 0]) - np.nanmin(knee[:, 0])) if knee is not None else 0.0
        why = (f"the {stance.lower()} foot stays on the floor ({100 * frac[stance]:.0f} % of frames), "
               f"the {other.lower()} foot is lifted ({100 * (1 - frac[other]):.0f} %)")
        if rom >= settings.sls_min_prominence_deg:
            return "sls", stance, why + f"; stance knee flexion range {rom:.0f} deg"
        return "sl_stance", stance, why + f"; stance knee flexion range {rom:.0f} deg"
    raise AnalysisError("cannot tell the task from the kinematics; give it explicitly (--task, --side)",
                        trial.path if trial is not None else None)


def decide_task(trial: Trial, outputs: Optional[ModelOutputs] = None, task: Optional[str] = None,
                side: Optional[str] = None, settings: AnalysisSettings = AnalysisSettings()) -> TaskDecision:
    """Task and stance side of a trial by the rules of docs/valgus.md, with the deciding rule.

    Rules in order: ``"user"`` (arguments), ``"c3d GENULAB"`` (``GENULAB:TASK``/``SIDE``),
    ``"trial name"`` (keywords), ``"detected"`` (:func:`detect_task`). Task and side are
    decided separately (e.g. task from the GENULAB group, side detected).
    """
    if task is not None and canonical_task(task) is None:
        raise AnalysisError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    if side is not None and canonical_side(side) is None:
        raise AnalysisError(f"unknown side {side!r} (Left/Right, L/R)")
    name_task, name_side = task_from_name(trial.name)
    params = trial.parameters
    task_candidates = [("user", canonical_task(task)), ("c3d GENULAB", canonical_task(params.get("GENULAB:TASK"))),
                       ("trial name", name_task)]
    side_candidates = [("user", canonical_side(side)), ("c3d GENULAB", canonical_side(params.get("GENULAB:SIDE"))),
                       ("trial name", name_side)]
    t_rule, t = next(((r, v) for r, v in task_candidates if v), (None, None))
    detected = None
    if t is None:
        detected = detect_task(trial, outputs, settings)
        t_rule, t = "detected", detected[0]
    if t not in SINGLE_LEG_TASKS:
        return TaskDecision(t, None, t_rule, "not applicable", _detail(t_rule, t, detected))
    s_rule, s = next(((r, v) for r, v in side_candidates if v), (None, None))
    if s is None:
        detected = detected or detect_task(trial, outputs, settings)
        if detected[1] is None:
            raise AnalysisError(f"cannot tell the stance side of {t}; give it (--side)", trial.path)
        s_rule, s = "detected", detected[1]
    return TaskDecision(t, s, t_rule, s_rule, _detail(t_rule, t, detected))


def _detail(rule: str, task: str, detected) -> str:
    if rule == "detected" and detected is not None:
        return f"task {task} detected: {detected[2]}"
    return f"task {task} from the {rule}"


# --------------------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------------------
def stance_windows(cycles: Sequence, side: str) -> tuple[TaskWindow, ...]:
    """Stance windows (foot strike .. foot off, inclusive) of the complete cycles of a side.

    cycles: objects with ``side``, ``start_frame``, ``foot_off_frame``, ``end_frame``
    (core.gait.cycles.GaitCycle); cycles without a foot off are skipped.
    """
    own = sorted((c for c in cycles if c.side == side and c.foot_off_frame is not None),
                 key=lambda c: c.start_frame)
    return tuple(TaskWindow("stance", i, side, int(c.start_frame), int(c.foot_off_frame),
                            cycle_start_frame=int(c.start_frame), cycle_end_frame=int(c.end_frame))
                 for i, c in enumerate(own))


def _filled(x: np.ndarray) -> np.ndarray:
    """NaN gaps linearly interpolated (for peak finding only)."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return np.where(ok, x, 0.0)
    idx = np.arange(x.size)
    return np.interp(idx, idx[ok], x[ok])


def squat_repetitions(flexion: np.ndarray, first_frame: int, side: str,
                      settings: AnalysisSettings = AnalysisSettings()) -> tuple[TaskWindow, ...]:
    """Single-leg squat repetitions from the stance knee's flexion peaks.

    A repetition runs from the start of the descent (last frame before the peak at or
    below baseline + f x (peak - baseline)) to the return (first frame after the peak at
    or below that level on the other side), baseline = the trough between neighbouring
    peaks, f = ``settings.sls_start_fraction``.
    """
    from scipy.signal import find_peaks   # imported here: scipy.signal is slow to import
    x = _filled(np.asarray(flexion, dtype=float))
    peaks, _ = find_peaks(x, prominence=settings.sls_min_prominence_deg,
                          height=settings.sls_min_peak_flexion_deg)
    bounds = np.concatenate([[0], peaks, [x.size - 1]])
    out = []
    for i, p in enumerate(peaks):
        lo, hi = bounds[i], bounds[i + 2]
        left = x[lo:p + 1]
        right = x[p:hi + 1]
        lvl_l = left.min() + settings.sls_start_fraction * (x[p] - left.min())
        lvl_r = right.min() + settings.sls_start_fraction * (x[p] - right.min())
        below_l = np.flatnonzero(left <= lvl_l)
        below_r = np.flatnonzero(right <= lvl_r)
        start = lo + (below_l[-1] if below_l.size else 0)
        end = p + (below_r[0] if below_r.size else right.size - 1)
        out.append(TaskWindow("repetition", i, side, first_frame + int(start), first_frame + int(end),
                              peak_frame=first_frame + int(p)))
    return tuple(out)


def stance_hold(stance_h: np.ndarray, other_h: np.ndarray, first_frame: int, side: str,
                settings: AnalysisSettings = AnalysisSettings()) -> tuple[TaskWindow, ...]:
    """Single-leg stance hold: the longest run of frames with the other foot lifted.

    The other foot counts as lifted above floor + 2 x ``contact_height_mm``; without such
    frames the whole trial is the hold.
    """
    floor = floor_level([stance_h, other_h])
    lifted = np.isfinite(other_h) & (other_h > floor + 2.0 * settings.contact_height_mm)
    edges = np.diff(np.concatenate([[0], lifted.astype(np.int8), [0]]))
    s, e = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if s.size == 0:
        return (TaskWindow("hold", 0, side, first_frame, first_frame + len(stance_h) - 1),)
    k = int(np.argmax(e - s))
    return (TaskWindow("hold", 0, side, first_frame + int(s[k]), first_frame + int(e[k])),)


def landing_windows(height: np.ndarray, flexion: np.ndarray, floor: float, first_frame: int,
                    side: str, settings: AnalysisSettings = AnalysisSettings()) -> tuple[TaskWindow, ...]:
    """Landing windows of one foot: initial contact to the following peak knee flexion.

    Initial contact = the first frame at or below floor + ``contact_height_mm`` after the
    foot was airborne (above that level). The peak is the first knee-flexion maximum
    (prominence 5 deg) after contact and before the foot leaves the floor again (else the
    maximum over that span).
    """
    from scipy.signal import find_peaks   # imported here: scipy.signal is slow to import
    h = np.asarray(height, dtype=float)
    on = np.isfinite(h) & (h <= floor + settings.contact_height_mm)
    air = np.isfinite(h) & ~on
    contacts = np.flatnonzero(on[1:] & air[:-1]) + 1
    x = _filled(np.asarray(flexion, dtype=float))
    out = []
    for i, c in enumerate(contacts):
        off = np.flatnonzero(air[c:])
        stop = c + (int(off[0]) if off.size else h.size - c)
        seg = x[c:stop]
        if seg.size < 2:
            continue
        pk, _ = find_peaks(seg, prominence=5.0)
        p = c + int(pk[0] if pk.size else np.argmax(seg))
        out.append(TaskWindow("landing", len(out), side, first_frame + int(c), first_frame + int(p),
                              peak_frame=first_frame + int(p)))
    return tuple(out)


def task_windows(decision: TaskDecision, trial: Optional[Trial], outputs: ModelOutputs,
                 cycles: Sequence = (), settings: AnalysisSettings = AnalysisSettings()
                 ) -> dict[str, tuple[TaskWindow, ...]]:
    """Task windows per analysed side (both sides for walk and drop_jump, else the stance side).

    Raises InsufficientEventsError-like AnalysisError when a walking trial has no cycle.
    """
    ff = outputs.first_frame
    task = decision.task
    if task == "walk":
        return {s: stance_windows(cycles, s) for s in SIDES}
    knee = {s: np.asarray(outputs.channels[f"{SIDE_PREFIX[s]}KneeAngles"])[:, 0]
            for s in SIDES if f"{SIDE_PREFIX[s]}KneeAngles" in outputs.channels}
    side = decision.side
    if task == "sls":
        if side not in knee:
            raise AnalysisError(f"{side} knee angles are missing: cannot find squat repetitions")
        return {side: squat_repetitions(knee[side], ff, side, settings)}
    h = {s: foot_height(trial, outputs, s) for s in SIDES}
    if task == "sl_stance":
        other = "Left" if side == "Right" else "Right"
        return {side: stance_hold(h[side], h[other], ff, side, settings)}
    floor = floor_level(h.values())
    sides = SIDES if task == "drop_jump" else (side,)
    missing = [s for s in sides if s not in knee]
    if missing:
        raise AnalysisError(f"knee angles of {', '.join(missing)} are missing: cannot find landings")
    return {s: landing_windows(h[s], knee[s], floor, ff, s, settings) for s in sides}


# --------------------------------------------------------------------------------------
# windows edited by the user
# --------------------------------------------------------------------------------------
def analysed_sides(decision: TaskDecision) -> tuple[str, ...]:
    """Sides whose windows a task analyses: both for walk and drop_jump, else the stance side."""
    return SIDES if decision.task in ("walk", "drop_jump") else (decision.side,)


def user_windows(decision: TaskDecision, windows: Sequence[TaskWindow], side: str, first_frame: int,
                 n_frames: int, trial_name: str, flexion: Optional[np.ndarray] = None
                 ) -> tuple[TaskWindow, ...]:
    """Check and normalise task windows given by the user for one side of a trial.

    The windows are sorted by start, re-indexed 0.., given the side and the task's window
    kind (:data:`core.analysis.WINDOW_KIND`); cycle frames are kept for walking only. For
    repetitions and landings without a peak inside the window, the peak is the frame of
    maximum knee flexion in it (``flexion``: ``(F,)`` deg of that side, if given).

    Raises
    ------
    AnalysisError naming the trial: a side the task does not analyse, a window outside the
    trial's frames ``first_frame .. first_frame + n_frames - 1``, ending before it starts,
    or overlapping another window.
    """
    from core.analysis.types import WINDOW_KIND
    if side not in analysed_sides(decision):
        raise AnalysisError(f"{trial_name}: task windows given for the {side} side, which the "
                            f"{decision.task} task does not analyse (sides: {', '.join(analysed_sides(decision))})")
    last = first_frame + n_frames - 1
    ws = sorted(windows, key=lambda w: (int(w.start_frame), int(w.end_frame)))
    for w in ws:
        a, b = int(w.start_frame), int(w.end_frame)
        if b < a:
            raise AnalysisError(f"{trial_name}: {side} task window {a}-{b} ends before it starts")
        if a < first_frame or b > last:
            raise AnalysisError(f"{trial_name}: {side} task window {a}-{b} lies outside the trial's "
                                f"frames {first_frame}-{last}")
    for prev, w in zip(ws, ws[1:]):
        if int(w.start_frame) <= int(prev.end_frame):
            raise AnalysisError(f"{trial_name}: {side} task windows {prev.start_frame}-{prev.end_frame} and "
                                f"{w.start_frame}-{w.end_frame} overlap")
    kind = WINDOW_KIND[decision.task]
    out = []
    for i, w in enumerate(ws):
        a, b = int(w.start_frame), int(w.end_frame)
        peak = w.peak_frame if w.peak_frame is not None and a <= w.peak_frame <= b else None
        if peak is None and kind in ("repetition", "landing") and flexion is not None:
            seg = np.asarray(flexion, dtype=float)[a - first_frame:b - first_frame + 1]
            if np.isfinite(seg).any():
                peak = a + int(np.nanargmax(seg))
        walk = decision.task == "walk"
        out.append(TaskWindow(kind, i, side, a, b, None if peak is None else int(peak),
                              w.cycle_start_frame if walk else None, w.cycle_end_frame if walk else None))
    return tuple(out)
