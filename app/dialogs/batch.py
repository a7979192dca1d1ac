"""File -> Batch process a folder: every session folder under a root, in the background.

The work is ``core.batch.run_batch`` over a local process pool (the same engine as
``genulab batch``), run by the window's :class:`app.workers.TaskRunner`, so the window stays
responsive; the progress bar shows sessions, trials, rate and ETA, Cancel stops cleanly
(running sessions finish, no partial output is left) and the summary table is shown at
the end, also after a cancel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (QCheckBox, QDialog, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPlainTextEdit, QProgressBar, QPushButton, QSpinBox, QVBoxLayout)

from app.workers import TaskRunner


def batch_work(root: Path, out: Path, workers: int, resume: bool, holder: dict, filter_hz: float = 0.0):
    """The background function ``fn(progress, cancelled) -> BatchSummary`` of the dialog.

    ``holder["summary"]`` receives the summary too, so a cancelled run still shows it.
    filter_hz: marker low-pass cut-off (Hz, 0 = off), the window's Settings > Marker filter.
    """
    def work(progress, cancelled):
        from core.batch.engines import LocalEngine
        from core.batch.runner import plan, progress_line, run_batch
        from core.batch.task import BatchSettings
        from core.gait.pipeline import ProcessingSettings
        settings = BatchSettings(ProcessingSettings(filter_markers_hz=float(filter_hz or 0.0)))
        entries = plan(root, out)
        progress(0.0, f"{len(entries)} session folders found; starting {workers} worker(s)")
        engine = LocalEngine(workers)
        try:
            summary = run_batch(root, out, engine, settings=settings, resume=resume, log_path=out / "batch_log.jsonl",
                                on_progress=lambda p: progress(p.fraction, progress_line(p, 0).lstrip("[] ")),
                                cancelled=cancelled, entries=entries)
        finally:
            engine.close()
        holder["summary"] = summary
        return summary
    return work


class BatchDialog(QDialog):
    """Choose the archive folder, the output folder and the workers; run, watch, cancel."""

    def __init__(self, runner: TaskRunner, parent=None, root: Optional[Path] = None,
                 filter_hz: float = 0.0) -> None:
        super().__init__(parent)
        self.filter_hz = float(filter_hz or 0.0)
        from core.batch.engines import cpu_count
        self.runner = runner
        self.setWindowTitle("Batch process a folder")
        self.root = QLineEdit(str(root or ""))
        self.out = QLineEdit(str(Path(root).parent / f"{Path(root).name}_genulab") if root else "")
        self.workers = QSpinBox()
        self.workers.setRange(1, max(1, cpu_count() * 2))
        self.workers.setValue(cpu_count())
        self.resume = QCheckBox("Resume: skip sessions already done with the same inputs and settings")
        self.resume.setChecked(True)
        grid = QGridLayout()
        for row, (label, edit, title) in enumerate((("Archive folder:", self.root, "Archive folder"),
                                                    ("Output folder:", self.out, "Output folder"))):
            browse = QPushButton("Browse\u2026")
            browse.clicked.connect(lambda _=False, e=edit, t=title: self._browse(e, t))
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
        grid.addWidget(QLabel("Workers:"), 2, 0)
        grid.addWidget(self.workers, 2, 1)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.status = QLabel("")
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.close_button.clicked.connect(self.reject)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(self.resume)
        lay.addWidget(QLabel("Each session is processed and analysed; source files are never modified."))
        lay.addWidget(QLabel(f"Marker filter: {f'{self.filter_hz:g} Hz low-pass' if self.filter_hz else 'off'} "
                             "(Settings > Marker filter)"))
        lay.addWidget(self.bar)
        lay.addWidget(self.status)
        lay.addWidget(self.summary, 1)
        lay.addLayout(buttons)
        self.resize(720, 460)
        self._holder: dict = {}
        self.result_summary = None

    def _browse(self, edit: QLineEdit, title: str) -> None:
        d = QFileDialog.getExistingDirectory(self, title, edit.text())
        if d:
            edit.setText(d)

    def start(self) -> None:
        """Start the batch in the background (refused while the window's runner is busy)."""
        if self.runner.busy:
            self.status.setText("Another task is running; wait for it or cancel it first.")
            return
        root, out = Path(self.root.text()), Path(self.out.text())
        if not self.root.text() or not self.out.text():
            self.status.setText("Choose the archive folder and the output folder.")
            return
        self._holder = {}
        self.result_summary = None
        self.summary.clear()
        self.bar.setValue(0)
        self._running(True)
        r = self.runner
        r.progress.connect(self._on_progress)
        r.finished.connect(self._on_finished)
        r.cancelled.connect(self._on_cancelled)
        r.failed.connect(self._on_failed)
        r.run("Batch processing", batch_work(root, out, self.workers.value(), self.resume.isChecked(), self._holder,
                                                  self.filter_hz))

    def _disconnect(self) -> None:
        r = self.runner
        for sig, slot in ((r.progress, self._on_progress), (r.finished, self._on_finished),
                          (r.cancelled, self._on_cancelled), (r.failed, self._on_failed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._running(False)

    def _running(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.close_button.setEnabled(not busy)
        for w in (self.root, self.out, self.workers, self.resume):
            w.setEnabled(not busy)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(int(round(1000 * fraction)))
        self.status.setText(message)

    def _show(self, summary, head: str) -> None:
        self.result_summary = summary
        self.summary.setPlainText("\n".join([head, ""] + (summary.table_lines() if summary else [])))

    def _on_finished(self, summary) -> None:
        self._disconnect()
        self.bar.setValue(1000)
        self._show(summary, "Batch finished.")

    def _on_cancelled(self) -> None:
        self._disconnect()
        self._show(self._holder.get("summary"), "Batch cancelled: the sessions already done are complete; "
                   "start again with Resume to do the rest.")

    def _on_failed(self, exc, details: str) -> None:
        self._disconnect()
        self.summary.setPlainText(f"Batch not run: {exc}")

    def reject(self) -> None:  # Esc / Close: never while a batch runs
        if self.runner.busy and self.cancel_button.isEnabled():
            return
        super().reject()
