"""Headless GUI tests (pytest-qt under Xvfb) driving the real main window.

Open the sample session (or the BTK PiG FlatFoot reference trial until the samples exist),
wait for the worker, step frames and check the markers moved in the VTK scene, probe the
valgus colour inside a phase and the normal colour outside, edit an event and undo it, and
open a broken file to see the error dialog.
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.app.gui_support import (is_right_colour, is_valgus_colour, patch_rgb, require_display,
                                   session_to_open, wait_until)

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
    win.open_paths([session_to_open()])
    wait_until(app, lambda: not win.runner.busy, 60, "the session to open")
    assert win.last_error_box is None, win.last_error_box.informativeText()
    yield app, win
    win.close()


def test_session_opens_in_the_browser_and_views(window):
    app, win = window
    st = win.state
    assert st.sessions and st.trial is not None
    tv = st.trial
    assert tv.outputs is not None and "LKJC" in tv.outputs.channels
    top = win.browser.topLevelItem(0)
    assert top.text(0) == st.sessions[0].patient
    assert top.child(0).child(0).text(0) == st.sessions[0].trials[0].name
    assert win.viewer.scene.data is not None and win.viewer.n_renders > 0
    assert win.curves.cursors, "curves drawn with a cursor per axes"


def select_walking(win):
    """Select the trial with the most gait cycles (the walking trial of a session)."""
    st = win.state
    best = max(st.session.trials, key=lambda t: len(t.cycles))
    assert win.browser.select_trial_named(best.name)
    assert st.trial.name == best.name and len(best.cycles) >= 2
    return best


def test_stepping_frames_moves_markers_in_the_vtk_scene(window):
    app, win = window
    select_walking(win)
    st, scene = win.state, win.viewer.scene
    st.set_frame(st.frame_range[0] + 20)
    app.processEvents()
    a = scene.marker_positions()
    for _ in range(30):
        win.playback.step(1)
    app.processEvents()
    b = scene.marker_positions()
    assert win.state.frame == st.frame_range[0] + 50
    assert scene.row == 50
    labels = scene.data.marker_labels
    i = labels.index("LASI")
    assert np.allclose(b[i], st.trial.trial.point("LASI")[50], equal_nan=True)
    assert np.linalg.norm(b[i] - a[i]) > 50.0
    # the curves' cursor followed (blitted, both ways: a click on a curve moves the frame)
    assert all(c.get_xdata()[0] == st.frame for c, _ in win.curves.cursors)
    win.curves._on_click(type("E", (), {"inaxes": win.curves.cursors[0][0].axes, "xdata": st.frame - 7.2, "button": 1})())
    assert st.frame == st.frame_range[0] + 43


def test_curves_in_gait_cycle_mode_follow_the_frame(window):
    from app.plots import CYCLE_MODE, TIME_MODE
    app, win = window
    tv = select_walking(win)
    curves, st = win.curves, win.state
    curves.xmode.setCurrentText(CYCLE_MODE)
    app.processEvents()
    left = next(c for c in tv.cycles if c.side == "Left")
    frame = left.start_frame + (left.end_frame - left.start_frame) // 4
    st.set_frame(frame)
    pct = 100.0 * (frame - left.start_frame) / (left.end_frame - left.start_frame)
    xs = [c.get_xdata()[0] for c, side in curves.cursors if side == "Left"]
    assert xs and np.allclose(xs, pct)
    # one line per cycle and side on each axes (+ the band), cycles over 0-100 %
    ax = curves.cursors[0][0].axes
    assert len(ax.lines) >= len(tv.cycles) and ax.get_xlim() == (0.0, 100.0)
    curves.xmode.setCurrentText(TIME_MODE)


def _known_phase(win):
    """A right valgus phase known in advance.

    With the sample sessions: the phase written in the walking trial's ``.truth.json`` by
    the sample generator (the app's analysis must show it, onset/offset within 1 frame).
    Without them (reference trial, no valgus): a phase set here on the trial view.
    """
    import json
    from app.viewdata import PhaseSpan, TrialView
    st = win.state
    for t in st.session.trials:
        truth = t.path.with_suffix(".truth.json") if t.path is not None else None
        if truth is None or not truth.exists():
            continue
        right = [p for p in json.loads(truth.read_text())["phases"] if p["side"] == "Right"]
        if right:
            assert win.browser.select_trial_named(t.name)
            want = right[0]
            shown = [p for p in st.trial.phases if p.side == "Right"
                     and abs(p.onset_frame - want["onset_frame"]) <= 1 and abs(p.offset_frame - want["offset_frame"]) <= 1]
            assert shown, f"{t.name}: truth phase {want['onset_frame']}-{want['offset_frame']} not shown"
            return PhaseSpan("Right", want["onset_frame"], want["offset_frame"], want["peak_frame"], want["peak_value"])
    tv = st.trial
    f0 = tv.trial.first_frame
    phase = PhaseSpan("Right", f0 + 100, f0 + 140, f0 + 120, 14.0)
    st.update_trial(TrialView(tv.trial, tv.outputs, tv.source, tv.events, tv.cycles, (phase,), tv.metrics,
                              tv.task, tv.task_side, tv.raw_processed, tv.raw_analysis))
    return phase


def test_valgus_colour_inside_phase_normal_outside(window):
    from app.scene_data import JOINTS
    app, win = window
    phase = _known_phase(win)
    win.viewer.set_view("front")
    win.viewer.fppa_action.setChecked(False)
    win.viewer.markers_action.setChecked(False)
    scene, st = win.viewer.scene, win.state

    def probe(frame):
        st.set_frame(frame)
        app.processEvents()
        j = scene.data.joints[scene.row]
        mid = 0.5 * (j[JOINTS.index("RKJC")] + j[JOINTS.index("RAJC")])
        return patch_rgb(scene.capture(), scene.display_position(mid))

    st.set_frame(st.frame_range[0])
    win.jump("phase", +1)                                        # Playback > Next valgus phase
    assert st.frame == min(p.peak_frame for p in st.trial.phases)
    inside = probe(phase.peak_frame)
    outside_frame = next(f for f in range(st.frame_range[0], st.frame_range[1])
                         if not scene.data.in_phase[f - st.frame_range[0], 1])
    outside = probe(outside_frame)
    assert is_valgus_colour(inside), f"inside phase at {phase.peak_frame}: {inside}"
    assert is_right_colour(outside), f"outside at {outside_frame}: {outside}"
    win.viewer.fppa_action.setChecked(True)
    win.viewer.markers_action.setChecked(True)


def test_edit_event_then_undo(window):
    app, win = window
    select_walking(win)
    st = win.state
    before = tuple(st.trial.events)
    n_cycles = len(st.trial.cycles)
    analysis0 = st.trial.raw_analysis
    camera = win.viewer.scene.renderer.GetActiveCamera()
    win.viewer.set_view("left")
    camera.Azimuth(25.0)                                         # the user turned the view
    pose = (camera.GetPosition(), camera.GetFocalPoint())
    right_phases0 = [p for p in st.trial.phases if p.side == "Right"]
    strikes = sorted(e.frame for e in before if e.context == "Left" and e.label == "Foot Strike")
    assert len(strikes) >= 2
    win.editor.delete(next(e for e in before if e.context == "Left" and e.frame == strikes[-1]
                           and e.label == "Foot Strike"))
    assert len(st.trial.events) == len(before) - 1
    assert len(st.trial.cycles) < n_cycles                       # a left cycle lost its end
    assert (camera.GetPosition(), camera.GetFocalPoint()) == pose   # the edit kept the camera
    if analysis0 is not None:                                    # the analysis was redone on the new events
        assert st.trial.raw_analysis is not analysis0
        assert len(st.trial.raw_analysis.cycles["Left"]) == len(analysis0.cycles["Left"]) - 1
        # the right side's phases do not depend on a left foot strike
        assert [(p.onset_frame, p.offset_frame) for p in st.trial.phases if p.side == "Right"] == \
               [(p.onset_frame, p.offset_frame) for p in right_phases0]
    frame = strikes[0] + 3
    win.editor.add("Foot Off", "Right", frame)
    added = [e for e in st.trial.events if e.source == "edited"]
    assert [(e.label, e.context, e.frame) for e in added] == [("Foot Off", "Right", frame)]
    win.editor.stack.undo()
    win.editor.stack.undo()
    assert tuple(st.trial.events) == before
    assert len(st.trial.cycles) == n_cycles
    win.editor.stack.redo()
    assert len(st.trial.events) == len(before) - 1
    win.editor.stack.undo()
    assert tuple(st.trial.events) == before


def test_broken_file_shows_error_dialog_and_app_stays_up(window, tmp_path):
    app, win = window
    bad = tmp_path / "broken.c3d"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    n_sessions = len(win.state.sessions)
    win.open_paths([bad])
    wait_until(app, lambda: not win.runner.busy and win.last_error_box is not None, 20, "the error dialog")
    box = win.last_error_box
    assert box.isVisible()
    assert "broken.c3d" in box.informativeText()
    assert "Reason" in box.informativeText()
    box.done(0)                                   # auto-dismiss
    app.processEvents()
    assert not box.isVisible()
    assert len(win.state.sessions) == n_sessions and win.isVisible()
    win.last_error_box = None


def test_excepthook_shows_errors_from_slots(window):
    import sys
    from app.main import install_excepthook
    app, win = window
    old = sys.excepthook
    install_excepthook(win)
    try:
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())
        assert win.last_error_box is not None and "boom in a slot" in win.last_error_box.informativeText()
        win.last_error_box.done(0)
    finally:
        sys.excepthook = old
        win.last_error_box = None


def test_playback_loops_over_selected_cycle(window):
    app, win = window
    select_walking(win)
    st = win.state
    cyc = st.trial.cycles[0]
    st.select_cycle(cyc)
    win.playback.set_speed(2.0)
    win.playback.play()
    seen = set()
    import time
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.5:
        app.processEvents()
        seen.add(st.frame)
        time.sleep(0.005)
    win.playback.pause()
    assert min(seen) >= cyc.start_frame and max(seen) <= cyc.end_frame
    assert len(seen) > 10
    st.select_cycle(None)
    win.playback.set_speed(1.0)


def test_settings_remembered(window):
    from app.main_window import MainWindow
    from tests.app.gui_support import session_to_open
    app, win = window
    win.curves.group.setCurrentText("Valgus")
    win.save_settings()
    assert str(session_to_open().resolve()) in win.recent()
    other = MainWindow(win.settings)              # a new run reading the same settings
    try:
        assert other.curves.group.currentText() == "Valgus"
        assert other.recent() == win.recent()
        assert other.recent_menu.actions()[0].text() == win.recent()[0]
    finally:
        other.deleteLater()
    win.curves.group.setCurrentText("Kinematics")


def test_store_session_edit_saved_with_source_edited(window, tmp_path):
    """Import a real session into a store, open the store, delete an event, save, reload."""
    import os
    from core.store import PatientStore
    from core.store.importer import import_session
    from tests.conftest import reference_file
    app, win = window
    folder = tmp_path / "Patient" / "pre"
    folder.mkdir(parents=True)
    for name in ("PiG_Calibration-FlatFoot-Full.c3d", "PiG_Motion-FlatFoot-Full.c3d"):
        os.symlink(reference_file("BTKData", "PiG", name), folder / name)   # never copied into the repo
    store_path = tmp_path / "patient.genu"
    import_session(folder, store_path)
    win.open_paths([store_path])
    wait_until(app, lambda: not win.runner.busy, 30, "the store to open")
    assert win.last_error_box is None
    st = win.state
    assert st.session.store_path == store_path and st.trial.name == "PiG_Motion-FlatFoot-Full"
    before = tuple(st.trial.events)
    moved = next(e for e in before if e.context == "Right" and e.label == "Foot Off")
    win.editor.move(moved, moved.frame + 2)
    win.save_events()
    store = PatientStore.open(store_path, "r")
    try:
        rec = store.load_trial(st.session.store_session, st.trial.name)
    finally:
        store.close()
    new = [e for e in rec.events if e.source == "edited"]
    assert [(e.label, e.context, e.frame) for e in new] == [("Foot Off", "Right", moved.frame + 2)]
    assert [(x.action, x.before.frame, x.after.frame) for x in rec.event_edits] == [("move", moved.frame, moved.frame + 2)]
    win.editor.stack.undo()
    assert tuple(st.trial.events) == before
    win.state.close_session(st.session)


def test_subject_dialog_prefilled_with_sources_and_overrides(window):
    from app.dialogs.subject import SubjectDialog
    app, win = window
    dlg = SubjectDialog(win.state.session, win)
    rows = {dlg.table.item(r, 0).text(): r for r in range(dlg.table.rowCount())}
    assert "LeftLegLength" in rows and "RightKneeWidth" in rows
    r = rows["LeftLegLength"]
    value = float(dlg.table.item(r, 1).text())
    assert 500.0 < value < 1200.0                                  # mm, from the session's files
    assert dlg.table.item(r, 3).text()                             # where it came from
    assert dlg.overrides() == {}
    dlg.table.item(r, 1).setText(f"{value + 10:.1f}")
    assert dlg.overrides() == {"LeftLegLength": pytest.approx(value + 10, abs=0.06)}
    dlg.deleteLater()


def test_export_processed_c3d_and_csv(window, tmp_path):
    from core.io.c3d import read_c3d
    from app.dialogs.export import export_trials
    app, win = window
    session = win.state.session
    written = export_trials(session, tmp_path, c3d=True, csv=True)
    tv = next(t for t in session.trials if t.outputs is not None)
    c3d = tmp_path / f"{tv.name}.genulab.c3d"
    assert c3d in written and (tmp_path / f"{tv.name}.csv") in written
    back = read_c3d(c3d)
    k = back.labels.index("LKneeAngles")
    np.testing.assert_allclose(back.points[:, k], tv.outputs.channels["LKneeAngles"], atol=1e-3, equal_nan=True)
    header = (tmp_path / f"{tv.name}.csv").read_text().splitlines()[0]
    assert header.startswith("frame,") and "LKneeAngles_X" in header


def test_drop_opens_files(window):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent
    from tests.app.gui_support import session_to_open
    app, win = window
    target = sorted(session_to_open().glob("*walk*.c3d"))[:1] if session_to_open().is_dir() else [session_to_open()]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in target])
    ev = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    n = len(win.state.sessions)
    win.dropEvent(ev)
    wait_until(app, lambda: not win.runner.busy, 30, "the dropped file")
    assert win.last_error_box is None
    assert win.state.trial.name == target[0].stem
    assert len(win.state.sessions) >= n


def test_real_vicon_session_flatfoot(window):
    """The BTK PiG FlatFoot motion with its static beside it: processed with CGM1, 5 cycles."""
    from tests.conftest import reference_file
    app, win = window
    path = reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d")
    win.open_paths([path])
    wait_until(app, lambda: not win.runner.busy, 60, "the reference trial")
    assert win.last_error_box is None
    s, tv = win.state.session, win.state.trial
    assert tv.name == "PiG_Motion-FlatFoot-Full" and tv.source == "Genu Lab CGM1"
    assert s.static_name == "PiG_Calibration-FlatFoot-Full"          # matched by name
    assert len(tv.cycles) == 5 and tv.task == "walk"
    # the skeleton is on screen: joints at the C3D's own knee markers' height
    scene = win.viewer.scene
    j = scene.data.joints[scene.row]
    assert np.isfinite(j).all()
    win.state.close_session(s)


def test_gui_command_imports_qt_lazily():
    import subprocess
    import sys
    from tests.conftest import ROOT
    code = ("import sys, argparse; import app.commands.gui_cmd as g; p = argparse.ArgumentParser(); "
            "sp = p.add_subparsers(); g.register(sp); a = p.parse_args(['gui', 'x.c3d']); "
            "assert a.paths == ['x.c3d']; assert 'PySide6' not in sys.modules and 'vtkmodules' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_worker_reports_progress_and_cancels(window):
    """The runner adapts Qt to the core's progress/cancelled callables; cancel ends the task."""
    import time
    from core.errors import CancelledError
    app, win = window
    seen, ended = [], []
    win.runner.progress.connect(lambda f, m: seen.append((f, m)))
    win.runner.cancelled.connect(lambda: ended.append("cancelled"))

    def slow(progress, cancelled):
        for i in range(500):
            progress(i / 500, f"step {i}")
            if cancelled():
                raise CancelledError()
            time.sleep(0.01)
        return "finished"

    win.runner.run("slow task", slow, lambda r: ended.append(r))
    wait_until(app, lambda: len(seen) >= 3, 10, "progress reports")
    assert win.progress.isVisible() and win.cancel_button.isVisible()
    win.cancel_button.click()
    wait_until(app, lambda: ended, 10, "the cancellation")
    assert ended == ["cancelled"] and not win.runner.busy
    assert not win.progress.isVisible()
    assert seen[0] == (0.0, "step 0")


def test_unprocessable_trial_is_shown_with_its_own_outputs_and_the_reason(window, tmp_path):
    """A static without the lower-body markers beside a Vicon motion: the motion is shown with
    Vicon's outputs stored in it, and the reason it was not processed is noted."""
    import os
    from tests.conftest import reference_file
    app, win = window
    os.symlink(reference_file("c3d.org", "sample_01", "Eb015pi.c3d"), tmp_path / "Static_cal.c3d")
    os.symlink(reference_file("BTKData", "PiG", "PiG_Motion-FlatFoot-Full.c3d"), tmp_path / "walk.c3d")
    win.open_paths([tmp_path / "walk.c3d"])
    wait_until(app, lambda: not win.runner.busy, 30, "the trial")
    assert win.last_error_box is None
    s, tv = win.state.session, win.state.trial
    assert tv.name == "walk" and tv.source == "file (Vicon)"
    assert any("not processed with Static_cal.c3d" in n for n in s.notes), s.notes
    assert "not processed" in win.info.summary.text()
    win.state.close_session(s)


def test_subject_override_reprocesses_with_source_set(window):
    """What the subject dialog does on OK: the session is processed again with the new value."""
    from app.engine import open_paths
    from tests.app.gui_support import session_to_open
    path = session_to_open()
    sessions = open_paths([path], overrides={"LeftLegLength": 905.0})
    subject = sessions[0].subject
    assert subject.get("LeftLegLength") == 905.0 and subject.source("LeftLegLength") == "--set"


def test_comparison_view_pre_post(window):
    """Both sample sessions: the comparison tab compares pre -> post by itself; the right
    walking FPPA peak drops beyond measurement error (the samples' known truth)."""
    from tests.app.gui_support import sample_session
    from app.comparison_view import EXCEEDS
    app, win = window
    pre = sample_session("pre")
    if pre is None:
        pytest.skip("sample sessions not generated")
    win.open_paths([pre.parent])
    wait_until(app, lambda: not win.runner.busy, 60, "both sessions")
    view = win.comparison
    assert view.pre.currentData().label == "pre" and view.post.currentData().label == "post"
    view.comparison = None
    win.tabs.setCurrentWidget(win.curves)
    win.tabs.setCurrentWidget(view)                     # first showing runs the comparison
    wait_until(app, lambda: view.comparison is not None and not win.runner.busy, 60, "the comparison")
    rows = {(view.table.item(r, 0).text(), view.table.item(r, 1).text()): r for r in range(view.table.rowCount())}
    r = rows[("FPPA peak, walking", "Right")]
    pre_v, post_v = float(view.table.item(r, 2).text()), float(view.table.item(r, 3).text())
    assert post_v < pre_v - 5.0
    assert view.table.item(r, 7).text() == EXCEEDS
    assert view.figure.axes and any(ax.get_lines() for ax in view.figure.axes)
    win.tabs.setCurrentWidget(win.curves)


def test_single_file_of_an_open_session_is_merged_into_it(window):
    from tests.app.gui_support import sample_session
    app, win = window
    pre = sample_session("pre")
    if pre is None:
        pytest.skip("sample sessions not generated")
    win.open_paths([pre])
    wait_until(app, lambda: not win.runner.busy, 60, "the session")
    n = len(win.state.session.trials)
    walk = sorted(pre.glob("*walk*.c3d"))[-1]
    win.open_paths([walk])
    wait_until(app, lambda: not win.runner.busy, 60, "the file")
    assert len(win.state.session.trials) == n                    # merged, not a 1-trial session
    assert win.state.trial.name == walk.stem
    assert sum(s.key == win.state.session.key for s in win.state.sessions) == 1
