"""Comparison view: two sessions of a patient, pre and post curves overlaid, change table.

The comparison itself is ``core.analysis.comparison.compare_sessions`` (run in the worker); this view
only draws its :class:`~core.analysis.comparison.SessionComparison`: mean +- SD curves over the gait
cycle of both sessions (pre dashed, post solid; Left red, Right green) and a table of
changes with the 95 % interval and the measurement-error verdict (valgus.md rule).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.variables import KINEMATIC_VARIABLES, VALGUS_METRICS
from app.plots import SIDE_COLOURS
from app.state import AppState
from app.workers import TaskRunner

CURVE_KEYS = ("KneeAngles.x", "KneeAngles.y", "HipAngles.y", "HipAngles.z", "valgus_3d", "fppa")
_VARS = {v.key: v for v in KINEMATIC_VARIABLES + VALGUS_METRICS}
TABLE_COLS = ("Measure", "Side", "Pre", "Post", "Change", "95 % CI", "SDD / MCID", "Verdict")
EXCEEDS = "exceeds measurement error"


SHORT = {"valgus_3d": "3D valgus", "valgus_3d_corrected": "3D valgus (corrected)", "fppa": "FPPA", "mkd": "MKD",
         "mkd_pct_knee_width": "MKD (% knee width)"}
TASK_WORDS = {"walk": "walking", "sls": "single-leg squat", "sl_stance": "single-leg stance",
              "drop_jump": "drop jump", "sl_landing": "single-leg landing"}


def change_rows(comp) -> list[tuple]:
    """Rows ``(measure, side, pre, post, diff, ci_low, ci_high, threshold, verdict)``."""
    rows = []
    for (task, side, metric), r in sorted(comp.valgus.items()):
        rows.append((f"{SHORT.get(metric, metric)} peak, {TASK_WORDS.get(task, task)}", side,
                     r.pre_mean, r.post_mean, r.difference, r.ci_low, r.ci_high, r.threshold, r.verdict))
    for side, g in sorted(comp.gps.items()):
        rows.append(("Gait Profile Score", side, g.pre_gps, g.post_gps, g.difference, g.ci_low, g.ci_high,
                     getattr(g, "mcid", np.nan), g.verdict))
    for (key, side), v in sorted(comp.variables.items()):
        for word, r in (("max", v.peak_max), ("min", v.peak_min)):
            title = _VARS[key].title if key in _VARS else key
            rows.append((f"{title} {word}", side, r.pre_mean, r.post_mean, r.difference, r.ci_low, r.ci_high,
                         r.threshold, r.verdict))
    # changes beyond measurement error first, then the valgus metrics, GPS, curves
    return sorted(rows, key=lambda r: r[-1] != EXCEEDS)


def _fmt(x: float, nd: int = 1) -> str:
    return "\u2013" if x is None or not np.isfinite(x) else f"{x:+.{nd}f}" if nd < 0 else f"{x:.{nd}f}"


class ComparisonView(QWidget):
    """Choose two sessions, compare them in the background, show curves and the table."""

    def __init__(self, state: AppState, runner: TaskRunner, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state, self.runner = state, runner
        self.comparison = None
        self.pre = QComboBox()
        self.post = QComboBox()
        self.button = QPushButton("Compare")
        self.button.clicked.connect(self.compare)
        self.status = QLabel("Open two analysed sessions of the same patient (e.g. pre and post).")
        self.status.setStyleSheet("color: #6b7280;")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Pre:"))
        bar.addWidget(self.pre, 1)
        bar.addWidget(QLabel("Post:"))
        bar.addWidget(self.post, 1)
        bar.addWidget(self.button)
        self.pdf_button = QPushButton("Comparison PDF\u2026")
        self.pdf_button.setToolTip("Write the pre/post comparison report (PDF)")
        self.pdf_button.clicked.connect(self.export_pdf)
        self.pdf_button.setEnabled(False)
        bar.addWidget(self.pdf_button)
        self.figure = Figure(figsize=(6, 5), dpi=100, facecolor="white")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.table = QTableWidget(0, len(TABLE_COLS))
        self.table.setHorizontalHeaderLabels(list(TABLE_COLS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        split = QSplitter(Qt.Vertical)
        split.addWidget(self.canvas)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        lay.addWidget(split, 1)
        state.sessionsChanged.connect(self.refresh_sessions)
        self.refresh_sessions()

    def analysed(self) -> list:
        return [s for s in self.state.sessions if s.raw_analysis is not None]

    def refresh_sessions(self) -> None:
        sessions = self.analysed()
        for combo in (self.pre, self.post):
            cur = combo.currentText()
            combo.clear()
            for s in sessions:
                combo.addItem(s.key, s)
            if cur:
                combo.setCurrentText(cur)
        pre, post = self.pre.currentData(), self.post.currentData()
        if len(sessions) >= 2 and (pre is None or post is None or pre is post or pre.patient != post.patient):
            self._default_pair(sessions)
        self.button.setEnabled(len(sessions) >= 2)
        self.pdf_button.setEnabled(len(sessions) >= 2)

    def _default_pair(self, sessions: list) -> None:
        """Pre = a session labelled "pre" (else the first); post = another session of the
        same patient, "post" preferred."""
        pre = next((s for s in sessions if s.label.lower() == "pre"), sessions[0])
        others = [s for s in sessions if s is not pre and s.patient == pre.patient]
        if not others:
            return
        post = next((s for s in others if s.label.lower() == "post"), others[-1])
        self.pre.setCurrentIndex(sessions.index(pre))
        self.post.setCurrentIndex(sessions.index(post))

    def compare(self) -> None:
        from app.engine import optional
        if self.runner.busy:
            self.status.setText("Busy: wait for the current task to finish.")
            return
        fn = optional("core.analysis.comparison", "compare_sessions")
        pre, post = self.pre.currentData(), self.post.currentData()
        if fn is None or pre is None or post is None or pre is post:
            self.status.setText("Choose two different analysed sessions.")
            return
        if pre.patient != post.patient:
            self.status.setText(f"Choose two sessions of the same patient ({pre.patient} \u2260 {post.patient}).")
            return
        self.status.setText(f"Comparing {pre.key} \u2192 {post.key}\u2026")
        self.runner.run(f"Comparing {pre.label} and {post.label}",
                        lambda progress, cancelled: fn(pre.raw_analysis, post.raw_analysis), self.show_comparison)

    def export_pdf(self) -> None:
        from pathlib import Path
        from PySide6.QtWidgets import QFileDialog
        from app.dialogs.export import export_comparison_report
        pre, post = self.pre.currentData(), self.post.currentData()
        if pre is None or post is None or pre is post:
            return
        base = Path(post.path) if post.path is not None else Path.home()
        default = base.parent / f"{post.patient}_{pre.label}_vs_{post.label}.pdf"
        pdf, _ = QFileDialog.getSaveFileName(self, "Comparison report", str(default), "PDF (*.pdf)")
        if pdf:
            self.runner.run("Writing the comparison report",
                            lambda progress, cancelled: export_comparison_report(pre, post, Path(pdf), progress, cancelled),
                            lambda out: self.status.setText(f"Comparison report written: {out}"))

    # ------------------------------------------------------------------ display
    def show_comparison(self, comp) -> None:
        self.comparison = comp
        n_ex = len(comp.exceeding())
        self.status.setText(f"{comp.pre_label} \u2192 {comp.post_label}: {n_ex} change(s) exceed measurement error. "
                            f"Rule: {comp.rule}")
        self.status.setWordWrap(True)
        self._draw_curves(comp)
        self._fill_table(comp)

    def _draw_curves(self, comp) -> None:
        fig = self.figure
        fig.clear()
        keys = [k for k in CURVE_KEYS if any((k, s) in comp.variables for s in ("Left", "Right"))]
        if not keys:
            fig.text(0.5, 0.5, "No walking cycles to compare", ha="center", va="center", color="0.5")
            self.canvas.draw_idle()
            return
        ncols = 3
        axes = fig.subplots(int(np.ceil(len(keys) / ncols)), ncols, squeeze=False)
        for ax, key in zip(axes.ravel(), keys):
            v = _VARS.get(key)
            for side in ("Left", "Right"):
                vc = comp.variables.get((key, side))
                if vc is None:
                    continue
                col = SIDE_COLOURS[side]
                ax.fill_between(vc.percent, vc.pre_mean - vc.pre_sd, vc.pre_mean + vc.pre_sd, color=col, alpha=0.08, lw=0)
                ax.plot(vc.percent, vc.pre_mean, color=col, lw=1.2, ls="--")
                ax.fill_between(vc.percent, vc.post_mean - vc.post_sd, vc.post_mean + vc.post_sd, color=col, alpha=0.16, lw=0)
                ax.plot(vc.percent, vc.post_mean, color=col, lw=1.6)
            ax.set_title(f"{v.title} ({v.unit})" if v else key, fontsize=8.5, pad=3)
            if v is not None:
                ax.text(0.01, 0.97, v.positive, transform=ax.transAxes, fontsize=6.5, va="top", color="0.35")
                ax.text(0.01, 0.03, v.negative, transform=ax.transAxes, fontsize=6.5, va="bottom", color="0.35")
            ax.tick_params(labelsize=7, length=2)
            ax.set_xlim(0, 100)
            for s in ("top", "right"):
                ax.spines[s].set_visible(False)
        for ax in axes.ravel()[len(keys):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("% gait cycle", fontsize=8)
        from matplotlib.lines import Line2D
        handles = [Line2D([], [], color="0.3", ls="--", lw=1.2, label=f"{comp.pre_label} (dashed)"),
                   Line2D([], [], color="0.3", lw=1.6, label=f"{comp.post_label} (solid)"),
                   Line2D([], [], color=SIDE_COLOURS["Left"], lw=2, label="Left"),
                   Line2D([], [], color=SIDE_COLOURS["Right"], lw=2, label="Right")]
        fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=8, frameon=False)
        fig.subplots_adjust(left=0.07, right=0.985, top=0.88, bottom=0.11, hspace=0.5, wspace=0.3)
        self.canvas.draw_idle()

    def _fill_table(self, comp) -> None:
        rows = change_rows(comp)
        self.table.setRowCount(len(rows))
        bold = QFont(self.table.font())
        bold.setBold(True)
        for r, (name, side, pre, post, diff, lo, hi, thr, verdict) in enumerate(rows):
            vals = (name, side, _fmt(pre), _fmt(post), (f"{diff:+.1f}" if np.isfinite(diff) else "\u2013"),
                    f"[{_fmt(lo)}, {_fmt(hi)}]", _fmt(thr), verdict)
            for c, text in enumerate(vals):
                it = QTableWidgetItem(text)
                if verdict == EXCEEDS:
                    it.setFont(bold)
                    if c == 7:
                        it.setForeground(QColor(176, 0, 255))
                self.table.setItem(r, c, it)
