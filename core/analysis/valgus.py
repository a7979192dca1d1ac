"""Dynamic knee valgus metrics and valgus-phase detection (docs/valgus.md).

Metrics, per frame and side (``(F,)`` float64, NaN where an input is missing):

* 3D knee valgus = ``-KneeAngles.y`` of CGM1 (cgm1_spec section 11), + = valgus.
* Frontal plane projection angle (FPPA): HJC, KJC and AJC projected on the frontal plane;
  FPPA = 180 deg minus the angle HJC-KJC-AJC in that plane, + when KJC lies medial to the
  HJC-AJC line. The 2D-video definition is Willson & Davis (2008) and Munro, Herrington &
  Carolan (2012); here it is computed from the CGM1 joint centres (same idea, not the same
  measurement as the 2D norms).
* Medial knee displacement (MKD): signed distance (mm) of KJC from the HJC-AJC line in the
  frontal plane, + = medial; also as a percent of the knee width.

Phases are runs of frames where a metric exceeds its threshold for at least a minimum
duration, found on the frame-level series so onset and offset are exact to the frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from core.errors import AnalysisError
from core.model import SIDE_PREFIX, ModelOutputs

_Z = np.array([0.0, 0.0, 1.0])

#: Herrington & Munro (2010) typical upper bounds of FPPA (deg), by task and sex
HERRINGTON_MUNRO_2010 = "Herrington L, Munro A (2010). Drop jump landing knee valgus angle; normative data in a physically active population. Phys Ther Sport 11(2):56-59"
FPPA_BOUNDS = {"sl_landing": {"F": 12.0, "M": 9.0}, "sls": {"F": 12.0, "M": 9.0},
               "drop_jump": {"F": 13.0, "M": 8.0}, "sl_stance": {"F": 9.0, "M": 9.0}}


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------
def channel(outputs: ModelOutputs, side: str, name: str) -> np.ndarray:
    """``(F, 3)`` model output of one side, e.g. ``channel(out, "Left", "KneeAngles")``."""
    key = f"{SIDE_PREFIX[side]}{name}"
    if key not in outputs.channels:
        raise AnalysisError(f"model output {key} is missing; run the CGM1 model first")
    return np.asarray(outputs.channels[key], dtype=float)


def valgus_3d(outputs: ModelOutputs, side: str) -> np.ndarray:
    """3D knee valgus ``(F,)`` deg = ``-KneeAngles.y`` (+ = valgus), uncorrected."""
    return -channel(outputs, side, "KneeAngles")[:, 1]


def facing_direction(pelvis_pose: np.ndarray, rows: Optional[slice] = None) -> np.ndarray:
    """Mean facing direction over frames: pelvis x axis projected on the floor.

    Parameters
    ----------
    pelvis_pose: ``(F, 4, 4)`` pelvis poses (x axis = column 0, anterior).
    rows: frames to average (default all).

    Returns
    -------
    ``(3,)`` horizontal unit vector (lab frame, Z up).
    """
    x = np.asarray(pelvis_pose, dtype=float)[:, :3, 0]
    if rows is not None:
        x = x[rows]
    h = x.copy()
    h[:, 2] = 0.0
    n = np.linalg.norm(h, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = h / n
    m = np.nanmean(u, axis=0) if np.isfinite(u).all(axis=1).any() else np.full(3, np.nan)
    norm = np.linalg.norm(m)
    if not np.isfinite(norm) or norm < 1e-9:
        raise AnalysisError("the facing direction is undefined (no valid pelvis frames in the window)")
    return m / norm


def frontal_metrics(hjc: np.ndarray, kjc: np.ndarray, ajc: np.ndarray, normal: np.ndarray,
                    side: str) -> tuple[np.ndarray, np.ndarray]:
    """FPPA and medial knee displacement from joint centres.

    Parameters
    ----------
    hjc, kjc, ajc: ``(F, 3)`` joint centres, mm, lab frame (Z up).
    normal: ``(3,)`` or ``(F, 3)`` frontal plane normal (the progression or facing
        direction); only its horizontal part is used.
    side: ``"Left"`` or ``"Right"`` (medial = towards the subject's midline: the subject's
        right for the left leg, its left for the right leg).

    Returns
    -------
    fppa: ``(F,)`` deg, 180 - angle(HJC, KJC, AJC) in the plane, + when KJC is medial.
    mkd: ``(F,)`` mm, signed distance of KJC from the HJC-AJC line in the plane, + medial.
    """
    hjc, kjc, ajc = (np.asarray(a, dtype=float) for a in (hjc, kjc, ajc))
    n = np.broadcast_to(np.asarray(normal, dtype=float), hjc.shape).copy()
    n[:, 2] = 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        n /= np.linalg.norm(n, axis=1, keepdims=True)
    left = np.cross(_Z, n)                     # subject's left, horizontal, in the plane
    medial = left if side == "Right" else -left
    # 2D coordinates in the plane: (medial, vertical)
    def coords(p: np.ndarray) -> np.ndarray:
        return np.stack([np.einsum("ij,ij->i", p, medial), p[:, 2]], axis=1)
    h, k, a = coords(hjc), coords(kjc), coords(ajc)
    d = a - h
    w = k - h
    cross = d[:, 0] * w[:, 1] - d[:, 1] * w[:, 0]   # > 0 when k is on the medial side (d down)
    with np.errstate(invalid="ignore", divide="ignore"):
        mkd = cross / np.linalg.norm(d, axis=1)
    thigh, shank = k - h, a - k
    c2 = thigh[:, 0] * shank[:, 1] - thigh[:, 1] * shank[:, 0]
    dot = np.einsum("ij,ij->i", thigh, shank)
    fppa = np.degrees(np.arctan2(np.abs(c2), dot)) * np.sign(mkd)
    return fppa, mkd


def indicator_series(outputs: ModelOutputs, side: str) -> dict[str, np.ndarray]:
    """Kinetic-chain indicator series ``(F,)`` deg of one side (docs/valgus.md table).

    hip_adduction = HipAngles.y, hip_internal_rotation = HipAngles.z,
    contralateral_pelvic_drop = +PelvisAngles_S.y (meaningful during stance of S),
    knee_flexion = KneeAngles.x, ankle_dorsiflexion = AnkleAngles.x,
    foot_progression = FootProgressAngles.z (+ = toe-in).
    """
    hip = channel(outputs, side, "HipAngles")
    return {
        "hip_adduction": hip[:, 1].copy(),
        "hip_internal_rotation": hip[:, 2].copy(),
        "contralateral_pelvic_drop": channel(outputs, side, "PelvisAngles")[:, 1].copy(),
        "knee_flexion": channel(outputs, side, "KneeAngles")[:, 0].copy(),
        "ankle_dorsiflexion": channel(outputs, side, "AnkleAngles")[:, 0].copy(),
        "foot_progression": channel(outputs, side, "FootProgressAngles")[:, 2].copy(),
    }


# --------------------------------------------------------------------------------------
# thresholds
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThresholdRule:
    """A phase threshold: constant ``value`` (deg/mm) or a band-based walking threshold.

    band_based: True when the threshold follows the normal band over the gait cycle (then
    ``value`` is the fallback where no band applies). text/source: wording and citation.
    """

    value: float
    text: str
    source: str
    band_based: bool = False
    sex_flag: str = ""


def default_threshold(task: str, metric: str, sex: Optional[str], override: Optional[float] = None,
                      band_available: bool = False, band_sd: float = 2.0,
                      fallback_deg: float = 5.0, band_source: str = "") -> ThresholdRule:
    """The phase threshold of a task and metric (docs/valgus.md defaults).

    Raises AnalysisError when the metric has no default for the task and no override is given.
    """
    if override is not None:
        unit = "mm" if metric == "mkd" else "deg"
        return ThresholdRule(float(override), f"{override:g} {unit} (user setting)", "user setting")
    if task == "walk":
        if metric not in ("valgus_3d", "valgus_3d_corrected"):
            raise AnalysisError(f"{metric} has no default walking threshold (no gait norms); set one explicitly")
        if band_available:
            return ThresholdRule(fallback_deg, f"normal valgus band mean + {band_sd:g} SD at the same % of the gait cycle",
                                 band_source, band_based=True)
        return ThresholdRule(fallback_deg, f"{fallback_deg:g} deg (no normal band applies)", "Genu Lab default (docs/valgus.md)")
    if metric != "fppa":
        raise AnalysisError(f"{metric} has no default threshold for task {task}; set one explicitly")
    if task not in FPPA_BOUNDS:
        raise AnalysisError(f"unknown task {task!r}")
    flag = "" if sex in ("F", "M") else "sex unknown: male bound used"
    value = FPPA_BOUNDS[task]["F" if sex == "F" else "M"]
    who = {"F": "women", "M": "men"}.get(sex, "men (sex unknown)")
    if task == "sl_stance":
        text = f"{value:g} deg (male single-leg-landing bound; no single-leg-stance norm exists)"
    else:
        kind = "drop-jump landing" if task == "drop_jump" else "single-leg landing"
        text = f"{value:g} deg, typical upper bound of {kind} FPPA for {who} (2D video norm; FPPA here from 3D joint centres)"
    return ThresholdRule(value, text, "Herrington & Munro 2010", sex_flag=flag)


# --------------------------------------------------------------------------------------
# phase detection
# --------------------------------------------------------------------------------------
def runs_above(series: np.ndarray, threshold: np.ndarray | float, min_frames: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous runs where ``series > threshold`` lasting at least ``min_frames`` frames.

    Parameters
    ----------
    series: ``(N,)``; NaN never counts as above.
    threshold: scalar or ``(N,)``; NaN never counts as above.
    min_frames: minimum run length (frames, >= 1).

    Returns
    -------
    starts, ends: ``(R,)`` int row indices, inclusive.
    """
    s = np.asarray(series, dtype=float)
    with np.errstate(invalid="ignore"):
        above = s > np.asarray(threshold, dtype=float)
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    keep = (ends - starts + 1) >= max(int(min_frames), 1)
    return starts[keep], ends[keep]


def min_frames_for(duration_s: float, rate_hz: float) -> int:
    """Smallest number of frames whose duration (n / rate) reaches ``duration_s``."""
    return max(1, int(math.ceil(duration_s * rate_hz - 1e-9)))


def band_series(percent: np.ndarray, band_percent: np.ndarray, band_values: np.ndarray) -> np.ndarray:
    """Band curve evaluated at arbitrary gait-cycle percentages (linear interpolation).

    percent: ``(N,)`` in 0..100 (NaN passes through); band_percent, band_values: ``(B,)``.
    """
    p = np.asarray(percent, dtype=float)
    out = np.interp(np.clip(p, band_percent[0], band_percent[-1]), band_percent, band_values)
    out[~np.isfinite(p)] = np.nan
    return out


# --------------------------------------------------------------------------------------
# cross-talk (docs/valgus.md policy: walking swing only)
# --------------------------------------------------------------------------------------
def swing_crosstalk(valgus: np.ndarray, flexion: np.ndarray, swing: np.ndarray
                    ) -> tuple[float, float, float, int]:
    """Cross-talk statistics of the knee over walking swing frames.

    Parameters
    ----------
    valgus, flexion: ``(F,)`` raw 3D valgus and knee flexion, deg.
    swing: ``(F,)`` bool, frames in swing (foot off to next foot strike).

    Returns
    -------
    correlation: Pearson r of valgus with flexion over swing (NaN if < 10 frames).
    valgus_excursion: max - min of valgus over swing, deg.
    explained_excursion: |slope of valgus on flexion| x flexion range, deg: the valgus
        excursion that follows flexion (the cross-talk signature, cgm1_spec 16.1).
    n: number of swing frames used.
    """
    ok = np.asarray(swing, bool) & np.isfinite(valgus) & np.isfinite(flexion)
    n = int(ok.sum())
    if n < 10:
        return math.nan, math.nan, math.nan, n
    v, f = valgus[ok], flexion[ok]
    fc, vc = f - f.mean(), v - v.mean()
    sff, svv = float(fc @ fc), float(vc @ vc)
    if sff <= 0 or svv <= 0:
        return 0.0, float(np.ptp(v)), 0.0, n
    r = float(fc @ vc / math.sqrt(sff * svv))
    slope = float(fc @ vc / sff)
    return r, float(np.ptp(v)), abs(slope) * float(np.ptp(f)), n


# --------------------------------------------------------------------------------------
# phases with their indicators
# --------------------------------------------------------------------------------------
def find_phases(task: str, side: str, metric: str, series: np.ndarray, threshold: np.ndarray,
                window, first_frame: int, rate_hz: float, min_frames: int, rule: ThresholdRule,
                indicators: dict, indicator_bands: Optional[dict] = None, band_sd: float = 2.0) -> list:
    """Valgus phases of one metric inside one task window.

    Parameters
    ----------
    task, side, metric: labels recorded in each phase.
    series: ``(F,)`` metric (deg or mm); threshold: ``(F,)`` threshold per frame.
    window: :class:`core.analysis.TaskWindow`; first_frame, rate_hz: time axis.
    min_frames: minimum phase length (see :func:`min_frames_for`).
    rule: the threshold's wording and source.
    indicators: name -> ``(F,)`` indicator series of that side.
    indicator_bands: name -> (mean ``(F,)``, sd ``(F,)``) normal band at each frame's gait
        cycle percent (walking), or None.
    band_sd: half-width of the normal band in SD for "beyond normal".

    Returns
    -------
    list of :class:`core.analysis.ValgusPhase`, in time order.
    """
    from core.analysis.types import INDICATORS, ValgusPhase
    from core.analysis.chain import indicator_result
    a, b = window.start_frame - first_frame, window.end_frame - first_frame
    a, b = max(a, 0), min(b, len(series) - 1)
    starts, ends = runs_above(series[a:b + 1], threshold[a:b + 1], min_frames)
    phases = []
    prefix = SIDE_PREFIX[side]
    for s, e in zip(starts + a, ends + a):
        rows = np.arange(s, e + 1)
        peak = int(s + np.nanargmax(series[s:e + 1]))
        on, off, pk = (first_frame + int(x) for x in (s, e, peak))
        inds = []
        for name, values in indicators.items():
            bm = bs = None
            if indicator_bands and name in indicator_bands:
                bm, bs = indicator_bands[name][0][rows], indicator_bands[name][1][rows]
            key = f"{prefix}{INDICATORS[name][0]}"
            inds.append(indicator_result(name, key, values, rows, peak, a, bm, bs, band_sd))
        phases.append(ValgusPhase(
            side=side, task=task, metric=metric, corrected=metric == "valgus_3d_corrected",
            window_kind=window.kind, window_index=window.index, window_start_frame=window.start_frame,
            window_end_frame=window.end_frame, onset_frame=on, offset_frame=off,
            onset_pct=float(window.percent_of(on)), offset_pct=float(window.percent_of(off)),
            peak_frame=pk, peak_pct=float(window.percent_of(pk)), peak_value=float(series[peak]),
            mean_value=float(np.nanmean(series[s:e + 1])), duration_s=(e - s + 1) / rate_hz,
            threshold=float(threshold[peak]), threshold_text=rule.text, threshold_source=rule.source,
            sex_flag=rule.sex_flag, indicators=tuple(inds)))
    return phases
