"""Validation of the kinetics against Vicon Plug-in Gait outputs stored in the reference files.

Each case reuses the CGM1 validation set-up (tests.core.test_validation_vicon.run_case:
static, dynamic, supplied inputs), whose kinematics equal Vicon's to float32. Kinetics are
compared on every clean foot-plate contact, frames valid in both.

Targets (task): moments RMS <= 20 N.mm/kg and max <= 80; powers RMS <= 0.05 W/kg and
max <= 0.2. Where a case misses them the test asserts the measured ceiling (so that a
regression fails) and is marked xfail with the investigated reason (docs/kinetics.md).
The Nexus cases are held to a much tighter bound (VICON_EQUAL): with Plug-in Gait's own
angular-velocity scheme and foot centre of mass they reproduce Vicon's moments to a few
N.mm/kg.

Run ``python -m tests.core.test_kinetics_vicon`` to print the validation table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import numpy as np
import pytest

from core.io.c3d import read_c3d
from core.kinetics.force_plates import compute_plates
from core.kinetics.inverse_dynamics import KineticsResult, KineticsSettings, compute_kinetics
from tests.conftest import reference_file
from tests.core.cgm1_support import vicon_point
from tests.core.test_validation_vicon import run_case

MOMENT_RMS, MOMENT_MAX = 20.0, 80.0          # N.mm/kg
POWER_RMS, POWER_MAX = 0.05, 0.2             # W/kg
#: Nexus cases (all but Functional), worst contact, measured: moments 0.2-4.4 N.mm/kg RMS,
#: max 22.3 (FlatFoot-Full right hip); powers <= 0.010 W/kg RMS, max 0.051
VICON_EQUAL = {"moment": (5.0, 25.0), "power": (0.015, 0.06)}
NEXUS_CASES = ("Test_Files", "FlatFoot-Full", "FlatFoot-Hole", "FlatFoot-One", "PiG3_FF", "PiG3_noFF",
               "PiG3_FF_N18")
GRF_TOL = 2e-5                               # N/kg (float32 of ~10 N/kg)
JOINTS = ("Ankle", "Knee", "Hip")

_FUNCTIONAL = ("Workstation 5.2.9 PiG: GRF float32-equal and angles float32-equal, but Vicon's joint "
               "forces differ from ours in swing (hip 1.6 N/kg RMS, vs 0.03 on every other case): the "
               "segment CoM accelerations Vicon used are not those of the joint centres behind its "
               "stored angles and segment origins; no stencil, filter, rate or functional hip centre "
               "of the file reproduces them (docs/kinetics.md section 7)")


@dataclass(frozen=True)
class KCase:
    """A kinetics validation case: the CGM1 case and the plate assignment the lab used."""

    name: str
    assignment: Mapping[int, str] = field(default_factory=dict)
    why: str = ""
    #: (joint, "moment" | "power") -> (rms ceiling, max ceiling, reason) for a known miss
    known: Mapping[tuple[str, str], tuple[float, float, str]] = field(default_factory=dict)


KCASES = {c.name: c for c in (
    KCase("Test_Files", {1: "L", 2: "invalid", 3: "invalid", 4: "R"},
          "stairs: Vicon's GRF outputs show plates 1 (left) and 4 (right) only were used; the toes "
          "overhang the plates (27-72 mm), so the lab assigned them by hand"),
    KCase("FlatFoot-Full", {1: "R"}, "right heel marker 50 mm behind plate 1, which Vicon used "
          "(assigned by hand); plate 2 automatic"),
    KCase("FlatFoot-Hole", why="plate 2 carries both feet (excluded, as Vicon's odd use of it shows)"),
    KCase("FlatFoot-One"),
    KCase("PiG3_FF"),
    KCase("PiG3_noFF"),
    KCase("PiG3_FF_N18"),
    KCase("Functional", known={("Knee", "moment"): (80.0, 350.0, _FUNCTIONAL),
                               ("Hip", "moment"): (200.0, 850.0, _FUNCTIONAL),
                               ("Knee", "power"): (0.2, 0.75, _FUNCTIONAL),
                               ("Hip", "power"): (0.25, 1.5, _FUNCTIONAL)}),
)}

@lru_cache(maxsize=None)
def kinetics_of(name: str) -> KineticsResult:
    r = run_case(name)
    return compute_kinetics(r.dynamic, r.outputs, r.subject, KineticsSettings(plate_assignment=KCASES[name].assignment))


def contact_figures(name: str) -> list[dict]:
    """Per clean contact: side, plate, frames, and per joint moment/power RMS and max
    (moments: worst component; powers: Z), GRF max |diff|."""
    res, trial = kinetics_of(name), run_case(name).dynamic
    out = []
    for c in res.clean_contacts:
        rows = slice(c.first_row, c.last_row + 1)
        fig = {"side": c.side, "plate": c.plate, "frames": (c.first_frame, c.last_frame)}
        g_o, g_v = res.channels[f"{c.side}GroundReactionForce"][rows], vicon_point(trial, f"{c.side}GroundReactionForce")[rows]
        both = np.isfinite(g_o).all(axis=1) & np.isfinite(g_v).all(axis=1)
        fig["grf_n"], fig["grf_max"] = int(both.sum()), float(np.abs(g_o[both] - g_v[both]).max()) if both.any() else np.nan
        for j in JOINTS:
            mo, mv = res.channels[f"{c.side}{j}Moment"][rows], vicon_point(trial, f"{c.side}{j}Moment")[rows]
            po, pv = res.channels[f"{c.side}{j}Power"][rows], vicon_point(trial, f"{c.side}{j}Power")[rows]
            ok = np.isfinite(mo).all(axis=1) & np.isfinite(mv).all(axis=1)
            dm, dp = mo[ok] - mv[ok], po[ok, 2] - pv[ok, 2]
            fig[j] = dict(n=int(ok.sum()), m_rms=float(np.sqrt(np.mean(dm ** 2, axis=0)).max()),
                          m_max=float(np.abs(dm).max()), p_rms=float(np.sqrt(np.mean(dp ** 2))),
                          p_max=float(np.abs(dp).max()), pxy=float(np.abs(pv[ok, :2]).max()))
        out.append(fig)
    return out


def _worst(name: str, joint: str, kind: str) -> tuple[float, float]:
    figs = contact_figures(name)
    key = "m" if kind == "moment" else "p"
    return max(f[joint][f"{key}_rms"] for f in figs), max(f[joint][f"{key}_max"] for f in figs)


@pytest.mark.reference
@pytest.mark.parametrize("case", list(KCASES))
def test_ground_reaction_force_equals_vicon(case: str) -> None:
    figs = contact_figures(case)
    assert figs, f"{case}: no clean contact"
    for f in figs:
        # Vicon's GRF covers the contact but for a few frames (FlatFoot-Full right: 5 of 59
        # frames, 114-118 of the file, blank in Vicon's output for a reason not found)
        assert f["grf_n"] >= 0.85 * (f["frames"][1] - f["frames"][0] + 1), f"{case}: Vicon has no GRF for {f}"
        assert f["grf_max"] <= GRF_TOL, f"{case} plate {f['plate']}: GRF off by {f['grf_max']:.2e} N/kg"


@pytest.mark.reference
@pytest.mark.parametrize("kind", ["moment", "power"])
@pytest.mark.parametrize("joint", JOINTS)
@pytest.mark.parametrize("case", list(KCASES))
def test_kinetics_within_target(case: str, joint: str, kind: str) -> None:
    rms, mx = _worst(case, joint, kind)
    t_rms, t_max = (MOMENT_RMS, MOMENT_MAX) if kind == "moment" else (POWER_RMS, POWER_MAX)
    known = KCASES[case].known.get((joint, kind))
    if known and not (rms <= t_rms and mx <= t_max):
        c_rms, c_max, reason = known
        assert rms <= c_rms and mx <= c_max, f"{case} {joint} {kind}: rms {rms:.3g} max {mx:.3g} above the " \
                                             f"documented ceiling {c_rms}/{c_max}"
        pytest.xfail(f"rms {rms:.3g} max {mx:.3g}: {reason}")
    assert rms <= t_rms and mx <= t_max, f"{case} {joint} {kind}: rms {rms:.3g} max {mx:.3g}"


@pytest.mark.reference
@pytest.mark.parametrize("kind", ["moment", "power"])
@pytest.mark.parametrize("joint", JOINTS)
@pytest.mark.parametrize("case", NEXUS_CASES)
def test_nexus_kinetics_equal_vicon(case: str, joint: str, kind: str) -> None:
    """Nexus 1.x/2.x Plug-in Gait: moments and powers equal Vicon's to a few N.mm/kg and
    thousandths of a W/kg on every clean contact (docs/kinetics.md section 7)."""
    rms, mx = _worst(case, joint, kind)
    t_rms, t_max = VICON_EQUAL[kind]
    assert rms <= t_rms and mx <= t_max, f"{case} {joint} {kind}: rms {rms:.3g} max {mx:.3g} (bound {t_rms}/{t_max})"


#: worst component RMS (N/kg) of the joint forces against Vicon's, all joints and sides, frames
#: valid in both (5 frames off each end): 0.020-0.037 measured on the Nexus cases
JOINT_FORCE_RMS = 0.05


def joint_force_rms(name: str) -> float:
    """Worst component RMS (N/kg) of ``{L,R}{Ankle,Knee,Hip}Force`` minus Vicon's, stance and swing."""
    res, trial = kinetics_of(name), run_case(name).dynamic
    worst = 0.0
    for side in "LR":
        for j in JOINTS:
            d = res.channels[f"{side}{j}Force"] - vicon_point(trial, f"{side}{j}Force")
            ok = np.isfinite(d).all(axis=1)
            ok[:5] = ok[-5:] = False
            assert ok.sum() > 0.3 * trial.n_frames, f"{name} {side}{j}Force: too few frames to compare"
            worst = max(worst, float(np.sqrt(np.mean(d[ok] ** 2, axis=0)).max()))
    return worst


@pytest.mark.reference
@pytest.mark.parametrize("case", list(KCASES))
def test_joint_forces_equal_vicon(case: str) -> None:
    """The joint reaction forces depend on the masses, CoM positions and CoM accelerations and
    the GRF only, not on the inertia or the angular kinematics: they localise a moment residual.
    Nexus cases: <= 0.05 N/kg RMS; Functional (Workstation): 1.6, xfail with the reason."""
    rms = joint_force_rms(case)
    if case == "Functional" and rms > JOINT_FORCE_RMS:
        assert rms <= 2.0, f"Functional joint forces {rms:.3g} N/kg RMS above the documented 2.0"
        pytest.xfail(f"joint forces {rms:.3g} N/kg RMS: {_FUNCTIONAL}")
    assert rms <= JOINT_FORCE_RMS, f"{case}: joint forces {rms:.3g} N/kg RMS from Vicon's"


@pytest.mark.reference
@pytest.mark.parametrize("case", ["FlatFoot-Full", "PiG3_FF", "Test_Files"])
def test_power_is_stored_in_z_only(case: str) -> None:
    for f in contact_figures(case):
        assert all(f[j]["pxy"] == 0.0 for j in JOINTS)
    res = kinetics_of(case)
    for side in "LR":
        for j in JOINTS:
            p = res.channels[f"{side}{j}Power"]
            ok = np.isfinite(p).all(axis=1)
            assert ok.any() and np.all(p[ok, :2] == 0.0)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["FlatFoot-Full", "FlatFoot-One", "PiG3_FF", "Test_Files", "Functional"])
def test_kinetics_are_blanked_where_vicon_blanks_them(case: str) -> None:
    """Swing is computed (inertia only), a stance off the plates is NaN, as in Vicon's
    outputs; away from the capture ends (Vicon blanks 4 frames, the stencils 2-3) at most
    a few boundary frames differ."""
    res, trial = kinetics_of(case), run_case(case).dynamic
    inner = np.zeros(trial.n_frames, dtype=bool)
    inner[4:-4] = True
    for side in "LR":
        ours = np.isfinite(res.channels[f"{side}KneeMoment"]).all(axis=1)
        theirs = np.isfinite(vicon_point(trial, f"{side}KneeMoment")).all(axis=1)
        differ = int(((ours != theirs) & inner).sum())
        assert differ <= 8, f"{case} {side}: {differ} frames valid in one only"
        assert (ours & theirs).sum() > 0.5 * trial.n_frames


@pytest.mark.reference
def test_other_software_ground_reaction_force() -> None:
    """c3d.org sample_23 (no PROCESSING, so no kinematics to compare): the plates' force over
    the stored GRF is one constant, the body mass (65.53 kg), on the three plates; 1800 Hz
    analog, 15 samples per frame."""
    t = read_c3d(reference_file("c3d.org", "sample_23", "Vicon_analysis.c3d"))
    plates = compute_plates(t)[0]
    for side, plate in (("L", 2), ("R", 1), ("R", 3)):
        g = vicon_point(t, f"{side}GroundReactionForce")
        p = plates[plate - 1]
        ok = np.isfinite(g).all(axis=1) & p.loaded & (np.abs(g).sum(axis=1) > 0)
        mass = np.median(p.force_n[ok, 2] / g[ok, 2])
        assert mass == pytest.approx(65.53, abs=0.02)
        assert np.abs(p.force_n[ok] / mass - g[ok]).max() < 0.01


@pytest.mark.reference
def test_force_plate_events_match_the_file_events() -> None:
    """PiG3_FF: the strikes of the clean contacts are the file's Foot Strike events within a
    frame (Nexus placed those from the plates)."""
    res, trial = kinetics_of("PiG3_FF"), run_case("PiG3_FF").dynamic
    strikes = [e for e in res.events if e.label == "Foot Strike"]
    assert len(strikes) == 3 and all(e.source == "force plate" for e in res.events)
    for e in strikes:
        file = [f.frame for f in trial.events if f.label == "Foot Strike" and f.context == e.context]
        assert min(abs(f - e.frame) for f in file) <= 1, (e, file)


# ---------------------------------------------------------------------------------------
def validation_table() -> str:
    """Markdown: per case and clean contact, moment RMS/max per joint and power RMS/max."""
    rows = ["| case | contact | frames | ankle M rms/max | knee M rms/max | hip M rms/max | ankle P rms/max "
            "| knee P rms/max | hip P rms/max | GRF max diff (N/kg) |", "|---" * 10 + "|"]
    for name in KCASES:
        for f in contact_figures(name):
            m = " | ".join(f"{f[j]['m_rms']:.1f} / {f[j]['m_max']:.1f}" for j in JOINTS)
            p = " | ".join(f"{f[j]['p_rms']:.3f} / {f[j]['p_max']:.3f}" for j in JOINTS)
            rows.append(f"| {name} | {f['side']} plate {f['plate']} | {f['frames'][0]}-{f['frames'][1]} | {m} | {p} "
                        f"| {f['grf_max']:.1e} |")
        for c in kinetics_of(name).contacts:
            if not c.clean:
                rows.append(f"| {name} | excluded | {c.first_frame}-{c.last_frame} | {c.describe()} |||||||")
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(validation_table())
