"""What a trial is meant to be, from its name and C3D parameters: the task vocabulary and
the walking test, needed by the gait pipeline (event detection only on walks) and by the
clinical analysis (core.analysis.tasks), so it sits in the lower layer.

The vocabulary and aliases follow docs/valgus.md; the walking test is the pelvis travel of
cgm1_spec section 4 (progression from the pelvis displacement).
"""
from __future__ import annotations

import re
from typing import Mapping, Optional

import numpy as np

from core.model import ModelOutputs, Trial

#: task vocabulary (docs/valgus.md)
TASKS = ("walk", "sls", "sl_stance", "drop_jump", "sl_landing")
#: single-leg tasks (a stance side is needed)
SINGLE_LEG_TASKS = ("sls", "sl_stance", "sl_landing")

TASK_ALIASES: Mapping[str, str] = {
    "walk": "walk", "walking": "walk", "gait": "walk",
    "sls": "sls", "squat": "sls", "single_leg_squat": "sls", "singlelegsquat": "sls",
    "step_down": "sls", "stepdown": "sls", "sl_squat": "sls",
    "sl_stance": "sl_stance", "stance": "sl_stance", "balance": "sl_stance",
    "single_leg_stance": "sl_stance", "sls_hold": "sl_stance",
    "drop_jump": "drop_jump", "dropjump": "drop_jump", "dvj": "drop_jump", "drop": "drop_jump",
    "jump": "drop_jump", "drop_vertical_jump": "drop_jump",
    "sl_landing": "sl_landing", "landing": "sl_landing", "land": "sl_landing", "hop": "sl_landing",
    "single_leg_landing": "sl_landing",
}
SIDE_ALIASES: Mapping[str, str] = {"l": "Left", "left": "Left", "r": "Right", "right": "Right"}
WALK_TRAVEL_MM = 800.0   # pelvis travel above which a trial is walking (as cgm1_spec section 4)


def canonical_task(value: object) -> Optional[str]:
    """Task vocabulary name of a user/C3D value (aliases accepted), None if unknown/empty."""
    if value is None:
        return None
    key = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    return TASK_ALIASES.get(key, key if key in TASKS else None)


def canonical_side(value: object) -> Optional[str]:
    """``"Left"``/``"Right"`` from ``L``, ``left``, ``R``... (None if unknown/empty)."""
    if value is None:
        return None
    return SIDE_ALIASES.get(str(value).strip().lower())


def task_from_name(name: str) -> tuple[Optional[str], Optional[str]]:
    """Task and side from keywords of a trial name, e.g. ``pre_sls_R_01`` -> ("sls", "Right")."""
    low = name.lower()
    tokens = [re.sub(r"\d+$", "", t) for t in re.split(r"[^a-z0-9]+", low) if t]
    task = None
    if re.search(r"sl_?land|single.?leg.?land|hop", low):
        task = "sl_landing"
    elif re.search(r"drop|jump|dvj", low):
        task = "drop_jump"
    elif re.search(r"squat|sls(?!_?hold)|step.?down", low):
        task = "sls"
    elif re.search(r"stance|balance|hold", low):
        task = "sl_stance"
    elif re.search(r"walk|gait", low):
        task = "walk"
    elif "land" in tokens or "landing" in tokens:
        task = "sl_landing"
    side = next((SIDE_ALIASES[t] for t in tokens if t in SIDE_ALIASES), None)
    return task, side


def pelvis_travel_mm(trial: Optional[Trial], outputs: Optional[ModelOutputs]) -> float:
    """Horizontal distance (mm) between the first and last valid pelvis positions."""
    pos = None
    if outputs is not None and "Pelvis" in outputs.segments:
        pos = np.asarray(outputs.segments["Pelvis"])[:, :3, 3]
    elif trial is not None and trial.has("LASI") and trial.has("RASI"):
        pos = 0.5 * (trial.point("LASI") + trial.point("RASI"))
    if pos is None:
        return float("nan")
    ok = np.flatnonzero(np.isfinite(pos).all(axis=1))
    if ok.size < 2:
        return float("nan")
    d = pos[ok[-1]] - pos[ok[0]]
    return float(np.hypot(d[0], d[1]))
