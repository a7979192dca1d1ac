"""``genulab demo``: the whole chain a lab runs, on the bundled sample sessions.

1. import each session folder of the sample patient into a patient store (CGM1 processing
   and the valgus analysis happen on import),
2. write the processed C3D files (Vicon output names) beside it,
3. print the valgus findings of each session,
4. compare pre and post (change, 95 % interval, measurement-error verdict),
5. write the session and comparison PDF reports,
6. open the desktop application on the store when there is a display.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from core.errors import GenuError

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2] / "sample_c3d"


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the whole chain on the bundled sample sessions",
                              description="Process, analyse, compare and report the sample patient's pre and post "
                                          "sessions, then open the app (when there is a display).")
    p.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES,
                   help="folder holding the patient folder(s) (default: the project's sample_c3d/)")
    p.add_argument("--out", type=Path, default=Path("genulab_demo"), help="output folder (default ./genulab_demo)")
    p.add_argument("--lab", default="Genu Lab Demonstration Laboratory", help="laboratory name for the reports")
    p.add_argument("--filter", type=float, default=6.0, metavar="HZ",
                   help="low-pass the markers at HZ before the model (zero-lag Butterworth; default 6 Hz: the samples are raw captures with marker noise): for raw captures, needed for kinetics; Vicon-processed files are already filtered")
    p.add_argument("--no-gui", action="store_true", help="do not open the desktop application at the end")
    p.set_defaults(func=run)


def _patient_dir(samples: Path) -> Path:
    if (samples / "patient.json").exists():
        return samples
    found = sorted(p.parent for p in samples.glob("*/patient.json"))
    if not found:
        raise GenuError("no patient folder (with patient.json) found; regenerate the samples with "
                        "'python -m core.synthetic.make_samples'", samples)
    return found[0]


def _session_folders(patient_dir: Path) -> list[Path]:
    """Session folders in the order of their dates in patient.json (then by name)."""
    info = json.loads((patient_dir / "patient.json").read_text(encoding="utf-8"))
    dates = {k: str(v.get("date", "")) for k, v in (info.get("sessions") or {}).items()}
    folders = [p for p in patient_dir.iterdir() if p.is_dir() and any(p.glob("*.c3d"))]
    return sorted(folders, key=lambda p: (dates.get(p.name, "9999"), p.name))


def _step(msg: str) -> None:
    print(f"\n== {msg}", flush=True)


def _write_processed(store_path: Path, label: str, folder: Path, out_dir: Path) -> int:
    from core.io.c3d import write_processed_c3d
    from core.store.store import open_store
    n = 0
    out_dir.mkdir(parents=True, exist_ok=True)
    with open_store(store_path, "r") as store:
        info = store.session(label)
        for t in info.trials:
            if t.is_static:
                continue
            rec = store.load_trial(label, t.trial_id)
            src = folder / t.source_file
            if rec.outputs is None or not src.exists():
                continue
            # with the kinetic channels (moments, powers, forces) when the stored trial has them
            outputs = rec.processed.written_outputs() if hasattr(rec.processed, "written_outputs") else rec.outputs
            write_processed_c3d(src, out_dir / f"{t.name}.c3d", outputs, rec.events)
            n += 1
    return n


def run(args: argparse.Namespace) -> int:
    from app.reporting import session_input_from_store, write_comparison_report, write_session_report
    from core.analysis.comparison import compare_sessions, summary_lines
    from core.report.inputs import ReportOptions
    from core.report.text import key_findings
    from core.gait.pipeline import ProcessingSettings
    from core.store.importer import import_session

    t0 = time.perf_counter()
    patient_dir = _patient_dir(args.samples)
    sessions = _session_folders(patient_dir)
    pid = patient_dir.name
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"{pid}.genu"
    _step(f"1/5 Importing {len(sessions)} sessions of {pid} into {store} (CGM1 + valgus analysis)")
    labels = []
    for folder in sessions:
        res = import_session(folder, store, settings=ProcessingSettings(filter_markers_hz=args.filter))
        labels.append(res.session.label if res.session else folder.name)
        failed = f", {len(res.failed)} failed: {'; '.join(res.failed)}" if res.failed else ""
        print(f"  {folder.name}: {len(res.added)} trial(s) added, {len(res.skipped)} already stored{failed}")
    _step("2/5 Writing processed C3D files (Vicon output names)")
    for folder, label in zip(sessions, labels):
        n = _write_processed(store, label, folder, out / "processed" / label)
        print(f"  {label}: {n} file(s) in {out / 'processed' / label}")
    _step("3/5 Valgus findings")
    inputs = {}
    for label in labels:
        inputs[label] = session_input_from_store(store, label)
        print(f"  [{label}]")
        for line in key_findings(inputs[label].analysis):
            print(f"    - {line}")
    opts = ReportOptions(lab_name=args.lab)
    pdfs = []
    if len(labels) >= 2:
        pre, post = labels[0], labels[-1]
        _step(f"4/5 Comparing '{pre}' -> '{post}'")
        c = compare_sessions(inputs[pre].analysis, inputs[post].analysis)
        for line in summary_lines(c):
            print(f"  {line}")
    _step("5/5 Writing the PDF reports")
    pdfs.append(write_session_report(inputs[labels[0]], out / f"{pid}_{labels[0]}.pdf", opts))
    if len(labels) >= 2:
        pdfs.append(write_comparison_report(inputs[labels[0]], inputs[labels[-1]],
                                            out / f"{pid}_{labels[0]}_vs_{labels[-1]}.pdf", opts))
    for p in pdfs:
        print(f"  {p}")
    print(f"\nDone in {time.perf_counter() - t0:.1f} s. Store: {store}")
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if args.no_gui or not has_display:
        if not args.no_gui:
            print("No display: the desktop application was not opened (run 'genulab gui "
                  f"{store}' on a desktop).")
        return 0
    _step("Opening the desktop application")
    sys.stdout.flush()
    from app.main import run as run_gui
    return run_gui([str(store)])
