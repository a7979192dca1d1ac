"""``genulab inspect``: text and JSON output, one-line errors with exit code 2."""
from __future__ import annotations

import json

from app.cli import main
from tests.conftest import reference_file


def test_inspect_text(capsys):
    path = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "frames 148-462 (315 frames, 3.150 s)" in out
    assert "Vicon / Vicon Nexus 1.4.116.45512" in out
    assert "Plug-in Gait lower body (CGM1): recognised; rear pelvis: PSIS" in out
    assert "Right    Foot Strike    frame    154  1.530 s" in out
    assert "LLegLength" in out


def test_inspect_json(capsys):
    path = reference_file("c3d.org", "sample_03", "gait-raw.c3d")
    assert main(["inspect", "--json", str(path)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["first_frame"] == 1 and d["frames"] == 142 and d["rate_hz"] == 50.0
    assert d["marker_set"]["missing_required_dynamic"] == []
    assert set(d["marker_set"]["missing_required_static"]) == {"LHEE", "RHEE"}
    gaps = {g["label"]: g for g in d["gaps"]}
    assert gaps["LHEE"]["percent_valid"] == 0.0


def test_inspect_bad_file_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "broken.c3d"
    bad.write_bytes(b"\x00" * 100)
    assert main(["inspect", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "broken.c3d" in err and err.startswith("genulab:")
    assert main(["inspect", str(tmp_path / "none.c3d")]) == 2


def test_inspect_shows_the_repairs_of_a_damaged_file(capsys):
    """BTK mocap36.c3d (OptiTrack): POINT:LABELS lacks its description-length byte; ezc3d
    refuses the file, inspect reads it and says what was repaired."""
    path = reference_file("BTKData", "others", "mocap36.c3d")
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "frames 1-1380 (1380 frames, 13.800 s)" in out and "Markers   36" in out
    assert ("WARNING   repaired while reading: POINT:LABELS: the entry has no description-length "
            "byte") in out
    assert main(["inspect", "--json", str(path)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert any("POINT:LABELS" in w for w in d["warnings"])
