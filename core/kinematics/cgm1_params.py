"""Typed CGM1 subject parameters, built from :class:`core.model.SubjectParameters`.

The values arrive keyed by their Vicon VSK names (``LeftLegLength`` ...) in mm, degrees and
0/1 flags (see ``core.io.subject``). A value of 0 (or NaN) for a measured quantity means
*absent* (cgm1_spec section 2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from core.errors import SubjectParameterError
from core.model import SIDES, SubjectParameters

__all__ = ["SideParameters", "CGM1Parameters", "asis_trochanter_regression",
           "DEFAULT_MARKER_DIAMETER_MM"]

DEFAULT_MARKER_DIAMETER_MM = 14.0

#: measured lengths required per side (VSK names without the side word)
_REQUIRED_PER_SIDE = ("LegLength", "KneeWidth", "AnkleWidth")


def asis_trochanter_regression(leg_length_mm: float) -> float:
    """ASIS-trochanter distance (mm) from the leg length, as used by Plug-in Gait.

    ``AT = 0.1288 * LegLength - 48.56`` (Bell et al. 1990 / Davis et al. 1991 regression;
    cgm1_spec 3.2).
    """
    return 0.1288 * leg_length_mm - 48.56


def _measured(subject: SubjectParameters, name: str) -> Optional[float]:
    """A measured quantity: None when absent, 0 or NaN (cgm1_spec 2)."""
    v = subject.get(name)
    if v is None:
        return None
    v = float(v)
    if not math.isfinite(v) or v == 0.0:
        return None
    return v


def _optional(subject: SubjectParameters, name: str, default: float = 0.0) -> float:
    v = subject.get(name)
    if v is None or not math.isfinite(float(v)):
        return default
    return float(v)


@dataclass(frozen=True)
class SideParameters:
    """Parameters of one leg. Lengths in mm, angles in degrees.

    ``asis_trochanter_mm`` is the given value, or the regression of the leg length when the
    subject did not give one (``asis_trochanter_given`` says which). ``ankle_abadd_deg`` is
    Vicon's AnkleAbAdd (set by a medial-malleolus static), 0 in plain CGM1 (docs/cgm1.md).
    """

    side: str
    leg_length_mm: float
    knee_width_mm: float
    ankle_width_mm: float
    asis_trochanter_mm: float
    asis_trochanter_given: bool
    tibial_torsion_deg: float = 0.0
    thigh_rotation_deg: float = 0.0
    shank_rotation_deg: float = 0.0
    sole_delta_mm: float = 0.0
    foot_flat: bool = False
    static_plant_flex_deg: float = 0.0
    static_rot_off_deg: float = 0.0
    ankle_abadd_deg: float = 0.0

    @property
    def sign(self) -> float:
        """+1 for the left leg, -1 for the right (cgm1_spec 0)."""
        return 1.0 if self.side == "Left" else -1.0


@dataclass(frozen=True)
class CGM1Parameters:
    """Everything CGM1 needs from the subject.

    Attributes
    ----------
    left, right: per-leg parameters.
    inter_asis_mm: inter-ASIS distance (mm), or None when it is to be computed from a static.
    marker_diameter_mm: marker diameter (mm), default 14.
    """

    left: SideParameters
    right: SideParameters
    inter_asis_mm: Optional[float]
    marker_diameter_mm: float = DEFAULT_MARKER_DIAMETER_MM

    @property
    def marker_radius_mm(self) -> float:
        return self.marker_diameter_mm / 2.0

    @property
    def mean_leg_length_mm(self) -> float:
        return (self.left.leg_length_mm + self.right.leg_length_mm) / 2.0

    def side(self, side: str) -> SideParameters:
        return self.left if side == "Left" else self.right

    @classmethod
    def from_subject(cls, subject: SubjectParameters, require_iad: bool = True) -> "CGM1Parameters":
        """Build and validate from VSK-named subject parameters.

        Parameters
        ----------
        subject: resolved subject parameters (mm, degrees, 0/1 flags).
        require_iad: if True (dynamic reconstruction), a missing InterAsisDistance is an error;
            the static calibration passes False and computes it.

        Raises
        ------
        SubjectParameterError naming every missing or invalid required value.
        """
        missing = [f"{s}{n}" for s in SIDES for n in _REQUIRED_PER_SIDE
                   if _measured(subject, f"{s}{n}") is None]
        iad = _measured(subject, "InterAsisDistance")
        if require_iad and iad is None:
            missing.append("InterAsisDistance")
        if missing:
            raise SubjectParameterError(missing, detail="missing (absent or 0)")
        invalid = [f"{s}{n}" for s in SIDES for n in _REQUIRED_PER_SIDE
                   if _measured(subject, f"{s}{n}") < 0]
        md = _measured(subject, "MarkerDiameter")
        md = DEFAULT_MARKER_DIAMETER_MM if md is None else md
        if md < 0:
            invalid.append("MarkerDiameter")
        if iad is not None and iad < 0:
            invalid.append("InterAsisDistance")
        if invalid:
            raise SubjectParameterError(invalid, detail="must be positive")
        return cls(left=_side(subject, "Left"), right=_side(subject, "Right"),
                   inter_asis_mm=iad, marker_diameter_mm=md)


def _side(subject: SubjectParameters, side: str) -> SideParameters:
    leg = _measured(subject, f"{side}LegLength")
    at = _measured(subject, f"{side}AsisTrocanterDistance")
    return SideParameters(
        side=side,
        leg_length_mm=leg,
        knee_width_mm=_measured(subject, f"{side}KneeWidth"),
        ankle_width_mm=_measured(subject, f"{side}AnkleWidth"),
        asis_trochanter_mm=asis_trochanter_regression(leg) if at is None else at,
        asis_trochanter_given=at is not None,
        tibial_torsion_deg=_optional(subject, f"{side}TibialTorsion"),
        thigh_rotation_deg=_optional(subject, f"{side}ThighRotation"),
        shank_rotation_deg=_optional(subject, f"{side}ShankRotation"),
        sole_delta_mm=_optional(subject, f"{side}SoleDelta"),
        foot_flat=_optional(subject, f"{side}FootFlat") >= 0.5,
        static_plant_flex_deg=_optional(subject, f"{side}StaticPlantFlex"),
        static_rot_off_deg=_optional(subject, f"{side}StaticRotOff"),
        ankle_abadd_deg=_optional(subject, f"{side}AnkleAbAdd"),
    )
