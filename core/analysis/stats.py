"""Gait statistics: cycle statistics, spatio-temporal parameters, GVS/GPS, change and curve tests.

Inputs are time-normalised cycles, ``(n_cycles, K)`` arrays per variable (``K = 101``
samples, 0..100 % of the cycle, as produced by the cycle normalisation), NaN where a sample is
missing. Every function is vectorised over cycles and samples and NaN-aware.

Algorithms and sources
----------------------
* Gait Variable Score / Gait Profile Score: Baker R et al. (2009) "The Gait Profile Score and
  Movement Analysis Profile", Gait Posture 30(3):265-269. GVS = RMS over the cycle of
  (patient mean curve - normative mean curve). **Grid: the norm's own points** (Schwartz 2008:
  51 points, 0, 2, ..., 100 %); the patient's 101-sample mean curve holds those percents
  exactly, so no interpolation of patient data is involved. GPS of a side = RMS of its nine
  GVS (:data:`core.variables.GVS_VARIABLES`); overall GPS = RMS of 15 GVS: the three pelvic
  GVS **of the left side** (LPelvisAngles over left cycles; the right side's when the left is
  missing) and the six hip/knee/ankle/foot GVS of each side.
* Change beyond measurement error (docs valgus.md): Welch's t interval for the difference
  of two means (Welch 1947); verdict "exceeds measurement error" iff |difference| > SDD/MCID
  **and** the 95 % CI excludes zero.
* Curve comparison: two-sample permutation test of the Welch t curve with the maximum
  statistic over the cycle for family-wise error control, Nichols TE & Holmes AP (2002)
  "Nonparametric permutation tests for functional neuroimaging", Hum Brain Mapp 15:1-25.
* Symmetry index: Robinson RO, Herzog W, Nigg BM (1987), J Manipulative Physiol Ther
  10(4):172-176: SI = 100 (L - R) / (0.5 (L + R)).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional, Sequence

import numpy as np

from core.errors import AnalysisError
from core.analysis.normative import NormativeSet
from core.variables import GVS_VARIABLES
from core.model import readonly_array as _ro

PELVIS_KEYS = GVS_VARIABLES[:3]
LIMB_KEYS = GVS_VARIABLES[3:]
GPS_PELVIS_SIDE = "Left"
GPS_GRID = "normative points (Schwartz 2008: 51 points, every 2 % of the cycle)"




def percent_grid(n_samples: int = 101) -> np.ndarray:
    """``(n_samples,)`` percent of cycle of the time-normalised samples (0..100)."""
    return np.linspace(0.0, 100.0, n_samples)


def _as_cycles(curves) -> np.ndarray:
    a = np.asarray(curves, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] < 2:
        raise AnalysisError(f"cycle curves must be (n_cycles, samples), got shape {np.shape(curves)}")
    return a


# ======================================================================================
# cycle statistics
# ======================================================================================
def curve_peaks(curves, kind: str = "max", window: Optional[tuple[float, float]] = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Peak value and its timing per cycle.

    Parameters
    ----------
    curves: ``(n, K)`` cycles (or ``(K,)`` one curve), NaN-aware.
    kind: ``"max"`` or ``"min"``.
    window: optional ``(lo, hi)`` percent range searched (inclusive).

    Returns
    -------
    values, percents: ``(n,)`` each; NaN for a cycle without valid samples in the window.
    """
    a = _as_cycles(curves)
    pct = percent_grid(a.shape[1])
    if window is not None:
        a = np.where((pct >= window[0]) & (pct <= window[1]), a, np.nan)
    if kind not in ("max", "min"):
        raise AnalysisError(f"peak kind must be 'max' or 'min', not {kind!r}")
    sign = 1.0 if kind == "max" else -1.0
    filled = np.where(np.isnan(a), -np.inf, sign * a)
    idx = np.argmax(filled, axis=1)
    valid = np.isfinite(filled[np.arange(a.shape[0]), idx])
    values = np.where(valid, a[np.arange(a.shape[0]), idx], np.nan)
    return values, np.where(valid, pct[idx], np.nan)


@dataclass(frozen=True)
class CycleStatistics:
    """Statistics of one variable over the cycles of one side.

    percent: ``(K,)`` grid; mean, sd: ``(K,)`` mean and sample SD (ddof 1; NaN with < 2 valid
    cycles at a sample); n_valid: ``(K,)`` cycles contributing at each sample.
    max_value / max_pct, min_value / min_pct: peaks of the **mean curve** and their timing
    (% cycle); rom: max - min of the mean curve. cycle_max / cycle_max_pct, cycle_min /
    cycle_min_pct: ``(n_cycles,)`` peaks of each cycle (used for pre/post change).
    """

    n_cycles: int
    percent: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    n_valid: np.ndarray
    max_value: float
    max_pct: float
    min_value: float
    min_pct: float
    rom: float
    cycle_max: np.ndarray
    cycle_max_pct: np.ndarray
    cycle_min: np.ndarray
    cycle_min_pct: np.ndarray

    def __post_init__(self) -> None:
        for name in ("percent", "mean", "sd", "n_valid", "cycle_max", "cycle_max_pct", "cycle_min", "cycle_min_pct"):
            object.__setattr__(self, name, _ro(getattr(self, name)))


def mean_sd(curves) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NaN-aware mean, sample SD (ddof 1) and count over cycles: each ``(K,)``."""
    a = _as_cycles(curves)
    n = np.sum(~np.isnan(a), axis=0)
    s = np.nansum(a, axis=0)
    mean = np.divide(s, n, out=np.full(a.shape[1], np.nan), where=n > 0)
    dev2 = np.nansum((a - mean) ** 2, axis=0)
    sd = np.sqrt(np.divide(dev2, n - 1, out=np.full(a.shape[1], np.nan), where=n > 1))
    return mean, sd, n


def cycle_statistics(curves) -> CycleStatistics:
    """Mean/SD curves and peaks of one variable over cycles.

    Parameters
    ----------
    curves: ``(n_cycles, K)`` time-normalised cycles (K = 101 normally), NaN-aware.
    """
    a = _as_cycles(curves)
    mean, sd, n = mean_sd(a)
    (mx,), (mxp,) = curve_peaks(mean, "max")
    (mn,), (mnp,) = curve_peaks(mean, "min")
    cmx, cmxp = curve_peaks(a, "max")
    cmn, cmnp = curve_peaks(a, "min")
    return CycleStatistics(int(a.shape[0]), percent_grid(a.shape[1]), mean, sd, n, float(mx), float(mxp),
                           float(mn), float(mnp), float(mx - mn), cmx, cmxp, cmn, cmnp)


@dataclass(frozen=True)
class Symmetry:
    """Left/right symmetry of one variable (mean curves of both sides, same grid).

    rms_difference: RMS over the cycle of (left mean - right mean), deg;
    max_abs_difference and its percent; correlation: Pearson r of the two mean curves;
    peak_difference: left max - right max (deg); si_rom_pct: symmetry index of the ranges of
    motion (Robinson 1987), 100 (L - R) / (0.5 (L + R)); si_peak_pct: the same on the peak
    values, NaN when 0.5 |L + R| < 1 deg (the index is meaningless near zero).
    """

    rms_difference: float
    max_abs_difference: float
    max_abs_difference_pct: float
    correlation: float
    peak_difference: float
    si_rom_pct: float
    si_peak_pct: float


def _si(left: float, right: float, floor: float = 1.0) -> float:
    den = 0.5 * (left + right)
    return float(100.0 * (left - right) / den) if np.isfinite(den) and abs(den) >= floor else float("nan")


def symmetry(left_curves, right_curves) -> Symmetry:
    """Left/right symmetry from the cycles (or mean curves) of both sides, ``(n, K)`` or ``(K,)``."""
    lm, _, _ = mean_sd(left_curves)
    rm, _, _ = mean_sd(right_curves)
    if lm.shape != rm.shape:
        raise AnalysisError(f"left and right curves differ in samples: {lm.shape} vs {rm.shape}")
    d = lm - rm
    ok = np.isfinite(d)
    if not ok.any():
        nan = float("nan")
        return Symmetry(nan, nan, nan, nan, nan, nan, nan)
    i = int(np.nanargmax(np.abs(d)))
    r = float(np.corrcoef(lm[ok], rm[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    lmax, rmax = np.nanmax(lm), np.nanmax(rm)
    lrom, rrom = lmax - np.nanmin(lm), rmax - np.nanmin(rm)
    return Symmetry(float(np.sqrt(np.nanmean(d ** 2))), float(abs(d[i])), float(percent_grid(d.size)[i]), r,
                    float(lmax - rmax), _si(lrom, rrom, 1e-9), _si(lmax, rmax))


# ======================================================================================
# Gait Variable Scores and Gait Profile Score (Baker et al. 2009)
# ======================================================================================
def gait_variable_score_rows(mean_curves, band, max_missing_fraction: float = 0.1) -> np.ndarray:
    """GVS of many mean curves at once (e.g. bootstrap replicates).

    Parameters
    ----------
    mean_curves: ``(B, K)`` mean curves on ``percent_grid(K)``; the band's percent points are
        read by linear interpolation between samples (exact samples for K = 101 and the
        2 % points of Schwartz 2008: no interpolation of patient data happens then).
    band: :class:`core.analysis.normative.Band`.
    max_missing_fraction: a row is NaN when more of the band points than this are missing.

    Returns
    -------
    ``(B,)`` RMS over the band points of (patient - normative mean), same unit as the curves.
    """
    m = np.atleast_2d(np.asarray(mean_curves, dtype=float))
    pos = np.asarray(band.percent, float) / 100.0 * (m.shape[1] - 1)
    i0 = np.clip(np.floor(pos).astype(int), 0, m.shape[1] - 1)
    i1 = np.clip(i0 + 1, 0, m.shape[1] - 1)
    w = pos - i0
    left = m[:, i0]
    right = np.where(w > 0, m[:, i1], 0.0)       # a zero weight never lets a NaN neighbour in
    patient = (1.0 - w) * left + w * right
    d = patient - band.mean
    ok = np.isfinite(d)
    n_ok = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        gvs = np.sqrt(np.where(ok, d, 0.0) ** 2 @ np.ones(d.shape[1]) / n_ok)
    return np.where((n_ok > 0) & (1.0 - n_ok / d.shape[1] <= max_missing_fraction), gvs, np.nan)


def gait_variable_score(mean_curve, band, max_missing_fraction: float = 0.1) -> float:
    """GVS of one variable: RMS of (patient mean - normative mean) at the band's percent points.

    Parameters
    ----------
    mean_curve: ``(K,)`` patient mean curve on ``percent_grid(K)`` (K = 101: the band's 2 %
        points are samples of it).
    band: :class:`core.analysis.normative.Band`.
    max_missing_fraction: NaN result when more of the points than this are missing.
    """
    return float(gait_variable_score_rows(np.asarray(mean_curve, float)[None, :], band, max_missing_fraction)[0])


def gait_variable_scores(mean_curves: Mapping[str, np.ndarray], norms: NormativeSet,
                         keys: Sequence[str] = GVS_VARIABLES) -> dict[str, float]:
    """GVS (deg) of each key present in both ``mean_curves`` and the normative set (else NaN)."""
    out = {}
    for k in keys:
        band = norms.band(k)
        out[k] = gait_variable_score(mean_curves[k], band) if (band is not None and k in mean_curves) else float("nan")
    return out


def gait_profile_score(gvs: Mapping[str, float] | Sequence[float]) -> float:
    """RMS of GVS values (a side's nine, or the overall fifteen); NaN if any is NaN."""
    v = np.asarray(list(gvs.values()) if isinstance(gvs, Mapping) else list(gvs), dtype=float)
    return float(np.sqrt(np.mean(v ** 2))) if v.size else float("nan")


@dataclass(frozen=True)
class GaitProfile:
    """GVS and GPS of both sides (Baker 2009), with the choices made stated.

    gvs: side -> GVS key -> deg; gps: side -> deg; gps_overall: deg (RMS of 15 GVS);
    pelvis_side: the side whose pelvic GVS stand for the pelvis in the overall GPS;
    grid: the comparison grid; normative: label of the normative set.
    """

    gvs: Mapping[str, Mapping[str, float]]
    gps: Mapping[str, float]
    gps_overall: float
    pelvis_side: str
    grid: str
    normative: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "gvs", MappingProxyType({s: MappingProxyType(dict(v)) for s, v in self.gvs.items()}))
        object.__setattr__(self, "gps", MappingProxyType(dict(self.gps)))

    def map_data(self) -> list[tuple[str, float, float]]:
        """Movement Analysis Profile bars: ``(key, left GVS, right GVS)`` in MAP order, then
        ``("GPS", left GPS, right GPS)`` and ``("GPS overall", overall, overall)``."""
        nan = float("nan")
        rows = [(k, self.gvs.get("Left", {}).get(k, nan), self.gvs.get("Right", {}).get(k, nan)) for k in GVS_VARIABLES]
        rows.append(("GPS", self.gps.get("Left", nan), self.gps.get("Right", nan)))
        rows.append(("GPS overall", self.gps_overall, self.gps_overall))
        return rows


def gait_profile(mean_curves: Mapping[str, Mapping[str, np.ndarray]], norms: NormativeSet,
                 pelvis_side: str = GPS_PELVIS_SIDE) -> GaitProfile:
    """GVS per side, GPS per side and overall GPS.

    Parameters
    ----------
    mean_curves: side (``"Left"``/``"Right"``) -> GVS key -> ``(101,)`` mean curve over that
        side's cycles (the side's own Vicon channels, e.g. LPelvisAngles for "Left").
    norms: the normative set (one speed class).
    pelvis_side: whose pelvic GVS enter the overall GPS once (the other side if absent).
    """
    gvs = {s: gait_variable_scores(c, norms) for s, c in mean_curves.items()}
    gps = {s: gait_profile_score(v) for s, v in gvs.items()}
    sides = [s for s in ("Left", "Right") if s in gvs]
    if not sides:
        return GaitProfile(gvs, gps, float("nan"), pelvis_side, GPS_GRID, norms.label())
    ps = pelvis_side if pelvis_side in gvs else sides[0]
    values = [gvs[ps][k] for k in PELVIS_KEYS] + [gvs[s][k] for s in ("Left", "Right") for k in LIMB_KEYS if s in gvs]
    overall = gait_profile_score(values) if len(sides) == 2 else float("nan")
    return GaitProfile(gvs, gps, overall, ps, GPS_GRID, norms.label())


# ======================================================================================
# change beyond measurement error
# ======================================================================================
@dataclass(frozen=True)
class MeasurementError:
    """Smallest detectable difference or minimal clinically important difference of a metric."""

    value: float
    kind: str          # "SDD" or "MCID" or "typical error"
    unit: str
    source: str


_MCGINLEY = ("McGinley JL, Baker R, Wolfe R, Morris ME (2009) The reliability of three-dimensional "
             "kinematic gait measurements: a systematic review. Gait Posture 29(3):360-369")
#: documented measurement-error thresholds per metric / variable class
MEASUREMENT_ERROR: Mapping[str, MeasurementError] = MappingProxyType({
    "fppa": MeasurementError(8.5, "SDD", "deg", "Munro A, Herrington L, Carolan M (2012) Reliability of "
                             "2-dimensional video assessment of frontal-plane dynamic knee valgus during common "
                             "athletic screening tasks. J Sport Rehabil 21(1):7-11 (between-day SEM about 3 deg, "
                             "SDD 8-9 deg; mid value 8.5 deg used)"),
    "gps": MeasurementError(1.6, "MCID", "deg", "Baker R, McGinley JL, Schwartz M, Thomason P, Rodda J, Graham HK "
                            "(2012) The minimal clinically important difference for the Gait Profile Score. "
                            "Gait Posture 35(4):612-615"),
    "sagittal": MeasurementError(2.0, "typical error", "deg", _MCGINLEY + " (errors <= 2 deg acceptable; sagittal "
                                 "angles are the most repeatable)"),
    "frontal_transverse": MeasurementError(3.0, "typical error", "deg", _MCGINLEY + " (2-5 deg range; mid value "
                                           "for pelvis and foot progression)"),
    "hip_knee_frontal_transverse": MeasurementError(5.0, "typical error", "deg", _MCGINLEY + " (hip and knee "
                                                    "frontal/transverse angles are the least repeatable: upper "
                                                    "end of 2-5 deg)"),
})
_VARIABLE_CLASS = {
    "PelvisAngles.x": "sagittal", "HipAngles.x": "sagittal", "KneeAngles.x": "sagittal", "AnkleAngles.x": "sagittal",
    "PelvisAngles.y": "frontal_transverse", "PelvisAngles.z": "frontal_transverse",
    "FootProgressAngles.z": "frontal_transverse", "AnkleAngles.y": "frontal_transverse",
    "AnkleAngles.z": "frontal_transverse",
    "HipAngles.y": "hip_knee_frontal_transverse", "HipAngles.z": "hip_knee_frontal_transverse",
    "KneeAngles.y": "hip_knee_frontal_transverse", "KneeAngles.z": "hip_knee_frontal_transverse",
    "valgus_3d": "hip_knee_frontal_transverse", "valgus_3d_corrected": "hip_knee_frontal_transverse",
    "fppa": "fppa", "gps": "gps",
}


def measurement_error(key: str) -> Optional[MeasurementError]:
    """The SDD/MCID used for a variable key, valgus metric or ``"gps"``; None when none is documented
    (e.g. ``"mkd"``: no published SDD, the verdict is then "not judged")."""
    cls = _VARIABLE_CLASS.get(key.split(":")[-1])
    return MEASUREMENT_ERROR.get(cls) if cls else None


CHANGE_RULE = ("exceeds measurement error when |difference| > SDD/MCID of the metric AND the 95 % "
               "confidence interval of the difference (Welch, from the cycle-to-cycle spread of both "
               "sessions) excludes zero")


@dataclass(frozen=True)
class ChangeResult:
    """Pre/post change of one quantity.

    difference = post mean - pre mean; ci_low / ci_high: 95 % Welch interval; se: standard error
    of the difference of means; df: Welch-Satterthwaite degrees of freedom; threshold: the SDD
    or MCID (NaN when none); exceeds_threshold: |difference| > threshold; ci_excludes_zero;
    verdict: ``"exceeds measurement error"``, ``"within measurement error"``,
    ``"not judged (no SDD/MCID)"`` or ``"not computable (...)"``; rule: the rule's text.
    """

    name: str
    n_pre: int
    n_post: int
    pre_mean: float
    post_mean: float
    pre_sd: float
    post_sd: float
    difference: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    threshold: float
    threshold_kind: str
    threshold_source: str
    exceeds_threshold: bool
    ci_excludes_zero: bool
    verdict: str
    rule: str = CHANGE_RULE

    @property
    def exceeds_measurement_error(self) -> bool:
        return self.verdict == "exceeds measurement error"


def welch_interval(pre, post, confidence: float = 0.95) -> tuple[float, float, float, float]:
    """Difference of means (post - pre) with its Welch CI: ``(diff, se, df, half_width)``."""
    a = np.asarray(pre, dtype=float)
    b = np.asarray(post, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    diff = float(b.mean() - a.mean()) if a.size and b.size else float("nan")
    if a.size < 2 or b.size < 2:
        return diff, float("nan"), float("nan"), float("nan")
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return diff, 0.0, float("inf"), 0.0
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    from scipy.special import stdtrit   # Student t quantile; scipy.stats costs ~0.5 s to import
    half = float(stdtrit(df, 0.5 + confidence / 2.0)) * se
    return diff, se, float(df), half


def compare_samples(pre_values, post_values, sdd_or_mcid: float | MeasurementError | str | None,
                    name: str = "") -> ChangeResult:
    """Change between two sessions with its 95 % CI and the measurement-error verdict.

    Parameters
    ----------
    pre_values, post_values: ``(n1,)``, ``(n2,)`` one value per cycle / repetition (NaN ignored).
    sdd_or_mcid: threshold value, a :class:`MeasurementError`, a key for
        :func:`measurement_error` (``"fppa"``, ``"gps"``, ``"KneeAngles.x"``...) or None.
    name: label of the quantity.
    """
    me = measurement_error(sdd_or_mcid) if isinstance(sdd_or_mcid, str) else sdd_or_mcid
    if isinstance(me, MeasurementError):
        thr, kind, src = me.value, me.kind, me.source
    elif me is None:
        thr, kind, src = float("nan"), "", ""
    else:
        thr, kind, src = float(me), "SDD/MCID", "given"
    a = np.asarray(pre_values, dtype=float).ravel()
    b = np.asarray(post_values, dtype=float).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    diff, se, df, half = welch_interval(a, b)
    lo, hi = diff - half, diff + half
    excl = bool(np.isfinite(lo) and (lo > 0 or hi < 0))
    exceeds = bool(np.isfinite(thr) and np.isfinite(diff) and abs(diff) > thr)
    if a.size < 2 or b.size < 2:
        verdict = "not computable (needs >= 2 values per session)"
    elif not np.isfinite(thr):
        verdict = "not judged (no SDD/MCID)"
    else:
        verdict = "exceeds measurement error" if (exceeds and excl) else "within measurement error"
    sd = lambda x: float(x.std(ddof=1)) if x.size > 1 else float("nan")  # noqa: E731
    mean = lambda x: float(x.mean()) if x.size else float("nan")  # noqa: E731
    return ChangeResult(name, int(a.size), int(b.size), mean(a), mean(b), sd(a), sd(b), diff, se, df,
                        lo, hi, thr, kind, src, exceeds, excl, verdict)


# ======================================================================================
# curve-level permutation test (Nichols & Holmes 2002)
# ======================================================================================
@dataclass(frozen=True)
class CurveTestResult:
    """Result of :func:`curve_permutation_test`.

    t_curve: ``(K,)`` Welch t of post - pre at each sample; t_critical: the
    ``floor(alpha N) + 1``-th largest of the N permutation maxima of |t| over the cycle (a
    sample with |t| above it is significant); p_value: family-wise p of the observed max |t|;
    clusters: ``((start_pct, end_pct), ...)`` runs of samples whose FWE-adjusted p (share of
    relabellings with max |t| >= the sample's |t|) is <= alpha; n_permutations (exact when
    all relabellings were enumerated, then p >= 1 / N); method: wording for reports.
    """

    p_value: float
    t_curve: np.ndarray
    t_critical: float
    alpha: float
    clusters: tuple[tuple[float, float], ...]
    n_permutations: int
    exact: bool
    method: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "t_curve", _ro(self.t_curve))

    @property
    def significant(self) -> bool:
        return bool(self.p_value <= self.alpha)


def _welch_t_rows(data: np.ndarray, valid: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Welch t (group True minus group False) for each row of ``groups`` ``(P, N)``: ``(P, K)``."""
    g1 = groups.astype(float)
    x = np.where(valid, data, 0.0)
    v = valid.astype(float)
    stacked = np.hstack([v, x, x * x])            # one product for counts, sums, squares
    k = data.shape[1]
    part = g1 @ stacked
    rest = stacked.sum(axis=0) - part             # the other group = total - this group
    n1, s1, q1 = part[:, :k], part[:, k:2 * k], part[:, 2 * k:]
    n0, s0, q0 = rest[:, :k], rest[:, k:2 * k], rest[:, 2 * k:]
    with np.errstate(invalid="ignore", divide="ignore"):
        m1, m0 = s1 / n1, s0 / n0
        var1 = (q1 - n1 * m1 ** 2) / (n1 - 1)
        var0 = (q0 - n0 * m0 ** 2) / (n0 - 1)
        se = np.sqrt(np.maximum(var1, 0) / n1 + np.maximum(var0, 0) / n0)
        t = (m1 - m0) / se
    return np.where(np.isnan(t), 0.0, t)


def _clusters(mask: np.ndarray, pct: np.ndarray) -> tuple[tuple[float, float], ...]:
    edges = np.diff(np.concatenate(([0], mask.astype(int), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return tuple((float(pct[s]), float(pct[e])) for s, e in zip(starts, ends))


def curve_permutation_test(pre_curves, post_curves, n_perm: int = 5000, seed: int = 0,
                           alpha: float = 0.05) -> CurveTestResult:
    """Two-sample permutation test on curves with max-statistic FWE control.

    The statistic is Welch's t of (post - pre) at every sample; the cycles of both sessions
    are pooled and relabelled at random (or all relabellings when there are at most
    ``n_perm``); the family-wise p value is the share of relabellings whose max |t| over the
    cycle reaches the observed max |t| (observed labelling counted), and samples whose
    |t| exceeds the (1 - alpha) quantile of that max distribution form the clusters
    (Nichols & Holmes 2002).

    Parameters
    ----------
    pre_curves: ``(n1, K)``; post_curves: ``(n2, K)`` cycles (NaN-aware), n1, n2 >= 2.
    n_perm: number of random relabellings; seed: RNG seed (deterministic results).
    """
    a, b = _as_cycles(pre_curves), _as_cycles(post_curves)
    if a.shape[1] != b.shape[1]:
        raise AnalysisError(f"pre and post curves differ in samples: {a.shape[1]} vs {b.shape[1]}")
    n1, n2 = a.shape[0], b.shape[0]
    if n1 < 2 or n2 < 2:
        raise AnalysisError(f"the curve test needs >= 2 cycles per session (got {n1} pre, {n2} post)")
    data = np.vstack([a, b])
    valid = np.isfinite(data)
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(np.where(valid, data, np.nan), axis=0)
    data = data - np.nan_to_num(centre)       # t is shift-invariant; centring keeps the sums stable
    n = n1 + n2
    observed = np.zeros((1, n), dtype=bool)
    observed[0, n1:] = True
    t_obs = _welch_t_rows(data, valid, observed)[0]
    total = math.comb(n, n2)
    exact = total <= n_perm
    if exact:
        groups = np.zeros((total, n), dtype=bool)
        for i, idx in enumerate(itertools.combinations(range(n), n2)):
            groups[i, list(idx)] = True
    else:
        rng = np.random.default_rng(seed)
        groups = rng.permuted(np.tile(observed[0], (n_perm, 1)), axis=1)
        groups = np.vstack([observed, groups])
    max_t = np.max(np.abs(_welch_t_rows(data, valid, groups)), axis=1)
    tol = 1.0 - 1e-9                          # the observed labelling always counts for itself
    p = float(np.mean(max_t >= np.max(np.abs(t_obs)) * tol))
    # node-wise FWE-adjusted p: share of relabellings whose max |t| reaches the node's |t|
    p_node = np.mean(max_t[:, None] >= np.abs(t_obs)[None, :] * tol, axis=0)
    k = int(math.floor(alpha * max_t.size))   # |t| > k+1-th largest max is significant
    t_crit = float(np.sort(max_t)[::-1][k]) if k < max_t.size else 0.0
    pct = percent_grid(data.shape[1])
    method = (f"two-sample permutation test of the Welch t curve, max |t| over the cycle for family-wise "
              f"error control (Nichols & Holmes 2002), {'all ' + str(total) if exact else str(n_perm)} "
              f"relabellings{'' if exact else f', seed {seed}'}")
    return CurveTestResult(p, t_obs, t_crit, alpha, _clusters(p_node <= alpha, pct),
                           int(groups.shape[0]), exact, method)


# spatio-temporal parameters live in their own module; re-exported here (interface name).
from core.analysis.spatiotemporal import (PARAMETERS as SPATIOTEMPORAL_PARAMETERS, SpatioTemporal,  # noqa: E402,F401
                                 pool_spatiotemporal, spatiotemporal)
