"""Benchmark: PDF report generation (issue 7 target: a 10-page report in under 3 s).

Processing and analysis of the sample sessions are done once, outside the timing; the
timed part is building the pages and writing the PDF (``core.report.build``), and,
separately, rendering the 3D snapshots off screen (``app.scene``).

Run: ``.venv/bin/python benchmarks/bench_report.py [--out benchmarks/results_report.md]``
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _inputs():
    from core.analysis.session import analyze_session
    from core.gait.pipeline import process_session
    from core.report.inputs import PatientInfo, SessionInfo, SessionReportInput
    pdir = ROOT / "sample_c3d" / "GL-0001"
    patient = json.loads((pdir / "patient.json").read_text())
    out = {}
    for label in ("pre", "post"):
        p = process_session(pdir / label)
        out[label] = SessionReportInput(PatientInfo.from_mapping(patient),
                                        SessionInfo.from_patient_record(label, patient), p, analyze_session(p))
    return out


def _best(fn, n: int = 3) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000.0


def _pages(pdf: Path) -> int:
    import re
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_report.md")
    args = ap.parse_args()
    from app.reporting import with_snapshots
    from core.analysis.comparison import compare_sessions
    from core.report.build import build_comparison_report, build_session_report

    inp = _inputs()
    comparison = compare_sessions(inp["pre"].analysis, inp["post"].analysis)
    tmp = Path(tempfile.mkdtemp())
    rows = []
    t_snap = _best(lambda: with_snapshots(inp["pre"]), 1)
    pre_snap = with_snapshots(inp["pre"])
    post_snap = with_snapshots(inp["post"])
    for name, fn, pdf in (
        ("session report (pre), no snapshots", lambda: build_session_report(inp["pre"], tmp / "a.pdf"), tmp / "a.pdf"),
        ("session report (pre), with snapshots", lambda: build_session_report(pre_snap, tmp / "b.pdf"), tmp / "b.pdf"),
        ("comparison report (pre vs post)", lambda: build_comparison_report(inp["pre"], post_snap, comparison,
                                                                             tmp / "c.pdf"), tmp / "c.pdf"),
    ):
        ms = _best(fn)
        rows.append((name, _pages(pdf), ms, pdf.stat().st_size / 1024))
    load = os.getloadavg()
    lines = ["# Report benchmark (benchmarks/bench_report.py)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}. "
             f"Best of 3 runs; processing and analysis excluded. Load average at the end: "
             f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.", "",
             "| report | pages | ms | ms / page | size (kB) |", "|---|---:|---:|---:|---:|"]
    for name, pages, ms, kb in rows:
        lines.append(f"| {name} | {pages} | {ms:.0f} | {ms / max(pages, 1):.0f} | {kb:.0f} |")
    lines += ["", f"Off-screen 3D snapshots of the pre session (app.scene, frontal view at each task/side peak): "
              f"{t_snap:.0f} ms.", "", "Target (issue 7): a 10-page report in under 3 s."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
