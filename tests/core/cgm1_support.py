"""Shared helpers of the CGM1 tests: loading reference trials, building subjects, comparing."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from core.io.c3d import read_c3d
from core.model import ModelOutputs, ParameterValue, SubjectParameters, Trial


@lru_cache(maxsize=64)
def load_trial(path: Path) -> Trial:
    """A reference trial read with the project's reader."""
    return read_c3d(path)


def subject_from(values: Mapping[str, float], source: str = "test") -> SubjectParameters:
    """SubjectParameters from VSK-named values (mm, degrees)."""
    units = {"FootFlat": "", "Rotation": "deg", "Torsion": "deg", "PlantFlex": "deg", "RotOff": "deg"}

    def unit_of(name: str) -> str:
        for k, u in units.items():
            if name.endswith(k):
                return u
        return "mm"
    return SubjectParameters({k: ParameterValue(k, float(v), unit_of(k), source)
                              for k, v in values.items()})


def bare(label: str) -> str:
    """Vicon output label without subject prefix or the Nexus 1.x 'V' suffix."""
    label = label.split(":")[-1].strip()
    if label.endswith("AnglesV"):
        label = label[:-1]
    return label


def vicon_point(trial: Trial, name: str) -> Optional[np.ndarray]:
    """A Vicon output point ``(F, 3)`` by bare name (NaN where invalid), or None."""
    for i, l in enumerate(trial.labels):
        if bare(l) == name:
            return np.asarray(trial.points[:, i, :], dtype=float)
    return None


def compare(ours: np.ndarray, theirs: np.ndarray, angle: bool = True) -> dict:
    """Per-component RMS and max |diff| over frames valid in both, and gap agreement.

    Returns a dict with ``rms`` (3,), ``max`` (3,), ``n`` (frames compared),
    ``only_ours`` / ``only_theirs`` (frames valid in one only).
    """
    ok_o = np.isfinite(ours).all(axis=1)
    ok_t = np.isfinite(theirs).all(axis=1)
    both = ok_o & ok_t
    d = ours[both] - theirs[both]
    if angle:
        d = (d + 180.0) % 360.0 - 180.0
    rms = np.sqrt(np.mean(d ** 2, axis=0)) if both.any() else np.full(3, np.nan)
    mx = np.max(np.abs(d), axis=0) if both.any() else np.full(3, np.nan)
    return {"rms": rms, "max": mx, "n": int(both.sum()),
            "only_ours": int((ok_o & ~ok_t).sum()), "only_theirs": int((ok_t & ~ok_o).sum())}


def compare_centre(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """3-D distance (mm) between joint centres over frames valid in both."""
    ok_o = np.isfinite(ours).all(axis=1)
    ok_t = np.isfinite(theirs).all(axis=1)
    both = ok_o & ok_t
    dist = np.linalg.norm(ours[both] - theirs[both], axis=1)
    return {"rms": float(np.sqrt(np.mean(dist ** 2))) if both.any() else np.nan,
            "max": float(dist.max()) if both.any() else np.nan, "n": int(both.sum()),
            "only_ours": int((ok_o & ~ok_t).sum()), "only_theirs": int((ok_t & ~ok_o).sum())}


def outputs_channel(outputs: ModelOutputs, name: str) -> np.ndarray:
    return np.asarray(outputs.channels[name])
