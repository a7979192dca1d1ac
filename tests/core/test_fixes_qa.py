"""Fixes of the QA findings (qa_report.md QA-8..QA-11, M-12, M-14): bad conditions a user meets."""
from __future__ import annotations

from pathlib import Path

import ezc3d
import numpy as np
import pytest

from core.errors import C3DWriteError
from core.io.c3d import read_c3d, write_processed_c3d, write_trial_c3d
from core.model import ModelOutputs
from tests.conftest import SAMPLES

WALK = SAMPLES / "GL-0001" / "pre" / "pre_walk_01.c3d"


@pytest.fixture
def walk():
    if not WALK.exists():
        pytest.skip("sample sessions absent (python -m core.synthetic.make_samples)")
    return read_c3d(WALK)


def _truncating_write(keep: int):
    """ezc3d's write as on a full disk: the file stops after ``keep`` bytes, no error raised."""
    real = ezc3d.c3d.write

    def write(self, path, *args, **kwargs):
        real(self, path, *args, **kwargs)
        with open(path, "r+b") as f:
            f.truncate(keep)
    return write


@pytest.mark.parametrize("keep", [0, 300, 4096, -1000])
def test_qa10_incomplete_trial_c3d_is_refused_and_nothing_left(walk, tmp_path, monkeypatch, keep):
    full = write_trial_c3d(tmp_path / "full.c3d", walk).stat().st_size
    monkeypatch.setattr(ezc3d.c3d, "write", _truncating_write(keep if keep >= 0 else full + keep))
    target = tmp_path / "sub"
    target.mkdir()
    with pytest.raises(C3DWriteError) as info:
        write_trial_c3d(target / "walk.c3d", walk)
    assert "walk.c3d" in str(info.value) and "incomplete" in str(info.value)
    assert list(target.iterdir()) == []                    # no temp, nothing published


def test_qa10_incomplete_processed_copy_keeps_the_previous_target(walk, tmp_path, monkeypatch):
    ch = {"LKneeAngles": np.zeros((walk.n_frames, 3)) + 5.0}
    outputs = ModelOutputs(ch, {}, np.eye(3), walk.first_frame, walk.point_rate_hz)
    target = write_processed_c3d(WALK, tmp_path / "proc.c3d", outputs)
    before = target.read_bytes()
    assert read_c3d(target).n_frames == walk.n_frames     # the check accepts a complete copy
    monkeypatch.setattr(ezc3d.c3d, "write", _truncating_write(len(before) // 2))
    with pytest.raises(C3DWriteError, match="proc.c3d"):
        write_processed_c3d(WALK, target, outputs)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proc.c3d"]


# ----------------------------------------------------------------------------- QA-9
def _without(trial, label):
    keep = [i for i, l in enumerate(trial.labels) if l != label]
    pick = lambda seq: tuple(seq[i] for i in keep)  # noqa: E731
    return trial.with_changes(labels=pick(trial.labels), original_labels=pick(trial.original_labels),
                              point_kinds=pick(trial.point_kinds), points=trial.points[:, keep])


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """pre_static_01 + pre_walk_01 + a walk without RKNE (cannot be processed) + the VSK."""
    import shutil
    if not WALK.exists():
        pytest.skip("sample sessions absent")
    d = tmp_path_factory.mktemp("mixed") / "pre"
    d.mkdir()
    for name in ("pre_static_01.c3d", "pre_walk_01.c3d", "GL-0001.vsk"):
        shutil.copy(WALK.parent / name, d)
    write_trial_c3d(d / "pre_walk_09.c3d", _without(read_c3d(WALK.parent / "pre_walk_02.c3d"), "RKNE"))
    return d


def test_qa9_session_analysis_names_the_trial_it_could_not_process(mixed_folder):
    from core.analysis.session import analyze_session
    from core.analysis.types import to_jsonable
    from core.analysis.session import summary_lines
    from core.gait.pipeline import process_session
    ps = process_session(mixed_folder)
    assert [Path(p).name for p, _ in ps.failures] == ["pre_walk_09.c3d"]
    sa = analyze_session(ps)
    assert [t.trial_name for t in sa.trials] == ["pre_walk_01"]
    assert len(sa.failures) == 1
    name, reason = sa.failures[0]
    assert name == "pre_walk_09" and reason.startswith("not processed: ") and "RKNE" in reason
    assert str(mixed_folder) not in reason                       # the path is not repeated
    assert to_jsonable(sa)["failures"] == [["pre_walk_09", reason]]
    lines = summary_lines(sa)
    assert "1 not used" in lines[0]
    assert f"WARNING: trial pre_walk_09 not used: {reason}" in lines
    # the same trials analysed without the failed one: nothing listed
    assert analyze_session(ps.trials).failures == ()



# ----------------------------------------------------------------------------- QA-11
FULL_DISK_WRITER = """
import resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from core.errors import StoreError
from core.store import PatientStore, open_store
from tests.core.test_store_helpers import make_patient, make_record, make_session
store = Path(sys.argv[2])
with PatientStore.create(store, make_patient()) as st:
    st.save_session(make_session("S01", "pre"), [make_record("T001", "walk_01", 0)])
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))   # writes beyond: EFBIG, as on a full disk
try:
    with open_store(store, "a") as st:
        st.save_session(make_session("S01", "pre"),
                        [make_record(f"T00{i}", f"big_{i}", 10 + i, n_frames=3000) for i in (1, 2)])
except StoreError as exc:
    print("REFUSED", exc)
"""


def test_qa11_full_disk_during_a_save_is_a_store_error_and_no_crash(tmp_path):
    import subprocess
    import sys
    from core.store import open_store
    from tests.conftest import ROOT
    pytest.importorskip("resource")
    script = tmp_path / "w.py"
    script.write_text(FULL_DISK_WRITER)
    store = tmp_path / "zoe.genu"
    r = subprocess.run([sys.executable, str(script), str(ROOT), str(store), "200000"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (r.returncode, r.stderr[-600:])  # no segmentation fault at exit
    assert "Traceback" not in r.stderr and "REFUSED" in r.stdout, (r.stdout, r.stderr[-600:])
    assert "sessions/S01." in r.stdout and "file too large" in r.stdout
    assert [p.name for p in store.rglob(".*.tmp")] == []          # temp closed and removed
    with open_store(store, verify="full") as st:                  # the previous save, intact
        assert [t.name for t in st.session("pre").trials] == ["walk_01"]


def test_qa11_write_failure_reasons():
    import errno
    from core.store.atomic import write_failure
    h5_text = ("Unable to synchronously create dataset (file write failed: time = Sat, filename = 'x.tmp', "
               "file descriptor = 3, errno = 28, error message = 'No space left on device', buf = 0x1)")
    assert write_failure(ValueError(h5_text)) == "no space left on device"
    assert write_failure(OSError(errno.EFBIG, "File too large")).startswith("file too large")
    assert write_failure(OSError(errno.EACCES, "Permission denied")) == "Permission denied"


# ----------------------------------------------------------------------------- QA-8, M-12, QA-9 (store)
def _tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_qa8_bad_session_date_creates_no_store(mixed_folder, tmp_path):
    from core.errors import StoreError
    from core.store.importer import import_session
    with pytest.raises(StoreError, match="yesterday"):
        import_session(mixed_folder, tmp_path / "new.genu", session_details={"date": "yesterday"})
    assert list(tmp_path.iterdir()) == []


def test_m12_folder_with_nothing_importable_creates_nothing(tmp_path):
    from core.errors import StoreError
    from core.store.importer import import_session
    folder = tmp_path / "badsess"
    folder.mkdir()
    (folder / "a.c3d").write_bytes(np.random.default_rng(3).integers(0, 256, 6000, dtype=np.uint8).tobytes())
    (folder / "b.c3d").write_bytes(b"")
    with pytest.raises(StoreError) as info:
        import_session(folder, tmp_path / "new.genu")
    text = str(info.value)
    assert "nothing could be imported" in text and "a.c3d" in text and "b.c3d" in text and "\n" not in text
    assert not (tmp_path / "new.genu").exists()


def test_qa9_import_records_the_trial_not_imported(mixed_folder, tmp_path):
    from core.errors import StoreError
    from core.store import open_store
    from core.store.importer import import_session
    st_path = tmp_path / "p.genu"
    res = import_session(mixed_folder, st_path)
    assert res.added == ("pre_walk_01.c3d",) and len(res.failed) == 1
    line = "not imported: pre_walk_09.c3d: missing required markers for dynamic trial: RKNE"
    assert line in res.report
    with open_store(st_path, verify="full") as st:
        rec = st.load_session("pre")
        assert line in rec.import_report
        assert rec.analysis.failures == (("pre_walk_09", "not processed: missing required markers for "
                                                          "dynamic trial: RKNE"),)
    before = _tree(st_path)
    # importing again: the good files are known, the bad one still fails -> refused, store unchanged
    with pytest.raises(StoreError, match="nothing could be imported: pre_walk_09.c3d"):
        import_session(mixed_folder, st_path)
    assert _tree(st_path) == before


# ----------------------------------------------------------------------------- M-14
def test_m14_comparison_with_gaps_or_nothing_in_common_warns_nobody():
    """No raw numpy RuntimeWarning ('Mean of empty slice') reaches the user; notes say what
    could not be compared."""
    import warnings
    from core.analysis.comparison import compare_sessions
    from core.errors import AnalysisError
    from core.variables import GVS_VARIABLES
    from tests.core.test_comparison import _build, _session, _trial
    pre_t, st = _build(5)
    pre = _session("pre", pre_t, st)
    gap = GVS_VARIABLES[3]                    # a variable never measured after the operation
    post_t = [_trial(t.trial_name, {s: {k: (np.full_like(v, np.nan) if (s, k) == ("Left", gap) else v)
                                        for k, v in t.cycle_curves[s].items()} for s in t.cycle_curves},
                     t.window_peaks) for t in _build(6)[0]]
    sls = _trial("sls1", {}, {"Right": {"fppa": np.array([10.0, 11.0, 12.0])}}, task="sls")
    peaks_only = _trial("w", {}, {"Right": {"fppa": np.array([14.0, 16.0, 15.0, 13.0])}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gapped = compare_sessions(pre, _session("post", post_t, st), n_perm=200, n_boot=100)
        with pytest.raises(AnalysisError, match="no task or walking variable in common"):
            compare_sessions(pre, _session("post", [sls]), n_perm=200, n_boot=100)
        partial = compare_sessions(pre, _session("post", [peaks_only]), n_perm=200, n_boot=100)
    assert "Right" in gapped.gps and "Left" not in gapped.gps     # the side with a gap has no GPS
    assert (gap, "Left") in gapped.variables
    assert not any("nothing to compare" in n for n in gapped.notes)
    assert list(partial.valgus) == [("walk", "Right", "fppa")] and partial.gps == {}
    assert "walking curves and GPS: nothing to compare (walking cycles only in session 'pre')" in partial.notes


def test_qa11_a_store_that_cannot_be_created_leaves_nothing(tmp_path):
    """The first index cannot be written (full disk): StoreError, no folder, lock or index left."""
    import subprocess
    import sys
    from tests.conftest import ROOT
    pytest.importorskip("resource")
    script = tmp_path / "c.py"
    script.write_text(
        "import resource, sys\nsys.path.insert(0, sys.argv[1])\n"
        "from core.errors import StoreError\nfrom core.store import PatientStore\n"
        "from tests.core.test_store_helpers import make_patient\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "try:\n    PatientStore.create(sys.argv[2], make_patient())\n"
        "except StoreError as exc:\n    print('REFUSED', exc)\n")
    for name in ("new.genu", "empty.genu"):
        target = tmp_path / name
        if name == "empty.genu":
            target.mkdir()                                         # an empty folder given as the store
        r = subprocess.run([sys.executable, str(script), str(ROOT), str(target)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0 and "REFUSED" in r.stdout and "index.h5" in r.stdout, (r.stdout, r.stderr[-400:])
        assert (not target.exists()) if name == "new.genu" else list(target.iterdir()) == []


# ----------------------------------------------------------------------------- QA-14
def test_qa14_gvs_means_skip_a_side_without_cycles():
    """A walk whose file marks the left foot only has an empty 'Right' entry: the GPS means use
    the cycles that exist (the right side from the other walk), never a KeyError."""
    from core.analysis.session import gvs_mean_curves
    from core.variables import GVS_VARIABLES
    from tests.core.test_comparison import _build, _trial
    full, one_sided = _build(7)[0]
    left_only = _trial("left_only", {"Left": one_sided.cycle_curves["Left"], "Right": {}}, {})
    both = gvs_mean_curves([left_only, full])
    for k in GVS_VARIABLES:
        np.testing.assert_allclose(both["Right"][k], full.cycle_curves["Right"][k].mean(axis=0))
        pooled = np.concatenate([one_sided.cycle_curves["Left"][k], full.cycle_curves["Left"][k]])
        np.testing.assert_allclose(both["Left"][k], pooled.mean(axis=0))
    assert sorted(gvs_mean_curves([left_only])) == ["Left"]
