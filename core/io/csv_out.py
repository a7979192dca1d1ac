"""Model outputs as a CSV table (one row per C3D frame).

Layout: ``frame,time_s,NAME_X,NAME_Y,NAME_Z,...``; ``frame`` is the C3D frame number (as
Vicon Nexus shows it), ``time_s`` the time from the start of capture,
``(frame - 1) / rate``; angles in degrees, joint centres in mm; a missing sample is an
empty cell. Written atomically (temporary file in the target folder, then ``os.replace``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from core.errors import C3DWriteError
from core.io.c3d_write import atomic_target, processed_names
from core.model import ModelOutputs, frame_to_time

#: significant digits written (float64 outputs; more than float32 precision)
DIGITS = 10


def _format(values: np.ndarray) -> np.ndarray:
    """``(F, K)`` floats -> strings, NaN -> ''."""
    text = np.char.mod(f"%.{DIGITS}g", values)
    return np.where(np.isfinite(values), text, "")


def outputs_table(outputs: ModelOutputs, names: Optional[Sequence[str]] = None) -> tuple[list[str], np.ndarray]:
    """Header and ``(F, 2 + 3N)`` float table (frame, time, X/Y/Z per channel).

    Raises C3DWriteError naming channels that are not in ``outputs``.
    """
    names = list(processed_names(outputs) if names is None else names)
    missing = [n for n in names if n not in outputs.channels]
    if missing:
        raise C3DWriteError(f"no such output channel(s): {', '.join(missing)}")
    frames = outputs.frames.astype(float)
    columns = [frames[:, None], frame_to_time(frames, outputs.rate_hz)[:, None]]
    columns += [np.asarray(outputs.channels[n], dtype=float).reshape(len(frames), 3) for n in names]
    header = ["frame", "time_s"] + [f"{n}_{a}" for n in names for a in "XYZ"]
    return header, np.hstack(columns) if names or len(frames) else np.zeros((0, 2))


def write_outputs_csv(out_path: str | Path, outputs: ModelOutputs,
                      names: Optional[Sequence[str]] = None) -> Path:
    """Write model outputs as CSV.

    Parameters
    ----------
    out_path: the CSV file (replaced atomically).
    outputs: CGM1 outputs; each channel ``(F, 3)``.
    names: channels to write, in this order; default the Vicon outputs present (Vicon
        order) followed by any other channel.

    Returns
    -------
    Path of the written file.
    """
    out_path = Path(out_path)
    header, table = outputs_table(outputs, names)
    body = _format(table[:, 2:]) if table.shape[1] > 2 else np.zeros((table.shape[0], 0), dtype=str)
    frames = table[:, 0].astype(np.int64).astype(str)
    times = np.char.mod("%.6f", table[:, 1])
    rows = np.column_stack([frames, times, body]) if table.shape[0] else np.zeros((0, len(header)), str)
    lines = [",".join(header)] + [",".join(r) for r in rows.tolist()]
    with atomic_target(out_path, suffix=".csv") as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return out_path
