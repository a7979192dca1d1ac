"""Fixes of the QA findings QA-12, M-18..M-22 (qa_report.md): impossible subject values, filled
samples flagged in the products, duplicated/General/swapped/incomplete file events."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import SubjectParameterError
from core.io.c3d import read_c3d
from core.gait.pipeline import ProcessingSettings, calibrate_static_result, process_trial
from tests.conftest import SAMPLES

PRE = SAMPLES / "GL-0001" / "pre"
STATIC, WALK = PRE / "pre_static_01.c3d", PRE / "pre_walk_01.c3d"


@pytest.fixture(scope="module")
def walk():
    if not WALK.exists():
        pytest.skip("sample sessions absent (python -m core.synthetic.make_samples)")
    return read_c3d(WALK)


@pytest.fixture(scope="module")
def static():
    if not STATIC.exists():
        pytest.skip("sample sessions absent (python -m core.synthetic.make_samples)")
    return calibrate_static_result(STATIC)


# ----------------------------------------------------------------------------- QA-12
def test_qa12_impossible_knee_width_refused_by_the_calibration():
    if not STATIC.exists():
        pytest.skip("sample sessions absent")
    with pytest.raises(SubjectParameterError) as e:
        calibrate_static_result(STATIC, overrides=["LeftKneeWidth=980"])
    msg = str(e.value)
    assert e.value.parameters == ("LeftKneeWidth",)
    assert "497 mm" in msg and "HJC-LKNE distance" in msg and "every frame" in msg
    assert "no static frame" not in msg


def test_qa12_impossible_widths_warned_in_process(walk, static):
    pt = process_trial(walk, static=static, overrides=["LeftKneeWidth=980", "RightAnkleWidth=900"])
    bad = {q.subject: q.message for q in pt.quality.of("impossible-parameter")}
    assert set(bad) == {"LeftKneeWidth", "RightAnkleWidth"}
    assert "497 mm" in bad["LeftKneeWidth"] and "KJC-RANK" in bad["RightAnkleWidth"]
    assert np.isnan(pt.outputs.channels["LKneeAngles"]).all()
    assert np.isfinite(pt.outputs.channels["RHipAngles"]).any()  # the other side is kept
    good = process_trial(walk, static=static)
    assert not good.quality.of("impossible-parameter") and not good.quality.of("implausible-parameter")


def test_qa12_implausible_foot_offsets_are_named(walk, static):
    res = calibrate_static_result(STATIC, overrides=["LeftAnkleWidth=680"])
    notes = [n for n in res.notes if n.startswith("warning:")]
    assert any("LeftStaticRotOff" in n for n in notes) and any("LeftStaticPlantFlex" in n for n in notes)
    assert not [n for n in static.notes if n.startswith("warning:")]
    pt = process_trial(walk, static=static, overrides=["LeftStaticPlantFlex=1e9"])
    assert [q.subject for q in pt.quality.of("implausible-parameter")] == ["LeftStaticPlantFlex"]


# ----------------------------------------------------------------------------- M-19..M-22
def _with_events(walk, events):
    return walk.with_changes(events=tuple(events))


def test_m19_repeated_foot_strikes_dropped_with_a_note(walk, static, recwarn):
    from core.analysis.spatiotemporal import spatiotemporal
    plain = process_trial(walk, static=static)
    dup = process_trial(_with_events(walk, walk.events + walk.events[:5]), static=static)
    assert dup.events == plain.events and dup.cycles == plain.cycles
    note = dup.quality.of("duplicate-events")
    assert note and note[0].message.startswith("5 repeated event(s)")
    st = spatiotemporal(walk.events + walk.events, walk)  # no zero-length stride, no numpy warning
    assert st.n_strides("Left") == spatiotemporal(walk.events, walk).n_strides("Left") == 3
    assert np.isfinite(st.side("Left")["cadence_steps_min"])
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_m20_general_foot_events_not_counted_as_detected(walk, static):
    import dataclasses
    gen = [dataclasses.replace(e, context="General") for e in walk.events]
    pt = process_trial(_with_events(walk, gen), static=static)
    n_det = sum(e.source == "detected" for e in pt.events)
    assert n_det == 16 and pt.events_detected and len(pt.cycles) >= 4
    msg = pt.quality.of("events-detected")[0].message
    assert "16 foot strike/off event(s) have context 'General'" in msg and ": 16 detected" in msg
    kept = process_trial(_with_events(walk, gen), static=static,
                         settings=ProcessingSettings(events="file"))
    assert kept.cycles == () and kept.quality.of("events-general")


def test_m21_swapped_strikes_and_offs_warn_on_stance(walk, static):
    import dataclasses
    swap = {"Foot Strike": "Foot Off", "Foot Off": "Foot Strike"}
    pt = process_trial(_with_events(walk, [dataclasses.replace(e, label=swap[e.label]) for e in walk.events]),
                       static=static)
    warned = {q.subject: q.message for q in pt.quality.of("implausible-stance")}
    assert set(warned) == {"Left", "Right"} and "40.0 %" in warned["Left"] and "swapped" in warned["Left"]
    assert not process_trial(walk, static=static).quality.of("implausible-stance")  # 60 %


def test_m22_strides_without_foot_off_are_reported(walk, static):
    from core.gait.cycles import skipped_strides
    ev = [e for e in walk.events if not (e.context == "Right" and e.label == "Foot Off" and e.frame > 100)]
    pt = process_trial(_with_events(walk, ev), static=static)
    assert len(pt.cycles) == 4
    q = pt.quality.of("cycles-dropped")
    assert len(q) == 1 and q[0].subject == "Right"
    assert q[0].message == ("2 right stride(s) not used as gait cycles: frames 121-221 (no foot off), "
                            "221-321 (no foot off)")
    two_offs = ev + [_foot_off(walk, "Left", 100), _foot_off(walk, "Left", 150)]
    assert skipped_strides(two_offs, "Left") == ((71, 171, "3 foot offs (a foot strike is missing)"),)
    assert skipped_strides(walk.events, "Left") == () and skipped_strides(walk.events, "Right") == ()


def _foot_off(walk, side, frame):
    from core.model import GaitEvent
    return GaitEvent("Foot Off", side, frame, (frame - 1) / walk.point_rate_hz)


# ----------------------------------------------------------------------------- M-18
def test_m18_filled_samples_flagged_in_csv_and_c3d(walk, static, tmp_path, capsys):
    import csv
    from app.cli import main
    from core.io.csv_out import filled_frame_runs
    pts = np.array(walk.points)
    i, j = walk.index("RTHI"), walk.index("LTOE")
    pts[149:153, i] = np.nan  # frames 150-153 (first frame 1)
    pts[199:201, i] = np.nan
    pts[199:202, j] = np.nan
    src = tmp_path / "gapped.c3d"
    from core.io.c3d import write_trial_c3d
    write_trial_c3d(src, walk.with_changes(points=pts))
    for fmt in ("csv", "c3d"):
        assert main(["process", str(src), "--fill-gaps", "10", "--format", fmt, "--out", str(tmp_path / "o")]) == 0
    assert "filled_markers" in capsys.readouterr().out
    rows = list(csv.DictReader(open(tmp_path / "o" / "gapped.csv")))
    flagged = {int(r["frame"]): r["filled_markers"] for r in rows if r["filled_markers"]}
    assert flagged == {**{f: "RTHI" for f in range(150, 154)}, 200: "LTOE RTHI", 201: "LTOE RTHI", 202: "LTOE"}  # label order
    p = read_c3d(tmp_path / "o" / "gapped.c3d").parameters
    assert p["GENULAB:FILLED_FIRST"] == (150, 200) and p["GENULAB:FILLED_LAST"] == (153, 202)
    assert set(p["GENULAB:FILLED_MARKERS"].split(", ")) == {"RTHI", "LTOE"} and p["GENULAB:FILL_MAX_GAP"] == 10
    # without --fill-gaps: the plain layout and no parameter
    assert main(["process", str(src), "--format", "csv", "--out", str(tmp_path / "p")]) == 0
    assert "filled_markers" not in open(tmp_path / "p" / "gapped.csv").readline()
    # more runs than a C3D list holds: merged over the shortest stretches, every frame covered
    mask = np.zeros((1000, 2), bool)
    mask[::3, 0] = True  # 334 runs
    mask[500:510, 1] = True
    first, last = filled_frame_runs(mask, 1)
    assert first.size == 255 and (np.diff(first) > 0).all()
    covered = np.zeros(1000, bool)
    for a, b in zip(first, last):
        covered[a - 1:b] = True
    assert covered[mask.any(axis=1)].all()


def test_qa12_chord_without_solution_in_some_frames_only():
    from core.kinematics.cgm1 import CGM1Parameters, impossible_widths
    from core.model import ParameterValue, SubjectParameters
    vals = {"LeftLegLength": 880, "RightLegLength": 880, "LeftKneeWidth": 100, "RightKneeWidth": 100,
            "LeftAnkleWidth": 70, "RightAnkleWidth": 70, "InterAsisDistance": 230}
    params = CGM1Parameters.from_subject(SubjectParameters({k: ParameterValue(k, v, "mm", "test")
                                                             for k, v in vals.items()}))
    f = 4
    hjc = {s: np.tile([0.0, 0.0, 900.0], (f, 1)) for s in ("Left", "Right")}
    knee_z = np.array([500.0, 500.0, 880.0, np.nan])  # |HJC-KNE| 403, 403, 54 mm (< 57 mm offset), missing
    mk = {f"{p}KNE": np.column_stack([np.zeros(f), np.full(f, 50.0), knee_z]) for p in "LR"}
    mk.update({f"{p}THI": mk[f"{p}KNE"] + [30.0, 0.0, 100.0] for p in "LR"})
    mk.update({f"{p}{m}": np.zeros((f, 3)) for p in "LR" for m in ("ANK", "TIB")})
    kjc = {s: np.full((f, 3), np.nan) for s in ("Left", "Right")}  # ankle not checked
    assert impossible_widths(params, hjc, kjc, mk) == []
    bad = impossible_widths(params, hjc, kjc, mk, partial=True)
    assert [n for n, _ in bad] == ["LeftKneeWidth", "RightKneeWidth"]
    assert "in 1 of 3 frames with the markers" in bad[0][1] and "57 mm" in bad[0][1]


def test_m21_a_real_slow_walk_is_not_flagged():
    from tests.conftest import reference_file
    pt = process_trial(reference_file("cadop-pyCGM", "SampleData", "Test_Files", "Movement_trial.c3d"))
    left = [c.foot_off_percent for c in pt.cycles if c.side == "Left"]
    assert 73.0 < np.mean(left) < 75.0  # Vicon's own events: a slow walk, stance 73.8 %
    assert not pt.quality.of("implausible-stance")
