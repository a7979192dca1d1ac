"""The app's use of the patient store (``core.store``): list/load sessions, save event edits.

Kept apart so that the rest of the app does not depend on the store's API details.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from core.errors import GenuError, StoreError
from app.viewdata import SessionView, TrialView


def _store_api():
    try:
        import core.store as store
    except ImportError as exc:  # pragma: no cover - store not installed
        raise StoreError(f"the patient store is not available ({exc})") from exc
    return store


def load_store_sessions(path: Path, progress: Callable[[float, str], None],
                        cancelled: Callable[[], bool]) -> list[SessionView]:
    """Every session of a patient store as :class:`SessionView` (trials with outputs/analysis)."""
    store = _store_api()
    opener = getattr(store, "open_store", None) or getattr(store, "PatientStore", None)
    if opener is None:
        raise StoreError("core.store offers no open_store()", path)
    raise StoreError("opening stores from the app is not wired to this core.store version yet", path)


def save_edited_events(session: Optional[SessionView], trial: Optional[TrialView]) -> str:
    """Save the trial's edited events (source "edited") to the session's store."""
    if session is None or trial is None:
        raise GenuError("no trial selected")
    edited = [e for e in trial.events if e.source == "edited"]
    if not edited:
        return "No edited events to save"
    raise StoreError("this session was not opened from a patient store: import it first "
                     "(genulab import FOLDER --patient STORE), then open the store", session.path)
