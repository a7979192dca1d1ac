"""Subject parameters: readers, unit rule, aliases, zero-as-absent and precedence on real files."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.errors import SubjectParameterError
from core.io.subject import (REQUIRED, canonical_name, format_subject, parse_set_options,
                             processing_angle_unit, read_mp, read_subject_file, read_vsk,
                             require_parameters, resolve_subject, resolve_subject_report)
from core.model import Trial
from tests.conftest import reference_file

PYCGM = ("cadop-pyCGM", "SampleData")


def _read(*parts):
    from core.io.c3d import read_c3d
    return read_c3d(reference_file(*parts))


def _trial_with(processing, software="Vicon Nexus 2.6"):
    return Trial("t", ("A",), np.zeros((2, 1, 3)), 100.0, processing=processing, software=software)


# ----------------------------------------------------------------------------- aliases
@pytest.mark.parametrize("alias, name", [
    ("LLegLength", "LeftLegLength"), ("rkneewidth", "RightKneeWidth"),
    ("LStaticPlantFlex", "LeftStaticPlantFlex"), ("Marker Diameter", "MarkerDiameter"),
    ("Left Foot Flat", "LeftFootFlat"), ("RAsisTrocanterDistance", "RightAsisTrocanterDistance"),
    ("left_tibial_torsion", "LeftTibialTorsion"), ("InterAsisDistance", "InterAsisDistance"),
    ("LeftShoulderOffset", None), ("Theta", None),
])
def test_aliases(alias, name):
    assert canonical_name(alias) == name


def test_parse_set_options_aliases_and_errors():
    got = parse_set_options(["LLegLength=880", "Marker Diameter = 16", "left foot flat=1",
                             "LStaticPlantFlex=10.5"])
    assert got == {"LeftLegLength": 880.0, "MarkerDiameter": 16.0, "LeftFootFlat": 1.0,
                   "LeftStaticPlantFlex": 10.5}
    with pytest.raises(SubjectParameterError, match="LegLenght"):
        parse_set_options(["LegLenght=3"])
    with pytest.raises(SubjectParameterError, match="not a number"):
        parse_set_options(["LLegLength=abc"])
    with pytest.raises(SubjectParameterError, match="Name=Value"):
        parse_set_options(["LLegLength"])
    with pytest.raises(SubjectParameterError, match="0 or 1"):
        parse_set_options(["RightFootFlat=2"])
    with pytest.raises(SubjectParameterError, match="negative"):
        parse_set_options(["RKneeWidth=-100"])


# ----------------------------------------------------------------------------- VSK
def test_test_vsk_parameter_values_radians_to_degrees():
    src = read_vsk(reference_file(*PYCGM, "Test_Files", "Test.vsk"))
    v = src.values
    assert src.angle_unit == "radians"
    assert (v["LeftLegLength"], v["RightLegLength"]) == (877.0, 866.0)
    assert (v["LeftKneeWidth"], v["RightKneeWidth"], v["LeftAnkleWidth"], v["RightAnkleWidth"]) == (144, 139, 85, 89)
    assert v["InterAsisDistance"] == 306.0 and v["Bodymass"] == 85.0
    assert v["LeftAsisTrocanterDistance"] == pytest.approx(64.3976, abs=1e-4)
    assert v["LeftStaticPlantFlex"] == pytest.approx(math.degrees(0.25269871950149536), abs=1e-12)
    assert v["RightStaticRotOff"] == pytest.approx(math.degrees(-0.0502), abs=2e-3)
    # LeftTibialTorsion has neither VALUE nor EXPRESSION in Test.vsk: absent, default fills it
    assert "LeftTibialTorsion" not in v
    sub = resolve_subject(subject_file=reference_file(*PYCGM, "Test_Files", "Test.vsk"))
    assert sub.source("LeftTibialTorsion") == "default" and sub.get("LeftTibialTorsion") == 0.0
    assert sub.source("MarkerDiameter") == "default" and sub.get("MarkerDiameter") == 14.0
    assert sub.source("LeftLegLength") == "Test.vsk"


def test_static_parameter_vsk_value_with_expression_is_used():
    src = read_vsk(reference_file(*PYCGM, "59993_Frame", "59993_Frame_SM.vsk"))
    assert src.values["LeftAsisTrocanterDistance"] == pytest.approx(54.48, abs=1e-4)
    assert src.values["InterAsisDistance"] == 200.0 and src.values["LeftKneeWidth"] == 120.0
    assert src.values["RightStaticRotOff"] == pytest.approx(math.degrees(-0.0793431922793388))
    assert src.values["LeftTibialTorsion"] == 0.0  # an angle: 0 is a value, not absent


@pytest.mark.parametrize("folder, vsk, iad", [("ROM", "Sample_SM.vsk", 215.908996582031),
                                              ("Sample_2", "RoboSM.vsk", 281.118011474609)])
def test_expression_only_parameter_is_absent_and_reported(folder, vsk, iad):
    res = resolve_subject_report(subject_file=reference_file(*PYCGM, folder, vsk))
    assert "LeftAsisTrocanterDistance" not in res.subject
    assert "RightAsisTrocanterDistance" not in res.subject
    assert res.subject.get("InterAsisDistance") == pytest.approx(iad)
    assert any("LeftAsisTrocanterDistance" in n and "expression" in n for n in res.notes)


def test_new_style_parameter_vsk(tmp_path):
    p = tmp_path / "New.vsk"
    p.write_text('<?xml version="1.0"?><KinematicModel><Parameters>'
                 '<Parameter NAME="LeftLegLength" VALUE="900"/><Parameter NAME="RightLegLength" VALUE="0"/>'
                 '<Parameter NAME="RightTibialTorsion" VALUE="0.1"/>'
                 '<Parameter NAME="InterAsisDistance" EXPRESSION="2*C"/></Parameters></KinematicModel>')
    src = read_subject_file(p)
    assert src.values == {"LeftLegLength": 900.0, "RightTibialTorsion": pytest.approx(math.degrees(0.1))}
    assert any("InterAsisDistance" in n for n in src.notes)


def test_bad_vsk_names_file(tmp_path):
    p = tmp_path / "broken.vsk"
    p.write_text("<KinematicModel><Parameters>")
    with pytest.raises(SubjectParameterError, match="broken.vsk"):
        read_vsk(p)


# ----------------------------------------------------------------------------- PROCESSING
def test_workstation_processing_is_degrees_with_marker_diameter_and_foot_flat():
    t = _read("BTKData", "others", "FunctionalStatic.c3d")
    assert processing_angle_unit(t) == "degrees"
    sub = resolve_subject(static=t)
    assert sub.get("MarkerDiameter") == 14.0
    assert sub.get("LeftFootFlat") == 1.0 and sub.get("RightFootFlat") == 1.0
    assert sub.get("LeftStaticPlantFlex") == pytest.approx(12.70872688, abs=1e-6)
    assert sub.get("RightStaticRotOff") == pytest.approx(0.33724365, abs=1e-6)
    assert sub.source("LeftStaticPlantFlex") == "static PROCESSING of FunctionalStatic.c3d (degrees)"


def test_ankle_abadd_is_an_angle_in_processing_units():
    # Nexus 2.9 CGM24 walk: LAnkleAbAdd in radians in PROCESSING
    t = _read("c3d.org", "sample_00", "Vicon Motion Systems", "pyCGM2 lower limb CGM24 Walking01.c3d")
    raw = float(t.processing["LAnkleAbAdd"])
    sub = resolve_subject(dynamic=t)
    assert raw != 0.0 and sub.get("LeftAnkleAbAdd") == pytest.approx(math.degrees(raw))
    assert sub.get("LeftTibialTorsion") == pytest.approx(math.degrees(float(t.processing["LTibialTorsion"])))
    assert resolve_subject().source("RightAnkleAbAdd") == "default"
    assert parse_set_options(["LAnkleAbAdd=2"]) == {"LeftAnkleAbAdd": 2.0}


def test_nexus_processing_is_radians():
    t = _read(*PYCGM, "Test_Files", "Static_trial.c3d")
    assert processing_angle_unit(t) == "radians"
    sub = resolve_subject(static=t)
    assert sub.get("LeftStaticPlantFlex") == pytest.approx(math.degrees(0.25269872), abs=1e-5)
    assert sub.get("LeftLegLength") == 877.0 and sub.get("InterAsisDistance") == 306.0
    assert "(radians)" in sub.source("LeftStaticPlantFlex")


def test_marker_diameter_entry_alone_means_degrees():
    t = _trial_with({"LStaticPlantFlex": 12.0, "Marker Diameter": 16.0}, software="")
    assert processing_angle_unit(t) == "degrees"
    assert resolve_subject(dynamic=t).get("LeftStaticPlantFlex") == 12.0
    t2 = _trial_with({"LStaticPlantFlex": 0.2})
    assert resolve_subject(dynamic=t2).get("LeftStaticPlantFlex") == pytest.approx(math.degrees(0.2))


def test_zero_is_absent_for_measured_quantities():
    # the static file's PROCESSING holds IAD 0, AT 0 and offsets 0 (before calibration)
    sub = resolve_subject(static=_read("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d"))
    assert "InterAsisDistance" not in sub and "LeftAsisTrocanterDistance" not in sub
    assert sub.get("LeftLegLength") == 800.0
    assert sub.get("LeftStaticPlantFlex") == 0.0  # angles: 0 is a value


# ----------------------------------------------------------------------------- other files
def test_mp_file_is_degrees(tmp_path):
    p = tmp_path / "Subject.mp"
    p.write_text("$Bodymass = 60\n$LLegLength = 1040\n$RLegLength = 1030\n$LThighRotation = -2.84621\n"
                 "$InterAsisDistance = 0\n$Marker Diameter = 25\n$LKneeWidth = 99 ; comment\n")
    src = read_mp(p)
    assert src.values["LeftLegLength"] == 1040.0 and src.values["LeftKneeWidth"] == 99.0
    assert src.values["LeftThighRotation"] == -2.84621  # degrees, not converted
    assert src.values["MarkerDiameter"] == 25.0
    assert "InterAsisDistance" not in src.values
    assert resolve_subject(subject_file=p).source("LeftThighRotation") == "Subject.mp"


def test_json_subject_degrees_and_validation(tmp_path):
    p = tmp_path / "subject.json"
    p.write_text(json.dumps({"LeftLegLength": 877, "RKneeWidth": 139, "LeftStaticPlantFlex": 14.5,
                             "Comment": "anything"}))
    sub = resolve_subject(subject_file=p)
    assert sub.get("LeftLegLength") == 877 and sub.get("RightKneeWidth") == 139
    assert sub.get("LeftStaticPlantFlex") == 14.5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"LeftKneeWidth": -5}))
    with pytest.raises(SubjectParameterError, match="LeftKneeWidth.*negative"):
        resolve_subject(subject_file=bad)
    txt = tmp_path / "x.txt"
    txt.write_text("a")
    with pytest.raises(SubjectParameterError, match="unknown subject file type"):
        read_subject_file(txt)
    with pytest.raises(SubjectParameterError, match="not found"):
        read_subject_file(tmp_path / "absent.vsk")


# ----------------------------------------------------------------------------- precedence
def test_precedence_dynamic_static_file_set(tmp_path):
    dyn = _read("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    sta = _read("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    sub = resolve_subject(dynamic=dyn, static=sta)
    # the static's IAD is 0 (absent) so the dynamic's shows through
    assert sub.get("InterAsisDistance") == pytest.approx(199.9019928)
    assert sub.source("InterAsisDistance").startswith("dynamic PROCESSING")
    assert sub.source("LeftLegLength").startswith("static PROCESSING")
    # offsets: the static's 0 rad beats the dynamic's 0.116 rad
    assert sub.get("LeftStaticPlantFlex") == 0.0
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"LeftLegLength": 810}))
    res = resolve_subject_report(dynamic=dyn, static=sta, subject_file=js,
                                 overrides=["RLegLength=820", "InterAsisDistance=0"])
    s = res.subject
    assert (s.get("LeftLegLength"), s.source("LeftLegLength")) == (810.0, "s.json")
    assert (s.get("RightLegLength"), s.source("RightLegLength")) == (820.0, "--set")
    assert "InterAsisDistance" not in s  # --set 0 clears the lower sources
    assert res.searched == ("dynamic PROCESSING of PiG_Motion-FlatFoot-Full.c3d (radians)",
                            "static PROCESSING of PiG_Calibration-FlatFoot-Full.c3d (radians)",
                            "s.json", "--set")


def test_missing_required_names_them_and_the_sources(tmp_path):
    js = tmp_path / "partial.json"
    js.write_text(json.dumps({"LeftLegLength": 800, "RightLegLength": 800}))
    res = resolve_subject_report(subject_file=js, overrides={"LeftKneeWidth": 100})
    with pytest.raises(SubjectParameterError) as exc:
        res.require()
    msg = str(exc.value)
    for name in ("RightKneeWidth", "LeftAnkleWidth", "RightAnkleWidth"):
        assert name in msg
    assert "LeftKneeWidth" not in exc.value.parameters
    assert "partial.json" in msg and "--set" in msg
    with pytest.raises(SubjectParameterError, match="no source given"):
        require_parameters(resolve_subject(), REQUIRED)


def test_format_subject_lines():
    lines = format_subject(resolve_subject(overrides={"LeftLegLength": 877.5, "LeftFootFlat": 1}))
    assert any(l.startswith("LeftLegLength") and "877.5 mm" in l and "(--set)" in l for l in lines)
    assert any(l.startswith("LeftFootFlat") and " 1 flag" in l for l in lines)
