"""Write tests/data/store_v1_fixture.genu: a small store in the OLD single-file schema 1.

Run from the repository root: ``python tests/data/make_store_v1_fixture.py``. The file is
written with plain h5py, independently of ``core.store``, exactly in the layout documented
in ``core/store/migrate.py`` (what Genu Lab 0.0.x wrote), so that the migration test reads
a genuine old-format file. Deterministic (seeded); a few kB.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).with_name("store_v1_fixture.genu")
LABELS = ["LASI", "RASI", "SACR", "LKNE", "LANK", "LTOE"]
STR = h5py.string_dtype("utf-8")


def trial_arrays(seed: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """(points (F, 6, 3) mm with one NaN gap, knee angles (F, 3) deg)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None, None]
    base = np.array([[100, 120, 950], [100, -120, 950], [-60, 0, 960],
                     [110, 90, 500], [90, 80, 80], [220, 80, 40]], dtype=float)[None]
    points = base + np.array([12.0, 0.0, 0.0]) * t + rng.normal(0, 0.5, (n_frames, 6, 3))
    points[10:14, 4, :] = np.nan
    knee = np.stack([30 * np.sin(np.linspace(0, 2 * np.pi, n_frames)), 2 + 0 * t[:, 0, 0],
                     rng.normal(0, 1, n_frames)], axis=1)
    return points, knee


def write_trial(group: h5py.Group, name: str, seed: int, static: bool, task: str) -> None:
    g = group.create_group(name)
    n = 40 if static else 60
    points, knee = trial_arrays(seed, n)
    g.attrs.update({"source_file": f"{name}.c3d", "sha256": f"{seed:064x}", "rate_hz": 100.0,
                    "first_frame": 5, "static": int(static), "task": task,
                    "app_version": "0.0.9",
                    "settings_json": json.dumps({"marker_diameter": 14.0, "fill_gaps_max_frames": 0})})
    g.create_dataset("points", data=points)
    g.create_dataset("labels", data=np.array(LABELS, dtype=object), dtype=STR)
    ev = g.create_group("events")
    frames = [] if static else [12, 31, 52]
    ev.create_dataset("frame", data=np.array(frames, dtype=np.int64))
    ev.create_dataset("label", data=np.array(["Foot Strike", "Foot Off", "Foot Strike"][:len(frames)], dtype=object), dtype=STR)
    ev.create_dataset("context", data=np.array(["Left"] * len(frames), dtype=object), dtype=STR)
    if not static:
        out = g.create_group("outputs")
        out.create_dataset("LKneeAngles", data=knee)
        out.create_dataset("progression", data=np.eye(3))


def main() -> Path:
    with h5py.File(OUT, "w") as f:
        f.attrs.update({"format": "genulab-store", "schema_version": 1, "app_version": "0.0.9"})
        p = f.create_group("patient")
        p.attrs.update({"name": "Zoë Fixture", "id": "FIX-001", "dob": "1985-04-23", "sex": "F",
                        "notes": "old-format fixture"})
        for label, date, seed in (("pre", "2023-02-01", 1), ("post", "2023-03-15", 3)):
            s = f.create_group(f"sessions/{label}")
            s.attrs.update({"date": date, "condition": "barefoot", "examiner": "AB", "notes": ""})
            tg = s.create_group("trials")
            write_trial(tg, f"{label}_static_01", seed, True, "static")
            write_trial(tg, f"{label}_walk_01", seed + 1, False, "walk")
    return OUT


if __name__ == "__main__":
    print(main())
