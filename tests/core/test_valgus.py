"""Valgus metrics and phase detection against hand-computed geometry and constructed series."""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.analysis.types import TaskWindow
from core.errors import AnalysisError
from core.model import ModelOutputs
from core.analysis.valgus import (default_threshold, facing_direction, find_phases, frontal_metrics,
                         indicator_series, min_frames_for, runs_above, swing_crosstalk, valgus_3d)


def _rotz(deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


# ----------------------------------------------------------------------------------- FPPA/MKD
def test_fppa_mkd_right_knee_medial_hand_geometry():
    # subject faces +X, its left is +Y; right leg: medial = +Y
    hjc = np.array([[0.0, -100.0, 900.0]])
    kjc = np.array([[0.0, -80.0, 500.0]])
    ajc = np.array([[0.0, -100.0, 100.0]])
    fppa, mkd = frontal_metrics(hjc, kjc, ajc, np.array([1.0, 0, 0]), "Right")
    # KJC is 20 mm medial of the vertical HJC-AJC line; thigh and shank each lean atan(20/400)
    assert mkd[0] == pytest.approx(20.0, abs=1e-12)
    assert fppa[0] == pytest.approx(2 * math.degrees(math.atan(20 / 400)), abs=1e-12)
    assert fppa[0] == pytest.approx(5.7248, abs=1e-4)


def test_fppa_mkd_left_knee_lateral_is_negative_and_sagittal_offsets_ignored():
    # left leg: medial = -Y. Knee 30 mm lateral (+Y) and 80 mm forward (along the normal)
    hjc = np.array([[0.0, 100.0, 900.0]])
    kjc = np.array([[80.0, 130.0, 480.0]])
    ajc = np.array([[-20.0, 100.0, 80.0]])
    fppa, mkd = frontal_metrics(hjc, kjc, ajc, np.array([1.0, 0, 0]), "Left")
    # in-plane (y, z): H (100, 900), K (130, 480), A (100, 80): distance of K from the line = 30
    assert mkd[0] == pytest.approx(-30.0, abs=1e-12)
    expected = math.degrees(math.atan(30 / 420)) + math.degrees(math.atan(30 / 400))
    assert fppa[0] == pytest.approx(-expected, abs=1e-12)


def test_fppa_mkd_oblique_line_and_rotated_facing():
    # hand computation in the plane: H (0, 800), K (40, 450), A (20, 0) in (medial, up) mm
    h2, k2, a2 = np.array([0.0, 800]), np.array([40.0, 450]), np.array([20.0, 0])
    d = a2 - h2
    dist = (d[0] * (k2 - h2)[1] - d[1] * (k2 - h2)[0]) / np.linalg.norm(d)
    t, s = k2 - h2, a2 - k2
    ang = math.degrees(math.acos(t @ s / np.linalg.norm(t) / np.linalg.norm(s)))
    # embed for a right leg facing 30 deg from +X: medial = left = R(30) * (+Y)
    R = _rotz(30.0)
    fwd, left = R @ [1.0, 0, 0], R @ [0, 1.0, 0]
    def emb(p, along):
        return (p[0] * left + p[1] * np.array([0, 0, 1.0]) + along * fwd)[None]
    fppa, mkd = frontal_metrics(emb(h2, 5.0), emb(k2, 60.0), emb(a2, -10.0), fwd + [0, 0, 0.3], "Right")
    assert dist > 0 and mkd[0] == pytest.approx(dist, abs=1e-9)
    assert fppa[0] == pytest.approx(ang, abs=1e-9)


def test_fppa_vectorised_and_nan():
    hjc = np.tile([0.0, -100.0, 900.0], (3, 1))
    kjc = np.array([[0.0, -80.0, 500.0], [np.nan] * 3, [0.0, -120.0, 500.0]])
    ajc = np.tile([0.0, -100.0, 100.0], (3, 1))
    fppa, mkd = frontal_metrics(hjc, kjc, ajc, np.array([1.0, 0, 0]), "Right")
    assert np.isnan(fppa[1]) and np.isnan(mkd[1])
    assert fppa[0] == pytest.approx(-fppa[2]) and mkd[2] == pytest.approx(-20.0)


def test_facing_direction_mean_of_pelvis_x_on_floor():
    poses = np.tile(np.eye(4), (4, 1, 1))
    poses[:, :3, :3] = [_rotz(a) @ np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1.0]]) for a in (90, 80, 100, 90)]
    poses[0, :3, 0] = [0.0, 2.0, 1.0]     # tilted x: only the horizontal part counts
    f = facing_direction(poses)
    assert f == pytest.approx([0.0, 1.0, 0.0], abs=1e-12)
    with pytest.raises(AnalysisError):
        facing_direction(np.full((3, 4, 4), np.nan))


def _outputs(n: int = 50) -> ModelOutputs:
    t = np.linspace(0, 1, n)
    ch = {}
    for p in "LR":
        for i, name in enumerate(("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles")):
            ch[f"{p}{name}"] = np.stack([t * (i + 1), t * (i + 2), t * (i + 3)], axis=1) * (1 if p == "L" else -1)
    return ModelOutputs(ch, {}, np.eye(3), 1, 100.0)


def test_valgus_3d_and_indicators_follow_vicon_channels():
    out = _outputs()
    assert valgus_3d(out, "Left") == pytest.approx(-out.channels["LKneeAngles"][:, 1])
    ind = indicator_series(out, "Right")
    assert ind["hip_adduction"] == pytest.approx(out.channels["RHipAngles"][:, 1])
    assert ind["hip_internal_rotation"] == pytest.approx(out.channels["RHipAngles"][:, 2])
    assert ind["contralateral_pelvic_drop"] == pytest.approx(out.channels["RPelvisAngles"][:, 1])
    assert ind["knee_flexion"] == pytest.approx(out.channels["RKneeAngles"][:, 0])
    assert ind["ankle_dorsiflexion"] == pytest.approx(out.channels["RAnkleAngles"][:, 0])
    assert ind["foot_progression"] == pytest.approx(out.channels["RFootProgressAngles"][:, 2])
    with pytest.raises(AnalysisError, match="LKneeAngles"):
        valgus_3d(ModelOutputs({}, {}, np.eye(3), 1, 100.0), "Left")


# ----------------------------------------------------------------------------------- phases
def test_runs_above_exact_frames_and_min_duration():
    x = np.zeros(40)
    x[5:9] = 6.0         # rows 5..8 (4 frames)
    x[12] = 9.0          # one frame only
    x[20:22] = 5.5       # two frames
    x[30:35] = [6, np.nan, 6, 6, 6]   # a NaN splits the run
    s, e = runs_above(x, 5.0, 2)
    assert s.tolist() == [5, 20, 32] and e.tolist() == [8, 21, 34]
    s, e = runs_above(x, 5.0, 1)
    assert s.tolist() == [5, 12, 20, 30, 32]
    # threshold exactly equal does not exceed; per-frame threshold
    thr = np.full(40, 5.0)
    thr[6] = 6.0
    s, e = runs_above(x, thr, 1)
    assert (s[:2].tolist(), e[:2].tolist()) == ([5, 7], [5, 8])


def test_min_frames_for_20ms():
    assert min_frames_for(0.020, 100.0) == 2
    assert min_frames_for(0.020, 120.0) == 3
    assert min_frames_for(0.020, 50.0) == 1
    assert min_frames_for(0.0, 100.0) == 1


def test_find_phases_on_constructed_series():
    n, ff, rate = 200, 11, 100.0
    frames = np.arange(ff, ff + n)
    series = np.where((frames >= 60) & (frames <= 84), 10.0 - np.abs(frames - 72) * 0.2, 0.0)
    thr = np.full(n, 6.0)
    hip = np.linspace(0.0, 19.9, n)
    w = TaskWindow("stance", 0, "Right", 50, 110, cycle_start_frame=50, cycle_end_frame=150)
    rule = default_threshold("walk", "valgus_3d", None, band_available=False)
    bands = {"hip_adduction": (np.full(n, 2.0), np.full(n, 1.0))}
    (ph,) = find_phases("walk", "Right", "valgus_3d", series, thr, w, ff, rate, 2, rule,
                        {"hip_adduction": hip}, bands, 2.0)
    # above 6 where 10 - 0.2|f - 72| > 6, i.e. |f - 72| < 20, inside 60..84
    assert (ph.onset_frame, ph.offset_frame, ph.peak_frame) == (60, 84, 72)
    assert ph.onset_pct == pytest.approx(10.0) and ph.offset_pct == pytest.approx(34.0)
    assert ph.peak_pct == pytest.approx(22.0) and ph.peak_value == pytest.approx(10.0)
    assert ph.duration_s == pytest.approx(0.25)
    assert ph.mean_value == pytest.approx(series[60 - ff:85 - ff].mean())
    assert ph.threshold == 6.0 and ph.threshold_text.startswith("5 deg")
    hi = ph.indicator("hip_adduction")
    assert hi.key == "RHipAngles.y" and hi.value_peak == pytest.approx(hip[72 - ff])
    assert hi.value_mean == pytest.approx(hip[60 - ff:85 - ff].mean())
    assert hi.beyond_normal and hi.deviation == "above normal" and hi.supports_valgus
    assert hi.change_from_start == pytest.approx(hi.value_mean - hip[50 - ff])
    # a window that cuts the run: the phase is clipped to the window
    w2 = TaskWindow("stance", 1, "Right", 70, 80)
    (ph2,) = find_phases("walk", "Right", "valgus_3d", series, thr, w2, ff, rate, 2, rule, {}, None)
    assert (ph2.onset_frame, ph2.offset_frame, ph2.onset_pct, ph2.offset_pct) == (70, 80, 0.0, 100.0)


def test_default_thresholds_and_sources():
    r = default_threshold("sls", "fppa", "F")
    assert r.value == 12.0 and "Herrington" in r.source and not r.sex_flag
    assert default_threshold("sl_landing", "fppa", "M").value == 9.0
    assert default_threshold("drop_jump", "fppa", "F").value == 13.0
    assert default_threshold("drop_jump", "fppa", "M").value == 8.0
    u = default_threshold("drop_jump", "fppa", None)
    assert u.value == 8.0 and u.sex_flag == "sex unknown: male bound used"
    st = default_threshold("sl_stance", "fppa", "F")
    assert st.value == 9.0 and "no single-leg-stance norm" in st.text
    w = default_threshold("walk", "valgus_3d", None, band_available=True, band_source="Schwartz")
    assert w.band_based and "mean + 2 SD" in w.text and w.source == "Schwartz"
    assert default_threshold("walk", "valgus_3d", None).value == 5.0
    o = default_threshold("sls", "mkd", "F", override=25.0)
    assert o.value == 25.0 and o.source == "user setting" and "mm" in o.text
    with pytest.raises(AnalysisError):
        default_threshold("walk", "fppa", "F")
    with pytest.raises(AnalysisError):
        default_threshold("sls", "mkd", "F")


def test_swing_crosstalk_signature():
    f = np.linspace(0, 60, 100)
    v = 0.15 * f + 1.0
    swing = np.zeros(100, bool)
    swing[40:] = True
    r, exc, expl, n = swing_crosstalk(v, f, swing)
    assert r == pytest.approx(1.0) and n == 60
    assert exc == pytest.approx(0.15 * (f[99] - f[40]))
    assert expl == pytest.approx(exc)
    rng = np.random.default_rng(0)
    r2, _, expl2, _ = swing_crosstalk(rng.normal(0, 1, 100), f, swing)
    assert abs(r2) < 0.5 and expl2 < 2.0
    assert math.isnan(swing_crosstalk(v, f, np.zeros(100, bool))[0])
