"""A numpy reader of C3D data sections, for Intel, DEC and MIPS files.

ezc3d converts a file frame by frame in C++ objects, which costs about 35 ms per 1,000
frames of 60 markers. For Intel files whose header and parameters agree, the data section
is a plain array of records (C3D User Guide, C3D.ORG 2008, chapter "The 3D point and
analog data section"): per frame, every point as ``x, y, z, meta`` (float32, or int16
times POINT:SCALE) followed by the analog samples of the frame. This module reads that
array with one ``numpy.fromfile`` in the processor's byte order (``'>'`` dtypes for MIPS,
a vectorised DEC F-float conversion for DEC, see :mod:`core.io.c3d_params`) and decodes
it the way ezc3d does (same residual and camera-mask rules, same analog scaling
``(raw - OFFSET) * SCALE * GEN_SCALE``), returning the same structure as ezc3d's Python
object so that :mod:`core.io.c3d_read` can use either. Header and parameters that
disagree, missing scale factors or a short data section raise :class:`LayoutError`
(:func:`fast_read` then returns None and ezc3d reads the file); a test checks that both
paths give identical trials for every reference file ezc3d reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from core.io.c3d_params import DEC, ParameterSectionError, Section, byte_order, decode_floats, read_section


def _number(groups: dict, group: str, name: str) -> Optional[np.ndarray]:
    p = groups.get(group, {}).get(name)
    if p is None or isinstance(p["value"], list):
        return None
    return np.asarray(p["value"], dtype=float).reshape(-1)


def _factor(groups: dict, name: str, n: int, default: float, warnings: Optional[list[str]]) -> Optional[np.ndarray]:
    """ANALOG:``name`` for ``n`` channels; None when short, unless ``warnings`` is given
    (tolerant reading): then the missing values are ``default`` and a warning says so."""
    v = _number(groups, "ANALOG", name)
    size = 0 if v is None else v.size
    if size >= n:
        return v
    if warnings is None:
        return None
    warnings.append(f"ANALOG:{name} {'is missing' if v is None else f'has {size} values for {n} channels'}; "
                    f"{default:g} was used for {'every channel' if not size else f'channels {size + 1}-{n}'}")
    return np.concatenate([np.zeros(0) if v is None else v, np.full(n - size, default)])


def _analog(block: np.ndarray, groups: dict, n_ch: int, spf: int,
            warnings: Optional[list[str]] = None) -> Optional[np.ndarray]:
    """``(1, C, S)`` scaled analog samples from the frame records' analog part (None when
    a scale factor is missing, unless ``warnings`` collects the defaults used)."""
    if n_ch == 0:
        return np.zeros((1, 0, block.shape[0] * spf))
    scale, offset = _factor(groups, "SCALE", n_ch, 1.0, warnings), _factor(groups, "OFFSET", n_ch, 0.0, warnings)
    gen = _factor(groups, "GEN_SCALE", 1, 1.0, warnings)
    if scale is None or offset is None or gen is None:
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


class LayoutError(ValueError):
    """The header and parameters do not describe a data section this reader decodes."""


def _data(path: Path, section: Section, start: int, count: int, floats: bool) -> np.ndarray:
    """``count`` stored words from block ``start``, decoded to native float32 / int16."""
    offset = 512 * (start - 1)
    if not floats:
        return np.fromfile(path, dtype=byte_order(section.processor) + "i2", count=count,
                           offset=offset).astype(np.int16)
    if section.processor == DEC:
        raw = np.fromfile(path, dtype=np.uint8, count=4 * count, offset=offset)
        return decode_floats(raw, DEC)
    return np.fromfile(path, dtype=byte_order(section.processor) + "f4", count=count,
                       offset=offset).astype(np.float32)


@dataclass(frozen=True)
class _Layout:
    n_p: int
    n_ch: int
    spf: int
    first: int
    n_frames: int
    start: int
    floats: bool
    p_scale: float


def _strict_layout(path: Path, groups: dict, h: np.ndarray, scale: float) -> _Layout:
    """The frame layout when the header and the POINT/ANALOG parameters agree."""
    if "POINT" not in groups or "ANALOG" not in groups:
        raise LayoutError("the POINT or ANALOG group is missing")
    n_p, n_analog_total, first, last, start, spf = (int(h[i]) for i in (1, 2, 3, 4, 8, 9))
    used_p, used_a = _number(groups, "POINT", "USED"), _number(groups, "ANALOG", "USED")
    p_scale = _number(groups, "POINT", "SCALE")
    n_frames = last - first + 1 if last >= first else 0
    if (used_p is None or used_a is None or p_scale is None or not p_scale.size
            or int(used_p[0]) != n_p or np.sign(p_scale[0]) != np.sign(scale) or first == 0
            or int(used_a[0]) * spf != n_analog_total or (n_analog_total and spf == 0) or n_frames == 0):
        raise LayoutError("the header and the POINT/ANALOG parameters disagree on the frame layout")
    frames_param = _number(groups, "POINT", "FRAMES")
    if last >= 0xFFFF:  # header capped: a long capture
        n_frames = _long_capture_frames(path, groups, start, frames_param, 4 * n_p + n_analog_total,
                                        2 if scale >= 0 else 4)
        if n_frames is None:
            raise LayoutError("a capture longer than 65,535 frames without its true length")
    elif frames_param is not None and frames_param.size and int(frames_param[0]) % 65536 != n_frames:
        raise LayoutError("POINT:FRAMES disagrees with the header's frame numbers")
    ds = _number(groups, "POINT", "DATA_START")
    if ds is not None and ds.size and int(ds[0]) != start:
        raise LayoutError("POINT:DATA_START disagrees with the header")
    return _Layout(n_p, int(used_a[0]), spf, first, n_frames, start, scale < 0, float(p_scale[0]))


def _agree(groups: dict, group: str, name: str, value: int, warnings: list[str]) -> None:
    """Note a parameter that disagrees with the header (the header is used)."""
    v = _number(groups, group, name)
    if v is not None and v.size and int(v[0]) % 65536 != value:
        warnings.append(f"{group}:{name} says {int(v[0])} but the header {value}; the header was used")
    elif (v is None or not v.size) and value:
        warnings.append(f"{group}:{name} is missing; the header's {value} was used")


def _tolerant_layout(path: Path, groups: dict, h: np.ndarray, scale: float, warnings: list[str]) -> _Layout:
    """The frame layout from the header (as ezc3d and the User Guide take it), parameters
    that disagree noted in ``warnings``; for files only this reader opens."""
    n_p, words, first, last, start, spf = (int(h[i]) for i in (1, 2, 3, 4, 8, 9))
    if start < 2:
        raise LayoutError(f"the header gives no data block ({start})")
    if words and (spf == 0 or words % spf):
        raise LayoutError(f"{words} analog words per frame for {spf} analog samples per frame")
    n_ch = words // spf if words else 0
    first = max(first, 1)
    _agree(groups, "POINT", "USED", n_p, warnings)
    _agree(groups, "ANALOG", "USED", n_ch, warnings)
    _agree(groups, "POINT", "DATA_START", start, warnings)
    floats = scale < 0
    p_scale = _number(groups, "POINT", "SCALE")
    if p_scale is None or not p_scale.size or np.sign(p_scale[0]) != np.sign(scale):
        warnings.append(f"POINT:SCALE is missing or disagrees with the header's {scale:g}; the header was used")
        p_scale = np.array([scale])
    word = 4 if floats else 2
    per_frame = (4 * n_p + words) * word
    available = (path.stat().st_size - 512 * (start - 1)) // per_frame if per_frame else 0
    n_frames = last - first + 1 if last >= first else 0
    if last < 0xFFFF:
        _agree(groups, "POINT", "FRAMES", n_frames, warnings)
    else:
        n_frames = _long_capture_frames(path, groups, start, _number(groups, "POINT", "FRAMES"),
                                        per_frame // word, word) or available
    if available < n_frames:
        warnings.append(f"the header declares {n_frames} frames but the data section holds {available}")
        n_frames = available
    if n_frames <= 0:
        raise LayoutError("the data section holds no complete frame")
    return _Layout(n_p, n_ch, spf, first, n_frames, start, floats, float(p_scale[0]))


def decode_c3d(path: Path, section: Section, tolerant: bool = False) -> dict:
    """The ezc3d-like structure of a C3D file, for any processor type.

    Without ``tolerant`` the header and the parameters must agree (else LayoutError with
    the reason); with it, the header decides the frame layout and missing analog scale
    factors default to SCALE 1, OFFSET 0, GEN_SCALE 1, each such choice becoming a
    warning in ``"read_warnings"`` (with the parameter-section repairs)."""
    groups, head = section.groups, section.header
    h = np.frombuffer(head[:24], dtype=section.order + "u2").astype(np.int64)
    scale, rate = (float(x) for x in decode_floats(head[12:16] + head[20:24], section.processor))
    warnings = list(section.repairs)
    lay = _tolerant_layout(path, groups, h, scale, warnings) if tolerant else _strict_layout(path, groups, h, scale)
    per_frame = 4 * lay.n_p + lay.n_ch * lay.spf
    count = lay.n_frames * per_frame
    data = _data(path, section, lay.start, count, lay.floats)
    if data.size != count:
        raise LayoutError(f"the data section holds {data.size // max(per_frame, 1)} of {lay.n_frames} frames")
    block = data.reshape(lay.n_frames, per_frame)
    points, residuals = _points(block[:, :4 * lay.n_p], lay.p_scale, lay.floats)
    analogs = _analog(block[:, 4 * lay.n_p:], groups, lay.n_ch, lay.spf, warnings if tolerant else None)
    if analogs is None:
        raise LayoutError("ANALOG:SCALE, OFFSET or GEN_SCALE is missing or too short")
    first, last = lay.first, lay.first + lay.n_frames - 1
    return {"header": {"points": {"size": lay.n_p, "frame_rate": rate, "first_frame": first - 1,
                                  "last_frame": last - 1},
                       "analogs": {"size": lay.n_ch, "frame_rate": rate * lay.spf,
                                   "first_frame": (first - 1) * lay.spf, "last_frame": last * lay.spf - 1}},
            "parameters": groups,
            "data": {"points": points, "meta_points": {"residuals": residuals}, "analogs": analogs},
            "read_warnings": tuple(warnings), "processor": section.processor}


def fast_read(path: Path, section: Optional[Section] = None) -> Optional[dict]:
    """The ezc3d-like structure of a C3D file (Intel, DEC or MIPS) whose header and
    parameters agree, or None to let ezc3d read it (also for a section that cannot be read)."""
    try:
        section = read_section(path) if section is None else section
        return None if section is None else decode_c3d(path, section)
    except (LayoutError, ParameterSectionError):
        return None
