"""`genulab process` on the BTK FlatFoot-Hole and FlatFoot-One subjects equals Vicon.

The static files of these subjects hold only zeros in PROCESSING; the leg lengths and
widths are in the motion files' PROCESSING, which the documented precedence (README,
docs/subject_parameters.md: dynamic PROCESSING < static PROCESSING < subject file <
``--set``) makes a source of the static calibration too. The commands are run through
``app.cli.main`` with the inputs of ../shared/docs/validation_cases.md, and the CSV
outputs are compared with the angles and joint centres Vicon stored in the motion files,
within the tolerances of test_validation_vicon.py. FlatFoot-One compares the dynamic trial
only (its one-frame static's outputs differ by design, see validation_cases.md). The
commands are the issue's, with nothing more: the inter-ASIS distance is computed from the
static because only the motion file holds one (an earlier calibration's product); FlatFoot-One's
is stale (FlatFoot-Hole's) and is reported, not used.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from app.cli import main
from tests.conftest import reference_file
from tests.core.cgm1_support import load_trial
from tests.core.test_validation_vicon import ANGLES, BTK, CENTRES, TOL_DEG, _check_angles, _check_centre

FLAT16 = ["--set", "MarkerDiameter=16", "--set", "LeftFootFlat=1", "--set", "RightFootFlat=1"]
CASES = {"Hole": [], "One": []}


def _csv_channels(path, trial) -> dict[str, np.ndarray]:
    """Output channels of a `process --format csv` file as ``(F, 3)`` arrays on the trial's frames."""
    table = np.genfromtxt(path, delimiter=",", names=True)
    rows = table["frame"].astype(int) - trial.first_frame
    assert rows.min() >= 0 and rows.max() < trial.n_frames
    out = {}
    for name in list(ANGLES) + list(CENTRES):
        a = np.full((trial.n_frames, 3), np.nan)
        a[rows] = np.column_stack([table[f"{name}_{c}"] for c in "XYZ"])
        out[name] = a
    return out


@pytest.fixture(scope="module", params=list(CASES))
def processed(request, tmp_path_factory):
    case = request.param
    static = reference_file(*BTK, f"PiG_Calibration-FlatFoot-{case}.c3d")
    dynamic = reference_file(*BTK, f"PiG_Motion-FlatFoot-{case}.c3d")
    out_dir = tmp_path_factory.mktemp(f"flatfoot_{case}")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["process", "--static", str(static), *FLAT16, *CASES[case], str(dynamic),
                   "--out", str(out_dir), "--format", "csv"])
    assert rc == 0, buf.getvalue()
    trial = load_trial(dynamic)
    return case, buf.getvalue(), trial, _csv_channels(out_dir / f"{dynamic.stem}.csv", trial)


@pytest.mark.reference
def test_calibration_uses_the_motion_files_processing_and_says_so(processed):
    case, text, _, _ = processed
    src = f"(dynamic PROCESSING of PiG_Motion-FlatFoot-{case}.c3d (radians))"
    assert (f"subject looked in (lowest precedence first): dynamic PROCESSING of "
            f"PiG_Motion-FlatFoot-{case}.c3d (radians); static PROCESSING of "
            f"PiG_Calibration-FlatFoot-{case}.c3d (radians); --set") in text
    for line in ("LeftLegLength                         940 mm   ",
                 "RightKneeWidth                        120 mm   ",
                 "LeftAnkleWidth                         70 mm   "):
        assert line + src in text, line
    assert "MarkerDiameter                         16 mm   (--set)" in text
    assert "LeftStaticPlantFlex" in text and "(calibrate)" in text
    assert any(l.strip().startswith("InterAsisDistance") and l.endswith("(calibrate)") for l in text.splitlines())
    if case == "One":
        assert (f"InterAsisDistance computed from the static is 228.69 mm" in text
                and f"{src[1:-1]} holds 227.04 mm (stale: not used" in text), text
    else:
        assert "InterAsisDistance 227.04 mm computed" in text and "stale: not used" not in text, text


@pytest.mark.reference
@pytest.mark.parametrize("channel", ANGLES)
def test_cli_angles_equal_vicon(processed, channel):
    _, _, trial, channels = processed
    _check_angles(channels[channel], trial, channel, TOL_DEG)


@pytest.mark.reference
@pytest.mark.parametrize("centre", list(CENTRES))
def test_cli_joint_centres_equal_vicon(processed, centre):
    _, _, trial, channels = processed
    _check_centre(channels[centre], trial, CENTRES[centre])


@pytest.mark.reference
def test_calibrate_command_takes_the_dynamic_processing(tmp_path, capsys):
    """`genulab calibrate --dynamic`: without it the FlatFoot-Hole static lacks every leg
    value; with it they come from the motion file and each value names its source."""
    import json
    static = reference_file(*BTK, "PiG_Calibration-FlatFoot-Hole.c3d")
    dynamic = reference_file(*BTK, "PiG_Motion-FlatFoot-Hole.c3d")
    assert main(["calibrate", str(static), *FLAT16]) == 2
    assert "LeftLegLength" in capsys.readouterr().err
    assert main(["calibrate", str(static), "--dynamic", str(dynamic), *FLAT16, "--json", "-"]) == 0
    d = json.loads(capsys.readouterr().out)
    p = d["parameters"]
    assert p["LeftLegLength"] == {"value": 940.0, "unit": "mm",
                                  "source": "dynamic PROCESSING of PiG_Motion-FlatFoot-Hole.c3d (radians)"}
    assert p["MarkerDiameter"]["source"] == "--set" and p["LeftStaticPlantFlex"]["source"] == "calibrate"
    # Vicon's offsets for this static, stored in the motion file (radians there)
    assert d["static_plant_flex_deg"]["Left"] == pytest.approx(np.degrees(0.1974), abs=5e-3)
    assert d["searched"][0] == "dynamic PROCESSING of PiG_Motion-FlatFoot-Hole.c3d (radians)"
