"""Export dialog: processed C3D, outputs CSV and the PDF report of the selected session.

Writers are the engine's (``core.io.c3d.write_processed_c3d`` / ``write_outputs_csv``,
atomic, never touching the source) and the report's (``app.reporting`` over ``core.report``,
with the off-screen 3D snapshots); all run in the background worker.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout)

from core.errors import GenuError, ReportError
from app.state import AppState
from app.viewdata import SessionView
from app.workers import TaskRunner


def export_trials(session: SessionView, folder: Path, c3d: bool, csv: bool, progress=None, cancelled=None) -> list[Path]:
    """Write processed C3D and/or CSV of every trial with outputs into ``folder``."""
    from core.io.c3d import write_outputs_csv, write_processed_c3d
    from core.io.csv_out import filled_flag_parameters
    from core.errors import CancelledError
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    trials = [t for t in session.trials if t.outputs is not None]
    for i, t in enumerate(trials):
        if cancelled is not None and cancelled():
            raise CancelledError()
        if progress is not None:
            progress(i / max(len(trials), 1), f"exporting {t.name}")
        pt = t.raw_processed
        filled = pt is not None and pt.filled_mask is not None and pt.filled_mask.any()
        if c3d and t.path is not None:
            flag = filled_flag_parameters(pt.filled_mask, pt.trial.labels, pt.trial.first_frame,
                                          pt.settings.fill_gaps_max_frames) if filled else None
            outputs = pt.written_outputs() if hasattr(pt, "written_outputs") else t.outputs  # + kinetics
            written.append(write_processed_c3d(t.path, folder / f"{t.name}.genulab.c3d", outputs, t.events,
                                               parameters=flag))
        if csv:
            written.append(write_outputs_csv(folder / f"{t.name}.csv", t.outputs,
                                             filled_markers=pt.filled_markers() if filled else None))
    return written


def report_input(session: SessionView, progress=None, cancelled=None):
    """The report input (``core.report.inputs.SessionReportInput``) of an open session.

    Trials carry the events shown in the app (edits included); when any event was edited the
    session analysis is redone on them, so the PDF says what the screen says.
    """
    from types import SimpleNamespace
    from core.report.inputs import PatientInfo, SessionInfo, SessionReportInput
    processed = [t.raw_processed for t in session.trials if t.raw_processed is not None]
    if session.raw_analysis is None or not processed:
        if session.store_path is not None:
            from app.reporting import session_input_from_store
            return session_input_from_store(session.store_path, session.store_session, progress, cancelled)
        raise ReportError("the session has no analysis to report (process it with its static trial first)",
                          session.path)
    edits = {t.name: sum(1 for e in t.events if e.source == "edited") for t in session.trials}
    edits = {k: v for k, v in edits.items() if v}
    folder = getattr(session.raw_session, "folder", None)
    bundle = SimpleNamespace(trials=tuple(processed), folder=folder,
                             calibration=getattr(session.raw_session, "calibration", None))
    analysis = session.raw_analysis
    if edits:
        from core.analysis.session import analyze_session
        analysis = analyze_session(bundle, label=session.label, progress=progress, cancelled=cancelled,
                                   age_years=_store_age(session))
    pat = dict(getattr(folder, "patient", None) or {})
    pat.setdefault("name", session.patient)
    return SessionReportInput(PatientInfo.from_mapping(pat), SessionInfo.from_patient_record(session.label, pat),
                              bundle, analysis, event_edits=edits)


def _store_age(session: SessionView):
    """The patient's age at a store session (None for folders: their patient.json is read)."""
    if session.store_path is None or not session.store_session:
        return None
    try:
        from core.store.store import open_store
        with open_store(session.store_path, "r") as store:
            return store.patient.age_at(store.session(session.store_session).date)
    except Exception:  # noqa: BLE001 - the analysis then says the age could not be checked
        return None


def export_report(session: SessionView, pdf: Path, progress=None, cancelled=None) -> Path:
    """The session's PDF report with the 3D snapshots (``app.reporting``, same code as the CLI)."""
    from app.reporting import write_session_report
    return write_session_report(report_input(session, progress, cancelled), pdf, progress=progress, cancelled=cancelled)


def export_comparison_report(pre: SessionView, post: SessionView, pdf: Path, progress=None, cancelled=None) -> Path:
    """The pre/post comparison PDF of two open sessions."""
    from app.reporting import write_comparison_report
    return write_comparison_report(report_input(pre), report_input(post), pdf, progress=progress, cancelled=cancelled)


class ExportDialog(QDialog):
    """Choose outputs and a folder; runs the export in the background."""

    def __init__(self, state: AppState, runner: TaskRunner, parent=None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        s = state.session
        self.setWindowTitle(f"Export \u2014 {s.key if s else ''}")
        self.c3d = QCheckBox("Processed C3D (copy of each trial with the model outputs and events)")
        self.csv = QCheckBox("Model outputs as CSV")
        self.pdf = QCheckBox("PDF report")
        self.c3d.setChecked(True)
        self.csv.setChecked(True)
        base = Path(s.path) if s is not None and s.path is not None else Path.home()
        self.folder = QLineEdit(str(base / "genulab_export"))
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(QLabel("Folder:"))
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._run)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for w in (self.c3d, self.csv, self.pdf):
            lay.addWidget(w)
        lay.addLayout(row)
        lay.addWidget(QLabel("Source C3D files are never modified."))
        lay.addWidget(buttons)

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Export folder", self.folder.text())
        if d:
            self.folder.setText(d)

    def _run(self) -> None:
        session = self.state.session
        folder = Path(self.folder.text())
        c3d, csv, pdf = self.c3d.isChecked(), self.csv.isChecked(), self.pdf.isChecked()

        def work(progress, cancelled):
            out = export_trials(session, folder, c3d, csv, progress, cancelled) if (c3d or csv) else []
            if pdf:
                out.append(export_report(session, folder / f"{session.patient}_{session.label}.pdf", progress, cancelled))
            return out
        parent = self.parent()
        self.runner.run("Exporting", work, lambda out: parent.statusBar().showMessage(
            f"Exported {len(out)} file(s) to {folder}", 6000) if hasattr(parent, "statusBar") else None)
        self.accept()
