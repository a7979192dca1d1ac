"""Known joint kinetics of a prescribed motion: Newton-Euler inverse dynamics of foot, tibia
and femur (the generator's own code; it never uses the engine's kinetics).

Body segment parameters (:data:`BSP`): Dempster's values as tabulated by Winter (2009,
Biomechanics and Motor Control of Human Movement, 4th ed., table 4.1) and used by Plug-in
Gait: mass fraction of ``Bodymass`` (foot 0.0145, leg 0.0465, thigh 0.100); centre of mass at
0.50 of AJC -> TOE (foot), 0.433 of KJC -> AJC (tibia) and of HJC -> KJC (femur) from the
proximal joint centre; radius of gyration about the centre of mass 0.475 / 0.302 / 0.323 of
the segment length about the two transverse axes and :data:`AXIAL_GYRATION` (0.1) about the
long axis. Principal axes: femur and tibia frames (long axis z), the uncorrected foot frame
(z along AJC - TOE).

For each segment, distal to proximal (Winter 2009, ch. 5; lab frame, mm, N, N.mm):

* ``F_p = m a - m g - F_d``
* ``M_p = R (I w'_l + w_l x I w_l) - (P - c) x F_p - (D - c) x F_d - M_d``

where ``F_d, M_d`` are the loads applied at the distal end (foot: the ground reaction point
loads and free moment; tibia/femur: minus the distal joint's loads), ``P``/``D`` the proximal
and distal joint centres, ``c`` the centre of mass. ``F_p, M_p`` are the force and net internal
moment of the proximal segment on this one at the proximal joint centre. Joint power
``M_p . (w_distal - w_proximal)`` (W). Velocities and accelerations: fourth-order central
differences of the exact poses at the point rate, second order at the ends of each smooth
piece of the motion (the drop landing's step-off and contact frames are velocity
discontinuities by construction, see :func:`breakpoints`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.synthetic.grf import G_MS2, FootLoads
from core.synthetic.tasks import DJ_BOX_FRAMES, RATE_HZ, Motion

AXIAL_GYRATION = 0.1
#: segment -> (mass fraction, CoM from the proximal joint / length, transverse gyration / length)
BSP = {"foot": (0.0145, 0.50, 0.475), "tibia": (0.0465, 0.433, 0.302), "femur": (0.100, 0.433, 0.323)}
JOINTS = (("Ankle", "foot"), ("Knee", "tibia"), ("Hip", "femur"))


def breakpoints(motion: Motion) -> tuple[int, ...]:
    """Frames (1-based) where the prescribed motion's velocity jumps (a new smooth piece
    starts there): the drop landing's step-off and initial contact; none otherwise."""
    if motion.task == "drop_jump":
        return (DJ_BOX_FRAMES, int(motion.extras["initial_contact_frame"]))
    return ()


def _d1(x: np.ndarray, h: float) -> np.ndarray:
    """First derivative along axis 0: 4th-order central inside, 2nd-order at the ends."""
    out = np.gradient(x, h, axis=0, edge_order=2)
    if x.shape[0] >= 5:
        out[2:-2] = (x[:-4] - 8 * x[1:-3] + 8 * x[3:-1] - x[4:]) / (12 * h)
    return out


def derivative(x: np.ndarray, breaks: Sequence[int] = (), h: float = 1.0 / RATE_HZ) -> np.ndarray:
    """Piecewise :func:`_d1` of ``(F, ...)`` values: a piece ``[b_k, b_k+1]`` (1-based frames)
    gives the derivatives of its frames except the last, which belongs to the next piece."""
    n = x.shape[0]
    edges = [1] + [b for b in breaks if 1 < b < n] + [n]
    out = np.empty_like(x)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        d = _d1(x[a - 1:b], h)
        last = b if k == len(edges) - 2 else b - 1
        out[a - 1:last] = d[:last - a + 1]
    return out


def angular_velocity(r: np.ndarray, breaks: Sequence[int] = (), h: float = 1.0 / RATE_HZ) -> np.ndarray:
    """``(F, 3)`` rad/s, lab frame, of rotations ``(F, 3, 3)``: vee(dR/dt R^T)."""
    w = derivative(r, breaks, h) @ np.swapaxes(r, -1, -2)
    return 0.5 * np.stack([w[:, 2, 1] - w[:, 1, 2], w[:, 0, 2] - w[:, 2, 0], w[:, 1, 0] - w[:, 0, 1]], axis=1)


@dataclass(frozen=True)
class Segment:
    """Kinematics of one segment: proximal/distal points ``(F, 3)`` mm, inertia frame and
    expression (anatomical) frame ``(F, 3, 3)``, mass kg, BSP row."""

    proximal: np.ndarray
    distal: np.ndarray
    inertia_frame: np.ndarray
    frame: np.ndarray
    mass: float
    com_fraction: float
    gyration: float

    @property
    def com(self) -> np.ndarray:
        return self.proximal + self.com_fraction * (self.distal - self.proximal)

    @property
    def length(self) -> np.ndarray:
        return np.linalg.norm(self.distal - self.proximal, axis=1)


def leg_segments(motion: Motion, side: str, mass_kg: float) -> dict[str, Segment]:
    """Foot, tibia and femur of one leg from the forward model's exact poses."""
    leg = motion.pose.legs[side]

    def seg(name, prox, dist, inertia_frame, frame):
        frac, com, k = BSP[name]
        return Segment(prox, dist, inertia_frame, frame, frac * mass_kg, com, k)

    return {"foot": seg("foot", leg.ajc, leg.toe, leg.foot_u, leg.foot),
            "tibia": seg("tibia", leg.kjc, leg.ajc, leg.tibia, leg.tibia),
            "femur": seg("femur", leg.hjc, leg.kjc, leg.thigh, leg.thigh)}


def _euler(seg: Segment, w: np.ndarray, dw: np.ndarray) -> np.ndarray:
    """Rate of change of angular momentum about the CoM ``(F, 3)`` N.mm, lab frame."""
    r = seg.inertia_frame
    length = seg.length
    kt, ka = seg.gyration * length, AXIAL_GYRATION * length
    inertia = seg.mass * np.stack([kt ** 2, kt ** 2, ka ** 2], axis=1)           # kg mm^2
    wl = np.einsum("fji,fj->fi", r, w)
    al = np.einsum("fji,fj->fi", r, dw)
    hl = inertia * al + np.cross(wl, inertia * wl)
    return 1e-3 * np.einsum("fij,fj->fi", r, hl)


def leg_kinetics(motion: Motion, side: str, mass_kg: float, loads: FootLoads,
                 rate_hz: float = RATE_HZ) -> dict[str, dict[str, np.ndarray]]:
    """Inverse dynamics of one leg at the point frames.

    loads: the foot's ground reaction point loads at the frames (``(F, K, ...)``); rate_hz:
    frame rate of the pose arrays (the tests also run it on every other frame).
    Returns joint -> {``moment`` (F,3) N.mm, ``force`` (F,3) N, ``power`` (F,) W, lab frame,
    ``frame`` (F,3,3) the distal segment's anatomical frame}.
    """
    breaks = breakpoints(motion)
    h = 1.0 / rate_hz
    segs = leg_segments(motion, side, mass_kg)
    omega = {k: angular_velocity(s.inertia_frame, breaks, h) for k, s in segs.items()}
    omega["pelvis"] = angular_velocity(motion.pose.pelvis, breaks, h)
    g = np.array([0.0, 0.0, -G_MS2])
    f_d = loads.forces.sum(axis=1)
    out: dict[str, dict[str, np.ndarray]] = {}
    prev = None
    for (joint, name), proximal in zip(JOINTS, ("tibia", "femur", "pelvis")):
        s = segs[name]
        c = s.com
        acc = derivative(derivative(c, breaks, h), breaks, h) / 1000.0            # m/s^2
        dh = _euler(s, omega[name], derivative(omega[name], breaks, h))
        if prev is None:
            m_d = (np.sum(np.cross(loads.points - c[:, None, :], loads.forces), axis=1)
                   + np.stack([0 * c[:, 0], 0 * c[:, 0], loads.free.sum(axis=1)], axis=1))
        else:
            f_d = -prev["force"]
            m_d = np.cross(s.distal - c, f_d) - prev["moment"]
        f_p = s.mass * (acc - g) - f_d
        m_p = dh - np.cross(s.proximal - c, f_p) - m_d
        power = 1e-3 * np.sum(m_p * (omega[name] - omega[proximal]), axis=1)
        out[joint] = {"moment": m_p, "force": f_p, "power": power, "frame": s.frame}
        prev = out[joint]
    return out


def in_frame(vectors: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Lab vectors ``(F, 3)`` expressed in a segment frame ``(F, 3, 3)`` (components on its
    x, y, z axes)."""
    return np.einsum("fji,fj->fi", frame, vectors)


def external_knee_abduction(moment_lab: np.ndarray, tibia: np.ndarray, side: str) -> np.ndarray:
    """External knee abduction (valgus) moment ``(F,)``, same unit as ``moment_lab``.

    ``-s M.x_tibia`` with ``s = +1`` left, ``-1`` right: minus the internal moment (proximal
    on distal) about the tibia's anterior axis, signed so that a load pushing the knee into
    valgus (the distal tibia moving laterally) is positive on both sides.
    """
    s = 1.0 if side == "Left" else -1.0
    return -s * in_frame(moment_lab, tibia)[:, 0]
