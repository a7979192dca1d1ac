"""Prescribed motions of the sample trials: static, walking, single-leg squat, drop landing.

Each builder returns a :class:`Motion`: the whole-body :class:`~core.synthetic.skeleton.Pose`
per frame plus what is known exactly by construction (events, task windows, facing
direction, walking speed). Frames are C3D frame numbers starting at 1, rate 100 Hz.

Timing is chosen so that every event and every window boundary falls on a frame.
Closed-chain tasks keep the stance foot planted: the pelvis position is solved from the
fixed foot (the AJC for the squat, the toe for the landing) through the leg chain.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Optional, Sequence

import numpy as np

from core.synthetic.curves import (WALK_ANKLE_ROTATION_DEG, lerp, raised_cosine, ramp,
                                   walk_curve)
from core.synthetic.rotations import progression_matrix, ry, rz
from core.synthetic.skeleton import (SIGN, LegAngles, Pose, build_pose,
                                     foot_offset_matrix, leg_pose, vicon_angles)
from core.synthetic.subject import Anthropometry

RATE_HZ = 100.0
GRAVITY_MM_S2 = 9810.0
#: walking: frames per gait cycle, and foot off / opposite foot strike in frames of the cycle
CYCLE_FRAMES = 100
FOOT_OFF_FRAMES = 60
TOE_OUT_DEG = 8.0
#: share of the added femoral internal rotation taken back at the knee (tibia externally
#: rotated on the femur), as when the femur rotates inward over a planted foot
KNEE_COUNTER_ROTATION = 0.8


@dataclass(frozen=True)
class Deviation:
    """Pathological additions on one side (degrees) at their peak.

    knee_valgus: added valgus (KneeAngles.y made more negative); hip_add / hip_rot: added
    hip adduction / internal rotation (80 % of the latter is taken back at the knee as
    external rotation, :data:`KNEE_COUNTER_ROTATION`); pelvic_drop: contralateral pelvic drop
    while this side bears weight (this side's PelvisAngles.y made more positive).
    """

    knee_valgus: float = 0.0
    hip_add: float = 0.0
    hip_rot: float = 0.0
    pelvic_drop: float = 0.0

    def scaled(self, k: float) -> "Deviation":
        return Deviation(self.knee_valgus * k, self.hip_add * k, self.hip_rot * k, self.pelvic_drop * k)


NONE = Deviation()


@dataclass(frozen=True)
class Window:
    """A task window of one side: stance (walk), repetition (sls) or landing (drop_jump).

    start_frame / end_frame: inclusive C3D frames. For walking, ``foot_off_frame`` = end,
    ``cycle_end_frame`` = the next foot strike of that side (the gait cycle's end).
    """

    side: str
    index: int
    kind: str
    start_frame: int
    end_frame: int
    cycle_end_frame: Optional[int] = None


@dataclass(frozen=True)
class Motion:
    """A prescribed trial: pose per frame and the exact timing facts."""

    task: str
    pose: Pose
    events: tuple[tuple[str, str, int], ...]
    windows: tuple[Window, ...]
    facing: np.ndarray
    side: Optional[str] = None
    speed_m_s: Optional[float] = None
    extras: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.pose.origin.shape[0])


def _legs_zero_origin(body: Anthropometry, prog: np.ndarray, pelvis: np.ndarray,
                      legs: dict) -> Pose:
    return build_pose(body, prog, np.zeros((pelvis.shape[0], 3)), pelvis, legs)


def flat_foot_axis(body: Anthropometry, side: str, prog: np.ndarray,
                   toe_out_deg: float = TOE_OUT_DEG) -> np.ndarray:
    """Lab direction ``(3,)`` of AJC - TOE for a flat foot turned out by ``toe_out_deg``."""
    heading = SIGN[side] * toe_out_deg
    foot = prog @ rz(heading) @ ry(-90.0)
    foot_u = foot @ foot_offset_matrix(body, side).T
    return foot_u[:, 2]


# ----------------------------------------------------------------------------------- static
def static(body: Anthropometry, direction: str = "+X", n_frames: int = 200,
           place: tuple[float, float] = (0.0, 0.0)) -> Motion:
    """Quiet standing, feet flat and turned out, whole-body sway of about 1.5 mm."""
    prog = progression_matrix(direction)
    f = np.arange(1, n_frames + 1)
    one = np.ones(n_frames)
    pelvis = np.stack([9.0 * one, 0.0 * one, 0.0 * one], axis=1)
    legs = {s: LegAngles(4.0 * one, 0.0 * one, 0.0 * one, 2.0 * one, 0.0 * one, 0.0 * one,
                         foot_axis=flat_foot_axis(body, s, prog)) for s in ("Left", "Right")}
    rel = _legs_zero_origin(body, prog, pelvis, legs)
    t = (f - 1) / RATE_HZ
    z0 = body.toe_height_mm - (rel.legs["Left"].toe[0, 2] + rel.legs["Right"].toe[0, 2]) / 2.0
    sway = np.stack([1.5 * np.sin(2 * np.pi * 0.25 * t), 1.0 * np.sin(2 * np.pi * 0.4 * t + 1.0),
                     0.0 * t], axis=1)
    shift = np.array([place[0], place[1], z0]) + sway
    return Motion("static", rel.translated(shift), (), (), prog[:, 0].copy())


# ----------------------------------------------------------------------------------- walk
#: slow stride-to-stride variation of walking: (channel key, amplitude deg, period s, phase rad)
WALK_VARIATION = (("HipAngles.x", 1.0, 2.9, 0.0), ("HipAngles.y", 0.6, 3.7, 2.0),
                  ("KneeAngles.x", 1.5, 3.3, 0.5), ("KneeAngles.y", 0.4, 4.1, 1.0),
                  ("AnkleAngles.x", 0.8, 3.1, 2.5))


def _cycle_factor(percent: np.ndarray, side: str, scale: Optional[Mapping] = None) -> np.ndarray:
    """Per-cycle amplitude factor (about +-7 %) of the pathological bump of one side.

    scale: optional ``{(side, cycle): factor}`` multiplying it (cycle = floor(percent / 100)
    of that side), used to keep every true phase boundary clear of its threshold.
    """
    idx = np.floor(percent / 100.0)
    out = 1.0 + 0.07 * np.sin(1.7 * idx + (0.0 if side == "Left" else 1.1))
    for (sd, cyc), k in (scale or {}).items():
        if sd == side:
            out = np.where(idx == cyc, out * k, out)
    return out


def walk_angles(percent_left: np.ndarray, dev: dict[str, Deviation],
                 t: Optional[np.ndarray] = None, scale: Optional[Mapping] = None) -> tuple[np.ndarray, dict]:
    """LPelvisAngles ``(F, 3)`` and both legs' angles for the given left-cycle percent.

    t: ``(F,)`` seconds; when given, the slow stride-to-stride variation
    (:data:`WALK_VARIATION`, phase-shifted between sides) and the per-cycle factor of the
    deviations are added; when None the nominal periodic gait is returned.
    """
    pct = {"Left": percent_left, "Right": percent_left - 50.0}
    bump = {s: raised_cosine(np.mod(pct[s], 100.0), 30.0, 26.0) for s in pct}
    if t is not None:
        bump = {s: bump[s] * _cycle_factor(pct[s], s, scale) for s in bump}

    def curve(key, s):
        q = walk_curve(key, pct[s])
        if t is not None:
            for k, amp, period, phase in WALK_VARIATION:
                if k == key:
                    q = q + amp * np.sin(2 * np.pi * t / period + phase + (0.0 if s == "Left" else 1.3))
        return q

    tilt = walk_curve("PelvisAngles.x", percent_left)
    obl = (walk_curve("PelvisAngles.y", percent_left) + dev["Left"].pelvic_drop * bump["Left"]
           - dev["Right"].pelvic_drop * bump["Right"])
    rot = walk_curve("PelvisAngles.z", percent_left)
    legs = {}
    for s in ("Left", "Right"):
        d, w = dev[s], bump[s]
        legs[s] = LegAngles(
            curve("HipAngles.x", s), curve("HipAngles.y", s) + d.hip_add * w,
            curve("HipAngles.z", s) + d.hip_rot * w,
            curve("KneeAngles.x", s), curve("KneeAngles.y", s) - d.knee_valgus * w,
            curve("KneeAngles.z", s) - KNEE_COUNTER_ROTATION * d.hip_rot * w,
            ankle_dors=curve("AnkleAngles.x", s),
            ankle_rot=np.full_like(percent_left, WALK_ANKLE_ROTATION_DEG))
    return np.stack([tilt, obl, rot], axis=1), legs


def _walk_speed(body: Anthropometry, prog: np.ndarray, dev: dict[str, Deviation]) -> float:
    """Speed (mm/s) at which the stance AJC stays put on average: the AJC's backward travel
    relative to the pelvis from foot strike to foot off, over the stance time (both sides)."""
    p_left = np.array([0.0, 100.0 * FOOT_OFF_FRAMES / CYCLE_FRAMES, 50.0,
                       50.0 + 100.0 * FOOT_OFF_FRAMES / CYCLE_FRAMES])
    pel, legs = walk_angles(p_left, dev)
    rel = _legs_zero_origin(body, prog, pel, legs)
    fwd = prog[:, 0]
    d_left = (rel.legs["Left"].ajc[0] - rel.legs["Left"].ajc[1]) @ fwd
    d_right = (rel.legs["Right"].ajc[2] - rel.legs["Right"].ajc[3]) @ fwd
    return float((d_left + d_right) / 2.0 / (FOOT_OFF_FRAMES / RATE_HZ))


def _fourier_smooth(percent: np.ndarray, values: np.ndarray, harmonics: int = 4) -> np.ndarray:
    """Least-squares periodic (period 100 %) fit of ``values`` with ``harmonics`` harmonics."""
    ph = 2 * np.pi * percent / 100.0
    cols = [np.ones_like(ph)]
    for k in range(1, harmonics + 1):
        cols += [np.cos(k * ph), np.sin(k * ph)]
    a = np.stack(cols, axis=1)
    coef, *_ = np.linalg.lstsq(a, values, rcond=None)
    return a @ coef


def walk_events(n_frames: int, phase_frames: int) -> tuple[tuple[str, str, int], ...]:
    """Foot strikes and foot offs (label, context, frame) inside frames 1..n_frames."""
    offsets = (("Foot Strike", "Left", 0), ("Foot Off", "Left", FOOT_OFF_FRAMES),
               ("Foot Strike", "Right", CYCLE_FRAMES // 2),
               ("Foot Off", "Right", CYCLE_FRAMES // 2 + FOOT_OFF_FRAMES - CYCLE_FRAMES))
    out = []
    for label, ctx, off in offsets:
        first = 1 + (off - phase_frames) % CYCLE_FRAMES
        out += [(label, ctx, int(fr)) for fr in range(first, n_frames + 1, CYCLE_FRAMES)]
    return tuple(sorted(out, key=lambda e: (e[2], e[1], e[0])))


def walk_windows(events) -> tuple[Window, ...]:
    """Stance windows (foot strike to foot off) of the complete gait cycles of each side."""
    wins = []
    for side in ("Left", "Right"):
        fs = [e[2] for e in events if e[0] == "Foot Strike" and e[1] == side]
        fo = [e[2] for e in events if e[0] == "Foot Off" and e[1] == side]
        for i, (a, b) in enumerate(zip(fs[:-1], fs[1:])):
            off = [x for x in fo if a < x < b]
            wins.append(Window(side, i, "stance", a, off[0], b))
    return tuple(wins)


def walk_percent(n_frames: int, phase_frames: int) -> np.ndarray:
    """``(F,)`` percent of the left gait cycle (cumulative) at frames 1..n_frames."""
    return 100.0 * (np.arange(n_frames) + phase_frames) / CYCLE_FRAMES


def walk(body: Anthropometry, direction: str, n_frames: int, phase_frames: int,
         dev: dict[str, Deviation], place: tuple[float, float] = (0.0, 0.0),
         sway_mm: float = 15.0, scale: Optional[Mapping] = None) -> Motion:
    """Overground walking at a steady speed along ``direction`` (``'+X'``, ``'-X'``, ``'+Y'``).

    phase_frames: frames of the left gait cycle already elapsed at frame 1 (sets where the
    events fall). dev: pathological deviations per side. place: lab (x, y) of the walkway
    centre; the trial is centred on it.
    """
    prog = progression_matrix(direction)
    f = np.arange(1, n_frames + 1)
    p_left = walk_percent(n_frames, phase_frames)
    pelvis, legs = walk_angles(p_left, dev, (f - 1) / RATE_HZ, scale)
    rel = _legs_zero_origin(body, prog, pelvis, legs)
    low = np.full(n_frames, np.inf)
    for side, p in (("Left", p_left), ("Right", p_left - 50.0)):
        stance = np.mod(p, 100.0) < 100.0 * FOOT_OFF_FRAMES / CYCLE_FRAMES + 1e-9
        leg = rel.legs[side]
        heel = leg.toe + body.heel_mm * leg.foot[:, :, 2]
        foot_low = np.minimum(leg.toe[:, 2], heel[:, 2])
        low = np.where(stance, np.minimum(low, foot_low), low)
    height = _fourier_smooth(p_left, body.toe_height_mm - low)
    speed = _walk_speed(body, prog, dev)
    t = (f - 1) / RATE_HZ
    along = speed * (t - t[-1] / 2.0)
    lateral = sway_mm * np.sin(2 * np.pi * p_left / 100.0)
    shift = (np.array([place[0], place[1], 0.0]) + along[:, None] * prog[:, 0]
             + lateral[:, None] * prog[:, 1])
    shift[:, 2] = height
    events = walk_events(n_frames, phase_frames)
    return Motion("walk", rel.translated(shift), events, walk_windows(events), prog[:, 0].copy(),
                  speed_m_s=speed / 1000.0)


# ----------------------------------------------------------------------------------- squat
SLS_REST_FRAMES = 120
SLS_REP_FRAMES = 200      # descent start to return
SLS_PAUSE_FRAMES = 40
SLS_END_FRAMES = 80
SLS_DEPTHS = (0.96, 1.0, 1.03, 0.98, 1.01)   # relative depth of successive repetitions
SLS_NORMAL_ADD = 0.0                         # normal hip adduction / rotation change at depth
SLS_NORMAL_ROT = -2.0


def sls_windows(side: str, reps: int) -> tuple[Window, ...]:
    """Repetition windows (descent start to return) of a single-leg squat trial."""
    out = []
    for k in range(reps):
        start = 1 + SLS_REST_FRAMES + k * (SLS_REP_FRAMES + SLS_PAUSE_FRAMES)
        out.append(Window(side, k, "repetition", start, start + SLS_REP_FRAMES))
    return tuple(out)


def _depth(f: np.ndarray, windows, scale: Optional[Sequence[float]] = None) -> np.ndarray:
    """Squat depth: a raised cosine per repetition (peak ``SLS_DEPTHS``) at the middle frame."""
    d = np.zeros(f.shape)
    for w in windows:
        k = 1.0 if scale is None else scale[w.index]
        d += k * SLS_DEPTHS[w.index % len(SLS_DEPTHS)] * raised_cosine(
            f, (w.start_frame + w.end_frame) / 2.0, (w.end_frame - w.start_frame) / 2.0)
    return d


def sls(body: Anthropometry, side: str, dev: Deviation, reps: int = 5,
        direction: str = "+X", place: tuple[float, float] = (0.0, 0.0),
        scale: Optional[Sequence[float]] = None) -> Motion:
    """Single-leg squat on ``side``: ``reps`` repetitions to about 65 deg of knee flexion.

    The stance foot stays planted (AJC and TOE fixed, foot turned out); the other leg is held
    flexed with the foot behind. Pelvis rotation stays 0 so the facing direction is the
    progression axis exactly. ``dev`` adds the top-down valgus pattern in proportion to depth.
    """
    prog = progression_matrix(direction)
    other = "Left" if side == "Right" else "Right"
    wins = sls_windows(side, reps)
    n = wins[-1].end_frame + SLS_END_FRAMES
    f = np.arange(1, n + 1, dtype=float)
    d = _depth(f, wins)
    dd = _depth(f, wins, scale)           # depth weighted by the per-repetition deviation scale
    drift = 0.6 * np.sin(2 * np.pi * f / 370.0)          # slow postural drift (deg)
    obl_side = 1.0 + d + dev.pelvic_drop * dd + 0.3 * drift
    pelvis = np.stack([8.0 + 14.0 * d, SIGN[side] * obl_side, 0.0 * d], axis=1)
    legs = {side: LegAngles(4.0 + 46.0 * d, 1.0 + SLS_NORMAL_ADD * d + dev.hip_add * dd + 0.5 * drift,
                            1.0 + SLS_NORMAL_ROT * d + dev.hip_rot * dd, 4.0 + 62.0 * d + 0.5 * drift,
                            -0.5 - dev.knee_valgus * dd,
                            2.0 - 3.0 * d - KNEE_COUNTER_ROTATION * dev.hip_rot * dd,
                            foot_axis=flat_foot_axis(body, side, prog)),
            other: LegAngles(32.0 + 6.0 * d, -3.0 + 0 * d, -2.0 + 0 * d, 78.0 + 8.0 * d,
                             1.0 + 0 * d, 0.0 * d, ankle_dors=-18.0 + 0 * d,
                             ankle_rot=-8.0 + 0 * d)}
    rel = _legs_zero_origin(body, prog, pelvis, legs)
    foot_axis = flat_foot_axis(body, side, prog)
    anchor = prog @ np.array([0.0, SIGN[side] * 95.0, 0.0]) + np.array([place[0], place[1], 0.0])
    anchor[2] = body.toe_height_mm + body.foot_mm * foot_axis[2]
    shift = anchor - rel.legs[side].ajc
    return Motion("sls", rel.translated(shift), (), wins, prog[:, 0].copy(), side=side)


# ------------------------------------------------------------------------------ drop landing
DJ_BOX_FRAMES = 60        # standing on the box, frames 1..60
DJ_FLIGHT_FRAMES = 22     # step-off to initial contact
DJ_PEAK_FRAMES = 20       # initial contact to peak knee flexion
DJ_RECOVER_FRAMES = 100   # peak knee flexion to standing
DJ_END_FRAMES = 44
DJ_NORMAL_ADD = 0.0                          # normal hip adduction / rotation at peak flexion
DJ_NORMAL_ROT = 1.0


def landing_profile(f: np.ndarray, ic: int, values: tuple[float, float, float, float]) -> np.ndarray:
    """Piecewise-smooth curve: stand (box) -> landing preparation at ``ic`` -> peak at
    ``ic + DJ_PEAK_FRAMES`` -> stand. values = (standing, at contact, at peak, end)."""
    stand, at_ic, peak, end = values
    pk = ic + DJ_PEAK_FRAMES
    out = lerp(stand, at_ic, ramp(f, DJ_BOX_FRAMES, ic))
    rise = np.sin(0.5 * np.pi * np.clip((f - ic) / DJ_PEAK_FRAMES, 0.0, 1.0))
    out = np.where(f >= ic, lerp(at_ic, peak, rise), out)
    fall = raised_cosine(f, pk, DJ_RECOVER_FRAMES)
    return np.where(f >= pk, lerp(end, peak, fall), out)


def _landing_angles(f: np.ndarray, ic: int, dev: dict[str, Deviation], d_stand: dict,
                    r_stand: dict) -> tuple[np.ndarray, dict]:
    load = landing_profile(f, ic, (0.0, 0.0, 1.0, 0.0))
    tilt = landing_profile(f, ic, (9.0, 7.0, 20.0, 11.0))
    obl = dev["Right"].pelvic_drop * load * -1.0 + dev["Left"].pelvic_drop * load
    pelvis = np.stack([tilt, obl, 0.0 * f], axis=1)
    legs = {}
    for s in ("Left", "Right"):
        dv = dev[s]
        legs[s] = LegAngles(
            landing_profile(f, ic, (4.0, 18.0, 62.0, 12.0)),
            landing_profile(f, ic, (0.0, 0.0, DJ_NORMAL_ADD, 0.0)) + dv.hip_add * load,
            landing_profile(f, ic, (0.0, 0.0, DJ_NORMAL_ROT, 0.0)) + dv.hip_rot * load,
            landing_profile(f, ic, (2.0, 14.0, 78.0, 14.0)),
            landing_profile(f, ic, (0.0, 0.0, 0.0, 0.0)) - dv.knee_valgus * load,
            landing_profile(f, ic, (0.0, 0.0, 3.0, 0.0)) - KNEE_COUNTER_ROTATION * dv.hip_rot * load,
            ankle_dors=landing_profile(f, ic, (d_stand[s], -24.0, 24.0, d_stand[s])),
            ankle_rot=landing_profile(f, ic, (r_stand[s], -6.0, -10.0, r_stand[s])))
    return pelvis, legs


def _planted_axes(body: Anthropometry, prog: np.ndarray, rel: Pose, f: np.ndarray, ic: int) -> dict:
    """Foot axes (AJC - TOE, lab) after contact: from the toe-first pose at contact to the
    flat, turned-out foot within 10 frames; NaN before contact (ankle targets apply)."""
    w = ramp(f, ic, ic + 10)[:, None]
    out = {}
    for s in ("Left", "Right"):
        axis = (1.0 - w) * rel.legs[s].foot_u[ic - 1, :, 2] + w * flat_foot_axis(body, s, prog)
        axis /= np.linalg.norm(axis, axis=1, keepdims=True)
        axis[f < ic] = np.nan
        out[s] = axis
    return out


def _plant_left(body: Anthropometry, rel: Pose, legs: dict, shift: np.ndarray, f: np.ndarray,
                ic: int) -> LegAngles:
    """Adjust left hip flexion, hip adduction and knee flexion after contact so that the left
    toe stays where it landed (both feet planted; Newton iterations, finite differences).
    With the foot axis prescribed in the lab, a fixed toe means AJC = toe + foot_mm * axis."""
    base = legs["Left"]
    on = f >= ic
    toe = shift[ic - 1] + rel.legs["Left"].toe[ic - 1]
    target = toe + body.foot_mm * np.where(on[:, None], base.foot_axis, 0.0)
    corr = np.zeros((f.size, 3))

    def ajc(c):
        la = replace(base, hip_flex=base.hip_flex + c[:, 0], hip_add=base.hip_add + c[:, 1],
                     knee_flex=base.knee_flex + c[:, 2])
        return shift + leg_pose(body, "Left", np.zeros((f.size, 3)), rel.pelvis, la).ajc, la

    for _ in range(60):
        pos, _ = ajc(corr)
        res = np.where(on[:, None], pos - target, 0.0)
        if np.abs(res).max() < 1e-9:
            break
        jac = np.empty((f.size, 3, 3))
        for k in range(3):
            dc = np.zeros(3)
            dc[k] = 1e-6
            jac[:, :, k] = (ajc(corr + dc)[0] - pos) / 1e-6
        delta = np.linalg.solve(jac, res[:, :, None])[:, :, 0]
        corr = corr - np.where(on[:, None], np.clip(delta, -2.0, 2.0), 0.0)
    else:
        raise RuntimeError("left foot could not be planted in the drop landing")
    return ajc(corr)[1]


def _landing_windows(angles: dict, ic: int) -> tuple[Window, ...]:
    """Initial contact to the (unique) peak knee flexion of each side."""
    wins = []
    for s in ("Left", "Right"):
        knee = angles[f"{s[0]}KneeAngles"][ic - 1: ic - 1 + 60, 0]
        wins.append(Window(s, 0, "landing", ic, ic + int(np.argmax(knee))))
    return tuple(wins)


def drop_landing(body: Anthropometry, dev: dict[str, Deviation], direction: str = "+X",
                 place: tuple[float, float] = (0.0, 0.0), step_speed_mm_s: float = 1100.0) -> Motion:
    """Drop landing from a box (about 30 cm): stand, step off, free fall, land on both feet at
    frame ``ic`` (toes first, feet flat 10 frames later), absorb to peak knee flexion about
    ``DJ_PEAK_FRAMES`` later, stand up.

    The box height follows from the free-fall time. After contact the right toe stays where it
    landed (closed chain through the right leg gives the pelvis); the left leg's hip and knee
    are adjusted so that the left AJC stays put too. No deviation before contact, so both
    toes touch at the same frame.
    """
    prog = progression_matrix(direction)
    ic = DJ_BOX_FRAMES + DJ_FLIGHT_FRAMES
    n = ic + DJ_PEAK_FRAMES + DJ_RECOVER_FRAMES + DJ_END_FRAMES
    f = np.arange(1, n + 1, dtype=float)
    stand = static(body, direction, 1)
    ang0 = vicon_angles(stand.pose)
    d0 = {s: float(ang0[f"{s[0]}AnkleAngles"][0, 0]) for s in ("Left", "Right")}
    r0 = {s: float(ang0[f"{s[0]}AnkleAngles"][0, 2]) for s in ("Left", "Right")}
    pelvis, legs = _landing_angles(f, ic, dev, d0, r0)
    rel = _legs_zero_origin(body, prog, pelvis, legs)
    axes = _planted_axes(body, prog, rel, f, ic)
    legs = {s: replace(legs[s], foot_axis=axes[s]) for s in legs}
    rel = _legs_zero_origin(body, prog, pelvis, legs)
    toe_rel = rel.legs["Right"].toe
    t = np.clip((f - DJ_BOX_FRAMES) / RATE_HZ, 0.0, None)
    tau = (ic - DJ_BOX_FRAMES) / RATE_HZ
    z_top = body.toe_height_mm - toe_rel[ic - 1, 2] + 0.5 * GRAVITY_MM_S2 * tau ** 2
    flight = (np.array([place[0], place[1], z_top]) + (t * step_speed_mm_s)[:, None] * prog[:, 0]
              - (0.5 * GRAVITY_MM_S2 * t ** 2)[:, None] * np.array([0.0, 0.0, 1.0]))
    box = slice(0, DJ_BOX_FRAMES)
    flight[box] = flight[DJ_BOX_FRAMES - 1] + toe_rel[DJ_BOX_FRAMES - 1] - toe_rel[box]
    anchor = flight[ic - 1] + toe_rel[ic - 1]
    shift = np.where((f >= ic)[:, None], anchor - toe_rel, flight)
    legs["Left"] = _plant_left(body, rel, legs, shift, f, ic)
    pose = _legs_zero_origin(body, prog, pelvis, legs).translated(shift)
    box_h = float(flight[0, 2] + toe_rel[0, 2] - body.toe_height_mm)
    events = tuple(("Foot Strike", s, ic) for s in ("Left", "Right"))
    return Motion("drop_jump", pose, events, _landing_windows(vicon_angles(pose), ic),
                  prog[:, 0].copy(), extras={"box_height_mm": box_h, "initial_contact_frame": ic})
