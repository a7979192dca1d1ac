"""``genulab analyze [--static S] [--subject F] [--set N=V ...] [--task T --side S] TRIALS... [--json OUT]``.

Processes the dynamic trials with CGM1 (or a whole session folder given as the only
argument), runs the clinical analysis (``core.analysis.session.analyze_session``: valgus metrics,
task windows, valgus phases, kinetic-chain indicators, cross-talk, cycle statistics,
spatio-temporal parameters, GVS/GPS) and prints a readable summary: frames are C3D frame
numbers and times seconds from the start of capture, as Vicon shows them. ``--json OUT``
writes the documented result object as JSON (``-`` = standard output only).
"""
from __future__ import annotations

from app.commands._output import check_output_path, write_json

import argparse
import sys
from pathlib import Path

PHASE_METRICS = ("valgus_3d", "valgus_3d_corrected", "fppa", "mkd")


def register(subparsers) -> None:
    p = subparsers.add_parser("analyze", help="dynamic knee valgus and clinical gait analysis of trials or a session",
                              description="Analyse dynamic trials (or one session folder): valgus phases, "
                                          "kinetic-chain indicators, cycle statistics, GPS.")
    p.add_argument("trials", nargs="+", type=Path, metavar="TRIAL",
                   help="dynamic C3D trials, or one session folder (static, dynamics, subject file)")
    p.add_argument("--static", type=Path, help="static trial to calibrate from")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ",
                   help="low-pass the markers at HZ before the model (zero-lag Butterworth; default off): "
                        "for raw captures, needed for kinetics; Vicon-processed files are already filtered")
    p.add_argument("--subject", type=Path, help="subject file: Vicon .vsk, Workstation .mp or .json")
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter (angles in degrees); repeatable")
    p.add_argument("--task", help="task of every trial given: walk, sls, sl_stance, drop_jump, sl_landing")
    p.add_argument("--side", help="stance side of a single-leg task: L/Left or R/Right")
    p.add_argument("--sex", choices=("F", "M"), help="sex of the patient (FPPA thresholds); default unknown (male bound, flagged)")
    p.add_argument("--normative", metavar="NAME_OR_FILE",
                   help="normative set for this analysis: a shipped or lab set name (genulab norms list) or a "
                        "lab CSV/JSON file; default: the lab default (genulab norms set-default), else by age")
    p.add_argument("--speed-class", metavar="CLASS", help="normative speed class (default: closest to the patient's speed)")
    p.add_argument("--metric", action="append", default=[], metavar="TASK=METRIC",
                   help=f"phase metric of a task ({', '.join(PHASE_METRICS)}); repeatable")
    p.add_argument("--threshold", action="append", default=[], metavar="TASK=VALUE",
                   help="phase threshold of a task (deg, mm for mkd), replacing the default; repeatable")
    p.add_argument("--min-duration", type=float, metavar="S", help="minimum phase duration in s (default 0.020)")
    p.add_argument("--json", dest="json", metavar="OUT", help="write the analysis as JSON to OUT ('-' = standard output)")
    p.set_defaults(func=run)


def _pairs(items, what: str, cast=str) -> dict:
    from core.errors import AnalysisError
    out = {}
    for item in items:
        if "=" not in item:
            raise AnalysisError(f"{what} must be TASK=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = cast(v.strip())
        except ValueError:
            raise AnalysisError(f"{what} value of {k.strip()} is not a number: {v!r}") from None
    return out


def _settings(args):
    from core.analysis.types import AnalysisSettings
    kw = {"sex": args.sex}
    metrics = _pairs(args.metric, "--metric")
    if metrics:
        kw["task_metric"] = {**AnalysisSettings().task_metric, **metrics}
    thresholds = _pairs(args.threshold, "--threshold", float)
    if thresholds:
        kw["threshold_overrides"] = thresholds
    if args.min_duration is not None:
        kw["min_duration_s"] = args.min_duration
    if args.normative:
        kw["normative"] = args.normative
    if args.speed_class:
        kw["speed_class"] = args.speed_class
    return AnalysisSettings(**kw)


def _process(args, overrides, quiet: bool):
    """A ProcessedSession (folder) or a tuple of processed trials, a label, and the
    ``(path, message)`` of the trials given one by one that could not be processed."""
    from core.errors import GenuError
    from core.gait.pipeline import ProcessingSettings, calibrate_static_result, process_session, process_trial
    settings = ProcessingSettings(filter_markers_hz=args.filter)
    if len(args.trials) == 1 and args.trials[0].is_dir():
        ps = process_session(args.trials[0], overrides, static=args.static, subject_file=args.subject,
                             settings=settings)
        for note in ps.folder.notes:
            if "copy of" in note and not quiet:
                print(f"note: {note}")
        for path, msg in ps.failures:
            print(f"genulab: {msg}", file=sys.stderr)
        return ps, ps.folder.label, ()
    static = (calibrate_static_result(args.static, args.subject, overrides, dynamics=tuple(args.trials))
              if args.static else None)
    done, failures = [], []
    for path in args.trials:
        try:
            done.append(process_trial(path, static=static, subject_file=args.subject, overrides=overrides,
                                       settings=settings))
        except GenuError as exc:
            print(f"genulab: {exc}", file=sys.stderr)
            failures.append((path, str(exc)))
    parents = {p.parent.resolve() for p in args.trials}
    return tuple(done), (parents.pop().name if len(parents) == 1 else "trials"), tuple(failures)


def run(args: argparse.Namespace) -> int:
    check_output_path(args.json)
    from core.analysis.session import analyze_session
    from core.analysis.types import to_jsonable
    from core.analysis.session import summary_lines
    from core.errors import AnalysisError
    from core.io.subject import parse_set_options
    from core.analysis.tasks import canonical_side, canonical_task
    if args.task and canonical_task(args.task) is None:
        raise AnalysisError(f"unknown task {args.task!r} (walk, sls, sl_stance, drop_jump, sl_landing)")
    if args.side and canonical_side(args.side) is None:
        raise AnalysisError(f"unknown side {args.side!r} (L/Left, R/Right)")
    settings = _settings(args)
    quiet = args.json == "-"
    session, label, failed = _process(args, parse_set_options(args.set), quiet)
    processed = getattr(session, "trials", session)
    if not processed:
        raise AnalysisError("no trial could be processed")
    choices = {p.trial.name: (args.task, args.side) for p in processed} if (args.task or args.side) else None
    sa = analyze_session(session, settings, label=label, choices=choices)
    if failed:  # trials given one by one that could not be processed
        from dataclasses import replace
        from types import SimpleNamespace
        from core.analysis.session import processing_failures
        sa = replace(sa, failures=processing_failures(SimpleNamespace(failures=failed)) + sa.failures)
    if not quiet:
        print("\n".join(summary_lines(sa)))
    if args.json:
        write_json(to_jsonable(sa), args.json)
        if not quiet:
            print(f"\nwrote {args.json}")
    return 0
