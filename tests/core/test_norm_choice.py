"""Normal bands for adults (issue 11.3): population metadata, the lab default, the choice by
age, the age check and its caution in the analysis, the store and the report."""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess

import pytest

from core.analysis import norm_choice as nc
from core.analysis.normative import available_normative_sets, load_normative
from core.errors import NormativeDataError
from tests.conftest import SAMPLES

ADULT_WORDING = ("Patient aged 32 y judged against Schwartz 2008 (typically developing children, 4-17 y): "
                 "the normal bands")


# ------------------------------------------------------------------ metadata and the age rule
def test_shipped_sets_state_their_population():
    s = load_normative("schwartz2008")
    assert (s.population, s.age_min_years, s.age_max_years, s.n_subjects) == (
        "typically developing children", 4.0, 17.0, 83)
    assert s.age_text() == "4-17 y" and s.licence
    for name in ("pinzone2014_centre1", "pinzone2014_centre2"):
        p = load_normative(name)
        assert (p.age_min_years, p.age_max_years, p.n_subjects) == (4.5, 18.0, 0)
        assert p.population == "typically developing children and adolescents" and p.licence
    # no adult set is shipped (docs/normative.md says what was looked at)
    assert all(load_normative(n).age_max_years < 18.5 for n in available_normative_sets())


def test_covers_age_and_age_at():
    s = load_normative("schwartz2008")
    assert s.covers_age(4.0) and s.covers_age(17.0) and s.covers_age(17.9)
    assert s.covers_age(18.0) is False and s.covers_age(3.9) is False and s.covers_age(32.0) is False
    assert s.covers_age(None) is None
    assert nc.age_at("1994-03-15", "2026-09-07") == 32.0
    assert nc.age_at("1994-03-15", "2026-03-14") == 31.0     # the day before the birthday
    assert nc.age_at("1994-03-15", "2026-03-15") == 32.0
    assert nc.age_at("", "2026-09-07") is None and nc.age_at("1994-03-15", None) is None
    assert nc.age_at("2027-01-01", "2026-09-07") is None     # session before birth: unknown


def test_caution_wording():
    s = load_normative("schwartz2008", "Free")
    adult = nc.age_caution(s, 32.0)
    assert adult.startswith(ADULT_WORDING)
    assert "indicative only" in adult and "adult gait differs" in adult
    assert nc.age_caution(s, 10.0) == ""
    unknown = nc.age_caution(s, None, "birth date unknown")
    assert unknown.startswith("The patient's age could not be checked against Schwartz 2008")
    assert "(birth date unknown)" in unknown
    assert nc.age_caution(None, 32.0) == ""
    young = nc.age_caution(s, 2.0)                           # below the range: no adult clause
    assert young.startswith("Patient aged 2 y judged against") and "adult gait" not in young


# ------------------------------------------------------------------ lab sets and the lab default
def _adult_file(tmp_path, name="lab-adults", **meta):
    """A lab set in the resource JSON format (bands: Schwartz Free numbers, metadata: adults)."""
    doc = nc.set_to_document(load_normative("schwartz2008", "Free"))
    doc.update({"name": name, "title": "Lab adults 2025", "population": "healthy adults",
                "citation": "Gait lab X, internal normative data, 2025", "licence": "lab's own data",
                "age_range_years": [20, 60], "n_subjects": 30}, **meta)
    path = tmp_path / f"{name}-source.json"
    path.write_text(json.dumps(doc))
    return path


def test_settings_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GENULAB_CONFIG", str(tmp_path / "x" / "lab.json"))
    assert nc.settings_path() == tmp_path / "x" / "lab.json"
    assert nc.lab_norms_folder() == tmp_path / "x" / "normative"
    monkeypatch.delenv("GENULAB_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if not nc.os.name == "nt":
        assert nc.settings_path() == tmp_path / "xdg" / "genulab" / "settings.json"


def test_import_csv_with_options_and_set_default(tmp_path):
    csv = tmp_path / "adults.csv"
    csv.write_text("# name: our-adults\n# citation: Lab X 2024\n# population: adults\n"
                   "variable,percent,mean,sd\nKneeAngles.x,0,5,4\nKneeAngles.x,100,6,4\n")
    with pytest.raises(NormativeDataError, match="states no age range"):
        nc.import_lab_set(csv)
    ns, path = nc.import_lab_set(csv, population="healthy adults", age_min=20, age_max=60, n_subjects=30,
                                 licence="internal")
    assert path == nc.lab_norms_folder() / "our-adults.json"
    assert (ns.population, ns.age_min_years, ns.age_max_years, ns.n_subjects, ns.licence) == (
        "healthy adults", 20.0, 60.0, 30, "internal")
    assert ns.band("KneeAngles.x").mean.tolist() == [5.0, 6.0]
    assert "our-adults" in nc.known_sets() and nc.lab_default() is None
    nc.set_lab_default("our-adults")
    assert json.loads(nc.settings_path().read_text()) == {"normative_default": "our-adults"}
    assert nc.lab_default() == "our-adults"
    nc.set_lab_default(None)
    assert nc.lab_default() is None
    with pytest.raises(NormativeDataError, match="unknown normative set 'nope'"):
        nc.set_lab_default("nope")


def test_import_refuses_shipped_names_bad_names_and_reversed_ages(tmp_path):
    with pytest.raises(NormativeDataError, match="is a shipped set"):
        nc.import_lab_set(_adult_file(tmp_path), name="schwartz2008")
    with pytest.raises(NormativeDataError, match="no spaces"):
        nc.import_lab_set(_adult_file(tmp_path), name="lab adults")
    with pytest.raises(NormativeDataError, match="reversed"):
        nc.import_lab_set(_adult_file(tmp_path), age_min=60, age_max=20)
    with pytest.raises(NormativeDataError, match="not plausible"):
        nc.import_lab_set(_adult_file(tmp_path, age_range_years=[20, 600]))


def test_precedence_explicit_then_lab_default_then_age(tmp_path):
    nc.import_lab_set(_adult_file(tmp_path))
    assert nc.choose_set_name(None, None, 32.0) == ("schwartz2008", "automatic by age: patient aged 32 y, no lab default chosen")
    assert nc.choose_set_name(None, None, None)[1] == "automatic by age: age unknown, no lab default chosen"
    assert nc.choose_set_name(None, "lab-adults", 32.0) == ("lab-adults", "lab default")
    assert nc.choose_set_name("pinzone2014_centre1", "lab-adults", 32.0) == (
        "pinzone2014_centre1", "chosen for this analysis")
    name, basis = nc.choose_set_name(None, "gone-set", 32.0)   # a lab default no longer installed
    assert name == "schwartz2008" and "'gone-set' is not installed" in basis


# ------------------------------------------------------------------ the session analysis
@pytest.fixture(scope="module")
def pre_session():
    folder = SAMPLES / "GL-0001" / "pre"
    if not folder.is_dir():
        pytest.skip("sample sessions not available")
    from core.gait.pipeline import process_session
    return process_session(folder)


def _with_patient(ps, **changes):
    patient = dict(ps.folder.patient)
    patient.update(changes)
    patient = {k: v for k, v in patient.items() if v is not None}
    return dataclasses.replace(ps, folder=dataclasses.replace(ps.folder, patient=patient))


def test_adult_sample_patient_gets_the_caution(pre_session):
    from core.analysis.session import analyze_session, summary_lines
    from core.analysis.types import to_jsonable
    sa = analyze_session(pre_session)
    assert sa.normative_name == "schwartz2008" and sa.patient_age_years == 32.0
    assert sa.patient_age_basis == "from the birth date and the session date of the patient record"
    assert sa.normative_basis == "automatic by age: patient aged 32 y, no lab default chosen"
    assert sa.normative_population == "typically developing children (4-17 y, n = 83)"
    assert sa.normative_caution.startswith(ADULT_WORDING)
    lines = summary_lines(sa)
    assert f"CAUTION: {sa.normative_caution}" in lines
    js = to_jsonable(sa)
    assert js["normative_caution"] == sa.normative_caution and js["patient_age_years"] == 32.0


def test_child_gets_no_caution_and_unknown_age_is_said(pre_session):
    from core.analysis.session import analyze_session, summary_lines
    child = analyze_session(_with_patient(pre_session, birth_date="2016-05-01"))
    assert child.patient_age_years == 10.0 and child.normative_caution == ""
    assert not any(l.startswith("CAUTION") for l in summary_lines(child))
    unknown = analyze_session(_with_patient(pre_session, birth_date=None))
    assert unknown.patient_age_years is None and unknown.patient_age_basis == "birth date unknown"
    assert unknown.normative_caution.startswith("The patient's age could not be checked against Schwartz 2008")
    stated = analyze_session(_with_patient(pre_session, birth_date=None, age_years=12))
    assert stated.patient_age_years == 12.0 and stated.normative_caution == ""
    given = analyze_session(pre_session, age_years=9.0)      # a caller that knows the age (store)
    assert given.patient_age_basis == "age given with the analysis" and given.normative_caution == ""


def test_lab_adult_default_is_used_and_removes_the_caution(pre_session, tmp_path):
    from core.analysis.session import analyze_session
    from core.analysis.types import AnalysisSettings
    nc.import_lab_set(_adult_file(tmp_path))
    nc.set_lab_default("lab-adults")
    sa = analyze_session(pre_session)
    assert sa.normative_name == "lab-adults" and sa.normative_basis == "lab default"
    assert sa.normative_population == "healthy adults (20-60 y, n = 30)"
    assert sa.normative_caution == "" and sa.speed_class is None
    assert math.isfinite(sa.gps_overall_deg)
    # the choice for this analysis beats the lab default, and the caution comes back
    own = analyze_session(pre_session, AnalysisSettings(normative="schwartz2008"))
    assert own.normative_name == "schwartz2008" and own.normative_basis == "chosen for this analysis"
    assert own.normative_caution.startswith(ADULT_WORDING)
    # an adult set judging a child: the caution says so
    child = analyze_session(_with_patient(pre_session, birth_date="2016-05-01"))
    assert child.normative_name == "lab-adults"
    assert child.normative_caution.startswith("Patient aged 10 y judged against Lab adults 2025 (healthy adults, 20-60 y)")


def test_no_bands_means_no_caution(pre_session):
    from core.analysis.session import analyze_session
    from core.analysis.types import AnalysisSettings
    sa = analyze_session(pre_session, AnalysisSettings(normative=""))
    assert sa.normative_name == "" and sa.normative_caution == ""
    assert nc.analysis_caution(sa, "1994-03-15", "2026-09-07") == ""


def test_caution_round_trips_through_the_store_and_old_analyses_are_checked(pre_session, tmp_path):
    import h5py
    from core.analysis.session import analyze_session
    from core.store import serialize as ser
    sa = analyze_session(pre_session)
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        ser.save(f.create_group("v"), sa)
    with h5py.File(tmp_path / "x.h5", "r") as f:
        back = ser.decode(ser.read_node(f["v"]))
    for name in ("normative_caution", "normative_basis", "normative_population", "patient_age_years",
                 "patient_age_basis"):
        assert getattr(back, name) == getattr(sa, name)
    assert back.settings.normative is None
    # an analysis stored before the check (fields at their defaults) is checked on display
    old = dataclasses.replace(sa, normative_basis="", normative_caution="", patient_age_years=None)
    assert nc.analysis_caution(old, "1994-03-15", "2026-09-07").startswith(ADULT_WORDING)
    assert nc.analysis_caution(old, "", "2026-09-07").startswith("The patient's age could not be checked")
    assert nc.analysis_caution(old, "2016-05-01", "2026-09-07") == ""


def _pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_report_prints_the_caution_for_the_adult_only(pre_session, tmp_path):
    from core.analysis.session import analyze_session
    from core.report.build import build_session_report
    from core.report.inputs import PatientInfo, SessionInfo, SessionReportInput
    out = {}
    for who, ps in (("adult", pre_session), ("child", _with_patient(pre_session, birth_date="2016-05-01"))):
        pat = ps.folder.patient
        inp = SessionReportInput(PatientInfo.from_mapping(pat), SessionInfo.from_patient_record("pre", pat), ps,
                                 analyze_session(ps))
        out[who] = _pdf_text(build_session_report(inp, tmp_path / f"{who}.pdf"))
    adult = " ".join(out["adult"].split())
    pages = out["adult"].split("\f")
    assert "Caution: " + ADULT_WORDING in adult
    summary = next(p for p in pages if "Summary: session 'pre'" in p)
    kinematics = next(p for p in pages if "Walking kinematics (CGM1)" in p)
    gps = next(p for p in pages if "Movement Analysis Profile" in p)
    for page in (summary, kinematics, gps):
        assert "Caution: Patient aged 32 y judged against Schwartz 2008" in page
    assert "Population: typically developing children (4-17 y, n = 83)" in adult
    assert "Caution:" not in out["child"]
    assert "Patient's age at the session: 10 y" in " ".join(out["child"].split())


def test_old_stored_analysis_gets_the_check_when_opened(pre_session):
    from core.analysis.session import analyze_session
    sa = analyze_session(pre_session)
    assert nc.with_age_check(sa, 5.0, "x") is sa               # already checked: unchanged
    old = dataclasses.replace(sa, normative_basis="", normative_caution="", normative_population="",
                              patient_age_years=None, patient_age_basis="")
    checked = nc.with_age_check(old, 32.0, "from the store's patient record")
    assert checked.normative_caution.startswith(ADULT_WORDING)
    assert checked.patient_age_years == 32.0 and checked.normative_basis.startswith("recorded before the age check")
    unknown = nc.with_age_check(old, None, "birth date unknown")
    assert "could not be checked" in unknown.normative_caution and "(birth date unknown)" in unknown.normative_caution


def test_without_age_for_deidentified_exports(pre_session):
    from core.analysis.session import analyze_session
    sa = analyze_session(pre_session)
    anon = nc.without_age(sa)
    assert anon.patient_age_years is None and "32" not in anon.normative_caution
    assert anon.normative_caution.startswith("The patient's age could not be checked against Schwartz 2008")
    assert "(age removed by de-identification)" in anon.normative_caution


def test_comparison_finds_a_lab_set_by_name(pre_session, tmp_path):
    from core.analysis.comparison import compare_sessions
    from core.analysis.session import analyze_session
    nc.import_lab_set(_adult_file(tmp_path))
    nc.set_lab_default("lab-adults")
    sa = analyze_session(pre_session)
    comp = compare_sessions(sa, sa, n_perm=100, n_boot=50)
    assert comp.normative_pre == comp.normative_post
    assert comp.normative_pre.startswith("Lab adults 2025 (healthy adults)")
    # the lab set holds Schwartz Free numbers, so each GPS equals the session's own GPS
    assert comp.gps["Overall"].pre_gps == pytest.approx(sa.gps_overall_deg, abs=1e-9)
    assert comp.gps["Overall"].difference == 0.0


def test_csv_metadata_lines_and_load_any_by_file(tmp_path):
    csv = tmp_path / "adults.csv"
    csv.write_text("# name: csv-adults\n# citation: Lab Y 2023\n# population: healthy adults\n"
                   "# age_min_years: 18\n# age_max_years: 65\n# n_subjects: 24\n# licence: CC BY 4.0\n"
                   "variable,percent,mean,sd\nHipAngles.x,0,30,5\nHipAngles.x,50,-10,5\nHipAngles.x,100,30,5\n")
    ns = nc.load_any(str(csv))
    assert (ns.name, ns.age_min_years, ns.age_max_years, ns.n_subjects, ns.licence) == (
        "csv-adults", 18.0, 65.0, 24, "CC BY 4.0")
    assert ns.covers_age(32.0) and not ns.covers_age(10.0)
    assert nc.age_caution(ns, 32.0) == ""
    with pytest.raises(NormativeDataError, match="unknown normative set 'csv-adults'"):
        nc.load_any("csv-adults")                           # not imported: not known by name
    bad = tmp_path / "bad.csv"
    bad.write_text(csv.read_text().replace("# age_max_years: 65", "# age_max_years: old"))
    with pytest.raises(NormativeDataError, match="must be numbers"):
        nc.load_any(str(bad))
