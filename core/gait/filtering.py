"""Zero-lag low-pass Butterworth filtering that respects missing data.

The filter is a Butterworth low-pass (Butterworth 1930) run forwards and backwards
(``scipy.signal.sosfiltfilt``) so that it has no phase lag, as recommended for marker
trajectories by Winter (*Biomechanics and Motor Control of Human Movement*, 4th ed. 2009,
section 2.2.4.4). The cut-off given is the design cut-off of one pass; the double pass
doubles the order and lowers the -3 dB point slightly (Winter 2009, eq. 2.27 gives the
correction if one wants it).

Missing samples (NaN) are never invented: every run of valid samples is filtered on its
own and the NaN frames stay NaN. A run not longer than the filter's pad length (edge
extension used by ``sosfiltfilt``) cannot be filtered; it is left as measured and listed
in the report.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from core.errors import GenuError
from core.gait.gaps import missing_runs
from core.model import Trial


@dataclass(frozen=True)
class FilterReport:
    """What the filter did.

    cutoff_hz, order: filter design; unfiltered_runs: ``(column, first_row, last_row)``
    of valid runs too short to filter (left as measured); pad_length: the minimum run
    length + 1 that can be filtered.
    """

    cutoff_hz: float
    order: int
    pad_length: int
    unfiltered_runs: tuple[tuple[int, int, int], ...] = ()

    @property
    def message(self) -> str:
        if not self.unfiltered_runs:
            return f"all valid runs filtered (Butterworth order {self.order}, {self.cutoff_hz:g} Hz, zero lag)"
        n = len(self.unfiltered_runs)
        return (f"{n} valid run(s) of at most {self.pad_length} samples were too short to filter "
                f"and are left unfiltered")


def design(cutoff_hz: float, rate_hz: float, order: int = 2) -> np.ndarray:
    """Second-order sections of a low-pass Butterworth filter; checks the cut-off."""
    if not (rate_hz > 0) or not (0 < cutoff_hz < rate_hz / 2):
        raise GenuError(f"filter cut-off {cutoff_hz} Hz must be between 0 and half the "
                        f"sampling rate ({rate_hz / 2:g} Hz)")
    if order < 1:
        raise GenuError(f"filter order must be at least 1, not {order}")
    from scipy.signal import butter  # deferred: scipy.signal is slow to import

    return butter(order, cutoff_hz, btype="low", fs=rate_hz, output="sos")


def pad_length(sos: np.ndarray) -> int:
    """The default edge-extension length of ``sosfiltfilt`` for ``sos``."""
    n_zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    return 3 * (2 * len(sos) + 1 - n_zeros)


def lowpass_filtfilt(data: np.ndarray, rate_hz: float, cutoff_hz: float,
                     order: int = 2) -> tuple[np.ndarray, FilterReport]:
    """Zero-lag Butterworth low-pass of ``data`` ``(F, ...)`` along axis 0, NaN-aware.

    Each column's runs of finite samples are filtered separately; NaN stays NaN; runs of
    at most the pad length are returned unchanged and reported.

    Returns
    -------
    (filtered ``(F, ...)`` float64, FilterReport)
    """
    a = np.asarray(data, dtype=float)
    shape = a.shape
    flat = a.reshape(shape[0], -1).copy()
    from scipy.signal import sosfiltfilt

    sos = design(cutoff_hz, rate_hz, order)
    pad = pad_length(sos)
    col, start, end = missing_runs(np.isfinite(flat))
    short = []
    # columns sharing the same valid run are filtered together (x, y, z of a marker)
    runs: dict[tuple[int, int], list[int]] = {}
    for c, s, e in zip(col.tolist(), start.tolist(), end.tolist()):
        runs.setdefault((s, e), []).append(c)
    for (s, e), cols in runs.items():
        if e - s + 1 <= pad:
            short += [(c, s, e) for c in cols]
            continue
        flat[s:e + 1, cols] = sosfiltfilt(sos, flat[s:e + 1, cols], axis=0)
    report = FilterReport(float(cutoff_hz), int(order), pad, tuple(sorted(short)))
    return flat.reshape(shape), report


def filter_trial(trial: Trial, cutoff_hz: float = 6.0, order: int = 2,
                 labels: Optional[Iterable[str]] = None) -> tuple[Trial, FilterReport]:
    """Low-pass the marker trajectories of a trial (default every marker point).

    Report columns are ``3 * point_index + axis`` of the points filtered.
    """
    idx = [i for i, k in enumerate(trial.point_kinds) if k == "marker"] if labels is None \
        else [trial.index(l) for l in labels if trial.has(l)]
    pts = np.array(trial.points, copy=True)
    if not idx or trial.n_frames == 0:
        return trial, FilterReport(float(cutoff_hz), int(order), 0)
    out, report = lowpass_filtfilt(pts[:, idx, :], trial.point_rate_hz, cutoff_hz, order)
    pts[:, idx, :] = out
    remap = tuple((3 * idx[c // 3] + c % 3, s, e) for c, s, e in report.unfiltered_runs)
    return trial.with_changes(points=pts), FilterReport(report.cutoff_hz, report.order,
                                                        report.pad_length, remap)
