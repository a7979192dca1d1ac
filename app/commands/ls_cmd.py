"""``genulab ls STORE [--verify]``: the patient, sessions and trials of a store.

Lists from the store's index only (no array is read); ``--verify`` also checks every
session file's SHA-256 and every trial's content checksum; ``--repair-index`` rebuilds a lost
or damaged index from the session files first.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("ls", help="list the patient, sessions and trials of a patient store",
                              description="List a patient store (patient, sessions, trials with dates, task and key numbers).")
    p.add_argument("store", type=Path, metavar="STORE", help="patient store (.genu)")
    p.add_argument("--verify", action="store_true", help="full integrity check (reads every file)")
    p.add_argument("--repair-index", action="store_true",
                   help="rebuild a lost or damaged index.h5 from the session files, then list")
    p.set_defaults(func=run)


def _num(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def _numbers(d) -> str:
    return ", ".join(f"{k} {_num(v)}" for k, v in d.items())


def format_store(store) -> list[str]:
    """The listing as lines (used by the command and by tests)."""
    from core.store import staleness
    p = store.patient
    born = p.birth_date.isoformat() if p.birth_date else (f"age {p.age_years:g}" if p.age_years is not None else "birth date unknown")
    lines = [f"patient: {p.name or '(no name)'}  ID {p.patient_id or '-'}  {born}  sex {p.sex or '-'}"
             + ("  (pseudonymised)" if p.pseudonymised else "")]
    if store.migrated_from:
        lines.append(f"(migrated from store schema {store.migrated_from})")
    lines += [f"note: {n}" for n in store.notes]
    for s in store.sessions:
        date = s.date.isoformat() if s.date else "date unknown"
        extra = "  ".join(x for x in (s.condition, f"examiner {s.examiner}" if s.examiner else "") if x)
        lines.append(f"session {s.label} ({s.session_id})  {date}  {extra}".rstrip())
        if s.key_numbers:
            lines.append(f"  {_numbers(s.key_numbers)}")
        for t in s.trials:
            task = "static" if t.is_static else (t.task or "?") + (f"/{t.side}" if t.side else "")
            cyc = " ".join(f"{k[0]}{v}" for k, v in t.n_cycles.items()) if t.n_cycles else ""
            stale = staleness(t)
            lines.append(f"  {t.trial_id} {t.name:<28} {task:<12} {t.n_frames} fr @ {t.rate_hz:g} Hz"
                         f"  events {t.n_events}" + (f"  cycles {cyc}" if cyc else "")
                         + (f"  [{_numbers(t.key_numbers)}]" if t.key_numbers else "")
                         + (f"  STALE: {stale}" if stale else ""))
    return lines


def run(args: argparse.Namespace) -> int:
    from core.store import open_store
    if args.repair_index:
        from core.store.recover import recover_index
        store, report = recover_index(args.store)
        store.close()
        for line in report:
            print(f"repair: {line}")
    with open_store(args.store, "r", verify="full" if args.verify else "quick") as store:
        for line in format_store(store):
            print(line)
        if args.verify:
            print(f"verified: {store.n_trials()} trial(s) in {len(store.sessions)} session(s), no damage found")
    return 0
