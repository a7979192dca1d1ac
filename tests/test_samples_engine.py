"""The engine recovers the prescribed truth of the sample sessions.

* in memory (float64 markers from the generator API): angles and joint centres to 1e-9;
* from the C3D files: float32 storage of lab coordinates up to ~2.5 m has a spacing of
  1.2e-4 to 2.4e-4 mm; on the shortest lever of the model (ANK-AJC, 41.5 mm) that is up to
  3e-4 deg. Asserted: within 5e-4 deg and 1e-3 mm (measured: 3.3e-4 deg, 3.6e-4 mm);
* noisy trials (Gaussian 0.5 mm per coordinate): an angle defined by two markers a distance
  L apart has a noise SD of about sigma*sqrt(2)/L rad; the shortest lever of the model is
  ANK-AJC = AnkleWidth/2 + r = 41.5 mm, giving 0.98 deg. Asserted: per-channel RMS error
  below 2x that (1.95 deg), max below 6x (5.9 deg); joint-centre RMS 3-D error below
  3*sigma*sqrt(3) = 2.6 mm; NaN exactly in the frames where a required marker is gapped.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.synthetic.catalogue import all_trials
from core.synthetic.generate import generate_trial
from core.synthetic.markers import MARKERS
from core.synthetic.subject import BODY, PATIENT
from tests.conftest import SAMPLES

cgm1 = pytest.importorskip("core.kinematics.cgm1")
from core.model import ParameterValue, SubjectParameters, Trial  # noqa: E402

SPECS = {s.name: s for s in all_trials()}
EXACT = sorted(n for n, s in SPECS.items() if s.noise_mm == 0 and s.task != "static")
NOISY = sorted(n for n, s in SPECS.items() if s.noise_mm > 0)
SIGMA = 0.5
LEVER = min(BODY.ankle_offset_mm(s) for s in ("Left", "Right"))
ANGLE_SD = math.degrees(SIGMA * math.sqrt(2.0) / LEVER)


def _subject(truth_subject: dict) -> SubjectParameters:
    return SubjectParameters({k: ParameterValue(k, float(v), "", "truth") for k, v in truth_subject.items()})


@pytest.fixture(scope="module")
def trials():
    return {n: generate_trial(SPECS[n]) for n in EXACT + NOISY + [n for n in SPECS if "static" in n]}


def _max_errors(out, st):
    da = max(float(np.nanmax(np.abs(out.channels[k] - v))) for k, v in st.angles.items())
    dj = max(float(np.nanmax(np.abs(out.channels[k] - v))) for k, v in st.centres.items())
    return da, dj


@pytest.mark.parametrize("name", EXACT)
def test_in_memory_exact(trials, name):
    st = trials[name]
    out = cgm1.reconstruct(Trial(name, st.labels, st.exact_markers, 100.0), _subject(st.truth["subject"]))
    da, dj = _max_errors(out, st)
    assert da < 1e-9 and dj < 1e-9, (da, dj)


@pytest.mark.parametrize("session", ["pre", "post"])
def test_static_calibration_recovers_offsets_in_memory(trials, session):
    st = trials[f"{session}_static_01"]
    sub = {k: v for k, v in st.truth["subject"].items()
           if "StaticPlantFlex" not in k and "StaticRotOff" not in k and k != "InterAsisDistance"}
    cal = cgm1.calibrate(Trial(st.name, st.labels, st.exact_markers, 100.0), _subject(sub))
    for side in ("Left", "Right"):
        s = BODY.side(side)
        assert cal.subject.get(f"{side}StaticPlantFlex") == pytest.approx(s.static_plant_flex_deg, abs=1e-9)
        assert cal.subject.get(f"{side}StaticRotOff") == pytest.approx(s.static_rot_off_deg, abs=1e-9)
    # IAD from the mean marker positions (the static sways as a whole: exact)
    assert cal.subject.get("InterAsisDistance") == pytest.approx(BODY.inter_asis_mm, abs=1e-9)


@pytest.mark.parametrize("name", EXACT)
def test_from_files_float32(name):
    from core.io.c3d import read_c3d
    from core.io.subject import resolve_subject
    spec = SPECS[name]
    folder = SAMPLES / PATIENT.patient_id / spec.session
    static = read_c3d(folder / f"{spec.session}_static_01.c3d")
    cal = cgm1.calibrate(static, resolve_subject(static=static, subject_file=folder / f"{PATIENT.patient_id}.vsk"))
    trial = read_c3d(folder / f"{name}.c3d")
    out = cgm1.reconstruct(trial, cal.subject)
    truth = json.loads((folder / f"{name}.truth.json").read_text())
    da = max(float(np.max(np.abs(out.channels[k] - np.asarray(v)))) for k, v in truth["angles"].items())
    dj = max(float(np.max(np.abs(out.channels[k] - np.asarray(v)))) for k, v in truth["joint_centres"].items())
    assert da < 5e-4 and dj < 1e-3, (da, dj)


@pytest.mark.parametrize("name", NOISY)
def test_noisy_within_the_noise_bound(trials, name):
    st = trials[name]
    out = cgm1.reconstruct(Trial(name, st.labels, st.markers, 100.0), _subject(st.truth["subject"]))
    for k, v in st.angles.items():
        err = out.channels[k] - v
        rms = np.sqrt(np.nanmean(err ** 2, axis=0))
        assert np.all(rms < 2 * ANGLE_SD), (k, rms)
        assert np.nanmax(np.abs(err)) < 6 * ANGLE_SD, k
    for k, v in st.centres.items():
        rms3 = np.sqrt(np.nanmean(np.sum((out.channels[k] - v) ** 2, axis=1)))
        assert rms3 < 3 * SIGMA * math.sqrt(3), (k, rms3)
    # NaN exactly where a marker needed by the dynamic model is gapped (HEE is not needed)
    needed = [i for i, m in enumerate(MARKERS) if not m.endswith("HEE")]
    gapped = np.isnan(st.markers[:, needed, 0]).any(axis=1)
    assert np.array_equal(np.isnan(out.channels["LPelvisAngles"][:, 0]) | np.isnan(out.channels["RHipAngles"][:, 0])
                          | np.isnan(out.channels["LKneeAngles"][:, 0]) | np.isnan(out.channels["RKneeAngles"][:, 0])
                          | np.isnan(out.channels["LAnkleAngles"][:, 0]) | np.isnan(out.channels["RAnkleAngles"][:, 0]),
                          gapped)


@pytest.mark.parametrize("session", ["pre", "post"])
def test_session_pipeline_reproduces_the_truth(session):
    """The whole chain a user runs (discover the folder, static by name, subject file,
    calibration, every dynamic trial): noise-free trials equal the truth within float32
    spacing, events from the file equal the true events, the static is found by name."""
    pipeline = pytest.importorskip("core.gait.pipeline")
    folder = SAMPLES / PATIENT.patient_id / session
    ps = pipeline.process_session(folder)
    assert ps.calibration is not None
    assert ps.calibration.subject.get("RightStaticPlantFlex") == pytest.approx(
        BODY.right.static_plant_flex_deg, abs=1e-4)
    names = {pt.trial.name for pt in ps.trials}
    assert names == {n for n, s in SPECS.items() if s.session == session and s.task != "static"}
    for pt in ps.trials:
        spec = SPECS[pt.trial.name]
        truth = json.loads((folder / f"{spec.name}.truth.json").read_text())
        if spec.events_in_file:
            assert sorted((e.label, e.context, e.frame) for e in pt.events) == \
                sorted((e["label"], e["context"], e["frame"]) for e in truth["events"])
        if spec.noise_mm == 0:
            for k, v in truth["angles"].items():
                assert np.max(np.abs(pt.outputs.channels[k] - np.asarray(v))) < 5e-4, (spec.name, k)
