"""Result objects of the knee-kinetics analysis (:mod:`core.analysis.kinetics`).

Part of the documented contract of :mod:`core.analysis.types` (fields are only ever added,
with defaults). Conventions, measured on Vicon's own outputs (docs/analysis.md, "Kinetics"):

* Plug-in Gait ``{L,R}KneeMoment`` are N.mm per kg of body mass; Vicon negates Y and Z of
  the right side so that both sides read alike. In normal walking ``KneeMoment`` Y is
  positive over most of stance with a double hump (checked on the BTK PiG walking file,
  left and right): +Y is the **external knee adduction (varus) moment** (balanced by an
  internal abductor moment), -Y the **external knee abduction (valgus) moment**.
* Displayed moments are N.m/kg (Vicon value / 1000), powers W/kg (``KneePower`` Z,
  + = generation, - = absorption), ``KneeMoment`` X + = internal extensor moment.
* Frames are C3D frame numbers, times ``(frame - 1) / rate`` s; NaN (never 0) where the
  window has no clean force-plate contact, with the reason in ``reason``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from core.model import readonly_array as _ro

#: kinetic channel components kept as curves (Vicon name without side . axis)
KINETIC_CURVE_KEYS = ("KneeMoment.y", "KneeMoment.x", "KneePower.z", "HipMoment.x", "HipMoment.y",
                      "HipPower.z", "AnkleMoment.x", "AnklePower.z")
#: display scale of each curve key: Vicon unit -> display unit
KINETIC_DISPLAY = MappingProxyType({
    "KneeMoment.y": (0.001, "N.m/kg"), "KneeMoment.x": (0.001, "N.m/kg"), "HipMoment.x": (0.001, "N.m/kg"),
    "HipMoment.y": (0.001, "N.m/kg"), "AnkleMoment.x": (0.001, "N.m/kg"),
    "KneePower.z": (1.0, "W/kg"), "HipPower.z": (1.0, "W/kg"), "AnklePower.z": (1.0, "W/kg")})
KINETIC_INDICATOR_TEXT = ("a larger external knee abduction moment during the valgus phase is consistent "
                          "with a higher knee load; it is an indicator, not a diagnosis")


@dataclass(frozen=True)
class ContactQuality:
    """One foot-plate contact of a trial, as judged by the kinetics engine.

    side: ``"Left"``/``"Right"`` (``""`` when no foot was found); plate: 1-based plate number;
    first_frame, last_frame: C3D frames of the loaded run (inclusive); clean: the whole foot
    was on that plate alone; reason: why it was excluded (``""`` when clean).
    """

    side: str
    plate: int
    first_frame: int
    last_frame: int
    clean: bool
    reason: str = ""


@dataclass(frozen=True)
class WindowKinetics:
    """Knee kinetics of one task window (walking stance, squat repetition, hold, landing).

    Moments in N.m/kg, powers in W/kg; frames C3D, times s; NaN / None where not computable
    (``reason`` says why: no clean contact, contact excluded, no kinetics).

    peak_abduction_moment: largest external knee abduction (valgus) moment = max of
    ``-KneeMoment.y / 1000`` over the window (negative when the external moment adducts the
    knee throughout); peak_adduction_moment: max of ``+KneeMoment.y / 1000``.
    phase_*: the valgus phase of this window with the highest peak (None without a phase):
    its peak frame, onset/offset; abduction_offset_ms: (peak abduction moment frame - valgus
    peak frame) in ms; abduction_in_phase: that frame lies inside the phase;
    phase_peak_abduction_moment: the largest external abduction moment inside the phase.
    peaks / peak_frames: other peaks, key ``"<Vicon key> max|min"`` (``"KneeMoment.x max"``
    internal extensor, ``"KneePower.z max"`` generation, ``"KneePower.z min"`` absorption,
    hip and ankle) in display units.
    normal_abduction_mean / _sd: normal band of the external abduction moment at the peak's
    gait-cycle percent (walking with a band only, else NaN); beyond_normal: above mean + k SD
    (None without a band).
    """

    side: str
    window_kind: str
    window_index: int
    start_frame: int
    end_frame: int
    plate: int = 0
    contact_clean: bool = False
    reason: str = ""
    peak_abduction_moment: float = math.nan
    peak_abduction_frame: Optional[int] = None
    peak_abduction_time_s: float = math.nan
    peak_adduction_moment: float = math.nan
    peak_adduction_frame: Optional[int] = None
    peak_adduction_time_s: float = math.nan
    phase_peak_frame: Optional[int] = None
    phase_onset_frame: Optional[int] = None
    phase_offset_frame: Optional[int] = None
    abduction_offset_ms: float = math.nan
    abduction_in_phase: Optional[bool] = None
    phase_peak_abduction_moment: float = math.nan
    peaks: Mapping[str, float] = field(default_factory=dict)
    peak_frames: Mapping[str, int] = field(default_factory=dict)
    normal_abduction_mean: float = math.nan
    normal_abduction_sd: float = math.nan
    beyond_normal: Optional[bool] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "peaks", MappingProxyType(dict(self.peaks)))
        object.__setattr__(self, "peak_frames", MappingProxyType(dict(self.peak_frames)))

    @property
    def computed(self) -> bool:
        return bool(np.isfinite(self.peak_abduction_moment))


@dataclass(frozen=True)
class TrialKinetics:
    """Knee-kinetics analysis of one trial (``TrialAnalysis.kinetics``).

    available: the trial has joint kinetics; reason: why not (names the missing body mass,
    the missing plates ...), ``""`` when available. body_mass_kg; windows: one
    :class:`WindowKinetics` per task window of each side (trial order); contacts: every
    plate contact with its quality; curves: side -> key (:data:`KINETIC_CURVE_KEYS`) ->
    ``(n, 101)`` curves in display units over each gait cycle (walking, ``curve_basis`` =
    ``"gait cycle"``) or each window (other tasks, ``"window"``), NaN outside clean
    contacts; bands: key -> ``(mean (101,), sd (101,))`` normal band in display units
    (walking only, where the normative set has one); band_source: its citation;
    indicators: side -> sentences (worded as indicators); notes.
    """

    available: bool
    reason: str = ""
    body_mass_kg: float = math.nan
    windows: tuple[WindowKinetics, ...] = ()
    contacts: tuple[ContactQuality, ...] = ()
    curves: Mapping[str, Mapping[str, np.ndarray]] = field(default_factory=dict)
    curve_basis: str = ""
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    band_source: str = ""
    indicators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "contacts", tuple(self.contacts))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "curves", MappingProxyType(
            {s: MappingProxyType({k: _ro(v) for k, v in d.items()}) for s, d in self.curves.items()}))
        object.__setattr__(self, "bands", MappingProxyType(
            {k: (_ro(m), _ro(s)) for k, (m, s) in self.bands.items()}))
        object.__setattr__(self, "indicators", MappingProxyType(
            {s: tuple(v) for s, v in self.indicators.items()}))

    def windows_of(self, side: str) -> tuple[WindowKinetics, ...]:
        return tuple(w for w in self.windows if w.side == side)

    def peak_abduction(self, side: str) -> np.ndarray:
        """``(n_windows,)`` peak external abduction moment per window of a side (N.m/kg, NaN = none)."""
        return np.array([w.peak_abduction_moment for w in self.windows_of(side)], dtype=float)
