"""Prescribed ground reaction forces of the sample trials (the generator's own model).

Each foot carries its load on five sole points fixed in the foot (floor projections of points
32 mm below the marker plane: heel pad, lateral midfoot, 5th and 1st metatarsal heads, hallux;
:data:`SOLE_POINTS`). A contact gives, per time, a vertical force, the share of each sole
point (the centre of pressure is their weighted mean), a horizontal shear and a small free
moment; every point carries its share of the foot's force, so a plate under part of the foot
measures only that part.

* walking stance (foot strike to foot off, stance fraction ``s``): vertical force
  ``BW (1.2 sin(pi s) + 0.45 sin(3 pi s) + 0.03 sin(2 pi s))`` (double hump, peaks 1.2 BW at
  ``s`` about 0.25 and 0.75, valley 0.75 BW); CoP from the heel (``s = 0``) along the lateral
  midfoot to the 1st metatarsal head and the hallux at foot off; the force points at a
  virtual pivot :data:`VPP_HEIGHT_MM` above the floor over the hip-centre midpoint (Maus et al.
  2010, J Exp Biol 213:2125), which gives the braking / propulsive and medial shear; free
  moment ``5 mm x Fz sin(2 pi s)``.
* single-leg squat: the stance foot carries ``BW (1 + a_z / g)`` (``a_z``: vertical
  acceleration of the pelvis origin), CoP near mid-foot with a slow sway, horizontal force
  ``m a_h`` of the pelvis origin (quasi-static).
* drop landing: from initial contact, per foot ``BW (0.5 (1 - exp(-t/20 ms)) + 2.3 (t/tp)
  exp(1 - t/tp))``, ``tp = 50 ms`` (peak about 2.8 BW per foot, then 0.5 BW standing); toes
  first, the heel takes load within 100 ms; force directed at the virtual pivot.
* static: each foot ``BW / 2`` with a 3 % slow sway, CoP near mid-foot, vertical.

Clinical design: while a side's pathological pattern is active, the virtual pivot moves
toward that foot's ankle centre by :data:`TRUNK_LEAN` (walk 0.1, landing 0.3) x the side's
prescribed pelvic drop (deg) x the pattern's time profile (the generator's deviation bump):
an ipsilateral trunk lean, the usual compensation of weak hip abductors (contralateral pelvic
drop), which brings the centre of mass over the stance foot. In pre (right pelvic drop 5 deg
walking, 2.4 deg landing) the ground reaction then passes lateral to the valgus right knee:
an external knee abduction moment; post has the same rule with its smaller drop.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from core.synthetic.curves import raised_cosine, ramp
from core.synthetic.skeleton import SIGN
from core.synthetic.subject import Anthropometry
from core.synthetic.tasks import CYCLE_FRAMES, FOOT_OFF_FRAMES, RATE_HZ, Motion, landing_profile

G_MS2 = 9.81
VPP_HEIGHT_MM = 1250.0
#: sole points ``(name, a, lateral mm)``: position ``TOE + a heel_mm z_foot`` (toward the
#: heel), ``lateral`` mm to the lateral side (- medial), 32 mm below the marker plane
SOLE_POINTS = (("heel", 0.92, 0.0), ("midfoot_lateral", 0.5, 25.0), ("mth5", 0.15, 35.0),
               ("mth1", 0.0, -30.0), ("hallux", -0.25, -20.0))
#: share of each sole point in quiet standing / squatting (CoP near mid-foot)
STANDING_SHARE = (0.42, 0.12, 0.16, 0.24, 0.06)


@dataclass(frozen=True)
class Contact:
    """A foot's contact with the floor: side, kind (stance, squat, landing, standing), index
    among that side's contacts, and the times (s from frame 1) it starts and ends."""

    side: str
    kind: str
    index: int
    t_start: float
    t_end: float


@dataclass(frozen=True)
class FootLoads:
    """Point loads of one foot at the sample times: points ``(N, K, 3)`` mm (floor), forces
    ``(N, K, 3)`` N, free moments ``(N, K)`` N.mm (about lab z), all lab frame."""

    points: np.ndarray
    forces: np.ndarray
    free: np.ndarray

    @property
    def force(self) -> np.ndarray:
        return self.forces.sum(axis=1)

    @property
    def cop(self) -> np.ndarray:
        """Weighted mean of the points ``(N, 3)``; NaN where the foot is unloaded."""
        fz = self.forces[:, :, 2]
        tot = fz.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.einsum("nk,nkj->nj", fz, self.points) / tot[:, None]
        c[tot <= 0.0] = np.nan
        return c

    @property
    def free_moment(self) -> np.ndarray:
        return self.free.sum(axis=1)


def contacts(motion: Motion) -> tuple[Contact, ...]:
    """Every floor contact of the feet in a trial (including stances cut by the trial edges)."""
    n = motion.n_frames
    end = (n - 1) / RATE_HZ
    if motion.task == "walk":
        out = []
        for side in ("Left", "Right"):
            fs = [e[2] for e in motion.events if e[0] == "Foot Strike" and e[1] == side]
            fo = [e[2] for e in motion.events if e[0] == "Foot Off" and e[1] == side]
            starts = sorted(set(fs) | {f - FOOT_OFF_FRAMES for f in fo if not [s for s in fs if s < f]})
            for i, a in enumerate(starts):
                out.append(Contact(side, "stance", i, (a - 1) / RATE_HZ,
                                   (a - 1 + FOOT_OFF_FRAMES) / RATE_HZ))
        return tuple(c for c in out if c.t_end > 0 and c.t_start < end)
    if motion.task == "sls":
        return (Contact(motion.side, "squat", 0, 0.0, end),)
    if motion.task == "drop_jump":
        ic = motion.extras["initial_contact_frame"]
        return tuple(Contact(s, "landing", 0, (ic - 1) / RATE_HZ, end) for s in ("Left", "Right"))
    return tuple(Contact(s, "standing", 0, 0.0, end) for s in ("Left", "Right"))


def _spline(values: np.ndarray) -> CubicSpline:
    t = np.arange(values.shape[0]) / RATE_HZ
    return CubicSpline(t, values, axis=0)


def sole_points(motion: Motion, body: Anthropometry, side: str, times: np.ndarray) -> np.ndarray:
    """``(N, K, 3)`` floor projections of the sole points at ``times`` (s), spline-interpolated
    between frames (exact at the frames)."""
    leg = motion.pose.legs[side]
    z, y, x = leg.foot[:, :, 2], leg.foot[:, :, 1], leg.foot[:, :, 0]
    lateral = SIGN[side] * y                      # y_foot points to the left on both feet
    pts = np.stack([leg.toe + a * body.heel_mm * z + lat * lateral - body.toe_height_mm * x
                    for _, a, lat in SOLE_POINTS], axis=1)
    out = _spline(pts)(times)
    out[..., 2] = 0.0
    return out


def walking_shares(s: np.ndarray) -> np.ndarray:
    """``(N, K)`` share of each sole point over the stance fraction ``s`` (heel to hallux)."""
    raw = np.stack([1.0 - ramp(s, 0.12, 0.55), 0.6 * raised_cosine(s, 0.35, 0.3),
                    raised_cosine(s, 0.6, 0.3), raised_cosine(s, 0.72, 0.28),
                    raised_cosine(s, 0.92, 0.2)], axis=1)
    return raw / raw.sum(axis=1, keepdims=True)


def walking_vertical(s: np.ndarray) -> np.ndarray:
    """Vertical force in body weights over the stance fraction (0 outside [0, 1])."""
    f = 1.2 * np.sin(np.pi * s) + 0.45 * np.sin(3 * np.pi * s) + 0.03 * np.sin(2 * np.pi * s)
    return np.where((s > 0) & (s < 1), f, 0.0)


def landing_vertical(tau: np.ndarray) -> np.ndarray:
    """Vertical force per foot in body weights, ``tau`` s after initial contact."""
    t = np.clip(tau, 0.0, None)
    f = 0.5 * (1.0 - np.exp(-t / 0.02)) + 2.3 * (t / 0.05) * np.exp(1.0 - t / 0.05)
    return np.where(tau > 0, f, 0.0)


def _standing_shares(times: np.ndarray, phase: float) -> np.ndarray:
    sway = 0.05 * np.sin(2 * np.pi * times / 7.0 + phase)
    base = np.broadcast_to(np.asarray(STANDING_SHARE), (times.size, len(SOLE_POINTS))).copy()
    base[:, 0] += sway
    base[:, 3] -= sway
    return base


#: lateral shift of the virtual pivot toward the loaded foot per degree of prescribed
#: contralateral pelvic drop of that side, as a fraction of the way from the hip-centre
#: midpoint to the foot's ankle centre (ipsilateral trunk lean)
TRUNK_LEAN = {"walk": 0.1, "drop_jump": 0.3}


def _lean_profile(motion: Motion, side: str, times: np.ndarray) -> np.ndarray:
    """0..1 time profile of a side's pathological pattern (the generator's deviation bump)."""
    frames = times * RATE_HZ + 1.0
    if motion.task == "walk":
        fs = [e[2] for e in motion.events if e[0] == "Foot Strike" and e[1] == side]
        pct = np.mod(frames - fs[0], CYCLE_FRAMES) * 100.0 / CYCLE_FRAMES
        return raised_cosine(pct, 30.0, 26.0)
    if motion.task == "drop_jump":
        return landing_profile(frames, int(motion.extras["initial_contact_frame"]), (0.0, 0.0, 1.0, 0.0))
    return np.zeros_like(times)


def pivot(motion: Motion, times: np.ndarray) -> np.ndarray:
    """``(N, 3)`` virtual pivot: over the hip-centre midpoint, :data:`VPP_HEIGHT_MM` above the
    floor, shifted toward a foot by :data:`TRUNK_LEAN` x its prescribed pelvic drop x the
    time profile of its pattern."""
    legs = motion.pose.legs
    base = _spline(0.5 * (legs["Left"].hjc + legs["Right"].hjc))(times)
    out = base.copy()
    dev = motion.extras.get("deviation_deg", {})
    for side in ("Left", "Right"):
        drop = dev.get(side, {}).get("pelvic_drop", 0.0)
        if drop and motion.task in TRUNK_LEAN:
            w = TRUNK_LEAN[motion.task] * drop * _lean_profile(motion, side, times)
            out[:, :2] += w[:, None] * (_spline(legs[side].ajc)(times)[:, :2] - base[:, :2])
    out[:, 2] = VPP_HEIGHT_MM
    return out


def foot_loads(motion: Motion, body: Anthropometry, mass_kg: float, side: str,
               times: np.ndarray) -> FootLoads:
    """Point loads of one foot at ``times`` (s from frame 1), all contacts of that side."""
    bw = mass_kg * G_MS2
    pts = sole_points(motion, body, side, times)
    k = len(SOLE_POINTS)
    share = np.zeros((times.size, k))
    fz = np.zeros(times.size)
    free = np.zeros(times.size)
    for c in contacts(motion):
        if c.side != side:
            continue
        s = (times - c.t_start) / (c.t_end - c.t_start)
        if c.kind == "stance":
            on = (s > 0) & (s < 1)
            share[on] = walking_shares(s[on])
            fz = np.where(on, bw * walking_vertical(s), fz)
            free = np.where(on, 5.0 * bw * walking_vertical(s) * np.sin(2 * np.pi * s), free)
        elif c.kind == "landing":
            tau = times - c.t_start
            on = tau > 0
            toes = np.array([0.0, 0.1, 0.3, 0.4, 0.2])
            w = ramp(tau, 0.02, 0.10)[:, None]
            sh = (1 - w) * toes + w * _standing_shares(times, 0.5)
            share[on] = sh[on]
            fz = np.where(on, bw * landing_vertical(tau), fz)
        else:
            share[:] = _standing_shares(times, 0.0 if side == "Left" else 1.3)
            fz = bw * (1.0 if c.kind == "squat" else 0.5) * np.ones(times.size)
            if c.kind == "standing":
                fz = fz * (1.0 + 0.03 * SIGN[side] * np.sin(2 * np.pi * times / 5.0))
    cop = np.einsum("nk,nkj->nj", share, pts)
    force = np.zeros((times.size, 3))
    force[:, 2] = fz
    if motion.task in ("walk", "drop_jump"):
        piv = pivot(motion, times)
        force[:, :2] = fz[:, None] * (piv[:, :2] - cop[:, :2]) / VPP_HEIGHT_MM
    elif motion.task == "sls":
        acc = _spline(motion.pose.origin)(times, 2) / 1000.0          # m/s^2
        force[:, 2] = fz * (1.0 + acc[:, 2] / G_MS2)
        force[:, :2] = mass_kg * acc[:, :2]
    forces = share[:, :, None] * force[:, None, :]
    return FootLoads(pts, forces, share * free[:, None])
