"""Screenshots of the main views for docs/screenshots (run under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python packaging/make_screenshots.py [SESSION_OR_C3D ...]

Captures the X display with ``QScreen.grabWindow`` (includes the VTK area, unlike
``QWidget.grab``). Default input: the sample sessions in sample_c3d/, else the BTK PiG
FlatFoot reference trial.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"


def wait(app, cond, timeout=60.0):
    t0 = time.time()
    while not cond():
        app.processEvents()
        time.sleep(0.01)
        if time.time() - t0 > timeout:
            raise TimeoutError("timed out")


def settle(app, s=0.4):
    t0 = time.time()
    while time.time() - t0 < s:
        app.processEvents()
        time.sleep(0.01)


def grab(win, name):
    from PySide6.QtGui import QGuiApplication
    screen = QGuiApplication.primaryScreen()
    pix = screen.grabWindow(0, win.x(), win.y(), win.frameGeometry().width(), win.frameGeometry().height())
    OUT.mkdir(parents=True, exist_ok=True)
    pix.save(str(OUT / name))
    print("wrote", OUT / name)


def default_inputs() -> list[Path]:
    samples = ROOT / "sample_c3d"
    pats = sorted(p for p in samples.iterdir() if p.is_dir()) if samples.is_dir() else []
    if pats:
        return [pats[0]]   # the patient folder: sessions open in date order (patient.json)
    return [ROOT.parent / "shared/reference/BTKData/PiG/PiG_Motion-FlatFoot-Full.c3d"]


def kinetics_shot(app, win) -> None:
    """4. kinetics: GRF arrow on the plate (side view) and the moment / power curves.

    Uses a trial of the opened sessions with force plates, else the BTK PiG walking file
    (Vicon's stored kinetics, until the samples carry plates)."""
    from app.plots import TIME_MODE
    st = win.state
    with_plates = [t for s in st.sessions for t in s.trials if t.kinetics is not None and t.kinetics.n_plates]
    if not with_plates:
        ref = ROOT.parent / "shared/reference/BTKData/PiG/PiG_Motion-FlatFoot-Full.c3d"
        if not ref.exists():
            return
        win.open_paths([ref])
        wait(app, lambda: not win.runner.busy and st.trial is not None and st.trial.name == ref.stem)
        with_plates = [st.trial]
    tv = with_plates[0]
    win.browser.select_trial_named(tv.name)
    win.tabs.setCurrentWidget(win.curves)
    win.browser_dock.show()
    loaded = tv.kinetics.plate_state.any(axis=1).nonzero()[0]
    frame = tv.trial.first_frame + int(loaded[len(loaded) // 2]) if loaded.size else tv.trial.first_frame
    win.curves.group.setCurrentText("Kinetics")
    win.curves.xmode.setCurrentText(TIME_MODE)
    win.viewer.set_view("right")
    st.set_frame(frame)
    settle(app, 1.0)
    grab(win, "kinetics.png")


def main(argv) -> int:
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import MainWindow
    app = create_app()
    settings = QSettings(str(OUT / ".screenshots.ini"), QSettings.IniFormat)
    settings.clear()
    win = MainWindow(settings)
    win.setGeometry(0, 0, 1600, 1000)
    win.show()
    paths = [Path(a) for a in argv] or default_inputs()
    win.open_paths(paths)
    wait(app, lambda: not win.runner.busy and win.state.trial is not None)
    st = win.state
    walking = [t for s in st.sessions for t in s.trials if t.task == "walk" and t.phases] or \
              [t for s in st.sessions for t in s.trials if len(t.cycles) >= 2]
    if walking:
        win.browser.select_trial_named(walking[0].name)
    tv = st.trial
    frame = tv.phases[0].peak_frame if tv.phases else tv.trial.first_frame + tv.trial.n_frames // 2
    # 1. browser + 3D + curves, side view
    from app.plots import CYCLE_MODE, TIME_MODE
    win.curves.xmode.setCurrentText(CYCLE_MODE)
    win.viewer.set_view("right")
    st.set_frame(frame)
    settle(app, 1.0)
    grab(win, "main_window.png")
    # 2. valgus overlay in the frontal view
    win.viewer.set_view("front")
    win.curves.group.setCurrentText("Valgus")
    win.curves.xmode.setCurrentText(TIME_MODE)
    st.set_frame(frame)
    settle(app, 1.0)
    grab(win, "valgus_frontal.png")
    # 3. comparison view
    if len(win.comparison.analysed()) >= 2:
        win.tabs.setCurrentWidget(win.comparison)
        win.browser_dock.hide()
        win.splitter.setSizes([560, 1040])
        if win.comparison.comparison is None and not win.runner.busy:
            win.comparison.compare()
        wait(app, lambda: not win.runner.busy and win.comparison.comparison is not None, 120)
        settle(app, 1.0)
        grab(win, "comparison.png")
    kinetics_shot(app, win)
    win.close()
    (OUT / ".screenshots.ini").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
