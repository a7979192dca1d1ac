"""Analysis of one trial: metrics, windows, thresholds, phases, cycles, cross-talk, chain.

Implements :func:`analyze_trial` (the result objects and the rules are
documented in :mod:`core.analysis.types` and docs/analysis.md).
"""
from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np

from core.analysis.types import (INDICATORS, AnalysisSettings, CrosstalkCheck, TaskDecision, TaskWindow,
                                 TrialAnalysis)
from core.analysis.chain import summarise_chain, with_crosstalk_caution
from core.analysis.kinetics import trial_kinetics, unavailable_reason
from core.gait.cycles import all_cycles, normalise_cycles
from core.errors import AnalysisError, InsufficientEventsError
from core.model import SIDE_PREFIX, SIDES, ModelOutputs
from core.analysis.tasks import decide_task, task_windows, user_windows
from core.analysis.valgus import (ThresholdRule, default_threshold, facing_direction, find_phases,
                         frontal_metrics, indicator_series, min_frames_for, swing_crosstalk, valgus_3d)
from core.variables import KINEMATIC_VARIABLES

PHASE_METRICS = ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd")


def _rows(w: TaskWindow, first_frame: int, n: int) -> np.ndarray:
    return np.arange(max(w.start_frame - first_frame, 0), min(w.end_frame - first_frame, n - 1) + 1)


def trial_cycles(processed) -> tuple:
    """Gait cycles of a processed trial (its ``cycles``, else from its events)."""
    cycles = getattr(processed, "cycles", None)
    if cycles:
        return tuple(cycles)
    events = getattr(processed, "events", None) or processed.trial.events
    return all_cycles(events)


def frontal_normals(task: str, outputs: ModelOutputs, windows: Mapping[str, Sequence[TaskWindow]]
                    ) -> dict[str, np.ndarray]:
    """Frontal plane normal per side and frame, ``(F, 3)`` (docs/valgus.md).

    Walking: the progression axis of the trial (cgm1_spec section 4). Other tasks: the mean
    facing direction (pelvis x on the floor) over each window, the whole-trial facing
    direction outside windows.
    """
    n = outputs.n_frames
    if task == "walk":
        axis = np.asarray(outputs.progression, dtype=float)[:, 0]
        return {s: np.tile(axis, (n, 1)) for s in SIDES}
    if "Pelvis" not in outputs.segments:
        raise AnalysisError("the pelvis segment is missing: cannot find the facing direction")
    pelvis = np.asarray(outputs.segments["Pelvis"])
    base = facing_direction(pelvis)
    out = {}
    for s in SIDES:
        normal = np.tile(base, (n, 1))
        for w in windows.get(s, ()):
            rows = _rows(w, outputs.first_frame, n)
            try:
                normal[rows] = facing_direction(pelvis, slice(rows[0], rows[-1] + 1))
            except AnalysisError:
                pass
        out[s] = normal
    return out


def side_metrics(outputs: ModelOutputs, side: str, normal: np.ndarray, knee_width_mm: Optional[float],
                 phi_deg: Optional[float]) -> dict[str, np.ndarray]:
    """All per-frame series of one side: valgus metrics and kinetic-chain indicators."""
    p = SIDE_PREFIX[side]
    m = {"valgus_3d": valgus_3d(outputs, side)}
    if phi_deg is not None and f"{p}Femur" in outputs.segments and f"{p}TibiaUntorsioned" in outputs.segments:
        from core.kinematics.crosstalk import corrected_knee_angles
        m["valgus_3d_corrected"] = -np.asarray(corrected_knee_angles(outputs, side, phi_deg), float)[:, 1]
    jc = [f"{p}HJC", f"{p}KJC", f"{p}AJC"]
    if all(k in outputs.channels for k in jc):
        fppa, mkd = frontal_metrics(*(outputs.channels[k] for k in jc), normal, side)
        m["fppa"], m["mkd"] = fppa, mkd
        if knee_width_mm and knee_width_mm > 0:
            m["mkd_pct_knee_width"] = 100.0 * mkd / knee_width_mm
    m.update(indicator_series(outputs, side))
    return m


def threshold_rule(task: str, metric: str, settings: AnalysisSettings, normative) -> ThresholdRule:
    band = normative.band("KneeAngles.y") if normative is not None else None
    return default_threshold(task, metric, settings.sex, settings.threshold_overrides.get(task),
                             band_available=band is not None, band_sd=settings.walk_band_sd,
                             fallback_deg=settings.walk_fallback_deg,
                             band_source=_band_label(normative))


def _band_label(normative) -> str:
    """Short source of a normative band: name, speed class, population."""
    if normative is None:
        return ""
    cls = f", {normative.speed_class} speed" if normative.speed_class else ""
    pop = f" ({normative.population})" if normative.population else ""
    return f"{normative.title or normative.name}{cls}{pop}"


def threshold_series(rule: ThresholdRule, windows: Sequence[TaskWindow], first_frame: int, n: int,
                     normative, k: float) -> np.ndarray:
    """``(F,)`` phase threshold, NaN outside windows.

    Band-based (walking): valgus band = minus the KneeAngles.y band, threshold =
    valgus mean + k SD at each frame's percent of the gait cycle; the fallback value where
    the band has no value.
    """
    thr = np.full(n, np.nan)
    band = normative.band("KneeAngles.y") if (rule.band_based and normative is not None) else None
    for w in windows:
        rows = _rows(w, first_frame, n)
        if band is None:
            thr[rows] = rule.value
            continue
        mean, sd = band.at(w.percent_of(first_frame + rows))
        t = -mean + k * sd
        thr[rows] = np.where(np.isfinite(t), t, rule.value)
    return thr


def indicator_bands(windows: Sequence[TaskWindow], first_frame: int, n: int, normative
                    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Indicator name -> (mean, sd) ``(F,)`` of the normal band at each frame's cycle percent."""
    out = {}
    for name, (key, _, _) in INDICATORS.items():
        band = normative.band(key) if normative is not None else None
        if band is None:
            continue
        mean, sd = np.full(n, np.nan), np.full(n, np.nan)
        for w in windows:
            rows = _rows(w, first_frame, n)
            mean[rows], sd[rows] = band.at(w.percent_of(first_frame + rows))
        out[name] = (mean, sd)
    return out


def cycle_curves(outputs: ModelOutputs, metrics: Mapping[str, np.ndarray], cycles: Sequence, side: str
                 ) -> dict[str, np.ndarray]:
    """Variable key -> ``(n_cycles, 101)`` time-normalised curves of one side's cycles."""
    own = [c for c in cycles if c.side == side]
    p = SIDE_PREFIX[side]
    keys, cols = [], []
    for v in KINEMATIC_VARIABLES:
        ch = outputs.channels.get(f"{p}{v.channel}")
        if ch is not None:
            keys.append(v.key)
            cols.append(np.asarray(ch)[:, v.axis])
    for k in ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd"):
        if k in metrics:
            keys.append(k)
            cols.append(metrics[k])
    if not own or not cols:
        return {}
    curves = normalise_cycles(np.stack(cols, axis=1), outputs.first_frame, own)   # (K, 101, C)
    return {k: curves[:, :, i] for i, k in enumerate(keys)}


def crosstalk_check(metrics: Mapping[str, np.ndarray], cycles: Sequence, side: str, first_frame: int,
                    settings: AnalysisSettings) -> CrosstalkCheck:
    """Cross-talk of one side in the swing phases (foot off .. next foot strike) of walking."""
    n = metrics["valgus_3d"].size
    swing = np.zeros(n, bool)
    for c in cycles:
        if c.side == side and c.foot_off_frame is not None:
            swing[max(c.foot_off_frame - first_frame, 0):min(c.end_frame - first_frame, n - 1) + 1] = True
    r, exc, expl, used = swing_crosstalk(metrics["valgus_3d"], metrics["knee_flexion"], swing)
    detected = bool(math.isfinite(r) and abs(r) >= settings.crosstalk_min_corr
                    and expl >= settings.crosstalk_min_excursion_deg)
    msg = ""
    if detected:
        msg = (f"{side} knee: 3D varus/valgus follows knee flexion in swing (r = {r:.2f}, "
               f"{expl:.1f} deg of valgus excursion explained by flexion): likely knee-axis cross-talk; "
               "FPPA and MKD do not depend on the knee axis")
    return CrosstalkCheck(side, detected, r, exc, expl, used, msg)


def window_stats(metrics: Mapping[str, np.ndarray], windows: Sequence[TaskWindow], first_frame: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-window peak (max) and mean of each valgus metric: metric -> ``(n_windows,)``."""
    peaks, means = {}, {}
    for k in PHASE_METRICS + ("mkd_pct_knee_width",):
        if k not in metrics:
            continue
        x = metrics[k]
        pk, mn = [], []
        for w in windows:
            seg = x[_rows(w, first_frame, x.size)]
            ok = np.isfinite(seg).any()
            pk.append(float(np.nanmax(seg)) if ok else math.nan)
            mn.append(float(np.nanmean(seg)) if ok else math.nan)
        peaks[k], means[k] = np.array(pk), np.array(mn)
    return peaks, means


def _knee_width(processed, side: str) -> Optional[float]:
    subject = getattr(processed, "subject", None)
    return subject.get(f"{side}KneeWidth") if subject is not None else None


def _chain(side: str, task: str, phases: Sequence, xtalk: Mapping[str, CrosstalkCheck]):
    """Chain summary of a side, with the cross-talk caution when 3D valgus phases are suspect."""
    ch = summarise_chain(side, task, phases)
    x = xtalk.get(side)
    if x is not None and x.detected and any(p.side == side and p.metric == "valgus_3d" for p in phases):
        ch = with_crosstalk_caution(ch)
    return ch


def trial_windows(decision: TaskDecision, trial, outputs: ModelOutputs, cycles: Sequence,
                  settings: AnalysisSettings, edited: Optional[Mapping[str, Sequence[TaskWindow]]] = None
                  ) -> tuple[dict[str, tuple[TaskWindow, ...]], dict[str, str], list[str]]:
    """Task windows per side: detected (:func:`core.analysis.tasks.task_windows`), the user's where given.

    Returns (side -> windows, side -> ``"detected"``/``"edited"``, notes). Detection is not
    needed (and its failure is not an error) when the user gives the windows of every side
    the task analyses.
    """
    from core.analysis.tasks import analysed_sides
    edited = dict(edited or {})
    name = trial.name if trial is not None else "trial"
    user = {}
    for s, wins in edited.items():
        knee = outputs.channels.get(f"{SIDE_PREFIX.get(s, '?')}KneeAngles") if s in SIDE_PREFIX else None
        flex = np.asarray(knee)[:, 0] if knee is not None else None
        user[s] = user_windows(decision, wins, s, outputs.first_frame, outputs.n_frames, name, flex)
    try:
        windows = task_windows(decision, trial, outputs, cycles, settings)
    except AnalysisError:
        if not user or set(analysed_sides(decision)) - set(user):
            raise
        windows = {}
    source = {s: "detected" for s in windows}
    windows.update(user)
    source.update({s: "edited" for s in user})
    notes = [f"{s}: task windows edited by the user ({len(w)} {decision.task} window(s): "
             + ", ".join(f"{x.start_frame}-{x.end_frame}" for x in w) + ")" for s, w in user.items()]
    return windows, source, notes


def analyze_trial(processed, settings: AnalysisSettings = AnalysisSettings(), normative=None,
                  task: Optional[str] = None, side: Optional[str] = None,
                  thigh_offsets: Optional[Mapping[str, Optional[float]]] = None,
                  decision: Optional[TaskDecision] = None,
                  windows: Optional[Mapping[str, Sequence[TaskWindow]]] = None, kinetics=None) -> TrialAnalysis:
    """Analyse one processed trial.

    Parameters
    ----------
    processed: a ``core.gait.pipeline.ProcessedTrial`` (uses ``trial``, ``outputs``, ``subject``,
        ``events``, ``cycles``).
    settings: the rules (defaults of docs/valgus.md).
    normative: ``core.analysis.normative.NormativeSet`` for the walking bands; None = the set named by
        ``settings.normative`` at ``settings.speed_class`` or the class closest to this
        trial's walking speed (``settings.normative == ""``: no band, the 5 deg fallback
        threshold applies and indicators are reported as values only).
    task, side: explicit user choice (rule ``"user"``); otherwise GENULAB group, trial name,
        detection. decision: an already made :class:`TaskDecision` (overrides task/side).
    thigh_offsets: side -> DynaKAD offset phi (deg) to offer the corrected 3D valgus
        (``metrics[side]["valgus_3d_corrected"]``); never used for phases unless
        ``settings.task_metric`` asks for it explicitly.
    windows: side -> task windows edited by the user (C3D frames, inclusive). They replace
        the detected windows of that side (phases are then found inside them, exact to the
        frame); they are re-indexed in time order and given the task's window kind; the
        result says so (``window_source[side] == "edited"`` and a note). A side the task
        does not analyse, a window outside the trial's frames, ending before it starts or
        overlapping another raises AnalysisError naming the trial.
    kinetics: the trial's joint kinetics (``core.kinetics`` result); default
        ``processed.kinetics`` (None when the trial has no plates or no body mass: the
        kinematics are analysed and ``TrialAnalysis.kinetics`` says why there are no kinetics).

    Raises
    ------
    AnalysisError, InsufficientEventsError (walking without a complete gait cycle).
    """
    trial, outputs = processed.trial, processed.outputs
    if decision is None:
        decision = decide_task(trial, outputs, task, side, settings)
    cycles = trial_cycles(processed) if decision.task == "walk" else ()
    windows, window_source, edit_notes = trial_windows(decision, trial, outputs, cycles, settings, windows)
    if decision.task == "walk" and not any(windows.values()):
        raise InsufficientEventsError(f"walking trial {trial.name} has no complete gait cycle "
                                      "(foot strike, foot off, foot strike)", trial.path)
    if normative is None and settings.normative != "":
        from core.analysis.norm_choice import choose_set_name, lab_default, load_any
        from core.analysis.normative import choose_normative
        name = choose_set_name(settings.normative, lab_default(), None)[0]
        normative = choose_normative(settings, [processed] if (decision.task == "walk" and cycles) else [],
                                     name=name, loader=load_any)[0]
    ff, n, rate = outputs.first_frame, outputs.n_frames, outputs.rate_hz
    offsets = dict(thigh_offsets or {})
    normals = frontal_normals(decision.task, outputs, windows)
    metrics = {s: side_metrics(outputs, s, normals[s], _knee_width(processed, s), offsets.get(s))
               for s in SIDES if f"{SIDE_PREFIX[s]}KneeAngles" in outputs.channels}
    metric = settings.task_metric[decision.task]
    rule = threshold_rule(decision.task, metric, settings, normative if decision.task == "walk" else None)
    min_frames = min_frames_for(settings.min_duration_s, rate)
    phases, thresholds, notes = [], {}, []
    for s, wins in windows.items():
        if metric not in metrics.get(s, {}):
            notes.append(f"{s}: {metric} not available (missing model outputs or thigh offset); no phases")
            continue
        thr = threshold_series(rule, wins, ff, n, normative if decision.task == "walk" else None,
                               settings.walk_band_sd)
        thresholds[s] = {metric: thr}
        ind = {k: metrics[s][k] for k in INDICATORS}
        bands = indicator_bands(wins, ff, n, normative) if decision.task == "walk" else None
        for w in wins:
            phases += find_phases(decision.task, s, metric, metrics[s][metric], thr, w, ff, rate,
                                  min_frames, rule, ind, bands, settings.indicator_band_sd)
    peaks_means = {s: window_stats(metrics[s], windows[s], ff) for s in windows if s in metrics}
    curves, cyc, xtalk = {}, {}, {}
    if decision.task == "walk":
        for s in metrics:
            curves[s] = cycle_curves(outputs, metrics[s], cycles, s)
            cyc[s] = tuple((c.start_frame, c.foot_off_frame, c.end_frame) for c in cycles if c.side == s)
            xtalk[s] = crosstalk_check(metrics[s], cycles, s, ff, settings)
    if rule.sex_flag:
        notes.append(f"threshold: {rule.sex_flag}")
    if metric == "fppa":
        notes.append("FPPA is computed from the 3D joint centres; its thresholds come from 2D-video norms")
    notes += [x.message for x in xtalk.values() if x.detected]
    notes += edit_notes
    kin = _kinetics(processed, kinetics, windows, phases, ff, rate, decision.task, cyc, normative, settings)
    return TrialAnalysis(
        trial_name=trial.name, task=decision.task, side=decision.side, decision=decision, rate_hz=rate,
        first_frame=ff, n_frames=n, metrics=metrics, thresholds=thresholds,
        frontal_normal={s: normals[s] for s in metrics}, windows=windows, phases=tuple(phases),
        cycle_curves=curves, cycles=cyc, window_peaks={s: v[0] for s, v in peaks_means.items()},
        window_means={s: v[1] for s, v in peaks_means.items()}, crosstalk=xtalk,
        chain={s: _chain(s, decision.task, phases, xtalk) for s in windows},
        corrected_offset_deg={s: offsets.get(s) for s in metrics}, notes=tuple(notes),
        phase_metric=metric, threshold_text=rule.text, threshold_source=rule.source, sex_flag=rule.sex_flag,
        window_source=window_source, kinetics=kin)


def _kinetics(processed, kinetics, windows, phases, ff: int, rate: float, task: str, cyc, normative, settings):
    """The knee-kinetics analysis of the trial (:mod:`core.analysis.kinetics`)."""
    kinetics = kinetics if kinetics is not None else getattr(processed, "kinetics", None)
    reason = "" if kinetics is not None else unavailable_reason(processed)
    return trial_kinetics(kinetics, windows, phases, ff, rate, task, cyc,
                          normative if task == "walk" else None, settings.indicator_band_sd, reason)
