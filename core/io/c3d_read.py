"""Read a C3D file into a :class:`core.model.Trial`.

The C3D format is described in C3D.ORG, *The C3D File Format User Guide* (Motion Lab
Systems, 2008). Files are parsed by the numpy reader of :mod:`core.io.c3d_params` and
:mod:`core.io.c3d_fast` (Intel, DEC and MIPS; damaged parameter sections repaired, each
repair listed in ``Trial.read_warnings``), or by ezc3d (Michaud & Begon 2021, *ezc3d: An
easy C3D file I/O cross-platform solution for C++, Python and MATLAB*, JOSS 6(58):2911)
when header and parameters disagree; both give the same structure, which this module
turns into the project's convention in a few vectorised numpy operations:

* points ``(4, P, F)`` -> ``(F, P, 3)`` float64 in mm (only position points are scaled),
  NaN where the residual is negative or a marker sits exactly at (0, 0, 0);
* labels normalised (subject prefix stripped, trimmed, made unique), originals kept;
* the C3D frame number of row 0 is ezc3d's 0-based ``first_frame`` + 1 (or
  ``TRIAL:ACTUAL_START_FIELD`` for long captures);
* events, analog channels, force plates, PROCESSING, MANUFACTURER and a few metadata groups.

Every failure becomes a :class:`core.errors.C3DReadError` naming the file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from core.errors import C3DReadError
from core.io.c3d_check import declared_frames
from core.io.c3d_events import events_from_group
from core.io.c3d_fast import LayoutError, decode_c3d
from core.io.c3d_params import MIPS, ParameterSectionError, Section, read_section
from core.model import AnalogData, ForcePlate, Trial

#: POINT parameters listing model outputs, and the kind they give a point
KIND_PARAMS = {"ANGLES": "angle", "FORCES": "force", "MOMENTS": "moment",
               "POWERS": "power", "SCALARS": "scalar", "REACTIONS": "force"}
#: Trial.parameters key set when a file holds fewer frames than its POINT:FRAMES declares
DECLARED_FRAMES_KEY = "FILE:DECLARED_FRAMES"
#: groups copied (flattened) into Trial.parameters as "GROUP:NAME"
META_GROUPS = ("TRIAL", "SUBJECTS", "GENULAB", "MANUFACTURER")


# ----------------------------------------------------------------------- parameters
def find_key(mapping, name: str):
    """The key of ``mapping`` equal to ``name`` ignoring case (C3D names are
    case-insensitive), or None."""
    if mapping is None:
        return None
    if name in mapping:
        return name
    upper = name.upper()
    return next((k for k in mapping if str(k).upper() == upper), None)


def param_value(params: dict, group: str, name: str, default=None):
    """Raw ezc3d value of ``GROUP:NAME`` (names matched ignoring case) or ``default``."""
    gk = find_key(params, group)
    g = params[gk] if gk is not None else None
    pk = find_key(g, name) if g is not None else None
    if pk is None:
        return default
    p = g[pk]
    return p.get("value", default) if isinstance(p, dict) else default


def param_strings(params: dict, group: str, name: str) -> list[str]:
    """A CHAR parameter as a list of strings ([] if absent)."""
    v = param_value(params, group, name, [])
    if isinstance(v, str):
        return [v]
    if isinstance(v, np.ndarray):
        return [str(x) for x in v.reshape(-1)]
    return [str(x) for x in v]


def param_float(params: dict, group: str, name: str, default: float = np.nan) -> float:
    """First number of a numeric parameter, ``default`` if absent or not numeric."""
    v = param_value(params, group, name)
    try:
        a = np.asarray(v, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return default
    return float(a[0]) if a.size else default


def simple_value(p: dict) -> object:
    """A parameter as a plain python value: str for text, float for one number,
    tuple of floats for several numbers."""
    v = p.get("value")
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, (list, tuple)):
        items = [str(x).strip() for x in v]
        return items[0] if len(items) == 1 else ", ".join(items)
    a = np.asarray(v, dtype=float).reshape(-1)
    if a.size == 1:
        return float(a[0])
    return tuple(float(x) for x in a)


def group_dict(params: dict, group: str) -> dict[str, object]:
    """All parameters of a group (``__METADATA__`` left out) as plain values."""
    gk = find_key(params, group)
    g = params[gk] if gk is not None else None
    out: dict[str, object] = {}
    if not g:
        return out
    for name in g:
        if name == "__METADATA__" or not isinstance(g[name], dict):
            continue
        try:
            out[name] = simple_value(g[name])
        except (TypeError, ValueError):
            continue
    return out


def labels_of(params: dict, group: str, n: int, stem: str) -> list[str]:
    """``n`` labels from ``GROUP:LABELS``, ``LABELS2`` ... (longer lists cut, shorter padded
    with ``stem<i>`` names, 1-based)."""
    labels = param_strings(params, group, "LABELS")
    k = 2
    while param_value(params, group, f"LABELS{k}") is not None:
        labels += param_strings(params, group, f"LABELS{k}")
        k += 1
    labels = labels[:n]
    labels += [f"{stem}{i + 1}" for i in range(len(labels), n)]
    return labels


# ----------------------------------------------------------------------- labels
def normalise_label(label: str) -> str:
    """Label without a subject prefix (``'A22:LASI'`` -> ``'LASI'``) and outer spaces."""
    s = str(label).strip()
    if ":" in s:
        tail = s.rsplit(":", 1)[1].strip()
        if tail:
            s = tail
    return s


def unique_labels(labels: list[str], stem: str = "Point",
                  prefer: Optional[list[bool]] = None) -> list[str]:
    """Make labels unique and non-empty: empty -> ``stem<i>``, repeats -> ``name_2``, ``name_3``.

    ``prefer`` (optional, per label) marks labels that get the bare name first when two
    collide (e.g. an unprefixed ``LHipAngles`` written by Genu Lab over Vicon's
    ``A22:LHipAngles``); otherwise the first in file order wins.
    """
    order = list(range(len(labels)))
    if prefer is not None:
        order.sort(key=lambda i: (not prefer[i], i))
    out: list[str] = [""] * len(labels)
    seen: set[str] = set()
    for i in order:
        base = labels[i] or f"{stem}{i + 1}"
        name, k = base, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out[i] = name
    return out


def unit_scale(units: str) -> float:
    """Factor from the file's POINT:UNITS to mm (m, 'mete', cm, mm, inches; '' -> 1)."""
    u = str(units).strip().lower().rstrip(".")
    if u in ("", "mm") or u.startswith("milli"):
        return 1.0
    if u in ("cm",) or u.startswith("centi"):
        return 10.0
    if u in ("dm",) or u.startswith("deci"):
        return 100.0
    if u in ("in", "inch", "inches"):
        return 25.4
    if u in ("m",) or u.startswith("met") or u.startswith("mtr"):
        return 1000.0
    return 1.0


def point_kinds(params: dict, original: list[str], normalised: list[str]) -> list[str]:
    """Per point: ``"marker"`` or the kind of the POINT list (ANGLES...) naming it."""
    kinds = ["marker"] * len(original)
    lookup: dict[str, str] = {}
    for pname, kind in KIND_PARAMS.items():
        for lab in param_strings(params, "POINT", pname):
            lab = lab.strip()
            if lab:
                lookup.setdefault(lab, kind)
                lookup.setdefault(normalise_label(lab), kind)
    for i, (o, n) in enumerate(zip(original, normalised)):
        kinds[i] = lookup.get(o.strip(), lookup.get(n, "marker"))
    return kinds


# ----------------------------------------------------------------------- data blocks
def convert_points(raw: np.ndarray, residuals: Optional[np.ndarray], kinds: list[str],
                   scale_mm: float) -> np.ndarray:
    """ezc3d ``(4, P, F)`` points -> ``(F, P, 3)`` float64, scaled and NaN-masked.

    Position points (kind ``"marker"``) are multiplied by ``scale_mm``; invalid samples
    (residual < 0, or a marker exactly at the origin) become NaN.
    """
    pts = np.ascontiguousarray(np.transpose(raw[:3], (2, 1, 0)), dtype=np.float64)
    if pts.size == 0:
        return pts
    is_marker = np.array([k == "marker" for k in kinds], dtype=bool)
    invalid = ~np.isfinite(pts).all(axis=2)
    if residuals is not None and residuals.size == pts.shape[0] * pts.shape[1]:
        invalid |= residuals.reshape(residuals.shape[-2], residuals.shape[-1]).T < 0
    invalid |= (pts == 0.0).all(axis=2) & is_marker[None, :]
    if scale_mm != 1.0 and is_marker.any():
        pts[:, is_marker, :] *= scale_mm
    pts[invalid] = np.nan
    return pts


def read_analog(params: dict, raw: np.ndarray, header: dict) -> Optional[AnalogData]:
    """Analog channels (already scaled by ezc3d) as ``AnalogData`` or None."""
    if raw is None or raw.ndim != 3 or raw.shape[1] == 0:
        return None
    n = raw.shape[1]
    labels = unique_labels([s.strip() for s in labels_of(params, "ANALOG", n, "Analog")], "Analog")
    units = [u.strip() for u in param_strings(params, "ANALOG", "UNITS")][:n]
    units += [""] * (n - len(units))
    rate = param_float(params, "ANALOG", "RATE", np.nan)
    if not np.isfinite(rate) or rate <= 0:
        rate = float(header.get("analogs", {}).get("frame_rate", 0.0) or 0.0)
    return AnalogData(tuple(labels), tuple(units), float(rate), raw[0].T)


def read_force_plates(params: dict, scale_mm: float) -> tuple[ForcePlate, ...]:
    """Force platforms of the FORCE_PLATFORM group (lengths converted to mm)."""
    used_f = param_float(params, "FORCE_PLATFORM", "USED", 0.0)
    used = int(used_f) if np.isfinite(used_f) and used_f > 0 else 0
    if used <= 0:
        return ()
    types = np.asarray(param_value(params, "FORCE_PLATFORM", "TYPE", []), dtype=float).reshape(-1)
    corners = np.asarray(param_value(params, "FORCE_PLATFORM", "CORNERS", []), dtype=float)
    origin = np.asarray(param_value(params, "FORCE_PLATFORM", "ORIGIN", []), dtype=float)
    channel = np.asarray(param_value(params, "FORCE_PLATFORM", "CHANNEL", []), dtype=float)
    corners = corners.reshape(3, 4, -1, order="F") if corners.size >= 12 else np.zeros((3, 4, 0))
    origin = origin.reshape(3, -1, order="F") if origin.size >= 3 else np.zeros((3, 0))
    channel = channel.reshape(channel.shape[0], -1) if channel.ndim >= 1 and channel.size else np.zeros((0, 0))
    cal = np.asarray(param_value(params, "FORCE_PLATFORM", "CAL_MATRIX", []), dtype=float)
    cal = cal.reshape(cal.shape[0], cal.shape[1], -1) if cal.ndim >= 2 and cal.size else np.zeros((0, 0, 0))
    plates = []
    for i in range(used):
        c = corners[:, :, i].T * scale_mm if i < corners.shape[2] else np.full((4, 3), np.nan)
        o = origin[:, i] * scale_mm if i < origin.shape[1] else np.full(3, np.nan)
        ch = tuple(int(x) - 1 for x in channel[:, i]) if i < channel.shape[1] else ()
        t = int(types[i]) if i < types.size else 0
        # CAL_MATRIX[i, j, plate] (first C3D dimension = output): outputs = M @ channels
        m = cal[:, :, i] if i < cal.shape[2] else None
        plates.append(ForcePlate(t, c, o, ch, m))
    return tuple(plates)


# ----------------------------------------------------------------------- entry point
def _light_c3d(ezc3d, path: Path) -> dict:
    """What :func:`trial_from_ezc3d` needs from ezc3d, without the camera masks and
    rotations the full Python wrapper also converts (about 10 % of the read time)."""
    swig = getattr(ezc3d, "ezc3d", None)
    if swig is None or not hasattr(ezc3d.c3d, "Parameters"):
        return ezc3d.c3d(str(path), extract_forceplat_data=False)
    raw = swig.c3d(str(path))
    return {"header": ezc3d.c3d.Header(raw.header(), swig.RotationsInfo(raw)),
            "parameters": ezc3d.c3d.Parameters(raw.parameters()),
            "data": {"points": raw.get_points(),
                     "meta_points": {"residuals": raw.get_point_residuals()},
                     "analogs": raw.get_analogs()}}


def parameter_section(path: Path) -> Optional[Section]:
    """The file's parameter section (see :mod:`core.io.c3d_params`), None when the file
    does not look like a C3D; an unreadable section becomes a C3DReadError naming the file."""
    if not path.exists():
        raise C3DReadError("file not found", path)
    if path.is_dir():
        raise C3DReadError("is a folder, not a C3D file", path)
    size = path.stat().st_size
    if size == 0:
        raise C3DReadError("file is empty (0 bytes)", path)
    if size < 512:
        raise C3DReadError(f"file is too short to be a C3D file ({size} bytes)", path)
    try:
        return read_section(path)
    except ParameterSectionError as exc:
        raise C3DReadError(f"not a readable C3D file: {exc}", path) from None
    except OSError as exc:
        raise C3DReadError(f"cannot be read: {exc.strerror or exc}", path) from None


def _own_read(path: Path, section: Section, tolerant: bool) -> Optional[dict]:
    """:func:`core.io.c3d_fast.decode_c3d`; None when the layout needs ezc3d's judgement
    (strict mode), a C3DReadError when even the tolerant reading fails."""
    try:
        return decode_c3d(path, section, tolerant=tolerant)
    except LayoutError as exc:
        if tolerant:
            raise C3DReadError(f"not a readable C3D file: {exc}", path) from None
        return None
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        if tolerant:
            raise C3DReadError(f"not a readable C3D file ({type(exc).__name__}: {exc})", path) from None
        return None


def open_c3d(path: Path, light: bool = False, section: Optional[Section] = None):
    """Parse a file; any refusal becomes a C3DReadError naming the file.

    ``light=True`` returns a plain dict with the header, parameters, points, residuals,
    analogs and ``read_warnings`` (for reading): from the numpy reader
    (:func:`core.io.c3d_fast.decode_c3d`) when header and parameters agree, else from
    ezc3d, and for the files ezc3d refuses (MIPS, repaired parameter sections) from the
    numpy reader in its tolerant mode. Otherwise the full ezc3d object (for
    copying/writing), which does not exist for the files ezc3d refuses."""
    section = parameter_section(path) if section is None else section
    if light and section is not None:
        fast = _own_read(path, section, tolerant=False)
        if fast is not None:
            return fast
        if section.ezc3d_refuses:
            return _own_read(path, section, tolerant=True)
    elif section is not None and section.ezc3d_refuses:
        raise C3DReadError(f"is readable, but ezc3d (which makes the copy) cannot open it "
                           f"({section.ezc3d_refuses})", path)
    import ezc3d  # deferred: importing the binding costs time for commands that never read

    try:
        c = _light_c3d(ezc3d, path) if light else ezc3d.c3d(str(path), extract_forceplat_data=False)
    except MemoryError:
        raise C3DReadError("not a readable C3D file (corrupt sizes in the header)", path) from None
    except Exception as exc:  # ezc3d raises RuntimeError, IOError, ValueError, ...
        if light and section is not None:
            return _own_read(path, section, tolerant=True)
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise C3DReadError(f"not a readable C3D file: {reason}", path) from None
    if light and section is not None:
        c["read_warnings"] = section.repairs
    return c


def check_complete(c, path: Path, declared: Optional[int] = None) -> None:
    """Refuse a file cut short in its data section.

    ezc3d silently returns the frames it could read from a truncated file (and rewrites
    POINT:FRAMES to match). A file is called truncated when it stores fewer frames than its
    own POINT:FRAMES declares *and* it ends inside a frame on a byte that is not a 512-byte
    block boundary. Several public sample files declare more frames than they hold but end
    cleanly (on a frame or block boundary); those are read as they are.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(512)
        size = path.stat().st_size
    except OSError:
        return
    raw = c["data"]["points"]
    n_points, stored = raw.shape[1], raw.shape[2]
    n_analog, n_samples = c["data"]["analogs"].shape[1], c["data"]["analogs"].shape[2]
    if declared is None or stored >= declared or (n_points == 0 and n_analog == 0):
        return
    scale = param_float(c["parameters"], "POINT", "SCALE", -1.0)
    word = 4 if scale < 0 else 2
    per_frame = (4 * n_points + n_analog * (n_samples // max(stored, 1))) * word
    big = "processor" in c and c["processor"] == MIPS
    data_start = 512 * ((int.from_bytes(head[16:18], "big" if big else "little") or 1) - 1)
    leftover = size - data_start - stored * per_frame
    if leftover != 0 and size % 512 != 0:
        raise C3DReadError(f"file is truncated: it declares {declared} frames but holds only "
                           f"{stored} and ends inside a frame", path)


def first_frame_of(c) -> int:
    """C3D frame number (1-based) of the first stored frame."""
    ff = int(c["header"]["points"].get("first_frame", 0)) + 1
    start = param_value(c["parameters"], "TRIAL", "ACTUAL_START_FIELD")
    if start is not None:
        s = np.asarray(start, dtype=np.int64).reshape(-1)
        if s.size >= 2:
            low, high = int(s[0]) % 65536, int(s[1]) % 65536
            actual = low + 65536 * high
            if actual >= 1 and (ff >= 65535 or actual == ff):
                return actual
    return max(ff, 1)


def point_rate_of(c, n_frames: int) -> float:
    """Point rate; for analog-only files without one, the rate of analog frames."""
    rate = param_float(c["parameters"], "POINT", "RATE", np.nan)
    if not np.isfinite(rate) or rate <= 0:
        rate = float(c["header"]["points"].get("frame_rate", 0.0) or 0.0)
    if rate > 0:
        return rate
    arate = param_float(c["parameters"], "ANALOG", "RATE", 0.0)
    if not np.isfinite(arate) or arate <= 0:
        arate = float(c["header"]["analogs"].get("frame_rate", 0.0) or 0.0)
    n_analog = c["data"]["analogs"].shape[-1]
    if arate > 0 and n_frames > 0 and n_analog >= n_frames:
        return arate * n_frames / n_analog
    return 1.0


def manufacturer_of(params: dict) -> tuple[str, str]:
    """``(company, 'software version')`` from the MANUFACTURER group."""
    company = " ".join(param_strings(params, "MANUFACTURER", "COMPANY")).strip()
    software = " ".join(param_strings(params, "MANUFACTURER", "SOFTWARE")).strip()
    version = " ".join(param_strings(params, "MANUFACTURER", "VERSION_LABEL")).strip()
    if not version:
        v = param_value(params, "MANUFACTURER", "VERSION")
        if v is not None and not isinstance(v, (str, list)):
            version = ".".join(str(int(x)) for x in np.asarray(v, dtype=float).reshape(-1))
        elif v:
            version = " ".join(param_strings(params, "MANUFACTURER", "VERSION")).strip()
    return company, " ".join(x for x in (software, version) if x)


def metadata_of(params: dict) -> dict[str, object]:
    """``Trial.parameters``: META_GROUPS flattened as ``GROUP:NAME``, plus point units."""
    meta: dict[str, object] = {}
    for g in META_GROUPS:
        for k, v in group_dict(params, g).items():
            meta[f"{g}:{str(k).upper()}"] = v
    for name in ("UNITS", "ANGLE_UNITS", "FORCE_UNITS", "MOMENT_UNITS", "POWER_UNITS"):
        s = param_strings(params, "POINT", name)
        if s:
            meta[f"POINT:{name}"] = s[0].strip()
    return meta


def trial_from_ezc3d(c, path: Path) -> Trial:
    """Build the Trial from a parsed ezc3d object (see the module docstring)."""
    params = c["parameters"]
    raw = c["data"]["points"]
    n_points, n_frames = raw.shape[1], raw.shape[2]
    original = labels_of(params, "POINT", n_points, "Point")
    normalised = unique_labels([normalise_label(s) for s in original],
                               prefer=[":" not in s for s in original])
    kinds = point_kinds(params, original, normalised)
    units = (param_strings(params, "POINT", "UNITS") or [""])[0]
    points = convert_points(raw, c["data"]["meta_points"].get("residuals"), kinds, unit_scale(units))
    rate = point_rate_of(c, n_frames)
    company, software = manufacturer_of(params)
    return Trial(
        name=path.stem, labels=tuple(normalised), points=points, point_rate_hz=rate,
        first_frame=first_frame_of(c), original_labels=tuple(s.strip() for s in original),
        point_kinds=tuple(kinds),
        events=events_from_group(params[find_key(params, "EVENT")] if find_key(params, "EVENT") else {}, rate),
        analog=read_analog(params, c["data"]["analogs"], c["header"]),
        force_plates=read_force_plates(params, unit_scale(units)),
        processing=group_dict(params, "PROCESSING"), parameters=metadata_of(params),
        manufacturer=company, software=software, path=path,
        read_warnings=tuple(c["read_warnings"]) if "read_warnings" in c else (),
    )


def read_c3d(path: str | Path) -> Trial:
    """Read a C3D file into a :class:`~core.model.Trial`.

    Parameters
    ----------
    path:
        The C3D file. It is only read, never modified.

    Returns
    -------
    Trial
        Points ``(F, P, 3)`` in mm (position points; model outputs unscaled), NaN where
        invalid; C3D frame numbers from ``first_frame``; events, analog, force plates,
        PROCESSING, metadata.

    Raises
    ------
    C3DReadError
        The file does not exist, is empty, truncated or corrupt beyond repair; the
        message names the file and the reason. Repairs made to read a damaged file are
        listed in ``Trial.read_warnings``.
    """
    path = Path(path)
    section = parameter_section(path)
    c = open_c3d(path, light=True, section=section)
    declared = declared_frames(path, section) if section is not None else None
    check_complete(c, path, declared)
    try:
        trial = trial_from_ezc3d(c, path)
        if declared is not None and trial.n_frames < declared:
            trial = trial.with_changes(parameters={**trial.parameters, DECLARED_FRAMES_KEY: float(declared)})
        return trial
    except C3DReadError:
        raise
    except (KeyError, ValueError, IndexError, TypeError, AttributeError) as exc:
        raise C3DReadError(f"unexpected content ({type(exc).__name__}: {exc})", path) from None
