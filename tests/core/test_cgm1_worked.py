"""Each CGM1 step against the worked numbers of cgm1_spec section 14 (Test_Files sample)."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import CalibrationError, MissingMarkersError, SubjectParameterError
from core.kinematics.cgm1 import calibrate, reconstruct
from core.kinematics.cgm1_chain import (hip_joint_centres, hjc_local, leg_chain, output_angles,
                                        pelvis_frame, progression_frame, rear_pelvis_point)
from core.kinematics.cgm1_params import CGM1Parameters, asis_trochanter_regression
from core.kinematics.geometry import relative, yxz_angles
from core.model import Trial
from tests.conftest import reference_file
from tests.core.cgm1_support import load_trial, subject_from

SUBJECT = dict(LeftLegLength=877, RightLegLength=866, LeftKneeWidth=144, RightKneeWidth=139,
               LeftAnkleWidth=85, RightAnkleWidth=89, InterAsisDistance=306)
#: Test.vsk foot offsets (radians in the VSK) in degrees
OFFSETS = dict(LeftStaticPlantFlex=14.47857, RightStaticPlantFlex=13.72854,
               LeftStaticRotOff=-3.20963, RightStaticRotOff=-2.87640)
M = {  # spec 14.3, Movement_trial.c3d frame 694
    "LASI": (1036.8085, 56.7173, 1696.6792), "RASI": (999.6376, 368.4060, 1709.0587),
    "LPSI": (1225.5255, 165.9194, 1800.5931), "RPSI": (1214.2336, 273.6211, 1791.2078),
    "LTHI": (1001.7397, 16.4251, 1436.4742), "RTHI": (932.0433, 434.4580, 1504.0603),
    "LKNE": (969.3274, 58.2428, 1226.3877), "RKNE": (869.1982, 420.1890, 1288.6979),
    "LTIB": (986.3054, 46.1591, 1115.7419), "RTIB": (967.2011, 429.6885, 1252.7041),
    "LANK": (1094.1403, 120.3212, 865.8006), "RANK": (1190.8311, 360.9768, 1138.0536),
    "LTOE": (915.4450, 158.7743, 814.4420), "RTOE": (1105.3331, 337.8158, 975.2942),
}
PROG = np.array([[-1.0, 0, 0], [0, -1.0, 0], [0, 0, 1.0]])
CENTRES = {"LHJC": (1110.5600, 113.1714, 1633.1880), "RHJC": (1082.5902, 335.8303, 1641.8659),
           "LKJC": (1007.2221, 127.1937, 1219.2630), "RKJC": (916.3348, 365.3697, 1263.6933),
           "LAJC": (1116.2598, 163.0740, 877.3408), "RAJC": (1178.6059, 311.0976, 1134.1983)}
FRAMES = {  # columns x | y | z
    ("Left", "thigh"): [(-0.8434, 0.4870, 0.2271), (-0.4797, -0.8728, 0.0902), (0.2421, -0.0328, 0.9697)],
    ("Left", "tibia"): [(-0.8420, 0.4941, -0.2167), (-0.4469, -0.8637, -0.2331), (-0.3023, -0.0995, 0.9480)],
    ("Left", "foot_uncorrected"): [(-0.2953, -0.1036, 0.9498), (0.0504, -0.9944, -0.0928), (0.9541, 0.0204, 0.2988)],
    ("Left", "foot"): [(-0.0474, -0.0952, 0.9943), (0.1061, -0.9903, -0.0898), (0.9932, 0.1013, 0.0570)],
    ("Right", "thigh"): [(-0.6776, -0.6938, 0.2437), (0.6162, -0.7166, -0.3269), (0.4014, -0.0713, 0.9131)],
    ("Right", "tibia"): [(-0.4079, 0.1693, -0.8972), (-0.2374, -0.9685, -0.0749), (-0.8816, 0.1824, 0.4353)],
    ("Right", "foot_uncorrected"): [(-0.8809, 0.1821, 0.4368), (-0.2294, -0.9716, -0.0576), (0.4139, -0.1509, 0.8977)],
    ("Right", "foot"): [(-0.7575, 0.1411, 0.6374), (-0.2598, -0.9609, -0.0961), (0.5989, -0.2384, 0.7645)],
}
ANGLES = {
    "LPelvisAngles": (24.6061, -4.9021, -5.2310), "RPelvisAngles": (24.6061, 4.9021, 5.2310),
    "LHipAngles": (38.6478, 1.3194, 36.3043), "RHipAngles": (48.0113, -4.7198, 36.9179),
    "LKneeAngles": (26.4078, 18.5020, 2.8355), "RKneeAngles": (86.9686, 54.7089, -7.9041),
    "LAnkleAngles": (17.7943, 8.8079, -32.9974), "RAnkleAngles": (13.8159, -0.2622, -1.8035),
    "LFootProgressAngles": (-86.7155, 5.4916, -5.8133), "RFootProgressAngles": (-38.0733, 8.3550, -13.7905),
}
# the markers are given to 4 d.p.; the tolerances cover that rounding
TOL_MM, TOL_AXIS, TOL_DEG = 2e-3, 1.5e-4, 2e-3


def _m(name: str) -> np.ndarray:
    return np.array([M[name]], dtype=float)


def _params() -> CGM1Parameters:
    return CGM1Parameters.from_subject(subject_from({**SUBJECT, **OFFSETS}))


def _chain():
    params = _params()
    rear = rear_pelvis_point(None, _m("LPSI"), _m("RPSI"))
    origin, r_pel = pelvis_frame(_m("LASI"), _m("RASI"), rear)
    hjc = hip_joint_centres(origin, r_pel, params)
    legs = {s: leg_chain(params.side(s), params.marker_radius_mm, hjc[s],
                         *(_m(s[0] + m) for m in ("THI", "KNE", "TIB", "ANK", "TOE")))
            for s in ("Left", "Right")}
    return origin, r_pel, hjc, legs


def test_asis_trochanter_regression() -> None:
    assert asis_trochanter_regression(877) == pytest.approx(64.3976)
    assert asis_trochanter_regression(866) == pytest.approx(62.9808)
    p = _params()
    assert p.left.asis_trochanter_mm == pytest.approx(64.3976) and not p.left.asis_trochanter_given


def test_hjc_local_coordinates() -> None:
    """Spec 14.2: C = 84.9225 and the local HJC of each side."""
    p = _params()
    assert 0.115 * p.mean_leg_length_mm - 15.3 == pytest.approx(84.92250)
    np.testing.assert_allclose(hjc_local(p, "Left"), (-44.88800, 112.28598, -92.93484), atol=1e-5)
    np.testing.assert_allclose(hjc_local(p, "Right"), (-43.54047, -112.28598, -92.49724), atol=1e-5)


def test_pelvis_frame() -> None:
    origin, r_pel, _, _ = _chain()
    np.testing.assert_allclose(origin[0], (1018.2231, 212.5616, 1702.8690), atol=1e-4)
    np.testing.assert_allclose(r_pel[0].T, [(-0.9022, -0.0908, -0.4217), (0.1183, -0.9922, -0.0394),
                                            (-0.4149, -0.0855, 0.9059)], atol=1e-4)


def test_joint_centres_and_chord_checks() -> None:
    _, _, hjc, legs = _chain()
    got = {"LHJC": hjc["Left"], "RHJC": hjc["Right"], "LKJC": legs["Left"].kjc, "RKJC": legs["Right"].kjc,
           "LAJC": legs["Left"].ajc, "RAJC": legs["Right"].ajc}
    for name, want in CENTRES.items():
        np.testing.assert_allclose(got[name][0], want, atol=TOL_MM, err_msg=name)
    assert np.linalg.norm(legs["Left"].kjc[0] - M["LKNE"]) == pytest.approx(79.0, abs=1e-9)
    assert np.linalg.norm(legs["Right"].kjc[0] - M["RKNE"]) == pytest.approx(76.5, abs=1e-9)
    a, b = hjc["Left"][0] - legs["Left"].kjc[0], np.array(M["LKNE"]) - legs["Left"].kjc[0]
    assert abs(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)) < 1e-12


@pytest.mark.parametrize("side,segment", list(FRAMES))
def test_segment_frames(side: str, segment: str) -> None:
    _, _, _, legs = _chain()
    r = getattr(legs[side], segment)[0]
    np.testing.assert_allclose(r.T, FRAMES[(side, segment)], atol=TOL_AXIS)


@pytest.mark.parametrize("channel", list(ANGLES))
def test_output_angles(channel: str) -> None:
    _, r_pel, _, legs = _chain()
    side = "Left" if channel[0] == "L" else "Right"
    leg = legs[side]
    got = output_angles(side, PROG, r_pel, leg.thigh, leg.tibia, leg.tibia_untorsioned, leg.foot)[channel]
    np.testing.assert_allclose(got[0], ANGLES[channel], atol=TOL_DEG)


def test_foot_offset_is_the_documented_rotation() -> None:
    """Spec 10.2: R_foot_u^T R_foot = Ry(-PF) Rx(rho), rho_L = -RotOff_L, rho_R = +RotOff_R."""
    _, _, _, legs = _chain()
    for side, pf, ro, rho in (("Left", 14.47857, -3.20963, 3.20963), ("Right", 13.72854, -2.87640, -2.87640)):
        abc = yxz_angles(relative(legs[side].foot_uncorrected, legs[side].foot))[0]
        np.testing.assert_allclose(abc, (-pf, rho, 0.0), atol=1e-9)


def test_progression_of_the_movement_trial() -> None:
    """Spec 14.3: LASI moved (-1338.5, 41.1, -957.4) mm -> x_p = -X."""
    t = load_trial(reference_file("cadop-pyCGM", "SampleData", "Test_Files", "Movement_trial.c3d"))
    lasi = t.point("LASI")
    np.testing.assert_allclose(lasi[-1] - lasi[0], (-1338.5, 41.1, -957.4), atol=0.1)
    rear = rear_pelvis_point(None, t.point("LPSI"), t.point("RPSI"))
    np.testing.assert_array_equal(progression_frame(lasi, t.point("RASI"), rear), PROG)


def test_reconstruct_frame_694_from_the_file() -> None:
    """The whole reconstruct() on the file reproduces the worked frame (the trial's first).

    The spec calls it frame 694 (ezc3d's 0-based header value); the C3D header and Vicon's
    own CSV export number it 695, which is what the project reports."""
    t = load_trial(reference_file("cadop-pyCGM", "SampleData", "Test_Files", "Movement_trial.c3d"))
    out = reconstruct(t, subject_from({**SUBJECT, **OFFSETS}))
    assert out.first_frame == 695
    np.testing.assert_array_equal(out.progression, PROG)
    for name, want in {**ANGLES, **CENTRES}.items():
        np.testing.assert_allclose(out.channels[name][0], want, atol=6e-4 if "JC" in name else 1e-4, err_msg=name)


def test_static_calibration_worked_numbers() -> None:
    """Spec 14.1: frame-0 foot angles, 498-frame means, offsets equal to Test.vsk, +X progression."""
    t = load_trial(reference_file("cadop-pyCGM", "SampleData", "Test_Files", "Static_trial.c3d"))
    cal = calibrate(t, subject_from(SUBJECT))
    assert cal.frames_used == {"Left": 498, "Right": 498}
    np.testing.assert_array_equal(cal.outputs.progression, np.eye(3))
    for side, pf, ro in (("Left", 14.47857, -3.20963), ("Right", 13.72854, -2.87640)):
        assert cal.static_plant_flex_deg[side] == pytest.approx(pf, abs=1e-5)
        assert cal.static_rot_off_deg[side] == pytest.approx(ro, abs=1e-5)
        # VSK radians
        assert cal.subject.get(f"{side}StaticPlantFlex") == pytest.approx(np.degrees(
            0.25269872 if side == "Left" else 0.23960817), abs=1e-5)
    assert not cal.iad_computed and cal.iad_mm == 306
    assert cal.subject.get("LeftAsisTrocanterDistance") == pytest.approx(64.3976)
    assert cal.subject.source("LeftAsisTrocanterDistance") == "calibrate"
    hee = t.point("LHEE")[0]
    np.testing.assert_allclose(hee, (-794.464, 393.887, -151.510), atol=1e-3)
    np.testing.assert_allclose(cal.outputs.channels["LAJC"][0], (-747.981, 395.858, -101.384), atol=1e-3)
    foot_u = cal.outputs.segments["LFootUncorrected"][0, :3, :3]
    heel_foot = cal.outputs.segments["LFoot"][0, :3, :3]
    np.testing.assert_allclose(yxz_angles(foot_u.T @ heel_foot), (-14.2505, 3.2709, 5.2828), atol=1e-4)


# ----------------------------------------------------------------------------- errors
def _trial(names, frames: int = 3) -> Trial:
    pts = np.zeros((frames, len(names), 3))
    for i, n in enumerate(names):
        pts[:, i] = M.get(n, (0.0, 0.0, 0.0))
    return Trial(name="t", labels=tuple(names), points=pts, point_rate_hz=100.0)


def test_missing_markers_named_all() -> None:
    names = [n for n in M if n not in ("LANK", "RTOE")]
    with pytest.raises(MissingMarkersError) as e:
        reconstruct(_trial(names), subject_from({**SUBJECT}))
    assert set(e.value.markers) == {"LANK", "RTOE"}
    with pytest.raises(MissingMarkersError) as e:
        calibrate(_trial([n for n in M if n != "LPSI"]), subject_from({**SUBJECT}))
    assert "LHEE" in e.value.markers and "RHEE" in e.value.markers
    assert any("SACR" in m and "LPSI" in m for m in e.value.markers)


def test_sacr_alone_is_enough() -> None:
    names = [n for n in M if n not in ("LPSI", "RPSI")] + ["SACR"]
    pts = _trial(names).points.copy()
    pts[:, -1] = (np.array(M["LPSI"]) + M["RPSI"]) / 2
    out = reconstruct(Trial(name="t", labels=tuple(names), points=pts, point_rate_hz=100.0),
                      subject_from({**SUBJECT, **OFFSETS}))
    np.testing.assert_allclose(out.channels["LHipAngles"][0], ANGLES["LHipAngles"], atol=TOL_DEG)


def test_missing_parameters_named_all() -> None:
    values = {k: v for k, v in SUBJECT.items() if k not in ("LeftKneeWidth", "InterAsisDistance")}
    values["RightAnkleWidth"] = 0  # 0 = absent
    with pytest.raises(SubjectParameterError) as e:
        reconstruct(_trial(list(M)), subject_from(values))
    assert set(e.value.parameters) == {"LeftKneeWidth", "RightAnkleWidth", "InterAsisDistance"}
    with pytest.raises(SubjectParameterError) as e:
        CGM1Parameters.from_subject(subject_from({**SUBJECT, "LeftLegLength": -877}))
    assert e.value.parameters == ("LeftLegLength",)


def test_calibration_needs_a_valid_frame() -> None:
    names = list(M) + ["LHEE", "RHEE"]
    pts = _trial(names).points.copy()
    pts[:, names.index("LHEE")] = np.nan
    with pytest.raises(CalibrationError, match="left foot"):
        calibrate(Trial(name="s", labels=tuple(names), points=pts, point_rate_hz=100.0), subject_from(SUBJECT))
