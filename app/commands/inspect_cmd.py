"""``genulab inspect FILE.c3d [--json] [--label-map MAP.json] [--marker-set NAME]``.

Says what a C3D file holds: the repairs the reader made to read it, manufacturer/software, point rate, frames (first-last C3D
frame numbers) and duration, markers, the marker set recognised and the required markers
missing, gaps per marker of the set, events (label, context, frame, time), the
PROCESSING subject parameters, analog channels and force plates. ``--json`` prints the
same as one JSON object. A file that cannot be read gives a one-line error (exit code 2).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser("inspect", help="show what a C3D file holds",
                              description="Show the markers, rate, frames, gaps, events, subject "
                                          "parameters and recognised marker set of a C3D file.")
    p.add_argument("file", type=Path, help="C3D file")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--label-map", type=Path, metavar="MAP.json",
                   help='lab label map, JSON {"lab label": "PiG label"}')
    p.add_argument("--marker-set", default="pig_lower_body", metavar="NAME",
                   help="marker set to match (default pig_lower_body)")
    p.set_defaults(func=run)


def _jsonable(v):
    """A parameter value for JSON: NaN/inf -> None, tuples -> lists."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    return v


def inspect_dict(path: Path, label_map_path: Path | None = None, marker_set: str = "pig_lower_body") -> dict:
    """Everything ``inspect`` reports, as a JSON-ready dict (raises GenuError on bad input)."""
    from core.gait.gaps import gap_report
    from core.io.c3d import read_c3d
    from core.io.markersets import load_label_map, load_marker_set, match_marker_set

    trial = read_c3d(path)
    ms = load_marker_set(marker_set)
    label_map = load_label_map(label_map_path) if label_map_path else None
    dyn = match_marker_set(trial, ms, static=False, label_map=label_map)
    sta = match_marker_set(trial, ms, static=True, label_map=label_map)
    renamed = {v: k for k, v in dyn.renamed.items()}
    set_labels = [renamed.get(c, c) for c in ms.canonical if renamed.get(c, c) in trial.labels]
    gaps = gap_report(trial, set_labels)
    return {
        "file": str(path),
        "manufacturer": trial.manufacturer, "software": trial.software,
        "rate_hz": trial.point_rate_hz,
        "frames": trial.n_frames, "first_frame": trial.first_frame, "last_frame": trial.last_frame,
        "duration_s": trial.n_frames / trial.point_rate_hz,
        "units": trial.parameters.get("POINT:UNITS", ""),
        "markers": list(trial.marker_labels),
        "model_outputs": [l for l, k in zip(trial.labels, trial.point_kinds) if k != "marker"],
        "marker_set": {"name": ms.name, "title": ms.title, "recognised": dyn.recognised,
                       "rear_pelvis": dyn.rear_pelvis,
                       "missing_required_dynamic": list(dyn.missing_required),
                       "missing_required_static": list(sta.missing_required),
                       "missing_optional": list(dyn.missing_optional),
                       "renamed": dict(dyn.renamed)},
        "gaps": [{"label": g.label, "n_gaps": g.n_gaps, "longest_gap_frames": g.longest_gap_frames,
                  "percent_valid": round(g.percent_valid, 2), "gaps": [list(x) for x in g.gaps]}
                 for g in gaps.markers],
        "events": [{"label": e.label, "context": e.context, "frame": e.frame,
                    "time_s": round(e.time_s, 4)} for e in trial.events],
        "processing": {k: _jsonable(v) for k, v in trial.processing.items()},
        "parameters": {k: _jsonable(v) for k, v in trial.parameters.items()
                       if k.startswith(("GENULAB:", "SUBJECTS:NAMES"))},
        "analog": None if trial.analog is None else {
            "channels": len(trial.analog.labels), "rate_hz": trial.analog.rate_hz},
        "force_plates": [p.plate_type for p in trial.force_plates],
        "warnings": _warnings(trial),
    }


def _warnings(trial) -> list[str]:
    """Problems a user must see before trusting the file (repairs the reader made,
    truncation, events out of range)."""
    from core.io.c3d_read import DECLARED_FRAMES_KEY
    out = [f"repaired while reading: {w}" for w in trial.read_warnings]
    declared = trial.parameters.get(DECLARED_FRAMES_KEY)
    if declared is not None:
        out.append(f"the file declares {int(declared)} frames but holds {trial.n_frames}: "
                   "the capture may have been cut short (truncated copy?)")
    outside = [e for e in trial.events if not trial.first_frame <= e.frame <= trial.last_frame]
    if outside:
        out.append(f"{len(outside)} event(s) lie outside the frames {trial.first_frame}-{trial.last_frame}")
    return out


def _wrap(items: list[str], indent: str = "  ", width: int = 96) -> str:
    lines, line = [], indent
    for it in items:
        if len(line) + len(it) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += it + " "
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines) if lines else indent + "(none)"


def format_text(d: dict) -> str:
    """Human-readable report of :func:`inspect_dict`."""
    ms = d["marker_set"]
    out = [f"File      {d['file']}",
           f"Source    {d['manufacturer'] or '?'} / {d['software'] or '?'}",
           f"Points    {d['rate_hz']:g} Hz, frames {d['first_frame']}-{d['last_frame']} "
           f"({d['frames']} frames, {d['duration_s']:.3f} s), units {d['units'] or '?'}",
           f"Markers   {len(d['markers'])}", _wrap(d["markers"]),
           f"Outputs   {len(d['model_outputs'])} model-output points stored"]
    out += [f"WARNING   {w}" for w in d["warnings"]]
    state = "recognised" if ms["recognised"] else "NOT recognised"
    out.append(f"Marker set {ms['title']}: {state}; rear pelvis: {ms['rear_pelvis'] or 'missing'}")
    out.append("  missing for a dynamic trial: " + (", ".join(ms["missing_required_dynamic"]) or "none"))
    out.append("  missing for a static trial:  " + (", ".join(ms["missing_required_static"]) or "none"))
    if ms["renamed"]:
        out.append("  read through aliases: " + ", ".join(f"{k}->{v}" for k, v in ms["renamed"].items()))
    out.append("Gaps (marker-set markers)")
    for g in d["gaps"]:
        out.append(f"  {g['label']:<8} {g['percent_valid']:6.1f} % valid, {g['n_gaps']} gap(s), "
                   f"longest {g['longest_gap_frames']} frames")
    out.append(f"Events    {len(d['events'])}")
    for e in d["events"]:
        out.append(f"  {e['context']:<8} {e['label']:<14} frame {e['frame']:>6}  {e['time_s']:.3f} s")
    out.append(f"PROCESSING {len(d['processing'])} parameters")
    for k, v in d["processing"].items():
        out.append(f"  {k:<28} {v:.6g}" if isinstance(v, float) else f"  {k:<28} {v}")  # None = NaN
    for k, v in d["parameters"].items():
        out.append(f"{k:<10} {v}")
    if d["analog"]:
        out.append(f"Analog    {d['analog']['channels']} channels @ {d['analog']['rate_hz']:g} Hz")
    if d["force_plates"]:
        out.append(f"Force plates {len(d['force_plates'])} (types {', '.join(map(str, d['force_plates']))})")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    d = inspect_dict(args.file, args.label_map, args.marker_set)
    if args.json:
        sys.stdout.write(json.dumps(d, indent=2, allow_nan=False, default=str) + "\n")
    else:
        print(format_text(d))
    return 0
