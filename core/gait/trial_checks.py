"""Plausibility checks of a trial that become quality issues (never silent, never fatal).

Each function takes plain engine objects and returns what it changed (if anything) and the
``QualityIssue``s a user must see: a capture cut short, events outside the frames, repeated
or side-less events, strides left out of the cycles, implausible stance, a moving 'static'.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.gait.cycles import GaitCycle, skipped_strides, unique_events
from core.io.c3d_read import DECLARED_FRAMES_KEY
from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent, QualityIssue, Trial

#: mean stance (% of the cycle) of a side outside this range is implausible for walking: about
#: 60 % normally (Perry & Burnfield 2010); foot strikes and offs swapped give 100 - stance (< 50);
#: the upper bound leaves room for slow or pathological gait (Vicon's Test_Files/Movement_trial:
#: 73.8 % left, a real slow walk)
STANCE_PLAUSIBLE_PCT = (50.0, 75.0)


def within_frames(trial: Trial) -> tuple[Trial, list[QualityIssue]]:
    """Drop file events outside the trial's frames; report a file holding fewer frames than it declares.

    A capture cut short (e.g. an interrupted copy ending on a block boundary) is read as
    what it holds; its events beyond the last frame would otherwise make cycles without data.
    """
    issues = []
    declared = trial.parameters.get(DECLARED_FRAMES_KEY)
    if declared is not None and trial.n_frames < int(declared):
        issues.append(QualityIssue("warning", "truncated",
                                   f"the file declares {int(declared)} frames but holds {trial.n_frames} "
                                   f"(frames {trial.first_frame}-{trial.last_frame}): the capture may have been cut "
                                   "short (truncated copy?)", trial.name))
    inside = tuple(e for e in trial.events if trial.first_frame <= e.frame <= trial.last_frame)
    if len(inside) < len(trial.events):
        n = len(trial.events) - len(inside)
        issues.append(QualityIssue("warning", "events-outside", f"{n} event(s) of the file lie outside its frames "
                                   f"{trial.first_frame}-{trial.last_frame} and were ignored", trial.name))
        trial = trial.with_changes(events=inside)
    return trial, issues


#: a standing (static) trial whose pelvis travels further than this is probably not one
STATIC_MAX_TRAVEL_MM = 200.0


def static_motion_warning(trial: Trial) -> tuple[str, ...]:
    """A warning when the 'static' trial moves like a walk (wrong file chosen as the static)."""
    from core.gait.session import pelvis_travel_mm
    travel = pelvis_travel_mm(trial)
    if np.isfinite(travel) and travel > STATIC_MAX_TRAVEL_MM:
        return (f"warning: the static trial {trial.name} is not still: its pelvis travels {travel:.0f} mm "
                f"(a standing trial moves less than {STATIC_MAX_TRAVEL_MM:.0f} mm); is it the right file?",)
    return ()


def file_event_issues(trial: Trial) -> tuple[Trial, list[GaitEvent], list[QualityIssue]]:
    """Exact repeats of file events dropped (noted), and the file's foot strikes/offs whose
    context is 'General' (no side: they cannot make cycles)."""
    kept, repeats = unique_events(trial.events)
    issues = []
    if repeats:
        listed = ", ".join(f"{e.context} {e.label} {e.frame}" for e in repeats[:8]) + (" ..." if len(repeats) > 8 else "")
        issues.append(QualityIssue("warning", "duplicate-events",
                                   f"{len(repeats)} repeated event(s) of the file (same frame, side and label) "
                                   f"ignored: {listed}", trial.name))
        trial = trial.with_changes(events=kept)
    general = [e for e in trial.events if e.label in (EVENT_FOOT_STRIKE, EVENT_FOOT_OFF) and e.context == "General"]
    return trial, general, issues


def cycle_issues(trial: Trial, events: Sequence[GaitEvent], cycles: Sequence[GaitCycle]) -> list[QualityIssue]:
    """Strides left out of the cycles (with frames and reason) and implausible mean stance."""
    issues = []
    lo, hi = STANCE_PLAUSIBLE_PCT
    for side in ("Left", "Right"):
        skipped = skipped_strides(events, side)
        if skipped:
            where = ", ".join(f"{a}-{b} ({why})" for a, b, why in skipped)
            issues.append(QualityIssue("warning", "cycles-dropped",
                                       f"{len(skipped)} {side.lower()} stride(s) not used as gait cycles: frames {where}",
                                       trial.name, side))
        stance = [c.foot_off_percent for c in cycles if c.side == side and c.foot_off_percent is not None]
        if stance and not lo <= float(np.mean(stance)) <= hi:
            issues.append(QualityIssue("warning", "implausible-stance",
                                       f"{side.lower()} mean stance {np.mean(stance):.1f} % of the cycle ({len(stance)} "
                                       f"cycles) is outside {lo:g}-{hi:g} %: foot strikes and foot offs may be swapped "
                                       "or wrong in the events", trial.name, side))
    return issues
