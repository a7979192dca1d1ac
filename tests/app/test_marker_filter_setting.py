"""Settings > Marker filter: raw C3D files, session folders and batch runs opened from the app
are processed with the lab's marker low-pass cut-off (``ProcessingSettings.filter_markers_hz``),
exactly as ``genulab process/analyze/batch --filter HZ`` process them."""
from __future__ import annotations

import numpy as np
import pytest

from tests.app.gui_support import require_display, sample_session, wait_until

FILTER_HZ = 6.0


@pytest.fixture(scope="module")
def pre_folder():
    folder = sample_session("pre")
    if folder is None:
        pytest.skip("the sample sessions (sample_c3d/) are not in this checkout")
    return folder


def _walk(views):
    return next(v for v in views if v.name.startswith("pre_walk"))


def test_open_folder_with_the_filter_equals_the_filtered_pipeline(pre_folder):
    from app.engine import open_folder
    from core.gait.pipeline import ProcessingSettings, process_session
    filtered = open_folder(pre_folder, filter_hz=FILTER_HZ)[0]
    plain = open_folder(pre_folder)[0]
    assert {t.settings.filter_markers_hz for t in filtered.raw_session.trials} == {FILTER_HZ}
    assert {t.settings.filter_markers_hz for t in plain.raw_session.trials} == {0.0}
    ref = process_session(pre_folder, settings=ProcessingSettings(filter_markers_hz=FILTER_HZ))
    walk_f, walk_p = _walk(filtered.trials), _walk(plain.trials)
    ref_walk = next(t for t in ref.trials if t.trial.name == walk_f.trial.name)
    knee_f = walk_f.outputs.channels["RKneeAngles"]
    np.testing.assert_array_equal(knee_f, ref_walk.outputs.channels["RKneeAngles"])
    # the filter really acts: the noisy sample walk's knee angles change, by less than a degree
    diff = np.nanmax(np.abs(knee_f - walk_p.outputs.channels["RKneeAngles"]))
    assert 1e-3 < diff < 5.0


def test_open_c3d_uses_the_filter(pre_folder):
    from app.engine import open_c3d
    path = sorted(pre_folder.glob("pre_walk*.c3d"))[0]
    sv = open_c3d(path, filter_hz=FILTER_HZ)
    assert sv.trials[0].raw_processed.settings.filter_markers_hz == FILTER_HZ


@pytest.mark.gui
def test_settings_menu_sets_the_filter_for_opening_and_batch(pre_folder, tmp_path, monkeypatch):
    require_display()
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import FILTER_KEY, MainWindow
    app = create_app()
    win = MainWindow(QSettings(str(tmp_path / "genulab.ini"), QSettings.IniFormat))
    win.show()
    try:
        settings_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Settings")
        assert "&Marker filter\u2026" in [a.text() for a in settings_menu.actions()]
        assert win.marker_filter_hz() == 0.0
        win.settings.setValue(FILTER_KEY, FILTER_HZ)
        assert win.marker_filter_hz() == FILTER_HZ
        win.settings.setValue(FILTER_KEY, "nonsense")
        assert win.marker_filter_hz() == 0.0           # a damaged setting means off, never a crash
        win.settings.setValue(FILTER_KEY, FILTER_HZ)
        win.open_paths([pre_folder])
        wait_until(app, lambda: win.state.session is not None and not win.runner.busy, 120, "the session to open")
        assert {t.settings.filter_markers_hz for t in win.state.session.raw_session.trials} == {FILTER_HZ}

        import core.batch.runner as runner
        seen = {}

        def fake_run_batch(root, out, engine, settings=None, **kw):
            seen["settings"] = settings
            return None
        monkeypatch.setattr(runner, "run_batch", fake_run_batch)
        monkeypatch.setattr(runner, "plan", lambda root, out: [])
        from app.dialogs.batch import batch_work
        batch_work(tmp_path, tmp_path / "out", 1, False, {}, win.marker_filter_hz())(lambda f, m: None, lambda: False)
        assert seen["settings"].processing.filter_markers_hz == FILTER_HZ
    finally:
        win.close()
