"""Write C3D files: a processed copy of an input trial, or a new file from a Trial.

Files are written with ezc3d (Michaud & Begon 2021, JOSS 6(58):2911) in the C3D layout of
the C3D User Guide (C3D.ORG 2008): Intel float storage, invalid samples stored as zeros
with residual -1 (what Vicon Nexus and Qualisys write), model outputs listed in
``POINT:ANGLES`` when they are angles, events in a Vicon-layout EVENT group.

Every write is atomic: the file is first written to a temporary name in the target
folder and then moved over the target with ``os.replace``; the source file is only read.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence

import numpy as np

from core.errors import C3DWriteError
from core.io.c3d_events import event_group_values
from core.io.c3d_fast import fast_read
from core.io.c3d_read import open_c3d, param_strings, point_rate_of, unit_scale
from core.model import GaitEvent, ModelOutputs, Trial
from core.variables import output_names

#: Trial.point_kinds value -> POINT list parameter that names such points
KIND_LISTS = {"angle": "ANGLES", "force": "FORCES", "moment": "MOMENTS",
              "power": "POWERS", "scalar": "SCALARS"}
#: output name suffix -> kind (Vicon's kinetic outputs; everything else a position in mm)
OUTPUT_SUFFIX_KINDS = (("Angles", "angle"), ("Moment", "moment"), ("Power", "power"),
                       ("Force", "force"), ("NormalisedGRF", "force"))
#: units Vicon writes for its kinetic POINT groups (the values are per kg of body mass)
KIND_UNITS = {"moment": ("MOMENT_UNITS", "Nmm"), "power": ("POWER_UNITS", "W"), "force": ("FORCE_UNITS", "N")}


def output_kind(name: str) -> str:
    """``"angle"``, ``"moment"``, ``"power"``, ``"force"`` or ``"position"`` of an output name."""
    return next((kind for suffix, kind in OUTPUT_SUFFIX_KINDS if name.endswith(suffix)), "position")


# ----------------------------------------------------------------------- atomic files
@contextmanager
def atomic_target(out_path: Path, suffix: str = ".c3d") -> Iterator[Path]:
    """Yield a temporary path in ``out_path``'s folder; on success it replaces ``out_path``.

    The temporary name ends in ``suffix`` (ezc3d appends ``.c3d`` otherwise).
    """
    out_path = Path(out_path)
    folder = out_path.parent if str(out_path.parent) else Path(".")
    if not folder.is_dir():
        raise C3DWriteError("output folder does not exist", folder)
    tmp = folder / f".{out_path.stem}.{uuid.uuid4().hex[:8]}.tmp{suffix}"
    try:
        yield tmp
        os.replace(tmp, out_path)
    except C3DWriteError:
        raise
    except OSError as exc:
        raise C3DWriteError(f"cannot be written: {exc.strerror or exc}", out_path) from None
    finally:
        if tmp.exists():
            try:
                tmp.unlink()
            except OSError:
                pass


def _ezc3d_write(c, tmp: Path, out_path: Path) -> None:
    try:
        c.write(str(tmp))
    except Exception as exc:  # ezc3d raises ValueError, TypeError, RuntimeError
        raise C3DWriteError(f"C3D could not be written: {' '.join(str(exc).split())}", out_path) from None
    _verify_written(c, tmp, out_path)


def _expected_size(c, head: bytes) -> int:
    """Bytes a complete file needs: the header's data start block plus every frame record.

    ``head`` is the written 512-byte header (C3D User Guide, C3D.ORG 2008, "The header
    section": word 9 is the first block of the data section, a negative scale factor in
    words 7-8 means float32 samples).
    """
    start = int(np.frombuffer(head[16:18], "<u2")[0])
    word = 4 if float(np.frombuffer(head[12:16], "<f4")[0]) < 0 else 2
    pts, analogs = c["data"]["points"], c["data"]["analogs"]
    values = 4 * int(pts.shape[1]) * int(pts.shape[2]) + int(np.prod(analogs.shape[1:]))
    return 512 * (max(start, 1) - 1) + word * values


def _verify_written(c, tmp: Path, out_path: Path) -> None:
    """Check that ezc3d wrote the whole file, and flush it to the disk.

    ezc3d's C++ writer does not report failed writes (a full disk, a file-size limit): a
    truncated or empty temporary file must never replace the target.

    Raises
    ------
    C3DWriteError: the temporary file is missing, has no valid header or is shorter than
    its header and data need.
    """
    try:
        with open(tmp, "rb") as f:
            head = f.read(512)
            size = os.fstat(f.fileno()).st_size
            os.fsync(f.fileno())
    except OSError as exc:
        raise C3DWriteError(f"cannot be written: {exc.strerror or exc}", out_path) from None
    n_points = int(c["data"]["points"].shape[1])
    if len(head) < 512 or head[1] != 0x50:
        raise C3DWriteError(f"cannot be written: the file came out incomplete ({size} bytes; "
                            "no space left on the device or a file-size limit?)", out_path)
    expected = _expected_size(c, head)
    header_points = int(np.frombuffer(head[2:4], "<u2")[0])
    if size < expected or (n_points < 65535 and header_points != n_points):
        raise C3DWriteError(f"cannot be written: the file came out incomplete ({size} of {expected} "
                            "bytes; no space left on the device or a file-size limit?)", out_path)


# ----------------------------------------------------------------------- helpers
def _set_param(c, group: str, name: str, value) -> None:
    """Create or replace ``GROUP:NAME`` (lists of str, numbers, arrays)."""
    if group in c["parameters"] and name in c["parameters"][group]:
        del c["parameters"][group][name]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        c.add_parameter(group, name, [_clean_text(v) for v in value])
    elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, np.integer)) for v in value):
        from ezc3d import ezc3d as swig  # integer parameters need the typed setter

        param = swig.Parameter(name, "")
        param.set(swig.VecInt([int(v) for v in value]), [len(value)])
        c["parameters"].add_parameter(group, param)
    elif isinstance(value, (list, tuple)) and not value:
        c.add_parameter(group, name, [""] if name in ("LABELS", "CONTEXTS") else np.zeros(0))
    else:
        c.add_parameter(group, name, value)


def _all_labels(c, group: str) -> list[str]:
    labels = param_strings(c["parameters"], group, "LABELS")
    k = 2
    while f"LABELS{k}" in c["parameters"][group]:
        labels += param_strings(c["parameters"], group, f"LABELS{k}")
        k += 1
    return labels


def _drop_extra_label_groups(c, group: str) -> None:
    k = 2
    while f"LABELS{k}" in c["parameters"][group]:
        del c["parameters"][group][f"LABELS{k}"]
        k += 1


def _ensure_trial_group(c, first_frame: int) -> None:
    """Give the file a TRIAL group (ACTUAL_START/END_FIELD) when it lacks one: ezc3d 1.7
    aborts the whole process when writing a file whose MANUFACTURER:COMPANY mentions
    Vicon and that has no TRIAL group."""
    if "TRIAL" in c["parameters"] and "ACTUAL_START_FIELD" in c["parameters"]["TRIAL"]:
        return
    last = first_frame + max(int(c["data"]["points"].shape[2]) - 1, 0)
    _set_param(c, "TRIAL", "ACTUAL_START_FIELD", [first_frame % 65536, first_frame // 65536])
    _set_param(c, "TRIAL", "ACTUAL_END_FIELD", [last % 65536, last // 65536])


def _clean_text(text: str) -> str:
    """A string ezc3d's binding accepts: undecodable bytes (kept by Python as surrogate
    escapes, e.g. Latin-1 umlauts) are re-read as Latin-1."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _prepare_copy(c, point_rate_hz: float) -> None:
    """Make an ezc3d object read from a real-world file acceptable to ezc3d's writer.

    * text parameters with undecodable bytes are re-read as Latin-1;
    * ANALOG:LABELS (+LABELS2...) cut or padded to the number of analog channels;
    * zero ANALOG:SCALE entries (channels that are always 0) set to 1, so that writing
      does not divide by zero;
    * ANALOG:RATE set to the stored samples per frame x point rate, POINT:RATE to the rate
      used when reading if the file has none.
    """
    for group in list(c["parameters"]):
        for name in [k for k in c["parameters"][group] if k != "__METADATA__"]:
            p = c["parameters"][group][name]
            if isinstance(p, dict) and p.get("type") == -1 and isinstance(p.get("value"), list):
                p["value"] = [_clean_text(str(v)) for v in p["value"]]
    analogs = c["data"]["analogs"]
    n_ch, n_samples = analogs.shape[1], analogs.shape[2]
    n_frames = c["data"]["points"].shape[2]
    if float(np.asarray(c["parameters"]["POINT"]["RATE"]["value"], float).reshape(-1)[:1].sum()) <= 0:
        c["parameters"]["POINT"]["RATE"]["value"] = np.array([point_rate_hz])
    labels = [s.strip() for s in _all_labels(c, "ANALOG")][:n_ch]
    labels += [f"Analog{i + 1}" for i in range(len(labels), n_ch)]
    _drop_extra_label_groups(c, "ANALOG")
    c["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    scale = c["parameters"]["ANALOG"].get("SCALE") if "SCALE" in c["parameters"]["ANALOG"] else None
    if scale is not None and np.size(scale["value"]):
        sv = np.asarray(scale["value"], dtype=float).copy()
        sv[sv == 0] = 1.0
        scale["value"] = sv
    if n_ch and n_frames and n_samples % n_frames == 0:
        rate = float(np.asarray(c["parameters"]["POINT"]["RATE"]["value"], float).reshape(-1)[0])
        c["parameters"]["ANALOG"]["RATE"]["value"] = np.array([rate * (n_samples // n_frames)])


def _write_events(c, events: Sequence[GaitEvent]) -> None:
    """Replace the EVENT group by ``events`` in the Vicon layout."""
    names = param_strings(c["parameters"], "SUBJECTS", "NAMES")
    values = event_group_values(events, names[0].strip() if names else "")
    if "EVENT" in c["parameters"]:
        for name in [k for k in c["parameters"]["EVENT"] if k != "__METADATA__"]:
            del c["parameters"]["EVENT"][name]
    if not events:
        c.add_parameter("EVENT", "USED", 0)
        return
    for name in ("USED", "CONTEXTS", "LABELS", "DESCRIPTIONS", "SUBJECTS", "ICON_IDS",
                 "GENERIC_FLAGS", "TIMES"):
        _set_param(c, "EVENT", name, values[name])


def _output_block(outputs: ModelOutputs, names: Sequence[str], first_frame: int, n_frames: int,
                  file_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(4, N, F)`` points and ``(1, N, F)`` residuals of the outputs on the file's frames.

    Angles are written in degrees, kinetics in their own units (per kg, as Vicon); positions
    (joint centres) are converted from mm to the file's own POINT:UNITS. NaN or frames
    without outputs -> zeros with residual -1.
    """
    pts = np.zeros((4, len(names), n_frames))
    res = np.full((1, len(names), n_frames), -1.0)
    src_rows = np.arange(outputs.n_frames)
    dst_rows = outputs.first_frame + src_rows - first_frame
    keep = (dst_rows >= 0) & (dst_rows < n_frames)
    for j, name in enumerate(names):
        data = np.asarray(outputs.channels[name], dtype=float)[keep]
        if output_kind(name) == "position":
            data = data / file_scale
        ok = np.isfinite(data).all(axis=1)
        rows = dst_rows[keep]
        pts[:3, j, rows[ok]] = data[ok].T
        res[0, j, rows[ok]] = 0.0
    return pts, res


def _check_copyable(source: Path, c, out_path: Path) -> None:
    """Refuse a copy when ezc3d (which makes it) reads the file differently from the
    fast reader: captures longer than 65,535 frames, or files whose header and
    parameters disagree on the frame layout (e.g. c3d.org sample_28/type1.C3D)."""
    fast = fast_read(source)
    if fast is None:
        return
    for key, what in (("points", "points"), ("analogs", "analog samples")):
        a, b = fast["data"][key].shape, c["data"][key].shape
        if a[1:] != b[1:]:
            raise C3DWriteError(f"ezc3d, which makes the copy, reads {source.name} differently "
                                f"({what} {b[1:]} instead of {a[1:]}); a processed copy would be "
                                "incomplete or corrupt", out_path)


def processed_names(outputs: ModelOutputs) -> list[str]:
    """Channels written to the processed C3D: the Vicon outputs first, in Vicon order,
    then any other channel in the outputs' own order."""
    vicon = [n for n in output_names() if n in outputs.channels]
    return vicon + [n for n in outputs.channels if n not in vicon]


# ----------------------------------------------------------------------- processed copy
def write_processed_c3d(source_path: str | Path, out_path: str | Path, outputs: ModelOutputs,
                        events: Optional[Sequence[GaitEvent]] = None,
                        parameters: Optional[Mapping[str, Mapping[str, object]]] = None) -> Path:
    """Write a copy of ``source_path`` with the model outputs added as points.

    Parameters
    ----------
    source_path:
        The input C3D; only read, never modified.
    out_path:
        The file to write (replaced atomically if it exists; must differ from the source).
    outputs:
        CGM1 outputs: angles ``(F, 3)`` degrees named as Vicon (``LPelvisAngles`` ...
        ``RFootProgressAngles``) and joint centres ``(F, 3)`` mm (``LHJC`` ... ``RAJC``);
        their frames are matched to the file's by C3D frame number.
    events:
        If given, they replace the file's EVENT group (Vicon layout).
    parameters:
        Extra parameters to set, group -> name -> value (e.g. the ``GENULAB:FILLED_*`` flag
        of gap-filled samples, see :func:`core.io.csv_out.filled_flag_parameters`).

    Returns
    -------
    Path of the written file. Points of the file whose label is exactly an output name are
    replaced; all other points, analog channels and parameters are kept.

    Raises
    ------
    C3DReadError: the source cannot be read. C3DWriteError: the output cannot be written.
    """
    source, out_path = Path(source_path), Path(out_path)
    if outputs.n_frames == 0:
        raise C3DWriteError("the model outputs have no frames", out_path)
    if out_path.exists() and source.exists() and out_path.resolve() == source.resolve():
        raise C3DWriteError("refusing to overwrite the input file with its processed copy", out_path)
    c = open_c3d(source)
    _check_copyable(source, c, out_path)
    try:
        return _processed_copy(c, source, out_path, outputs, events, parameters or {})
    except (TypeError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        raise C3DWriteError(f"processed copy of {source.name} could not be made "
                            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", out_path) from None


def _processed_copy(c, source: Path, out_path: Path, outputs: ModelOutputs,
                    events: Optional[Sequence[GaitEvent]], parameters: Mapping[str, Mapping[str, object]]) -> Path:
    """Body of :func:`write_processed_c3d` on an opened ezc3d object."""
    params = c["parameters"]
    labels = [s.strip() for s in _all_labels(c, "POINT")]
    pts, res = c["data"]["points"], c["data"]["meta_points"]["residuals"]
    masks = c["data"]["meta_points"]["camera_masks"]
    n_points, n_frames = pts.shape[1], pts.shape[2]
    labels = (labels + [f"Point{i + 1}" for i in range(len(labels), n_points)])[:n_points]
    names = processed_names(outputs)
    scale = unit_scale((param_strings(params, "POINT", "UNITS") or [""])[0])
    first = int(c["header"]["points"]["first_frame"]) + 1
    rate = point_rate_of(c, n_frames)
    if abs(outputs.rate_hz - rate) > 1e-6 * rate:
        raise C3DWriteError(f"outputs at {outputs.rate_hz:g} Hz do not match {source.name} "
                            f"({rate:g} Hz)", out_path)
    _prepare_copy(c, rate)
    new_pts, new_res = _output_block(outputs, names, first, n_frames, scale)

    replace = {lab: i for i, lab in enumerate(labels) if lab in names}
    extra = [n for n in names if n not in replace]
    pts = np.concatenate([pts, np.zeros((4, len(extra), n_frames))], axis=1)
    res = np.concatenate([res, np.zeros((1, len(extra), n_frames))], axis=1)
    masks = np.concatenate([masks, np.zeros((7, len(extra), n_frames), dtype=bool)], axis=1)
    index = [replace.get(n, n_points + extra.index(n) if n in extra else -1) for n in names]
    pts[:, index, :] = new_pts
    res[:, index, :] = new_res
    masks[:, index, :] = False
    pts[3] = 1.0
    _update_point_params(c, labels + extra, n_points, names)
    c["data"]["points"] = pts
    c["data"]["meta_points"] = {"residuals": res, "camera_masks": masks}
    if events is not None:
        _write_events(c, events)
    for group, values in parameters.items():
        for name, value in values.items():
            _set_param(c, group, name, value)
    _ensure_trial_group(c, first)
    with atomic_target(out_path) as tmp:
        _ezc3d_write(c, tmp, out_path)
    return out_path


def _update_point_params(c, all_labels: list[str], n_old: int, names: Sequence[str]) -> None:
    """POINT:LABELS/DESCRIPTIONS for the new point list; angle outputs added to POINT:ANGLES."""
    descriptions = param_strings(c["parameters"], "POINT", "DESCRIPTIONS")
    _drop_extra_label_groups(c, "POINT")
    c["parameters"]["POINT"]["LABELS"]["value"] = list(all_labels)
    if "DESCRIPTIONS" in c["parameters"]["POINT"]:
        k = 2
        while f"DESCRIPTIONS{k}" in c["parameters"]["POINT"]:
            descriptions += param_strings(c["parameters"], "POINT", f"DESCRIPTIONS{k}")
            del c["parameters"]["POINT"][f"DESCRIPTIONS{k}"]
            k += 1
        descriptions = (descriptions + [""] * n_old)[:n_old]
        descriptions += ["Genu Lab CGM1 output"] * (len(all_labels) - n_old)
        _set_param(c, "POINT", "DESCRIPTIONS", descriptions)
    angles = [s.strip() for s in param_strings(c["parameters"], "POINT", "ANGLES")]
    angles = [a for a in angles if a]
    angles += [n for n in names if n.endswith("Angles") and n not in angles]
    _set_param(c, "POINT", "ANGLES", angles)
    if "ANGLE_UNITS" not in c["parameters"]["POINT"]:
        _set_param(c, "POINT", "ANGLE_UNITS", ["deg"])
    for kind, (unit_param, unit) in KIND_UNITS.items():
        new = [n for n in names if output_kind(n) == kind]
        if not new:
            continue
        group = KIND_LISTS[kind]
        listed = [s.strip() for s in param_strings(c["parameters"], "POINT", group)]
        listed = [a for a in listed if a]
        _set_param(c, "POINT", group, listed + [n for n in new if n not in listed])
        if unit_param not in c["parameters"]["POINT"]:
            _set_param(c, "POINT", unit_param, [unit])


# ----------------------------------------------------------------------- new file from a Trial
def _param_groups(trial: Trial) -> dict[str, dict[str, object]]:
    """Trial.parameters ``GROUP:NAME`` entries of the groups written back (GENULAB,
    SUBJECTS), plus PROCESSING and MANUFACTURER."""
    groups: dict[str, dict[str, object]] = {"PROCESSING": dict(trial.processing)}
    for key, value in trial.parameters.items():
        group, _, name = key.partition(":")
        if group in ("GENULAB", "SUBJECTS") and name:
            groups.setdefault(group, {})[name] = value
    maker = {}
    if trial.manufacturer:
        maker["COMPANY"] = trial.manufacturer
    if trial.software:
        maker["SOFTWARE"] = trial.software
    if maker:
        groups["MANUFACTURER"] = maker
    return groups


def _as_param(value: object):
    if isinstance(value, str):
        return [value]
    if isinstance(value, (tuple, list)):
        return np.asarray(value, dtype=float)
    return float(value)


def _write_force_plates(c, trial: Trial) -> None:
    plates = trial.force_plates
    if not plates or trial.analog is None:
        return
    corners = np.stack([np.asarray(p.corners_mm, float).T for p in plates], axis=2)  # (3, 4, N)
    origin = np.stack([np.asarray(p.origin_mm, float) for p in plates], axis=1)     # (3, N)
    width = max((len(p.channels) for p in plates), default=0)
    channel = np.zeros((width, len(plates)), dtype=int)
    for i, p in enumerate(plates):
        channel[:len(p.channels), i] = np.asarray(p.channels, dtype=int) + 1
    _set_param(c, "FORCE_PLATFORM", "USED", len(plates))
    _set_param(c, "FORCE_PLATFORM", "TYPE", [int(p.plate_type) for p in plates])
    _set_param(c, "FORCE_PLATFORM", "ZERO", [1, 0])
    c.add_parameter("FORCE_PLATFORM", "CORNERS", np.nan_to_num(corners))
    c.add_parameter("FORCE_PLATFORM", "ORIGIN", np.nan_to_num(origin))
    c.add_parameter("FORCE_PLATFORM", "CHANNEL", channel.astype(float))


def write_trial_c3d(out_path: str | Path, trial: Trial) -> Path:
    """Write a new C3D file holding ``trial`` (round-trips through :func:`read_c3d`).

    Points are written with the trial's normalised labels, in mm, NaN as zeros with
    residual -1; ``point_kinds`` become POINT:ANGLES/FORCES/MOMENTS/POWERS/SCALARS; the
    first frame, rate, events, analog channels, force plates, PROCESSING, GENULAB and
    SUBJECTS parameters and the manufacturer are kept.

    Raises
    ------
    C3DWriteError: the file cannot be written (folder missing, inconsistent analog size).
    """
    out_path = Path(out_path)
    if trial.n_frames == 0:
        raise C3DWriteError("the trial has no frames", out_path)
    try:
        c = _trial_to_ezc3d(trial)
    except (TypeError, ValueError, KeyError, IndexError, RuntimeError) as exc:
        raise C3DWriteError(f"trial {trial.name} could not be converted to C3D "
                            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})", out_path) from None
    with atomic_target(out_path) as tmp:
        _ezc3d_write(c, tmp, out_path)
    return out_path


def _trial_to_ezc3d(trial: Trial):
    """The ezc3d object of :func:`write_trial_c3d`."""
    import ezc3d

    c = ezc3d.c3d()
    pts = np.asarray(trial.points, dtype=float)
    ok = np.isfinite(pts).all(axis=2)                                   # (F, P)
    data = np.zeros((4, pts.shape[1], pts.shape[0]))
    data[:3] = np.where(ok[..., None], pts, 0.0).transpose(2, 1, 0)
    data[3] = 1.0
    c["parameters"]["POINT"]["RATE"]["value"] = np.array([trial.point_rate_hz])
    c["parameters"]["POINT"]["LABELS"]["value"] = list(trial.labels)
    _set_param(c, "POINT", "UNITS", ["mm"])
    for kind, pname in KIND_LISTS.items():
        listed = [l for l, k in zip(trial.labels, trial.point_kinds) if k == kind]
        if listed:
            _set_param(c, "POINT", pname, listed)
    if any(k == "angle" for k in trial.point_kinds):
        _set_param(c, "POINT", "ANGLE_UNITS", ["deg"])
    c["data"]["points"] = data
    c["data"]["meta_points"] = {"residuals": np.where(ok.T, 0.0, -1.0)[None],
                                "camera_masks": np.zeros((7,) + ok.T.shape, dtype=bool)}
    c["header"]["points"]["first_frame"] = int(trial.first_frame) - 1
    if trial.analog is not None and trial.analog.values.shape[1]:
        n_s, n_f = trial.analog.values.shape[0], trial.n_frames
        rate = trial.point_rate_hz * (n_s // n_f) if n_s % n_f == 0 else trial.analog.rate_hz
        c["parameters"]["ANALOG"]["RATE"]["value"] = np.array([rate])
        c["parameters"]["ANALOG"]["LABELS"]["value"] = list(trial.analog.labels)
        _set_param(c, "ANALOG", "UNITS", list(trial.analog.units))
        c["data"]["analogs"] = np.asarray(trial.analog.values, dtype=float).T[None]
        _write_force_plates(c, trial)
    for group, values in _param_groups(trial).items():
        for name, value in values.items():
            _set_param(c, group, name, _as_param(value))
    if trial.events:
        _write_events(c, trial.events)
    _ensure_trial_group(c, int(trial.first_frame))
    return c
