"""Pre/post change of the peak external knee abduction moment with its measurement-error verdict."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.analysis.comparison import compare_sessions, summary_lines
from core.analysis.kinetics import SDD_SOURCE, within_session_sdd
from core.analysis.session import analyze_session
from core.analysis.types import to_jsonable
from core.gait.pipeline import process_trial
from tests.conftest import reference_file
from tests.core.vicon_kinetics import scaled, stored_kinetics, with_kinetics

PAIRS = (("PiG_Motion3_FF.c3d", "PiG_Calibration3_FF.c3d"), ("PiG_Motion3_FF_N18.c3d", "PiG_Calibration3_FF_N18.c3d"))


@pytest.fixture(scope="module")
def processed():
    """The same walk of subject 'flatFoot' (74 kg) processed by Nexus 1.4 and by Nexus 1.8.5."""
    out = []
    for dyn, static in PAIRS:
        p = process_trial(reference_file("BTKData", "PiG", dyn), static=reference_file("BTKData", "PiG", static))
        out.append((p, stored_kinetics(p.trial, 74.0)))
    return out


def _peaks(session, side="Left"):
    return np.array([w.peak_abduction_moment for t in session.trials for w in t.kinetics.windows
                     if w.side == side and w.computed])


def test_same_walk_two_nexus_versions_within_measurement_error(processed):
    pre = analyze_session([with_kinetics(*processed[0])], label="pre")
    post = analyze_session([with_kinetics(*processed[1])], label="post")
    c = compare_sessions(pre, post, n_perm=50, n_boot=50)
    r = c.kinetics[("walk", "Left", "peak_abduction_moment")]
    a, b = _peaks(pre), _peaks(post)
    assert a.size == 2 and b.size == 2
    assert r.difference == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert r.threshold == pytest.approx(1.96 * math.sqrt(2) * pooled)
    assert r.verdict == "within measurement error"
    right = c.kinetics[("walk", "Right", "peak_abduction_moment")]       # one right stance a session
    assert right.verdict.startswith("not computable") and math.isnan(right.threshold)
    assert any(SDD_SOURCE in n for n in c.notes)
    assert any("Knee moments" in line for line in summary_lines(c))


def test_doubled_left_knee_moment_exceeds_measurement_error(processed):
    pre = analyze_session([with_kinetics(p, k) for p, k in processed], label="pre")
    post = analyze_session([with_kinetics(p, scaled(k, "L", 2.0)) for p, k in processed], label="post")
    c = compare_sessions(pre, post, n_perm=50, n_boot=50)
    r = c.kinetics[("walk", "Left", "peak_abduction_moment")]
    a = _peaks(pre)
    assert r.n_pre == 4 and r.difference == pytest.approx(a.mean(), rel=1e-9)   # doubled: +100 %
    assert r.verdict == "exceeds measurement error" and r.ci_low > 0
    assert "walk Left peak_abduction_moment" in c.exceeding()
    doc = json.loads(json.dumps(to_jsonable(c), allow_nan=False))        # compare --json: strict JSON
    assert doc["kinetics"]["walk/Left/peak_abduction_moment"]["verdict"] == "exceeds measurement error"
    add = c.kinetics[("walk", "Left", "peak_adduction_moment")]
    assert add.post_mean == pytest.approx(2 * add.pre_mean)


def test_sdd_needs_two_values_a_session():
    assert within_session_sdd([0.2], [0.3, 0.31]) is None
    me = within_session_sdd([0.2, 0.22], [0.3, np.nan, 0.34])
    assert me.unit == "N.m/kg" and me.value == pytest.approx(1.96 * math.sqrt(2) * math.sqrt((0.0002 + 0.0008) / 2))


def _session(label, windows):
    """A minimal analysed session: one squat trial whose clean windows carry the given peaks."""
    from types import SimpleNamespace as NS
    ws = [NS(computed=True, side="Right", peak_abduction_moment=ab, peak_adduction_moment=ad) for ab, ad in windows]
    return NS(label=label, trials=[NS(task="sls", kinetics=NS(available=True, windows=ws))])


def test_a_direction_never_taken_in_either_session_is_not_compared():
    from core.analysis.comparison import kinetic_notes
    from core.analysis.kinetics import kinetic_changes, never_that_way, not_compared
    assert never_that_way([-0.13, -0.2], [-0.17])                       # abduction throughout: no adduction peak
    assert not never_that_way([-0.13, 0.02], [-0.17])
    assert not never_that_way([np.nan], [np.nan])                       # nothing known is not "never"
    # the sample patient's right squats: abduction 1.07 -> 0.48, adduction peaks -0.13 -> -0.17 (none)
    pre = _session("pre", [(1.07, -0.14), (1.06, -0.13), (1.12, -0.13)])
    post = _session("post", [(0.48, -0.17), (0.47, -0.18), (0.50, -0.16)])
    kin = kinetic_changes(pre, post)
    assert set(kin) == {("sls", "Right", "peak_abduction_moment")}
    assert kin[("sls", "Right", "peak_abduction_moment")].difference == pytest.approx((1.45 - 3.25) / 3, abs=1e-9)
    assert not_compared(pre, post) == [("sls", "Right", "peak_adduction_moment")]
    notes = kinetic_notes(pre, post, kin)
    assert any("not compared where neither session has a moment that way" in n and "sls Right adduction moment" in n
               for n in notes)
