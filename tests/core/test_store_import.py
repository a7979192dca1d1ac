"""Importing session folders into a store (real reference session, sample sessions), CLI, de-identified export."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import h5py
import pytest

from app.cli import main as cli
from core.errors import StoreError
from core.store import PatientStore, open_store
from core.store.deidentify import export_session
from core.store.importer import import_session, patient_from_mapping
from core.store.schema import SESSIONS_DIR
from tests.conftest import SAMPLES, reference_file
from tests.core.test_store_helpers import assert_same, make_patient, make_record, make_session

FLAT = {"MarkerDiameter": 16.0, "LeftFootFlat": 1.0, "RightFootFlat": 1.0}


@pytest.fixture(scope="module")
def flat_session(tmp_path_factory) -> Path:
    """The BTK PiG FlatFoot static + motion copied into a temporary session folder."""
    static = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    motion = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    folder = tmp_path_factory.mktemp("flat") / "visit1"
    folder.mkdir()
    for f in (static, motion):
        shutil.copy(f, folder / f.name)
    (folder.parent / "patient.json").write_text(json.dumps(
        {"name": "Flat Foot", "id": "BTK-PIG", "birth_date": "1970-01-02", "sex": "M", "height": 1.75}))
    return folder


@pytest.fixture(scope="module")
def flat_store(flat_session, tmp_path_factory):
    path = tmp_path_factory.mktemp("stores") / "flat.genu"
    res = import_session(flat_session, path, label="pre", overrides=FLAT,
                         session_details={"date": "2024-01-15", "condition": "barefoot"})
    return path, res


def test_reference_session_end_to_end_equals_the_engine(flat_session, flat_store):
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    path, res = flat_store
    assert res.added == ("PiG_Motion-FlatFoot-Full.c3d",)
    assert any("static trial: PiG_Calibration-FlatFoot-Full.c3d (by name)" in line for line in res.report)
    direct = process_session(flat_session, FLAT)
    analysis = analyze_session(direct, label="pre")
    with open_store(path, verify="full") as st:
        assert st.patient.name == "Flat Foot" and st.patient.birth_date.isoformat() == "1970-01-02"
        assert st.patient.height_mm == pytest.approx(1750.0)
        s = st.session("pre")
        assert s.date.isoformat() == "2024-01-15" and s.static_trial == "PiG_Calibration-FlatFoot-Full"
        assert s.key_numbers["speed_m_s Left"] == pytest.approx(analysis.walking["Left"].spatiotemporal["speed_m_s"])
        static = st.load_trial("pre", "PiG_Calibration-FlatFoot-Full")
        walk = st.load_trial("pre", "PiG_Motion-FlatFoot-Full")
        srec = st.load_session("pre")
    assert static.info.is_static and static.subject.get("MarkerDiameter") == 16.0
    assert static.subject.source("LeftFootFlat") == direct.calibration.subject.source("LeftFootFlat")
    ref = direct.trials[0]
    assert_same(dataclasses.replace(ref, timings_ms={}), dataclasses.replace(walk.processed, timings_ms={}), "processed")
    assert_same(analysis.trials[0], walk.analysis, "analysis")
    assert_same(analysis, srec.analysis, "session analysis")
    assert_same(direct.calibration, srec.calibration, "calibration")
    from core.io.c3d import read_c3d
    assert_same(read_c3d(flat_session / "PiG_Motion-FlatFoot-Full.c3d"), walk.raw, "raw trial as read")
    assert walk.info.n_cycles == {"Left": sum(c.side == "Left" for c in ref.cycles),
                                  "Right": sum(c.side == "Right" for c in ref.cycles)}
    assert walk.settings == ref.settings and walk.info.app_version


def test_reimport_is_recognised_by_hash(flat_session, flat_store, tmp_path):
    path, _ = flat_store
    copy = tmp_path / "copy.genu"
    shutil.copytree(path, copy)
    before = sorted(p.name for p in (copy / SESSIONS_DIR).iterdir())
    res = import_session(flat_session, copy, label="post", overrides=FLAT)
    assert res.added == () and res.skipped == ("PiG_Motion-FlatFoot-Full.c3d",)
    assert any("already in the store (session 'pre', trial 'PiG_Motion-FlatFoot-Full'; same SHA-256)" in l
               for l in res.report)
    assert sorted(p.name for p in (copy / SESSIONS_DIR).iterdir()) == before


def test_static_chosen_by_the_user_is_reported(flat_session, tmp_path):
    res = import_session(flat_session, tmp_path / "s.genu", static="PiG_Calibration-FlatFoot-Full.c3d",
                         overrides=FLAT)
    assert "static trial: PiG_Calibration-FlatFoot-Full.c3d (chosen by the caller)" in res.report
    with open_store(tmp_path / "s.genu") as st:
        assert st.session("visit1").static_choice == "static trial: PiG_Calibration-FlatFoot-Full.c3d (chosen by the caller)"
        assert st.load_session("visit1").import_report[:1] == (res.report[0],)


def test_a_session_is_extended_by_a_later_import(flat_session, tmp_path):
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(flat_session / "PiG_Calibration-FlatFoot-Full.c3d", first)
    store = tmp_path / "x.genu"
    res = import_session(first, store, label="pre", overrides=FLAT)  # the static alone
    assert res.added == () and [t.name for t in res.session.trials] == ["PiG_Calibration-FlatFoot-Full"]
    res = import_session(flat_session, store, label="pre", overrides=FLAT)  # now with the walk
    assert res.added == ("PiG_Motion-FlatFoot-Full.c3d",)
    with open_store(store) as st:
        s = st.session("pre")
        assert [(t.trial_id, t.name) for t in s.trials] == [("T001", "PiG_Calibration-FlatFoot-Full"),
                                                             ("T002", "PiG_Motion-FlatFoot-Full")]
        assert st.load_session("pre").analysis.trials[0].trial_name == "PiG_Motion-FlatFoot-Full"
        assert st.load_trial("pre", "T002").analysis is not None


def test_another_patient_is_refused(flat_session, flat_store, tmp_path):
    path, _ = flat_store
    copy = tmp_path / "copy.genu"
    shutil.copytree(path, copy)
    with pytest.raises(StoreError, match="belongs to patient 'BTK-PIG'.*'OTHER'"):
        import_session(flat_session, copy, patient={"patient_id": "OTHER"}, overrides=FLAT)


def test_cli_import_ls_export(flat_session, tmp_path, capsys):
    store = tmp_path / "cli.genu"
    assert cli(["import", str(flat_session), "--patient", str(store), "--session", "6 weeks",
                "--name", "Given Name", "--dob", "1971-03-04", "--condition", "shoes", "--date", "2023-06-01",
                "--set", "MarkerDiameter=16", "--set", "LeftFootFlat=1", "--set", "RightFootFlat=1"]) == 0
    out = capsys.readouterr().out
    assert "session '6 weeks' (S01): 1 trial(s) imported" in out
    assert cli(["ls", str(store)]) == 0
    out = capsys.readouterr().out
    assert "patient: Given Name  ID BTK-PIG  1971-03-04  sex M" in out
    assert "session 6 weeks (S01)" in out and "shoes" in out
    assert "PiG_Motion-FlatFoot-Full" in out and "walk" in out and "315 fr @ 100 Hz" in out
    assert cli(["export", str(store), "--session", "6 weeks", "--out", str(tmp_path / "anon.genu"),
                "--deidentify", "--pseudonym", "STUDY-07"]) == 0
    assert "de-identified as STUDY-07" in capsys.readouterr().out
    assert cli(["ls", str(tmp_path / "anon.genu"), "--verify"]) == 0
    out = capsys.readouterr().out
    assert "patient: STUDY-07  ID STUDY-07  age 52" in out and "FlatFoot" not in out
    assert cli(["ls", str(tmp_path / "missing.genu")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------------ de-identification
def _all_strings(store: Path) -> str:
    """Every attribute and string dataset of every file of a store, as one text."""
    parts = []
    for f in sorted(store.rglob("*.h5")):
        with h5py.File(f, "r") as h:
            def visit(name, obj):
                parts.append(name)
                parts.extend(str(v) for v in obj.attrs.values())
                if isinstance(obj, h5py.Dataset) and h5py.check_string_dtype(obj.dtype) is not None:
                    text = obj.asstr()[()]
                    parts.append(text if isinstance(text, str) else str(text.tolist()))
            h.visititems(visit)
            parts.extend(str(v) for v in h.attrs.values())
    return "\n".join(parts)


def test_deidentified_export_leaves_no_identifier(tmp_path):
    src = tmp_path / "zoe.genu"
    rec = make_record("T001", "Zoe_Example_walk_01", 0)
    rec = rec.with_info(source_file="Zoe_Example_walk_01.c3d")
    with PatientStore.create(src, make_patient()) as st:
        st.save_session(dataclasses.replace(make_session(), source_folder="Zoe Example 2024", examiner="Dr Ex"), [rec])
        st.save_session(make_session("S02", "post"), [make_record("T001", "other", 5)])
    text = _all_strings(src)
    assert "Zoë Example" in text and "GL-0042" in text and "1991-02-28" in text and "Zoe_Example_walk_01" in text
    out, alias = export_session(src, "pre", tmp_path / "anon.genu", deidentify=True)
    text = _all_strings(out)
    for secret in ("Zoë", "GL-0042", "1991-02-28", "Zoe_Example", "Dr Ex", "2024-05-06", "walk_01.c3d",
                   f"{0:064x}"):
        assert secret not in text, secret
    raw = b"".join(p.read_bytes() for p in out.rglob("*.h5"))
    assert "Zoë".encode() not in raw and b"GL-0042" not in raw
    with open_store(out) as st:
        assert st.patient.name == alias and st.patient.pseudonymised and st.patient.birth_date is None
        assert st.patient.age_years == 33.0  # on 2024-05-06, born 1991-02-28
        assert [s.label for s in st.sessions] == ["pre"] and st.sessions[0].date is None
        t = st.sessions[0].trials[0]
        assert t.name.startswith("trial-") and t.source_file == t.name + ".c3d" and t.sha256 == ""
        back = st.load_trial("pre", t.trial_id)
    assert_same(rec.raw.points, back.raw.points)  # the data themselves are untouched
    assert_same(rec.outputs, back.outputs)
    assert back.raw.original_labels[0] == "M00 " and "SUBJECTS:NAMES" not in back.raw.parameters
    with pytest.raises(StoreError, match="already exists"):
        export_session(src, "pre", out)
    out2, _ = export_session(src, "pre", tmp_path / "plain.genu", keep_age=False)
    with open_store(out2) as st:
        assert st.patient == make_patient()
        assert_same(rec, st.load_trial("pre", "T001").with_info(**{k: getattr(rec.info, k) for k in ("app_version", "settings_digest")}))


def test_patient_json_spellings():
    p = patient_from_mapping({"name": "A B", "ID": "X1", "dob": "2001-02-03", "sex": "F", "height": 162, "mass": 55})
    assert (p.patient_id, p.birth_date.isoformat(), p.height_mm, p.mass_kg) == ("X1", "2001-02-03", 1620.0, 55.0)
    with pytest.raises(StoreError, match="invalid patient details"):
        patient_from_mapping({"dob": "3 Feb 2001"})


# ------------------------------------------------------------------------ sample sessions
def _sample_sessions() -> list[Path]:
    return sorted(p for p in SAMPLES.glob("*/*") if p.is_dir() and any(p.glob("*.c3d")))


def test_sample_sessions_import_reproduces_the_engine(tmp_path):
    sessions = _sample_sessions()
    if not sessions:
        pytest.skip("sample_c3d/ has no session folders yet")
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    store = tmp_path / "sample.genu"
    for folder in sessions:
        import_session(folder, store)
    with open_store(store, verify="full") as st:
        assert [s.label for s in sorted(st.sessions, key=lambda s: s.session_id)] == [f.name for f in sessions]
        for folder in sessions:
            direct = process_session(folder)
            analysis = analyze_session(direct, label=folder.name)
            info = st.session(folder.name)
            meta = json.loads((folder.parent / "patient.json").read_text()).get("sessions", {}).get(folder.name, {})
            if "date" in meta:
                assert info.date.isoformat() == meta["date"] and info.condition == meta.get("condition", "")
            assert sum(not t.is_static for t in info.trials) == len(direct.trials)
            for pt in direct.trials:
                rec = st.load_trial(folder.name, pt.trial.name)
                assert_same(dataclasses.replace(pt, timings_ms={}), dataclasses.replace(rec.processed, timings_ms={}),
                            f"{folder.name}/{pt.trial.name}")
            assert_same(analysis, st.load_session(folder.name).analysis, f"{folder.name} analysis")
