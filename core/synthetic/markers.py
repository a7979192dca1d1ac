"""Plug-in Gait lower-body markers placed on the segment poses of the synthetic walker.

Placement (cgm1_spec sections 1, 5-10; mm; ``s = +1`` left, ``-1`` right; x, y, z the axes of
the segment named):

* ``LASI/RASI = O +- IAD/2 y_pel`` (O = pelvis origin, the ASIS midpoint);
  ``LPSI/RPSI = O - psis_depth x_pel +- psis_width/2 y_pel``, so the PSIS midpoint lies
  exactly on the pelvis -x axis and the pelvis frame rebuilt from the markers is ``R_pel``.
* ``KNE = KJC + s (KneeWidth/2 + r) y_thigh``: on the knee flexion axis, lateral.
* ``THI = KJC + s (KneeWidth/2 + r + wand) y_thigh + wand_height * thigh z_thigh``: in the
  plane spanned by the thigh z axis and the KJC-KNE line, lateral of and above KNE (not on
  the line), so that the chord function (spec 7.1) returns KJC exactly.
* ``ANK = AJC + s (AnkleWidth/2 + r) y_tib``; ``TIB`` like THI in the tibia's y-z plane.
* ``TOE = AJC - foot_mm z_foot_u`` (the uncorrected foot's z is AJC - TOE).
* ``HEE = TOE + heel_mm z_foot``: on the offset-corrected foot's long axis, so the static
  calibration (spec 3.3) recovers StaticPlantFlex and StaticRotOff exactly.
"""
from __future__ import annotations

import numpy as np

from core.synthetic.skeleton import SIGN, Pose
from core.synthetic.subject import Anthropometry

#: marker order written to the C3D files
MARKERS = ("LASI", "RASI", "LPSI", "RPSI", "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
           "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE")


def place_markers(pose: Pose, body: Anthropometry) -> dict[str, np.ndarray]:
    """Marker trajectories ``label -> (F, 3)`` mm of a pose, in :data:`MARKERS` order."""
    o, pel = pose.origin, pose.pelvis
    x, y = pel[:, :, 0], pel[:, :, 1]
    half = body.inter_asis_mm / 2.0
    rear = o - body.psis_depth_mm * x
    out = {"LASI": o + half * y, "RASI": o - half * y,
           "LPSI": rear + body.psis_width_mm / 2.0 * y, "RPSI": rear - body.psis_width_mm / 2.0 * y}
    for side in ("Left", "Right"):
        p, s, leg = side[0], SIGN[side], pose.legs[side]
        dk, da = body.knee_offset_mm(side), body.ankle_offset_mm(side)
        yt, zt = leg.thigh[:, :, 1], leg.thigh[:, :, 2]
        ys, zs = leg.tibia[:, :, 1], leg.tibia[:, :, 2]
        out[f"{p}KNE"] = leg.kjc + s * dk * yt
        out[f"{p}THI"] = (leg.kjc + s * (dk + body.wand_mm) * yt
                          + body.wand_height * body.thigh_mm * zt)
        out[f"{p}ANK"] = leg.ajc + s * da * ys
        out[f"{p}TIB"] = (leg.ajc + s * (da + body.wand_mm) * ys
                          + body.wand_height * body.shank_mm * zs)
        out[f"{p}TOE"] = leg.toe
        out[f"{p}HEE"] = leg.toe + body.heel_mm * leg.foot[:, :, 2]
    return {k: out[k] for k in MARKERS}


def marker_array(markers: dict[str, np.ndarray]) -> np.ndarray:
    """``(F, M, 3)`` array in :data:`MARKERS` order."""
    return np.stack([markers[k] for k in MARKERS], axis=1)
