"""``genulab compare PRE_DIR POST_DIR [--json OUT]``: pre/post comparison of two sessions.

Each folder is a session (static + dynamic trials + optional subject file, see
``core.gait.session.discover_session``); both are processed (CGM1), analysed
(``core.analysis.session.analyze_session``) and compared (``core.analysis.comparison.compare_sessions``):
per valgus metric, task and side the change of the peaks with its 95 % CI and the
measurement-error verdict (docs/valgus.md), the GPS change against its MCID, and per walking
variable the peak change and a curve-level permutation test. ``--json -`` writes the JSON to
standard output and nothing else.

With ``--store STORE``, PRE and POST name two sessions (id or label) of that patient store and
their stored session analyses are compared (nothing is reprocessed).
"""
from __future__ import annotations

from app.commands._output import check_output_path, write_json

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("compare", help="pre/post comparison of two session folders",
                              description="Compare two sessions of the same patient (pre -> post).")
    p.add_argument("pre", type=Path, metavar="PRE_DIR", help="session folder before the intervention "
                   "(with --store: session id or label)")
    p.add_argument("post", type=Path, metavar="POST_DIR", help="session folder after the intervention "
                   "(with --store: session id or label)")
    p.add_argument("--store", type=Path, metavar="STORE", help="compare two sessions of this patient store")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ",
                   help="low-pass the markers at HZ before the model (zero-lag Butterworth; default off): "
                        "for raw captures, needed for kinetics; ignored with --store (stored analyses are used)")
    p.add_argument("--json", dest="json", metavar="OUT", help="write the comparison as JSON to OUT ('-' = standard output)")
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter for both sessions (angles in degrees); repeatable")
    p.add_argument("--sex", choices=("F", "M"), help="sex of the patient (FPPA thresholds); default unknown")
    p.add_argument("--normative", metavar="NAME_OR_FILE",
                   help="normative set: a shipped or lab set name (genulab norms list) or a lab CSV/JSON file; "
                        "default: the lab default, else by the patient's age")
    p.add_argument("--speed-class", metavar="CLASS", help="normative speed class (default: closest to each session's speed)")
    p.add_argument("--n-perm", type=int, default=2000, help="relabellings of the curve permutation test (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the permutation test and bootstrap (default 0)")
    p.set_defaults(func=run)


def _normative(args):
    if not args.normative:
        return None
    from core.analysis.norm_choice import known_sets, load_any
    if args.normative in known_sets() and not args.speed_class:
        return None   # each session takes the named set at its own speed class
    return load_any(args.normative, args.speed_class)


def _analyse(folder: Path, overrides, settings, normative, quiet: bool, filter_hz: float = 0.0):
    from core.analysis.session import analyze_session
    from core.errors import AnalysisError
    from core.gait.pipeline import ProcessingSettings, process_session
    if not folder.is_dir():
        raise AnalysisError("not a session folder", folder)
    ps = process_session(folder, overrides, settings=ProcessingSettings(filter_markers_hz=filter_hz))
    for path, msg in ps.failures:
        print(f"genulab: {msg}", file=sys.stderr)
    if not ps.trials:
        raise AnalysisError("no dynamic trial of the session could be processed", folder)
    sa = analyze_session(ps, settings, normative=normative)
    if not quiet:
        print(f"{folder}: {len(sa.trials)} trial(s) analysed ({', '.join(f'{t.trial_name} [{t.task}]' for t in sa.trials)})")
        for w in sa.warnings:
            print(f"  warning: {w}")
        if sa.normative_caution:
            print(f"  CAUTION: {sa.normative_caution}")
    return sa


def _from_store(store_path: Path, key: str):
    from core.errors import AnalysisError
    from core.store.store import open_store
    with open_store(store_path, "r") as store:
        record = store.load_session(key)
    if record.analysis is None:
        raise AnalysisError(f"session {key!r} of the store has no analysis yet (analyse it first)", store_path)
    return record.analysis


def _check_store_order(store_path: Path, pre: str, post: str) -> None:
    """Refuse comparing a session with itself; warn when 'pre' is dated after 'post'."""
    from core.errors import GenuError
    from core.store.store import open_store
    with open_store(store_path, "r") as store:
        a, b = store.session(pre), store.session(post)
    if a.session_id == b.session_id:
        raise GenuError(f"PRE and POST are the same session ({a.label}): nothing to compare", store_path)
    if a.date is not None and b.date is not None and a.date > b.date:
        print(f"genulab: warning: 'pre' session {a.label} ({a.date}) is dated after 'post' session "
              f"{b.label} ({b.date}); changes are POST minus PRE in the order given ({b.label} minus {a.label})",
              file=sys.stderr)


def _same_patient(pre: Path, post: Path) -> None:
    """Refuse two session folders whose patient.json name different patients (before any work)."""
    from core.errors import GenuError
    from core.gait.session import discover_session
    ids = []
    for folder in (pre, post):
        patient = discover_session(folder).patient or {}
        ids.append(str(patient.get("patient_id", patient.get("id", "")) or ""))
    if ids[0] and ids[1] and ids[0] != ids[1]:
        raise GenuError(f"the sessions belong to two patients ({ids[0]} in {pre}, {ids[1]} in {post}): "
                        "a pre/post comparison needs one patient", post)


def run(args: argparse.Namespace) -> int:
    check_output_path(args.json)
    from core.analysis.types import AnalysisSettings, to_jsonable
    from core.analysis.comparison import compare_sessions, summary_lines
    from core.io.subject import parse_set_options
    overrides = parse_set_options(args.set)
    kw = {"sex": args.sex}
    if args.normative:
        kw["normative"] = args.normative
    if args.speed_class:
        kw["speed_class"] = args.speed_class
    settings = AnalysisSettings(**kw)
    normative = _normative(args)
    quiet = args.json == "-"
    if args.store is not None:
        _check_store_order(args.store, str(args.pre), str(args.post))
        pre, post = _from_store(args.store, str(args.pre)), _from_store(args.store, str(args.post))
    else:
        _same_patient(args.pre, args.post)
        pre = _analyse(args.pre, overrides, settings, normative, quiet, args.filter)
        post = _analyse(args.post, overrides, settings, normative, quiet, args.filter)
    comp = compare_sessions(pre, post, n_perm=max(100, args.n_perm), seed=args.seed, normative=normative)
    if not quiet:
        print()
        print("\n".join(summary_lines(comp)))
    if args.json:
        write_json(to_jsonable(comp), args.json)
        if not quiet:
            print(f"\nwrote {args.json}")
    return 0
