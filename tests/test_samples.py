"""The synthetic sample sessions (sample_c3d/): reproducible, valid C3D, exact known truth.

The generator (core.synthetic) is an independent forward model: these tests compare the
engine (core.kinematics.cgm1) with the prescribed angles and joint centres.
"""
from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import ezc3d
import numpy as np
import pytest

from core.synthetic.catalogue import SESSIONS, all_trials, session_trials
from core.synthetic.generate import generate_trial
from core.synthetic.make_samples import main
from core.synthetic.markers import MARKERS
from core.synthetic.subject import BODY, PATIENT
from tests.conftest import ROOT, SAMPLES

PATIENT_DIR = SAMPLES / PATIENT.patient_id
SPECS = {s.name: s for s in all_trials()}


def _path(name: str, suffix: str = ".c3d") -> Path:
    return PATIENT_DIR / SPECS[name].session / f"{name}{suffix}"


def _truth(name: str) -> dict:
    return json.loads(_path(name, ".truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def generated() -> dict:
    return {name: generate_trial(spec) for name, spec in SPECS.items()}


# ------------------------------------------------------------------------------ layout
def test_layout_and_size():
    assert json.loads((PATIENT_DIR / "patient.json").read_text())["patient_id"] == PATIENT.patient_id
    for session in SESSIONS:
        assert (PATIENT_DIR / session / f"{PATIENT.patient_id}.vsk").is_file()
        names = sorted(p.stem for p in (PATIENT_DIR / session).glob("*.c3d"))
        assert names == sorted(s.name for s in session_trials(session))
        tasks = [SPECS[n].task for n in names]
        assert tasks.count("walk") >= 3 and tasks.count("static") == 1
        assert {SPECS[n].side for n in names if SPECS[n].task == "sls"} == {"Left", "Right"}
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total <= 25e6, f"sample_c3d is {total / 1e6:.1f} MB"
    assert (SAMPLES / "README.md").is_file()


def test_every_task_has_an_exact_trial():
    exact = {(s.session, s.task) for s in all_trials() if s.noise_mm == 0 and not s.gaps}
    for session in SESSIONS:
        assert {"static", "walk", "sls"} <= {t for ss, t in exact if ss == session}
    assert {t for _, t in exact} == {"static", "walk", "sls", "drop_jump"}


def test_generator_does_not_import_the_engine():
    forbidden = ("core.kinematics", "core.analysis.valgus", "core.analysis.types", "core.io", "core.gait.pipeline",
                 "core.analysis.normative", "core.analysis.tasks", "core.gait.events")
    for path in (ROOT / "core" / "synthetic").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        bad = [m for m in mods if m.startswith(forbidden)]
        assert not bad, f"{path.name} imports {bad}"


# ----------------------------------------------------------------- reproducibility
def test_regeneration_gives_the_committed_point_data(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0                  # the documented command
    assert "wrote" in capsys.readouterr().out
    for name, spec in SPECS.items():
        new = ezc3d.c3d(str(tmp_path / PATIENT.patient_id / spec.session / f"{name}.c3d"))
        old = ezc3d.c3d(str(_path(name)))
        a = new["data"]["points"][:3].astype(np.float32)
        b = old["data"]["points"][:3].astype(np.float32)
        if _truth(name)["generator"]["numpy"] == np.__version__:    # the pinned numpy: equal
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:                                                        # another numpy: last bits
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-3, err_msg=name)
        np.testing.assert_array_equal(new["data"]["meta_points"]["residuals"],
                                      old["data"]["meta_points"]["residuals"], err_msg=name)
        t_new = json.loads((tmp_path / PATIENT.patient_id / spec.session / f"{name}.truth.json").read_text())
        assert t_new["phases"] == _truth(name)["phases"], name
        assert t_new["events"] == _truth(name)["events"], name


# ------------------------------------------------------------------ ezc3d alone
@pytest.mark.parametrize("name", sorted(SPECS))
def test_file_opens_in_ezc3d_with_expected_content(name):
    spec, truth = SPECS[name], _truth(name)
    c = ezc3d.c3d(str(_path(name)))
    p = c["parameters"]
    assert p["POINT"]["LABELS"]["value"] == list(MARKERS)
    assert p["POINT"]["RATE"]["value"][0] == 100.0
    assert p["POINT"]["UNITS"]["value"] == ["mm"]
    assert c["header"]["points"]["first_frame"] == 0            # C3D frame 1
    assert c["data"]["points"].shape == (4, len(MARKERS), truth["n_frames"])
    assert p["GENULAB"]["TASK"]["value"] == [spec.task]
    assert p["GENULAB"]["SIDE"]["value"] == [spec.side or "Both"]
    proc = {k: v["value"][0] for k, v in p["PROCESSING"].items() if k != "__METADATA__"}
    assert "Marker Diameter" not in proc                        # Nexus style: angles in radians
    assert proc["LLegLength"] == pytest.approx(BODY.left.leg_length_mm)
    assert proc["RKneeWidth"] == pytest.approx(BODY.right.knee_width_mm)
    assert proc["InterAsisDistance"] == pytest.approx(BODY.inter_asis_mm)
    assert proc["LStaticPlantFlex"] == pytest.approx(math.radians(BODY.left.static_plant_flex_deg), rel=1e-6)
    assert proc["RStaticRotOff"] == pytest.approx(math.radians(BODY.right.static_rot_off_deg), rel=1e-6)
    # events: present exactly when the spec says so, at the true frames
    ev = p.get("EVENT", {})
    n_ev = int(ev["USED"]["value"][0]) if "USED" in ev else 0
    if spec.events_in_file:
        frames = np.rint(np.asarray(ev["TIMES"]["value"])[1] * 100.0).astype(int) + 1
        got = sorted(zip(ev["LABELS"]["value"], ev["CONTEXTS"]["value"], frames.tolist()))
        want = sorted((e["label"], e["context"], e["frame"]) for e in truth["events"])
        assert got == want
    else:
        assert n_ev == 0
    # gaps: residual -1 exactly in the gap frames
    res = c["data"]["meta_points"]["residuals"][0]
    want = np.zeros_like(res, dtype=bool)
    for g in truth["imperfections"]["gaps"]:
        want[MARKERS.index(g["marker"]), g["first_frame"] - 1:g["last_frame"]] = True
    np.testing.assert_array_equal(res < 0, want)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_c3d_header_bytes(name):
    """The raw header, read without any C3D library: parameter key, point count, frames,
    float32 storage (negative scale) and rate, Intel processor in the parameter section."""
    raw = _path(name).read_bytes()
    words = np.frombuffer(raw[:24], dtype="<i2")
    assert raw[1] == 0x50
    assert words[1] == len(MARKERS) and words[2] == 18 * 10     # 18 plate channels x 10 per frame
    assert (words[3], words[4]) == (1, _truth(name)["n_frames"])
    scale, rate = np.frombuffer(raw[12:16], "<f4")[0], np.frombuffer(raw[20:24], "<f4")[0]
    assert scale < 0 and rate == 100.0
    param = (raw[0] - 1) * 512
    assert raw[param + 1] == 0x50 and raw[param + 3] == 84     # 84 = Intel


# ------------------------------------------------------------------- known truth
def test_truth_phases_follow_the_design():
    for name, spec in SPECS.items():
        ph = _truth(name)["phases"]
        if spec.task == "static":
            assert ph == []
            continue
        right = [p for p in ph if p["side"] == "Right"]
        assert not [p for p in ph if p["side"] == "Left"], name
        if spec.session == "pre":
            n_windows = len([w for w in _truth(name)["windows"] if w["side"] == "Right"])
            assert len(right) == n_windows, name                 # one phase per window
            for p in right:
                assert p["peak_value"] > p["threshold_at_peak"]
                assert p["duration_ms"] >= 50.0
                assert p["window"][0] <= p["onset_frame"] <= p["peak_frame"] <= p["offset_frame"] <= p["window"][1]
        else:
            assert right == [], name


def test_fppa_design_values():
    """Pre right FPPA peaks above both sexes' bounds; post and left stay below both."""
    for name, spec in SPECS.items():
        if spec.task not in ("sls", "drop_jump"):
            continue
        m = _truth(name)["metrics"]
        right = max(v for v in m["Right"]["fppa"] if v is not None)
        left = max(v for v in m["Left"]["fppa"] if v is not None)
        if spec.session == "pre" and (spec.side in (None, "Right")):
            assert 17.0 < right < 22.0, name
        elif spec.side in (None, "Right"):
            assert right < 8.0, name
        assert left < 8.0, name


def test_phase_boundaries_are_clear_of_the_threshold():
    """Every window's metric stays at least the stated margin away from its threshold, so
    that float32 storage (and, within a frame, noise) cannot move a true boundary."""
    from core.synthetic.margins import MIN_MARGIN_DEG, SLS_MIN_MARGIN_DEG
    for name, spec in SPECS.items():
        truth = _truth(name)
        for p in truth["phases"]:
            need = SLS_MIN_MARGIN_DEG if spec.task == "sls" else MIN_MARGIN_DEG
            assert p["boundary_margin"] >= need - 1e-6, (name, p)


# ------------------------------------------------------------- forward model itself
def test_forward_model_decomposes_to_the_prescribed_angles():
    """The generator's own YXZ decomposition returns what was prescribed (no engine)."""
    from core.synthetic.rotations import progression_matrix
    from core.synthetic.skeleton import LegAngles, build_pose, vicon_angles
    rng = np.random.default_rng(7)
    n = 200

    def r(scale, offset=0.0):
        return offset + scale * rng.uniform(-1, 1, n)

    legs = {s: LegAngles(r(30, 20), r(10), r(15), r(40, 40), r(10), r(15),
                         ankle_dors=r(20), ankle_rot=r(15, -8)) for s in ("Left", "Right")}
    pelvis = np.stack([r(10, 10), r(8), r(10)], axis=1)
    for direction in ("+X", "-X", "+Y", "-Y"):
        ang = vicon_angles(build_pose(BODY, progression_matrix(direction), np.zeros((n, 3)), pelvis, legs))
        np.testing.assert_allclose(ang["LPelvisAngles"], pelvis, atol=1e-10)
        np.testing.assert_allclose(ang["RPelvisAngles"], pelvis * [1, -1, -1], atol=1e-10)
        for s, p in (("Left", "L"), ("Right", "R")):
            la = legs[s]
            np.testing.assert_allclose(ang[f"{p}HipAngles"], np.c_[la.hip_flex, la.hip_add, la.hip_rot], atol=1e-10)
            np.testing.assert_allclose(ang[f"{p}KneeAngles"], np.c_[la.knee_flex, la.knee_var, la.knee_rot], atol=1e-10)
            np.testing.assert_allclose(ang[f"{p}AnkleAngles"][:, [0, 2]], np.c_[la.ankle_dors, la.ankle_rot], atol=1e-9)


def test_fppa_and_mkd_signs():
    """Knee medial to the hip-ankle line gives positive FPPA and MKD on both sides."""
    from core.synthetic.valgus_truth import frontal_metrics
    facing = np.array([1.0, 0.0, 0.0])                 # subject faces +X: left is +Y
    hjc, ajc = np.array([[0.0, 0.0, 900.0]]), np.array([[0.0, 0.0, 100.0]])
    for side, medial in (("Left", -1.0), ("Right", 1.0)):
        kjc = np.array([[0.0, medial * 50.0, 500.0]])
        fppa, mkd = frontal_metrics(hjc, kjc, ajc, facing, side)
        assert mkd[0] == pytest.approx(50.0)
        assert fppa[0] == pytest.approx(2 * np.degrees(np.arctan2(50.0, 400.0)))
        fppa, mkd = frontal_metrics(hjc, kjc * [1, -1, 1], ajc, facing, side)
        assert mkd[0] == pytest.approx(-50.0) and fppa[0] < 0
