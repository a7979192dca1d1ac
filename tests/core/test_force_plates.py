"""Force plates: closed-form loads through every plate type, rotation, resampling, refusals."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import ForcePlateError
from core.io.c3d import read_c3d
from core.kinetics.force_plates import (compute_plate, compute_plates, plate_axes, resample_to_frames,
                                        sensor_origin)
from core.model import AnalogData, ForcePlate, Trial
from tests.conftest import reference_file

F = 20
RATE = 100.0


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])


def corners_for(rot: np.ndarray, centre: np.ndarray, half=(250.0, 300.0)) -> np.ndarray:
    """Corners 1..4 (C3D order: +x+y, -x+y, -x-y, +x-y in plate axes) in the lab."""
    hx, hy = half
    local = np.array([[hx, hy, 0], [-hx, hy, 0], [-hx, -hy, 0], [hx, -hy, 0]])
    return centre + local @ rot.T


def trial_with(channels: np.ndarray, plate: ForcePlate, units=None, ratio: int = 1) -> Trial:
    n = channels.shape[1]
    analog = AnalogData(tuple(f"ch{i}" for i in range(n)), tuple(units or ("N",) * n), RATE * ratio, channels)
    return Trial("synthetic", (), np.zeros((channels.shape[0] // ratio, 0, 3)), RATE, analog=analog,
                 force_plates=(plate,))


def plate_down_axes(yaw_deg: float) -> np.ndarray:
    """Plate axes with z pointing down (the AMTI/Vicon corner order), yawed about Z."""
    return rot_z(yaw_deg) @ np.diag([1.0, -1.0, -1.0])


def wrench_at_sensor(force_lab, cop_lab, tz, rot, centre, origin):
    """Channels (F, M about the sensor origin, plate axes) of a ground reaction ``force_lab``
    on the subject applied at ``cop_lab`` with free moment ``tz`` about the plate normal."""
    f_p = rot.T @ force_lab
    r = rot.T @ (cop_lab - centre) - origin          # CoP relative to the sensor, plate axes
    m = np.cross(r, f_p) + np.array([0.0, 0.0, tz])
    return np.concatenate([f_p, m])


@pytest.mark.parametrize("yaw", [0.0, 30.0, -115.0])
def test_type2_known_load_on_a_rotated_plate(yaw: float) -> None:
    rot, centre = plate_down_axes(yaw), np.array([400.0, -250.0, 3.0])
    origin = np.array([1.2, -0.8, 38.5])
    g, cop, tz = np.array([35.0, -60.0, 720.0]), centre + rot_z(yaw) @ np.array([60.0, -110.0, 0.0]), 2400.0
    ch = np.tile(wrench_at_sensor(g, cop, tz, rot, centre, origin), (F, 1))
    plate = ForcePlate(2, corners_for(rot, centre), origin, tuple(range(6)))
    units = ("N", "N", "N", "Nmm", "Nmm", "Nmm")
    out = compute_plate(trial_with(ch, plate, units), plate, 1)
    np.testing.assert_allclose(out.force_n, np.tile(g, (F, 1)), atol=1e-9)
    np.testing.assert_allclose(out.cop_mm, np.tile(cop, (F, 1)), atol=1e-9)
    # free moment about the plate normal (z down): on the subject, lab frame
    np.testing.assert_allclose(out.free_moment_nmm, np.tile(tz * rot[:, 2], (F, 1)), atol=1e-9)
    assert out.loaded.all() and not out.reversed_sign


def test_moments_in_newton_metres_are_converted() -> None:
    rot, centre, origin = plate_down_axes(0.0), np.zeros(3), np.array([0.0, 0.0, 40.0])
    g, cop = np.array([0.0, 0.0, 600.0]), np.array([50.0, 20.0, 0.0])
    ch = wrench_at_sensor(g, cop, 0.0, rot, centre, origin)
    ch[3:] /= 1000.0
    plate = ForcePlate(2, corners_for(rot, centre), origin, tuple(range(6)))
    out = compute_plate(trial_with(np.tile(ch, (F, 1)), plate, ("N",) * 3 + ("Nm",) * 3), plate, 1)
    np.testing.assert_allclose(out.cop_mm[0], cop, atol=1e-9)


def test_channels_with_the_force_on_the_plate_are_negated() -> None:
    """C3D-default sign (load on the plate): same ground reaction, flagged as reversed."""
    rot, centre, origin = plate_down_axes(10.0), np.array([0.0, 500.0, 0.0]), np.array([0.0, 0.0, 40.0])
    g, cop, tz = np.array([-20.0, 40.0, 650.0]), np.array([30.0, 480.0, 0.0]), -900.0
    ch = -wrench_at_sensor(g, cop, tz, rot, centre, origin)
    plate = ForcePlate(2, corners_for(rot, centre), origin, tuple(range(6)))
    trial = trial_with(np.tile(ch, (F, 1)), plate, ("N",) * 3 + ("Nmm",) * 3)
    out = compute_plate(trial, plate, 1)
    assert out.reversed_sign
    np.testing.assert_allclose(out.force_n[0], g, atol=1e-9)
    np.testing.assert_allclose(out.cop_mm[0], cop, atol=1e-9)
    np.testing.assert_allclose(out.free_moment_nmm[0], tz * rot[:, 2], atol=1e-9)
    assert [i.code for i in compute_plates(trial)[1]] == ["plate-sign"]


def test_workstation_origin_sign_is_recognised() -> None:
    """An ORIGIN pointing from the sensor to the surface (z < 0 on a z-down plate) gives the
    same centre of pressure as the Nexus convention."""
    rot, centre = plate_down_axes(0.0), np.zeros(3)
    nexus = ForcePlate(2, corners_for(rot, centre), np.array([0.5, -0.4, 45.0]), tuple(range(6)))
    ws = ForcePlate(2, corners_for(rot, centre), np.array([-0.5, 0.4, -45.0]), tuple(range(6)))
    np.testing.assert_allclose(sensor_origin(ws), sensor_origin(nexus))


def test_type4_calibration_matrix() -> None:
    rng = np.random.default_rng(4)
    rot, centre, origin = plate_down_axes(90.0), np.array([-300.0, 0.0, 0.0]), np.array([0.0, 0.0, 35.0])
    g, cop, tz = np.array([10.0, 5.0, 500.0]), np.array([-280.0, 40.0, 0.0]), 1500.0
    wrench = wrench_at_sensor(g, cop, tz, rot, centre, origin)
    cal = np.diag([1.5, 1.5, 6.0, 740.0, 740.0, 390.0]) + rng.normal(0, 0.05, (6, 6))
    volts = np.linalg.solve(cal, wrench)
    plate = ForcePlate(4, corners_for(rot, centre), origin, tuple(range(6)), cal)
    out = compute_plate(trial_with(np.tile(volts, (F, 1)), plate, ("V",) * 6), plate, 1)
    np.testing.assert_allclose(out.force_n[0], g, atol=1e-8)
    np.testing.assert_allclose(out.cop_mm[0], cop, atol=1e-8)
    np.testing.assert_allclose(out.free_moment_nmm[0], tz * rot[:, 2], atol=1e-6)


def test_type3_kistler_from_sensor_forces() -> None:
    """Eight Kistler channels (the load on the plate, C3D sign): truth from the four
    sensors' forces summed as vectors."""
    a, b, az0 = 120.0, 200.0, -45.0
    fx12, fx34, fy14, fy23 = 8.0, 4.0, -6.0, -3.0
    fz = np.array([150.0, 210.0, 190.0, 120.0])
    rot, centre = plate_down_axes(-20.0), np.array([100.0, 200.0, 0.0])
    sensors = np.array([[a, b, 0], [-a, b, 0], [-a, -b, 0], [a, -b, 0]])
    loads = [(np.array([0, b, 0.0]), np.array([fx12, 0, 0])), (np.array([0, -b, 0.0]), np.array([fx34, 0, 0])),
             (np.array([a, 0, 0.0]), np.array([0, fy14, 0])), (np.array([-a, 0, 0.0]), np.array([0, fy23, 0]))]
    loads += [(s, np.array([0, 0, f])) for s, f in zip(sensors, fz)]
    f_tot = sum(f for _, f in loads)
    m_tot = sum(np.cross(r, f) for r, f in loads)            # about the sensor-plane centre
    x = (az0 * f_tot[0] - m_tot[1]) / f_tot[2]
    y = (m_tot[0] + az0 * f_tot[1]) / f_tot[2]
    ch = np.tile([fx12, fx34, fy14, fy23, *fz], (F, 1))
    plate = ForcePlate(3, corners_for(rot, centre), np.array([a, b, az0]), tuple(range(8)))
    out = compute_plate(trial_with(ch, plate), plate, 1)
    assert out.reversed_sign
    np.testing.assert_allclose(out.force_n[0], -(rot @ f_tot), atol=1e-9)
    np.testing.assert_allclose(out.cop_mm[0], centre + rot @ np.array([x, y, 0.0]), atol=1e-9)


def test_type1_centre_of_pressure_given() -> None:
    rot, centre = plate_down_axes(45.0), np.array([0.0, 0.0, 10.0])
    ch = np.tile([0.0, 0.0, -700.0, 0.03, -0.05, 1.2], (F, 1))   # CoP in m, Tz in N.m
    plate = ForcePlate(1, corners_for(rot, centre), np.zeros(3), tuple(range(6)))
    out = compute_plate(trial_with(ch, plate, ("N", "N", "N", "m", "m", "Nm")), plate, 1)
    np.testing.assert_allclose(out.cop_mm[0], centre + rot @ np.array([30.0, -50.0, 0.0]), atol=1e-9)
    np.testing.assert_allclose(out.force_n[0], [0, 0, 700.0], atol=1e-9)


def test_cop_is_nan_below_the_threshold() -> None:
    rot, centre, origin = plate_down_axes(0.0), np.zeros(3), np.array([0.0, 0.0, 40.0])
    fz = np.linspace(0.0, 100.0, F)
    ch = np.stack([wrench_at_sensor(np.array([0, 0, v]), np.array([10.0, 10.0, 0]), 0.0, rot, centre, origin)
                   for v in fz])
    plate = ForcePlate(2, corners_for(rot, centre), origin, tuple(range(6)))
    out = compute_plate(trial_with(ch, plate, ("N",) * 3 + ("Nmm",) * 3), plate, 1, threshold_n=20.0)
    np.testing.assert_array_equal(out.loaded, fz >= 20.0)
    assert np.isnan(out.cop_mm[fz < 20.0]).all() and np.isfinite(out.cop_mm[fz >= 20.0]).all()


def test_resampling_is_the_centred_mean_of_the_frame_samples() -> None:
    """Vicon's rule (11 samples at 1000/100 Hz, 9 at 1080/120 Hz): centred on the first
    sample of each frame. A ramp is reproduced exactly, a step shows the window."""
    s = np.arange(200, dtype=float)[:, None]
    np.testing.assert_allclose(resample_to_frames(s, 10, 20)[1:-1, 0], np.arange(1, 19) * 10.0)
    step = (np.arange(100) >= 47).astype(float)[:, None]
    out = resample_to_frames(step, 10, 10)[:, 0]
    # frame 5 covers samples 45..55: 9 of 11 are 1
    assert out[5] == pytest.approx(9.0 / 11.0) and out[4] == 0.0 and out[6] == 1.0
    np.testing.assert_allclose(resample_to_frames(np.arange(90.0)[:, None], 9, 10)[1:-1, 0], np.arange(1, 9) * 9.0)


def test_grf_resampling_against_vicon_output() -> None:
    """On a Nexus file the resampled plate force equals Vicon's stored GRF x body mass to
    float32 round-off, while the first-sample rule is 14 N away."""
    t = read_c3d(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"))
    plate = compute_plates(t)[0][1]
    labels = [l.split(":")[-1] for l in t.labels]
    grf = t.points[:, labels.index("LGroundReactionForce"), :] * float(t.processing["Bodymass"])
    ok = np.isfinite(grf).all(axis=1) & plate.loaded
    assert ok.sum() > 50
    assert np.abs(plate.force_n[ok] - grf[ok]).max() < 1e-4 * 47.5 * 10
    rot, _ = plate_axes(t.force_plates[1].corners_mm)
    first = t.analog.values[::10, list(t.force_plates[1].channels[:3])][: t.n_frames] @ rot.T
    assert np.abs(first[ok] - grf[ok]).max() > 5.0


def test_type4_file_equals_ezc3d_platform_force() -> None:
    """c3d.org TYPE-4.C3D: our force (CAL_MATRIX applied) equals ezc3d's own force-platform
    computation averaged with the same window."""
    import ezc3d
    path = reference_file("c3d.org", "sample_10", "TYPE-4.C3D")
    ours = compute_plates(read_c3d(path))[0][0]
    theirs = ezc3d.c3d(str(path), extract_forceplat_data=True)["data"]["platform"][0]["force"].T
    ratio = 20
    ref = resample_to_frames(theirs, ratio, ours.force_n.shape[0])
    np.testing.assert_allclose(ours.force_n[1:-1], ref[1:-1], atol=1e-3)


def test_type3_file_equals_ezc3d() -> None:
    """c3d.org TYPE-3.c3d (analog rate = point rate): two Kistler and two AMTI plates."""
    import ezc3d
    path = reference_file("c3d.org", "sample_10", "TYPE-3.c3d")
    plates = compute_plates(read_c3d(path))[0]
    eref = ezc3d.c3d(str(path), extract_forceplat_data=True)["data"]["platform"]
    for ours, theirs in zip(plates, eref):
        np.testing.assert_allclose(ours.force_n, theirs["force"].T, atol=1e-6)
        ok = ours.loaded
        np.testing.assert_allclose(ours.cop_mm[ok], theirs["center_of_pressure"].T[ok], atol=1e-6)
        np.testing.assert_allclose(ours.free_moment_nmm[ok][:, 2], theirs["Tz"].T[ok][:, 2], atol=1e-4)


@pytest.mark.parametrize("plate, parameter", [
    (ForcePlate(4, corners_for(np.eye(3), np.zeros(3)), np.zeros(3), tuple(range(6))), "CAL_MATRIX"),
    (ForcePlate(2, corners_for(np.eye(3), np.zeros(3)), np.zeros(3), (0, 1, 2)), "CHANNEL"),
    (ForcePlate(2, corners_for(np.eye(3), np.zeros(3)), np.zeros(3), tuple(range(4, 10))), "CHANNEL"),
    (ForcePlate(2, np.full((4, 3), np.nan), np.zeros(3), tuple(range(6))), "CORNERS"),
    (ForcePlate(7, corners_for(np.eye(3), np.zeros(3)), np.zeros(3), tuple(range(6))), "TYPE"),
])
def test_unusable_plates_are_refused_by_number_and_parameter(plate: ForcePlate, parameter: str) -> None:
    trial = trial_with(np.zeros((F, 6)), plate)
    with pytest.raises(ForcePlateError, match=f"force plate 1: FORCE_PLATFORM:{parameter}") as exc:
        compute_plates(trial)
    assert exc.value.plate == 1 and exc.value.parameter.endswith(parameter)


def test_non_integer_analog_ratio_is_refused() -> None:
    plate = ForcePlate(2, corners_for(np.eye(3), np.zeros(3)), np.zeros(3), tuple(range(6)))
    analog = AnalogData(tuple(f"c{i}" for i in range(6)), ("N",) * 6, 250.0, np.zeros((50, 6)))
    trial = Trial("x", (), np.zeros((20, 0, 3)), RATE, analog=analog, force_plates=(plate,))
    with pytest.raises(ForcePlateError, match="ANALOG:RATE"):
        compute_plates(trial)


def test_garbage_corners_in_a_real_file_are_refused() -> None:
    """ezc3d-testFiles FP_Type1.c3d: plates 2-4 hold denormal garbage in CORNERS."""
    with pytest.raises(ForcePlateError, match="force plate 2: FORCE_PLATFORM:CORNERS"):
        compute_plates(read_c3d(reference_file("ezc3d-testFiles", "FP_Type1.c3d")))


def test_zero_and_saturated_channels_are_quality_issues() -> None:
    rot, centre, origin = plate_down_axes(0.0), np.zeros(3), np.array([0.0, 0.0, 40.0])
    ch = np.tile(wrench_at_sensor(np.array([20.0, -30.0, 500.0]), np.array([40.0, -60.0, 0.0]), 0.0, rot, centre, origin), (F, 1))
    ch[:, 5] = 0.0                               # Mz dead
    ch[:, 0] = np.sin(np.arange(F))
    ch[5:12, 0] = 1.5                            # Fx clipped at its peak for 7 samples
    plate = ForcePlate(2, corners_for(rot, centre), origin, tuple(range(6)))
    codes = {(i.code, i.subject) for i in compute_plates(trial_with(ch, plate))[1]}
    assert codes == {("plate-channel-zero", "ch5"), ("plate-saturated", "ch0")}
