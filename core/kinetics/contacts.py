"""Which foot is on which force plate, when, and whether the contact is clean.

A *contact* is a run of consecutive frames in which a plate's vertical force is at or
above the threshold. It is given to the foot whose markers (HEE, TOE, ANK) are closest,
horizontally, to the centre of pressure on average over the run. As in Nexus, kinetics are computed
only from *clean* contacts, where

* the other foot is not on the plate: none of its markers is over the plate outline
  while lower than ``foot_height_mm`` above the surface and slower than
  ``foot_speed_mm_s`` (a foot at rest on the plate, not one swinging over it), in any
  frame of the run;
* the foot is on the plate: its HEE, TOE and ANK markers, projected on the plate plane,
  stay inside the outline grown by ``margin_mm`` in every frame of the run;
* the centre of pressure stays inside the outline while the vertical force is at least
  10 % of the contact's peak (at lower loads, at the very start and end of a contact,
  the centre of pressure is ill-defined);

Other contacts are reported with the reason, so the user sees why a plate was not used.
A plate can also be assigned by hand, as in Nexus (``assignment={plate: "L" | "R" |
"invalid"}``): its contacts then go to that foot (or to none) without these checks, all.
Foot strike and foot off of clean contacts are also gait events (source "force plate"):
the first and the last frame of the run (vertical force threshold crossing).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Optional, Sequence

import numpy as np

from core.kinematics.geometry import norm
from core.kinetics.force_plates import PlateData, plate_axes
from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent, Trial, frame_to_time

FOOT_MARKERS = ("HEE", "TOE", "ANK")
SIDE_NAMES = {"L": "Left", "R": "Right"}


@dataclass(frozen=True)
class Contact:
    """One loaded run of a plate.

    side: ``"L"``/``"R"`` (``""`` when no foot could be found); plate: 1-based plate
    number; first_row, last_row: rows of the trial (inclusive); first_frame, last_frame:
    C3D frame numbers; clean: usable for kinetics; reason: why not ("" when clean);
    both_feet: the other foot was on the plate too (kinetics of both feet are unknown).
    """

    side: str
    plate: int
    first_row: int
    last_row: int
    first_frame: int
    last_frame: int
    clean: bool
    reason: str = ""
    both_feet: bool = False

    def describe(self) -> str:
        who = f"{SIDE_NAMES.get(self.side, 'unknown')} foot" if self.side else "no foot identified"
        state = "clean" if self.clean else f"excluded: {self.reason}"
        return f"plate {self.plate}, frames {self.first_frame}-{self.last_frame}, {who}, {state}"


def loaded_runs(loaded: np.ndarray) -> list[tuple[int, int]]:
    """``(F,)`` bool -> list of ``(first_row, last_row)`` inclusive runs of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loaded.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]


@lru_cache(maxsize=64)
def _axes_cached(corners: tuple) -> tuple[np.ndarray, np.ndarray]:
    return plate_axes(np.array(corners).reshape(4, 3))


def _plate_coords(points_mm: np.ndarray, corners_mm: np.ndarray) -> np.ndarray:
    """``(..., 3)`` lab points -> ``(..., 3)`` coordinates in plate axes about the centre,
    with the third coordinate the height above the surface (sign-corrected to up)."""
    rot, centre = _axes_cached(tuple(np.asarray(corners_mm, dtype=float).ravel()))
    pts = np.asarray(points_mm, dtype=float)
    local = ((pts - centre).reshape(-1, 3) @ rot).reshape(pts.shape)
    up = 1.0 if rot[2, 2] >= 0 else -1.0
    local[..., 2] *= up
    return local


def _half_sizes(corners_mm: np.ndarray) -> np.ndarray:
    loc = _plate_coords(np.asarray(corners_mm, dtype=float), corners_mm)
    return np.abs(loc[:, :2]).max(axis=0)


def _inside(local: np.ndarray, half: np.ndarray, margin: float) -> np.ndarray:
    """``(..., 3)`` plate coordinates -> bool inside the outline grown by ``margin``."""
    return (np.abs(local[..., 0]) <= half[0] + margin) & (np.abs(local[..., 1]) <= half[1] + margin)


def _foot_points(trial: Trial, side: str) -> np.ndarray:
    """``(F, K, 3)`` of the side's foot markers present in the trial (K may be 0)."""
    idx = [trial.index(f"{side}{m}") for m in FOOT_MARKERS if trial.has(f"{side}{m}")]
    out = np.empty((trial.n_frames, len(idx), 3))
    for j, i in enumerate(idx):
        out[:, j] = trial.points[:, i]
    return out


def _speed(points: np.ndarray, rows: np.ndarray, rate_hz: float) -> np.ndarray:
    """``(F, K, 3)`` mm -> ``(N, K)`` speed (mm/s) at ``rows`` by central differences,
    NaN in the first and last frame."""
    inner = (rows > 0) & (rows < points.shape[0] - 1)
    d = points.take(np.where(inner, rows + 1, rows), axis=0) - points.take(np.where(inner, rows - 1, rows), axis=0)
    v = norm(d) * (rate_hz / 2.0)
    v[~inner] = np.nan
    return v


def _any_marker(flags: np.ndarray) -> np.ndarray:
    """``(N, K)`` -> ``(N,)`` True where any of the K markers is (False when K is 0); one
    pass per marker, as numpy reduces a short trailing axis slowly."""
    out = np.zeros(len(flags), dtype=bool)
    for j in range(flags.shape[1]):
        out |= flags[:, j]
    return out


def _any_per_run(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``(N,)`` bool over the loaded rows -> ``(R,)`` whether any is True in each run."""
    return np.logical_or.reduceat(flags, starts) if flags.size else np.zeros(len(starts), dtype=bool)


def _mean_distance_per_run(feet: np.ndarray, cop_xy: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Mean over each run of the horizontal distance (mm) between the foot markers' mean
    and the CoP, over the frames where it is defined; inf where it never is.
    ``feet``: ``(N, K, 3)`` lab mm (K may be 0); ``cop_xy``: ``(N, 2)``."""
    if feet.shape[1] == 0:
        return np.full(len(starts), np.inf)
    k = feet.shape[1]
    with np.errstate(invalid="ignore"):
        mean_x = sum(feet[:, j, 0] for j in range(k)) / k
        mean_y = sum(feet[:, j, 1] for j in range(k)) / k
        d = np.hypot(mean_x - cop_xy[:, 0], mean_y - cop_xy[:, 1])
    ok = np.isfinite(d)
    total = np.add.reduceat(np.where(ok, d, 0.0), starts)
    count = np.add.reduceat(ok.astype(float), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.inf)


def _exclusions(own: np.ndarray, opp: np.ndarray, opp_speed: np.ndarray, cop: np.ndarray, fz: np.ndarray,
                starts: np.ndarray, half: np.ndarray, limits: tuple[float, float, float], other: str) -> list[str]:
    """Why each run is not a clean contact of the foot ``own`` ("" when it is).

    own, opp: ``(N, K, 3)`` the foot's and the other foot's markers in plate coordinates
    (:func:`_plate_coords`) over the N loaded rows of the plate; opp_speed: ``(N, K)``
    mm/s; cop: ``(N, 3)`` plate coordinates; fz: ``(N,)`` N; starts: ``(R,)`` first index
    of each run in the N rows. All checks are per frame, then reduced per run.
    """
    margin_mm, foot_height_mm, foot_speed = limits
    with np.errstate(invalid="ignore"):
        resting = (opp[..., 2] < foot_height_mm) & (opp_speed < foot_speed) & _inside(opp, half, 0.0)
        peak = np.fmax.reduceat(fz, starts)
        weighted = fz >= 0.1 * np.repeat(peak, np.diff(np.append(starts, len(fz))))
    opp_on = _any_per_run(_any_marker(resting), starts)
    if own.shape[1] < len(FOOT_MARKERS):
        missing = np.ones(len(starts), dtype=bool)
    else:
        missing = _any_per_run(~np.isfinite(own.reshape(len(own), -1).sum(axis=1)), starts)
    off = _any_per_run(_any_marker(~_inside(own, half, margin_mm)), starts)
    cop_out = _any_per_run(weighted & ~_inside(cop, half, 0.5), starts)
    reasons = []
    for k in range(len(starts)):
        if opp_on[k]:
            reasons.append(f"the {SIDE_NAMES[other].lower()} foot is also on the plate")
        elif missing[k]:
            reasons.append("foot markers are missing during the contact")
        elif off[k]:
            reasons.append("the foot is partly off the plate")
        elif cop_out[k]:
            reasons.append("the centre of pressure leaves the plate outline")
        else:
            reasons.append("")
    return reasons


def assign_contacts(trial: Trial, plates: Sequence[PlateData], margin_mm: float = 20.0,
                    foot_height_mm: float = 80.0, foot_speed_mm_s: float = 300.0,
                    assignment: Optional[Mapping[int, str]] = None) -> tuple[Contact, ...]:
    """Contacts of every plate, with their foot and cleanliness (module docstring).

    Parameters
    ----------
    trial: the dynamic trial (foot markers, mm).
    plates: plate outputs at the point rate.
    margin_mm: how far outside the plate outline a foot marker may be (marker radius,
        heel marker behind the heel pad).
    foot_height_mm, foot_speed_mm_s: a marker of the other foot over the outline, lower
        than this above the plate surface and slower than this means that foot is on
        the plate.
    assignment: plate number -> ``"L"``, ``"R"`` or ``"invalid"`` for plates assigned by
        hand (others are automatic).

    Returns
    -------
    Contacts sorted by first frame.

    The checks are vectorised over the plate's loaded frames and reduced per contact
    (``numpy.ufunc.reduceat``); the only loop is over plates and the contacts' records.
    """
    out = []
    limits = (margin_mm, foot_height_mm, foot_speed_mm_s)
    feet = {side: _foot_points(trial, side) for side in SIDE_NAMES}
    for plate in plates:
        runs = loaded_runs(plate.loaded)
        if not runs:
            continue
        rows = np.flatnonzero(plate.loaded)            # the runs, back to back
        lengths = np.array([b - a + 1 for a, b in runs])
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        manual = (assignment or {}).get(plate.number, "auto")
        if manual == "auto":
            cop_xy = plate.cop_mm[rows, :2]
            at = {side: pts.take(rows, axis=0) for side, pts in feet.items()}
            dist = {side: _mean_distance_per_run(pts, cop_xy, starts) for side, pts in at.items()}
            sides = [("" if not np.isfinite(min(dist["L"][k], dist["R"][k]))
                      else "L" if dist["L"][k] <= dist["R"][k] else "R") for k in range(len(runs))]
            local = {side: _plate_coords(pts, plate.corners_mm) for side, pts in at.items()}
            cop = _plate_coords(plate.cop_mm[rows], plate.corners_mm)
            half = _half_sizes(plate.corners_mm)
            fz = plate.force_n[rows, 2]
            why = {side: _exclusions(local[side], local[other], _speed(feet[other], rows, trial.point_rate_hz),
                                     cop, fz, starts, half, limits, other)
                   for side, other in (("L", "R"), ("R", "L")) if side in sides}
            reasons = [why[side][k] if side else "no foot markers near the centre of pressure"
                       for k, side in enumerate(sides)]
        elif manual == "invalid":
            sides, reasons = [""] * len(runs), ["the plate is assigned as invalid"] * len(runs)
        else:
            sides, reasons = [manual] * len(runs), [""] * len(runs)
        for (a, b), side, reason in zip(runs, sides, reasons):
            out.append(Contact(side, plate.number, a, b, trial.first_frame + a, trial.first_frame + b,
                               not reason, reason, reason.endswith("also on the plate")))
    return tuple(sorted(out, key=lambda c: (c.first_row, c.plate)))


def force_plate_events(trial: Trial, contacts: Sequence[Contact]) -> tuple[GaitEvent, ...]:
    """Foot Strike (first loaded frame) and Foot Off (last loaded frame) of each clean
    contact, as GaitEvent with source ``"force plate"``, sorted by frame. A contact
    already loaded in the first frame of the capture has no strike, one still loaded in
    the last frame no foot off."""
    ev = []
    for c in contacts:
        if not c.clean:
            continue
        ctx = SIDE_NAMES[c.side]
        ends = ((EVENT_FOOT_STRIKE, c.first_frame, c.first_row > 0),
                (EVENT_FOOT_OFF, c.last_frame, c.last_row < trial.n_frames - 1))
        for label, frame, seen in ends:
            if seen:
                    ev.append(GaitEvent(label, ctx, int(frame), float(frame_to_time(frame, trial.point_rate_hz)),
                                    "force plate"))
    return tuple(sorted(ev, key=lambda e: (e.frame, e.context, e.label)))
