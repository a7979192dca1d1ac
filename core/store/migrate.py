"""Migration of older stores to the current schema.

Schema 1 (Genu Lab 0.0.x) kept a whole patient in ONE HDF5 file::

    /            attrs format="genulab-store", schema_version=1, app_version
    /patient     attrs name, id, dob ("YYYY-MM-DD" or ""), sex, notes
    /sessions/<label>                 attrs date, condition, examiner, notes
    /sessions/<label>/trials/<name>   attrs source_file, sha256, rate_hz, first_frame,
                                      static (0/1), task, settings_json
        points (F, P, 3) float64 mm, labels (P,) str,
        events/label, events/context (E,) str, events/frame (E,) int
        outputs/<channel> (F, 3) float64, outputs/progression (3, 3)

Schema 2 splits it into a folder (see :mod:`core.store.schema`). Migrated trials keep their
markers, events and model outputs bit for bit; their results are flagged stale because the
processing settings of that version cannot be reproduced exactly.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import shutil
import tempfile
from pathlib import Path

import h5py
import numpy as np

from core.errors import StoreError
from core.model import GaitEvent, ModelOutputs, Trial, frame_to_time
from core.store.schema import INDEX_FORMAT, PatientInfo, SessionInfo, TrialInfo, TrialRecord, check_schema

STALE_V1 = "migrated from store schema 1: reprocess to refresh the results"


def _s(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _date(text: str):
    text = _s(text).strip()
    return _dt.date.fromisoformat(text) if text else None


def _v1_trial(g: h5py.Group, tid: str) -> TrialRecord:
    a = g.attrs
    rate, first = float(a["rate_hz"]), int(a["first_frame"])
    labels = tuple(g["labels"].asstr()[()].tolist())
    ev = g.get("events")
    events = ()
    if ev is not None and len(ev["frame"]):
        frames = ev["frame"][()].astype(int)
        events = tuple(GaitEvent(l, c, int(f), float(frame_to_time(f, rate)), "file")
                       for l, c, f in zip(ev["label"].asstr()[()], ev["context"].asstr()[()], frames))
    raw = Trial(name=g.name.rsplit("/", 1)[-1], labels=labels, points=g["points"][()],
                point_rate_hz=rate, first_frame=first, events=events)
    outputs = None
    if "outputs" in g:
        og = g["outputs"]
        chans = {k: og[k][()] for k in og if k != "progression"}
        prog = og["progression"][()] if "progression" in og else np.full((3, 3), np.nan)
        outputs = ModelOutputs(chans, {}, prog, first, rate)
    settings = json.loads(_s(a.get("settings_json", "{}")) or "{}")
    info = TrialInfo(trial_id=tid, name=raw.name, source_file=_s(a.get("source_file", "")),
                     sha256=_s(a.get("sha256", "")), is_static=bool(a.get("static", 0)),
                     task=_s(a.get("task", "")), n_frames=raw.n_frames, rate_hz=rate,
                     first_frame=first, n_events=len(events),
                     app_version=_s(a.get("app_version", "")), stale_reason=STALE_V1)
    return TrialRecord(info=info, raw=raw, events=events, settings=settings or None, outputs=outputs)


def migrate_v1(src: Path, dst: Path, store_cls) -> None:
    """Convert a schema-1 single-file store into a schema-2 folder at ``dst`` (must not exist)."""
    try:
        with h5py.File(src, "r") as f:
            p = f["patient"].attrs
            patient = PatientInfo(name=_s(p.get("name", "")), patient_id=_s(p.get("id", "")),
                                  birth_date=_date(p.get("dob", "")), sex=_s(p.get("sex", "")),
                                  notes=_s(p.get("notes", "")))
            store = store_cls.create(dst, patient)
            try:
                for label in sorted(f["sessions"], key=lambda k: _s(f["sessions"][k].attrs.get("date", ""))):
                    sg = f["sessions"][label]
                    tg = sg["trials"]
                    recs = [_v1_trial(tg[name], f"T{i + 1:03d}") for i, name in enumerate(sorted(tg))]
                    a = sg.attrs
                    info = SessionInfo(session_id=store.new_session_id(), label=label,
                                       date=_date(a.get("date", "")), condition=_s(a.get("condition", "")),
                                       examiner=_s(a.get("examiner", "")), notes=_s(a.get("notes", "")),
                                       static_trial=next((r.info.name for r in recs if r.info.is_static), ""))
                    store.save_session(info, recs)
            finally:
                store.close()
    except (OSError, KeyError, ValueError) as exc:
        shutil.rmtree(dst, ignore_errors=True)
        raise StoreError(f"schema-1 store could not be migrated (damaged?): {exc}", src) from exc


def _single_file_version(path: Path) -> tuple[int, str]:
    try:
        with h5py.File(path, "r") as f:
            fmt = _s(f.attrs.get("format", ""))
            if fmt != INDEX_FORMAT:
                raise StoreError(f"not a Genu Lab store (format {fmt!r})", path)
            return int(f.attrs.get("schema_version", -1)), _s(f.attrs.get("app_version", "?"))
    except OSError as exc:
        raise StoreError(f"not a Genu Lab store, or damaged/truncated ({exc})", path) from exc


def open_single_file(store_cls, path: Path, mode: str):
    """Open a single-file (schema 1) store: migrated in place for ``"a"``, in a temp folder for ``"r"``.

    In place: the new folder is built beside the file, the file is renamed
    ``<stem>.v1-backup<suffix>`` and the folder takes its name.
    """
    version, written_by = _single_file_version(path)
    check_schema(version, written_by, path)
    if version != 1:
        hint = (f": give the store folder {path.parent}, not its {path.name}" if path.parent.suffix == ".genu"
                else "")
        raise StoreError(f"a single-file store of schema {version} is not expected{hint}", path)
    if mode == "r":
        tmp = Path(tempfile.mkdtemp(prefix="genulab-migrated-"))
        migrate_v1(path, tmp / path.name, store_cls)
        store = store_cls.open(tmp / path.name, "r")
        store._tempdir = tmp
        store.notes.append("schema-1 store migrated to a temporary copy (read-only); "
                           "open it for writing to convert the file itself")
    else:
        work = path.with_name(path.name + ".migrating")
        shutil.rmtree(work, ignore_errors=True)
        migrate_v1(path, work, store_cls)
        backup = path.with_name(f"{path.stem}.v1-backup{path.suffix}")
        os.replace(path, backup)
        os.replace(work, path)
        store = store_cls.open(path, "a")
        store.notes.append(f"schema-1 store migrated to schema 2; the original file is kept as {backup.name}")
    store.migrated_from = 1
    return store
