"""Valgus pages of the report: one per task (walking, single-leg squat, landing ...)."""
from __future__ import annotations

import math


import numpy as np

from core.analysis.types import FOOT_PRONATION_NOTE, INDICATORS, SessionAnalysis, TrialAnalysis
from core.report.figures import plot_timeseries_with_phases
from core.analysis.valgus import FPPA_BOUNDS
from core.report.inputs import ReportOptions, SessionReportInput
from core.report.page import LEFT, MUTED, RIGHT, Page, caution, heading, new_page, paragraph, table
from core.report.session_pages import header_for, normative_caution
from core.report.text import INDICATOR_NAMES, METRIC_NAMES, TASK_NAMES, fnum, time_of, unit_of

MAX_PHASE_ROWS = 12
SIDES = ("Left", "Right")


def task_trials(a: SessionAnalysis, task: str) -> list[TrialAnalysis]:
    return [t for t in a.trials if t.task == task]


def window_peak_mean(trials: list[TrialAnalysis], side: str, metric: str) -> tuple[float, float, int]:
    """(mean of the per-window peaks, largest peak, number of windows) of one side and metric."""
    vals = [np.asarray(t.window_peaks.get(side, {}).get(metric, ()), dtype=float) for t in trials]
    v = np.concatenate(vals) if vals else np.zeros(0)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.max()), int(v.size)


def valgus_pages(inp: SessionReportInput, opts: ReportOptions) -> list[Page]:
    a: SessionAnalysis = inp.analysis
    tasks = []
    for key in a.tasks:
        task = key.split("/")[0]
        if task not in tasks:
            tasks.append(task)
    order = ("walk", "sls", "sl_stance", "drop_jump", "sl_landing")
    return [task_page(inp, opts, t) for t in sorted(tasks, key=lambda x: order.index(x) if x in order else 99)]


def task_page(inp: SessionReportInput, opts: ReportOptions, task: str) -> Page:
    a: SessionAnalysis = inp.analysis
    trials = task_trials(a, task)
    page = new_page(header_for(inp, opts), f"Dynamic knee valgus: {TASK_NAMES.get(task, task).lower()} "
                    f"(session '{inp.session.label}')")
    summaries = {s: a.task_summary(task, s) for s in SIDES if a.task_summary(task, s) is not None}
    first = next(iter(summaries.values()), None)
    if first is not None:
        paragraph(page, (f"Phase metric: {METRIC_NAMES.get(first.metric, first.metric)}; threshold: {first.threshold_text} "
                         f"({first.threshold_source}){'; ' + first.sex_flag if first.sex_flag else ''}. Minimum phase "
                         f"duration {a.settings.min_duration_s * 1000:.0f} ms. Frames are C3D frame numbers; times in "
                         "seconds from the start of capture."), size=7.2)
    caution(page, normative_caution(inp), size=7.2)
    _phase_table(page, trials, task)
    _metric_table(page, trials, task)
    _indicator_table(page, trials)
    for s in SIDES:
        ch = a.chain_summary(task, s)
        if ch is not None:
            text = ch.text.replace(FOOT_PRONATION_NOTE, "").strip()
            if text.startswith(f"{s}:"):
                text = text[len(s) + 1:].strip()
            paragraph(page, f"{s}: {text}", size=7.2)
    paragraph(page, FOOT_PRONATION_NOTE, size=7.2, color=MUTED)
    _figures(page, inp, trials, task)
    return page


def _phase_table(page: Page, trials: list[TrialAnalysis], task: str) -> None:
    heading(page, "Valgus phases", size=9)
    rows = []
    for t in trials:
        for ph in t.phases:
            u = unit_of(ph.metric)
            rows.append([t.trial_name, ph.side, str(ph.window_index + 1),
                         f"{ph.onset_frame} ({fnum(time_of(ph.onset_frame, t.rate_hz), 2)} s)",
                         f"{ph.offset_frame} ({fnum(time_of(ph.offset_frame, t.rate_hz), 2)} s)",
                         f"{fnum(ph.onset_pct, 0)}-{fnum(ph.offset_pct, 0)}",
                         f"{fnum(ph.peak_value)} {u}", f"{ph.peak_frame} ({fnum(ph.peak_pct, 0)} %)",
                         fnum(ph.duration_s, 3)])
    if not rows:
        paragraph(page, "No valgus phase was found in this task.", size=7.5)
        return
    shown = rows[:MAX_PHASE_ROWS]
    pct = "% cycle" if task == "walk" else "% window"
    table(page, ["Trial", "Side", "Win.", "Onset frame", "Offset frame", pct, "Peak", "Peak frame", "Dur. (s)"],
          shown, col_widths=[0.17, 0.07, 0.05, 0.14, 0.14, 0.09, 0.1, 0.14, 0.08], size=7.2)
    if len(rows) > len(shown):
        paragraph(page, f"... and {len(rows) - len(shown)} more phases (all are in the exported results).", size=7.2,
                  color=MUTED)


def _metric_table(page: Page, trials: list[TrialAnalysis], task: str) -> None:
    heading(page, "Valgus metrics per side (mean of the per-window peaks; largest in brackets)", size=9)
    metrics = ["valgus_3d", "valgus_3d_corrected", "fppa", "mkd"]
    typical = {"valgus_3d": "normal band (walking)" if task == "walk" else "no task norm",
               "valgus_3d_corrected": "labelled: DynaKAD-corrected",
               "fppa": _fppa_typical(task), "mkd": "no published norm"}
    rows = []
    for m in metrics:
        cells = []
        for s in SIDES:
            mean, mx, n = window_peak_mean(trials, s, m)
            cells.append("-" if n == 0 else f"{fnum(mean)} ({fnum(mx)}) {unit_of(m)}")
        if all(c == "-" for c in cells):
            continue
        rows.append([METRIC_NAMES.get(m, m)] + cells + [typical[m]])
    table(page, ["Metric", "Left", "Right", "Typical values"], rows, col_widths=[0.3, 0.2, 0.2, 0.3], size=7.2)


def _fppa_typical(task: str) -> str:
    """Typical FPPA upper bounds of the task, from the analysis' own table (core.analysis.valgus)."""
    bounds = FPPA_BOUNDS.get(task)
    if bounds is None:
        return "no gait norm (3D, not 2D video)"
    if task == "sl_stance":
        return f"< {bounds['F']:g} deg (no stance norm)"
    return f"< {bounds['F']:g} deg F / < {bounds['M']:g} deg M (Herrington 2010)"


def _indicator_table(page: Page, trials: list[TrialAnalysis]) -> None:
    heading(page, "Kinetic-chain indicators during the valgus phases", size=9)
    rows = []
    for s in SIDES:
        phases = [p for t in trials for p in t.phases if p.side == s]
        if not phases:
            continue
        for name in INDICATORS:
            vals = [p.indicator(name) for p in phases]
            vals = [v for v in vals if v is not None]
            if not vals:
                continue
            mean = float(np.nanmean([v.value_mean for v in vals])) if any(np.isfinite(v.value_mean) for v in vals) else math.nan
            nm = [v.normal_mean for v in vals if np.isfinite(v.normal_mean)]
            sd = [v.normal_sd for v in vals if np.isfinite(v.normal_sd)]
            normal = f"{fnum(np.mean(nm))} ± {fnum(np.mean(sd))}" if nm else "no band"
            beyond = sum(1 for v in vals if v.beyond_normal)
            judged = sum(1 for v in vals if v.beyond_normal is not None)
            rows.append([s, INDICATOR_NAMES.get(name, name), f"{fnum(mean)} deg", normal,
                         f"{beyond}/{judged}" if judged else "not judged"])
    if not rows:
        paragraph(page, "No valgus phase: indicators are not summarised.", size=7.2)
        return
    table(page, ["Side", "Indicator", "Mean over phases", "Normal (mean ± SD)", "Phases beyond normal"], rows,
          col_widths=[0.1, 0.3, 0.18, 0.22, 0.2], size=7.2)


MAX_PLOT_HEIGHT = 0.30   # figure fraction of an A4 page for a time series without snapshots


def _figures(page: Page, inp: SessionReportInput, trials: list[TrialAnalysis], task: str) -> None:
    """The frontal snapshot(s) at peak valgus and the phase metric over time."""
    room = page.room
    if room < 0.12 or not trials:
        return
    bottom, top = page.take(room - 0.005)
    fig = page.figure
    snaps = [(s, inp.snapshots.get(f"{task}/{s}")) for s in SIDES]
    snaps = [(s, im) for s, im in snaps if im is not None]
    img_w = 0.0
    if snaps:
        img_w = 0.34
        h_each = (top - bottom - 0.02) / len(snaps)
        for k, (s, im) in enumerate(snaps):
            y1 = top - k * h_each
            ax = fig.add_axes((LEFT, y1 - h_each + 0.02, img_w, h_each - 0.02))
            ax.imshow(np.asarray(im))
            ax.set_axis_off()
            ax.set_title(f"{s}: frontal view at peak valgus (3D scene, FPPA lines)", fontsize=7.2, pad=2)
    t = max(trials, key=lambda tr: len(tr.phases))
    metric = t.phase_metric or "fppa"
    # beside snapshots the plot takes their height; alone, a landscape panel at the top of the
    # room (a whole-page-high time series is hard to read and wastes the page)
    height = top - bottom - 0.07 if snaps else min(top - bottom - 0.07, MAX_PLOT_HEIGHT)
    ax = fig.add_axes((LEFT + img_w + 0.07, top - 0.03 - height, RIGHT - LEFT - img_w - 0.08, height))
    # a single-leg task shows its stance leg only: the lifted leg's FPPA means nothing
    sides = SIDES if t.side not in SIDES else (t.side,)
    series = {s: t.metrics[s][metric] for s in sides if s in t.metrics and metric in t.metrics[s]}
    thr = {s: t.thresholds[s][metric] for s in sides if s in t.thresholds and metric in t.thresholds[s]}
    spans = [(p.side, time_of(p.onset_frame, t.rate_hz), time_of(p.offset_frame, t.rate_hz)) for p in t.phases]
    plot_timeseries_with_phases(ax, t.times_s, series, spans, thr)
    u = unit_of(metric)
    ax.set_ylabel(f"{METRIC_NAMES.get(metric, metric)} ({u})  Valg+ / Var-" if u == "deg" else "MKD (mm)  Med+ / Lat-")
    stance = f" ({t.side} stance leg)" if t.side in SIDES else ""
    ax.set_title(f"{t.trial_name}{stance}: {METRIC_NAMES.get(metric, metric)}; shaded: valgus phases; "
                 "dashed: threshold", fontsize=7)
    ax.legend(frameon=False, fontsize=6)
    ax.tick_params(labelsize=6)

