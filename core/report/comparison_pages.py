"""Pages of the pre/post comparison report: overlaid curves, change table, valgus change."""
from __future__ import annotations

from core.analysis.comparison import SessionComparison
from core.report.figures import plot_band
from core.report.inputs import ReportOptions, SessionReportInput
from core.report.kinetics_pages import kinetic_change_rows
from core.report.page import MUTED, SIDE_COLOURS, Page, caution, heading, new_page, paragraph, table
from core.report.session_pages import header_for, kinematics_grid, normative_caution, session_norms
from core.report.text import METRIC_NAMES, TASK_NAMES, fnum, unit_of
from core.variables import VARIABLES_BY_KEY

VERDICT_SHORT = {"exceeds measurement error": "EXCEEDS error", "within measurement error": "within error"}
ST_NAMES = {"speed_m_s": "Walking speed (m/s)", "cadence_steps_min": "Cadence (steps/min)",
            "stride_length_m": "Stride length (m)", "step_length_m": "Step length (m)", "stance_pct": "Stance (% cycle)"}


def _verdict(v: str) -> str:
    """Short verdict for tables (the full rule is printed on the page)."""
    if v.startswith("not computable"):
        return "n/a (too few values)"
    if v.startswith("not judged"):
        return "no SDD"
    return VERDICT_SHORT.get(v, v)


def _variable_name(key: str) -> str:
    return VARIABLES_BY_KEY[key].title if key in VARIABLES_BY_KEY else METRIC_NAMES.get(key, key)


def comparison_caution(pre: SessionReportInput, post: SessionReportInput) -> str:
    """The normative caution of the two sessions (one sentence when they agree)."""
    texts = {label: normative_caution(i) for label, i in (("pre", pre), ("post", post))}
    if texts["pre"] == texts["post"]:
        return texts["post"]
    return " ".join(f"{i.session.label}: {t}" for i, t in ((pre, texts["pre"]), (post, texts["post"])) if t)


def change_sentences(c: SessionComparison) -> list[str]:
    """The changes beyond measurement error, in words."""
    out = []
    for (task, side, metric), r in sorted(c.valgus.items()):
        if r.exceeds_measurement_error:
            out.append(f"{TASK_NAMES.get(task, task)}, {side}: peak {METRIC_NAMES.get(metric, metric)} "
                       f"{fnum(r.pre_mean)} -> {fnum(r.post_mean)} {unit_of(metric)} (change {fnum(r.difference)} {unit_of(metric)}, "
                       f"95 % CI {fnum(r.ci_low)} to {fnum(r.ci_high)})")
    for (key, side), v in sorted(c.variables.items()):
        for which, r in (("maximum", v.peak_max), ("minimum", v.peak_min)):
            if r.exceeds_measurement_error:
                out.append(f"Walking {_variable_name(key).lower()}, {side}: cycle {which} changed by {fnum(r.difference)} "
                           f"{v.unit} (95 % CI {fnum(r.ci_low)} to {fnum(r.ci_high)} {v.unit})")
    for (task, side, name), r in sorted(c.kinetics.items()):
        if r.exceeds_measurement_error:
            out.append(f"{TASK_NAMES.get(task, task)}, {side}: {name.replace('_', ' ').replace('peak ', 'peak external knee ')} "
                       f"{fnum(r.pre_mean, 2)} -> {fnum(r.post_mean, 2)} N.m/kg (change {fnum(r.difference, 2)}, "
                       f"95 % CI {fnum(r.ci_low, 2)} to {fnum(r.ci_high, 2)})")
    for side, g in c.gps.items():
        if g.verdict == "exceeds measurement error":
            out.append(f"GPS {side}: {fnum(g.pre_gps)} -> {fnum(g.post_gps)} deg (change {fnum(g.difference)})")
    return out


def comparison_summary_page(pre: SessionReportInput, post: SessionReportInput, c: SessionComparison,
                            opts: ReportOptions):
    """The comparison summary: one page, or two when the knee-moment changes are reported."""
    title = (f"Comparison: '{c.pre_label}' ({pre.session.date or '-'}) vs '{c.post_label}' "
             f"({post.session.date or '-'})")
    page = new_page(header_for(post, opts, "Pre/post comparison"), title)
    pages = [page]
    paragraph(page, (f"Change = {c.post_label} minus {c.pre_label}. 95 % interval: Welch interval of the difference of "
                     "means from the cycle-to-cycle (or repetition-to-repetition) spread of both sessions. Rule: "
                     f"{c.rule}"), size=7.2)
    caution(page, comparison_caution(pre, post), size=7.2)
    heading(page, "Valgus change per task (peak per window)")
    rows, hl = [], []
    for (task, side, metric), r in sorted(c.valgus.items()):
        u = unit_of(metric)
        rows.append([TASK_NAMES.get(task, task), side, METRIC_NAMES.get(metric, metric), fnum(r.pre_mean),
                     fnum(r.post_mean), f"{fnum(r.difference)} {u}", f"[{fnum(r.ci_low)}, {fnum(r.ci_high)}]",
                     fnum(r.threshold), _verdict(r.verdict)])
        hl.append(r.exceeds_measurement_error)
    table(page, ["Task", "Side", "Metric", "Pre", "Post", "Change", "95 % CI", "SDD/MCID", "Verdict"], rows,
          col_widths=[0.155, 0.06, 0.18, 0.055, 0.055, 0.1, 0.13, 0.09, 0.175], size=7.2, highlight=hl)
    if c.kinetics:
        page = new_page(header_for(post, opts, "Pre/post comparison"), title + " (continued)")
        pages.append(page)
        heading(page, "Knee moment change (external, N.m/kg; peak per window on a clean plate contact)", size=9)
        krows = kinetic_change_rows(c)
        table(page, ["Task", "Side", "Quantity", "Pre -> post", "Change [95 % CI]", "SDD", "Verdict"],
              [r[:6] + [_verdict(r[6])] for r in krows], col_widths=[0.14, 0.06, 0.2, 0.13, 0.21, 0.07, 0.19],
              size=7.0, highlight=[r.exceeds_measurement_error for r in c.kinetics.values()])
    heading(page, "Gait Profile Score")
    grows, ghl = [], []
    for side, g in c.gps.items():
        grows.append([side, fnum(g.pre_gps), fnum(g.post_gps), fnum(g.difference), f"[{fnum(g.ci_low)}, {fnum(g.ci_high)}]",
                      fnum(g.mcid), _verdict(g.verdict)])
        ghl.append(g.verdict == "exceeds measurement error")
    table(page, ["GPS", "Pre (deg)", "Post (deg)", "Change", "95 % CI", "MCID", "Verdict"], grows,
          col_widths=[0.14, 0.12, 0.12, 0.12, 0.18, 0.1, 0.22], size=7.2, highlight=ghl)
    if c.spatiotemporal:
        heading(page, "Spatio-temporal parameters (session means)")
        srows = [[ST_NAMES[name], side, fnum(a, 2), fnum(b, 2), fnum(d, 2)]
                 for (name, side), (a, b, d) in sorted(c.spatiotemporal.items()) if name in ST_NAMES]
        table(page, ["Parameter", "Side", "Pre", "Post", "Change"], srows, col_widths=[0.34, 0.12, 0.18, 0.18, 0.18],
              size=7.2)
    heading(page, "Summary")
    ex = change_sentences(c)
    paragraph(page, ("Changes beyond measurement error:\n" + "\n".join(f"\u2022 {s}" for s in ex)) if ex else
              "No change exceeds measurement error.", size=7.2)
    if c.notes:
        paragraph(page, "\n".join(f"Note: {n}" for n in c.notes), size=7.2, color=MUTED)
    return pages if len(pages) > 1 else page


def change_table_page(pre: SessionReportInput, post: SessionReportInput, c: SessionComparison,
                      opts: ReportOptions) -> Page:
    page = new_page(header_for(post, opts, "Pre/post comparison"), "Change table: walking kinematics")
    paragraph(page, ("Per variable and side: change of the per-cycle maximum and minimum with the 95 % interval, and the "
                     f"curve-level test ({c.curve_method or 'permutation test'}): regions of the cycle where the curves "
                     "differ (family-wise error controlled)."), size=7)
    rows, hl = [], []
    for (key, side), v in sorted(c.variables.items()):
        name = _variable_name(key).replace("(DynaKAD-corrected)", "(corrected)")
        ct = v.curve_test
        regions = "-" if ct is None else (", ".join(f"{a:.0f}-{b:.0f}%" for a, b in ct.clusters) or "none")
        pval = "-" if ct is None else fnum(ct.p_value, 3)
        rows.append([name, side, f"{fnum(v.peak_max.difference)} [{fnum(v.peak_max.ci_low)}, {fnum(v.peak_max.ci_high)}]",
                     _verdict(v.peak_max.verdict),
                     f"{fnum(v.peak_min.difference)} [{fnum(v.peak_min.ci_low)}, {fnum(v.peak_min.ci_high)}]",
                     _verdict(v.peak_min.verdict), pval, regions])
        hl.append(v.peak_max.exceeds_measurement_error or v.peak_min.exceeds_measurement_error)
    table(page, ["Variable", "Side", "Max: change [CI]", "Verdict", "Min: change [CI]", "Verdict", "p curve",
                 "Regions (% cycle)"], rows, col_widths=[0.19, 0.06, 0.15, 0.1, 0.15, 0.1, 0.07, 0.18], size=6.6,
          highlight=hl)
    return page


def overlay_page(pre: SessionReportInput, post: SessionReportInput, c: SessionComparison,
                 opts: ReportOptions) -> Page:
    page = new_page(header_for(post, opts, "Pre/post comparison"), "Walking kinematics: pre (dashed) vs post (solid)")
    paragraph(page, "Mean curves per side (left red, right green); grey: normal mean ± 1 SD of the post session's set.",
              size=7, color=MUTED)
    caution(page, normative_caution(post), size=7.2)
    norms = session_norms(post.analysis)
    def draw(ax, key, band):
        plot_band(ax, band)
        for side in ("Left", "Right"):
            v = c.variables.get((key, side))
            if v is not None:
                ax.plot(v.percent, v.pre_mean, color=SIDE_COLOURS[side], lw=1.0, ls="--")
                ax.plot(v.percent, v.post_mean, color=SIDE_COLOURS[side], lw=1.3)
        ax.set_xlim(0, 100)
        ax.grid(True, lw=0.25, color="#e5e8ec")
    kinematics_grid(page, norms, draw)
    return page
