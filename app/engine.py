"""The app's single door to the engine: open files, folders and stores; (re)analyse.

Everything here runs in a worker thread (:mod:`app.workers`): plain functions taking the
core's ``progress(fraction, message)`` and ``cancelled()`` callables and returning
:class:`app.viewdata.SessionView` records. No Qt, no VTK.

Engine parts are used when present (``core.gait.pipeline``, ``core.gait.session``, ``core.analysis``,
``core.store``); a C3D processed by Vicon is always shown with the outputs stored in it.
"""
from __future__ import annotations

import importlib
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from core.errors import CancelledError, GenuError
from core.model import GaitEvent, Trial
from app.adapters import trial_view
from app.viewdata import SessionView, TrialView

Progress = Callable[[float, str], None]
Cancelled = Callable[[], bool]
C3D_SUFFIXES = (".c3d",)
STORE_SUFFIXES = (".genu", ".h5", ".hdf5")
STATIC_WORDS = ("static", "cal")


def optional(module: str, name: str) -> Optional[Callable]:
    """``module.name`` if that engine part exists (it may land later), else None."""
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None)


def _noop_progress(fraction: float, message: str) -> None:  # pragma: no cover
    return None


def _never() -> bool:
    return False


def read_trial(path: Path) -> Trial:
    """Read one C3D (raises ``C3DReadError`` naming the file)."""
    from core.io.c3d import read_c3d
    return read_c3d(Path(path))


def is_static_name(path: Path) -> bool:
    stem = Path(path).stem.lower()
    return any(w in stem for w in STATIC_WORDS)


def classify(path: Path) -> str:
    """``"c3d"``, ``"folder"``, ``"store"`` or raise GenuError for anything else."""
    p = Path(path)
    if not p.exists():
        raise GenuError("no such file or folder", p)
    if p.is_dir():
        if (p / "index.h5").exists() or p.suffix.lower() == ".genu":
            return "store"
        return "folder"
    if p.suffix.lower() in C3D_SUFFIXES:
        return "c3d"
    if p.suffix.lower() in STORE_SUFFIXES:
        return "store"
    raise GenuError(f"cannot open {p.suffix or 'this kind of'} file (expected .c3d, a session folder or a .genu store)", p)


# ------------------------------------------------------------------------- analysis
def analyse_trials(views: Sequence[TrialView], label: str, processed_session: Any = None) -> tuple[tuple[TrialView, ...], Any]:
    """Run the clinical analysis (``core.analysis``) on processed trials when available."""
    analyze_session = optional("core.analysis.session", "analyze_session")
    processed = [v.raw_processed for v in views if v.raw_processed is not None]
    if analyze_session is None or not processed:
        return tuple(views), None
    arg = processed_session if processed_session is not None else processed
    try:
        session = analyze_session(arg, label=label)
    except CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - the trials are still shown, with the reason
        if not isinstance(exc, GenuError):
            import logging
            logging.getLogger("genulab.app").exception("analysis failed")
            exc = GenuError(f"the analysis failed ({type(exc).__name__}: {exc})")
        return tuple(TrialView(v.trial, v.outputs, v.source, v.events, v.cycles, (), v.metrics, v.task,
                               v.task_side, v.raw_processed, None, v.kinetics) for v in views), exc
    out = []
    for v in views:
        ta = next((t for t in getattr(session, "trials", ()) if t.trial_name == v.name), None)
        out.append(trial_view(v.trial, v.outputs, ta, v.raw_processed, v.events) if ta is not None else v)
    return tuple(out), session


def _plain_views(paths: Sequence[Path], progress: Progress, cancelled: Cancelled) -> list[TrialView]:
    views = []
    for i, p in enumerate(paths):
        if cancelled():
            raise CancelledError()
        progress(i / max(len(paths), 1), f"reading {p.name}")
        views.append(trial_view(read_trial(p)))
    return views


def processing_settings(filter_hz: float = 0.0):
    """The engine's ``ProcessingSettings`` for the app's options (None if the pipeline is absent).

    filter_hz: low-pass cut-off (Hz) of the dynamic trials' markers, 0 = off (Settings >
    Marker filter; the same option as ``--filter`` of the commands)."""
    cls = optional("core.gait.pipeline", "ProcessingSettings")
    return None if cls is None else cls(filter_markers_hz=float(filter_hz or 0.0))


def open_c3d(path: Path, progress: Progress = _noop_progress, cancelled: Cancelled = _never,
             overrides: Optional[dict] = None, filter_hz: float = 0.0) -> SessionView:
    """One C3D -> a session of one trial (processed with a static beside it when possible).

    filter_hz: marker low-pass cut-off (Hz) before the model, 0 = off."""
    path = Path(path)
    folder = path.parent
    process_trial = optional("core.gait.pipeline", "process_trial")
    statics = best_statics(path)
    progress(0.05, f"reading {path.name}")
    trial = read_trial(path)
    notes: tuple[str, ...] = ()
    if process_trial is not None and statics and not is_static_name(path):
        progress(0.2, f"processing {path.name} with {statics[0].name}")
        try:
            pt = process_trial(trial, static=statics[0], overrides=overrides,
                               settings=processing_settings(filter_hz),
                               progress=_sub(progress, 0.2, 0.8), cancelled=cancelled)
        except CancelledError:
            raise
        except GenuError as exc:     # shown with the file's own outputs, and the reason
            notes = (f"not processed with {statics[0].name}: {exc.reason}",)
        else:
            views, analysis = analyse_trials([trial_view(pt)], folder.name)
            notes = (f"analysis not available: {analysis.reason}",) if isinstance(analysis, GenuError) else ()
            return SessionView(_patient_of(folder), folder.name, views, folder, getattr(pt, "subject", None),
                               statics[0].stem, None, None if notes else analysis, notes)
    return SessionView(_patient_of(folder), folder.name, (trial_view(trial),), folder, notes=notes)


def _tokens(name: str) -> set[str]:
    import re
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if t and t not in STATIC_WORDS
            and t not in ("motion", "calibration", "walk", "trial")}


def best_statics(path: Path) -> list[Path]:
    """Static trials beside a dynamic one, best name match first (shared name tokens)."""
    path = Path(path)
    cands = [p for p in sorted(path.parent.iterdir()) if p.suffix.lower() in C3D_SUFFIXES
             and is_static_name(p) and p != path]
    mine = _tokens(path.stem)
    return sorted(cands, key=lambda p: (-len(_tokens(p.stem) & mine), len(p.stem)))


def _sub(progress: Progress, a: float, b: float) -> Progress:
    return lambda f, m: progress(a + (b - a) * float(f), m)


def _session_dates(patient_folder: Path) -> dict[str, str]:
    """Session label -> ISO date from a patient folder's ``patient.json`` (chronological order)."""
    import json
    p = Path(patient_folder) / "patient.json"
    try:
        sessions = json.loads(p.read_text(encoding="utf-8")).get("sessions", {}) if p.exists() else {}
        return {k: str(v.get("date", "")) for k, v in sessions.items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def _patient_name(sf: Any, folder: Path) -> str:
    """Patient name from the session folder's ``patient.json`` (name or id), else the parent folder."""
    info = getattr(sf, "patient", None) or {}
    for key in ("name", "patient_name", "id", "patient_id"):
        if info.get(key):
            return str(info[key])
    return _patient_of(folder)


def _patient_of(folder: Path) -> str:
    """Patient name of a session folder: ``name`` in the ``patient.json`` beside it or one
    level up (``patient/patient.json``, ``patient/pre/``), else the parent folder's name."""
    import json
    folder = Path(folder).resolve()
    for p in (folder / "patient.json", folder.parent / "patient.json"):
        try:
            name = json.loads(p.read_text(encoding="utf-8")).get("name") if p.exists() else None
        except (OSError, ValueError, AttributeError):
            name = None
        if name:
            return str(name)
    return folder.parent.name or "Patient"


def open_folder(folder: Path, progress: Progress = _noop_progress, cancelled: Cancelled = _never,
                overrides: Optional[dict] = None, filter_hz: float = 0.0) -> list[SessionView]:
    """A session folder (static + dynamics) or a patient folder holding session folders.

    filter_hz: marker low-pass cut-off (Hz) before the model, 0 = off."""
    folder = Path(folder)
    c3ds = sorted(p for p in folder.iterdir() if p.suffix.lower() in C3D_SUFFIXES)
    subdirs = sorted(p for p in folder.iterdir() if p.is_dir() and any(p.glob("*.[cC]3[dD]")))
    if not c3ds and subdirs:
        subdirs = sorted(subdirs, key=lambda d: (_session_dates(folder).get(d.name, "9999"), d.name))
        out = []
        for i, d in enumerate(subdirs):
            out += open_folder(d, _sub(progress, i / len(subdirs), (i + 1) / len(subdirs)), cancelled, overrides,
                               filter_hz)
        return out
    if not c3ds:
        raise GenuError("the folder holds no C3D file", folder)
    process_session = optional("core.gait.pipeline", "process_session")
    ps = None
    notes: tuple[str, ...] = ()
    if process_session is not None:
        try:
            ps = process_session(folder, overrides=overrides, progress=_sub(progress, 0.0, 0.85), cancelled=cancelled,
                                 settings=processing_settings(filter_hz))
        except CancelledError:
            raise
        except GenuError as exc:
            notes = (f"not processed: {exc.reason}",)
    if ps is not None:
        views = [trial_view(pt) for pt in ps.trials]
        progress(0.9, "analysing valgus")
        views, analysis = analyse_trials(views, folder.name, ps)
        sf = getattr(ps, "folder", None)
        cal = getattr(ps, "calibration", None)
        static = getattr(sf, "static", None)
        if isinstance(analysis, GenuError):
            notes, analysis = notes + (f"analysis not available: {analysis.reason}",), None
        notes += tuple(f"{Path(f).name}: {m}" for f, m in getattr(ps, "failures", ()))
        return [SessionView(_patient_name(sf, folder), str(getattr(sf, "label", None) or folder.name),
                            tuple(views), folder, getattr(cal, "subject", None),
                            Path(static).stem if static else "", ps, analysis, notes)]
    dyn = [p for p in c3ds if not is_static_name(p)] or c3ds
    return [SessionView(_patient_of(folder), folder.name, tuple(_plain_views(dyn, progress, cancelled)), folder,
                        notes=notes + ("shown with the outputs stored in the files (no static trial processed)",))]


def open_store(path: Path, progress: Progress = _noop_progress, cancelled: Cancelled = _never) -> list[SessionView]:
    """A patient store (``core.store``): every session with its trials and analysis."""
    loader = optional("app.store_bridge", "load_store_sessions")
    if loader is None:
        raise GenuError("patient stores cannot be opened: core.store is not available", path)
    return loader(Path(path), progress, cancelled)


def open_paths(paths: Sequence[Path | str], progress: Progress = _noop_progress,
               cancelled: Cancelled = _never, overrides: Optional[dict] = None,
               filter_hz: float = 0.0) -> list[SessionView]:
    """Open several paths (C3D files, session folders, stores) -> sessions, in order.

    filter_hz: marker low-pass cut-off (Hz) for raw C3D files and folders, 0 = off (a store's
    sessions keep the settings they were processed with).

    C3D files of the same folder are grouped into one session.
    """
    out: list[SessionView] = []
    paths = [Path(p) for p in paths]
    n = max(len(paths), 1)
    for i, p in enumerate(paths):
        if cancelled():
            raise CancelledError()
        sub = _sub(progress, i / n, (i + 1) / n)
        kind = classify(p)
        if kind == "c3d":
            sv = open_c3d(p, sub, cancelled, overrides, filter_hz)
            same = next((s for s in out if s.path == sv.path and s.raw_session is None), None)
            if same is not None:
                out[out.index(same)] = replace(same, trials=same.trials + sv.trials)
                continue
            out.append(sv)
        elif kind == "folder":
            out += open_folder(p, sub, cancelled, overrides, filter_hz)
        else:
            out += open_store(p, sub, cancelled)
    progress(1.0, "done")
    return out


def edited_windows(analysis: Any) -> dict:
    """Side -> task windows the user edited in a ``TrialAnalysis`` (``window_source == "edited"``)."""
    if analysis is None:
        return {}
    src = getattr(analysis, "window_source", None) or {}
    wins = getattr(analysis, "windows", None) or {}
    return {s: tuple(wins.get(s, ())) for s, v in src.items() if v == "edited"}


def reanalyse(view: TrialView, events: Sequence[GaitEvent], windows: Optional[dict] = None,
              settings: Any = None) -> TrialView:
    """The trial with new events: cycles and (when the engine allows) the analysis redone.

    windows: side -> task windows set by the user (``core.analysis.TaskWindow``), used
    instead of the detected ones (``{}``: all detected); None keeps the user windows of the
    current analysis (an event edit does not lose a window edit). Whenever windows are
    involved the trial keeps its task decision and thigh offsets. settings: the
    ``AnalysisSettings`` to use (e.g. the session analysis' own), default ones if None.
    """
    analyze_trial = optional("core.analysis.trial", "analyze_trial")
    processed = view.raw_processed
    analysis = None
    prev = view.raw_analysis
    explicit = windows is not None
    if not explicit:
        windows = edited_windows(prev)
    kwargs: dict = {} if settings is None else {"settings": settings}
    if (windows or explicit) and prev is not None:
        kwargs.update(decision=getattr(prev, "decision", None),
                      thigh_offsets=dict(getattr(prev, "corrected_offset_deg", None) or {}))
    if windows:
        kwargs["windows"] = dict(windows)
    if analyze_trial is not None and processed is not None:
        try:
            from core.gait.cycles import all_cycles
            processed = replace(processed, events=tuple(events), cycles=all_cycles(events))
            analysis = analyze_trial(processed, **kwargs)
        except (TypeError, ValueError, GenuError):
            analysis = None
    base = TrialView(view.trial, view.outputs, view.source, tuple(events), (), (), {}, view.task,
                     view.task_side, processed, None)
    tv = trial_view(base.trial, base.outputs, analysis, processed, tuple(events))
    if analysis is None and view.raw_analysis is not None:
        # keep the previous phases (they depend on the windows, flagged as stale by the UI)
        tv = TrialView(tv.trial, tv.outputs, view.source, tv.events, tv.cycles, view.phases, view.metrics,
                       view.task, view.task_side, processed, view.raw_analysis, view.kinetics)
    return TrialView(tv.trial, tv.outputs, view.source, tv.events, tv.cycles, tv.phases, tv.metrics,
                     tv.task or view.task, tv.task_side or view.task_side, tv.raw_processed, tv.raw_analysis,
                     tv.kinetics)


def window_edit_reason(view: Optional[TrialView]) -> str:
    """Why the task windows of a trial cannot be edited ("" when they can).

    Windows can be edited on an analysed, processed non-walking trial (walking stance
    windows come from the foot strikes and foot offs: edit those events instead).
    """
    if view is None:
        return "no trial selected"
    if view.raw_processed is None or view.raw_analysis is None:
        return "the trial has no analysis (process it with a static trial first)"
    if getattr(view.raw_analysis, "task", "") == "walk":
        return "walking stance windows come from the events: edit the foot strikes and foot offs"
    return ""
