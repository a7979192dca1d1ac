"""The CGM1 (Plug-in Gait lower body) kinematic chain, step by step (cgm1_spec 4-11).

Pure vectorised functions on ``(F, 3)`` marker arrays (mm, NaN = missing) returning joint
centres ``(F, 3)`` mm, segment frames ``(F, 3, 3)`` (axes as columns) and angles ``(F, 3)``
degrees. Every segment has x anterior, y to the subject's **left**, z proximal (cgm1_spec 0).

References
----------
Davis RB et al. (1991) Hum Mov Sci 10:575-587 (marker set, hip-centre regression).
Kadaba MP et al. (1990) J Orthop Res 8:383-392 (wand/chord joint centres, Helen Hayes model).
Vicon Motion Systems, Plug-in Gait reference guide (angle definitions and output signs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.kinematics.cgm1_params import CGM1Parameters, SideParameters
from core.kinematics.geometry import (chord_offset, frame_from_yz, frame_from_zy, norm,
                                      rot_x, rot_y, rot_z, unit, yxz_relative)

__all__ = ["progression_frame", "pelvis_frame", "rear_pelvis_point", "hip_joint_centres",
           "hjc_local", "LegChain", "leg_chain", "ankle_abadd", "heel_foot_frame", "output_angles",
           "PIG_HJC_THETA_RAD", "PIG_HJC_BETA_RAD", "PROGRESSION_MIN_DISPLACEMENT_MM"]

#: Plug-in Gait's Davis hip-centre angles (spec 6). The PiG VSK shows 0.500000178813934 and
#: 0.314000427722931; the round values fit Vicon's stored hip centres slightly better (HJC RMS
#: 1.46e-4 vs 1.56e-4 mm over the nine validation cases, docs/cgm1.md) and give spec 14.2.
PIG_HJC_THETA_RAD = 0.5
PIG_HJC_BETA_RAD = 0.314
#: LASI displacement above which the trial's progression is its walking direction (spec 4).
PROGRESSION_MIN_DISPLACEMENT_MM = 800.0


def rear_pelvis_point(sacr: np.ndarray | None, lpsi: np.ndarray | None,
                      rpsi: np.ndarray | None) -> np.ndarray:
    """Rear pelvis point per frame: SACR where valid, else the PSIS midpoint (spec 1).

    Parameters
    ----------
    sacr, lpsi, rpsi: ``(F, 3)`` mm or None when the trial lacks that marker (SACR, or both
        PSIS, must be given).
    """
    mid = None if lpsi is None or rpsi is None else (lpsi + rpsi) / 2.0
    if sacr is None:
        return mid
    if mid is None:
        return sacr
    return np.where(np.isfinite(sacr).all(axis=1)[:, None], sacr, mid)


def progression_frame(lasi: np.ndarray, rasi: np.ndarray, rear: np.ndarray) -> np.ndarray:
    """Progression frame of a trial, snapped to lab +-X or +-Y (cgm1_spec 4).

    The LASI displacement between its first and last valid frames when it exceeds 800 mm
    (3-D), otherwise the mean pelvis direction ``unit(ASIS midpoint - rear)`` over the frames
    from 45 % to 55 % of the trial where all pelvis markers are valid (a one-frame trial uses
    its frame; with no valid frame in that window, all valid frames are used).

    Returns
    -------
    ``(3, 3)`` rotation with columns x_p (+-X or +-Y), y_p = z_p x x_p, z_p = +Z.
    """
    valid = np.flatnonzero(np.isfinite(lasi).all(axis=1))
    v = None
    if valid.size:
        d = lasi[valid[-1]] - lasi[valid[0]]
        if norm(d) > PROGRESSION_MIN_DISPLACEMENT_MM:
            v = d
    if v is None:
        dirs = unit((lasi + rasi) / 2.0 - rear)
        f = len(lasi)
        lo = int(np.floor(0.45 * f))
        hi = max(lo + 1, int(np.ceil(0.55 * f)))
        window = dirs[lo:hi]
        ok = np.isfinite(window).all(axis=1)
        if not ok.any():
            window = dirs
            ok = np.isfinite(window).all(axis=1)
        v = window[ok].mean(axis=0) if ok.any() else np.array([1.0, 0.0, 0.0])
    x = np.zeros(3)
    i = 0 if abs(v[0]) >= abs(v[1]) else 1
    x[i] = 1.0 if v[i] >= 0 else -1.0
    z = np.array([0.0, 0.0, 1.0])
    return np.stack((x, np.cross(z, x), z), axis=-1)


def pelvis_frame(lasi: np.ndarray, rasi: np.ndarray, rear: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pelvis origin (ASIS midpoint, ``(F, 3)``) and frame ``(F, 3, 3)`` (cgm1_spec 5)."""
    origin = (lasi + rasi) / 2.0
    return origin, frame_from_yz(lasi - rasi, origin - rear)


def hjc_local(params: CGM1Parameters, side: str) -> np.ndarray:
    """Hip joint centre in the pelvis frame, ``(3,)`` mm (Davis 1991 with PiG constants, spec 6)."""
    sp = params.side(side)
    r = params.marker_radius_mm
    c = 0.115 * params.mean_leg_length_mm - 15.3
    th, be = PIG_HJC_THETA_RAD, PIG_HJC_BETA_RAD
    at = sp.asis_trochanter_mm + r
    x = c * np.cos(th) * np.sin(be) - at * np.cos(be)
    y = sp.sign * (params.inter_asis_mm / 2.0 - c * np.sin(th))
    z = -c * np.cos(th) * np.cos(be) - at * np.sin(be)
    return np.array([x, y, z])


def hip_joint_centres(origin: np.ndarray, r_pel: np.ndarray,
                      params: CGM1Parameters) -> dict[str, np.ndarray]:
    """Left and right hip joint centres ``(F, 3)`` mm in the lab (cgm1_spec 6)."""
    return {side: origin + r_pel @ hjc_local(params, side) for side in ("Left", "Right")}


@dataclass(frozen=True)
class LegChain:
    """Joint centres (mm) and segment frames of one leg; all arrays over frames."""

    kjc: np.ndarray
    ajc: np.ndarray
    thigh: np.ndarray
    tibia: np.ndarray
    tibia_untorsioned: np.ndarray
    foot_uncorrected: np.ndarray
    foot: np.ndarray


def leg_chain(sp: SideParameters, marker_radius_mm: float, hjc: np.ndarray, thi: np.ndarray,
              kne: np.ndarray, tib: np.ndarray, ank: np.ndarray, toe: np.ndarray) -> LegChain:
    """Knee and ankle centres, thigh, tibia and feet of one leg (cgm1_spec 7-10).

    Parameters
    ----------
    sp: the leg's parameters (widths mm, rotation offsets and foot offsets in degrees).
    marker_radius_mm: MarkerDiameter / 2.
    hjc: ``(F, 3)`` hip joint centre; thi, kne, tib, ank, toe: ``(F, 3)`` markers (mm).
    """
    s = sp.sign
    kjc = chord_offset(thi, hjc, kne, sp.knee_width_mm / 2.0 + marker_radius_mm,
                       -s * sp.thigh_rotation_deg)
    thigh = frame_from_zy(hjc - kjc, s * (kne - kjc))
    ajc = chord_offset(tib, kjc, ank, sp.ankle_width_mm / 2.0 + marker_radius_mm,
                       -s * sp.shank_rotation_deg)
    tibia = frame_from_zy(kjc - ajc, s * (ank - ajc))
    if sp.ankle_abadd_deg != 0.0:
        ajc = ankle_abadd(ajc, ank, tibia[..., 0], sp.ankle_abadd_deg)
        tibia = frame_from_zy(kjc - ajc, s * (ank - ajc))
    tibia_u = tibia @ rot_z(s * sp.tibial_torsion_deg)
    # the foot's y reference is the knee-flexion-axis (untorsioned) tibia y: identical to the
    # spec's torsioned y when TibialTorsion = 0 (all verified cases); with torsion, only this
    # reproduces Vicon's foot (CGM24 sample, docs/cgm1.md "tibial torsion and the foot")
    foot_u = frame_from_zy(ajc - toe, tibia_u[..., 1])
    foot = foot_u @ (rot_y(-sp.static_plant_flex_deg) @ rot_x(-s * sp.static_rot_off_deg))
    return LegChain(kjc, ajc, thigh, tibia, tibia_u, foot_u, foot)


def ankle_abadd(ajc: np.ndarray, ank: np.ndarray, x_tibia: np.ndarray, abadd_deg: float) -> np.ndarray:
    """AJC turned about ANK around the tibia's anterior axis by ``-AnkleAbAdd`` (both sides).

    Vicon's AnkleAbAdd parameter (non-zero after a medial-malleolus static). Not part of
    cgm1_spec: established on the Nexus 2.9 CGM24 sample, where it brings the spec's AJC from
    6.7 / 9.9 mm of Vicon's to 3e-4 mm RMS (docs/cgm1.md). ``(F, 3)`` mm in and out; x_tibia
    ``(F, 3)`` unit vectors (the tibia x before the rotation).
    """
    q = np.radians(-abadd_deg)
    r = ajc - ank
    # Rodrigues rotation of r about the unit axis x_tibia
    rot = (r * np.cos(q) + np.cross(x_tibia, r) * np.sin(q)
           + x_tibia * (np.sum(x_tibia * r, axis=-1, keepdims=True) * (1.0 - np.cos(q))))
    return ank + rot


def heel_foot_frame(sp: SideParameters, toe: np.ndarray, hee: np.ndarray,
                    tibia_u: np.ndarray) -> np.ndarray:
    """Heel-based ("corrected") foot of the static trial, ``(F, 3, 3)`` (cgm1_spec 3.3, 3.4).

    z from TOE to HEE, y the untorsioned tibia's y (knee flexion axis) orthogonalised, as the
    dynamic foot (the spec's torsioned y is the same when TibialTorsion = 0, the only case
    verified in a static). With the flat-foot option the heel is put at toe height plus
    SoleDelta (foot long axis horizontal).
    """
    hee_used = np.array(hee, dtype=float, copy=True)
    if sp.foot_flat:
        hee_used[:, 2] = toe[:, 2] + sp.sole_delta_mm
    return frame_from_zy(hee_used - toe, tibia_u[..., 1])


def _signed(abc: np.ndarray, order: tuple[int, int, int], signs: tuple[float, float, float]) -> np.ndarray:
    return abc[:, list(order)] * np.asarray(signs)


def output_angles(side: str, prog: np.ndarray, pelvis: np.ndarray, thigh: np.ndarray,
                  tibia: np.ndarray, tibia_u: np.ndarray, foot: np.ndarray) -> dict[str, np.ndarray]:
    """The five Vicon angle channels of one side, ``(F, 3)`` degrees (cgm1_spec 11).

    Parameters
    ----------
    side: "Left" or "Right".
    prog: ``(3, 3)`` progression frame; the others ``(F, 3, 3)`` segment frames (tibia is the
        torsioned tibia, tibia_u the untorsioned one used only for the knee).
    """
    p = "L" if side == "Left" else "R"
    s = 1.0 if side == "Left" else -1.0
    pel = yxz_relative(prog, pelvis)
    hip = yxz_relative(pelvis, thigh)
    knee = yxz_relative(thigh, tibia_u)
    ank = yxz_relative(tibia, foot)
    fp = yxz_relative(prog, foot)
    ankle = _signed(ank, (0, 2, 1), (-1.0, -s, -s))
    ankle[:, 0] -= 90.0
    return {
        f"{p}PelvisAngles": _signed(pel, (0, 1, 2), (1.0, s, -s)),
        f"{p}HipAngles": _signed(hip, (0, 1, 2), (-1.0, -s, -s)),
        f"{p}KneeAngles": _signed(knee, (0, 1, 2), (1.0, -s, -s)),
        f"{p}AnkleAngles": ankle,
        f"{p}FootProgressAngles": _signed(fp, (0, 2, 1), (1.0, s, -s)),
    }
