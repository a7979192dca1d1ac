"""The kinetic truth of a sample trial: plate signals, contacts, joint kinetics, summary.

``trial_kinetics(motion, body, mass_kg, seed)`` evaluates the prescribed ground reaction
(:mod:`core.synthetic.grf`) at the analog rate, splits it over the plates
(:mod:`core.synthetic.plates`), writes the analog channels (with seeded noise), classifies
every foot contact (clean: the whole foot, :data:`CLEAN_MARGIN_MM` inside one plate's edges,
alone on it), runs the inverse dynamics (:mod:`core.synthetic.dynamics`) on the true loads at
the point frames and builds the ``kinetics`` section of the truth document.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.synthetic import dynamics
from core.synthetic.grf import SOLE_POINTS, VPP_HEIGHT_MM, TRUNK_LEAN, FootLoads, contacts, foot_loads
from core.synthetic.plates import (ANALOG_PER_FRAME, ANALOG_RATE_HZ, COP_MIN_FZ_N, NOISE_FORCE_N,
                                   NOISE_MOMENT_NMM, PLATES, plate_cop, plate_wrench)
from core.synthetic.subject import Anthropometry
from core.synthetic.tasks import RATE_HZ, Motion

CLEAN_MARGIN_MM = 10.0
SIDES = ("Left", "Right")


@dataclass(frozen=True)
class TrialKinetics:
    """analog: ``(N, C)`` channel values (noise included) in plate order, labels/units ``(C,)``;
    doc: the ``kinetics`` truth section (plain Python)."""

    analog: np.ndarray
    labels: tuple[str, ...]
    units: tuple[str, ...]
    doc: dict


def _frames_of(loads: FootLoads, n: int) -> FootLoads:
    k = ANALOG_PER_FRAME
    return FootLoads(loads.points[::k][:n], loads.forces[::k][:n], loads.free[::k][:n])


def _classify(motion: Motion, loads: dict, n: int) -> list[dict]:
    """Every contact with its frames, plate and cleanliness (see the module docstring)."""
    out = []
    fz = {s: loads[s].forces[::ANALOG_PER_FRAME][:n, :, 2] for s in SIDES}
    pts = {s: loads[s].points[::ANALOG_PER_FRAME][:n] for s in SIDES}
    for c in contacts(motion):
        frames = np.arange(1, n + 1)
        t = (frames - 1) / RATE_HZ
        on = (t >= c.t_start) & (t <= c.t_end) & (fz[c.side].sum(axis=1) > 0)
        if not on.any():
            continue
        rows = np.flatnonzero(on)
        loaded = fz[c.side][rows] > 0
        per_plate = []
        for p in PLATES:
            inside = p.contains(pts[c.side][rows], 0.0) & loaded
            per_plate.append(bool(inside.any()))
        entry = {"side": c.side, "kind": c.kind, "index": c.index, "first_frame": int(rows[0] + 1),
                 "last_frame": int(rows[-1] + 1), "plate": None, "clean": False, "reason": None}
        hit = [p for p, h in zip(PLATES, per_plate) if h]
        if not hit:
            entry["reason"] = "not on a force plate"
        elif len(hit) > 1:
            entry["plate"] = [p.number for p in hit]
            entry["reason"] = "foot on more than one plate"
        else:
            p = hit[0]
            entry["plate"] = p.number
            whole = p.contains(pts[c.side][rows], CLEAN_MARGIN_MM)[loaded].all()
            other = "Left" if c.side == "Right" else "Right"
            shared = (p.contains(pts[other][rows], 0.0) & (fz[other][rows] > 0)).any()
            off = ~p.contains(pts[c.side][rows], 0.0) & loaded
            if off.any():
                lost = np.where(off, fz[c.side][rows], 0.0).sum(axis=1) / fz[c.side][rows].sum(axis=1)
                entry["reason"] = "foot partly off the plate edge: part of its load is not measured"
                entry["off_plate_points"] = sorted({SOLE_POINTS[k][0] for k in np.flatnonzero(off.any(axis=0))})
                entry["max_unmeasured_load_fraction"] = round(float(lost.max()), 4)
            elif shared:
                entry["reason"] = "both feet on the plate"
            elif not whole:
                entry["reason"] = f"foot within {CLEAN_MARGIN_MM:g} mm of the plate edge"
            else:
                entry["clean"] = True
        out.append(entry)
    return out


def _nan_below(values: np.ndarray, fz: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=float)
    out[fz < COP_MIN_FZ_N] = np.nan
    return out


def _plates(loads: dict, n: int, rng: np.random.Generator) -> tuple[list, dict]:
    """Analog channels per plate (noise included) and the noise-free per-frame plate truth."""
    channels, doc = [], {}
    for p in PLATES:
        f = np.zeros((n * ANALOG_PER_FRAME, 3))
        m = np.zeros_like(f)
        for s in SIDES:
            ld = loads[s]
            on = p.contains(ld.points) & (ld.forces[:, :, 2] > 0)
            df, dm = plate_wrench(p, ld.forces, ld.points, ld.free, on)
            f, m = f + df, m + dm
        noise = np.concatenate([rng.normal(0.0, NOISE_FORCE_N, f.shape),
                                rng.normal(0.0, NOISE_MOMENT_NMM, m.shape)], axis=1)
        channels.append(p.channels(f, m, noise))
        ff, mf = f[::ANALOG_PER_FRAME], m[::ANALOG_PER_FRAME]
        cop, tz = plate_cop(p, ff, mf)
        doc[str(p.number)] = {"force": np.round(_nan_below(ff, ff[:, 2]), 4),
                              "cop": np.round(cop, 3), "free_moment": np.round(tz, 2),
                              "moment_at_sensor_origin": np.round(_nan_below(mf, ff[:, 2]), 2)}
    return channels, doc


def _joints(motion: Motion, mass_kg: float, side: str, loads: FootLoads) -> tuple[dict, np.ndarray]:
    kin = dynamics.leg_kinetics(motion, side, mass_kg, loads)
    out = {}
    for joint, k in kin.items():
        out[joint] = {"moment_lab": np.round(k["moment"], 1),
                      "moment_distal": np.round(dynamics.in_frame(k["moment"], k["frame"]), 1),
                      "force_lab": np.round(k["force"], 4),
                      "force_distal": np.round(dynamics.in_frame(k["force"], k["frame"]), 4),
                      "power": np.round(k["power"], 5)}
    abd = dynamics.external_knee_abduction(kin["Knee"]["moment"], kin["Knee"]["frame"], side)
    return out, abd


def _summary(entries: list, abd: dict, mass_kg: float) -> list[dict]:
    out = []
    for e in entries:
        if e["side"] not in abd:
            continue
        a, b = e["first_frame"], e["last_frame"]
        seg = abd[e["side"]][a - 1:b] / mass_kg
        k = int(np.argmax(seg))
        out.append({"side": e["side"], "kind": e["kind"], "contact_index": e["index"],
                    "first_frame": a, "last_frame": b, "plate": e["plate"], "clean": e["clean"],
                    "peak_external_knee_abduction_nmm_per_kg": round(float(seg[k]), 3),
                    "peak_frame": a + k,
                    "peak_external_knee_adduction_nmm_per_kg": round(float(-seg.min()), 3)})
    return out


def _plate_parameters() -> list[dict]:
    return [{"number": p.number, "type": p.plate_type, "corners": p.corners, "origin": list(p.origin),
             "rotation": p.rotation, "sensor_origin": p.sensor_origin, "size_mm": list(p.size),
             "channels": list(p.labels), "units": list(p.units),
             "cal_matrix": None if p.cal_matrix is None else p.cal_matrix} for p in PLATES]


CONVENTIONS = {
    "frames": "C3D frame numbers, first frame 1; per-frame arrays have n_frames rows; analog sample j "
              "(0-based) of frame k is at time (k - 1) / 100 + j / 1000 s",
    "grf": "ground reaction force: force of the ground (plate) on the subject, N, lab frame (z up)",
    "plate_channels": "analog channels hold that wrench in the plate frame about the sensor origin "
                      "(Fz < 0 under load, plate z points down); type 4: [F; M] = CAL_MATRIX @ volts",
    "cop": "centre of pressure on the floor (z = 0), mm, lab; null where Fz < 20 N",
    "free_moment": "moment about the vertical through the CoP, N.mm",
    "joint_moment": "net internal moment of the proximal segment on the distal one about the joint "
                    "centre (ankle AJC, knee KJC, hip HJC), N.mm; moment_lab in lab axes, "
                    "moment_distal on the distal segment's anatomical x, y, z axes (foot = the "
                    "offset-corrected CGM1 foot, tibia, femur: the engine's LFoot/LTibia/LFemur)",
    "joint_force": "force of the proximal segment on the distal one, N (lab / distal axes)",
    "joint_power": "moment_lab . (omega_distal - omega_proximal), W (proximal of the hip: pelvis)",
    "external_knee_abduction": "-s * KneeMoment_distal.x with s = +1 Left, -1 Right (x = tibia "
                               "anterior axis): minus the internal moment about the anterior axis, "
                               "positive when the load pushes the knee into valgus; summary values "
                               "in N.mm/kg (divide by 1000 for N.m/kg)",
    "normalisation": "per-kg values = value / body_mass_kg",
}


def trial_kinetics(motion: Motion, body: Anthropometry, mass_kg: float, seed: int) -> TrialKinetics:
    """Analog channels and the ``kinetics`` truth section of one trial (deterministic)."""
    n = motion.n_frames
    times = np.arange(n * ANALOG_PER_FRAME) / ANALOG_RATE_HZ
    loads = {s: foot_loads(motion, body, mass_kg, s, times) for s in SIDES}
    channels, plate_doc = _plates(loads, n, np.random.default_rng(seed))
    entries = _classify(motion, loads, n)
    at_frames = {s: _frames_of(loads[s], n) for s in SIDES}
    joints, abd = {}, {}
    for s in SIDES:
        if any(e["side"] == s and e["plate"] is not None for e in entries):
            joints[s], abd[s] = _joints(motion, mass_kg, s, at_frames[s])
    feet = {}
    for s in SIDES:
        f = at_frames[s].force
        feet[s] = {"force": np.round(_nan_below(f, f[:, 2]), 4), "cop": np.round(_nan_below(at_frames[s].cop, f[:, 2]), 3),
                   "free_moment": np.round(_nan_below(at_frames[s].free_moment, f[:, 2]), 2)}
    doc = {
        "units": {"force": "N", "moment": "N.mm", "moment_per_kg": "N.mm/kg", "power": "W",
                  "power_per_kg": "W/kg", "position": "mm"},
        "conventions": CONVENTIONS, "body_mass_kg": mass_kg, "gravity_m_s2": 9.81,
        "body_segment_parameters": {
            "source": "Dempster via Winter (2009) table 4.1, as Plug-in Gait uses them",
            "segments": {name: {"mass_fraction": v[0], "com_from_proximal": v[1], "gyration_transverse": v[2],
                                "gyration_axial": dynamics.AXIAL_GYRATION,
                                "from_to": {"foot": "AJC->TOE", "tibia": "KJC->AJC", "femur": "HJC->KJC"}[name],
                                "principal_axes": {"foot": "uncorrected foot frame (z = AJC-TOE)",
                                                   "tibia": "tibia frame", "femur": "femur frame"}[name]}
                         for name, v in dynamics.BSP.items()},
            "derivatives": "4th-order central differences of the exact poses at 100 Hz, 2nd order at "
                           "the ends of each smooth piece", "breakpoints": list(dynamics.breakpoints(motion))},
        "analog": {"rate_hz": ANALOG_RATE_HZ, "samples_per_frame": ANALOG_PER_FRAME, "noise_seed": seed,
                   "noise_sd": {"force_N": NOISE_FORCE_N, "moment_Nmm": NOISE_MOMENT_NMM},
                   "noise_domain": "added to the plate-frame wrench (type 4: before the calibration)",
                   "zero_offset": "none (no baseline to remove)"},
        "plates": _plate_parameters(),
        "grf_model": {"sole_points": [{"name": nm, "toe_to_heel_fraction": a, "lateral_mm": lat}
                                      for nm, a, lat in SOLE_POINTS],
                      "virtual_pivot_height_mm": VPP_HEIGHT_MM, "trunk_lean_per_deg_pelvic_drop": TRUNK_LEAN},
        "contacts": entries,
        "unclean_contacts": [e for e in entries if e["plate"] is not None and not e["clean"]],
        "plate_data": plate_doc,
        "feet": feet,
        "joints": joints,
        "summary": _summary(entries, abd, mass_kg),
    }
    labels = tuple(l for p in PLATES for l in p.labels)
    units = tuple(u for p in PLATES for u in p.units)
    return TrialKinetics(np.concatenate(channels, axis=1), labels, units, doc)
