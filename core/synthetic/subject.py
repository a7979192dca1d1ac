"""The fictional patient of the sample sessions and the body geometry of the synthetic walker.

Measured inputs (the ones a gait lab enters: leg lengths, knee and ankle widths, marker
diameter, inter-ASIS distance) and the hidden anatomy the forward model needs (segment
lengths, wand and foot geometry, static foot offsets). Lengths in mm, angles in degrees.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: Plug-in Gait constants of the Davis (1991) hip-centre regression (cgm1_spec section 6).
HJC_THETA_RAD = 0.5
HJC_BETA_RAD = 0.314


@dataclass(frozen=True)
class Patient:
    """Who the sample sessions belong to (fictional)."""

    name: str = "Alex Example"
    patient_id: str = "GL-0001"
    sex: str = "female"
    birth_date: str = "1994-03-15"
    height_mm: float = 1680.0
    mass_kg: float = 63.0


@dataclass(frozen=True)
class Side:
    """Per-side measured and hidden geometry.

    leg_length_mm, knee_width_mm, ankle_width_mm: measured (VSK names Left/RightLegLength...).
    static_plant_flex_deg, static_rot_off_deg: the foot offsets the static calibration must
    recover (VSK Left/RightStaticPlantFlex, Left/RightStaticRotOff, here in degrees).
    """

    leg_length_mm: float
    knee_width_mm: float
    ankle_width_mm: float
    static_plant_flex_deg: float
    static_rot_off_deg: float


@dataclass(frozen=True)
class Anthropometry:
    """Body geometry of the synthetic walker.

    thigh_mm: HJC to KJC; shank_mm: KJC to AJC; foot_mm: AJC to the TOE marker;
    heel_mm: TOE to HEE marker; toe_height_mm: height of the TOE and HEE markers above the
    floor when the foot is flat; psis_depth_mm / psis_width_mm: PSIS midpoint behind the ASIS
    midpoint and PSIS separation; wand_mm: how far THI/TIB stand lateral of KNE/ANK;
    wand_height: THI/TIB height above KJC/AJC as a fraction of the segment length.
    """

    left: Side = Side(882.0, 98.0, 68.0, 14.0, -2.5)
    right: Side = Side(878.0, 100.0, 69.0, 15.5, 3.0)
    inter_asis_mm: float = 232.0
    marker_diameter_mm: float = 14.0
    thigh_mm: float = 405.0
    shank_mm: float = 398.0
    foot_mm: float = 150.0
    heel_mm: float = 185.0
    toe_height_mm: float = 32.0
    psis_depth_mm: float = 158.0
    psis_width_mm: float = 88.0
    wand_mm: float = 24.0
    wand_height: float = 0.45

    def side(self, side: str) -> Side:
        return self.left if side == "Left" else self.right

    @property
    def marker_radius_mm(self) -> float:
        return self.marker_diameter_mm / 2.0

    @property
    def mean_leg_length_mm(self) -> float:
        return (self.left.leg_length_mm + self.right.leg_length_mm) / 2.0

    def asis_trochanter_mm(self, side: str) -> float:
        """Bell/Davis regression used by Plug-in Gait: ``0.1288 * LegLength - 48.56``."""
        return 0.1288 * self.side(side).leg_length_mm - 48.56

    def hjc_local(self, side: str) -> tuple[float, float, float]:
        """Hip joint centre in the pelvis frame (Davis et al. 1991, Plug-in Gait constants).

        Returns ``(X, Y, Z)`` mm along the pelvis x (anterior), y (left), z (up) axes from
        the ASIS midpoint (cgm1_spec section 6, with the marker radius).
        """
        c = 0.115 * self.mean_leg_length_mm - 15.3
        at = self.asis_trochanter_mm(side) + self.marker_radius_mm
        th, be = HJC_THETA_RAD, HJC_BETA_RAD
        x = c * math.cos(th) * math.sin(be) - at * math.cos(be)
        y = (1.0 if side == "Left" else -1.0) * (self.inter_asis_mm / 2.0 - c * math.sin(th))
        z = -c * math.cos(th) * math.cos(be) - at * math.sin(be)
        return (x, y, z)

    def knee_offset_mm(self, side: str) -> float:
        """KJC to KNE distance: KneeWidth / 2 + marker radius."""
        return self.side(side).knee_width_mm / 2.0 + self.marker_radius_mm

    def ankle_offset_mm(self, side: str) -> float:
        """AJC to ANK distance: AnkleWidth / 2 + marker radius."""
        return self.side(side).ankle_width_mm / 2.0 + self.marker_radius_mm

    def vsk_parameters(self, patient: Patient) -> dict[str, float]:
        """Subject parameters under their Vicon VSK names (angles in **degrees**)."""
        p: dict[str, float] = {"Bodymass": patient.mass_kg, "Height": patient.height_mm,
                               "InterAsisDistance": self.inter_asis_mm,
                               "MarkerDiameter": self.marker_diameter_mm}
        for name, s in (("Left", self.left), ("Right", self.right)):
            p[f"{name}LegLength"] = s.leg_length_mm
            p[f"{name}KneeWidth"] = s.knee_width_mm
            p[f"{name}AnkleWidth"] = s.ankle_width_mm
            p[f"{name}StaticPlantFlex"] = s.static_plant_flex_deg
            p[f"{name}StaticRotOff"] = s.static_rot_off_deg
            p[f"{name}TibialTorsion"] = 0.0
            p[f"{name}ThighRotation"] = 0.0
            p[f"{name}ShankRotation"] = 0.0
        return p


PATIENT = Patient()
BODY = Anthropometry()
