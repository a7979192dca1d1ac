"""Known-truth, invariance and NaN-propagation tests of CGM1 on a synthetic walker."""
from __future__ import annotations

import numpy as np
import pytest

from core.kinematics.cgm1 import calibrate, reconstruct
from core.kinematics.geometry import relative, yxz_angles
from core.model import Trial
from tests.core.cgm1_walker import make_walker, rz, walker_subject

ANGLES = tuple(f"{s}{c}" for s in "LR" for c in
               ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles"))
CENTRES = tuple(f"{s}{j}" for s in "LR" for j in ("HJC", "KJC", "AJC"))
TOL = 1e-6  # deg; mm for centres


def _check(out, expected, names, tol=TOL):
    for name in names:
        np.testing.assert_allclose(out.channels[name], expected[name], atol=tol, err_msg=name)


@pytest.mark.parametrize("rear", ["SACR", "PSIS", "both"])
def test_walker_angles_recovered(rear: str) -> None:
    w = make_walker(rear=rear)
    out = reconstruct(w.trial, walker_subject(w))
    np.testing.assert_array_equal(out.progression, np.eye(3))
    _check(out, w.expected, ANGLES + CENTRES)


def test_walker_with_all_offsets_recovered() -> None:
    """Tibial torsion, thigh and shank rotation offsets (offset chord) and foot offsets."""
    w = make_walker(tibial_torsion=(-15.0, 12.0), thigh_rotation=(-4.0, 6.0), shank_rotation=(9.0, -3.5),
                    foot_offsets=((12.0, -3.0), (9.5, 4.0)))
    out = reconstruct(w.trial, walker_subject(w))
    _check(out, w.expected, ANGLES + CENTRES)


def test_offsets_have_effect() -> None:
    """Sanity: ignoring the offsets gives clearly different results (the tests can fail)."""
    w = make_walker(thigh_rotation=(-4.0, 6.0), tibial_torsion=(-15.0, 12.0))
    vals = {**w.values, "LeftThighRotation": 0.0, "LeftTibialTorsion": 0.0}
    out = reconstruct(w.trial, walker_subject(w, **vals))
    assert np.max(np.abs(out.channels["LKJC"] - w.expected["LKJC"])) > 1.0
    assert np.max(np.abs(out.channels["LKneeAngles"][:, 2] - w.expected["LKneeAngles"][:, 2])) > 5.0
    _check(out, w.expected, ("RKneeAngles", "RHJC", "LHJC"))


def test_segments_are_the_true_frames() -> None:
    w = make_walker(tibial_torsion=(-10.0, 5.0))
    out = reconstruct(w.trial, walker_subject(w))
    for side in ("Left", "Right"):
        p = side[0]
        np.testing.assert_allclose(out.segments[f"{p}Femur"][:, :3, :3], w.thigh[side], atol=1e-9)
        np.testing.assert_allclose(out.segments[f"{p}TibiaUntorsioned"][:, :3, :3], w.tibia_u[side], atol=1e-9)
        np.testing.assert_allclose(out.segments[f"{p}Femur"][:, :3, 3], w.expected[f"{p}KJC"], atol=1e-9)
    hip_centre = (w.expected["LHJC"] + w.expected["RHJC"]) / 2
    np.testing.assert_allclose(out.segments["Pelvis"][:, :3, 3], hip_centre, atol=1e-9)


def _transform(trial: Trial, rot: np.ndarray, shift: np.ndarray) -> Trial:
    return trial.with_changes(points=trial.points @ rot.T + shift)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_rotating_lab_by_quarter_turns_changes_nothing(quarter_turns: int) -> None:
    w = make_walker()
    sub = walker_subject(w)
    ref = reconstruct(w.trial, sub)
    rot = rz(np.array(90.0 * quarter_turns))
    out = reconstruct(_transform(w.trial, rot, np.array([1234.5, -987.0, 12.0])), sub)
    for name in ANGLES:
        np.testing.assert_allclose(out.channels[name], ref.channels[name], atol=1e-9, err_msg=name)
    np.testing.assert_allclose(out.progression, rot @ ref.progression, atol=1e-12)


def test_translation_changes_nothing() -> None:
    w = make_walker()
    sub = walker_subject(w)
    ref = reconstruct(w.trial, sub)
    shift = np.array([-3000.0, 2500.0, 40.0])
    out = reconstruct(_transform(w.trial, np.eye(3), shift), sub)
    for name in ANGLES:
        np.testing.assert_allclose(out.channels[name], ref.channels[name], atol=1e-9)
    for name in CENTRES:
        np.testing.assert_allclose(out.channels[name], ref.channels[name] + shift, atol=1e-9)


def test_arbitrary_z_rotation_keeps_joint_angles() -> None:
    """A diagonal walkway: hip/knee/ankle unchanged; pelvis rotation and foot progression shift
    by the walkway angle (progression snaps to +X, spec 4 and 17)."""
    w = make_walker()
    sub = walker_subject(w)
    ref = reconstruct(w.trial, sub)
    out = reconstruct(_transform(w.trial, rz(np.array(30.0)), np.zeros(3)), sub)
    for name in [n for n in ANGLES if "Hip" in n or "Knee" in n or "Ankle" in n]:
        np.testing.assert_allclose(out.channels[name], ref.channels[name], atol=1e-9, err_msg=name)
    np.testing.assert_array_equal(out.progression, np.eye(3))
    assert np.max(np.abs(out.channels["LPelvisAngles"][:, 2] - ref.channels["LPelvisAngles"][:, 2])) > 10


def test_mirroring_swaps_sides() -> None:
    """Reflect the lab in Y and swap L/R labels: left outputs = right outputs of the original."""
    w = make_walker(tibial_torsion=(-10.0, 6.0), foot_offsets=((10.0, -2.0), (12.0, 3.0)))
    ref = reconstruct(w.trial, walker_subject(w))
    swap = {"L": "R", "R": "L"}
    labels = tuple(swap.get(l[0], l[0]) + l[1:] if l != "SACR" else l for l in w.trial.labels)
    mirrored = w.trial.with_changes(labels=labels, points=w.trial.points * [1.0, -1.0, 1.0])
    vals = {}
    for k, v in w.values.items():
        vals[k.replace("Left", "@").replace("Right", "Left").replace("@", "Right")] = v
    out = reconstruct(mirrored, walker_subject(w, **vals))
    for name in ANGLES:
        other = swap[name[0]] + name[1:]
        np.testing.assert_allclose(out.channels[name], ref.channels[other], atol=1e-9, err_msg=name)


def test_nan_propagation_exact() -> None:
    """No LANK in frames 50-59: exactly LAJC and the left knee, ankle and foot outputs are NaN there."""
    w = make_walker()
    pts = w.trial.points.copy()
    pts[50:60, w.trial.index("LANK")] = np.nan
    out = reconstruct(w.trial.with_changes(points=pts), walker_subject(w))
    hit = {"LAJC", "LKneeAngles", "LAnkleAngles", "LFootProgressAngles"}
    gap = np.zeros(w.trial.n_frames, bool)
    gap[50:60] = True
    for name, v in out.channels.items():
        assert np.isfinite(v[~gap]).all(), name
        if name in hit:
            assert np.isnan(v[gap]).all(), name
        else:
            assert np.isfinite(v[gap]).all(), name
    for seg in ("LTibia", "LTibiaUntorsioned", "LFoot", "LFootUncorrected"):
        assert np.isnan(out.segments[seg][gap, :3, :]).all()
    assert np.isfinite(out.segments["LFemur"]).all()


def test_nan_propagation_thigh_and_pelvis() -> None:
    w = make_walker(rear="both")
    pts = w.trial.points.copy()
    pts[10:12, w.trial.index("RTHI")] = np.nan
    pts[20, w.trial.index("LASI")] = np.nan
    pts[30:40, w.trial.index("SACR")] = np.nan  # PSIS midpoint takes over: no gap
    out = reconstruct(w.trial.with_changes(points=pts), walker_subject(w))
    right_thigh = {"RKJC", "RAJC", "RHipAngles", "RKneeAngles", "RAnkleAngles", "RFootProgressAngles"}
    for name, v in out.channels.items():
        assert np.isnan(v[20]).all(), name  # a pelvis marker removes every output
        assert np.isnan(v[10:12]).all() == (name in right_thigh), name
        assert np.isfinite(v[10:12]).all() == (name not in right_thigh), name
        np.testing.assert_allclose(v[30:40], w.expected[name][30:40], atol=TOL, err_msg=name)


def test_static_calibration_known_offsets() -> None:
    """HEE placed so the heel-based foot is the uncorrected foot rotated by known angles."""
    w = make_walker(n=60, walk_mm=0.0)
    pts = w.trial.points.copy()
    out0 = reconstruct(w.trial, walker_subject(w))
    truth = {}
    for side, (pf, rot) in (("Left", (13.0, -4.0)), ("Right", (8.0, 2.5))):
        p, s = side[0], 1.0 if side == "Left" else -1.0
        r_fu = out0.segments[f"{p}FootUncorrected"][:, :3, :3]
        # heel-based foot = R_fu Ry(-PF) Rx(rho): its z axis gives the heel direction
        from tests.core.cgm1_walker import rx, ry
        r_fc = r_fu @ ry(np.full(60, -pf)) @ rx(np.full(60, -s * rot))
        toe = pts[:, w.trial.index(f"{p}TOE")]
        pts[:, w.trial.index(f"{p}HEE")] = toe + 200.0 * r_fc[..., 2]
        abc = yxz_angles(relative(r_fu, r_fc))
        truth[side] = (-abc[:, 0].mean(), (-s) * abc[:, 1].mean())
    iad_cal = calibrate(w.trial.with_changes(points=pts), walker_subject(w, InterAsisDistance=0))
    cal = calibrate(w.trial.with_changes(points=pts), walker_subject(w))
    # IAD = distance between the MEAN positions (spec 3.1): the pelvis sways here, so it is a
    # little shorter than the true (per-frame) 240 mm
    lasi, rasi = w.trial.point("LASI"), w.trial.point("RASI")
    np.testing.assert_allclose(np.linalg.norm(lasi - rasi, axis=1), 240.0, atol=1e-9)
    assert iad_cal.iad_computed and not cal.iad_computed
    assert iad_cal.subject.source("InterAsisDistance") == "calibrate"
    assert iad_cal.iad_mm == pytest.approx(np.linalg.norm(lasi.mean(0) - rasi.mean(0)), abs=1e-9)
    for side in ("Left", "Right"):
        assert cal.static_plant_flex_deg[side] == pytest.approx(truth[side][0], abs=1e-9)
        assert cal.static_rot_off_deg[side] == pytest.approx(truth[side][1], abs=1e-9)
    assert truth["Left"] == pytest.approx((13.0, -4.0), abs=1e-9)
    assert truth["Right"] == pytest.approx((8.0, 2.5), abs=1e-9)
    # the dynamic foot rebuilt with the calibrated offsets has the heel foot's long axis (the
    # rotation about that axis, c, is discarded by spec 3.3)
    dyn = reconstruct(w.trial.with_changes(points=pts), cal.subject)
    for side in ("Left", "Right"):
        p = side[0]
        np.testing.assert_allclose(dyn.segments[f"{p}Foot"][:, :3, 2], cal.outputs.segments[f"{p}Foot"][:, :3, 2],
                                   atol=1e-9)


def test_flat_foot_drops_the_heel_to_toe_height() -> None:
    w = make_walker(n=30, walk_mm=0.0)
    flat = calibrate(w.trial, walker_subject(w, LeftFootFlat=1, RightFootFlat=1))
    pts = w.trial.points.copy()
    for p in "LR":
        pts[:, w.trial.index(f"{p}HEE"), 2] = pts[:, w.trial.index(f"{p}TOE"), 2]
    manual = calibrate(w.trial.with_changes(points=pts), walker_subject(w))
    assert flat.static_plant_flex_deg == pytest.approx(manual.static_plant_flex_deg, abs=1e-12)
    assert flat.static_rot_off_deg == pytest.approx(manual.static_rot_off_deg, abs=1e-12)
    sole = calibrate(w.trial, walker_subject(w, LeftFootFlat=1, LeftSoleDelta=10.0))
    assert sole.static_plant_flex_deg["Left"] != pytest.approx(flat.static_plant_flex_deg["Left"], abs=0.5)


def test_progression_static_uses_pelvis_direction() -> None:
    """A standing trial facing -Y: progression -Y (spec 4 step 2)."""
    w = make_walker(n=40, walk_mm=0.0)
    turned = _transform(w.trial, rz(np.array(-90.0)), np.zeros(3))
    out = reconstruct(turned, walker_subject(w))
    np.testing.assert_allclose(out.progression[:, 0], [0, -1, 0], atol=0)
    ref = reconstruct(w.trial, walker_subject(w))
    for name in ANGLES:
        np.testing.assert_allclose(out.channels[name], ref.channels[name], atol=1e-9)


def test_speed_1000_frames_smoke() -> None:
    """reconstruct is vectorised: 20,000 frames run in well under a second (timing is in benchmarks/)."""
    import time
    w = make_walker(n=20000, tibial_torsion=(-5.0, 5.0), thigh_rotation=(3.0, -2.0))
    sub = walker_subject(w)
    t0 = time.perf_counter()
    reconstruct(w.trial, sub)
    assert time.perf_counter() - t0 < 2.0


def test_ankle_abadd_turns_the_ankle_centre_about_ank() -> None:
    """Vicon's AnkleAbAdd (docs/cgm1.md): AJC turned about ANK by -AbAdd around tibia x."""
    w = make_walker()
    ref = reconstruct(w.trial, walker_subject(w))
    out = reconstruct(w.trial, walker_subject(w, LeftAnkleAbAdd=10.0))
    ank = w.trial.point("LANK")
    r0, r1 = ref.channels["LAJC"] - ank, out.channels["LAJC"] - ank
    np.testing.assert_allclose(np.linalg.norm(r1, axis=1), np.linalg.norm(r0, axis=1), atol=1e-9)
    x0 = ref.segments["LTibia"][:, :3, 0]
    cos = np.sum(r0 * r1, axis=1) / np.sum(r0 * r0, axis=1)
    np.testing.assert_allclose(np.degrees(np.arccos(np.clip(cos, -1, 1))), 10.0, atol=1e-6)
    # right hand rule about x: rotation by -10 deg
    np.testing.assert_array_less(np.sum(np.cross(r0, r1) * x0, axis=1), 0.0)
    for name in ("RAJC", "RKneeAngles", "LKJC", "LHipAngles"):
        np.testing.assert_array_equal(out.channels[name], ref.channels[name])
