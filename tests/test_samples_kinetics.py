"""Force plates and known joint kinetics of the synthetic sample sessions (sample_c3d/).

Independent checks of what core.synthetic writes:

* ezc3d's own force-platform extraction (``extract_forceplat_data=True``) reproduces the
  prescribed ground reaction and CoP within the analog noise. Finding: for C3D files written
  the way every real file in ../shared/reference is (channels rotated by the corner frame give
  an upward force), ezc3d's ``force`` is the **reaction of the plate on the subject** (+GRF,
  lab frame, Fz > 0 when loaded); ``center_of_pressure`` is on the plate surface (lab, mm).
* the truth moments satisfy closed-form statics in the quiet frames of the squats;
* the clinical design (pre right external knee abduction moment larger than left and post);
* the plates read the true per-foot GRF on clean contacts and miss load on the unclean one;
* determinism of the analog data.
"""
from __future__ import annotations

import json
from pathlib import Path

import ezc3d
import numpy as np
import pytest

from core.synthetic import dynamics
from core.synthetic.catalogue import all_trials
from core.synthetic.generate import generate_trial
from core.synthetic.grf import FootLoads, foot_loads
from core.synthetic.markers import MARKERS
from core.synthetic.plates import CAL_MATRIX_2, NOISE_FORCE_N, NOISE_MOMENT_NMM, PLATES
from core.synthetic.subject import BODY, PATIENT
from tests.conftest import SAMPLES

SPECS = {s.name: s for s in all_trials()}
ALL = sorted(SPECS)
BW = PATIENT.mass_kg * 9.81


def _path(name: str, suffix: str = ".c3d") -> Path:
    return SAMPLES / PATIENT.patient_id / SPECS[name].session / f"{name}{suffix}"


def _kin(name: str) -> dict:
    return json.loads(_path(name, ".truth.json").read_text(encoding="utf-8"))["kinetics"]


def _arr(rows) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in r] if isinstance(r, list) else
                     (np.nan if r is None else r) for r in rows], dtype=float)


# ----------------------------------------------------------------------- ezc3d alone
@pytest.mark.parametrize("name", ALL)
def test_ezc3d_force_platform_extraction_matches_the_truth(name):
    c = ezc3d.c3d(str(_path(name)), extract_forceplat_data=True)
    kin = _kin(name)
    fp = c["parameters"]["FORCE_PLATFORM"]
    assert list(fp["TYPE"]["value"]) == [2, 4, 2]
    assert c["parameters"]["ANALOG"]["RATE"]["value"][0] == 1000.0
    assert c["data"]["analogs"].shape[2] == 10 * c["data"]["points"].shape[2]
    for i, plate in enumerate(PLATES):
        pl = c["data"]["platform"][i]
        if plate.plate_type == 4:                      # ezc3d reads CAL_MATRIX untransposed
            np.testing.assert_allclose(pl["cal_matrix"], CAL_MATRIX_2, rtol=1e-6)
        truth = kin["plate_data"][str(plate.number)]
        f_true, cop_true = _arr(truth["force"]), _arr(truth["cop"])
        f = pl["force"][:, ::10].T                     # analog sample 0 of each frame
        cop = pl["center_of_pressure"][:, ::10].T
        loaded = np.isfinite(f_true[:, 2])
        # +GRF: the force of the plate on the subject, upward (8 SD of the channel noise)
        np.testing.assert_allclose(f[loaded], f_true[loaded], atol=8 * NOISE_FORCE_N)
        assert np.all(f[loaded, 2] > 0)
        np.testing.assert_allclose(np.abs(f[~loaded]), 0.0, atol=8 * NOISE_FORCE_N)
        # ezc3d's moment is about the surface centre (lab axes): M_O + (O - S) x F
        m_o = _arr(truth["moment_at_sensor_origin"])
        m_s = m_o + np.cross(plate.sensor_origin - plate.centre, f_true)
        lever = np.linalg.norm(plate.sensor_origin - plate.centre)
        np.testing.assert_allclose(pl["moment"][:, ::10].T[loaded], m_s[loaded],
                                   atol=8 * (NOISE_MOMENT_NMM + lever * NOISE_FORCE_N))
        # CoP where Fz > 100 N: noise / Fz is below 0.5 mm (moment) + 0.3 mm (force)
        well = loaded & (f_true[:, 2] > 100.0)
        np.testing.assert_allclose(cop[well], cop_true[well], atol=3.0)
        assert np.allclose(cop_true[well, 2], 0.0)
        # noise-free truth is what the channels hold: the analog noise is as stated
        resid = f[loaded] - f_true[loaded]
        if resid.size > 300:
            assert 0.3 * NOISE_FORCE_N < resid.std() < 3.0 * NOISE_FORCE_N


def test_plate_geometry_and_orientations():
    """Corners follow C3D's quadrant order; plate z points down; plate 2 is plate 1 turned
    180 deg about lab z; ORIGIN z < 0 (sensor origin below the surface)."""
    c = ezc3d.c3d(str(_path("pre_walk_01")), extract_forceplat_data=True)
    for i, plate in enumerate(PLATES):
        co = c["data"]["platform"][i]["corners"]
        x, y = co[:, 0] - co[:, 1], co[:, 0] - co[:, 3]
        z = np.cross(x, y)
        np.testing.assert_allclose(z / np.linalg.norm(z), [0, 0, -1], atol=1e-12)
        np.testing.assert_allclose(x / np.linalg.norm(x), plate.rotation[:, 0], atol=1e-7)
        assert c["data"]["platform"][i]["origin"][2] < 0
    np.testing.assert_allclose(PLATES[1].rotation, np.diag([-1, -1, 1]) @ PLATES[0].rotation, atol=1e-15)


# -------------------------------------------------------------------- contacts and design
def test_every_walk_has_clean_left_and_right_plate_contacts_except_plus_y():
    """+X and -X walks: a clean left and a clean right stance; the +Y walk's only plate
    contact is the deliberately unclean one (left forefoot off plate 3)."""
    for name, spec in SPECS.items():
        if spec.task != "walk":
            continue
        clean = {e["side"] for e in _kin(name)["contacts"] if e["clean"]}
        want = set() if name.endswith("_03") else {"Left", "Right"}
        assert clean == want, (name, clean)


def test_the_unclean_contact_misses_load_and_clean_ones_do_not():
    for name in SPECS:
        kin = _kin(name)
        for e in kin["contacts"]:
            if e["plate"] is None or isinstance(e["plate"], list):
                continue
            rows = slice(e["first_frame"] - 1, e["last_frame"])
            foot = _arr(kin["feet"][e["side"]]["force"])[rows]
            plate = _arr(kin["plate_data"][str(e["plate"])]["force"])[rows]
            ok = np.isfinite(plate[:, 2]) & np.isfinite(foot[:, 2])
            if e["clean"]:
                np.testing.assert_allclose(plate[ok], foot[ok], atol=1e-3, err_msg=name)
                cop_p = _arr(kin["plate_data"][str(e["plate"])]["cop"])[rows]
                cop_f = _arr(kin["feet"][e["side"]]["cop"])[rows]
                np.testing.assert_allclose(cop_p[ok], cop_f[ok], atol=2e-3, err_msg=name)
            elif "partly off" in e["reason"]:
                assert np.nanmax(1 - plate[ok, 2] / foot[ok, 2]) > 0.3, name
                assert e["max_unmeasured_load_fraction"] > 0.3
    unclean = [(n, e["side"]) for n in SPECS for e in _kin(n)["unclean_contacts"]
               if SPECS[n].task != "static"]
    assert unclean == [("pre_walk_03", "Left"), ("post_walk_03", "Left")]


def _peaks(name: str) -> dict:
    out: dict = {}
    for s in _kin(name)["summary"]:
        if s["clean"]:
            out.setdefault(s["side"], []).append(s["peak_external_knee_abduction_nmm_per_kg"])
    return {k: max(v) for k, v in out.items()}


def test_external_knee_abduction_design():
    """Pre right > left and > post right, by a clear margin (N.mm/kg), in every task."""
    for task, lo, margin in (("walk_01", 400.0, 250.0), ("walk_02", 400.0, 250.0),
                             ("drop_jump_01", 400.0, 350.0)):
        pre, post = _peaks(f"pre_{task}"), _peaks(f"post_{task}")
        assert pre["Right"] > lo, (task, pre)
        assert pre["Right"] > pre["Left"] + margin and pre["Right"] > post["Right"] + margin, (task, pre, post)
        assert post["Right"] < 200 and post["Left"] < 200 and pre["Left"] < 200, (task, pre, post)
    r_pre, r_post, l_pre = _peaks("pre_sls_R_01")["Right"], _peaks("post_sls_R_01")["Right"], _peaks("pre_sls_L_01")["Left"]
    assert r_pre > 900 and r_pre > r_post + 400 and r_pre > l_pre + 600, (r_pre, r_post, l_pre)


def test_grf_sizes():
    """Walking double hump about 1.2 BW, landing about 2.8 BW per foot, squat about 1 BW."""
    for name, spec in SPECS.items():
        kin = _kin(name)
        for side, foot in kin["feet"].items():
            fz = _arr(foot["force"])[:, 2]
            if np.all(np.isnan(fz)):
                continue
            peak = np.nanmax(fz) / BW
            if spec.task == "walk":
                assert 1.1 < peak < 1.25, (name, side, peak)
            elif spec.task == "drop_jump":
                assert 2.5 < peak < 3.5, (name, side, peak)
            elif spec.task == "sls":
                assert 0.95 < np.nanmean(fz) / BW < 1.05 and peak < 1.2, (name, side)


# ------------------------------------------------------------------------- statics
def _static_check(name: str) -> None:
    st = generate_trial(SPECS[name])
    kin = st.truth["kinetics"]
    side = SPECS[name].side
    p = side[0]
    m = kin["body_mass_kg"]
    bsp = kin["body_segment_parameters"]["segments"]
    g = np.array([0.0, 0.0, -9.81])
    hjc, kjc, ajc = (np.asarray(st.centres[f"{p}{j}"]) for j in ("HJC", "KJC", "AJC"))
    toe = st.exact_markers[:, MARKERS.index(f"{p}TOE")]
    com = {"foot": ajc + bsp["foot"]["com_from_proximal"] * (toe - ajc),
           "tibia": kjc + bsp["tibia"]["com_from_proximal"] * (ajc - kjc),
           "femur": hjc + bsp["femur"]["com_from_proximal"] * (kjc - hjc)}
    weight = {k: bsp[k]["mass_fraction"] * m * g for k in com}
    foot = kin["feet"][side]
    f, cop, tz = _arr(foot["force"]), _arr(foot["cop"]), _arr(foot["free_moment"])
    free = np.stack([0 * tz, 0 * tz, tz], axis=1)
    quiet = np.arange(10, 110)                     # standing on one leg before the first repetition
    for joint, centre, segs in (("Knee", kjc, ("foot", "tibia")), ("Hip", hjc, ("foot", "tibia", "femur"))):
        ext = np.cross(cop - centre, f) + free + sum(np.cross(com[s] - centre, weight[s]) for s in segs)
        got = _arr(kin["joints"][side][joint]["moment_lab"])
        err = np.abs(got[quiet] + ext[quiet])
        assert err.max() < 0.002 * np.abs(ext[quiet]).max() + 20.0, (name, joint, err.max())
        force = _arr(kin["joints"][side][joint]["force_lab"])
        np.testing.assert_allclose(force[quiet], -(f + sum(weight[s] for s in segs))[quiet], atol=0.05)


@pytest.mark.parametrize("name", ["pre_sls_R_01", "post_sls_L_01"])
def test_quasi_static_squat_frames_satisfy_closed_form_statics(name):
    """Knee (hip) internal moment = minus the moment about KJC (HJC) of the GRF at the CoP,
    the free moment and the weights of foot and tibia (and femur): Newton-Euler without
    inertia, within 0.2 % + 20 N.mm in the quiet frames."""
    _static_check(name)


def test_frame_change_and_power_are_consistent():
    kin = _kin("pre_walk_01")
    st = generate_trial(SPECS["pre_walk_01"])
    tib = st.motion.pose.legs["Right"].tibia
    lab = _arr(kin["joints"]["Right"]["Knee"]["moment_lab"])
    dist = _arr(kin["joints"]["Right"]["Knee"]["moment_distal"])
    np.testing.assert_allclose(np.einsum("fij,fj->fi", tib, dist), lab, atol=0.2)
    summ = [s for s in kin["summary"] if s["side"] == "Right" and s["clean"]][0]
    s = -1.0
    abd = -s * dist[:, 0] / kin["body_mass_kg"]
    assert abd[summ["peak_frame"] - 1] == pytest.approx(summ["peak_external_knee_abduction_nmm_per_kg"], abs=2e-3)


def _half_rate(motion):
    from dataclasses import replace
    from core.synthetic.skeleton import LegPose, Pose
    p, sub = motion.pose, slice(None, None, 2)
    legs = {s: LegPose(*(getattr(l, f)[sub] for f in ("hjc", "kjc", "ajc", "toe", "thigh", "tibia", "foot_u", "foot")))
            for s, l in p.legs.items()}
    return replace(motion, pose=Pose(p.progression, p.origin[sub], p.pelvis[sub], legs))


@pytest.mark.parametrize("name", ["pre_walk_01", "pre_sls_R_01"])
def test_differentiation_error_is_small(name):
    """Richardson estimate of the truth's differentiation error: the same inverse dynamics on
    every other frame (50 Hz) differs from the 100 Hz truth by 15x the error of a fourth-order
    scheme; over the loaded frames that estimate stays below 0.5 % of the peak moment
    (measured: 0.25 % knee and hip in walking, 0.01 % in the squat)."""
    st = generate_trial(SPECS[name])
    kin = st.truth["kinetics"]
    half = _half_rate(st.motion)
    times = np.arange(st.motion.n_frames * 10) / 1000.0
    for side, joints in kin["joints"].items():
        full = foot_loads(st.motion, BODY, PATIENT.mass_kg, side, times)
        at = FootLoads(full.points[::10], full.forces[::10], full.free[::10])
        sub = slice(None, None, 2)
        coarse = dynamics.leg_kinetics(half, side, PATIENT.mass_kg,
                                       FootLoads(at.points[sub], at.forces[sub], at.free[sub]), rate_hz=50.0)
        fz = at.force[sub, 2]
        rows = np.flatnonzero(fz > 50.0)
        rows = rows[(rows >= 5) & (rows < fz.size - 5)]
        for joint in ("Ankle", "Knee", "Hip"):
            fine = _arr(joints[joint]["moment_lab"])[sub][rows]
            est = np.abs(fine - coarse[joint]["moment"][rows]).max() / 15.0
            assert est < 0.005 * np.abs(fine).max(), (name, side, joint, est)


def _d1(x, h=0.01):
    """Five-point central difference (interior rows only valid)."""
    out = np.full_like(x, np.nan)
    out[2:-2] = (x[:-4] - 8 * x[1:-3] + 8 * x[3:-1] - x[4:]) / (12 * h)
    return out


def test_hip_force_satisfies_newton_for_the_whole_leg():
    """F_hip = sum over foot, tibia, femur of m (a - g) minus the ground reaction (walking,
    swing and stance), with the centre-of-mass accelerations recomputed here."""
    st = generate_trial(SPECS["pre_walk_01"])
    kin = st.truth["kinetics"]
    bsp = kin["body_segment_parameters"]["segments"]
    for side in ("Left", "Right"):
        leg = st.motion.pose.legs[side]
        toe = st.exact_markers[:, MARKERS.index(f"{side[0]}TOE")]
        coms = ((leg.ajc + bsp["foot"]["com_from_proximal"] * (toe - leg.ajc), bsp["foot"]),
                (leg.kjc + bsp["tibia"]["com_from_proximal"] * (leg.ajc - leg.kjc), bsp["tibia"]),
                (leg.hjc + bsp["femur"]["com_from_proximal"] * (leg.kjc - leg.hjc), bsp["femur"]))
        g = np.array([0.0, 0.0, -9.81])
        total = sum(b["mass_fraction"] * PATIENT.mass_kg * (_d1(_d1(c)) / 1000.0 - g) for c, b in coms)
        ground = np.nan_to_num(_arr(kin["feet"][side]["force"]))
        hip = _arr(kin["joints"][side]["Hip"]["force_lab"])
        inner = slice(4, -4)
        np.testing.assert_allclose(hip[inner], (total - ground)[inner], atol=0.01)


# -------------------------------------------------------------------- determinism
@pytest.mark.parametrize("name", ["pre_walk_02", "post_drop_jump_01"])
def test_analog_data_are_reproduced(name):
    a = generate_trial(SPECS[name]).kinetics.analog
    b = generate_trial(SPECS[name]).kinetics.analog
    np.testing.assert_array_equal(a, b)
    stored = ezc3d.c3d(str(_path(name)))["data"]["analogs"][0].T
    truth = json.loads(_path(name, ".truth.json").read_text())
    if truth["generator"]["numpy"] == np.__version__:
        np.testing.assert_array_equal(stored, a.astype(np.float32))
    else:
        np.testing.assert_allclose(stored, a, rtol=1e-6, atol=1e-3)
