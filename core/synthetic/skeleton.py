"""Forward kinematic chain of the synthetic walker: prescribed angles -> segment poses.

Every segment frame follows the CGM1 axis convention (cgm1_spec section 0: x anterior, y to
the subject's left on both legs, z proximal; the foot's z runs from the toe back to the
ankle). The joint rotations are built as the *inverse* of the Vicon output mapping of
cgm1_spec section 11, so that a correct CGM1 implementation decomposes them back into the
prescribed numbers:

* pelvis  ``R_pel = R_prog Ry(tilt) Rx(obl_L) Rz(-rot_L)``                (LPelvisAngles)
* thigh   ``R_thigh = R_pel Ry(-flex) Rx(-s add) Rz(-s int)``             (HipAngles)
* tibia   ``R_tib = R_thigh Ry(flex) Rx(-s var) Rz(-s int)``              (KneeAngles; no torsion)
* foot    ``R_foot = R_tib Ry(-(dors+90)) Rx(-s rot) Rz(-s inv)``         (AnkleAngles)

with ``s = +1`` left, ``-1`` right. Hip centres come from the Davis (1991) regression in the
pelvis frame, the knee centre lies ``thigh_mm`` below the hip centre on the thigh z axis, the
ankle centre ``shank_mm`` below the knee centre on the tibia z axis (Davis et al. 1991;
Kadaba et al. 1990).

The foot of CGM1 has only two degrees of freedom relative to the tibia: its "uncorrected"
frame ``R_fu`` has the AJC-TOE line as z and the tibia's y axis made orthogonal, hence
``R_tib^T R_fu = Ry(alpha) Rx(beta)``, and the output foot is ``R_foot = R_fu Ry(-PF) Rx(rho)``
with the static offsets (spec 10.2, ``rho = -s StaticRotOff``). The generator therefore
prescribes ankle dorsiflexion and rotation (inversion follows) or, for a foot planted on
the floor, the lab direction of the AJC-TOE line.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np

from core.synthetic.rotations import relative, rx, ry, yxz_angles, yxz_matrix
from core.synthetic.subject import Anthropometry

SIGN = {"Left": 1.0, "Right": -1.0}


@dataclass(frozen=True)
class LegAngles:
    """Prescribed angles of one leg, ``(F,)`` degrees, Vicon meaning of that side.

    hip_*: HipAngles x/y/z (flexion, adduction, internal rotation); knee_*: KneeAngles
    (flexion, varus, internal rotation). Foot: either ``ankle_dors``/``ankle_rot``
    (AnkleAngles x and z) or ``foot_axis`` ``(F, 3)`` / ``(3,)``: the lab direction of
    AJC - TOE (a planted foot); with both, rows of ``foot_axis`` that are NaN use the targets.
    """

    hip_flex: np.ndarray
    hip_add: np.ndarray
    hip_rot: np.ndarray
    knee_flex: np.ndarray
    knee_var: np.ndarray
    knee_rot: np.ndarray
    ankle_dors: Optional[np.ndarray] = None
    ankle_rot: Optional[np.ndarray] = None
    foot_axis: Optional[np.ndarray] = None


@dataclass(frozen=True)
class LegPose:
    """Poses of one leg: joint centres ``(F, 3)`` mm and frames ``(F, 3, 3)``."""

    hjc: np.ndarray
    kjc: np.ndarray
    ajc: np.ndarray
    toe: np.ndarray
    thigh: np.ndarray
    tibia: np.ndarray
    foot_u: np.ndarray
    foot: np.ndarray


@dataclass(frozen=True)
class Pose:
    """Whole-body pose per frame: progression ``(3, 3)``, pelvis origin (ASIS midpoint)
    ``(F, 3)`` and frame ``(F, 3, 3)``, legs by side."""

    progression: np.ndarray
    origin: np.ndarray
    pelvis: np.ndarray
    legs: Mapping[str, LegPose]

    def translated(self, shift: np.ndarray) -> "Pose":
        """The same pose moved by ``shift`` ``(F, 3)`` or ``(3,)`` mm."""
        legs = {s: LegPose(l.hjc + shift, l.kjc + shift, l.ajc + shift, l.toe + shift,
                           l.thigh, l.tibia, l.foot_u, l.foot) for s, l in self.legs.items()}
        return Pose(self.progression, self.origin + shift, self.pelvis, legs)


def foot_offset_matrix(body: Anthropometry, side: str) -> np.ndarray:
    """``(3, 3)`` ``Ry(-PF) Rx(rho)`` of cgm1_spec 10.2 with ``rho = -s StaticRotOff``."""
    sp = body.side(side)
    return ry(-sp.static_plant_flex_deg) @ rx(-SIGN[side] * sp.static_rot_off_deg)


def _foot_from_targets(tibia: np.ndarray, offs: np.ndarray, a_t: np.ndarray,
                       b_t: np.ndarray) -> np.ndarray:
    """Solve ``YXZ(Ry(alpha) Rx(beta) offs)[:2] == (a_t, b_t)``; returns ``R_fu`` ``(F,3,3)``."""
    alpha = a_t + 0.0
    beta = b_t + 0.0
    for _ in range(60):
        got = yxz_angles(ry(alpha) @ rx(beta) @ offs)
        da, db = a_t - got[:, 0], b_t - got[:, 1]
        alpha, beta = alpha + da, beta + db
        if max(np.abs(da).max(), np.abs(db).max()) < 1e-13:
            break
    return tibia @ ry(alpha) @ rx(beta)


def _foot_from_axis(tibia: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``R_fu`` whose z axis is the lab direction ``axis`` (AJC - TOE), y from the tibia."""
    w = np.einsum("fji,fj->fi", tibia, np.broadcast_to(axis, (tibia.shape[0], 3)))
    w = w / np.linalg.norm(w, axis=1, keepdims=True)
    beta = -np.degrees(np.arcsin(np.clip(w[:, 1], -1, 1)))
    alpha = np.degrees(np.arctan2(w[:, 0], w[:, 2]))
    return tibia @ ry(alpha) @ rx(beta)


def _foot(tibia: np.ndarray, offs: np.ndarray, s: float, ang: LegAngles) -> np.ndarray:
    """``R_fu`` from the foot axis where given (finite rows), else from the ankle targets."""
    if ang.foot_axis is None:
        return _foot_from_targets(tibia, offs, -(ang.ankle_dors + 90.0), -s * ang.ankle_rot)
    axis = np.broadcast_to(np.asarray(ang.foot_axis, float), (tibia.shape[0], 3))
    given = np.isfinite(axis[:, 0])
    from_axis = _foot_from_axis(tibia, np.where(given[:, None], axis, [1.0, 0.0, 0.0]))
    if ang.ankle_dors is None or given.all():
        return from_axis
    from_targets = _foot_from_targets(tibia, offs, -(ang.ankle_dors + 90.0), -s * ang.ankle_rot)
    return np.where(given[:, None, None], from_axis, from_targets)


def leg_pose(body: Anthropometry, side: str, origin: np.ndarray, pelvis: np.ndarray,
             ang: LegAngles) -> LegPose:
    """Forward chain of one leg from the pelvis pose and the prescribed angles."""
    s = SIGN[side]
    hjc = origin + pelvis @ np.asarray(body.hjc_local(side))
    thigh = pelvis @ yxz_matrix(-ang.hip_flex, -s * ang.hip_add, -s * ang.hip_rot)
    kjc = hjc - body.thigh_mm * thigh[:, :, 2]
    tibia = thigh @ yxz_matrix(ang.knee_flex, -s * ang.knee_var, -s * ang.knee_rot)
    ajc = kjc - body.shank_mm * tibia[:, :, 2]
    offs = foot_offset_matrix(body, side)
    foot_u = _foot(tibia, offs, s, ang)
    foot = foot_u @ offs
    toe = ajc - body.foot_mm * foot_u[:, :, 2]
    return LegPose(hjc, kjc, ajc, toe, thigh, tibia, foot_u, foot)


def pelvis_matrix(progression: np.ndarray, tilt: np.ndarray, obliquity_left: np.ndarray,
                  rotation_left: np.ndarray) -> np.ndarray:
    """``(F, 3, 3)`` pelvis frame from LPelvisAngles (tilt, obliquity, rotation), degrees."""
    return progression @ yxz_matrix(tilt, obliquity_left, -rotation_left)


def build_pose(body: Anthropometry, progression: np.ndarray, origin: np.ndarray,
               pelvis_angles: np.ndarray, legs: Mapping[str, LegAngles]) -> Pose:
    """Pose from the pelvis origin ``(F, 3)``, LPelvisAngles ``(F, 3)`` and both legs."""
    pel = pelvis_matrix(progression, pelvis_angles[:, 0], pelvis_angles[:, 1], pelvis_angles[:, 2])
    poses = {side: leg_pose(body, side, origin, pel, legs[side]) for side in ("Left", "Right")}
    return Pose(np.asarray(progression, float), np.asarray(origin, float), pel, poses)


def _mapped(abc: np.ndarray, order: tuple[int, int, int], signs: tuple[float, float, float],
            add: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    return np.stack([signs[i] * (abc[:, order[i]] + add[i]) for i in range(3)], axis=1)


def vicon_angles(pose: Pose) -> dict[str, np.ndarray]:
    """The ten Plug-in Gait angle channels ``(F, 3)`` deg of a pose (cgm1_spec section 11)."""
    out: dict[str, np.ndarray] = {}
    prog = np.broadcast_to(pose.progression, pose.pelvis.shape)
    pel = yxz_angles(relative(prog, pose.pelvis))
    for side in ("Left", "Right"):
        p, leg = side[0], pose.legs[side]
        s = SIGN[side]
        hip = yxz_angles(relative(pose.pelvis, leg.thigh))
        knee = yxz_angles(relative(leg.thigh, leg.tibia))
        ank = yxz_angles(relative(leg.tibia, leg.foot))
        fp = yxz_angles(relative(prog, leg.foot))
        out[f"{p}PelvisAngles"] = _mapped(pel, (0, 1, 2), (1, s, -s))
        out[f"{p}HipAngles"] = _mapped(hip, (0, 1, 2), (-1, -s, -s))
        out[f"{p}KneeAngles"] = _mapped(knee, (0, 1, 2), (1, -s, -s))
        out[f"{p}AnkleAngles"] = _mapped(ank, (0, 2, 1), (-1, -s, -s), (90.0, 0.0, 0.0))
        out[f"{p}FootProgressAngles"] = _mapped(fp, (0, 2, 1), (1, s, -s))
    order = [f"{p}{c}" for c in ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles",
                                 "FootProgressAngles") for p in "LR"]
    return {k: out[k] for k in order}


def joint_centres(pose: Pose) -> dict[str, np.ndarray]:
    """``LHJC RHJC LKJC RKJC LAJC RAJC`` ``(F, 3)`` mm."""
    out = {}
    for j in ("hjc", "kjc", "ajc"):
        for side in ("Left", "Right"):
            out[f"{side[0]}{j.upper()}"] = getattr(pose.legs[side], j)
    return out
