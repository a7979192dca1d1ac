"""App: force plates and GRF arrows in the 3D scene, kinetic curves, contact quality lines."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import reference_file
from tests.app.gui_support import FLATFOOT

pytest.importorskip("vtkmodules")


@pytest.fixture(scope="module")
def walking_view():
    from core.io.c3d import read_c3d
    from app.adapters import trial_view
    return trial_view(read_c3d(reference_file(*FLATFOOT)))


def _scene(tv, size=(480, 480)):
    from app.scene import GaitScene, offscreen_window
    from app.scene_data import build_scene_data
    win = offscreen_window()
    win.SetSize(*size)
    scene = GaitScene(win)
    scene.set_data(build_scene_data(tv.trial, tv.outputs, tv.overlay(), tv.kinetics), tv.name)
    return scene, win


def test_kinetics_view_of_a_vicon_file(walking_view):
    from app.kinetics_view import CLEAN_LEFT, CLEAN_RIGHT, contact_lines
    kv = walking_view.kinetics
    assert kv is not None and kv.source == "file (Vicon)" and kv.n_plates == 2
    assert kv.channels["LKneeMoment"].shape == (walking_view.trial.n_frames, 3)
    first = walking_view.trial.first_frame
    # the left foot is on plate 2 at frame 330, the right foot on plate 1 at frame 290 (Vicon's assignment)
    assert kv.plate_state[330 - first, 1] == CLEAN_LEFT and kv.plate_state[290 - first, 0] == CLEAN_RIGHT
    # double support: both plates loaded, each by the foot standing on it (not by whichever GRF is defined)
    assert list(kv.plate_state[312 - first]) == [CLEAN_RIGHT, CLEAN_LEFT]
    assert any("Vicon's stored kinetics" in line for line in contact_lines(kv))


def test_grf_arrow_exists_and_moves_with_the_frame(walking_view):
    from app.scene_data import GRF_MM_PER_N
    scene, win = _scene(walking_view)
    assert scene.forces.plates_actor is not None and scene.forces.tip_actor is not None
    first = walking_view.trial.first_frame
    plate = scene.data.grf.shape[1] - 1                 # plate 2, loaded by the left foot 307-366
    scene.set_row(320 - first)
    a, shown_a = scene.grf_arrows()
    scene.set_row(350 - first)
    b, shown_b = scene.grf_arrows()
    assert shown_a[plate] and shown_b[plate]
    f = scene.data.grf[350 - first, plate]
    assert np.allclose(b[plate, 1] - b[plate, 0], f * GRF_MM_PER_N)            # scaled force in the buffer
    assert np.allclose(b[plate, 0], scene.data.cop[350 - first, plate])        # starts at the CoP
    assert np.linalg.norm(b[plate, 0] - a[plate, 0]) > 20.0                    # the CoP travels forward
    assert 300.0 < np.linalg.norm(b[plate, 1] - b[plate, 0]) < 900.0           # about body weight (47.5 kg)
    scene.set_row(200 - first)                                                  # plate 2 unloaded
    _, shown = scene.grf_arrows()
    assert not shown[plate]
    scene.set_show_grf(False)
    scene.set_row(330 - first)
    assert not scene.grf_arrows()[1].any()
    win.Finalize()


def test_curves_series_are_the_knee_moment_in_n_m_per_kg(walking_view):
    pytest.importorskip("PySide6")
    from app.plots import band_for, load_bands, series
    y = series(walking_view, "KneeMoment.y")
    raw = walking_view.trial.point("LKneeMoment")[:, 1]
    assert np.allclose(y[:, 0], raw / 1000.0, equal_nan=True)
    band, sign = band_for(load_bands(), "KneeMoment.y")
    assert band is not None and sign == 1.0 and 0.2 < np.nanmax(band.mean) < 0.4
