"""Run the session tasks of an archive over an engine, never losing work.

:func:`run_batch` finds the sessions, submits :func:`core.batch.task.run_session` for each
(at most a few per worker in flight, so a cancel is quick and 10^5 futures never pile up),
logs every result as a JSON line, reports progress, and returns a :class:`BatchSummary`.
Ctrl+C (KeyboardInterrupt) or ``cancelled()`` stops it cleanly: nothing new is started,
queued tasks are cancelled, running ones finish (their output folders are complete) and
leftover temporary folders are removed; the summary says the run was interrupted.
"""
from __future__ import annotations

import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from core.batch.discover import SessionEntry, find_sessions, nested_sessions, output_folder
from core.batch.log import JsonLinesLog
from core.batch.task import TMP_MARK, TMP_SUFFIX, BatchSettings, SessionJob, SessionResult, run_session
from core.errors import GenuError

STATUSES = ("ok", "warnings", "failed", "skipped")


@dataclass(frozen=True)
class BatchProgress:
    """Where a run is: sessions done of total, trials processed, C3D files seen of total
    (the static included), seconds so far, and the estimated seconds left (NaN at first)."""

    sessions_done: int
    sessions_total: int
    trials_done: int
    files_done: int
    files_total: int
    elapsed_s: float
    eta_s: float
    last: Optional[SessionResult] = None

    @property
    def fraction(self) -> float:
        return self.files_done / self.files_total if self.files_total else 1.0


@dataclass(frozen=True)
class BatchSummary:
    """The outcome of a run: one result per finished session, whether it was interrupted,
    the sessions never run, the wall time and the engine used."""

    results: tuple[SessionResult, ...]
    interrupted: bool
    not_run: tuple[str, ...] = ()
    elapsed_s: float = 0.0
    engine: str = ""
    counts: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = {s: 0 for s in STATUSES}
        for r in self.results:
            c[r.status] += 1
        object.__setattr__(self, "counts", c)

    @property
    def trials(self) -> int:
        return sum(r.trials for r in self.results)

    @property
    def trials_per_s(self) -> float:
        return self.trials / self.elapsed_s if self.elapsed_s > 0 else float("nan")

    def table_lines(self) -> list[str]:
        """The summary table (sessions by status, trials, failures named)."""
        c = self.counts
        rows = [("sessions ok", c["ok"]), ("sessions with warnings", c["warnings"]),
                ("sessions failed", c["failed"]), ("sessions skipped (resume: up to date)", c["skipped"])]
        if self.not_run:
            rows.append(("sessions not run (interrupted)", len(self.not_run)))
        rows += [("trials processed", self.trials),
                 ("trial failures", sum(len(r.failures) for r in self.results))]
        width = max(len(k) for k, _ in rows)
        out = [f"{k:<{width}}  {v:>7}" for k, v in rows]
        out.append(f"{'time':<{width}}  {self.elapsed_s:>6.1f} s  ({self.trials_per_s:.2f} trials/s, {self.engine})")
        failures = [(r.rel, f, why) for r in self.results for f, why in r.failures]
        if failures:
            out.append("")
            out.append("failures (session, file, reason):")
            out += [f"  {rel}  {f or '-'}  {why}" for rel, f, why in failures]
        if self.interrupted:
            out.append("")
            out.append("interrupted: the sessions not run can be done with --resume")
        return out


def remove_temp_folders(out: Path) -> list[Path]:
    """Remove the temporary folders a killed task left under ``out``; returns them."""
    gone = []
    if not out.is_dir():
        return gone
    for here, dirs, _files in os.walk(out):
        for d in list(dirs):
            if d.startswith(".") and TMP_MARK in d and d.endswith(TMP_SUFFIX):
                shutil.rmtree(Path(here) / d, ignore_errors=True)
                gone.append(Path(here) / d)
                dirs.remove(d)
    return gone


def plan(root: Path, out: Path) -> list[SessionEntry]:
    """The sessions to run (GenuError when none, or when a session lies inside another)."""
    entries = find_sessions(root, exclude=[out])
    if not entries:
        raise GenuError("no session folder (no C3D file) under the archive folder", root)
    nested = nested_sessions(entries)
    if nested:
        raise GenuError(f"session folder {nested[1]!r} lies inside session folder {nested[0]!r}: "
                        "their outputs would overlap; run the batch on each separately", root)
    return entries


def run_batch(root: Path | str, out: Path | str, engine, settings: BatchSettings = BatchSettings(),
              resume: bool = False, log_path: Optional[Path | str] = None,
              on_progress: Optional[Callable[[BatchProgress], None]] = None,
              cancelled: Optional[Callable[[], bool]] = None, in_flight_per_worker: int = 2,
              entries: Optional[Sequence[SessionEntry]] = None) -> BatchSummary:
    """Process and analyse every session under ``root`` into ``out`` (see the module docstring).

    Parameters
    ----------
    root, out: the archive and the output folder (mirrors ``root``).
    engine: a :mod:`core.batch.engines` engine (the caller closes it).
    settings: processing/analysis settings and the store folder. resume: skip sessions
        whose outputs are current. log_path: the JSON-lines log (None: no log).
    on_progress: called after each finished session. cancelled: polled; True stops the run.
    in_flight_per_worker: tasks submitted ahead per worker.
    """
    root, out = Path(root), Path(out)
    entries = list(entries) if entries is not None else plan(root, out)
    out.mkdir(parents=True, exist_ok=True)
    remove_temp_folders(out)
    log = JsonLinesLog(log_path)
    log.write("start", {"root": str(root), "out": str(out), "engine": engine.describe(),
                        "sessions": len(entries), "resume": resume, "settings_digest": settings.digest()})
    t0 = time.perf_counter()
    results: list[SessionResult] = []
    pending = {}
    queue = list(reversed(entries))
    files_total = sum(e.n_c3d for e in entries)
    files_done = 0
    interrupted = False
    limit = max(1, engine.workers * in_flight_per_worker)
    try:
        while queue or pending:
            if cancelled is not None and cancelled():
                interrupted = True
                break
            while queue and len(pending) < limit:
                e = queue.pop()
                job = SessionJob(str(e.path), str(output_folder(out, e.rel)), e.rel, settings, resume)
                pending[engine.submit(run_session, job)] = e
            for fut in engine.wait(pending, timeout=0.25):
                e = pending.pop(fut)
                res = _result_of(fut, e)
                results.append(res)
                files_done += e.n_c3d
                log.write("task", res.record())
                if on_progress is not None:
                    on_progress(_progress(results, len(entries), files_done, files_total, t0, res))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if interrupted or pending:
            results += _drain(engine, pending, log)
        remove_temp_folders(out)
    done = {r.rel for r in results}
    summary = BatchSummary(tuple(results), interrupted, tuple(e.rel for e in entries if e.rel not in done),
                           time.perf_counter() - t0, engine.describe())
    log.write("end", {**summary.counts, "trials": summary.trials, "interrupted": interrupted,
                      "not_run": len(summary.not_run), "seconds": round(summary.elapsed_s, 3)})
    log.close()
    return summary


def _result_of(fut, e: SessionEntry) -> SessionResult:
    """The task's result; a worker that died or a lost future is a failed session, not a crash."""
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, dask KilledWorker, CancelledError ...
        return SessionResult(e.rel, "failed", failures=(("", f"task lost: {type(exc).__name__}: {exc}"),))


def _drain(engine, pending: dict, log: JsonLinesLog) -> list[SessionResult]:
    """On a stop: cancel what has not started and collect what still runs."""
    running = engine.cancel(list(pending))
    out = []
    for fut in list(pending):
        if fut in running:
            try:
                res = fut.result()
            except BaseException as exc:  # noqa: BLE001
                res = SessionResult(pending[fut].rel, "failed", failures=(("", f"interrupted: {type(exc).__name__}"),))
            out.append(res)
            log.write("task", res.record())
    pending.clear()
    return out


def _progress(results, total, files_done, files_total, t0, last) -> BatchProgress:
    elapsed = time.perf_counter() - t0
    eta = elapsed / files_done * (files_total - files_done) if files_done else float("nan")
    return BatchProgress(len(results), total, sum(r.trials for r in results), files_done, files_total,
                         elapsed, eta, last)


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


def progress_line(p, width: int = 24) -> str:
    """``[#####.....]  3/12 sessions  18 trials  2.1 trials/s  ETA 00:41`` for a BatchProgress."""
    filled = int(round(width * p.fraction))
    rate = p.trials_done / p.elapsed_s if p.elapsed_s > 0 else 0.0
    return (f"[{'#' * filled}{'.' * (width - filled)}] {p.sessions_done}/{p.sessions_total} sessions  "
            f"{p.trials_done} trials  {rate:.2f} trials/s  elapsed {_clock(p.elapsed_s)}  ETA {_clock(p.eta_s)}")
