"""Pages of the single-session report: summary, kinematics, MAP, quality, signature."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Optional


from core.analysis.types import SessionAnalysis
from core.analysis.comparison import walking_cycles
from core.analysis.normative import NormativeSet
from core.analysis.norm_choice import analysis_caution, load_any
from core.report.figures import direction_label, plot_cycles, plot_map, style_axes
from core.report.inputs import ReportOptions, SessionReportInput
from core.report.page import (A4_INCHES, MUTED, Page, ReportHeader, axes_block, caution, heading, new_page, paragraph, table)
from core.analysis.stats import GPS_PELVIS_SIDE
from core.report.text import TASK_NAMES, bullet_lines, fnum, key_findings
from core.variables import GVS_VARIABLES, VARIABLES_BY_KEY

SPATIOTEMPORAL_ROWS = (
    ("speed_m_s", "Walking speed (m/s)", 2),
    ("cadence_steps_min", "Cadence (steps/min)", 1),
    ("stride_length_m", "Stride length (m)", 2),
    ("step_length_m", "Step length (m)", 2),
    ("stride_time_s", "Stride time (s)", 2),
    ("stance_pct", "Stance (% cycle)", 1),
    ("double_support_pct", "Double support (% cycle)", 1),
)
#: kinematics page layout: rows of (variable key per column: sagittal, frontal, transverse)
KINEMATICS_GRID = (
    ("PelvisAngles.x", "PelvisAngles.y", "PelvisAngles.z"),
    ("HipAngles.x", "HipAngles.y", "HipAngles.z"),
    ("KneeAngles.x", "KneeAngles.y", "KneeAngles.z"),
    ("AnkleAngles.x", "AnkleAngles.y", "AnkleAngles.z"),
    (None, None, "FootProgressAngles.z"),
)


def session_norms(analysis: SessionAnalysis) -> Optional[NormativeSet]:
    """The normative set the analysis used (None when it used none)."""
    if not analysis.normative_name:
        return None
    try:
        return load_any(analysis.normative_name, analysis.speed_class)
    except Exception:  # noqa: BLE001 - a lab set that is no longer installed: plot without bands
        return None


def normative_caution(inp: SessionReportInput) -> str:
    """The caution printed wherever the report shows normal bands ("" = none), see
    :func:`core.analysis.norm_choice.analysis_caution`."""
    return analysis_caution(inp.analysis, inp.patient.birth_date, inp.session.date)


def foot_off_pct(analysis: SessionAnalysis) -> dict[str, float]:
    return {s: float(w.spatiotemporal.get("stance_pct", math.nan)) for s, w in analysis.walking.items()}


def header_for(inp: SessionReportInput, opts: ReportOptions, title: str = "Clinical gait analysis") -> ReportHeader:
    return ReportHeader(lab_name=opts.lab_name, patient_name=inp.patient.name, patient_id=inp.patient.patient_id,
                        session_date=inp.session.date, session_label=inp.session.label, title=title)


def summary_page(inp: SessionReportInput, opts: ReportOptions):
    a: SessionAnalysis = inp.analysis
    page = new_page(header_for(inp, opts), f"Summary: session '{inp.session.label}'")
    p = inp.patient
    heading(page, "Patient and session")
    rows = [
        ["Patient", p.name, "ID", p.patient_id],
        ["Date of birth", p.birth_date or "-", "Sex", p.sex or "unknown"],
        ["Height", fnum(p.height_mm, 0, "mm"), "Body mass", fnum(p.mass_kg, 1, "kg")],
        ["Session", inp.session.label, "Date", inp.session.date or "-"],
        ["Condition", inp.session.condition or "-", "Examiner", inp.session.examiner or "-"],
    ]
    table(page, ["", "", "", ""], rows, col_widths=[0.18, 0.32, 0.18, 0.32])
    if inp.session.notes:
        paragraph(page, f"Session notes: {inp.session.notes}", size=7.5)
    caution(page, normative_caution(inp), size=7.5)
    heading(page, "Model and trials")
    paragraph(page, ("Marker set: Plug-in Gait lower body. Model: Conventional Gait Model 1.0 (Vicon Plug-in Gait "
                     "lower body, Davis 1991 / Kadaba 1990), angles in degrees with Vicon names and signs. "
                     f"Software: {opts.software}."), size=7.5)
    trows = []
    for t in a.trials:
        pt = _processed_trial(inp.processed, t.trial_name)
        ev = _events_source(pt) if pt is not None else "-"
        n_win = sum(len(w) for w in t.windows.values())
        trows.append([t.trial_name, TASK_NAMES.get(t.task, t.task), t.side or "both", t.decision.task_rule,
                      str(n_win), ev])
    table(page, ["Trial", "Task", "Side", "Task decided by", "Windows", "Events"], trows,
          col_widths=[0.24, 0.18, 0.1, 0.16, 0.1, 0.22], size=7)
    if a.walking:
        heading(page, "Walking: spatio-temporal parameters")
        srows = []
        norms = session_norms(a)
        leg = _mean_leg_length(inp.processed)
        for key, name, nd in SPATIOTEMPORAL_ROWS:
            vals = [a.walking[s].spatiotemporal.get(key, math.nan) if s in a.walking else math.nan
                    for s in ("Left", "Right")]
            srows.append([name, fnum(vals[0], nd), fnum(vals[1], nd), _st_normal(norms, key, nd, leg)])
        ncyc = ", ".join(f"{s} {w.n_cycles}" for s, w in a.walking.items())
        table(page, ["Parameter", "Left", "Right", "Normal"], srows, col_widths=[0.34, 0.16, 0.16, 0.34])
        paragraph(page, f"Gait cycles used: {ncyc}.", size=7, color=MUTED)
    pages = [page]
    findings = bullet_lines(key_findings(a))
    if page.room < _text_height(findings, 7.5) + 0.05:
        page = new_page(header_for(inp, opts), f"Summary: session '{inp.session.label}' (continued)")
        pages.append(page)
    heading(page, "Key findings")
    paragraph(page, findings, size=7.5)
    norm_text = _norm_text(a, session_norms(a))
    if page.room < _text_height(norm_text, 7.0) + 0.04:
        page = new_page(header_for(inp, opts), f"Summary: session '{inp.session.label}' (continued)")
        pages.append(page)
    heading(page, "Normative data")
    paragraph(page, norm_text, size=7, color=MUTED)
    return pages if len(pages) > 1 else page


def _text_height(text: str, size: float, chars_per_line: int = 118) -> float:
    """Figure-fraction height :func:`core.report.page.paragraph` takes for ``text``."""
    import textwrap
    n = sum(len(textwrap.wrap(line, width=chars_per_line) or [""]) for line in text.split("\n"))
    return size * 1.45 / 72 / A4_INCHES[1] * n + 0.006


def _st_normal(norms: Optional[NormativeSet], key: str, nd: int, leg_length_mm: Optional[float]) -> str:
    """The normative class value of a spatio-temporal parameter, where the set gives one.

    Schwartz 2008 gives class means only: speed = dimensionless speed x sqrt(g L) with the
    patient's mean leg length L, stance and double support from the class's cycle events.
    """
    if norms is None:
        return "-"
    events = getattr(norms, "cycle_events_pct", None) or {}
    cls = f" ({norms.speed_class} class mean)" if norms.speed_class else " (class mean)"
    if key == "speed_m_s" and leg_length_mm and math.isfinite(getattr(norms, "dimensionless_speed", math.nan)):
        return fnum(norms.dimensionless_speed * math.sqrt(9.81 * leg_length_mm / 1000.0), nd) + cls
    if key == "stance_pct" and "foot_off_pct" in events:
        return fnum(events["foot_off_pct"], nd) + cls
    if key == "double_support_pct" and "double_support_pct" in events:
        return fnum(events["double_support_pct"], nd) + cls
    return "-"


def _mean_leg_length(processed) -> Optional[float]:
    """Mean of LeftLegLength and RightLegLength (mm) used for the first trial, or None."""
    for pt in getattr(processed, "trials", ()) or ():
        legs = [pt.subject.get(f"{s}LegLength") for s in ("Left", "Right")]
        if all(v is not None for v in legs):
            return float(sum(legs)) / 2.0
    return None


def _norm_text(a: SessionAnalysis, norms: Optional[NormativeSet]) -> str:
    if not a.normative_name:
        return "No normative set was used: curves are shown without normal bands."
    cls = f", speed class {a.speed_class}" if a.speed_class else ""
    pop = a.normative_population or (f"{norms.population} ({norms.age_text()})" if norms is not None else "")
    why = f" Chosen: {a.normative_basis}." if a.normative_basis else ""
    age = (f" Patient's age at the session: {a.patient_age_years:g} y ({a.patient_age_basis})."
           if a.patient_age_years is not None else "")
    return (f"Normal bands: {a.normative_name}{cls} (grey: mean ± 1 SD). Population: {pop or 'not stated'}."
            f"{why}{age} {a.normative_citation}")


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def _processed_trial(processed, name: str):
    for pt in getattr(processed, "trials", ()) or ():
        if pt.trial.name == name:
            return pt
    return None


def _events_source(pt) -> str:
    sources = sorted({e.source for e in pt.events})
    return ", ".join(sources) if sources else "none"


def kinematics_page(inp: SessionReportInput, opts: ReportOptions) -> Optional[Page]:
    """Pelvis, hip, knee, ankle and foot progression in three planes over the walking cycles."""
    a: SessionAnalysis = inp.analysis
    curves = walking_cycles(a)
    if not curves:
        return None
    norms = session_norms(a)
    fo = foot_off_pct(a)
    page = new_page(header_for(inp, opts), "Walking kinematics (CGM1)")
    caution(page, normative_caution(inp), size=7.5)
    paragraph(page, ("Left red, right green; thin lines are single cycles, thick lines the mean; dotted vertical "
                     "line: foot off; grey band: normal mean ± 1 SD. x axis: % of the gait cycle (foot strike to "
                     "foot strike)."), size=7, color=MUTED)
    def draw(ax, key, band):
        data = {s: curves[s][key] for s in ("Left", "Right") if s in curves and key in curves[s]}
        plot_cycles(ax, data, band, fo, show_cycles=opts.show_cycles)
    kinematics_grid(page, norms, draw)
    return page


def kinematics_grid(page: Page, norms: Optional[NormativeSet], draw) -> None:
    """Fill the rest of the page with the pelvis..foot progression grid (rows of KINEMATICS_GRID).

    ``draw(ax, key, band)`` plots one variable; band is (mean, sd) on 101 samples or None.
    """
    axes = axes_block(page, page.room - 0.005, len(KINEMATICS_GRID), 3, hspace=0.62, wspace=0.34)
    for r, row in enumerate(KINEMATICS_GRID):
        for c, key in enumerate(row):
            ax = axes[r][c]
            if key is None:
                ax.set_axis_off()
                continue
            var = VARIABLES_BY_KEY[key]
            band = norms.band(key).at() if norms is not None and norms.band(key) is not None else None
            draw(ax, key, band)
            style_axes(ax, var.title, direction_label(var), "% gait cycle" if r == len(KINEMATICS_GRID) - 1 else "")


def map_page(inp: SessionReportInput, opts: ReportOptions) -> Optional[Page]:
    """Movement Analysis Profile: GVS per variable and side with the GPS (Baker 2009)."""
    a: SessionAnalysis = inp.analysis
    if not a.walking or not any(w.gvs for w in a.walking.values()):
        return None
    page = new_page(header_for(inp, opts), "Movement Analysis Profile (GVS / GPS)")
    caution(page, normative_caution(inp), size=7.5)
    labels = [VARIABLES_BY_KEY[k].title for k in GVS_VARIABLES]
    gvs = {s: [w.gvs.get(k, math.nan) for k in GVS_VARIABLES] for s, w in a.walking.items()}
    gps = {s: w.gps_deg for s, w in a.walking.items()}
    ax = axes_block(page, 0.36, 1, 1, bottom_pad=0.07)[0][0]
    plot_map(ax, labels, gvs, gps, a.gps_overall_deg)
    rows = [[VARIABLES_BY_KEY[k].title, fnum(gvs.get("Left", [math.nan] * 9)[i]),
             fnum(gvs.get("Right", [math.nan] * 9)[i])] for i, k in enumerate(GVS_VARIABLES)]
    rows.append(["GPS (side)", fnum(gps.get("Left")), fnum(gps.get("Right"))])
    rows.append(["GPS (overall)", fnum(a.gps_overall_deg), ""])
    table(page, ["Gait Variable Score (deg)", "Left", "Right"], rows, col_widths=[0.5, 0.25, 0.25])
    paragraph(page, ("GVS: RMS difference over the gait cycle between the patient's mean curve and the normative mean; "
                     "GPS: RMS of a side's nine GVS; overall GPS: RMS of fifteen GVS (pelvis counted once, the "
                     f"{GPS_PELVIS_SIDE.lower()} side's pelvic curves standing for the pelvis). Grid: "
                     "the normative points (every 2 % of the cycle). "
                     "Baker R et al. (2009) Gait Posture 30:265-269. Smallest clinically important change of the GPS: "
                     "1.6 deg (Baker 2012)."), size=7, color=MUTED)
    return page


def unused_trials(inp: SessionReportInput) -> list[tuple[str, str]]:
    """(trial, reason) of every recorded trial that could not be processed or analysed."""
    out: dict[str, str] = {}
    for path, msg in getattr(inp.processed, "failures", ()) or ():
        out[Path(str(path)).stem] = _without_path(str(msg), path)
    for name, msg in getattr(inp.analysis, "failures", ()) or ():
        out.setdefault(Path(str(name)).stem, _without_path(str(msg), name))
    return sorted(out.items())


def _without_path(message: str, path) -> str:
    """The reason without the leading 'file: ' (the trial column already names it)."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def quality_page(inp: SessionReportInput, opts: ReportOptions) -> list[Page]:
    """Gaps and their handling, events' origin, cross-talk, subject parameters, settings."""
    a: SessionAnalysis = inp.analysis
    page = new_page(header_for(inp, opts), "Data quality and processing")
    failed = unused_trials(inp)
    if failed:
        heading(page, "Trials not used in this report")
        table(page, ["Trial", "Reason"], [[n, _clip(m, 120)] for n, m in failed], col_widths=[0.2, 0.8])
    heading(page, "Marker gaps and events")
    rows = []
    for pt in getattr(inp.processed, "trials", ()) or ():
        gaps = getattr(pt.gaps, "with_gaps", ()) if pt.gaps is not None else ()
        gtxt = "; ".join(f"{m.label} {m.n_gaps} gap(s), longest {m.longest_gap_frames} fr" for m in gaps[:3]) or "none"
        if len(gaps) > 3:
            gtxt += f" (+{len(gaps) - 3} markers)"
        filled = "filled up to %d fr" % pt.settings.fill_gaps_max_frames if pt.settings.fill_gaps_max_frames else "not filled"
        edits = inp.event_edits.get(pt.trial.name, 0)
        ev = _events_source(pt) + (f", {edits} edited" if edits else "")
        rows.append([pt.trial.name, gtxt, filled, ev])
    table(page, ["Trial", "Gaps (C3D frames)", "Handling", "Events from"], rows,
          col_widths=[0.2, 0.48, 0.12, 0.2], size=7.2)
    heading(page, "Knee cross-talk (walking swing)")
    xrows = []
    for t in a.trials:
        for side, chk in t.crosstalk.items():
            xrows.append([t.trial_name, side, "yes" if chk.detected else "no", fnum(chk.correlation, 2),
                          fnum(chk.valgus_excursion_deg)])
    if xrows:
        table(page, ["Trial", "Side", "Cross-talk", "r(valgus, flexion)", "Valgus excursion (deg)"], xrows,
              col_widths=[0.3, 0.12, 0.14, 0.2, 0.24], size=7.2)
    offs = [f"{s}: {fnum(o.phi_deg)} deg" + (f" ({o.warning})" if o.warning else "")
            for s, o in a.thigh_offsets.items() if o.phi_deg is not None]
    paragraph(page, ("DynaKAD thigh offset (spec 16.3, offered beside the raw values, never applied by default): "
                     + ("; ".join(offs) if offs else "not estimated")), size=7)
    return [page, parameters_page(inp, opts)]


def parameters_page(inp: SessionReportInput, opts: ReportOptions) -> Page:
    """Subject parameters with their sources, processing and analysis settings."""
    a: SessionAnalysis = inp.analysis
    page = new_page(header_for(inp, opts), "Subject parameters and settings")
    heading(page, "Subject parameters used (value, unit, where it came from)")
    pt0 = next(iter(getattr(inp.processed, "trials", ()) or ()), None)
    if pt0 is not None:
        prow = [[name, fnum(v.value, 3 if v.unit in ("deg",) else 1), v.unit, v.source]
                for name, v in pt0.subject.values.items()]
        table(page, ["Parameter", "Value", "Unit", "Source"], prow, col_widths=[0.3, 0.14, 0.08, 0.48], size=7.2)
        s = pt0.settings
        paragraph(page, (f"Processing settings: marker set {s.marker_set}; gap filling "
                         f"{'up to %d frames' % s.fill_gaps_max_frames if s.fill_gaps_max_frames else 'off'}; events "
                         f"{s.events}. Analysis: thresholds and their sources per task: "
                         + "; ".join(f"{k}: {v}" for k, v in a.threshold_sources.items())
                         + f". Software {opts.software}."), size=7, color=MUTED)
    return page


def signature_page_block(page: Page) -> None:
    """Space for the clinician's interpretation and signature at the cursor."""
    heading(page, "Clinical interpretation")
    bottom, top = page.take(min(0.28, page.room - 0.1))
    page.figure.add_artist(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
        (0.07, bottom), 0.86, top - bottom, transform=page.figure.transFigure, fill=False, lw=0.6, ec="#8896a5"))
    heading(page, "Signature")
    paragraph(page, "Clinician: ______________________________     Date: ______________     "
                    "Signature: ______________________________", size=8.5)


def signature_page(inp: SessionReportInput, opts: ReportOptions, title: str = "Interpretation and signature") -> Page:
    page = new_page(header_for(inp, opts), title)
    signature_page_block(page)
    return page


def gvs_rows(walking: Mapping) -> list[list[str]]:
    return [[VARIABLES_BY_KEY[k].title] + [fnum(walking[s].gvs.get(k)) if s in walking else "-"
                                           for s in ("Left", "Right")] for k in GVS_VARIABLES]
