"""Shared builders and a strict deep comparison for the store tests."""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from core.model import (AnalogData, ForcePlate, GaitEvent, ModelOutputs, ParameterValue,
                        QualityIssue, QualityReport, SubjectParameters, Trial)
from core.store import EventEdit, PatientInfo, SessionInfo, TrialInfo, TrialRecord

#: a NaN with a non-default payload: must come back with the same bits
ODD_NAN = np.frombuffer(np.uint64(0x7FF800000000BEEF).tobytes(), dtype=np.float64)[0]


def assert_same(a: Any, b: Any, where: str = "value") -> None:
    """Strict equality: same types, arrays bit-equal (dtype, shape, bytes: NaN included)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), f"{where}: bytes differ"
        return
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, Mapping):
        assert list(a.keys()) == list(b.keys()), f"{where}: keys {list(a)} vs {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), f"{where}: length {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def make_trial(name: str = "walk_01", n_frames: int = 300, n_markers: int = 12, seed: int = 0,
               first_frame: int = 17) -> Trial:
    rng = np.random.default_rng(seed)
    pts = rng.normal(500.0, 200.0, (n_frames, n_markers, 3))
    pts[5:9, 1, :] = np.nan
    pts[20, 2, 1] = ODD_NAN
    labels = tuple(f"M{i:02d}" for i in range(n_markers))
    events = (GaitEvent("Foot Strike", "Left", first_frame + 10, (first_frame + 9) / 100.0, "file"),
              GaitEvent("Foot Off", "Right", first_frame + 50, (first_frame + 49) / 100.0, "detected"))
    return Trial(name=name, labels=labels, points=pts, point_rate_hz=100.0, first_frame=first_frame,
                 original_labels=tuple(f"Zoë:{l} " for l in labels), events=events,
                 analog=AnalogData(("Fz1", "Fx1"), ("N", "N"), 1000.0, rng.normal(size=(n_frames * 10, 2))),
                 force_plates=(ForcePlate(2, rng.normal(size=(4, 3)), np.array([0.0, 1.5, -40.0]), (0, 1, 2, 3, 4, 5)),),
                 processing={"LLegLength": 880.0, "Marker Diameter": 14.0, "Notes/x": "a/b"},
                 parameters={"GENULAB:TASK": "walk", "SUBJECTS:NAMES": "Zoë"},
                 manufacturer="Vicon", software="Nexus 2.12", path=Path("session") / f"{name}.c3d")


def make_outputs(n_frames: int = 300, first_frame: int = 17, seed: int = 1) -> ModelOutputs:
    rng = np.random.default_rng(seed)
    ch = {n: rng.normal(size=(n_frames, 3)) for n in ("LKneeAngles", "RKneeAngles", "LHJC")}
    ch["LKneeAngles"][3:7] = np.nan
    seg = {n: rng.normal(size=(n_frames, 4, 4)) for n in ("Pelvis", "LFemur")}
    return ModelOutputs(ch, seg, np.eye(3), first_frame, 100.0)


def make_record(trial_id: str = "T001", name: str = "walk_01", seed: int = 0, n_frames: int = 300) -> TrialRecord:
    trial = make_trial(name, n_frames=n_frames, seed=seed)
    subject = SubjectParameters({"LeftLegLength": ParameterValue("LeftLegLength", 880.0, "mm", "walk_01 PROCESSING"),
                                 "MarkerDiameter": ParameterValue("MarkerDiameter", 14.0, "mm", "--set")})
    edit = EventEdit("move", trial.events[0], dataclasses.replace(trial.events[0], frame=trial.events[0].frame + 2,
                                                                  source="edited"), "app",
                     dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc))
    quality = QualityReport((QualityIssue("warning", "gap", "gap of 4 frames in M01", name, "M01"),))
    info = TrialInfo(trial_id, name, f"{name}.c3d", f"{seed:064x}", task="walk", side="",
                     n_frames=trial.n_frames, rate_hz=100.0, first_frame=trial.first_frame,
                     n_events=2, n_cycles={"Left": 1, "Right": 0}, key_numbers={"speed_m_s": 1.21})
    return TrialRecord(info=info, raw=trial, subject=subject, events=trial.events, event_edits=(edit,),
                       settings={"fill_gaps_max_frames": 0, "filter": None}, outputs=make_outputs(n_frames, seed=seed + 1),
                       quality=quality, analysis=None)


def make_patient() -> PatientInfo:
    return PatientInfo(name="Zoë Example", patient_id="GL-0042", birth_date=dt.date(1991, 2, 28),
                       sex="F", height_mm=1680.0, mass_kg=61.5, notes="right knee pain")


def make_session(session_id: str = "S01", label: str = "pre") -> SessionInfo:
    return SessionInfo(session_id, label, dt.date(2024, 5, 6), "barefoot", "Dr Ex", "first visit")
