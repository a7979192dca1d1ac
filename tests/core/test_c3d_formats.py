"""Files ezc3d refuses: MIPS (SGI) big-endian files and non-standard parameter sections.

* the SGI files of c3d.org sample_01/02 hold the same trials as their Intel and DEC twins:
  they must read the same;
* a MIPS copy of an Intel file, made at test time by byte swapping, reads back equal;
* damaged copies of a sample file (written into tmp_path) are repaired, with a warning
  naming the entry, or refused naming it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import C3DReadError
from core.io.c3d import read_c3d, write_trial_c3d
from core.io.c3d_params import MIPS, read_section
from core.model import AnalogData
from tests.conftest import SAMPLES, reference_file
from tests.data.make_bad_inputs import find_entry, join_c3d, mips_copy, split_c3d

WALK = SAMPLES / "GL-0001" / "pre" / "pre_walk_01.c3d"


def _same_trial(a, b, exact: bool = True, atol: float = 0.0) -> None:
    assert a.labels == b.labels and a.point_kinds == b.point_kinds
    assert (a.first_frame, a.point_rate_hz, a.n_frames) == (b.first_frame, b.point_rate_hz, b.n_frames)
    np.testing.assert_array_equal(np.isnan(a.points), np.isnan(b.points))
    if exact:
        np.testing.assert_array_equal(a.points, b.points)
    else:
        np.testing.assert_allclose(a.points, b.points, rtol=0, atol=atol)
    assert a.events == b.events and dict(a.processing) == dict(b.processing)
    assert (a.analog is None) == (b.analog is None)
    if a.analog is not None:
        assert (a.analog.labels, a.analog.rate_hz) == (b.analog.labels, b.analog.rate_hz)
        np.testing.assert_array_equal(a.analog.values, b.analog.values)


@pytest.fixture
def source(tmp_path) -> Path:
    """An Intel float file with points, events, PROCESSING and two analog channels."""
    walk = read_c3d(WALK)
    n = walk.n_frames * 4
    t = np.arange(n) / (walk.point_rate_hz * 4)
    values = np.column_stack([np.sin(2 * np.pi * 3 * t) * 2.5, np.cos(2 * np.pi * 7 * t) * 0.4 + 1.0])
    trial = walk.with_changes(analog=AnalogData(("EMG1", "Force"), ("V", "N"), walk.point_rate_hz * 4, values))
    return write_trial_c3d(tmp_path / "source.c3d", trial)


# ----------------------------------------------------------------------- twins
TWINS = [("sample_01", "Eb015si", "Eb015pi"), ("sample_01", "Eb015sr", "Eb015pr"),
         ("sample_02", "sgi_int", "pc_int"), ("sample_02", "sgi_real", "pc_real"),
         ("sample_01", "Eb015vi", "Eb015pi"), ("sample_01", "Eb015vr", "Eb015pr"),
         ("sample_02", "dec_real", "pc_real")]


@pytest.mark.parametrize("folder,other,intel", TWINS)
def test_sgi_and_dec_files_read_like_their_intel_twins(folder, other, intel):
    a = read_c3d(reference_file("c3d.org", folder, f"{other}.c3d"))
    b = read_c3d(reference_file("c3d.org", folder, f"{intel}.c3d"))
    assert np.isfinite(b.points).mean() > 0.5 and b.analog is not None and b.analog.values.std() > 0
    # the same stored words: integer files equal exactly (within no quantum), floats too
    _same_trial(a, b)


def test_integer_and_float_twins_agree_within_the_quantisation():
    """pc_int holds the pc_real trajectories as int16 * POINT:SCALE: they agree within one
    quantum, and the SGI integer file with them."""
    path = reference_file("c3d.org", "sample_02", "pc_int.c3d")
    scale = abs(float(read_section(path).groups["POINT"]["SCALE"]["value"][0]))
    real = read_c3d(reference_file("c3d.org", "sample_02", "pc_real.c3d"))
    for name in ("pc_int", "sgi_int"):
        t = read_c3d(reference_file("c3d.org", "sample_02", f"{name}.c3d"))
        ok = np.isfinite(t.points) & np.isfinite(real.points)
        assert ok.mean() > 0.5
        assert np.abs(t.points[ok] - real.points[ok]).max() <= scale


def test_mac_sample_mips_file_reads_as_a_walk():
    t = read_c3d(reference_file("c3d.org", "sample_06", "MACsample.c3d"))
    assert (t.n_frames, len(t.labels), t.point_rate_hz) == (180, 33, 60.0)
    assert t.analog.values.shape == (3060, 16) and t.analog.rate_hz == 1020.0
    assert any("ANALOG:OFFSET" in w for w in t.read_warnings)
    steps = np.linalg.norm(np.diff(t.points, axis=0), axis=2)
    # markers move a few mm per frame at 60 Hz: a byte-order error would give km jumps
    assert 2.0 < np.nanmedian(steps) < 20.0 and np.nanmax(np.abs(t.points)) < 3000.0


def test_dance_with_float_offset_reads_like_its_repaired_copy():
    """Dance.c3d (OFFSET stored as float) and Dance1.c3d (re-exported by c3d.org with an
    integer OFFSET) hold the same dance: same labels, frames, and marker speeds."""
    a = read_c3d(reference_file("c3d.org", "sample_13", "Dance.c3d"))
    b = read_c3d(reference_file("c3d.org", "sample_13", "Dance1.c3d"))
    assert a.labels == b.labels and (a.n_frames, b.n_frames) == (499, 498)
    assert any("ANALOG:OFFSET is stored as float" in w for w in a.read_warnings)
    step = [np.nanmedian(np.linalg.norm(np.diff(t.points, axis=0), axis=2)) for t in (a, b)]
    assert step[0] == pytest.approx(step[1], rel=0.05)


# ----------------------------------------------------------------------- MIPS round trip
def test_mips_copy_of_an_intel_file_reads_back_equal(source, tmp_path):
    out = mips_copy(source, tmp_path / "mips.c3d")
    assert out.read_bytes()[512 + 3] == MIPS and out.read_bytes() != source.read_bytes()
    a, b = read_c3d(source), read_c3d(out)
    assert a.analog is not None and a.analog.values.shape[1] == 2
    _same_trial(a, b)
    assert b.read_warnings == ()


def test_mips_copy_of_an_integer_file_reads_back_equal(tmp_path):
    src = reference_file("c3d.org", "sample_02", "pc_int.c3d")
    out = mips_copy(src, tmp_path / "mips_int.c3d")
    _same_trial(read_c3d(src), read_c3d(out))


def test_mips_file_cannot_be_copied_by_ezc3d(source, tmp_path):
    from core.io.c3d_read import open_c3d
    out = mips_copy(source, tmp_path / "mips.c3d")
    with pytest.raises(C3DReadError, match="MIPS"):
        open_c3d(out)  # the full ezc3d object, used to write processed copies


# ----------------------------------------------------------------------- tolerant walk
def _no_desc_byte(entries):
    find_entry(entries, "POINT", "LABELS").desc_byte = "omit"
    return "POINT:LABELS: the entry has no description-length byte"


def _negative_desc(entries):
    e = find_entry(entries, "POINT", "UNITS")
    e.desc = b"length unit of the marker coordinates " * 4 + b"(mm)..." + b"x" * 4  # 163 bytes
    assert len(e.desc) == 163
    return "POINT:UNITS: description length stored as a negative byte (-93), read as 163"


def _skipping_offset(entries):
    find_entry(entries, "ANALOG", "SCALE").pad = b"\x00\x00\x00"
    return "ANALOG:SCALE: its offset to the next entry skips 3 byte(s)"


def _wild_last_offset(entries):
    entries[-1].offset = 0x7000
    return "where no entry starts; the entry ends at byte"


def _offset_into_own_data(entries):
    e = find_entry(entries, "POINT", "SCALE")
    assert e.data[:1] == b"\x00"  # -1.0 as float32: 00 00 80 bf; a zero byte is no entry
    e.offset = 2 + 2 + len(e.dims)     # points at its own first data byte
    return "POINT:SCALE: its offset to the next entry points to byte"


def _float_offset(entries):
    e = find_entry(entries, "ANALOG", "OFFSET")
    e.ptype, e.data = 4, np.frombuffer(e.data, "<i2").astype("<f4").tobytes()
    return "ANALOG:OFFSET is stored as float instead of integer"


@pytest.mark.parametrize("damage", [_no_desc_byte, _negative_desc, _skipping_offset,
                                    _wild_last_offset, _offset_into_own_data, _float_offset])
def test_damaged_parameter_section_is_repaired_with_a_warning(source, tmp_path, damage):
    head, entries, data = split_c3d(source)
    expected = damage(entries)
    out = join_c3d(tmp_path / "damaged.c3d", head, entries, data)
    if damage in (_no_desc_byte, _float_offset):  # (ezc3d needs ~30 s to refuse _negative_desc)
        import ezc3d
        with pytest.raises(Exception):
            ezc3d.c3d(str(out))
    t = read_c3d(out)
    assert any(expected in w for w in t.read_warnings), t.read_warnings
    _same_trial(read_c3d(source), t)


def test_offset_into_garbage_is_refused_naming_the_entry(source, tmp_path):
    head, entries, data = split_c3d(source)
    e = find_entry(entries, "POINT", "RATE")
    e.pad = b"\xff" * 6   # neither the offset (inside these bytes) nor the end leads to an entry
    e.offset = 2 + 2 + len(e.dims) + len(e.data) + 1 + len(e.desc) + 2
    out = join_c3d(tmp_path / "garbage.c3d", head, entries, data)
    with pytest.raises(C3DReadError, match=r"garbage\.c3d.*bad parameter section.*POINT:RATE"):
        read_c3d(out)


def test_parameters_overwritten_by_the_data_section_are_refused(source, tmp_path):
    """As in c3d.org sample_18: the header puts the data inside the parameter section."""
    head, entries, data = split_c3d(source)
    assert read_section(source).start == 512 and len(source.read_bytes()) > 2048
    out = join_c3d(tmp_path / "overlap.c3d", head, entries, data, data_block=3)  # data from byte 1024
    with pytest.raises(C3DReadError, match=r"overlap\.c3d.*bad parameter section \(.*data section, which starts at byte 1024\)"):
        read_c3d(out)


def test_repairs_become_quality_issues_of_the_processed_trial(tmp_path):
    """A damaged copy of a sample walk is processed like the original, and its quality
    report says what the reader repaired."""
    from core.gait.pipeline import calibrate_static_result, process_trial
    head, entries, data = split_c3d(WALK)
    _no_desc_byte(entries)
    damaged = join_c3d(tmp_path / "pre_walk_01.c3d", head, entries, data)
    vsk = WALK.parent / "GL-0001.vsk"
    cal = calibrate_static_result(WALK.parent / "pre_static_01.c3d", vsk)
    a, b = process_trial(WALK, static=cal, subject_file=vsk), process_trial(damaged, static=cal, subject_file=vsk)
    for name, v in a.outputs.channels.items():
        np.testing.assert_array_equal(v, b.outputs.channels[name])
    assert not a.quality.of("file-repaired")
    [issue] = b.quality.of("file-repaired")
    assert issue.severity == "warning" and "POINT:LABELS" in issue.message
