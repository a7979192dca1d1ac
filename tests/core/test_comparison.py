"""core.analysis.comparison: pre/post comparison of two analysed sessions with known planted changes."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from core.analysis.types import (AnalysisSettings, SessionAnalysis, TaskDecision, TrialAnalysis,
                                 WalkingSummary, to_jsonable)
from core.analysis.comparison import compare_sessions, summary_lines
from core.errors import AnalysisError
from core.analysis.normative import CYCLE_GRID, load_normative
from core.analysis.stats import gait_profile, mean_sd
from core.variables import GVS_VARIABLES

NORMS = load_normative("schwartz2008", "Free")


def _cycles(rng, key, n, offset=0.0, bump=0.0, noise=0.5):
    band = NORMS.band(key)
    base = band.at(CYCLE_GRID)[0] if band is not None else 5 * np.sin(np.pi * CYCLE_GRID / 50)
    planted = bump * np.exp(-0.5 * ((CYCLE_GRID - 50.0) / 5.0) ** 2)
    return base + offset + planted + rng.normal(0, noise, (n, 101))


def _trial(name, curves, peaks, task="walk"):
    return TrialAnalysis(trial_name=name, task=task, side=None,
                         decision=TaskDecision(task, None, "user", "not applicable"), rate_hz=100.0,
                         first_frame=1, n_frames=500, metrics={}, thresholds={}, frontal_normal={},
                         windows={}, phases=(), cycle_curves=curves, window_peaks=peaks)


def _session(label, trials, st=None):
    walking = {s: WalkingSummary(s, 0, {}, {}, spatiotemporal=st or {}) for s in ("Left", "Right")}
    return SessionAnalysis(label=label, trials=tuple(trials), thigh_offsets={}, warnings=(),
                           normative_name="schwartz2008", normative_citation=NORMS.citation, speed_class="Free",
                           walking=walking, gps_overall_deg=math.nan, tasks={}, chain={},
                           settings=AnalysisSettings())


def _build(seed, knee_offset_left=0.0, bump_right=0.0, fppa=(15.0, 1.0), valgus=(6.0, 1.0), speed=1.0):
    rng = np.random.default_rng(seed)
    trials = []
    for t in range(2):     # two walking trials, 4 cycles per side each: pooled to 8
        curves = {}
        for side in ("Left", "Right"):
            curves[side] = {k: _cycles(rng, k, 4) for k in GVS_VARIABLES + ("KneeAngles.y",)}
        curves["Left"]["KneeAngles.x"] += knee_offset_left
        curves["Right"]["KneeAngles.x"] += bump_right * np.exp(-0.5 * ((CYCLE_GRID - 50.0) / 5.0) ** 2)
        peaks = {"Right": {"fppa": rng.normal(fppa[0], fppa[1], 4), "valgus_3d": rng.normal(valgus[0], valgus[1], 4),
                           "mkd": rng.normal(20, 2, 4)}}
        trials.append(_trial(f"walk{t}", curves, peaks))
    return trials, {"speed_m_s": speed}


def test_compare_sessions_planted_changes():
    pre_t, st0 = _build(1)
    post_t, st1 = _build(2, knee_offset_left=10.0, bump_right=8.0, fppa=(4.0, 1.0), valgus=(5.5, 1.0), speed=1.2)
    pre, post = _session("pre", pre_t, st0), _session("post", post_t, st1)
    c = compare_sessions(pre, post, n_perm=1000, seed=0, n_boot=300)

    # valgus: FPPA reduced by ~11 deg > SDD 8.5 with a CI excluding 0 -> beyond measurement error
    f = c.valgus[("walk", "Right", "fppa")]
    assert f.n_pre == 8 and f.n_post == 8
    assert f.difference == pytest.approx(-11.0, abs=1.5)
    assert f.verdict == "exceeds measurement error"
    assert c.valgus[("walk", "Right", "valgus_3d")].verdict == "within measurement error"
    assert c.valgus[("walk", "Right", "mkd")].verdict.startswith("not judged")

    # curve test: the right knee flexion bump is found around 50 % of the cycle, the left pelvis not
    knee = c.variables[("KneeAngles.x", "Right")]
    assert knee.curve_test.significant and any(a <= 50 <= b for a, b in knee.curve_test.clusters)
    assert all(40 <= a and b <= 60 for a, b in knee.curve_test.clusters)
    # the bump (at 50 %) stays below the swing peak (about 60 deg at 72 %): the peak does not
    # change, only the curve test sees the difference
    assert knee.peak_max.difference == pytest.approx(0.0, abs=1.0)
    assert knee.peak_max.verdict == "within measurement error"
    assert knee.post_mean[50] - knee.pre_mean[50] == pytest.approx(8.0, abs=1.0)
    # the left knee flexion offset of 10 deg exceeds the sagittal 2 deg error (McGinley 2009)
    lk = c.variables[("KneeAngles.x", "Left")]
    assert lk.peak_max.difference == pytest.approx(10.0, abs=1.0) and lk.peak_max.threshold == 2.0
    assert lk.peak_max.verdict == "exceeds measurement error"
    assert not c.variables[("PelvisAngles.x", "Left")].curve_test.significant

    # GPS: a 10 deg offset of the left knee flexion raises the left GPS by about sqrt(100/9)
    g = c.gps["Left"]
    mean_pre = {s: {k: mean_sd(v)[0] for k, v in d.items()} for s, d in
                {s: {k: np.vstack([t.cycle_curves[s][k] for t in pre_t]) for k in GVS_VARIABLES}
                 for s in ("Left", "Right")}.items()}
    assert g.pre_gps == pytest.approx(gait_profile(mean_pre, NORMS).gps["Left"])
    assert g.difference == pytest.approx(10.0 / 3.0, abs=0.4)
    assert g.se > 0 and g.ci_low > 0 and g.verdict == "exceeds measurement error"
    assert c.gps["Overall"].difference == pytest.approx(math.sqrt(100 / 15), abs=0.5)
    assert c.spatiotemporal[("speed_m_s", "Left")] == pytest.approx((1.0, 1.2, 0.2))
    assert any("fppa" in e for e in c.exceeding())

    text = "\n".join(summary_lines(c))
    assert "exceeds measurement error" in text and "Schwartz" in text
    js = to_jsonable(c)
    assert js["valgus"]["walk/Right/fppa"]["verdict"] == "exceeds measurement error"


def test_compare_sessions_identical_and_empty():
    pre_t, st = _build(5)
    pre = _session("a", pre_t, st)
    c = compare_sessions(pre, pre, n_perm=500, n_boot=200)
    assert all(r.difference == 0 for r in c.valgus.values())
    assert all(r.verdict == "within measurement error" for k, r in c.valgus.items() if k[2] != "mkd")
    assert c.gps["Overall"].difference == 0.0
    with pytest.raises(AnalysisError):
        compare_sessions(_session("x", []), _session("y", []))


def _session_dir(tmp_path, name, *files):
    from tests.conftest import reference_file
    d = tmp_path / name
    d.mkdir()
    for f in files:
        (d / f).symlink_to(reference_file("BTKData", "PiG", f))
    return d


def test_genulab_compare_cli_on_reference_sessions(tmp_path, capsys):
    import json
    from app.cli import main
    pre = _session_dir(tmp_path, "pre", "PiG_Calibration-FlatFoot-Full.c3d", "PiG_Motion-FlatFoot-Full.c3d")
    post = _session_dir(tmp_path, "post", "PiG_Calibration3_FF.c3d", "PiG_Motion3_FF.c3d")
    out = tmp_path / "cmp.json"
    assert main(["compare", str(pre), str(post), "--json", str(out), "--n-perm", "200"]) == 0
    text = capsys.readouterr().out
    assert "Pre/post comparison: pre -> post" in text and "Gait Profile Score" in text
    assert "typically developing children" in text
    data = json.loads(out.read_text())
    fppa = data["valgus"]["walk/Left/fppa"]
    assert fppa["n_pre"] == 2 and fppa["threshold"] == 8.5
    assert fppa["verdict"] in ("exceeds measurement error", "within measurement error")
    # GPS of each session is a plausible value for a typically walking child/adult (deg)
    g = data["gps"]["Overall"]
    assert 3.0 < g["pre_gps"] < 20.0 and 3.0 < g["post_gps"] < 20.0
    assert g["difference"] == pytest.approx(g["post_gps"] - g["pre_gps"])
    # identical sessions: no change anywhere
    assert main(["compare", str(pre), str(pre), "--json", "-", "--n-perm", "100"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert all(v["difference"] == 0 for v in same["valgus"].values())
    assert main(["compare", str(pre), str(tmp_path / "missing")]) == 2


def test_genulab_compare_on_store_sessions(tmp_path, capsys):
    import json
    from app.cli import main
    from core.store.schema import PatientInfo, SessionInfo, SessionRecord
    from core.store.store import PatientStore
    pre_t, st0 = _build(1)
    post_t, st1 = _build(2, fppa=(4.0, 1.0))
    path = tmp_path / "patient.genulab"
    with PatientStore.create(path, PatientInfo(name="Test")) as store:
        for sid, label, trials, st in (("s1", "pre", pre_t, st0), ("s2", "post", post_t, st1)):
            store.save_session(SessionInfo(session_id=sid, label=label),
                               record=SessionRecord(analysis=_session(label, trials, st)))
    assert main(["compare", "--store", str(path), "pre", "post", "--json", "-", "--n-perm", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pre_label"] == "pre" and data["post_label"] == "post"
    assert data["valgus"]["walk/Right/fppa"]["verdict"] == "exceeds measurement error"
    assert main(["compare", "--store", str(path), "pre", "missing"]) == 2


def test_comparison_round_trips_through_the_store_serializer():
    from core.store import serialize as ser
    pre_t, st0 = _build(1)
    post_t, st1 = _build(2, fppa=(4.0, 1.0))
    c = compare_sessions(_session("pre", pre_t, st0), _session("post", post_t, st1), n_perm=200, n_boot=100)
    back = ser.decode(ser.encode(c), "comparison")
    assert back.valgus[("walk", "Right", "fppa")] == c.valgus[("walk", "Right", "fppa")]
    np.testing.assert_array_equal(back.variables[("KneeAngles.x", "Left")].pre_mean,
                                  c.variables[("KneeAngles.x", "Left")].pre_mean)
    assert back.gps["Overall"] == c.gps["Overall"]


# --------------------------------------------------------------------------------------
# the synthetic sample sessions (known truth): pre right valgus, post reduced
SAMPLES = Path(__file__).resolve().parents[2] / "sample_c3d" / "GL-0001"


@pytest.fixture(scope="module")
def sample_comparison():
    if not (SAMPLES / "pre").is_dir() or not (SAMPLES / "post").is_dir():
        pytest.skip(f"sample sessions not available: {SAMPLES}")
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    settings = AnalysisSettings(sex="F")
    pre = analyze_session(process_session(SAMPLES / "pre"), settings)
    post = analyze_session(process_session(SAMPLES / "post"), settings)
    return compare_sessions(pre, post, n_perm=1000, seed=0, n_boot=300)


def _truth_window_peaks(trial: str, side: str, metric: str) -> np.ndarray:
    import json
    t = json.loads((SAMPLES / trial.split("_")[0] / f"{trial}.truth.json").read_text())
    series = np.array([np.nan if v is None else v for v in t["metrics"][side][metric]], dtype=float)
    first = t["first_frame"]
    return np.array([np.nanmax(series[w["start_frame"] - first: w["end_frame"] - first + 1])
                     for w in t["windows"] if w["side"] == side])


def test_sample_sessions_post_reduction_beyond_measurement_error(sample_comparison):
    c = sample_comparison
    # right single-leg squat FPPA: the change of the mean window peak computed by hand from the truth
    expected = _truth_window_peaks("post_sls_R_01", "Right", "fppa").mean() - \
        _truth_window_peaks("pre_sls_R_01", "Right", "fppa").mean()
    sls = c.valgus[("sls", "Right", "fppa")]
    assert expected < -8.5
    assert sls.difference == pytest.approx(expected, abs=0.7)
    assert sls.verdict == "exceeds measurement error" and sls.threshold == 8.5
    # walking: right FPPA and 3D valgus reduced beyond measurement error, the left side unchanged
    assert c.valgus[("walk", "Right", "fppa")].verdict == "exceeds measurement error"
    assert c.valgus[("walk", "Right", "valgus_3d")].verdict == "exceeds measurement error"
    for metric in ("fppa", "valgus_3d"):
        assert c.valgus[("walk", "Left", metric)].verdict == "within measurement error"
        assert c.valgus[("sls", "Left", metric)].verdict == "within measurement error"
    # the curve test places the right hip internal rotation change in stance (peak at 30 %)
    hip = c.variables[("HipAngles.z", "Right")].curve_test
    assert hip.significant and any(a <= 30 <= b for a, b in hip.clusters)
    assert all(b <= 60 for a, b in hip.clusters)
    assert not c.variables[("KneeAngles.x", "Left")].curve_test.significant
