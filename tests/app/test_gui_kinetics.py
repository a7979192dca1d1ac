"""Headless GUI (pytest-qt under Xvfb): kinetics in the main window on the BTK PiG walking file.

The file is processed by the app (CGM1 + Plug-in Gait kinetics, ``ProcessedTrial.kinetics``);
the curves show Genu Lab's moments, which follow Vicon's stored ones on the clean contact.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.app.gui_support import require_display, wait_until
from tests.conftest import reference_file

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    require_display()
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import MainWindow
    app = create_app()
    ini = tmp_path_factory.mktemp("settings") / "genulab.ini"
    win = MainWindow(QSettings(str(ini), QSettings.IniFormat))
    win.resize(1280, 800)
    win.show()
    win.open_paths([reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")])
    wait_until(app, lambda: not win.runner.busy, 60, "the reference trial")
    assert win.last_error_box is None
    yield app, win
    win.close()


def test_knee_moment_curves_follow_the_time_cursor(window):
    from app.plots import TIME_MODE
    app, win = window
    curves, st = win.curves, win.state
    curves.xmode.setCurrentText(TIME_MODE)
    curves.group.setCurrentText("Kinetics")
    app.processEvents()
    titles = [ax.get_title() for ax in curves.figure.axes if ax.get_visible()]
    assert any(t.startswith("Knee add/abd moment") and "N.m/kg" in t for t in titles)
    ax = next(a for a in curves.figure.axes if a.get_title().startswith("Knee add/abd moment"))
    left = ax.lines[0].get_ydata()
    kv = st.trial.kinetics
    assert kv.source == "Genu Lab"
    assert np.allclose(left, np.asarray(kv.channels["LKneeMoment"])[:, 1] / 1000.0, equal_nan=True)
    rows = np.arange(310, 360) - st.trial.trial.first_frame          # left stance on plate 2 (clean)
    vicon = st.trial.trial.point("LKneeMoment")[rows, 1] / 1000.0
    assert np.nanmax(np.abs(left[rows] - vicon)) < 0.05                 # N.m/kg
    st.set_frame(330)
    app.processEvents()
    assert all(c.get_xdata()[0] == 330 for c, _ in curves.cursors)
    curves.group.setCurrentText("Kinematics")


def test_arrow_in_the_viewer_moves_with_the_frame_and_info_lists_plates(window):
    app, win = window
    st, scene = win.state, win.viewer.scene
    st.set_frame(320)
    app.processEvents()
    a, shown_a = scene.grf_arrows()
    st.set_frame(350)
    app.processEvents()
    b, shown_b = scene.grf_arrows()
    assert shown_a[1] and shown_b[1] and not np.allclose(a[1], b[1])
    text = win.info.summary.text()
    assert "Force plates" in text and "plate 2 clean; ext. knee abduction moment" in text
    assert "plate 1 contact excluded: the foot is partly off the plate" in text
    from app.kinetics_view import EXCLUDED, CLEAN_LEFT
    first = st.trial.trial.first_frame
    assert list(st.trial.kinetics.plate_state[312 - first]) == [EXCLUDED, CLEAN_LEFT]
