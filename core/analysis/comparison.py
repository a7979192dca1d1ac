"""Pre/post comparison of two sessions of the same patient.

For every kinematic variable and valgus metric the change is reported with its 95 %
confidence interval and the verdict of the measurement-error rule of docs/valgus.md
(:data:`core.analysis.stats.CHANGE_RULE`): a change "exceeds measurement error" when |difference| is
larger than the metric's SDD/MCID **and** the 95 % CI of the difference excludes zero.

* Walking curves (per variable and side): mean/SD curves of both sessions over all their
  cycles, the change of the per-cycle peaks (max and min, Welch CI) and a curve-level
  permutation test (max-t over the cycle, Nichols & Holmes 2002) giving the % cycle clusters
  where the sessions differ.
* Valgus metrics per task and side (``valgus_3d``, ``fppa``, ``mkd``): change of the peak per
  window (walking stance, squat repetition, hold, landing) with its CI and verdict
  (FPPA SDD 8.5 deg, Munro 2012; 3D valgus 5 deg, McGinley 2009; MKD: no published SDD, the
  change is "not judged").
* Knee moments per task and side: change of the per-window peak external knee abduction
  (and adduction) moment over windows with a clean plate contact, against an SDD from the
  within-session spread of both sessions (:func:`core.analysis.kinetics.within_session_sdd`).
* GPS per side and overall (Baker 2009) of each session from its mean curves against the
  normative set of that session, the difference against the MCID 1.6 deg (Baker 2012); the
  standard error of the difference comes from a seeded bootstrap over cycles of both sessions
  (cycles resampled with replacement within session and side, GPS recomputed), CI =
  difference +- 1.96 SE.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional, Sequence

import numpy as np

from core.analysis.kinetics import SDD_SOURCE, kinetic_changes, not_compared, session_window_values
from core.analysis.types import SessionAnalysis
from core.errors import AnalysisError, GenuError
from core.analysis.normative import NormativeSet
from core.analysis.norm_choice import load_any
from core.analysis.stats import (CHANGE_RULE, GVS_VARIABLES, LIMB_KEYS, PELVIS_KEYS, ChangeResult, CurveTestResult,
                        compare_samples, curve_peaks, curve_permutation_test, gait_profile,
                        gait_variable_score_rows, mean_sd, measurement_error, percent_grid)
from core.variables import VALGUS_METRICS_BY_KEY, VARIABLES_BY_KEY
from core.model import readonly_array as _ro

VALGUS_COMPARED = ("valgus_3d", "fppa", "mkd")
SIDES = ("Left", "Right")




@dataclass(frozen=True)
class VariableChange:
    """Change of one walking variable of one side.

    key: variable key (``"KneeAngles.x"``, ``"valgus_3d"``...); unit; percent: ``(K,)``;
    pre_mean / pre_sd / post_mean / post_sd: ``(K,)`` curves over the cycles of each session;
    n_pre / n_post: cycles; peak_max / peak_min: change of the per-cycle maximum / minimum;
    curve_test: the curve-level permutation test (None with fewer than 2 cycles a session).
    """

    key: str
    side: str
    unit: str
    percent: np.ndarray
    pre_mean: np.ndarray
    pre_sd: np.ndarray
    post_mean: np.ndarray
    post_sd: np.ndarray
    n_pre: int
    n_post: int
    peak_max: ChangeResult
    peak_min: ChangeResult
    curve_test: Optional[CurveTestResult]

    def __post_init__(self) -> None:
        for name in ("percent", "pre_mean", "pre_sd", "post_mean", "post_sd"):
            object.__setattr__(self, name, _ro(getattr(self, name)))


@dataclass(frozen=True)
class GpsChange:
    """Change of the Gait Profile Score of one side or ``"Overall"`` (deg).

    pre_gps / post_gps: Baker 2009 GPS of each session's mean curves; difference = post - pre;
    se: bootstrap standard error of the difference; ci_low / ci_high = difference +- 1.96 se;
    mcid: 1.6 deg (Baker 2012); verdict as :data:`core.analysis.stats.CHANGE_RULE`.
    """

    side: str
    pre_gps: float
    post_gps: float
    difference: float
    se: float
    ci_low: float
    ci_high: float
    mcid: float
    mcid_source: str
    exceeds_mcid: bool
    ci_excludes_zero: bool
    verdict: str
    method: str
    rule: str = CHANGE_RULE


@dataclass(frozen=True)
class SessionComparison:
    """Result of :func:`compare_sessions` (used by the store, the app and the report).

    pre_label / post_label: session labels. variables: (key, side) -> :class:`VariableChange`
    (walking cycles). valgus: (task, side, metric) -> :class:`core.analysis.stats.ChangeResult` of the
    per-window peak. gps: ``"Left"``/``"Right"``/``"Overall"`` -> :class:`GpsChange`.
    spatiotemporal: (name, side) -> (pre, post, post - pre) session means (no CI: the session
    summaries hold means only). normative_pre / normative_post: the normal sets used;
    rule: the measurement-error rule; curve_method: the curve test's wording; notes.
    kinetics: (task, side, ``"peak_abduction_moment"`` / ``"peak_adduction_moment"``) ->
    :class:`core.analysis.stats.ChangeResult` of the per-window external knee moment peak
    (N.m/kg, windows with a clean plate contact; SDD from the within-session spread,
    :func:`core.analysis.kinetics.within_session_sdd`).
    """

    pre_label: str
    post_label: str
    variables: Mapping[tuple[str, str], VariableChange]
    valgus: Mapping[tuple[str, str, str], ChangeResult]
    gps: Mapping[str, GpsChange]
    spatiotemporal: Mapping[tuple[str, str], tuple[float, float, float]] = field(default_factory=dict)
    normative_pre: str = ""
    normative_post: str = ""
    rule: str = CHANGE_RULE
    curve_method: str = ""
    notes: tuple[str, ...] = ()
    kinetics: Mapping[tuple[str, str, str], ChangeResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("variables", "valgus", "gps", "spatiotemporal", "kinetics"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        object.__setattr__(self, "notes", tuple(self.notes))

    def exceeding(self) -> list[str]:
        """Names of every change whose verdict is "exceeds measurement error"."""
        out = [f"{k[0]} {k[1]} {k[2]} peak" for k, r in self.valgus.items() if r.exceeds_measurement_error]
        for (key, side), v in self.variables.items():
            out += [f"{key} {side} {w}" for w, r in (("max", v.peak_max), ("min", v.peak_min))
                    if r.exceeds_measurement_error]
        out += [f"GPS {s}" for s, g in self.gps.items() if g.verdict == "exceeds measurement error"]
        out += [f"{k[0]} {k[1]} {k[2]}" for k, r in self.kinetics.items() if r.exceeds_measurement_error]
        return out


# --------------------------------------------------------------------------------------
def walking_cycles(session: SessionAnalysis) -> dict[str, dict[str, np.ndarray]]:
    """side -> key -> ``(n_cycles, 101)`` cycles pooled over the session's walking trials."""
    pooled: dict[str, dict[str, list]] = {}
    for t in session.trials:
        if t.task != "walk":
            continue
        for side, curves in t.cycle_curves.items():
            for key, c in curves.items():
                a = np.asarray(c, dtype=float)
                if a.ndim == 2 and a.shape[0]:
                    pooled.setdefault(side, {}).setdefault(key, []).append(a)
    return {s: {k: np.vstack(v) for k, v in d.items()} for s, d in pooled.items()}


def window_peaks(session: SessionAnalysis) -> dict[tuple[str, str, str], np.ndarray]:
    """(task, side, metric) -> ``(n_windows,)`` peak per window over the session's trials."""
    out: dict[tuple[str, str, str], list] = {}
    for t in session.trials:
        for side, metrics in t.window_peaks.items():
            for metric, peaks in metrics.items():
                if metric in VALGUS_COMPARED:
                    out.setdefault((t.task, side, metric), []).append(np.atleast_1d(np.asarray(peaks, float)))
    return {k: np.concatenate(v) for k, v in out.items()}


def _unit(key: str) -> str:
    v = VARIABLES_BY_KEY.get(key) or VALGUS_METRICS_BY_KEY.get(key)
    return v.unit if v else ""


def _variable_change(key: str, side: str, a: np.ndarray, b: np.ndarray, n_perm: int, seed: int,
                     alpha: float) -> VariableChange:
    pm, ps, _ = mean_sd(a)
    qm, qs, _ = mean_sd(b)
    thr = measurement_error(key)
    name = f"{side} {key}"
    mx = compare_samples(curve_peaks(a, "max")[0], curve_peaks(b, "max")[0], thr, f"{name} max")
    mn = compare_samples(curve_peaks(a, "min")[0], curve_peaks(b, "min")[0], thr, f"{name} min")
    test = None
    if a.shape[0] >= 2 and b.shape[0] >= 2 and a.shape[1] == b.shape[1]:
        test = curve_permutation_test(a, b, n_perm=n_perm, seed=seed, alpha=alpha)
    return VariableChange(key, side, _unit(key), percent_grid(a.shape[1]), pm, ps, qm, qs,
                          int(a.shape[0]), int(b.shape[0]), mx, mn, test)


def _session_norms(session: SessionAnalysis, override: Optional[NormativeSet]) -> Optional[NormativeSet]:
    if override is not None:
        return override
    try:
        return load_any(session.normative_name or "schwartz2008", session.speed_class)   # lab sets too
    except GenuError:
        return None


def _bootstrap_gps(cycles: Mapping[str, Mapping[str, np.ndarray]], norms: NormativeSet, n_boot: int,
                   rng: np.random.Generator, pelvis_side: str) -> dict[str, np.ndarray]:
    """side / "Overall" -> ``(n_boot,)`` GPS of cycle-resampled mean curves (vectorised)."""
    gvs: dict[str, dict[str, np.ndarray]] = {}
    for side in SIDES:
        c = cycles.get(side, {})
        n = next((v.shape[0] for k, v in c.items() if k in GVS_VARIABLES), 0)
        if n == 0:
            continue
        idx = rng.integers(0, n, size=(n_boot, n))
        gvs[side] = {}
        for key in GVS_VARIABLES:
            band = norms.band(key)
            if key not in c or band is None:
                gvs[side][key] = np.full(n_boot, np.nan)
                continue
            sample = c[key][idx]                                  # (n_boot, n, K) resampled cycles
            count = np.sum(~np.isnan(sample), axis=1)
            # NaN-aware mean (as np.nanmean) without its "Mean of empty slice" warning:
            # a point of the cycle missing in every resampled cycle stays NaN
            means = np.divide(np.nansum(sample, axis=1), count, out=np.full(count.shape, np.nan),
                              where=count > 0)
            gvs[side][key] = gait_variable_score_rows(means, band)
    out = {s: np.sqrt(np.mean(np.vstack([g[k] for k in GVS_VARIABLES]) ** 2, axis=0)) for s, g in gvs.items()}
    if len(gvs) == 2:
        ps = pelvis_side if pelvis_side in gvs else "Left"
        rows = [gvs[ps][k] for k in PELVIS_KEYS] + [gvs[s][k] for s in SIDES for k in LIMB_KEYS]
        out["Overall"] = np.sqrt(np.mean(np.vstack(rows) ** 2, axis=0))
    return out


def _gps_changes(pre_c, post_c, norms_pre, norms_post, n_boot: int, seed: int) -> dict[str, GpsChange]:
    if norms_pre is None or norms_post is None:
        return {}
    mean_of = lambda c: {s: {k: mean_sd(v)[0] for k, v in d.items() if k in GVS_VARIABLES} for s, d in c.items()}  # noqa: E731
    p0, p1 = gait_profile(mean_of(pre_c), norms_pre), gait_profile(mean_of(post_c), norms_post)
    rng = np.random.default_rng(seed)
    b0 = _bootstrap_gps(pre_c, norms_pre, n_boot, rng, p0.pelvis_side)
    b1 = _bootstrap_gps(post_c, norms_post, n_boot, rng, p1.pelvis_side)
    me = measurement_error("gps")
    method = (f"GPS (Baker 2009) of the session mean curves; SE of the difference from {n_boot} bootstrap "
              f"resamplings of the cycles of each session (seed {seed}); CI = difference +- 1.96 SE")
    out = {}
    for side in ("Left", "Right", "Overall"):
        g0 = p0.gps_overall if side == "Overall" else p0.gps.get(side, math.nan)
        g1 = p1.gps_overall if side == "Overall" else p1.gps.get(side, math.nan)
        if not (np.isfinite(g0) and np.isfinite(g1)) or side not in b0 or side not in b1:
            continue
        if min(np.isfinite(b0[side]).sum(), np.isfinite(b1[side]).sum()) < 2:
            continue                                              # no spread to estimate
        se = float(math.sqrt(np.nanvar(b0[side], ddof=1) + np.nanvar(b1[side], ddof=1)))
        d = g1 - g0
        lo, hi = d - 1.96 * se, d + 1.96 * se
        exceeds, excl = abs(d) > me.value, bool(lo > 0 or hi < 0)
        verdict = "exceeds measurement error" if (exceeds and excl) else "within measurement error"
        out[side] = GpsChange(side, g0, g1, d, se, lo, hi, me.value, me.source, exceeds, excl, verdict, method)
    return out


def _nothing_to_compare(pre: SessionAnalysis, post: SessionAnalysis, pre_c, post_c, variables,
                        valgus) -> list[str]:
    """Notes for the parts of a comparison that had nothing in common (no silent gaps)."""
    notes = []
    if not variables and bool(pre_c) != bool(post_c):
        only = pre.label if pre_c else post.label
        notes.append(f"walking curves and GPS: nothing to compare (walking cycles only in session {only!r})")
    elif not variables and pre_c:
        notes.append("walking curves: nothing to compare (no walking variable with cycles in both sessions)")
    if not valgus:
        notes.append("valgus peaks: nothing to compare (no task, side and metric with peaks in both sessions)")
    return notes


def compare_sessions(pre: SessionAnalysis, post: SessionAnalysis, n_perm: int = 2000, seed: int = 0,
                     alpha: float = 0.05, n_boot: int = 1000, normative: Optional[NormativeSet] = None,
                     keys: Optional[Sequence[str]] = None) -> SessionComparison:
    """Compare two analysed sessions of the same patient (pre -> post).

    Parameters
    ----------
    pre, post: :class:`core.analysis.SessionAnalysis` of the two visits.
    n_perm, seed, alpha: the curve permutation test (deterministic for a seed).
    n_boot: bootstrap resamplings for the GPS standard error.
    normative: one normative set for both sessions' GPS; default: each session's own set and
        speed class (as shown in its own report).
    keys: walking variables to compare (default: every key with cycles in both sessions).

    Raises
    ------
    AnalysisError when the two sessions have nothing in common to compare.
    """
    pre_c, post_c = walking_cycles(pre), walking_cycles(post)
    variables = {}
    notes = []
    for side in SIDES:
        common = sorted(set(pre_c.get(side, {})) & set(post_c.get(side, {})))
        for key in (k for k in common if keys is None or k in keys):
            variables[(key, side)] = _variable_change(key, side, pre_c[side][key], post_c[side][key], n_perm, seed, alpha)
    p0, p1 = window_peaks(pre), window_peaks(post)
    valgus = {k: compare_samples(p0[k], p1[k], k[2], f"{k[0]} {k[1]} {k[2]} peak") for k in sorted(set(p0) & set(p1))}
    if not variables and not valgus:
        raise AnalysisError(f"sessions {pre.label!r} and {post.label!r} have no task or walking variable in common")
    notes += _nothing_to_compare(pre, post, pre_c, post_c, variables, valgus)
    n0, n1 = _session_norms(pre, normative), _session_norms(post, normative)
    if (pre_c or post_c) and (n0 is None or n1 is None):
        notes.append("GPS change not computed: the normative set of a session could not be loaded")
    gps = _gps_changes(pre_c, post_c, n0, n1, n_boot, seed)
    st = {}
    for side in SIDES:
        w0, w1 = pre.walking.get(side), post.walking.get(side)
        if w0 is not None and w1 is not None:
            for name in sorted(set(w0.spatiotemporal) & set(w1.spatiotemporal)):
                a, b = float(w0.spatiotemporal[name]), float(w1.spatiotemporal[name])
                st[(name, side)] = (a, b, b - a)
    if "mkd" in {k[2] for k in valgus}:
        notes.append("medial knee displacement: no published SDD, its change is reported but not judged")
    method = next((v.curve_test.method for v in variables.values() if v.curve_test), "")
    few = [f"{k[1]} {k[0]}" for k, v in variables.items()
           if v.curve_test and v.curve_test.exact and 2.0 / v.curve_test.n_permutations > alpha]
    if few:
        notes.append(f"too few cycles for the curve test to reach p <= {alpha:g} (the two-sided test cannot go "
                     f"below 2 / number of relabellings) for {len(few)} variable(s): record more cycles")
    notes.append("curve tests control the family-wise error over the cycle of each variable, not across variables")
    kin = kinetic_changes(pre, post)
    notes += kinetic_notes(pre, post, kin)
    return SessionComparison(pre.label, post.label, variables, valgus, gps, st,
                             n0.label() if n0 else pre.normative_name, n1.label() if n1 else post.normative_name,
                             CHANGE_RULE, method, tuple(notes), kin)


def kinetic_notes(pre: SessionAnalysis, post: SessionAnalysis, kin: Mapping) -> list[str]:
    """Notes on the knee-moment comparison (which session had no kinetics, the SDD used)."""
    has = {s.label: bool(session_window_values(s)) for s in (pre, post)}
    if kin:
        skipped = not_compared(pre, post)
        extra = ([f"knee moments not compared where neither session has a moment that way (every window's "
                  f"peak <= 0): " + ", ".join(f"{t} {side} {n.replace('peak_', '').replace('_', ' ')}"
                                            for t, side, n in skipped)] if skipped else [])
        return [f"knee moments: {SDD_SOURCE}"] + extra
    if any(has.values()) and not all(has.values()):
        only = next(k for k, v in has.items() if v)
        return [f"knee moments: nothing to compare (kinetics on a clean plate contact only in session {only!r})"]
    return []


# --------------------------------------------------------------------------------------
def _fmt(x: float, nd: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:+.{nd}f}"


def summary_lines(c: SessionComparison) -> list[str]:
    """Readable plain-text summary (command line, logs)."""
    lines = [f"Pre/post comparison: {c.pre_label} -> {c.post_label}", f"Rule: a change {c.rule}.", ""]
    if c.valgus:
        lines.append("Valgus metrics (peak per window; post - pre [95 % CI]; threshold; verdict)")
        for (task, side, metric), r in c.valgus.items():
            unit = _unit(metric)
            thr = f"{r.threshold_kind} {r.threshold:g} {unit}" if np.isfinite(r.threshold) else "no SDD"
            lines.append(f"  {task:10s} {side:5s} {metric:10s} {r.pre_mean:7.1f} -> {r.post_mean:7.1f} {unit:3s} "
                         f"change {_fmt(r.difference)} [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]  {thr}: {r.verdict} "
                         f"(n {r.n_pre}/{r.n_post})")
    if c.kinetics:
        lines.append("Knee moments (external, peak per window with a clean plate contact; post - pre [95 % CI])")
        for (task, side, name), r in c.kinetics.items():
            thr = f"{r.threshold_kind} {r.threshold:.3f} N.m/kg" if np.isfinite(r.threshold) else "no SDD"
            lines.append(f"  {task:10s} {side:5s} {name.replace('_', ' '):24s} {r.pre_mean:6.3f} -> "
                         f"{r.post_mean:6.3f} N.m/kg change {_fmt(r.difference, 3)} [{_fmt(r.ci_low, 3)}, "
                         f"{_fmt(r.ci_high, 3)}]  {thr}: {r.verdict} (n {r.n_pre}/{r.n_post})")
    if c.gps:
        lines += ["", "Gait Profile Score (deg; MCID 1.6, Baker 2012)"]
        for side, g in c.gps.items():
            lines.append(f"  {side:8s} {g.pre_gps:5.2f} -> {g.post_gps:5.2f}  change {_fmt(g.difference, 2)} "
                         f"[{_fmt(g.ci_low, 2)}, {_fmt(g.ci_high, 2)}]: {g.verdict}")
    if c.variables:
        lines += ["", "Walking variables (peak max change [95 % CI]; curve test p; % cycle where different)"]
        for (key, side), v in c.variables.items():
            t = v.curve_test
            where = ", ".join(f"{a:.0f}-{b:.0f} %" for a, b in t.clusters) if t and t.clusters else "-"
            p = f"p={t.p_value:.3f}" if t else "p=n/a"
            lines.append(f"  {side:5s} {key:22s} max {_fmt(v.peak_max.difference)} [{_fmt(v.peak_max.ci_low)}, "
                         f"{_fmt(v.peak_max.ci_high)}] {v.peak_max.verdict}; {p}; {where}")
    if c.spatiotemporal:
        lines += ["", "Spatio-temporal (pre -> post)"]
        for (name, side), (a, b, d) in c.spatiotemporal.items():
            lines.append(f"  {side:5s} {name:26s} {a:8.3f} -> {b:8.3f} ({d:+.3f})")
    lines += ["", f"Normal bands: pre {c.normative_pre}", f"              post {c.normative_post}"]
    if c.curve_method:
        lines.append(f"Curve test: {c.curve_method}.")
    lines += [f"Note: {n}" for n in c.notes]
    return lines
