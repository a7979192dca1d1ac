"""Write tests/data/store_v2_fixture.genu: a small store of schema 2 as written BEFORE kinetics.

The committed fixture was written by Genu Lab at commit a9be2bb (store schema 2, results
without ``TrialAnalysis.kinetics`` / ``ProcessedTrial.kinetics``), by running this script with
that version's code on the path (from the repository root of a checkout of that commit)::

    PYTHONPATH=<checkout of a9be2bb> python tests/data/make_store_v2_fixture.py

so that tests/core/test_store_kinetics.py opens a genuine store of the previous layout with
the current code. The data are deterministic (seeded) and small: one patient, one session,
one walking trial of 60 frames with CGM1-shaped outputs and a hand-built analysis (one stance
window per side, no valgus phase).
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np


from core.analysis.types import TaskDecision, TaskWindow, TrialAnalysis  # noqa: E402
from core.model import GaitEvent, ModelOutputs, QualityReport, Trial  # noqa: E402
from core.store import PatientStore  # noqa: E402
from core.store.schema import PatientInfo, SessionInfo, TrialInfo, TrialRecord  # noqa: E402

OUT = Path(__file__).with_name("store_v2_fixture.genu")
LABELS = ("LASI", "RASI", "SACR", "LKNE", "LANK", "LTOE")


def trial_and_outputs() -> tuple[Trial, ModelOutputs]:
    rng = np.random.default_rng(7)
    n, first = 60, 11
    t = np.arange(n)[:, None, None]
    base = np.array([[100, 120, 950], [100, -120, 950], [-60, 0, 960],
                     [110, 90, 500], [90, 80, 80], [220, 80, 40]], dtype=float)[None]
    points = base + np.array([12.0, 0.0, 0.0]) * t + rng.normal(0, 0.5, (n, 6, 3))
    events = tuple(GaitEvent(label, side, f, (f - 1) / 100.0, "file") for label, side, f in
                   (("Foot Strike", "Left", 15), ("Foot Off", "Left", 35), ("Foot Strike", "Left", 55),
                    ("Foot Strike", "Right", 20), ("Foot Off", "Right", 40), ("Foot Strike", "Right", 60)))
    trial = Trial(name="walk_01", labels=LABELS, points=points, point_rate_hz=100.0, first_frame=first, events=events)
    knee = np.stack([30 * np.sin(np.linspace(0, 2 * np.pi, n)), 2 + rng.normal(0, 0.5, n), rng.normal(0, 1, n)], axis=1)
    outputs = ModelOutputs({"LKneeAngles": knee, "RKneeAngles": knee[::-1].copy()}, {}, np.eye(3), first, 100.0)
    return trial, outputs


def analysis(n: int, first: int) -> TrialAnalysis:
    rng = np.random.default_rng(8)
    wins = {"Left": (TaskWindow("stance", 0, "Left", 15, 35, None, 15, 55),),
            "Right": (TaskWindow("stance", 0, "Right", 20, 40, None, 20, 60),)}
    metrics = {s: {"valgus_3d": rng.normal(0, 2, n)} for s in wins}
    return TrialAnalysis(trial_name="walk_01", task="walk", side=None,
                         decision=TaskDecision("walk", None, "detected", "not applicable", "fixture"),
                         rate_hz=100.0, first_frame=first, n_frames=n, metrics=metrics,
                         thresholds={s: {"valgus_3d": np.full(n, 5.0)} for s in wins},
                         frontal_normal={s: np.array([0.0, 1.0, 0.0]) for s in wins}, windows=wins, phases=(),
                         window_peaks={s: {"valgus_3d": np.array([float(np.max(m["valgus_3d"]))])}
                                       for s, m in metrics.items()},
                         phase_metric="valgus_3d", threshold_text="fixture threshold 5 deg",
                         threshold_source="fixture")


def main() -> Path:
    shutil.rmtree(OUT, ignore_errors=True)
    trial, outputs = trial_and_outputs()
    info = TrialInfo("T001", "walk_01", "walk_01.c3d", "ab" * 32, task="walk", n_frames=trial.n_frames,
                     rate_hz=100.0, first_frame=trial.first_frame, n_events=len(trial.events))
    rec = TrialRecord(info=info, raw=trial, events=trial.events, outputs=outputs, quality=QualityReport(),
                      analysis=analysis(trial.n_frames, trial.first_frame))
    store = PatientStore.create(OUT, PatientInfo(name="Kin Fixture", patient_id="FIX-002", sex="F"))
    try:
        store.save_session(SessionInfo("S01", "pre", dt.date(2024, 1, 9), "barefoot"), [rec])
    finally:
        store.close()
    return OUT


if __name__ == "__main__":
    print(main())
