"""``genulab process`` writes Plug-in Gait kinetics that equal Vicon's (stage-2 integration)."""
from __future__ import annotations

import numpy as np
import pytest

from app.cli import main
from core.io.c3d import read_c3d
from tests.conftest import reference_file

PIG = ("BTKData", "PiG")
JOINTS = ("Ankle", "Knee", "Hip")


@pytest.mark.reference
def test_process_writes_kinetics_equal_to_vicon(tmp_path, capsys):
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    st = reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d")
    rc = main(["process", "--static", str(st), "--set", "MarkerDiameter=16", "--set", "LeftFootFlat=1",
               "--set", "RightFootFlat=1", str(dyn), "--out", str(tmp_path)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    line = [l for l in cap.out.splitlines() if "kinetics:" in l]
    assert line and "body mass 47.5 kg" in line[0] and "L plate 2" in line[0], cap.out
    out, src = read_c3d(tmp_path / "PiG_Motion-FlatFoot-Full.c3d"), read_c3d(dyn)
    assert out.parameters.get("POINT:MOMENT_UNITS") == "Nmm" and out.parameters.get("POINT:POWER_UNITS") == "W"
    kinds = dict(zip(out.labels, out.point_kinds))
    assert kinds["LAnkleMoment"] == "moment" and kinds["LHipPower"] == "power" and kinds["LKneeForce"] == "force"
    # the left foot's clean contact on plate 2 (rows 158-218 of the file): within the target
    rows = slice(160, 218)
    for j in JOINTS:
        d = out.point(f"L{j}Moment")[rows] - src.point(f"L{j}Moment")[rows]
        assert np.sqrt(np.mean(d ** 2, axis=0)).max() <= 20.0 and np.abs(d).max() <= 80.0, j
        p = out.point(f"L{j}Power")[rows, 2] - src.point(f"L{j}Power")[rows, 2]
        assert np.sqrt(np.mean(p ** 2)) <= 0.05 and np.abs(p).max() <= 0.2, j
    g = out.point("LGroundReactionForce")[rows] - src.point("LGroundReactionForce")[rows]
    assert np.abs(g).max() < 2e-5
    # the right plate contact is excluded (heel off the plate): NaN there, as the line says
    assert np.isnan(out.point("RAnkleMoment")[125:160]).all()
    assert "1 excluded" in line[0]


@pytest.mark.reference
def test_process_csv_has_kinetic_columns(tmp_path, capsys):
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    rc = main(["process", str(dyn), "--set", "MarkerDiameter=16", "--out", str(tmp_path), "--format", "csv"])
    assert rc == 0, capsys.readouterr().err
    header = (tmp_path / "PiG_Motion-FlatFoot-Full.csv").read_text().splitlines()[0].split(",")
    for name in ("LAnkleMoment_X", "RHipPower_Z", "LKneeForce_Y", "LGroundReactionForce_Z"):
        assert name in header


@pytest.mark.reference
def test_process_without_body_mass_still_writes_kinematics(tmp_path, capsys):
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    rc = main(["process", str(dyn), "--set", "MarkerDiameter=16", "--set", "Bodymass=0", "--out", str(tmp_path)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "kinetics: " in cap.out and "Bodymass" in cap.out and "(not computed)" in cap.out
    out = read_c3d(tmp_path / "PiG_Motion-FlatFoot-Full.c3d")
    assert np.isfinite(out.point("LKneeAngles")).all(axis=1).sum() > 250


@pytest.mark.reference
def test_process_with_a_plate_assigned_by_hand(tmp_path, capsys):
    """--plate 1=R (the lab's choice: the right heel is 50 mm behind plate 1): the right
    contact is then used and its kinetics equal Vicon's within the target."""
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    st = reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d")
    rc = main(["process", "--static", str(st), "--set", "MarkerDiameter=16", "--set", "LeftFootFlat=1",
               "--set", "RightFootFlat=1", "--plate", "1=R", str(dyn), "--out", str(tmp_path)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "R plate 1" in cap.out and "(0 excluded)" in cap.out
    out, src = read_c3d(tmp_path / "PiG_Motion-FlatFoot-Full.c3d"), read_c3d(dyn)
    rows = slice(120, 166)
    for j in JOINTS:
        d = out.point(f"R{j}Moment")[rows] - src.point(f"R{j}Moment")[rows]
        ok = np.isfinite(d).all(axis=1)
        assert ok.sum() > 40 and np.sqrt(np.mean(d[ok] ** 2, axis=0)).max() <= 20.0 and np.abs(d[ok]).max() <= 80.0


def test_bad_plate_option_is_one_line_error(tmp_path, capsys):
    assert main(["process", "x.c3d", "--plate", "1=Left", "--out", str(tmp_path)]) != 0
    assert "--plate '1=Left'" in capsys.readouterr().err
