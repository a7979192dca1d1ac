"""A fast numpy reader for well-formed Intel C3D files (the common case: Vicon, Qualisys...).

ezc3d converts a file frame by frame in C++ objects, which costs about 35 ms per 1,000
frames of 60 markers. For Intel files whose header and parameters agree, the data section
is a plain array of records (C3D User Guide, C3D.ORG 2008, chapter "The 3D point and
analog data section"): per frame, every point as ``x, y, z, meta`` (float32, or int16
times POINT:SCALE) followed by the analog samples of the frame. This module reads that
array with one ``numpy.fromfile`` and decodes it the way ezc3d does (same residual and
camera-mask rules, same analog scaling ``(raw - OFFSET) * SCALE * GEN_SCALE``), returning
the same structure as ezc3d's Python object so that :mod:`core.io.c3d_read` can use
either. Anything unusual (DEC or MIPS files, header and parameters that disagree,
missing scale factors, a short data section) returns None and ezc3d reads the file; a
test checks that both paths give identical trials for every reference file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from core.io.c3d_check import walk_parameters

INTEL = 84


def _param_value(ptype: int, dims: list[int], raw: bytes):
    """A parameter value in ezc3d's Python form (list of str, or an ndarray)."""
    if ptype == -1:
        if not dims:
            return []
        width = dims[0]
        count = int(np.prod(dims[1:])) if len(dims) > 1 else 1
        return [raw[i * width:(i + 1) * width].split(b"\x00")[0].decode("utf-8", "surrogateescape").rstrip(" ")
                for i in range(count)]
    dtype = {1: "<i1", 2: "<i2", 4: "<f4"}[ptype]
    a = np.frombuffer(raw, dtype=dtype)
    a = a.astype(np.float64) if ptype == 4 else a.astype(np.int64)
    return a.reshape(dims, order="F") if len(dims) > 1 else a.reshape(-1)


def _parameters(found: dict) -> Optional[dict]:
    groups: dict[str, dict] = {}
    names = found["groups"]
    for gid, gname in names.items():
        groups.setdefault(gname, {})
    for (gid, _upper), (ptype, dims, raw, stored) in found["params"].items():
        if gid not in names:
            return None
        groups[names[gid]][stored] = {"type": ptype, "value": _param_value(ptype, dims, raw)}
    return groups


def _number(groups: dict, group: str, name: str) -> Optional[np.ndarray]:
    p = groups.get(group, {}).get(name)
    if p is None or isinstance(p["value"], list):
        return None
    return np.asarray(p["value"], dtype=float).reshape(-1)


def _analog(block: np.ndarray, groups: dict, n_ch: int, spf: int, floats: bool) -> Optional[np.ndarray]:
    """``(1, C, S)`` scaled analog samples from the frame records' analog part."""
    if n_ch == 0:
        return np.zeros((1, 0, block.shape[0] * spf))
    scale, offset = _number(groups, "ANALOG", "SCALE"), _number(groups, "ANALOG", "OFFSET")
    gen = _number(groups, "ANALOG", "GEN_SCALE")
    if scale is None or offset is None or gen is None or scale.size < n_ch or offset.size < n_ch or not gen.size:
        return None
    raw = block.reshape(-1, n_ch).astype(np.float32)  # (S, C): frames x subframes, then channels
    # ezc3d: ((float(raw) - |OFFSET|) in float32) * SCALE * GEN_SCALE in double
    shifted = (raw - np.abs(offset[:n_ch]).astype(np.float32)).astype(np.float64)
    return ((shifted * scale[:n_ch]) * gen[0]).T[None]


def _points(block: np.ndarray, scale: float, floats: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(4, P, F)`` points and ``(1, P, F)`` residuals, decoded as ezc3d does."""
    n_f, n_p = block.shape[0], block.shape[1] // 4
    rec = block.reshape(n_f, n_p, 4)
    if floats:
        xyz = rec[..., :3].astype(np.float64)
        meta = rec[..., 3].astype(np.float64)
        safe = np.nan_to_num(np.where(meta < 0, 0.0, meta), nan=0.0, posinf=0.0)
        packed = np.rint(np.minimum(safe, 2.0 ** 32 - 1)).astype(np.int64)
        residual = np.where(meta < 0, meta, ((packed >> 8) & 0xFF) * -scale)
    else:  # int16 words; meta = camera mask (low byte), residual (high byte, signed)
        xyz = rec[..., :3].astype(np.float64) * scale
        residual = (rec[..., 3].astype(np.int16) >> 8).astype(np.float64) * scale
    xyz[residual < 0] = np.nan
    points = np.empty((4, n_p, n_f))
    points[:3] = xyz.transpose(2, 1, 0)
    points[3] = 1.0
    return points, residual.T[None]


def _long_capture_frames(path: Path, groups: dict, start: int, frames_param: Optional[np.ndarray],
                         words: int, word: int) -> Optional[int]:
    """Frames of a capture longer than 65,535 frames, whose header's last frame is capped:
    from TRIAL:ACTUAL_START_FIELD / ACTUAL_END_FIELD (two 16-bit words each, Vicon), else
    the largest count congruent to a wrapped 16-bit POINT:FRAMES that fits in the file."""
    available = (path.stat().st_size - 512 * (start - 1)) // (words * word) if words else 0
    a, b = _number(groups, "TRIAL", "ACTUAL_START_FIELD"), _number(groups, "TRIAL", "ACTUAL_END_FIELD")
    if a is not None and b is not None and a.size >= 2 and b.size >= 2:
        first = int(a[0]) % 65536 + 65536 * (int(a[1]) % 65536)
        last = int(b[0]) % 65536 + 65536 * (int(b[1]) % 65536)
        n = last - first + 1
        return n if 0 < n <= available else None
    if frames_param is None or not frames_param.size or int(frames_param[0]) % 65536 == 0xFFFF:
        return None
    n = int(frames_param[0]) % 65536
    return n + 65536 * ((available - n) // 65536) if available >= n else None


def fast_read(path: Path) -> Optional[dict]:
    """The ezc3d-like structure of an Intel C3D file, or None to let ezc3d read it."""
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50 or head[0] < 2:
            return None
        f.seek(512 * (head[0] - 1))
        first4 = f.read(4)
        if len(first4) < 4 or first4[3] != INTEL:
            return None
        section = first4 + f.read(max(first4[2], 1) * 512 + 65536)
    found: dict = {}
    if walk_parameters(section, 4, found) is not None:
        return None
    groups = _parameters(found)
    if groups is None or "POINT" not in groups or "ANALOG" not in groups:
        return None
    h = np.frombuffer(head[:24], dtype="<u2")
    n_p, n_analog_total, first, last, start = int(h[1]), int(h[2]), int(h[3]), int(h[4]), int(h[8])
    scale = float(np.frombuffer(head[12:16], "<f4")[0])
    rate = float(np.frombuffer(head[20:24], "<f4")[0])
    spf = int(h[9])
    used_p, used_a = _number(groups, "POINT", "USED"), _number(groups, "ANALOG", "USED")
    p_scale = _number(groups, "POINT", "SCALE")
    n_frames = last - first + 1 if last >= first else 0
    if (used_p is None or used_a is None or p_scale is None or not p_scale.size
            or int(used_p[0]) != n_p or np.sign(p_scale[0]) != np.sign(scale) or first == 0
            or int(used_a[0]) * spf != n_analog_total or (n_analog_total and spf == 0) or n_frames == 0):
        return None
    frames_param = _number(groups, "POINT", "FRAMES")
    if last >= 0xFFFF:  # header capped: a long capture
        n_frames = _long_capture_frames(path, groups, start, frames_param, 4 * n_p + n_analog_total,
                                        2 if scale >= 0 else 4)
        if n_frames is None:
            return None
        last = first + n_frames - 1
    elif frames_param is not None and frames_param.size and int(frames_param[0]) % 65536 != n_frames:
        return None
    ds = _number(groups, "POINT", "DATA_START")
    if ds is not None and ds.size and int(ds[0]) != start:
        return None
    floats = scale < 0
    dtype = np.dtype("<f4") if floats else np.dtype("<i2")
    per_frame = 4 * n_p + n_analog_total
    count = n_frames * per_frame
    data = np.fromfile(path, dtype=dtype, count=count, offset=512 * (start - 1))
    if data.size != count:
        return None
    block = data.reshape(n_frames, per_frame)
    points, residuals = _points(block[:, :4 * n_p], float(p_scale[0]), floats)
    analogs = _analog(block[:, 4 * n_p:], groups, int(used_a[0]), spf, floats)
    if analogs is None:
        return None
    return {"header": {"points": {"size": n_p, "frame_rate": rate, "first_frame": first - 1,
                                  "last_frame": last - 1},
                       "analogs": {"size": int(used_a[0]), "frame_rate": rate * spf,
                                   "first_frame": (first - 1) * spf, "last_frame": last * spf - 1}},
            "parameters": groups,
            "data": {"points": points, "meta_points": {"residuals": residuals}, "analogs": analogs}}
