"""A synthetic CGM1 walker built forward from prescribed segment poses (known truth).

The forward geometry is written here independently of the model code: pelvis pose ->
ASIS/PSIS/SACR; Davis hip centre (spec 6 formula re-typed); thigh pose from prescribed hip
angles -> KJC along the thigh, KNE on the flexion axis at KneeWidth/2 + r from KJC, THI in
the plane (HJC, KJC, KNE) (or rotated out of it by a ThighRotation); tibia likewise; the
foot from two prescribed angles relative to the tibia (CGM's uncorrected foot has no free
rotation about its long axis; its y reference is the knee-flexion-axis tibia). Expected
outputs follow Vicon's sign table (spec 11).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.model import Trial
from tests.core.cgm1_support import subject_from


def ry(q):
    q = np.radians(q); c, s = np.cos(q), np.sin(q); o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def rx(q):
    q = np.radians(q); c, s = np.cos(q), np.sin(q); o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rz(q):
    q = np.radians(q); c, s = np.cos(q), np.sin(q); o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def axis_rotation(axis: np.ndarray, deg: float) -> np.ndarray:
    """(F, 3, 3) rotations by ``deg`` about unit axes (F, 3) (Rodrigues)."""
    q = np.radians(deg)
    k = np.zeros(axis.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    k = k - np.swapaxes(k, -1, -2)
    return np.eye(3) + np.sin(q) * k + (1 - np.cos(q)) * (k @ k)


SUBJECT = dict(LeftLegLength=880.0, RightLegLength=870.0, LeftKneeWidth=110.0, RightKneeWidth=106.0,
               LeftAnkleWidth=72.0, RightAnkleWidth=70.0, InterAsisDistance=240.0,
               MarkerDiameter=14.0)
THIGH, SHANK, FOOT = 420.0, 400.0, 160.0


@dataclass(frozen=True)
class Walker:
    trial: Trial
    expected: dict          # channel -> (F, 3) known outputs
    thigh: dict             # side -> (F, 3, 3) true thigh frames
    tibia_u: dict           # side -> (F, 3, 3) true untorsioned tibia frames
    values: dict            # subject values used


def _wave(t, amp, off=0.0, ph=0.0):
    return off + amp * np.sin(2 * np.pi * t + ph)


def _angles(side: str, t: np.ndarray) -> dict:
    ph = 0.0 if side == "Left" else np.pi
    return dict(hip=np.stack([_wave(t, 25, 10, ph), _wave(t, 6, 1, ph + 1), _wave(t, 8, 3, ph + 2)], -1),
                knee=np.stack([_wave(t, 30, 32, ph + 0.5), _wave(t, 3, 1, ph), _wave(t, 6, -2, ph + 1)], -1),
                foot=np.stack([_wave(t, 12, 5, ph + 0.3), _wave(t, 5, 2, ph + 1.3)], -1))


def make_walker(n: int = 240, *, tibial_torsion=(0.0, 0.0), thigh_rotation=(0.0, 0.0),
                shank_rotation=(0.0, 0.0), foot_offsets=((0.0, 0.0), (0.0, 0.0)),
                thigh_error_deg=(0.0, 0.0), rear: str = "SACR", walk_mm: float = 1500.0,
                hinge_knee: bool = False) -> Walker:
    """Build a walker; angles in degrees; ``foot_offsets`` = ((PF, RotOff) left, right).

    ``thigh_error_deg`` rotates KNE and THI about the thigh long axis (a misplaced wand: the
    model's thigh frame is then the true one times Rz(error)); ``hinge_knee`` makes the true
    knee a pure flexion hinge.
    """
    t = np.linspace(0, 2, n)
    vals = dict(SUBJECT)
    r = vals["MarkerDiameter"] / 2
    origin = np.stack([np.linspace(0, walk_mm, n), _wave(t, 15), 950 + _wave(t, 20, ph=1)], -1)
    pel_abc = np.stack([_wave(t, 3, 10), _wave(t, 4, ph=1), _wave(t, 6, ph=2)], -1)
    r_pel = ry(pel_abc[:, 0]) @ rx(pel_abc[:, 1]) @ rz(pel_abc[:, 2])  # progression = +X = lab
    x, y, z = r_pel[..., 0], r_pel[..., 1], r_pel[..., 2]
    iad = vals["InterAsisDistance"]
    m = {"LASI": origin + iad / 2 * y, "RASI": origin - iad / 2 * y}
    back = origin - 160 * x
    if rear in ("SACR", "both"):
        m["SACR"] = back
    if rear in ("PSIS", "both"):
        m["LPSI"], m["RPSI"] = back + 45 * y, back - 45 * y
    expected = {"LPelvisAngles": pel_abc * [1, 1, -1], "RPelvisAngles": pel_abc * [1, -1, 1]}
    mean_leg = (vals["LeftLegLength"] + vals["RightLegLength"]) / 2
    c = 0.115 * mean_leg - 15.3
    thighs, tibias = {}, {}
    for i, side in enumerate(("Left", "Right")):
        p, s = side[0], 1.0 if side == "Left" else -1.0
        at = 0.1288 * vals[f"{side}LegLength"] - 48.56 + r
        loc = np.array([c * np.cos(0.5) * np.sin(0.314) - at * np.cos(0.314), s * (iad / 2 - c * np.sin(0.5)),
                        -c * np.cos(0.5) * np.cos(0.314) - at * np.sin(0.314)])
        hjc = origin + r_pel @ loc
        ang = _angles(side, t)
        if hinge_knee:
            ang["knee"][:, 1:] = 0.0
        hip, knee = ang["hip"], ang["knee"]
        # hip output L (-a,-b,-c), R (-a,b,c); knee L (a,-b,-c), R (a,b,c)
        r_th = r_pel @ (ry(-hip[:, 0]) @ rx(-s * hip[:, 1]) @ rz(-s * hip[:, 2]))
        r_tu = r_th @ (ry(knee[:, 0]) @ rx(-s * knee[:, 1]) @ rz(-s * knee[:, 2]))
        tt = tibial_torsion[i]
        r_tb = r_tu @ rz(np.full(n, -s * tt))
        kjc = hjc - THIGH * r_th[..., 2]
        ajc = kjc - SHANK * r_tb[..., 2]
        dk = vals[f"{side}KneeWidth"] / 2 + r
        da = vals[f"{side}AnkleWidth"] / 2 + r
        # markers on the flexion axes and wands in the planes, then rotated about the long axes
        y_err = r_th[..., 1]
        kne = kjc + s * dk * y_err
        thi = kjc + 0.45 * THIGH * r_th[..., 2] + s * (dk + 45) * y_err
        err = axis_rotation(r_th[..., 2], thigh_error_deg[i])
        kne = kjc + (err @ (kne - kjc)[..., None])[..., 0]
        thi = kjc + (err @ (thi - kjc)[..., None])[..., 0]
        # thigh rotation offset: wand turned about unit(KJC - HJC) by beta_off = -s * rotation
        rot_th = axis_rotation(-r_th[..., 2], -s * thigh_rotation[i])
        thi = kjc + (rot_th @ (thi - kjc)[..., None])[..., 0]
        ank = ajc + s * da * r_tb[..., 1]
        tib = ajc + 0.5 * SHANK * r_tb[..., 2] + s * (da + 40) * r_tb[..., 1]
        rot_sh = axis_rotation(-r_tb[..., 2], -s * shank_rotation[i])
        tib = ajc + (rot_sh @ (tib - ajc)[..., None])[..., 0]
        # foot: uncorrected foot = untorsioned tibia . Ry(alpha) Rx(gamma): its y is the knee
        # flexion axis orthogonalised (no rotation about the foot's long axis)
        alpha, gamma = ang["foot"][:, 0] + 90.0, ang["foot"][:, 1]
        r_fu = r_tu @ (ry(-alpha) @ rx(gamma))
        toe = ajc - FOOT * r_fu[..., 2]
        pf, ro = foot_offsets[i]
        r_ft = r_fu @ (ry(np.full(n, -pf)) @ rx(np.full(n, -s * ro)))
        m.update({f"{p}THI": thi, f"{p}KNE": kne, f"{p}TIB": tib, f"{p}ANK": ank, f"{p}TOE": toe,
                  f"{p}HEE": ajc - 60 * r_fu[..., 0] - 40 * r_fu[..., 2]})
        vals.update({f"{side}TibialTorsion": tt, f"{side}ThighRotation": thigh_rotation[i],
                     f"{side}ShankRotation": shank_rotation[i], f"{side}StaticPlantFlex": pf,
                     f"{side}StaticRotOff": ro})
        expected[f"{p}HipAngles"] = hip
        expected[f"{p}KneeAngles"] = knee
        expected[f"{p}HJC"], expected[f"{p}KJC"], expected[f"{p}AJC"] = hjc, kjc, ajc
        expected[f"{p}AnkleAngles"] = _decompose_out(np.swapaxes(r_tb, -1, -2) @ r_ft, "ankle", s)
        expected[f"{p}FootProgressAngles"] = _decompose_out(r_ft, "progress", s)
        thighs[side], tibias[side] = r_th, r_tu
    labels = tuple(m)
    trial = Trial(name="walker", labels=labels, points=np.stack([m[k] for k in labels], axis=1),
                  point_rate_hz=100.0, first_frame=1)
    return Walker(trial, expected, thighs, tibias, vals)


def _decompose_out(r: np.ndarray, kind: str, s: float) -> np.ndarray:
    """Known relative rotation -> Vicon output (spec 11), decomposition written out here."""
    a = np.degrees(np.arctan2(r[..., 0, 2], r[..., 2, 2]))
    b = np.degrees(np.arcsin(-r[..., 1, 2]))
    c = np.degrees(np.arctan2(r[..., 1, 0], r[..., 1, 1]))
    if kind == "ankle":
        return np.stack([-(a + 90), -s * c, -s * b], -1)
    return np.stack([a, s * c, -s * b], -1)


def walker_subject(w: Walker, **extra):
    return subject_from({**w.values, **extra})
