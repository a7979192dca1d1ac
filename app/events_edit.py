"""Undoable event edits (add, move, delete foot strikes / foot offs) and task-window edits
(add, move/resize, delete single-leg squat repetitions, landings, holds) on the selected trial.

Each edit is a ``QUndoCommand`` on one ``QUndoStack``: redo/undo swap the trial's event list
and re-derive cycles and (when the engine provides ``core.analysis.trial.analyze_trial``) the
analysis, through :func:`app.engine.reanalyse`. Edited events carry ``source="edited"``;
saving them into a patient store is done by :mod:`app.store_bridge` when the session came
from a store.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional, Sequence

from app.qtcompat import emit
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.model import GaitEvent, frame_to_time
from app.engine import edited_windows, reanalyse, window_edit_reason
from app.state import AppState
from app.viewdata import CycleSpan, TrialView


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


class _SetWindows(QUndoCommand):
    """Set the user task windows of one side of a trial; None = the detected windows."""

    def __init__(self, editor: "EventEditor", trial_name: str, side: str, before: Optional[tuple],
                 after: Optional[tuple], text: str) -> None:
        super().__init__(text)
        self.editor, self.trial_name, self.side = editor, trial_name, side
        self.before, self.after = before, after

    def redo(self) -> None:
        self.editor.apply_windows(self.trial_name, self.side, self.after)

    def undo(self) -> None:
        self.editor.apply_windows(self.trial_name, self.side, self.before)


class EventEditor(QObject):
    """Builds the undo commands; ``edited(str)`` is emitted after each change with its text
    (for a window edit: once the re-analysis is in); ``message(str)`` says why a requested
    window edit was refused."""

    edited = Signal(str)
    message = Signal(str)

    def __init__(self, state: AppState, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.stack = QUndoStack(self)
        self._pending: dict[int, dict] = {}      # id(Trial) -> user windows not yet analysed
        self._generation: dict[int, int] = {}    # id(Trial) -> edits applied (stale results dropped)
        self._tasks: list = []
        self.last_message = ""
        state.windowEditRequested.connect(self._on_window_request)

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

    def _select(self, trial_name: str):
        """Make ``trial_name`` of the open session the selected trial (undo/redo of an edit made
        on another trial); its view record, or None if the session no longer has it."""
        tv = self.state.trial
        if tv is None or tv.name != trial_name:
            session = self.state.session
            tv = next((t for t in session.trials if t.name == trial_name), None) if session else None
            if tv is None:
                return None
            self.state.select_trial(session, tv)
            tv = self.state.trial
        return tv

    def apply(self, trial_name: str, events: Sequence[GaitEvent]) -> None:
        """Set the events of ``trial_name`` (must be the selected trial) and re-analyse."""
        if self._select(trial_name) is None:
            return
        key = id(self.state.trial.trial)
        self._generation[key] = self._generation.get(key, 0) + 1   # an analysis in flight is now stale
        pending = self._pending.pop(key, None)
        self.state.update_trial(reanalyse(self.state.trial, events, pending, self._settings()))
        emit(self.edited, trial_name)

    # ------------------------------------------------------------------ task windows
    @property
    def busy(self) -> bool:
        """True while a window edit's re-analysis runs."""
        return bool(self._pending)

    def user_windows(self, view: Optional[TrialView] = None) -> dict:
        """Side -> user task windows of a trial (pending edits first), {} = all detected."""
        view = view or self.state.trial
        if view is None:
            return {}
        key = id(view.trial)
        return dict(self._pending[key]) if key in self._pending else edited_windows(view.raw_analysis)

    def windows_of(self, side: str, view: Optional[TrialView] = None) -> tuple:
        """Current task windows (``core.analysis.TaskWindow``) of a side of the selected trial."""
        view = view or self.state.trial
        user = self.user_windows(view)
        if side in user:
            return tuple(user[side])
        wins = getattr(view.raw_analysis, "windows", None) or {} if view is not None else {}
        return tuple(wins.get(side, ()))

    def _settings(self) -> Any:
        """The analysis settings of the selected session's analysis (sex of the patient...)."""
        s = self.state.session
        return getattr(getattr(s, "raw_analysis", None), "settings", None) if s is not None else None

    def _refuse(self, text: str) -> None:
        self.last_message = text
        emit(self.message, text)

    def _window(self, side: str, start: int, end: int) -> Any:
        from core.analysis.types import WINDOW_KIND, TaskWindow
        return TaskWindow(WINDOW_KIND.get(self.state.trial.task, "repetition"), 0, side, int(start), int(end))

    def _push_windows(self, side: str, after: Sequence, text: str) -> None:
        tv = self.state.trial
        before = self.user_windows(tv).get(side)
        after = tuple(sorted(after, key=lambda w: w.start_frame))
        lo, hi = self.state.frame_range
        for w in after:
            if w.start_frame < lo or w.end_frame > hi or w.end_frame < w.start_frame:
                return self._refuse(f"the window {w.start_frame}-{w.end_frame} is outside the trial ({lo}-{hi})")
        for a, b in zip(after, after[1:]):
            if b.start_frame <= a.end_frame:
                return self._refuse(f"task windows {a.start_frame}-{a.end_frame} and {b.start_frame}-{b.end_frame} "
                                    "would overlap")
        self.stack.push(_SetWindows(self, tv.name, side, before, after, text))

    def _find(self, side: str, start: int, end: int) -> Any:
        return next((w for w in self.windows_of(side) if w.start_frame == start and w.end_frame == end), None)

    def add_window(self, side: str, start: int, end: int) -> None:
        """Add a task window (C3D frames, inclusive) on a side of the selected trial."""
        if (why := window_edit_reason(self.state.trial)):
            return self._refuse(why)
        start, end = sorted((int(start), int(end)))
        w = self._window(side, start, end)
        self._push_windows(side, self.windows_of(side) + (w,), f"add {side} {w.kind} window {start}-{end}")

    def move_window(self, side: str, start: int, end: int, new_start: int, new_end: int) -> None:
        """Move / resize the window ``start..end`` of a side to ``new_start..new_end``."""
        if (why := window_edit_reason(self.state.trial)):
            return self._refuse(why)
        old = self._find(side, start, end)
        new_start, new_end = sorted((int(new_start), int(new_end)))
        if old is None or (new_start, new_end) == (start, end):
            return None
        new = replace(old, start_frame=new_start, end_frame=new_end, peak_frame=None)
        self._push_windows(side, tuple(new if w is old else w for w in self.windows_of(side)),
                           f"move {side} {old.kind} window {start}-{end} -> {new_start}-{new_end}")

    def delete_window(self, side: str, start: int, end: int) -> None:
        """Delete the window ``start..end`` of a side of the selected trial."""
        if (why := window_edit_reason(self.state.trial)):
            return self._refuse(why)
        old = self._find(side, start, end)
        if old is None:
            return None
        self._push_windows(side, tuple(w for w in self.windows_of(side) if w is not old),
                           f"delete {side} {old.kind} window {start}-{end}")

    def reset_windows(self, side: str) -> None:
        """Go back to the detected windows of a side."""
        tv = self.state.trial
        before = self.user_windows(tv).get(side) if tv is not None else None
        if before is None:
            return None
        self.stack.push(_SetWindows(self, tv.name, side, before, None, f"detected {side} windows"))

    def _on_window_request(self, action: str, d: dict) -> None:
        if action == "add":
            self.add_window(d["side"], d["start"], d["end"])
        elif action == "move":
            self.move_window(d["side"], d["start"], d["end"], d["new_start"], d["new_end"])
        elif action == "delete":
            self.delete_window(d["side"], d["start"], d["end"])
        elif action == "reset":
            self.reset_windows(d["side"])

    def apply_windows(self, trial_name: str, side: str, windows: Optional[tuple]) -> None:
        """Set the user windows of one side (None = detected) and re-analyse in the background."""
        tv = self._select(trial_name)
        if tv is None:
            return
        user = self.user_windows(tv)
        if windows is None:
            user.pop(side, None)
        else:
            user[side] = tuple(windows)
        key = id(tv.trial)
        self._pending[key] = user
        gen = self._generation[key] = self._generation.get(key, 0) + 1
        self.state.update_trial(_interim(tv, side, windows))
        events = tuple(tv.events)
        settings = self._settings()
        self._run(trial_name, lambda progress, cancelled: _safe_reanalyse(tv, events, dict(user), settings),
                  lambda result: self._windows_done(key, gen, result))

    def _run(self, name: str, fn, on_done) -> None:
        runner = getattr(self.parent(), "runner", None)
        if runner is not None and not runner.busy:
            task = runner.run(f"re-analysing {name}", fn, on_done)
            task.signals.cancelled.connect(lambda: on_done(RuntimeError("cancelled")))
            return
        from app.workers import Task
        task = Task(fn)
        self._tasks.append(task)
        task.signals.finished.connect(lambda r, t=task: (self._tasks.remove(t), on_done(r)))
        QThreadPool.globalInstance().start(task)

    def _windows_done(self, key: int, gen: int, result: Any) -> None:
        if self._generation.get(key) != gen:
            return                       # a later edit superseded this result
        self._pending.pop(key, None)
        if isinstance(result, BaseException):
            return self._refuse(f"the re-analysis with the edited windows failed: {result}")
        self.state.replace_trial(result)
        emit(self.edited, result.name)


def _safe_reanalyse(tv: TrialView, events: tuple, windows: dict, settings: Any = None) -> Any:
    """:func:`app.engine.reanalyse` in a worker: an unexpected failure is returned, not raised
    (the edit's pending state must be cleared in the GUI thread)."""
    try:
        return reanalyse(tv, events, windows, settings)
    except Exception as exc:  # noqa: BLE001 - reported through EventEditor.message
        return exc


def _interim(tv: TrialView, side: str, windows: Optional[tuple]) -> TrialView:
    """The trial as shown while it is re-analysed: the side's new windows, and only the phases
    that still overlap one of them (None: the detected windows come back with the analysis)."""
    if windows is None:
        return tv
    cycles = tuple(c for c in tv.cycles if c.side != side or c.kind == "cycle")
    cycles += tuple(CycleSpan(side, i + 1, int(w.start_frame), int(w.end_frame), None, str(w.kind))
                    for i, w in enumerate(windows))
    phases = tuple(p for p in tv.phases if p.side != side or any(
        p.onset_frame <= w.end_frame and p.offset_frame >= w.start_frame for w in windows))
    return replace(tv, cycles=tuple(sorted(cycles, key=lambda c: (c.start_frame, c.side))), phases=phases)
