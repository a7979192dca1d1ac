"""The numpy reader of read_c3d gives exactly what ezc3d gives, on every reference file
ezc3d opens (Intel and DEC, integer and float); the files only the numpy reader opens
(MIPS, repaired parameter sections) are checked in test_c3d_formats.py."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import C3DReadError
from core.io.c3d_fast import fast_read
from core.io.c3d_params import DEC, read_section
from core.io.c3d_read import open_c3d, trial_from_ezc3d
from tests.conftest import REFERENCE, reference_file

#: ezc3d misreads this file: ANALOG:RATE is missing, so ezc3d assumes no analog words in
#: the frame records although the header declares 6 per frame; its points then jump by
#: ~570 mm from frame to frame (checked below), the fast path's by ~2 mm.
EZC3D_MISREADS = {"c3d.org/sample_28/type1.C3D"}


def _files():
    if not REFERENCE.is_dir():
        return []
    return sorted(p for p in REFERENCE.rglob("*") if p.suffix.lower() == ".c3d" and p.is_file())


def _same(a, b):
    assert a.labels == b.labels and a.original_labels == b.original_labels
    assert a.point_kinds == b.point_kinds
    assert (a.first_frame, a.point_rate_hz) == (b.first_frame, b.point_rate_hz)
    np.testing.assert_array_equal(a.points, b.points)
    assert a.events == b.events
    assert dict(a.processing) == dict(b.processing) and dict(a.parameters) == dict(b.parameters)
    assert (a.manufacturer, a.software) == (b.manufacturer, b.software)
    assert (a.analog is None) == (b.analog is None)
    if a.analog is not None:
        assert (a.analog.labels, a.analog.units, a.analog.rate_hz) == (b.analog.labels, b.analog.units, b.analog.rate_hz)
        np.testing.assert_array_equal(a.analog.values, b.analog.values)
    assert len(a.force_plates) == len(b.force_plates)
    for p, q in zip(a.force_plates, b.force_plates):
        assert (p.plate_type, p.channels) == (q.plate_type, q.channels)
        np.testing.assert_array_equal(p.corners_mm, q.corners_mm)


def test_fast_path_equals_ezc3d_on_every_reference_file(reference_dir):
    used, dec = 0, 0
    for path in _files():
        rel = path.relative_to(reference_dir).as_posix()
        fast = fast_read(path)
        if fast is None or rel in EZC3D_MISREADS or read_section(path).ezc3d_refuses:
            continue
        dec += fast["processor"] == DEC
        try:
            slow = open_c3d(path)
        except C3DReadError:
            pytest.fail(f"{rel}: fast path read a file ezc3d refuses")
        used += 1
        try:
            _same(trial_from_ezc3d(slow, path), trial_from_ezc3d(fast, path))
        except AssertionError as exc:
            raise AssertionError(f"{rel}: {exc}") from None
    assert used >= 80 and dec >= 20, (used, dec)  # DEC F-floats and integers equal ezc3d's


def test_fast_path_used_for_vicon_and_dec():
    assert fast_read(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")) is not None
    assert fast_read(reference_file("c3d.org", "sample_02", "dec_real.c3d"))["processor"] == DEC


def test_file_ezc3d_misreads():
    path = reference_file("c3d.org", "sample_28", "type1.C3D")
    fast = fast_read(path)["data"]["points"][:3]
    slow = open_c3d(path)["data"]["points"][:3]
    step = lambda p: np.nanmedian(np.abs(np.diff(p, axis=2)))  # noqa: E731
    assert step(fast) < 10.0 < 100.0 < step(slow)
