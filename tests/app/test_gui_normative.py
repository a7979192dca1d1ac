"""The app shows the normative caution (issue 11.3): banner over the curves, info panel line,
and Settings > Normative data writes the lab default that the command line reads."""
from __future__ import annotations

import json

import pytest

from tests.app.gui_support import require_display, sample_session, wait_until

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    require_display()
    folder = sample_session("pre")
    if folder is None:
        pytest.skip("sample sessions not available")
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import MainWindow
    app = create_app()
    ini = tmp_path_factory.mktemp("settings") / "genulab.ini"
    win = MainWindow(QSettings(str(ini), QSettings.IniFormat))
    win.resize(1280, 800)
    win.show()
    win.open_paths([folder])
    wait_until(app, lambda: not win.runner.busy, 90, "the session to open")
    assert win.last_error_box is None, win.last_error_box.informativeText()
    yield app, win
    win.close()


def test_adult_caution_over_the_curves_and_in_the_info_panel(window):
    app, win = window
    sa = win.state.session.raw_analysis
    assert sa is not None and sa.patient_age_years == 32.0
    banner = win.curves.caution
    assert banner.isVisible()
    assert banner.text().startswith("Caution: Patient aged 32 y judged against Schwartz 2008 "
                                    "(typically developing children, 4-17 y)")
    assert "Schwartz 2008" in win.curves.band_label.text() and "4-17 y" in win.curves.band_label.text()
    assert "typically developing children" in win.curves.band_label.toolTip()
    assert "Normal bands: Patient aged 32 y judged against Schwartz 2008" in win.info.summary.text()


def test_banner_hidden_when_the_age_fits(window):
    """The same view with the analysis of a 10-year-old: no banner."""
    import dataclasses
    app, win = window
    sv = win.state.session
    child = dataclasses.replace(sv.raw_analysis, patient_age_years=10.0, normative_caution="")
    win.state.session = dataclasses.replace(sv, raw_analysis=child)
    try:
        win.curves.rebuild()
        assert not win.curves.caution.isVisible() and win.curves.caution.text() == ""
    finally:
        win.state.session = sv
        win.curves.rebuild()
    assert win.curves.caution.isVisible()


def test_settings_dialog_writes_the_lab_default(window, tmp_path):
    from app.dialogs.normative import AUTOMATIC, NormativeDialog
    from core.analysis import norm_choice as nc
    dlg = NormativeDialog(win_parent(window))
    assert dlg.combo.itemText(0) == AUTOMATIC and dlg.chosen() is None
    texts = [dlg.combo.itemText(i) for i in range(dlg.combo.count())]
    assert "Schwartz 2008 \u2014 typically developing children (4-17 y, n = 83)" in texts
    dlg.combo.setCurrentIndex(texts.index("Schwartz 2008 \u2014 typically developing children (4-17 y, n = 83)"))
    dlg.accept()
    assert json.loads(nc.settings_path().read_text()) == {"normative_default": "schwartz2008"}
    assert nc.lab_default() == "schwartz2008"
    again = NormativeDialog(win_parent(window))
    assert again.chosen() == "schwartz2008"
    again.combo.setCurrentIndex(0)
    again.accept()
    assert nc.lab_default() is None


def win_parent(window):
    return window[1]
