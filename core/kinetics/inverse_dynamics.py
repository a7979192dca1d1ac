"""Plug-in Gait kinetics of a trial: one entry point, :func:`compute_kinetics`.

force plates -> clean foot contacts -> ground reaction on each foot -> recursive
Newton-Euler (core.kinetics.newton_euler) -> Vicon-named channels.

Output conventions (measured on the reference files, docs/kinetics.md):

* ``{L,R}{Ankle,Knee,Hip}Moment``: moment the proximal segment exerts on the distal one,
  N.mm per kg of body mass, expressed in the *distal* segment's axes (foot, tibia,
  femur): ankle ``(y, -z, x)`` of the foot, knee ``(-y, x, z)`` of the tibia, hip
  ``(y, x, z)`` of the femur for the left side; the right side has its Y and Z negated.
* ``{L,R}{Ankle,Knee,Hip}Force``: joint reaction force on the distal segment, N/kg,
  distal axes: ankle ``(-x, y, -z)`` of the foot, knee and hip ``(x, y, z)``, both sides.
* ``{L,R}{Ankle,Knee,Hip}Power``: ``M . (w_distal - w_proximal)`` in W/kg, in Z;
  X and Y are 0 (as Vicon writes them).
* ``{L,R}GroundReactionForce``: sum of the side's clean-contact plate forces, lab frame,
  N/kg, NaN outside them; ``{L,R}NormalisedGRF`` the same in % of body weight.

Like Vicon, kinetics are also computed in swing (segment inertia and gravity only), and
are NaN during a stance (Foot Strike -> Foot Off of the events) that is not on a clean
plate contact, and during unclean contacts of that foot.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional, Sequence

import numpy as np

from core.errors import MissingMarkersError, SubjectParameterError
from core.kinematics.cgm1_params import DEFAULT_MARKER_DIAMETER_MM
from core.kinetics.contacts import SIDE_NAMES, Contact, assign_contacts, force_plate_events
from core.kinetics.force_plates import DEFAULT_THRESHOLD_N, PlateData, compute_plates
from core.kinetics.newton_euler import ExternalLoad, JointLoad, limb_chain
from core.kinetics.segments import PIG_SEGMENTS, SegmentParameters, limb_segments, pelvis_angular_velocity
from core.model import (EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent, ModelOutputs, QualityIssue,
                        SubjectParameters, Trial, readonly_array)

G_STANDARD = 9.81
JOINTS = ("Ankle", "Knee", "Hip")
#: joint -> (distal segment, Vicon X/Y/Z as (segment axis, sign)) for the left side
MOMENT_AXES = {"Ankle": ("Foot", ((1, 1.0), (2, -1.0), (0, 1.0))),
               "Knee": ("Tibia", ((1, -1.0), (0, 1.0), (2, 1.0))),
               "Hip": ("Femur", ((1, 1.0), (0, 1.0), (2, 1.0)))}
#: the right side negates Y and Z of the moments
RIGHT_MOMENT_SIGN = np.array([1.0, -1.0, -1.0])
FORCE_AXES = {"Ankle": ((0, -1.0), (1, 1.0), (2, -1.0)),
              "Knee": ((0, 1.0), (1, 1.0), (2, 1.0)),
              "Hip": ((0, 1.0), (1, 1.0), (2, 1.0))}
UNITS = {"Moment": "Nmm/kg", "Force": "N/kg", "Power": "W/kg", "GroundReactionForce": "N/kg",
         "NormalisedGRF": "%BW"}


@dataclass(frozen=True)
class KineticsSettings:
    """Options of :func:`compute_kinetics`.

    threshold_n: vertical force below which a plate is unloaded; margin_mm,
    foot_height_mm, foot_speed_mm_s: contact checks (core.kinetics.contacts);
    plate_assignment: plate number -> ``"L"``, ``"R"`` or ``"invalid"`` for plates assigned
    by hand as in Nexus (others automatic); segments: inertial parameter table.
    """

    threshold_n: float = DEFAULT_THRESHOLD_N
    margin_mm: float = 20.0
    foot_height_mm: float = 80.0
    foot_speed_mm_s: float = 300.0
    plate_assignment: Mapping[int, str] = field(default_factory=dict)
    segments: Mapping[str, SegmentParameters] = field(default_factory=lambda: dict(PIG_SEGMENTS))

    def __post_init__(self) -> None:
        object.__setattr__(self, "plate_assignment", MappingProxyType(dict(self.plate_assignment)))
        object.__setattr__(self, "segments", MappingProxyType(dict(self.segments)))


@dataclass(frozen=True)
class KineticsResult:
    """Kinetics of one trial.

    channels: Vicon name -> ``(F, 3)`` (units in ``units``), NaN where not computed.
    units: channel -> unit string; plates: per-plate outputs; contacts: every plate
    contact with its foot and whether it was used; events: force-plate gait events of
    the clean contacts; issues: quality issues; body_mass_kg; first_frame, rate_hz: time
    axis as the trial.
    """

    channels: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    plates: tuple[PlateData, ...]
    contacts: tuple[Contact, ...]
    events: tuple[GaitEvent, ...]
    issues: tuple[QualityIssue, ...]
    body_mass_kg: float
    first_frame: int
    rate_hz: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", MappingProxyType({k: readonly_array(v) for k, v in self.channels.items()}))
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))

    @property
    def clean_contacts(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.clean)


def body_mass_of(subject: SubjectParameters, trial: Trial) -> float:
    """``Bodymass`` (kg) of the subject; SubjectParameterError when missing or not positive."""
    m = subject.get("Bodymass")
    if m is None or not np.isfinite(m) or m <= 0:
        raise SubjectParameterError(["Bodymass"], detail="missing or not positive (kinetics need the body mass)",
                                    path=trial.path)
    return float(m)


def _foot_loads(plates: Sequence[PlateData], contacts: Sequence[Contact], side: str) -> list[ExternalLoad]:
    """One load per plate the side has clean contacts on (zero outside them)."""
    loads = []
    for p in plates:
        on = np.zeros(p.force_n.shape[0], dtype=bool)
        for c in contacts:
            if c.clean and c.side == side and c.plate == p.number:
                on[c.first_row:c.last_row + 1] = True
        if not on.any():
            continue
        with np.errstate(invalid="ignore"):
            f = np.where(on[:, None], p.force_n, 0.0)
            r = np.where(on[:, None] & np.isfinite(p.cop_mm), p.cop_mm / 1000.0, 0.0)
            t = np.where(on[:, None] & np.isfinite(p.free_moment_nmm), p.free_moment_nmm / 1000.0, 0.0)
        loads.append(ExternalLoad(f, r, t))
    return loads


def invalid_rows(n_frames: int, first_frame: int, side: str, contacts: Sequence[Contact],
                 events: Sequence[GaitEvent]) -> np.ndarray:
    """``(F,)`` rows where the side's kinetics are unknown: its unclean contacts (and those
    where both feet were on the plate), and each
    stance (Foot Strike -> next Foot Off, rows strike+1 .. off as Vicon blanks them) that
    overlaps no clean contact of the side."""
    bad = np.zeros(n_frames, dtype=bool)
    clean = np.zeros(n_frames, dtype=bool)
    for c in contacts:
        if c.side == side or c.both_feet:
            (clean if c.clean else bad)[c.first_row:c.last_row + 1] = True
    name = SIDE_NAMES[side]
    ev = sorted((e for e in events if e.context == name and e.label in (EVENT_FOOT_STRIKE, EVENT_FOOT_OFF)),
                key=lambda e: e.frame)
    for a, b in zip(ev, ev[1:]):
        if a.label == EVENT_FOOT_STRIKE and b.label == EVENT_FOOT_OFF:
            lo, hi = max(a.frame - first_frame + 1, 0), min(b.frame - first_frame + 1, n_frames)
            if lo < hi and not clean[max(lo - 1, 0):hi].any():
                bad[lo:hi] = True
    return bad


def _in_axes(rot: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``R^T v`` for ``(F, 3, 3)`` axes (columns) and ``(F, 3)`` lab vectors."""
    return np.stack([rot[:, 0, a] * v[:, 0] + rot[:, 1, a] * v[:, 1] + rot[:, 2, a] * v[:, 2] for a in range(3)],
                    axis=1)


def _express(joint_loads: Mapping[str, JointLoad], segs: Mapping, side: str, mass: float) -> dict[str, np.ndarray]:
    out = {}
    for joint, load in joint_loads.items():
        seg, axes = MOMENT_AXES[joint]
        rot = segs[seg].rotation
        m_loc, f_loc = _in_axes(rot, load.moment_nm), _in_axes(rot, load.force_n)
        moment = np.stack([s * m_loc[:, a] for a, s in axes], axis=1) * 1000.0 / mass
        if side == "R":
            moment = moment * RIGHT_MOMENT_SIGN
        out[f"{side}{joint}Moment"] = moment
        out[f"{side}{joint}Force"] = np.stack([s * f_loc[:, a] for a, s in FORCE_AXES[joint]], axis=1) / mass
        power = np.zeros_like(moment)
        power[:, 2] = load.power_w / mass
        power[~np.isfinite(load.power_w)] = np.nan
        out[f"{side}{joint}Power"] = power
    return out


def _side_channels(trial: Trial, outputs: ModelOutputs, side: str, mass: float, plates, contacts,
                   events, settings: KineticsSettings, pelvis_omega: Optional[np.ndarray] = None,
                   marker_diameter_mm: float = DEFAULT_MARKER_DIAMETER_MM) -> dict[str, np.ndarray]:
    segs = limb_segments(trial, outputs, side, mass, settings.segments, pelvis_omega, marker_diameter_mm)
    loads = _foot_loads(plates, contacts, side)
    ch = _express(limb_chain(segs, loads), segs, side, mass)
    bad = invalid_rows(trial.n_frames, trial.first_frame, side, contacts, events)
    grf = np.full((trial.n_frames, 3), np.nan)
    if loads:
        on = np.zeros(trial.n_frames, dtype=bool)
        for c in contacts:
            if c.clean and c.side == side:
                on[c.first_row:c.last_row + 1] = True
        grf[on] = sum(ld.force_n for ld in loads)[on] / mass
    for k in ch:
        ch[k][bad] = np.nan
    ch[f"{side}GroundReactionForce"] = grf
    ch[f"{side}NormalisedGRF"] = grf * 100.0 / G_STANDARD
    return ch


def compute_kinetics(trial: Trial, outputs: ModelOutputs, subject: SubjectParameters,
                     settings: KineticsSettings = KineticsSettings(),
                     events: Optional[Sequence[GaitEvent]] = None) -> KineticsResult:
    """Plug-in Gait joint kinetics of a trial (module docstring for the conventions).

    Parameters
    ----------
    trial: the dynamic trial with analog data and force plates.
    outputs: its CGM1 reconstruction (``core.kinematics.cgm1.reconstruct``).
    subject: resolved subject parameters (``Bodymass`` in kg is required).
    settings: thresholds and manual plate assignment.
    events: gait events delimiting stances (default: the trial's own events).

    Returns
    -------
    KineticsResult with ``(F, 3)`` channels ``LAnkleMoment`` ... ``RGroundReactionForce``.

    Raises
    ------
    SubjectParameterError: no positive ``Bodymass``.
    ForcePlateError: a plate cannot be computed (names the plate and parameter).
    """
    mass = body_mass_of(subject, trial)
    plates, issues = compute_plates(trial, settings.threshold_n)
    issues = list(issues)
    contacts = assign_contacts(trial, plates, settings.margin_mm, settings.foot_height_mm,
                               settings.foot_speed_mm_s, settings.plate_assignment)
    for c in contacts:
        if not c.clean:
            issues.append(QualityIssue("warning", "plate-contact-excluded", f"force {c.describe()}",
                                       trial.name, f"plate {c.plate}"))
    if not any(c.clean for c in contacts):
        issues.append(QualityIssue("warning", "no-clean-contact", "no clean force-plate contact: joint "
                                   "kinetics only in swing", trial.name, "force plates"))
    events = trial.events if events is None else tuple(events)
    channels: dict[str, np.ndarray] = {}
    pelvis_omega = pelvis_angular_velocity(outputs) if "Pelvis" in outputs.segments else None
    marker_diameter = subject.get("MarkerDiameter")
    marker_diameter = float(marker_diameter) if marker_diameter is not None and np.isfinite(marker_diameter) \
        else DEFAULT_MARKER_DIAMETER_MM
    for side in ("L", "R"):
        try:
            channels.update(_side_channels(trial, outputs, side, mass, plates, contacts, events, settings,
                                           pelvis_omega, marker_diameter))
        except MissingMarkersError as exc:
            issues.append(QualityIssue("warning", "kinetics-side-missing", f"{SIDE_NAMES[side]} kinetics not "
                                       f"computed: {exc.reason}", trial.name, ", ".join(exc.markers)))
    units = {k: next(u for suffix, u in UNITS.items() if k.endswith(suffix)) for k in channels}
    return KineticsResult(channels, units, plates, contacts, force_plate_events(trial, contacts),
                          tuple(issues), mass, trial.first_frame, trial.point_rate_hz)


def with_kinetics(outputs: ModelOutputs, kinetics: KineticsResult) -> ModelOutputs:
    """``outputs`` with the kinetic channels added (same time axis), for the writers."""
    return ModelOutputs({**outputs.channels, **kinetics.channels}, outputs.segments, outputs.progression,
                        outputs.first_frame, outputs.rate_hz)
