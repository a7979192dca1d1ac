"""The work of one session: process, analyse, write the outputs atomically, optionally store.

:func:`run_session` runs in a worker process (a local pool or a dask worker). It never
raises for a data problem: a broken file becomes a failure of that trial (named with its
reason) and a session that cannot be processed at all comes back as ``failed``; what is
returned is a plain, picklable :class:`SessionResult`. Outputs are written into a hidden
temporary folder beside the target (``.<name>.batch-<id>.tmp``) with the manifest last,
then the folder is renamed into place, so an output folder is either complete or absent.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from core.analysis.types import AnalysisSettings
from core.batch.manifest import manifest_current, manifest_record, settings_digest, write_manifest
from core.errors import AnalysisError, GenuError, InsufficientEventsError
from core.gait.pipeline import ProcessingSettings

ANALYSIS_JSON = "analysis.json"
TMP_MARK = ".batch-"
TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class BatchSettings:
    """What every session of a batch is processed with (plain values, stored in the digest).

    processing, analysis: the engine settings. overrides: ``--set`` values as
    ``(name, value)`` pairs. store_dir: folder of the patient stores to import into, or None.
    """

    processing: ProcessingSettings = field(default_factory=ProcessingSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    overrides: tuple[tuple[str, float], ...] = ()
    store_dir: Optional[str] = None

    def __reduce__(self):
        # the analysis settings hold read-only mappings (not picklable): send plain dicts
        return (_rebuild_settings, (_plain(self.processing), _plain(self.analysis), self.overrides, self.store_dir))

    def digest(self) -> str:
        """Digest of what changes the outputs (the store folder does not)."""
        return settings_digest({"processing": self.processing, "analysis": self.analysis,
                                "overrides": [list(p) for p in self.overrides]})


def _plain(obj) -> dict:
    """A settings dataclass as keyword arguments (read-only mappings as dicts)."""
    from collections.abc import Mapping
    from dataclasses import fields
    return {f.name: (dict(v) if isinstance(v := getattr(obj, f.name), Mapping) else v) for f in fields(obj)}


def _rebuild_settings(processing: dict, analysis: dict, overrides, store_dir) -> BatchSettings:
    return BatchSettings(ProcessingSettings(**processing), AnalysisSettings(**analysis), overrides, store_dir)


@dataclass(frozen=True)
class SessionJob:
    """One task: the session folder, its output folder and its path relative to the root."""

    folder: str
    out_dir: str
    rel: str
    settings: BatchSettings
    resume: bool = False


@dataclass(frozen=True)
class SessionResult:
    """What one task did (plain values only, so it crosses process and network boundaries).

    status: ``"ok"``, ``"warnings"`` (some file, trial or step did not go through, or the
    engine raised quality warnings), ``"failed"`` (no output) or ``"skipped"`` (resume: the
    outputs are current). trials: dynamic trials processed; failures: ``(file, reason)``.
    warnings: other remarks. outputs: files written. seconds: wall time of the task.
    worker: ``host:pid``. peak_rss_mb: the worker's peak resident memory (MiB, NaN where
    unknown). timings_s: step -> seconds (discover, process, analyse, write, store).
    """

    rel: str
    status: str
    trials: int = 0
    failures: tuple[tuple[str, str], ...] = ()
    warnings: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    seconds: float = 0.0
    worker: str = ""
    peak_rss_mb: float = float("nan")
    timings_s: tuple[tuple[str, float], ...] = ()

    def record(self) -> dict:
        """The JSON-lines record of this task."""
        return {"session": self.rel, "status": self.status, "trials": self.trials,
                "failures": [list(f) for f in self.failures], "warnings": list(self.warnings),
                "outputs": list(self.outputs), "seconds": round(self.seconds, 4), "worker": self.worker,
                "peak_rss_mb": None if self.peak_rss_mb != self.peak_rss_mb else round(self.peak_rss_mb, 1),
                "timings_s": {k: round(v, 4) for k, v in self.timings_s}}


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (NaN where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return float("nan")
    import sys
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024.0


def _sha(path: Path) -> str:
    from core.gait.session import file_sha256
    return file_sha256(path)


def session_inputs(sf) -> dict[str, str]:
    """File name -> SHA-256 of everything a session's results depend on: its C3D files,
    its subject file and the patient file (``../patient.json`` is named so)."""
    inputs = dict(sf.sha256)
    if sf.subject_file is not None:
        inputs[sf.subject_file.name] = _sha(sf.subject_file)
    if sf.patient_file is not None:
        name = sf.patient_file.name if sf.patient_file.parent == sf.path else f"../{sf.patient_file.name}"
        inputs[name] = _sha(sf.patient_file)
    return inputs


def _write_trial(pt, folder: Path) -> Path:
    """The processed C3D of a trial (inputs copied, CGM1 outputs and events added), as
    ``genulab process`` writes it, with the flag of gap-filled samples when some were filled."""
    from core.io.c3d import write_processed_c3d
    from core.io.csv_out import filled_flag_parameters
    flag = None
    if pt.filled_mask is not None and pt.filled_mask.any():
        flag = filled_flag_parameters(pt.filled_mask, pt.trial.labels, pt.trial.first_frame,
                                      pt.settings.fill_gaps_max_frames)
    return write_processed_c3d(pt.source_path, folder / f"{pt.source_path.stem}.c3d", pt.written_outputs(),
                               events=pt.events, parameters=flag)


def _analyse(ps, settings: BatchSettings, label: str, warnings: list, failures: list):
    from core.analysis.session import analyze_session
    try:
        sa = analyze_session(ps, settings.analysis, label=label)
    except (AnalysisError, InsufficientEventsError) as exc:
        warnings.append(f"analysis not run: {exc}")
        return None
    failures.extend((n, r) for n, r in sa.failures if (n, r) not in failures and "not analysed" in r)
    return sa


def _store_path(settings: BatchSettings, sf) -> Path:
    pid = str((sf.patient or {}).get("patient_id") or sf.path.parent.name or sf.label)
    safe = "".join(c if c.isalnum() or c in "-_. " else "_" for c in pid).strip() or "patient"
    return Path(settings.store_dir) / f"{safe}.genu"


def _import(sf, settings: BatchSettings, deadline_s: float = 600.0) -> dict:
    """Import the session into its patient store; waits while another worker holds the store."""
    from core.errors import StoreError, StoreLockedError
    from core.store.importer import import_session
    from core.store.schema import INDEX_NAME
    target = _store_path(settings, sf)
    target.parent.mkdir(parents=True, exist_ok=True)
    t_end, wait = time.monotonic() + deadline_s, 0.2
    t_new = time.monotonic() + min(30.0, deadline_s)
    while True:
        existed = target.exists()
        try:
            res = import_session(sf.path, target, overrides=dict(settings.overrides) or None,
                                 settings=settings.processing)
            return {"status": "imported", "store": str(target), "added": len(res.added),
                    "report": list(res.report)}
        except StoreError as exc:
            # another worker holds the store, or is creating it (folder made, index not yet
            # written: give that a short while, a folder that stays without an index is damaged)
            creating = target.is_dir() and not (target / INDEX_NAME).exists() and time.monotonic() < t_new
            busy = isinstance(exc, StoreLockedError) or (not existed and target.exists()) or creating
            if not busy or time.monotonic() > t_end:
                return {"status": "failed", "store": str(target), "reason": str(exc)}
            time.sleep(wait)
            wait = min(2.0, wait * 1.5)


def _place(tmp: Path, target: Path) -> None:
    """Rename the finished temporary folder into place (an older output folder is replaced)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}{TMP_MARK}{uuid.uuid4().hex[:8]}.old{TMP_SUFFIX}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _without_path(message: str, path) -> str:
    """The reason alone: a GenuError's text starts with the file's path, named separately here."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _quality_warnings(ps) -> list[str]:
    return [f"{pt.source_path.name}: {q.message}" for pt in ps.trials for q in pt.quality.issues
            if q.severity in ("warning", "error")]


def _process_and_write(job: SessionJob, sf, timings: dict) -> SessionResult:
    from core.gait.pipeline import process_session
    from core.analysis.types import to_jsonable
    s = job.settings
    t = time.perf_counter()
    ps = process_session(sf, dict(s.overrides) or None, settings=s.processing)
    timings["process"] = time.perf_counter() - t
    failures = [(Path(p).name, _without_path(msg, p)) for p, msg in ps.failures]
    warnings = _quality_warnings(ps)
    if not ps.trials:
        return SessionResult(job.rel, "failed", 0, tuple(failures) or (("", "no dynamic trial"),), tuple(warnings))
    t = time.perf_counter()
    sa = _analyse(ps, s, sf.label, warnings, failures)
    timings["analyse"] = time.perf_counter() - t
    target = Path(job.out_dir)
    tmp = target.parent / f".{target.name or 'out'}{TMP_MARK}{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
    tmp.mkdir(parents=True)
    try:
        t = time.perf_counter()
        written = [_write_trial(pt, tmp) for pt in ps.trials]
        if sa is not None:
            (tmp / ANALYSIS_JSON).write_text(json.dumps(to_jsonable(sa), indent=2) + "\n", encoding="utf-8")
            written.append(tmp / ANALYSIS_JSON)
        timings["write"] = time.perf_counter() - t
        extra: dict[str, Any] = {"failures": [list(f) for f in failures], "warnings": warnings}
        if s.store_dir:
            t = time.perf_counter()
            extra["store"] = _import(sf, s)
            timings["store"] = time.perf_counter() - t
            if extra["store"]["status"] != "imported":
                warnings.append(f"store import failed: {extra['store']['reason']}")
        status = "warnings" if failures or warnings else "ok"
        outputs = {p.name: _sha(p) for p in written}
        write_manifest(tmp, manifest_record(session_inputs(sf), s.digest(), outputs, status, extra))
        _place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return SessionResult(job.rel, status, len(ps.trials), tuple(failures), tuple(warnings),
                         tuple(sorted(outputs)))


def run_session(job: SessionJob) -> SessionResult:
    """Do one session (see the module docstring); never raises for bad data."""
    from core.gait.session import discover_session
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        sf = discover_session(job.folder)
        timings["discover"] = time.perf_counter() - t0
        if job.resume:
            ok, _why = manifest_current(Path(job.out_dir), session_inputs(sf), job.settings.digest(),
                                        need_store=bool(job.settings.store_dir))
            if ok:
                res = SessionResult(job.rel, "skipped")
                return _finish(res, t0, timings)
        res = _process_and_write(job, sf, timings)
    except GenuError as exc:
        name = exc.path.name if exc.path is not None else ""
        res = SessionResult(job.rel, "failed", failures=((name, exc.reason),))
    except Exception as exc:  # noqa: BLE001 - an engine bug must not stop the other sessions
        res = SessionResult(job.rel, "failed", failures=(("", f"internal error: {type(exc).__name__}: {exc}"),))
    return _finish(res, t0, timings)


def _finish(res: SessionResult, t0: float, timings: dict) -> SessionResult:
    from dataclasses import replace
    return replace(res, seconds=time.perf_counter() - t0, worker=f"{socket.gethostname()}:{os.getpid()}",
                   peak_rss_mb=peak_rss_mb(), timings_s=tuple(timings.items()))
