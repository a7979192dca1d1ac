"""The clinical analysis result objects and their orchestration.

These frozen dataclasses are THE documented result of ``genulab analyze``: the store saves
them, the app shows them and the report prints them. Fields are only ever added, never
renamed. Definitions, thresholds and their sources follow docs/valgus.md (project
``docs/analysis.md`` documents the rules).

Conventions used by every object below
--------------------------------------
* Frames are **C3D frame numbers** (``first_frame``-based, as Vicon shows them); a frame
  range ``start_frame .. end_frame`` is **inclusive** at both ends. Times are seconds from
  the start of capture: ``time_s = (frame - 1) / rate_hz``.
* Per-frame series are ``(F,)`` float64 aligned with the trial's frames
  (row ``i`` is frame ``first_frame + i``); NaN where not computable, never 0.
* Angles in degrees, distances in mm. Valgus metrics are positive for valgus / medial;
  kinetic-chain indicators keep Vicon's signs (docs/valgus.md metric table):
  ``hip_adduction`` + = adduction, ``hip_internal_rotation`` + = internal,
  ``contralateral_pelvic_drop`` + = the other (swing) side dropped, ``knee_flexion`` + =
  flexion, ``ankle_dorsiflexion`` + = dorsiflexion, ``foot_progression`` + = toe-in.
* ``side`` is ``"Left"`` or ``"Right"``; ``task`` one of :data:`TASKS`.
* Every number derived from the DynaKAD-corrected knee (spec 16.3) says so: metric
  ``"valgus_3d_corrected"`` or ``corrected=True``; the raw (uncorrected) 3D valgus is the
  default everywhere.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from types import MappingProxyType
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from core.errors import AnalysisError
from core.model import readonly_array as _ro

from core.gait.trial_task import SINGLE_LEG_TASKS, TASKS  # noqa: F401 - part of this contract
from core.analysis.kinetics_types import ContactQuality, TrialKinetics, WindowKinetics  # noqa: F401 - contract
#: window kinds per task
WINDOW_KIND = {"walk": "stance", "sls": "repetition", "sl_stance": "hold",
               "drop_jump": "landing", "sl_landing": "landing"}
#: valgus metric keys of :attr:`TrialAnalysis.metrics`
VALGUS_METRIC_KEYS = ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd", "mkd_pct_knee_width")
#: kinetic-chain indicator keys -> (Vicon channel component of that side, unit, pattern)
INDICATORS: Mapping[str, tuple[str, str, str]] = MappingProxyType({
    "hip_adduction": ("HipAngles.y", "deg", "top-down"),
    "hip_internal_rotation": ("HipAngles.z", "deg", "top-down"),
    "contralateral_pelvic_drop": ("PelvisAngles.y", "deg", "top-down"),
    "knee_flexion": ("KneeAngles.x", "deg", "sagittal"),
    "ankle_dorsiflexion": ("AnkleAngles.x", "deg", "bottom-up"),
    "foot_progression": ("FootProgressAngles.z", "deg", "bottom-up"),
})
FOOT_PRONATION_NOTE = ("Foot pronation cannot be measured with CGM1 (it needs a multi-segment "
                       "foot model); it is not inferred here.")




def _freeze_nested(d: Mapping) -> Mapping:
    """Read-only copy of a (nested) mapping whose leaves are arrays or plain values."""
    out = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out[k] = _freeze_nested(v)
        elif isinstance(v, np.ndarray):
            out[k] = _ro(v, v.dtype if v.dtype != object else np.float64)
        else:
            out[k] = v
    return MappingProxyType(out)


# --------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnalysisSettings:
    """Every configurable rule of the analysis (defaults = docs/valgus.md).

    Attributes
    ----------
    sex: ``"F"``, ``"M"`` or None (unknown: the lower, male FPPA bound is used and flagged).
    task_metric: task -> metric used for phase detection (``"valgus_3d"``, ``"fppa"``,
        ``"mkd"`` or ``"valgus_3d_corrected"``; the latter only on explicit request).
    threshold_overrides: task -> threshold (deg, or mm for ``"mkd"``) replacing the default;
        its source is then recorded as ``"user setting"``.
    walk_band_sd: walking threshold = normal valgus band mean + ``walk_band_sd`` SD.
    walk_fallback_deg: walking threshold where no band applies.
    min_duration_s: minimum duration of a valgus phase (20 ms).
    indicator_band_sd: an indicator is "beyond normal" outside mean +- this many SD.
    normative: the normative set chosen for this analysis: a shipped name, a lab set's name or a
        CSV/JSON file (``core.analysis.norm_choice.load_any``); None = not chosen (the lab
        default when one is set, else automatic by the patient's age, docs/normative.md);
        ``""`` = no normal band (walking threshold = ``walk_fallback_deg``, indicators as
        values only).
    speed_class: normative speed class, or None to choose the closest to the patient.
    crosstalk_min_corr: cross-talk detected in walking swing when |corr(valgus, flexion)|
        reaches this ...
    crosstalk_min_excursion_deg: ... and the valgus excursion explained by flexion reaches
        this many degrees.
    crosstalk_warn_deg: warn when the DynaKAD correction removes more valgus excursion than this.
    dynakad_flexion_range_deg: knee flexion range of frames used by DynaKAD (spec 16.3 step 1).
    sls_min_prominence_deg: minimum knee-flexion peak prominence of a squat repetition.
    sls_min_peak_flexion_deg: minimum knee flexion at a squat's peak.
    sls_start_fraction: descent starts / return ends where flexion crosses this fraction of
        the rise from the baseline to the peak.
    contact_height_mm: landing contact = the foot's lowest marker within this of its
        floor level while moving downward (or slower than ``contact_speed_mm_s``).
    contact_speed_mm_s: vertical speed below which the foot is considered on the floor.
    """

    sex: Optional[str] = None
    task_metric: Mapping[str, str] = field(default_factory=lambda: {
        "walk": "valgus_3d", "sls": "fppa", "sl_stance": "fppa",
        "drop_jump": "fppa", "sl_landing": "fppa"})
    threshold_overrides: Mapping[str, float] = field(default_factory=dict)
    walk_band_sd: float = 2.0
    walk_fallback_deg: float = 5.0
    min_duration_s: float = 0.020
    indicator_band_sd: float = 2.0
    normative: Optional[str] = None
    speed_class: Optional[str] = None
    crosstalk_min_corr: float = 0.7
    crosstalk_min_excursion_deg: float = 5.0
    crosstalk_warn_deg: float = 3.0
    dynakad_flexion_range_deg: tuple[float, float] = (0.0, 60.0)
    sls_min_prominence_deg: float = 15.0
    sls_min_peak_flexion_deg: float = 20.0
    sls_start_fraction: float = 0.1
    contact_height_mm: float = 10.0
    contact_speed_mm_s: float = 100.0

    def __post_init__(self) -> None:
        if self.sex not in (None, "F", "M"):
            raise AnalysisError(f"sex must be 'F', 'M' or unknown, not {self.sex!r}")
        for task, metric in self.task_metric.items():
            if task not in TASKS:
                raise AnalysisError(f"unknown task {task!r} in task_metric (known: {', '.join(TASKS)})")
            if metric not in ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd"):
                raise AnalysisError(f"unknown phase metric {metric!r} for task {task}")
        for task in self.threshold_overrides:
            if task not in TASKS:
                raise AnalysisError(f"unknown task {task!r} in threshold_overrides")
        if not self.min_duration_s >= 0:
            raise AnalysisError("minimum phase duration must be >= 0 s")
        object.__setattr__(self, "task_metric", MappingProxyType(dict(self.task_metric)))
        object.__setattr__(self, "threshold_overrides", MappingProxyType(
            {k: float(v) for k, v in self.threshold_overrides.items()}))


# --------------------------------------------------------------------------------------
# per-trial objects
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskDecision:
    """How the task and side of a trial were decided.

    task: one of :data:`TASKS`; side: stance side of a single-leg task (``"Left"``/``"Right"``),
    None for bilateral tasks (walk, drop_jump); task_rule / side_rule: the rule that decided,
    one of ``"user"``, ``"c3d GENULAB"``, ``"trial name"``, ``"detected"``, ``"default"``
    (or ``"not applicable"`` for the side of a bilateral task); detail: a sentence saying why.
    """

    task: str
    side: Optional[str]
    task_rule: str
    side_rule: str
    detail: str = ""


@dataclass(frozen=True)
class TaskWindow:
    """One window in which valgus is judged.

    kind: ``"stance"`` (walk, foot strike to foot off), ``"repetition"`` (sls, descent start
    to return), ``"hold"`` (sl_stance, the whole hold), ``"landing"`` (initial contact to
    peak knee flexion). index: 0-based order of the window for that side in the trial.
    start_frame, end_frame: C3D frames, inclusive. peak_frame: frame of peak knee flexion
    (repetition, landing), else None. cycle_start_frame / cycle_end_frame: the enclosing gait
    cycle (foot strike to next foot strike) for walking windows, used for gait-cycle percent;
    None otherwise.
    """

    kind: str
    index: int
    side: str
    start_frame: int
    end_frame: int
    peak_frame: Optional[int] = None
    cycle_start_frame: Optional[int] = None
    cycle_end_frame: Optional[int] = None

    def __post_init__(self) -> None:
        if self.end_frame < self.start_frame:
            raise AnalysisError(f"task window {self.kind} {self.index} ends ({self.end_frame}) "
                                f"before it starts ({self.start_frame})")

    @property
    def n_frames(self) -> int:
        return self.end_frame - self.start_frame + 1

    def percent_of(self, frame: int | np.ndarray) -> float | np.ndarray:
        """Percent of the gait cycle (walking) or of the window (other tasks) of a frame."""
        if self.cycle_start_frame is not None and self.cycle_end_frame is not None:
            a, b = self.cycle_start_frame, self.cycle_end_frame
        else:
            a, b = self.start_frame, self.end_frame
        span = max(b - a, 1)
        return 100.0 * (np.asarray(frame, dtype=float) - a) / span


@dataclass(frozen=True)
class IndicatorResult:
    """A kinetic-chain indicator over one valgus phase, compared with normal.

    name: key of :data:`INDICATORS` (``"hip_adduction"`` ...); key: the Vicon channel
    component it comes from, with side prefix (``"RHipAngles.y"``; for the contralateral
    pelvic drop the stance side's ``PelvisAngles.y``); unit: ``"deg"``.
    value_mean, value_peak: mean and the value at the valgus peak frame, over the phase.
    value_max: the largest value over the phase (in the + direction of the indicator).
    change_from_start: value_mean minus the value at the window start (NaN if missing).
    normal_mean, normal_sd: the normal band averaged over the phase frames (at the same
    gait-cycle percent), NaN where no band applies (non-walking tasks, or variable absent).
    beyond_normal: True if the phase mean lies outside normal_mean +- k SD
    (``AnalysisSettings.indicator_band_sd``), False inside, None without a band.
    deviation: ``"above normal"``, ``"below normal"``, ``"within normal"`` or ``"no band"``.
    direction: direction word of the phase mean (from core.variables, e.g. ``"Add"``).
    pattern: ``"top-down"``, ``"bottom-up"`` or ``"sagittal"`` (what it speaks for).
    supports_valgus: True when the deviation is in the direction that goes with valgus
    (adduction, internal rotation, contralateral drop, toe-in, reduced dorsiflexion) and
    beyond normal; None without a band.
    """

    name: str
    key: str
    unit: str
    value_mean: float
    value_peak: float
    value_max: float
    change_from_start: float
    normal_mean: float
    normal_sd: float
    beyond_normal: Optional[bool]
    deviation: str
    direction: str
    pattern: str
    supports_valgus: Optional[bool]


@dataclass(frozen=True)
class ValgusPhase:
    """A contiguous run of frames in a task window where a valgus metric exceeds its threshold.

    onset_frame, offset_frame: first and last frame above threshold (C3D frames, inclusive),
    exact to the frame. onset_pct, offset_pct, peak_pct: percent of the gait cycle for
    walking (0 = foot strike), of the window otherwise. peak_value, mean_value: in the
    metric's unit (deg, mm for ``"mkd"``); peak_frame: C3D frame of the peak.
    duration_s: (offset - onset + 1) / rate. metric: ``"valgus_3d"``, ``"valgus_3d_corrected"``,
    ``"fppa"`` or ``"mkd"``; corrected: True only for the DynaKAD-corrected 3D valgus.
    threshold: the threshold value at the peak frame (a band-based walking threshold varies
    over the cycle: see threshold_text); threshold_text: how it was set, e.g.
    ``"normal valgus band mean + 2 SD"``; threshold_source: the citation or ``"user setting"``;
    sex_flag: "" or ``"sex unknown: male bound used"``.
    window_kind / window_index / window_start_frame / window_end_frame: the window it lies in.
    indicators: the kinetic-chain indicators over the phase.
    """

    side: str
    task: str
    metric: str
    corrected: bool
    window_kind: str
    window_index: int
    window_start_frame: int
    window_end_frame: int
    onset_frame: int
    offset_frame: int
    onset_pct: float
    offset_pct: float
    peak_frame: int
    peak_pct: float
    peak_value: float
    mean_value: float
    duration_s: float
    threshold: float
    threshold_text: str
    threshold_source: str
    sex_flag: str = ""
    indicators: tuple[IndicatorResult, ...] = ()

    def indicator(self, name: str) -> Optional[IndicatorResult]:
        return next((i for i in self.indicators if i.name == name), None)


@dataclass(frozen=True)
class CrosstalkCheck:
    """Knee cross-talk check of one side of a walking trial (swing frames only).

    detected: True when |correlation| >= setting and the flexion-explained valgus
    excursion >= setting. correlation: Pearson correlation of raw 3D valgus with knee
    flexion over swing frames. valgus_excursion_deg: range (max - min) of raw 3D valgus over
    swing; explained_excursion_deg: |slope| x flexion range of the regression of valgus on
    flexion in swing; n_frames: swing frames used. NaN / False where not computable.
    """

    side: str
    detected: bool
    correlation: float
    valgus_excursion_deg: float
    explained_excursion_deg: float
    n_frames: int
    message: str = ""


@dataclass(frozen=True)
class ThighOffset:
    """DynaKAD-type thigh-rotation offset of one side for a session (spec 16.3).

    phi_deg: the offset (deg) about the thigh z axis, None if it could not be estimated.
    n_trials / n_frames: walking data used; method: wording of the estimator.
    excursion_raw_deg / excursion_corrected_deg: range of the 3D valgus over the walking
    cycles before / after the correction; excursion_removed_deg their difference.
    warning: non-empty when the correction removes more than
    ``AnalysisSettings.crosstalk_warn_deg`` of valgus excursion (the hinge assumption may be
    hiding true dynamic valgus).
    """

    side: str
    phi_deg: Optional[float]
    n_trials: int
    n_frames: int
    method: str
    excursion_raw_deg: float = math.nan
    excursion_corrected_deg: float = math.nan
    excursion_removed_deg: float = math.nan
    warning: str = ""


@dataclass(frozen=True)
class ChainSummary:
    """Kinetic-chain summary of one side and task.

    pattern: ``"top-down"``, ``"bottom-up"``, ``"mixed"``, ``"none"`` (phases but no
    indicator beyond normal), ``"no valgus phase"`` or ``"not judged"`` (no normal band for
    the task: values only). co_occurring: indicator names beyond normal in the valgus
    direction during at least half the phases. text: the sentence for reports ("kinematic
    indicators consistent with a hip-driven (top-down) pattern", never a diagnosis), always
    followed by :data:`FOOT_PRONATION_NOTE`. flags: short machine-readable flags (the
    pattern, ``"no-phase"``, ``"no-indicator"``, ``"no-band"``, ``"crosstalk"`` when the 3D
    valgus phases come from a knee whose swing cross-talk check fired).
    """

    side: str
    task: str
    n_phases: int
    pattern: str
    co_occurring: tuple[str, ...]
    text: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrialAnalysis:
    """Analysis of one trial.

    Attributes
    ----------
    trial_name: the trial's name (file stem). task, side, decision: see :class:`TaskDecision`.
    rate_hz, first_frame, n_frames: time axis (row i = C3D frame first_frame + i).
    metrics: side -> name -> ``(F,)`` series: valgus metrics (:data:`VALGUS_METRIC_KEYS`;
        ``valgus_3d_corrected`` only when a thigh offset is known, ``mkd_pct_knee_width`` only
        with a knee width) and the indicators (:data:`INDICATORS` keys; the contralateral
        pelvic drop is ``+PelvisAngles_S.y`` at every frame, meaningful in stance of S).
    thresholds: side -> metric -> ``(F,)`` threshold used for the phases at each frame
        (NaN outside windows).
    frontal_normal: side -> ``(3,)`` or ``(F, 3)``: the frontal plane normal (lab unit vector)
        used for FPPA/MKD: the progression axis for walking, the mean facing direction per
        window otherwise.
    windows: side -> tuple of :class:`TaskWindow`; phases: all :class:`ValgusPhase` (both sides).
    cycle_curves: side -> variable key (``"KneeAngles.y"``..., ``"valgus_3d"``, ``"fppa"``,
        ``"mkd"``) -> ``(n_cycles, 101)`` time-normalised gait cycles (walking only).
    cycles: side -> tuple of (start_frame, foot_off_frame, end_frame) of the cycles used.
    window_peaks: side -> metric -> ``(n_windows,)`` peak value per window;
    window_means: the same with means.
    crosstalk: side -> :class:`CrosstalkCheck` (walking trials only, else empty).
    chain: side -> :class:`ChainSummary`. corrected_offset_deg: side -> phi used for the
    corrected series (None without one). notes: quality notes (strings).
    window_source: side -> ``"detected"`` (windows found by :mod:`core.analysis.tasks`) or
    ``"edited"`` (windows given by the user, ``analyze_trial(..., windows=...)``).
    phase_metric, threshold_text, threshold_source, sex_flag: the phase rule of the trial
    (as in :class:`ValgusPhase`, also when no phase was found).
    kinetics: knee kinetics per window (:class:`core.analysis.kinetics_types.TrialKinetics`);
    ``available`` False with the reason when the trial has none; None in results written
    before kinetics existed.
    """

    trial_name: str
    task: str
    side: Optional[str]
    decision: TaskDecision
    rate_hz: float
    first_frame: int
    n_frames: int
    metrics: Mapping[str, Mapping[str, np.ndarray]]
    thresholds: Mapping[str, Mapping[str, np.ndarray]]
    frontal_normal: Mapping[str, np.ndarray]
    windows: Mapping[str, tuple[TaskWindow, ...]]
    phases: tuple[ValgusPhase, ...]
    cycle_curves: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    cycles: Mapping[str, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)
    window_peaks: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    window_means: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    crosstalk: Mapping[str, CrosstalkCheck] = field(default_factory=dict)
    chain: Mapping[str, ChainSummary] = field(default_factory=dict)
    corrected_offset_deg: Mapping[str, Optional[float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    phase_metric: str = ""
    threshold_text: str = ""
    threshold_source: str = ""
    sex_flag: str = ""
    window_source: Mapping[str, str] = field(default_factory=dict)
    kinetics: Optional[TrialKinetics] = None

    def __post_init__(self) -> None:
        for name in ("metrics", "thresholds", "frontal_normal", "cycle_curves", "window_peaks",
                     "window_means", "windows", "cycles", "crosstalk", "chain", "corrected_offset_deg",
                     "window_source"):
            object.__setattr__(self, name, _freeze_nested(getattr(self, name)))
        object.__setattr__(self, "phases", tuple(self.phases))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def frames(self) -> np.ndarray:
        """``(F,)`` C3D frame numbers."""
        return np.arange(self.first_frame, self.first_frame + self.n_frames)

    @property
    def times_s(self) -> np.ndarray:
        """``(F,)`` seconds from the start of capture."""
        return (self.frames - 1.0) / self.rate_hz

    def phases_of(self, side: str, metric: Optional[str] = None) -> tuple[ValgusPhase, ...]:
        return tuple(p for p in self.phases if p.side == side and (metric is None or p.metric == metric))


# --------------------------------------------------------------------------------------
# session objects
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WalkingSummary:
    """Walking summary of one side over all walking trials of a session.

    n_cycles; mean / sd: variable key -> ``(101,)`` mean and SD curves over cycles (0-100 %
    of the gait cycle); peaks: key -> (max of the mean curve, its percent);
    spatiotemporal: name -> value (``speed_m_s``, ``cadence_steps_min``, ``stride_length_m``,
    ``step_length_m``, ``stance_pct``, ... as given by core.analysis.stats); gvs: GVS key -> deg;
    gps_deg: Gait Profile Score of the side (Baker 2009); valgus_stance_peaks: metric ->
    ``(n_cycles,)`` peak per stance.
    """

    side: str
    n_cycles: int
    mean: Mapping[str, np.ndarray]
    sd: Mapping[str, np.ndarray]
    peaks: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    spatiotemporal: Mapping[str, float] = field(default_factory=dict)
    gvs: Mapping[str, float] = field(default_factory=dict)
    gps_deg: float = math.nan
    valgus_stance_peaks: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("mean", "sd", "peaks", "spatiotemporal", "gvs", "valgus_stance_peaks"):
            object.__setattr__(self, name, _freeze_nested(getattr(self, name)))


@dataclass(frozen=True)
class TaskSummary:
    """Valgus summary of one task and side over the session's trials.

    metric, corrected: the phase metric; n_windows, n_windows_with_phase;
    peak_values / mean_values: ``(n_windows,)`` per window in trial order (deg or mm);
    threshold_text, threshold_source, sex_flag: as in :class:`ValgusPhase`;
    trials: names of the trials included.
    """

    task: str
    side: str
    metric: str
    corrected: bool
    n_windows: int
    n_windows_with_phase: int
    peak_values: np.ndarray
    mean_values: np.ndarray
    threshold_text: str
    threshold_source: str
    sex_flag: str = ""
    trials: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "peak_values", _ro(self.peak_values))
        object.__setattr__(self, "mean_values", _ro(self.mean_values))


@dataclass(frozen=True)
class SessionAnalysis:
    """Analysis of one session (one patient, one visit).

    label: session label. trials: one :class:`TrialAnalysis` per dynamic trial.
    thigh_offsets: side -> :class:`ThighOffset` (DynaKAD, spec 16.3; the corrected valgus is
    offered beside the raw one, never used by default). warnings: session-level warnings
    (cross-talk detected, large correction, sex unknown, events detected ...).
    normative_name / normative_citation / speed_class: the normal bands used.
    normative_population: the set's population, age range and n as printed; normative_basis: why
    this set (``"chosen for this analysis"``, ``"lab default"``, ``"automatic by age: ..."``);
    patient_age_years: the patient's age at the session (None = unknown) and
    patient_age_basis: how it was found; normative_caution: the caution to show wherever the
    bands are shown ("" when the age lies inside the set's range), docs/normative.md.
    walking: side -> :class:`WalkingSummary` (absent without walking trials);
    gps_overall_deg: overall GPS (Baker 2009), NaN without walking.
    tasks: ``"task/side"`` (e.g. ``"sls/Right"``, see :func:`task_key`) -> :class:`TaskSummary`;
    chain: ``"task/side"`` -> :class:`ChainSummary` (string keys so that the store can save them).
    settings: the :class:`AnalysisSettings` used (with the sex of the patient record when
    none was given); threshold_sources: ``"task/side"`` -> "text (source)".
    software_version: Genu Lab version. notes: decisions taken (e.g. sex from patient.json).
    symmetry: variable key -> ``core.analysis.stats.Symmetry`` of the left and right walking cycles
    (RMS and largest difference of the mean curves, correlation, symmetry indices).
    failures: ``(trial name, reason)`` of every recorded trial of the session that is not in
    ``trials``: not processed (e.g. ``"not processed: missing required markers: RKNE"``, from
    ``ProcessedSession.failures``) or not analysed (``"not analysed: ..."``).
    """

    label: str
    trials: tuple[TrialAnalysis, ...]
    thigh_offsets: Mapping[str, ThighOffset]
    warnings: tuple[str, ...]
    normative_name: str
    normative_citation: str
    speed_class: Optional[str]
    walking: Mapping[str, WalkingSummary]
    gps_overall_deg: float
    tasks: Mapping[str, TaskSummary]
    chain: Mapping[str, ChainSummary]
    settings: AnalysisSettings
    threshold_sources: Mapping[str, str] = field(default_factory=dict)
    software_version: str = ""
    notes: tuple[str, ...] = ()
    symmetry: Mapping[str, Any] = field(default_factory=dict)
    failures: tuple[tuple[str, str], ...] = ()
    normative_population: str = ""
    normative_basis: str = ""
    patient_age_years: Optional[float] = None
    patient_age_basis: str = ""
    normative_caution: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "trials", tuple(self.trials))
        object.__setattr__(self, "failures", tuple((str(n), str(r)) for n, r in self.failures))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        for name in ("thigh_offsets", "walking", "tasks", "chain", "threshold_sources", "symmetry"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def task_summary(self, task: str, side: str) -> Optional[TaskSummary]:
        return self.tasks.get(task_key(task, side))

    def chain_summary(self, task: str, side: str) -> Optional[ChainSummary]:
        return self.chain.get(task_key(task, side))

    def trial(self, name: str) -> TrialAnalysis:
        for t in self.trials:
            if t.trial_name == name:
                return t
        raise AnalysisError(f"no trial named {name!r} in session {self.label!r}")


def task_key(task: str, side: str) -> str:
    """Key of :attr:`SessionAnalysis.tasks` / ``chain``: ``"task/side"``."""
    return f"{task}/{side}"


# --------------------------------------------------------------------------------------
# JSON view
# --------------------------------------------------------------------------------------
def to_jsonable(obj: Any) -> Any:
    """Plain JSON-serialisable view of any result object (arrays -> lists, NaN -> None).

    Mapping keys that are tuples (``(task, side)``) become ``"task/side"`` strings.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Mapping):
        return {("/".join(map(str, k)) if isinstance(k, tuple) else str(k)): to_jsonable(v)
                for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not math.isfinite(v) else v
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
