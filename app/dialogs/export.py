"""Export dialog: processed C3D, outputs CSV and the PDF report of the selected session.

Writers are the engine's (``core.io.c3d.write_processed_c3d`` / ``write_outputs_csv``,
atomic, never touching the source) and the report's (``core.report.build_report`` when the
report module provides it); all run in the background worker.
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
    from core.errors import CancelledError
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    trials = [t for t in session.trials if t.outputs is not None]
    for i, t in enumerate(trials):
        if cancelled is not None and cancelled():
            raise CancelledError()
        if progress is not None:
            progress(i / max(len(trials), 1), f"exporting {t.name}")
        if c3d and t.path is not None:
            written.append(write_processed_c3d(t.path, folder / f"{t.name}.genulab.c3d", t.outputs, t.events))
        if csv:
            written.append(write_outputs_csv(folder / f"{t.name}.csv", t.outputs))
    return written


def export_report(session: SessionView, pdf: Path, progress=None, cancelled=None) -> Path:
    """The PDF report via ``core.report.build_report`` (raises ReportError if unavailable)."""
    from app.engine import optional
    build = optional("core.report", "build_report")
    if build is None:
        raise ReportError("the PDF report is not available in this version (core.report.build_report missing)", pdf)
    from app.scene import render_snapshot
    analysis = session.raw_analysis
    if analysis is None:
        raise ReportError("the session has no analysis to report", session.path)
    try:
        return Path(build(analysis, pdf, session=session.raw_session, snapshot=render_snapshot))
    except TypeError:
        return Path(build(analysis, pdf))


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
