"""Model outputs as a CSV table (one row per C3D frame).

Layout: ``frame,time_s,NAME_X,NAME_Y,NAME_Z,...``; ``frame`` is the C3D frame number (as
Vicon Nexus shows it), ``time_s`` the time from the start of capture,
``(frame - 1) / rate``; angles in degrees, joint centres in mm; a missing sample is an
empty cell. Written atomically (temporary file in the target folder, then ``os.replace``).

Filled marker samples (``process --fill-gaps N``) are flagged in both products (docs/io.md):
the CSV gets a last column ``filled_markers`` (space-separated labels of the markers filled
at that frame, empty when none); the processed C3D gets ``GENULAB:FILLED_FIRST`` /
``GENULAB:FILLED_LAST`` (first and last C3D frame of each run of frames with a filled
sample), ``GENULAB:FILLED_MARKERS`` and ``GENULAB:FILL_MAX_GAP``; its output points keep
Vicon's residual convention (0 valid, -1 invalid).
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
#: CSV column flagging the markers filled at each frame
FILLED_COLUMN = "filled_markers"
#: most entries of a 1-D C3D parameter (its dimension is one byte)
MAX_C3D_ENTRIES = 255


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


def filled_markers_by_frame(filled_mask: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """``(F,)`` strings: the labels (space-separated) of the markers filled at each frame.

    ``filled_mask`` ``(F, P)`` bool (True = filled sample), ``labels`` the ``P`` point labels.
    """
    mask = np.asarray(filled_mask, dtype=bool)
    out = np.full(mask.shape[0], "", dtype=object)
    for c in np.flatnonzero(mask.any(axis=0)):  # a loop over the filled markers, not frames
        out[mask[:, c]] = out[mask[:, c]] + (labels[c] + " ")
    return np.char.strip(out.astype(str))


def filled_frame_runs(filled_mask: np.ndarray, first_frame: int,
                      max_runs: int = MAX_C3D_ENTRIES) -> tuple[np.ndarray, np.ndarray]:
    """First and last C3D frames of the runs of frames with any filled sample.

    At most ``max_runs`` runs: beyond, the runs separated by the shortest unfilled stretches
    are merged (so every filled frame stays covered). Returns two ``(R,)`` int arrays.
    """
    any_filled = np.asarray(filled_mask, dtype=bool).reshape(len(filled_mask), -1).any(axis=1)
    edges = np.diff(np.concatenate(([0], any_filled.astype(int), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    if first.size > max_runs:
        keep = np.sort(np.argsort(first[1:] - last[:-1], kind="stable")[first.size - max_runs:])
        first, last = np.concatenate(([first[0]], first[1:][keep])), np.concatenate((last[:-1][keep], [last[-1]]))
    return first + first_frame, last + first_frame


def filled_flag_parameters(filled_mask: np.ndarray, labels: Sequence[str], first_frame: int,
                           max_gap_frames: int) -> dict[str, dict[str, object]]:
    """The filled-sample flag of a processed C3D as parameters (``GENULAB:FILLED_FIRST/LAST``,
    ``FILLED_MARKERS``, ``FILL_MAX_GAP``), for ``write_processed_c3d(..., parameters=)``.

    Parameters
    ----------
    filled_mask: ``(F, P)`` True where a marker sample was filled; labels: the ``P`` labels.
    first_frame: C3D frame of row 0. max_gap_frames: the longest gap that was filled.
    """
    first, last = filled_frame_runs(filled_mask, first_frame)
    mask = np.asarray(filled_mask, dtype=bool)
    markers = [labels[i] for i in np.flatnonzero(mask.any(axis=0))][:MAX_C3D_ENTRIES]
    as_c3d = (lambda a: [int(v) for v in a]) if last.size and last.max() < 32768 else (lambda a: a.astype(float))
    return {"GENULAB": {"FILLED_FIRST": as_c3d(first), "FILLED_LAST": as_c3d(last),
                        "FILLED_MARKERS": markers, "FILL_MAX_GAP": [int(max_gap_frames)]}}


def write_outputs_csv(out_path: str | Path, outputs: ModelOutputs,
                      names: Optional[Sequence[str]] = None,
                      filled_markers: Optional[Sequence[str]] = None) -> Path:
    """Write model outputs as CSV.

    Parameters
    ----------
    out_path: the CSV file (replaced atomically).
    outputs: CGM1 outputs; each channel ``(F, 3)``.
    names: channels to write, in this order; default the Vicon outputs present (Vicon
        order) followed by any other channel.
    filled_markers: optional ``(F,)`` strings (see :func:`filled_markers_by_frame`): written
        as a last column ``filled_markers`` (the flag of ``--fill-gaps``).

    Returns
    -------
    Path of the written file.
    """
    out_path = Path(out_path)
    header, table = outputs_table(outputs, names)
    body = _format(table[:, 2:]) if table.shape[1] > 2 else np.zeros((table.shape[0], 0), dtype=str)
    frames = table[:, 0].astype(np.int64).astype(str)
    times = np.char.mod("%.6f", table[:, 1])
    if filled_markers is not None:
        flags = np.asarray(filled_markers, dtype=str)
        if flags.shape != (table.shape[0],):
            raise C3DWriteError(f"filled_markers has {flags.size} entries for {table.shape[0]} frames", out_path)
        header, body = header + [FILLED_COLUMN], np.column_stack([body, flags])
    rows = np.column_stack([frames, times, body]) if table.shape[0] else np.zeros((0, len(header)), str)
    lines = [",".join(header)] + [",".join(r) for r in rows.tolist()]
    with atomic_target(out_path, suffix=".csv") as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return out_path
