"""Task-window editing in the real main window (pytest-qt under Xvfb, issue 6).

On the sample pre session's right single-leg squat: delete a repetition window from the
timeline (click it, press Delete) -> its valgus phase disappears from the re-analysis done
in the background; undo/redo through the same undo stack as the event edits; resize a
window by Shift+dragging its edge -> the phase is clipped to the exact frame; and in a
patient store the window edit is saved (Ctrl+S path) with source "edited" and reopened.
"""
from __future__ import annotations

import os

import pytest

from tests.app.gui_support import require_display, sample_session, wait_until

pytestmark = pytest.mark.gui
NAME = "pre_sls_R_01"


@pytest.fixture(scope="module")
def window(tmp_path_factory):
    require_display()
    pre = sample_session("pre")
    if pre is None or not (pre / f"{NAME}.c3d").exists():
        pytest.skip("the sample pre session is not available")
    from PySide6.QtCore import QSettings
    from app.main import create_app
    from app.main_window import MainWindow
    app = create_app()
    ini = tmp_path_factory.mktemp("settings") / "genulab.ini"
    win = MainWindow(QSettings(str(ini), QSettings.IniFormat))
    win.resize(1280, 800)
    win.show()
    win.open_paths([pre])
    wait_until(app, lambda: not win.runner.busy, 60, "the session to open")
    assert win.last_error_box is None, win.last_error_box.informativeText()
    yield app, win, pre
    win.close()


def _idle(app, win, what="the re-analysis"):
    wait_until(app, lambda: not win.editor.busy and not win.runner.busy, 60, what)


def _select_sls(win):
    assert win.browser.select_trial_named(NAME)
    tv = win.state.trial
    assert tv.name == NAME and tv.raw_analysis is not None
    return tv


def _point(win, side, frame):
    from PySide6.QtCore import QPoint
    t = win.timeline
    return QPoint(int(round(t.x_of(frame))), int(t.lane_y(side) + t.height() * 0 + 11))


def _onsets(analysis, side="Right"):
    return [(p.onset_frame, p.offset_frame) for p in analysis.phases_of(side)]


def test_delete_window_from_the_timeline_then_undo_redo(window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    app, win, _ = window
    tv = _select_sls(win)
    a0 = tv.raw_analysis
    assert a0.window_source == {"Right": "detected"} and len(a0.windows["Right"]) == 5
    phases0 = _onsets(a0)
    assert len(phases0) == 5
    w = a0.windows["Right"][2]
    gone = next(p for p in a0.phases if p.window_index == 2)
    t = win.timeline
    assert t.windows_editable
    QTest.mouseClick(t, Qt.LeftButton, Qt.NoModifier, _point(win, "Right", (w.start_frame + w.end_frame) // 2))
    assert t.selected_window == ("Right", w.start_frame, w.end_frame)
    QTest.keyClick(t, Qt.Key_Delete)
    assert win.editor.stack.count() >= 1 and "delete Right repetition window" in win.editor.stack.undoText()
    _idle(app, win)
    a1 = win.state.trial.raw_analysis
    assert a1 is not a0 and a1.window_source == {"Right": "edited"}
    assert [(x.start_frame, x.end_frame) for x in a1.windows["Right"]] == \
           [(x.start_frame, x.end_frame) for x in a0.windows["Right"] if x is not w]
    assert (gone.onset_frame, gone.offset_frame) not in _onsets(a1) and len(a1.phases) == 4
    assert len(win.state.trial.phases) == 4                      # what the timeline and overlay show
    assert any("edited by the user" in n for n in a1.notes)
    win.editor.stack.undo()
    _idle(app, win, "the undo's re-analysis")
    a2 = win.state.trial.raw_analysis
    assert a2.window_source == {"Right": "detected"} and _onsets(a2) == phases0
    win.editor.stack.redo()
    _idle(app, win, "the redo's re-analysis")
    assert _onsets(win.state.trial.raw_analysis) == _onsets(a1)
    win.editor.stack.undo()
    _idle(app, win)
    assert _onsets(win.state.trial.raw_analysis) == phases0


def test_shift_drag_an_edge_clips_the_phase_to_the_frame(window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    app, win, _ = window
    tv = _select_sls(win)
    a0 = tv.raw_analysis
    w = a0.windows["Right"][0]
    ph = next(p for p in a0.phases if p.window_index == 0)
    t = win.timeline
    start, target = _point(win, "Right", w.end_frame), _point(win, "Right", ph.offset_frame - 15)
    new_end = t.frame_at(target.x())
    assert ph.onset_frame < new_end < ph.offset_frame
    QTest.mousePress(t, Qt.LeftButton, Qt.ShiftModifier, start)
    QTest.mouseMove(t, target)
    QTest.mouseRelease(t, Qt.LeftButton, Qt.ShiftModifier, target)
    assert "move Right repetition window" in win.editor.stack.undoText()
    # the timeline shows the new window at once, before the analysis is back
    assert any(c.kind == "repetition" and c.end_frame == new_end for c in win.state.trial.cycles)
    _idle(app, win)
    a1 = win.state.trial.raw_analysis
    assert (a1.windows["Right"][0].start_frame, a1.windows["Right"][0].end_frame) == (w.start_frame, new_end)
    p1 = next(p for p in a1.phases if p.window_index == 0)
    assert (p1.onset_frame, p1.offset_frame) == (ph.onset_frame, new_end)
    # overlapping windows are refused with a reason, nothing is pushed
    n = win.editor.stack.count()
    w1 = a1.windows["Right"][1]
    win.editor.move_window("Right", w1.start_frame, w1.end_frame, w.start_frame + 5, w1.end_frame)
    assert win.editor.stack.count() == n and "overlap" in win.editor.last_message
    win.editor.stack.undo()
    _idle(app, win)
    assert win.state.trial.raw_analysis.window_source == {"Right": "detected"}


def test_walking_windows_are_not_editable(window):
    app, win, _ = window
    walk = max(win.state.session.trials, key=lambda t: len(t.cycles))
    assert win.browser.select_trial_named(walk.name)
    n = win.editor.stack.count()
    assert not win.timeline.windows_editable
    win.editor.add_window("Right", walk.trial.first_frame + 1, walk.trial.first_frame + 20)
    assert win.editor.stack.count() == n and "events" in win.editor.last_message


def test_stored_session_window_edit_saved_with_source_edited(window, tmp_path):
    from core.store import PatientStore
    from core.store.importer import import_session
    app, win, pre = window
    folder = tmp_path / "GL-0001" / "pre"
    folder.mkdir(parents=True)
    for f in pre.iterdir():
        if f.name.startswith(("pre_static", NAME)) or f.suffix in (".vsk", ".json") and "truth" not in f.name:
            os.symlink(f, folder / f.name)
    store_path = tmp_path / "patient.genu"
    import_session(folder, store_path)
    win.open_paths([store_path])
    wait_until(app, lambda: not win.runner.busy, 60, "the store to open")
    assert win.last_error_box is None
    st = win.state
    assert st.session.store_path == store_path
    tv = _select_sls(win)
    w = tv.raw_analysis.windows["Right"][3]
    n0 = len(tv.raw_analysis.phases)
    win.editor.delete_window("Right", w.start_frame, w.end_frame)
    _idle(app, win)
    assert len(st.trial.raw_analysis.windows["Right"]) == 4
    win.save_events()
    assert "1 task-window edit" in win.statusBar().currentMessage()
    store = PatientStore.open(store_path, "r")
    try:
        rec = store.load_trial(st.session.store_session, NAME)
    finally:
        store.close()
    assert rec.window_source == {"Right": "edited"}
    assert [(x.start_frame, x.end_frame) for x in rec.windows["Right"]] == \
           [(x.start_frame, x.end_frame) for x in tv.raw_analysis.windows["Right"] if x is not w]
    assert [(e.action, e.side, e.before.start_frame, e.after) for e in rec.window_edits] == \
           [("delete", "Right", w.start_frame, None)]
    assert rec.analysis.window_source == {"Right": "edited"} and len(rec.analysis.phases) == n0 - 1
    # reopened: the edit is there, and a later event edit keeps the user's windows
    win.state.close_session(st.session)
    win.open_paths([store_path])
    wait_until(app, lambda: not win.runner.busy, 60, "the store to reopen")
    tv2 = _select_sls(win)
    assert tv2.raw_analysis.window_source == {"Right": "edited"} and len(tv2.raw_analysis.windows["Right"]) == 4
    assert sum(c.kind == "repetition" for c in tv2.cycles) == 4
    win.editor.add("Foot Strike", "Left", tv2.trial.first_frame + 10)
    assert win.state.trial.raw_analysis.window_source == {"Right": "edited"}
    win.editor.stack.undo()
    win.state.close_session(win.state.session)


def test_ctrl_drag_on_a_row_adds_a_window(window):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    app, win, _ = window
    tv = _select_sls(win)
    wins = tv.raw_analysis.windows["Right"]
    t = win.timeline
    gap = wins[1].start_frame - wins[0].end_frame
    a, b = wins[0].end_frame + gap // 4, wins[1].start_frame - gap // 4
    p0, p1 = _point(win, "Right", a), _point(win, "Right", b)
    fa, fb = t.frame_at(p0.x()), t.frame_at(p1.x())
    QTest.mousePress(t, Qt.LeftButton, Qt.ControlModifier, p0)
    QTest.mouseMove(t, p1)
    QTest.mouseRelease(t, Qt.LeftButton, Qt.ControlModifier, p1)
    assert "add Right repetition window" in win.editor.stack.undoText(), (win.editor.last_message, fa, fb, [(w.start_frame, w.end_frame) for w in wins])
    _idle(app, win)
    new = win.state.trial.raw_analysis.windows["Right"]
    assert len(new) == 6 and (new[1].start_frame, new[1].end_frame) == (fa, fb) and new[1].index == 1
    assert new[1].kind == "repetition" and fa <= new[1].peak_frame <= fb
    # the context menu's span for a click in a gap stays inside it; none inside a window
    mid = (new[2].end_frame + new[3].start_frame) // 2
    span = t.new_window_span("Right", mid)
    assert span is not None and new[2].end_frame < span[0] < span[1] < new[3].start_frame
    assert t.new_window_span("Right", new[0].start_frame + 1) is None
    win.editor.stack.undo()
    _idle(app, win)
    assert len(win.state.trial.raw_analysis.windows["Right"]) == 5
