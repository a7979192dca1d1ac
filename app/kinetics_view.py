"""What the app shows of a trial's kinetics (no Qt, no VTK): channels, plates, contact quality.

Source of the kinetics, in order: the engine's result (``ProcessedTrial.kinetics``), else
Vicon's own kinetic outputs stored in the C3D (moment / power / force points), as the app
already shows Vicon's angles for a file it cannot process. Plates: the engine's
``PlateData``, else ``core.kinetics.force_plates.compute_plates`` on the trial (the file's
FORCE_PLATFORM group), so the ground reaction force is drawn on any file with plates.

Plate state codes per frame and plate (``plate_state``): 0 unloaded, 1 loaded by a clean
Left contact, 2 clean Right contact, 3 loaded but excluded (two feet, foot off the plate
...), 4 loaded without a contact check (no engine result).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np

from core.errors import GenuError

UNLOADED, CLEAN_LEFT, CLEAN_RIGHT, EXCLUDED, UNCHECKED = 0, 1, 2, 3, 4
_KINDS = ("moment", "power", "force")


@dataclass(frozen=True)
class KineticsView:
    """Kinetics of one trial as the app shows them.

    channels: Vicon name (``LKneeMoment`` ...) -> ``(F, 3)`` in Vicon units (N.mm/kg, W/kg,
    N/kg); source: ``"Genu Lab"`` or ``"file (Vicon)"``; corners: ``(P, 4, 3)`` plate
    corners (mm); force: ``(F, P, 3)`` force on the subject (N); cop: ``(F, P, 3)`` centre
    of pressure (mm, NaN unloaded); plate_state: ``(F, P)`` codes (module docstring);
    contacts: ``core.analysis.kinetics_types.ContactQuality``; windows: the analysis'
    ``WindowKinetics`` (per stance / repetition); reason: why there are none (analysis).
    """

    channels: Mapping[str, np.ndarray] = field(default_factory=dict)
    source: str = ""
    corners: np.ndarray = field(default_factory=lambda: np.zeros((0, 4, 3)))
    force: Optional[np.ndarray] = None
    cop: Optional[np.ndarray] = None
    plate_state: Optional[np.ndarray] = None
    contacts: tuple = ()
    windows: tuple = ()
    reason: str = ""

    @property
    def n_plates(self) -> int:
        return int(self.corners.shape[0])


def _file_channels(trial) -> dict[str, np.ndarray]:
    kinds = getattr(trial, "point_kinds", ())
    return {l: np.asarray(trial.points[:, i], dtype=float) for i, (l, k) in enumerate(zip(trial.labels, kinds))
            if k in _KINDS and l[:1] in "LR"}


def _plates(trial, engine) -> tuple:
    if engine is not None and getattr(engine, "plates", None):
        return tuple(engine.plates)
    if not getattr(trial, "force_plates", ()):
        return ()
    try:
        from core.kinetics.force_plates import compute_plates
        return tuple(compute_plates(trial)[0])
    except (GenuError, ValueError, IndexError):
        return ()


def plate_states(n_frames: int, first_frame: int, plates, contacts) -> np.ndarray:
    """``(F, P)`` state codes from the plates' loaded flags and the contacts' quality."""
    state = np.zeros((n_frames, len(plates)), dtype=np.int8)
    for p, plate in enumerate(plates):
        loaded = np.asarray(plate.loaded, dtype=bool)[:n_frames]
        state[:loaded.shape[0], p] = np.where(loaded, UNCHECKED if not contacts else EXCLUDED, UNLOADED)
    for c in contacts:
        p = int(c.plate) - 1
        if not 0 <= p < len(plates):
            continue
        a, b = max(c.first_frame - first_frame, 0), min(c.last_frame - first_frame, n_frames - 1)
        code = (CLEAN_LEFT if c.side == "Left" else CLEAN_RIGHT) if c.clean else EXCLUDED
        rows = slice(a, b + 1)
        state[rows, p] = np.where(state[rows, p] != UNLOADED, code, UNLOADED)
    return state


def _foot_xy(trial, side: str) -> Optional[np.ndarray]:
    """``(F, 2)`` mean floor position of a foot's heel, ankle and toe markers (NaN where none)."""
    cols = [trial.point(f"{side}{m}")[:, :2] for m in ("HEE", "ANK", "TOE") if trial.has(f"{side}{m}")]
    if not cols:
        return None
    stack = np.stack(cols)
    n = np.isfinite(stack).all(axis=2).sum(axis=0)
    with np.errstate(invalid="ignore"):
        return np.where(n[:, None] > 0, np.nansum(stack, axis=0) / np.maximum(n, 1)[:, None], np.nan)


def vicon_sides(state: np.ndarray, channels: Mapping[str, np.ndarray], trial=None,
                cop: Optional[np.ndarray] = None) -> np.ndarray:
    """Unchecked loaded rows take the foot Vicon used: a side whose stored
    ``{L,R}GroundReactionForce`` is defined at that row (Vicon writes it on the contacts it
    used) and, when both are, the foot nearer the plate's centre of pressure."""
    out = state.copy()
    F, P = state.shape
    dist = np.full((2, F, P), np.inf)
    for k, side in enumerate("LR"):
        grf = channels.get(f"{side}GroundReactionForce")
        if grf is None or grf.shape[0] != F:
            continue
        on = np.isfinite(grf).all(axis=1)[:, None] & (state == UNCHECKED)
        foot = _foot_xy(trial, side) if trial is not None and cop is not None else None
        d = np.zeros((F, P)) if foot is None else np.linalg.norm(cop[:, :, :2] - foot[:, None, :], axis=2)
        dist[k] = np.where(on & ~np.isnan(d), d, np.where(on, 1e9, np.inf))
    best = np.argmin(dist, axis=0)
    known = np.isfinite(dist.min(axis=0))
    out[known] = np.where(best[known] == 0, CLEAN_LEFT, CLEAN_RIGHT)
    return out


def kinetics_view(trial, processed: Any = None, analysis: Any = None) -> Optional[KineticsView]:
    """The kinetics of a trial for the views, or None when it has neither kinetics nor plates."""
    engine = getattr(processed, "kinetics", None)
    ak = getattr(analysis, "kinetics", None)
    channels = dict(engine.channels) if engine is not None else _file_channels(trial)
    source = "Genu Lab" if engine is not None else ("file (Vicon)" if channels else "")
    plates = _plates(trial, engine)
    if not channels and not plates:
        return None
    contacts = tuple(ak.contacts) if ak is not None and ak.available else ()
    if not contacts and engine is not None:
        from core.analysis.kinetics import contact_qualities
        contacts = contact_qualities(engine, trial.point_rate_hz)
    F = trial.n_frames
    corners = np.array([p.corners_mm for p in plates], dtype=float).reshape(-1, 4, 3)
    force = np.stack([np.asarray(p.force_n, float)[:F] for p in plates], axis=1) if plates else None
    cop = np.stack([np.asarray(p.cop_mm, float)[:F] for p in plates], axis=1) if plates else None
    state = plate_states(F, trial.first_frame, plates, contacts) if plates else None
    if state is not None and not contacts and source == "file (Vicon)":
        state = vicon_sides(state, channels, trial, cop)
    return KineticsView(channels, source, corners, force, cop, state, contacts,
                        tuple(ak.windows) if ak is not None else (), ak.reason if ak is not None else "")


def contact_lines(kv: Optional[KineticsView]) -> list[str]:
    """Plain lines of the per-window contact quality and knee-moment peaks (info panel)."""
    if kv is None:
        return []
    out = []
    for w in kv.windows:
        head = f"{w.side} {w.window_kind} {w.window_index + 1} ({w.start_frame}-{w.end_frame})"
        if w.computed:
            out.append(f"{head}: plate {w.plate} clean; ext. knee abduction moment {w.peak_abduction_moment:.2f} "
                       f"N.m/kg @ {w.peak_abduction_frame}, adduction {w.peak_adduction_moment:.2f} @ "
                       f"{w.peak_adduction_frame}")
        else:
            out.append(f"{head}: {w.reason}")
    if not kv.windows:
        for c in kv.contacts:
            out.append(f"plate {c.plate} {c.first_frame}-{c.last_frame} {c.side or 'no foot'}: "
                       + ("clean" if c.clean else f"excluded, {c.reason}"))
    if not out and kv.source == "file (Vicon)":
        out.append(f"{kv.n_plates} plate(s); contacts not checked by Genu Lab: Vicon's stored kinetics shown, "
                   "arrows coloured by the foot Vicon assigned")
        if kv.reason:
            out.append(f"Genu Lab kinetics: none ({kv.reason})")
    elif not out and kv.reason:
        out.append(kv.reason)
    return out
