"""What a report is made from: patient and session details, the processed session, its
analysis, the pre/post comparison and images passed in by the caller.

The report never renders 3D itself: the 3D snapshots (``(H, W, 3)`` uint8 images, frontal
view at peak valgus, made by ``app.scene.render_snapshot``) are handed in through
``snapshots``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import numpy as np


def _checked_date(value: object) -> str:
    """An ISO date (YYYY-MM-DD) as given, or the value marked invalid so a reader is not misled."""
    import datetime as _dt
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return _dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return f"{text} (invalid date)"


@dataclass(frozen=True)
class PatientInfo:
    """Patient details as printed (strings as entered; empty when unknown)."""

    name: str
    patient_id: str
    birth_date: str = ""
    sex: str = ""
    height_mm: Optional[float] = None
    mass_kg: Optional[float] = None

    @classmethod
    def from_mapping(cls, d: Optional[Mapping[str, object]]) -> "PatientInfo":
        """From a ``patient.json``-like mapping (keys name, patient_id or id, birth_date, sex ...)."""
        d = dict(d or {})

        def num(key: str) -> Optional[float]:
            v = d.get(key)
            try:
                return float(v) if v not in (None, "") else None
            except (TypeError, ValueError):
                return None
        return cls(name=str(d.get("name", "") or "Unknown patient"),
                   patient_id=str(d.get("patient_id", d.get("id", "")) or "-"),
                   birth_date=_checked_date(d.get("birth_date", d.get("dob", ""))),
                   sex=str(d.get("sex", "") or ""), height_mm=num("height_mm"), mass_kg=num("mass_kg"))


@dataclass(frozen=True)
class SessionInfo:
    """Session details as printed."""

    label: str
    date: str = ""
    condition: str = ""
    examiner: str = ""
    notes: str = ""

    @classmethod
    def from_patient_record(cls, label: str, patient: Optional[Mapping[str, object]]) -> "SessionInfo":
        """From the ``sessions`` entry of a ``patient.json`` (if any) for this label."""
        rec = {}
        if patient and isinstance(patient.get("sessions"), Mapping):
            rec = dict(patient["sessions"].get(label, {}) or {})
        return cls(label=label, date=str(rec.get("date", "") or ""), condition=str(rec.get("condition", "") or ""),
                   examiner=str(rec.get("examiner", "") or ""), notes=str(rec.get("notes", "") or ""))


@dataclass(frozen=True)
class SessionReportInput:
    """One session: what the single-session report and each half of a comparison use.

    processed: ``core.gait.pipeline.ProcessedSession``; analysis: ``core.analysis.SessionAnalysis``;
    snapshots: ``"task/side"`` -> ``(H, W, 3)`` uint8 frontal snapshot at the peak valgus of
    that task and side (optional); event_edits: trial name -> number of edited events.
    """

    patient: PatientInfo
    session: SessionInfo
    processed: object
    analysis: object
    snapshots: Mapping[str, np.ndarray] = field(default_factory=dict)
    event_edits: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportOptions:
    """Presentation options. lab_name: printed on every page; software: version line."""

    lab_name: str = "Gait Laboratory"
    software: str = ""
    show_cycles: bool = True
