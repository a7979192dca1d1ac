"""The one application state (:class:`AppState`) that every widget observes.

It holds the open sessions, the selected session/trial/cycle and the current frame, and
emits a signal whenever one of them changes. Widgets never talk to each other directly:
they call the setters here and react to the signals. Only the GUI thread uses it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Optional

from app.qtcompat import emit
from PySide6.QtCore import QObject, Signal

from app.viewdata import CycleSpan, SessionView, TrialView


class AppState(QObject):
    """Open sessions, selection and current frame (C3D frame number).

    Signals
    -------
    sessionsChanged(): the list of sessions changed.
    trialChanged(object): the selected :class:`TrialView` (or None) changed.
    trialUpdated(object): the same trial changed content (events edited, re-analysed).
    frameChanged(int): the current C3D frame changed.
    cycleChanged(object): the selected :class:`CycleSpan` (or None) changed.
    windowEditRequested(str, object): a view asks for a task-window edit (action ``"add"``,
        ``"move"``, ``"delete"`` or ``"reset"``, and a dict of its details); the undoable
        command is made by :class:`app.events_edit.EventEditor`, which listens.
    """

    sessionsChanged = Signal()
    trialChanged = Signal(object)
    trialUpdated = Signal(object)
    frameChanged = Signal(int)
    cycleChanged = Signal(object)
    windowEditRequested = Signal(str, object)

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.sessions: list[SessionView] = []
        self.session: Optional[SessionView] = None
        self.trial: Optional[TrialView] = None
        self.cycle: Optional[CycleSpan] = None
        self.frame: int = 1

    # ------------------------------------------------------------------ sessions
    def add_sessions(self, sessions: list[SessionView]) -> None:
        """Add sessions. A session already open (same patient, label and folder/store) is
        replaced, except that single C3D files opened from a whole session that is open are
        merged into it (their trials replace the ones of the same name)."""
        first = None
        for s in sessions:
            old = next((o for o in self.sessions if o.key == s.key and o.path == s.path), None)
            if old is not None and s.raw_session is None and s.store_path is None and old.raw_session is not None:
                names = {t.name for t in s.trials}
                merged = tuple(next((n for n in s.trials if n.name == t.name), t) for t in old.trials)
                merged += tuple(t for t in s.trials if t.name not in {m.name for m in old.trials})
                s = replace(old, trials=merged)
                first = first or (s, next(t for t in merged if t.name in names))
            if old is not None:
                self.sessions[self.sessions.index(old)] = s
            else:
                self.sessions.append(s)
            first = first or ((s, s.trials[0]) if s.trials else None)
        emit(self.sessionsChanged)
        if first is not None:
            self.select_trial(*first)

    def close_session(self, session: SessionView) -> None:
        self.sessions = [s for s in self.sessions if s is not session]
        emit(self.sessionsChanged)
        if self.session is session:
            nxt = next((s for s in self.sessions if s.trials), None)
            self.select_trial(nxt, nxt.trials[0] if nxt is not None else None)

    def close_all(self) -> None:
        self.sessions = []
        self.select_trial(None, None)
        emit(self.sessionsChanged)

    # ------------------------------------------------------------------ selection
    def select_trial(self, session: Optional[SessionView], trial: Optional[TrialView]) -> None:
        if trial is self.trial and session is self.session:
            return
        self.session, self.trial, self.cycle = session, trial, None
        self.frame = trial.trial.first_frame if trial is not None else 1
        emit(self.trialChanged, trial)
        emit(self.cycleChanged, None)
        emit(self.frameChanged, self.frame)

    def select_cycle(self, cycle: Optional[CycleSpan]) -> None:
        self.cycle = cycle
        emit(self.cycleChanged, cycle)
        if cycle is not None:
            self.set_frame(cycle.start_frame)

    def update_trial(self, trial: TrialView) -> None:
        """Replace the selected trial's content (same trial, e.g. after an event edit)."""
        if self.session is not None:
            trials = tuple(trial if t.name == trial.name else t for t in self.session.trials)
            new = replace(self.session, trials=trials)
            self.sessions = [new if s is self.session else s for s in self.sessions]
            self.session = new
        self.trial = trial
        emit(self.trialUpdated, trial)

    def replace_trial(self, trial: TrialView) -> None:
        """Replace a trial's content in whichever open session holds it (same ``Trial``
        object), keeping the selection; the selected trial goes through :meth:`update_trial`."""
        if self.trial is not None and self.trial.trial is trial.trial:
            self.update_trial(trial)
            return
        for i, s in enumerate(self.sessions):
            if any(t.trial is trial.trial for t in s.trials):
                new = replace(s, trials=tuple(trial if t.trial is trial.trial else t for t in s.trials))
                self.sessions[i] = new
                if self.session is s:
                    self.session = new
                return

    def request_window_edit(self, action: str, **details) -> None:
        """Ask for a task-window edit of the selected trial (see ``windowEditRequested``)."""
        emit(self.windowEditRequested, action, dict(details))

    # ------------------------------------------------------------------ frames
    @property
    def frame_range(self) -> tuple[int, int]:
        if self.trial is None:
            return (1, 1)
        return self.trial.trial.first_frame, self.trial.trial.last_frame

    def set_frame(self, frame: int) -> None:
        """Go to a C3D frame (clamped to the trial); emits only on change."""
        lo, hi = self.frame_range
        frame = int(min(max(int(frame), lo), hi))
        if frame != self.frame:
            self.frame = frame
            emit(self.frameChanged, frame)

    @property
    def row(self) -> int:
        return self.frame - self.frame_range[0]
