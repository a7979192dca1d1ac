"""Force plates in the VTK scene: plate outlines and the ground reaction force arrows.

The arrow of each plate starts at the centre of pressure and points along the force the
ground exerts on the subject, ``GRF_MM_PER_N`` mm per newton (body weight about 0.5-0.9 m);
it is coloured by the foot of the contact (Left red, Right green), grey when the contact is
excluded (two feet, foot partly off the plate) and yellow when no contact check was made
(Vicon's stored data only). Like the markers, every frame only copies one row of numpy data
into the same VTK buffers: the shaft is a line drawn as a tube, the tip a cone glyph
oriented along the force and hidden (scale 0) while the plate is unloaded.

Also home of the small numpy <-> VTK buffer helpers shared with :mod:`app.scene`.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import vtkPoints, vtkUnsignedCharArray
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkFiltersSources import vtkConeSource
from vtkmodules.vtkRenderingCore import vtkActor, vtkGlyph3DMapper, vtkPolyDataMapper, vtkRenderer

from app.scene_data import PLATE_RGB, SceneData, grf_segments


def _polydata(n_points: int) -> tuple[vtkPolyData, np.ndarray]:
    """A polydata whose points are a view of a float64 ``(n, 3)`` numpy buffer."""
    buf = np.zeros((max(n_points, 1), 3), dtype=np.float64)
    pts = vtkPoints()
    pts.SetData(numpy_support.numpy_to_vtk(buf, deep=False))
    pd = vtkPolyData()
    pd.SetPoints(pts)
    return pd, buf


def _lines(pairs: np.ndarray) -> vtkCellArray:
    cells = vtkCellArray()
    for a, b in pairs:
        cells.InsertNextCell(2)
        cells.InsertCellPoint(int(a))
        cells.InsertCellPoint(int(b))
    return cells


def _rgb_array(colours: np.ndarray, name: str = "rgb") -> tuple[vtkUnsignedCharArray, np.ndarray]:
    buf = np.ascontiguousarray(colours, dtype=np.uint8)
    arr = numpy_support.numpy_to_vtk(buf, deep=False, array_type=numpy_support.get_vtk_array_type(np.uint8))
    arr.SetName(name)
    return arr, buf


def attach_scale(pd: vtkPolyData, scale: np.ndarray, name: str = "visible") -> None:
    """Attach a float32 ``(n,)`` buffer as a point array (glyph scale: 0 hides a point)."""
    arr = numpy_support.numpy_to_vtk(scale, deep=False)
    arr.SetName(name)
    pd.GetPointData().AddArray(arr)


def _line_actor(pd: vtkPolyData, rgb=None) -> vtkActor:
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(pd)
    if rgb is None:
        mapper.SetScalarModeToUseCellData()
    else:
        mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    if rgb is not None:
        actor.GetProperty().SetColor(*(np.asarray(rgb) / 255.0))
    return actor


class ForceLayer:
    """Plate outlines and force arrows of one trial in a renderer."""

    def __init__(self, renderer: vtkRenderer) -> None:
        self.renderer = renderer
        self.show = True
        self.plates_actor: Optional[vtkActor] = None
        self.grf_actor: Optional[vtkActor] = None
        self.tip_actor: Optional[vtkActor] = None

    # ------------------------------------------------------------------ build
    def set_data(self, data: Optional[SceneData], show: bool = True) -> None:
        """(Re)build the actors for a trial's plates; none without plates."""
        self.show = bool(show)
        for a in (self.plates_actor, self.grf_actor, self.tip_actor):
            if a is not None:
                self.renderer.RemoveActor(a)
        self.plates_actor = self.grf_actor = self.tip_actor = None
        P = data.n_plates if data is not None else 0
        if P == 0:
            return
        pd, buf = _polydata(4 * P)
        buf[:] = data.plate_corners.reshape(-1, 3) + np.array([0.0, 0.0, 1.0])     # just above the floor
        pd.SetLines(_lines(np.array([[4 * p + k, 4 * p + (k + 1) % 4] for p in range(P) for k in range(4)])))
        self._plates_buf = buf
        self.plates_actor = _line_actor(pd, PLATE_RGB)
        self.plates_actor.GetProperty().SetLineWidth(3.0)
        self.plates_actor.GetProperty().LightingOff()
        self._shaft_pd, self._shaft_buf = _polydata(2 * P)
        self._shaft_pd.SetLines(_lines(np.arange(2 * P).reshape(-1, 2)))
        self._shaft_rgb_arr, self._shaft_rgb = _rgb_array(np.zeros((P, 3)))
        self._shaft_pd.GetCellData().SetScalars(self._shaft_rgb_arr)
        self.grf_actor = _line_actor(self._shaft_pd)
        self.grf_actor.GetProperty().SetRenderLinesAsTubes(True)
        self.grf_actor.GetProperty().SetLineWidth(7.0)
        self._build_tips(P)
        for a in (self.plates_actor, self.grf_actor, self.tip_actor):
            self.renderer.AddActor(a)

    def _build_tips(self, n: int) -> None:
        self._tips_pd, self._tips_buf = _polydata(n)
        self._tip_scale = np.zeros(n, dtype=np.float32)
        attach_scale(self._tips_pd, self._tip_scale)
        self._tip_dir = np.zeros((n, 3), dtype=np.float64)
        attach_scale(self._tips_pd, self._tip_dir, "direction")
        self._tip_rgb_arr, self._tip_rgb = _rgb_array(np.zeros((n, 3)))
        self._tips_pd.GetPointData().SetScalars(self._tip_rgb_arr)
        cone = vtkConeSource()
        cone.SetHeight(60.0)
        cone.SetRadius(18.0)
        cone.SetResolution(16)
        cone.SetCenter(-30.0, 0.0, 0.0)          # apex at the glyph point (the arrow's end)
        mapper = vtkGlyph3DMapper()
        mapper.SetInputData(self._tips_pd)
        mapper.SetSourceConnection(cone.GetOutputPort())
        mapper.ScalingOn()
        mapper.SetScaleModeToScaleByMagnitude()
        mapper.SetScaleArray("visible")
        mapper.SetOrientationArray("direction")
        mapper.SetOrientationModeToDirection()
        mapper.SetScalarModeToUsePointData()
        self.tip_actor = vtkActor()
        self.tip_actor.SetMapper(mapper)

    # ------------------------------------------------------------------ frames
    def update(self, data: Optional[SceneData], row: int) -> None:
        """Copy one row of forces into the buffers (in place)."""
        if self.grf_actor is None or data is None:
            return
        ends, shown, rgb = grf_segments(data, row)
        shown = shown & self.show
        self._shaft_buf[:] = np.where(shown[:, None, None], ends, 0.0).reshape(-1, 3)
        self._shaft_rgb[:] = rgb
        self._tips_buf[:] = np.where(shown[:, None], ends[:, 1], 0.0)
        self._tip_dir[:] = np.where(shown[:, None], ends[:, 1] - ends[:, 0], np.array([0.0, 0.0, 1.0]))
        self._tip_scale[:] = shown
        self._tip_rgb[:] = rgb
        for pd in (self._shaft_pd, self._tips_pd):
            pd.GetPoints().Modified()
        for name in ("visible", "direction"):
            self._tips_pd.GetPointData().GetArray(name).Modified()
        self._shaft_rgb_arr.Modified()
        self._tip_rgb_arr.Modified()
        self._shaft_pd.Modified()
        self._tips_pd.Modified()

    def arrows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(P, 2, 3)`` copy of the arrow ends in the VTK point set and ``(P,)`` shown flags."""
        if self.grf_actor is None:
            return np.zeros((0, 2, 3)), np.zeros(0, dtype=bool)
        pts = numpy_support.vtk_to_numpy(self._shaft_pd.GetPoints().GetData()).reshape(-1, 2, 3).copy()
        return pts, self._tip_scale > 0
