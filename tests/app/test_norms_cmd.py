"""``genulab norms`` and the normative caution of ``genulab analyze`` (issue 11.3)."""
from __future__ import annotations

import json
import shutil

import pytest

from app.cli import main
from core.analysis import norm_choice as nc
from tests.conftest import SAMPLES


def _adult_csv(tmp_path):
    """A small lab CSV (two knee-flexion points) without an age range in the file."""
    p = tmp_path / "adults.csv"
    p.write_text("# name: lab-adults\n# citation: Gait lab X, internal normative data, 2025\n"
                 "# population: healthy adults\nvariable,percent,mean,sd\n"
                 "KneeAngles.x,0,5,4\nKneeAngles.x,100,5,4\n")
    return p


def test_norms_list_import_and_set_default(tmp_path, capsys):
    assert main(["norms", "list"]) == 0
    out = capsys.readouterr().out
    assert "[shipped] schwartz2008: Schwartz 2008 - typically developing children (4-17 y, n = 83)" in out
    assert "lab default: none chosen" in out
    csv = _adult_csv(tmp_path)
    assert main(["norms", "import", str(csv)]) == 2          # no age range: refused, named
    assert "states no age range" in capsys.readouterr().err
    assert main(["norms", "import", str(csv), "--age-min", "20", "--age-max", "60", "--n", "30",
                 "--set-default"]) == 0
    out = capsys.readouterr().out
    assert "imported lab-adults: lab-adults - healthy adults (20-60 y, n = 30)" in out
    assert nc.lab_default() == "lab-adults"
    assert main(["norms", "list"]) == 0
    out = capsys.readouterr().out
    assert "* [lab] lab-adults: lab-adults - healthy adults (20-60 y, n = 30)" in out
    assert "lab default: lab-adults" in out
    assert main(["norms", "show", "lab-adults"]) == 0
    assert "variables (1): KneeAngles.x" in capsys.readouterr().out
    assert main(["norms", "set-default", "nope"]) == 2
    assert "unknown normative set 'nope'" in capsys.readouterr().err
    assert main(["norms", "set-default", "--clear"]) == 0
    assert nc.lab_default() is None


def _copy_with_birth(tmp_path, birth):
    src = SAMPLES / "GL-0001"
    if not (src / "pre").is_dir():
        pytest.skip("sample sessions not available")
    dst = tmp_path / "GL-0001"
    shutil.copytree(src / "pre", dst / "pre")
    patient = json.loads((src / "patient.json").read_text())
    patient["birth_date"] = birth
    (dst / "patient.json").write_text(json.dumps(patient))
    return dst / "pre"


def test_analyze_prints_the_caution_for_the_adult_and_not_for_a_child(tmp_path, capsys):
    folder = SAMPLES / "GL-0001" / "pre"
    if not folder.is_dir():
        pytest.skip("sample sessions not available")
    out_json = tmp_path / "adult.json"
    assert main(["analyze", str(folder), "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    assert ("CAUTION: Patient aged 32 y judged against Schwartz 2008 (typically developing children, 4-17 y)"
            in text)
    assert "Normal bands: schwartz2008" in text and "(automatic by age: patient aged 32 y, no lab default chosen)" in text
    doc = json.loads(out_json.read_text())
    assert doc["normative_caution"].startswith("Patient aged 32 y judged against Schwartz 2008")
    assert doc["patient_age_years"] == 32.0 and doc["settings"]["normative"] is None

    child = _copy_with_birth(tmp_path, "2016-05-01")            # 10 y at the session (2026-09-07)
    child_json = tmp_path / "child.json"
    assert main(["analyze", str(child), "--json", str(child_json)]) == 0
    text = capsys.readouterr().out
    assert "CAUTION" not in text and "patient's age: 10 y" in text
    assert json.loads(child_json.read_text())["normative_caution"] == ""


def test_analyze_uses_the_lab_adult_default_and_an_explicit_choice_beats_it(tmp_path, capsys):
    folder = SAMPLES / "GL-0001" / "pre"
    if not folder.is_dir():
        pytest.skip("sample sessions not available")
    doc = nc.set_to_document(nc.load_any("schwartz2008", "Free"))
    doc.update(name="lab-adults", population="healthy adults", age_range_years=[18, 65], n_subjects=40,
               citation="Gait lab X 2025")
    src = tmp_path / "adults.json"
    src.write_text(json.dumps(doc))
    assert main(["norms", "import", str(src), "--set-default"]) == 0
    capsys.readouterr()
    out_json = tmp_path / "lab.json"
    assert main(["analyze", str(folder), "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    assert "Normal bands: lab-adults (lab default)" in text and "CAUTION" not in text
    assert "Normative population: healthy adults (18-65 y, n = 40); patient's age: 32 y" in text
    assert json.loads(out_json.read_text())["normative_name"] == "lab-adults"
    assert main(["analyze", str(folder), "--normative", "schwartz2008"]) == 0
    text = capsys.readouterr().out
    assert "Normal bands: schwartz2008, " in text and "(chosen for this analysis)" in text
    assert "CAUTION: Patient aged 32 y" in text
