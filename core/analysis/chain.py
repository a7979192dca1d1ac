"""Kinetic-chain indicators over valgus phases and the summary wording (docs/valgus.md).

The usual drivers of dynamic knee valgus (Powers 2010; Hewett et al. 2005) are told apart by
kinematic indicators only:

* top-down (hip-driven): hip adduction, hip internal rotation and contralateral pelvic drop
  beyond normal, in the direction that goes with valgus (larger adduction, more internal
  rotation, more drop);
* bottom-up (foot-driven): limited ankle dorsiflexion (below normal) and an out-toeing
  (external) foot progression beyond normal (pronation abducts the forefoot; in-toeing that
  follows hip internal rotation is a top-down consequence, not a foot driver).

Knee flexion is reported but belongs to neither pattern. The wording is always "kinematic
indicators consistent with ...", never a diagnosis, and always states that CGM1 cannot
measure foot pronation.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from core.analysis.types import (FOOT_PRONATION_NOTE, INDICATORS, ChainSummary, IndicatorResult, ValgusPhase)
from core.variables import VARIABLES_BY_KEY

#: sign of an indicator deviation that goes with valgus (+1 above normal, -1 below, 0 none)
VALGUS_DIRECTION = {"hip_adduction": 1, "hip_internal_rotation": 1, "contralateral_pelvic_drop": 1,
                    "knee_flexion": 0, "ankle_dorsiflexion": -1, "foot_progression": -1}
WORDS = {"hip_adduction": "hip adduction", "hip_internal_rotation": "hip internal rotation",
         "contralateral_pelvic_drop": "contralateral pelvic drop", "knee_flexion": "knee flexion",
         "ankle_dorsiflexion": "limited ankle dorsiflexion", "foot_progression": "out-toeing foot progression"}
TASK_WORDS = {"walk": "walking", "sls": "single-leg squat", "sl_stance": "single-leg stance",
              "drop_jump": "drop-jump landing", "sl_landing": "single-leg landing"}


def _direction_word(key: str, value: float) -> str:
    v = VARIABLES_BY_KEY.get(key)
    if v is None or not math.isfinite(value):
        return ""
    return v.positive if value >= 0 else v.negative


def indicator_result(name: str, side_key: str, series: np.ndarray, rows: np.ndarray, peak_row: int,
                     start_row: int, band_mean: Optional[np.ndarray] = None,
                     band_sd: Optional[np.ndarray] = None, k: float = 2.0) -> IndicatorResult:
    """One indicator over a phase, compared with the normal band.

    Parameters
    ----------
    name: key of :data:`core.analysis.INDICATORS`; side_key: e.g. ``"RHipAngles.y"``.
    series: ``(F,)`` indicator series, deg; rows: ``(n,)`` row indices of the phase frames;
    peak_row: row of the valgus peak; start_row: row of the window start.
    band_mean, band_sd: ``(n,)`` normal band at the phase frames (same gait-cycle percent),
        or None where no band applies.
    k: band half-width in SD.
    """
    key, unit, pattern = INDICATORS[name]
    vals = series[rows]
    with np.errstate(all="ignore"):
        mean = float(np.nanmean(vals)) if np.isfinite(vals).any() else math.nan
        vmax = float(np.nanmax(vals)) if np.isfinite(vals).any() else math.nan
    peak = float(series[peak_row])
    change = mean - float(series[start_row])
    nm = ns = math.nan
    beyond: Optional[bool] = None
    supports: Optional[bool] = None
    deviation = "no band"
    if band_mean is not None and band_sd is not None and np.isfinite(band_mean).any():
        nm, ns = float(np.nanmean(band_mean)), float(np.nanmean(band_sd))
        if math.isfinite(mean):
            diff = mean - nm
            beyond = bool(abs(diff) > k * ns)
            deviation = ("above normal" if diff > 0 else "below normal") if beyond else "within normal"
            sign = VALGUS_DIRECTION[name]
            supports = bool(beyond and sign != 0 and np.sign(diff) == sign)
    return IndicatorResult(name=name, key=side_key, unit=unit, value_mean=mean, value_peak=peak,
                           value_max=vmax, change_from_start=change, normal_mean=nm, normal_sd=ns,
                           beyond_normal=beyond, deviation=deviation,
                           direction=_direction_word(key, mean), pattern=pattern,
                           supports_valgus=supports)


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def summarise_chain(side: str, task: str, phases: Sequence[ValgusPhase]) -> ChainSummary:
    """Which indicators co-occur with the valgus phases of one side and task, in words.

    An indicator co-occurs when it is beyond normal in the valgus direction in at least half
    of the phases. Pattern: top-down, bottom-up, mixed, none, not judged (no band: values
    only) or no valgus phase.
    """
    phases = [p for p in phases if p.side == side and p.task == task]
    what = TASK_WORDS.get(task, task)
    n = len(phases)
    if n == 0:
        return ChainSummary(side, task, 0, "no valgus phase", (),
                            f"{side}: no valgus phase during {what}. {FOOT_PRONATION_NOTE}", ("no-phase",))
    judged = [i for p in phases for i in p.indicators if i.supports_valgus is not None]
    if not judged:
        return _values_only(side, task, phases)
    names = [name for name in INDICATORS
             if sum(1 for p in phases if (i := p.indicator(name)) is not None and i.supports_valgus) * 2 >= n]
    top = [x for x in names if INDICATORS[x][2] == "top-down"]
    bottom = [x for x in names if INDICATORS[x][2] == "bottom-up"]
    head = f"{side}: {n} valgus phase{'s' if n > 1 else ''} during {what}"
    if top and bottom:
        pattern, words = "mixed", ("kinematic indicators consistent with both a hip-driven (top-down) "
                                   "and a foot-driven (bottom-up) contribution")
    elif top:
        pattern, words = "top-down", "kinematic indicators consistent with a hip-driven (top-down) pattern"
    elif bottom:
        pattern, words = "bottom-up", "kinematic indicators consistent with a foot-driven (bottom-up) pattern"
    else:
        pattern = "none"
        text = (f"{head}; no kinetic-chain indicator was beyond the normal band during them, so the "
                "kinematics do not point to a hip- or foot-driven pattern (structural or neuromuscular "
                f"factors cannot be told apart by kinematics). This is not a diagnosis. {FOOT_PRONATION_NOTE}")
        return ChainSummary(side, task, n, pattern, (), text, ("no-indicator",))
    co = top + bottom
    text = (f"{head}; {_join([WORDS[x] for x in co])} beyond the normal band during them: {words}. "
            f"This is not a diagnosis. {FOOT_PRONATION_NOTE}")
    return ChainSummary(side, task, n, pattern, tuple(co), text, (pattern,))


def _values_only(side: str, task: str, phases: Sequence[ValgusPhase]) -> ChainSummary:
    """Summary where no normal band applies: indicator values only, no pattern judged."""
    what = TASK_WORDS.get(task, task)
    parts = []
    for name in ("hip_adduction", "hip_internal_rotation", "contralateral_pelvic_drop", "ankle_dorsiflexion"):
        ch = [i.change_from_start for p in phases if (i := p.indicator(name)) is not None]
        mv = [i.value_mean for p in phases if (i := p.indicator(name)) is not None]
        if ch and np.isfinite(mv).any():
            parts.append(f"{name.replace('_', ' ')} {np.nanmean(mv):.1f} deg "
                         f"({np.nanmean(ch):+.1f} deg from the window start)")
    n = len(phases)
    text = (f"{side}: {n} valgus phase{'s' if n > 1 else ''} during {what}; mean over the phases: "
            f"{'; '.join(parts) if parts else 'no indicator available'}. No normal band exists for this "
            f"task, so no pattern is judged from the values. {FOOT_PRONATION_NOTE}")
    return ChainSummary(side, task, n, "not judged", (), text, ("no-band",))


CROSSTALK_CAUTION = ("Caution: this knee's 3D varus/valgus follows its flexion in swing (likely knee-axis "
                     "cross-talk); compare with FPPA, MKD and the DynaKAD-corrected valgus before reading "
                     "the 3D valgus phases.")


def with_crosstalk_caution(summary: ChainSummary) -> ChainSummary:
    """The summary with the cross-talk caution added (flag ``"crosstalk"``), once."""
    if "crosstalk" in summary.flags:
        return summary
    text = summary.text.replace(FOOT_PRONATION_NOTE, f"{CROSSTALK_CAUTION} {FOOT_PRONATION_NOTE}")
    return ChainSummary(summary.side, summary.task, summary.n_phases, summary.pattern, summary.co_occurring,
                        text, summary.flags + ("crosstalk",))
