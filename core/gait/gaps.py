"""Gaps in marker trajectories: report them, and fill short ones on request.

A *gap* is a run of consecutive frames where a point is missing (NaN). Gaps are reported
with C3D frame numbers (inclusive). Filling uses a cubic spline through the valid samples
of the marker (de Boor 1978, *A Practical Guide to Splines*; the spline gap filling of
Vicon Nexus and of Woltring 1986's GCVSPL family works the same way), only for gaps of
at most ``max_gap_frames`` frames that have valid data on both sides; longer gaps and
gaps at the start or end of the trial stay NaN. Filled samples are flagged so views and
reports can show them. Filling is off by default in the pipeline.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from core.errors import MissingMarkersError
from core.model import Trial


@dataclass(frozen=True)
class MarkerGaps:
    """Gaps of one marker.

    label: point label; n_gaps: number of gaps (runs of missing frames, including any at
    the start or end); longest_gap_frames: frames in the longest; percent_valid: valid
    frames / all frames x 100; gaps: ``(start_frame, end_frame)`` C3D frame numbers,
    inclusive.
    """

    label: str
    n_gaps: int
    longest_gap_frames: int
    percent_valid: float
    gaps: tuple[tuple[int, int], ...]

    @property
    def missing_frames(self) -> int:
        return int(sum(e - s + 1 for s, e in self.gaps))


@dataclass(frozen=True)
class GapReport:
    """Gaps of the markers of a trial (in the trial's label order)."""

    trial: str
    n_frames: int
    markers: tuple[MarkerGaps, ...]

    def of(self, label: str) -> MarkerGaps:
        for m in self.markers:
            if m.label == label:
                return m
        raise MissingMarkersError([label])

    @property
    def with_gaps(self) -> tuple[MarkerGaps, ...]:
        return tuple(m for m in self.markers if m.n_gaps)


@dataclass(frozen=True)
class FilledTrial:
    """A trial with short gaps filled; ``filled_mask`` ``(F, P)`` is True where a sample
    was filled (columns in the trial's point order)."""

    trial: Trial
    filled_mask: np.ndarray

    def __post_init__(self) -> None:
        m = np.array(self.filled_mask, dtype=bool, copy=True)
        m.setflags(write=False)
        object.__setattr__(self, "filled_mask", m)

    @property
    def n_filled(self) -> int:
        return int(self.filled_mask.sum())


def missing_runs(missing: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of True in each column of ``missing`` ``(F, K)``.

    Returns ``(column, start_row, end_row)`` arrays (end inclusive), ordered by column
    then start.
    """
    m = np.asarray(missing, dtype=np.int8)
    padded = np.zeros((m.shape[1], m.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = m.T
    d = np.diff(padded, axis=1)
    col_s, start = np.nonzero(d == 1)
    col_e, stop = np.nonzero(d == -1)
    return col_s, start, stop - 1


def _select(trial: Trial, labels: Optional[Iterable[str]]) -> list[int]:
    if labels is None:
        return [i for i, k in enumerate(trial.point_kinds) if k == "marker"]
    labels = list(labels)
    absent = [l for l in labels if not trial.has(l)]
    if absent:
        raise MissingMarkersError(absent, trial.path)
    return [trial.index(l) for l in labels]


def gap_report(trial: Trial, labels: Optional[Iterable[str]] = None) -> GapReport:
    """Gap report of ``labels`` (default: every marker point of the trial)."""
    idx = _select(trial, labels)
    missing = ~np.isfinite(trial.points[:, idx, :]).all(axis=2)          # (F, K)
    col, start, end = missing_runs(missing)
    n = trial.n_frames
    out = []
    for k, i in enumerate(idx):
        sel = col == k
        s, e = start[sel] + trial.first_frame, end[sel] + trial.first_frame
        lengths = e - s + 1
        out.append(MarkerGaps(
            label=trial.labels[i], n_gaps=int(sel.sum()),
            longest_gap_frames=int(lengths.max()) if lengths.size else 0,
            percent_valid=float(100.0 * (n - missing[:, k].sum()) / n) if n else 0.0,
            gaps=tuple(zip(s.tolist(), e.tolist()))))
    return GapReport(trial.name, n, tuple(out))


def fill_gaps(trial: Trial, max_gap_frames: int, labels: Optional[Iterable[str]] = None) -> FilledTrial:
    """Fill interior gaps of at most ``max_gap_frames`` frames by cubic-spline interpolation.

    Parameters
    ----------
    trial: the trial (not modified).
    max_gap_frames: longest gap filled, in frames (0 fills nothing).
    labels: points to fill (default every marker point).

    Returns
    -------
    FilledTrial: the new trial and the ``(F, P)`` mask of filled samples.
    """
    pts = np.array(trial.points, copy=True)
    filled = np.zeros(pts.shape[:2], dtype=bool)
    if max_gap_frames <= 0 or trial.n_frames < 4:
        return FilledTrial(trial, filled)
    from scipy.interpolate import CubicSpline  # deferred: ~0.3 s to import, rarely needed

    idx = _select(trial, labels)
    missing = ~np.isfinite(pts[:, idx, :]).all(axis=2)
    col, start, end = missing_runs(missing)
    fillable = (start > 0) & (end < trial.n_frames - 1) & (end - start + 1 <= max_gap_frames)
    for k in np.unique(col[fillable]):
        i = idx[k]
        valid = np.nonzero(~missing[:, k])[0]
        if valid.size < 4:
            continue
        rows = np.concatenate([np.arange(s, e + 1) for s, e in
                               zip(start[fillable & (col == k)], end[fillable & (col == k)])])
        pts[rows, i, :] = CubicSpline(valid, pts[valid, i, :], axis=0)(rows)
        filled[rows, i] = True
    return FilledTrial(trial.with_changes(points=pts), filled)
