"""The VTK scene of a trial, shared by the desktop viewer and off-screen snapshots.

:class:`GaitScene` owns a renderer (plus an overlay layer) with: markers (gapped ones
hidden), the skeleton from the joint centres (pelvis, thighs, shanks, feet) coloured
Left = red / Right = green, optional segment axes, a floor grid with the progression arrow,
the valgus overlay (thigh and shank on the pale -> saturated violet ramp while inside a phase),
the force plate outlines with the ground reaction force arrow at the centre of pressure
(``GRF_MM_PER_N``, coloured by the contact's foot; grey when the contact is excluded) and,
in frontal views, the FPPA lines hip-knee-ankle. Each frame only copies one row of numpy
data into the *same* ``vtkPoints`` buffers (``numpy_support`` views, no actor rebuild).

:func:`render_snapshot` renders the same scene off screen (EGL/OSMesa or an X display) to
PNG bytes or an ``(H, W, 3)`` uint8 image, for the PDF report.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from vtkmodules.util import numpy_support
# The imports below register the OpenGL and text backends of VTK's object factories.
import vtkmodules.vtkRenderingOpenGL2  # noqa: F401
import vtkmodules.vtkRenderingFreeType  # noqa: F401
import vtkmodules.vtkInteractionStyle  # noqa: F401
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersSources import vtkArrowSource, vtkSphereSource
from vtkmodules.vtkRenderingCore import (vtkActor, vtkGlyph3DMapper, vtkPolyDataMapper,
                                         vtkRenderer, vtkRenderWindow, vtkTextActor,
                                         vtkWindowToImageFilter)
from vtkmodules.vtkCommonTransforms import vtkTransform
from vtkmodules.vtkFiltersGeneral import vtkTransformFilter

from app.scene_data import (BONE_INDEX, BONES, JOINTS, LEFT_RGB, MARKER_RGB, RIGHT_RGB,
                            SceneData, bone_colours, fppa_segments)
from app.scene_forces import ForceLayer, _lines, _polydata, _rgb_array, attach_scale

VIEWS = ("front", "back", "left", "right", "top")
BACKGROUND_TOP = (0.20, 0.23, 0.27)
BACKGROUND_BOTTOM = (0.07, 0.08, 0.10)
FPPA_RGB = (0, 212, 255)
_JOINT_SIDE = ["Left" if n.startswith("L") and n != "LASI" else "Right" if n.startswith("R") and n != "RASI" else ""
               for n in JOINTS]


class GaitScene:
    """VTK scene of one trial, updated in place frame by frame.

    Parameters
    ----------
    render_window: the window to draw in (the Qt viewer's or an off-screen one).
    """

    def __init__(self, render_window: vtkRenderWindow) -> None:
        self.window = render_window
        self.renderer = vtkRenderer()
        self.renderer.GradientBackgroundOn()
        self.renderer.SetBackground(*BACKGROUND_BOTTOM)
        self.renderer.SetBackground2(*BACKGROUND_TOP)
        self.overlay = vtkRenderer()          # FPPA lines and text, drawn on top
        self.overlay.SetLayer(1)
        self.overlay.InteractiveOff()
        self.overlay.SetActiveCamera(self.renderer.GetActiveCamera())
        render_window.SetNumberOfLayers(2)
        render_window.AddRenderer(self.renderer)
        render_window.AddRenderer(self.overlay)
        self.data: Optional[SceneData] = None
        self.row = 0
        self.view = "front"
        self.follow = True
        self.show_markers = True
        self.show_axes = False
        self.show_fppa = True
        self.show_grf = True
        self._valid_bones: Optional[np.ndarray] = None
        self._offset = np.array([0.0, -4000.0, 0.0])
        self._build_actors()

    # ---------------------------------------------------------------- construction
    def _build_actors(self) -> None:
        self._markers_pd, self._markers_buf = _polydata(1)
        self._marker_scale = np.zeros(1, dtype=np.float32)
        self.markers_actor = self._glyph_actor(self._markers_pd, 7.0, MARKER_RGB)
        self._joints_pd, self._joints_buf = _polydata(len(JOINTS))
        jcol = np.array([{"Left": LEFT_RGB, "Right": RIGHT_RGB}.get(s, (200, 205, 210)) for s in _JOINT_SIDE])
        arr, self._joint_rgb = _rgb_array(jcol)
        self._joints_pd.GetPointData().SetScalars(arr)
        self._joint_scale = np.ones(len(JOINTS), dtype=np.float32)
        self.joints_actor = self._glyph_actor(self._joints_pd, 13.0, None, self._joint_scale)
        self._bones_pd = vtkPolyData()
        self._bones_pd.SetPoints(self._joints_pd.GetPoints())   # same point buffer as the joints
        self._bones_pd.SetLines(_lines(BONE_INDEX))
        self._bone_rgb_arr, self._bone_rgb = _rgb_array(np.zeros((len(BONES), 3)))
        self._bones_pd.GetCellData().SetScalars(self._bone_rgb_arr)
        # bones: lines drawn as shaded tubes by the shader (no geometry rebuilt per frame)
        self.bones_actor = self._actor(self._bones_pd, None)
        prop = self.bones_actor.GetProperty()
        prop.SetRenderLinesAsTubes(True)
        prop.SetLineWidth(10.0)
        prop.SetAmbient(0.35)
        prop.SetDiffuse(0.75)
        prop.SetSpecular(0.15)
        self._build_axes()
        self._build_fppa()
        self._build_texts()
        for a in (self.markers_actor, self.joints_actor, self.bones_actor):
            self.renderer.AddActor(a)
        self.overlay.AddActor(self.axes_actor)            # axes drawn over the bones
        self.floor_actor: Optional[vtkActor] = None
        self.arrow_actor: Optional[vtkActor] = None
        self.forces = ForceLayer(self.renderer)

    def _actor(self, source, rgb) -> vtkActor:
        mapper = vtkPolyDataMapper()
        if isinstance(source, vtkPolyData):
            mapper.SetInputData(source)
        else:
            mapper.SetInputConnection(source.GetOutputPort())
        mapper.SetScalarModeToUseCellData() if rgb is None else mapper.ScalarVisibilityOff()
        actor = vtkActor()
        actor.SetMapper(mapper)
        if rgb is not None:
            actor.GetProperty().SetColor(*(np.asarray(rgb) / 255.0))
        return actor

    def _glyph_actor(self, pd: vtkPolyData, radius: float, rgb, scale=None) -> vtkActor:
        sphere = vtkSphereSource()
        sphere.SetRadius(radius)
        sphere.SetThetaResolution(12)
        sphere.SetPhiResolution(8)
        mapper = vtkGlyph3DMapper()
        mapper.SetInputData(pd)
        mapper.SetSourceConnection(sphere.GetOutputPort())
        mapper.ScalingOn()
        mapper.SetScaleModeToScaleByMagnitude()
        mapper.SetScaleArray("visible")
        if scale is None:
            scale = self._marker_scale
        self._attach_scale(pd, scale)
        actor = vtkActor()
        actor.SetMapper(mapper)
        if rgb is not None:
            mapper.ScalarVisibilityOff()
            actor.GetProperty().SetColor(*(np.asarray(rgb) / 255.0))
        else:
            mapper.SetScalarModeToUsePointData()
        return actor

    @staticmethod
    def _attach_scale(pd: vtkPolyData, scale: np.ndarray) -> None:
        attach_scale(pd, scale)

    def _build_axes(self) -> None:
        n = 7
        self._axes_pd, self._axes_buf = _polydata(4 * n)
        self._axes_pd.SetLines(_lines(np.array([[4 * s, 4 * s + k] for s in range(n) for k in (1, 2, 3)])))
        arr, _ = _rgb_array(np.tile([[230, 60, 60], [60, 200, 80], [70, 120, 255]], (n, 1)))
        self._axes_rgb = arr
        self._axes_pd.GetCellData().SetScalars(arr)
        self.axes_actor = self._actor(self._axes_pd, None)
        self.axes_actor.GetProperty().SetLineWidth(4.0)
        self.axes_actor.GetProperty().LightingOff()
        self.axes_actor.SetVisibility(False)

    def _build_fppa(self) -> None:
        self._fppa_pd, self._fppa_buf = _polydata(6)
        self._fppa_pd.SetLines(_lines(np.array([[0, 1], [1, 2], [3, 4], [4, 5]])))
        self.fppa_actor = self._actor(self._fppa_pd, FPPA_RGB)
        self.fppa_actor.GetProperty().SetLineWidth(2.0)
        self.fppa_actor.GetProperty().LightingOff()
        self._ref_pd, self._ref_buf = _polydata(4)
        self._ref_pd.SetLines(_lines(np.array([[0, 1], [2, 3]])))
        self.ref_actor = self._actor(self._ref_pd, (235, 235, 235))
        self.ref_actor.GetProperty().SetLineWidth(1.5)
        self.ref_actor.GetProperty().SetLineStipplePattern(0xF0F0)
        self.ref_actor.GetProperty().LightingOff()
        self.overlay.AddActor(self.fppa_actor)
        self.overlay.AddActor(self.ref_actor)

    def _text(self, size: int, rgb=(0.92, 0.93, 0.95), bold=False) -> vtkTextActor:
        t = vtkTextActor()
        p = t.GetTextProperty()
        p.SetFontSize(size)
        p.SetColor(*rgb)
        p.SetBold(bold)
        p.SetFontFamilyToArial()
        t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.overlay.AddViewProp(t)
        return t

    def _build_texts(self) -> None:
        self.title_text = self._text(15, bold=True)
        self.title_text.SetPosition(0.015, 0.95)
        self.frame_text = self._text(13)
        self.frame_text.SetPosition(0.015, 0.91)
        self.legend_left = self._text(13, tuple(np.array(LEFT_RGB) / 255), True)
        self.legend_left.SetPosition(0.015, 0.02)
        self.legend_left.SetInput("Left")
        self.legend_right = self._text(13, tuple(np.array(RIGHT_RGB) / 255), True)
        self.legend_right.SetPosition(0.075, 0.02)
        self.legend_right.SetInput("Right")
        self.fppa_text = self._text(14, tuple(np.array(FPPA_RGB) / 255), True)
        self.fppa_text.SetPosition(0.015, 0.86)
        self.view_text = self._text(12, (0.7, 0.74, 0.8))
        self.view_text.GetTextProperty().SetJustificationToRight()
        self.view_text.SetPosition(0.985, 0.02)

    # ---------------------------------------------------------------- data
    def set_data(self, data: Optional[SceneData], title: str = "", row: int = 0,
                 keep_camera: bool = False) -> None:
        """Show a new trial (``None`` clears the scene) at ``row``. Buffers are resized only here.

        ``keep_camera``: the same trial with new content (e.g. edited events): the camera the
        user set stays where it is.
        """
        if data is not None and data.n_frames == 0:
            data, title = None, f"{title} (the file holds no frames)"
        self.data = data
        self.title_text.SetInput(title)
        centred = data is None
        self.title_text.GetTextProperty().SetJustification(1 if centred else 0)
        self.title_text.GetTextProperty().SetVerticalJustification(1 if centred else 0)
        self.title_text.SetPosition(*((0.5, 0.55) if centred else (0.015, 0.95)))
        M = data.markers.shape[1] if data is not None else 0
        if self._markers_buf.shape[0] != max(M, 1):
            self._markers_pd, self._markers_buf = _polydata(M)
            self._marker_scale = np.zeros(max(M, 1), dtype=np.float32)
            self._attach_scale(self._markers_pd, self._marker_scale)
            self.markers_actor.GetMapper().SetInputData(self._markers_pd)
        self._valid_bones = None
        self._rebuild_floor()
        self.forces.set_data(self.data, self.show_grf)
        self.row = int(np.clip(row, 0, data.n_frames - 1)) if data is not None else 0
        if data is not None:
            if not keep_camera:
                self.set_camera(self.view)
            self.set_row(self.row)
        else:
            self.title_text.SetInput(title if title else "Open C3D files, a session folder or a patient store\n"
                                              "(File menu, or drag and drop them here)")
            self.frame_text.SetInput("")
            self._marker_scale[:] = 0
            self._joint_scale[:] = 0
            self._markers_pd.Modified()
            self._joints_pd.Modified()

    def _rebuild_floor(self) -> None:
        for a in (self.floor_actor, self.arrow_actor):
            if a is not None:
                self.renderer.RemoveActor(a)
        self.floor_actor = self.arrow_actor = None
        if self.data is None:
            return
        lo, hi = self.data.bounds()
        step = 500.0
        x0, x1 = np.floor(lo[0] / step - 2) * step, np.ceil(hi[0] / step + 2) * step
        y0, y1 = np.floor(lo[1] / step - 2) * step, np.ceil(hi[1] / step + 2) * step
        z = self.data.floor_z
        xs, ys = np.arange(x0, x1 + 1, step), np.arange(y0, y1 + 1, step)
        segs = [((x, y0, z), (x, y1, z)) for x in xs] + [((x0, y, z), (x1, y, z)) for y in ys]
        pd, buf = _polydata(2 * len(segs))
        buf[:] = np.array(segs).reshape(-1, 3)
        pd.SetLines(_lines(np.arange(2 * len(segs)).reshape(-1, 2)))
        self._floor_buf = buf
        self.floor_actor = self._actor(pd, (120, 130, 145))
        self.floor_actor.GetProperty().SetOpacity(0.55)
        self.floor_actor.GetProperty().LightingOff()
        self.renderer.AddActor(self.floor_actor)
        self.arrow_actor = self._arrow(lo, hi, z)
        self.renderer.AddActor(self.arrow_actor)

    def _arrow(self, lo: np.ndarray, hi: np.ndarray, z: float) -> vtkActor:
        f = self.data.forward
        start = np.array([lo[0], lo[1], z]) if f @ (hi - lo) >= 0 else np.array([hi[0], hi[1], z])
        centre = np.nanmean(self.data.centre, axis=0)
        left = np.cross([0.0, 0.0, 1.0], f)
        start = np.array([centre[0], centre[1], z]) - f * 0.5 * np.linalg.norm((hi - lo)[:2]) + left * 700.0
        src = vtkArrowSource()
        src.SetShaftRadius(0.06)
        src.SetTipRadius(0.16)
        src.SetTipLength(0.3)
        tr = vtkTransform()
        tr.Translate(*(start + np.array([0, 0, 2.0])))
        tr.RotateZ(np.degrees(np.arctan2(f[1], f[0])))
        tr.Scale(450.0, 450.0, 8.0)
        tf = vtkTransformFilter()
        tf.SetTransform(tr)
        tf.SetInputConnection(src.GetOutputPort())
        actor = self._actor(tf, (86, 156, 214))
        actor.GetProperty().LightingOff()
        return actor

    # ---------------------------------------------------------------- frames
    def set_row(self, row: int) -> None:
        """Show trial row ``row`` (0-based): copies one row into the VTK buffers."""
        if self.data is None:
            return
        d = self.data
        row = int(np.clip(row, 0, d.n_frames - 1))
        prev_centre = d.centre[self.row]
        self.row = row
        m = d.markers[row]
        ok = np.isfinite(m).all(axis=1)
        if m.shape[0]:
            self._markers_buf[:] = np.where(ok[:, None], m, 0.0)
            self._marker_scale[:] = ok * float(self.show_markers)
        self._markers_pd.GetPoints().Modified()
        self._markers_pd.GetPointData().GetArray("visible").Modified()
        j = d.joints[row]
        jok = np.isfinite(j).all(axis=1)
        self._joints_buf[:] = np.where(jok[:, None], j, 0.0)
        self._joint_scale[:] = jok
        self._joints_pd.GetPoints().Modified()
        self._joints_pd.GetPointData().GetArray("visible").Modified()
        self._update_bones(jok, row)
        self._update_axes(row)
        self._update_fppa(j, row)
        self.forces.update(self.data, row)
        if self.follow:
            self._move_camera(d.centre[row] - prev_centre)
        t = (row + d.first_frame - 1) / d.rate_hz
        self.frame_text.SetInput(f"Frame {row + d.first_frame}    t = {t:.3f} s")

    def _update_bones(self, jok: np.ndarray, row: int) -> None:
        valid = jok[BONE_INDEX].all(axis=1)
        if self._valid_bones is None or not np.array_equal(valid, self._valid_bones):
            self._valid_bones = valid
            self._bones_pd.SetLines(_lines(BONE_INDEX[valid]))
            arr, self._bone_rgb = _rgb_array(np.zeros((int(valid.sum()), 3)))
            self._bone_rgb_arr = arr
            self._bones_pd.GetCellData().SetScalars(arr)
        self._bone_rgb[:] = bone_colours(self.data, row)[valid]
        self._bone_rgb_arr.Modified()
        self._bones_pd.Modified()

    def _update_axes(self, row: int) -> None:
        if not self.show_axes:
            return
        names = ("Pelvis", "LFemur", "RFemur", "LTibia", "RTibia", "LFoot", "RFoot")
        buf = self._axes_buf
        buf[:] = 0.0
        for s, name in enumerate(names):
            pose = self.data.segments.get(name)
            if pose is None or not np.isfinite(pose[row]).all():
                continue
            o, R = pose[row, :3, 3], pose[row, :3, :3]
            buf[4 * s] = o
            buf[4 * s + 1: 4 * s + 4] = o + 160.0 * R.T
        self._axes_pd.GetPoints().Modified()

    def _update_fppa(self, joints_row: np.ndarray, row: int) -> None:
        frontal = self.view in ("front", "back") and self.show_fppa
        seg = fppa_segments(joints_row)
        ok = np.isfinite(seg).all(axis=(1, 2))
        show = bool(frontal and ok.any())
        self.fppa_actor.SetVisibility(show)
        self.ref_actor.SetVisibility(show)
        self.fppa_text.SetVisibility(show)
        if not show:
            return
        seg = np.where(ok[:, None, None], seg, seg[ok][0][None])
        self._fppa_buf[:] = seg.reshape(6, 3)
        self._ref_buf[:] = seg[:, [0, 2]].reshape(4, 3)
        self._fppa_pd.GetPoints().Modified()
        self._ref_pd.GetPoints().Modified()
        fp = self.data.fppa[row]
        words = []
        for k, side in enumerate(("L", "R")):
            v = fp[k]
            words.append(f"{side} {v:+.1f}\u00b0" if np.isfinite(v) else f"{side} --")
        self.fppa_text.SetInput("FPPA  " + "   ".join(words))

    # ---------------------------------------------------------------- camera
    def _frame_axes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self.data.forward if self.data is not None else np.array([1.0, 0, 0])
        up = np.array([0.0, 0.0, 1.0])
        left = np.cross(up, f)
        return f, left, up

    def set_camera(self, view: str) -> None:
        """Camera preset: ``front``, ``back``, ``left``, ``right``, ``top`` or ``follow``.

        ``follow`` turns on tracking of the pelvis (kept with the other presets).
        """
        if view == "follow":
            self.follow = True
            view = self.view
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}; expected one of {VIEWS + ('follow',)}")
        self.view = view
        f, left, up = self._frame_axes()
        height = self._body_height()
        dist = max(1800.0, 1.55 * height / np.tan(np.radians(15.0)) / 2.0)
        direction = {"front": f, "back": -f, "left": left, "right": -left, "top": up}[view]
        cam = self.renderer.GetActiveCamera()
        if self.data is not None:
            c = self.data.centre[self.row] if self.follow else np.nanmean(self.data.centre, axis=0)
            c = np.array([c[0], c[1], self.data.floor_z + 0.5 * height])
        else:
            c = np.array([0.0, 0.0, 900.0])
        self._offset = direction * dist
        cam.SetFocalPoint(*c)
        cam.SetPosition(*(c + self._offset))
        cam.SetViewUp(*(f if view == "top" else up))
        cam.SetViewAngle(30.0)
        self.renderer.ResetCameraClippingRange()
        self.view_text.SetInput(f"{view.capitalize()} view" + ("  \u00b7 follow" if self.follow else ""))
        if self.data is not None:
            self._update_fppa(self.data.joints[self.row], self.row)

    def _body_height(self) -> float:
        """Height (mm) of what is drawn above the floor: the skeleton, or all markers."""
        if self.data is None:
            return 1800.0
        z = self.data.joints[..., 2]
        if not np.isfinite(z).any():
            z = self.data.markers[..., 2]
        top = np.nanpercentile(z, 99) if np.isfinite(z).any() else 1800.0
        return float(np.clip(top - self.data.floor_z, 600.0, 2200.0)) * 1.1

    def _move_camera(self, delta: np.ndarray) -> None:
        if not np.isfinite(delta).all() or not delta.any():
            return
        cam = self.renderer.GetActiveCamera()
        cam.SetFocalPoint(*(np.array(cam.GetFocalPoint()) + delta))
        cam.SetPosition(*(np.array(cam.GetPosition()) + delta))
        self.renderer.ResetCameraClippingRange()

    def set_follow(self, on: bool) -> None:
        self.follow = bool(on)
        self.set_camera(self.view)

    def set_line_scale(self, height_px: int) -> None:
        """Bone thickness (pixels) following the view height (about 1/60 of it)."""
        self.bones_actor.GetProperty().SetLineWidth(float(np.clip(height_px / 60.0, 6.0, 18.0)))

    def set_show_axes(self, on: bool) -> None:
        self.show_axes = bool(on)
        self.axes_actor.SetVisibility(self.show_axes)
        if self.data is not None:
            self._update_axes(self.row)

    def set_show_markers(self, on: bool) -> None:
        self.show_markers = bool(on)
        if self.data is not None:
            self.set_row(self.row)

    def set_show_grf(self, on: bool) -> None:
        """Show or hide the ground reaction force arrows (the plate outlines stay)."""
        self.show_grf = bool(on)
        self.forces.show = self.show_grf
        if self.data is not None:
            self.forces.update(self.data, self.row)

    def grf_arrows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(P, 2, 3)`` force arrow ends now in the VTK buffers and ``(P,)`` shown flags."""
        return self.forces.arrows()

    def set_show_fppa(self, on: bool) -> None:
        self.show_fppa = bool(on)
        if self.data is not None:
            self._update_fppa(self.data.joints[self.row], self.row)

    # ---------------------------------------------------------------- probes
    def display_position(self, world: np.ndarray) -> tuple[float, float]:
        """Display (pixel) coordinates of a world point, origin bottom-left (VTK)."""
        r = self.renderer
        r.SetWorldPoint(float(world[0]), float(world[1]), float(world[2]), 1.0)
        r.WorldToDisplay()
        x, y, _ = r.GetDisplayPoint()
        return x, y

    def marker_positions(self) -> np.ndarray:
        """``(M, 3)`` copy of the marker positions currently in the VTK point set."""
        return numpy_support.vtk_to_numpy(self._markers_pd.GetPoints().GetData()).copy()

    def capture(self) -> np.ndarray:
        """``(H, W, 3)`` uint8 image of the render window (top row first)."""
        self.window.Render()
        f = vtkWindowToImageFilter()
        f.SetInput(self.window)
        f.SetInputBufferTypeToRGB()
        f.ReadFrontBufferOff()
        f.ShouldRerenderOff()   # just rendered: read the back buffer as it is (a re-render costs ~35 ms)
        f.Update()
        img = f.GetOutput()
        w, h, _ = img.GetDimensions()
        a = numpy_support.vtk_to_numpy(img.GetPointData().GetScalars()).reshape(h, w, -1)
        return np.ascontiguousarray(a[::-1, :, :3])


def _png_bytes(image: np.ndarray) -> bytes:
    from vtkmodules.vtkIOImage import vtkPNGWriter
    from vtkmodules.vtkCommonDataModel import vtkImageData
    h, w, _ = image.shape
    data = vtkImageData()
    data.SetDimensions(w, h, 1)
    arr = numpy_support.numpy_to_vtk(np.ascontiguousarray(image[::-1]).reshape(-1, 3), deep=True,
                                     array_type=numpy_support.get_vtk_array_type(np.uint8))
    data.GetPointData().SetScalars(arr)
    wr = vtkPNGWriter()
    wr.SetInputData(data)
    wr.WriteToMemoryOn()
    wr.Write()
    return bytes(numpy_support.vtk_to_numpy(wr.GetResult()).tobytes())


def offscreen_window() -> vtkRenderWindow:
    """An off-screen render window: on an X display if there is one, else EGL or OSMesa."""
    import os
    import sys
    win = None
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        import vtkmodules.vtkRenderingOpenGL2 as gl
        for name in ("vtkEGLRenderWindow", "vtkOSOpenGLRenderWindow"):
            cls = getattr(gl, name, None)
            if cls is not None:
                win = cls()
                break
    win = win or vtkRenderWindow()
    win.SetOffScreenRendering(1)
    return win


def render_snapshot(trial, outputs=None, analysis=None, frame: Optional[int] = None,
                    view: str = "front", size: tuple[int, int] = (800, 600),
                    fmt: str = "png", show_markers: bool = True, title: Optional[str] = None,
                    zoom: float = 1.0, window: Optional[vtkRenderWindow] = None):
    """Render the trial's scene off screen, as the viewer shows it.

    Parameters
    ----------
    trial: :class:`core.model.Trial` or :class:`app.viewdata.TrialView`.
    outputs: :class:`core.model.ModelOutputs` (joint centres) or None.
    analysis: the trial's analysis (``core.analysis.TrialAnalysis``), phases as
        :class:`app.viewdata.PhaseSpan` or None: gives the valgus colours and FPPA values.
    frame: C3D frame number to show (default: the peak of the first valgus phase, else the
        middle frame).
    view: ``front``, ``back``, ``left``, ``right`` or ``top``.
    size: ``(width, height)`` pixels.
    fmt: ``"png"`` -> PNG bytes; ``"array"`` -> ``(H, W, 3)`` uint8 image.
    zoom: camera zoom after the preset (> 1 frames the skeleton tighter, e.g. for the report).
    window: an off-screen window (:func:`offscreen_window`) to draw in and leave open, so that
        several snapshots share one OpenGL context and its compiled shaders (the report's
        snapshots); the scene's renderers are removed from it afterwards. None: a window of
        its own, closed after the capture.
    """
    from app.adapters import trial_view
    from app.scene_data import build_scene_data
    tv = trial_view(trial, outputs, analysis)
    data = build_scene_data(tv.trial, tv.outputs, tv.overlay(), tv.kinetics)
    if frame is None:
        frame = tv.phases[0].peak_frame if tv.phases else tv.trial.first_frame + tv.trial.n_frames // 2
    win = offscreen_window() if window is None else window
    win.SetSize(int(size[0]), int(size[1]))
    win.SetMultiSamples(4)
    scene = GaitScene(win)
    scene.follow = True
    scene.view = view
    scene.show_markers = show_markers
    scene.set_line_scale(int(size[1]))
    scene.set_data(data, tv.name if title is None else title)
    scene.set_row(tv.trial.row_of_frame(frame))
    scene.set_camera(view)
    if zoom != 1.0:
        scene.renderer.GetActiveCamera().Zoom(float(zoom))
        scene.renderer.ResetCameraClippingRange()
    image = scene.capture()
    if window is None:
        win.Finalize()
    else:
        win.RemoveRenderer(scene.overlay)
        win.RemoveRenderer(scene.renderer)
    return _png_bytes(image) if fmt == "png" else image
