"""Analysis of a session: task decisions, DynaKAD offsets, normal bands, per-trial analyses,
walking summary (cycle statistics, spatio-temporal parameters, GVS/GPS) and per-task summaries.

Implements :func:`analyze_session`.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from core import __version__
from core.analysis.kinetics import kinetics_lines
from core.analysis.types import (AnalysisSettings, ChainSummary, SessionAnalysis, TaskDecision,
                                 TaskSummary, ThighOffset, TrialAnalysis, WalkingSummary, task_key)
from core.analysis.trial import analyze_trial, trial_cycles
from core.analysis.chain import summarise_chain, with_crosstalk_caution
from core.analysis.normative import choose_normative
from core.analysis.norm_choice import check_age, choose_set_name, lab_default, load_any, session_age
from core.errors import AnalysisError, CancelledError, GenuError, InsufficientEventsError
from core.model import SIDES
from core.analysis.tasks import decide_task
from core.variables import GVS_VARIABLES

DYNAKAD_METHOD = "DynaKAD-type variance method (cgm1_spec 16.3), thigh frame rotated about its z axis"


def _trials_of(session) -> tuple:
    trials = getattr(session, "trials", session)
    return tuple(trials)


def _label_of(session, label: Optional[str]) -> str:
    if label:
        return label
    folder = getattr(session, "folder", None)
    for attr in ("label", "name"):
        v = getattr(folder, attr, None)
        if v:
            return str(v)
    path = getattr(folder, "path", None)
    return path.name if path is not None else "session"


def _cycle_rows(processed, side: str) -> np.ndarray:
    """``(F,)`` bool: frames inside the complete gait cycles of a side."""
    n, ff = processed.outputs.n_frames, processed.outputs.first_frame
    mask = np.zeros(n, bool)
    for c in trial_cycles(processed):
        if c.side == side:
            mask[max(c.start_frame - ff, 0):min(c.end_frame - ff, n - 1) + 1] = True
    return mask


def thigh_offset(walking: Sequence, side: str, settings: AnalysisSettings) -> tuple[Optional[float], str]:
    """DynaKAD offset phi (deg) of one side from the walking trials, or (None, reason).

    Frames: the complete gait cycles of that side with knee flexion within
    ``settings.dynakad_flexion_range_deg`` (cgm1_spec 16.3 step 1).
    """
    if not walking:
        return None, "no walking trial"
    p = "L" if side == "Left" else "R"
    use = [w for w in walking if f"{p}Femur" in w.outputs.segments and f"{p}TibiaUntorsioned" in w.outputs.segments]
    if not use:
        return None, "the thigh and tibia segment poses are not available"
    from core.kinematics.crosstalk import estimate_thigh_offset
    try:
        phi = float(estimate_thigh_offset([w.outputs for w in use], side, frames=[_cycle_rows(w, side) for w in use],
                                          flexion_range=settings.dynakad_flexion_range_deg))
    except GenuError as exc:
        return None, exc.reason
    return (phi, "") if math.isfinite(phi) else (None, "the estimate did not converge")


def _cycle_ranges(trials: Sequence[TrialAnalysis], side: str, key: str) -> np.ndarray:
    out = [np.nanmax(c, axis=1) - np.nanmin(c, axis=1)
           for t in trials if key in t.cycle_curves.get(side, {}) for c in [t.cycle_curves[side][key]]]
    return np.concatenate(out) if out else np.empty(0)


def offset_summary(side: str, phi: Optional[float], reason: str, walking: Sequence[TrialAnalysis],
                   settings: AnalysisSettings) -> ThighOffset:
    """ThighOffset with the mean per-cycle valgus excursion before/after the correction."""
    n_frames = int(sum(sum(c[2] - c[0] + 1 for c in t.cycles.get(side, ())) for t in walking))
    if phi is None:
        return ThighOffset(side, None, len(walking), n_frames, DYNAKAD_METHOD, warning=f"no offset: {reason}" if reason else "")
    raw, cor = _cycle_ranges(walking, side, "valgus_3d"), _cycle_ranges(walking, side, "valgus_3d_corrected")
    r = float(np.nanmean(raw)) if raw.size else math.nan
    c = float(np.nanmean(cor)) if cor.size else math.nan
    removed = r - c
    warn = ""
    if math.isfinite(removed) and removed > settings.crosstalk_warn_deg:
        warn = (f"{side}: the DynaKAD correction (phi = {phi:+.1f} deg) removes {removed:.1f} deg of 3D valgus "
                f"excursion per cycle; it assumes a hinge-like knee, which a knee with true dynamic valgus is not: "
                "the raw value is kept for the phases")
    if abs(phi) > 20.0:
        warn = (warn + "; " if warn else "") + f"{side}: |phi| = {abs(phi):.1f} deg > 20 deg usually means a marker problem"
    return ThighOffset(side, phi, len(walking), n_frames, DYNAKAD_METHOD, r, c, removed, warn)


def walking_summary(trials: Sequence[TrialAnalysis], side: str, st, profile) -> Optional[WalkingSummary]:
    """Pool the cycles of the walking trials of one side into a :class:`WalkingSummary`."""
    from core.analysis.stats import cycle_statistics
    keys = sorted({k for t in trials for k in t.cycle_curves.get(side, {})})
    if not keys:
        return None
    mean, sd, peaks = {}, {}, {}
    n = 0
    for k in keys:
        curves = np.concatenate([t.cycle_curves[side][k] for t in trials if k in t.cycle_curves.get(side, {})])
        cs = cycle_statistics(curves)
        mean[k], sd[k], peaks[k] = cs.mean, cs.sd, (cs.max_value, cs.max_pct)
        n = max(n, curves.shape[0])
    stance = {}
    for m in ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd"):
        parts = [t.window_peaks[side][m] for t in trials if m in t.window_peaks.get(side, {})]
        if parts:
            stance[m] = np.concatenate(parts)
    spt = st.side(side) if st is not None else {}
    gvs = dict(profile.gvs.get(side, {})) if profile is not None else {}
    gps = float(profile.gps.get(side, math.nan)) if profile is not None else math.nan
    return WalkingSummary(side, n, mean, sd, peaks, spt, gvs, gps, stance)


def walking_symmetry(trials: Sequence[TrialAnalysis]) -> dict:
    """Variable key -> ``core.analysis.stats.Symmetry`` of the pooled left and right walking cycles."""
    from core.analysis.stats import symmetry
    pooled = {s: {} for s in SIDES}
    for t in trials:
        for s in SIDES:
            for k, c in t.cycle_curves.get(s, {}).items():
                pooled[s].setdefault(k, []).append(c)
    keys = [k for k in pooled["Left"] if k in pooled["Right"]]
    with np.errstate(invalid="ignore", divide="ignore"):   # constant curves: r undefined (NaN)
        return {k: symmetry(np.concatenate(pooled["Left"][k]), np.concatenate(pooled["Right"][k])) for k in keys}


def task_summary(trials: Sequence[TrialAnalysis], task: str, side: str) -> TaskSummary:
    """Per-window peaks and means of the phase metric of one task and side."""
    ts = [t for t in trials if t.task == task and side in t.windows]
    metric = next((t.phase_metric for t in ts), "")
    with_phase = {(p.window_start_frame, t.trial_name) for t in ts for p in t.phases_of(side)}
    pk = [t.window_peaks.get(side, {}).get(metric, np.empty(0)) for t in ts]
    mn = [t.window_means.get(side, {}).get(metric, np.empty(0)) for t in ts]
    first = ts[0] if ts else None
    return TaskSummary(task, side, metric, metric == "valgus_3d_corrected",
                       int(sum(len(t.windows[side]) for t in ts)), len(with_phase),
                       np.concatenate(pk) if pk else np.empty(0), np.concatenate(mn) if mn else np.empty(0),
                       first.threshold_text if first else "", first.threshold_source if first else "",
                       first.sex_flag if first else "", tuple(t.trial_name for t in ts))


SEX_WORDS = {"f": "F", "female": "F", "woman": "F", "w": "F", "m": "M", "male": "M", "man": "M"}


def patient_sex(session) -> Optional[str]:
    """``"F"``/``"M"`` from the session's patient record (``patient.json``), else None."""
    patient = getattr(getattr(session, "folder", None), "patient", None) or {}
    value = patient.get("sex") if hasattr(patient, "get") else None
    return SEX_WORDS.get(str(value).strip().lower()) if value is not None else None


def _step(progress, cancelled, fraction: float, message: str) -> None:
    if cancelled is not None and cancelled():
        raise CancelledError()
    if progress is not None:
        progress(fraction, message)


def analyze_session(session, settings: AnalysisSettings = AnalysisSettings(), label: Optional[str] = None,
                    normative=None, choices: Optional[Mapping[str, tuple]] = None,
                    progress=None, cancelled=None,
                    windows: Optional[Mapping[str, Mapping[str, Sequence]]] = None,
                    age_years: Optional[float] = None) -> SessionAnalysis:
    """Analyse a processed session (all its dynamic trials).

    Parameters
    ----------
    session: a ``core.gait.pipeline.ProcessedSession`` (``trials``: ProcessedTrial, ``folder``) or a
        sequence of ProcessedTrial.
    settings: the rules; label: session label (default: the folder's label or name).
    normative: a NormativeSet to use as is (the choice for this analysis); default: the set
        chosen by :mod:`core.analysis.norm_choice` (``settings.normative``, else the lab
        default, else automatic by age) with the speed class given in settings or chosen from
        the walking speed (Schwartz 2008 dimensionless speed, closest class). The patient's
        age is checked against the set's age range: ``SessionAnalysis.normative_caution``.
    choices: trial name -> (task, side) explicit user choices.
    progress, cancelled: plain callables ``progress(fraction, message)``, ``cancelled() -> bool``.
    windows: trial name -> side -> user task windows (see :func:`analyze_trial`); a name
        that is not a trial of the session raises AnalysisError.
    age_years: the patient's age at the session (years) when known to the caller (e.g. a
        store's patient); default: from the folder's ``patient.json`` (birth and session dates).
    """
    processed = _trials_of(session)
    if not processed:
        raise AnalysisError("the session has no processed dynamic trial")
    windows = dict(windows or {})
    unknown = sorted(set(windows) - {p.trial.name for p in processed})
    if unknown:
        raise AnalysisError(f"task windows given for {', '.join(unknown)}, not a processed trial of the session")
    notes = []
    if settings.sex is None and (sex := patient_sex(session)) is not None:
        settings = dataclasses.replace(settings, sex=sex)
        notes.append(f"sex {sex} taken from the patient record")
    choices = dict(choices or {})
    decisions: dict[str, TaskDecision] = {}
    skipped = []
    for p in processed:
        task, side = choices.get(p.trial.name, (None, None))
        try:
            decisions[p.trial.name] = decide_task(p.trial, p.outputs, task, side, settings)
        except AnalysisError as exc:
            if len(processed) == 1:
                raise
            skipped.append((p.trial.name, exc.reason))
    processed = tuple(p for p in processed if p.trial.name in decisions)
    walking = [p for p in processed if decisions[p.trial.name].task == "walk" and trial_cycles(p)]
    _step(progress, cancelled, 0.05, "normal bands and thigh offsets")
    norms, st, basis, age = session_normative(session, settings, walking, normative, age_years)
    offsets = {s: thigh_offset(walking, s, settings) for s in SIDES}
    results = []
    for i, p in enumerate(processed):
        _step(progress, cancelled, 0.1 + 0.8 * i / len(processed), f"analysing {p.trial.name}")
        try:
            results.append(analyze_trial(p, settings, norms, thigh_offsets={s: o[0] for s, o in offsets.items()},
                                         decision=decisions[p.trial.name], windows=windows.get(p.trial.name)))
        except (AnalysisError, InsufficientEventsError) as exc:
            if len(processed) == 1:
                raise
            skipped.append((p.trial.name, exc.reason))
    if not results:
        raise AnalysisError("no trial of the session could be analysed: "
                            + "; ".join(f"{n} not analysed: {r}" for n, r in skipped))
    walk_res = [t for t in results if t.task == "walk" and t.cycle_curves]
    thigh = {s: offset_summary(s, offsets[s][0], offsets[s][1], walk_res, settings) for s in SIDES}
    profile = None
    if walk_res and norms is not None:
        from core.analysis.stats import gait_profile
        profile = gait_profile(gvs_mean_curves(walk_res), norms)
    walking_sum = {s: w for s in SIDES if (w := walking_summary(walk_res, s, st, profile)) is not None}
    sym = walking_symmetry(walk_res)
    tasks, chain = {}, {}
    for task in dict.fromkeys(t.task for t in results):
        for s in SIDES:
            if any(s in t.windows for t in results if t.task == task):
                tasks[task_key(task, s)] = task_summary(results, task, s)
                ch = summarise_chain(s, task, [ph for t in results if t.task == task for ph in t.phases])
                if any("crosstalk" in t.chain[s].flags for t in results if t.task == task and s in t.chain):
                    ch = with_crosstalk_caution(ch)
                chain[task_key(task, s)] = ch
    warnings = tuple(f"{n} not analysed: {r}" for n, r in skipped) + _warnings(results, thigh, settings)
    failures = processing_failures(session) + tuple((n, f"not analysed: {r}") for n, r in skipped)
    _step(progress, cancelled, 1.0, "analysis done")
    return SessionAnalysis(
        label=_label_of(session, label), trials=tuple(results), thigh_offsets=thigh, warnings=warnings,
        normative_name=norms.name if norms else "", normative_citation=norms.citation if norms else "",
        normative_population=_population_text(norms), normative_basis=basis, patient_age_years=age.age_years,
        patient_age_basis=age.basis, normative_caution=age.caution,
        speed_class=(norms.speed_class or None) if norms else None,
        walking=walking_sum, gps_overall_deg=float(profile.gps_overall) if profile is not None else math.nan,
        tasks=tasks, chain=chain, settings=settings,
        threshold_sources={k: f"{v.threshold_text} ({v.threshold_source})" for k, v in tasks.items() if v.threshold_text},
        software_version=__version__, notes=tuple(notes), symmetry=sym, failures=failures)


def session_normative(session, settings: AnalysisSettings, walking: Sequence, normative=None,
                      age_years: Optional[float] = None):
    """(set or None, spatio-temporal summary, basis of the choice, :class:`AgeCheck`) of a session.

    The choice follows :func:`core.analysis.norm_choice.choose_set_name` (this analysis' set >
    lab default > automatic by age); the patient's age is checked against the chosen set.
    """
    if age_years is not None:
        age, why = float(age_years), "age given with the analysis"
    else:
        age, why = session_age(session)
    if normative is not None:
        norms, st = choose_normative(settings, walking, normative)
        basis = "chosen for this analysis"
    elif settings.normative == "":
        norms, st = choose_normative(settings, walking, name="")
        basis = "no normal bands (chosen for this analysis)"
    else:
        name, basis = choose_set_name(settings.normative, lab_default(), age)
        norms, st = choose_normative(settings, walking, name=name, loader=load_any)
    return norms, st, basis, check_age(norms, age, why)


def _population_text(norms) -> str:
    if norms is None:
        return ""
    n = f", n = {norms.n_subjects}" if norms.n_subjects else ""
    return f"{norms.population} ({norms.age_text()}{n})"


def gvs_mean_curves(walk_res: Sequence[TrialAnalysis]) -> dict[str, dict[str, np.ndarray]]:
    """side -> GVS key -> ``(101,)`` mean curve over the walking cycles of every trial.

    A side is included when every GVS variable has cycles on it in some trial: a trial whose
    file marks one foot's events only has no cycles (an empty entry) on the other side.
    """
    means = {}
    for s in SIDES:
        per_key = {k: [t.cycle_curves[s][k] for t in walk_res if k in t.cycle_curves.get(s, {})]
                   for k in GVS_VARIABLES}
        if all(per_key.values()):
            means[s] = {k: np.nanmean(np.concatenate(v), axis=0) for k, v in per_key.items()}
    return means


def processing_failures(session) -> tuple[tuple[str, str], ...]:
    """``(trial name, "not processed: reason")`` of a ProcessedSession's ``failures``.

    The trial name is the file's stem (as :func:`core.io.c3d.read_c3d` names trials); the
    reason drops the file path that the error message starts with.
    """
    out = []
    for path, message in getattr(session, "failures", ()) or ():
        p, text = Path(path), str(message)
        for prefix in (f"{p}: ", f"{p.name}: "):
            if text.startswith(prefix):
                text = text[len(prefix):]
                break
        out.append((p.stem, f"not processed: {text}"))
    return tuple(out)


def _warnings(results: Sequence[TrialAnalysis], thigh: Mapping[str, ThighOffset], settings) -> tuple[str, ...]:
    out = [x.message for t in results for x in t.crosstalk.values() if x.detected]
    out += [o.warning for o in thigh.values() if o.warning and o.phi_deg is not None]
    if settings.sex is None and any(t.task != "walk" for t in results):
        out.append("sex unknown: the lower (male) FPPA bounds are used")
    return tuple(dict.fromkeys(out))


# --------------------------------------------------------------------------------------
# readable summary (command line; frames are C3D numbers, times in s)
# --------------------------------------------------------------------------------------
UNITS = {"mkd": "mm", "mkd_pct_knee_width": "%"}


def _fmt(values, unit: str) -> str:
    vals = [f"{v:.1f}" if math.isfinite(v) else "-" for v in np.asarray(values, float)]
    return f"{', '.join(vals)} {unit}" if vals else "none"


def _time(frame: int, rate: float) -> float:
    return (frame - 1) / rate


def _phase_lines(t: TrialAnalysis, side: str) -> list[str]:
    out = []
    for i, p in enumerate(t.phases_of(side), 1):
        unit = UNITS.get(p.metric, "deg")
        where = "% of the gait cycle" if p.window_kind == "stance" else f"% of the {p.window_kind}"
        out.append(f"    phase {i} ({p.window_kind} {p.window_index + 1}): frames {p.onset_frame}-{p.offset_frame} "
                   f"({_time(p.onset_frame, t.rate_hz):.2f}-{_time(p.offset_frame, t.rate_hz):.2f} s, "
                   f"{p.onset_pct:.0f}-{p.offset_pct:.0f} {where}), peak {p.peak_value:.1f} {unit} at frame "
                   f"{p.peak_frame} ({p.peak_pct:.0f} %), mean {p.mean_value:.1f} {unit}, {p.duration_s:.2f} s; "
                   f"{p.metric} ({'corrected' if p.corrected else 'raw'}) > {p.threshold:.1f} {unit}")
        inds = [f"{i.name.replace('_', ' ')} {i.value_mean:.1f} deg"
                + (f" ({i.deviation}, normal {i.normal_mean:.1f} +- {i.normal_sd:.1f})" if i.beyond_normal is not None else "")
                for i in p.indicators if i.name != "knee_flexion"]
        out.append("      indicators: " + "; ".join(inds))
    return out


def trial_lines(t: TrialAnalysis) -> list[str]:
    """Readable lines of one trial's analysis."""
    last = t.first_frame + t.n_frames - 1
    side = f", stance side {t.side} (rule: {t.decision.side_rule})" if t.side else ""
    out = [f"Trial {t.trial_name}: task {t.task} (rule: {t.decision.task_rule}){side}; frames {t.first_frame}-{last} "
           f"({_time(t.first_frame, t.rate_hz):.2f}-{_time(last, t.rate_hz):.2f} s) at {t.rate_hz:g} Hz"]
    for s, wins in t.windows.items():
        out.append(f"  {s}: {len(wins)} {wins[0].kind if wins else 'window'}(s) "
                   + " ".join(f"[{w.start_frame}-{w.end_frame}]" for w in wins))
        for k, v in t.window_peaks.get(s, {}).items():
            tag = " (DynaKAD-corrected, for comparison only)" if k == "valgus_3d_corrected" else ""
            out.append(f"    peak {k} per window: {_fmt(v, UNITS.get(k, 'deg'))}{tag}")
        thr = next(iter(t.thresholds.get(s, {})), None)
        ph = t.phases_of(s)
        out.append(f"    valgus phases ({thr or 'no metric'}): {len(ph)}")
        out += _phase_lines(t, s)
    for s, x in t.crosstalk.items():
        out.append(f"  cross-talk {s} (swing): r = {x.correlation:.2f}, {x.explained_excursion_deg:.1f} deg explained"
                   + (" -> DETECTED" if x.detected else ""))
    out += kinetics_lines(t.kinetics)
    out += [f"  note: {n}" for n in t.notes]
    return out


def summary_lines(sa: SessionAnalysis) -> list[str]:
    """Readable summary of a session analysis (frames as C3D numbers, times in s)."""
    unused = f", {len(sa.failures)} not used (listed below)" if sa.failures else ""
    out = [f"Session {sa.label}: {len(sa.trials)} trial(s) analysed{unused} (Genu Lab {sa.software_version})"]
    out += [f"Note: {n}" for n in sa.notes]
    out.append(f"Normal bands: {sa.normative_name or 'none'}" + (f", {sa.speed_class} speed" if sa.speed_class else "")
               + (f" ({sa.normative_basis})" if sa.normative_basis else "")
               + (f" - {sa.normative_citation}" if sa.normative_citation else ""))
    if sa.normative_population:
        age = f"{sa.patient_age_years:g} y" if sa.patient_age_years is not None else "unknown"
        out.append(f"Normative population: {sa.normative_population}; patient's age: {age}"
                   + (f" ({sa.patient_age_basis})" if sa.patient_age_basis else ""))
    if sa.normative_caution:
        out.append(f"CAUTION: {sa.normative_caution}")
    out += [f"Threshold {k}: {v}" for k, v in sa.threshold_sources.items()]
    for s, o in sa.thigh_offsets.items():
        if o.phi_deg is None:
            out.append(f"DynaKAD thigh offset {s}: not estimated ({o.warning or 'no walking trial'})")
        else:
            out.append(f"DynaKAD thigh offset {s}: {o.phi_deg:+.1f} deg; 3D valgus excursion per cycle raw "
                       f"{o.excursion_raw_deg:.1f} -> corrected {o.excursion_corrected_deg:.1f} deg "
                       "(corrected values are offered beside the raw ones, never used by default)")
    for t in sa.trials:
        out += trial_lines(t)
    for s, w in sa.walking.items():
        st = w.spatiotemporal
        out.append(f"Walking {s}: {w.n_cycles} cycles; speed {st.get('speed_m_s', math.nan):.2f} m/s, cadence "
                   f"{st.get('cadence_steps_min', math.nan):.1f} steps/min, stride {st.get('stride_length_m', math.nan):.2f} m, "
                   f"step {st.get('step_length_m', math.nan):.2f} m, stance {st.get('stance_pct', math.nan):.1f} %; "
                   f"GPS {w.gps_deg:.1f} deg")
    if sa.walking:
        out.append(f"GPS overall: {sa.gps_overall_deg:.1f} deg")
    for k in ("valgus_3d", "fppa", "HipAngles.y", "KneeAngles.x"):
        if k in sa.symmetry:
            y = sa.symmetry[k]
            out.append(f"Symmetry {k}: RMS left-right difference {y.rms_difference:.1f}, largest "
                       f"{y.max_abs_difference:.1f} at {y.max_abs_difference_pct:.0f} % of the cycle, r = {y.correlation:.2f}")
    out += [f"Kinetic chain {c.task}/{c.side}: {c.text}" for c in sa.chain.values()]
    out += [f"WARNING: {w}" for w in sa.warnings]
    out += [f"WARNING: trial {n} not used: {r}" for n, r in sa.failures if f"{n} {r}" not in sa.warnings]
    return out
