"""Knee-kinetics analysis (core.analysis.kinetics) on Vicon's own stored Plug-in Gait kinetics."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.analysis.kinetics import KINETIC_INDICATOR_TEXT, window_kinetics
from core.analysis.trial import analyze_trial
from core.analysis.types import ValgusPhase, to_jsonable
from core.gait.pipeline import process_trial
from tests.conftest import reference_file
from tests.core.vicon_kinetics import stored_kinetics

MASS = 47.5   # PROCESSING Bodymass of the BTK PiG walking file


@pytest.fixture(scope="module")
def walk():
    dyn = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    static = reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d")
    p = process_trial(dyn, static=static)
    return p, stored_kinetics(p.trial, MASS)


def _on_plate(a):
    return [w for w in a.kinetics.windows if w.computed]


def test_peaks_equal_direct_numpy_on_vicon_channels(walk):
    p, kin = walk
    a = analyze_trial(p, kinetics=kin)
    done = _on_plate(a)
    assert {(w.side, w.plate) for w in done} == {("Left", 2), ("Right", 1)}
    for w in done:
        y = kin.channels[f"{w.side[0]}KneeMoment"][:, 1]
        rows = np.arange(w.start_frame, w.end_frame + 1) - p.trial.first_frame
        seg = y[rows]
        assert w.peak_abduction_moment == pytest.approx(np.nanmax(-seg) / 1000.0, abs=1e-12)
        assert w.peak_adduction_moment == pytest.approx(np.nanmax(seg) / 1000.0, abs=1e-12)
        assert w.peak_abduction_frame == rows[np.nanargmax(-seg)] + p.trial.first_frame
        assert w.peak_adduction_time_s == pytest.approx((w.peak_adduction_frame - 1) / 100.0)
        pw = kin.channels[f"{w.side[0]}KneePower"][rows, 2]
        assert w.peaks["KneePower.z min"] == pytest.approx(np.nanmin(pw))
        assert w.peaks["KneeMoment.x max"] == pytest.approx(np.nanmax(kin.channels[f"{w.side[0]}KneeMoment"][rows, 0]) / 1000)
    left = next(w for w in done if w.side == "Left")
    # the numbers of this file (Vicon Nexus 1.4): external adduction 0.557 N.m/kg at frame 316
    assert left.peak_adduction_moment == pytest.approx(0.5575, abs=5e-4) and left.peak_adduction_frame == 316


def test_sign_normal_walk_adduction_dominates_stance(walk):
    """Normal walking: the external knee ADDUCTION moment (+Y of PiG KneeMoment) dominates stance."""
    p, kin = walk
    a = analyze_trial(p, kinetics=kin)
    for w in _on_plate(a):
        y = kin.channels[f"{w.side[0]}KneeMoment"][w.start_frame - p.trial.first_frame:w.end_frame - p.trial.first_frame + 1, 1]
        assert np.nanmean(y) > 0, w.side
        assert w.peak_adduction_moment > w.peak_abduction_moment, w.side
        assert 0.1 < w.peak_adduction_moment < 0.8


def test_windows_without_plate_are_nan_with_reason(walk):
    p, kin = walk
    a = analyze_trial(p, kinetics=kin)
    off = [w for w in a.kinetics.windows if not w.computed]
    assert len(off) == 3
    for w in off:
        assert np.isnan(w.peak_abduction_moment) and w.peak_abduction_frame is None
        assert w.reason == f"no force-plate contact of the {w.side} foot in this stance"


def test_unclean_contact_excluded_with_reason(walk):
    p, _ = walk
    kin = stored_kinetics(p.trial, MASS, unclean={"L": "both feet on plate 2"})
    a = analyze_trial(p, kinetics=kin)
    left = [w for w in a.kinetics.windows if w.side == "Left" and w.plate == 2]
    assert len(left) == 1 and not left[0].computed
    assert left[0].reason == "plate 2 contact excluded: both feet on plate 2"
    assert any(w.computed for w in a.kinetics.windows if w.side == "Right")
    assert any(c.side == "Left" and not c.clean for c in a.kinetics.contacts)
    assert "Left" in a.metrics and a.metrics["Left"]["valgus_3d"].shape == (p.trial.n_frames,)


def _without_mass(trial, value):
    """The trial read from its file, its PROCESSING Bodymass removed (None) or set (the C3D is untouched)."""
    proc = {k: v for k, v in trial.processing.items() if k != "Bodymass"}
    return trial.with_changes(processing={**proc, **({} if value is None else {"Bodymass": value})})


@pytest.mark.parametrize("mass", [None, 0.0])
def test_body_mass_missing_kinematics_analysed_kinetics_absent_named(mass):
    """The real pipeline: no (or a zero) body mass -> no kinetics, the reason names Bodymass,
    the kinematics (windows, cycles) are still analysed."""
    from core.io.c3d import read_c3d
    dyn = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    static = read_c3d(reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Full.c3d"))
    p = process_trial(_without_mass(dyn, mass), static=_without_mass(static, mass))
    assert p.kinetics is None
    a = analyze_trial(p)
    assert a.kinetics is not None and not a.kinetics.available
    assert "Bodymass" in a.kinetics.reason and "body mass" in a.kinetics.reason
    assert a.kinetics.reason.endswith("kinematics analysed") and a.kinetics.windows == ()
    assert sum(len(w) for w in a.windows.values()) == 5 and a.cycle_curves["Left"]["KneeAngles.x"].shape[1] == 101


def test_engine_kinetics_through_the_pipeline(walk):
    """Genu Lab's own kinetics (ProcessedTrial.kinetics): the right contact on plate 1 is excluded by
    the engine (foot partly off the plate), named; the left stance on plate 2 matches Vicon's peaks."""
    p, vicon = walk
    assert p.kinetics is not None
    a = analyze_trial(p)
    right = next(w for w in a.kinetics.windows if w.side == "Right" and w.plate == 1)
    assert not right.computed and right.reason == "plate 1 contact excluded: the foot is partly off the plate"
    left = next(w for w in a.kinetics.windows if w.computed)
    assert (left.side, left.plate) == ("Left", 2)
    y = np.asarray(p.kinetics.channels["LKneeMoment"])[:, 1]
    rows = np.arange(left.start_frame, left.end_frame + 1) - p.trial.first_frame
    assert left.peak_adduction_moment == pytest.approx(np.nanmax(y[rows]) / 1000.0, abs=1e-12)
    v = analyze_trial(p, kinetics=vicon).kinetics
    vl = next(w for w in v.windows if w.side == "Left" and w.computed)
    assert left.peak_adduction_moment == pytest.approx(vl.peak_adduction_moment, abs=0.02)      # 0.564 vs 0.557
    assert abs(left.peak_adduction_frame - vl.peak_adduction_frame) <= 2
    assert left.peak_abduction_frame == vl.peak_abduction_frame                                 # impact, frame 309


def test_valgus_phase_timing(walk):
    """Offset of the peak abduction moment from the valgus peak, and inside/outside the phase."""
    p, kin = walk
    a = analyze_trial(p, kinetics=kin)
    w = next(x for x in a.windows["Left"] if x.start_frame <= 316 <= x.end_frame)
    common = dict(side="Left", task="walk", metric="valgus_3d", corrected=False, window_kind=w.kind,
                  window_index=w.index, window_start_frame=w.start_frame, window_end_frame=w.end_frame,
                  onset_pct=0, offset_pct=0, peak_pct=0, peak_value=6.0, mean_value=5.5, duration_s=0.1,
                  threshold=5, threshold_text="t", threshold_source="s")
    inside = ValgusPhase(onset_frame=305, offset_frame=315, peak_frame=312, **common)
    k = window_kinetics(w, kin, [c for c in a.kinetics.contacts], [inside], p.trial.first_frame, 100.0, {}, 2.0)
    assert k.peak_abduction_frame == 309
    assert k.abduction_offset_ms == pytest.approx(-30.0) and k.abduction_in_phase is True
    y = kin.channels["LKneeMoment"][305 - 148:316 - 148, 1]
    assert k.phase_peak_abduction_moment == pytest.approx(np.nanmax(-y) / 1000)
    late = ValgusPhase(onset_frame=340, offset_frame=350, peak_frame=345, **common)
    k2 = window_kinetics(w, kin, a.kinetics.contacts, [late], p.trial.first_frame, 100.0, {}, 2.0)
    assert k2.abduction_in_phase is False and k2.abduction_offset_ms == pytest.approx(-360.0)
    assert k2.phase_peak_abduction_moment < 0          # adduction throughout mid-stance


def test_bands_from_schwartz_and_indicator_wording(walk):
    p, kin = walk
    a = analyze_trial(p, kinetics=kin)
    k = a.kinetics
    assert "Schwartz" in k.band_source and set(k.bands) >= {"KneeMoment.y", "KneePower.z", "HipMoment.x"}
    m, s = k.bands["KneeMoment.y"]
    assert m.shape == (101,) and 0.2 < np.nanmax(m[:60]) < 0.4     # children, N.m/kg
    left = next(w for w in k.windows if w.side == "Left" and w.computed)
    assert left.beyond_normal is True                                # 0.23 N.m/kg abduction at 3 % of the cycle
    assert any("above the normal band" in line and "not a diagnosis" in line for line in k.indicators["Left"])
    assert "not a diagnosis" in KINETIC_INDICATOR_TEXT


def test_json_is_strict(walk):
    p, kin = walk
    text = json.dumps(to_jsonable(analyze_trial(p, kinetics=kin)), allow_nan=False)
    doc = json.loads(text)
    ws = doc["kinetics"]["windows"]
    assert ws[0]["peak_abduction_moment"] is None and isinstance(ws[1]["peak_abduction_moment"], float)
