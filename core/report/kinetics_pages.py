"""Kinetics page of the session report: knee, hip and ankle moments and powers, per-window peaks.

Curves come from ``TrialAnalysis.kinetics`` (core.analysis.kinetics): display units N.m/kg
and W/kg, Plug-in Gait signs with the direction words of ``core.variables.KINETIC_VARIABLES``
(knee Y: external adduction up, external abduction down). Normal bands (walking only)
are the session's normative set where it has the variable (Schwartz 2008: typically
developing children).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from core.analysis.kinetics_types import KINETIC_INDICATOR_TEXT, TrialKinetics
from core.analysis.types import SessionAnalysis, TrialAnalysis
from core.report.figures import direction_label, plot_cycles, style_axes
from core.report.inputs import ReportOptions, SessionReportInput
from core.report.page import MUTED, Page, axes_block, heading, new_page, paragraph, table
from core.report.session_pages import header_for
from core.report.text import TASK_NAMES, fnum
from core.variables import KINETIC_VARIABLES_BY_KEY

GRID = (("KneeMoment.y", "KneeMoment.x", "KneePower.z"),
        ("HipMoment.x", "HipMoment.y", "HipPower.z"),
        ("AnkleMoment.x", "AnklePower.z", None))
MAX_ROWS = 40
MAX_INDICATOR_LINES = 10
SIGN_NOTE = ("External knee abduction (valgus) moment = - Plug-in Gait KneeMoment Y; external adduction (varus) "
             "moment = + KneeMoment Y (it dominates normal walking stance); N.m per kg of body mass. "
             "X moments are internal (extensor / plantarflexor +); powers + generation, - absorption.")


def _with_kinetics(a: SessionAnalysis) -> list[TrialAnalysis]:
    return [t for t in a.trials if t.kinetics is not None and t.kinetics.available]


def _pooled(trials: list[TrialAnalysis], task: str) -> dict[str, dict[str, np.ndarray]]:
    """side -> key -> stacked curves over the task's trials."""
    out: dict[str, dict[str, list]] = {}
    for t in trials:
        if t.task != task:
            continue
        for side, d in t.kinetics.curves.items():
            for key, c in d.items():
                out.setdefault(side, {}).setdefault(key, []).append(np.asarray(c, dtype=float))
    return {s: {k: np.vstack(v) for k, v in d.items()} for s, d in out.items()}


def _figures(page: Page, trials: list[TrialAnalysis], task: str) -> None:
    curves = _pooled(trials, task)
    bands = next((t.kinetics.bands for t in trials if t.task == task and t.kinetics.bands), {})
    basis = next((t.kinetics.curve_basis for t in trials if t.task == task), "gait cycle")
    axes = axes_block(page, 0.40, 3, 3, hspace=0.75, wspace=0.42)
    for r, row in enumerate(GRID):
        for c, key in enumerate(row):
            ax = axes[r][c]
            if key is None:
                ax.axis("off")
                ax.text(0.0, 0.9, "Left red, right green; grey: normal band\n(mean \u00b1 1 SD) where published;\n"
                        "NaN (gaps) outside clean plate contacts.", fontsize=6, color=MUTED, va="top",
                        transform=ax.transAxes)
                continue
            var = KINETIC_VARIABLES_BY_KEY[key]
            side_curves = {s: d[key] for s, d in curves.items() if key in d}
            plot_cycles(ax, side_curves, bands.get(key))
            style_axes(ax, var.title, direction_label(var), f"% {basis}")


def _contact_text(w) -> str:
    """Short contact quality for the table (the full reasons are listed under it)."""
    if w.contact_clean:
        return f"plate {w.plate}, clean"
    if w.reason.startswith("no force-plate contact"):
        return "no plate contact"
    if w.plate:
        return f"plate {w.plate}, excluded*"
    return "not computed*"


def _peak_text(value, frame=None, rate=None) -> str:
    """A peak of one direction: ``"none"`` when the moment or power never goes that way in
    the window (its largest value is <= 0, e.g. external adduction throughout), else the value
    with its C3D frame (and time from the start of capture, s)."""
    if value is None or not np.isfinite(value):
        return "-"
    if value <= 0:
        return "none"
    if frame is None:
        return fnum(value, 2)
    return f"{fnum(value, 2)} @ {frame}" + (f" ({fnum((frame - 1) / rate, 2)} s)" if rate else "")


def _absorption_text(value) -> str:
    """The most negative power (W/kg, absorption keeps its - sign), ``"none"`` when it is >= 0."""
    if value is None or not np.isfinite(value):
        return "-"
    return "none" if value >= 0 else fnum(value, 2)


def _indicator_lines(trials: list[TrialAnalysis], limit: int = MAX_INDICATOR_LINES) -> list[str]:
    """The kinetic indicators, one line per window, without the common wording (printed once
    under them)."""
    suffix = "; " + KINETIC_INDICATOR_TEXT
    lines = [f"{t.trial_name}, " + (line[: -len(suffix)] if line.endswith(suffix) else line)
             for t in trials for v in t.kinetics.indicators.values() for line in v]
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more (all are in the exported results)"]
    return lines


def _peak_rows(trials: list[TrialAnalysis]) -> tuple[list[list[str]], list[bool]]:
    rows, beyond = [], []
    for t in trials:
        for w in t.kinetics.windows:
            rate = t.rate_hz
            if not w.computed:
                rows.append([t.trial_name, w.side, f"{w.window_kind} {w.window_index + 1}", _contact_text(w),
                             "-", "-", "-", "-", "-"])
                beyond.append(False)
                continue
            timing = "no phase"
            if w.phase_peak_frame is not None:
                timing = f"{w.abduction_offset_ms:+.0f} ms ({'in' if w.abduction_in_phase else 'out'})"
            absorption = w.peaks.get("KneePower.z min")
            rows.append([t.trial_name, w.side, f"{w.window_kind} {w.window_index + 1}", _contact_text(w),
                         _peak_text(w.peak_abduction_moment, w.peak_abduction_frame, rate),
                         _peak_text(w.peak_adduction_moment, w.peak_adduction_frame),
                         fnum(w.peaks.get("KneeMoment.x max"), 2),
                         f"{_peak_text(w.peaks.get('KneePower.z max'))} / "
                         f"{_absorption_text(absorption)}",
                         timing])
            beyond.append(bool(w.beyond_normal))
    return rows, beyond


def _reasons(a: SessionAnalysis) -> list[str]:
    return [f"{t.trial_name}: {t.kinetics.reason}" for t in a.trials
            if t.kinetics is not None and not t.kinetics.available]


def kinetics_page(inp: SessionReportInput, opts: ReportOptions) -> Optional[list[Page]]:
    """The kinetics pages (curves, then the per-window peak table), or None when no trial of the
    session has (or should have) kinetics."""
    a: SessionAnalysis = inp.analysis
    trials = _with_kinetics(a)
    reasons = [r for r in _reasons(a) if "no force plates" not in r and "without the kinetics stage" not in r]
    if not trials and not reasons:
        return None
    page = new_page(header_for(inp, opts), f"Joint kinetics (session '{inp.session.label}')")
    pages = [page]
    paragraph(page, SIGN_NOTE, size=7.2)
    if trials:
        task = "walk" if any(t.task == "walk" for t in trials) else trials[0].task
        source = next((t.kinetics.band_source for t in trials if t.task == task and t.kinetics.band_source), "")
        paragraph(page, f"{TASK_NAMES.get(task, task)}: curves over each "
                  f"{'gait cycle' if task == 'walk' else 'task window'}; normal bands: "
                  f"{source or 'none published for this task'}.", size=7.2, color=MUTED)
        _figures(page, trials, task)
        page = new_page(header_for(inp, opts), f"Joint kinetics (session '{inp.session.label}', continued)")
        pages.append(page)
        heading(page, "Knee moment peaks per window (N.m/kg; power W/kg); shaded: above the normal band", size=9)
        rows, beyond = _peak_rows(trials)
        table(page, ["Trial", "Side", "Window", "Plate contact", "Abd. @ frame (s)", "Add. @ frame",
                     "Ext.", "Gen / Abs", "vs valgus peak"],
              rows[:MAX_ROWS], col_widths=[0.15, 0.05, 0.11, 0.14, 0.16, 0.11, 0.06, 0.11, 0.11], size=6.4,
              highlight=beyond[:MAX_ROWS])
        starred = sorted({f"{t.trial_name} {w.side} {w.window_kind} {w.window_index + 1}: {w.reason}"
                          for t in trials for w in t.kinetics.windows
                          if not w.computed and not w.reason.startswith("no force-plate contact")})
        if starred:
            paragraph(page, "* " + "; ".join(starred), size=6.8)
        if len(rows) > MAX_ROWS:
            paragraph(page, f"... and {len(rows) - MAX_ROWS} more windows (all are in the exported results).",
                      size=7, color=MUTED)
        lines = _indicator_lines(trials)
        if lines:
            heading(page, "Kinetic indicators", size=9)
            paragraph(page, "\n".join("\u2022 " + line for line in lines), size=6.8, chars_per_line=140)
        paragraph(page, f"Each indicator reads: {KINETIC_INDICATOR_TEXT}. 'none': the moment or power "
                  "never goes that way in the window.", size=6.8, color=MUTED)
    if reasons:
        paragraph(page, "No kinetics: " + "; ".join(reasons), size=7.0)
    return pages


def kinetic_change_rows(comparison) -> list[list[str]]:
    """Rows of the comparison report for the knee-moment changes (task, side, quantity, pre -> post, verdict)."""
    rows = []
    for (task, side, name), r in comparison.kinetics.items():
        thr = f"{r.threshold:.3f}" if np.isfinite(r.threshold) else "-"
        rows.append([TASK_NAMES.get(task, task), side, name.replace("peak_", "").replace("_moment", " peak"),
                     f"{fnum(r.pre_mean, 3)} -> {fnum(r.post_mean, 3)}",
                     f"{r.difference:+.3f} [{fnum(r.ci_low, 3)}, {fnum(r.ci_high, 3)}]"
                     if np.isfinite(r.difference) else "-", thr, r.verdict])
    return rows


__all__ = ["kinetics_page", "kinetic_change_rows", "TrialKinetics"]
