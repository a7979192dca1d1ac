"""Gait cycles from events and NaN-aware normalisation to 101 samples."""
from __future__ import annotations

import numpy as np
import pytest

from core.gait.cycles import GaitCycle, all_cycles, gait_cycles, normalise_cycle, normalise_cycles
from core.errors import InsufficientEventsError
from core.model import GaitEvent
from tests.conftest import reference_file


def _ev(label, side, frame):
    return GaitEvent(label, side, frame, (frame - 1) / 100.0)


def test_cycles_from_events():
    ev = [_ev("Foot Strike", "Left", 10), _ev("Foot Off", "Left", 70), _ev("Foot Strike", "Left", 110),
          _ev("Foot Strike", "Left", 210), _ev("Foot Off", "Left", 270), _ev("Foot Strike", "Left", 310),
          _ev("Foot Strike", "Right", 60), _ev("Foot Off", "Right", 120)]
    cyc = gait_cycles(ev, "Left")
    # 110-210 has no foot off inside: dropped unless asked for
    assert [(c.start_frame, c.foot_off_frame, c.end_frame, c.index) for c in cyc] == [(10, 70, 110, 0), (210, 270, 310, 1)]
    assert cyc[0].foot_off_percent == 60.0 and cyc[0].n_frames == 101
    assert len(gait_cycles(ev, "Left", require_foot_off=False)) == 3
    assert gait_cycles(ev, "Right") == ()
    assert len(all_cycles(ev)) == 2
    with pytest.raises(InsufficientEventsError):
        GaitCycle("Left", 0, 10, None, 10)


def test_cycles_of_a_real_trial():
    from core.io.c3d import read_c3d
    t = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    left, right = gait_cycles(t.events, "Left"), gait_cycles(t.events, "Right")
    assert len(left) >= 2 and len(right) >= 2
    for c in left + right:
        assert 55 <= c.foot_off_percent <= 70  # stance ~60 % in walking
        assert 0.8 <= c.duration_s(t.point_rate_hz) <= 1.4


def test_normalise_linear_and_exact_ends():
    f = np.arange(0, 51, dtype=float)
    data = np.stack([f, 2 * f, -f], axis=1)  # (51, 3)
    out = normalise_cycle(data, first_frame=100, start_frame=110, end_frame=140)
    assert out.shape == (101, 3)
    np.testing.assert_allclose(out[:, 0], np.linspace(10, 40, 101), atol=1e-12)
    np.testing.assert_allclose(out[:, 1], 2 * np.linspace(10, 40, 101), atol=1e-12)
    assert out[0, 2] == -10 and out[-1, 2] == -40


def test_normalise_keeps_gaps_as_nan_per_channel():
    data = np.tile(np.arange(21, dtype=float)[:, None], (1, 2))
    data[10, 0] = np.nan  # one missing frame in channel 0 only
    out = normalise_cycle(data, 1, 1, 21, n=41)  # samples every half frame
    # frame 10 (row 10) is sample 20; its neighbours 19 and 21 interpolate towards it: NaN
    assert np.isnan(out[19:22, 0]).all()
    assert not np.isnan(np.delete(out[:, 0], [19, 20, 21])).any()
    assert not np.isnan(out[:, 1]).any()
    np.testing.assert_allclose(out[18, 0], 9.0)


def test_normalise_many_and_errors():
    data = np.random.default_rng(1).normal(size=(300, 3, 2))
    cyc = [GaitCycle("Left", 0, 5, 60, 105), GaitCycle("Left", 1, 105, 160, 205)]
    out = normalise_cycles(data, 1, cyc)
    assert out.shape == (2, 101, 3, 2)
    np.testing.assert_allclose(out[1, 0], data[104])
    np.testing.assert_allclose(out[1, -1], data[204])
    with pytest.raises(InsufficientEventsError, match="outside"):
        normalise_cycle(data, 1, 250, 400)


def test_a_missed_foot_strike_never_merges_two_strides():
    """Two foot offs between consecutive strikes mean a strike is missing: no cycle there."""
    from core.gait.cycles import gait_cycles
    from core.model import GaitEvent
    ev = [GaitEvent("Foot Strike", "Left", f, (f - 1) / 100) for f in (10, 110, 310)]
    ev += [GaitEvent("Foot Off", "Left", f, (f - 1) / 100) for f in (70, 170, 270)]
    cycles = gait_cycles(ev, "Left")
    assert [(c.start_frame, c.end_frame) for c in cycles] == [(10, 110)]
