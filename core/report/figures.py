"""Report plots drawn on given matplotlib axes (object API, vector output).

All functions take plain arrays so they can be tested without the analysis objects:
cycle curves are ``(n_cycles, 101)`` in degrees over 0-100 % of the gait cycle; bands are
``(mean (101,), sd (101,))``; NaN samples are left as gaps.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from core.report.page import BAND_COLOUR, MUTED, SIDE_COLOURS
from core.variables import Variable

PCT = np.linspace(0.0, 100.0, 101)


def direction_label(var: Variable) -> str:
    """Y label with direction words, e.g. 'Valg «  deg  » Var'.

    Read bottom to top on the rotated label: « points down to the negative direction, » up to
    the positive one (guillemets, unlike arrows, exist in the standard PDF fonts)."""
    return f"{var.negative} \u00ab  {var.unit}  \u00bb {var.positive}"


def plot_band(ax, band: Optional[tuple[np.ndarray, np.ndarray]], n_sd: float = 1.0) -> None:
    """Grey normal band mean ± n_sd SD over 0-100 %."""
    if band is None:
        return
    mean, sd = band
    x = np.linspace(0.0, 100.0, len(mean))
    ax.fill_between(x, mean - n_sd * sd, mean + n_sd * sd, color=BAND_COLOUR, lw=0, zorder=0)


def plot_cycles(ax, curves: Mapping[str, np.ndarray], band=None, foot_off_pct: Optional[Mapping[str, float]] = None,
                show_cycles: bool = True, linestyles: Optional[Mapping[str, str]] = None) -> None:
    """Per side: thin lines for each cycle, a thick line for the mean; foot off as a vertical tick.

    curves: side name -> ``(n_cycles, 101)``.
    """
    plot_band(ax, band)
    for side, c in curves.items():
        c = np.atleast_2d(np.asarray(c, dtype=float))
        if c.size == 0:
            continue
        colour = SIDE_COLOURS.get(side, "#34495e")
        ls = (linestyles or {}).get(side, "-")
        if show_cycles and c.shape[0] > 1:
            for row in c:
                ax.plot(PCT, row, color=colour, lw=0.35, alpha=0.45, ls=ls)
        n = np.isfinite(c).sum(axis=0)           # NaN-aware mean; a point missing in every cycle stays NaN
        mean = np.divide(np.nansum(c, axis=0), n, out=np.full(c.shape[1], np.nan), where=n > 0)
        ax.plot(PCT, mean, color=colour, lw=1.3, ls=ls)
        if foot_off_pct and np.isfinite(foot_off_pct.get(side, np.nan)):
            ax.axvline(foot_off_pct[side], color=colour, lw=0.7, ls=":")
    ax.set_xlim(0, 100)
    ax.axhline(0.0, color=MUTED, lw=0.4, zorder=0)
    ax.grid(True, lw=0.25, color="#e5e8ec")


def style_axes(ax, title: str, ylabel: str, xlabel: str = "% gait cycle") -> None:
    ax.set_title(title, pad=3)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel, labelpad=1)
    ax.tick_params(length=2, pad=1.5)


def plot_map(ax, labels: Sequence[str], gvs: Mapping[str, Sequence[float]], gps: Mapping[str, float],
             overall: Optional[float] = None) -> None:
    """Movement Analysis Profile: GVS bars per side plus GPS (Baker et al. 2009)."""
    names = list(labels) + ["GPS"]
    x = np.arange(len(names))
    width = 0.38
    for k, side in enumerate(("Left", "Right")):
        if side not in gvs:
            continue
        vals = list(gvs[side]) + [gps.get(side, np.nan)]
        bars = ax.bar(x + (k - 0.5) * width, vals, width, color=SIDE_COLOURS[side], label=side)
        for b, v in zip(bars, vals):
            if np.isfinite(v):
                ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=5.5)
    if overall is not None and np.isfinite(overall):
        ax.axhline(overall, color=MUTED, lw=0.7, ls="--")
        ax.text(len(names) - 0.5, overall, f"overall GPS {overall:.1f}°", ha="right", va="bottom", fontsize=6,
                color=MUTED)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=35, ha="right")
    ax.set_ylabel("deg (RMS difference from normal)")
    ax.legend(frameon=False, fontsize=6.5, loc="upper left")
    ax.grid(True, axis="y", lw=0.25, color="#e5e8ec")


def plot_timeseries_with_phases(ax, times_s: np.ndarray, series: Mapping[str, np.ndarray],
                                phases: Sequence[tuple[str, float, float]] = (),
                                threshold: Optional[Mapping[str, np.ndarray | float]] = None) -> None:
    """A metric over the trial (seconds from capture start) with valgus phases shaded per side.

    phases: ``(side, start_s, end_s)``.
    """
    for side, y in series.items():
        ax.plot(times_s, y, color=SIDE_COLOURS.get(side, "#34495e"), lw=0.9, label=side)
        if threshold is not None and side in threshold:
            thr = np.broadcast_to(np.asarray(threshold[side], dtype=float), np.shape(times_s))
            ax.plot(times_s, thr, color=SIDE_COLOURS.get(side, "#34495e"), lw=0.6, ls="--")
    for side, t0, t1 in phases:
        ax.axvspan(t0, t1, color=SIDE_COLOURS.get(side, "#34495e"), alpha=0.15, lw=0)
    ax.axhline(0.0, color=MUTED, lw=0.4)
    ax.set_xlabel("time from start of capture (s)")
    ax.grid(True, lw=0.25, color="#e5e8ec")
