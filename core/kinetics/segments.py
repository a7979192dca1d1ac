"""Segment inertial parameters and segment kinematics of the Plug-in Gait lower limb.

Masses are Dempster's fractions of body mass (Dempster 1955, as tabulated by Winter,
*Biomechanics and Motor Control of Human Movement*, 4th ed. 2009, Table 4.1): foot 0.0145,
leg (tibia) 0.0465, thigh (femur) 0.100. Segment ends as Plug-in Gait takes them: femur
HJC -> KJC, tibia KJC -> AJC, foot AJC -> TOE.

The remaining parameters were measured on Vicon's own outputs (docs/kinetics.md,
"Segment parameters"): a least-squares identification of mass, centre of mass and
inertia from the joint forces and moments Vicon stored in swing gives, on every
reference file,

* femur and tibia centre of mass at 0.433 of the length from the proximal joint
  (Dempster's value);
* foot centre of mass on the long axis of the CGM1 foot (its ``-z``, from the AJC toward
  the toe) at half the foot length from the AJC, the foot length being one constant per
  trial: the mean heel-to-toe distance ``|HEE - TOE|`` over the trial less the marker
  radius (``MarkerDiameter / 2``);
* transverse moments of inertia about the centre of mass ``m (k L)^2`` with ``k`` =
  Dempster's radius of gyration about the *proximal* end (foot 0.690 of the foot length,
  leg 0.528, thigh 0.540), and no inertia about the long (z) axis.

With Dempster's radii about the centre of mass (0.475, 0.302, 0.323) the swing moments
are 2-4 times further from Vicon's (docs/kinetics.md gives the figures).

Derivatives (Plug-in Gait's own scheme, identified on Vicon's outputs, docs/kinetics.md):
segment angular velocity in the segment's axes from the axes two frames ahead and two
frames behind, ``w_x = y[i+2].z[i-2] / (4 dt)``, ``w_y = z[i+2].x[i-2] / (4 dt)``,
``w_z = x[i+2].y[i-2] / (4 dt)`` (the form of the Plug-in Gait BodyBuilder model, as
documented by pyCGM2, Leboeuf et al. 2019, Gait Posture 69:235), turned to the lab by
``R[i]``; angular acceleration its central difference ``(w[i+1] - w[i-1]) / (2 dt)``;
centre-of-mass acceleration the second difference ``(x[i+1] - 2 x[i] + x[i-1]) / dt^2``.
NaN where a sample is missing.
Vicon's markers in the reference files are already filtered; no filter is applied here
(a low-pass filter on the derivatives moves the moments away from Vicon's).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from core.errors import MissingMarkersError
from core.kinematics.cgm1_params import DEFAULT_MARKER_DIAMETER_MM
from core.kinematics.geometry import norm
from core.model import ModelOutputs, Trial

GRAVITY = np.array([0.0, 0.0, -9.81])  # m/s^2, lab Z up


@dataclass(frozen=True)
class SegmentParameters:
    """Inertial parameters of one segment as fractions (see the module docstring).

    mass_fraction: of body mass; com_fraction: from the proximal end along the segment
    (for the foot: of the foot length, along the foot's long axis); radius_fraction:
    transverse radius of gyration about the centre of mass, of the length.
    """

    mass_fraction: float
    com_fraction: float
    radius_fraction: float


PIG_SEGMENTS: Mapping[str, SegmentParameters] = {
    "Foot": SegmentParameters(0.0145, 0.5, 0.690),
    "Tibia": SegmentParameters(0.0465, 0.433, 0.528),
    "Femur": SegmentParameters(0.100, 0.433, 0.540),
}


@dataclass(frozen=True)
class SegmentState:
    """One segment over frames, SI units.

    proximal_m, com_m: ``(F, 3)`` proximal joint centre and centre of mass (m, lab);
    rotation: ``(F, 3, 3)`` segment axes (columns) in the lab; mass_kg: scalar;
    inertia_com: ``(F, 3, 3)`` inertia tensor about the CoM in the lab frame (kg m^2);
    com_acc: ``(F, 3)`` m/s^2; omega, alpha: ``(F, 3)`` rad/s, rad/s^2 (lab).
    """

    name: str
    proximal_m: np.ndarray
    com_m: np.ndarray
    rotation: np.ndarray
    mass_kg: float
    inertia_com: np.ndarray
    com_acc: np.ndarray
    omega: np.ndarray
    alpha: np.ndarray


def component_major(a: np.ndarray) -> np.ndarray:
    """``(F, ...)`` -> the same values as an ``(F, ...)`` view of ``(..., F)`` contiguous
    memory, so that every component over frames (``a[:, i, j]``) is a contiguous vector.
    The arithmetic over frames below works on such components."""
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)


def central_difference(x: np.ndarray, dt: float) -> np.ndarray:
    """``(F, ...)`` -> ``(F, ...)`` derivative ``(x[i+1] - x[i-1]) / 2 dt``; NaN at the ends
    (same memory layout as ``x``)."""
    out = np.full_like(x, np.nan, dtype=float)
    if x.shape[0] >= 3:
        out[1:-1] = (x[2:] - x[:-2]) / (2.0 * dt)
    return out


def second_difference(x: np.ndarray, dt: float) -> np.ndarray:
    """``(F, ...)`` -> ``(F, ...)`` ``(x[i+1] - 2 x[i] + x[i-1]) / dt^2``; NaN at the ends
    (same memory layout as ``x``)."""
    out = np.full_like(x, np.nan, dtype=float)
    if x.shape[0] >= 3:
        out[1:-1] = (x[2:] - 2.0 * x[1:-1] + x[:-2]) / dt ** 2
    return out


def angular_velocity(rotation: np.ndarray, dt: float) -> np.ndarray:
    """``(F, 3, 3)`` rotations (axes as columns) -> ``(F, 3)`` angular velocity (rad/s, lab).

    Plug-in Gait's scheme (module docstring): in the segment's axes
    ``w = (y[i+2].z[i-2], z[i+2].x[i-2], x[i+2].y[i-2]) / (4 dt)``, then ``R[i] w``; NaN for
    the two frames at each end. For a rotation about one axis at rate ``w`` this is
    ``sin(4 w dt) / (4 dt)``; it differs from ``vee(dR/dt R^T)`` by terms in products of the
    components, which Vicon's ankle power shows (docs/kinetics.md).
    """
    r = component_major(rotation)                            # r[:, a, c]: component a of axis c
    n = r.shape[0]
    out = np.full((3, n), np.nan)                            # component-major, returned as (F, 3)
    if n < 5:
        return out.T
    ahead, behind, now = r[4:], r[:-4], r[2:-2]

    def dot(c_ahead: int, c_behind: int) -> np.ndarray:
        return (ahead[:, 0, c_ahead] * behind[:, 0, c_behind] + ahead[:, 1, c_ahead] * behind[:, 1, c_behind]
                + ahead[:, 2, c_ahead] * behind[:, 2, c_behind]) / (4.0 * dt)
    local = (dot(1, 2), dot(2, 0), dot(0, 1))
    for a in range(3):
        out[a, 2:-2] = now[:, a, 0] * local[0] + now[:, a, 1] * local[1] + now[:, a, 2] * local[2]
    return out.T


def _state(name: str, prox_mm: np.ndarray, com_mm: np.ndarray, length_mm,
           rotation: np.ndarray, par: SegmentParameters, body_mass_kg: float, dt: float) -> SegmentState:
    """One segment's state; ``length_mm`` (scales the inertia) per frame ``(F,)`` or one
    value for the trial (the foot)."""
    mass = par.mass_fraction * body_mass_kg
    i_t = mass * (par.radius_fraction * length_mm / 1000.0) ** 2
    rotation = component_major(rotation)
    z = np.moveaxis(rotation[:, :, 2], 0, -1)              # (3, F) the segment's long axis
    # R diag(i, i, 0) R^T = i (E - z z^T)
    inertia = -i_t * z[:, None, :] * z[None, :, :]          # (3, 3, F)
    for k in range(3):
        inertia[k, k] += i_t
    com = component_major(com_mm / 1000.0)
    omega = angular_velocity(rotation, dt)
    return SegmentState(name, component_major(prox_mm / 1000.0), com, rotation, mass, np.moveaxis(inertia, -1, 0),
                        second_difference(com, dt), omega, central_difference(omega, dt))


def pelvis_angular_velocity(outputs: ModelOutputs) -> np.ndarray:
    """``(F, 3)`` angular velocity (rad/s, lab) of the CGM1 pelvis (:func:`angular_velocity`)."""
    return angular_velocity(np.asarray(outputs.segments["Pelvis"])[:, :3, :3], 1.0 / outputs.rate_hz)


def foot_length_mm(hee: np.ndarray, toe: np.ndarray, marker_diameter_mm: float) -> float:
    """Plug-in Gait's foot length (mm), one value per trial: the mean over frames of
    ``|HEE - TOE|`` (``(F, 3)`` mm each, NaN where missing) less the marker radius; NaN when
    no frame has both markers. Identified on Vicon's ankle forces (docs/kinetics.md)."""
    d = norm(hee - toe)
    d = d[np.isfinite(d)]
    return float(d.mean()) - 0.5 * marker_diameter_mm if d.size else float("nan")


def limb_segments(trial: Trial, outputs: ModelOutputs, side: str, body_mass_kg: float,
                  table: Mapping[str, SegmentParameters] = PIG_SEGMENTS,
                  pelvis_omega: Optional[np.ndarray] = None,
                  marker_diameter_mm: float = DEFAULT_MARKER_DIAMETER_MM) -> dict[str, SegmentState]:
    """Foot, tibia and femur of one side (``"L"`` or ``"R"``) with their kinematics.

    Parameters
    ----------
    trial: the dynamic trial (TOE and HEE markers of the side).
    outputs: its CGM1 reconstruction (joint centres and segment poses, mm).
    side: ``"L"`` or ``"R"``.
    body_mass_kg: subject body mass.
    pelvis_omega: the pelvis angular velocity when already computed (it is the same for
        both sides; :func:`pelvis_angular_velocity`).
    marker_diameter_mm: the subject's ``MarkerDiameter`` (the foot length is the mean
        heel-to-toe marker distance less the marker radius).

    Returns
    -------
    ``{"Foot": ..., "Tibia": ..., "Femur": ...}`` SegmentState, plus ``"Pelvis"`` with its
    rotation and angular velocity only (mass 0; the hip power needs it).

    Raises
    ------
    MissingMarkersError: the side's TOE or HEE marker is not in the trial.
    """
    dt = 1.0 / outputs.rate_hz
    mk = trial.markers([f"{side}TOE", f"{side}HEE"])
    toe, hee = np.ascontiguousarray(mk[f"{side}TOE"]), np.ascontiguousarray(mk[f"{side}HEE"])
    hjc, kjc, ajc = (np.asarray(outputs.channels[f"{side}{j}JC"]) for j in "HKA")
    if not all(f"{side}{s}" in outputs.segments for s in ("Foot", "Tibia", "Femur")):
        raise MissingMarkersError([f"{side}Foot/{side}Tibia/{side}Femur segments"], trial.path)
    rot = {s: np.asarray(outputs.segments[f"{side}{s}"])[:, :3, :3] for s in ("Foot", "Tibia", "Femur")}
    foot_len = foot_length_mm(hee, toe, marker_diameter_mm)  # one value per trial
    foot_axis = rot["Foot"][:, :, 2]                         # the CGM1 foot's z: toe -> heel
    foot_com = ajc - table["Foot"].com_fraction * foot_len * foot_axis
    tib, fem = table["Tibia"], table["Femur"]
    segs = {
        "Foot": _state("Foot", ajc, foot_com, foot_len, rot["Foot"], table["Foot"], body_mass_kg, dt),
        "Tibia": _state("Tibia", kjc, kjc + tib.com_fraction * (ajc - kjc), norm(ajc - kjc),
                        rot["Tibia"], tib, body_mass_kg, dt),
        "Femur": _state("Femur", hjc, hjc + fem.com_fraction * (kjc - hjc), norm(kjc - hjc),
                        rot["Femur"], fem, body_mass_kg, dt),
    }
    pel = np.asarray(outputs.segments["Pelvis"])[:, :3, :3]
    zero = np.zeros((pel.shape[0], 3))
    segs["Pelvis"] = SegmentState("Pelvis", hjc / 1000.0, hjc / 1000.0, pel, 0.0, np.zeros(pel.shape), zero,
                                  pelvis_angular_velocity(outputs) if pelvis_omega is None else pelvis_omega,
                                  zero)
    return segs
