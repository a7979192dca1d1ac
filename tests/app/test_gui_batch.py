"""File -> Batch process a folder (issue 12): the dialog runs the batch in the background
with progress, shows the summary, and Cancel stops cleanly (only complete outputs)."""
from __future__ import annotations

import pytest

from tests.app.gui_support import require_display, wait_until
from tests.core.test_batch import assert_complete, make_tree, output_files

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    require_display()
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import MainWindow
    app = create_app()
    win = MainWindow(QSettings(str(tmp_path_factory.mktemp("settings") / "genulab.ini"), QSettings.IniFormat))
    win.show()
    yield app, win
    win.close()


def _dialog(win, root, out, workers=1, resume=False):
    from app.dialogs.batch import BatchDialog
    dlg = BatchDialog(win.runner, win)
    dlg.root.setText(str(root))
    dlg.out.setText(str(out))
    dlg.workers.setValue(workers)
    dlg.resume.setChecked(resume)
    dlg.show()
    return dlg


def test_file_menu_has_the_batch_action(window):
    app, win = window
    file_menu = win.menuBar().actions()[0].menu()
    assert "&Batch process a folder\u2026" in [a.text() for a in file_menu.actions()]


def test_batch_dialog_processes_a_tree_and_shows_the_summary(window, tmp_path):
    app, win = window
    root, out = make_tree(tmp_path / "root", copies=1), tmp_path / "out"
    dlg = _dialog(win, root, out)
    seen = []
    win.runner.progress.connect(lambda f, m: seen.append((f, m)))
    dlg.start_button.click()
    assert not dlg.start_button.isEnabled() and dlg.cancel_button.isEnabled()
    wait_until(app, lambda: dlg.result_summary is not None, 180, "the batch to finish")
    s = dlg.result_summary
    assert s.counts == {"ok": 0, "warnings": 1, "failed": 1, "skipped": 0} and s.trials == 6
    text = dlg.summary.toPlainText()
    assert text.startswith("Batch finished.") and "pre_walk_09.c3d" in text and "trial.c3d" in text
    assert dlg.bar.value() == 1000 and any("sessions" in m and "ETA" in m for _, m in seen)
    assert "P01/pre/pre_walk_01.c3d" in output_files(out)
    assert_complete(out)
    assert dlg.start_button.isEnabled() and not dlg.cancel_button.isEnabled()
    dlg.close()


def test_cancel_stops_cleanly_and_keeps_the_summary(window, tmp_path):
    app, win = window
    root, out = make_tree(tmp_path / "root", copies=4, broken=False), tmp_path / "out"
    dlg = _dialog(win, root, out)
    dlg.start_button.click()
    wait_until(app, lambda: "1/4 sessions" in dlg.status.text(), 180, "the first session")
    dlg.cancel_button.click()
    wait_until(app, lambda: not win.runner.busy, 180, "the batch to stop")
    app.processEvents()
    text = dlg.summary.toPlainText()
    assert text.startswith("Batch cancelled"), text
    s = dlg.result_summary
    assert s is not None and s.interrupted and 1 <= len(s.results) < 4 and s.not_run
    assert_complete(out)
    dlg.close()
