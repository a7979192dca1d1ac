"""Number formatting and the plain-language findings of the report.

One formatting rule per quantity so that the numbers printed can be checked against the
analysis results: angles 1 decimal (deg), distances 1 decimal (mm), times 2 decimals (s,
from the start of capture), frames as C3D frame numbers, percentages 0 decimals.
"""
from __future__ import annotations

import math
from typing import Iterable, Optional

from core.analysis.kinetics import kinetic_findings
from core.analysis.types import FOOT_PRONATION_NOTE, SessionAnalysis

METRIC_NAMES = {
    "valgus_3d": "3D knee valgus (raw)",
    "valgus_3d_corrected": "3D knee valgus (DynaKAD-corrected)",
    "fppa": "FPPA",
    "mkd": "MKD",
}
TASK_NAMES = {"walk": "Walking", "sls": "Single-leg squat", "sl_stance": "Single-leg stance",
              "drop_jump": "Drop-jump landing", "sl_landing": "Single-leg landing"}
INDICATOR_NAMES = {
    "hip_adduction": "Hip adduction",
    "hip_internal_rotation": "Hip internal rotation",
    "contralateral_pelvic_drop": "Contralateral pelvic drop",
    "knee_flexion": "Knee flexion",
    "ankle_dorsiflexion": "Ankle dorsiflexion",
    "foot_progression": "Foot progression (toe-in +)",
}


def fnum(x: Optional[float], nd: int = 1, unit: str = "") -> str:
    """``x`` with ``nd`` decimals, '-' when missing; optional unit suffix."""
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(float(x)):
        return "-"
    s = f"{float(x):.{nd}f}"
    if s in ("-0.0", "-0.00", "-0"):
        s = s[1:]
    return f"{s} {unit}".rstrip() if unit else s


def unit_of(metric: str) -> str:
    return "mm" if metric.startswith("mkd") and not metric.endswith("pct_knee_width") else "deg"


def time_of(frame: int, rate_hz: float) -> float:
    """Seconds from the start of capture of a C3D frame number (frame 1 = 0 s)."""
    return (frame - 1) / rate_hz


def bullet_lines(items: Iterable[str]) -> str:
    return "\n".join(f"\u2022 {s}" for s in items)


def key_findings(analysis: SessionAnalysis) -> list[str]:
    """Plain-language key findings: valgus per side and task, co-occurring indicators, GPS."""
    lines: list[str] = []
    for key, summ in sorted(analysis.tasks.items()):
        task, side = key.split("/")
        metric = METRIC_NAMES.get(summ.metric, summ.metric)
        unit = unit_of(summ.metric)
        peak = max((v for v in summ.peak_values if math.isfinite(v)), default=math.nan)
        if summ.n_windows_with_phase:
            what = (f"{TASK_NAMES.get(task, task)}, {side}: dynamic knee valgus in {summ.n_windows_with_phase} of "
                    f"{summ.n_windows} {_window_word(task, summ.n_windows)} (peak {metric} {fnum(peak)} {unit}; "
                    f"threshold {summ.threshold_text}).")
        else:
            what = (f"{TASK_NAMES.get(task, task)}, {side}: no valgus phase in {summ.n_windows} {_window_word(task, summ.n_windows)} "
                    f"(peak {metric} {fnum(peak)} {unit}).")
        chain = analysis.chain.get(key)
        if chain is not None and summ.n_windows_with_phase and chain.co_occurring:
            names = ", ".join(INDICATOR_NAMES.get(n, n).lower() for n in chain.co_occurring)
            what += f" Co-occurring indicators beyond normal: {names}; {_pattern_words(chain.pattern)}."
        lines.append(what)
    if math.isfinite(analysis.gps_overall_deg):
        per = ", ".join(f"{s} {fnum(w.gps_deg)}" for s, w in analysis.walking.items())
        lines.append(f"Gait Profile Score (Baker 2009): overall {fnum(analysis.gps_overall_deg)} deg ({per} deg).")
    lines += [f"Kinetics: {line}" for line in kinetic_findings(analysis, TASK_NAMES)]
    for w in analysis.warnings:
        lines.append(f"Note: {w}")
    lines.append(FOOT_PRONATION_NOTE)
    return lines


def _window_word(task: str, n: int = 2) -> str:
    words = {"walk": ("stance phase", "stance phases"), "sls": ("repetition", "repetitions"),
             "sl_stance": ("hold", "holds")}.get(task, ("landing", "landings"))
    return words[0] if n == 1 else words[1]


def _pattern_words(pattern: str) -> str:
    return {
        "top-down": "kinematic indicators consistent with a hip-driven (top-down) pattern",
        "bottom-up": "kinematic indicators consistent with a foot-driven (bottom-up) pattern",
        "mixed": "kinematic indicators consistent with both hip- and foot-driven contributions",
    }.get(pattern, "no kinematic driver pattern identified")
