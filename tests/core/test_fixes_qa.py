"""Fixes of the QA findings (qa_report.md QA-8..QA-11, M-12, M-14): bad conditions a user meets."""
from __future__ import annotations

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
