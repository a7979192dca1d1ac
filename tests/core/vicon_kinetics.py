"""Vicon's stored Plug-in Gait kinetics wrapped in the shape of the engine's KineticsResult.

The reference files hold Vicon's own ``LKneeMoment`` ... (POINT kind "moment"), powers and
ground reaction forces. Until ``ProcessedTrial.kinetics`` is filled by the pipeline, the
analysis, the report and the app are tested on these real values: the plates come from
``core.kinetics.force_plates.compute_plates`` on the same file, the contacts are the runs
where Vicon's ``{L,R}GroundReactionForce`` is defined (the contacts Vicon used), on the plate
loaded there. Test support only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from core.kinetics.force_plates import compute_plates

KINDS = ("moment", "power", "force")


@dataclass(frozen=True)
class StoredContact:
    side: str
    plate: int
    first_row: int
    last_row: int
    first_frame: int
    last_frame: int
    clean: bool
    reason: str = ""


@dataclass(frozen=True)
class StoredKinetics:
    channels: Mapping[str, np.ndarray]
    units: Mapping[str, str]
    plates: tuple
    contacts: tuple
    events: tuple = ()
    issues: tuple = ()
    body_mass_kg: float = float("nan")
    first_frame: int = 1
    rate_hz: float = 100.0
    extra: Mapping = field(default_factory=dict)

    @property
    def clean_contacts(self):
        return tuple(c for c in self.contacts if c.clean)


def _runs(mask: np.ndarray, max_gap: int = 10) -> list[tuple[int, int]]:
    """Runs of True rows; runs separated by at most ``max_gap`` rows are one contact (Vicon's
    stored channels have short gaps inside a stance)."""
    d = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
    runs = list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))
    merged: list[tuple[int, int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] - 1 <= max_gap:
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def stored_kinetics(trial, body_mass_kg: float, unclean: Mapping[str, str] = None) -> StoredKinetics:
    """Vicon's kinetics of a read trial; ``unclean``: side letter -> reason to mark its contacts unclean
    (their channels are then blanked as the engine does)."""
    unclean = dict(unclean or {})
    labels = list(trial.labels)
    ch = {l: np.array(trial.points[:, i], dtype=float) for i, (l, k) in enumerate(zip(labels, trial.point_kinds))
          if k in KINDS and l[:1] in "LR"}
    plates, _ = compute_plates(trial)
    contacts = []
    for side in ("L", "R"):
        grf = ch.get(f"{side}GroundReactionForce")
        if grf is None:
            continue
        for a, b in _runs(np.isfinite(grf[:, 2]) & (np.abs(grf[:, 2]) > 0)):
            load = [int(np.sum(p.loaded[a:b + 1])) for p in plates]
            plate = int(np.argmax(load)) + 1 if load and max(load) else 0
            bad = side in unclean
            contacts.append(StoredContact(side, plate, int(a), int(b), int(a + trial.first_frame),
                                          int(b + trial.first_frame), not bad, unclean.get(side, "")))
            if bad:
                for name in ch:
                    if name.startswith(side) and not name.endswith("GroundReactionForce"):
                        ch[name][a:b + 1] = np.nan
    units = {k: ("Nmm/kg" if "Moment" in k else "W/kg" if "Power" in k else "N/kg") for k in ch}
    return StoredKinetics(ch, units, tuple(plates), tuple(contacts), body_mass_kg=body_mass_kg,
                          first_frame=trial.first_frame, rate_hz=trial.point_rate_hz)


def with_kinetics(processed, kinetics):
    """The processed trial with the given ``kinetics`` (``ProcessedTrial.kinetics``)."""
    from dataclasses import dataclass as _dc, fields as _fields, replace as _replace
    if "kinetics" in {f.name for f in _fields(processed)}:
        return _replace(processed, kinetics=kinetics)
    from typing import Any

    @_dc(frozen=True)
    class ProcessedWithKinetics(type(processed)):
        kinetics: Any = None

    return ProcessedWithKinetics(**{f.name: getattr(processed, f.name) for f in _fields(processed)},
                                 kinetics=kinetics)


def scaled(kinetics: StoredKinetics, side: str, factor: float) -> StoredKinetics:
    """The same kinetics with the side's knee moment multiplied by ``factor`` (a known change)."""
    ch = dict(kinetics.channels)
    ch[f"{side}KneeMoment"] = ch[f"{side}KneeMoment"] * factor
    return StoredKinetics(ch, kinetics.units, kinetics.plates, kinetics.contacts, kinetics.events, kinetics.issues,
                          kinetics.body_mass_kg, kinetics.first_frame, kinetics.rate_hz)
