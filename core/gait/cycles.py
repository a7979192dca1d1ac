"""Gait cycles and time normalisation to 0-100 % of the cycle.

A gait cycle of one side runs from a foot strike to the next foot strike of the same side,
with that side's foot off inside it (the usual clinical definition, e.g. Baker R 2013,
"Measuring walking", Mac Keith Press). Normalisation resamples a cycle to ``n`` samples
(101 = 0, 1, ..., 100 %) by linear interpolation on the valid samples only, vectorised over
channels: a target sample whose two neighbouring source frames are not both valid stays NaN,
so a gap in the data is never bridged by invented values.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from core.errors import InsufficientEventsError
from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, SIDES, GaitEvent


@dataclass(frozen=True)
class GaitCycle:
    """One gait cycle of one side.

    side: ``"Left"`` or ``"Right"``. index: 0-based order of the cycle in the trial.
    start_frame, end_frame: C3D frame numbers of the two foot strikes. foot_off_frame: C3D
    frame of the foot off inside the cycle (None if the events lack it). source: where the
    events came from (``"file"``, ``"detected"`` ...).
    """

    side: str
    index: int
    start_frame: int
    foot_off_frame: Optional[int]
    end_frame: int
    source: str = "file"

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise InsufficientEventsError(f"cycle side must be Left or Right, not {self.side!r}")
        if self.end_frame <= self.start_frame:
            raise InsufficientEventsError(f"cycle end frame {self.end_frame} not after start {self.start_frame}")

    @property
    def n_frames(self) -> int:
        """Number of frames from start to end, both included."""
        return self.end_frame - self.start_frame + 1

    def duration_s(self, rate_hz: float) -> float:
        return (self.end_frame - self.start_frame) / rate_hz

    @property
    def foot_off_percent(self) -> Optional[float]:
        """Foot off as % of the cycle (stance phase duration), or None."""
        if self.foot_off_frame is None:
            return None
        return 100.0 * (self.foot_off_frame - self.start_frame) / (self.end_frame - self.start_frame)


def gait_cycles(events: Sequence[GaitEvent], side: str, require_foot_off: bool = True) -> tuple[GaitCycle, ...]:
    """The cycles of one side, from consecutive foot strikes of that side.

    Parameters
    ----------
    events: events of the trial (any order; other labels and sides ignored).
    side: ``"Left"`` or ``"Right"``.
    require_foot_off: keep only cycles with a foot off of that side strictly inside.
        A stretch with two or more foot offs of that side between consecutive strikes is
        never a cycle (a foot strike is missing there); it is left out, not merged.

    Returns
    -------
    The cycles in time order (possibly empty).
    """
    strikes = sorted({e.frame for e in events if e.label == EVENT_FOOT_STRIKE and e.context == side})
    offs = np.array(sorted(e.frame for e in events if e.label == EVENT_FOOT_OFF and e.context == side), dtype=int)
    src = {e.frame: e.source for e in events if e.label == EVENT_FOOT_STRIKE and e.context == side}
    cycles = []
    for a, b in zip(strikes[:-1], strikes[1:]):
        inside = offs[(offs > a) & (offs < b)]
        if inside.size > 1:
            continue  # two foot offs between two strikes: a strike is missing, not one stride
        fo = int(inside[0]) if inside.size else None
        if fo is None and require_foot_off:
            continue
        cycles.append(GaitCycle(side, len(cycles), int(a), fo, int(b), src.get(a, "file")))
    return tuple(cycles)


def skipped_strides(events: Sequence[GaitEvent], side: str,
                    require_foot_off: bool = True) -> tuple[tuple[int, int, str], ...]:
    """Strides (consecutive foot strikes of ``side``) that :func:`gait_cycles` does not make
    into cycles: ``((start_frame, end_frame, reason), ...)``, reason ``"no foot off"`` or
    ``"N foot offs (a foot strike is missing)"``. Callers report them (never drop silently)."""
    strikes = sorted({e.frame for e in events if e.label == EVENT_FOOT_STRIKE and e.context == side})
    offs = np.array(sorted(e.frame for e in events if e.label == EVENT_FOOT_OFF and e.context == side), dtype=int)
    a, b = np.array(strikes[:-1], dtype=int), np.array(strikes[1:], dtype=int)
    n_in = ((offs[None, :] > a[:, None]) & (offs[None, :] < b[:, None])).sum(axis=1)
    out = [(int(x), int(y), f"{int(n)} foot offs (a foot strike is missing)") for x, y, n in zip(a, b, n_in) if n > 1]
    if require_foot_off:
        out += [(int(x), int(y), "no foot off") for x, y, n in zip(a, b, n_in) if n == 0]
    return tuple(sorted(out))


def unique_events(events: Sequence[GaitEvent]) -> tuple[tuple[GaitEvent, ...], tuple[GaitEvent, ...]]:
    """``(kept, repeats)``: the events without exact repeats (same label, context and frame;
    the first is kept, order preserved) and the repeats left out."""
    seen: set = set()
    kept, repeats = [], []
    for e in events:
        key = (e.label, e.context, e.frame)
        (repeats if key in seen else kept).append(e)
        seen.add(key)
    return tuple(kept), tuple(repeats)


def all_cycles(events: Sequence[GaitEvent], require_foot_off: bool = True) -> tuple[GaitCycle, ...]:
    """Cycles of both sides, left first."""
    return tuple(c for s in SIDES for c in gait_cycles(events, s, require_foot_off))


def normalise_cycle(data: np.ndarray, first_frame: int, start_frame: int, end_frame: int,
                    n: int = 101) -> np.ndarray:
    """Resample the frames ``start_frame..end_frame`` of ``data`` to ``n`` samples, NaN-aware.

    Parameters
    ----------
    data: ``(F, ...)`` time series (axis 0 = rows of the trial), e.g. ``(F, 3)`` angles in
        degrees or ``(F, C)`` channels.
    first_frame: C3D frame number of row 0.
    start_frame, end_frame: C3D frames of the cycle (inclusive).
    n: number of output samples (101 gives 0..100 %).

    Returns
    -------
    ``(n, ...)`` float64. Each output sample interpolates linearly between the two
    neighbouring frames; it is NaN if either neighbour is NaN for that channel (a sample that
    falls exactly on a frame takes that frame's value).

    Raises
    ------
    InsufficientEventsError: the cycle lies outside the data or is empty.
    """
    a, b = start_frame - first_frame, end_frame - first_frame
    arr = np.asarray(data, dtype=float)
    if a < 0 or b >= arr.shape[0] or b <= a:
        raise InsufficientEventsError(
            f"cycle frames {start_frame}-{end_frame} outside the data (frames {first_frame}-{first_frame + arr.shape[0] - 1})")
    seg = arr[a:b + 1]
    x = np.linspace(0.0, b - a, n)
    xr = np.round(x)
    x = np.where(np.abs(x - xr) < 1e-9, xr, x)  # samples on a frame are exact hits
    lo = np.floor(x).astype(int)
    lo = np.minimum(lo, b - a - 1)
    w = (x - lo).reshape((n,) + (1,) * (seg.ndim - 1))
    y0, y1 = seg[lo], seg[lo + 1]
    out = (1.0 - w) * y0 + w * y1
    # exact hits on a frame take that frame's value even if the neighbour is NaN
    exact0 = (w == 0.0) & ~np.isnan(y0)
    exact1 = (w == 1.0) & ~np.isnan(y1)
    out = np.where(exact0, y0, out)
    out = np.where(exact1, y1, out)
    return out


def normalise_cycles(data: np.ndarray, first_frame: int, cycles: Sequence[GaitCycle], n: int = 101) -> np.ndarray:
    """Normalise several cycles: ``(K, n, ...)`` for ``K`` cycles (a loop over cycles, not frames)."""
    if not cycles:
        return np.zeros((0, n) + np.asarray(data).shape[1:])
    return np.stack([normalise_cycle(data, first_frame, c.start_frame, c.end_frame, n) for c in cycles])
