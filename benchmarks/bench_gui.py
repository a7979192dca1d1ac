"""Desktop-app benchmarks (run under Xvfb, software OpenGL):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_gui.py [--write]

1. open the sample pre session (process + analyse 6 trials) -> skeleton on screen, from the
   main window being shown (target < 2 s); also one C3D file;
2. playback at 1280x800 with the curves panel (blitted cursor): frames shown per second in
   real-time playback of a 100 Hz trial, and the cost of one frame update when stepping as
   fast as possible (target >= 30 fps);
3. memory (RSS) across opening and closing 20 trials (target: flat).
Results are printed and, with ``--write``, saved to benchmarks/results_gui.md.
"""
from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pump(app, cond, timeout=60.0):
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError
    return time.perf_counter() - t0


def inputs() -> tuple[Path, Path]:
    pre = next(iter(sorted((ROOT / "sample_c3d").glob("*/pre"))), None)
    if pre is None:
        raise SystemExit("sample sessions missing: generate sample_c3d/ first")
    walk = sorted(pre.glob("*walk*.c3d"))[0]
    return pre, walk


def new_window(app, size=(1280, 800)):
    from PySide6.QtCore import QSettings
    from app.main_window import MainWindow
    win = MainWindow(QSettings(str(ROOT / "benchmarks" / ".bench_gui.ini"), QSettings.IniFormat))
    win.settings.clear()
    win.resize(*size)
    win.show()
    pump(app, lambda: win.isVisible() and win.viewer._initialised)
    for _ in range(20):
        app.processEvents()
    return win


def time_to_skeleton(app, win, path: Path) -> float:
    n0 = win.viewer.n_renders
    t0 = time.perf_counter()
    win.open_paths([path])
    pump(app, lambda: win.state.trial is not None and win.viewer.scene.data is not None and win.viewer.n_renders > n0)
    dt = time.perf_counter() - t0
    win.state.close_all()
    pump(app, lambda: not win.runner.busy)
    return dt


def bench_open(app) -> dict:
    pre, walk = inputs()
    win = new_window(app)
    time_to_skeleton(app, win, walk)                  # warm-up (imports, caches)
    s = [time_to_skeleton(app, win, pre) for _ in range(3)]
    f = [time_to_skeleton(app, win, walk) for _ in range(3)]
    win.close()
    return {"session_s": s, "file_s": f, "session": pre, "file": walk}


def bench_playback(app, seconds: float = 5.0) -> dict:
    pre, walk = inputs()
    win = new_window(app, (1280, 800))
    win.open_paths([walk])
    pump(app, lambda: win.state.trial is not None and not win.runner.busy)
    win.curves.group.setCurrentText("Kinematics")
    for _ in range(50):
        app.processEvents()
    st, viewer, curves = win.state, win.viewer, win.curves
    # real-time playback at the trial rate
    r0, b0 = viewer.n_renders, curves.n_blits
    win.playback.loop = True
    win.playback.play()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        app.processEvents()
    win.playback.pause()
    dt = time.perf_counter() - t0
    shown = viewer.n_renders - r0
    blits = curves.n_blits - b0
    # as fast as possible: one frame update = 3D render + curve cursor blit + timeline repaint
    lo, hi = st.frame_range
    times = []
    for k in range(300):
        t = time.perf_counter()
        st.set_frame(lo + (k % (hi - lo)))
        app.processEvents()
        times.append(time.perf_counter() - t)
    size = (viewer.vtk_widget.width(), viewer.vtk_widget.height())
    win.close()
    return {"fps": shown / dt, "blit_fps": blits / dt, "rate": st.trial.trial.point_rate_hz if st.trial else 100.0,
            "step_ms_median": 1000 * statistics.median(times), "step_ms_p95": 1000 * sorted(times)[int(0.95 * len(times))],
            "vtk_size": size}


def bench_memory(app, n: int = 20) -> dict:
    pre, walk = inputs()
    trials = sorted(pre.glob("*.c3d"))
    trials = [t for t in trials if "static" not in t.name]
    win = new_window(app)
    rss = []
    for i in range(n):
        win.open_paths([trials[i % len(trials)]])
        pump(app, lambda: win.state.trial is not None and not win.runner.busy)
        win.state.close_all()
        win.editor.stack.clear()
        for _ in range(5):
            app.processEvents()
        gc.collect()
        rss.append(rss_mb())
    win.close()
    return {"rss": rss}


def main(argv) -> int:
    from app.main import create_app
    app = create_app()
    o = bench_open(app)
    p = bench_playback(app)
    m = bench_memory(app)
    rss = m["rss"]
    half = len(rss) // 2
    growth = statistics.mean(rss[half:]) - statistics.mean(rss[:half])
    gl = "unknown"
    try:
        from vtkmodules.vtkRenderingOpenGL2 import vtkOpenGLRenderWindow  # noqa: F401
        from app.scene import offscreen_window
        w = offscreen_window()
        w.Render()
        caps = w.ReportCapabilities().splitlines()
        gl = next((c.split(":", 1)[1].strip() for c in caps if "renderer string" in c), "unknown")
        w.Finalize()
    except Exception:  # noqa: BLE001
        pass
    lines = [
        "# Desktop app benchmarks (benchmarks/bench_gui.py)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; X server: Xvfb; OpenGL renderer (off-screen probe): {gl}.",
        f"Command: `xvfb-run -a -s \"-screen 0 1600x1000x24\" .venv/bin/python benchmarks/bench_gui.py --write`",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| open sample session `{o['session'].relative_to(ROOT)}` (6 trials: read, CGM1, events, analysis) -> skeleton on screen | "
        f"{min(o['session_s']):.2f} s best, {statistics.median(o['session_s']):.2f} s median of 3 | < 2 s |",
        f"| open one C3D `{o['file'].name}` -> skeleton on screen | {min(o['file_s']):.2f} s best, "
        f"{statistics.median(o['file_s']):.2f} s median | < 2 s |",
        f"| real-time playback of a {p['rate']:g} Hz trial at 1280x800 with curves (frames shown / s) | "
        f"{p['fps']:.0f} fps (3D renders), {p['blit_fps']:.0f} cursor blits/s | >= 30 fps |",
        f"| one frame update when stepping as fast as possible (3D render {p['vtk_size'][0]}x{p['vtk_size'][1]} + 13 curve cursors blitted + timeline) | "
        f"{p['step_ms_median']:.1f} ms median ({1000 / p['step_ms_median']:.0f} fps), {p['step_ms_p95']:.1f} ms p95 | <= 33 ms |",
        f"| RSS across opening/closing 20 trials | first {rss[0]:.0f} MB, last {rss[-1]:.0f} MB, max {max(rss):.0f} MB; "
        f"mean of last 10 minus first 10: {growth:+.1f} MB | flat |",
        "",
        "RSS after each open/close (MB): " + ", ".join(f"{x:.0f}" for x in rss),
        "",
        "Notes: playback advances by wall-clock time (frames are dropped, never slowed down, if a",
        "render is late); the curves are drawn once per trial and only the cursor lines are blitted",
        "per frame; the 3D scene copies one row into the same VTK point buffers per frame.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if "--write" in argv:
        (ROOT / "benchmarks" / "results_gui.md").write_text(text, encoding="utf-8")
    (ROOT / "benchmarks" / ".bench_gui.ini").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
