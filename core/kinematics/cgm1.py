"""CGM1 (Plug-in Gait lower body): static calibration and dynamic reconstruction.

Public API (see docs/cgm1.md and ../shared/docs/cgm1_spec.md):

* :func:`reconstruct` - dynamic trial + subject -> :class:`core.model.ModelOutputs`
  (sections 4-11 and 13 of the spec).
* :func:`calibrate` - static trial + subject -> :class:`StaticCalibration` (section 3).

Both are pure and vectorised over frames: a frame whose inputs are missing gives NaN in
exactly the outputs that depend on them (spec 13); nothing is filled inside the model.

References
----------
Davis RB, Ounpuu S, Tyburski D, Gage JR (1991) Hum Mov Sci 10:575-587.
Kadaba MP, Ramakrishnan HK, Wootten ME (1990) J Orthop Res 8:383-392.
Vicon Motion Systems, Plug-in Gait product guide (output names and sign conventions).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from core.errors import CalibrationError, MissingMarkersError, SubjectParameterError
from core.kinematics.cgm1_chain import (LegChain, heel_foot_frame, hip_joint_centres,
                                        leg_chain, output_angles, pelvis_frame,
                                        progression_frame, rear_pelvis_point)
from core.kinematics.cgm1_params import CGM1Parameters
from core.kinematics.geometry import pose, yxz_angles, relative
from core.model import SIDES, ModelOutputs, ParameterValue, SubjectParameters, Trial

__all__ = ["reconstruct", "calibrate", "StaticCalibration", "CGM1Parameters", "inter_asis_distance",
           "required_markers", "LEG_MARKERS", "CALIBRATION_SOURCE", "impossible_widths",
           "OFFSET_PLAUSIBLE_DEG", "implausible_offsets"]

#: per-leg markers of a dynamic trial (prefix L/R); the static also needs HEE
LEG_MARKERS = ("THI", "KNE", "TIB", "ANK", "TOE")
CALIBRATION_SOURCE = "calibrate"
#: |StaticPlantFlex| or |StaticRotOff| beyond this (deg) is implausible for a standing foot
OFFSET_PLAUSIBLE_DEG = 45.0


def required_markers(static: bool = False) -> tuple[str, ...]:
    """Markers CGM1 needs besides the rear pelvis point (SACR or LPSI+RPSI)."""
    leg = LEG_MARKERS + (("HEE",) if static else ())
    return ("LASI", "RASI") + tuple(f"{p}{m}" for p in "LR" for m in leg)


def _gather(trial: Trial, static: bool) -> dict[str, Optional[np.ndarray]]:
    """Marker trajectories by name; raises one MissingMarkersError naming all absent."""
    missing = [m for m in required_markers(static) if not trial.has(m)]
    has = {m: trial.has(m) for m in ("SACR", "LPSI", "RPSI")}
    if not has["SACR"] and not (has["LPSI"] and has["RPSI"]):
        psis = [m for m in ("LPSI", "RPSI") if not has[m]]
        missing.append(f"SACR (or {' and '.join(psis)})")
    if missing:
        what = "the CGM1 static calibration" if static else "CGM1"
        raise MissingMarkersError(missing, trial.path, context=what)
    out: dict[str, Optional[np.ndarray]] = {m: trial.point(m) for m in required_markers(static)}
    for m, present in has.items():
        out[m] = trial.point(m) if present else None
    return out


@dataclass(frozen=True)
class _Chain:
    prog: np.ndarray
    pelvis_origin: np.ndarray
    pelvis: np.ndarray
    hjc: dict
    legs: dict


def _chain(mk: dict, params: CGM1Parameters) -> _Chain:
    rear = rear_pelvis_point(mk["SACR"], mk["LPSI"], mk["RPSI"])
    prog = progression_frame(mk["LASI"], mk["RASI"], rear)
    origin, r_pel = pelvis_frame(mk["LASI"], mk["RASI"], rear)
    hjc = hip_joint_centres(origin, r_pel, params)
    legs = {}
    for side in SIDES:
        p = side[0]
        legs[side] = leg_chain(params.side(side), params.marker_radius_mm, hjc[side],
                               *(mk[f"{p}{m}"] for m in LEG_MARKERS))
    return _Chain(prog, origin, r_pel, hjc, legs)


def _outputs(trial: Trial, ch: _Chain, feet: Mapping[str, np.ndarray],
             toes: Mapping[str, np.ndarray]) -> ModelOutputs:
    """Angle channels, joint centres and segment poses of a built chain (``feet``: the foot
    used for the outputs, dynamic or heel-based)."""
    channels: dict[str, np.ndarray] = {}
    for side in SIDES:
        leg: LegChain = ch.legs[side]
        channels.update(output_angles(side, ch.prog, ch.pelvis, leg.thigh, leg.tibia,
                                      leg.tibia_untorsioned, feet[side]))
    centres = {"HJC": lambda s: ch.hjc[s], "KJC": lambda s: ch.legs[s].kjc,
               "AJC": lambda s: ch.legs[s].ajc}
    for j, get in centres.items():
        for side in SIDES:
            channels[f"{side[0]}{j}"] = get(side)
    hip_centre = (ch.hjc["Left"] + ch.hjc["Right"]) / 2.0
    segments = {"Pelvis": pose(ch.pelvis, hip_centre)}
    for side in SIDES:
        leg, p = ch.legs[side], side[0]
        segments[f"{p}Femur"] = pose(leg.thigh, leg.kjc)
        segments[f"{p}Tibia"] = pose(leg.tibia, leg.ajc)
        segments[f"{p}TibiaUntorsioned"] = pose(leg.tibia_untorsioned, leg.ajc)
        segments[f"{p}Foot"] = pose(feet[side], toes[side])
        segments[f"{p}FootUncorrected"] = pose(leg.foot_uncorrected, toes[side])
    return ModelOutputs(channels=channels, segments=segments, progression=ch.prog,
                        first_frame=trial.first_frame, rate_hz=trial.point_rate_hz)


def reconstruct(trial: Trial, subject: SubjectParameters) -> ModelOutputs:
    """CGM1 dynamic reconstruction (cgm1_spec 4-11, 13).

    Parameters
    ----------
    trial: the dynamic trial, canonical PiG marker labels, ``(F, P, 3)`` mm, NaN = missing.
    subject: VSK-named parameters (mm, degrees); needs leg lengths, knee and ankle widths and
        InterAsisDistance; StaticPlantFlex/StaticRotOff (degrees) default to 0.

    Returns
    -------
    ModelOutputs with channels ``LPelvisAngles`` ... ``RFootProgressAngles`` (deg, Vicon
    signs) and ``LHJC`` ... ``RAJC`` (mm); segments ``Pelvis`` (origin: hip-axis centre),
    ``LFemur`` (origin KJC), ``LTibia``/``LTibiaUntorsioned`` (origin AJC), ``LFoot``
    (offset-corrected foot, origin TOE), ``LFootUncorrected`` and the right side.

    Raises
    ------
    MissingMarkersError naming every absent marker; SubjectParameterError naming every
    missing parameter.
    """
    params = CGM1Parameters.from_subject(subject, require_iad=True)
    mk = _gather(trial, static=False)
    ch = _chain(mk, params)
    feet = {s: ch.legs[s].foot for s in SIDES}
    toes = {s: mk[f"{s[0]}TOE"] for s in SIDES}
    return _outputs(trial, ch, feet, toes)


def _width_problem(side: str, joint: str, width_mm: float, radius_mm: float, prox: np.ndarray,
                   lateral: np.ndarray, wand: np.ndarray, names: tuple[str, str], partial: bool) -> Optional[str]:
    """Message when the chord offset exceeds |proximal centre - lateral marker| in every frame
    (with ``partial``: in any frame) where the three inputs are valid (the chord function has
    no solution there, cgm1_spec 7.1)."""
    ok = np.isfinite(prox).all(axis=1) & np.isfinite(lateral).all(axis=1) & np.isfinite(wand).all(axis=1)
    if not ok.any():
        return None
    dist = np.linalg.norm(prox[ok] - lateral[ok], axis=1)
    delta = width_mm / 2.0 + radius_mm
    fails = delta >= dist
    if not (fails.all() or (partial and fails.any())):
        return None
    where = (f"in every frame ({int(ok.sum())} frames with the markers)" if fails.all()
             else f"in {int(fails.sum())} of {int(ok.sum())} frames with the markers")
    return (f"{side}{joint}Width = {width_mm:g} mm is impossible for this subject: the {joint.lower()}-centre "
            f"offset ({width_mm:g} + {2 * radius_mm:g})/2 = {delta:.0f} mm > {names[0]}-{names[1]} distance "
            f"~{float(np.median(dist[fails])):.0f} mm {where}: the {side.lower()} {joint.lower()} centre has "
            "no solution there (a typing error?)")


def impossible_widths(params: CGM1Parameters, hjc: Mapping[str, np.ndarray], kjc: Mapping[str, np.ndarray],
                      markers: Mapping[str, Optional[np.ndarray]], partial: bool = False) -> list[tuple[str, str]]:
    """Knee/ankle widths for which the chord function (Kadaba 1990, cgm1_spec 7.1) has no
    solution in any frame (``partial``: in some frame): ``[(parameter name, message), ...]``.

    Parameters
    ----------
    params: the CGM1 parameters used. hjc, kjc: side -> ``(F, 3)`` mm hip and knee centres.
    markers: ``LKNE``, ``LTHI``, ``LANK``, ``LTIB`` (and right) ``(F, 3)`` mm.

    The knee is checked where HJC, KNE and THI are valid; the ankle where KJC, ANK and TIB
    are (so an impossible knee hides the ankle check of that side).
    """
    out = []
    r = params.marker_radius_mm
    for side in SIDES:
        p, sp = side[0], params.side(side)
        checks = (("Knee", sp.knee_width_mm, hjc[side], f"{p}KNE", f"{p}THI", "HJC"),
                  ("Ankle", sp.ankle_width_mm, kjc[side], f"{p}ANK", f"{p}TIB", "KJC"))
        for joint, width, prox, lat, wand, pname in checks:
            msg = _width_problem(side, joint, width, r, np.asarray(prox, float), markers[lat], markers[wand],
                                 (pname, lat), partial)
            if msg:
                out.append((f"{side}{joint}Width", msg))
    return out


def implausible_offsets(subject: SubjectParameters, limit_deg: float = OFFSET_PLAUSIBLE_DEG) -> list[tuple[str, str]]:
    """Foot offsets (StaticPlantFlex, StaticRotOff) beyond ``limit_deg`` in magnitude:
    ``[(parameter name, message), ...]`` (an AnkleWidth or a ``--set`` typo, or a bad static)."""
    out = []
    for side in SIDES:
        for n in ("StaticPlantFlex", "StaticRotOff"):
            v = subject.get(f"{side}{n}")
            if v is not None and np.isfinite(v) and abs(v) > limit_deg:
                out.append((f"{side}{n}", f"{side}{n} {v:.3g} deg is implausible (|value| > {limit_deg:g} deg; "
                            f"check {side}AnkleWidth, the static trial or the value given)"))
    return out


@dataclass(frozen=True)
class StaticCalibration:
    """Result of the CGM1 static calibration.

    Attributes
    ----------
    subject: the input subject with InterAsisDistance (if it was absent/0),
        Left/RightAsisTrocanterDistance (if absent/0) and Left/RightStaticPlantFlex,
        Left/RightStaticRotOff (degrees) set, source ``"calibrate"``.
    outputs: model outputs of the static trial, with the heel-based foot (spec 3.4).
    iad_mm: inter-ASIS distance used (mm); iad_computed: True if taken from the markers.
    static_plant_flex_deg, static_rot_off_deg: per side ("Left"/"Right"), degrees.
    frames_used: per side, number of static frames averaged for the foot offsets.
    trial_name: name of the static trial.
    """

    subject: SubjectParameters
    outputs: ModelOutputs
    iad_mm: float
    iad_computed: bool
    static_plant_flex_deg: Mapping[str, float] = field(default_factory=dict)
    static_rot_off_deg: Mapping[str, float] = field(default_factory=dict)
    frames_used: Mapping[str, int] = field(default_factory=dict)
    trial_name: str = ""

    def __post_init__(self) -> None:
        for name in ("static_plant_flex_deg", "static_rot_off_deg", "frames_used"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))


def inter_asis_distance(lasi: np.ndarray, rasi: np.ndarray) -> tuple[float, int]:
    """IAD (mm) = distance between the mean LASI and mean RASI over frames where both are valid.

    cgm1_spec 3.1. Returns the distance and the number of frames used (0 -> NaN distance).
    """
    ok = np.isfinite(lasi).all(axis=1) & np.isfinite(rasi).all(axis=1)
    if not ok.any():
        return float("nan"), 0
    return float(np.linalg.norm(lasi[ok].mean(axis=0) - rasi[ok].mean(axis=0))), int(ok.sum())


def _foot_offsets(side: str, leg: LegChain, heel_foot: np.ndarray) -> tuple[float, float, int]:
    """StaticPlantFlex and StaticRotOff (deg) of one side, averaging per-frame angles (3.3)."""
    abc = yxz_angles(relative(leg.foot_uncorrected, heel_foot))
    ok = np.isfinite(abc).all(axis=1)
    if not ok.any():
        p = side[0]
        raise CalibrationError(
            f"no static frame with all markers needed for the {side.lower()} foot offsets "
            f"(LASI, RASI, SACR or LPSI/RPSI, {p}THI, {p}KNE, {p}TIB, {p}ANK, {p}TOE, {p}HEE)")
    m = abc[ok].mean(axis=0)
    rot_off = -m[1] if side == "Left" else m[1]
    return float(-m[0]), float(rot_off), int(ok.sum())


def calibrate(static: Trial, subject: SubjectParameters) -> StaticCalibration:
    """CGM1 static calibration (cgm1_spec 3).

    Computes the inter-ASIS distance when the subject lacks it (3.1), the ASIS-trochanter
    regression when absent (3.2), the foot offsets StaticPlantFlex / StaticRotOff with the
    flat-foot option (3.3), and the static trial's outputs with the heel-based foot (3.4).

    Parameters
    ----------
    static: the standing trial (markers as :func:`reconstruct` plus LHEE and RHEE).
    subject: VSK-named parameters (mm, degrees, LeftFootFlat/RightFootFlat 0/1).

    Raises
    ------
    MissingMarkersError; SubjectParameterError (missing values, or a knee/ankle width for which
    the chord function has no solution in any frame, see :func:`impossible_widths`);
    CalibrationError (no usable frame).
    """
    params = CGM1Parameters.from_subject(subject, require_iad=False)
    mk = _gather(static, static=True)
    computed = params.inter_asis_mm is None
    if computed:
        iad, n = inter_asis_distance(mk["LASI"], mk["RASI"])
        if n == 0:
            raise CalibrationError("no static frame where both LASI and RASI are valid "
                                   "(needed for the inter-ASIS distance)", static.path)
        params = replace(params, inter_asis_mm=iad)
    ch = _chain(mk, params)
    bad = impossible_widths(params, ch.hjc, {s: ch.legs[s].kjc for s in SIDES}, mk)
    if bad:
        detail = (bad[0][1].split(" ", 1)[1] if len(bad) == 1
                  else "impossible: " + "; ".join(m for _, m in bad))
        raise SubjectParameterError([n for n, _ in bad], detail=detail, path=static.path)
    heel_feet, pf, ro, used = {}, {}, {}, {}
    for side in SIDES:
        p = side[0]
        heel_feet[side] = heel_foot_frame(params.side(side), mk[f"{p}TOE"], mk[f"{p}HEE"],
                                          ch.legs[side].tibia_untorsioned)
        try:
            pf[side], ro[side], used[side] = _foot_offsets(side, ch.legs[side], heel_feet[side])
        except CalibrationError as e:
            raise CalibrationError(e.reason, static.path) from None
    toes = {s: mk[f"{s[0]}TOE"] for s in SIDES}
    outputs = _outputs(static, ch, heel_feet, toes)
    new = [ParameterValue(f"{s}StaticPlantFlex", pf[s], "deg", CALIBRATION_SOURCE) for s in SIDES]
    new += [ParameterValue(f"{s}StaticRotOff", ro[s], "deg", CALIBRATION_SOURCE) for s in SIDES]
    if computed:
        new.append(ParameterValue("InterAsisDistance", params.inter_asis_mm, "mm", CALIBRATION_SOURCE))
    for s in SIDES:
        sp = params.side(s)
        if not sp.asis_trochanter_given:
            new.append(ParameterValue(f"{s}AsisTrocanterDistance", sp.asis_trochanter_mm, "mm",
                                      CALIBRATION_SOURCE))
    return StaticCalibration(subject=subject.with_values(*new), outputs=outputs,
                             iad_mm=float(params.inter_asis_mm), iad_computed=computed,
                             static_plant_flex_deg=pf, static_rot_off_deg=ro, frames_used=used,
                             trial_name=static.name)
