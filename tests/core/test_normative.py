"""Normative data: the converted Schwartz 2008 resource, interpolation, speed classes, lab import."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import NormativeDataError
from core.analysis.normative import (CYCLE_GRID, Band, available_normative_sets, choose_speed_class,
                            dimensionless_speed, load_lab_normative, load_normative)
from core.variables import GVS_VARIABLES, VARIABLES_BY_KEY
from tests.conftest import NORMATIVE_SRC

CLASSES = ("VerySlow", "Slow", "Free", "Fast", "VeryFast")


def _xls():
    xls = NORMATIVE_SRC / "Schwartz2008-original.xls"
    if not xls.exists():
        pytest.skip(f"normative sources not available: {xls}")
    import xlrd
    return xlrd.open_workbook(str(xls)).sheet_by_name("Joint Rotations")


def _xls_row(sh, variable: str, fraction: float) -> list:
    for r in range(2, sh.nrows):
        if sh.cell_value(r, 0) == variable and abs(sh.cell_value(r, 1) - fraction) < 1e-9:
            return sh.row_values(r)
    raise AssertionError(f"{variable} {fraction} not in xls")


def test_reader_matches_three_xls_values():
    sh = _xls()
    # columns: 2..4 VerySlow (-1sd, mean, +1sd), 5..7 Slow, 8..10 Free, 11..13 Fast, 14..16 VeryFast
    row = _xls_row(sh, "Knee Flex/Extension", 0.30)           # Free, 30 %
    band = load_normative(speed_class="Free").band("KneeAngles.x")
    i = int(np.flatnonzero(band.percent == 30.0)[0])
    assert band.mean[i] == pytest.approx(row[9], abs=2e-4)
    assert band.sd[i] == pytest.approx((row[10] - row[8]) / 2, abs=2e-4)

    row = _xls_row(sh, "Hip Ad/Abduction", 0.64)              # VerySlow, 64 %
    mean, sd = load_normative(speed_class="VerySlow").band("HipAngles.y").at(np.array([64.0]))
    assert mean[0] == pytest.approx(row[3], abs=2e-4)
    assert sd[0] == pytest.approx((row[4] - row[2]) / 2, abs=2e-4)

    row = _xls_row(sh, "Knee Ad/Abduction", 1.0)              # VeryFast, 100 %
    band = load_normative(speed_class="VeryFast").band("KneeAngles.y")
    assert band.percent[-1] == 100.0
    assert band.mean[-1] == pytest.approx(row[15], abs=2e-4)


def test_resource_matches_source_json():
    src = NORMATIVE_SRC / "Schwartz2008.json"
    if not src.exists():
        pytest.skip(f"normative sources not available: {src}")
    data = json.loads(src.read_text())["Schwartz2008"]
    rows = np.asarray(data["Fast"]["PelvisAngles"]["Z"], float)
    band = load_normative(speed_class="Fast").band("PelvisAngles.z")
    np.testing.assert_allclose(band.percent, rows[:, 0])
    np.testing.assert_allclose(band.mean, (rows[:, 1] + rows[:, 2]) / 2, atol=1e-5)
    np.testing.assert_allclose(band.sd, (rows[:, 2] - rows[:, 1]) / 2, atol=1e-5)


def test_all_classes_present_with_metadata_and_absent_channels_absent():
    assert "schwartz2008" in available_normative_sets()
    for cls, v in zip(CLASSES, (0.17, 0.29, 0.43, 0.56, 0.69)):
        ns = load_normative("schwartz2008", cls)
        assert ns.speed_class == cls and ns.dimensionless_speed == v
        assert ns.population == "typically developing children"
        assert "Schwartz" in ns.citation and "1639" in ns.citation
        for key in GVS_VARIABLES + ("KneeAngles.y", "KneeAngles.z"):
            b = ns.band(key)
            assert b is not None and b.percent.shape == (51,)
            assert np.all(b.sd > 0)
        # all-zero channels in the source are absent, never a band at zero
        for key in ("AnkleAngles.y", "AnkleAngles.z", "FootProgressAngles.x", "FootProgressAngles.y"):
            assert ns.band(key) is None
    assert load_normative().speed_class == "Free"
    # Schwartz "Cycle Events" sheet: foot off earlier with speed (68 % very slow .. 56 % very fast)
    assert load_normative(speed_class="VerySlow").cycle_events_pct["foot_off_pct"] == 68.0
    assert load_normative(speed_class="VeryFast").cycle_events_pct["foot_off_pct"] == 56.0
    assert load_normative(speed_class="very slow").speed_class == "VerySlow"
    with pytest.raises(NormativeDataError):
        load_normative(speed_class="Sprint")
    with pytest.raises(NormativeDataError):
        load_normative("nonexistent")
    assert all(k in VARIABLES_BY_KEY for k in load_normative().keys if "Angles" in k)


def test_band_interpolation_to_cycle_grid():
    b = Band(np.array([0.0, 50.0, 100.0]), np.array([0.0, 10.0, 0.0]), np.array([1.0, 3.0, 1.0]))
    mean, sd = b.at()
    assert mean.shape == (101,) and CYCLE_GRID[25] == 25.0
    assert mean[25] == pytest.approx(5.0) and sd[25] == pytest.approx(2.0) and mean[50] == 10.0
    m2, _ = Band(np.array([10.0, 20.0]), np.zeros(2), np.ones(2)).at(np.array([5.0, 15.0]))
    assert np.isnan(m2[0]) and m2[1] == 0.0
    with pytest.raises(NormativeDataError):
        Band(np.array([0.0, 0.0]), np.zeros(2), np.ones(2))


def test_choose_speed_class():
    assert choose_speed_class(0.43) == "Free"
    assert choose_speed_class(0.10) == "VerySlow"
    assert choose_speed_class(0.22) == "VerySlow"   # 0.05 from 0.17, 0.07 from 0.29
    assert choose_speed_class(0.24) == "Slow"
    assert choose_speed_class(0.50) == "Fast"
    assert choose_speed_class(0.90) == "VeryFast"
    assert choose_speed_class(float("nan")) == "Free"
    # 1.2 m/s with an 800 mm leg: 1.2 / sqrt(9.81 * 0.8) = 0.4283
    assert dimensionless_speed(1.2, 800.0) == pytest.approx(1.2 / np.sqrt(9.81 * 0.8))
    assert np.isnan(dimensionless_speed(1.2, 0.0))


def _write_csv(path, body):
    path.write_text("# name: Lab adults 2024\n# citation: Our lab, internal data 2024\n"
                    "# population: healthy adults (n=30)\n" + body)
    return path


def test_lab_csv_import(tmp_path):
    body = "variable,percent,mean,sd\n"
    body += "".join(f"KneeAngles.x,{p},{p / 10},{2.0}\n" for p in (100, 0, 50))
    ns = load_lab_normative(_write_csv(tmp_path / "lab.csv", body))
    assert ns.name == "Lab adults 2024" and ns.population.startswith("healthy adults")
    b = ns.band("KneeAngles.x")
    np.testing.assert_array_equal(b.percent, [0, 50, 100])
    assert b.at(np.array([25.0]))[0][0] == pytest.approx(2.5)
    assert ns.band("HipAngles.x") is None


@pytest.mark.parametrize("body, msg", [
    ("variable,percent,mean\nKneeAngles.x,0,1\n", "header"),
    ("variable,percent,mean,sd\nKneeAngles.x,0,abc,1\nKneeAngles.x,100,1,1\n", "line 5"),
    ("variable,percent,mean,sd\nKneeAngles.x,0,1,1\n", ">= 2 points"),
    ("variable,percent,mean,sd\nKneeAngles.x,0,1,-1\nKneeAngles.x,100,1,1\n", "negative"),
    ("variable,percent,mean,sd\n", "no variables"),
])
def test_lab_csv_errors(tmp_path, body, msg):
    with pytest.raises(NormativeDataError, match=msg) as exc:
        load_lab_normative(_write_csv(tmp_path / "bad.csv", body))
    assert "bad.csv" in str(exc.value)


def test_lab_csv_missing_metadata(tmp_path):
    p = tmp_path / "nometa.csv"
    p.write_text("variable,percent,mean,sd\nKneeAngles.x,0,1,1\nKneeAngles.x,100,1,1\n")
    with pytest.raises(NormativeDataError, match="citation|name"):
        load_lab_normative(p)


def test_lab_json_import(tmp_path):
    doc = {"format": "genulab-normative/1", "name": "lab", "citation": "c", "population": "adults",
           "percent": [0, 50, 100], "variables": {"HipAngles.x": {"mean": [30, 0, 30], "sd": [5, 5, 5]}}}
    p = tmp_path / "lab.json"
    p.write_text(json.dumps(doc))
    ns = load_lab_normative(p)
    assert ns.band("HipAngles.x").at(np.array([75.0]))[0][0] == pytest.approx(15.0)
    p.write_text("{not json")
    with pytest.raises(NormativeDataError, match="JSON"):
        load_lab_normative(p)
    doc["variables"]["HipAngles.x"]["sd"] = [5, 5]
    p.write_text(json.dumps(doc))
    with pytest.raises(NormativeDataError, match="HipAngles.x"):
        load_lab_normative(p)
    with pytest.raises(NormativeDataError, match="not found"):
        load_lab_normative(tmp_path / "missing.json")


def test_pinzone_sets_match_the_spreadsheet():
    xlsx = NORMATIVE_SRC / "Pinzone2014-origin.xlsx"
    if not xlsx.exists():
        pytest.skip(f"normative sources not available: {xlsx}")
    import openpyxl
    ws = openpyxl.load_workbook(str(xlsx), read_only=True, data_only=True)["Joint Rotations"]
    row = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Knee Flx/Ext" and abs(r[1] - 0.5) < 1e-9)
    one, two = load_normative("pinzone2014_centre1"), load_normative("pinzone2014_centre2", "Fast")
    i = int(np.flatnonzero(one.band("KneeAngles.x").percent == 50.0)[0])
    assert one.band("KneeAngles.x").mean[i] == pytest.approx(row[2], abs=1e-5)
    assert two.band("KneeAngles.x").sd[i] == pytest.approx(row[5], abs=1e-5)
    assert two.speed_class == "" and "Pinzone" in two.citation and "children" in two.population
    assert one.band("KneeAngles.y") is None          # no knee ab/adduction in Pinzone 2014
    assert set(one.keys) == set(GVS_VARIABLES)
