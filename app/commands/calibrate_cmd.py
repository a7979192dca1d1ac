"""``genulab calibrate STATIC.c3d [--dynamic DYN.c3d ...] [--subject FILE] [--set Name=Value ...] [--json OUT]``.

Prints the calibrated subject: inter-ASIS distance, ASIS-trochanter distances, the foot
offsets StaticPlantFlex / StaticRotOff in degrees, and every value used with its source.
``--dynamic`` adds a dynamic trial's PROCESSING group as the lowest-precedence subject
source (as ``genulab process`` does with its dynamic trials).
``--json -`` writes the same as JSON to standard output (and nothing else).
"""
from __future__ import annotations

from app.commands._output import check_output_path, write_json

import argparse
from pathlib import Path

CALIBRATED_SHOWN = ("InterAsisDistance", "LeftAsisTrocanterDistance", "RightAsisTrocanterDistance",
                    "LeftStaticPlantFlex", "RightStaticPlantFlex", "LeftStaticRotOff", "RightStaticRotOff")


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="CGM1 static calibration of a standing trial",
                              description="Calibrate CGM1 from a static trial and print the subject "
                                          "parameters used, each with its source.")
    p.add_argument("static", type=Path, help="static (standing) trial, C3D")
    p.add_argument("--subject", type=Path, help="subject file: Vicon .vsk, Workstation .mp or .json")
    p.add_argument("--dynamic", type=Path, action="append", default=[], metavar="DYN.c3d",
                   help="a dynamic trial whose PROCESSING group is a subject source (lowest precedence; "
                        "of several, the first given wins); repeatable")
    p.add_argument("--label-map", type=Path, metavar="MAP.json",
                   help='lab label map, JSON {"lab label": "PiG label"}')
    p.add_argument("--set", dest="set", action="append", default=[], metavar="Name=Value",
                   help="override a subject parameter (VSK or PROCESSING names; angles in degrees); repeatable")
    p.add_argument("--json", dest="json", metavar="OUT", help="write the result as JSON to OUT ('-' = standard output)")
    p.set_defaults(func=run)


def result_dict(res) -> dict:
    """The calibration as a JSON-ready dict."""
    cal = res.calibration
    params = {n: {"value": p.value, "unit": p.unit, "source": p.source} for n, p in cal.subject.values.items()}
    return {
        "static": str(res.trial.path) if res.trial.path else res.trial.name,
        "inter_asis_distance_mm": cal.iad_mm,
        "inter_asis_distance_computed": cal.iad_computed,
        "static_plant_flex_deg": dict(cal.static_plant_flex_deg),
        "static_rot_off_deg": dict(cal.static_rot_off_deg),
        "frames_used": dict(cal.frames_used),
        "searched": list(res.searched),
        "notes": list(res.notes),
        "parameters": params,
    }


def print_text(res) -> None:
    from core.io.subject import format_subject
    cal = res.calibration
    print(f"static trial: {res.trial.path or res.trial.name} ({res.trial.n_frames} frames @ {res.trial.point_rate_hz:g} Hz)")
    print(f"subject looked in (lowest precedence first): {'; '.join(res.searched)}")
    for note in res.notes:
        print(f"note: {note}")
    print("calibrated:")
    sub = cal.subject
    for name in CALIBRATED_SHOWN:
        if name in sub:
            p = sub.values[name]
            print(f"  {name:<28} {p.value:>10.4f} {p.unit:<3} ({p.source})")
    print(f"  frames averaged for the foot offsets: " + ", ".join(f"{k} {v}" for k, v in cal.frames_used.items()))
    print("all values used:")
    for line in format_subject(sub):
        print(f"  {line}")


def run(args: argparse.Namespace) -> int:
    check_output_path(args.json)
    from core.io.subject import parse_set_options
    from core.gait.pipeline import ProcessingSettings, calibrate_static_result
    overrides = parse_set_options(args.set)
    settings = ProcessingSettings(label_map=str(args.label_map) if args.label_map else None)
    res = calibrate_static_result(args.static, args.subject, overrides, settings, dynamics=tuple(args.dynamic))
    if args.json:
        write_json(result_dict(res), args.json)
    if args.json != "-":
        print_text(res)
    return 0
