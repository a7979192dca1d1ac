"""Adapt the engine's objects to the app's view records (:mod:`app.viewdata`).

* :func:`file_outputs` - Vicon's own model outputs stored in a processed C3D (angle points,
  joint centres or the Plug-in Gait "bone" points ``LFEO/LFEP/LTIO`` ...) as
  :class:`core.model.ModelOutputs`, so that a Vicon-processed file shows its skeleton even
  before (or without) Genu Lab's own reconstruction.
* :func:`trial_view` - one :class:`TrialView` from a trial, outputs, a processed trial and a
  ``core.analysis.TrialAnalysis`` (phases, per-frame metrics, cycles).
* :func:`cycles_from_events` - foot strike to next foot strike of the same side.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

import numpy as np

from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent, ModelOutputs, Trial
from core.variables import ANGLE_CHANNELS
from app.viewdata import SIDE_INDEX, CycleSpan, PhaseSpan, TrialView

#: joint centre -> PiG bone point at the same place (femur proximal end = HJC, femur origin
#: = KJC, tibia origin = AJC; Vicon Plug-in Gait reference guide, "segment outputs")
_BONE_JOINTS = {"HJC": "FEP", "KJC": "FEO", "AJC": "TIO"}
_BONE_SEGMENTS = {"Pelvis": "PEL", "LFemur": "LFE", "RFemur": "RFE", "LTibia": "LTI",
                  "RTibia": "RTI", "LFoot": "LFO", "RFoot": "RFO"}


def _pt(trial: Trial, name: str) -> Optional[np.ndarray]:
    i = trial.index(name)
    return None if i is None else np.asarray(trial.points[:, i, :], dtype=float)


def _bone_pose(trial: Trial, code: str) -> Optional[np.ndarray]:
    """``(F, 4, 4)`` pose from the PiG bone points O (origin), A, L, P (axis ends)."""
    o, a, l, p = (_pt(trial, code + s) for s in "OALP")
    if any(v is None for v in (o, a, l, p)):
        return None
    axes = [v - o for v in (a, l, p)]
    axes = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in axes]
    pose = np.zeros((trial.n_frames, 4, 4))
    pose[:, :3, 0], pose[:, :3, 1], pose[:, :3, 2] = axes
    pose[:, :3, 3] = o
    pose[:, 3, 3] = 1.0
    return pose


def file_outputs(trial: Trial) -> Optional[ModelOutputs]:
    """Model outputs stored in the file by Vicon (None if the file holds none).

    Angle channels are taken as stored (degrees); joint centres from ``LHJC``... points or,
    failing those, from the Plug-in Gait bone points (``LFEP`` = HJC, ``LFEO`` = KJC,
    ``LTIO`` = AJC); segment poses from the bone points O/A/L/P.
    """
    channels: dict[str, np.ndarray] = {}
    for ch in ANGLE_CHANNELS:
        for s in "LR":
            p = _pt(trial, s + ch)
            if p is not None:
                channels[s + ch] = p
    for joint, bone in _BONE_JOINTS.items():
        for s in "LR":
            p = _pt(trial, s + joint)
            if p is None:
                p = _pt(trial, s + bone)
            if p is not None:
                channels[s + joint] = p
    segments = {n: p for n, code in _BONE_SEGMENTS.items() if (p := _bone_pose(trial, code)) is not None}
    if not channels and not segments:
        return None
    return ModelOutputs(channels, segments, np.full((3, 3), np.nan), trial.first_frame, trial.point_rate_hz)


def cycles_from_events(events: Iterable[GaitEvent]) -> tuple[CycleSpan, ...]:
    """Gait cycles: each foot strike to the next foot strike of the same side."""
    out: list[CycleSpan] = []
    for side in ("Left", "Right"):
        fs = sorted(e.frame for e in events if e.context == side and e.label == EVENT_FOOT_STRIKE)
        fo = sorted(e.frame for e in events if e.context == side and e.label == EVENT_FOOT_OFF)
        for k, (a, b) in enumerate(zip(fs[:-1], fs[1:]), start=1):
            off = next((f for f in fo if a < f < b), None)
            out.append(CycleSpan(side, k, a, b, off))
    return tuple(sorted(out, key=lambda c: (c.start_frame, c.side)))


def _cycles_from_analysis(analysis: Any) -> tuple[CycleSpan, ...]:
    out: list[CycleSpan] = []
    cyc = getattr(analysis, "cycles", None) or {}
    for side, spans in cyc.items():
        for k, (a, off, b) in enumerate(spans, start=1):
            out.append(CycleSpan(side, k, int(a), int(b), None if off is None else int(off)))
    if not out:
        for side, wins in (getattr(analysis, "windows", None) or {}).items():
            for w in wins:
                if getattr(w, "kind", "") != "stance":
                    out.append(CycleSpan(side, int(w.index) + 1, int(w.start_frame), int(w.end_frame),
                                         None, str(w.kind)))
    return tuple(sorted(out, key=lambda c: (c.start_frame, c.side)))


def phases_from_analysis(analysis: Any) -> tuple[PhaseSpan, ...]:
    """Valgus phases of a ``TrialAnalysis`` (or a sequence of PhaseSpan) as PhaseSpan."""
    if analysis is None:
        return ()
    items = analysis if isinstance(analysis, (list, tuple)) else getattr(analysis, "phases", ())
    out = []
    for p in items:
        if isinstance(p, PhaseSpan):
            out.append(p)
            continue
        out.append(PhaseSpan(str(p.side), int(p.onset_frame), int(p.offset_frame),
                             int(getattr(p, "peak_frame", p.onset_frame)),
                             float(getattr(p, "peak_value", np.nan)), str(getattr(p, "metric", "valgus_3d")),
                             float(getattr(p, "threshold", np.nan)), str(getattr(p, "threshold_source", ""))))
    return tuple(out)


def metrics_from_analysis(analysis: Any, n_frames: int) -> dict[str, np.ndarray]:
    """Per-frame metrics ``name -> (F, 2)`` (Left, Right) of a ``TrialAnalysis``."""
    metrics = getattr(analysis, "metrics", None) or {}
    names: set[str] = set()
    for per_side in metrics.values():
        names.update(per_side.keys())
    out = {}
    for name in names:
        arr = np.full((n_frames, 2), np.nan)
        for side, k in SIDE_INDEX.items():
            v = metrics.get(side, {}).get(name)
            if v is not None and len(v) == n_frames:
                arr[:, k] = v
        out[name] = arr
    return out


def frontal_fallback(trial: Trial, outputs: ModelOutputs) -> dict[str, np.ndarray]:
    """FPPA and MKD ``(F, 2)`` from the joint centres (``core.analysis.valgus.frontal_metrics``) with
    the progression direction as frontal normal, for trials without an analysis."""
    from core.analysis.valgus import frontal_metrics
    from app.scene_data import forward_direction, joint_positions
    ch = outputs.channels
    if not all(f"{s}{j}" in ch for s in "LR" for j in ("HJC", "KJC", "AJC")):
        return {}
    normal = forward_direction(trial, outputs, joint_positions(trial, outputs))
    fppa = np.full((trial.n_frames, 2), np.nan)
    mkd = np.full((trial.n_frames, 2), np.nan)
    for side, k in SIDE_INDEX.items():
        s = side[0]
        fppa[:, k], mkd[:, k] = frontal_metrics(ch[s + "HJC"], ch[s + "KJC"], ch[s + "AJC"], normal, side)
    return {"fppa": fppa, "mkd": mkd}


def trial_view(trial: Any, outputs: Optional[ModelOutputs] = None, analysis: Any = None,
               processed: Any = None, events: Optional[Sequence[GaitEvent]] = None) -> TrialView:
    """Build a :class:`TrialView`.

    ``trial`` may be a ``Trial``, a ``TrialView`` (returned updated with ``analysis``) or a
    processed trial (anything with ``.trial`` and ``.outputs``, e.g. ``ProcessedTrial``).
    """
    if isinstance(trial, TrialView):
        if analysis is None and outputs is None:
            return trial
        tv = trial
        return trial_view(tv.trial, outputs or tv.outputs, analysis or tv.raw_analysis,
                          tv.raw_processed, events if events is not None else tv.events)
    if not isinstance(trial, Trial) and hasattr(trial, "trial"):
        processed, trial = trial, trial.trial
    source = "none"
    if outputs is None and processed is not None and getattr(processed, "outputs", None) is not None:
        outputs, source = processed.outputs, "Genu Lab CGM1"
    elif outputs is not None:
        source = "Genu Lab CGM1"
    if outputs is None:
        outputs = file_outputs(trial)
        source = "file (Vicon)" if outputs is not None else "none"
    if events is None:
        events = tuple(getattr(processed, "events", None) or trial.events)
    cycles = _cycles_from_analysis(analysis) if analysis is not None else ()
    if not cycles:
        cycles = cycles_from_events(events)
    metrics = metrics_from_analysis(analysis, trial.n_frames) if analysis is not None else {}
    if "fppa" not in metrics and outputs is not None:
        metrics.update(frontal_fallback(trial, outputs))
    from app.kinetics_view import kinetics_view
    return TrialView(trial, outputs, source, tuple(events), cycles, phases_from_analysis(analysis), metrics,
                     str(getattr(analysis, "task", "") or ""), str(getattr(analysis, "side", "") or ""),
                     processed, analysis, kinetics_view(trial, processed, analysis))
