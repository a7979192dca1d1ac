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


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of ``(F, 3)`` arrays (faster than numpy.cross for this shape)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def _apply(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``(F, 3, 3) @ (F, 3)`` -> ``(F, 3)`` (explicit sums: faster than batched matmul)."""
    return np.stack([m[:, i, 0] * v[:, 0] + m[:, i, 1] * v[:, 1] + m[:, i, 2] * v[:, 2] for i in range(3)], axis=1)


def _rate_of_angular_momentum(seg: SegmentState) -> np.ndarray:
    return _apply(seg.inertia_com, seg.alpha) + cross(seg.omega, _apply(seg.inertia_com, seg.omega))


def segment_step(seg: SegmentState, loads: Sequence[ExternalLoad]) -> tuple[np.ndarray, np.ndarray]:
    """Proximal joint force and moment ``(F, 3)`` of one segment (module equations)."""
    f_ext = sum((ld.force_n for ld in loads), np.zeros_like(seg.com_m))
    m_ext = sum((ld.free_moment_nm + cross(ld.point_m - seg.com_m, ld.force_n) for ld in loads),
                np.zeros_like(seg.com_m))
    force = seg.mass_kg * (seg.com_acc - GRAVITY) - f_ext
    moment = _rate_of_angular_momentum(seg) - m_ext - cross(seg.proximal_m - seg.com_m, force)
    return force, moment


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
    loads = list(foot_loads)
    chain = (("Ankle", "Foot", "Tibia"), ("Knee", "Tibia", "Femur"), ("Hip", "Femur", "Pelvis"))
    for joint, distal, proximal in chain:
        seg = segments[distal]
        force, moment = segment_step(seg, loads)
        rel = seg.omega - segments[proximal].omega
        out[joint] = JointLoad(force, moment, (moment * rel).sum(axis=1))
        loads = [ExternalLoad(-force, seg.proximal_m, -moment)]
    return out
