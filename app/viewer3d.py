"""3D view of the selected trial: :class:`app.scene.GaitScene` inside Qt.

Observes :class:`app.state.AppState`; on a new trial the scene's buffers are filled once,
and each frame change copies one row into the same VTK point sets and renders (render on
change only). Mouse: left drag rotates, right drag / wheel zooms, middle drag pans.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QToolBar, QVBoxLayout, QWidget
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

from app.scene import VIEWS, GaitScene
from app.scene_data import build_scene_data
from app.state import AppState
from app.viewdata import TrialView


class Viewer3D(QWidget):
    """VTK viewer with camera presets and display toggles."""

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.vtk_widget = QVTKRenderWindowInteractor(self)
        self.window = self.vtk_widget.GetRenderWindow()
        self.window.SetMultiSamples(0)
        self.scene = GaitScene(self.window)
        style = vtkInteractorStyleTrackballCamera()
        style.SetDefaultRenderer(self.scene.renderer)
        self.vtk_widget.SetInteractorStyle(style)
        self.toolbar = QToolBar("3D view", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self._build_toolbar()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.vtk_widget, 1)
        self.n_renders = 0
        self.scene.set_data(None)                   # the "open something" hint
        state.trialChanged.connect(self.show_trial)
        state.trialUpdated.connect(self.refresh_trial)
        state.frameChanged.connect(self.show_frame)
        self._initialised = False

    def _build_toolbar(self) -> None:
        group = QActionGroup(self)
        self.view_actions = {}
        for v in VIEWS:
            a = QAction(v.capitalize(), self, checkable=True)
            a.setToolTip(f"{v.capitalize()} view")
            a.triggered.connect(lambda _=False, v=v: self.set_view(v))
            group.addAction(a)
            self.toolbar.addAction(a)
            self.view_actions[v] = a
        self.view_actions["front"].setChecked(True)
        self.toolbar.addSeparator()
        self.follow_action = self._toggle("Follow", True, self._set_follow, "Camera follows the pelvis")
        self.markers_action = self._toggle("Markers", True, self._set_markers, "Show markers (gapped markers are hidden)")
        self.axes_action = self._toggle("Axes", False, self._set_axes, "Show segment axes (x red, y green, z blue)")
        self.fppa_action = self._toggle("FPPA", True, self._set_fppa, "FPPA lines hip-knee-ankle (frontal views)")

    def _toggle(self, text: str, on: bool, slot, tip: str) -> QAction:
        a = QAction(text, self, checkable=True)
        a.setChecked(on)
        a.setToolTip(tip)
        a.toggled.connect(slot)
        self.toolbar.addAction(a)
        return a

    # ------------------------------------------------------------------ slots
    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._initialised:
            self.vtk_widget.Initialize()
            self._initialised = True

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.scene.set_line_scale(self.vtk_widget.height())

    def render(self) -> None:  # noqa: A003 - VTK vocabulary
        self.n_renders += 1
        self.window.Render()

    def show_trial(self, tv: Optional[TrialView]) -> None:
        data = build_scene_data(tv.trial, tv.outputs, tv.overlay(), tv.kinetics) if tv is not None else None
        title = "" if tv is None else f"{tv.name}"
        self.scene.set_data(data, title)
        self.render()

    def refresh_trial(self, tv: TrialView) -> None:
        """Same trial, new content (edited events, new phases): keep frame and camera."""
        self.scene.set_data(build_scene_data(tv.trial, tv.outputs, tv.overlay(), tv.kinetics), tv.name,
                            row=self.scene.row, keep_camera=True)
        self.render()

    def show_frame(self, frame: int) -> None:
        if self.scene.data is None:
            return
        self.scene.set_row(frame - self.scene.data.first_frame)
        self.render()

    def set_view(self, view: str) -> None:
        if view in self.view_actions:
            self.view_actions[view].setChecked(True)
        if view == "follow":
            self.follow_action.setChecked(True)
        self.scene.set_camera(view)
        self.render()

    def _set_follow(self, on: bool) -> None:
        self.scene.set_follow(on)
        self.render()

    def _set_markers(self, on: bool) -> None:
        self.scene.set_show_markers(on)
        self.render()

    def _set_axes(self, on: bool) -> None:
        self.scene.set_show_axes(on)
        self.render()

    def _set_fppa(self, on: bool) -> None:
        self.scene.set_show_fppa(on)
        self.render()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.vtk_widget.Finalize()
        super().closeEvent(event)
