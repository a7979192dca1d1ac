"""Assemble and write the clinical PDF reports.

``build_session_report`` (one session) and ``build_comparison_report`` (pre vs post) are
the only entry points; the app and ``genulab report`` both call them, with the 3D
snapshots rendered by ``app.scene`` passed in through the inputs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from core import __version__
from core.analysis.comparison import SessionComparison
from core.errors import CancelledError, ReportError
from core.report.comparison_pages import change_table_page, comparison_summary_page, overlay_page
from core.report.inputs import ReportOptions, SessionReportInput
from core.report.kinetics_pages import kinetics_page
from core.report.page import Page, add_footers, fit_standard_fonts, report_style, save_pdf
from core.report.session_pages import (kinematics_page, map_page, quality_page, signature_page, summary_page)
from core.report.valgus_pages import valgus_pages

Progress = Optional[Callable[[float, str], None]]
Cancelled = Optional[Callable[[], bool]]


def _opts(opts: Optional[ReportOptions]) -> ReportOptions:
    opts = opts or ReportOptions()
    if not opts.software:
        opts = ReportOptions(lab_name=opts.lab_name, software=f"Genu Lab {__version__}", show_cycles=opts.show_cycles)
    return opts


#: steps whose pages show the 3D snapshots: built after the others, so that snapshots still
#: rendering in the background (app.reporting.BackgroundSnapshots) overlap the other pages
SNAPSHOT_STEPS = ("valgus", "post valgus")


def _run(steps, progress: Progress, cancelled: Cancelled) -> list[Page]:
    """Build the pages of ``(name, step)`` steps; pages come out in the steps' order, built
    with the :data:`SNAPSHOT_STEPS` last."""
    order = sorted(range(len(steps)), key=lambda i: steps[i][0] in SNAPSHOT_STEPS)
    built: dict[int, list[Page]] = {}
    for k, i in enumerate(order):
        name, step = steps[i]
        if cancelled is not None and cancelled():
            raise CancelledError()
        if progress is not None:
            progress(k / len(steps), f"report: {name}")
        out = step()
        built[i] = [] if out is None else (out if isinstance(out, list) else [out])
    return [page for i in range(len(steps)) for page in built[i]]


def _build_pages(steps, footer: str, progress: Progress, cancelled: Cancelled) -> tuple[list[Page], str]:
    """The pages in the standard PDF fonts, or rebuilt with embedded DejaVu Sans when a text
    (a patient name, a note ...) has a character outside their encoding. Returns (pages, font set)."""
    def build(fonts: str) -> list[Page]:
        with report_style(fonts):
            pages = _run(steps, progress, cancelled)
            add_footers(pages, footer)
        return pages

    pages = build("standard")
    if fit_standard_fonts(pages):
        return pages, "standard"
    return build("embedded"), "embedded"


def _metadata(title: str, inp: SessionReportInput, opts: ReportOptions) -> dict:
    return {"Title": title, "Subject": f"{inp.patient.name} ({inp.patient.patient_id})",
            "Creator": opts.software, "Producer": opts.software, "Keywords": "gait analysis; CGM1; knee valgus"}


def build_session_report(inp: SessionReportInput, pdf_path: Path | str, opts: Optional[ReportOptions] = None,
                         progress: Progress = None, cancelled: Cancelled = None) -> Path:
    """Write the single-session report (summary, kinematics, valgus per task, MAP, quality, signature).

    Raises ReportError (naming the file) when the PDF cannot be written; CancelledError.
    """
    opts = _opts(opts)
    if inp.analysis is None:
        raise ReportError("the session has no analysis results to report", pdf_path)
    steps = [("summary", lambda: summary_page(inp, opts)),
             ("kinematics", lambda: kinematics_page(inp, opts)),
             ("valgus", lambda: valgus_pages(inp, opts)),
             ("kinetics", lambda: kinetics_page(inp, opts)),
             ("movement analysis profile", lambda: map_page(inp, opts)),
             ("quality", lambda: quality_page(inp, opts)),
             ("signature", lambda: signature_page(inp, opts))]
    pages, fonts = _build_pages(steps, f"{opts.software} · CGM1 (Plug-in Gait lower body) · session '{inp.session.label}'",
                                progress, cancelled)
    out = save_pdf(pages, pdf_path, _metadata(f"Gait analysis report, session {inp.session.label}", inp, opts), fonts)
    if progress is not None:
        progress(1.0, "report written")
    return out


def build_comparison_report(pre: SessionReportInput, post: SessionReportInput, comparison: SessionComparison,
                            pdf_path: Path | str, opts: Optional[ReportOptions] = None,
                            progress: Progress = None, cancelled: Cancelled = None) -> Path:
    """Write the pre/post comparison report (change summary, overlaid curves, change table, signature)."""
    opts = _opts(opts)
    steps = [("comparison summary", lambda: comparison_summary_page(pre, post, comparison, opts)),
             ("overlaid curves", lambda: overlay_page(pre, post, comparison, opts)),
             ("change table", lambda: change_table_page(pre, post, comparison, opts)),
             ("post valgus", lambda: valgus_pages(post, opts)),
             ("signature", lambda: signature_page(post, opts))]
    pages, fonts = _build_pages(steps, f"{opts.software} · pre/post comparison '{comparison.pre_label}' vs "
                                f"'{comparison.post_label}'", progress, cancelled)
    out = save_pdf(pages, pdf_path, _metadata(f"Gait analysis comparison {comparison.pre_label} vs "
                                              f"{comparison.post_label}", post, opts), fonts)
    if progress is not None:
        progress(1.0, "report written")
    return out
