"""NaN-aware zero-lag Butterworth low-pass."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from core.errors import GenuError
from core.gait.filtering import filter_trial, lowpass_filtfilt, pad_length
from core.model import Trial

RATE = 100.0


def _signal(n=600, seed=0):
    t = np.arange(n) / RATE
    clean = np.sin(2 * np.pi * 1.0 * t)
    noise = 0.2 * np.sin(2 * np.pi * 30.0 * t)
    return clean, clean + noise


def test_removes_high_frequency_without_lag():
    clean, noisy = _signal()
    out, rep = lowpass_filtfilt(noisy, RATE, 6.0, order=2)
    inner = slice(50, -50)
    assert np.max(np.abs(out[inner] - clean[inner])) < 0.01
    # zero lag: the peak of the filtered 1 Hz sine is where the clean one is
    assert np.argmax(out[100:200]) == np.argmax(clean[100:200])
    assert rep.unfiltered_runs == () and "all valid runs" in rep.message


def test_nan_runs_filtered_separately_and_kept():
    clean, noisy = _signal()
    x = np.stack([noisy, noisy * 2], axis=1)
    x[200:230] = np.nan
    x[590:593, 1] = np.nan        # leaves a 7-sample run at the end of column 1
    out, rep = lowpass_filtfilt(x, RATE, 6.0, order=2)
    assert np.array_equal(np.isnan(out), np.isnan(x))
    sos = butter(2, 6.0, fs=RATE, output="sos")
    np.testing.assert_allclose(out[:200, 0], sosfiltfilt(sos, noisy[:200]))
    np.testing.assert_allclose(out[230:, 0], sosfiltfilt(sos, noisy[230:]))
    assert rep.pad_length == pad_length(sos) == 9
    assert rep.unfiltered_runs == ((1, 593, 599),)
    np.testing.assert_array_equal(out[593:, 1], x[593:, 1])
    assert "too short" in rep.message


def test_bad_cutoff():
    with pytest.raises(GenuError, match="cut-off"):
        lowpass_filtfilt(np.zeros(100), RATE, 60.0)


def test_filter_trial_markers_only():
    clean, noisy = _signal()
    pts = np.stack([np.stack([noisy] * 3, 1), np.stack([noisy] * 3, 1)], axis=1)
    t = Trial("f", ("A", "LKneeAngles"), pts, RATE, point_kinds=("marker", "angle"))
    out, rep = filter_trial(t, 6.0)
    assert np.max(np.abs(out.points[50:-50, 0, 0] - clean[50:-50])) < 0.01
    np.testing.assert_array_equal(out.points[:, 1], t.points[:, 1])
