"""``genulab import FOLDER --patient STORE [--session LABEL] [--name --id --dob --sex] ...``.

Imports a Vicon-style session folder (static, dynamic trials, subject file) into a patient
store, creating the store if needed: the trials are processed (CGM1) and analysed, and
stored with their raw markers, events, subject parameters and settings. Files already in
the store (same SHA-256) are reported and not imported twice. Patient details come from
``patient.json`` beside the session folders and from the options, which win.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("import", help="import a session folder of C3D files into a patient store",
                              description="Import a session folder (static + dynamic C3D, subject file) into a patient store.")
    p.add_argument("folder", type=Path, metavar="FOLDER", help="session folder")
    p.add_argument("--patient", type=Path, required=True, metavar="STORE", help="patient store (.genu folder); created if absent")
    p.add_argument("--session", metavar="LABEL", help="session label, e.g. pre, post, '6 weeks' (default: the folder name)")
    p.add_argument("--static", metavar="FILE", help="the static trial to use when the folder has several")
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter (angles in degrees); repeatable")
    p.add_argument("--fill-gaps", type=int, default=0, metavar="N", help="fill marker gaps up to N frames (default off)")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ", help="low-pass the markers at HZ before the model (zero-lag Butterworth; default off): for raw captures, needed for kinetics; Vicon-processed files are already filtered")
    g = p.add_argument_group("patient details (override patient.json)")
    g.add_argument("--name")
    g.add_argument("--id", dest="patient_id")
    g.add_argument("--dob", help="birth date YYYY-MM-DD")
    g.add_argument("--sex")
    s = p.add_argument_group("session details")
    s.add_argument("--date", help="session date YYYY-MM-DD")
    s.add_argument("--condition", help="barefoot, shoes, orthoses, walking aid ...")
    s.add_argument("--examiner")
    s.add_argument("--notes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.io.subject import parse_set_options
    from core.gait.pipeline import ProcessingSettings
    from core.store.importer import import_session
    patient = {"name": args.name, "patient_id": args.patient_id, "birth_date": args.dob, "sex": args.sex}
    details = {"date": args.date, "condition": args.condition, "examiner": args.examiner, "notes": args.notes}
    res = import_session(args.folder, args.patient, label=args.session, patient=patient, static=args.static,
                         overrides=parse_set_options(args.set) or None,
                         settings=ProcessingSettings(fill_gaps_max_frames=max(0, args.fill_gaps),
                                                     filter_markers_hz=args.filter),
                         session_details=details)
    for line in res.report:
        print(line)
    print(f"store: {res.store_path}")
    return 1 if res.failed and not res.added else 0
