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
    from core.analysis import analyze_session, to_jsonable
    from core.analysis_session import summary_lines
    from core.pipeline import process_session
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

