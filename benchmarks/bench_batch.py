"""Benchmark: batch reprocessing of an archive (issue 12) and the cold start of the commands.

Part 1 (batch): a synthetic archive of ``--copies`` copies (default 12) of the sample
patient (pre + post sessions, 6 dynamic trials each) plus one broken C3D is processed with
``core.batch.run_batch`` on a local pool of 1 and 2 workers and on a Dask LocalCluster of 2
single-threaded workers. Printed: trials/s, the 2-worker / 1-worker ratio (target >= 1.6 on
an idle 2-core machine), peak memory per worker, the in-task time per session, the per-task
overhead of each engine (no-op tasks through the same engine), and whether the outputs of
every run are byte-identical.

Part 2 (cold start): ``genulab analyze SESSION`` and ``genulab report STORE --session pre``
as new processes (cold: a new interpreter, so every import is paid; the OS file cache is
warm) and again inside one interpreter (warm: the second call of ``app.cli.main``).

Run: ``.venv/bin/python benchmarks/bench_batch.py [--copies 12] [--skip-dask] [--out benchmarks/results_batch.md]``
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "sample_c3d" / "GL-0001"


def noop(x):
    """A task that does nothing: its round trip is the engine's per-task overhead."""
    return x


def make_archive(root: Path, copies: int) -> Path:
    for i in range(1, copies + 1):
        shutil.copytree(SAMPLE, root / f"GL-{i:04d}", ignore=shutil.ignore_patterns("*.truth.json"))
    raw = (SAMPLE / "pre" / "pre_walk_01.c3d").read_bytes()
    (root / "GL-0001" / "pre" / "pre_walk_09.c3d").write_bytes(raw[:20000])   # the broken file
    return root


def digest_tree(out: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(out.rglob("*")):
        if p.is_file() and (p.suffix == ".c3d" or p.name == "analysis.json"):
            h.update(p.relative_to(out).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def warm_up(_=None) -> int:
    """Import what a session task needs (each worker pays this once, outside the timing)."""
    import core.analysis.session  # noqa: F401
    import core.batch.task  # noqa: F401
    import core.gait.pipeline  # noqa: F401
    import core.io.c3d  # noqa: F401
    return os.getpid()


def overhead_ms(engine, n: int = 200) -> float:
    for f in [engine.submit(noop, i) for i in range(engine.workers * 2)]:   # workers started
        f.result()
    t = time.perf_counter()
    futures = [engine.submit(noop, i) for i in range(n)]
    for f in futures:
        f.result()
    return 1000.0 * (time.perf_counter() - t) / n


def run_engine(kind: str, workers: int, root: Path, out: Path) -> dict:
    from core.batch.engines import DaskEngine, LocalEngine
    from core.batch.runner import run_batch
    t0 = time.perf_counter()
    engine = LocalEngine(workers) if kind == "local" else DaskEngine(workers)
    try:
        pids = set()
        while len(pids) < workers and time.perf_counter() - t0 < 120:   # every worker started and warm
            pids |= {f.result() for f in [engine.submit(warm_up, i) for i in range(4 * workers)]}
        start_s = time.perf_counter() - t0
        summary = run_batch(root, out, engine)
        ovh = overhead_ms(engine)
    finally:
        engine.close()
    done = [r for r in summary.results if r.status != "failed"]
    per_worker = {}
    for r in summary.results:
        per_worker[r.worker] = max(per_worker.get(r.worker, 0.0), r.peak_rss_mb)
    return {"engine": f"{kind} x{workers}", "workers": workers, "elapsed_s": summary.elapsed_s,
            "start_s": start_s, "trials": summary.trials, "trials_per_s": summary.trials_per_s,
            "counts": summary.counts, "task_s": statistics.mean(r.seconds for r in done),
            "rss_mb": max(per_worker.values()), "overhead_ms": ovh, "digest": digest_tree(out),
            "failures": [(r.rel, f, why) for r in summary.results for f, why in r.failures]}


def timed_process(argv: list[str], n: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    best = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "app.cli", *argv], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best.append(time.perf_counter() - t)
    return statistics.median(best)


def timed_warm(argv: list[str]) -> float:
    import contextlib
    import io
    from app.cli import main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main(argv)   # first call pays the imports
        t = time.perf_counter()
        main(argv)
    return time.perf_counter() - t


def cold_start(tmp: Path, n: int) -> list[tuple[str, float, float]]:
    from app.cli import main
    store = tmp / "GL-0001.genu"
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        main(["import", str(SAMPLE / "pre"), "--patient", str(store)])
    rows = []
    for name, argv in (("genulab analyze (sample session folder)", ["analyze", str(SAMPLE / "pre")]),
                       ("genulab report (session PDF of the sample store, with 3D snapshots)",
                        ["report", str(store), "--session", "pre", "--pdf", str(tmp / "r.pdf")])):
        rows.append((name, timed_process(argv, n), timed_warm(argv)))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=12)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
             f"load average before: {os.getloadavg()[0]:.2f}"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_batch:
            root = make_archive(tmp / "archive", args.copies)
            runs = [("local", 1), ("local", 2)] + ([] if args.skip_dask else [("dask", 2)])
            res = [run_engine(k, w, root, tmp / f"out_{k}{w}") for k, w in runs]
            lines += ["", f"archive: {args.copies} copies of the sample patient = {2 * args.copies} sessions, "
                      f"{res[0]['trials']} good dynamic trials + 1 broken file", "",
                      "| engine | wall s | trials/s | in-task s per session | peak RSS per worker MB | "
                      "per-task overhead ms | engine start s | outputs digest |", "|---|---|---|---|---|---|---|---|"]
            for r in res:
                lines.append(f"| {r['engine']} | {r['elapsed_s']:.1f} | {r['trials_per_s']:.2f} | {r['task_s']:.2f} | "
                             f"{r['rss_mb']:.0f} | {r['overhead_ms']:.2f} | {r['start_s']:.2f} | {r['digest']} |")
            ratio = res[1]["trials_per_s"] / res[0]["trials_per_s"]
            same = len({r["digest"] for r in res}) == 1
            lines += ["", f"RATIO 2 workers / 1 worker (local pool): {ratio:.2f}x (target >= 1.6x)",
                      f"outputs identical across engines: {'yes' if same else 'NO'}",
                      f"failures named: {res[0]['failures']}",
                      f"load average after the batch runs: {os.getloadavg()[0]:.2f}"]
        lines += ["", "| command | cold (new process, median) s | warm (2nd call, same process) s |", "|---|---|---|"]
        for name, cold, warm in cold_start(tmp, args.cold_runs):
            lines.append(f"| {name} | {cold:.2f} | {warm:.2f} |")
    lines.append(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text("# Batch and cold-start benchmark (benchmarks/bench_batch.py)\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
