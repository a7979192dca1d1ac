"""Helpers of the GUI tests: display check, session to open, waiting, pixel probes."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

from tests.conftest import REFERENCE, SAMPLES

FLATFOOT = ("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")


def require_display() -> None:
    """Skip cleanly where no X display (Xvfb) is available: VTK in Qt needs one."""
    if not os.environ.get("DISPLAY") and os.environ.get("QT_QPA_PLATFORM") not in ("xcb",):
        pytest.skip("GUI tests need an X display (run under xvfb-run, as tools/test.sh does)")
    pytest.importorskip("PySide6")
    pytest.importorskip("pytestqt")


def sample_session(kind: str = "pre") -> Optional[Path]:
    """``sample_c3d/<patient>/<kind>`` if the sample sessions exist."""
    if not SAMPLES.is_dir():
        return None
    for patient in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        d = patient / kind
        if d.is_dir() and any(d.glob("*.c3d")):
            return d
    return None


def session_to_open() -> Path:
    """The sample pre session, else the BTK PiG FlatFoot reference walking trial."""
    s = sample_session("pre")
    if s is not None:
        return s
    p = REFERENCE.joinpath(*FLATFOOT)
    if not p.exists():
        pytest.skip(f"neither sample_c3d/ nor the reference data ({p}) are available")
    return p


def wait_until(app, cond, timeout: float = 30.0, what: str = "condition") -> None:
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        time.sleep(0.005)
        if time.perf_counter() - t0 > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def patch_rgb(image: np.ndarray, xy: tuple[float, float], half: int = 2) -> np.ndarray:
    """Median RGB of a small patch around VTK display coordinates (origin bottom-left)."""
    h = image.shape[0]
    x, y = int(round(xy[0])), int(round(h - 1 - xy[1]))
    patch = image[max(y - half, 0): y + half + 1, max(x - half, 0): x + half + 1].reshape(-1, 3)
    return np.median(patch, axis=0)


def is_valgus_colour(rgb: np.ndarray) -> bool:
    """Violet (valgus ramp): blue channel high, red present, green clearly lowest."""
    r, g, b = (float(v) for v in rgb)
    return b > 120 and b > g + 40 and r > g + 20


def is_right_colour(rgb: np.ndarray) -> bool:
    """The right-side green: green channel dominant."""
    r, g, b = (float(v) for v in rgb)
    return g > 90 and g > r + 30 and g > b + 20
