"""The processing chain end to end on Vicon's own files, subject ordering, quality report."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from core.errors import CancelledError, SubjectParameterError
from core.gait.pipeline import (ProcessingSettings, calibrate_static, calibrate_static_result,
                           process_session, process_trial)
from core.gait.session import discover_session, is_static_name
from tests.conftest import reference_file

TEST_FILES = ("cadop-pyCGM", "SampleData", "Test_Files")
PIG = ("BTKData", "PiG")
FLAT16 = ["MarkerDiameter=16", "LeftFootFlat=1", "RightFootFlat=1"]
ANGLES = [f"{s}{c}" for c in ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles")
          for s in "LR"]


def _vicon(trial, name):
    for i, label in enumerate(trial.labels):
        bare = label[:-1] if label.endswith("AnglesV") else label
        if bare == name:
            return trial.points[:, i, :]
    return None


def _max_angle_diff(pt):
    """Worst |ours - Vicon| (deg) over all angle channels and frames valid in both."""
    worst = 0.0
    for name in ANGLES:
        theirs = _vicon(pt.trial, name)
        assert theirs is not None, name
        ours = pt.outputs.channels[name]
        ok = np.isfinite(ours).all(1) & np.isfinite(theirs).all(1)
        assert ok.sum() > 0.9 * len(ok)
        d = (ours[ok] - theirs[ok] + 180.0) % 360.0 - 180.0
        worst = max(worst, float(np.abs(d).max()))
    return worst


def test_test_files_end_to_end_equals_vicon():
    st = reference_file(*TEST_FILES, "Static_trial.c3d")
    pt = process_trial(reference_file(*TEST_FILES, "Movement_trial.c3d"), static=st,
                       subject_file=reference_file(*TEST_FILES, "Test.vsk"))
    assert _max_angle_diff(pt) <= 0.005
    # offsets come from the static calibration and equal the VSK's (radians there)
    assert pt.subject.source("LeftStaticPlantFlex") == "calibrate"
    assert pt.subject.get("LeftStaticPlantFlex") == pytest.approx(np.degrees(0.25269871950149536), abs=1e-3)
    assert pt.subject.get("RightStaticRotOff") == pytest.approx(np.degrees(-0.050202675), abs=1e-3)
    assert pt.subject.source("InterAsisDistance") == "Test.vsk"  # given: not recomputed
    # the file has no events: detected, and the quality report says so
    assert pt.events_detected and pt.quality.of("events-detected")
    assert set(pt.timings_ms) >= {"read", "calibrate", "model", "events"}
    assert pt.outputs.n_frames == 323 and pt.outputs.first_frame == 695  # Vicon's frame numbers (its CSV export starts at 695)


def test_flatfoot_full_with_supplied_marker_diameter_equals_vicon():
    # MarkerDiameter 16 is what the lab used (not stored in Nexus files): with 14 every HJC is 1 mm off
    pt = process_trial(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"),
                       static=reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), overrides=FLAT16)
    assert _max_angle_diff(pt) <= 0.005
    assert pt.subject.get("MarkerDiameter") == 16 and pt.subject.source("MarkerDiameter") == "--set"
    # the static's PROCESSING holds IAD 0 (absent); the motion file's PROCESSING holds the
    # 199.902 Vicon computed from this static: with the static given it is computed again
    # (the same value), so a stale stored IAD could never be used unnoticed
    assert pt.subject.source("InterAsisDistance") == "calibrate"
    assert pt.subject.get("InterAsisDistance") == pytest.approx(199.902, abs=1e-3)
    assert not pt.quality.of("stale-processing")
    assert not pt.events_detected and len(pt.cycles) >= 4
    assert {c.side for c in pt.cycles} == {"Left", "Right"}


def test_stale_dynamic_processing_is_reported_and_not_used():
    pt = process_trial(reference_file(*PIG, "PiG_Motion3_FF.c3d"),
                       static=reference_file(*PIG, "PiG_Calibration3_FF.c3d"),
                       overrides=["LeftFootFlat=1", "RightFootFlat=1"])
    stale = pt.quality.of("stale-processing")
    assert stale and "LeftStaticPlantFlex" in stale[0].message
    assert pt.subject.source("LeftStaticPlantFlex") == "calibrate"
    assert _max_angle_diff(pt) <= 0.005


def test_set_interasis_zero_recomputes_and_set_overrides_calibration():
    st = reference_file(*PIG, "PiG_Calibration3_noFF.c3d")
    cal = calibrate_static(st, overrides=["InterAsisDistance=0", "RStaticRotOff=1.5"])
    assert cal.iad_computed and cal.subject.source("InterAsisDistance") == "calibrate"
    assert cal.subject.get("InterAsisDistance") == pytest.approx(245.244, abs=1e-3)
    # only --set overrides a calibrated value
    assert cal.subject.get("RightStaticRotOff") == 1.5 and cal.subject.source("RightStaticRotOff") == "--set"
    assert cal.subject.source("LeftStaticRotOff") == "calibrate"
    pt = process_trial(reference_file(*PIG, "PiG_Motion3_noFF.c3d"), static=calibrate_static(st, overrides=["InterAsisDistance=0"]))
    assert _max_angle_diff(pt) <= 0.005


def test_without_static_offsets_come_from_the_subject_sources():
    pt = process_trial(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"), overrides=["MarkerDiameter=16"])
    issue = pt.quality.of("no-static")
    assert issue and "dynamic PROCESSING of PiG_Motion-FlatFoot-Full.c3d (radians)" in issue[0].message
    assert pt.subject.get("LeftStaticPlantFlex") == pytest.approx(np.degrees(0.11596893), abs=1e-5)
    assert _max_angle_diff(pt) <= 0.005  # this file's PROCESSING is not stale


def test_missing_subject_values_name_them_and_the_sources(tmp_path):
    from core.io.c3d import read_c3d
    t = read_c3d(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"))
    bare = t.with_changes(processing={"LLegLength": 800.0, "RLegLength": 800.0, "LKneeWidth": 0.0})
    js = tmp_path / "subject.json"
    js.write_text(json.dumps({"RightKneeWidth": 105}))
    with pytest.raises(SubjectParameterError) as exc:
        process_trial(bare, subject_file=js)
    e = exc.value
    assert set(e.parameters) == {"LeftKneeWidth", "LeftAnkleWidth", "RightAnkleWidth", "InterAsisDistance"}
    assert "dynamic PROCESSING of PiG_Motion-FlatFoot-Full.c3d (radians)" in str(e) and "subject.json" in str(e)


def test_progress_and_cancel():
    seen = []
    st = calibrate_static_result(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), overrides=FLAT16)
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    process_trial(dyn, static=st, progress=lambda f, m: seen.append((f, m)))
    fr = [f for f, _ in seen]
    assert fr == sorted(fr) and fr[-1] == 1.0 and len(fr) >= 4
    calls = []

    def cancel_after_two():
        calls.append(1)
        return len(calls) > 2
    with pytest.raises(CancelledError):
        process_trial(dyn, static=st, cancelled=cancel_after_two)


def test_settings_validation_and_marker_diameter_setting():
    with pytest.raises(Exception):
        ProcessingSettings(events="sometimes")
    pt = process_trial(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"),
                       static=reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"),
                       overrides=["LeftFootFlat=1", "RightFootFlat=1"],
                       settings=ProcessingSettings(marker_diameter=16.0, events="detect"))
    assert pt.subject.source("MarkerDiameter") == "settings"
    assert _max_angle_diff(pt) <= 0.005
    assert pt.events_detected and all(e.source == "detected" for e in pt.events if e.context != "General")


# ----------------------------------------------------------------------------- sessions
def _link(src, dst):
    os.symlink(src, dst)
    return dst


def test_session_by_name_with_subject_and_patient(tmp_path):
    sess = tmp_path / "Patient A" / "2024-05-02 pre"
    sess.mkdir(parents=True)
    _link(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), sess / "Cal 01.c3d")
    _link(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"), sess / "Walk 01.c3d")
    _link(reference_file(*PIG, "PiG_Motion-FlatFoot-Hole.c3d"), sess / "Walk 02.c3d")
    (sess / "subject.json").write_text(json.dumps({"MarkerDiameter": 16, "LeftFootFlat": 1, "RightFootFlat": 1}))
    (tmp_path / "Patient A" / "patient.json").write_text(json.dumps({"name": "A", "id": "42"}))
    sf = discover_session(sess)
    assert sf.label == "2024-05-02 pre" and sf.static.name == "Cal 01.c3d"
    assert [p.name for p in sf.dynamics] == ["Walk 01.c3d", "Walk 02.c3d"]
    assert sf.subject_file.name == "subject.json" and sf.patient["id"] == "42"
    seen = []
    ps = process_session(sf, progress=lambda f, m: seen.append(f))
    assert ps.calibration is not None and len(ps.trials) == 2 and not ps.failures
    assert ps.trials[0].subject.get("MarkerDiameter") == 16
    assert _max_angle_diff(ps.trials[0]) <= 0.005
    assert seen[-1] == 1.0


def test_session_static_by_content_and_choice(tmp_path):
    _link(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), tmp_path / "trial_b.c3d")
    _link(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"), tmp_path / "trial_a.c3d")
    sf = discover_session(tmp_path)
    assert sf.static.name == "trial_b.c3d" and any("content" in n for n in sf.notes)
    _link(reference_file(*PIG, "PiG_Calibration-FlatFoot-Hole.c3d"), tmp_path / "static 2.c3d")
    _link(reference_file(*PIG, "PiG_Calibration3_FF.c3d"), tmp_path / "Static1.c3d")
    sf2 = discover_session(tmp_path)
    assert sf2.static.name in ("static 2.c3d", "Static1.c3d") and len(sf2.static_candidates) == 2
    assert any("several static candidates" in n for n in sf2.notes)
    sf3 = discover_session(tmp_path, static="trial_b.c3d")
    assert sf3.static.name == "trial_b.c3d" and len(sf3.dynamics) == 3


@pytest.mark.parametrize("name, yes", [("Static_trial", True), ("PiG_Calibration3_FF", True), ("Cal 01", True),
                                       ("static", True), ("Walk 01", False), ("calf_raise", False),
                                       ("Movement_trial", False)])
def test_static_names(name, yes, tmp_path):
    assert is_static_name(tmp_path / f"{name}.c3d") == yes


def test_gap_report_and_bounded_filling_is_flagged():
    from core.io.c3d import read_c3d
    t = read_c3d(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"))
    i = t.index("LKNE")
    pts = np.array(t.points)
    pts[100:105, i, :] = np.nan  # a 5-frame gap in the left knee marker
    gapped = t.with_changes(points=pts)
    static = calibrate_static_result(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), overrides=FLAT16)
    plain = process_trial(gapped, static=static)
    lk = next(g for g in plain.gaps.markers if g.label == "LKNE")
    f0 = t.first_frame + 100
    assert lk.n_gaps == 1 and lk.longest_gap_frames == 5 and lk.gaps == ((f0, f0 + 4),)
    assert any(q.subject == "LKNE" for q in plain.quality.of("gap"))
    knee = plain.outputs.channels["LKneeAngles"]
    assert np.isnan(knee[100:105]).all() and np.isfinite(knee[95:100]).all()  # nothing invented
    assert np.isfinite(plain.outputs.channels["RKneeAngles"][100:105]).all()
    assert plain.filled_mask is None
    filled = process_trial(gapped, static=static, settings=ProcessingSettings(fill_gaps_max_frames=10))
    assert filled.filled_mask[100:105, i].all() and filled.filled_mask.sum() == 5
    assert filled.quality.of("gap-filled")
    vicon = _vicon(t, "LKneeAngles")[100:105]
    assert np.abs(filled.outputs.channels["LKneeAngles"][100:105] - vicon).max() < 1.0
    short = process_trial(gapped, static=static, settings=ProcessingSettings(fill_gaps_max_frames=4))
    assert np.isnan(short.outputs.channels["LKneeAngles"][100:105]).all()  # gap longer than N stays


def test_workstation_session_degrees_foot_flat_and_gapped_sacr():
    # Workstation 5.2.9: PROCESSING in degrees, Marker Diameter 14 and Foot Flat in the static only
    pt = process_trial(reference_file("BTKData", "others", "FunctionalWalk.c3d"),
                       static=reference_file("BTKData", "others", "FunctionalStatic.c3d"))
    assert _max_angle_diff(pt) <= 0.005
    assert pt.subject.get("LeftFootFlat") == 1 and pt.subject.source("LeftFootFlat").startswith("static PROCESSING")
    assert pt.subject.get("MarkerDiameter") == 14 and "(degrees)" in pt.subject.source("MarkerDiameter")
    assert pt.subject.get("LeftStaticPlantFlex") == pytest.approx(12.7087, abs=1e-3)  # stored 12.70872688 deg
    sacr = [q for q in pt.quality.of("gap") if q.subject == "SACR"]
    assert sacr and "0.0 % valid" in sacr[0].message  # SACR gapped in every frame: PSIS midpoint used
    assert not pt.quality.of("stale-processing")  # the walk's PROCESSING equals the calibration


def test_events_detected_only_for_walking_trials():
    from core.io.c3d import read_c3d
    from core.gait.pipeline import walking_decision
    static = calibrate_static_result(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"), overrides=FLAT16)
    walk = read_c3d(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")).with_changes(events=())
    assert walking_decision(walk)[0]  # task unknown, pelvis travels 3.6 m
    sls = walk.with_changes(parameters={"GENULAB:TASK": "sls"})
    assert walking_decision(sls) == (False, "task sls (GENULAB:TASK)")
    pt = process_trial(sls, static=static)
    assert pt.events == () and pt.cycles == () and pt.quality.of("events-not-detected")
    assert not pt.quality.of("no-cycles")
    # a standing trial (pelvis still) of unknown task: no events invented either
    still = process_trial(read_c3d(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d")), static=static)
    assert still.events == () and "pelvis travel" in still.quality.of("events-not-detected")[0].message
    # asked explicitly, detection runs whatever the task
    forced = process_trial(sls, static=static, settings=ProcessingSettings(events="detect"))
    assert forced.events_detected


def test_a_walk_given_as_the_static_is_flagged():
    """A walking trial chosen by mistake as the static gets a warning naming it (real statics move < 20 mm)."""
    from tests.conftest import SAMPLES
    from core.gait.pipeline import calibrate_static_result
    walk = SAMPLES / "GL-0001" / "pre" / "pre_walk_01.c3d"
    static = SAMPLES / "GL-0001" / "pre" / "pre_static_01.c3d"
    if not walk.exists():
        pytest.skip("sample sessions not generated")
    warned = [n for n in calibrate_static_result(walk).notes if "is not still" in n]
    assert len(warned) == 1 and "pre_walk_01" in warned[0]
    assert not [n for n in calibrate_static_result(static).notes if "is not still" in n]
