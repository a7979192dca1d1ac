"""Recursive Newton-Euler inverse dynamics of the lower limb (foot -> tibia -> femur).

For each segment with mass ``m``, centre of mass ``c``, inertia about the CoM ``I``
(lab frame), angular velocity ``w`` and acceleration ``alpha``, acted on at its proximal
joint ``p`` by the proximal segment (force ``F_p``, moment ``M_p``) and by external loads
``(F_i, applied at r_i, free moments T_i)``::

    F_p = m (a_c - g) - sum F_i
    M_p = I alpha + w x (I w) - sum T_i - sum (r_i - c) x F_i - (p - c) x F_p

(Winter 2009, chapter 5). The next segment up receives ``-F_p`` at ``p`` and ``-M_p``.
``F_p`` and ``M_p`` are the joint reaction force and the joint moment exerted on the
distal segment (the "internal" moment). Joint power is ``M_p . (w_distal - w_proximal)``.
All quantities are SI (m, N, N.m, rad/s), ``(F, 3)`` over frames.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.kinetics.segments import GRAVITY, SegmentState


@dataclass(frozen=True)
class ExternalLoad:
    """A load on a segment: force ``(F, 3)`` N at ``point_m`` ``(F, 3)`` m, plus a free
    moment ``(F, 3)`` N.m. Zero force/moment where the load is absent (not NaN)."""

    force_n: np.ndarray
    point_m: np.ndarray
    free_moment_nm: np.ndarray


@dataclass(frozen=True)
class JointLoad:
    """Force and moment the proximal segment exerts on the distal one at a joint, and the
    joint power. force_n, moment_nm: ``(F, 3)`` lab frame; power_w: ``(F,)``."""

    force_n: np.ndarray
    moment_nm: np.ndarray
    power_w: np.ndarray


# The chain below works on component rows: ``(3, F)`` vectors and ``(3, 3, F)`` tensors,
# contiguous per component, so each operation is one pass over contiguous memory.

def _rows(x: np.ndarray) -> np.ndarray:
    """``(F, 3)`` or ``(F, 3, 3)`` -> ``(3, F)`` / ``(3, 3, F)`` contiguous (no copy when the
    array is already held component by component, as SegmentState arrays are)."""
    return np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=float), 0, -1))


def _cross_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


def _apply_rows(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``(3, 3, F)`` tensor times ``(3, F)`` vector, frame by frame."""
    return m[:, 0] * v[0] + m[:, 1] * v[1] + m[:, 2] * v[2]


def _step_rows(seg: SegmentState, loads: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
               ) -> tuple[np.ndarray, np.ndarray]:
    """Module equations on component rows; loads as ``(force, point, free moment)`` rows."""
    com, inertia, omega = _rows(seg.com_m), _rows(seg.inertia_com), _rows(seg.omega)
    force = seg.mass_kg * (_rows(seg.com_acc) - GRAVITY[:, None])
    moment = _apply_rows(inertia, _rows(seg.alpha)) + _cross_rows(omega, _apply_rows(inertia, omega))
    for f, r, t in loads:
        force = force - f
        moment = moment - t - _cross_rows(r - com, f)
    moment = moment - _cross_rows(_rows(seg.proximal_m) - com, force)
    return force, moment


def segment_step(seg: SegmentState, loads: Sequence[ExternalLoad]) -> tuple[np.ndarray, np.ndarray]:
    """Proximal joint force and moment ``(F, 3)`` of one segment (module equations)."""
    force, moment = _step_rows(seg, [(_rows(ld.force_n), _rows(ld.point_m), _rows(ld.free_moment_nm))
                                     for ld in loads])
    return force.T, moment.T


def limb_chain(segments: dict[str, SegmentState], foot_loads: Sequence[ExternalLoad]) -> dict[str, JointLoad]:
    """Ankle, knee and hip loads of one limb.

    Parameters
    ----------
    segments: ``Foot``, ``Tibia``, ``Femur`` and ``Pelvis`` states
        (:func:`core.kinetics.segments.limb_segments`).
    foot_loads: ground reactions on the foot (one per plate contact).

    Returns
    -------
    ``{"Ankle": JointLoad, "Knee": ..., "Hip": ...}`` in the lab frame.
    """
    out = {}
    loads = [(_rows(ld.force_n), _rows(ld.point_m), _rows(ld.free_moment_nm)) for ld in foot_loads]
    chain = (("Ankle", "Foot", "Tibia"), ("Knee", "Tibia", "Femur"), ("Hip", "Femur", "Pelvis"))
    for joint, distal, proximal in chain:
        seg = segments[distal]
        force, moment = _step_rows(seg, loads)
        rel = _rows(seg.omega) - _rows(segments[proximal].omega)
        power = moment[0] * rel[0] + moment[1] * rel[1] + moment[2] * rel[2]
        out[joint] = JointLoad(force.T, moment.T, power)
        loads = [(-force, _rows(seg.proximal_m), -moment)]
    return out
