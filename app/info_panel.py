"""Trial information: where the outputs come from, task, notes and the valgus phases table."""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from app.kinetics_view import contact_lines
from app.scene_data import LEFT_RGB, RIGHT_RGB
from app.state import AppState

_COLS = ("Side", "Onset", "Offset", "Peak frame", "Peak", "Metric", "Threshold")


def session_summary(analysis) -> str:
    """One line of walking results of the session analysis: speed, cadence, GPS per side."""
    walking = getattr(analysis, "walking", None) or {}
    parts = []
    for side in ("Left", "Right"):
        w = walking.get(side)
        if w is None:
            continue
        st = w.spatiotemporal
        speed, cad = st.get("speed_m_s", np.nan), st.get("cadence_steps_min", np.nan)
        parts.append(f"{side[0]}: {speed:.2f} m/s, {cad:.0f} steps/min, GPS {w.gps_deg:.1f}\u00b0 "
                     f"({w.n_cycles} cycles)")
    if not parts:
        return ""
    gps = getattr(analysis, "gps_overall_deg", np.nan)
    return "Session walking: " + "; ".join(parts) + (f"; overall GPS {gps:.1f}\u00b0" if np.isfinite(gps) else "")


class TrialInfoPanel(QWidget):
    """Summary of the selected trial; double-click a phase to go to its peak."""

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.summary = QLabel("No trial")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.summary.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.table = QTableWidget(0, len(_COLS))
        self.table.setHorizontalHeaderLabels(list(_COLS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._go)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.summary)
        lay.addWidget(QLabel("<b>Valgus phases</b>"))
        lay.addWidget(self.table, 1)
        state.trialChanged.connect(self.refresh)
        state.trialUpdated.connect(self.refresh)

    def refresh(self, *_):
        tv, sv = self.state.trial, self.state.session
        if tv is None:
            self.summary.setText("No trial")
            self.table.setRowCount(0)
            return
        t = tv.trial
        n_ev = {src: sum(1 for e in tv.events if e.source == src) for src in {e.source for e in tv.events}}
        ev = ", ".join(f"{n} {src}" for src, n in sorted(n_ev.items())) or "none"
        lines = [f"<b>{tv.name}</b> &nbsp; {t.n_frames} frames at {t.point_rate_hz:g} Hz "
                 f"(frames {t.first_frame}-{t.last_frame})",
                 f"Model outputs: {tv.source}" + (f" &nbsp; Static: {sv.static_name}" if sv and sv.static_name else ""),
                 f"Task: {tv.task or 'unknown'}{(' (' + tv.task_side + ')') if tv.task_side else ''} &nbsp; Events: {ev}",
                 "Colours: <span style='color:#d63031'><b>Left = red</b></span>, "
                 "<span style='color:#27ae60'><b>Right = green</b></span>, "
                 "<span style='color:#b000ff'><b>valgus phase = violet</b></span>"]
        summary = session_summary(sv.raw_analysis if sv is not None else None)
        if summary:
            lines.append(summary)
        from app.plots import load_bands, normative_caution
        caution = normative_caution(sv, load_bands(getattr(sv, "raw_analysis", None)))
        if caution:
            lines.append(f"<span style='color:#8a4b00'><b>Normal bands: {html.escape(caution)}</b></span>")
        contacts = contact_lines(tv.kinetics)
        if contacts:
            lines.append(f"<b>Force plates</b> (kinetics: {tv.kinetics.source or 'none'}):<br>"
                         + "<br>".join(html.escape(c) for c in contacts))
        notes = list(sv.notes if sv else ()) + list(getattr(tv.raw_analysis, "notes", ()) or ())
        quality = getattr(tv.raw_processed, "quality", None)
        notes += [f"{i.severity}: {i.message}" for i in getattr(quality, "issues", ())
                  if i.severity in ("warning", "error")]
        if notes:
            more = f"<br>(+{len(notes) - 6} more)" if len(notes) > 6 else ""
            lines.append("<span style='color:#9a6700'>" + "<br>".join(notes[:6]) + more + "</span>")
        self.summary.setText("<br>".join(lines))
        self.table.setRowCount(len(tv.phases))
        for r, p in enumerate(tv.phases):
            vals = (p.side, str(p.onset_frame), str(p.offset_frame), str(p.peak_frame),
                    f"{p.peak_value:.1f}", p.metric,
                    f"{p.threshold:.1f}" if np.isfinite(p.threshold) else "")
            for c, v in enumerate(vals):
                it = QTableWidgetItem(v)
                if c == 0:
                    it.setForeground(QColor(*(LEFT_RGB if p.side == "Left" else RIGHT_RGB)))
                if c == 6 and p.threshold_source:
                    it.setToolTip(p.threshold_source)
                self.table.setItem(r, c, it)

    def _go(self, row: int, _col: int) -> None:
        tv = self.state.trial
        if tv is not None and row < len(tv.phases):
            self.state.set_frame(tv.phases[row].peak_frame)
