"""Subject parameters dialog: values pre-filled from the files, each with its source.

Values are those the engine resolved (``SubjectParameters``: static/dynamic PROCESSING group,
.vsk/.mp/.json, calibration, defaults). Editing a value turns it into an override
(``--set``-style, degrees for angles); the session is then processed again with it.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QLabel,
                               QTableWidget, QTableWidgetItem, QVBoxLayout)

from core.model import SubjectParameters
from app.viewdata import SessionView

COLS = ("Parameter", "Value", "Unit", "Source")


def resolve_for(session: SessionView) -> Optional[SubjectParameters]:
    """The session's resolved parameters, or resolved now from its first trial's files."""
    if session.subject is not None:
        return session.subject
    if not session.trials or session.trials[0].path is None:
        return None
    try:
        from core.io.subject import resolve_subject
        return resolve_subject(dynamic=session.trials[0].path)
    except Exception:  # noqa: BLE001 - shown as "no parameters"
        return None


class SubjectDialog(QDialog):
    """Table of parameters; :meth:`overrides` gives the values the user changed."""

    def __init__(self, session: SessionView, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Subject parameters \u2014 {session.key}")
        self.resize(640, 560)
        self.subject = resolve_for(session)
        self._initial: dict[str, str] = {}
        self.table = QTableWidget(0, len(COLS))
        self.table.setHorizontalHeaderLabels(list(COLS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self._fill()
        info = QLabel("Values found in the session's files, with where each came from. Edit a value to "
                      "override it (angles in degrees); the session is then processed again.")
        info.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(info)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)

    def _fill(self) -> None:
        values = sorted(self.subject.values.values(), key=lambda p: p.name) if self.subject is not None else []
        self.table.setRowCount(len(values))
        for r, p in enumerate(values):
            shown = f"{p.value:.6g}"
            self._initial[p.name] = shown
            for c, text in enumerate((p.name, shown, p.unit, p.source)):
                it = QTableWidgetItem(text)
                if c != 1:
                    it.setFlags(it.flags() & ~Qt.ItemIsEditable)
                if c == 3:
                    it.setForeground(QColor(90, 98, 110))
                self.table.setItem(r, c, it)

    def overrides(self) -> dict[str, float]:
        """Parameters whose value the user changed: name -> new value."""
        out = {}
        for r in range(self.table.rowCount()):
            name, text = self.table.item(r, 0).text(), self.table.item(r, 1).text().strip()
            if name not in self._initial or text == self._initial[name]:
                continue
            try:
                out[name] = float(text)
            except ValueError:
                continue
        return out
