"""read_c3d on specific reference files: events in all spellings, units, labels, NaN rules,
analog, force plates, PROCESSING, metadata; and refusals of damaged files."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import C3DReadError
from core.io.c3d import read_c3d
from core.io.c3d_events import canonical_event, event_times_s
from tests.conftest import reference_file

FS, FO = "Foot Strike", "Foot Off"


def _ezc3d(path):
    import ezc3d
    return ezc3d.c3d(str(path))


def _events(trial):
    return [(e.label, e.context, e.frame) for e in trial.events]


def test_flattened_event_times_pig_flatfoot_full():
    t = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    # EVENT:TIMES comes back flat (min, sec, min, sec ...); times 1.53 ... 4.59 s at 100 Hz
    assert _events(t) == [(FS, "Right", 154), (FS, "Left", 203), (FO, "Right", 213),
                          (FS, "Right", 255), (FO, "Left", 266), (FS, "Left", 306),
                          (FO, "Right", 315), (FS, "Right", 358), (FO, "Left", 367),
                          (FS, "Left", 406), (FO, "Right", 418), (FS, "Right", 460)]
    assert all(e.source == "file" for e in t.events)
    assert t.events[0].time_s == pytest.approx(1.53, abs=1e-6)
    assert t.first_frame == 148 and t.last_frame == 462


def test_qualisys_coded_labels_without_contexts():
    t = read_c3d(reference_file("ezc3d-testFiles", "Qualisys.c3d"))
    # LHS RTO RHS LTO LHS RTO RHS at 3.59 3.685 4.05 4.16 4.535 4.65 5.03 s, 200 Hz
    assert _events(t) == [(FS, "Left", 719), (FO, "Right", 738), (FS, "Right", 811),
                          (FO, "Left", 833), (FS, "Left", 908), (FO, "Right", 931),
                          (FS, "Right", 1007)]


def test_motion_analysis_codes_in_contexts_and_named_events():
    walk = read_c3d(reference_file("c3d.org", "sample_00", "Motion Analysis Corporation", "Walk1.c3d"))
    assert sorted(_events(walk))[:2] == [(FO, "Left", 79), (FO, "Left", 149)]
    assert {(e.label, e.context) for e in walk.events} == {(FS, "Left"), (FS, "Right"), (FO, "Left"), (FO, "Right")}
    jump = read_c3d(reference_file("c3d.org", "sample_00", "Motion Analysis Corporation", "Sample_Jump2.c3d"))
    assert [(e.label, e.context) for e in jump.events] == [
        ("Start", "General"), ("Take-Off", "General"), ("Landing", "General"), ("End", "General")]


def test_lower_case_event_labels_sample_23():
    t = read_c3d(reference_file("c3d.org", "sample_23", "Vicon_analysis.c3d"))
    assert len(t.events) == 17
    assert {e.label for e in t.events} == {FS, FO}
    assert _events(t)[0] == (FS, "Right", 196)  # 1.625 s x 120 Hz + 1


def test_general_context_keeps_own_label():
    t = read_c3d(reference_file("c3d.org", "sample_00", "Vicon Motion Systems",
                                "pyCGM2 lower limb CGM24 Walking01.c3d"))
    general = [e for e in t.events if e.context == "General"]
    assert [(e.label, e.frame) for e in general] == [("Left-FP", 283)]


@pytest.mark.parametrize("label,context,expected", [
    ("Foot Strike", "Left", (FS, "Left")), ("foot off", "right", (FO, "Right")),
    ("Foot Strike1", "Left", (FS, "Left")), ("Foot Strike2", "Right", (FS, "Right")),
    ("LHS", "", (FS, "Left")), ("RTO", "", (FO, "Right")), ("", "LTO", (FO, "Left")),
    ("Left Foot Strike", "", (FS, "Left")), ("HS", "Right", (FS, "Right")),
    ("Event", "General", ("Event", "General")), ("", "Start", ("Start", "General")),
])
def test_canonical_event_spellings(label, context, expected):
    assert canonical_event(label, context) == expected


def test_event_times_shapes():
    two_d = np.array([[0, 1, 0], [1.5, 2.0, 61.0]])
    assert event_times_s(two_d, 3).tolist() == [1.5, 62.0, 61.0]
    assert event_times_s(two_d.T.reshape(-1), 3).tolist() == [1.5, 62.0, 61.0]


def test_truncated_unit_string_mete_scaled_to_mm():
    path = reference_file("c3d.org", "sample_15", "FP1.C3D")
    t = read_c3d(path)
    raw = _ezc3d(path)
    assert raw["parameters"]["POINT"]["UNITS"]["value"][0].strip() == "mete"
    expected = np.transpose(raw["data"]["points"][:3], (2, 1, 0)) * 1000.0
    ok = np.isfinite(t.points)
    assert ok.any()
    np.testing.assert_allclose(t.points[ok], expected[ok], rtol=1e-12)


def test_metres_file_positions_scaled():
    path = reference_file("c3d.org", "sample_24", "MotionMonitorC3D.c3d")
    t = read_c3d(path)
    raw = np.transpose(_ezc3d(path)["data"]["points"][:3], (2, 1, 0))
    ok = np.isfinite(t.points)
    np.testing.assert_allclose(t.points[ok], raw[ok] * 1000.0)


def test_only_position_points_are_scaled(tmp_path):
    import ezc3d
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = ["LASI", "LKneeAngles"]
    c["parameters"]["POINT"]["UNITS"]["value"] = ["m"]
    c.add_parameter("POINT", "ANGLES", ["LKneeAngles"])
    data = np.ones((4, 2, 5))
    data[:3, 0, :] = 0.5
    data[:3, 1, :] = 12.0
    c["data"]["points"] = data
    c.write(str(tmp_path / "m.c3d"))
    t = read_c3d(tmp_path / "m.c3d")
    assert t.point_kinds == ("marker", "angle")
    np.testing.assert_allclose(t.point("LASI"), 500.0)
    np.testing.assert_allclose(t.point("LKneeAngles"), 12.0)


def test_subject_prefix_stripped_original_kept():
    t = read_c3d(reference_file("c3d.org", "sample_03", "gait-pig.c3d"))
    i = t.index("LASI")
    assert i is not None and t.original_labels[i] == "A22:LASI"
    assert t.has("LKneeAngles") and t.point_kinds[t.index("LKneeAngles")] == "angle"
    assert t.parameters["SUBJECTS:NAMES"] == "A22"


def test_label_list_longer_than_data_sample_01():
    path = reference_file("c3d.org", "sample_01", "Eb015pi.c3d")
    t = read_c3d(path)
    labels = [s.strip() for s in _ezc3d(path)["parameters"]["POINT"]["LABELS"]["value"]]
    assert len(labels) == 48 and t.points.shape[1] == 26
    assert list(t.original_labels) == labels[:26]


def test_label_list_shorter_than_data_sample_27():
    t = read_c3d(reference_file("c3d.org", "sample_27", "kyowadengyo.c3d"))
    assert t.points.shape[1] == 12 and len(t.labels) == 12
    assert t.labels[11] == "Point12" and len(set(t.labels)) == 12


def test_duplicate_labels_made_unique_sample_21():
    t = read_c3d(reference_file("c3d.org", "sample_21", "sample21.c3d"))
    assert t.original_labels.count("RTHI") == 2
    assert "RTHI" in t.labels and "RTHI_2" in t.labels


def test_nan_where_residual_negative():
    path = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Hole.c3d")
    t = read_c3d(path)
    raw = _ezc3d(path)
    i = list(t.original_labels).index("RASI")
    invalid = raw["data"]["meta_points"]["residuals"][0, i, :] < 0
    assert 0 < invalid.sum() < t.n_frames  # RASI is missing in 3 % of the frames
    assert np.array_equal(np.isnan(t.point("RASI")).all(axis=1), invalid)
    assert np.isfinite(t.point("RASI")[~invalid]).all()


def test_first_frame_matches_vicon_export():
    t = read_c3d(reference_file("cadop-pyCGM", "SampleData", "Test_Files", "Movement_trial.c3d"))
    assert t.first_frame == 695 and t.n_frames == 323  # Movement_trial.csv starts at frame 695


def test_analog_force_plates_processing_manufacturer():
    path = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    t = read_c3d(path)
    raw = _ezc3d(path)
    assert t.analog is not None and t.analog.rate_hz == 1000.0
    assert t.analog.values.shape == (3150, 38)
    np.testing.assert_array_equal(t.analog.values, raw["data"]["analogs"][0].T)
    assert len(t.force_plates) == 2 and [p.plate_type for p in t.force_plates] == [2, 2]
    assert t.force_plates[0].channels == (0, 1, 2, 3, 4, 5)
    assert t.force_plates[1].channels == (6, 7, 8, 9, 10, 11)
    assert t.force_plates[0].corners_mm.shape == (4, 3)
    assert t.processing["LLegLength"] == 800.0 and t.processing["Bodymass"] == 47.5
    assert t.manufacturer == "Vicon" and t.software == "Vicon Nexus 1.4.116.45512"
    assert t.parameters["POINT:UNITS"] == "mm"


def test_processing_marker_diameter_and_case_insensitive_manufacturer():
    fw = read_c3d(reference_file("BTKData", "others", "FunctionalWalk.c3d"))
    assert fw.processing["Marker Diameter"] == 14.0
    walk = read_c3d(reference_file("c3d.org", "sample_00", "Motion Analysis Corporation", "Walk1.c3d"))
    assert walk.manufacturer == "Motion Analysis Corp." and walk.software.startswith("Cortex")


def test_nonexistent_empty_truncated_and_random_files(tmp_path):
    with pytest.raises(C3DReadError, match="not found"):
        read_c3d(tmp_path / "nothing.c3d")
    empty = tmp_path / "empty.c3d"
    empty.write_bytes(b"")
    with pytest.raises(C3DReadError, match="empty"):
        read_c3d(empty)
    src = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d").read_bytes()
    for cut in (300, 5000, len(src) // 2 + 37, len(src) - 100):
        bad = tmp_path / f"cut{cut}.c3d"
        bad.write_bytes(src[:cut])
        with pytest.raises(C3DReadError) as info:
            read_c3d(bad)
        assert bad.name in str(info.value)
    rng = np.random.default_rng(7)
    for k in range(3):
        noise = tmp_path / f"noise{k}.c3d"
        noise.write_bytes(rng.integers(0, 256, size=20000 + 999 * k, dtype=np.uint8).tobytes())
        with pytest.raises(C3DReadError) as info:
            read_c3d(noise)
        assert noise.name in str(info.value)
