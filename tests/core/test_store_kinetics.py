"""Store: knee-kinetics results round-trip; a schema-2 store written before kinetics still opens.

The generic serializer stores dataclasses field by field, so the new fields
(``TrialAnalysis.kinetics``, ``SessionComparison.kinetics``, ``ProcessedTrial.kinetics``) add
groups without changing the layout: schema 2 is kept and an older file gives the defaults
(None / empty). tests/data/store_v2_fixture.genu was written by the code before kinetics
(tests/data/make_store_v2_fixture.py).
"""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from core.analysis.trial import analyze_trial
from core.gait.pipeline import process_trial
from core.store import open_store, serialize as ser
from core.store.schema import SCHEMA_VERSION
from tests.conftest import reference_file
from tests.core.test_store_helpers import assert_same
from tests.core.vicon_kinetics import stored_kinetics

FIXTURE_V2 = Path(__file__).resolve().parents[1] / "data" / "store_v2_fixture.genu"


@pytest.fixture(scope="module")
def analysed():
    dyn = reference_file("BTKData", "PiG", "PiG_Motion3_FF.c3d")
    static = reference_file("BTKData", "PiG", "PiG_Calibration3_FF.c3d")
    p = process_trial(dyn, static=static)
    return analyze_trial(p, kinetics=stored_kinetics(p.trial, 74.0))


def test_trial_analysis_with_kinetics_round_trips_bit_equal(tmp_path, analysed):
    assert sum(w.computed for w in analysed.kinetics.windows) == 3
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        digest = ser.save(f.create_group("v"), analysed)
    with h5py.File(tmp_path / "x.h5", "r") as f:
        node = ser.read_node(f["v"])
    assert ser.node_digest(node) == digest
    back = ser.decode(node)
    assert_same(analysed.kinetics, back.kinetics)
    assert [w.peak_abduction_moment for w in back.kinetics.windows if w.computed] == \
        [w.peak_abduction_moment for w in analysed.kinetics.windows if w.computed]
    assert back.kinetics.curves["Left"]["KneeMoment.y"].shape[1] == 101


def test_schema2_fixture_written_before_kinetics_opens(tmp_path, analysed):
    """A schema-2 store (group layout, before kinetics) opens as it is; a save writes schema 3
    (packed layout) beside the untouched schema-2 trial data, and both read back."""
    assert SCHEMA_VERSION == 3
    with open_store(FIXTURE_V2) as st:
        assert st.migrated_from is None and st.patient.patient_id == "FIX-002"
        rec = st.load_trial("pre", "walk_01")
        assert rec.analysis is not None and rec.analysis.kinetics is None
        assert rec.analysis.windows["Left"][0].start_frame == 15
        assert rec.outputs.channels["LKneeAngles"].shape == (60, 3)
    copy = tmp_path / "v2.genu"
    shutil.copytree(FIXTURE_V2, copy)
    with open_store(copy, "a") as st:                       # a new trial beside the schema-2 one
        rec = st.load_trial("pre", "walk_01")
        info = dataclasses.replace(rec.info, trial_id="T099", name="walk_99")
        st.save_session(st.session("pre"), [rec.with_info(trial_id=info.trial_id, name=info.name)])
    with open_store(copy, verify="full") as st:
        pre = st.session("pre")
        with h5py.File(copy / "sessions" / pre.file, "r") as f:
            assert f.attrs["schema_version"] == 3
            layouts = {t.name: f["trials"][t.trial_id].attrs.get("__layout__", "groups") for t in pre.trials}
        assert layouts == {"walk_01": "groups", "walk_99": "packed-1"}   # kept trial copied as it was
        assert_same(st.load_trial("pre", "walk_01").outputs, st.load_trial("pre", "walk_99").outputs)
    with open_store(copy, "a") as st:                       # add kinetics to the old trial, save
        rec = st.load_trial("pre", "walk_01")
        new = dataclasses.replace(rec, analysis=dataclasses.replace(rec.analysis, kinetics=analysed.kinetics))
        st.save_session(st.session("pre"), [new])
    with open_store(copy, verify="full") as st:
        back = st.load_trial("pre", "walk_01").analysis.kinetics
    with h5py.File(copy / "index.h5", "r") as f:
        assert f.attrs["schema_version"] == 3
    assert_same(analysed.kinetics, back)
    left = [w for w in back.windows if w.side == "Left" and w.computed]
    assert [w.plate for w in left] == [1, 3] and all(np.isfinite(w.peak_abduction_moment) for w in left)


def test_processed_trial_kinetics_round_trip_through_the_store(tmp_path):
    """ProcessedTrial.kinetics (engine result: channels, plates, contacts) is stored and reloaded equal."""
    from core.store import PatientStore
    from tests.core.test_store_helpers import make_patient, make_session
    from core.store.schema import TrialInfo, TrialRecord
    dyn = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    static = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    p = process_trial(dyn, static=static)
    a = analyze_trial(p)
    info = TrialInfo("T001", p.trial.name, dyn.name, "cd" * 32, task="walk", n_frames=p.trial.n_frames,
                     rate_hz=100.0, first_frame=p.trial.first_frame)
    store = PatientStore.create(tmp_path / "k.genu", make_patient())
    try:
        store.save_session(make_session(), [TrialRecord.from_processed(info, p.trial, p, a)])
    finally:
        store.close()
    with open_store(tmp_path / "k.genu") as st:
        rec = st.load_trial("S01", "T001")
    assert_same(p.kinetics, rec.processed.kinetics)
    assert [c.reason for c in rec.processed.kinetics.contacts] == ["the foot is partly off the plate", ""]
    assert_same(a.kinetics, rec.analysis.kinetics)
