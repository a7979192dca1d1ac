"""``genulab analyze``: the knee kinetics in the text output and in the strict JSON."""
from __future__ import annotations

import json

from app.cli import main
from tests.conftest import reference_file


def test_analyze_prints_and_writes_the_knee_moments(tmp_path, capsys):
    dyn = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    static = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    out = tmp_path / "a.json"
    assert main(["analyze", "--static", str(static), str(dyn), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "kinetics (body mass 47.5 kg; external knee moments, N.m/kg)" in text
    assert "Right stance 2 [255-315]: not computed (plate 1 contact excluded: the foot is partly off the plate)" in text
    doc = json.loads(out.read_text())
    assert "NaN" not in out.read_text() and "Infinity" not in out.read_text()     # strict JSON
    k = doc["trials"][0]["kinetics"]
    left = next(w for w in k["windows"] if w["side"] == "Left" and w["peak_abduction_moment"] is not None)
    assert left["plate"] == 2 and left["peak_abduction_frame"] == 309
    assert f"abduction {left['peak_abduction_moment']:.3f} at frame 309" in text
    assert any(not c["clean"] and c["reason"] == "the foot is partly off the plate" for c in k["contacts"])
