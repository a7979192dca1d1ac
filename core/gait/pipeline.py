"""The processing chain: C3D -> subject -> CGM1 -> events -> cycles, with a quality report.

Order of the subject decisions (issue 2, cgm1_spec section 2):

1. resolve the subject from its sources (static PROCESSING, subject file, ``--set``);
2. calibrate from the static trial: the inter-ASIS distance only when it is absent or 0
   (``--set InterAsisDistance=0`` asks for it), the foot offsets always;
3. apply ``--set`` on top (only ``--set`` overrides calibrated values);
4. for each dynamic trial, layer the calibrated subject over the dynamic file's PROCESSING
   group (which may be stale, and is then reported) and reconstruct.

Without a static trial the offsets come from the subject sources (as Vicon does when
reprocessing) and the quality report says so. Long steps take plain callables
``progress(fraction, message)`` and ``cancelled() -> bool``; cancelling raises
:class:`core.errors.CancelledError`. No Qt here.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterator, Mapping, Optional, Sequence, Union

import numpy as np

from core.gait.cycles import GaitCycle, all_cycles
from core.errors import CancelledError, GenuError, SubjectParameterError
from core.gait.events import EventDetectionSettings, TrialEvents, gait_events, trial_events
from core.io.subject import (CALIBRATED, REQUIRED, SubjectResolution, SubjectSource, from_processing,
                             merge_sources, overrides_source, require_parameters, resolve_subject_report)
from core.kinematics.cgm1 import StaticCalibration, calibrate, reconstruct
from core.model import ModelOutputs, ParameterValue, QualityIssue, QualityReport, SubjectParameters, Trial
from core.gait.trial_checks import cycle_issues, file_event_issues, static_motion_warning, within_frames

Progress = Optional[Callable[[float, str], None]]
Cancelled = Optional[Callable[[], bool]]
TrialInput = Union[str, Path, Trial]
Overrides = Union[Mapping[str, float], Sequence[str], None]
STAGES = ("read", "calibrate", "model", "events", "write")


@dataclass(frozen=True)
class ProcessingSettings:
    """Processing options (all plain values, so they can be stored and compared).

    marker_set: marker-set definition used to normalise labels (``resources/markersets``).
    label_map: path of a lab label map (JSON ``{"lab label": "PiG label"}``), or None.
    marker_diameter: mm; None takes it from the subject (default 14 mm).
    fill_gaps_max_frames: fill marker gaps up to this many frames (cubic spline, flagged);
        0 (default) leaves every gap, as for the comparison with Vicon.
    events: ``"auto"`` (the file's; else detected for walking trials only, see
        :func:`walking_decision`), ``"detect"`` (always detect) or ``"file"`` (never detect).
    event_min_interval_s, event_min_prominence_mm, event_refine_strike_s: detector
        settings (core.gait.events).
    stale_tolerance_deg: a dynamic file's PROCESSING offsets further than this from the
        static calibration are reported as stale.
    plate_assignment: ``((plate, "L" | "R" | "invalid"), ...)`` force plates assigned by
        hand as in Nexus (others automatic, core.kinetics.contacts).
    filter_markers_hz: low-pass cut-off (Hz) of the dynamic trials' markers before the model
        (zero-lag Butterworth, order 2 run forwards and backwards, NaN-aware: core.gait.filtering;
        Winter 2009, ch. 3), as a lab's capture pipeline does before Plug-in Gait. 0 (default)
        uses the markers as stored: Vicon's reference files hold markers its pipeline already
        filtered, and equality with Vicon's outputs needs them untouched. Raw, unfiltered
        captures need it for kinetics: second differences of 0.5 mm marker noise at 100 Hz are
        ~10 m/s^2 of segment acceleration.
    """

    marker_set: str = "pig_lower_body"
    label_map: Optional[str] = None
    marker_diameter: Optional[float] = None
    fill_gaps_max_frames: int = 0
    events: str = "auto"
    event_min_interval_s: float = 0.5
    event_min_prominence_mm: float = 40.0
    event_refine_strike_s: float = 0.15
    stale_tolerance_deg: float = 0.01
    plate_assignment: tuple[tuple[int, str], ...] = ()
    filter_markers_hz: float = 0.0

    def __post_init__(self) -> None:
        if not (self.filter_markers_hz == 0 or 0 < self.filter_markers_hz):
            raise GenuError(f"marker filter cut-off must be 0 (off) or positive, not {self.filter_markers_hz}")
        bad = [v for _, v in self.plate_assignment if v not in ("L", "R", "invalid")]
        if bad:
            raise GenuError(f"a force plate is assigned to L, R or invalid, not {bad[0]!r}")
        if self.events not in ("auto", "detect", "file"):
            raise GenuError(f"events setting must be auto, detect or file, not {self.events!r}")
        if self.fill_gaps_max_frames < 0:
            raise GenuError("fill_gaps_max_frames must be >= 0")
        if self.marker_diameter is not None and not self.marker_diameter > 0:
            raise GenuError(f"marker diameter must be positive, not {self.marker_diameter}")

    @property
    def event_settings(self) -> EventDetectionSettings:
        return EventDetectionSettings(self.event_min_interval_s, self.event_min_prominence_mm,
                                      self.event_refine_strike_s)


@dataclass(frozen=True)
class CalibrationResult:
    """A static calibration with what went into it.

    calibration: the CGM1 :class:`StaticCalibration` (its ``subject`` has ``--set`` applied).
    trial: the static trial as used. searched: where the subject was looked for.
    notes: remarks of the subject sources. timings_ms: ``read`` and ``calibrate``.
    """

    calibration: StaticCalibration
    trial: Trial
    searched: tuple[str, ...]
    notes: tuple[str, ...] = ()
    timings_ms: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessedTrial:
    """Everything the engine produced for one dynamic trial.

    trial: the trial as processed (labels normalised, gaps filled if asked). outputs: CGM1
    outputs. subject: parameters used, each with its source. events: events used (file or
    detected, see ``source``). cycles: gait cycles of both sides. gaps: gap report of the
    input markers (``core.gait.gaps.GapReport``) or None. quality: recoverable problems.
    settings: the options used. timings_ms: stage -> milliseconds (read, calibrate, model,
    events). filled_mask: ``(F, P)`` True where a marker sample was filled, or None.
    calibration: the static calibration used, or None. searched: subject sources.
    source_path: the input C3D path (None for an in-memory trial). kinetics: the
    Plug-in Gait kinetics (:class:`core.kinetics.inverse_dynamics.KineticsResult`) when
    the trial has force plates and the subject a body mass, else None (a quality issue
    ``kinetics-not-computed`` says why).
    """

    trial: Trial
    outputs: ModelOutputs
    subject: SubjectParameters
    events: tuple
    cycles: tuple[GaitCycle, ...]
    gaps: object
    quality: QualityReport
    settings: ProcessingSettings
    timings_ms: Mapping[str, float]
    filled_mask: Optional[np.ndarray] = None
    calibration: Optional[StaticCalibration] = None
    searched: tuple[str, ...] = ()
    source_path: Optional[Path] = None
    kinetics: Optional[object] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "timings_ms", MappingProxyType(dict(self.timings_ms)))

    def written_outputs(self) -> ModelOutputs:
        """The CGM1 outputs plus the kinetic channels when there are kinetics (what the
        processed C3D and the CSV hold)."""
        if self.kinetics is None:
            return self.outputs
        from core.kinetics.inverse_dynamics import with_kinetics
        return with_kinetics(self.outputs, self.kinetics)

    def filled_markers(self) -> Optional[np.ndarray]:
        """``(F,)`` space-separated labels of the markers filled at each frame ('' where none),
        or None when gap filling was not asked (the CSV's ``filled_markers`` column)."""
        if self.settings.fill_gaps_max_frames <= 0:
            return None
        if self.filled_mask is None:
            return np.full(self.trial.n_frames, "")
        from core.io.csv_out import filled_markers_by_frame
        return filled_markers_by_frame(self.filled_mask, self.trial.labels)

    @property
    def events_detected(self) -> bool:
        return any(e.source == "detected" for e in self.events)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

class _Clock:
    """Per-stage wall-clock timings in ms, with progress reporting and cancellation."""

    def __init__(self, progress: Progress, cancelled: Cancelled, lo: float = 0.0, hi: float = 1.0):
        self.ms: dict[str, float] = {}
        self.progress, self.cancelled, self.lo, self.hi = progress, cancelled, lo, hi

    def check(self) -> None:
        if self.cancelled is not None and self.cancelled():
            raise CancelledError()

    @contextmanager
    def stage(self, name: str, fraction: float, message: str) -> Iterator[None]:
        self.check()
        if self.progress is not None:
            self.progress(self.lo + (self.hi - self.lo) * fraction, message)
        t0 = time.perf_counter()
        yield
        self.ms[name] = self.ms.get(name, 0.0) + 1000.0 * (time.perf_counter() - t0)


def read_trial(source: TrialInput) -> Trial:
    """A trial from a path (read with :func:`core.io.c3d.read_c3d`) or as given."""
    if isinstance(source, Trial):
        return source
    from core.io.c3d import read_c3d
    return read_c3d(Path(source))


def prepare_trial(trial: Trial, settings: ProcessingSettings, static: bool) -> Trial:
    """Canonical marker labels (marker-set aliases) and the required-marker check."""
    from core.io.markersets import load_label_map, load_marker_set, normalise_labels, require_markers
    ms = load_marker_set(settings.marker_set)
    label_map = load_label_map(settings.label_map) if settings.label_map else None
    trial = normalise_labels(trial, ms, label_map)
    require_markers(trial, static=static, marker_set=ms, label_map=label_map)
    return trial


def _with_searched(exc: SubjectParameterError, searched: Sequence[str]) -> SubjectParameterError:
    if exc.searched or not searched:
        return exc
    head = f"subject parameter(s) {', '.join(exc.parameters)} "
    detail = exc.reason[len(head):] if exc.reason.startswith(head) else "missing"
    detail = detail.split(" (looked in")[0]
    return SubjectParameterError(exc.parameters, searched=searched, detail=detail, path=exc.path)


def _settings_source(settings: ProcessingSettings) -> Optional[SubjectSource]:
    if settings.marker_diameter is None:
        return None
    return SubjectSource("settings", {"MarkerDiameter": float(settings.marker_diameter)})


def _values_only(src: Optional[SubjectSource]) -> Optional[SubjectSource]:
    """An override source without its clears (a calibrated value replaces a cleared one)."""
    return None if src is None else replace(src, cleared=())


def _apply(subject: SubjectParameters, sources: Sequence[Optional[SubjectSource]]) -> SubjectParameters:
    srcs = [s for s in sources if s is not None]
    return merge_sources(srcs, base=subject, defaults=False)[0] if srcs else subject


# ----------------------------------------------------------------------------------------
# static calibration
# ----------------------------------------------------------------------------------------

def _readable(dynamics: Sequence[TrialInput]) -> tuple[list[Trial], list[str]]:
    """The dynamic trials that can be read (for their PROCESSING group), and a note for
    each one that cannot (its own processing reports the error)."""
    trials, notes = [], []
    for d in dynamics:
        try:
            trials.append(read_trial(d))
        except GenuError as exc:
            name = d.name if isinstance(d, Trial) else Path(d).name
            notes.append(f"{name}: not used as a subject source for the calibration ({exc.reason})")
    return trials, notes


def _recompute_stored_iad(subject: SubjectParameters) -> tuple[SubjectParameters, Optional[ParameterValue]]:
    """Drop an inter-ASIS distance that only a dynamic file's PROCESSING holds.

    That value is the product of an earlier static calibration (Nexus writes the computed IAD
    into the subject, and so into the motion files' PROCESSING); with the static trial at hand
    it is computed again, as Vicon does when the subject's own value is 0. A stale stored IAD
    (BTK FlatFoot-One carries FlatFoot-Hole's) is then reported, not used. Returns the subject
    and the dropped value (None when the IAD came from elsewhere).
    """
    p = subject.values.get("InterAsisDistance")
    if p is None or not p.source.startswith("dynamic PROCESSING"):
        return subject, None
    return SubjectParameters({k: v for k, v in subject.values.items() if k != "InterAsisDistance"}), p


def _stored_iad_check(stored: Optional[ParameterValue], subject: SubjectParameters,
                      tolerance_mm: float = 0.01) -> tuple[str, ...]:
    """A note comparing the dynamic file's stored IAD with the one computed from the static."""
    if stored is None:
        return ()
    computed = subject.get("InterAsisDistance")
    if computed is None or abs(computed - stored.value) <= tolerance_mm:
        return (f"InterAsisDistance computed from the static ({computed:.2f} mm) equals the value in "
                f"{stored.source} ({stored.value:.2f} mm)",) if computed is not None else ()
    return (f"warning: InterAsisDistance computed from the static is {computed:.2f} mm; {stored.source} "
            f"holds {stored.value:.2f} mm (stale: not used; --set InterAsisDistance={stored.value:g} uses it)",)


def calibrate_static_result(static: TrialInput, subject_file: Union[str, Path, None] = None,
                            overrides: Overrides = None, settings: Optional[ProcessingSettings] = None,
                            progress: Progress = None, cancelled: Cancelled = None,
                            dynamics: Sequence[TrialInput] = ()) -> CalibrationResult:
    """Calibrate CGM1 from a static trial and report the sources used.

    Parameters
    ----------
    static: path of the static C3D or a :class:`Trial`.
    subject_file: ``.vsk``, ``.mp`` or ``.json`` (optional).
    overrides: ``--set`` values, ``{"Name": value}`` or ``["Name=Value"]`` (degrees).
    dynamics: the dynamic trials (paths or Trials) processed with this calibration: their
        PROCESSING groups are the lowest-precedence subject sources (docs/subject_parameters.md:
        dynamic PROCESSING, static PROCESSING, subject file, ``--set``); of several, the
        first given wins. Each value of the result carries its source.

    Raises
    ------
    C3DReadError, MissingMarkersError, SubjectParameterError (naming where it looked),
    CalibrationError, CancelledError.
    """
    settings = settings or ProcessingSettings()
    clock = _Clock(progress, cancelled)
    with clock.stage("read", 0.0, "reading the static trial"):
        trial = prepare_trial(read_trial(static), settings, static=True)
    with clock.stage("calibrate", 0.5, "calibrating"):
        dyn_trials, unread = _readable(dynamics)
        res = resolve_subject_report(dynamic=dyn_trials or None, static=trial, subject_file=subject_file,
                                     overrides=overrides)
        subject = _apply(res.subject, [_settings_source(settings)])
        res.require(REQUIRED, "the static calibration")
        subject, iad_note = _recompute_stored_iad(subject)
        try:
            cal = calibrate(trial, subject)
        except SubjectParameterError as exc:
            raise _with_searched(exc, res.searched) from None
        final = _apply(cal.subject, [_values_only(overrides_source(overrides)), _settings_source(settings)])
        cal = replace(cal, subject=final)
    clock.check()
    if progress is not None:
        progress(1.0, "calibrated")
    from core.kinematics.cgm1 import implausible_offsets
    notes = tuple(res.notes) + tuple(unread) + tuple(f"warning: {m}" for _, m in implausible_offsets(cal.subject))
    notes += _stored_iad_check(iad_note, cal.subject)
    notes += static_motion_warning(trial)
    return CalibrationResult(cal, trial, res.searched, notes, clock.ms)


def calibrate_static(static: TrialInput, subject_file: Union[str, Path, None] = None,
                     overrides: Overrides = None, settings: Optional[ProcessingSettings] = None) -> StaticCalibration:
    """The CGM1 :class:`StaticCalibration` of a static trial (see :func:`calibrate_static_result`)."""
    return calibrate_static_result(static, subject_file, overrides, settings).calibration


# ----------------------------------------------------------------------------------------
# dynamic trials
# ----------------------------------------------------------------------------------------

def _subject_with_static(trial: Trial, cal: StaticCalibration, overrides: Overrides,
                         settings: ProcessingSettings, searched: Sequence[str]) -> tuple[SubjectParameters, list[QualityIssue], tuple[str, ...]]:
    dyn = from_processing(trial, "dynamic")
    base, _ = merge_sources([dyn], defaults=False)
    layered = dict(base.values)
    for name, pv in cal.subject.values.items():
        if pv.source == "default" and name in layered:
            continue  # a real value of the dynamic file beats a default
        layered[name] = pv
    subject = _apply(SubjectParameters(layered), [_values_only(overrides_source(overrides)), _settings_source(settings)])
    issues = []
    stale = [f"{n} {dyn.values[n]:.3f} vs {cal.subject.get(n):.3f} deg" for n in CALIBRATED
             if n in dyn.values and cal.subject.get(n) is not None
             and abs(dyn.values[n] - cal.subject.get(n)) > settings.stale_tolerance_deg]
    if stale:
        issues.append(QualityIssue("warning", "stale-processing",
                                   f"the foot offsets in the {dyn.label} differ from the static calibration "
                                   f"({'; '.join(stale)}): the calibration was used", trial.name))
    return subject, issues, (dyn.label,) + tuple(searched)


def _subject_without_static(trial: Trial, subject_file, overrides: Overrides,
                            settings: ProcessingSettings) -> tuple[SubjectParameters, list[QualityIssue], SubjectResolution]:
    res = resolve_subject_report(dynamic=trial, subject_file=subject_file, overrides=overrides)
    subject = _apply(res.subject, [_settings_source(settings)])
    missing = [n for n in CALIBRATED if n not in subject]
    if missing:
        subject = subject.with_values(*(ParameterValue(n, 0.0, "deg", "default (not found)") for n in missing))
    used = ", ".join(f"{n} {subject.get(n):.3f} deg ({subject.source(n)})" for n in CALIBRATED)
    issues = [QualityIssue("warning" if missing else "info", "no-static",
                           f"no static trial: foot offsets taken from the subject sources: {used}",
                           trial.name)]
    return subject, issues, res


def _subject_issues(subject: SubjectParameters, trial: Trial, notes: Sequence[str]) -> list[QualityIssue]:
    issues = [QualityIssue("info", "subject-source", n, trial.name) for n in notes]
    defaulted = [n for n, p in subject.values.items() if p.source.startswith("default")]
    if defaulted:
        md = subject.get("MarkerDiameter")
        issues.append(QualityIssue("info", "defaults-used",
                                   f"default values used for {', '.join(defaulted)}"
                                   + (f" (MarkerDiameter {md:g} mm: Nexus files do not store it)"
                                      if "MarkerDiameter" in defaulted else ""), trial.name))
    return issues


def _parameter_issues(trial: Trial, subject: SubjectParameters, outputs: ModelOutputs) -> list[QualityIssue]:
    """Warnings naming a knee/ankle width for which a side has no solution in any frame
    (its outputs are all NaN although its markers are there), and implausible foot offsets."""
    from core.kinematics.cgm1 import CGM1Parameters, impossible_widths, implausible_offsets
    params = CGM1Parameters.from_subject(subject, require_iad=True)
    ch = outputs.channels
    markers = {f"{p}{m}": (trial.point(f"{p}{m}") if trial.has(f"{p}{m}") else np.full((trial.n_frames, 3), np.nan))
               for p in "LR" for m in ("KNE", "THI", "ANK", "TIB")}
    bad = impossible_widths(params, {s: ch[f"{s[0]}HJC"] for s in ("Left", "Right")},
                            {s: ch[f"{s[0]}KJC"] for s in ("Left", "Right")}, markers, partial=True)
    issues = [QualityIssue("warning", "impossible-parameter", f"{m}; the {n[:n.index('t') + 1].lower()} leg's outputs are empty there",
                           trial.name, n) for n, m in bad]
    return issues + [QualityIssue("warning", "implausible-parameter", m, trial.name, n)
                     for n, m in implausible_offsets(subject)]


def _gaps(trial: Trial, settings: ProcessingSettings) -> tuple[Trial, object, Optional[np.ndarray], list[QualityIssue]]:
    """Gap report of the markers CGM1 uses and, if asked, bounded filling (flagged)."""
    from core.gait.gaps import fill_gaps, gap_report
    from core.kinematics.cgm1 import required_markers
    labels = [m for m in required_markers(False) + ("SACR", "LPSI", "RPSI") if trial.has(m)]
    report = gap_report(trial, labels)
    issues = [QualityIssue("warning" if g.percent_valid < 90 else "info", "gap",
                           f"{g.label}: {g.n_gaps} gap(s), longest {g.longest_gap_frames} frames, "
                           f"{g.percent_valid:.1f} % valid", trial.name, g.label)
              for g in report.markers if g.n_gaps]
    mask = None
    if settings.fill_gaps_max_frames > 0 and issues:
        filled = fill_gaps(trial, settings.fill_gaps_max_frames, labels)
        trial, mask = filled.trial, np.asarray(filled.filled_mask)
        n = int(mask.sum())
        if n:
            issues.append(QualityIssue("warning", "gap-filled",
                                       f"{n} marker samples filled (cubic spline, gaps up to "
                                       f"{settings.fill_gaps_max_frames} frames); they are flagged (CSV column filled_markers, "
                                       "C3D parameters GENULAB:FILLED_FIRST/FILLED_LAST)", trial.name))
    return trial, report, mask, issues


def _filtered(trial: Trial, settings: ProcessingSettings) -> tuple[Trial, list[QualityIssue]]:
    """The trial with its markers low-pass filtered when the settings ask for it."""
    if not settings.filter_markers_hz:
        return trial, []
    from core.gait.filtering import filter_trial
    out, report = filter_trial(trial, settings.filter_markers_hz)
    return out, [QualityIssue("warning" if report.unfiltered_runs else "info", "filtered",
                              f"markers {report.message}", trial.name)]


def _as_calibration(static, subject_file, overrides, settings,
                    dynamic: Optional[Trial] = None) -> tuple[Optional[StaticCalibration], tuple[str, ...], tuple[str, ...], dict]:
    """(calibration, searched, notes, timings) from whatever was given as the static (a
    static trial is calibrated with ``dynamic``'s PROCESSING among the subject sources)."""
    if static is None:
        return None, (), (), {}
    if isinstance(static, CalibrationResult):
        return static.calibration, static.searched, static.notes, {}
    if isinstance(static, StaticCalibration):
        return static, ("static calibration " + (static.trial_name or "given"),), (), {}
    res = calibrate_static_result(static, subject_file, overrides, settings,
                                  dynamics=(dynamic,) if dynamic is not None else ())
    return res.calibration, res.searched, res.notes, dict(res.timings_ms)


def walking_decision(trial: Trial, outputs: Optional[ModelOutputs] = None) -> tuple[bool, str]:
    """Is the trial a walk (so gait events may be detected)? Returns (answer, why).

    The task comes from ``GENULAB:TASK``, else from the trial name's keywords (core.analysis.tasks);
    a trial of unknown task is a walk when its pelvis travels more than
    ``core.analysis.tasks.WALK_TRAVEL_MM`` between its first and last valid frames.
    """
    from core.gait.trial_task import WALK_TRAVEL_MM, canonical_task, pelvis_travel_mm, task_from_name
    task = canonical_task(trial.parameters.get("GENULAB:TASK"))
    rule = "GENULAB:TASK"
    if task is None:
        task, rule = task_from_name(trial.name)[0], "trial name"
    if task is not None:
        return task == "walk", f"task {task} ({rule})"
    travel = pelvis_travel_mm(trial, outputs)
    walking = bool(np.isfinite(travel) and travel > WALK_TRAVEL_MM)
    return walking, f"task unknown, pelvis travel {travel:.0f} mm ({'>' if walking else '<='} {WALK_TRAVEL_MM:.0f} mm)"




def _events_and_cycles(trial: Trial, outputs: ModelOutputs,
                       settings: ProcessingSettings) -> tuple[tuple, tuple[GaitCycle, ...], list[QualityIssue]]:
    """Events (file, else detected for walks, per ``settings.events``), cycles, quality issues."""
    trial, general, issues = file_event_issues(trial)
    if settings.events == "detect":
        te = trial_events(trial.with_changes(events=()), outputs, settings.event_settings)
    elif settings.events == "file" or gait_events(trial.events):
        te = TrialEvents(tuple(trial.events), False)
    else:
        walking, why = walking_decision(trial, outputs)
        if walking:
            te = trial_events(trial, outputs, settings.event_settings)
        else:
            te = TrialEvents(tuple(trial.events), False)
            issues.append(QualityIssue("info", "events-not-detected",
                                       f"no foot strike/off events in the file and not a walking trial ({why}): "
                                       "gait events not detected", trial.name))
    cycles = all_cycles(te.events)
    issues += [QualityIssue("warning", "events-missing", line, trial.name) for line in te.missing]
    gen = (f"the file's {len(general)} foot strike/off event(s) have context 'General' (no side) and cannot make "
           "gait cycles") if general else ""
    if te.detected:
        n_det = sum(1 for e in te.events if e.source == "detected")
        issues.append(QualityIssue("warning", "events-detected",
                                   (gen or "no foot strike/off events in the file") + f": {n_det} detected "
                                   "from kinematics (Zeni 2008)" + "".join(f"; {n}" for n in te.notes),
                                   trial.name))
    elif gen and settings.events != "detect":
        issues.append(QualityIssue("warning", "events-general", gen, trial.name))
    if not cycles and not [i for i in issues if i.code != "duplicate-events"] and walking_decision(trial, outputs)[0]:
        issues.append(QualityIssue("warning", "no-cycles", "no complete gait cycle in the events of this walk",
                                   trial.name))
    return tuple(te.events), cycles, issues + cycle_issues(trial, te.events, cycles)


def process_trial(source: TrialInput, static=None, subject_file: Union[str, Path, None] = None,
                  overrides: Overrides = None, settings: Optional[ProcessingSettings] = None,
                  progress: Progress = None, cancelled: Cancelled = None) -> ProcessedTrial:
    """Process one dynamic trial: read, subject, CGM1, gaps, events, cycles.

    Parameters
    ----------
    source: dynamic C3D path or :class:`Trial`.
    static: None, a static C3D path/Trial (calibrated here), a :class:`StaticCalibration`
        or a :class:`CalibrationResult`.
    subject_file, overrides: subject sources (see :mod:`core.io.subject`).
    settings: :class:`ProcessingSettings`. progress, cancelled: plain callables.

    Raises
    ------
    C3DReadError, MissingMarkersError, SubjectParameterError, CalibrationError, CancelledError.
    """
    settings = settings or ProcessingSettings()
    clock = _Clock(progress, cancelled)
    path = None if isinstance(source, Trial) else Path(source)
    with clock.stage("read", 0.0, f"reading {path.name if path else source.name}"):
        trial = prepare_trial(read_trial(source), settings, static=False)
        trial, range_issues = within_frames(trial)
        range_issues = [QualityIssue("warning", "file-repaired", f"repaired while reading: {w}", trial.name)
                        for w in trial.read_warnings] + list(range_issues)
        trial, gaps, mask, gap_issues = _gaps(trial, settings)
        trial, filter_issues = _filtered(trial, settings)
        gap_issues += filter_issues
    with clock.stage("calibrate", 0.2, "subject parameters"):
        cal, searched, notes, cal_ms = _as_calibration(static, subject_file, overrides, settings, trial)
        if cal is not None:
            subject, issues, searched = _subject_with_static(trial, cal, overrides, settings, searched)
        else:
            subject, issues, res = _subject_without_static(trial, subject_file, overrides, settings)
            searched, notes = res.searched, res.notes
    for k, v in cal_ms.items():  # a static calibrated here is timed as calibrate (its read included)
        clock.ms["calibrate"] = clock.ms.get("calibrate", 0.0) + v
    with clock.stage("model", 0.4, "CGM1 reconstruction"):
        try:
            require_parameters(subject, REQUIRED + ("InterAsisDistance",), searched, "the dynamic trial")
            outputs = reconstruct(trial, subject)
        except SubjectParameterError as exc:
            raise _with_searched(exc, searched) from None
        issues += _parameter_issues(trial, subject, outputs)
    with clock.stage("events", 0.8, "events and cycles"):
        events, cycles, ev_issues = _events_and_cycles(trial, outputs, settings)
    kinetics, kin_issues = None, []
    if trial.force_plates:
        with clock.stage("kinetics", 0.9, "kinetics"):
            kinetics, kin_issues = _kinetics(trial, outputs, subject, events, dict(settings.plate_assignment))
    quality = QualityReport().plus(*range_issues, *gap_issues, *issues, *_subject_issues(subject, trial, notes),
                                   *ev_issues, *kin_issues)
    clock.check()
    if progress is not None:
        progress(1.0, "done")
    return ProcessedTrial(trial, outputs, subject, events, cycles, gaps, quality, settings,
                          clock.ms, mask, cal, tuple(searched), path, kinetics)


def _kinetics(trial: Trial, outputs: ModelOutputs, subject: SubjectParameters, events: Sequence,
              assignment: Mapping[int, str]) -> tuple[Optional[object], list[QualityIssue]]:
    """Plug-in Gait kinetics of a trial with force plates, or None and the reason as a
    quality issue (no body mass, a plate that cannot be read, foot markers missing);
    kinematics are delivered either way. Force-plate events are offered beside the events
    used (``ProcessedTrial.kinetics.events``), never replacing the file's."""
    from core.kinetics.inverse_dynamics import KineticsSettings, compute_kinetics
    try:
        res = compute_kinetics(trial, outputs, subject, KineticsSettings(plate_assignment=assignment), events)
    except GenuError as exc:
        return None, [QualityIssue("warning", "kinetics-not-computed", f"kinetics not computed: {exc.reason}",
                                   trial.name, getattr(exc, "parameter", "") or ", ".join(getattr(exc, "parameters", ())))]
    issues = list(res.issues)
    n = len(res.clean_contacts)
    issues.append(QualityIssue("info", "kinetics", f"kinetics from {n} clean force-plate contact(s) of "
                               f"{len(res.contacts)}; {len(res.events)} force-plate event(s) available",
                               trial.name))
    return res, issues


# ----------------------------------------------------------------------------------------
# sessions
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProcessedSession:
    """A processed session folder.

    folder: the :class:`core.gait.session.SessionFolder`. calibration: the static calibration (or
    None when the folder has no static). trials: the processed dynamic trials, in file order.
    failures: ``(path, message)`` of trials that could not be processed. notes: decisions
    taken (static choice, subject file, calibration sources).
    """

    folder: object
    calibration: Optional[StaticCalibration]
    trials: tuple[ProcessedTrial, ...]
    failures: tuple[tuple[Path, str], ...] = ()
    notes: tuple[str, ...] = ()


def process_session(folder, overrides: Overrides = None, progress: Progress = None,
                    cancelled: Cancelled = None, settings: Optional[ProcessingSettings] = None,
                    static: Union[str, Path, None] = None,
                    subject_file: Union[str, Path, None] = None) -> ProcessedSession:
    """Calibrate the session's static once and process every dynamic trial.

    Parameters
    ----------
    folder: a session folder path or a :class:`core.gait.session.SessionFolder`.
    overrides: ``--set`` values. static: the caller's choice of static trial.
    subject_file: overrides the subject file found in the folder.

    A trial that fails with a :class:`GenuError` is listed in ``failures``; a failing static
    calibration raises (every trial depends on it). Cancelling raises CancelledError.
    """
    from core.gait.session import SessionFolder, discover_session
    sf = folder if isinstance(folder, SessionFolder) else discover_session(folder, static=static)
    settings = settings or ProcessingSettings()
    subj = subject_file if subject_file is not None else sf.subject_file
    n = len(sf.dynamics) + 1
    notes = list(sf.notes)
    cal_res = None
    if sf.static is not None:
        sub = (lambda f, m: progress(f / n, m)) if progress else None
        cal_res = calibrate_static_result(sf.static, subj, overrides, settings, sub, cancelled,
                                          dynamics=tuple(sf.dynamics))
        notes.append(f"calibrated from {sf.static.name}; subject looked in: {'; '.join(cal_res.searched)}")
    trials, failures = [], []
    for i, path in enumerate(sf.dynamics, start=1):
        sub = (lambda f, m, i=i: progress((i + f) / n, f"{path.name}: {m}")) if progress else None
        try:
            trials.append(process_trial(path, cal_res, subj, overrides, settings, sub, cancelled))
        except CancelledError:
            raise
        except GenuError as exc:
            failures.append((path, str(exc)))
    if progress is not None:
        progress(1.0, "session processed")
    return ProcessedSession(sf, cal_res.calibration if cal_res else None, tuple(trials), tuple(failures), tuple(notes))
