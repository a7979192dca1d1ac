"""Regenerate the sample sessions: ``python -m core.synthetic.make_samples [--out sample_c3d]``.

Writes ``<out>/<patient-id>/patient.json`` and, per session (``pre``, ``post``), the C3D
trials, their ``.truth.json`` files and the subject file ``<patient-id>.vsk``.
Deterministic: the same numpy gives the same float32 point data.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Optional, Sequence

from core.synthetic.catalogue import SESSION_INFO, SESSIONS, session_trials
from core.synthetic.generate import generate_trial, write_trial
from core.synthetic.subject import BODY, PATIENT
from core.synthetic.writer import write_text, write_vsk


def patient_document() -> dict:
    """Content of patient.json (fictional patient)."""
    p = PATIENT
    return {"name": p.name, "patient_id": p.patient_id, "sex": p.sex, "birth_date": p.birth_date,
            "height_mm": p.height_mm, "mass_kg": p.mass_kg,
            "notes": "Fictional patient of the Genu Lab sample sessions (synthetic data).",
            "sessions": SESSION_INFO}


def make_samples(out: Path, sessions: Sequence[str] = SESSIONS, verbose: bool = False) -> list[Path]:
    """Generate every sample file under ``out``; returns the paths written."""
    root = Path(out) / PATIENT.patient_id
    root.mkdir(parents=True, exist_ok=True)
    written = [write_text(root / "patient.json", json.dumps(patient_document(), indent=2) + "\n")]
    for session in sessions:
        folder = root / session
        folder.mkdir(exist_ok=True)
        written.append(write_vsk(folder / f"{PATIENT.patient_id}.vsk", PATIENT.patient_id,
                                 BODY.vsk_parameters(PATIENT)))
        for spec in session_trials(session):
            written += write_trial(generate_trial(spec), folder)
            if verbose:
                print(f"{session}/{spec.name}")
    return written


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m core.synthetic.make_samples",
                                 description="Regenerate the synthetic sample sessions with known truth.")
    ap.add_argument("--out", type=Path, default=Path("sample_c3d"), help="output folder (default sample_c3d)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    paths = make_samples(args.out, verbose=args.verbose)
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files, {size / 1e6:.1f} MB, under {args.out / PATIENT.patient_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
