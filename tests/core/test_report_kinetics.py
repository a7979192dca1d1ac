"""Report: the kinetics page (moments, powers, bands, per-window peaks) and the moment change line."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from core.analysis.comparison import compare_sessions
from core.analysis.session import analyze_session
from core.gait.pipeline import process_trial
from core.report.build import build_comparison_report, build_session_report
from core.report.inputs import PatientInfo, SessionInfo, SessionReportInput
from tests.conftest import reference_file
from tests.core.vicon_kinetics import scaled, stored_kinetics, with_kinetics

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
PAIRS = (("PiG_Motion3_FF.c3d", "PiG_Calibration3_FF.c3d"), ("PiG_Motion3_FF_N18.c3d", "PiG_Calibration3_FF_N18.c3d"))
PATIENT = PatientInfo("Ref Subject", "FF-1")


def _pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")


@pytest.fixture(scope="module")
def sessions():
    ps = []
    for dyn, static in PAIRS:
        p = process_trial(reference_file("BTKData", "PiG", dyn), static=reference_file("BTKData", "PiG", static))
        ps.append((p, stored_kinetics(p.trial, 74.0)))
    pre = analyze_session([with_kinetics(p, k) for p, k in ps], label="pre")
    post = analyze_session([with_kinetics(p, scaled(k, "L", 1.6)) for p, k in ps], label="post")
    return ps, pre, post


def test_kinetics_page_has_curves_axes_and_peak_table(tmp_path, sessions):
    _, pre, _ = sessions
    pdf = build_session_report(SessionReportInput(PATIENT, SessionInfo("pre", "2024-01-01"), None, pre), tmp_path / "s.pdf")
    # the curves page and its continuation with the per-window peak table
    page = "\n".join(p for p in _pages(pdf) if "Joint kinetics (session 'pre'" in p)
    w = next(w for w in pre.trials[0].kinetics.windows if w.side == "Left" and w.computed)
    assert f"{w.peak_abduction_moment:.2f} @ {w.peak_abduction_frame}" in page           # 0.15 @ 790
    assert f"{w.peak_adduction_moment:.2f} @ {w.peak_adduction_frame}" in page           # 0.41 @ 830
    summary = next(p for p in _pages(pdf) if "Summary" in p)
    assert "peak external knee abduction moment 0.15 N.m/kg" in " ".join(summary.split())
    for words in ("Knee add/abd moment (ext.)", "Knee power", "Ankle plantarflexor moment", "Gen", "Abs", "Add",
                  "N.m/kg", "W/kg", "plate 1, clean", "no plate contact", "Schwartz 2008", "not a diagnosis"):
        assert words in page, words


def test_no_body_mass_page_names_it_and_no_plate_session_has_no_page(tmp_path):
    from core.io.c3d import read_c3d
    dyn = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    static = read_c3d(reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d"))
    strip = lambda t: t.with_changes(processing={k: v for k, v in t.processing.items() if k != "Bodymass"})  # noqa: E731
    no_mass = analyze_session([process_trial(strip(dyn), static=strip(static))], label="m")
    pdf = build_session_report(SessionReportInput(PATIENT, SessionInfo("m"), None, no_mass), tmp_path / "m.pdf")
    page = next(x for x in _pages(pdf) if "Joint kinetics" in x)
    assert "No kinetics" in page and "Bodymass" in page
    plain = analyze_session([process_trial(dyn.with_changes(force_plates=()), static=static)], label="k")
    assert "no force plates" in plain.trials[0].kinetics.reason
    pdf = build_session_report(SessionReportInput(PATIENT, SessionInfo("k"), None, plain), tmp_path / "k.pdf")
    assert not any("Joint kinetics" in x for x in _pages(pdf))


def test_comparison_report_has_the_moment_change(tmp_path, sessions):
    _, pre, post = sessions
    c = compare_sessions(pre, post, n_perm=50, n_boot=50)
    r = c.kinetics[("walk", "Left", "peak_abduction_moment")]
    pdf = build_comparison_report(SessionReportInput(PATIENT, SessionInfo("pre"), None, pre),
                                  SessionReportInput(PATIENT, SessionInfo("post"), None, post), c, tmp_path / "c.pdf")
    first = "\n".join(_pages(pdf)[:2])  # the summary and its continuation with the knee moments
    assert "Knee moment change" in _pages(pdf)[1]
    assert f"{r.pre_mean:.3f} -> {r.post_mean:.3f}" in first and "EXCEEDS error" in first
    assert "peak external knee abduction moment" in first


def test_peak_cells_say_none_when_the_moment_never_goes_that_way():
    from core.report.kinetics_pages import _absorption_text, _peak_text
    assert _peak_text(0.53, 96, 100.0) == "0.53 @ 96 (0.95 s)"      # C3D frame and time from the capture start
    assert _peak_text(-0.59, 84, 100.0) == "none"                   # external adduction throughout the window
    assert _peak_text(float("nan"), 84, 100.0) == "-" and _peak_text(None) == "-"
    assert _absorption_text(-21.63) == "-21.63" and _absorption_text(0.4) == "none"


def test_indicator_lines_are_listed_once_each_without_the_common_wording(sessions):
    from core.analysis.kinetics_types import KINETIC_INDICATOR_TEXT
    from core.report.kinetics_pages import _indicator_lines
    _, pre, _ = sessions
    trials = [t for t in pre.trials if t.kinetics is not None and t.kinetics.available]
    raw = [(t.trial_name, line) for t in trials for v in t.kinetics.indicators.values() for line in v]
    lines = _indicator_lines(trials, limit=100)
    assert len(lines) == len(raw) and all(KINETIC_INDICATOR_TEXT not in line for line in lines)
    assert all(f"{name}, {r}".startswith(line) for (name, r), line in zip(raw, lines))
    if len(raw) > 1:
        short = _indicator_lines(trials, limit=1)
        assert len(short) == 2 and short[1].startswith(f"... and {len(raw) - 1} more")
