"""``genulab batch ROOT --out OUT [--workers N] [--engine local|dask] [--scheduler ADDR] [--resume]``.

Reprocesses an archive: every session folder under ROOT (static, dynamics, subject file,
recognised as ``genulab import`` does) is processed and analysed, and its processed C3D
files, ``analysis.json`` and ``batch_manifest.json`` are written under OUT, mirroring ROOT
(``--store-dir`` also imports each session into a patient store). A broken file or session
is named with its reason and the rest goes on. Progress (counts, rate, ETA) goes to
standard error, the summary table to standard output, one JSON line per task to
``--log`` (default ``OUT/batch_log.jsonl``). Ctrl+C stops cleanly: only complete session
folders are left, and ``--resume`` carries on where the run stopped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("batch", help="process and analyse every session folder under an archive folder",
                              description="Batch reprocessing of a lab archive (local process pool or dask.distributed).")
    p.add_argument("root", type=Path, metavar="ROOT", help="archive folder holding session folders")
    p.add_argument("--out", type=Path, required=True, help="output folder (mirrors ROOT)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: CPU count)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local process pool (default) or dask.distributed (pip install genulab[cluster])")
    p.add_argument("--scheduler", metavar="ADDR", help="dask scheduler address, e.g. tcp://host:8786 (default: a LocalCluster)")
    p.add_argument("--resume", action="store_true",
                   help="skip sessions whose outputs exist and whose inputs (SHA-256) and settings did not change")
    p.add_argument("--log", type=Path, metavar="FILE.jsonl", help="JSON-lines log of every task (default OUT/batch_log.jsonl)")
    p.add_argument("--store-dir", type=Path, metavar="DIR", help="also import each session into DIR/<patient id>.genu")
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter (angles in degrees); repeatable")
    p.add_argument("--fill-gaps", type=int, default=0, metavar="N", help="fill marker gaps up to N frames (default off)")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ",
                   help="low-pass the markers at HZ before the model (zero-lag Butterworth; default off): "
                        "for raw captures, needed for kinetics; Vicon-processed files are already filtered")
    p.set_defaults(func=run)


def progress_line(p, width: int = 24) -> str:
    """The progress text of a BatchProgress (``core.batch.runner.progress_line``)."""
    from core.batch.runner import progress_line as line
    return line(p, width)


class ProgressPrinter:
    """Progress on a stream: one redrawn line on a terminal, one line per update otherwise;
    failed sessions are named as they come."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.t_last = 0.0

    def __call__(self, p) -> None:
        r = p.last
        if r is not None and r.status == "failed":
            self._clear()
            for f, why in r.failures:
                print(f"genulab: {r.rel}: {f + ': ' if f else ''}{why}", file=self.stream)
        elif r is not None:
            for f, why in r.failures:
                self._clear()
                print(f"genulab: warning: {r.rel}: {f}: {why}", file=self.stream)
        line = progress_line(p)
        if self.tty:
            self.stream.write("\r" + line)
            if p.sessions_done == p.sessions_total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r\033[K")


def settings_from_args(args):
    from core.batch.task import BatchSettings
    from core.gait.pipeline import ProcessingSettings
    from core.io.subject import parse_set_options
    overrides = parse_set_options(args.set) or {}
    return BatchSettings(ProcessingSettings(fill_gaps_max_frames=max(0, args.fill_gaps),
                                            filter_markers_hz=args.filter),
                         overrides=tuple(sorted(dict(overrides).items())),
                         store_dir=str(args.store_dir) if args.store_dir else None)


def run(args: argparse.Namespace) -> int:
    from core.batch.engines import make_engine
    from core.batch.runner import plan, run_batch
    from core.errors import GenuError
    if args.workers is not None and args.workers < 1:
        raise GenuError(f"--workers must be at least 1, not {args.workers}")
    settings = settings_from_args(args)
    entries = plan(args.root, args.out)   # before starting workers: a wrong ROOT fails at once
    log = args.log or args.out / "batch_log.jsonl"
    engine = make_engine(args.engine, args.workers, args.scheduler)
    print(f"{len(entries)} session folders under {args.root}; {engine.describe()}", file=sys.stderr)
    try:
        summary = run_batch(args.root, args.out, engine, settings, resume=args.resume, log_path=log,
                            on_progress=ProgressPrinter(), entries=entries)
    finally:
        try:
            engine.close()
        except KeyboardInterrupt:
            pass
    print("\n".join(summary.table_lines()))
    print(f"log: {log}")
    if summary.interrupted:
        return 130
    return 2 if summary.counts["failed"] else 0
