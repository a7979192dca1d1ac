"""Knee kinetics of a trial's task windows: the external knee abduction moment and its timing.

For every task window (walking stance, squat repetition, hold, landing) of a side with a
clean force-plate contact of that foot, the peaks of Plug-in Gait's knee moment and power
(and hip/ankle peaks) are taken over the window, and the peak external knee abduction
(valgus) moment is timed against the window's valgus phase (docs/analysis.md "Kinetics").

Sign rule (checked on Vicon's stored outputs, tests/core/test_analysis_kinetics.py):
Plug-in Gait ``KneeMoment`` Y (N.mm/kg, right side negated by Vicon) is positive when the
external moment adducts the knee (varus), which dominates normal walking stance with a
double hump (Schwartz et al. 2008 band: peak about 0.28 N.m/kg in children). So

    external abduction (valgus) moment = -KneeMoment.y / 1000   (N.m/kg)
    external adduction (varus) moment  = +KneeMoment.y / 1000

A window without a clean contact of its foot has NaN peaks (never 0) and the reason.
The input is any object shaped like ``core.kinetics.inverse_dynamics.KineticsResult``
(``channels``, ``contacts``, ``body_mass_kg``); the analysis does not run the engine.
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np

from core.analysis.kinetics_types import (KINETIC_CURVE_KEYS, KINETIC_DISPLAY, KINETIC_INDICATOR_TEXT,
                                          ContactQuality, TrialKinetics, WindowKinetics)
from core.analysis.stats import MeasurementError, compare_samples
from core.analysis.types import TaskWindow, ValgusPhase
from core.gait.cycles import normalise_cycle
from core.model import SIDE_PREFIX

#: other peaks of a window: (Vicon key, "max"/"min")
OTHER_PEAKS = (("KneeMoment.x", "max"), ("KneePower.z", "max"), ("KneePower.z", "min"),
               ("HipMoment.x", "max"), ("HipPower.z", "max"), ("AnkleMoment.x", "max"),
               ("AnklePower.z", "max"))
_SIDE_WORD = {"L": "Left", "R": "Right", "Left": "Left", "Right": "Right", "": ""}


def series(kinetics, side: str, key: str) -> Optional[np.ndarray]:
    """``(F,)`` one component of a side's kinetic channel in display units (N.m/kg, W/kg), or None.

    key: ``"KneeMoment.y"`` ...; side ``"Left"``/``"Right"``.
    """
    name, axis = key.split(".")
    ch = kinetics.channels.get(f"{SIDE_PREFIX[side]}{name}")
    if ch is None:
        return None
    return np.asarray(ch, dtype=float)[:, "xyz".index(axis)] * KINETIC_DISPLAY[key][0]


def contact_qualities(kinetics, rate_hz: float) -> tuple[ContactQuality, ...]:
    """Every plate contact of the engine's result, sides spelled ``"Left"``/``"Right"``."""
    return tuple(ContactQuality(_SIDE_WORD.get(c.side, c.side), int(c.plate), int(c.first_frame),
                                int(c.last_frame), bool(c.clean), str(getattr(c, "reason", "") or ""))
                 for c in kinetics.contacts)


def _window_contact(w: TaskWindow, contacts: Sequence[ContactQuality]) -> tuple[Optional[ContactQuality], str]:
    """The clean contact of the window's foot overlapping it, else None and why."""
    over = [c for c in contacts if c.side in (w.side, "") and c.first_frame <= w.end_frame
            and c.last_frame >= w.start_frame]
    clean = [c for c in over if c.clean and c.side == w.side]
    if clean:
        return max(clean, key=lambda c: min(c.last_frame, w.end_frame) - max(c.first_frame, w.start_frame)), ""
    if over:
        c = over[0]
        why = c.reason or "contact not clean"
        return c, f"plate {c.plate} contact excluded: {why}"
    return None, f"no force-plate contact of the {w.side} foot in this {w.kind}"


def _peak(values: np.ndarray, rows: np.ndarray, first_frame: int, kind: str) -> tuple[float, Optional[int]]:
    v = values[rows]
    ok = np.isfinite(v)
    if not ok.any():
        return math.nan, None
    i = int(np.nanargmax(v) if kind == "max" else np.nanargmin(v))
    return float(v[i]), int(rows[i] + first_frame)


def _main_phase(w: TaskWindow, phases: Sequence[ValgusPhase]) -> Optional[ValgusPhase]:
    own = [p for p in phases if p.side == w.side and p.window_index == w.index
           and p.window_start_frame == w.start_frame]
    return max(own, key=lambda p: p.peak_value) if own else None


def _rows(w: TaskWindow, first_frame: int, n: int) -> np.ndarray:
    return np.arange(max(w.start_frame - first_frame, 0), min(w.end_frame - first_frame, n - 1) + 1)


def _band_at(bands: Mapping, key: str, percent: float) -> tuple[float, float]:
    if key not in bands or not np.isfinite(percent):
        return math.nan, math.nan
    m, s = bands[key]
    grid = np.linspace(0.0, 100.0, m.shape[0])
    return float(np.interp(percent, grid, m, left=np.nan, right=np.nan)), \
        float(np.interp(percent, grid, s, left=np.nan, right=np.nan))


def window_kinetics(w: TaskWindow, kinetics, contacts: Sequence[ContactQuality], phases: Sequence[ValgusPhase],
                    first_frame: int, rate_hz: float, bands: Mapping, band_sd: float) -> WindowKinetics:
    """Peaks and valgus-phase timing of one window (module docstring for the signs).

    Parameters
    ----------
    w: the task window; kinetics: the engine's result; contacts: its contacts (sides in words);
    phases: the trial's valgus phases; first_frame, rate_hz: time axis; bands: key -> (mean,
    sd) ``(101,)`` display-unit bands over the gait cycle (walking) or empty; band_sd: k of
    "beyond mean + k SD".
    """
    base = dict(side=w.side, window_kind=w.kind, window_index=w.index, start_frame=w.start_frame,
                end_frame=w.end_frame)
    contact, why = _window_contact(w, contacts)
    y = series(kinetics, w.side, "KneeMoment.y")
    if contact is None or why or y is None:
        return WindowKinetics(**base, plate=contact.plate if contact else 0,
                              reason=why or f"no {w.side} knee moment in the kinetics")
    rows = _rows(w, first_frame, y.shape[0])
    abd, abd_f = _peak(-y, rows, first_frame, "max")
    add, add_f = _peak(y, rows, first_frame, "max")
    if abd_f is None:
        return WindowKinetics(**base, plate=contact.plate, contact_clean=True,
                              reason="knee moment not computed in this window (NaN from the kinetics)")
    peaks, frames = {}, {}
    for key, kind in OTHER_PEAKS:
        s = series(kinetics, w.side, key)
        if s is not None:
            v, f = _peak(s, rows, first_frame, kind)
            peaks[f"{key} {kind}"] = v
            if f is not None:
                frames[f"{key} {kind}"] = f
    extra = {}
    ph = _main_phase(w, phases)
    if ph is not None:
        prow = _rows(TaskWindow(w.kind, w.index, w.side, ph.onset_frame, ph.offset_frame), first_frame, y.shape[0])
        extra = dict(phase_peak_frame=ph.peak_frame, phase_onset_frame=ph.onset_frame,
                     phase_offset_frame=ph.offset_frame,
                     abduction_offset_ms=1000.0 * (abd_f - ph.peak_frame) / rate_hz,
                     abduction_in_phase=bool(ph.onset_frame <= abd_f <= ph.offset_frame),
                     phase_peak_abduction_moment=_peak(-y, prow, first_frame, "max")[0])
    m, s = _band_at(bands, "KneeMoment.y", float(w.percent_of(abd_f)))
    m = -m                                                   # band of +Y -> band of the abduction moment
    beyond = None if not (np.isfinite(m) and np.isfinite(s)) else bool(abd > m + band_sd * s)
    return WindowKinetics(**base, plate=contact.plate, contact_clean=True,
                          peak_abduction_moment=abd, peak_abduction_frame=abd_f,
                          peak_abduction_time_s=(abd_f - 1) / rate_hz, peak_adduction_moment=add,
                          peak_adduction_frame=add_f, peak_adduction_time_s=(add_f - 1) / rate_hz,
                          peaks=peaks, peak_frames=frames, normal_abduction_mean=m, normal_abduction_sd=s,
                          beyond_normal=beyond, **extra)


def kinetic_curves(kinetics, side: str, spans: Sequence[tuple[int, int]], first_frame: int) -> dict[str, np.ndarray]:
    """key -> ``(len(spans), 101)`` display-unit curves over each (start, end) frame span."""
    out = {}
    for key in KINETIC_CURVE_KEYS:
        s = series(kinetics, side, key)
        if s is None or not spans:
            continue
        out[key] = np.stack([normalise_cycle(s, first_frame, a, b) for a, b in spans])
    return out


def normal_bands(normative) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """key -> (mean, sd) ``(101,)`` in display units from a normative set, and its citation."""
    if normative is None:
        return {}, ""
    out = {}
    for key in KINETIC_CURVE_KEYS:
        band = normative.band(key)
        if band is not None:
            m, s = band.at()
            f = KINETIC_DISPLAY[key][0]
            out[key] = (m * f, s * f)
    return out, (normative.label() if out else "")


def indicator_lines(side: str, windows: Sequence[WindowKinetics], band_sd: float) -> tuple[str, ...]:
    """Sentences of the kinetic indicators of one side (worded as indicators, never a diagnosis)."""
    lines = []
    for w in windows:
        label = f"{w.window_kind} {w.window_index + 1}"
        if w.computed and np.isfinite(w.phase_peak_abduction_moment) and w.phase_peak_abduction_moment > 0:
            lines.append(f"{side} {label}: external knee abduction moment up to "
                         f"{w.phase_peak_abduction_moment:.2f} N.m/kg during the valgus phase "
                         f"(peak {w.abduction_offset_ms:+.0f} ms from the valgus peak); {KINETIC_INDICATOR_TEXT}")
        if w.beyond_normal:
            lines.append(f"{side} {label}: peak external knee abduction moment {w.peak_abduction_moment:.2f} "
                         f"N.m/kg above the normal band (mean + {band_sd:g} SD); an indicator of a higher "
                         "frontal-plane knee load, not a diagnosis")
    return tuple(lines)


def unavailable_reason(processed) -> str:
    """Why a processed trial has no kinetics, naming what is missing (the body mass, the plates)."""
    trial = getattr(processed, "trial", None)
    subject = getattr(processed, "subject", None)
    quality = getattr(processed, "quality", None)
    for issue in getattr(quality, "issues", ()) or ():
        if getattr(issue, "code", "") == "kinetics-not-computed":
            return f"{issue.message}; kinematics analysed"
    if trial is not None and not getattr(trial, "force_plates", ()):
        return "no force plates in this trial: kinematics only"
    mass = subject.get("Bodymass") if subject is not None else None
    if mass is None or not np.isfinite(mass) or mass <= 0:
        return ("body mass missing or not positive (subject parameter Bodymass): joint kinetics not computed, "
                "kinematics analysed")
    if not hasattr(processed, "kinetics"):
        return "this processing result holds no joint kinetics (processed without the kinetics stage)"
    return "joint kinetics not computed for this trial (see its quality issues)"


def trial_kinetics(kinetics, windows: Mapping[str, Sequence[TaskWindow]], phases: Sequence[ValgusPhase],
                   first_frame: int, rate_hz: float, task: str, cycles: Optional[Mapping[str, Sequence[tuple]]] = None,
                   normative=None, band_sd: float = 2.0, reason: str = "") -> TrialKinetics:
    """Knee-kinetics analysis of one trial.

    Parameters
    ----------
    kinetics: the engine's ``KineticsResult`` (or None: ``reason`` says why).
    windows: side -> task windows; phases: the valgus phases; first_frame, rate_hz: time axis.
    task: the trial's task; cycles: side -> (start, foot off, end) frames of the gait cycles
    (walking: curves over the gait cycle and normal bands); normative: the set of the walking
    bands (None: no band). band_sd: k of the "beyond normal" rule.
    """
    if kinetics is None:
        return TrialKinetics(False, reason or "no joint kinetics for this trial")
    contacts = contact_qualities(kinetics, rate_hz)
    walking = task == "walk"
    bands, source = normal_bands(normative) if walking else ({}, "")
    wk = [window_kinetics(w, kinetics, contacts, phases, first_frame, rate_hz, bands, band_sd)
          for side in ("Left", "Right") for w in windows.get(side, ())]
    curves, indicators = {}, {}
    for side in ("Left", "Right"):
        if side not in windows:
            continue
        spans = ([(a, b) for a, _, b in (cycles or {}).get(side, ())] if walking
                 else [(w.start_frame, w.end_frame) for w in windows[side] if w.end_frame > w.start_frame])
        c = kinetic_curves(kinetics, side, spans, first_frame)
        if c:
            curves[side] = c
        lines = indicator_lines(side, [w for w in wk if w.side == side], band_sd)
        if lines:
            indicators[side] = lines
    notes = [f"{w.side} {w.window_kind} {w.window_index + 1}: {w.reason}" for w in wk if w.reason]
    if walking and bands:
        notes.append(f"kinetic normal bands: {source} (typically developing children, walking)")
    return TrialKinetics(True, "", float(kinetics.body_mass_kg), tuple(wk), contacts, curves,
                         "gait cycle" if walking else "window", bands, source, indicators, tuple(notes))


# --------------------------------------------------------------------------------------
# session pooling and the pre/post measurement error
# --------------------------------------------------------------------------------------
#: quantities of a window compared pre/post: name -> WindowKinetics attribute
COMPARED = {"peak_abduction_moment": "peak_abduction_moment", "peak_adduction_moment": "peak_adduction_moment"}


def session_window_values(session, attr: str = "peak_abduction_moment") -> dict[tuple[str, str], np.ndarray]:
    """(task, side) -> ``(n,)`` values of one :class:`WindowKinetics` attribute over the session's
    windows with a clean contact (trial order), N.m/kg."""
    out: dict[tuple[str, str], list[float]] = {}
    for t in session.trials:
        k = getattr(t, "kinetics", None)
        if k is None or not k.available:
            continue
        for w in k.windows:
            if w.computed:
                out.setdefault((t.task, w.side), []).append(float(getattr(w, attr)))
    return {key: np.asarray(v, dtype=float) for key, v in out.items()}


SDD_SOURCE = ("SDD = 1.96 x sqrt(2) x SEM (Weir JP (2005) Quantifying test-retest reliability using the "
              "intraclass correlation coefficient and the SEM. J Strength Cond Res 19(1):231-240), with the SEM "
              "taken as the pooled within-session SD of the per-window peaks of both sessions (no between-day "
              "reliability study of knee moments is shipped)")


def within_session_sdd(pre, post):
    """The smallest detectable difference of a per-window kinetic peak from both sessions' spread.

    Parameters
    ----------
    pre, post: ``(n1,)``, ``(n2,)`` per-window values (NaN ignored).

    Returns
    -------
    ``core.analysis.stats.MeasurementError`` (kind ``"SDD (within-session)"``) or None with fewer
    than 2 values in a session.
    """
    a, b = (np.asarray(x, dtype=float) for x in (pre, post))
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return None
    pooled = math.sqrt(((a.size - 1) * a.var(ddof=1) + (b.size - 1) * b.var(ddof=1)) / (a.size + b.size - 2))
    return MeasurementError(1.96 * math.sqrt(2.0) * pooled, "SDD (within-session)", "N.m/kg", SDD_SOURCE)


def never_that_way(pre_values, post_values) -> bool:
    """True when no window of either session has the moment in that direction (every peak of
    the abduction, or adduction, moment <= 0: e.g. external adduction throughout): there is no
    peak to compare, only the depth of the opposite moment."""
    both = np.concatenate([np.ravel(np.asarray(pre_values, dtype=float)), np.ravel(np.asarray(post_values, dtype=float))])
    both = both[np.isfinite(both)]
    return both.size > 0 and bool(np.all(both <= 0))


def kinetic_changes(pre, post) -> dict[tuple[str, str, str], object]:
    """(task, side, quantity) -> ``ChangeResult`` of the per-window knee moment peaks (post - pre).

    A direction the moment never takes in either session (:func:`never_that_way`) is not
    compared (:func:`not_compared` names them)."""
    out = {}
    for name, attr in COMPARED.items():
        p0, p1 = session_window_values(pre, attr), session_window_values(post, attr)
        for key in sorted(set(p0) & set(p1)):
            if never_that_way(p0[key], p1[key]):
                continue
            sdd = within_session_sdd(p0[key], p1[key])
            out[(key[0], key[1], name)] = compare_samples(p0[key], p1[key], sdd, f"{key[0]} {key[1]} {name}")
    return out


def not_compared(pre, post) -> list[tuple[str, str, str]]:
    """(task, side, quantity) that :func:`kinetic_changes` leaves out: the moment never takes
    that direction in any window of either session."""
    out = []
    for name, attr in COMPARED.items():
        p0, p1 = session_window_values(pre, attr), session_window_values(post, attr)
        out += [(key[0], key[1], name) for key in sorted(set(p0) & set(p1)) if never_that_way(p0[key], p1[key])]
    return out


def kinetics_lines(k: Optional[TrialKinetics]) -> list[str]:
    """Readable lines of a trial's knee kinetics (``genulab analyze`` text output)."""
    if k is None:
        return []
    if not k.available:
        return [f"  kinetics: none ({k.reason})"]
    out = [f"  kinetics (body mass {k.body_mass_kg:g} kg; external knee moments, N.m/kg):"]
    for w in k.windows:
        head = f"    {w.side} {w.window_kind} {w.window_index + 1} [{w.start_frame}-{w.end_frame}]"
        if not w.computed:
            out.append(f"{head}: not computed ({w.reason})")
            continue
        timing = ""
        if w.phase_peak_frame is not None:
            where = "inside" if w.abduction_in_phase else "outside"
            timing = (f"; {w.abduction_offset_ms:+.0f} ms from the valgus peak (frame {w.phase_peak_frame}), "
                      f"{where} the phase; {w.phase_peak_abduction_moment:.3f} in the phase")
        band = (f" (normal {w.normal_abduction_mean:.3f} +- {w.normal_abduction_sd:.3f})"
                if np.isfinite(w.normal_abduction_mean) else "")
        out.append(f"{head} plate {w.plate}: abduction {w.peak_abduction_moment:.3f} at frame "
                   f"{w.peak_abduction_frame} ({w.peak_abduction_time_s:.2f} s){band}, adduction "
                   f"{w.peak_adduction_moment:.3f} at frame {w.peak_adduction_frame}{timing}")
    for c in k.contacts:
        if not c.clean:
            out.append(f"    plate {c.plate} frames {c.first_frame}-{c.last_frame} ({c.side or 'no foot'}): "
                       f"excluded, {c.reason}")
    out += [f"    indicator: {line}" for lines in k.indicators.values() for line in lines]
    return out


def kinetic_findings(session, task_names: Optional[Mapping[str, str]] = None) -> list[str]:
    """Plain-language lines of a session's knee moments per task and side (key findings, demo).

    Mean and largest peak external knee abduction moment over the windows with a clean plate
    contact, the mean peak adduction moment, and the trials without kinetics with the reason
    (other than simply having no force plates).
    """
    abd, add = session_window_values(session), session_window_values(session, "peak_adduction_moment")
    lines = []
    for (task, side), v in sorted(abd.items()):
        lines.append(f"{(task_names or {}).get(task, task)}, {side}: peak external knee abduction moment {float(np.mean(v)):.2f} N.m/kg "
                     f"(largest {float(np.max(v)):.2f}; {v.size} window(s) on a clean plate contact), peak "
                     f"adduction moment {float(np.mean(add[(task, side)])):.2f} N.m/kg")
    for t in session.trials:
        k = getattr(t, "kinetics", None)
        if k is not None and not k.available and "no force plates" not in k.reason \
                and "without the kinetics stage" not in k.reason:
            lines.append(f"{t.trial_name}: no kinetics ({k.reason})")
    return lines
