"""Report inputs from a session folder or a patient store, with the 3D snapshots.

The one place where the report (``core.report``, headless, no VTK) meets the VTK scene
(``app.scene``): snapshots of the frontal view at peak valgus are rendered off screen here
and handed to the report as images. Used by ``genulab report``, ``genulab demo`` and the
app's export dialog, so the PDF is the same whichever way it is made.
"""
from __future__ import annotations

import collections.abc
import dataclasses
import logging
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator, Mapping, Optional, Sequence

import numpy as np

from core.errors import GenuError, ReportError
from core.report.inputs import PatientInfo, ReportOptions, SessionInfo, SessionReportInput

log = logging.getLogger(__name__)
Progress = Optional[Callable[[float, str], None]]
Cancelled = Optional[Callable[[], bool]]
SNAPSHOT_SIZE = (560, 680)
SNAPSHOT_ZOOM = 1.3   # frame the skeleton tighter than the app's default view


def _sub(progress: Progress, lo: float, hi: float) -> Progress:
    if progress is None:
        return None
    return lambda f, msg: progress(lo + (hi - lo) * float(f), msg)


def session_input_from_folder(folder: Path | str, overrides: Optional[Sequence[str] | Mapping[str, float]] = None,
                              patient: Optional[Mapping[str, object]] = None, progress: Progress = None,
                              cancelled: Cancelled = None, settings=None) -> SessionReportInput:
    """Process and analyse a session folder (static, dynamics, subject file; patient.json beside it).

    settings: ``core.gait.pipeline.ProcessingSettings`` (default ones when None)."""
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session

    processed = process_session(folder, overrides=overrides, progress=_sub(progress, 0.0, 0.8), cancelled=cancelled,
                                settings=settings)
    analysis = analyze_session(processed, progress=_sub(progress, 0.8, 1.0), cancelled=cancelled)
    sf = processed.folder
    pat = dict(patient or getattr(sf, "patient", None) or {})
    return SessionReportInput(patient=PatientInfo.from_mapping(pat),
                              session=SessionInfo.from_patient_record(sf.label, pat),
                              processed=processed, analysis=analysis)


def session_input_from_store(store_path: Path | str, session: str, progress: Progress = None,
                             cancelled: Cancelled = None) -> SessionReportInput:
    """Report input of a stored session (its saved results; nothing is recomputed)."""
    from core.store.store import open_store

    with open_store(store_path, "r") as store:
        info = store.session(session)
        record = store.load_session(session)
        if record.analysis is None:
            raise ReportError(f"session '{session}' has no analysis results; re-import it", store_path)
        trials, edits = [], {}
        dyn = [t for t in info.trials if not t.is_static]
        for k, t in enumerate(dyn):
            if cancelled is not None and cancelled():
                from core.errors import CancelledError
                raise CancelledError()
            if progress is not None:
                progress(k / max(len(dyn), 1), f"loading {t.name}")
            rec = store.load_trial(session, t.trial_id)
            if rec.processed is not None:
                trials.append(rec.processed)
            if rec.event_edits:
                edits[t.name] = len(rec.event_edits)
        pat = store.patient
    patient = PatientInfo(name=pat.name or "Unknown patient", patient_id=pat.patient_id or "-",
                          birth_date=pat.birth_date.isoformat() if pat.birth_date else "",
                          sex=pat.sex, height_mm=pat.height_mm, mass_kg=pat.mass_kg)
    sess = SessionInfo(label=info.label, date=info.date.isoformat() if info.date else "", condition=info.condition,
                       examiner=info.examiner, notes=info.notes)
    processed = SimpleNamespace(trials=tuple(trials), folder=None)
    return SessionReportInput(patient=patient, session=sess, processed=processed, analysis=record.analysis,
                              event_edits=edits)


def peak_frames(inp: SessionReportInput) -> dict[str, tuple[object, object, int]]:
    """``"task/side"`` -> (processed trial, trial analysis, frame) of the highest valgus phase peak."""
    best: dict[str, tuple[float, object, object, int]] = {}
    by_name = {pt.trial.name: pt for pt in getattr(inp.processed, "trials", ()) or ()}
    for ta in inp.analysis.trials:
        pt = by_name.get(ta.trial_name)
        if pt is None:
            continue
        for ph in ta.phases:
            key = f"{ta.task}/{ph.side}"
            if key not in best or ph.peak_value > best[key][0]:
                best[key] = (ph.peak_value, pt, ta, ph.peak_frame)
    return {k: (v[1], v[2], v[3]) for k, v in best.items()}


def with_snapshots(inp: SessionReportInput, size: tuple[int, int] = SNAPSHOT_SIZE) -> SessionReportInput:
    """The input with frontal 3D snapshots at peak valgus (rendered off screen by app.scene).

    If off-screen rendering is impossible on this machine the report is still made, without
    the pictures, and the reason is logged.
    """
    snaps: dict[str, np.ndarray] = dict(inp.snapshots)
    try:
        from app.scene import offscreen_window, render_snapshot
        todo = {k: v for k, v in peak_frames(inp).items() if k not in snaps}
        window = offscreen_window() if todo else None   # one OpenGL context for all snapshots
        try:
            for key, (pt, ta, frame) in todo.items():
                snaps[key] = np.asarray(render_snapshot(pt.trial, pt.outputs, ta, frame=frame, view="front",
                                                        size=size, fmt="array", zoom=SNAPSHOT_ZOOM,
                                                        window=window))
        finally:
            if window is not None:
                window.Finalize()
    except Exception as exc:  # noqa: BLE001 - rendering problems must not stop the report
        log.warning("3D snapshots not rendered: %s", exc)
    return dataclasses.replace(inp, snapshots=snaps)


class BackgroundSnapshots(collections.abc.Mapping):
    """The snapshots of :func:`with_snapshots`, rendered in a background thread.

    VTK releases the GIL while it renders, so the report pages that do not show snapshots are
    built meanwhile (core.report.build builds the snapshot pages last); reading the mapping
    waits for the thread. Rendering problems are logged and leave the mapping empty, as in
    :func:`with_snapshots`.
    """

    def __init__(self, inp: SessionReportInput, size: tuple[int, int] = SNAPSHOT_SIZE) -> None:
        self._snaps: dict[str, np.ndarray] = dict(inp.snapshots)
        self._thread = threading.Thread(target=self._render, args=(inp, size), name="report-snapshots", daemon=True)
        self._thread.start()

    def _render(self, inp: SessionReportInput, size: tuple[int, int]) -> None:
        self._snaps = dict(with_snapshots(inp, size).snapshots)   # logs and skips what fails

    def _done(self) -> dict[str, np.ndarray]:
        self._thread.join()
        return self._snaps

    def __getitem__(self, key: str) -> np.ndarray:
        return self._done()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._done())

    def __len__(self) -> int:
        return len(self._done())


def write_session_report(inp: SessionReportInput, pdf: Path | str, opts: Optional[ReportOptions] = None,
                         snapshots: bool = True, progress: Progress = None, cancelled: Cancelled = None) -> Path:
    """The single-session PDF (with snapshots unless ``snapshots`` is False)."""
    if snapshots:   # started first: the report's imports overlap the rendering
        inp = dataclasses.replace(inp, snapshots=BackgroundSnapshots(inp))
    from core.report.build import build_session_report
    return build_session_report(inp, pdf, opts, progress=progress, cancelled=cancelled)


def write_comparison_report(pre: SessionReportInput, post: SessionReportInput, pdf: Path | str,
                            opts: Optional[ReportOptions] = None, snapshots: bool = True,
                            progress: Progress = None, cancelled: Cancelled = None) -> Path:
    """The pre/post comparison PDF (comparison computed here from the two analyses)."""
    from core.analysis.comparison import compare_sessions
    from core.report.build import build_comparison_report
    if pre.patient.patient_id != post.patient.patient_id and "-" not in (pre.patient.patient_id, post.patient.patient_id):
        where = [getattr(getattr(i.processed, "folder", None), "path", None) or f"session '{i.session.label}'"
                 for i in (pre, post)]
        raise GenuError(f"cannot compare sessions of two patients ({pre.patient.patient_id} in {where[0]}, "
                        f"{post.patient.patient_id} in {where[1]})")
    comparison = compare_sessions(pre.analysis, post.analysis)
    if snapshots:
        post = dataclasses.replace(post, snapshots=BackgroundSnapshots(post))
    return build_comparison_report(pre, post, comparison, pdf, opts, progress=progress, cancelled=cancelled)
