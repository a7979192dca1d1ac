"""Vectorised 3-D geometry for the CGM1 model: unit vectors, frames, rotations, chords.

Every function works on stacks of frames: vectors are ``(F, 3)`` (or ``(3,)``), rotation
matrices ``(F, 3, 3)`` with the unit axes as **columns** (cgm1_spec section 0). Missing data
are NaN and propagate: a frame with a NaN input gives NaN in exactly the outputs computed
from it. Angles given to or returned by the public functions are in **degrees** unless a
name says ``_rad``.

References
----------
Kadaba MP, Ramakrishnan HK, Wootten ME (1990) Measurement of lower extremity kinematics
during level walking. J Orthop Res 8:383-392 (wand/chord construction of joint centres).
Davis RB, Ounpuu S, Tyburski D, Gage JR (1991) A gait analysis data collection and reduction
technique. Hum Mov Sci 10:575-587.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

__all__ = [
    "norm", "unit", "cross", "dot", "orthogonalise", "frame_from_yz", "frame_from_zy",
    "rot_x", "rot_y", "rot_z", "yxz_angles", "yxz_relative", "relative", "pose", "wrap_deg",
    "chord", "chord_offset",
]


def norm(v: np.ndarray) -> np.ndarray:
    """Euclidean length along the last axis: ``(..., 3) -> (...)``."""
    v = np.asarray(v, dtype=float)
    return np.sqrt(np.einsum("...i,...i->...", v, v))


def unit(v: np.ndarray) -> np.ndarray:
    """Unit vector(s) ``(..., 3)``; a zero-length vector gives NaN (never a silent zero)."""
    v = np.asarray(v, dtype=float)
    n = norm(v)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = v / n
    return np.where(n > 0, out, np.nan)


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product along the last axis (``(..., 3)``), broadcasting."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ax, ay, az = a[..., 0], a[..., 1], a[..., 2]
    bx, by, bz = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx), axis=-1)


def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot product along the last axis: ``(..., 3), (..., 3) -> (...)``."""
    return np.einsum("...i,...i->...", np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def orthogonalise(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Unit vector of ``v`` with its component along the unit ``axis`` removed. ``(F, 3)``."""
    return unit(v - dot(v, axis)[..., None] * axis)


def _columns(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Rotation from its axes; a frame with any NaN axis is NaN entirely (no partial frames)."""
    r = np.stack((x, y, z), axis=-1)
    bad = ~np.isfinite(r).all(axis=(-1, -2))
    if bad.any():
        r[bad] = np.nan
    return r


def frame_from_zy(z_hint: np.ndarray, y_hint: np.ndarray) -> np.ndarray:
    """Frame with ``z = unit(z_hint)``, ``y`` = ``y_hint`` orthogonalised to z, ``x = y x z``.

    The CGM1 construction of the thigh, tibia and foot (cgm1_spec 8-10).

    Parameters
    ----------
    z_hint, y_hint: ``(F, 3)`` lab vectors.

    Returns
    -------
    ``(F, 3, 3)`` rotation, columns x, y, z.
    """
    z = unit(z_hint)
    y = orthogonalise(y_hint, z)
    return _columns(cross(y, z), y, z)


def frame_from_yz(y_hint: np.ndarray, v_hint: np.ndarray) -> np.ndarray:
    """Frame with ``y = unit(y_hint)``, ``x`` = ``v_hint`` orthogonalised to y, ``z = x x y``.

    The CGM1 pelvis construction (cgm1_spec 5): y from RASI to LASI, x from the rear pelvis
    point towards the ASIS midpoint.
    """
    y = unit(y_hint)
    x = orthogonalise(v_hint, y)
    return _columns(x, y, cross(x, y))


def rot_x(q_deg: np.ndarray | float) -> np.ndarray:
    """Elementary rotation about x (right-hand rule), ``(...,) deg -> (..., 3, 3)``."""
    q = np.deg2rad(np.asarray(q_deg, dtype=float))
    c, s = np.cos(q), np.sin(q)
    o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack((np.stack((o, z, z), -1), np.stack((z, c, -s), -1), np.stack((z, s, c), -1)), -2)


def rot_y(q_deg: np.ndarray | float) -> np.ndarray:
    """Elementary rotation about y (right-hand rule), ``(...,) deg -> (..., 3, 3)``."""
    q = np.deg2rad(np.asarray(q_deg, dtype=float))
    c, s = np.cos(q), np.sin(q)
    o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack((np.stack((c, z, s), -1), np.stack((z, o, z), -1), np.stack((-s, z, c), -1)), -2)


def rot_z(q_deg: np.ndarray | float) -> np.ndarray:
    """Elementary rotation about z (right-hand rule), ``(...,) deg -> (..., 3, 3)``."""
    q = np.deg2rad(np.asarray(q_deg, dtype=float))
    c, s = np.cos(q), np.sin(q)
    o, z = np.ones_like(q), np.zeros_like(q)
    return np.stack((np.stack((c, -s, z), -1), np.stack((s, c, z), -1), np.stack((z, z, o), -1)), -2)


def relative(r_prox: np.ndarray, r_dist: np.ndarray) -> np.ndarray:
    """Rotation of the distal frame in the proximal one: ``R_P^T . R_D`` (broadcasting)."""
    return np.matmul(np.swapaxes(r_prox, -1, -2), r_dist)


def yxz_angles(r: np.ndarray) -> np.ndarray:
    """Cardan Y-X-Z decomposition ``R = Ry(a) Rx(b) Rz(c)`` (cgm1_spec section 0).

    Parameters
    ----------
    r: ``(..., 3, 3)`` rotation matrices.

    Returns
    -------
    ``(..., 3)`` angles (a, b, c) in degrees; a, c in (-180, 180], b in [-90, 90].
    NaN where the matrix holds NaN.
    """
    a = np.arctan2(r[..., 0, 2], r[..., 2, 2])
    b = np.arcsin(np.clip(-r[..., 1, 2], -1.0, 1.0))
    c = np.arctan2(r[..., 1, 0], r[..., 1, 1])
    out = np.degrees(np.stack((a, b, c), axis=-1))
    bad = ~np.isfinite(r).all(axis=(-1, -2))
    if bad.any():
        out[bad] = np.nan
    return out


def yxz_relative(r_prox: np.ndarray, r_dist: np.ndarray) -> np.ndarray:
    """``yxz_angles(relative(r_prox, r_dist))`` computing only the five needed elements.

    Parameters
    ----------
    r_prox, r_dist: ``(F, 3, 3)`` or ``(3, 3)`` rotations (broadcast).

    Returns
    -------
    ``(F, 3)`` YXZ angles in degrees; NaN for frames with any NaN in either rotation.
    """
    def el(i: int, k: int) -> np.ndarray:  # (R_P^T R_D)[i, k] = column i of P . column k of D
        return (r_prox[..., 0, i] * r_dist[..., 0, k] + r_prox[..., 1, i] * r_dist[..., 1, k]
                + r_prox[..., 2, i] * r_dist[..., 2, k])
    a = np.arctan2(el(0, 2), el(2, 2))
    b = np.arcsin(np.clip(-el(1, 2), -1.0, 1.0))
    c = np.arctan2(el(1, 0), el(1, 1))
    out = np.degrees(np.stack((a, b, c), axis=-1))
    bad = np.isnan(np.sum(r_prox, axis=(-1, -2)) + np.sum(r_dist, axis=(-1, -2)))
    if np.any(bad):
        out[np.broadcast_to(bad, out.shape[:-1])] = np.nan
    return out


def pose(rotation: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Homogeneous poses ``(F, 4, 4)`` from rotations ``(F, 3, 3)`` and origins ``(F, 3)`` mm.

    A frame whose rotation or origin holds NaN is NaN in its whole upper 3x4 block.
    """
    f = rotation.shape[0]
    out = np.zeros((f, 4, 4))
    out[:, :3, :3] = rotation
    out[:, :3, 3] = origin
    out[:, 3, 3] = 1.0
    bad = np.isnan(out[:, :3, :3].sum(axis=(1, 2)) + out[:, :3, 3].sum(axis=1))
    if bad.any():
        out[bad, :3, :] = np.nan
    return out


def wrap_deg(a: np.ndarray | float) -> np.ndarray:
    """Wrap angles in degrees to (-180, 180]."""
    a = np.asarray(a, dtype=float)
    w = np.mod(a + 180.0, 360.0) - 180.0
    return np.where(w == -180.0, 180.0, w)


# ----------------------------------------------------------------------------------------
# Chord function (Kadaba 1990; cgm1_spec 7)
# ----------------------------------------------------------------------------------------

def _chord_basis(p, j, k, delta):
    """Circle of candidate joint centres: centre c0, radius rho, in-plane w, normal n."""
    delta = np.asarray(delta, dtype=float)
    if delta.ndim:
        delta = delta[..., None]
    jk = j - k
    d = norm(jk)[..., None]
    u = jk / d
    n = unit(cross(p - k, jk))
    w = cross(n, u)
    ratio = delta / d
    with np.errstate(invalid="ignore"):
        rho = delta * np.sqrt(1.0 - ratio ** 2)
    c0 = k + (delta * ratio) * u
    return c0, rho, w, n


def chord(p: np.ndarray, j: np.ndarray, k: np.ndarray, delta: float | np.ndarray) -> np.ndarray:
    """Joint centre E by the chord function without offset (cgm1_spec 7.1).

    E satisfies ``|E - K| = delta``, angle J-E-K = 90 deg, and lies in the plane (P, J, K) on
    the side of the wand P (medial to K).

    Parameters
    ----------
    p: ``(F, 3)`` wand marker (THI or TIB), mm.
    j: ``(F, 3)`` proximal joint centre (HJC or KJC), mm.
    k: ``(F, 3)`` lateral marker on the joint axis (KNE or ANK), mm.
    delta: distance from K to E, mm (``Width/2 + MarkerDiameter/2``), scalar or ``(F,)``.

    Returns
    -------
    ``(F, 3)`` joint centre, mm; NaN where an input is missing or ``delta >= |J - K|``.
    """
    c0, rho, w, _ = _chord_basis(p, j, k, delta)
    return c0 + rho * w


def _dihedral(e, p, j, k):
    """Signed dihedral angle (rad) about unit(E - J) from the half-plane of K to that of P."""
    a = unit(e - j)
    ke = k - e
    pe = p - e
    v1 = ke - dot(ke, a)[..., None] * a
    v2 = pe - dot(pe, a)[..., None] * a
    return np.arctan2(dot(a, cross(v1, v2)), dot(v1, v2))


def chord_offset(p: np.ndarray, j: np.ndarray, k: np.ndarray, delta: float | np.ndarray,
                 offset_deg: float, tol_rad: float = 1e-12, max_iter: int = 60) -> np.ndarray:
    """Joint centre by the chord function with a rotation offset (cgm1_spec 7.2).

    E stays on the circle ``E(phi) = c0 + rho (cos(phi) w + sin(phi) n)`` (so ``|E - K| =
    delta`` and ``(E - K).(E - J) = 0``); phi is chosen per frame so that the signed dihedral
    angle about ``unit(E - J)`` from the half-plane of K to that of P equals ``offset_deg``.
    phi is found for all frames at once by a vectorised secant iteration started at 0.

    Parameters
    ----------
    p, j, k, delta: as :func:`chord`.
    offset_deg: the rotation offset beta_off in degrees (0 gives :func:`chord` exactly).
    tol_rad: convergence tolerance on the dihedral residual (radians).
    max_iter: iteration limit; frames not converged by then are NaN (flagged).

    Returns
    -------
    ``(F, 3)`` joint centre, mm; NaN where an input is missing or the iteration did not
    converge (degenerate geometry, e.g. the wand nearly on the segment axis).
    """
    c0, rho, w, n = _chord_basis(p, j, k, delta)
    if offset_deg == 0.0:
        return c0 + rho * w
    beta = np.deg2rad(offset_deg)
    # in-plane coordinates (basis u, w, n; K at the origin): J = (d, 0, 0), P = (pu, pw, 0),
    # E(phi) = (eu, rho cos(phi), rho sin(phi)); |E - J| = sqrt(d^2 - delta^2) (Pythagoras)
    jk = j - k
    d = norm(jk)
    pk = p - k
    pu, pw = dot(pk, jk) / d, dot(pk, w)
    rho1 = rho[..., 0] if np.ndim(rho) else np.full(d.shape, rho)
    delta2 = np.broadcast_to(np.asarray(delta, dtype=float) ** 2, d.shape)
    eu = delta2 / d
    with np.errstate(invalid="ignore"):
        h = np.sqrt(d * d - delta2)

    args = (eu, rho1, d, h, pu, pw)

    def resid(phi: np.ndarray, idx: Optional[np.ndarray] = None) -> np.ndarray:
        a = args if idx is None else tuple(x[idx] for x in args)
        r = _plane_dihedral(phi, *a) - beta
        return np.mod(r + np.pi, 2.0 * np.pi) - np.pi

    phi = _secant(resid, np.zeros(d.shape), np.full(d.shape, beta), tol_rad, max_iter)
    return c0 + rho * (np.cos(phi)[..., None] * w + np.sin(phi)[..., None] * n)


def _plane_dihedral(phi, eu, rho, d, h, pu, pw):
    """Dihedral of :func:`_dihedral` in the chord plane's coordinates (scalars per frame)."""
    e2, e3 = rho * np.cos(phi), rho * np.sin(phi)
    a1, a2, a3 = (eu - d) / h, e2 / h, e3 / h          # unit(E - J)
    q1, q2 = pu - eu, pw - e2                           # P - E (third component -e3)
    # K - E = (-eu, -e2, -e3); triple a . ((K - E) x (P - E)) and projected dot product
    cx = e2 * e3 + e3 * q2
    cy = -e3 * q1 - eu * e3
    cz = -eu * q2 + e2 * q1
    trip = a1 * cx + a2 * cy + a3 * cz
    ka = -(eu * a1 + e2 * a2 + e3 * a3)
    qa = q1 * a1 + q2 * a2 - e3 * a3
    dd = -eu * q1 - e2 * q2 + e3 * e3 - ka * qa
    return np.arctan2(trip, dd)


def _secant(resid, x0: np.ndarray, x1: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Vectorised secant iteration, each step only on the frames not yet converged.

    ``resid(x, idx)`` evaluates the residual of frames ``idx``; frames that do not converge
    in ``max_iter`` steps (or hit NaN) are NaN in the result.
    """
    f0, f1 = resid(x0), resid(x1)
    done = np.abs(f1) <= tol
    active = np.flatnonzero(~done & np.isfinite(f1))
    x = x1.copy()
    x0a, x1a, f0a, f1a = x0[active], x1[active], f0[active], f1[active]
    for _ in range(max_iter):
        if active.size == 0:
            break
        with np.errstate(invalid="ignore", divide="ignore"):
            step = f1a * (x1a - x0a) / (f1a - f0a)
        step = np.where(np.isfinite(step), np.clip(step, -0.5, 0.5), 0.0)
        x0a, f0a = x1a, f1a
        x1a = x1a - step
        f1a = resid(x1a, active)
        x[active] = x1a
        ok = np.abs(f1a) <= tol
        done[active[ok]] = True
        keep = ~ok & np.isfinite(f1a)
        active, x0a, x1a, f0a, f1a = active[keep], x0a[keep], x1a[keep], f0a[keep], f1a[keep]
    return np.where(done, x, np.nan)
