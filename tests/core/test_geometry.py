"""Unit tests of core.kinematics.geometry (known truth, seeded randomness)."""
from __future__ import annotations

import numpy as np
import pytest

from core.kinematics.geometry import (chord, chord_offset, cross, dot, frame_from_yz,
                                      frame_from_zy, norm, pose, relative, rot_x, rot_y, rot_z,
                                      unit, wrap_deg, yxz_angles, _dihedral)

RNG = np.random.default_rng(20261121)


def _random_rotations(n: int) -> np.ndarray:
    q = RNG.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1)], -2)


def test_unit_and_nan_and_zero() -> None:
    v = np.array([[3.0, 4.0, 0.0], [np.nan, 1.0, 0.0], [0.0, 0.0, 0.0]])
    u = unit(v)
    np.testing.assert_allclose(u[0], [0.6, 0.8, 0.0])
    assert np.isnan(u[1]).all() and np.isnan(u[2]).all()
    np.testing.assert_allclose(norm(v[:1]), [5.0])


def test_cross_dot_match_numpy() -> None:
    a, b = RNG.normal(size=(50, 3)), RNG.normal(size=(50, 3))
    np.testing.assert_allclose(cross(a, b), np.cross(a, b), atol=1e-14)
    np.testing.assert_allclose(dot(a, b), np.sum(a * b, axis=1), atol=1e-14)


def test_elementary_rotations_right_handed() -> None:
    np.testing.assert_allclose(rot_z(90.0) @ [1.0, 0, 0], [0, 1.0, 0], atol=1e-15)
    np.testing.assert_allclose(rot_x(90.0) @ [0, 1.0, 0], [0, 0, 1.0], atol=1e-15)
    np.testing.assert_allclose(rot_y(90.0) @ [0, 0, 1.0], [1.0, 0, 0], atol=1e-15)
    q = RNG.uniform(-180, 180, size=7)
    for r in (rot_x(q), rot_y(q), rot_z(q)):
        assert r.shape == (7, 3, 3)
        np.testing.assert_allclose(r @ np.swapaxes(r, 1, 2), np.broadcast_to(np.eye(3), (7, 3, 3)), atol=1e-14)


def test_yxz_round_trip() -> None:
    a = RNG.uniform(-179, 179, 200)
    b = RNG.uniform(-89, 89, 200)
    c = RNG.uniform(-179, 179, 200)
    r = rot_y(a) @ rot_x(b) @ rot_z(c)
    np.testing.assert_allclose(yxz_angles(r), np.stack([a, b, c], -1), atol=1e-9)


def test_yxz_recomposes_any_rotation() -> None:
    r = _random_rotations(100)
    abc = yxz_angles(r)
    back = rot_y(abc[:, 0]) @ rot_x(abc[:, 1]) @ rot_z(abc[:, 2])
    np.testing.assert_allclose(back, r, atol=1e-12)


def test_yxz_nan_frame_is_all_nan() -> None:
    r = np.stack([np.eye(3), np.eye(3)])
    r[1, 0, 0] = np.nan
    out = yxz_angles(r)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()


def test_frames_orthonormal_right_handed() -> None:
    zh, yh = RNG.normal(size=(30, 3)), RNG.normal(size=(30, 3))
    for r in (frame_from_zy(zh, yh), frame_from_yz(yh, zh)):
        np.testing.assert_allclose(np.swapaxes(r, 1, 2) @ r, np.broadcast_to(np.eye(3), (30, 3, 3)), atol=1e-13)
        np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-13)
    r = frame_from_zy(zh, yh)
    np.testing.assert_allclose(r[:, :, 2], unit(zh), atol=1e-14)
    assert np.all(dot(r[:, :, 1], yh) > 0)
    r = frame_from_yz(yh, zh)
    np.testing.assert_allclose(r[:, :, 1], unit(yh), atol=1e-14)


def test_frame_with_nan_axis_is_all_nan() -> None:
    zh = np.array([[0, 0, 1.0], [0, 0, 1.0]])
    yh = np.array([[0, 1.0, 0], [np.nan, np.nan, np.nan]])
    r = frame_from_zy(zh, yh)
    assert np.isfinite(r[0]).all() and np.isnan(r[1]).all()


def test_relative_and_pose() -> None:
    ra, rb = _random_rotations(5), _random_rotations(5)
    np.testing.assert_allclose(ra @ relative(ra, rb), rb, atol=1e-13)
    p = pose(ra, np.ones((5, 3)))
    assert p.shape == (5, 4, 4) and np.all(p[:, 3, :3] == 0) and np.all(p[:, 3, 3] == 1)


def test_wrap() -> None:
    np.testing.assert_allclose(wrap_deg([190.0, -190.0, 180.0, -180.0, 540.0]), [-170, 170, 180, 180, 180])


def _chord_case(n: int):
    """Thigh-like geometry: HJC 400 mm above the knee, KNE lateral, wand mid-thigh lateral."""
    j = RNG.normal(scale=20, size=(n, 3)) + [0, 0, 400.0]
    k = RNG.normal(scale=5, size=(n, 3)) + [0, 70.0, 0]
    p = RNG.normal(scale=[20, 10, 30], size=(n, 3)) + [0, 140.0, 200.0]
    rot = _random_rotations(n)  # anywhere in the lab
    shift = RNG.normal(scale=1000, size=(n, 1, 3))
    return tuple((rot @ v[..., None])[..., 0] + shift[:, 0] for v in (p, j, k))


def test_chord_properties() -> None:
    """|E-K| = delta, angle J-E-K = 90 deg, E in the plane (P, J, K), across the line KJ
    from the (lateral) wand, i.e. medial to K."""
    p, j, k = _chord_case(200)
    e = chord(p, j, k, 79.0)
    np.testing.assert_allclose(norm(e - k), 79.0, atol=1e-9)
    np.testing.assert_allclose(dot(unit(e - k), unit(e - j)), 0.0, atol=1e-12)
    n = unit(cross(p - k, j - k))
    np.testing.assert_allclose(dot(e - k, n), 0.0, atol=1e-9)
    side_e = dot(cross(j - k, e - k), cross(j - k, p - k))
    assert np.all(side_e < 0)


def test_chord_worked_example_left_knee() -> None:
    """cgm1_spec 14.3: LKJC from LTHI, LHJC, LKNE with delta = 144/2 + 7."""
    e = chord(np.array([[1001.7397, 16.4251, 1436.4742]]), np.array([[1110.5600, 113.1714, 1633.1880]]),
              np.array([[969.3274, 58.2428, 1226.3877]]), 79.0)
    np.testing.assert_allclose(e[0], [1007.2221, 127.1937, 1219.2630], atol=2e-3)


def test_chord_nan_and_too_short() -> None:
    p, j, k = _chord_case(3)
    p[1] = np.nan
    j[2] = k[2] + [0, 0, 50.0]  # |J-K| = 50 < delta
    e = chord(p, j, k, 79.0)
    assert np.isfinite(e[0]).all() and np.isnan(e[1]).all() and np.isnan(e[2]).all()


def test_chord_offset_zero_is_chord() -> None:
    p, j, k = _chord_case(50)
    np.testing.assert_array_equal(chord_offset(p, j, k, 79.0, 0.0), chord(p, j, k, 79.0))


@pytest.mark.parametrize("offset", [-15.0, -11.14, -2.85, 1.72, 5.0, 15.0])
def test_chord_offset_solves_dihedral(offset: float) -> None:
    """Offset chord (spec 7.2): on the Thales circle, dihedral K->P about E-J = offset."""
    p, j, k = _chord_case(500)
    e = chord_offset(p, j, k, 79.0, offset)
    assert np.isfinite(e).all()
    np.testing.assert_allclose(norm(e - k), 79.0, atol=1e-9)
    np.testing.assert_allclose(dot(e - k, e - j), 0.0, atol=1e-7)
    np.testing.assert_allclose(np.degrees(_dihedral(e, p, j, k)), offset, atol=1e-8)
    # the zero-offset solution has zero dihedral
    np.testing.assert_allclose(np.degrees(_dihedral(chord(p, j, k, 79.0), p, j, k)), 0.0, atol=1e-8)


def test_chord_offset_nan_propagates() -> None:
    p, j, k = _chord_case(10)
    k[4] = np.nan
    e = chord_offset(p, j, k, 79.0, 7.0)
    assert np.isnan(e[4]).all() and np.isfinite(np.delete(e, 4, axis=0)).all()


def test_chord_offset_flags_unreachable_frames() -> None:
    """A wand on the segment axis (degenerate plane) gives NaN, never a wrong centre."""
    p, j, k = _chord_case(4)
    p[2] = k[2] + 0.3 * (j[2] - k[2])  # P on the line JK: no plane
    e = chord_offset(p, j, k, 79.0, 10.0)
    assert np.isnan(e[2]).all() and np.isfinite(e[[0, 1, 3]]).all()


def test_chord_offset_unreachable_offset_is_flagged() -> None:
    """A wand 3 mm off the K-J line admits only small dihedrals: 60 deg is flagged NaN."""
    _, j, k = _chord_case(20)
    lateral = unit(cross(j - k, np.array([1.0, 0.0, 0.0])))
    p = k + 0.5 * (j - k) + 3.0 * lateral
    assert np.isnan(chord_offset(p, j, k, 79.0, 60.0)).all()
    assert np.isfinite(chord_offset(p, j, k, 79.0, 0.5)).all()
