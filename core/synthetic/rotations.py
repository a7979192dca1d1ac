"""Elementary rotations and the Cardan YXZ convention of the synthetic walker.

The generator's own implementation (it must not share code with the engine it tests).
Conventions are those of the CGM1 specification (section 0): a rotation matrix holds the
segment's unit axes as **columns**; ``Rx``, ``Ry``, ``Rz`` are right-handed elementary
rotations; the Cardan sequence is ``R = Ry(a) @ Rx(b) @ Rz(c)`` (Kadaba et al. 1990; Davis
et al. 1991; Vicon Plug-in Gait). Angles in degrees, arrays broadcast over leading axes.
"""
from __future__ import annotations

import numpy as np


def _elementary(q_deg: np.ndarray | float, axis: int) -> np.ndarray:
    q = np.radians(np.asarray(q_deg, dtype=float))
    c, s = np.cos(q), np.sin(q)
    out = np.zeros(q.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def rx(q_deg: np.ndarray | float) -> np.ndarray:
    """``(..., 3, 3)`` rotation about x by ``q_deg`` degrees."""
    return _elementary(q_deg, 0)


def ry(q_deg: np.ndarray | float) -> np.ndarray:
    """``(..., 3, 3)`` rotation about y by ``q_deg`` degrees."""
    return _elementary(q_deg, 1)


def rz(q_deg: np.ndarray | float) -> np.ndarray:
    """``(..., 3, 3)`` rotation about z by ``q_deg`` degrees."""
    return _elementary(q_deg, 2)


def yxz_matrix(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``Ry(a) @ Rx(b) @ Rz(c)`` for ``(F,)`` angle arrays (degrees) -> ``(F, 3, 3)``."""
    return ry(a) @ rx(b) @ rz(c)


def yxz_angles(r: np.ndarray) -> np.ndarray:
    """Cardan YXZ angles ``(a, b, c)`` in degrees of ``(..., 3, 3)`` rotations -> ``(..., 3)``.

    ``a = atan2(R13, R33)``, ``b = asin(-R23)``, ``c = atan2(R21, R22)`` (1-based indices).
    """
    a = np.arctan2(r[..., 0, 2], r[..., 2, 2])
    b = np.arcsin(np.clip(-r[..., 1, 2], -1.0, 1.0))
    c = np.arctan2(r[..., 1, 0], r[..., 1, 1])
    return np.degrees(np.stack([a, b, c], axis=-1))


def relative(r_prox: np.ndarray, r_dist: np.ndarray) -> np.ndarray:
    """Rotation of the distal segment in the proximal one: ``R_prox^T @ R_dist``."""
    return np.swapaxes(r_prox, -1, -2) @ r_dist


def progression_matrix(direction: str) -> np.ndarray:
    """``(3, 3)`` progression frame for ``'+X'``, ``'-X'``, ``'+Y'`` or ``'-Y'`` (z up)."""
    heading = {"+X": 0.0, "+Y": 90.0, "-X": 180.0, "-Y": -90.0}[direction]
    m = rz(heading)
    return np.round(m, 15) + 0.0
