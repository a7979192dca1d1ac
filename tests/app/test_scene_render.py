"""The VTK scene off screen: in-place updates, valgus colour probes, PNG snapshots."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import reference_file
from tests.app.gui_support import FLATFOOT, is_right_colour, is_valgus_colour, patch_rgb

pytest.importorskip("vtkmodules")


@pytest.fixture(scope="module")
def walking_view():
    from core.io.c3d import read_c3d
    from app.adapters import trial_view
    return trial_view(read_c3d(reference_file(*FLATFOOT)))


def _scene(tv, phases=(), size=(480, 480)):
    from app.scene import GaitScene, offscreen_window
    from app.scene_data import build_scene_data
    from app.viewdata import TrialView
    tv = TrialView(tv.trial, tv.outputs, tv.source, tv.events, tv.cycles, tuple(phases), tv.metrics)
    win = offscreen_window()
    win.SetSize(*size)
    scene = GaitScene(win)
    scene.set_data(build_scene_data(tv.trial, tv.outputs, tv.overlay()), tv.name)
    return scene, win


def test_file_outputs_give_joint_centres_from_vicon_bones(walking_view):
    from app.scene_data import JOINTS, joint_positions
    tv = walking_view
    assert tv.source == "file (Vicon)"
    j = joint_positions(tv.trial, tv.outputs)
    row = 80
    hjc, kjc = j[row, JOINTS.index("LHJC")], j[row, JOINTS.index("LKJC")]
    # femur length of the subject from the PiG bone points (Vicon LFEP - LFEO), 350-450 mm
    assert 350.0 < np.linalg.norm(hjc - kjc) < 450.0
    # the knee joint centre lies half a knee width + marker radius medial of LKNE (< 80 mm)
    assert np.linalg.norm(kjc - tv.trial.point("LKNE")[row]) < 80.0


def test_frames_update_the_same_point_set_in_place(walking_view):
    scene, win = _scene(walking_view)
    pts = scene._markers_pd.GetPoints()
    ptr = pts.GetData().GetVoidPointer(0) if hasattr(pts.GetData(), "GetVoidPointer") else None
    scene.set_row(10)
    a = scene.marker_positions()
    scene.set_row(60)
    b = scene.marker_positions()
    assert scene._markers_pd.GetPoints() is pts                     # same vtkPoints object
    if ptr is not None:
        assert pts.GetData().GetVoidPointer(0) == ptr               # same buffer
    moved = np.linalg.norm(b - a, axis=1)
    # walking at ~1 m/s for 0.5 s: the pelvis markers move several hundred mm
    i = walking_view.trial.marker_labels.index("LASI") if "LASI" in walking_view.trial.marker_labels else 0
    labels = scene.data.marker_labels
    assert moved[labels.index("LASI")] > 200.0
    expect = walking_view.trial.point("LASI")[60]
    assert np.allclose(b[labels.index("LASI")], expect)
    win.Finalize()


def test_valgus_colour_inside_phase_and_side_colour_outside(walking_view):
    from app.scene_data import JOINTS
    from app.viewdata import PhaseSpan
    tv = walking_view
    f0 = tv.trial.first_frame
    phase = PhaseSpan("Right", f0 + 100, f0 + 140, f0 + 120, 14.0)
    scene, win = _scene(tv, [phase])
    scene.set_show_fppa(False)
    scene.set_show_markers(False)

    def probe(row):
        scene.set_row(row)
        scene.set_camera("front")
        j = scene.data.joints[row]
        mid = 0.5 * (j[JOINTS.index("RKJC")] + j[JOINTS.index("RAJC")])
        img = scene.capture()
        return patch_rgb(img, scene.display_position(mid))

    inside = probe(120)
    outside = probe(20)
    assert is_valgus_colour(inside), inside
    assert is_right_colour(outside), outside
    win.Finalize()


def test_render_snapshot_png_and_array(walking_view):
    from app.scene import render_snapshot
    png = render_snapshot(walking_view.trial, view="front", size=(320, 240))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = render_snapshot(walking_view.trial, view="left", size=(320, 240), fmt="array")
    assert img.shape == (240, 320, 3) and img.dtype == np.uint8
    # the skeleton is drawn: red (left) and green (right) pixels present
    red = (img[..., 0] > 150) & (img[..., 1] < 110)
    green = (img[..., 1] > 120) & (img[..., 0] < 120)
    assert red.sum() > 30 and green.sum() > 30


def test_unknown_view_is_refused(walking_view):
    scene, win = _scene(walking_view, size=(64, 64))
    with pytest.raises(ValueError, match="unknown view"):
        scene.set_camera("sideways")
    win.Finalize()


def test_gapped_marker_is_hidden_and_its_bones_dropped():
    """PiG_Calibration-FlatFoot-Hole: RASI is missing for 9 frames (residual -1 in the file)."""
    from core.io.c3d import read_c3d
    from app.adapters import trial_view
    from app.scene_data import BONES
    tv = trial_view(read_c3d(reference_file("BTKData", "PiG", "PiG_Calibration-FlatFoot-Hole.c3d")))
    scene, win = _scene(tv, size=(200, 200))
    i = scene.data.marker_labels.index("RASI")
    gap_rows = np.where(np.isnan(tv.trial.point("RASI")[:, 0]))[0]
    assert len(gap_rows) == 9
    ok_row = int(np.where(np.isfinite(tv.trial.point("RASI")[:, 0]))[0][0])
    scene.set_row(ok_row)
    assert scene._marker_scale[i] == 1.0
    rasi_bones = [k for k, (a, b, _, _) in enumerate(BONES) if "RASI" in (a, b)]
    assert scene._valid_bones[rasi_bones].all()
    n_bones_ok = scene._bones_pd.GetNumberOfCells()
    scene.set_row(int(gap_rows[0]))
    assert scene._marker_scale[i] == 0.0                           # hidden, not drawn at 0,0,0
    assert np.isfinite(scene.marker_positions()).all()             # no NaN handed to VTK
    assert not scene._valid_bones[rasi_bones].any()                # its pelvis bones are not drawn
    assert scene._bones_pd.GetNumberOfCells() == int(scene._valid_bones.sum()) <= n_bones_ok - len(rasi_bones)
    win.Finalize()


def test_markers_are_drawn_where_they_are(walking_view):
    """Pixel probes at the projected positions of the left lateral markers (left view: in
    front of the skeleton): white spheres there; background there once markers are hidden."""
    scene, win = _scene(walking_view, size=(640, 640))
    scene.set_row(100)
    scene.set_camera("left")
    scene.set_show_fppa(False)
    img = scene.capture()
    labels = scene.data.marker_labels
    names = ("LTHI", "LKNE", "LTIB", "LANK")
    xys = [scene.display_position(scene.data.markers[100, labels.index(n)]) for n in names]
    bright = [patch_rgb(img, xy, 1).min() > 170 for xy in xys]     # white-ish sphere
    assert sum(bright) >= 3, bright
    scene.set_show_markers(False)
    img2 = scene.capture()
    for xy, was in zip(xys, bright):
        if was:
            assert patch_rgb(img2, xy, 1).min() < 170              # gone once hidden
    win.Finalize()


def test_every_reference_c3d_opens_or_is_refused_and_draws(reference_dir):
    """Every C3D of ../shared/reference either opens and draws (three views, first/middle/last
    frame) or is refused with a GenuError naming it - never another exception."""
    from core.errors import GenuError
    from app.engine import open_paths
    from app.scene import GaitScene, offscreen_window
    from app.scene_data import build_scene_data
    files = sorted(p for p in reference_dir.rglob("*") if p.suffix.lower() == ".c3d")
    assert len(files) > 50
    win = offscreen_window()
    win.SetSize(96, 96)
    scene = GaitScene(win)
    opened = refused = 0
    for f in files:
        try:
            sessions = open_paths([f])
        except GenuError as exc:
            assert f.name in str(exc)
            refused += 1
            continue
        for tv in (t for s in sessions for t in s.trials):
            scene.set_data(build_scene_data(tv.trial, tv.outputs, tv.overlay()), tv.name)
            for view, row in (("front", 0), ("left", tv.trial.n_frames // 2), ("top", tv.trial.n_frames - 1)):
                scene.set_camera(view)
                scene.set_row(row)
            win.Render()
        opened += 1
    assert opened > refused
    win.Finalize()
