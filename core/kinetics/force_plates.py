"""Force platforms: analog channels -> ground reaction force, centre of pressure, free moment.

The FORCE_PLATFORM group of a C3D file (C3D User Guide, Motion Lab Systems 2008, chapter
"The FORCE_PLATFORM group") describes each plate by its TYPE, the analog CHANNELs it
uses, its four CORNERS in the lab frame, its ORIGIN (plate centre -> sensor origin, plate
axes) and, for type 4, CAL_MATRIX. The analog values arrive already scaled by the reader
(``(raw - ANALOG:OFFSET) * ANALOG:SCALE * ANALOG:GEN_SCALE``, what ezc3d and
:mod:`core.io.c3d_fast` apply), in the units of ANALOG:UNITS.

Plate axes: x from corner 2 to corner 1, y from corner 4 to corner 1 (made orthogonal to
x), z = x cross y (pointing into the plate for the usual corner order); the same rule as
ezc3d's and BTK's, which matters when the four corners are not exactly a rectangle. Wrench about the sensor origin
``(F, M)`` in plate axes, surface at ``z0 = -ORIGIN_z`` on the sensor z axis:

* type 1: channels Fx Fy Fz Px Py Tz (centre of pressure given, relative to the centre);
* type 2: Fx Fy Fz Mx My Mz;
* type 3 (Kistler, 8 channels fx12 fx34 fy14 fy23 fz1 fz2 fz3 fz4, ORIGIN = a, b, az0):
  ``F = (fx12+fx34, fy14+fy23, sum fz)``, ``Mx = b (fz1+fz2-fz3-fz4)``,
  ``My = a (-fz1+fz2+fz3-fz4)``, ``Mz = b (-fx12+fx34) + a (fy14-fy23)``, ``z0 = az0``;
* type 4: ``(F, M) = CAL_MATRIX @ channels``, then as type 2.

Centre of pressure on the surface (``r = (x, y, z0)``, ``M = r x F + (0, 0, Tz)``):
``x = (z0 Fx - My) / Fz``, ``y = (Mx + z0 Fy) / Fz``, free moment
``Tz = Mz - x Fy + y Fx``. The CoP is NaN where the vertical force is below the
threshold (default 20 N).

Sign: Vicon Nexus and Workstation store the plate channels with the sign of the force
the plate exerts on the subject (``R @ F`` points up while the subject stands on it):
their ``GroundReactionForce`` outputs equal ``R @ F / body mass``, checked on every
reference file. Channels written with the opposite convention (force on the plate, the
C3D default for AMTI amplifiers) are recognised by their downward mean load and negated.

Resampling to the point rate: Vicon's stored ground reaction force is, to float32
round-off, the mean of the ``2 * (r // 2) + 1`` analog samples centred on the first
sample of each point frame (``r`` analog samples per frame): 11 samples at 1000/100 Hz,
9 samples at 1080/120 Hz (docs/kinetics.md). The same mean is applied to every channel
before the (linear) plate equations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from core.errors import ForcePlateError
from core.model import AnalogData, ForcePlate, QualityIssue, Trial, readonly_array

#: lab vertical axis (Plug-in Gait: Z up)
VERTICAL = 2
#: default vertical-force threshold (N) below which a plate is unloaded (CoP undefined)
DEFAULT_THRESHOLD_N = 20.0
_N_CHANNELS = {1: 6, 2: 6, 3: 8, 4: 6}
_MOMENT_UNITS = {"nmm": 1.0, "n.mm": 1.0, "nm": 1000.0, "n.m": 1000.0}
_LENGTH_UNITS = {"mm": 1.0, "m": 1000.0, "cm": 10.0}


@dataclass(frozen=True)
class PlateData:
    """One force plate's outputs at the point rate.

    Attributes
    ----------
    number: 1-based plate number in FORCE_PLATFORM.
    plate_type: FORCE_PLATFORM:TYPE.
    corners_mm: ``(4, 3)`` corners in the lab frame.
    force_n: ``(F, 3)`` force the ground exerts on the subject, lab frame, N.
    cop_mm: ``(F, 3)`` centre of pressure on the plate surface, lab frame, mm; NaN where
        the vertical force is below the threshold.
    free_moment_nmm: ``(F, 3)`` free moment about the plate normal exerted on the
        subject, lab frame, N.mm; NaN where the CoP is.
    loaded: ``(F,)`` vertical force at or above the threshold.
    reversed_sign: the channels carried the force on the plate and were negated.
    """

    number: int
    plate_type: int
    corners_mm: np.ndarray
    force_n: np.ndarray
    cop_mm: np.ndarray
    free_moment_nmm: np.ndarray
    loaded: np.ndarray
    reversed_sign: bool = False

    def __post_init__(self) -> None:
        for name in ("corners_mm", "force_n", "cop_mm", "free_moment_nmm"):
            object.__setattr__(self, name, readonly_array(getattr(self, name)))
        object.__setattr__(self, "loaded", readonly_array(self.loaded, dtype=bool))


def plate_axes(corners_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation (plate axes as columns, lab frame) and centre of a plate.

    Parameters
    ----------
    corners_mm: ``(4, 3)`` corners 1..4 in the lab frame (C3D order).

    Returns
    -------
    rotation ``(3, 3)``, centre ``(3,)`` mm.
    """
    c = np.asarray(corners_mm, dtype=float)
    x = c[0] - c[1]
    y = c[0] - c[3]
    z = np.cross(x, y)
    y = np.cross(z, x)
    rot = np.stack([v / np.linalg.norm(v) for v in (x, y, z)], axis=1)
    return rot, c.mean(axis=0)


def resample_to_frames(values: np.ndarray, ratio: int, n_frames: int) -> np.ndarray:
    """Analog samples -> point frames as Vicon does (centred mean, see module doc).

    Parameters
    ----------
    values: ``(S, C)`` analog samples; sample ``k * ratio`` is the first of frame ``k``.
    ratio: analog samples per point frame (integer >= 1).
    n_frames: number of point frames F.

    Returns
    -------
    ``(F, C)``: mean of samples ``k*ratio - ratio//2 .. k*ratio + ratio//2`` (those that
    exist at the ends of the capture).
    """
    v = np.asarray(values, dtype=float)
    half, n_s = ratio // 2, v.shape[0]
    # window of frame k: samples k*ratio - half .. k*ratio + half (ratio or ratio + 1 of them);
    # its first ratio samples tile the capture, summed in one pass by reduceat
    lo = np.clip(np.arange(n_frames) * ratio - half, 0, n_s)
    hi = np.clip(np.arange(n_frames) * ratio - half + ratio, 0, n_s)
    counts = (hi - lo).astype(float)
    filled = np.flatnonzero(hi > lo)
    sums = np.zeros((n_frames, v.shape[1]))
    if filled.size:
        sums[filled] = np.add.reduceat(v[:hi[filled[-1]]], lo[filled], axis=0)
    if 2 * half + 1 > ratio:                      # even ratio: the last sample k*ratio + half
        n_extra = min(n_frames, max(0, (n_s - 1 - half) // ratio + 1))
        sums[:n_extra] += v[half::ratio][:n_extra]
        counts[:n_extra] += 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / counts[:, None]
    out[counts == 0] = np.nan
    return out


def samples_per_frame(analog: AnalogData, point_rate_hz: float, plate: int) -> int:
    """Integer ANALOG:RATE / POINT:RATE; a ForcePlateError if it is not an integer >= 1."""
    ratio = analog.rate_hz / point_rate_hz
    if not np.isfinite(ratio) or ratio < 1 or abs(ratio - round(ratio)) > 1e-6:
        raise ForcePlateError(plate, "ANALOG:RATE", f"{analog.rate_hz:g} Hz is not a whole multiple "
                              f"of the point rate {point_rate_hz:g} Hz")
    return int(round(ratio))


def check_plate(plate: ForcePlate, number: int, analog: Optional[AnalogData]) -> None:
    """Raise ForcePlateError naming the parameter when ``plate`` cannot be computed."""
    if plate.plate_type not in _N_CHANNELS:
        raise ForcePlateError(number, "FORCE_PLATFORM:TYPE", f"type {plate.plate_type} is not supported "
                              "(types 1, 2, 3 and 4 are)")
    need = _N_CHANNELS[plate.plate_type]
    if analog is None:
        raise ForcePlateError(number, "ANALOG", "the file has no analog channels")
    chans = plate.channels
    if len(chans) < need or any(c < 0 or c >= len(analog.labels) for c in chans[:need]):
        raise ForcePlateError(number, "FORCE_PLATFORM:CHANNEL", f"type {plate.plate_type} needs {need} "
                              f"analog channels among the {len(analog.labels)} of the file, got "
                              f"{[c + 1 for c in chans]}")
    if plate.corners_mm.shape != (4, 3) or not np.isfinite(plate.corners_mm).all():
        raise ForcePlateError(number, "FORCE_PLATFORM:CORNERS", "missing")
    c = plate.corners_mm
    if np.linalg.norm(np.cross(c[0] - c[1], c[0] - c[3])) < 1.0:
        raise ForcePlateError(number, "FORCE_PLATFORM:CORNERS", "the corners do not span a plate")
    if plate.plate_type != 1 and (plate.origin_mm.shape != (3,) or not np.isfinite(plate.origin_mm).all()):
        raise ForcePlateError(number, "FORCE_PLATFORM:ORIGIN", "missing")
    if plate.plate_type == 4:
        m = plate.cal_matrix
        if m is None or m.ndim != 2 or m.shape[0] < 6 or m.shape[1] < need or not np.isfinite(m).all():
            raise ForcePlateError(number, "FORCE_PLATFORM:CAL_MATRIX", "type 4 needs a 6 x 6 calibration "
                                  "matrix" + ("" if m is None else f", got {m.shape}"))


def _unit_factor(units: tuple[str, ...], table: dict, default: float = 1.0) -> np.ndarray:
    return np.array([table.get(u.strip().lower(), default) for u in units])


def sensor_origin(plate: ForcePlate) -> np.ndarray:
    """FORCE_PLATFORM:ORIGIN as the vector from the surface centre to the sensor origin.

    The sensor is below the surface. Nexus writes ORIGIN that way (z > 0 for a plate whose
    z axis points down); Workstation files hold the opposite vector (z < 0), which is
    negated here. Types 1 and 3 are returned as stored (their ORIGIN has other meanings).
    """
    o = np.asarray(plate.origin_mm, dtype=float)
    if plate.plate_type in (1, 3):
        return o
    rot, _ = plate_axes(plate.corners_mm)
    down = 1.0 if rot[2, VERTICAL] < 0 else -1.0
    return -o if o[2] * down < 0 else o


def plate_wrench(plate: ForcePlate, ch: np.ndarray, units: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Force, centre of pressure and free moment in plate axes from resampled channels.

    Parameters
    ----------
    plate: the plate (checked by :func:`check_plate`).
    ch: ``(F, K)`` channel values of the plate, in ``units``.
    units: ANALOG:UNITS of the K channels (moments in N.mm or N.m, type 1 CoP in mm or m).

    Returns
    -------
    force ``(F, 3)`` N, cop ``(F, 3)`` mm relative to the plate centre (on the surface,
    z = 0), tz ``(F,)`` free moment N.mm about the plate normal.
    """
    t, o = plate.plate_type, sensor_origin(plate)
    with np.errstate(divide="ignore", invalid="ignore"):
        if t == 1:
            f = ch[:, :3]
            cop = np.column_stack([ch[:, 3:5] * _unit_factor(units[3:5], _LENGTH_UNITS), np.zeros(len(ch))])
            return f, cop, ch[:, 5] * _unit_factor(units[5:6], _MOMENT_UNITS)[0]
        if t == 3:
            a, b, z0 = o
            fx12, fx34, fy14, fy23, fz1, fz2, fz3, fz4 = ch[:, :8].T
            f = np.column_stack([fx12 + fx34, fy14 + fy23, fz1 + fz2 + fz3 + fz4])
            m = np.column_stack([b * (fz1 + fz2 - fz3 - fz4), a * (-fz1 + fz2 + fz3 - fz4),
                                 b * (-fx12 + fx34) + a * (fy14 - fy23)])
            shift = np.zeros(2)
        else:
            w = ch[:, :6] @ np.asarray(plate.cal_matrix)[:6, :6].T if t == 4 else ch[:, :6]
            scale = 1.0 if t == 4 else _unit_factor(units[3:6], _MOMENT_UNITS)
            f, m = w[:, :3], w[:, 3:6] * scale
            z0, shift = -o[2], o[:2]
        x = (z0 * f[:, 0] - m[:, 1]) / f[:, 2]
        y = (m[:, 0] + z0 * f[:, 1]) / f[:, 2]
        tz = m[:, 2] - x * f[:, 1] + y * f[:, 0]
    cop = np.column_stack([x + shift[0], y + shift[1], np.zeros(len(ch))])
    return f, cop, tz


def channel_issues(trial: Trial, plate: ForcePlate, number: int,
                   block: Optional[np.ndarray] = None) -> list[QualityIssue]:
    """Quality issues of a plate's raw channels: all zero, or saturated (clipped).

    A varying channel is called saturated when its largest magnitude is held for 5 or more
    consecutive samples (an amplifier or A/D converter at its limit). ``block``: the
    plate's ``(S, K)`` analog columns when already extracted.
    """
    idx = list(plate.channels[:_N_CHANNELS[plate.plate_type]])
    v = trial.analog.values[:, idx] if block is None else block
    hi, lo = v.max(axis=0), v.min(axis=0)
    peak = np.maximum(np.abs(hi), np.abs(lo))
    varying = hi != lo
    extreme = np.where(np.abs(hi) >= np.abs(lo), hi, lo)       # the sample value of largest magnitude
    held = np.zeros(len(idx), dtype=bool)
    if v.shape[0] >= 5:
        for k in np.flatnonzero(varying & (peak > 0)):
            at = v[:, k] == extreme[k]                          # one channel: contiguous samples
            if np.count_nonzero(at) >= 5:
                held[k] = bool((at[:-4] & at[1:-3] & at[2:-2] & at[3:-1] & at[4:]).any())
    issues = []
    for k, c in enumerate(idx):
        label = trial.analog.labels[c]
        if peak[k] == 0.0:
            issues.append(QualityIssue("warning", "plate-channel-zero", f"force plate {number}: channel "
                                       f"{label} is zero throughout", trial.name, label))
        elif varying[k] and held[k]:
            issues.append(QualityIssue("warning", "plate-saturated", f"force plate {number}: channel {label} "
                                       f"held at its peak {peak[k]:g} for 5 or more samples (saturated?)",
                                       trial.name, label))
    return issues


def compute_plate(trial: Trial, plate: ForcePlate, number: int,
                  threshold_n: float = DEFAULT_THRESHOLD_N, block: Optional[np.ndarray] = None) -> PlateData:
    """Outputs of one plate at the point rate (see the module docstring). ``block``: the
    plate's ``(S, K)`` analog columns when already extracted.

    Raises
    ------
    ForcePlateError: the plate's parameters or channels cannot be used.
    """
    check_plate(plate, number, trial.analog)
    ratio = samples_per_frame(trial.analog, trial.point_rate_hz, number)
    idx = list(plate.channels[:_N_CHANNELS[plate.plate_type]])
    ch = resample_to_frames(trial.analog.values[:, idx] if block is None else block, ratio, trial.n_frames)
    units = tuple(trial.analog.units[i] for i in idx)
    f_p, cop_p, tz = plate_wrench(plate, ch, units)
    rot, centre = plate_axes(plate.corners_mm)
    force = f_p @ rot.T
    vertical = np.nan_to_num(force[:, VERTICAL])
    sign = 1.0 if vertical[np.argmax(np.abs(vertical))] >= 0 else -1.0
    force = sign * force
    loaded = np.nan_to_num(force[:, VERTICAL]) >= threshold_n
    cop = np.full_like(force, np.nan)
    free = np.full_like(force, np.nan)
    cop[loaded] = centre + cop_p[loaded] @ rot.T
    free[loaded] = sign * tz[loaded, None] * rot[:, 2][None, :]
    return PlateData(number, plate.plate_type, plate.corners_mm, force, cop, free, loaded, sign < 0)


def _plate_columns(values: np.ndarray, plate: ForcePlate) -> np.ndarray:
    """``(S, K)`` analog columns of a plate: a view when its channels are consecutive
    (the usual layout; no copy of the samples), else a copy."""
    idx = list(plate.channels[:_N_CHANNELS[plate.plate_type]])
    if idx == list(range(idx[0], idx[0] + len(idx))):
        return values[:, idx[0]:idx[0] + len(idx)]
    return values[:, idx]


def compute_plates(trial: Trial, threshold_n: float = DEFAULT_THRESHOLD_N) -> tuple[tuple[PlateData, ...], tuple[QualityIssue, ...]]:
    """All plates of a trial, and the quality issues of their channels.

    Raises
    ------
    ForcePlateError: a plate cannot be computed (named by number and parameter); no
        plate is ever invented or skipped silently.
    """
    plates, issues = [], []
    for i, plate in enumerate(trial.force_plates, start=1):
        check_plate(plate, i, trial.analog)
        block = _plate_columns(trial.analog.values, plate)
        data = compute_plate(trial, plate, i, threshold_n, block)
        issues += channel_issues(trial, plate, i, block)
        if data.reversed_sign:
            issues.append(QualityIssue("info", "plate-sign", f"force plate {i}: channels carry the force on "
                                       "the plate; negated to the force on the subject", trial.name, f"plate {i}"))
        plates.append(data)
    return tuple(plates), tuple(issues)
