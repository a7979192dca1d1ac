"""Bad input across the whole command-line chain, as a user meets it.

The standard every case is held to (docs: COMMON rules, issues 2-7): a clear one-line
``genulab: ...`` error naming the file, marker or parameter; a non-zero exit code; no
traceback; the input file unchanged (SHA-256); nothing half-written in the output folder.
Most cases drive ``app.cli.main`` in-process; two run the real ``genulab`` executable.
All damaged inputs are generated in ``tmp_path`` from the committed sample sessions.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from tests.conftest import ROOT, SAMPLES
from tests.data.make_bad_inputs import (make_bad_files, session_folder, walk_with_left_events_only,
                                        write_in_units)

PATIENT = SAMPLES / "GL-0001"
PRE = PATIENT / "pre"
STATIC = PRE / "pre_static_01.c3d"
WALK = PRE / "pre_walk_01.c3d"
VSK = PRE / "GL-0001.vsk"


# ----------------------------------------------------------------------------- helpers
def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_sha(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def run(args: list, capsys) -> tuple[int, str, str]:
    """``genulab ARGS`` in-process: (exit code, stdout, stderr). A crash propagates (test fails)."""
    try:
        rc = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        rc = exc.code if isinstance(exc.code, int) else 2
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def assert_clean_error(rc: int, err: str, *needles: str) -> str:
    """Non-zero exit, no traceback, the error lines name every needle; returns the error text."""
    assert rc != 0, f"exit code 0 for bad input; stderr: {err!r}"
    assert "Traceback" not in err, err
    lines = [l for l in err.splitlines() if l.startswith("genulab: ")]
    assert lines, f"no 'genulab: ...' error line in stderr: {err!r}"
    text = err.strip()  # the first line is 'genulab: ...'; a damaged store lists the damage below it
    for n in needles:
        assert n.lower() in text.lower(), f"{n!r} not named in the error: {text!r}"
    return text


def no_files(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> dict[str, Path]:
    """Damaged C3D and subject files, generated from the samples (tests/data/make_bad_inputs.py)."""
    if not WALK.exists():
        pytest.skip("sample sessions absent (python -m core.synthetic.make_samples)")
    return make_bad_files(tmp_path_factory.mktemp("bad"), WALK, STATIC, VSK)


# Open bugs (see the QA report in the project notes); strict: the mark goes as soon as the fix lands.
# Fixed, tests now guard the fixes: QA-1..6 aeab54c, QA-10 b0e1009, QA-9 7c24a2c + eb72f5a,
# QA-8 and QA-11 2e1a1fc + 8360d93, QA-14 ffc5211, QA-7 and QA-13 01fa0f4,
# QA-12 879ad70, QA-15 aa1c5ed, QA-16 414c3e2.

BAD_C3D = ["empty", "truncated_header", "truncated_data", "random", "text", "missing"]
REASONS = ("empty", "truncated", "not a readable c3d", "too short", "not found", "not a c3d")


# ----------------------------------------------------------------------------- unreadable C3D
@pytest.mark.parametrize("kind", BAD_C3D)
@pytest.mark.parametrize("command", ["inspect", "calibrate", "process", "analyze"])
def test_unreadable_c3d_one_line_error(kind, command, bad, tmp_path, capsys):
    f = bad[kind]
    before = sha(f) if f.exists() else None
    out = tmp_path / "out"
    args = {"inspect": ["inspect", f], "calibrate": ["calibrate", f],
            "process": ["process", f, "--out", out], "analyze": ["analyze", f]}[command]
    rc, _, err = run(args, capsys)
    text = assert_clean_error(rc, err, f.name)
    assert any(r in text.lower() for r in REASONS), text
    first = next(l for l in err.splitlines() if f.name in l)
    assert "\n" not in first and len(first) < 400
    if before is not None:
        assert sha(f) == before
    assert no_files(out) == []


@pytest.mark.parametrize("command", ["inspect", "process"])
def test_c3d_cut_on_a_block_boundary_is_not_silently_shortened(command, bad, tmp_path, capsys):
    """A file cut at a 4096-byte boundary (interrupted copy) declares 400 frames and holds ~130.

    Acceptable: refused like any truncated file, or read with a warning saying so. Not
    acceptable: read silently as a shorter trial whose file events (up to frame 381) and gait
    cycles lie beyond its last frame.
    """
    f = bad["cut_on_block"]
    out = tmp_path / "out"
    args = ["inspect", f] if command == "inspect" else ["process", f, "--out", out]
    rc, stdout, err = run(args, capsys)
    assert "Traceback" not in err
    if rc != 0:
        assert_clean_error(rc, err, f.name, "truncated")
        assert no_files(out) == []
        return
    assert any(w in (stdout + err).lower() for w in ("truncated", "declares 400")), stdout[-800:]
    if command == "process":
        from core.io.c3d import read_c3d
        t = read_c3d(out / f.name)
        assert all(t.first_frame <= e.frame <= t.last_frame for e in t.events)


def test_unreadable_static_stops_process_before_writing(bad, tmp_path, capsys):
    before = sha(WALK)
    rc, _, err = run(["process", "--static", bad["random"], WALK, "--out", tmp_path / "o"], capsys)
    assert_clean_error(rc, err, "random.c3d")
    assert no_files(tmp_path / "o") == [] and sha(WALK) == before


def test_one_bad_trial_among_good_ones(bad, tmp_path, capsys):
    """The good trial is written whole; the bad one is named; nothing else is left behind."""
    out = tmp_path / "o"
    rc, stdout, err = run(["process", "--static", STATIC, bad["empty"], WALK, "--out", out], capsys)
    assert_clean_error(rc, err, "empty.c3d")
    assert sorted(p.name for p in out.iterdir()) == ["pre_walk_01.c3d"]
    from core.io.c3d import read_c3d
    assert read_c3d(out / "pre_walk_01.c3d").has("RKneeAngles")


# ----------------------------------------------------------------------------- markers
def test_missing_marker_named_by_the_engine(bad):
    from core.errors import MissingMarkersError
    from core.gait.pipeline import calibrate_static_result, process_trial
    with pytest.raises(MissingMarkersError) as e:
        process_trial(bad["walk_noRKNE"])
    assert e.value.markers == ("RKNE",) and "RKNE" in str(e.value) and "walk_noRKNE.c3d" in str(e.value)
    with pytest.raises(MissingMarkersError) as e:
        calibrate_static_result(bad["static_noRKNE"])
    assert e.value.markers == ("RKNE",)


@pytest.mark.parametrize("command", ["process", "calibrate", "analyze"])
def test_missing_marker_on_the_command_line(command, bad, tmp_path, capsys):
    f = bad["static_noRKNE"] if command == "calibrate" else bad["walk_noRKNE"]
    before = sha(f)
    args = {"process": ["process", "--static", STATIC, f, "--out", tmp_path / "o"],
            "calibrate": ["calibrate", f], "analyze": ["analyze", "--static", STATIC, f]}[command]
    rc, _, err = run(args, capsys)
    assert_clean_error(rc, err, f.name, "RKNE", "missing")
    assert sha(f) == before and no_files(tmp_path / "o") == []


def test_inspect_lists_the_missing_marker(bad, capsys):
    rc, out, err = run(["inspect", bad["walk_noRKNE"]], capsys)
    assert rc == 0, err
    assert "missing for a dynamic trial: RKNE" in out
    rc, out, _ = run(["inspect", "--json", bad["walk_noRKNE"]], capsys)
    assert json.loads(out)["marker_set"]["missing_required_dynamic"] == ["RKNE"]


# ----------------------------------------------------------------------------- subject parameters
def test_missing_leg_length_names_parameter_and_sources(bad):
    from core.errors import SubjectParameterError
    from core.gait.pipeline import calibrate_static_result
    with pytest.raises(SubjectParameterError) as e:
        calibrate_static_result(bad["static_noproc"], bad["json_no_leg"])
    assert "LeftLegLength" in e.value.parameters
    assert any("no_leg_length.json" in s for s in e.value.searched)


@pytest.mark.parametrize("case, needles", [
    ("json_no_leg", ("LeftLegLength", "no_leg_length.json")),
    ("json_text_value", ("LeftKneeWidth", "text_value.json")),
    ("json_negative", ("RightKneeWidth", "negative_knee.json")),
    ("json_broken", ("broken.json",)),
])
@pytest.mark.parametrize("command", ["calibrate", "process"])
def test_bad_subject_file(case, needles, command, bad, tmp_path, capsys):
    subj = bad[case]
    before = sha(subj)
    if command == "calibrate":
        args = ["calibrate", "--subject", subj, bad["static_noproc"]]
    else:
        args = ["process", "--subject", subj, bad["walk_noproc"], "--out", tmp_path / "o"]
    rc, _, err = run(args, capsys)
    assert_clean_error(rc, err, *needles)
    assert sha(subj) == before and no_files(tmp_path / "o") == []


def test_vsk_with_a_non_numeric_value_is_reported(bad, capsys):
    """A typo in the VSK must not be silently replaced by the static's PROCESSING value."""
    rc, out, err = run(["calibrate", "--subject", bad["vsk_text_value"], STATIC], capsys)
    assert_clean_error(rc, err, "LeftKneeWidth", "text_value.vsk")


@pytest.mark.parametrize("option, needles", [
    ("KneeWidht=100", ("KneeWidht", "not a known parameter")),
    ("LeftLegLength=abc", ("LeftLegLength", "not a number")),
    ("LeftLegLength", ("LeftLegLength", "Name=Value")),
    ("RightKneeWidth=-100", ("RightKneeWidth", "negative")),
])
def test_bad_set_option(option, needles, tmp_path, capsys):
    rc, _, err = run(["process", "--set", option, "--static", STATIC, WALK, "--out", tmp_path / "o"], capsys)
    assert_clean_error(rc, err, *needles)
    assert no_files(tmp_path / "o") == []
    rc, _, err = run(["calibrate", "--set", option, STATIC], capsys)
    assert_clean_error(rc, err, *needles)


@pytest.mark.parametrize("command", ["calibrate", "process"])
def test_impossible_knee_width_is_named(command, tmp_path, capsys):
    """LeftKneeWidth=980 (an extra digit): the knee-centre offset exceeds the thigh length, so the
    chord function has no solution. The user must be told which parameter, not 'markers missing',
    and never get a file whose left side is silently all empty."""
    if command == "calibrate":
        args = ["calibrate", STATIC, "--set", "LeftKneeWidth=980"]
    else:
        args = ["process", WALK, "--set", "LeftKneeWidth=980", "--format", "csv", "--out", tmp_path / "o"]
    rc, out, err = run(args, capsys)
    assert "Traceback" not in err
    if rc != 0:
        text = assert_clean_error(rc, err, "LeftKneeWidth")
        assert "missing required markers" not in text and "no static frame with all markers" not in text
    else:
        assert "LeftKneeWidth" in "\n".join(l for l in out.splitlines() if "warning" in l), out[-1500:]


@pytest.fixture(scope="module")
def one_sided_session(tmp_path_factory) -> Path:
    """A walk whose file holds the left foot's events only (common: one side marked), beside a
    normal walk, in a session folder with the static and the VSK."""
    if not WALK.exists():
        pytest.skip("sample sessions absent")
    d = session_folder(tmp_path_factory.mktemp("onesided") / "GL-0001", "pre",
                       (STATIC, VSK, PRE / "pre_walk_02.c3d"), PATIENT / "patient.json")
    walk_with_left_events_only(WALK, d / "pre_walk_01.c3d")
    return d


@pytest.mark.parametrize("command", ["analyze", "report", "import"])
def test_walk_with_one_side_of_events(command, one_sided_session, tmp_path, capsys):
    """Analysed with the left cycles it has (right side from the other walk), or refused in one line."""
    args = {"analyze": ["analyze", one_sided_session, "--json", tmp_path / "a.json"],
            "report": ["report", one_sided_session, "--pdf", tmp_path / "r.pdf", "--no-snapshots"],
            "import": ["import", one_sided_session, "--patient", tmp_path / "s.genu"]}[command]
    rc, out, err = run(args, capsys)
    assert "Traceback" not in err
    if rc != 0:
        assert_clean_error(rc, err, "pre_walk_01")


# ----------------------------------------------------------------------------- events, units
def test_walk_without_events_or_motion(bad, tmp_path, capsys):
    """No events in the file and nothing to detect them from: a warning, then a clear refusal."""
    out = tmp_path / "o"
    rc, stdout, err = run(["process", "--static", STATIC, bad["standing_walk"], "--out", out], capsys)
    assert rc == 0 and "Traceback" not in err
    assert "0 events from the file, 0 cycles" in stdout
    assert "warning: no foot strike/off events in the file: 0 detected from kinematics" in stdout
    rc, _, err = run(["analyze", "--static", STATIC, bad["standing_walk"]], capsys)
    assert_clean_error(rc, err, "standing_walk_01", "gait cycle")


@pytest.mark.parametrize("unit, scale", [("m", 1e-3), ("cm", 0.1), ("mete", 1e-3)])
def test_units_give_the_same_angles(unit, scale, tmp_path):
    """A trial stored in metres (or cm, or Vicon's truncated 'mete') gives the mm original's angles."""
    from core.gait.pipeline import calibrate_static_result, process_trial
    st_mm = calibrate_static_result(STATIC)
    st_u = calibrate_static_result(write_in_units(STATIC, tmp_path / f"static_{unit}.c3d", unit, scale))
    ref = process_trial(WALK, static=st_mm)
    got = process_trial(write_in_units(WALK, tmp_path / f"walk_{unit}.c3d", unit, scale), static=st_u)
    assert got.trial.parameters.get("POINT:UNITS") in (unit, "mm")
    for name, a in ref.outputs.channels.items():
        b = got.outputs.channels[name]
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        ok = np.isfinite(a)
        # float32 storage of metres: ~1e-4 mm per coordinate -> ~1e-3 deg at worst
        assert np.abs(a[ok] - b[ok]).max() < 2e-3, (name, np.abs(a[ok] - b[ok]).max())
    assert [(e.label, e.context, e.frame) for e in got.events] == [(e.label, e.context, e.frame) for e in ref.events]


# ----------------------------------------------------------------------------- output targets
def test_process_into_an_output_dir_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "results"
    target.write_text("not a folder")
    before = sha(WALK)
    rc, _, err = run(["process", WALK, "--out", target], capsys)
    assert_clean_error(rc, err, "results")
    assert target.read_text() == "not a folder" and sha(WALK) == before


def test_process_into_a_folder_under_a_file(tmp_path, capsys):
    (tmp_path / "results").write_text("x")
    rc, _, err = run(["process", WALK, "--out", tmp_path / "results" / "sub"], capsys)
    assert_clean_error(rc, err, "results")


def test_process_two_inputs_with_the_same_name(tmp_path, capsys):
    """pre/walk.c3d and post/walk.c3d into one folder: never lose one of the two outputs silently."""
    a, b = tmp_path / "A" / "walk.c3d", tmp_path / "B" / "walk.c3d"
    for src, dst in ((WALK, a), (PATIENT / "post" / "post_walk_01.c3d", b)):
        dst.parent.mkdir()
        shutil.copy(src, dst)
    out = tmp_path / "o"
    rc, stdout, err = run(["process", a, b, "--out", out], capsys)
    assert "Traceback" not in err
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert len(written) == 2 or (rc != 0 and "walk.c3d" in err), (rc, written, err)


def test_json_output_into_a_missing_folder(tmp_path, capsys):
    """calibrate --json into a folder that does not exist: create it, or refuse clearly."""
    target = tmp_path / "no" / "such" / "cal.json"
    rc, _, err = run(["calibrate", STATIC, "--json", target], capsys)
    assert "Traceback" not in err
    if rc == 0:
        assert json.loads(target.read_text())["inter_asis_distance_mm"] > 0
    else:
        assert_clean_error(rc, err, "cal.json")
    assert [p.name for p in tmp_path.rglob("*.tmp")] == []


def test_analyze_json_into_a_path_blocked_by_a_file(tmp_path, capsys):
    (tmp_path / "blocked").write_text("x")
    rc, _, err = run(["analyze", "--static", STATIC, WALK, "--json", tmp_path / "blocked" / "a.json"], capsys)
    assert_clean_error(rc, err, "blocked")


# ----------------------------------------------------------------------------- store
@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store holding a small 'pre' session (static + one walk), imported with the CLI."""
    if not WALK.exists():
        pytest.skip("sample sessions absent")
    root = tmp_path_factory.mktemp("store")
    sess = session_folder(root / "GL-0001", "pre", (STATIC, WALK, VSK), PATIENT / "patient.json")
    st = root / "GL-0001.genu"
    assert main(["import", str(sess), "--patient", str(st)]) == 0
    return st


def _damage(store: Path, where: Path, how: str) -> Path:
    dst = where / f"damaged_{how}.genu"
    shutil.copytree(store, dst)
    if how == "index_truncated":
        idx = dst / "index.h5"
        idx.write_bytes(idx.read_bytes()[:1000])
    elif how == "index_garbage":
        (dst / "index.h5").write_bytes(os.urandom(4096))
    elif how == "session_truncated":
        f = next((dst / "sessions").glob("*.h5"))
        f.write_bytes(f.read_bytes()[: f.stat().st_size // 3])
    return dst


@pytest.mark.parametrize("how, named", [("index_truncated", "index.h5"), ("index_garbage", "index.h5"),
                                        ("session_truncated", "sessions/")])
def test_damaged_store_refused_and_left_alone(how, named, store, tmp_path, capsys):
    st = _damage(store, tmp_path, how)
    before = tree_sha(st)
    post = tmp_path / "post"
    post.mkdir()
    for f in (PATIENT / "post" / "post_static_01.c3d", PATIENT / "post" / "post_walk_01.c3d"):
        shutil.copy(f, post)
    for args in (["import", post, "--patient", st], ["ls", st],
                 ["report", st, "--session", "pre", "--pdf", tmp_path / "r.pdf", "--no-snapshots"],
                 ["export", st, "--session", "pre", "--out", tmp_path / "e.genu"]):
        rc, _, err = run(args, capsys)
        assert_clean_error(rc, err, st.name, named)
    assert tree_sha(st) == before
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "e.genu").exists()


@pytest.mark.parametrize("what", ["plain_file", "foreign_folder"])
def test_import_into_something_that_is_not_a_store(what, tmp_path, capsys):
    target = tmp_path / "target"
    if what == "plain_file":
        target.write_text("hello")
    else:
        target.mkdir()
        (target / "readme.txt").write_text("hello")
    before = tree_sha(tmp_path)
    rc, _, err = run(["import", PRE, "--patient", target], capsys)
    assert_clean_error(rc, err, "target", "store")
    assert tree_sha(tmp_path) == before


def test_store_commands_on_missing_things(store, tmp_path, capsys):
    rc, _, err = run(["ls", tmp_path / "none.genu"], capsys)
    assert_clean_error(rc, err, "none.genu")
    rc, _, err = run(["report", store, "--session", "nope", "--pdf", tmp_path / "r.pdf"], capsys)
    assert_clean_error(rc, err, "nope")
    rc, _, err = run(["export", store, "--session", "nope", "--out", tmp_path / "e.genu"], capsys)
    assert_clean_error(rc, err, "nope")
    rc, _, err = run(["import", tmp_path / "no_folder", "--patient", tmp_path / "n.genu"], capsys)
    assert_clean_error(rc, err, "no_folder")
    assert no_files(tmp_path) == []


@pytest.mark.parametrize("option", [
    ["--date", "yesterday"],
    ["--dob", "1990-13-45"],
    ["--set", "LeftLegLength=-5"],
    ["--static", "nosuch.c3d"],
])
def test_refused_import_creates_no_store(option, tmp_path, capsys):
    st = tmp_path / "new.genu"
    rc, _, err = run(["import", PRE, "--patient", st, *option], capsys)
    assert_clean_error(rc, err, option[1].split("=")[0])
    assert not st.exists(), sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


def test_report_on_a_session_without_analysis(tmp_path, capsys):
    sess = tmp_path / "static_only"
    sess.mkdir()
    shutil.copy(STATIC, sess)
    shutil.copy(VSK, sess)
    st = tmp_path / "p.genu"
    rc, _, err = run(["import", sess, "--patient", st, "--id", "QA-1"], capsys)
    assert rc == 0, err
    before = tree_sha(st)
    pdf = tmp_path / "r.pdf"
    rc, _, err = run(["report", st, "--session", "static_only", "--pdf", pdf, "--no-snapshots"], capsys)
    assert_clean_error(rc, err, "static_only", "analysis")
    assert not pdf.exists() and tree_sha(st) == before
    assert [p.name for p in tmp_path.glob("*.pdf*")] == []


# ----------------------------------------------------------------------------- a trial left out
@pytest.fixture(scope="module")
def mixed_session(bad, tmp_path_factory) -> Path:
    """A session folder: the static, one good walk, and a walk without RKNE (cannot be processed)."""
    d = session_folder(tmp_path_factory.mktemp("mixed") / "GL-0001", "pre", (STATIC, WALK, VSK),
                       PATIENT / "patient.json")
    shutil.copy(bad["walk_noRKNE"], d / "pre_walk_09.c3d")
    return d


@pytest.mark.parametrize("source", ["folder", "store"])
def test_report_names_a_trial_it_could_not_use(source, mixed_session, tmp_path, capsys):
    """The clinician must see that a recorded trial is missing from the report (quality page)."""
    import subprocess as sp
    src = mixed_session
    if source == "store":
        src = tmp_path / "s.genu"
        run(["import", mixed_session, "--patient", src], capsys)
    pdf = tmp_path / "r.pdf"
    rc, out, err = run(["report", src, *(["--session", "pre"] if source == "store" else []), "--pdf", pdf,
                        "--no-snapshots"], capsys)
    assert "Traceback" not in err
    if rc != 0:
        assert_clean_error(rc, err, "pre_walk_09")
        return
    assert "pre_walk_09" in out + err
    text = sp.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "pre_walk_09" in text and "RKNE" in text


def test_analyze_result_names_a_trial_it_could_not_use(mixed_session, tmp_path, capsys):
    js = tmp_path / "a.json"
    rc, out, err = run(["analyze", mixed_session, "--json", js], capsys)
    assert "pre_walk_09" in err and "RKNE" in err              # holds today
    assert "pre_walk_09" in js.read_text() and "pre_walk_09" in out


@pytest.mark.parametrize("command", ["analyze", "import"])
def test_identical_copy_of_a_trial_is_counted_once(command, tmp_path, capsys):
    """'pre_walk_01 - Copy.c3d' (same bytes, a file-manager copy) must not double the cycles."""
    d = session_folder(tmp_path / "GL-0001", "pre", (STATIC, WALK, VSK), PATIENT / "patient.json")
    shutil.copy(WALK, d / "pre_walk_01 - Copy.c3d")
    if command == "analyze":
        js = tmp_path / "a.json"
        rc, out, err = run(["analyze", d, "--json", js], capsys)
        assert rc == 0, err
        names = [t["trial_name"] for t in json.loads(js.read_text())["trials"]]
        assert names == ["pre_walk_01"], names                  # the original, not the copy
    else:
        st = tmp_path / "s.genu"
        rc, out, err = run(["import", d, "--patient", st], capsys)
        rc, listing, _ = run(["ls", st], capsys)
        trials = [l.split()[1] for l in listing.splitlines() if l.startswith("  T")]
        assert trials == ["pre_static_01", "pre_walk_01"], listing
    # the user is told, and the copy is the one set aside
    assert "pre_walk_01 - Copy.c3d is a byte-identical copy of pre_walk_01.c3d" in out + err, out + err


# ----------------------------------------------------------------------------- two patients
@pytest.fixture(scope="module")
def two_patients(tmp_path_factory) -> tuple[Path, Path]:
    """GL-0001/pre and a second patient's post (static + one walk each)."""
    if not WALK.exists():
        pytest.skip("sample sessions absent")
    root = tmp_path_factory.mktemp("patients")
    info = json.loads((PATIENT / "patient.json").read_text())
    out = []
    for pid, sess, name in (("GL-0001", "pre", info["name"]), ("GL-0999", "post", "Other Person")):
        files = [PATIENT / sess / f for f in (f"{sess}_static_01.c3d", f"{sess}_walk_01.c3d", "GL-0001.vsk")]
        out.append(session_folder(root / pid, sess, files,
                                  patient={**info, "patient_id": pid, "name": name}))
    return out[0], out[1]


def test_compare_refuses_two_different_patients(two_patients, tmp_path, capsys):
    pre, post = two_patients
    out = tmp_path / "c.json"
    rc, _, err = run(["compare", pre, post, "--n-perm", "100", "--json", out], capsys)
    assert_clean_error(rc, err, "GL-0001", "GL-0999")
    assert not out.exists()


def test_report_refuses_two_different_patients(two_patients, tmp_path, capsys):
    pre, post = two_patients
    pdf = tmp_path / "c.pdf"
    rc, _, err = run(["report", pre, "--compare-folder", post, "--pdf", pdf, "--no-snapshots"], capsys)
    assert_clean_error(rc, err, "GL-0001", "GL-0999")
    assert not pdf.exists()


def test_store_refuses_a_second_patient(store, two_patients, tmp_path, capsys):
    st = tmp_path / "s.genu"
    shutil.copytree(store, st)
    before = tree_sha(st)
    rc, _, err = run(["import", two_patients[1], "--patient", st], capsys)
    assert_clean_error(rc, err, "GL-0001", "GL-0999")
    assert tree_sha(st) == before


# ----------------------------------------------------------------------------- real executable
def _genulab() -> list[str]:
    exe = Path(sys.executable).with_name("genulab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "app.cli"]


def _sub(args: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(_genulab() + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})


def test_subprocess_zero_byte_file(bad, tmp_path):
    r = _sub(["inspect", bad["empty"]], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [f"genulab: {bad['empty']}: file is empty (0 bytes)"]


def test_subprocess_output_dir_is_a_file(tmp_path):
    target = tmp_path / "results"
    target.write_text("not a folder")
    r = _sub(["process", WALK, "--out", target], tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr[-600:]
    assert "results" in r.stderr and r.stderr.strip().startswith("genulab: ")


# ----------------------------------------------------------------------------- real-world files
def test_every_reference_c3d_through_process_and_analyze(reference_dir, tmp_path, capsys):
    """135 C3D files from many systems (../shared/reference): each is processed or refused with
    a one-line error naming it; never a crash, never a change to the file, nothing half-written."""
    files = sorted(p for p in reference_dir.rglob("*") if p.suffix.lower() == ".c3d")
    assert len(files) > 50
    outcomes = {"ok": 0, "refused": 0}
    for i, f in enumerate(files):
        before = sha(f)
        out = tmp_path / f"o{i}"
        for args in (["process", f, "--out", out], ["analyze", f]):
            rc, _, err = run(args, capsys)
            assert "Traceback" not in err, (f, err)
            if rc == 0:
                outcomes["ok"] += 1
                continue
            assert rc == 2, (f, args[0], rc, err)
            lines = err.strip().splitlines()
            assert lines and all(l.startswith("genulab: ") for l in lines), (f, err)
            assert f.name in lines[0], (f, lines[0])
            outcomes["refused"] += 1
        assert sha(f) == before, f
        written = sorted(p.name for p in out.iterdir()) if out.exists() else []
        assert written in ([], [f"{f.stem}.c3d"]), (f, written)
    assert outcomes["ok"] >= 20 and outcomes["refused"] >= 100, outcomes


# ----------------------------------------------------------------------------- disk full
def _genulab_with_file_limit(args: list, limit_bytes: int, cwd: Path) -> subprocess.CompletedProcess:
    """`genulab ARGS` where no file may grow beyond ``limit_bytes`` (RLIMIT_FSIZE: writes then fail
    with EFBIG, as on a full disk; CPython ignores SIGXFSZ)."""
    resource = pytest.importorskip("resource")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return subprocess.run(_genulab() + [str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, preexec_fn=limit,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"})


def test_disk_full_while_writing_processed_c3d(tmp_path):
    out = tmp_path / "out"
    r = _genulab_with_file_limit(["process", WALK, "--out", out], 150_000, tmp_path)  # the copy is ~210 kB
    assert "Traceback" not in r.stderr
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert r.returncode != 0 and "pre_walk_01" in r.stderr, (r.returncode, r.stderr[-400:], left)
    assert left == [], left                                    # nothing truncated left behind


@pytest.mark.parametrize("command", ["import", "export"])
def test_disk_full_in_the_store(command, store, tmp_path):
    target = tmp_path / "new.genu"
    args = (["import", PRE, "--patient", target] if command == "import"
            else ["export", store, "--session", "pre", "--out", target])
    r = _genulab_with_file_limit(args, 1_000_000, tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr, (r.returncode, r.stderr[-400:])
    assert r.stderr.startswith("genulab: ")
    assert not target.exists()


# ----------------------------------------------------------------------------- file permissions
@pytest.mark.parametrize("what", ["pdf", "json"])
def test_outputs_follow_the_umask(what, store, tmp_path, capsys):
    """A lab shares reports on a network drive: outputs get the usual 0666 & ~umask mode, like
    the processed C3D and CSV files, not the 0600 of a temporary file."""
    old = os.umask(0o022)
    try:
        if what == "pdf":
            target = tmp_path / "r.pdf"
            rc, _, err = run(["report", store, "--session", "pre", "--pdf", target, "--no-snapshots"], capsys)
        else:
            target = tmp_path / "cal.json"
            rc, _, err = run(["calibrate", STATIC, "--json", target], capsys)
        assert rc == 0, err
        c3d = tmp_path / "o" / "pre_walk_01.c3d"
        assert main(["process", str(WALK), "--out", str(c3d.parent)]) == 0
    finally:
        os.umask(old)
    assert oct(c3d.stat().st_mode & 0o777) == "0o644"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
