"""``genulab calibrate`` and ``genulab process`` through app.cli.main and one real subprocess."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from core.variables import output_names
from tests.conftest import ROOT, reference_file

TF = ("cadop-pyCGM", "SampleData", "Test_Files")
PIG = ("BTKData", "PiG")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_calibrate_prints_calibrated_subject_with_sources(capsys):
    rc = main(["calibrate", str(reference_file(*TF, "Static_trial.c3d")),
               "--subject", str(reference_file(*TF, "Test.vsk"))])
    out = capsys.readouterr().out
    assert rc == 0
    line = next(l for l in out.splitlines() if l.strip().startswith("LeftStaticPlantFlex"))
    assert "14.4786 deg" in line and "(calibrate)" in line  # VSK: 0.2527 rad = 14.4786 deg
    assert any("InterAsisDistance" in l and "306.0000" in l and "(Test.vsk)" in l for l in out.splitlines())
    assert "static PROCESSING of Static_trial.c3d (radians); Test.vsk" in out
    assert "MarkerDiameter" in out and "(default)" in out


def test_calibrate_json_to_stdout_and_file(capsys, tmp_path):
    st = str(reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d"))
    rc = main(["calibrate", st, "--set", "Marker Diameter=16", "--set", "LeftFootFlat=1",
               "--set", "RightFootFlat=1", "--json", "-"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["inter_asis_distance_computed"] is True
    assert data["inter_asis_distance_mm"] == pytest.approx(199.902, abs=1e-3)
    p = data["parameters"]
    assert p["MarkerDiameter"] == {"value": 16.0, "unit": "mm", "source": "--set"}
    # AT: 0 in the static's PROCESSING -> regression 0.1288*800-48.56 in the calibration
    assert p["LeftAsisTrocanterDistance"]["value"] == pytest.approx(54.48)
    assert p["LeftAsisTrocanterDistance"]["source"] == "calibrate"
    out = tmp_path / "cal.json"
    assert main(["calibrate", st, "--set", "MarkerDiameter=16", "--json", str(out)]) == 0
    assert json.loads(out.read_text())["parameters"]["MarkerDiameter"]["value"] == 16.0
    assert "calibrated:" in capsys.readouterr().out


def test_process_c3d_output_names_frames_events_and_input_untouched(tmp_path, capsys):
    from core.io.c3d import read_c3d
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    st = reference_file(*PIG, "PiG_Calibration-FlatFoot-Full.c3d")
    before = _sha(dyn), _sha(st)
    rc = main(["process", "--static", str(st), "--set", "MarkerDiameter=16", "--set", "LeftFootFlat=1",
               "--set", "RightFootFlat=1", str(dyn), "--out", str(tmp_path), "--timings"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert (_sha(dyn), _sha(st)) == before
    timing = [l.split() for l in cap.err.splitlines() if l.startswith("timing ")]
    assert [t[1] for t in timing] == ["read", "calibrate", "model", "events", "kinetics", "write"]
    assert all(t[3] == "ms" and float(t[2]) >= 0 for t in timing)
    out = read_c3d(tmp_path / "PiG_Motion-FlatFoot-Full.c3d")
    src = read_c3d(dyn)
    assert (out.n_frames, out.first_frame) == (src.n_frames, src.first_frame)
    for name in output_names():
        assert out.has(name), name
    # the written knee angles are ours and equal Vicon's (stored in the input) to float32
    ours, vicon = out.point("LKneeAngles"), src.point("LKneeAngles")
    ok = np.isfinite(ours).all(1) & np.isfinite(vicon).all(1)
    assert ok.sum() > 250 and np.abs(ours[ok] - vicon[ok]).max() < 0.005
    assert [(e.label, e.context, e.frame) for e in out.events] == [(e.label, e.context, e.frame) for e in src.events]


def test_process_csv_without_static_says_so(tmp_path, capsys):
    dyn = reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d")
    rc = main(["process", str(dyn), "--set", "MarkerDiameter=16", "--out", str(tmp_path), "--format", "csv"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "no --static" in cap.out and "subject sources" in cap.out
    with open(tmp_path / "PiG_Motion-FlatFoot-Full.csv", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:2] == ["frame", "time_s"] or header[:2] == ["frame", "time"]
    for name in output_names():
        assert f"{name}_X" in header and f"{name}_Z" in header
    assert len(rows) - 1 == 315
    assert int(float(rows[1][0])) == 148 and float(rows[1][1]) == pytest.approx(1.47)


def test_bad_input_one_line_error_and_exit_code(tmp_path, capsys):
    bad = tmp_path / "broken.c3d"
    bad.write_bytes(b"\x00" * 7)
    rc = main(["process", str(bad), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0
    assert len(err) == 1 and "broken.c3d" in err[0] and err[0].startswith("genulab: ")
    rc = main(["calibrate", str(reference_file(*TF, "Static_trial.c3d")), "--set", "KneeWidht=3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "KneeWidht" in err[0]


def test_process_refuses_to_overwrite_its_input(tmp_path, capsys):
    copy = tmp_path / "Walk.c3d"
    shutil.copy(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"), copy)
    before = _sha(copy)
    rc = main(["process", str(copy), "--out", str(tmp_path)])
    assert rc != 0 and "overwrite" in capsys.readouterr().err
    assert _sha(copy) == before


def test_genulab_subprocess_end_to_end(tmp_path):
    exe = Path(sys.executable).with_name("genulab")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]
    dyn = reference_file(*TF, "Movement_trial.c3d")
    r = subprocess.run(cmd + ["process", "--static", str(reference_file(*TF, "Static_trial.c3d")),
                              "--subject", str(reference_file(*TF, "Test.vsk")), str(dyn),
                              "--out", str(tmp_path), "--timings"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "Movement_trial.c3d").stat().st_size > 0
    assert sum(l.startswith("timing ") for l in r.stderr.splitlines()) == 6
    assert "events detected" in r.stdout


def test_process_with_a_lab_label_map(tmp_path, capsys):
    from core.io.c3d import read_c3d, write_trial_c3d
    src = read_c3d(reference_file(*PIG, "PiG_Motion-FlatFoot-Full.c3d"))
    lab = {"LKNE": "KneeLat_L", "RKNE": "KneeLat_R"}
    renamed = src.with_changes(labels=tuple(lab.get(l, l) for l in src.labels), original_labels=())
    trial = tmp_path / "LabWalk.c3d"
    write_trial_c3d(trial, renamed)
    out = tmp_path / "out"
    assert main(["process", str(trial), "--set", "MarkerDiameter=16", "--out", str(out)]) != 0
    assert "LKNE" in capsys.readouterr().err
    mp = tmp_path / "map.json"
    mp.write_text(json.dumps({v: k for k, v in lab.items()}))
    assert main(["process", str(trial), "--label-map", str(mp), "--set", "MarkerDiameter=16", "--out", str(out)]) == 0
    got = read_c3d(out / "LabWalk.c3d").point("LKneeAngles")
    vicon = src.point("LKneeAngles")
    ok = np.isfinite(got).all(1) & np.isfinite(vicon).all(1)
    assert ok.sum() > 250 and np.abs(got[ok] - vicon[ok]).max() < 0.005
