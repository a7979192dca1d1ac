"""Gap report and bounded cubic-spline gap filling."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import MissingMarkersError
from core.gait.gaps import fill_gaps, gap_report, missing_runs
from core.io.c3d import read_c3d
from core.model import Trial
from tests.conftest import reference_file


def _trial():
    f = np.arange(100, dtype=float)
    a = np.stack([np.sin(f / 10) * 100, np.cos(f / 13) * 50, 0.01 * f ** 2], axis=1)
    pts = np.stack([a, a + 10.0], axis=1)          # (100, 2, 3)
    pts[0:3, 0] = np.nan       # leading, 3 frames
    pts[20:25, 0] = np.nan     # interior, 5 frames
    pts[50:51, 0] = np.nan     # interior, 1 frame
    pts[60:80, 1] = np.nan     # interior, 20 frames
    pts[97:, 1] = np.nan       # trailing, 3 frames
    return Trial("g", ("A", "B"), pts, 100.0, first_frame=11), a


def test_missing_runs():
    m = np.array([[1, 0], [1, 1], [0, 1], [1, 0]], dtype=bool)
    col, s, e = missing_runs(m)
    assert list(zip(col, s, e)) == [(0, 0, 1), (0, 3, 3), (1, 1, 2)]


def test_gap_report_frames_are_c3d_numbers():
    t, _ = _trial()
    r = gap_report(t)
    a, b = r.of("A"), r.of("B")
    assert a.gaps == ((11, 13), (31, 35), (61, 61)) and a.n_gaps == 3 and a.longest_gap_frames == 5
    assert a.percent_valid == pytest.approx(91.0)
    assert b.gaps == ((71, 90), (108, 110)) and b.longest_gap_frames == 20 and b.missing_frames == 23
    assert [m.label for m in r.with_gaps] == ["A", "B"]
    with pytest.raises(MissingMarkersError):
        gap_report(t, ["Z"])


def test_fill_gaps_bounded_and_flagged():
    t, truth = _trial()
    filled = fill_gaps(t, max_gap_frames=5)
    p = filled.trial.points
    # interior gaps of 5 and 1 frames filled, close to the smooth truth
    np.testing.assert_allclose(p[20:25, 0], truth[20:25], atol=0.05)
    np.testing.assert_allclose(p[50, 0], truth[50], atol=0.01)
    # leading/trailing gaps and the 20-frame gap stay NaN
    assert np.isnan(p[0:3, 0]).all() and np.isnan(p[60:80, 1]).all() and np.isnan(p[97:, 1]).all()
    assert filled.filled_mask[:, 0].sum() == 6 and filled.filled_mask[:, 1].sum() == 0
    assert filled.n_filled == 6
    # valid samples untouched, input untouched
    ok = np.isfinite(t.points)
    np.testing.assert_array_equal(p[ok], t.points[ok])
    assert np.isnan(t.points[20:25, 0]).all()
    assert fill_gaps(t, 0).n_filled == 0
    assert fill_gaps(t, 20).filled_mask[:, 1].sum() == 20


def test_real_file_gap():
    t = read_c3d(reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Hole.c3d"))
    r = gap_report(t, ["RASI", "LASI"])
    assert r.of("LASI").n_gaps == 0 and r.of("LASI").percent_valid == 100.0
    rasi = r.of("RASI")
    assert rasi.n_gaps == 1 and rasi.gaps == ((292, 300),) and rasi.percent_valid == pytest.approx(97.0)
