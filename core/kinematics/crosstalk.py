"""Knee-axis cross-talk: DynaKAD-type thigh rotation offset and corrected knee angles.

cgm1_spec 16.3. The CGM1 thigh frame can be rotated about its long axis by an error (wand
or KNE misplacement): knee flexion then leaks into varus/valgus. The correction phi is the
thigh axial rotation ``R_T' = R_T . Rz(phi)`` that makes the knee behave most like a hinge
during walking, i.e. minimises the variance over frames of the knee ab/adduction angle
(variance method). Applying it "frame only" (spec 16.3 step 5a) rotates the thigh frame and
leaves the knee joint centre unchanged.

References
----------
Baker R, Finney L, Orr J (1999) A new approach to determine the hip rotations profile from
clinical gait analysis data. Hum Mov Sci 18:655-667 (DynaKAD idea).
Schwartz MH, Rozumalski A (2005) A new method for estimating joint parameters from motion
data. J Biomech 38:107-116.
"""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from core.errors import AnalysisError
from core.kinematics.geometry import relative, rot_z, yxz_angles, yxz_relative
from core.model import ModelOutputs, ParameterValue, SubjectParameters, Trial

__all__ = ["estimate_thigh_offset", "corrected_knee_angles", "corrected_hip_angles",
           "knee_varus_variance", "thigh_rotation_for_offset", "OFFSET_BOUNDS_DEG", "MIN_FRAMES"]

OFFSET_BOUNDS_DEG = (-45.0, 45.0)
MIN_FRAMES = 10
_GRID_STEP_DEG = 0.5


def _prefix(side: str) -> str:
    if side in ("Left", "L"):
        return "L"
    if side in ("Right", "R"):
        return "R"
    raise ValueError(f"side must be 'Left' or 'Right', not {side!r}")


def _knee_relative(outputs: ModelOutputs, side: str,
                   frames: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Thigh rotations ``(N, 3, 3)`` and ``R_T^T . R_S`` ``(N, 3, 3)`` over the chosen frames."""
    p = _prefix(side)
    r_t = np.asarray(outputs.segments[f"{p}Femur"])[:, :3, :3]
    r_s = np.asarray(outputs.segments[f"{p}TibiaUntorsioned"])[:, :3, :3]
    if frames is not None:
        r_t, r_s = r_t[frames], r_s[frames]
    return r_t, relative(r_t, r_s)


def _varus_rad(m: np.ndarray, phi_rad: np.ndarray) -> np.ndarray:
    """Knee YXZ angle b for candidate offsets: ``(K,)`` phi, ``(N, 3, 3)`` M -> ``(K, N)`` rad.

    With ``R' = Rz(-phi) . M``: ``-R'[1, 2] = sin(phi) M[0, 2] - cos(phi) M[1, 2]``.
    """
    s, c = np.sin(phi_rad)[:, None], np.cos(phi_rad)[:, None]
    return np.arcsin(np.clip(s * m[None, :, 0, 2] - c * m[None, :, 1, 2], -1.0, 1.0))


def knee_varus_variance(m: np.ndarray, phi_deg: np.ndarray | float) -> np.ndarray:
    """Objective J(phi) = Var_t[b(t; phi)] (deg^2) for stacked ``M = R_T^T R_S`` ``(N, 3, 3)``."""
    phi = np.atleast_1d(np.radians(np.asarray(phi_deg, dtype=float)))
    return np.var(np.degrees(_varus_rad(m, phi)), axis=1)


def _select(outputs: ModelOutputs, side: str, frames, flexion_range) -> np.ndarray:
    _, m = _knee_relative(outputs, side, frames)
    ok = np.isfinite(m).all(axis=(1, 2))
    if flexion_range is not None:
        flex = yxz_angles(m)[:, 0]
        with np.errstate(invalid="ignore"):
            ok &= (flex >= flexion_range[0]) & (flex <= flexion_range[1])
    return m[ok]


def estimate_thigh_offset(outputs_list: Union[ModelOutputs, Sequence[ModelOutputs]], side: str,
                          frames: Optional[Sequence[Optional[np.ndarray]]] = None,
                          flexion_range: Optional[tuple[float, float]] = None,
                          bounds: tuple[float, float] = OFFSET_BOUNDS_DEG) -> float:
    """DynaKAD-type thigh offset phi* (deg) by the variance method (cgm1_spec 16.3).

    ``phi* = argmin Var_t[b(t; phi)]`` over ``bounds`` where b is the YXZ ab/adduction of
    ``(R_T . Rz(phi))^T . R_S`` (thigh and untorsioned tibia). A 0.5 deg grid finds the basin,
    then a bounded Brent search refines it.

    Parameters
    ----------
    outputs_list: one or several reconstructed walking trials (``reconstruct`` outputs).
    side: "Left" or "Right".
    frames: per trial, a boolean mask ``(F,)`` or row indices of the frames to use (e.g.
        complete gait cycles); None = all frames. NaN frames are always dropped.
    flexion_range: optional (min, max) knee flexion (deg) of the frames to use, e.g. (0, 60).
    bounds: search interval in degrees.

    Returns
    -------
    phi* in degrees: the correction to apply, ``R_T' = R_T . Rz(phi*)``; the model's thigh
    was rotated by ``-phi*`` about its long axis relative to the best hinge axis. A value on
    a bound means the minimum lies outside ``bounds`` (e.g. a trial that is not walking).

    Raises
    ------
    AnalysisError when fewer than MIN_FRAMES usable frames remain.
    """
    if isinstance(outputs_list, ModelOutputs):
        outputs_list = [outputs_list]
    frames = list(frames) if frames is not None else [None] * len(outputs_list)
    parts = [_select(o, side, f, flexion_range) for o, f in zip(outputs_list, frames)]
    m = np.concatenate(parts) if parts else np.empty((0, 3, 3))
    if len(m) < MIN_FRAMES:
        raise AnalysisError(f"{side}: only {len(m)} frames with a valid thigh and tibia "
                            f"(need {MIN_FRAMES}) to estimate the thigh offset")
    lo, hi = bounds
    grid = np.arange(lo, hi + _GRID_STEP_DEG / 2, _GRID_STEP_DEG)
    j = knee_varus_variance(m, grid)
    k = int(np.argmin(j))
    a, b = max(lo, grid[k] - _GRID_STEP_DEG), min(hi, grid[k] + _GRID_STEP_DEG)
    from scipy.optimize import minimize_scalar   # deferred: ~0.3 s to import
    res = minimize_scalar(lambda x: float(knee_varus_variance(m, x)[0]), bounds=(a, b),
                          method="bounded", options={"xatol": 1e-6})
    return float(res.x) if res.fun <= j[k] else float(grid[k])


def _rotated_thigh(outputs: ModelOutputs, side: str, phi_deg: float) -> np.ndarray:
    p = _prefix(side)
    r_t = np.asarray(outputs.segments[f"{p}Femur"])[:, :3, :3]
    return r_t @ rot_z(phi_deg)


def corrected_knee_angles(outputs: ModelOutputs, side: str, phi_deg: float) -> np.ndarray:
    """Knee angles ``(F, 3)`` deg (Vicon signs) with the thigh rotated by phi (spec 16.3, 5a).

    ``R_T' = R_T . Rz(phi)``; KJC unchanged; NaN where the model outputs are NaN.
    """
    p = _prefix(side)
    r_s = np.asarray(outputs.segments[f"{p}TibiaUntorsioned"])[:, :3, :3]
    abc = yxz_angles(relative(_rotated_thigh(outputs, side, phi_deg), r_s))
    sign = 1.0 if p == "L" else -1.0
    return abc * np.array([1.0, -sign, -sign])


def corrected_hip_angles(outputs: ModelOutputs, side: str, phi_deg: float) -> np.ndarray:
    """Hip angles ``(F, 3)`` deg (Vicon signs) with the thigh rotated by phi (hip rotation
    shifts by about -phi, spec 16.3)."""
    p = _prefix(side)
    r_p = np.asarray(outputs.segments["Pelvis"])[:, :3, :3]
    abc = yxz_angles(relative(r_p, _rotated_thigh(outputs, side, phi_deg)))
    sign = 1.0 if p == "L" else -1.0
    return abc * np.array([-1.0, -sign, -sign])


def thigh_rotation_for_offset(trial: Trial, subject: SubjectParameters, side: str, phi_deg: float,
                              search_deg: float = 45.0) -> float:
    """ThighRotation (deg, VSK sign) whose offset chord turns the thigh by ``phi_deg``.

    cgm1_spec 16.3 step 5b: instead of rotating the thigh frame only, find the thigh rotation
    offset for which the offset chord (spec 7.2) gives a thigh frame turned, on average over
    the trial's valid frames, by ``phi_deg`` about its long axis relative to the frame of the
    subject's current ThighRotation (the map is not 1:1: KJC moves on its circle). Store the
    result as Left/RightThighRotation and re-run the model; KJC moves too.

    Parameters
    ----------
    trial: the trial (dynamic or static) used as the pose sample.
    subject: the subject parameters used to reconstruct it.
    side: "Left" or "Right".
    phi_deg: the wanted thigh axial rotation, e.g. :func:`estimate_thigh_offset`'s phi*.
    search_deg: the root is searched within the current value +- this many degrees.

    Raises
    ------
    AnalysisError when no value in the search interval gives that rotation.
    """
    from scipy.optimize import brentq

    from core.kinematics.cgm1 import reconstruct  # local: cgm1 does not depend on this module
    name = ("Left" if _prefix(side) == "L" else "Right") + "ThighRotation"
    femur = f"{_prefix(side)}Femur"
    current = float(subject.get(name, 0.0) or 0.0)
    r0 = np.asarray(reconstruct(trial, subject).segments[femur])[:, :3, :3]

    def turn(value: float) -> float:
        sub = subject.with_values(ParameterValue(name, value, "deg", "DynaKAD"))
        r1 = np.asarray(reconstruct(trial, sub).segments[femur])[:, :3, :3]
        c = yxz_relative(r0, r1)[:, 2]
        return float(np.nanmean(c)) - phi_deg if np.isfinite(c).any() else float("nan")

    lo, hi = current - search_deg, current + search_deg
    f_lo, f_hi = turn(lo), turn(hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi) and f_lo * f_hi <= 0):
        raise AnalysisError(f"{side}: no {name} within {lo:.0f}..{hi:.0f} deg turns the thigh by "
                            f"{phi_deg:.1f} deg")
    return float(brentq(turn, lo, hi, xtol=1e-8))
