"""The clinical PDF report: numbers printed equal the analysis, hand-computed checks per
section, embedded fonts, every page headed, a real reference session end to end, pages
rendered to PNG."""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLES, reference_file

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")

PATIENT_DIR = SAMPLES / "GL-0001"
LAB = "Test Gait Laboratory"


def _text(pdf: Path) -> list[str]:
    """Text of each page (pdftotext, layout mode)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def _f(x: float, nd: int = 1) -> str:
    s = f"{x:.{nd}f}"
    return s[1:] if s in ("-0.0", "-0.00") else s


@pytest.fixture(scope="module")
def sessions():
    if not (PATIENT_DIR / "pre").is_dir():
        pytest.skip("sample sessions not generated (python -m core.synthetic.make_samples)")
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    from core.report.inputs import PatientInfo, SessionInfo, SessionReportInput
    patient = json.loads((PATIENT_DIR / "patient.json").read_text())
    out = {}
    for label in ("pre", "post"):
        p = process_session(PATIENT_DIR / label)
        out[label] = SessionReportInput(PatientInfo.from_mapping(patient), SessionInfo.from_patient_record(label, patient),
                                        p, analyze_session(p))
    return out


@pytest.fixture(scope="module")
def pre_report(sessions, tmp_path_factory):
    from core.report.build import build_session_report
    from core.report.inputs import ReportOptions
    pdf = tmp_path_factory.mktemp("report") / "pre.pdf"
    build_session_report(sessions["pre"], pdf, ReportOptions(lab_name=LAB))
    return pdf, _text(pdf)


@pytest.fixture(scope="module")
def comparison_report(sessions, tmp_path_factory):
    from core.analysis.comparison import compare_sessions
    from core.report.build import build_comparison_report
    from core.report.inputs import ReportOptions
    c = compare_sessions(sessions["pre"].analysis, sessions["post"].analysis)
    pdf = tmp_path_factory.mktemp("report") / "compare.pdf"
    build_comparison_report(sessions["pre"], sessions["post"], c, pdf, ReportOptions(lab_name=LAB))
    return pdf, _text(pdf), c


def test_every_page_has_header_and_page_number(pre_report, sessions):
    pdf, pages = pre_report
    assert 5 <= len(pages) <= 12
    date = sessions["pre"].session.date
    for i, page in enumerate(pages, start=1):
        assert LAB in page and "Alex Example" in page and "GL-0001" in page and date in page
        assert f"Page {i} of {len(pages)}" in page


def _pdffonts(pdf: Path) -> list[str]:
    return subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout.splitlines()[2:]


def test_standard_fonts_and_text_searchable(pre_report):
    """Every text of the sample report is in WinAnsi, so it is written in the standard PDF
    Helvetica (Type 1, in every viewer; not embedded) and stays selectable and searchable."""
    pdf, pages = pre_report
    fonts = _pdffonts(pdf)
    assert fonts, "no fonts: text would not be selectable"
    assert all(line.startswith("Helvetica") and " Type 1 " in line for line in fonts), fonts
    assert "Dynamic knee valgus" in "".join(pages)
    from core.report.figures import direction_label
    from core.variables import KINEMATIC_VARIABLES, KINETIC_VARIABLES, VALGUS_METRICS
    labels = [direction_label(v) for v in (*KINEMATIC_VARIABLES, *KINETIC_VARIABLES, *VALGUS_METRICS)]
    assert "Valg «  deg  » Var" in labels                  # the knee y axis, bottom to top
    assert all(label.encode("cp1252") for label in labels)


def test_text_outside_winansi_falls_back_to_embedded_truetype(sessions, tmp_path):
    """A patient name in Greek cannot be written in the standard fonts: the report is rebuilt
    with DejaVu Sans embedded (TrueType) and the name is printed and searchable as entered."""
    import dataclasses

    from core.report.build import build_session_report
    from core.report.inputs import ReportOptions
    name = "Αλέξης Παράδειγμα"
    inp = dataclasses.replace(sessions["pre"], patient=dataclasses.replace(sessions["pre"].patient, name=name))
    pdf = build_session_report(inp, tmp_path / "greek.pdf", ReportOptions(lab_name=LAB))
    fonts = _pdffonts(pdf)
    assert fonts and all(" yes " in line and "TrueType" in line for line in fonts), fonts
    pages = _text(pdf)
    assert all(name in page for page in pages)
    assert all(f"Page {i} of {len(pages)}" in page for i, page in enumerate(pages, start=1))


def test_summary_numbers_equal_analysis_and_hand_computed(pre_report, sessions):
    _, pages = pre_report
    a = sessions["pre"].analysis
    # the summary continues on a second page when the findings do not fit on the first
    summary = "\n".join(p for p in pages[:2] if "Summary: session" in p)
    speed_l = a.walking["Left"].spatiotemporal["speed_m_s"]
    row = next(line for line in summary.splitlines() if line.strip().startswith("Walking speed"))
    assert _f(speed_l, 2) in row
    # stride time by hand from the events of the walking trials: mean over left cycles
    strides = []
    for pt in sessions["pre"].processed.trials:
        if "walk" not in pt.trial.name:
            continue
        fs = sorted(e.frame for e in pt.events if e.context == "Left" and e.label == "Foot Strike")
        strides += list(np.diff(fs) / pt.trial.point_rate_hz)
    row = next(line for line in summary.splitlines() if line.strip().startswith("Stride time"))
    assert _f(float(np.mean(strides)), 2) == row.split()[3]
    assert f"overall {_f(a.gps_overall_deg)} deg" in summary.replace("\n", " ")
    # normal walking speed by hand: class-mean dimensionless speed x sqrt(g x mean leg length)
    from core.analysis.normative import load_normative
    subj = sessions["pre"].processed.trials[0].subject
    leg_m = (subj.get("LeftLegLength") + subj.get("RightLegLength")) / 2000.0
    v_norm = load_normative(a.normative_name, a.speed_class).dimensionless_speed * math.sqrt(9.81 * leg_m)
    row = next(line for line in summary.splitlines() if line.strip().startswith("Walking speed"))
    assert f"{_f(v_norm, 2)} ({a.speed_class} class mean)" in row
    assert "Foot pronation cannot be measured with CGM1" in summary


def test_valgus_phase_table_equals_phases(pre_report, sessions):
    _, pages = pre_report
    a = sessions["pre"].analysis
    walk_page = next(p for p in pages if "Dynamic knee valgus: walking" in p)
    walk = [t for t in a.trials if t.task == "walk"]
    phases = [(t, ph) for t in walk for ph in t.phases][:12]
    assert phases, "the pre session must have walking valgus phases on the right"
    for t, ph in phases:
        onset_time = (ph.onset_frame - 1) / t.rate_hz              # by hand: seconds from capture start
        pattern = rf"{t.trial_name}\s+{ph.side}\s+{ph.window_index + 1}\s+{ph.onset_frame} \({onset_time:.2f} s\)"
        assert re.search(pattern, walk_page), pattern
        assert f"{_f(ph.peak_value)} deg" in walk_page
        assert f"{ph.peak_frame} ({_f(ph.peak_pct, 0)} %)" in walk_page
    # the right side's top-down indicators are in the indicator table
    assert re.search(r"Right\s+Hip adduction", walk_page)


def test_squat_fppa_peak_by_hand(pre_report, sessions):
    """Mean of the per-repetition FPPA peaks, recomputed from the per-frame FPPA series."""
    _, pages = pre_report
    a = sessions["pre"].analysis
    sls = [t for t in a.trials if t.task == "sls" and t.side == "Right"]
    peaks = []
    for t in sls:
        fppa = t.metrics["Right"]["fppa"]
        for w in t.windows["Right"]:
            seg = fppa[w.start_frame - t.first_frame: w.end_frame - t.first_frame + 1]
            peaks.append(np.nanmax(seg))
    page = next(p for p in pages if "single-leg squat" in p)
    row = next(line for line in page.splitlines() if line.strip().startswith("FPPA"))
    assert f"{_f(float(np.mean(peaks)))} ({_f(float(np.max(peaks)))}) deg" in row


def test_map_page_gvs_by_hand(pre_report, sessions):
    """GVS of knee flexion, right side = RMS(mean curve - normative mean) at the norm's 51 points (every 2 %)."""
    from core.analysis.normative import load_normative
    _, pages = pre_report
    a = sessions["pre"].analysis
    curves = np.concatenate([t.cycle_curves["Right"]["KneeAngles.x"] for t in a.trials if t.task == "walk"])
    band = load_normative(a.normative_name, a.speed_class).band("KneeAngles.x")
    assert np.allclose(band.percent, np.arange(0, 101, 2))
    gvs = math.sqrt(float(np.mean((np.nanmean(curves, axis=0)[::2] - band.mean) ** 2)))
    page = next(p for p in pages if "Movement Analysis Profile" in p)
    row = next(line for line in page.splitlines() if line.strip().startswith("Knee flexion"))
    assert abs(float(row.split()[-1]) - gvs) <= 0.0501
    assert _f(a.walking["Right"].gvs["KneeAngles.x"]) == row.split()[-1]


def test_quality_page_lists_gaps_and_event_sources(pre_report, sessions):
    _, pages = pre_report
    page = next(p for p in pages if "Data quality and processing" in p)
    for pt in sessions["pre"].processed.trials:
        assert pt.trial.name in page
        for m in pt.gaps.with_gaps[:1]:
            assert f"{m.label} {m.n_gaps} gap(s), longest {m.longest_gap_frames} fr" in page
    params = next(p for p in pages if "Subject parameters and settings" in p)
    assert "Genu Lab" in params and "MarkerDiameter" in params


def test_signature_space(pre_report):
    _, pages = pre_report
    assert "Clinical interpretation" in pages[-1] and "Signature" in pages[-1]


def test_comparison_numbers_equal_and_by_hand(comparison_report, sessions):
    _, pages, c = comparison_report
    text = "\n".join(pages)
    r = c.valgus[("sls", "Right", "fppa")]
    # by hand: difference of the means of the per-repetition peaks (post - pre)
    def peaks(label):
        return np.concatenate([t.window_peaks["Right"]["fppa"] for t in sessions[label].analysis.trials
                               if t.task == "sls" and t.side == "Right"])
    diff = float(np.mean(peaks("post")) - np.mean(peaks("pre")))
    assert abs(diff - r.difference) < 1e-9
    row = next(line for line in pages[0].splitlines() if "Single-leg squat" in line and "Right" in line and "FPPA" in line)
    assert f"{_f(diff)} deg" in row and f"[{_f(r.ci_low)}, {_f(r.ci_high)}]" in row
    assert ("EXCEEDS error" in row) == r.exceeds_measurement_error
    assert r.exceeds_measurement_error, "the post session's squat FPPA reduction must exceed measurement error"
    g = c.gps["Overall"]
    summary = "\n".join(p for p in pages[:2] if "Comparison: 'pre'" in p)  # one page, or two with kinetics
    assert re.search(rf"Overall\s+{re.escape(_f(g.pre_gps))}\s+{re.escape(_f(g.post_gps))}", summary)
    assert "pre (dashed) vs post (solid)" in text


def test_pages_render_to_png(pre_report, tmp_path):
    pdf, pages = pre_report
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm not installed")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == len(pages)
    from matplotlib.image import imread
    for p in pngs:
        img = imread(p)
        assert img.std() > 0.02, f"{p.name} looks blank"


def test_report_from_real_reference_session(tmp_path):
    """BTK PiG FlatFoot (Nexus 1.4, MarkerDiameter 16, flat foot): process, analyse, report."""
    static = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    motion = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    folder = tmp_path / "ref_session"
    folder.mkdir()
    shutil.copy(static, folder / static.name)
    shutil.copy(motion, folder / motion.name)
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    from core.report.build import build_session_report
    from core.report.inputs import PatientInfo, ReportOptions, SessionInfo, SessionReportInput
    p = process_session(folder, overrides=["MarkerDiameter=16", "LeftFootFlat=1", "RightFootFlat=1"])
    a = analyze_session(p)
    inp = SessionReportInput(PatientInfo("BELT_C (reference)", "BTK-PiG"), SessionInfo("ref_session"), p, a)
    pdf = build_session_report(inp, tmp_path / "ref.pdf", ReportOptions(lab_name=LAB))
    pages = _text(pdf)
    text = "\n".join(pages)
    assert "PiG_Motion-FlatFoot-Full" in text
    assert a.walking, "the reference walking trial must give gait cycles"
    speed = a.walking["Left"].spatiotemporal["speed_m_s"]
    assert 0.5 < speed < 2.0
    assert _f(speed, 2) in pages[0]
    assert "MarkerDiameter" in text and "--set" in text


def test_an_impossible_birth_date_is_marked_not_printed_as_valid():
    from core.report.inputs import PatientInfo
    assert PatientInfo.from_mapping({"birth_date": "31/02/1990"}).birth_date == "31/02/1990 (invalid date)"
    assert PatientInfo.from_mapping({"birth_date": "1994-03-15"}).birth_date == "1994-03-15"
