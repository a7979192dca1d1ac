"""The patient store: round trip, lazy listing, atomic save under kill -9, damage, schema, lock, migration."""
from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from core.errors import StoreError, StoreLockedError
from core.store import PatientStore, SessionRecord, open_store, serialize as ser, staleness
from core.store.schema import INDEX_NAME, LOCK_NAME, SESSIONS_DIR
from tests.core.test_store_helpers import (assert_same, make_patient, make_record, make_session)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_V1 = ROOT / "tests" / "data" / "store_v1_fixture.genu"


@pytest.fixture
def store_path(tmp_path) -> Path:
    """A store with two sessions: pre (2 trials) and post (1 trial)."""
    path = tmp_path / "zoe.genu"
    with PatientStore.create(path, make_patient()) as st:
        st.save_session(make_session("S01", "pre"), [make_record("T001", "walk_01", 0), make_record("T002", "walk_02", 1)],
                        SessionRecord(import_report=("static: pre_static_01.c3d (name)",)))
        st.save_session(make_session("S02", "post"), [make_record("T001", "walk_01", 2)])
    return path


def session_files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((path / SESSIONS_DIR).iterdir())}


# ------------------------------------------------------------------------ round trip
def test_round_trip_everything_equal(store_path):
    with open_store(store_path) as st:
        assert not st.writable
        assert st.patient == make_patient()
        assert [s.label for s in st.sessions] == ["pre", "post"] or [s.label for s in st.sessions] == ["post", "pre"]
        pre = st.session("pre")
        assert pre.date.isoformat() == "2024-05-06" and pre.examiner == "Dr Ex" and pre.condition == "barefoot"
        assert [t.name for t in pre.trials] == ["walk_01", "walk_02"]
        for tid, seed in (("walk_01", 0), ("walk_02", 1)):
            expected = make_record("T001" if seed == 0 else "T002", tid, seed)
            back = st.load_trial("pre", tid)
            assert back.info.app_version and back.info.settings_digest
            assert_same(dataclasses.replace(expected, info=back.info), back)
            assert back.info == dataclasses.replace(expected.info, app_version=back.info.app_version,
                                                    settings_digest=back.info.settings_digest)
        assert st.load_session("pre").import_report == ("static: pre_static_01.c3d (name)",)
        assert staleness(st.session("post").trials[0]) == ""


def test_listing_reads_no_array(store_path, monkeypatch):
    """Opening and listing read the index only; a session file's content (its arrays) is read
    when a trial is loaded."""
    from core.store import packed
    read_from: list[str] = []
    real = packed.read_tree

    def spy(group):
        read_from.append(Path(group.file.filename).name)
        return real(group)
    monkeypatch.setattr(packed, "read_tree", spy)
    monkeypatch.setattr(ser, "_read_leaf", lambda *a, **k: pytest.fail("a schema-2 dataset was read"))
    with open_store(store_path) as st:
        assert st.n_trials() == 3
        assert st.session("pre").trial("walk_02").n_frames == 300
        assert read_from and set(read_from) == {INDEX_NAME}
        rec = st.load_trial("pre", "walk_02")  # arrays only on demand
        assert read_from[-1].endswith(".h5") and read_from[-1] != INDEX_NAME
        assert rec.raw.points.shape[0] == 300


def test_a_save_rewrites_only_the_session_touched(store_path):
    before = session_files(store_path)
    with open_store(store_path, "a") as st:
        post_file = st.session("post").file
        rec = st.load_trial("pre", "walk_02")
        st.update_trial("pre", dataclasses.replace(rec, quality=rec.quality.plus()))
        st.save_session(make_session("S03", "6 weeks"), [make_record("T001", "walk_09", 9)])
    after = session_files(store_path)
    assert after[post_file] == before[post_file]  # untouched bytes, same file
    with open_store(store_path, verify="full") as st:
        assert [t.name for t in st.session("pre").trials] == ["walk_01", "walk_02"]
        assert_same(make_record("T001", "walk_01", 0).raw, st.load_trial("pre", "walk_01").raw)
        assert len(st.sessions) == 3


def test_find_by_sha256(store_path):
    with open_store(store_path) as st:
        hits = st.find_sha256(f"{2:064x}")
    assert [(s.label, t.name) for s, t in hits] == [("post", "walk_01")]


# ------------------------------------------------------------------------ crash during save
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from core.store import open_store
    from tests.core.test_store_helpers import make_record, make_session
    store, flag, when, keep = Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4], sys.argv[5] == "keep"
    def progress(fraction, message):
        if when in message:
            flag.write_text(message)
            time.sleep(60)
    st = open_store(store, "a")
    recs = [make_record(f"T00{i}", f"big_{i}", 10 + i, n_frames=3000) for i in (1, 2, 3)]
    st.save_session(make_session("S01", "pre"), recs, keep_existing=keep, progress=progress)
""")


@pytest.mark.parametrize("when,keep", [("writing big_2", "replace"), ("committing the index", "replace"),
                                       ("writing big_2", "keep")])
def test_kill_9_during_save_keeps_the_previous_store(store_path, tmp_path, when, keep):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    flag = tmp_path / "flag"
    before = session_files(store_path)
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(store_path), str(flag), when, keep])
    try:
        deadline = time.time() + 60
        while not flag.exists():
            assert proc.poll() is None, "writer exited before the kill point"
            assert time.time() < deadline, "writer never reached the kill point"
            time.sleep(0.05)
        assert (store_path / LOCK_NAME).exists()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    leftovers = set(p.name for p in (store_path / SESSIONS_DIR).iterdir()) - set(before)
    assert leftovers, "the writer should have left a partial file behind"
    with open_store(store_path, verify="full") as st:  # previous content, intact
        assert [t.name for t in st.session("pre").trials] == ["walk_01", "walk_02"]
        assert_same(make_record("T001", "walk_01", 0).raw, st.load_trial("pre", "walk_01").raw)
    with open_store(store_path, "a") as st:  # the dead writer's lock is stale: taken over
        assert any("stale lock" in n for n in st.notes)
        assert any("unfinished save" in n for n in st.notes)
    assert session_files(store_path) == before


# ------------------------------------------------------------------------ damaged files
def test_truncated_session_file_is_reported_on_open(store_path):
    with open_store(store_path) as st:
        f = store_path / SESSIONS_DIR / st.session("post").file
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match=rf"{f.name} \(session 'post'\): truncated"):
        open_store(store_path)


def test_overwritten_header_of_a_session_file_is_reported_on_open(store_path):
    with open_store(store_path) as st:
        f = store_path / SESSIONS_DIR / st.session("post").file
    with open(f, "r+b") as fh:
        fh.write(b"\xff" * 64)  # the HDF5 superblock
    with pytest.raises(StoreError, match=rf"{f.name} \(session 'post'\): .*damaged or truncated"):
        open_store(store_path)


def test_overwritten_bytes_in_a_trial_are_reported(store_path):
    with open_store(store_path) as st:
        s = st.session("pre")
        f = store_path / SESSIONS_DIR / s.file
    with h5py.File(f, "r") as h:
        offset = h["trials/T002/raw/points"].id.get_offset()  # uncompressed? else first chunk
        if offset is None:
            offset = h["trials/T002/raw/points"].id.get_chunk_info(0).byte_offset
    with open(f, "r+b") as fh:
        fh.seek(offset + 100)
        fh.write(b"\x13\x37" * 8)
    with open_store(store_path) as st:  # quick open: size and structure are fine
        st.load_trial("pre", "walk_01")  # the other trial still loads
        with pytest.raises(StoreError, match=r"trial 'walk_02' \(/trials/T002\) is damaged"):
            st.load_trial("pre", "walk_02")
    with pytest.raises(StoreError, match=r"session 'pre'.*(SHA-256 mismatch|damaged)"):
        open_store(store_path, verify="full")


def test_damaged_index_is_reported(store_path):
    index = store_path / INDEX_NAME
    data = bytearray(index.read_bytes())
    index.write_bytes(bytes(data[:1000]))
    with pytest.raises(StoreError, match=r"index.h5: the store index is damaged or truncated"):
        open_store(store_path)
    index.write_bytes(b"\0" * len(data))
    with pytest.raises(StoreError, match="damaged or truncated"):
        open_store(store_path)


def test_edited_index_content_fails_its_checksum(store_path):
    with h5py.File(store_path / INDEX_NAME, "r+") as f:       # the name in the packed record
        record = f["patient/__tree__"].asstr()[()]
        assert make_patient().name in record
        del f["patient/__tree__"]
        f["patient"].create_dataset("__tree__", data=record.replace(make_patient().name, "Someone Else"),
                                    dtype=h5py.string_dtype("utf-8"))
    with pytest.raises(StoreError, match="does not match its checksum"):
        open_store(store_path)


def test_missing_session_file_and_not_a_store(store_path, tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "nothing.genu")
    with open_store(store_path) as st:
        (store_path / SESSIONS_DIR / st.session("pre").file).unlink()
    with pytest.raises(StoreError, match=r"session 'pre'\): file is missing"):
        open_store(store_path)


# ------------------------------------------------------------------------ schema
def test_newer_schema_is_refused_without_touching_it(store_path):
    with h5py.File(store_path / INDEX_NAME, "r+") as f:
        f.attrs["schema_version"] = 99
        f.attrs["app_version"] = "9.0.0"
    before = (store_path / INDEX_NAME).read_bytes()
    for mode in ("r", "a"):
        with pytest.raises(StoreError, match=r"newer Genu Lab \(9.0.0, store schema 99\).*update Genu Lab"):
            open_store(store_path, mode)
    assert (store_path / INDEX_NAME).read_bytes() == before
    assert not (store_path / LOCK_NAME).exists()


def _v1(path: Path):
    with h5py.File(path, "r") as f:
        g = f["sessions/pre/trials/pre_walk_01"]
        return g["points"][()], g["outputs/LKneeAngles"][()]


def test_old_format_fixture_migrates(tmp_path):
    points, knee = _v1(FIXTURE_V1)
    with open_store(FIXTURE_V1) as st:  # read-only: migrated into a temporary copy
        assert st.migrated_from == 1
        assert st.patient.name == "Zoë Fixture" and st.patient.birth_date.isoformat() == "1985-04-23"
        assert [s.label for s in st.sessions] == ["pre", "post"]
        pre = st.session("pre")
        assert pre.date.isoformat() == "2023-02-01" and pre.static_trial == "pre_static_01"
        rec = st.load_trial("pre", "pre_walk_01")
        assert_same(points, np.array(rec.raw.points))
        assert np.isnan(rec.raw.points[10:14, 4]).all()
        assert_same(knee, np.array(rec.outputs.channels["LKneeAngles"]))
        assert [(e.label, e.frame) for e in rec.raw.events] == [("Foot Strike", 12), ("Foot Off", 31), ("Foot Strike", 52)]
        assert rec.raw.events[0].time_s == pytest.approx(0.11)
        assert rec.settings == {"marker_diameter": 14.0, "fill_gaps_max_frames": 0}
        assert "reprocess" in staleness(rec.info)
    copy = tmp_path / "old.genu"
    shutil.copy(FIXTURE_V1, copy)
    with open_store(copy, "a") as st:  # for writing: converted in place, original kept
        assert st.migrated_from == 1
    assert copy.is_dir() and (tmp_path / "old.v1-backup.genu").is_file()
    with open_store(copy) as st:
        assert st.migrated_from is None
        assert_same(points, np.array(st.load_trial("pre", "pre_walk_01").raw.points))


# ------------------------------------------------------------------------ concurrent writers
def test_second_writer_gets_the_locked_message(store_path):
    with open_store(store_path, "a"):
        with pytest.raises(StoreLockedError, match=rf"locked by pid {os.getpid()} on .* since 20"):
            open_store(store_path, "a")
        code = ("import sys; sys.path.insert(0, sys.argv[1]);"
                "from core.store import open_store;"
                "from core.errors import StoreLockedError\n"
                "try:\n  open_store(sys.argv[2], 'a')\nexcept StoreLockedError as e:\n  print('LOCKED', e)\n"
                "print('READ', open_store(sys.argv[2]).n_trials())")
        out = subprocess.run([sys.executable, "-c", code, str(ROOT), str(store_path)],
                             capture_output=True, text=True, timeout=60)
        assert f"LOCKED {store_path}: locked by pid {os.getpid()}" in out.stdout, out.stderr
        assert "READ 3" in out.stdout
        with open_store(store_path) as reader:
            with pytest.raises(StoreError, match="read-only"):
                reader.save_session(make_session("S09", "x"), [])
    with open_store(store_path, "a"):
        pass  # released


def test_a_store_being_created_is_reported_as_locked_not_as_damaged(tmp_path):
    """Between the creator's lock and its first index, another process is told to wait."""
    path = tmp_path / "new.genu"
    (path / SESSIONS_DIR).mkdir(parents=True)
    with pytest.raises(StoreError, match="no index.h5"):
        open_store(path)   # no index and nobody writing: damaged
    from core.store.lock import StoreLock
    lock = StoreLock(path / LOCK_NAME).acquire()
    try:
        with pytest.raises(StoreLockedError, match=rf"is being created by pid {os.getpid()}"):
            open_store(path, "a")
    finally:
        lock.release()


def test_stale_lock_of_a_dead_process_is_taken_over(store_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import json, socket
    (store_path / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "since": "x"}))
    with open_store(store_path, "a") as st:
        assert any(f"pid {dead.pid}" in n for n in st.notes)
    (store_path / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "other-host", "since": "x"}))
    with pytest.raises(StoreLockedError, match="pid 1 on other-host"):
        open_store(store_path, "a")


def test_event_edits_are_stored_with_their_source(store_path):
    from core.store import EventEdit
    with open_store(store_path, "a") as st:
        rec = st.load_trial("pre", "walk_01")
        moved = dataclasses.replace(rec.events[0], frame=rec.events[0].frame + 3, source="edited")
        st.edit_events("pre", "walk_01", (moved,) + rec.events[1:], [EventEdit("move", rec.events[0], moved, "Dr Ex")])
    with open_store(store_path) as st:
        back = st.load_trial("pre", "walk_01")
        assert "events edited" in staleness(st.session("pre").trial("walk_01"))
    assert back.events[0].source == "edited" and back.events[0].frame == rec.events[0].frame + 3
    assert [e.source for e in back.event_edits] == ["app", "Dr Ex"]
    assert back.event_edits[-1].before == rec.events[0]
    assert_same(rec.raw, back.raw)  # the events as read stay as they were


def test_lost_index_is_rebuilt_from_the_session_files(store_path):
    from core.store.recover import recover_index
    with open_store(store_path) as st:
        listing = st.sessions
    (store_path / INDEX_NAME).write_bytes(b"garbage")
    with pytest.raises(StoreError, match="index.h5"):
        open_store(store_path)
    with pytest.raises(StoreError, match="--repair-index"):
        open_store(store_path)
    store, report = recover_index(store_path)
    store.close()
    assert (store_path / (INDEX_NAME + ".damaged")).exists()
    assert any("session 'pre' (S01): 2 trial(s)" in line for line in report)
    with open_store(store_path, verify="full") as st:
        assert st.patient == make_patient()
        assert [dataclasses.replace(s, modified_utc=None) for s in st.sessions] == \
               [dataclasses.replace(s, modified_utc=None) for s in listing]
        assert_same(make_record("T001", "walk_01", 2).raw, st.load_trial("post", "walk_01").raw)
