"""Plain numpy preparation of what the 3D scene draws (no Qt, no VTK).

:func:`build_scene_data` turns a :class:`core.model.Trial`, its
:class:`core.model.ModelOutputs` and the valgus overlay (:class:`app.viewdata.ValgusOverlay`)
into one :class:`SceneData`: fixed-size arrays indexed by trial row, so that the scene only
copies one row into its VTK buffers per frame.

Colours follow the common gait-laboratory convention (Vicon Polygon, most clinical
reports): **Left = red, Right = green**. Thigh and shank switch to the valgus ramp
(pale -> saturated violet) while the knee is inside a valgus phase, with the intensity following
the valgus magnitude.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np

from core.model import ModelOutputs, Trial

# ----------------------------------------------------------------------------- colours
LEFT_RGB = (214, 48, 49)        # red
RIGHT_RGB = (39, 174, 96)       # green
CENTRE_RGB = (170, 178, 189)    # pelvis (neither side)
VALGUS_LOW_RGB = (236, 160, 255)  # pale violet at the phase threshold
VALGUS_HIGH_RGB = (176, 0, 255)   # saturated violet at VALGUS_FULL_DEG and beyond
VALGUS_FULL_DEG = 20.0
MARKER_RGB = (236, 240, 241)
PLATE_RGB = (120, 170, 220)       # plate outlines
GRF_UNCHECKED_RGB = (241, 196, 15)  # loaded plate without a contact check (Vicon's file)
GRF_EXCLUDED_RGB = (150, 150, 150)  # contact excluded (two feet, foot off the plate ...)
#: ground reaction force arrow length per newton: body weight (~500-900 N) -> 0.5-0.9 m
GRF_MM_PER_N = 1.0
SIDE_RGB = {"Left": LEFT_RGB, "Right": RIGHT_RGB, "": CENTRE_RGB}

#: joints of the skeleton, in a fixed order (row index = joint index)
JOINTS = ("LASI", "RASI", "SACR", "LHJC", "RHJC", "LKJC", "RKJC", "LAJC", "RAJC",
          "LHEE", "RHEE", "LTOE", "RTOE")
_J = {n: i for i, n in enumerate(JOINTS)}

#: bones: (joint a, joint b, side, kind)
BONES: tuple[tuple[str, str, str, str], ...] = (
    ("LASI", "RASI", "", "pelvis"), ("RASI", "SACR", "", "pelvis"), ("SACR", "LASI", "", "pelvis"),
    ("LHJC", "RHJC", "", "pelvis"), ("LASI", "LHJC", "", "pelvis"), ("RASI", "RHJC", "", "pelvis"),
    ("LHJC", "LKJC", "Left", "thigh"), ("LKJC", "LAJC", "Left", "shank"),
    ("LAJC", "LHEE", "Left", "foot"), ("LHEE", "LTOE", "Left", "foot"), ("LAJC", "LTOE", "Left", "foot"),
    ("RHJC", "RKJC", "Right", "thigh"), ("RKJC", "RAJC", "Right", "shank"),
    ("RAJC", "RHEE", "Right", "foot"), ("RHEE", "RTOE", "Right", "foot"), ("RAJC", "RTOE", "Right", "foot"),
)
BONE_INDEX = np.array([[_J[a], _J[b]] for a, b, _, _ in BONES], dtype=np.int64)

#: Plug-in Gait virtual ("bone") points: 3-letter segment code + O/A/L/P
_BONE_CODES = {"PEL", "LFE", "RFE", "LTI", "RTI", "LFO", "RFO", "LTO", "RTO", "HED", "TRX",
               "LCL", "RCL", "LHU", "RHU", "LRA", "RRA", "LHN", "RHN"}
#: segments whose axes can be drawn, and their PiG bone code
SEGMENT_CODES = {"Pelvis": "PEL", "LFemur": "LFE", "RFemur": "RFE", "LTibia": "LTI",
                 "RTibia": "RTI", "LFoot": "LFO", "RFoot": "RFO"}


def is_virtual_label(label: str) -> bool:
    """True for model outputs stored as points (PiG bones, joint centres, centre of mass)."""
    u = label.upper()
    if len(u) == 4 and u[:3] in _BONE_CODES and u[3] in "OALP":
        return True
    return u.endswith("JC") or "CENTREOFMASS" in u or "CENTEROFMASS" in u or u.startswith("*")


@dataclass(frozen=True)
class SceneData:
    """Everything the scene draws, indexed by trial row.

    Attributes
    ----------
    marker_labels: labels of the ``M`` drawn markers.
    markers: ``(F, M, 3)`` mm, NaN where the marker is gapped (hidden).
    joints: ``(F, J, 3)`` mm of :data:`JOINTS`, NaN where unknown.
    valgus: ``(F, 2)`` valgus magnitude (deg, + = valgus) of Left, Right (NaN if none).
    in_phase: ``(F, 2)`` True while that knee is inside a valgus phase.
    fppa: ``(F, 2)`` frontal plane projection angle (deg) or NaN.
    segments: segment name -> ``(F, 4, 4)`` pose (mm) for the optional axes.
    forward: ``(3,)`` unit progression direction on the floor; floor_z: floor height (mm).
    centre: ``(F, 3)`` pelvis centre used by the "follow" camera.
    plate_corners: ``(P, 4, 3)`` force plate outlines (mm); grf: ``(F, P, 3)`` force on the
    subject (N) and cop: ``(F, P, 3)`` centre of pressure (mm), NaN where unloaded;
    plate_state: ``(F, P)`` codes of :mod:`app.kinetics_view` (clean Left/Right, excluded...).
    """

    marker_labels: tuple[str, ...]
    markers: np.ndarray
    joints: np.ndarray
    valgus: np.ndarray
    in_phase: np.ndarray
    fppa: np.ndarray
    segments: Mapping[str, np.ndarray] = field(default_factory=dict)
    forward: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))
    floor_z: float = 0.0
    centre: Optional[np.ndarray] = None
    first_frame: int = 1
    rate_hz: float = 100.0
    plate_corners: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 3)))
    grf: Optional[np.ndarray] = None
    cop: Optional[np.ndarray] = None
    plate_state: Optional[np.ndarray] = None

    @property
    def n_plates(self) -> int:
        return int(self.plate_corners.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.markers.shape[0])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) corners (mm) over all frames of markers and joints, ignoring NaN."""
        allp = np.concatenate([self.markers.reshape(-1, 3), self.joints.reshape(-1, 3)])
        ok = np.isfinite(allp).all(axis=1)
        if not ok.any():
            return np.array([-1000.0, -1000.0, 0.0]), np.array([1000.0, 1000.0, 1800.0])
        return allp[ok].min(axis=0), allp[ok].max(axis=0)


# ------------------------------------------------------------------------ helpers
def _point(trial: Trial, outputs: Optional[ModelOutputs], name: str) -> Optional[np.ndarray]:
    if outputs is not None and name in outputs.channels:
        return np.asarray(outputs.channels[name], dtype=float)
    if trial.has(name) and trial.point_kinds[trial.index(name)] == "marker":
        return np.asarray(trial.point(name), dtype=float)
    return None


def _sacrum(trial: Trial) -> Optional[np.ndarray]:
    if trial.has("SACR"):
        return np.asarray(trial.point("SACR"), dtype=float)
    if trial.has("LPSI") and trial.has("RPSI"):
        return 0.5 * (trial.point("LPSI") + trial.point("RPSI"))
    return None


def joint_positions(trial: Trial, outputs: Optional[ModelOutputs]) -> np.ndarray:
    """``(F, J, 3)`` positions of :data:`JOINTS` (NaN where unavailable)."""
    out = np.full((trial.n_frames, len(JOINTS), 3), np.nan)
    for j, name in enumerate(JOINTS):
        p = _sacrum(trial) if name == "SACR" else _point(trial, outputs, name)
        if p is not None and p.shape[0] == trial.n_frames:
            out[:, j] = p
    return out


def forward_direction(trial: Trial, outputs: Optional[ModelOutputs], joints: np.ndarray) -> np.ndarray:
    """Unit progression direction on the floor (x-y plane), from the outputs or the pelvis path."""
    if outputs is not None and np.isfinite(outputs.progression).all():
        v = np.array(outputs.progression, dtype=float)[:, 0]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # frames without pelvis markers
            pel = np.nanmean(joints[:, :3], axis=1)
        ok = np.isfinite(pel).all(axis=1)
        v = pel[ok][-1] - pel[ok][0] if ok.sum() > 1 else np.array([1.0, 0, 0])
        if np.linalg.norm(v[:2]) < 200.0:  # standing tasks: face the pelvis anterior axis
            asis = 0.5 * (joints[:, 0] + joints[:, 1]) - joints[:, 2]
            v = np.nanmean(asis, axis=0) if np.isfinite(asis).any() else np.array([1.0, 0, 0])
    v = np.array([v[0], v[1], 0.0])
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 and np.isfinite(n) else np.array([1.0, 0.0, 0.0])


def valgus_ramp(magnitude: np.ndarray) -> np.ndarray:
    """Valgus colour for magnitudes (deg): ``(..., 3)`` uint8 from pale to saturated violet."""
    t = np.clip(np.nan_to_num(np.asarray(magnitude, float)) / VALGUS_FULL_DEG, 0.15, 1.0)[..., None]
    lo, hi = np.array(VALGUS_LOW_RGB, float), np.array(VALGUS_HIGH_RGB, float)
    return np.rint(lo + (hi - lo) * t).astype(np.uint8)


def bone_colours(data: SceneData, row: int) -> np.ndarray:
    """``(B, 3)`` uint8 colours of :data:`BONES` at a trial row (valgus overlay applied)."""
    cols = np.array([SIDE_RGB[side] for _, _, side, _ in BONES], dtype=np.uint8)
    for k, side in enumerate(("Left", "Right")):
        if data.in_phase[row, k]:
            c = valgus_ramp(data.valgus[row, k])
            for b, (_, _, s, kind) in enumerate(BONES):
                if s == side and kind in ("thigh", "shank"):
                    cols[b] = c
    return cols


def _marker_block(trial: Trial) -> tuple[tuple[str, ...], np.ndarray]:
    idx = [i for i, (l, k) in enumerate(zip(trial.labels, trial.point_kinds))
           if k == "marker" and not is_virtual_label(l)]
    return tuple(trial.labels[i] for i in idx), np.asarray(trial.points[:, idx, :], dtype=float)


def build_scene_data(trial: Trial, outputs: Optional[ModelOutputs] = None,
                     overlay=None, kinetics=None) -> SceneData:
    """Prepare a trial for display.

    Parameters
    ----------
    trial: the trial (markers ``(F, P, 3)`` mm).
    outputs: CGM1 outputs (joint centres ``LHJC``... and ``segments``) or None (markers only).
    overlay: :class:`app.viewdata.ValgusOverlay` or None (no valgus colouring).
    kinetics: :class:`app.kinetics_view.KineticsView` or None (no plates, no force arrows).
    """
    labels, markers = _marker_block(trial)
    joints = joint_positions(trial, outputs)
    F = trial.n_frames
    valgus = np.full((F, 2), np.nan)
    fppa = np.full((F, 2), np.nan)
    in_phase = np.zeros((F, 2), dtype=bool)
    if overlay is not None:
        valgus, fppa, in_phase = overlay.valgus, overlay.fppa, overlay.in_phase
    segs = dict(outputs.segments) if outputs is not None else {}
    allz = np.concatenate([markers[..., 2].ravel(), joints[..., 2].ravel()])
    floor = float(np.nanmin(allz)) if np.isfinite(allz).any() else 0.0
    floor = min(0.0, floor) if floor > -100.0 else floor
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)           # rows without hips: NaN, filled below
        centre = np.nanmean(joints[:, [3, 4]], axis=1)
        if not np.isfinite(centre).any():
            centre = np.nanmean(markers, axis=1) if markers.shape[1] else np.zeros((F, 3))
    centre = _fill_nan_rows(centre)
    plates = {}
    if kinetics is not None and kinetics.n_plates and kinetics.force is not None:
        plates = dict(plate_corners=kinetics.corners, grf=kinetics.force, cop=kinetics.cop,
                      plate_state=kinetics.plate_state)
    return SceneData(labels, markers, joints, valgus, in_phase, fppa, segs,
                     forward_direction(trial, outputs, joints), floor, centre,
                     trial.first_frame, trial.point_rate_hz, **plates)


def grf_segments(data: SceneData, row: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Force arrows of the plates at one row.

    Returns
    -------
    ends: ``(P, 2, 3)`` mm, centre of pressure and CoP + force x :data:`GRF_MM_PER_N`;
    shown: ``(P,)`` the plate is loaded (finite CoP and force); colours: ``(P, 3)`` uint8
    (contact side: Left red / Right green, excluded grey, unchecked yellow).
    """
    P = data.n_plates
    if P == 0 or data.grf is None:
        return np.zeros((0, 2, 3)), np.zeros(0, dtype=bool), np.zeros((0, 3), dtype=np.uint8)
    f, c = data.grf[row], data.cop[row]
    state = data.plate_state[row] if data.plate_state is not None else np.full(P, 4)
    shown = np.isfinite(f).all(axis=1) & np.isfinite(c).all(axis=1) & (state != 0)
    ends = np.stack([c, c + f * GRF_MM_PER_N], axis=1)
    palette = np.array([PLATE_RGB, LEFT_RGB, RIGHT_RGB, GRF_EXCLUDED_RGB, GRF_UNCHECKED_RGB], dtype=np.uint8)
    return np.where(shown[:, None, None], ends, 0.0), shown, palette[np.clip(state, 0, 4)]


def _fill_nan_rows(a: np.ndarray) -> np.ndarray:
    """Rows with NaN take the nearest valid row (for the follow camera only)."""
    ok = np.isfinite(a).all(axis=1)
    if ok.all() or not ok.any():
        return np.nan_to_num(a)
    idx = np.where(ok, np.arange(len(a)), 0)
    np.maximum.accumulate(idx, out=idx)
    first = np.argmax(ok)
    idx[:first] = first
    return a[idx]


def fppa_segments(joints_row: np.ndarray) -> np.ndarray:
    """``(2, 3, 3)`` hip-knee-ankle polyline per side (Left, Right) at one row, mm."""
    j = joints_row
    return np.stack([j[[_J["LHJC"], _J["LKJC"], _J["LAJC"]]], j[[_J["RHJC"], _J["RKJC"], _J["RAJC"]]]])
