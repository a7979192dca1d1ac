"""``genulab process [--static S] [--subject F] [--set N=V ...] DYN.c3d ... --out DIR [--format c3d|csv]``.

For each dynamic trial writes ``DIR/<name>.c3d`` (a copy of the input plus the CGM1 outputs
under Vicon's names, with the events used) or ``DIR/<name>.csv``. ``--timings`` prints
``timing <stage> <ms> ms`` lines on standard error for read, calibrate, model, events, kinetics and
write (summed over the trials). The inputs are never modified.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STAGES = ("read", "calibrate", "model", "events", "kinetics", "write")


def register(subparsers) -> None:
    p = subparsers.add_parser("process", help="CGM1 kinematics of dynamic trials, written as C3D or CSV",
                              description="Process dynamic trials with CGM1 (Plug-in Gait lower body).")
    p.add_argument("dynamics", nargs="+", type=Path, metavar="DYNAMIC.c3d", help="dynamic trials")
    p.add_argument("--static", type=Path, help="static trial to calibrate from (else offsets come from the subject sources)")
    p.add_argument("--subject", type=Path, help="subject file: Vicon .vsk, Workstation .mp or .json")
    p.add_argument("--label-map", type=Path, metavar="MAP.json",
                   help='lab label map, JSON {"lab label": "PiG label"}')
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter (angles in degrees); repeatable")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--format", choices=("c3d", "csv"), default="c3d", help="output format (default c3d)")
    p.add_argument("--timings", action="store_true", help="print per-stage timings on standard error")
    p.add_argument("--filter", type=float, default=0.0, metavar="HZ", help="low-pass the markers at HZ before the model (zero-lag Butterworth; default off): for raw captures, needed for kinetics; Vicon-processed files are already filtered")
    p.add_argument("--fill-gaps", type=int, default=0, metavar="N",
                   help="fill marker gaps up to N frames (cubic spline, flagged); default 0 = off")
    p.add_argument("--plate", action="append", default=[], metavar="N=L|R|invalid",
                   help="assign force plate N by hand, as in Nexus (else automatic); repeatable")
    p.set_defaults(func=run)


def _write(pt, src: Path, out: Path, fmt: str) -> Path:
    """The CSV or processed C3D, with the flag of filled samples when --fill-gaps filled some
    (CSV column ``filled_markers``; C3D ``GENULAB:FILLED_FIRST/FILLED_LAST``, docs/io.md)."""
    from core.io.c3d import write_outputs_csv, write_processed_c3d
    from core.io.csv_out import filled_flag_parameters
    outputs = pt.written_outputs()
    if fmt == "csv":
        return write_outputs_csv(out, outputs, filled_markers=pt.filled_markers())
    flag = None
    if pt.filled_mask is not None and pt.filled_mask.any():
        flag = filled_flag_parameters(pt.filled_mask, pt.trial.labels, pt.trial.first_frame,
                                      pt.settings.fill_gaps_max_frames)
    return write_processed_c3d(src, out, outputs, events=pt.events, parameters=flag)


def _target(src: Path, out_dir: Path, fmt: str) -> Path:
    from core.errors import C3DWriteError
    out = out_dir / f"{src.stem}.{fmt}"
    if out.exists() and src.exists() and out.resolve() == src.resolve():
        raise C3DWriteError("output would overwrite the input; choose another --out folder", src)
    return out


def _report(pt, out: Path, shown: dict) -> None:
    """One line per trial, its warnings, and the subject values used (only changes after the first)."""
    from core.io.subject import format_subject
    n_ev = sum(1 for e in pt.events if e.label in ("Foot Strike", "Foot Off") and e.context in ("Left", "Right"))
    how = "detected" if pt.events_detected else "from the file"
    print(f"{pt.source_path}: wrote {out} ({pt.trial.n_frames} frames, {n_ev} events {how}, "
          f"{len(pt.cycles)} cycles)")
    print("  " + _kinetics_line(pt))
    for q in pt.quality.issues:
        if q.severity != "info" or q.code in ("no-static", "defaults-used"):
            print(f"  {q.severity}: {q.message}")
    lines = dict(zip(pt.subject.values, format_subject(pt.subject)))
    changed = [l for n, l in lines.items() if shown.get(n) != l]
    if changed:
        print("  subject values used" + (" (changed from the previous trial)" if shown else "") + ":")
        for l in changed:
            print(f"    {l}")
    shown.clear()
    shown.update(lines)


def _plate_options(values) -> tuple[tuple[int, str], ...]:
    """``["1=R", "2=invalid"]`` -> ``((1, "R"), (2, "invalid"))``; GenuError on a bad value."""
    from core.errors import GenuError
    out = []
    for v in values:
        num, _, side = v.partition("=")
        if not num.strip().isdigit() or side.strip() not in ("L", "R", "invalid"):
            raise GenuError(f"--plate {v!r}: expected N=L, N=R or N=invalid (N the plate number)")
        out.append((int(num), side.strip()))
    return tuple(out)


def _kinetics_line(pt) -> str:
    """One line about kinetics: computed from how many clean contacts, or why not."""
    if pt.kinetics is None:
        why = [q.message for q in pt.quality.issues if q.code == "kinetics-not-computed"]
        return "kinetics: " + (why[0].split(": ", 1)[-1] if why else "no force plates") + " (not computed)"
    k = pt.kinetics
    sides = ", ".join(f"{c.side} plate {c.plate}" for c in k.clean_contacts) or "none"
    return (f"kinetics: moments, powers, forces written; body mass {k.body_mass_kg:g} kg; clean contacts: "
            f"{sides} ({len(k.contacts) - len(k.clean_contacts)} excluded)")


def _refuse_name_collisions(sources) -> None:
    """Two inputs with the same file name would write the same output: refuse before any work."""
    from core.errors import GenuError
    seen: dict[str, Path] = {}
    for src in sources:
        key = Path(src).stem.lower()
        if key in seen and Path(src).resolve() != seen[key].resolve():
            raise GenuError(f"two inputs have the same name ({seen[key]} and {src}): their outputs would "
                            "overwrite each other; process them into separate --out folders", src)
        seen.setdefault(key, Path(src))


def run(args: argparse.Namespace) -> int:
    from core.io.subject import parse_set_options
    from core.gait.pipeline import ProcessingSettings
    overrides = parse_set_options(args.set)
    settings = ProcessingSettings(fill_gaps_max_frames=max(0, args.fill_gaps),
                                  label_map=str(args.label_map) if args.label_map else None,
                                  plate_assignment=_plate_options(args.plate),
                                  filter_markers_hz=args.filter)
    created = not args.out.exists()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, overrides, settings)
    finally:
        if created and args.out.is_dir() and not any(args.out.iterdir()):
            args.out.rmdir()   # nothing was written: leave no empty output folder behind


def _run(args: argparse.Namespace, overrides, settings) -> int:
    from core.errors import GenuError
    from core.gait.pipeline import calibrate_static_result, process_trial
    _refuse_name_collisions(args.dynamics)
    totals = {s: 0.0 for s in STAGES}
    static = None
    if args.static is not None:
        static = calibrate_static_result(args.static, args.subject, overrides, settings,
                                         dynamics=tuple(args.dynamics))
        for k, v in static.timings_ms.items():
            totals[k] += v
        c = static.calibration
        print(f"{args.static}: calibrated (InterAsisDistance {c.iad_mm:.2f} mm"
              f"{' computed' if c.iad_computed else ''}; StaticPlantFlex L {c.static_plant_flex_deg['Left']:.3f} "
              f"R {c.static_plant_flex_deg['Right']:.3f} deg; StaticRotOff L {c.static_rot_off_deg['Left']:.3f} "
              f"R {c.static_rot_off_deg['Right']:.3f} deg)")
        print(f"  subject looked in (lowest precedence first): {'; '.join(static.searched)}")
        for note in static.notes:
            if note.startswith("warning") or "disagree" in note or "not used as a subject source" in note:
                print(f"  {note}")
    else:
        print("no --static: foot offsets (StaticPlantFlex, StaticRotOff) come from the subject sources "
              "(dynamic PROCESSING, subject file, --set), as Vicon does when reprocessing")
    failed = 0
    shown: dict = {}
    for src in args.dynamics:
        try:
            out = _target(src, args.out, args.format)
            pt = process_trial(src, static, args.subject, overrides, settings)
            t0 = time.perf_counter()
            written = _write(pt, src, out, args.format)
            totals["write"] += 1000.0 * (time.perf_counter() - t0)
        except GenuError as exc:
            print(f"genulab: {exc}", file=sys.stderr)
            failed += 1
            continue
        for k, v in pt.timings_ms.items():
            totals[k] = totals.get(k, 0.0) + v
        _report(pt, written, shown)
    if args.timings:
        for s in STAGES:
            print(f"timing {s} {totals[s]:.1f} ms", file=sys.stderr)
    return 2 if failed else 0
