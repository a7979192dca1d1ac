"""core.analysis.stats / core.analysis.spatiotemporal: cycle statistics, GVS/GPS, change rule, curve test, spatio-temporal."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from core.model import GaitEvent, Trial
from core.analysis.normative import CYCLE_GRID, load_normative
from core.analysis.stats import (MEASUREMENT_ERROR, compare_samples, curve_peaks, curve_permutation_test,
                        cycle_statistics, gait_profile, gait_variable_score, measurement_error,
                        spatiotemporal, symmetry)
from core.variables import GVS_VARIABLES
from tests.conftest import reference_file


# --------------------------------------------------------------------------------------
# cycle statistics
def test_cycle_statistics_mean_sd_peaks_nan_aware():
    pct = CYCLE_GRID
    base = 30 * np.sin(np.pi * pct / 100.0)                 # peak 30 at 50 %
    curves = np.vstack([base + 1.0, base - 1.0, base + 3.0])
    curves[2, 10:20] = np.nan
    cs = cycle_statistics(curves)
    assert cs.n_cycles == 3 and cs.mean.shape == (101,)
    assert cs.mean[50] == pytest.approx(31.0) and cs.sd[50] == pytest.approx(2.0)
    assert cs.mean[15] == pytest.approx(base[15]) and cs.n_valid[15] == 2
    assert cs.sd[15] == pytest.approx(math.sqrt(2.0))
    assert cs.max_value == pytest.approx(31.0) and cs.max_pct == 50.0
    np.testing.assert_allclose(cs.cycle_max, [31.0, 29.0, 33.0])
    v, p = curve_peaks(curves, "min", window=(20, 80))
    np.testing.assert_allclose(p, [20.0, 20.0, 20.0])
    v, p = curve_peaks(np.full((1, 101), np.nan))
    assert np.isnan(v[0]) and np.isnan(p[0])


def test_symmetry():
    pct = CYCLE_GRID
    left = 40 * np.sin(np.pi * pct / 100.0)
    right = left + 2.0
    s = symmetry(left[None], right[None])
    assert s.rms_difference == pytest.approx(2.0)
    assert s.peak_difference == pytest.approx(-2.0)
    assert s.si_rom_pct == pytest.approx(0.0, abs=1e-9)
    assert s.si_peak_pct == pytest.approx(100 * (40 - 42) / 41)
    assert s.correlation == pytest.approx(1.0)


# --------------------------------------------------------------------------------------
# GVS / GPS (Baker 2009)
def _walker_following_norms(norms):
    return {side: {k: norms.band(k).at(CYCLE_GRID)[0].copy() for k in GVS_VARIABLES} for side in ("Left", "Right")}


def test_gps_of_normative_walker_is_zero_and_offset_gives_gvs():
    norms = load_normative("schwartz2008", "Free")
    curves = _walker_following_norms(norms)
    prof = gait_profile(curves, norms)
    assert prof.gps_overall == pytest.approx(0.0, abs=1e-9)
    assert all(v == pytest.approx(0.0, abs=1e-9) for s in prof.gvs.values() for v in s.values())

    c = 6.0
    curves["Left"]["KneeAngles.x"] = curves["Left"]["KneeAngles.x"] + c
    prof = gait_profile(curves, norms)
    assert prof.gvs["Left"]["KneeAngles.x"] == pytest.approx(c)
    assert prof.gps["Left"] == pytest.approx(math.sqrt(c ** 2 / 9))
    assert prof.gps["Right"] == pytest.approx(0.0, abs=1e-9)
    assert prof.gps_overall == pytest.approx(math.sqrt(c ** 2 / 15))

    # pelvis counted once, from the left side: a right pelvic offset leaves the overall GPS unchanged
    curves["Right"]["PelvisAngles.x"] = curves["Right"]["PelvisAngles.x"] - 4.0
    prof2 = gait_profile(curves, norms)
    assert prof2.pelvis_side == "Left"
    assert prof2.gvs["Right"]["PelvisAngles.x"] == pytest.approx(4.0)
    assert prof2.gps["Right"] == pytest.approx(4.0 / 3.0)
    assert prof2.gps_overall == pytest.approx(prof.gps_overall)
    curves["Left"]["PelvisAngles.y"] = curves["Left"]["PelvisAngles.y"] + 3.0
    assert gait_profile(curves, norms).gps_overall == pytest.approx(math.sqrt((c ** 2 + 9.0) / 15))
    rows = prof2.map_data()
    assert [r[0] for r in rows] == list(GVS_VARIABLES) + ["GPS", "GPS overall"]
    assert "51 points" in prof2.grid


def test_gvs_uses_norm_points_and_handles_missing():
    norms = load_normative()
    band = norms.band("HipAngles.x")
    curve = band.at(CYCLE_GRID)[0].copy()
    curve[1::2] += 50.0            # odd samples (1, 3, ... %) are not norm points: no effect
    assert gait_variable_score(curve, band) == pytest.approx(0.0, abs=1e-9)
    curve[:] = np.nan
    assert math.isnan(gait_variable_score(curve, band))


# --------------------------------------------------------------------------------------
# change rule
def _hand_ci(pre, post):
    pre, post = np.asarray(pre, float), np.asarray(post, float)
    n1, n2 = len(pre), len(post)
    m1, m2 = sum(pre) / n1, sum(post) / n2
    v1 = sum((x - m1) ** 2 for x in pre) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in post) / (n2 - 1)
    se = math.sqrt(v1 / n1 + v2 / n2)
    df = (v1 / n1 + v2 / n2) ** 2 / ((v1 / n1) ** 2 / (n1 - 1) + (v2 / n2) ** 2 / (n2 - 1))
    t = sps.t.ppf(0.975, df)
    return m2 - m1, m2 - m1 - t * se, m2 - m1 + t * se


def test_compare_samples_verdicts_and_ci_by_hand():
    pre, post = [10.0, 12.0, 11.0, 13.0, 9.0], [0.0, 1.0, 2.0, 1.0, 1.0, 3.0]
    r = compare_samples(pre, post, "fppa", "FPPA peak")
    d, lo, hi = _hand_ci(pre, post)
    assert r.difference == pytest.approx(d) and r.ci_low == pytest.approx(lo) and r.ci_high == pytest.approx(hi)
    assert r.threshold == 8.5 and "Munro" in r.threshold_source
    assert r.verdict == "exceeds measurement error" and r.exceeds_measurement_error
    assert "excludes zero" in r.rule

    # CI excludes zero but the change is smaller than the SDD
    r = compare_samples(pre, [x - 5 for x in pre], 8.5, "small")
    assert r.ci_excludes_zero and not r.exceeds_threshold and r.verdict == "within measurement error"
    # large mean change but a CI containing zero (huge spread)
    r = compare_samples([0.0, 40.0, -30.0], [10.0, 60.0, -20.0, 0.0], 8.5, "noisy")
    assert r.exceeds_threshold and not r.ci_excludes_zero and r.verdict == "within measurement error"
    # no documented SDD (medial knee displacement) / too few values
    assert compare_samples(pre, post, "mkd").verdict.startswith("not judged")
    assert compare_samples([1.0], post, 1.0).verdict.startswith("not computable")
    assert measurement_error("gps").value == 1.6 and "Baker" in measurement_error("gps").source
    assert measurement_error("KneeAngles.x").value == 2.0
    assert measurement_error("HipAngles.y").value == 5.0
    assert set(MEASUREMENT_ERROR) >= {"fppa", "gps"}


# --------------------------------------------------------------------------------------
# curve permutation test
def _curves(rng, n, bump=0.0, noise=1.0):
    base = 20 * np.sin(2 * np.pi * CYCLE_GRID / 100.0)
    planted = bump * np.exp(-0.5 * ((CYCLE_GRID - 50.0) / 5.0) ** 2)
    return base + planted + rng.normal(0, noise, (n, 101)) + rng.normal(0, noise, (n, 1))


def test_permutation_test_finds_planted_difference_only_there():
    rng = np.random.default_rng(1)
    pre, post = _curves(rng, 8), _curves(rng, 9, bump=6.0)
    r = curve_permutation_test(pre, post, n_perm=2000, seed=3)
    assert r.significant and r.p_value < 0.01 and not r.exact
    assert r.clusters, "a cluster is expected around 50 %"
    assert all(35 <= a and b <= 65 for a, b in r.clusters)
    assert any(a <= 50 <= b for a, b in r.clusters)
    r2 = curve_permutation_test(pre, post, n_perm=2000, seed=3)
    assert r2.p_value == r.p_value and r2.clusters == r.clusters   # deterministic with the seed


def test_permutation_test_null_and_exact():
    rng = np.random.default_rng(7)
    pre, post = _curves(rng, 8), _curves(rng, 8)
    r = curve_permutation_test(pre, post, n_perm=2000, seed=0)
    assert r.p_value > 0.05 and not r.clusters
    small = curve_permutation_test(pre[:3], post[:3], n_perm=2000)
    assert small.exact and small.n_permutations == math.comb(6, 3)
    assert small.p_value >= 1 / 20


# --------------------------------------------------------------------------------------
# spatio-temporal
def _walker(speed=1.2, stride_s=1.0, rate=100.0, angle_deg=30.0, heel_ahead=150.0):
    n = 400
    t = np.arange(n) / rate
    d = np.array([math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg)), 0.0])
    lat = np.array([-d[1], d[0], 0.0])
    pelvis = (speed * 1000.0 * t)[:, None] * d + np.array([100.0, -50.0, 900.0])
    first = 11
    lfs = np.array([first + k * 100 for k in range(4)])          # left foot strikes every stride
    rfs = lfs[:3] + 50                                            # right half a stride later
    events = [GaitEvent("Foot Strike", "Left", int(f), (f - 1) / rate) for f in lfs]
    events += [GaitEvent("Foot Strike", "Right", int(f), (f - 1) / rate) for f in rfs]
    events += [GaitEvent("Foot Off", "Left", int(f + 60), (f + 59) / rate) for f in lfs[:3]]
    events += [GaitEvent("Foot Off", "Right", int(f - 40), (f - 41) / rate) for f in rfs]  # 10 % after left FS
    frames = np.arange(1, n + 1)

    def heel(fs, side):
        k = np.clip(np.searchsorted(fs, frames, side="right") - 1, 0, None)
        strike = fs[k]
        pos = pelvis[strike - 1] + heel_ahead * d + side * 90.0 * lat
        pos[:, 2] = 50.0
        return pos
    lhee, rhee = heel(lfs, 1), heel(np.concatenate(([lfs[0] - 50], rfs)), -1)
    pts = np.stack([pelvis + 110 * lat, pelvis - 110 * lat, lhee, rhee], axis=1)
    trial = Trial("walker", ("LASI", "RASI", "LHEE", "RHEE"), pts, rate, first_frame=1, events=tuple(events))
    return trial


def test_spatiotemporal_constructed_walker():
    trial = _walker()
    st = spatiotemporal(trial.events, trial)
    np.testing.assert_allclose(st.progression, [math.cos(math.pi / 6), math.sin(math.pi / 6), 0], atol=1e-9)
    left, right, both = st.side("Left"), st.side("Right"), st.overall()
    assert left["n_strides"] == 3 and right["n_strides"] == 2
    for s in (left, right, both):
        assert s["speed_m_s"] == pytest.approx(1.2)
        assert s["cadence_steps_min"] == pytest.approx(120.0)
        assert s["stride_time_s"] == pytest.approx(1.0)
        assert s["stride_length_m"] == pytest.approx(1.2)
        assert s["step_length_m"] == pytest.approx(0.6)
        assert s["step_time_s"] == pytest.approx(0.5)
    assert left["stance_pct"] == pytest.approx(60.0) and left["swing_pct"] == pytest.approx(40.0)
    assert left["opposite_foot_off_pct"] == pytest.approx(10.0)
    assert left["opposite_foot_strike_pct"] == pytest.approx(50.0)
    assert left["double_support_pct"] == pytest.approx(20.0)


def test_spatiotemporal_reference_trial_by_hand():
    from core.io.c3d import read_c3d
    trial = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    st = spatiotemporal(trial.events, trial)
    left = st.strides["Left"]
    # events from the file: Left FS 203, 306, 406; Right FO 213, Right FS 255, Left FO 266
    assert left["stride_time_s"][0] == pytest.approx((306 - 203) / 100.0)
    assert left["stance_pct"][0] == pytest.approx(100 * (266 - 203) / (306 - 203))
    assert left["double_support_pct"][0] == pytest.approx(100 * ((213 - 203) + (266 - 255)) / 103)
    # stride length by hand: LHEE at the two strikes, along the pelvis path direction
    lhee = trial.point("LHEE")
    asis = (trial.point("LASI") + trial.point("RASI")) / 2
    ok = np.flatnonzero(np.all(np.isfinite(asis), axis=1))
    d = asis[ok[-1]] - asis[ok[0]]
    d[2] = 0
    d /= np.linalg.norm(d)
    r0, r1 = trial.row_of_frame(203), trial.row_of_frame(306)
    assert left["stride_length_m"][0] == pytest.approx(float((lhee[r1] - lhee[r0]) @ d) / 1000.0)
    speed = float((asis[r1] - asis[r0]) @ d) / 1000.0 / 1.03
    assert left["speed_m_s"][0] == pytest.approx(speed)
    # plausible walking of a 1.5 m child
    both = st.overall()
    assert 0.9 < both["speed_m_s"] < 1.4 and 100 < both["cadence_steps_min"] < 140
    assert 1.0 < both["stride_length_m"] < 1.4 and 55 < both["stance_pct"] < 65


def test_permutation_test_exact_small_sample_is_numerically_stable():
    # large absolute values with a tiny spread: the sums-of-squares variance must not cancel out
    rng = np.random.default_rng(2)
    pre = 1000.0 + rng.normal(0, 1e-3, (3, 101))
    post = 1000.5 + rng.normal(0, 1e-3, (3, 101))
    r = curve_permutation_test(pre, post, n_perm=100)
    assert r.exact and r.n_permutations == 20
    assert r.p_value == pytest.approx(2 / 20)     # observed labelling and its mirror image
    assert not r.clusters                          # 2/20 > 0.05: nothing can be significant
    assert np.all(r.t_curve > 100)


def test_spatiotemporal_sample_walk_known_truth():
    import json
    from pathlib import Path
    from core.io.c3d import read_c3d
    folder = Path(__file__).resolve().parents[2] / "sample_c3d" / "GL-0001" / "pre"
    if not (folder / "pre_walk_01.c3d").exists():
        pytest.skip("sample sessions not available")
    truth = json.loads((folder / "pre_walk_01.truth.json").read_text())
    trial = read_c3d(folder / "pre_walk_01.c3d")
    both = spatiotemporal(trial.events, trial).overall()
    assert both["speed_m_s"] == pytest.approx(truth["speed_m_s"], abs=1e-3)
    assert both["cadence_steps_min"] == pytest.approx(120.0)        # 100-frame cycles at 100 Hz
    assert both["stance_pct"] == pytest.approx(60.0) and both["double_support_pct"] == pytest.approx(20.0)
    assert both["stride_length_m"] == pytest.approx(truth["speed_m_s"] * 1.0, abs=0.01)
