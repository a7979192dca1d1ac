"""Marker sets: aliases, label map, matching and required markers (static / dynamic)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import GenuError, MissingMarkersError
from core.io.c3d import read_c3d
from core.io.markersets import (label_key, load_label_map, load_marker_set, match_marker_set,
                             normalise_labels, require_markers)
from core.model import Trial
from tests.conftest import reference_file

PIG = ["LASI", "RASI", "SACR", "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
       "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE"]


def _trial(labels, n=6, nan=()):
    pts = np.arange(n * len(labels) * 3, dtype=float).reshape(n, len(labels), 3) + 1.0
    for lab in nan:
        pts[:, labels.index(lab)] = np.nan
    return Trial("t", tuple(labels), pts, 100.0)


@pytest.fixture(scope="module")
def pig():
    return load_marker_set()


def test_definition_is_data(pig):
    assert pig.name == "pig_lower_body"
    assert "LHEE" not in pig.required and set(pig.required_static) == {"LHEE", "RHEE"}
    assert dict(pig.rear_pelvis) == {"SACR": ("SACR",), "PSIS": ("LPSI", "RPSI")}
    assert {"LKAX", "LKD1", "LKD2", "LKNM", "LMMA"} <= set(pig.optional)


@pytest.mark.parametrize("label,canon", [
    ("L.ASIS", "LASI"), ("LASIS", "LASI"), ("l asis", "LASI"), ("L_ASIS", "LASI"),
    ("LeftASIS", "LASI"), ("lasi", "LASI"), ("R.ASIS", "RASI"), ("V.Sacral", "SACR"),
    ("VSAC", "SACR"), ("L.Knee", "LKNE"), ("L.Ankle", "LANK"), ("L.Heel", "LHEE"),
    ("L.Toe", "LTOE"), ("L.Thigh", "LTHI"), ("L.Shank", "LTIB"), ("RSHA", "RTIB"),
    ("LKNEin", "LKNM"), ("RANKin", "RMMA"), ("L.PSIS", "LPSI"), ("Right Knee", "RKNE"),
])
def test_aliases(pig, label, canon):
    assert pig.aliases[label_key(label)] == canon


def test_normalise_labels_renames_markers_only(pig):
    labels = ["L.ASIS", "R.ASIS", "V.Sacral", "L.Thigh", "L.Knee", "L.Shank", "L.Ankle", "L.Heel",
              "L.Toe", "R.Thigh", "R.Knee", "R.Shank", "R.Ankle", "R.Heel", "R.Toe"]
    t = _trial(labels)
    n = normalise_labels(t, pig)
    assert n.labels == ("LASI", "RASI", "SACR", "LTHI", "LKNE", "LTIB", "LANK", "LHEE", "LTOE",
                        "RTHI", "RKNE", "RTIB", "RANK", "RHEE", "RTOE")
    assert n.original_labels == tuple(labels)
    np.testing.assert_array_equal(n.points, t.points)
    require_markers(n, static=True, marker_set=pig)


def test_existing_canonical_label_wins(pig):
    t = _trial(["LASI", "L.ASIS"])
    assert normalise_labels(t, pig).labels == ("LASI", "L.ASIS")


def test_label_map(tmp_path, pig):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"_comment": "x", "Hip Front Left": "LASI", "hip front right": "RASI"}))
    mapping = load_label_map(path)
    assert mapping == {"Hip Front Left": "LASI", "hip front right": "RASI"}
    t = _trial(["HIP FRONT LEFT", "Hip_Front_Right"] + PIG[2:])
    n = normalise_labels(t, pig, mapping)
    assert n.labels[:2] == ("LASI", "RASI")
    assert match_marker_set(t, pig, label_map=mapping).missing_required == ()
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(GenuError, match="bad.json"):
        load_label_map(bad)


def test_require_markers_lists_all_missing(pig):
    labels = [l for l in PIG if l not in ("SACR", "LTIB", "RHEE")]
    t = _trial(labels)
    with pytest.raises(MissingMarkersError) as info:
        require_markers(t, static=True, marker_set=pig)
    assert set(info.value.markers) == {"LTIB", "RHEE", "SACR or LPSI+RPSI"}
    with pytest.raises(MissingMarkersError) as info:
        require_markers(t, static=False, marker_set=pig)
    assert set(info.value.markers) == {"LTIB", "SACR or LPSI+RPSI"}  # heels: static only


def test_rear_pelvis_options(pig):
    psis = [l for l in PIG if l != "SACR"] + ["LPSI", "RPSI"]
    assert require_markers(_trial(psis), static=True, marker_set=pig).rear_pelvis == "PSIS"
    one = [l for l in PIG if l != "SACR"] + ["LPSI"]
    with pytest.raises(MissingMarkersError):
        require_markers(_trial(one), static=False, marker_set=pig)
    assert match_marker_set(_trial(PIG), pig).rear_pelvis == "SACR"


def test_fully_gapped_marker_counts_as_missing(pig):
    t = _trial(PIG, nan=("LHEE",))
    assert require_markers(t, static=False, marker_set=pig).rear_pelvis == "SACR"
    with pytest.raises(MissingMarkersError, match="LHEE"):
        require_markers(t, static=True, marker_set=pig)


def test_real_files(pig):
    walk = read_c3d(reference_file("c3d.org", "sample_00", "Motion Analysis Corporation", "Walk1.c3d"))
    m = match_marker_set(walk, pig)
    assert m.recognised and m.missing_required == () and m.rear_pelvis == "SACR"
    assert m.renamed["VSAC"] == "SACR" and m.renamed["R.TO"] == "RTOE"
    coda = read_c3d(reference_file("c3d.org", "sample_00", "Codamotion", "codamotion_gaitwands_20150204.c3d"))
    mc = match_marker_set(coda, pig)
    assert mc.renamed["L.ASIS"] == "LASI" and mc.renamed["L.Knee"] == "LKNE"
    assert set(mc.missing_required) == {"LTHI", "LTIB", "RTHI", "RTIB"}  # wand markers named otherwise
    raw = read_c3d(reference_file("c3d.org", "sample_03", "gait-raw.c3d"))  # heels 100 % gapped
    assert match_marker_set(raw, pig).missing_required == ()
    assert set(match_marker_set(raw, pig, static=True).missing_required) == {"LHEE", "RHEE"}
    full = read_c3d(reference_file("BTKData", "others", "FunctionalWalk.c3d"))  # SACR 100 % gapped
    assert match_marker_set(full, pig).rear_pelvis == "PSIS"


def test_unknown_marker_set():
    with pytest.raises(GenuError, match="no marker set"):
        load_marker_set("does_not_exist")
