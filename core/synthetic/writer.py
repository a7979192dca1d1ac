"""Writing the sample files: C3D (with ezc3d directly), Nexus-style VSK, JSON.

The C3D files are written the way Vicon Nexus writes a labelled trial, so that any C3D
tool reads them: POINT data float32 in mm at 100 Hz, invalid samples as zeros with residual
-1, the EVENT group (Foot Strike / Foot Off with Left/Right context, times in seconds from
the start of capture: ``(frame - 1) / rate``), the PROCESSING group with the subject
parameters under Nexus' short names (angles in **radians**, no ``Marker Diameter`` entry:
that entry marks Workstation files), SUBJECTS, TRIAL, MANUFACTURER, and the ``GENULAB``
group (TASK, SIDE), and optionally the analog channels of the force plates (1000 Hz, float)
with the FORCE_PLATFORM group (:class:`AnalogBlock`). Files are written to a temporary name and moved into place.
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional
from xml.sax.saxutils import quoteattr

import ezc3d
import numpy as np

ANGLE_PARAMETERS = ("StaticPlantFlex", "StaticRotOff", "TibialTorsion", "ThighRotation", "ShankRotation")


def processing_group(vsk: Mapping[str, float]) -> dict[str, float]:
    """PROCESSING entries (Nexus short names, radians) from VSK-named values in degrees."""
    out = {"Bodymass": vsk["Bodymass"], "Height": vsk["Height"],
           "InterAsisDistance": vsk["InterAsisDistance"]}
    for side, p in (("Left", "L"), ("Right", "R")):
        for stem in ("LegLength", "KneeWidth", "AnkleWidth"):
            out[f"{p}{stem}"] = vsk[f"{side}{stem}"]
        for stem in ANGLE_PARAMETERS:
            out[f"{p}{stem}"] = math.radians(vsk[f"{side}{stem}"])
    return out


def _replace(tmp: Path, path: Path) -> Path:
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class AnalogBlock:
    """Analog channels and force plates to write with a trial.

    values: ``(F * per_frame, C)`` float; labels/units: ``(C,)``; rate_hz: analog rate;
    plates: ``FORCE_PLATFORM`` entries: dicts with ``type``, ``corners`` ``(4, 3)`` lab mm,
    ``origin`` ``(3,)``, ``channels`` (1-based analog channel numbers, 6) and for type 4
    ``cal_matrix`` ``(6, 6)``.
    """

    values: np.ndarray
    labels: tuple[str, ...]
    units: tuple[str, ...]
    rate_hz: float
    plates: tuple[dict, ...]


def _analog(c3d, block: AnalogBlock, n_frames: int) -> None:
    """ANALOG (float storage: SCALE 1, GEN_SCALE 1, OFFSET 0, as Nexus writes float files)
    and FORCE_PLATFORM (USED, TYPE, ZERO, CORNERS, ORIGIN, CHANNEL, CAL_MATRIX)."""
    n_ch = len(block.labels)
    an = c3d["parameters"]["ANALOG"]
    an["RATE"]["value"] = np.array([block.rate_hz])
    an["LABELS"]["value"] = list(block.labels)
    an["DESCRIPTIONS"]["value"] = ["" for _ in block.labels]
    an["UNITS"]["value"] = list(block.units)
    an["SCALE"]["value"] = np.ones(n_ch)
    an["OFFSET"]["value"] = np.zeros(n_ch, dtype=int)
    an["GEN_SCALE"]["value"] = np.array([1.0])
    c3d["data"]["analogs"] = np.asarray(block.values, float).T[None, :, :]
    fp = block.plates
    ints = {"USED": np.array([len(fp)]), "TYPE": np.array([int(p["type"]) for p in fp]),
            "ZERO": np.array([1, 0]),
            "CHANNEL": np.stack([np.asarray(p["channels"], int) for p in fp], axis=1)}
    for name, value in ints.items():
        c3d.add_parameter("FORCE_PLATFORM", name, 0)     # an integer parameter, then its values
        c3d["parameters"]["FORCE_PLATFORM"][name]["value"] = value
    c3d.add_parameter("FORCE_PLATFORM", "CORNERS",
                      np.stack([np.asarray(p["corners"], float).T for p in fp], axis=2))
    c3d.add_parameter("FORCE_PLATFORM", "ORIGIN", np.stack([np.asarray(p["origin"], float) for p in fp], axis=1))
    cal = np.stack([np.eye(6) if p.get("cal_matrix") is None else np.asarray(p["cal_matrix"], float)
                    for p in fp], axis=2)
    c3d.add_parameter("FORCE_PLATFORM", "CAL_MATRIX", cal)


def write_c3d(path: Path, labels: Iterable[str], points: np.ndarray, rate_hz: float,
              events: Iterable[tuple[str, str, int]], processing: Mapping[str, float],
              genulab: Mapping[str, str], subject_name: str, is_static: bool,
              analog: Optional[AnalogBlock] = None) -> Path:
    """Write one trial.

    points: ``(F, M, 3)`` mm, NaN where the marker is missing (written as zeros, residual -1).
    events: ``(label, context, frame)`` with C3D frame numbers (first frame = 1).
    analog: optional analog channels and force plates (:class:`AnalogBlock`).
    """
    labels = list(labels)
    n_frames = points.shape[0]
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = np.array([rate_hz])
    c3d["parameters"]["POINT"]["LABELS"]["value"] = labels
    c3d["parameters"]["POINT"]["DESCRIPTIONS"]["value"] = ["" for _ in labels]
    c3d["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    missing = ~np.isfinite(points).all(axis=2)                      # (F, M)
    data = np.ones((4, len(labels), n_frames))
    data[:3] = np.transpose(np.where(missing[:, :, None], 0.0, points), (2, 1, 0))
    c3d["data"]["points"] = data
    c3d["data"]["meta_points"] = {"residuals": np.where(missing.T, -1.0, 0.0)[None, :, :],
                                  "camera_masks": np.zeros((7, len(labels), n_frames), dtype=bool)}
    if analog is not None:
        _analog(c3d, analog, n_frames)
    for label, context, frame in events:
        c3d.add_event(time=[0, (frame - 1) / rate_hz], context=context, label=label,
                      subject=subject_name, icon_id=1 if label == "Foot Strike" else 2)
    for name, value in processing.items():
        c3d.add_parameter("PROCESSING", name, np.array([float(value)]))
    for name, value in genulab.items():
        c3d.add_parameter("GENULAB", name, str(value))
    c3d.add_parameter("SUBJECTS", "NAMES", [subject_name])
    c3d.add_parameter("SUBJECTS", "MARKER_SETS", ["PlugInGait"])
    c3d.add_parameter("SUBJECTS", "USES_PREFIXES", 0)
    c3d.add_parameter("SUBJECTS", "IS_STATIC", 1 if is_static else 0)
    for name, first in (("ACTUAL_START_FIELD", 1), ("ACTUAL_END_FIELD", n_frames)):
        c3d.add_parameter("TRIAL", name, 0)          # integer parameter, then its two words
        c3d["parameters"]["TRIAL"][name]["value"] = np.array([first, 0], dtype=int)
    c3d.add_parameter("MANUFACTURER", "COMPANY", "Genu Lab")
    c3d.add_parameter("MANUFACTURER", "SOFTWARE", "genulab synthetic sample generator")
    c3d.add_parameter("MANUFACTURER", "VERSION_LABEL", "1")
    path = Path(path)
    tmp = path.with_name(path.stem + ".tmp.c3d")
    c3d.write(str(tmp))
    return _replace(tmp, path)


def write_vsk(path: Path, subject_name: str, vsk: Mapping[str, float]) -> Path:
    """Nexus-style subject file: ``<Parameter NAME=... VALUE=.../>``, angles in radians."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="no" ?>',
             f'<KinematicModel MODEL="PlugInGait" SUBJECT={quoteattr(subject_name)} '
             'GENERATOR="genulab synthetic sample generator">',
             "  <Parameters>"]
    for name, value in vsk.items():
        if name == "MarkerDiameter":
            continue                        # not a VSK parameter (a processing option)
        v = math.radians(value) if name.endswith(ANGLE_PARAMETERS) else value
        lines.append(f'    <Parameter NAME="{name}" VALUE="{v:.9g}" PRIOR="{v:.9g}"/>')
    lines += ["  </Parameters>", "</KinematicModel>", ""]
    return write_text(path, "\n".join(lines))


def write_text(path: Path, text: str) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    return _replace(tmp, path)


def _rounded(obj, digits: int):
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, float):
        return None if not math.isfinite(obj) else round(obj, digits)
    if isinstance(obj, (np.floating,)):
        return _rounded(float(obj), digits)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, dict):
        return {k: _rounded(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v, digits) for v in obj]
    return obj


def write_json(path: Path, doc: Mapping, digits: int = 6) -> Path:
    """JSON with floats rounded to ``digits`` decimals, NaN as null; per-frame arrays of
    ``[x, y, z]`` are written one frame per line to stay readable and small."""
    data = _rounded(dict(doc), digits)
    text = json.dumps(data, indent=1, separators=(",", ": "))
    text = _squeeze_number_lists(text)
    return write_text(path, text + "\n")


def _squeeze_number_lists(text: str) -> str:
    """Put innermost lists of numbers on one line (json.dumps(indent) splits every item)."""
    pattern = re.compile(r"\[\s*((?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*)\s*\]")
    return pattern.sub(lambda m: "[" + ",".join(x.strip() for x in m.group(1).split(",")) + "]", text)
