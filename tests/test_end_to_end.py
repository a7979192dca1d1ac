"""The main job chain of a gait lab, end to end through the ``genulab`` command line.

On the committed sample sessions (sample_c3d/GL-0001/pre and post): process (C3D and CSV),
analyze --json, compare --json, import + ls + export --deidentify, report, and demo. Each
step is checked against an independent computation: the engine's in-memory outputs, the
files re-read with ezc3d alone, the samples' truth files, and the other commands' results.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from tests.conftest import SAMPLES

PATIENT = SAMPLES / "GL-0001"
PRE, POST = PATIENT / "pre", PATIENT / "post"
STATIC = PRE / "pre_static_01.c3d"
VSK = PRE / "GL-0001.vsk"
WALKS = [PRE / "pre_walk_01.c3d", PRE / "pre_walk_02.c3d"]
ANGLES = ("LPelvisAngles", "RPelvisAngles", "LHipAngles", "RHipAngles", "LKneeAngles", "RKneeAngles",
          "LAnkleAngles", "RAnkleAngles", "LFootProgressAngles", "RFootProgressAngles")
CENTRES = ("LHJC", "RHJC", "LKJC", "RKJC", "LAJC", "RAJC")
IDENTITY = ("Alex Example", "GL-0001", "1994-03-15")

pytestmark = pytest.mark.skipif(not STATIC.exists(), reason="sample sessions absent "
                                "(python -m core.synthetic.make_samples)")


def sha(p: Path) -> str:
    return hashlib.sha256(Path(p).read_bytes()).hexdigest()


def cli(args: list, capsys) -> tuple[str, str]:
    rc = main([str(a) for a in args])
    cap = capsys.readouterr()
    assert rc == 0, cap.err[-2000:]
    assert "Traceback" not in cap.err
    return cap.out, cap.err


@pytest.fixture(scope="module")
def engine():
    """The engine's own outputs for the sample walks (static + VSK), in memory."""
    from core.gait.pipeline import calibrate_static_result, process_trial
    cal = calibrate_static_result(STATIC, VSK)
    return cal, {p.stem: process_trial(p, static=cal, subject_file=VSK) for p in WALKS}


def _ezc3d_points(path: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], object]:
    """Label -> (F, 3) point data and (F,) residuals, read with ezc3d alone."""
    import ezc3d
    c = ezc3d.c3d(str(path))
    labels = [l.strip() for l in c["parameters"]["POINT"]["LABELS"]["value"]]
    pts = c["data"]["points"][:3].transpose(2, 1, 0)               # (F, P, 3)
    res = c["data"]["meta_points"]["residuals"][0].T               # (F, P)
    return ({l: pts[:, i] for i, l in enumerate(labels)}, {l: res[:, i] for i, l in enumerate(labels)}, c)


def _raw_points(path: Path, c) -> tuple[np.ndarray, list[str]]:
    """(F, P, 4) float32 point words exactly as stored (Intel float file; each frame's record
    is its point words followed by its analog samples)."""
    p = c["parameters"]
    assert p["POINT"]["SCALE"]["value"][0] < 0
    start = int(p["POINT"]["DATA_START"]["value"][0])
    n_p, n_f = int(p["POINT"]["USED"]["value"][0]), c["data"]["points"].shape[2]
    n_a = c["data"]["analogs"].shape[1] * c["data"]["analogs"].shape[2] // max(n_f, 1)
    raw = np.fromfile(path, dtype="<f4", offset=512 * (start - 1), count=n_f * (n_p * 4 + n_a))
    raw = raw.reshape(n_f, n_p * 4 + n_a)[:, :n_p * 4]
    return raw.reshape(n_f, n_p, 4).astype(np.float64), [l.strip() for l in p["POINT"]["LABELS"]["value"]]


# ----------------------------------------------------------------------------- process
def test_process_c3d_equals_the_engine_to_float32(engine, tmp_path, capsys):
    cal, ref = engine
    before = {p: sha(p) for p in [STATIC, VSK, *WALKS]}
    out, _ = cli(["process", "--static", STATIC, "--subject", VSK, *WALKS, "--out", tmp_path], capsys)
    assert "calibrated (InterAsisDistance 232.00 mm" in out
    assert {p: sha(p) for p in before} == before                     # inputs never modified
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pre_walk_01.c3d", "pre_walk_02.c3d"]
    for stem, pt in ref.items():
        pts, res, c = _ezc3d_points(tmp_path / f"{stem}.c3d")
        raw, labels = _raw_points(tmp_path / f"{stem}.c3d", c)
        src, _, _ = _ezc3d_points(PRE / f"{stem}.c3d")
        for marker in ("LASI", "RKNE", "RHEE"):                    # the input's markers are copied
            np.testing.assert_array_equal(pts[marker], src[marker])
        angles_listed = [a.strip() for a in c["parameters"]["POINT"]["ANGLES"]["value"]]
        assert set(ANGLES) <= set(angles_listed)
        n_invalid = 0
        for name in ANGLES + CENTRES:
            want = pt.outputs.channels[name]
            ok = np.isfinite(want).all(axis=1)
            n_invalid += int((~ok).sum())
            # valid samples: exactly the engine's values rounded to float32
            np.testing.assert_array_equal(pts[name][ok], want[ok].astype(np.float32).astype(np.float64),
                                          err_msg=f"{stem} {name}")
            # invalid samples as Vicon writes them: residual -1 (ezc3d shows them as NaN) ...
            assert np.all(res[name][~ok] == -1) and np.isnan(pts[name][~ok]).all(), name
            assert np.all(res[name][ok] >= 0), name
            # ... and zeros in the file's bytes
            i = labels.index(name)
            assert np.all(raw[~ok, i, :3] == 0.0) and np.all(raw[ok, i, :3] == pts[name][ok]), name
        if stem == "pre_walk_02":                                   # RTHI gap -> NaN hip/knee frames
            assert n_invalid > 0
        # events used: the EVENT group holds the engine's events (C3D frames and times)
        ev = c["parameters"]["EVENT"]
        times = np.asarray(ev["TIMES"]["value"]).reshape(2, -1)
        got = sorted(zip([s.strip() for s in ev["CONTEXTS"]["value"]], [s.strip() for s in ev["LABELS"]["value"]],
                         np.round(times[1] * 100 + 1).astype(int)))
        want_ev = sorted((e.context, e.label, e.frame) for e in pt.events if e.label in ("Foot Strike", "Foot Off"))
        assert [g for g in got if g[1] in ("Foot Strike", "Foot Off")] == want_ev
        assert len(want_ev) >= 8


def _shifted(src: Path, out: Path, offset: int) -> Path:
    """The same trial starting at C3D frame 1 + offset (events shifted with it)."""
    from core.io.c3d import read_c3d, write_trial_c3d
    t = read_c3d(src)
    ev = tuple(replace(e, frame=e.frame + offset, time_s=(e.frame + offset - 1) / t.point_rate_hz) for e in t.events)
    return write_trial_c3d(out, t.with_changes(first_frame=t.first_frame + offset, events=ev))


def test_process_csv_frames_times_and_empty_cells(engine, tmp_path, capsys):
    cal, ref = engine
    shifted = _shifted(WALKS[1], tmp_path / "pre_walk_02.c3d", 250)
    out = tmp_path / "csv"
    cli(["process", "--static", STATIC, "--subject", VSK, shifted, "--format", "csv", "--out", out], capsys)
    assert [p.name for p in out.iterdir()] == ["pre_walk_02.csv"]
    with open(out / "pre_walk_02.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    want = ref["pre_walk_02"].outputs
    assert len(body) == want.n_frames == 380
    frames = np.array([int(float(r[0])) for r in body])
    np.testing.assert_array_equal(frames, np.arange(251, 251 + 380))          # C3D frame numbers
    np.testing.assert_allclose([float(r[1]) for r in body], (frames - 1) / 100.0, atol=1e-9)
    n_empty = 0
    for name in ANGLES + CENTRES:
        for k, axis in enumerate("XYZ"):
            col = header.index(f"{name}_{axis}")
            cells = [r[col] for r in body]
            expect = want.channels[name][:, k]
            empty = np.array([c == "" for c in cells])
            np.testing.assert_array_equal(empty, np.isnan(expect), err_msg=f"{name}_{axis}")
            n_empty += int(empty.sum())
            vals = np.array([float(c) for c in cells if c != ""])
            np.testing.assert_allclose(vals, expect[~empty], rtol=1e-9, atol=1e-7, err_msg=name)
    assert n_empty > 0                                                          # the RTHI gap shows


# ----------------------------------------------------------------------------- analyze / compare
def _strict_json(path: Path) -> dict:
    """JSON as any strict parser reads it (no NaN/Infinity tokens, which JSON does not allow)."""
    def refuse(token):
        raise AssertionError(f"{path.name}: non-standard JSON token {token}")
    return json.loads(path.read_text(), parse_constant=refuse)


def _truth(trial: str) -> dict:
    return json.loads((PRE / f"{trial}.truth.json").read_text())


@pytest.fixture(scope="module")
def analysis(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("an") / "pre.json"
    assert main(["analyze", str(PRE), "--json", str(out)]) == 0
    return _strict_json(out)


def test_analyze_json_pre_session(analysis):
    a = analysis
    assert a["label"] == "pre"
    assert sorted(t["trial_name"] for t in a["trials"]) == sorted(p.stem for p in PRE.glob("*.c3d")
                                                                   if "static" not in p.stem)
    tasks = a["tasks"]
    # the right knee collapses (walk, squat), the left does not
    assert tasks["walk/Right"]["n_windows_with_phase"] >= 6 and tasks["walk/Left"]["n_windows_with_phase"] == 0
    assert tasks["sls/Right"]["n_windows_with_phase"] == 5 and tasks["sls/Left"]["n_windows_with_phase"] == 0
    assert a["chain"]["walk/Right"]["pattern"] == "top-down"
    # the noise-free walk: every true phase found, onset/offset within a frame, peak equal to the truth
    tr = next(t for t in a["trials"] if t["trial_name"] == "pre_walk_01")
    truth = _truth("pre_walk_01")
    assert truth["imperfections"]["noise_sd_mm"] == 0.0
    got = sorted((p["side"], p["onset_frame"], p["offset_frame"], p["peak_frame"], p["peak_value"])
                 for p in tr["phases"])
    want = sorted((p["side"], p["onset_frame"], p["offset_frame"], p["peak_frame"], p["peak_value"])
                  for p in truth["phases"])
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        assert g[0] == w[0] and abs(g[1] - w[1]) <= 1 and abs(g[2] - w[2]) <= 1, (g, w)
        assert g[4] == pytest.approx(w[4], abs=1e-3), (g, w)
    # frames are C3D frame numbers: the events the analysis used are the file's
    assert tr["first_frame"] == 1 and tr["n_frames"] == truth["n_frames"]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cmp") / "cmp.json"
    assert main(["compare", str(PRE), str(POST), "--n-perm", "200", "--json", str(out)]) == 0
    return _strict_json(out)


@pytest.fixture(scope="module")
def demo_comparison(tmp_path_factory) -> dict:
    """The folder comparison under the demo's settings (raw sample markers low-passed at 6 Hz)."""
    out = tmp_path_factory.mktemp("cmp6") / "cmp.json"
    assert main(["compare", str(PRE), str(POST), "--filter", "6", "--n-perm", "200", "--json", str(out)]) == 0
    return _strict_json(out)


def test_compare_json_pre_post(comparison, analysis):
    c = comparison
    assert (c["pre_label"], c["post_label"]) == ("pre", "post")
    right, left = c["valgus"]["walk/Right/valgus_3d"], c["valgus"]["walk/Left/valgus_3d"]
    # the same numbers as analyze: the pre mean is the mean of the per-cycle stance peaks
    peaks = analysis["tasks"]["walk/Right"]["peak_values"]
    assert right["n_pre"] == len(peaks) and right["pre_mean"] == pytest.approx(np.mean(peaks), abs=1e-9)
    # by hand: difference, Welch CI from the stored SDs
    assert right["difference"] == pytest.approx(right["post_mean"] - right["pre_mean"], abs=1e-12)
    se = np.hypot(right["pre_sd"] / np.sqrt(right["n_pre"]), right["post_sd"] / np.sqrt(right["n_post"]))
    assert right["se"] == pytest.approx(se, rel=1e-9)
    assert right["ci_low"] < right["difference"] < right["ci_high"] < 0
    # the post session's right valgus is clearly smaller, beyond measurement error; the left unchanged
    assert right["difference"] < -5 and right["verdict"] == "exceeds measurement error"
    assert c["valgus"]["sls/Right/fppa"]["verdict"] == "exceeds measurement error"
    assert left["verdict"] == "within measurement error"
    assert c["gps"]["Right"]["post_gps"] < c["gps"]["Right"]["pre_gps"]
    assert c["gps"]["Right"]["pre_gps"] == pytest.approx(analysis["walking"]["Right"]["gps_deg"], abs=1e-9)


# ----------------------------------------------------------------------------- store chain
def _strings_in_h5(path: Path) -> list[tuple[str, str]]:
    """Every string held in an HDF5 file: attribute values and string datasets (with where)."""
    import h5py
    found: list[tuple[str, str]] = []

    def texts(v) -> list[str]:
        if isinstance(v, bytes):
            return [v.decode("utf-8", "replace")]
        if isinstance(v, str):
            return [v]
        if isinstance(v, np.ndarray) and v.dtype.kind in "SUO":
            return [x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in v.ravel()]
        return []

    def visit(name, obj):
        for k, v in obj.attrs.items():
            found.extend((f"{name}@{k}", s) for s in texts(v))
        if isinstance(obj, h5py.Dataset) and obj.dtype.kind in "SUO":
            found.extend((name, s) for s in texts(obj[()]))
        elif isinstance(obj, h5py.Dataset) and obj.dtype == np.uint8:   # text stored as bytes
            found.append((name + "[bytes]", bytes(obj[()].ravel()).decode("utf-8", "replace")))

    with h5py.File(path, "r") as f:
        found.extend((f"/@{k}", s) for k, v in f.attrs.items() for s in texts(v))
        f.visititems(lambda n, o: visit(n, o) or None)
    return found


def _leaks(store: Path) -> list[tuple[str, str, str]]:
    hits = []
    for p in sorted(store.rglob("*")):
        if p.is_file():
            hits += [(p.name, "file name", n) for n in IDENTITY if n.lower() in p.name.lower()]
            raw = p.read_bytes().lower()
            hits += [(p.name, "raw bytes", n) for n in IDENTITY if n.lower().encode() in raw]
            if p.suffix == ".h5":
                hits += [(p.name, where, n) for where, s in _strings_in_h5(p) for n in IDENTITY
                         if n.lower() in s.lower()]
    return hits


STORE_TRIALS = ("pre_static_01.c3d", "pre_walk_01.c3d", "pre_walk_02.c3d", "GL-0001.vsk")


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """`genulab import` of a lean copy of the pre session (static, two walks, VSK, patient.json)."""
    root = tmp_path_factory.mktemp("store")
    sess = root / "GL-0001" / "pre"
    sess.mkdir(parents=True)
    for name in STORE_TRIALS:
        shutil.copy(PRE / name, sess)
    shutil.copy(PATIENT / "patient.json", sess.parent)
    st = root / "GL-0001.genu"
    assert main(["import", str(sess), "--patient", str(st)]) == 0
    return st


def test_import_ls_export_deidentified(store, tmp_path, capsys):
    out, _ = cli(["ls", store], capsys)
    lines = out.splitlines()
    assert lines[0].startswith("patient: Alex Example  ID GL-0001  1994-03-15  sex female")
    assert any(l.startswith("session pre (") and "2026-09-07" in l for l in lines)
    names = {l.split()[1] for l in lines if l.startswith("  T")}
    assert names == {Path(n).stem for n in STORE_TRIALS if n.endswith(".c3d")}
    # re-import of the same files is recognised by their hash
    out, _ = cli(["import", store.parent / "GL-0001" / "pre", "--patient", store], capsys)
    assert "already" in out.lower()
    # positive control: the identity is in the original store, so the scanner can see it
    assert {n for _, _, n in _leaks(store)} == set(IDENTITY)
    exp = tmp_path / "shared.genu"
    out, _ = cli(["export", store, "--session", "pre", "--out", exp, "--deidentify"], capsys)
    assert "de-identified as" in out
    assert _leaks(exp) == []
    out, _ = cli(["ls", exp], capsys)
    assert "(pseudonymised)" in out and "GL-0001" not in out
    # the exported data are the same numbers
    from core.store.store import open_store
    with open_store(store, "r") as a, open_store(exp, "r") as b:
        ta = next(t for t in a.session("pre").trials if t.name == "pre_walk_01")
        tb = next(t for t in b.session(b.sessions[0].label).trials if not t.is_static and
                  t.n_frames == ta.n_frames and t.task == ta.task)
        ra, rb = a.load_trial("pre", ta.trial_id), b.load_trial(b.sessions[0].label, tb.trial_id)
        for name in ANGLES:
            np.testing.assert_array_equal(ra.outputs.channels[name], rb.outputs.channels[name])


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_report_from_the_store(store, tmp_path, capsys):
    pdf = tmp_path / "pre.pdf"
    cli(["report", store, "--session", "pre", "--pdf", pdf, "--no-snapshots"], capsys)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    text = _pdf_text(pdf)
    assert "GL-0001" in text and "Alex Example" in text
    n_pages = text.count("\f")
    assert n_pages >= 4 and f"Page {n_pages} of {n_pages}" in text
    assert [p.name for p in tmp_path.iterdir()] == ["pre.pdf"]                 # no temporary left
    # the same session straight from its folder (no store) prints the same report
    folder_pdf = tmp_path / "folder.pdf"
    cli(["report", store.parent / "GL-0001" / "pre", "--pdf", folder_pdf, "--no-snapshots"], capsys)
    assert _pdf_text(folder_pdf) == text


# ----------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    rc = main(["demo", "--out", str(out), "--no-gui"])
    assert rc == 0
    return out, ""


def test_demo_no_gui(demo, capsys):
    out, _ = demo
    pdfs = sorted(p.name for p in out.glob("*.pdf"))
    assert pdfs == ["GL-0001_pre.pdf", "GL-0001_pre_vs_post.pdf"]
    for p in pdfs:
        t = _pdf_text(out / p)
        assert "GL-0001" in t and "Alex Example" in t
    assert "post" in _pdf_text(out / "GL-0001_pre_vs_post.pdf").lower()
    for sess in ("pre", "post"):
        dyn = sorted(p.stem for p in (PATIENT / sess).glob("*.c3d") if "static" not in p.stem)
        written = sorted(p.stem for p in (out / "processed" / sess).glob("*.c3d"))
        assert written == dyn, sess
        pts, _, _ = _ezc3d_points(out / "processed" / sess / f"{sess}_walk_01.c3d")
        assert "RKneeAngles" in pts and np.abs(pts["RKneeAngles"]).max() > 10
    assert (out / "GL-0001.genu" / "index.h5").exists()
    text, _ = cli(["ls", out / "GL-0001.genu"], capsys)
    assert "session pre (" in text and "session post (" in text


def _same_json(a, b, path="") -> list[str]:
    """Differences between two JSON values (floats to 1e-9 relative, NaN == NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = set(a) | set(b)
        return [d for k in sorted(keys) for d in (_same_json(a.get(k), b.get(k), f"{path}/{k}")
                                                   if k in a and k in b else [f"{path}/{k} missing"])]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path} length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same_json(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = a == b or (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(a))
        return [] if same else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_store_comparison_equals_the_folder_comparison(demo, demo_comparison, tmp_path, capsys):
    """The analyses stored on import give the same comparison as processing the folders afresh."""
    out, _ = demo
    js = tmp_path / "store_cmp.json"
    cli(["compare", "--store", out / "GL-0001.genu", "pre", "post", "--n-perm", "200", "--json", js], capsys)
    diffs = _same_json(json.loads(js.read_text()), demo_comparison)
    assert diffs == [], diffs[:10]


def test_comparison_report_from_the_store(demo, demo_comparison, tmp_path, capsys):
    out, _ = demo
    pdf = tmp_path / "cmp.pdf"
    cli(["report", out / "GL-0001.genu", "--compare", "pre", "post", "--pdf", pdf, "--no-snapshots"], capsys)
    text = _pdf_text(pdf)
    assert "GL-0001" in text and "'pre'" in text and "'post'" in text
    # the headline change printed equals the comparison's numbers
    r = demo_comparison["valgus"]["walk/Right/valgus_3d"]
    line = next(l for l in text.splitlines() if l.split()[:2] == ["Walking", "Right"] and "3D knee valgus (raw)" in l)
    assert f"{r['pre_mean']:.1f}" in line and f"{r['post_mean']:.1f}" in line and f"{r['difference']:.1f}" in line
    assert "EXCEEDS" in line


def test_store_comparison_order_is_checked(demo, capsys):
    """PRE compared with itself is refused; PRE dated after POST is compared with a warning."""
    out, _ = demo
    st = out / "GL-0001.genu"
    rc = main(["compare", "--store", str(st), "pre", "pre"])
    err = capsys.readouterr().err
    assert rc == 2 and "same session (pre)" in err
    rc = main(["compare", "--store", str(st), "post", "pre", "--n-perm", "100"])
    err = capsys.readouterr().err
    assert rc == 0 and "is dated after" in err and "2026-10-19" in err
