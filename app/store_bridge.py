"""The app's use of the patient store (``core.store``): load sessions, save event edits.

Kept apart so that the rest of the app depends on the store's API in one place. Loading
runs in the worker; saving an edit rewrites only that trial (``PatientStore.update_trial``,
atomic) with its events (source ``"edited"``) and the :class:`core.store.EventEdit` log,
and its task windows edited by the user (``TrialRecord.windows``, ``window_source`` =
``"edited"``, with the :class:`core.store.schema.WindowEdit` log).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable, Optional, Sequence

from core.errors import CancelledError, GenuError, StoreError
from core.model import GaitEvent
from app.adapters import trial_view
from app.viewdata import SessionView, TrialView


def load_store_sessions(path: Path, progress: Callable[[float, str], None],
                        cancelled: Callable[[], bool]) -> list[SessionView]:
    """Every session of a patient store as :class:`SessionView` (trials, outputs, analysis)."""
    from core.store import PatientStore
    store = PatientStore.open(path, "r")
    try:
        patient = store.patient.name or store.patient.patient_id or Path(path).stem
        out = []
        total = max(store.n_trials(), 1)
        done = 0
        for s in store.sessions:
            views = []
            for t in s.trials:
                if cancelled():
                    raise CancelledError()
                done += 1
                if t.is_static:
                    continue
                progress(done / total, f"loading {s.label}/{t.name}")
                rec = store.load_trial(s.session_id, t.name)
                proc = rec.processed
                trial = proc.trial if proc is not None else rec.raw
                views.append(trial_view(trial, rec.outputs, rec.analysis, proc, rec.events or None))
            srec = store.load_session(s.session_id)
            analysis = _age_checked(srec.analysis, store.patient, s.date)
            cal = srec.calibration
            out.append(SessionView(patient, s.label, tuple(views), Path(path),
                                   getattr(cal, "subject", None) if cal is not None else None,
                                   Path(s.static_trial).stem if s.static_trial else "", None, analysis,
                                   tuple(store.notes) + tuple(srec.import_report[:3]), Path(path), s.session_id))
        return out
    finally:
        store.close()


def _age_checked(analysis, patient, session_date):
    """A stored analysis with the normative age check (made now if it predates the check)."""
    from core.analysis.norm_choice import with_age_check
    age = patient.age_at(session_date)
    if age is not None:
        basis = "from the store's patient record"
    else:
        basis = "birth date unknown" if patient.birth_date is None and patient.age_years is None else "session date unknown"
    return with_age_check(analysis, age, basis)


def event_edits(before: Sequence[GaitEvent], after: Sequence[GaitEvent], source: str = "app") -> list:
    """The :class:`core.store.EventEdit` log from one event list to another.

    A removed and an added event of the same label and side make one ``move``.
    """
    from core.store import EventEdit
    removed = [e for e in before if e not in after]
    added = [e for e in after if e not in before]
    edits = []
    for e in list(removed):
        twin = next((a for a in added if a.label == e.label and a.context == e.context), None)
        if twin is not None:
            edits.append(EventEdit("move", e, twin, source))
            removed.remove(e)
            added.remove(twin)
    edits += [EventEdit("delete", e, None, source) for e in removed]
    edits += [EventEdit("add", None, a, source) for a in added]
    return edits


def window_edits(before: Sequence, after: Sequence, side: str, source: str = "app") -> list:
    """The :class:`core.store.schema.WindowEdit` log from one side's windows to another.

    Windows are compared by their frames; a removed window overlapping an added one makes
    one ``move``.
    """
    from core.store.schema import WindowEdit
    span = lambda w: (int(w.start_frame), int(w.end_frame))  # noqa: E731
    removed = [w for w in before if span(w) not in {span(a) for a in after}]
    added = [w for w in after if span(w) not in {span(b) for b in before}]
    edits = []
    for w in list(removed):
        twin = next((a for a in added if a.start_frame <= w.end_frame and a.end_frame >= w.start_frame), None)
        if twin is not None:
            edits.append(WindowEdit("move", side, w, twin, source))
            removed.remove(w)
            added.remove(twin)
    edits += [WindowEdit("delete", side, w, None, source) for w in removed]
    edits += [WindowEdit("add", side, None, w, source) for w in added]
    return edits


def _windows_update(rec, analysis) -> tuple[dict, list]:
    """(side -> user windows, window edits) of a trial's current analysis vs. its stored record."""
    from app.engine import edited_windows
    user = edited_windows(analysis)
    old_user = dict(getattr(rec, "windows", None) or {})
    stored = getattr(rec.analysis, "windows", None) or {}
    current = getattr(analysis, "windows", None) or {}
    edits = []
    for side in sorted(set(user) | set(old_user)):
        before = old_user.get(side, stored.get(side, ()))
        after = user.get(side, current.get(side, ()))
        edits += window_edits(before, after, side)
    return user, edits


def save_edited_events(session: Optional[SessionView], trial: Optional[TrialView]) -> str:
    """Save the trial's events (edited ones carry source "edited") to the session's store."""
    if session is None or trial is None:
        raise GenuError("no trial selected")
    if session.store_path is None:
        raise StoreError("this session was not opened from a patient store: import it first "
                         "(genulab import FOLDER --patient STORE), then open the store", session.path)
    from core.gait.cycles import all_cycles
    from core.store import PatientStore
    store = PatientStore.open(session.store_path, "a")
    try:
        rec = store.load_trial(session.store_session, trial.name)
        edits = event_edits(rec.events, trial.events)
        user, wedits = _windows_update(rec, trial.raw_analysis)
        if not edits and not wedits:
            return "The stored events and task windows are already up to date"
        events = tuple(trial.events)
        proc = rec.processed
        if proc is not None:
            proc = replace(proc, events=events, cycles=all_cycles(events))
        new = replace(rec, processed=proc, events=events, event_edits=tuple(rec.event_edits) + tuple(edits),
                      analysis=trial.raw_analysis if trial.raw_analysis is not None else rec.analysis,
                      windows=user, window_source={s: "edited" for s in user},
                      window_edits=tuple(rec.window_edits) + tuple(wedits))
        store.update_trial(session.store_session, new)
    finally:
        store.close()
    what = f"{len(edits)} event edit(s)" + (f" and {len(wedits)} task-window edit(s)" if wedits else "")
    return f"Saved {what} of {trial.name} to {Path(session.store_path).name}"
