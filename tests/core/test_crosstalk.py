"""DynaKAD-type thigh offset (cgm1_spec 16.3) on synthetic hinge knees with known errors."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import AnalysisError
from core.kinematics.cgm1 import reconstruct
from core.kinematics.crosstalk import (corrected_hip_angles, corrected_knee_angles,
                                       estimate_thigh_offset, knee_varus_variance)
from tests.core.cgm1_walker import make_walker, walker_subject


def _hinge(error=(0.0, 0.0), **kw):
    w = make_walker(n=300, hinge_knee=True, thigh_error_deg=error, **kw)
    return w, reconstruct(w.trial, walker_subject(w))


@pytest.mark.parametrize("error", [(8.0, -12.0), (-15.0, 5.0), (0.0, 20.0)])
def test_recovers_known_thigh_rotation(error) -> None:
    """The model's thigh is rotated by e about its long axis -> phi* = -e, varus ~0 after."""
    w, out = _hinge(error)
    for i, side in enumerate(("Left", "Right")):
        raw = out.channels[f"{side[0]}KneeAngles"]
        if error[i] != 0.0:  # cross-talk is visible before the correction
            assert np.ptp(raw[:, 1]) > 2.0
        phi = estimate_thigh_offset([out], side)
        assert phi == pytest.approx(-error[i], abs=0.1)
        knee = corrected_knee_angles(out, side, phi)
        assert np.max(np.abs(knee[:, 1])) < 0.05
        np.testing.assert_allclose(knee[:, 0], w.expected[f"{side[0]}KneeAngles"][:, 0], atol=0.05)
        # the exact correction restores the true hip angles
        np.testing.assert_allclose(corrected_hip_angles(out, side, -error[i]),
                                   w.expected[f"{side[0]}HipAngles"], atol=1e-6)


def test_no_error_gives_zero_and_identity() -> None:
    _, out = _hinge()
    assert estimate_thigh_offset(out, "Left") == pytest.approx(0.0, abs=0.05)
    np.testing.assert_allclose(corrected_knee_angles(out, "Right", 0.0), out.channels["RKneeAngles"], atol=1e-10)
    np.testing.assert_allclose(corrected_hip_angles(out, "Left", 0.0), out.channels["LHipAngles"], atol=1e-10)


def test_several_trials_frames_and_flexion_window() -> None:
    _, out1 = _hinge((10.0, 0.0))
    _, out2 = _hinge((10.0, 0.0), walk_mm=1200.0)
    mask = np.zeros(out1.n_frames, bool)
    mask[50:200] = True
    phi = estimate_thigh_offset([out1, out2], "Left", frames=[mask, None], flexion_range=(0.0, 60.0))
    assert phi == pytest.approx(-10.0, abs=0.1)


def test_nan_frames_dropped_and_kept_nan() -> None:
    w, out = _hinge((6.0, 0.0))
    pts = w.trial.points.copy()
    pts[100:120, w.trial.index("LANK")] = np.nan
    out = reconstruct(w.trial.with_changes(points=pts), walker_subject(w))
    assert estimate_thigh_offset(out, "Left") == pytest.approx(-6.0, abs=0.1)
    knee = corrected_knee_angles(out, "Left", -6.0)
    assert np.isnan(knee[100:120]).all() and np.isfinite(knee[:100]).all()


def test_too_few_frames() -> None:
    _, out = _hinge()
    with pytest.raises(AnalysisError):
        estimate_thigh_offset(out, "Left", frames=[np.arange(5)])


def test_objective_matches_decomposition() -> None:
    """J(phi) computed in closed form equals the variance of the corrected knee varus."""
    _, out = _hinge((9.0, 0.0))
    m = np.swapaxes(out.segments["LFemur"][:, :3, :3], 1, 2) @ out.segments["LTibiaUntorsioned"][:, :3, :3]
    for phi in (-20.0, -9.0, 3.0):
        assert knee_varus_variance(m, phi)[0] == pytest.approx(np.var(corrected_knee_angles(out, "L", phi)[:, 1]),
                                                               rel=1e-9)


@pytest.mark.parametrize("side", ["Left", "Right"])
def test_thigh_rotation_for_offset(side: str) -> None:
    """Spec 16.3 step 5b: the ThighRotation found turns the thigh by phi (mean), moves KJC,
    and the map is not 1:1."""
    from core.kinematics.crosstalk import thigh_rotation_for_offset
    from core.kinematics.geometry import yxz_relative
    w = make_walker(n=120)
    sub = walker_subject(w)
    value = thigh_rotation_for_offset(w.trial, sub, side, 7.0)
    ref = reconstruct(w.trial, sub)
    out = reconstruct(w.trial, walker_subject(w, **{f"{side}ThighRotation": value}))
    p = side[0]
    turn = yxz_relative(ref.segments[f"{p}Femur"][:, :3, :3], out.segments[f"{p}Femur"][:, :3, :3])
    assert np.mean(turn[:, 2]) == pytest.approx(7.0, abs=1e-6)
    # mostly an axial turn; KJC moves on its circle, so the long axis also tilts by ~1 deg
    assert np.max(np.abs(turn[:, :2])) < 2.0
    assert np.min(np.linalg.norm(out.channels[f"{p}KJC"] - ref.channels[f"{p}KJC"], axis=1)) > 1.0
    assert abs(value) > 1.0 and abs(abs(value) - 7.0) > 0.5
    with pytest.raises(AnalysisError):
        thigh_rotation_for_offset(w.trial, sub, side, 89.0, search_deg=5.0)
