"""Undoable event edits (add, move, delete foot strikes / foot offs) on the selected trial.

Each edit is a ``QUndoCommand`` on one ``QUndoStack``: redo/undo swap the trial's event list
and re-derive cycles and (when the engine provides ``core.analysis.analyze_trial``) the
analysis, through :func:`app.engine.reanalyse`. Edited events carry ``source="edited"``;
saving them into a patient store is done by :mod:`app.store_bridge` when the session came
from a store.
"""
from __future__ import annotations

from typing import Optional, Sequence

from app.qtcompat import emit
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.model import GaitEvent, frame_to_time
from app.engine import reanalyse
from app.state import AppState


class _SetEvents(QUndoCommand):
    """Replace the events of one trial (by name) with ``after``; undo restores ``before``."""

    def __init__(self, editor: "EventEditor", trial_name: str, before: Sequence[GaitEvent],
                 after: Sequence[GaitEvent], text: str) -> None:
        super().__init__(text)
        self.editor, self.trial_name = editor, trial_name
        self.before, self.after = tuple(before), tuple(after)

    def redo(self) -> None:
        self.editor.apply(self.trial_name, self.after)

    def undo(self) -> None:
        self.editor.apply(self.trial_name, self.before)


class EventEditor(QObject):
    """Builds the undo commands; ``edited(str)`` is emitted after each change with its text."""

    edited = Signal(str)

    def __init__(self, state: AppState, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.stack = QUndoStack(self)

    def _events(self) -> tuple[GaitEvent, ...]:
        return tuple(self.state.trial.events) if self.state.trial is not None else ()

    def _event(self, label: str, context: str, frame: int) -> GaitEvent:
        rate = self.state.trial.trial.point_rate_hz
        return GaitEvent(label, context, int(frame), float(frame_to_time(frame, rate)), "edited")

    def add(self, label: str, context: str, frame: int) -> None:
        if self.state.trial is None:
            return
        ev = self._event(label, context, frame)
        after = tuple(sorted(self._events() + (ev,), key=lambda e: (e.frame, e.context, e.label)))
        self.stack.push(_SetEvents(self, self.state.trial.name, self._events(), after,
                                   f"add {context} {label} at {frame}"))

    def move(self, event: GaitEvent, frame: int) -> None:
        if self.state.trial is None or event not in self._events():
            return
        new = self._event(event.label, event.context, frame)
        after = tuple(sorted((new if e == event else e for e in self._events()), key=lambda e: (e.frame, e.context, e.label)))
        self.stack.push(_SetEvents(self, self.state.trial.name, self._events(), after,
                                   f"move {event.context} {event.label} {event.frame} -> {frame}"))

    def delete(self, event: GaitEvent) -> None:
        if self.state.trial is None or event not in self._events():
            return
        after = tuple(e for e in self._events() if e != event)
        self.stack.push(_SetEvents(self, self.state.trial.name, self._events(), after,
                                   f"delete {event.context} {event.label} at {event.frame}"))

    def apply(self, trial_name: str, events: Sequence[GaitEvent]) -> None:
        """Set the events of ``trial_name`` (must be the selected trial) and re-analyse."""
        tv = self.state.trial
        if tv is None or tv.name != trial_name:
            session = self.state.session
            tv = next((t for t in session.trials if t.name == trial_name), None) if session else None
            if tv is None:
                return
            self.state.select_trial(session, tv)
        self.state.update_trial(reanalyse(self.state.trial, events))
        emit(self.edited, trial_name)
