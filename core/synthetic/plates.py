"""The sample lab's force plates and what they measure (the generator's own code).

Three floor-embedded plates (400 x 600 mm, top surface at lab z = 0) at fixed lab positions:

* plate 1, type 2 (Fx Fy Fz Mx My Mz), x in [-450, 150], y in [-18, 382] mm: plate x = lab x,
  plate y = -lab y, plate z = -lab z (down);
* plate 2, type 4 (six raw channels in volts and a 6 x 6 ``CAL_MATRIX``), x in [-450, 150],
  y in [-418, -18]: plate 1's orientation turned 180 deg about lab z (plate x = -lab x,
  plate y = lab y, plate z down), as AMTI plates are mounted in many labs;
* plate 3, type 2, x in [150, 750], y in [-240, 160]: plate x = lab y, plate y = lab x,
  plate z down.

C3D conventions (c3d.org; the same as ezc3d and the 11 real type-2/type-4 files of the
project's reference set checked): ``CORNERS`` are lab coordinates of the four corners of the top surface, corner 1 in the
plate's (+x, +y) quadrant, then (-x, +y), (-x, -y), (+x, -y); ``ORIGIN`` is the position of
the centre of the top surface relative to the sensor origin, in the plate frame (z < 0: the
sensor origin lies below the surface). The channels hold the wrench of the plate **on the
subject** (the ground reaction, +GRF) about the sensor origin in the plate frame, so a loaded
plate reads Fz < 0 (plate z points down); rotated into the lab with the corner frame, the
force points up. That is what Vicon Nexus writes (e.g. PiG_Motion-FlatFoot-Full.c3d: its
corner-frame force equals PiG's GroundReactionForce). Type 4 channels are volts ``v`` with
``[F; M] = CAL_MATRIX[:, :, i] @ v``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

#: analog rate (Hz) and samples per point frame
ANALOG_RATE_HZ = 1000.0
ANALOG_PER_FRAME = 10
#: seeded analog noise: SD of force (N) and moment (N.mm) channels
NOISE_FORCE_N = 0.5
NOISE_MOMENT_NMM = 50.0
#: below this vertical force (N) the centre of pressure is undefined (truth: null)
COP_MIN_FZ_N = 20.0


@dataclass(frozen=True)
class ForcePlate:
    """One plate. rotation: ``(3, 3)`` columns = plate x, y, z axes in the lab; centre: lab
    position of the top-surface centre (mm); size: (along plate x, along plate y) mm;
    origin: C3D ``ORIGIN`` (surface centre relative to the sensor origin, plate frame, mm);
    cal_matrix: ``(6, 6)`` of a type-4 plate (N, N.mm per volt), else None."""

    number: int
    plate_type: int
    rotation: np.ndarray
    centre: np.ndarray
    size: tuple[float, float]
    origin: tuple[float, float, float]
    cal_matrix: Optional[np.ndarray] = None

    @property
    def corners(self) -> np.ndarray:
        """``(4, 3)`` lab corners in C3D order (+x+y, -x+y, -x-y, +x-y of the plate)."""
        hx, hy = self.size[0] / 2.0, self.size[1] / 2.0
        local = np.array([[hx, hy, 0.0], [-hx, hy, 0.0], [-hx, -hy, 0.0], [hx, -hy, 0.0]])
        return self.centre + local @ self.rotation.T

    @property
    def sensor_origin(self) -> np.ndarray:
        """Lab position ``(3,)`` of the sensor origin (surface centre minus ORIGIN)."""
        return self.centre - self.rotation @ np.asarray(self.origin, float)

    def contains(self, points: np.ndarray, margin_mm: float = 0.0) -> np.ndarray:
        """``(...,)`` True where lab points ``(..., 3)`` lie over the plate, at least
        ``margin_mm`` inside its edges."""
        local = (np.asarray(points, float) - self.centre) @ self.rotation
        return ((np.abs(local[..., 0]) <= self.size[0] / 2.0 - margin_mm)
                & (np.abs(local[..., 1]) <= self.size[1] / 2.0 - margin_mm))

    def channels(self, force: np.ndarray, moment_origin: np.ndarray,
                 noise: Optional[np.ndarray] = None) -> np.ndarray:
        """Analog values ``(N, 6)`` from the ground reaction on the subject: force ``(N, 3)``
        N and its moment about the sensor origin ``(N, 3)`` N.mm, both lab frame; ``noise``
        ``(N, 6)`` is added to the plate-frame wrench (before the calibration of type 4)."""
        wrench = np.concatenate([force @ self.rotation, moment_origin @ self.rotation], axis=1)
        if noise is not None:
            wrench = wrench + noise
        if self.plate_type == 4:
            return np.linalg.solve(self.cal_matrix, wrench.T).T
        return wrench

    @property
    def labels(self) -> tuple[str, ...]:
        n = self.number
        if self.plate_type == 4:
            return tuple(f"Raw.Ch{k}.{n}" for k in range(1, 7))
        return (f"Force.Fx{n}", f"Force.Fy{n}", f"Force.Fz{n}",
                f"Moment.Mx{n}", f"Moment.My{n}", f"Moment.Mz{n}")

    @property
    def units(self) -> tuple[str, ...]:
        return ("V",) * 6 if self.plate_type == 4 else ("N", "N", "N", "Nmm", "Nmm", "Nmm")


def _axes(x, y) -> np.ndarray:
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.stack([x, y, np.cross(x, y)], axis=1)


#: calibration matrix of plate 2 (N/V and N.mm/V): gains of a strain-gauge amplifier with
#: up to 2 % crosstalk, deliberately not symmetric so that a transposed reading shows
CAL_MATRIX_2 = np.array([
    [500.0, 4.0, -2.5, 0.0, 0.01, 0.0],
    [-3.0, 500.0, 2.0, -0.01, 0.0, 0.0],
    [5.0, -6.0, 1000.0, 0.0, 0.0, 0.02],
    [120.0, -800.0, 400.0, 250000.0, 1200.0, -500.0],
    [900.0, 150.0, -300.0, -1500.0, 250000.0, 800.0],
    [-200.0, 350.0, 100.0, 600.0, -700.0, 125000.0],
])

PLATES = (
    ForcePlate(1, 2, _axes([1, 0, 0], [0, -1, 0]), np.array([-150.0, 182.0, 0.0]), (600.0, 400.0),
               (0.7, -0.4, -40.2)),
    ForcePlate(2, 4, _axes([-1, 0, 0], [0, 1, 0]), np.array([-150.0, -218.0, 0.0]), (600.0, 400.0),
               (-0.5, 0.3, -39.6), CAL_MATRIX_2),
    ForcePlate(3, 2, _axes([0, 1, 0], [1, 0, 0]), np.array([450.0, -40.0, 0.0]), (400.0, 600.0),
               (0.4, 0.6, -41.0)),
)


def plate_wrench(plate: ForcePlate, forces: np.ndarray, points: np.ndarray,
                 free: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resultant ground reaction on one plate from point loads.

    forces: ``(N, K, 3)`` N lab; points: ``(N, K, 3)`` mm lab (on the floor); free: ``(N, K)``
    free moments about the vertical (N.mm); on: ``(N, K)`` which loads stand on this plate.
    Returns force ``(N, 3)`` and moment about the sensor origin ``(N, 3)``, lab frame.
    """
    w = on[..., None]
    f = np.sum(np.where(w, forces, 0.0), axis=1)
    r = points - plate.sensor_origin
    m = np.sum(np.where(w, np.cross(r, forces), 0.0), axis=1)
    m[:, 2] += np.sum(np.where(on, free, 0.0), axis=1)
    return f, m


def plate_cop(plate: ForcePlate, force: np.ndarray, moment_origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CoP ``(N, 3)`` on the plate surface (lab, mm; NaN below :data:`COP_MIN_FZ_N`) and the
    free moment about the vertical ``(N,)`` N.mm, from the lab wrench about the sensor origin."""
    o = plate.sensor_origin
    h = plate.centre[2] - o[2]                          # surface height above the origin
    fz = force[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = o[0] + (h * force[:, 0] - moment_origin[:, 1]) / fz
        cy = o[1] + (moment_origin[:, 0] + h * force[:, 1]) / fz
    cop = np.stack([cx, cy, np.full_like(cx, plate.centre[2])], axis=1)
    cop[fz < COP_MIN_FZ_N] = np.nan
    r = cop - o
    tz = moment_origin[:, 2] - (r[:, 0] * force[:, 1] - r[:, 1] * force[:, 0])
    tz[fz < COP_MIN_FZ_N] = np.nan
    return cop, tz
