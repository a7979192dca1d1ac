"""Damaged inputs for tests/test_bad_input.py, generated at test time from the sample sessions.

Nothing here is committed as data: every file is written into a pytest ``tmp_path`` from
``sample_c3d/`` (never from ../shared/reference).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np

#: a complete subject file (JSON, VSK names, mm/kg) for the sample patient
SUBJECT = {"Bodymass": 63, "Height": 1680, "LeftLegLength": 882, "RightLegLength": 878,
           "LeftKneeWidth": 98, "RightKneeWidth": 100, "LeftAnkleWidth": 68, "RightAnkleWidth": 69}


def without(trial, *labels: str):
    """The trial without the points named ``labels`` (labels, kinds and data dropped together)."""
    keep = [i for i, l in enumerate(trial.labels) if l not in labels]

    def pick(seq):
        return tuple(seq[i] for i in keep) if seq else ()
    return trial.with_changes(labels=pick(trial.labels), original_labels=pick(trial.original_labels),
                              point_kinds=pick(trial.point_kinds), points=trial.points[:, keep])


def make_bad_files(d: Path, walk_path: Path, static_path: Path, vsk_path: Path) -> dict[str, Path]:
    """Write the damaged C3D and subject files into ``d``; returns name -> path.

    Parameters
    ----------
    d: an empty folder. walk_path, static_path, vsk_path: a sample walk, its static and VSK.
    """
    from core.io.c3d import read_c3d, write_trial_c3d
    raw = walk_path.read_bytes()
    files = {"empty": d / "empty.c3d", "truncated_header": d / "truncated_header.c3d",
             "truncated_data": d / "truncated_data.c3d", "random": d / "random.c3d",
             "text": d / "notes_renamed.c3d", "cut_on_block": d / "cut_on_block.c3d",
             "missing": d / "does_not_exist.c3d"}
    files["empty"].write_bytes(b"")
    files["truncated_header"].write_bytes(raw[:3000])                 # inside the parameter section
    files["truncated_data"].write_bytes(raw[:20000])                  # inside a frame of the point data
    files["cut_on_block"].write_bytes(raw[:(len(raw) // 3) // 4096 * 4096])  # copy cut on a 4 KiB page
    files["random"].write_bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    files["text"].write_text("Gait lab notes: patient walked 5 trials, see sheet.\n" * 60, encoding="utf-8")
    walk, static = read_c3d(walk_path), read_c3d(static_path)
    files["walk_noRKNE"] = write_trial_c3d(d / "walk_noRKNE.c3d", without(walk, "RKNE"))
    files["static_noRKNE"] = write_trial_c3d(d / "static_noRKNE.c3d", without(static, "RKNE"))
    # no subject values in the files themselves: only the subject file can give them
    files["walk_noproc"] = write_trial_c3d(d / "walk_noproc.c3d", walk.with_changes(processing={}))
    files["static_noproc"] = write_trial_c3d(d / "static_noproc.c3d", static.with_changes(processing={}))
    # a 'walking' trial (GENULAB:TASK walk, no events) in which the subject stands still
    params = dict(static.parameters)
    params["GENULAB:TASK"] = "walk"
    files["standing_walk"] = write_trial_c3d(d / "standing_walk_01.c3d",
                                             static.with_changes(parameters=params, events=()))
    subj = dict(SUBJECT)
    del subj["LeftLegLength"]
    texts = {"json_no_leg": ("no_leg_length.json", json.dumps(subj)),
             "json_text_value": ("text_value.json", json.dumps({**SUBJECT, "LeftKneeWidth": "wide"})),
             "json_negative": ("negative_knee.json", json.dumps({**SUBJECT, "RightKneeWidth": -100})),
             "json_broken": ("broken.json", '{"LeftLegLength": 88')}
    vsk = vsk_path.read_text(encoding="utf-8")
    assert 'NAME="LeftKneeWidth" VALUE="98"' in vsk
    texts["vsk_text_value"] = ("text_value.vsk", vsk.replace('NAME="LeftKneeWidth" VALUE="98"',
                                                             'NAME="LeftKneeWidth" VALUE="9 8"'))
    for key, (name, text) in texts.items():
        (d / name).write_text(text, encoding="utf-8")
        files[key] = d / name
    return files


def write_in_units(src: Path, out: Path, unit: str, scale: float) -> Path:
    """A copy of ``src`` with its points scaled by ``scale`` and POINT:UNITS set to ``unit`` (ezc3d)."""
    import ezc3d
    c = ezc3d.c3d(str(src))
    pts = c["data"]["points"]
    pts[:3] *= scale
    c["data"]["points"] = pts
    c["parameters"]["POINT"]["UNITS"]["value"] = [unit]
    c.write(str(out))
    return out


def session_folder(root: Path, label: str, files: Iterable[Path], patient_json: Optional[Path] = None,
                   patient: Optional[Mapping[str, object]] = None) -> Path:
    """``root/<label>/`` holding copies of ``files``, with patient.json beside it (copied or written)."""
    d = root / label
    d.mkdir(parents=True)
    for f in files:
        shutil.copy(f, d)
    if patient is not None:
        (root / "patient.json").write_text(json.dumps(dict(patient)), encoding="utf-8")
    elif patient_json is not None:
        shutil.copy(patient_json, root / "patient.json")
    return d


def walk_with_left_events_only(src: Path, out: Path) -> Path:
    """The walk with only the left foot's events (some labs mark one side only)."""
    from core.io.c3d import read_c3d, write_trial_c3d
    t = read_c3d(src)
    left = tuple(e for e in t.events if e.context == "Left")
    assert len(left) == 8
    return write_trial_c3d(out, t.with_changes(events=left))
