"""Domain types of Genu Lab and the one array convention.

Array convention (used everywhere in ``core`` and ``app``)
---------------------------------------------------------
* Time is axis 0. ``F`` is the number of point frames of a trial.
* Marker trajectories are ``(F, M, 3)`` float64 in **millimetres** in the lab frame
  (Z up for Plug-in Gait). A missing sample is ``NaN`` in all three coordinates, never 0.
* Angles are in **degrees**; rotations are ``(F, 3, 3)`` with the segment axes as
  columns; poses are ``(F, 4, 4)``.
* Frames are shown as Vicon shows them: C3D frame numbers, counted from the file's first
  frame (``Trial.first_frame`` is the C3D number of row 0), and times in seconds from the
  start of capture: ``time_s = (frame - 1) / rate_hz``.
* Units appear in names where there is doubt (``rate_hz``, ``leg_length_mm``).

All types are frozen dataclasses; steps return new objects and never mutate their inputs.
Arrays held by these objects are made read-only on construction.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Iterable, Mapping, Optional

import numpy as np

from core.errors import GenuError, MissingMarkersError

SIDES = ("Left", "Right")
SIDE_PREFIX = {"Left": "L", "Right": "R"}
EVENT_FOOT_STRIKE = "Foot Strike"
EVENT_FOOT_OFF = "Foot Off"


def readonly_array(a, dtype=np.float64, order: str = "K") -> np.ndarray:
    """A read-only copy of ``a`` (what every frozen result object holds); ``order`` the
    memory layout as for numpy.array."""
    arr = np.array(a, dtype=dtype, copy=True, order=order)
    arr.setflags(write=False)
    return arr


def frame_to_time(frame: int | np.ndarray, rate_hz: float) -> float | np.ndarray:
    """C3D frame number(s) -> seconds from the start of capture (frame 1 is t = 0)."""
    return (np.asarray(frame, dtype=float) - 1.0) / rate_hz


def time_to_frame(time_s: float | np.ndarray, rate_hz: float) -> int | np.ndarray:
    """Seconds from the start of capture -> nearest C3D frame number (Vicon rounding)."""
    f = np.rint(np.asarray(time_s, dtype=float) * rate_hz).astype(int) + 1
    return int(f) if np.ndim(f) == 0 else f


@dataclass(frozen=True)
class GaitEvent:
    """One event of a trial.

    Attributes
    ----------
    label: canonical label, ``"Foot Strike"``, ``"Foot Off"`` or the file's own label.
    context: ``"Left"``, ``"Right"`` or ``"General"``.
    frame: C3D frame number (1-based, counted from the start of capture).
    time_s: seconds from the start of capture.
    source: where it came from: ``"file"``, ``"detected"`` (kinematics, Zeni 2008),
        ``"force plate"``, ``"edited"`` or ``"generated"``.
    """

    label: str
    context: str
    frame: int
    time_s: float
    source: str = "file"

    def __post_init__(self) -> None:
        if self.context not in ("Left", "Right", "General"):
            raise GenuError(f"event context must be Left, Right or General, not {self.context!r}")


@dataclass(frozen=True)
class AnalogData:
    """Analog channels of a trial.

    values: ``(S, C)`` float64 in the file's units after scaling, ``S`` analog samples,
        held channel by channel (Fortran order: each channel's samples are contiguous,
        as the C3D readers deliver them and as force-plate processing reads them).
    """

    labels: tuple[str, ...]
    units: tuple[str, ...]
    rate_hz: float
    values: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", readonly_array(self.values, order="F"))
        if self.values.ndim != 2 or self.values.shape[1] != len(self.labels):
            raise GenuError(f"analog values {self.values.shape} do not match {len(self.labels)} labels")


@dataclass(frozen=True)
class ForcePlate:
    """One force platform as described by the FORCE_PLATFORM group.

    corners_mm: ``(4, 3)`` plate corners in the lab frame; origin_mm: ``(3,)`` as stored
    (vector from the plate centre to the sensor origin, plate frame); channels: 0-based
    analog channel indices; cal_matrix: ``(n_out, n_in)`` FORCE_PLATFORM:CAL_MATRIX of
    the plate (outputs = cal_matrix @ channels), None when the file has none.
    """

    plate_type: int
    corners_mm: np.ndarray
    origin_mm: np.ndarray
    channels: tuple[int, ...]
    cal_matrix: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "corners_mm", readonly_array(self.corners_mm))
        object.__setattr__(self, "origin_mm", readonly_array(self.origin_mm))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if self.cal_matrix is not None:
            object.__setattr__(self, "cal_matrix", readonly_array(self.cal_matrix))


@dataclass(frozen=True)
class Trial:
    """A motion-capture trial as read from a C3D file.

    Attributes
    ----------
    name: trial name (file stem).
    labels: normalised point labels (subject prefix stripped, spaces trimmed), length P.
    original_labels: the labels exactly as in the file, length P.
    points: ``(F, P, 3)`` float64. Position points in mm; angle/force/moment/power points
        (Vicon model outputs) in their own units, never scaled. NaN where invalid.
    point_rate_hz: point frame rate.
    first_frame: C3D frame number of row 0.
    point_kinds: per point, ``"marker"`` or the POINT group it is listed in
        (``"angle"``, ``"force"``, ``"moment"``, ``"power"``, ``"scalar"``).
    events: gait and other events, sorted by frame.
    processing: the PROCESSING group as found (name -> float or str).
    parameters: other metadata of interest, e.g. ``{"GENULAB:TASK": "sls"}``,
        ``"SUBJECTS:NAMES"``; name -> str or float.
    read_warnings: repairs the reader made to read a damaged or non-standard file (each
        names the ``GROUP:PARAMETER`` concerned); empty for a well-formed file.
    """

    name: str
    labels: tuple[str, ...]
    points: np.ndarray
    point_rate_hz: float
    first_frame: int = 1
    original_labels: tuple[str, ...] = ()
    point_kinds: tuple[str, ...] = ()
    events: tuple[GaitEvent, ...] = ()
    analog: Optional[AnalogData] = None
    force_plates: tuple[ForcePlate, ...] = ()
    processing: Mapping[str, object] = field(default_factory=dict)
    parameters: Mapping[str, object] = field(default_factory=dict)
    manufacturer: str = ""
    software: str = ""
    path: Optional[Path] = None
    read_warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        pts = readonly_array(self.points)
        if pts.ndim != 3 or pts.shape[2] != 3:
            raise GenuError(f"points must be (F, P, 3), got {pts.shape}", self.path)
        if pts.shape[1] != len(self.labels):
            raise GenuError(f"{pts.shape[1]} points but {len(self.labels)} labels", self.path)
        if not (self.point_rate_hz > 0):
            raise GenuError(f"point rate must be positive, got {self.point_rate_hz}", self.path)
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "labels", tuple(self.labels))
        object.__setattr__(self, "read_warnings", tuple(self.read_warnings))
        if not self.original_labels:
            object.__setattr__(self, "original_labels", tuple(self.labels))
        if not self.point_kinds:
            object.__setattr__(self, "point_kinds", ("marker",) * len(self.labels))
        object.__setattr__(self, "events", tuple(sorted(self.events, key=lambda e: (e.frame, e.context, e.label))))
        object.__setattr__(self, "processing", MappingProxyType(dict(self.processing)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    # ----- sizes and time axis -------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return int(self.points.shape[0])

    @property
    def last_frame(self) -> int:
        """C3D frame number of the last row."""
        return self.first_frame + self.n_frames - 1

    @property
    def frames(self) -> np.ndarray:
        """``(F,)`` C3D frame numbers of the rows."""
        return np.arange(self.first_frame, self.first_frame + self.n_frames)

    @property
    def times_s(self) -> np.ndarray:
        """``(F,)`` seconds from the start of capture."""
        return frame_to_time(self.frames, self.point_rate_hz)

    def row_of_frame(self, frame: int) -> int:
        """Row index of a C3D frame number (may be out of range; caller checks)."""
        return int(frame) - self.first_frame

    # ----- points ---------------------------------------------------------------------
    @property
    def marker_labels(self) -> tuple[str, ...]:
        return tuple(l for l, k in zip(self.labels, self.point_kinds) if k == "marker")

    def index(self, label: str) -> Optional[int]:
        """Index of a normalised label (case-sensitive), or None."""
        try:
            return self.labels.index(label)
        except ValueError:
            return None

    def has(self, label: str) -> bool:
        return label in self.labels

    def point(self, label: str) -> np.ndarray:
        """``(F, 3)`` read-only trajectory of a point; raises MissingMarkersError."""
        i = self.index(label)
        if i is None:
            raise MissingMarkersError([label], self.path)
        return self.points[:, i, :]

    def markers(self, labels: Iterable[str]) -> dict[str, np.ndarray]:
        """Trajectories of several markers; raises one MissingMarkersError naming all absent."""
        labels = list(labels)
        missing = [l for l in labels if not self.has(l)]
        if missing:
            raise MissingMarkersError(missing, self.path)
        return {l: self.point(l) for l in labels}

    def with_changes(self, **changes) -> "Trial":
        """A copy with some fields replaced (dataclasses.replace)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class ParameterValue:
    """One subject parameter value with its provenance.

    value: in the canonical unit of the parameter (mm, kg, **degrees** for angles,
    0/1 for flags). source: human-readable origin, e.g. ``"static PROCESSING (radians)"``,
    ``"Test.vsk"``, ``"--set"``, ``"calibrate"``, ``"default"``, ``"regression"``.
    """

    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class SubjectParameters:
    """Resolved subject parameters keyed by their Vicon VSK name (``LeftLegLength``...)."""

    values: Mapping[str, ParameterValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def get(self, name: str, default: Optional[float] = None) -> Optional[float]:
        p = self.values.get(name)
        return default if p is None else p.value

    def source(self, name: str) -> Optional[str]:
        p = self.values.get(name)
        return None if p is None else p.source

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def with_values(self, *values: ParameterValue) -> "SubjectParameters":
        d = dict(self.values)
        for v in values:
            d[v.name] = v
        return SubjectParameters(d)


@dataclass(frozen=True)
class ModelOutputs:
    """Outputs of the CGM1 reconstruction of one trial.

    Attributes
    ----------
    channels: Vicon output name -> ``(F, 3)`` float64: angles in degrees
        (``LPelvisAngles`` ... ``RFootProgressAngles``) and joint centres in mm
        (``LHJC`` ... ``RAJC``). NaN exactly where an input was missing.
    segments: segment name -> ``(F, 4, 4)`` pose (rotation columns = x, y, z axes,
        translation = origin, mm). Names: ``Pelvis``, ``LFemur``, ``LTibia`` (torsioned),
        ``LTibiaUntorsioned``, ``LFoot`` (corrected foot), ``RFemur`` ...
    progression: ``(3, 3)`` progression frame of the trial (spec section 4).
    first_frame, rate_hz: time axis, as the trial.
    """

    channels: Mapping[str, np.ndarray]
    segments: Mapping[str, np.ndarray]
    progression: np.ndarray
    first_frame: int
    rate_hz: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", MappingProxyType({k: readonly_array(v) for k, v in self.channels.items()}))
        object.__setattr__(self, "segments", MappingProxyType({k: readonly_array(v) for k, v in self.segments.items()}))
        object.__setattr__(self, "progression", readonly_array(self.progression))

    @property
    def n_frames(self) -> int:
        return int(next(iter(self.channels.values())).shape[0]) if self.channels else 0

    @property
    def frames(self) -> np.ndarray:
        return np.arange(self.first_frame, self.first_frame + self.n_frames)


@dataclass(frozen=True)
class QualityIssue:
    """One recoverable data problem, shown by the app and printed on the report's quality page.

    severity: ``"info"``, ``"warning"`` or ``"error"``; code: short stable identifier such as
    ``"gap"``, ``"events-detected"``, ``"crosstalk"``, ``"stale-processing"``; subject: the
    marker, parameter or channel concerned ("" when none).
    """

    severity: str
    code: str
    message: str
    trial: str = ""
    subject: str = ""


@dataclass(frozen=True)
class QualityReport:
    """Recoverable problems found while processing, in the order they were found."""

    issues: tuple[QualityIssue, ...] = ()

    def plus(self, *issues: QualityIssue) -> "QualityReport":
        return QualityReport(self.issues + tuple(issues))

    def of(self, code: str) -> tuple[QualityIssue, ...]:
        return tuple(i for i in self.issues if i.code == code)
