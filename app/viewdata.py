"""What the views show, adapted from the engine's result objects (no Qt, no VTK).

The engine's objects (``Trial``, ``ModelOutputs``, ``ProcessedTrial``, ``TrialAnalysis``,
``SessionAnalysis``...) are kept untouched in ``raw`` fields; these small frozen records hold
the few arrays the GUI needs in one shape, so that widgets never guess attribute names.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from core.model import GaitEvent, ModelOutputs, SubjectParameters, Trial

SIDE_INDEX = {"Left": 0, "Right": 1}


@dataclass(frozen=True)
class PhaseSpan:
    """One valgus phase as the timeline and the 3D overlay show it.

    onset_frame/offset_frame/peak_frame: C3D frame numbers (inclusive); peak_value in the
    metric's unit; metric e.g. ``"valgus_3d"`` or ``"fppa"``; threshold with its source.
    """

    side: str
    onset_frame: int
    offset_frame: int
    peak_frame: int
    peak_value: float
    metric: str = "valgus_3d"
    threshold: float = float("nan")
    threshold_source: str = ""


@dataclass(frozen=True)
class CycleSpan:
    """A gait cycle or task window: side, index (1-based), C3D frames start..end.

    kind: ``"cycle"`` (foot strike to foot strike) or the analysis' task window kind
    (``"repetition"`` of a squat, ``"landing"``, ``"hold"``).
    """

    side: str
    index: int
    start_frame: int
    end_frame: int
    foot_off_frame: Optional[int] = None
    kind: str = "cycle"

    @property
    def label(self) -> str:
        return f"{self.side} {self.kind} {self.index}  ({self.start_frame}-{self.end_frame})"


@dataclass(frozen=True)
class ValgusOverlay:
    """Per-frame valgus data of one trial: ``(F, 2)`` arrays, columns Left, Right."""

    valgus: np.ndarray
    fppa: np.ndarray
    in_phase: np.ndarray
    metric: str = "valgus_3d"


@dataclass(frozen=True)
class TrialView:
    """One trial as the app shows it.

    trial: the raw trial; outputs: model outputs (CGM1 or Vicon's from the file) or None;
    source: where the outputs came from (``"Genu Lab CGM1"``, ``"file (Vicon)"``, ``"none"``);
    events: the current events (file, detected or edited); cycles and phases as spans;
    metrics: name -> ``(F, 2)`` per-frame valgus metrics (Left, Right); raw_*: engine objects.
    kinetics: :class:`app.kinetics_view.KineticsView` (moments, powers, plates, contact
    quality) or None when the trial has neither kinetics nor force plates.
    """

    trial: Trial
    outputs: Optional[ModelOutputs]
    source: str = "none"
    events: tuple[GaitEvent, ...] = ()
    cycles: tuple[CycleSpan, ...] = ()
    phases: tuple[PhaseSpan, ...] = ()
    metrics: dict = field(default_factory=dict)
    task: str = ""
    task_side: str = ""
    raw_processed: Any = None
    raw_analysis: Any = None
    kinetics: Any = None

    @property
    def name(self) -> str:
        return self.trial.name

    @property
    def path(self) -> Optional[Path]:
        return self.trial.path

    def overlay(self) -> ValgusOverlay:
        """The valgus overlay for the 3D view (phases -> per-frame flags)."""
        F = self.trial.n_frames
        valgus = self.metrics.get("valgus_3d")
        if valgus is None and self.outputs is not None:
            valgus = np.full((F, 2), np.nan)
            for s, k in SIDE_INDEX.items():
                ch = self.outputs.channels.get(f"{s[0]}KneeAngles")
                if ch is not None:
                    valgus[:, k] = -np.asarray(ch)[:, 1]
        valgus = np.full((F, 2), np.nan) if valgus is None else valgus
        fppa = self.metrics.get("fppa", np.full((F, 2), np.nan))
        in_phase = np.zeros((F, 2), dtype=bool)
        rows = self.trial.frames
        for p in self.phases:
            in_phase[(rows >= p.onset_frame) & (rows <= p.offset_frame), SIDE_INDEX[p.side]] = True
        metric = self.phases[0].metric if self.phases else "valgus_3d"
        mag = fppa if metric == "fppa" and np.isfinite(fppa).any() else valgus
        return ValgusOverlay(mag, fppa, in_phase, metric)


@dataclass(frozen=True)
class SessionView:
    """A session: patient, label (e.g. "pre"), folder or store, trials, analysis, subject.

    store_path / store_session: the patient store and session id it was loaded from (event
    edits are saved back there), or None / "" for a session opened from C3D files.
    """

    patient: str
    label: str
    trials: tuple[TrialView, ...]
    path: Optional[Path] = None
    subject: Optional[SubjectParameters] = None
    static_name: str = ""
    raw_session: Any = None
    raw_analysis: Any = None
    notes: tuple[str, ...] = ()
    store_path: Optional[Path] = None
    store_session: str = ""

    @property
    def key(self) -> str:
        return f"{self.patient}/{self.label}"
