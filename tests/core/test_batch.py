"""Batch reprocessing (issue 12): same results as ``genulab process``/``analyze``, with one
and two local workers and on a Dask LocalCluster; broken inputs named and the rest done;
``--resume``; a clean stop on Ctrl+C (SIGINT) that leaves only complete output folders."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from core.batch.discover import find_sessions, nested_sessions
from core.batch.engines import LocalEngine
from core.batch.log import read_log
from core.batch.manifest import MANIFEST, manifest_current, read_manifest
from core.batch.runner import plan, remove_temp_folders, run_batch
from core.batch.task import ANALYSIS_JSON, TMP_MARK, BatchSettings, session_inputs
from core.errors import GenuError
from tests.conftest import ROOT, SAMPLES

PRE = SAMPLES / "GL-0001" / "pre"
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}


def make_tree(root: Path, copies: int = 2, broken: bool = True) -> Path:
    """``copies`` patients each holding a copy of the sample 'pre' session; patient P01's
    session also holds a truncated C3D, and ``broken/only_junk`` holds one random 'C3D'."""
    for i in range(1, copies + 1):
        shutil.copytree(PRE, root / f"P{i:02d}" / "pre")
        shutil.copy(SAMPLES / "GL-0001" / "patient.json", root / f"P{i:02d}" / "patient.json")
    if broken:
        raw = (PRE / "pre_walk_01.c3d").read_bytes()
        (root / "P01" / "pre" / "pre_walk_09.c3d").write_bytes(raw[:20000])   # cut inside the data
        (root / "broken" / "only_junk").mkdir(parents=True)
        (root / "broken" / "only_junk" / "trial.c3d").write_bytes(
            np.random.default_rng(3).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    return root


def output_files(out: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every processed C3D and analysis JSON under ``out``."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and (p.suffix == ".c3d" or p.name == ANALYSIS_JSON)}


def assert_complete(out: Path) -> None:
    """Every session output folder holds a valid manifest whose outputs exist; no temp folder."""
    leftovers = [p for p in out.rglob(f"*{TMP_MARK}*")]
    assert not leftovers, leftovers
    for d in {p.parent for p in out.rglob("*.c3d")} | {p.parent for p in out.rglob(ANALYSIS_JSON)}:
        m = read_manifest(d)
        assert m is not None, f"{d} has outputs but no valid manifest"
        for name, sha in m["outputs"].items():
            from core.gait.session import file_sha256
            assert file_sha256(d / name) == sha


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return make_tree(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="module")
def reference(tree, tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """patient -> what ``genulab process`` and ``genulab analyze --json`` write for its session
    (P01's analysis names its truncated trial among the failures, as the batch must)."""
    ref = {}
    for patient in ("P01", "P02"):
        d, src = tmp_path_factory.mktemp(f"reference{patient}"), tree / patient / "pre"
        dyn = sorted(p for p in src.glob("*.c3d") if "static" not in p.name and p.name != "pre_walk_09.c3d")
        assert main(["process", "--static", str(src / "pre_static_01.c3d"), "--subject", str(src / "GL-0001.vsk"),
                     *map(str, dyn), "--out", str(d)]) == 0
        assert main(["analyze", str(src), "--json", str(d / ANALYSIS_JSON)]) == 0
        ref[patient] = {p.name: p.read_bytes() for p in d.iterdir()}
    return ref


@pytest.fixture(scope="module")
def local_runs(tree, tmp_path_factory):
    runs = {}
    for n in (1, 2):
        out = tmp_path_factory.mktemp(f"out{n}")
        engine = LocalEngine(n)
        try:
            runs[n] = (out, run_batch(tree, out, engine, log_path=out / "log.jsonl"))
        finally:
            engine.close()
    return runs


def test_discovery_finds_session_folders_and_skips_outputs_stores_hidden(tmp_path):
    make_tree(tmp_path / "root")
    (tmp_path / "root" / "P02" / "P02.genu").mkdir()
    (tmp_path / "root" / "P02" / "P02.genu" / "x.c3d").write_bytes(b"")
    (tmp_path / "root" / ".cache").mkdir()
    (tmp_path / "root" / ".cache" / "y.c3d").write_bytes(b"")
    shutil.copytree(PRE, tmp_path / "root" / "out" / "P01" / "pre")
    found = find_sessions(tmp_path / "root", exclude=[tmp_path / "root" / "out"])
    assert [(e.rel, e.n_c3d) for e in found] == [("P01/pre", 8), ("P02/pre", 7), ("broken/only_junk", 1)]


def test_nested_session_folders_are_refused(tmp_path):
    shutil.copytree(PRE, tmp_path / "root" / "pre")
    shutil.copy(PRE / "pre_walk_01.c3d", tmp_path / "root")
    assert nested_sessions(find_sessions(tmp_path / "root")) == (".", "pre")
    with pytest.raises(GenuError, match="lies inside session folder"):
        plan(tmp_path / "root", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GenuError, match="no session folder"):
        plan(tmp_path / "empty", tmp_path / "out")


def test_batch_equals_process_and_analyze_and_names_the_broken_files(local_runs, reference):
    out, summary = local_runs[1]
    assert summary.counts["failed"] == 1 and not summary.interrupted
    assert summary.trials == 12     # every good dynamic trial of both copies (6 each)
    by = {r.rel: r for r in summary.results}
    assert by["broken/only_junk"].status == "failed"
    assert by["broken/only_junk"].failures[0][0] == "trial.c3d"
    bad = dict(by["P01/pre"].failures)
    assert set(bad) == {"pre_walk_09.c3d"}, bad
    assert json.loads(files_p01_json(out))["failures"][0][0] == "pre_walk_09"   # as analyze names it
    assert by["P01/pre"].status == "warnings"
    assert not (out / "broken").exists()           # no output for a session that failed
    files = output_files(out)
    assert len(reference["P02"]) == 7
    for patient in ("P01", "P02"):
        for name, data in reference[patient].items():
            assert files[f"{patient}/pre/{name}"] == data, f"{patient}/pre/{name} differs from genulab process/analyze"
    assert_complete(out)


def files_p01_json(out: Path) -> str:
    return (out / "P01" / "pre" / ANALYSIS_JSON).read_text()


def test_one_and_two_workers_give_identical_outputs(local_runs):
    (out1, s1), (out2, s2) = local_runs[1], local_runs[2]
    assert output_files(out1) == output_files(out2)
    assert s1.counts == s2.counts
    assert len({r.worker for r in s2.results}) == 2   # both workers did work


def test_log_has_one_line_per_task_and_the_summary(local_runs):
    out, summary = local_runs[2]
    log = read_log(out / "log.jsonl")
    assert [r["event"] for r in log] == ["start"] + ["task"] * 3 + ["end"]
    tasks = {r["session"]: r for r in log if r["event"] == "task"}
    assert tasks["broken/only_junk"]["status"] == "failed" and tasks["P02/pre"]["trials"] == 6
    assert tasks["P02/pre"]["peak_rss_mb"] > 50 and tasks["P02/pre"]["timings_s"]["process"] > 0
    assert log[-1]["failed"] == 1 and log[-1]["trials"] == 12 and log[-1]["interrupted"] is False


def test_resume_skips_current_sessions_and_redoes_changed_or_incomplete(tmp_path):
    root = make_tree(tmp_path / "root", copies=3, broken=False)
    out = tmp_path / "out"
    engine = LocalEngine(2)
    try:
        first = run_batch(root, out, engine)
        assert first.counts["failed"] == 0 and first.trials == 18
        again = run_batch(root, out, engine, resume=True)
        assert again.counts["skipped"] == 3 and again.trials == 0
        with open(root / "P02" / "pre" / "pre_walk_02.c3d", "ab") as fh:   # an input changed
            fh.write(b"\0" * 512)
        (out / "P03" / "pre" / MANIFEST).unlink()                            # outputs without a manifest
        third = run_batch(root, out, engine, resume=True)
        assert {r.rel: r.status for r in third.results} == {"P01/pre": "skipped", "P02/pre": "warnings",
                                                             "P03/pre": "warnings"}
        changed = run_batch(root, out, engine, resume=True,
                            settings=BatchSettings(overrides=(("MarkerDiameter", 16.0),)))
        assert changed.counts["skipped"] == 0   # other settings: everything is redone
    finally:
        engine.close()
    from core.gait.session import discover_session
    sf = discover_session(root / "P02" / "pre")
    assert manifest_current(out / "P02" / "pre", session_inputs(sf), changed_digest()) == (True, "")
    assert_complete(out)


def changed_digest() -> str:
    return BatchSettings(overrides=(("MarkerDiameter", 16.0),)).digest()


def test_leftover_temp_folders_are_removed(tmp_path):
    d = tmp_path / "out" / "P01" / f".pre{TMP_MARK}1234abcd.tmp"
    d.mkdir(parents=True)
    (d / "x.c3d").write_bytes(b"half")
    assert remove_temp_folders(tmp_path / "out") == [d] and not d.exists()


def test_cli_batch_dask_localcluster_gives_the_same_outputs(tree, local_runs, tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    r = subprocess.run([PY, "-m", "app.cli", "batch", str(tree), "--out", str(out), "--engine", "dask",
                        "--workers", "2"], env=ENV, capture_output=True, text=True, timeout=240)
    assert r.returncode == 2, r.stderr     # one session failed (the junk file)
    assert "sessions failed" in r.stdout and "trial.c3d" in r.stdout and "pre_walk_09.c3d" in r.stdout
    assert "dask (LocalCluster), 2 worker threads" in r.stderr
    assert output_files(out) == output_files(local_runs[1][0])
    assert_complete(out)


def test_dask_engine_without_dask_says_how_to_install(monkeypatch):
    from core.batch.engines import make_engine
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(GenuError, match=r"pip install \"genulab\[cluster\]\""):
        make_engine("dask", 1)


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path):
    root = make_tree(tmp_path / "root", copies=4, broken=False)
    out = tmp_path / "out"
    # Ctrl+C as in a terminal: a shell's background job inherits SIGINT ignored, which Python
    # keeps; the batch started from a terminal has the default handler
    p = subprocess.Popen([PY, "-m", "app.cli", "batch", str(root), "--out", str(out), "--workers", "1"],
                         env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = out / "batch_log.jsonl"
    t_end = time.monotonic() + 120
    while time.monotonic() < t_end and not (log.exists() and '"event": "task"' in log.read_text()):
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, stderr
    assert "interrupted" in stdout
    records = read_log(log)
    assert records[-1]["event"] == "end" and records[-1]["interrupted"] is True
    assert 1 <= len([r for r in records if r["event"] == "task"]) < 4
    assert_complete(out)
    done = {p.parent.relative_to(out).as_posix() for p in out.rglob(MANIFEST)}
    assert 1 <= len(done) < 4
    r = subprocess.run([PY, "-m", "app.cli", "batch", str(root), "--out", str(out), "--workers", "1", "--resume"],
                       env=ENV, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    end = read_log(log)[-1]
    assert end["skipped"] == len(done) and end["skipped"] + end["warnings"] + end["ok"] == 4
    assert_complete(out)


def test_progress_line_counts_rate_and_eta():
    from app.commands.batch_cmd import progress_line
    from core.batch.runner import BatchProgress
    line = progress_line(BatchProgress(3, 12, 18, 21, 84, 9.0, 27.0), width=8)
    assert line == "[##......] 3/12 sessions  18 trials  2.00 trials/s  elapsed 00:09  ETA 00:27"


def test_store_dir_imports_pre_and_post_of_a_patient_from_two_workers(tmp_path):
    from core.store.store import open_store
    root = tmp_path / "root"
    shutil.copytree(SAMPLES / "GL-0001", root / "GL-0001", ignore=shutil.ignore_patterns("*.truth.json"))
    engine = LocalEngine(2)
    try:
        s = run_batch(root, tmp_path / "out", engine, BatchSettings(store_dir=str(tmp_path / "stores")))
    finally:
        engine.close()
    assert s.counts["failed"] == 0 and s.trials == 12
    assert not [w for r in s.results for w in r.warnings if "store import failed" in w]
    with open_store(tmp_path / "stores" / "GL-0001.genu", "r") as store:
        labels = sorted(x.label for x in store.sessions)
        assert labels == ["post", "pre"]
        assert len([t for t in store.session("pre").trials if not t.is_static]) == 6
    for label in ("pre", "post"):
        m = read_manifest(tmp_path / "out" / "GL-0001" / label)
        assert m["store"]["status"] == "imported" and m["store"]["added"] == 6   # the dynamic trials
