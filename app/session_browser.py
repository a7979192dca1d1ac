"""Session browser: patient -> session -> trial -> cycles/repetitions tree."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from PySide6.QtCore import Qt, Signal

from app.qtcompat import emit
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from app.scene_data import LEFT_RGB, RIGHT_RGB
from app.state import AppState
from app.viewdata import CycleSpan, SessionView, TrialView

_ROLE = Qt.UserRole + 1


def session_date(s: SessionView) -> str:
    """The session's date from its folder's ``patient.json`` (``sessions.<label>.date``), or ""."""
    info = getattr(getattr(s.raw_session, "folder", None), "patient", None) or {}
    rec = (info.get("sessions") or {}).get(s.label) if isinstance(info, Mapping) else None
    return str(rec.get("date", "") or "") if isinstance(rec, Mapping) else ""


class SessionBrowser(QTreeWidget):
    """Tree of the open sessions; selecting an item selects it in :class:`AppState`."""

    closeSessionRequested = Signal(object)

    def __init__(self, state: AppState, parent=None) -> None:
        super().__init__(parent)
        self.state = state
        self.setHeaderLabels(["Patient / session / trial", "Info"])
        self.setColumnWidth(0, 190)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self._objects: dict[int, tuple] = {}
        self._updating = False
        self.itemSelectionChanged.connect(self._on_selection)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        state.sessionsChanged.connect(self.rebuild)
        state.trialChanged.connect(lambda *_: self._sync_selection())
        state.trialUpdated.connect(lambda *_: self._refresh_current())

    def _item(self, parent, text: str, info: str, obj: tuple) -> QTreeWidgetItem:
        it = QTreeWidgetItem(parent, [text, info])
        it.setToolTip(1, info)
        self._objects[id(it)] = obj
        it.setData(0, _ROLE, id(it))
        return it

    def rebuild(self) -> None:
        self._updating = True
        self.clear()
        self._objects.clear()
        patients: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for s in self.state.sessions:
            p = patients.get(s.patient)
            if p is None:
                p = self._item(self, s.patient, "patient", ("patient", s.patient))
                p.setFont(0, bold)
                patients[s.patient] = p
            date = session_date(s)
            si = self._item(p, s.label, ", ".join(x for x in (date, f"{len(s.trials)} trials",
                                                              f"static {s.static_name}" if s.static_name else "") if x),
                            ("session", s))
            si.setToolTip(0, str(s.path or ""))
            for t in s.trials:
                self._add_trial(si, s, t)
            p.setExpanded(True)
            si.setExpanded(True)
        self._updating = False
        self._sync_selection()

    def _add_trial(self, parent: QTreeWidgetItem, s: SessionView, t: TrialView) -> QTreeWidgetItem:
        info = t.task or ("walk" if t.cycles else "")
        n_ph = len(t.phases)
        kinds = sorted({c.kind for c in t.cycles})
        spans = f"{len(t.cycles)} {kinds[0] + 's' if len(kinds) == 1 else 'windows'}" if t.cycles else ""
        info = ", ".join(x for x in (info, spans,
                                     f"{n_ph} valgus phase(s)" if n_ph else "") if x)
        ti = self._item(parent, t.name, info, ("trial", s, t))
        ti.setToolTip(0, f"{t.path}\noutputs: {t.source}")
        for c in t.cycles:
            ci = self._item(ti, c.label, "", ("cycle", s, t, c))
            ci.setForeground(0, QBrush(QColor(*(LEFT_RGB if c.side == "Left" else RIGHT_RGB))))
        return ti

    def _refresh_current(self) -> None:
        self.rebuild()

    def _find(self, pred) -> Optional[QTreeWidgetItem]:
        it = self.invisibleRootItem()
        stack = [it.child(i) for i in range(it.childCount())]
        while stack:
            x = stack.pop()
            if pred(self._objects.get(id(x), ())):
                return x
            stack += [x.child(i) for i in range(x.childCount())]
        return None

    def _sync_selection(self) -> None:
        tv, sv = self.state.trial, self.state.session
        if tv is None:
            return
        item = self._find(lambda o: o[:1] == ("trial",) and o[2].name == tv.name and o[1].key == sv.key)
        if item is not None and not item.isSelected():
            self._updating = True
            self.setCurrentItem(item)
            self._updating = False

    def _on_selection(self) -> None:
        if self._updating:
            return
        items = self.selectedItems()
        if not items:
            return
        obj = self._objects.get(id(items[0]), ())
        if obj[:1] == ("trial",):
            self.state.select_trial(obj[1], self._current_trial(obj[1], obj[2]))
        elif obj[:1] == ("cycle",):
            self.state.select_trial(obj[1], self._current_trial(obj[1], obj[2]))
            self.state.select_cycle(obj[3])
        elif obj[:1] == ("session",) and obj[1].trials:
            self.state.select_trial(obj[1], obj[1].trials[0])

    def _context_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu
        item = self.itemAt(pos)
        obj = self._objects.get(id(item), ()) if item is not None else ()
        session = obj[1] if obj[:1] in (("session",), ("trial",), ("cycle",)) else None
        if session is None:
            return
        menu = QMenu(self)
        menu.addAction(f"Close session {session.key}", lambda: emit(self.closeSessionRequested, session))
        menu.exec(self.viewport().mapToGlobal(pos))

    def _current_trial(self, s: SessionView, t: TrialView) -> TrialView:
        return next((x for x in s.trials if x.name == t.name), t)

    def select_trial_named(self, name: str) -> bool:
        item = self._find(lambda o: o[:1] == ("trial",) and o[2].name == name)
        if item is not None:
            self.setCurrentItem(item)
        return item is not None

    def select_cycle(self, cycle: CycleSpan) -> None:
        self.state.select_cycle(cycle)
