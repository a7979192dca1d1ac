"""``genulab export STORE --session LABEL --out OUT [--deidentify [--no-age] [--pseudonym P]]``.

Copies one session into a new patient store. With ``--deidentify`` the name, ID and birth
date are replaced by a pseudonym (age kept in years unless ``--no-age``), dates, examiner
and notes removed and source file names hashed (see core.store.deidentify).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a session to a new store, optionally de-identified",
                              description="Export one session of a patient store to a new store.")
    p.add_argument("store", type=Path, metavar="STORE", help="patient store (.genu)")
    p.add_argument("--session", required=True, metavar="LABEL", help="session label or id")
    p.add_argument("--out", type=Path, required=True, metavar="OUT", help="new store to write (must not exist)")
    p.add_argument("--deidentify", action="store_true", help="remove name, ID, birth date, dates; hash file names")
    p.add_argument("--no-age", action="store_true", help="with --deidentify: remove the age too")
    p.add_argument("--pseudonym", help="with --deidentify: the pseudonym to use (default: random P-XXXXXXXX)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.store.deidentify import export_session
    out, alias = export_session(args.store, args.session, args.out, deidentify=args.deidentify,
                                keep_age=not args.no_age, pseudonym=args.pseudonym)
    print(f"exported session {args.session!r} to {out}" + (f" (de-identified as {alias})" if alias else ""))
    return 0
