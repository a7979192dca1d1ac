"""``genulab report``: the clinical PDF report, headless.

Forms::

    genulab report STORE --session LABEL --pdf OUT          # one stored session
    genulab report STORE --compare PRE POST --pdf OUT       # pre/post comparison from a store
    genulab report FOLDER --pdf OUT                         # a session folder, no store
    genulab report PRE_FOLDER --compare-folder POST_FOLDER --pdf OUT

The 3D snapshots come from the same VTK scene code as the app (``app.scene``), rendered
off screen; ``--no-snapshots`` leaves them out.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.errors import GenuError


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the clinical PDF report",
                              description="Write the clinical PDF report of a session or of a pre/post comparison.")
    p.add_argument("source", type=Path, help="a patient store (.genu) or a session folder")
    p.add_argument("--session", metavar="LABEL", help="session label or id in the store")
    p.add_argument("--compare", nargs=2, metavar=("PRE", "POST"), help="two session labels of the store to compare")
    p.add_argument("--compare-folder", type=Path, metavar="POST_FOLDER",
                   help="with a session folder as SOURCE: compare it (pre) with this folder (post)")
    p.add_argument("--pdf", type=Path, required=True, metavar="OUT", help="the PDF to write")
    p.add_argument("--lab", default="Gait Laboratory", help="laboratory name printed on every page")
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="subject parameter override when processing a folder (degrees for angles); repeatable")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ",
                   help="session folders: low-pass the markers at HZ before the model (default off; for raw captures)")
    p.add_argument("--no-snapshots", action="store_true", help="leave out the 3D snapshots")
    p.set_defaults(func=run)


def _progress(quiet: bool):
    if quiet:
        return None
    last = [-1]

    def show(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct // 10 != last[0] // 10:
            last[0] = pct
            print(f"  {pct:3d} %  {message}", file=sys.stderr)
    return show


def _warn_unused(*inputs) -> None:
    """Name on stderr every recorded trial the report could not use (also on its quality page)."""
    from core.report.session_pages import unused_trials
    for inp in inputs:
        for name, reason in unused_trials(inp):
            print(f"genulab: warning: session '{inp.session.label}': trial {name} not used: {reason}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from app.reporting import (session_input_from_folder, session_input_from_store, write_comparison_report,
                               write_session_report)
    from core.report.inputs import ReportOptions

    t0 = time.perf_counter()
    opts = ReportOptions(lab_name=args.lab)
    snaps = not args.no_snapshots
    src: Path = args.source
    if not src.exists():
        raise GenuError("no such store or session folder", src)
    from core.store.schema import INDEX_NAME
    is_folder = src.is_dir() and not (src / INDEX_NAME).exists()
    if is_folder:
        if args.session or args.compare:
            raise GenuError("--session/--compare need a patient store; for folders use --compare-folder", src)
        from core.gait.pipeline import ProcessingSettings
        settings = ProcessingSettings(filter_markers_hz=args.filter)
        inputs = [session_input_from_folder(src, overrides=args.set, settings=settings)]
        if args.compare_folder:
            inputs.append(session_input_from_folder(args.compare_folder, overrides=args.set, settings=settings))
    elif args.compare:
        inputs = [session_input_from_store(src, label) for label in args.compare]
    else:
        if not args.session:
            raise GenuError("name the session with --session LABEL (or --compare PRE POST)", src)
        inputs = [session_input_from_store(src, args.session)]
    if len(inputs) == 2:
        out = write_comparison_report(inputs[0], inputs[1], args.pdf, opts, snapshots=snaps)
    else:
        out = write_session_report(inputs[0], args.pdf, opts, snapshots=snaps)
    _warn_unused(*inputs)
    print(f"report written: {out} ({time.perf_counter() - t0:.1f} s)")
    return 0
