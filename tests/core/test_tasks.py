"""Task/side rules and task windows on constructed trials."""
from __future__ import annotations

import numpy as np
import pytest

from core.analysis.types import AnalysisSettings, TaskDecision
from core.gait.cycles import GaitCycle
from core.errors import AnalysisError
from core.model import ModelOutputs, Trial
from core.analysis.tasks import (canonical_side, canonical_task, decide_task, detect_task, landing_windows,
                        squat_repetitions, stance_hold, stance_windows, task_from_name, task_windows)

FF, RATE = 101, 100.0


def _trial(name: str, heights: dict, pelvis_x: np.ndarray | None = None, params=None) -> Trial:
    """Trial with HEE/TOE markers at the given heights (mm) and a pelvis (LASI/RASI)."""
    n = len(next(iter(heights.values())))
    labels, cols = [], []
    for p, h in heights.items():
        y = 100.0 if p == "L" else -100.0
        for m, dx in (("HEE", -50.0), ("TOE", 150.0)):
            labels.append(f"{p}{m}")
            cols.append(np.stack([np.full(n, dx), np.full(n, y), np.asarray(h, float)], axis=1))
    px = np.zeros(n) if pelvis_x is None else pelvis_x
    for m, y in (("LASI", 120.0), ("RASI", -120.0)):
        labels.append(m)
        cols.append(np.stack([px, np.full(n, y), np.full(n, 950.0)], axis=1))
    return Trial(name, tuple(labels), np.stack(cols, axis=1), RATE, first_frame=FF, parameters=params or {})


def _outputs(n: int, knee: dict) -> ModelOutputs:
    ch = {f"{p}KneeAngles": np.stack([np.asarray(k, float), np.zeros(n), np.zeros(n)], axis=1) for p, k in knee.items()}
    return ModelOutputs(ch, {}, np.eye(3), FF, RATE)


def _squats(n_reps: int = 5, period: int = 200, depth: float = 60.0) -> np.ndarray:
    t = np.arange(n_reps * period + 100)
    x = np.full(t.size, 5.0)
    for k in range(n_reps):
        a = 50 + k * period
        seg = slice(a, a + 150)
        x[seg] = 5.0 + depth * np.sin(np.pi * np.arange(150) / 150) ** 2
    return x


# ------------------------------------------------------------------------ vocabulary and rules
def test_canonical_names():
    assert canonical_task("Single Leg Squat") == "sls" and canonical_task("walking") == "walk"
    assert canonical_task("DROP_JUMP") == "drop_jump" and canonical_task("sl_landing") == "sl_landing"
    assert canonical_task("balance") == "sl_stance" and canonical_task("dance") is None
    assert canonical_side("L") == "Left" and canonical_side(" right ") == "Right" and canonical_side("x") is None


@pytest.mark.parametrize("name,expected", [
    ("pre_walk_01", ("walk", None)), ("post_sls_R_02", ("sls", "Right")), ("pre_sls_L_01", ("sls", "Left")),
    ("pre_drop_jump_01", ("drop_jump", None)), ("Gait 03", ("walk", None)), ("squat left", ("sls", "Left")),
    ("sl_landing_R01", ("sl_landing", "Right")), ("balance_L", ("sl_stance", "Left")),
    ("PiG_Motion-FlatFoot-Full", (None, None)),
])
def test_task_from_name(name, expected):
    assert task_from_name(name) == expected


def test_rule_order_user_then_c3d_then_name_then_detection():
    n = 300
    h = {"L": np.full(n, 200.0), "R": np.full(n, 30.0)}
    knee = _outputs(n, {"R": 5 + 40 * np.sin(np.linspace(0, np.pi, n)) ** 2, "L": np.full(n, 60.0)})
    params = {"GENULAB:TASK": "sls", "GENULAB:SIDE": "L"}
    named = _trial("walk_R_01", h, params=params)
    d = decide_task(named, knee, task="sl_stance", side="R")
    assert (d.task, d.side, d.task_rule, d.side_rule) == ("sl_stance", "Right", "user", "user")
    d = decide_task(named, knee)
    assert (d.task, d.side, d.task_rule, d.side_rule) == ("sls", "Left", "c3d GENULAB", "c3d GENULAB")
    d = decide_task(_trial("sls_R_01", h), knee)
    assert (d.task, d.side, d.task_rule, d.side_rule) == ("sls", "Right", "trial name", "trial name")
    d = decide_task(_trial("trial07", h), knee)
    assert (d.task, d.side, d.task_rule, d.side_rule) == ("sls", "Right", "detected", "detected")
    assert "right foot stays on the floor" in d.detail
    # task from the name, side detected
    d = decide_task(_trial("squat07", h), knee)
    assert (d.task, d.side, d.task_rule, d.side_rule) == ("sls", "Right", "trial name", "detected")
    # walking: side not applicable
    d = decide_task(_trial("x", h, params={"GENULAB:TASK": "walk", "GENULAB:SIDE": ""}), knee)
    assert (d.task, d.side, d.side_rule) == ("walk", None, "not applicable")
    with pytest.raises(AnalysisError, match="unknown task"):
        decide_task(named, knee, task="dance")


def test_detection_of_walk_stance_and_landings():
    n = 300
    walk = _trial("t", {"L": np.full(n, 30.0), "R": np.full(n, 30.0)}, pelvis_x=np.linspace(0, 2400, n))
    assert detect_task(walk, None)[0] == "walk"
    still = _outputs(n, {"L": np.full(n, 10.0), "R": np.full(n, 5.0)})
    t, s, why = detect_task(_trial("t", {"L": np.full(n, 30.0), "R": np.full(n, 180.0)}), still)
    assert (t, s) == ("sl_stance", "Left")
    box = np.where(np.arange(n) < 60, 330.0, 30.0)
    t, s, _ = detect_task(_trial("t", {"L": box, "R": box}), still)
    assert (t, s) == ("drop_jump", None)
    t, s, _ = detect_task(_trial("t", {"L": np.full(n, 330.0), "R": box}), still)
    assert (t, s) == ("sl_landing", "Right")
    with pytest.raises(AnalysisError, match="--task"):
        detect_task(_trial("t", {"L": np.full(n, 30.0), "R": np.full(n, 30.0)}), still)


# ------------------------------------------------------------------------------- windows
def test_stance_windows_from_cycles():
    cycles = (GaitCycle("Right", 0, 120, 182, 220), GaitCycle("Left", 0, 170, 232, 270),
              GaitCycle("Right", 1, 220, 281, 321), GaitCycle("Right", 2, 321, None, 420))
    w = stance_windows(cycles, "Right")
    assert [(x.start_frame, x.end_frame, x.cycle_end_frame) for x in w] == [(120, 182, 220), (220, 281, 321)]
    assert w[0].percent_of(151) == pytest.approx(31.0)
    assert w[1].index == 1 and w[1].kind == "stance"


def test_squat_repetitions_hand_checked():
    x = _squats()
    reps = squat_repetitions(x, FF, "Right", AnalysisSettings())
    assert len(reps) == 5
    # rep k: peak at row 50 + 200k + 75; level = 5 + 0.1 * 60 = 11 -> sin^2(pi i/150) <= 0.1
    i = np.arange(150)
    below = np.flatnonzero(5.0 + 60 * np.sin(np.pi * i / 150) ** 2 <= 11.0)
    last_low_before, first_low_after = below[below < 75][-1], below[below > 75][0]
    for k, r in enumerate(reps):
        a = 50 + 200 * k
        assert r.peak_frame == FF + a + 75
        assert r.start_frame == FF + a + last_low_before
        assert r.end_frame == FF + a + first_low_after
        assert r.kind == "repetition" and r.index == k and r.side == "Right"
    # shallow bends are not repetitions
    assert squat_repetitions(5 + 0.2 * x, FF, "Right", AnalysisSettings()) == ()


def test_landing_window_contact_to_peak_flexion():
    n = 200
    h = np.full(n, 330.0)
    h[40:60] = np.linspace(330.0, 60.0, 20)
    h[60:] = 30.0                      # floor 30 mm; contact level 30 + 15
    knee = np.full(n, 5.0)
    knee[58:158] = 5 + 70 * np.sin(np.pi * np.arange(100) / 100)   # peak at row 108
    knee[150:] += 30 * np.sin(np.pi * np.arange(50) / 50)          # a later, higher bend
    (w,) = landing_windows(h, knee, 30.0, FF, "Left", AnalysisSettings())
    assert w.start_frame == FF + 60        # first frame at or below 45 mm
    assert w.peak_frame == FF + 108 == w.end_frame


def test_stance_hold_and_task_windows():
    n = 400
    other = np.full(n, 30.0)
    other[50:351] = 200.0
    (w,) = stance_hold(np.full(n, 30.0), other, FF, "Left", AnalysisSettings())
    assert (w.start_frame, w.end_frame, w.kind) == (FF + 50, FF + 350, "hold")
    trial = _trial("pre_sls_R_01", {"L": other, "R": np.full(n, 30.0)})
    out = _outputs(n, {"L": np.full(n, 20.0), "R": _squats(2)[:n]})
    d = TaskDecision("sls", "Right", "user", "user")
    wins = task_windows(d, trial, out, (), AnalysisSettings())
    assert list(wins) == ["Right"] and len(wins["Right"]) == 2
    d = TaskDecision("sl_stance", "Right", "user", "user")
    (hold,) = task_windows(d, trial, out, (), AnalysisSettings())["Right"]
    assert (hold.start_frame, hold.end_frame) == (FF + 50, FF + 350)
