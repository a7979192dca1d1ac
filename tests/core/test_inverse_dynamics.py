"""Inverse dynamics and foot contacts with closed-form truth (static equilibrium, rigid
rotation, synthetic plates and feet)."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import SubjectParameterError
from core.kinetics.contacts import assign_contacts, force_plate_events
from core.kinetics.force_plates import compute_plates
from core.kinetics.inverse_dynamics import KineticsSettings, compute_kinetics
from core.kinetics.newton_euler import ExternalLoad, limb_chain, segment_step
from core.kinetics.segments import PIG_SEGMENTS, SegmentState, angular_velocity, foot_length_mm
from core.model import AnalogData, ForcePlate, ModelOutputs, ParameterValue, SubjectParameters, Trial
from tests.core.test_force_plates import corners_for, plate_down_axes, wrench_at_sensor

F = 16
MASS = 70.0
G = np.array([0.0, 0.0, -9.81])
LEGS = {  # joint centres and foot markers (mm); the right foot stands off the plate
    "L": dict(HJC=(0, 100, 900), KJC=(20, 110, 480), AJC=(0, 100, 80), TOE=(150, 110, 30), HEE=(-50, 100, 30),
              ANK=(0, 135, 80)),
    "R": dict(HJC=(0, -100, 900), KJC=(-10, -120, 480), AJC=(10, -110, 85), TOE=(160, -120, 30),
              HEE=(-40, -110, 30), ANK=(10, -145, 85)),
}
COP = np.array([40.0, 105.0, 0.0])
FZ = 600.0


def _standing(plate_fz=None, feet=LEGS, events=()):
    """A subject standing still, left foot on a plate (z-down axes, centred under it)."""
    labels, pts = [], []
    for side, leg in feet.items():
        for m in ("TOE", "HEE", "ANK"):
            labels.append(side + m)
            pts.append(np.tile(leg[m], (F, 1)))
    rot, centre, origin = plate_down_axes(0.0), np.array([50.0, 100.0, 0.0]), np.array([0.0, 0.0, 40.0])
    fz = np.full(F, FZ) if plate_fz is None else plate_fz
    ch = np.stack([wrench_at_sensor(np.array([0.0, 0.0, v]), COP, 0.0, rot, centre, origin) for v in fz])
    ch = np.repeat(ch, 10, axis=0)
    analog = AnalogData(tuple(f"ch{i}" for i in range(6)), ("N",) * 3 + ("Nmm",) * 3, 1000.0, ch)
    plate = ForcePlate(2, corners_for(rot, centre, (250.0, 150.0)), origin, tuple(range(6)))
    trial = Trial("standing", tuple(labels), np.stack(pts, axis=1), 100.0, analog=analog,
                  force_plates=(plate,), events=events)
    eye = np.tile(np.eye(4), (F, 1, 1))
    channels, segments = {}, {"Pelvis": eye}
    for side, leg in feet.items():
        for j in ("HJC", "KJC", "AJC"):
            channels[side + j] = np.tile(leg[j], (F, 1)).astype(float)
        for s in ("Foot", "Tibia", "Femur"):
            segments[side + s] = eye
    return trial, ModelOutputs(channels, segments, np.eye(3), 1, 100.0)


def _subject(mass=MASS):
    return SubjectParameters({"Bodymass": ParameterValue("Bodymass", mass, "kg", "test")})


def _gravity_moments(side: str, grf: np.ndarray) -> dict[str, np.ndarray]:
    """Static equilibrium of everything below each joint: moment (N.m, lab) the proximal
    segment must exert = minus the moments of gravity and of the GRF about the joint."""
    leg = {k: np.asarray(v, float) / 1000.0 for k, v in LEGS[side].items()}
    # foot length: |HEE - TOE| less the marker radius (7 mm); the foot's CoM at half of it
    # along minus the foot's z axis (identity axes here, so straight down)
    foot_len = np.linalg.norm(leg["HEE"] - leg["TOE"]) - 0.007
    coms = {"Foot": leg["AJC"] - 0.5 * foot_len * np.array([0.0, 0.0, 1.0]),
            "Tibia": leg["KJC"] + 0.433 * (leg["AJC"] - leg["KJC"]),
            "Femur": leg["HJC"] + 0.433 * (leg["KJC"] - leg["HJC"])}
    out, below = {}, []
    for joint, seg, centre in (("Ankle", "Foot", "AJC"), ("Knee", "Tibia", "KJC"), ("Hip", "Femur", "HJC")):
        below.append(seg)
        p = leg[centre]
        m = -np.cross(COP / 1000.0 - p, grf)
        for s in below:
            m = m - np.cross(coms[s] - p, PIG_SEGMENTS[s].mass_fraction * MASS * G)
        out[joint] = m
    return out


#: Vicon expression with identity segment axes (left): ankle (y, -z, x), knee (-y, x, z), hip (y, x, z)
PERM = {"Ankle": ((1, 1), (2, -1), (0, 1)), "Knee": ((1, -1), (0, 1), (2, 1)), "Hip": ((1, 1), (0, 1), (2, 1))}


@pytest.mark.parametrize("side", ["L", "R"])
def test_static_standing_moments_equal_the_gravity_lever_arms(side: str) -> None:
    trial, outputs = _standing()
    res = compute_kinetics(trial, outputs, _subject())
    grf = np.array([0.0, 0.0, FZ]) if side == "L" else np.zeros(3)
    truth = _gravity_moments(side, grf)
    inner = slice(3, F - 3)
    for joint, m in truth.items():
        expected = np.array([s * m[a] for a, s in PERM[joint]]) * 1000.0 / MASS
        if side == "R":
            expected = expected * np.array([1.0, -1.0, -1.0])
        np.testing.assert_allclose(res.channels[f"{side}{joint}Moment"][inner], np.tile(expected, (F - 6, 1)),
                                   atol=1e-9, err_msg=f"{side}{joint}Moment")
        np.testing.assert_allclose(res.channels[f"{side}{joint}Power"][inner], 0.0, atol=1e-12)
    assert np.isnan(res.channels[f"{side}AnkleMoment"][:2]).all()  # derivatives need neighbours


def test_static_standing_joint_forces_carry_the_weight_below() -> None:
    trial, outputs = _standing()
    res = compute_kinetics(trial, outputs, _subject())
    w = {s: PIG_SEGMENTS[s].mass_fraction * 9.81 for s in ("Foot", "Tibia", "Femur")}
    # vertical force on the distal segment per kg, z of the lab = -z of the ankle's expression
    ankle_z = (w["Foot"] - FZ / MASS)
    np.testing.assert_allclose(res.channels["LAnkleForce"][5], [0, 0, -ankle_z], atol=1e-9)
    np.testing.assert_allclose(res.channels["LKneeForce"][5], [0, 0, ankle_z + w["Tibia"]], atol=1e-9)
    np.testing.assert_allclose(res.channels["LHipForce"][5], [0, 0, ankle_z + w["Tibia"] + w["Femur"]], atol=1e-9)
    np.testing.assert_allclose(res.channels["LGroundReactionForce"][5], [0, 0, FZ / MASS], atol=1e-12)
    assert np.isnan(res.channels["RGroundReactionForce"]).all()


def test_rigid_rotation_angular_velocity_and_inertia() -> None:
    """R(t) = rot_z(w t): angular velocity sin(4 w dt) / (4 dt) z (Plug-in Gait's scheme over
    frames i-2 .. i+2); a segment with angular acceleration alpha about x needs I alpha at its
    centre of mass."""
    dt, w = 0.01, 2.0
    t = np.arange(F) * dt
    c, s = np.cos(w * t), np.sin(w * t)
    rot = np.zeros((F, 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    om = angular_velocity(rot, dt)
    np.testing.assert_allclose(om[2:-2], np.tile([0, 0, np.sin(4 * w * dt) / (4 * dt)], (F - 4, 1)), rtol=1e-12)
    assert np.isnan(om[:2]).all() and np.isnan(om[-2:]).all()
    i_t = 0.05
    inertia = np.tile(np.diag([i_t, i_t, 0.0]), (F, 1, 1))
    zero = np.zeros((F, 3))
    alpha = np.tile([3.0, 0.0, 0.0], (F, 1))
    seg = SegmentState("Tibia", zero, zero, np.tile(np.eye(3), (F, 1, 1)), 2.0, inertia, zero, zero, alpha)
    force, moment = segment_step(seg, [])
    np.testing.assert_allclose(moment, np.tile([i_t * 3.0, 0, 0], (F, 1)), atol=1e-12)
    np.testing.assert_allclose(force, np.tile([0, 0, 2.0 * 9.81], (F, 1)), atol=1e-12)


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """``(F, 3, 3)`` rotations by ``angle`` (F,) about the unit ``axis`` (Rodrigues)."""
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    a = angle[:, None, None]
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)


def test_angular_velocity_is_plug_in_gaits_scheme_about_a_tilted_axis() -> None:
    """R(t) = rot(n, w t) R0 about a fixed tilted axis n. Then R[i+2]^T R[i-2] =
    rot(m, -4 w dt) with m = R0^T n, so Plug-in Gait's components in the segment axes are
    (sin(q) m + (1 - cos(q)) (m_y m_z, m_z m_x, m_x m_y)) / (4 dt), q = 4 w dt: the second
    term is what distinguishes it from vee(dR/dt R^T) (= w n exactly here)."""
    dt, w = 0.01, 6.0
    n = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    r0 = _axis_angle(np.array([0.0, 0.6, 0.8]), np.array([0.7]))[0]
    rot = _axis_angle(n, w * np.arange(F) * dt) @ r0
    m, q = r0.T @ n, 4 * w * dt
    local = (np.sin(q) * m + (1 - np.cos(q)) * np.array([m[1] * m[2], m[2] * m[0], m[0] * m[1]])) / (4 * dt)
    expected = np.einsum("fij,j->fi", rot, local)
    om = angular_velocity(rot, dt)
    np.testing.assert_allclose(om[2:-2], expected[2:-2], rtol=1e-10, atol=1e-12)
    # within the scheme's error of the true w n, and not equal to it
    err = np.abs(om[2:-2] - w * n).max()
    assert 1e-3 < err < 0.1 * w


def test_foot_length_is_the_mean_heel_to_toe_distance_less_the_marker_radius() -> None:
    toe = np.zeros((4, 3))
    hee = np.array([[200.0, 0, 0], [0, 210.0, 0], [np.nan, 0, 0], [0, 0, 220.0]])
    assert foot_length_mm(hee, toe, 14.0) == pytest.approx(210.0 - 7.0)
    assert np.isnan(foot_length_mm(np.full((3, 3), np.nan), np.zeros((3, 3)), 14.0))


def test_joint_power_is_moment_times_relative_angular_velocity() -> None:
    zero, eye = np.zeros((F, 3)), np.tile(np.eye(3), (F, 1, 1))
    massless = dict(mass_kg=0.0, inertia_com=np.zeros((F, 3, 3)), com_acc=zero, alpha=zero, rotation=eye)
    segs = {n: SegmentState(n, zero, zero, omega=np.tile(om, (F, 1)), **massless)
            for n, om in (("Foot", [0, 0, 5.0]), ("Tibia", [0, 0, 2.0]), ("Femur", [0, 0, 0.5]),
                          ("Pelvis", [0, 0, 0.0]))}
    couple = ExternalLoad(zero, zero, np.tile([0.0, 0.0, -4.0], (F, 1)))   # free moment on the foot
    out = limb_chain(segs, [couple])
    # massless chain: every joint transmits +4 N.m about z
    assert out["Ankle"].power_w[0] == pytest.approx(4.0 * 3.0)
    assert out["Knee"].power_w[0] == pytest.approx(4.0 * 1.5)
    assert out["Hip"].power_w[0] == pytest.approx(4.0 * 0.5)


def test_body_mass_is_required() -> None:
    trial, outputs = _standing()
    with pytest.raises(SubjectParameterError, match="Bodymass"):
        compute_kinetics(trial, outputs, SubjectParameters({}))
    with pytest.raises(SubjectParameterError, match="Bodymass"):
        compute_kinetics(trial, outputs, _subject(0.0))


def test_contact_events_from_the_threshold() -> None:
    """Per-frame means of the 11 samples around each frame: row 4 (5 x 10 N + 6 x 25 N) / 11
    = 18.2 N is below 20 N, row 5 is 175 N; row 9 is 144.5 N, row 10 6.8 N."""
    fz = np.array([0, 0, 0, 10, 25, 300, 600, 600, 300, 15, 0, 0, 0, 0, 0, 0], dtype=float)
    trial, outputs = _standing(plate_fz=fz)
    plates, _ = compute_plates(trial)
    assert plates[0].force_n[4, 2] == pytest.approx(200.0 / 11.0)
    contacts = assign_contacts(trial, plates)
    assert len(contacts) == 1 and contacts[0].clean and contacts[0].side == "L"
    assert (contacts[0].first_row, contacts[0].last_row) == (5, 9)
    assert (contacts[0].first_frame, contacts[0].last_frame) == (6, 10)
    ev = force_plate_events(trial, contacts)
    assert [(e.label, e.context, e.frame, e.source) for e in ev] == [
        ("Foot Strike", "Left", 6, "force plate"), ("Foot Off", "Left", 10, "force plate")]
    assert ev[0].time_s == pytest.approx(0.05)


def test_two_feet_on_a_plate_is_not_clean() -> None:
    feet = {"L": LEGS["L"], "R": {**LEGS["R"], "TOE": (160, 60, 30), "HEE": (-40, 60, 30), "ANK": (10, 40, 85)}}
    trial, outputs = _standing(feet=feet)
    res = compute_kinetics(trial, outputs, _subject())
    assert not res.contacts[0].clean and "also on the plate" in res.contacts[0].reason
    assert np.isnan(res.channels["LAnkleMoment"]).all() and np.isnan(res.channels["RAnkleMoment"]).all()
    assert any(i.code == "plate-contact-excluded" for i in res.issues)
    assert any(i.code == "no-clean-contact" for i in res.issues)


def test_foot_partly_off_the_plate_is_not_clean_unless_assigned_by_hand() -> None:
    feet = {"L": {**LEGS["L"], "TOE": (330, 110, 30)}, "R": LEGS["R"]}   # toe 30 mm beyond the edge
    trial, outputs = _standing(feet=feet)
    res = compute_kinetics(trial, outputs, _subject())
    assert res.contacts[0].reason == "the foot is partly off the plate"
    assert np.isnan(res.channels["LGroundReactionForce"]).all()
    manual = compute_kinetics(trial, outputs, _subject(), KineticsSettings(plate_assignment={1: "L"}))
    assert manual.contacts[0].clean and np.isfinite(manual.channels["LGroundReactionForce"]).all()


def test_stance_off_the_plates_is_blanked_as_vicon_does() -> None:
    """Right foot strikes at frame 6 and comes off at frame 11 off any plate: rows 6..10
    (strike+1 .. off) are NaN; rows outside keep their values."""
    from core.model import GaitEvent
    ev = (GaitEvent("Foot Strike", "Right", 6, 0.05), GaitEvent("Foot Off", "Right", 11, 0.10))
    trial, outputs = _standing(events=ev)
    res = compute_kinetics(trial, outputs, _subject())
    bad = np.isnan(res.channels["RKneeMoment"]).any(axis=1)
    assert bad[6:11].all() and not bad[5] and not bad[11]
    assert not np.isnan(res.channels["LKneeMoment"][5:12]).any()
