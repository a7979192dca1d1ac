"""Writers: processed C3D copy, new C3D from a Trial (round trips), CSV of model outputs."""
from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from core.errors import C3DWriteError
from core.io.c3d import read_c3d, write_outputs_csv, write_processed_c3d, write_trial_c3d
from core.model import GaitEvent, ModelOutputs, Trial
from core.variables import output_names
from tests.conftest import reference_file


def _f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outputs_from(trial: Trial, first_row: int = 0) -> ModelOutputs:
    """Outputs built from real data: Vicon's own angles + shifted markers as joint centres."""
    rows = slice(first_row, None)
    ch = {}
    for side in "LR":
        for a in ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles"):
            ch[f"{side}{a}"] = trial.point(f"{side}{a}")[rows] + 0.25
        for j, m in (("HJC", "ASI"), ("KJC", "KNE"), ("AJC", "ANK")):
            ch[f"{side}{j}"] = trial.point(f"{side}{m}")[rows] + np.array([1.0, -2.0, 3.0])
    ch["LKneeAngles"] = ch["LKneeAngles"].copy()
    ch["LKneeAngles"][10:14] = np.nan
    ch["RHJC"] = ch["RHJC"].copy()
    ch["RHJC"][-3:] = np.nan
    return ModelOutputs(ch, {}, np.eye(3), trial.first_frame + first_row, trial.point_rate_hz)


@pytest.fixture
def motion():
    return reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")


def test_processed_copy_round_trip(tmp_path, motion):
    before = _sha(motion)
    src = read_c3d(motion)
    outputs = _outputs_from(src, first_row=5)
    events = [GaitEvent("Foot Strike", "Left", 200, 1.99, "detected"),
              GaitEvent("Foot Off", "Right", 262, 2.61, "detected")]
    out = write_processed_c3d(motion, tmp_path / "proc.c3d", outputs, events=events)
    assert _sha(motion) == before, "the source file must never change"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proc.c3d"], "no temporary file left"
    back = read_c3d(out)
    # existing Vicon angle points replaced (no duplicates), joint centres added
    assert len(back.labels) == len(src.labels) + 6
    assert all(back.original_labels.count(n) == 1 for n in output_names())
    for name in output_names():
        got = back.point(name)
        want = np.full((src.n_frames, 3), np.nan)
        want[5:] = outputs.channels[name]
        assert np.array_equal(np.isnan(got), np.isnan(want)), name
        ok = np.isfinite(want)
        np.testing.assert_array_equal(got[ok], _f32(want[ok]), err_msg=name)
        kind = "angle" if name.endswith("Angles") else "marker"
        assert back.point_kinds[back.index(name)] == kind
    for name in src.labels:  # every original point, untouched
        if name in output_names():
            continue
        np.testing.assert_array_equal(back.point(name), src.point(name), err_msg=name)
    np.testing.assert_allclose(back.analog.values, src.analog.values, rtol=1e-6, atol=1e-9)
    assert dict(back.processing) == dict(src.processing)
    assert [(e.label, e.context, e.frame) for e in back.events] == [
        ("Foot Strike", "Left", 200), ("Foot Off", "Right", 262)]
    assert back.first_frame == src.first_frame and back.manufacturer == "Vicon"


def test_processed_copy_invalid_written_as_vicon(tmp_path, motion):
    import ezc3d
    src = read_c3d(motion)
    out = write_processed_c3d(motion, tmp_path / "p.c3d", _outputs_from(src))
    raw = ezc3d.c3d(str(out))
    labels = raw["parameters"]["POINT"]["LABELS"]["value"] + raw["parameters"]["POINT"].get(
        "LABELS2", {"value": []})["value"]
    i = labels.index("LKneeAngles")
    assert (raw["data"]["meta_points"]["residuals"][0, i, 10:14] == -1).all()
    assert "LKneeAngles" in raw["parameters"]["POINT"]["ANGLES"]["value"]
    assert "LHJC" not in raw["parameters"]["POINT"]["ANGLES"]["value"]
    # stored as Vicon stores it: x = y = z = 0 and residual -1 (read from the raw records)
    head = np.fromfile(out, dtype="<u2", count=12)
    n_p, n_an = int(head[1]), int(head[2])
    rec = np.fromfile(out, dtype="<f4", offset=512 * (int(head[8]) - 1)).reshape(-1)[:src.n_frames * (4 * n_p + n_an)]
    rec = rec.reshape(src.n_frames, 4 * n_p + n_an)[:, :4 * n_p].reshape(src.n_frames, n_p, 4)
    np.testing.assert_array_equal(rec[10:14, i], [[0.0, 0.0, 0.0, -1.0]] * 4)
    # without events the file's own events are kept
    assert read_c3d(out).events == src.events


def test_processed_copy_event_group_vicon_layout(tmp_path, motion):
    import ezc3d
    src = read_c3d(motion)
    events = [GaitEvent("Foot Strike", "Left", 200, 1.99), GaitEvent("Foot Off", "Right", 262, 2.61),
              GaitEvent("Foot Strike", "General", 300, 62.5)]
    raw = ezc3d.c3d(str(write_processed_c3d(motion, tmp_path / "e.c3d", _outputs_from(src), events=events)))
    ev = raw["parameters"]["EVENT"]
    assert int(ev["USED"]["value"][0]) == 3
    assert ev["LABELS"]["value"] == ["Foot Strike", "Foot Off", "Foot Strike"]
    assert ev["CONTEXTS"]["value"] == ["Left", "Right", "General"]
    assert ev["SUBJECTS"]["value"] == ["BELT_C"] * 3
    assert ev["ICON_IDS"]["type"] == 2 and ev["ICON_IDS"]["value"].tolist() == [1, 2, 1]
    assert ev["GENERIC_FLAGS"]["value"].tolist() == [0, 0, 0]
    assert ev["DESCRIPTIONS"]["value"][1] == "The instant the toe leaves the ground"
    np.testing.assert_allclose(ev["TIMES"]["value"], [[0, 0, 1], [1.99, 2.61, 2.5]], atol=1e-6)


def test_processed_copy_prefixed_file_keeps_vicon_points(tmp_path):
    path = reference_file("c3d.org", "sample_03", "gait-pig.c3d")
    src = read_c3d(path)
    out = write_processed_c3d(path, tmp_path / "g.c3d", _outputs_from(src))
    back = read_c3d(out)
    assert "A22:LKneeAngles" in back.original_labels  # Vicon's prefixed point kept
    i = back.index("LKneeAngles")
    assert back.original_labels[i] == "LKneeAngles"  # the bare name is ours
    np.testing.assert_array_equal(back.point("LKneeAngles")[20], _f32(src.point("LKneeAngles")[20] + 0.25))


def test_processed_refuses_to_overwrite_source(tmp_path, motion):
    copy = tmp_path / "in.c3d"
    copy.write_bytes(motion.read_bytes())
    before = _sha(copy)
    with pytest.raises(C3DWriteError):
        write_processed_c3d(copy, copy, _outputs_from(read_c3d(copy)))
    assert _sha(copy) == before
    with pytest.raises(C3DWriteError):
        write_processed_c3d(copy, tmp_path / "missing_dir" / "x.c3d", _outputs_from(read_c3d(copy)))


def test_write_trial_round_trip(tmp_path, motion):
    src = read_c3d(motion)
    src = src.with_changes(parameters={**src.parameters, "GENULAB:TASK": "sls", "GENULAB:SIDE": "Left"})
    back = read_c3d(write_trial_c3d(tmp_path / "t.c3d", src))
    assert back.labels == src.labels and back.point_kinds == src.point_kinds
    assert back.first_frame == src.first_frame and back.point_rate_hz == src.point_rate_hz
    assert np.array_equal(np.isnan(back.points), np.isnan(src.points))
    np.testing.assert_array_equal(back.points[np.isfinite(src.points)], _f32(src.points[np.isfinite(src.points)]))
    assert back.events == src.events
    assert dict(back.processing) == dict(src.processing)
    assert back.parameters["GENULAB:TASK"] == "sls" and back.parameters["GENULAB:SIDE"] == "Left"
    assert back.parameters["SUBJECTS:NAMES"] == "BELT_C"
    assert (back.manufacturer, back.software) == (src.manufacturer, src.software)
    np.testing.assert_allclose(back.analog.values, src.analog.values, rtol=1e-6, atol=1e-9)
    assert [p.channels for p in back.force_plates] == [p.channels for p in src.force_plates]
    np.testing.assert_allclose(back.force_plates[1].corners_mm, src.force_plates[1].corners_mm, atol=1e-4)


def test_write_trial_synthetic_with_gaps(tmp_path):
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(50, 3, 3)) * 300.0
    pts[5:9, 1] = np.nan
    t = Trial("syn", ("A", "B", "C"), pts, 250.0, first_frame=1001)
    back = read_c3d(write_trial_c3d(tmp_path / "syn.c3d", t))
    assert back.frames[0] == 1001 and back.n_frames == 50 and back.point_rate_hz == 250.0
    assert np.array_equal(np.isnan(back.points), np.isnan(pts))
    np.testing.assert_array_equal(back.points[~np.isnan(pts)], _f32(pts[~np.isnan(pts)]))


def test_outputs_csv(tmp_path):
    a = np.arange(12.0).reshape(4, 3) + 0.5
    a[1, 0] = np.nan
    jc = np.arange(12.0).reshape(4, 3) * 10
    out = ModelOutputs({"LHJC": jc, "LKneeAngles": a}, {}, np.eye(3), 101, 100.0)
    path = write_outputs_csv(tmp_path / "o.csv", out)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["frame", "time_s", "LKneeAngles_X", "LKneeAngles_Y", "LKneeAngles_Z",
                       "LHJC_X", "LHJC_Y", "LHJC_Z"]  # Vicon order, angles first
    assert rows[1][:2] == ["101", "1.000000"] and rows[4][:2] == ["104", "1.030000"]
    assert rows[2][2] == "" and float(rows[2][3]) == 4.5  # NaN -> empty cell
    assert [float(x) for x in rows[3][5:]] == [60.0, 70.0, 80.0]
    assert len(rows) == 5
    only = list(csv.reader(write_outputs_csv(tmp_path / "j.csv", out, names=["LHJC"]).open()))
    assert only[0] == ["frame", "time_s", "LHJC_X", "LHJC_Y", "LHJC_Z"]
    with pytest.raises(C3DWriteError, match="RKneeAngles"):
        write_outputs_csv(tmp_path / "x.csv", out, names=["RKneeAngles"])


def test_more_than_255_points_round_trip(tmp_path):
    """ezc3d splits long label lists into LABELS2; reading joins them again."""
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(8, 300, 3)) * 100.0
    labels = tuple(f"M{i:03d}" for i in range(300))
    back = read_c3d(write_trial_c3d(tmp_path / "many.c3d", Trial("many", labels, pts, 100.0)))
    assert back.labels == labels
    np.testing.assert_array_equal(back.points, _f32(pts))


@pytest.mark.parametrize("parts", [
    ("c3d.org", "sample_03", "gait-raw.c3d"),          # DEC integer, analog channels with SCALE 0
    ("c3d.org", "sample_16", "golf.c3d"),              # Latin-1 point descriptions, no analog
    ("c3d.org", "sample_13", "Dance1.c3d"),            # non-integer rate
    ("c3d.org", "sample_01", "Eb015pr.c3d"),           # 48 labels for 26 points
    ("ezc3d-testFiles", "Kistler.c3d"),                # no points, no point rate
])
def test_processed_copy_of_unusual_files(tmp_path, parts):
    path = reference_file(*parts)
    src = read_c3d(path)
    ones = np.ones((src.n_frames, 3))
    out = ModelOutputs({"LKneeAngles": ones, "LKJC": ones * 5}, {}, np.eye(3), src.first_frame, src.point_rate_hz)
    back = read_c3d(write_processed_c3d(path, tmp_path / "u.c3d", out))
    assert back.n_frames == src.n_frames
    np.testing.assert_array_equal(back.point("LKneeAngles"), ones)
    for name in src.labels:
        if back.has(name) and name not in ("LKneeAngles", "LKJC"):
            np.testing.assert_array_equal(np.isnan(back.point(name)), np.isnan(src.point(name)))
    if src.analog is not None:
        np.testing.assert_allclose(back.analog.values, src.analog.values, rtol=1e-5, atol=1e-4)


def test_processed_copy_of_metre_file_keeps_units(tmp_path):
    path = reference_file("c3d.org", "sample_24", "MotionMonitorC3D.c3d")  # POINT:UNITS m
    src = read_c3d(path)
    jc = np.tile([1000.0, 2000.0, 3000.0], (src.n_frames, 1))
    ang = np.tile([10.0, 20.0, 30.0], (src.n_frames, 1))
    out = ModelOutputs({"LKneeAngles": ang, "LKJC": jc}, {}, np.eye(3), src.first_frame, src.point_rate_hz)
    back = read_c3d(write_processed_c3d(path, tmp_path / "m.c3d", out))
    assert back.parameters["POINT:UNITS"] == "m"
    np.testing.assert_allclose(back.point("LKJC"), jc, rtol=1e-6)      # written in m, read as mm
    np.testing.assert_array_equal(back.point("LKneeAngles"), ang)      # angles never scaled
    name = src.marker_labels[0]
    np.testing.assert_allclose(back.point(name), src.point(name), rtol=1e-6)


def test_capture_longer_than_65535_frames_round_trip(tmp_path):
    """The header's frame words are capped at 65,535; TRIAL:ACTUAL_*_FIELD give the length."""
    pts = np.random.default_rng(9).normal(size=(70000, 2, 3)) * 50.0
    t = Trial("long", ("A", "B"), pts, 1000.0, first_frame=5)
    back = read_c3d(write_trial_c3d(tmp_path / "long.c3d", t))
    assert (back.n_frames, back.first_frame, back.last_frame) == (70000, 5, 70004)
    np.testing.assert_array_equal(back.points, _f32(pts))


def test_processed_copy_refused_where_ezc3d_misreads(tmp_path):
    path = reference_file("c3d.org", "sample_28", "type1.C3D")  # see test_c3d_fast.EZC3D_MISREADS
    src = read_c3d(path)
    out = ModelOutputs({"LKneeAngles": np.ones((src.n_frames, 3))}, {}, np.eye(3), src.first_frame, src.point_rate_hz)
    with pytest.raises(C3DWriteError, match="reads type1.C3D differently"):
        write_processed_c3d(path, tmp_path / "t.c3d", out)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(C3DWriteError, match="do not match"):
        write_processed_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"),
                            tmp_path / "r.c3d", ModelOutputs(out.channels, {}, np.eye(3), 1, 50.0))
