"""Prescribed kinematic curves: walking shapes and smooth time profiles.

Walking: each joint angle of a normal adult-like gait cycle is a short Fourier series in the
percent of the gait cycle ``p``: ``q(p) = sum_k a_k cos(2 pi k p/100) + b_k sin(2 pi k p/100)``.
The coefficients were fitted once (least squares, up to the 8th harmonic) to the mean curves
of the "Free" speed class of Schwartz et al. (2008) (J Biomech 41:1639), Plug-in Gait sign
conventions, for the side whose cycle it is. Pelvic tilt keeps only even harmonics and pelvic
obliquity/rotation only odd ones, so that the right side's curves, half a cycle later, are
those of the same pelvis (tilt identical, obliquity and rotation sign-flipped). Fit residuals
are below 0.6 deg; the hip flexion excursion is then scaled for an adult stride
(:data:`WALK_GAIN`) and small foot-contact adjustments are added (:data:`WALK_CONTACT`). AnkleAngles y/z have no normative data; ankle rotation is prescribed as a
constant and inversion follows from the two-degree-of-freedom CGM1 foot.
"""
from __future__ import annotations

import numpy as np

#: Fourier coefficients ``(k, a_k, b_k)`` of the normal walking curves (degrees).
WALK_FOURIER: dict[str, tuple[tuple[int, float, float], ...]] = {
    "PelvisAngles.x": ((0, 11.588, 0.0), (2, 0.413, -0.717), (4, 0.154, -0.027), (6, -0.05, 0.063),
                       (8, -0.011, 0.026)),
    "PelvisAngles.y": ((1, 1.852, 2.124), (3, -1.186, 0.221), (5, -0.003, -0.089), (7, 0.023, -0.002)),
    "PelvisAngles.z": ((1, 3.743, 2.098), (3, 0.339, -0.37), (5, 0.264, -0.056), (7, 0.036, 0.061)),
    "HipAngles.x": ((0, 18.446, 0.0), (1, 20.872, -3.19), (2, -3.14, -1.542), (3, -0.1, 1.62),
                    (4, -0.103, -0.086), (5, -0.27, 0.266), (6, -0.008, 0.095), (7, -0.047, 0.005),
                    (8, 0.008, 0.032)),
    "HipAngles.y": ((0, -0.337, 0.0), (1, 0.48, 4.94), (2, -0.048, -0.502), (3, -1.589, 0.462),
                    (4, 0.046, 0.094), (5, -0.156, -0.16), (6, -0.07, 0.048), (7, 0.041, -0.04),
                    (8, -0.011, -0.012)),
    "HipAngles.z": ((0, -1.871, 0.0), (1, 1.184, 0.717), (2, -1.053, -0.669), (3, -1.166, 1.018),
                    (4, -0.082, 0.49), (5, 0.015, -0.001), (6, 0.018, -0.081), (7, 0.035, -0.147),
                    (8, 0.043, -0.171)),
    "KneeAngles.x": ((0, 22.875, 0.0), (1, -1.905, -18.747), (2, -13.632, 7.004), (3, -0.696, 4.309),
                     (4, -0.868, 0.633), (5, -0.544, 0.735), (6, 0.07, 0.204), (7, -0.045, 0.028),
                     (8, 0.047, 0.039)),
    "KneeAngles.y": ((0, 0.452, 0.0), (1, 0.991, -0.45), (2, -0.642, -1.042), (3, -1.141, 0.482),
                     (4, 0.01, 0.561), (5, 0.402, -0.018), (6, 0.01, -0.167), (7, 0.023, -0.003),
                     (8, 0.012, -0.084)),
    "KneeAngles.z": ((0, 3.189, 0.0), (1, -4.008, 1.495), (2, 0.015, 1.351), (3, -0.039, 0.556),
                     (4, 0.277, -0.191), (5, -0.936, -0.079), (6, -0.102, 0.158), (7, -0.306, -0.243),
                     (8, -0.186, 0.12)),
    "AnkleAngles.x": ((0, 0.751, 0.0), (1, -2.048, 7.089), (2, 0.818, -7.215), (3, -4.6, 0.858),
                      (4, 2.2, 0.235), (5, -0.521, -1.378), (6, 0.263, 0.547), (7, 0.527, -0.492),
                      (8, -0.078, -0.037)),
}

#: gain on the excursion (harmonics k >= 1) of a curve about its mean: the adult patient's
#: hip flexion range is 25 % larger than the children's mean, which (with the foot-strike
#: adjustment below) gives a 1.2 m/s walk at 120 steps/min with this leg length
WALK_GAIN = {"HipAngles.x": 1.25}

#: foot-contact adjustments (channel key, deg, centre % of the cycle, half width %): less hip
#: flexion around foot strike, more knee flexion and less plantarflexion in pre-swing, so that
#: with adult proportions the leading heel and the trailing toe are both on the floor at foot
#: strike (the heel marker then reaches its lowest point within a frame of foot strike)
WALK_CONTACT = (("HipAngles.x", -5.0, 0.0, 20.0), ("KneeAngles.x", 8.0, 50.0, 15.0),
                ("AnkleAngles.x", 3.0, 50.0, 15.0))

#: prescribed ankle rotation in walking (AnkleAngles.z, deg; negative = external)
WALK_ANKLE_ROTATION_DEG = -8.0


def walk_curve(key: str, percent: np.ndarray) -> np.ndarray:
    """Normal walking curve ``key`` (e.g. ``"KneeAngles.x"``) at ``percent`` of the cycle.

    percent: ``(F,)`` any real numbers (the series is periodic with period 100).
    Returns ``(F,)`` degrees.
    """
    ph = 2.0 * np.pi * np.asarray(percent, dtype=float) / 100.0
    out = np.zeros_like(ph)
    gain = WALK_GAIN.get(key, 1.0)
    for k, a, b in WALK_FOURIER[key]:
        g = gain if k else 1.0
        out += g * (a * np.cos(k * ph) + b * np.sin(k * ph))
    pct = np.mod(np.asarray(percent, dtype=float), 100.0)
    for k, amp, centre, half in WALK_CONTACT:
        if k == key:
            d = np.mod(pct - centre + 50.0, 100.0) - 50.0        # signed distance, periodic
            out += amp * raised_cosine(d, 0.0, half)
    return out


def raised_cosine(x: np.ndarray, centre: float, half_width: float) -> np.ndarray:
    """Smooth bump: 1 at ``centre``, 0 beyond ``centre +- half_width`` (C1 continuous)."""
    u = np.clip((np.asarray(x, float) - centre) / half_width, -1.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * u))


def ramp(x: np.ndarray, start: float, end: float) -> np.ndarray:
    """Smooth step from 0 (``x <= start``) to 1 (``x >= end``), cosine shaped."""
    u = np.clip((np.asarray(x, float) - start) / (end - start), 0.0, 1.0)
    return 0.5 * (1.0 - np.cos(np.pi * u))


def lerp(x0: float, x1: float, w: np.ndarray) -> np.ndarray:
    """``x0 + (x1 - x0) w``."""
    return x0 + (x1 - x0) * np.asarray(w, float)
