"""Fixes of the QA findings QA-12, M-18..M-22 (qa_report.md): impossible subject values, filled
samples flagged in the products, duplicated/General/swapped/incomplete file events."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import SubjectParameterError
from core.io.c3d import read_c3d
from core.pipeline import calibrate_static_result, process_trial
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
