"""Main window: layout, menus and actions; wires the widgets to :class:`AppState`.

No computation here: opening and processing run in :class:`app.workers.TaskRunner` through
:mod:`app.engine`; widgets observe the state. Settings (geometry, splitters, recent files,
last folder, speed, curve group, camera) are remembered with ``QSettings``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from app import engine
from app.comparison_view import ComparisonView
from app.dialogs.errors import error_box
from app.events_edit import EventEditor
from app.info_panel import TrialInfoPanel
from app.playback import Playback
from app.plots import CurvesPanel
from app.session_browser import SessionBrowser
from app.state import AppState
from app.timeline import TimelineStrip
from app.transport import TransportBar
from app.viewer3d import Viewer3D
from app.workers import TaskRunner

ORG, APP = "GenuLab", "Genu Lab"
MAX_RECENT = 10
FILTER_KEY = "processing/filter_markers_hz"   # QSettings key of Settings > Marker filter
MAX_FILTER_HZ = 50.0


class MainWindow(QMainWindow):
    """The Genu Lab main window."""

    def __init__(self, settings: Optional[QSettings] = None) -> None:
        super().__init__()
        self.setWindowTitle("Genu Lab")
        self.setObjectName("GenuLabMainWindow")
        self.setAcceptDrops(True)
        self.settings = settings or QSettings(ORG, APP)
        self.state = AppState(self)
        self.runner = TaskRunner(self)
        self.playback = Playback(self.state, self)
        self.editor = EventEditor(self.state, self)
        self.last_error_box: Optional[QMessageBox] = None
        self._build_central()
        self._build_docks()
        self._build_status()
        self._build_menus()
        self._connect()
        self._restore_settings()

    # ------------------------------------------------------------------ layout
    def _build_central(self) -> None:
        self.viewer = Viewer3D(self.state)
        self.timeline = TimelineStrip(self.state)
        self.transport = TransportBar(self.state, self.playback)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.viewer, 1)
        lay.addWidget(self.timeline)
        lay.addWidget(self.transport)
        self.curves = CurvesPanel(self.state)
        self.comparison = ComparisonView(self.state, self.runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.curves, "Curves")
        self.tabs.addTab(self.comparison, "Comparison")
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.setCentralWidget(self.splitter)

    def _build_docks(self) -> None:
        self.browser = SessionBrowser(self.state)
        self.info = TrialInfoPanel(self.state)
        side = QSplitter(Qt.Vertical)
        side.addWidget(self.browser)
        side.addWidget(self.info)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        self.side_splitter = side
        side.setMinimumWidth(330)
        dock = QDockWidget("Sessions", self)
        dock.setObjectName("sessionsDock")
        dock.setWidget(side)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        self.addDockWidget(Qt.LeftDockWidgetArea, dock)
        self.browser_dock = dock

    def _build_status(self) -> None:
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(260)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.runner.cancel)
        sb = self.statusBar()
        sb.addPermanentWidget(self.progress_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self._set_busy(False)

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "Open C3D &files\u2026", self.open_files_dialog, QKeySequence.Open)
        self._action(f, "Open session &folder\u2026", self.open_folder_dialog, "Ctrl+Shift+O")
        self._action(f, "Open patient &store\u2026", self.open_store_dialog)
        self.recent_menu = f.addMenu("Open &recent")
        f.addSeparator()
        self._action(f, "Subject &parameters\u2026", self.subject_dialog, "Ctrl+P")
        self._action(f, "&Export\u2026", self.export_dialog, "Ctrl+E")
        self._action(f, "&Batch process a folder\u2026", self.batch_dialog)
        f.addSeparator()
        self._action(f, "&Close all", self.state.close_all, "Ctrl+Shift+W")
        self._action(f, "&Quit", self.close, QKeySequence.Quit)
        e = mb.addMenu("&Edit")
        undo = self.editor.stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.Undo)
        redo = self.editor.stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.Redo)
        e.addAction(undo)
        e.addAction(redo)
        e.addSeparator()
        self._action(e, "Add Left Foot Strike at cursor", lambda: self._add_event("Foot Strike", "Left"), "Ctrl+1")
        self._action(e, "Add Left Foot Off at cursor", lambda: self._add_event("Foot Off", "Left"), "Ctrl+2")
        self._action(e, "Add Right Foot Strike at cursor", lambda: self._add_event("Foot Strike", "Right"), "Ctrl+3")
        self._action(e, "Add Right Foot Off at cursor", lambda: self._add_event("Foot Off", "Right"), "Ctrl+4")
        self._action(e, "&Save edited events to the store", self.save_events, QKeySequence.Save)
        v = mb.addMenu("&View")
        for i, name in enumerate(("front", "back", "left", "right", "top", "follow")):
            self._action(v, f"{name.capitalize()} camera", lambda _=False, n=name: self.viewer.set_view(n), f"F{i + 1}")
        v.addSeparator()
        for a in (self.viewer.markers_action, self.viewer.axes_action, self.viewer.fppa_action):
            v.addAction(a)
        p = mb.addMenu("&Playback")
        self._action(p, "Play / pause", self.playback.toggle, Qt.Key_Space)
        self._action(p, "Next frame", lambda: self.playback.step(1), Qt.Key_Right)
        self._action(p, "Previous frame", lambda: self.playback.step(-1), Qt.Key_Left)
        self._action(p, "Forward 10 frames", lambda: self.playback.step(10), "Shift+Right")
        self._action(p, "Back 10 frames", lambda: self.playback.step(-10), "Shift+Left")
        p.addSeparator()
        self._action(p, "Next valgus phase (peak)", lambda: self.jump("phase", +1), "N")
        self._action(p, "Previous valgus phase (peak)", lambda: self.jump("phase", -1), "Shift+N")
        self._action(p, "Next event", lambda: self.jump("event", +1), "E")
        self._action(p, "Previous event", lambda: self.jump("event", -1), "Shift+E")
        st = mb.addMenu("&Settings")
        self._action(st, "&Normative data\u2026", self.normative_dialog,
                     tip="lab default normal bands (shared with genulab norms)")
        self._action(st, "&Marker filter\u2026", self.marker_filter_dialog,
                     tip="low-pass cut-off of the markers of raw C3D files before the model (as --filter)")
        h = mb.addMenu("&Help")
        self._action(h, "&About Genu Lab", self.about)
        self._update_recent_menu()

    def marker_filter_hz(self) -> float:
        """Settings > Marker filter: the low-pass cut-off (Hz, 0 = off) used when raw C3D files
        and session folders are processed (``ProcessingSettings.filter_markers_hz``)."""
        try:
            value = float(self.settings.value(FILTER_KEY, 0.0) or 0.0)
        except (TypeError, ValueError):
            value = 0.0
        return value if 0.0 < value <= MAX_FILTER_HZ else 0.0

    def marker_filter_dialog(self) -> None:
        """Ask for the marker low-pass cut-off (a zero-lag 4th-order Butterworth, 0 = off)."""
        from PySide6.QtWidgets import QInputDialog
        value, ok = QInputDialog.getDouble(
            self, "Marker filter",
            "Low-pass cut-off of the markers before the model, in Hz (0 = off).\n"
            "Applies to C3D files and session folders opened from now on and to batch runs;\n"
            "stored sessions keep the settings they were processed with.",
            self.marker_filter_hz(), 0.0, MAX_FILTER_HZ, 1)
        if ok:
            self.settings.setValue(FILTER_KEY, float(value))
            self.statusBar().showMessage(
                f"Marker filter: {f'{value:g} Hz low-pass' if value else 'off'} (files opened from now on)", 8000)

    def normative_dialog(self) -> None:
        """Settings > Normative data: choose the lab default set."""
        from app.dialogs.normative import NormativeDialog
        from core.errors import GenuError
        dlg = NormativeDialog(self)
        try:
            if dlg.exec():
                self.statusBar().showMessage(f"Lab default normal bands: {dlg.chosen() or 'automatic by age'} "
                                             "(applies to sessions opened or re-analysed from now on)", 8000)
        except GenuError as exc:
            self.show_error(exc)

    def _connect(self) -> None:
        r = self.runner
        r.started.connect(lambda label: (self._set_busy(True), self.progress_label.setText(label)))
        r.progress.connect(self._on_progress)
        r.idle.connect(lambda: self._set_busy(False))
        r.failed.connect(self.show_error)
        r.cancelled.connect(lambda: self.statusBar().showMessage("Cancelled", 4000))
        t = self.timeline
        t.addEventRequested.connect(self.editor.add)
        t.moveEventRequested.connect(self.editor.move)
        t.deleteEventRequested.connect(self.editor.delete)
        self.editor.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.editor.edited.connect(lambda name: self.statusBar().showMessage(
            f"{name}: {self.editor.stack.undoText() or 'edit undone'}"
            + (" (not saved: Ctrl+S saves them to the store)" if self.state.session is not None
               and self.state.session.store_path is not None else ""), 6000))
        self.browser.closeSessionRequested.connect(self.state.close_session)
        self.tabs.currentChanged.connect(self._on_tab)
        self.state.trialChanged.connect(self._on_trial)

    def _on_tab(self, index: int) -> None:
        """The comparison runs by itself the first time its tab is shown with two sessions."""
        if self.tabs.widget(index) is self.comparison and self.comparison.comparison is None \
                and self.comparison.button.isEnabled() and not self.runner.busy:
            self.comparison.compare()

    # ------------------------------------------------------------------ status
    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.progress_label.setVisible(busy)
        if not busy:
            self.progress.setValue(0)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        if message:
            self.progress_label.setText(message)

    def show_error(self, exc: BaseException, details: str = "") -> QMessageBox:
        """Error dialog naming the file and the reason; the app stays up."""
        self.last_error_box = error_box(self, exc, details)
        return self.last_error_box

    def _on_trial(self, tv) -> None:
        title = "Genu Lab"
        if tv is not None and self.state.session is not None:
            title = f"{tv.name} \u2014 {self.state.session.patient} / {self.state.session.label} \u2014 Genu Lab"
        self.setWindowTitle(title)

    # ------------------------------------------------------------------ opening
    def open_paths(self, paths: Sequence[str | Path], overrides: Optional[dict] = None) -> None:
        """Open C3D files, session folders or stores in the background."""
        paths = [Path(p) for p in paths]
        if not paths:
            return
        if self.runner.busy:
            self.statusBar().showMessage("Busy: wait for the current task or cancel it", 4000)
            return
        for p in paths:
            self._add_recent(p)
        label = f"Opening {paths[0].name}" + (f" (+{len(paths) - 1})" if len(paths) > 1 else "")
        filter_hz = self.marker_filter_hz()
        self.runner.run(label, lambda progress, cancelled: engine.open_paths(paths, progress, cancelled, overrides,
                                                                             filter_hz),
                        self._opened)

    def _opened(self, sessions) -> None:
        if not sessions:
            return
        self.state.add_sessions(list(sessions))
        n = sum(len(s.trials) for s in sessions)
        self.statusBar().showMessage(f"Opened {len(sessions)} session(s), {n} trial(s)", 5000)

    def _dialog_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Open C3D files", self._dialog_dir(), "C3D files (*.c3d *.C3D)")
        if files:
            self.settings.setValue("last_dir", str(Path(files[0]).parent))
            self.open_paths(files)

    def open_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open session or patient folder", self._dialog_dir())
        if d:
            self.settings.setValue("last_dir", d)
            self.open_paths([d])

    def open_store_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open patient store (a .genu folder)", self._dialog_dir())
        if d:
            self.settings.setValue("last_dir", str(Path(d).parent))
            self.open_paths([d])

    # ------------------------------------------------------------------ recent files
    def recent(self) -> list[str]:
        v = self.settings.value("recent", [])
        return [v] if isinstance(v, str) else list(v or [])

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent() if r != p]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for r in self.recent():
            self.recent_menu.addAction(r, lambda r=r: self.open_paths([r]))
        self.recent_menu.setEnabled(bool(self.recent()))

    # ------------------------------------------------------------------ drag and drop
    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.open_paths(paths)

    def jump(self, what: str, direction: int) -> None:
        """Go to the next/previous valgus phase peak or event of the selected trial."""
        tv = self.state.trial
        if tv is None:
            return
        frames = sorted({p.peak_frame for p in tv.phases} if what == "phase" else {e.frame for e in tv.events})
        f = self.state.frame
        target = next((x for x in frames if x > f), None) if direction > 0 else \
            next((x for x in reversed(frames) if x < f), None)
        if target is not None:
            self.playback.pause()
            self.state.set_frame(target)

    # ------------------------------------------------------------------ edits, dialogs
    def _add_event(self, label: str, side: str) -> None:
        self.editor.add(label, side, self.state.frame)

    def save_events(self) -> None:
        from app.store_bridge import save_edited_events
        try:
            msg = save_edited_events(self.state.session, self.state.trial)
        except Exception as exc:  # noqa: BLE001 - shown to the user
            self.show_error(exc)
            return
        self.statusBar().showMessage(msg, 6000)

    def subject_dialog(self) -> None:
        from app.dialogs.subject import SubjectDialog
        s = self.state.session
        if s is None:
            self.statusBar().showMessage("Open a session first", 4000)
            return
        dlg = SubjectDialog(s, self)
        if dlg.exec() and dlg.overrides() and s.store_path is not None:
            QMessageBox.information(self, "Subject parameters", "A stored session keeps the parameters it was "
                                    "processed with. Re-import its folder with the new values "
                                    "(genulab import FOLDER --patient STORE --set NAME=VALUE).")
        elif dlg.result() and dlg.overrides() and s.path is not None:
            self.open_paths([s.path] if s.raw_session is not None or len(s.trials) > 1
                            else [t.path for t in s.trials], overrides=dlg.overrides())

    def export_dialog(self) -> None:
        from app.dialogs.export import ExportDialog
        if self.state.session is None:
            self.statusBar().showMessage("Open a session first", 4000)
            return
        ExportDialog(self.state, self.runner, self).exec()

    def batch_dialog(self) -> None:
        from app.dialogs.batch import BatchDialog
        BatchDialog(self.runner, self, filter_hz=self.marker_filter_hz()).exec()

    def about(self) -> None:
        from core import __version__
        QMessageBox.about(self, "About Genu Lab",
                          f"<b>Genu Lab</b> {__version__}<br>CGM1 (Plug-in Gait lower body) kinematics and "
                          "dynamic knee valgus analysis for clinical gait laboratories.<br><br>"
                          "Colours: Left = red, Right = green (gait-lab convention); valgus phases violet.")

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        s = self.settings
        geo = s.value("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1500, 920)
        for key, w in (("splitter", self.splitter), ("side_splitter", self.side_splitter)):
            v = s.value(key)
            if v is not None:
                w.restoreState(v)
        if s.value("window_state") is not None:
            self.restoreState(s.value("window_state"))
        group = s.value("curve_group")
        if group:
            self.curves.group.setCurrentText(str(group))
        speed = s.value("speed")
        if speed is not None:
            idx = self.transport.speed.findData(float(speed))
            if idx >= 0:
                self.transport.speed.setCurrentIndex(idx)
        view = s.value("camera")
        if view:
            QTimer.singleShot(0, lambda: self.viewer.set_view(str(view)))

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("geometry", self.saveGeometry())
        s.setValue("window_state", self.saveState())
        s.setValue("splitter", self.splitter.saveState())
        s.setValue("side_splitter", self.side_splitter.saveState())
        s.setValue("curve_group", self.curves.group.currentText())
        s.setValue("speed", self.playback.speed)
        s.setValue("camera", self.viewer.scene.view)
        s.sync()

    def closeEvent(self, ev) -> None:  # noqa: N802
        self.playback.pause()
        self.runner.cancel()
        self.runner.wait(5000)
        self.save_settings()
        self.viewer.close()
        super().closeEvent(ev)
