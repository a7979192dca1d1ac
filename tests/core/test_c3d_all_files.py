"""Every C3D under ../shared/reference either loads into a valid Trial or is refused with a
C3DReadError naming the file; exactly the files listed in the MANIFEST's robustness
findings are refused."""
from __future__ import annotations

import time

import numpy as np
import pytest

from core.errors import C3DReadError
from core.io.c3d import read_c3d
from core.model import Trial
from tests.conftest import REFERENCE

#: MANIFEST "Robustness findings (ezc3d 1.7.2)": MIPS big-endian, non-standard parameter
#: sections, "OFFSET parameter is not an INT", and the 0-byte file.
EXPECTED_REFUSALS = {
    "c3d.org/sample_01/Eb015si.c3d": "MIPS",
    "c3d.org/sample_01/Eb015sr.c3d": "MIPS",
    "c3d.org/sample_02/sgi_int.c3d": "MIPS",
    "c3d.org/sample_02/sgi_real.c3d": "MIPS",
    "c3d.org/sample_06/MACsample.c3d": "MIPS",
    "c3d.org/sample_18/bad_parameter_section.c3d": "bad parameter section",
    "c3d.org/sample_22/BKINtechnologies.c3d": "bad parameter section",
    "c3d.org/sample_29/Facial-Sing.c3d": "bad parameter section",
    "BTKData/others/badParameterOffset.c3d": "bad parameter section",
    "BTKData/others/mocap36.c3d": "bad parameter section",
    "c3d.org/sample_13/Dance.c3d": "OFFSET parameter is not an INT",
    "c3d.org/sample_13/golfswing.c3d": "OFFSET parameter is not an INT",
    "BTKData/others/Empty.c3d": "empty",
}
KINDS = {"marker", "angle", "force", "moment", "power", "scalar"}


def _c3d_files():
    if not REFERENCE.is_dir():
        return []
    return sorted(p for p in REFERENCE.rglob("*") if p.suffix.lower() == ".c3d" and p.is_file())


def _check_valid(t: Trial) -> None:
    n_f, n_p = t.n_frames, len(t.labels)
    assert t.points.shape == (n_f, n_p, 3)
    assert len(set(t.labels)) == n_p, "labels must be unique"
    assert all(l and l == l.strip() and ":" not in l for l in t.labels)
    assert len(t.original_labels) == n_p and len(t.point_kinds) == n_p
    assert set(t.point_kinds) <= KINDS
    assert t.point_rate_hz > 0 and t.first_frame >= 1
    assert not np.isinf(t.points).any()
    markers = np.array([k == "marker" for k in t.point_kinds], dtype=bool)
    if n_f and markers.any():
        m = t.points[:, markers, :]
        assert not ((m == 0).all(axis=2)).any(), "a marker at exactly (0,0,0) must be NaN"
        # NaN is all three coordinates or none
        nan = np.isnan(m)
        assert (nan.all(axis=2) == nan.any(axis=2)).all()
    for e in t.events:
        assert e.context in ("Left", "Right", "General") and isinstance(e.frame, int)
    if t.analog is not None:
        assert t.analog.values.shape[1] == len(t.analog.labels) == len(t.analog.units)


def test_every_reference_c3d_loads_or_is_refused_cleanly(reference_dir):
    files = _c3d_files()
    assert len(files) > 100
    start = time.perf_counter()
    refused = {}
    for path in files:
        rel = path.relative_to(reference_dir).as_posix()
        try:
            trial = read_c3d(path)
        except C3DReadError as exc:
            assert path.name in str(exc), f"{rel}: message must name the file: {exc}"
            refused[rel] = str(exc)
            continue
        _check_valid(trial)
    elapsed = time.perf_counter() - start
    assert set(refused) == set(EXPECTED_REFUSALS), (
        f"unexpected refusals: {sorted(set(refused) - set(EXPECTED_REFUSALS))}; "
        f"unexpectedly loaded: {sorted(set(EXPECTED_REFUSALS) - set(refused))}")
    for rel, why in EXPECTED_REFUSALS.items():
        assert why.lower() in refused[rel].lower(), (rel, refused[rel])
    assert elapsed < 20.0, f"reading all reference files took {elapsed:.1f} s"


@pytest.mark.parametrize("rel", ["c3d.org/sample_18/bad_parameter_section.c3d",
                                 "c3d.org/sample_22/BKINtechnologies.c3d"])
def test_bad_parameter_sections_are_refused_fast(reference_dir, rel):
    path = reference_dir / rel
    if not path.exists():
        pytest.skip(f"{rel} absent")
    start = time.perf_counter()
    with pytest.raises(C3DReadError, match="bad parameter section"):
        read_c3d(path)
    assert time.perf_counter() - start < 1.0  # ezc3d alone needs 12-21 s to refuse these
