"""Rebuild a lost or damaged ``index.h5`` from the session files of a store.

Every session file carries its own listing (``/info``, a :class:`SessionInfo` without the
file fields) and a copy of the patient (``/patient``), both with their digests, so the index
can be rebuilt when it is lost. For each session id the newest complete session file whose
listing and trials pass their checks is used; files that fail are reported and left alone.
A file of a save that was killed after the session file was complete but before the index
was committed is complete and consistent: recovery keeps that newer save.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Optional

from core.errors import StoreError
from core.store import packed
from core.store import serialize as ser
from core.store.lock import StoreLock
from core.store.schema import (FIRST_FOLDER_SCHEMA, INDEX_NAME, LOCK_NAME, SCHEMA_VERSION, SESSION_FORMAT, SESSIONS_DIR,
                               PatientInfo, SessionInfo)
from core.store.store import PatientStore, _h5_open, _session_order, file_sha256


def _read_session_file(path: Path) -> tuple[str, SessionInfo, PatientInfo]:
    with _h5_open(path, "session file") as f:
        version = int(f.attrs.get("schema_version", -1))
        if str(f.attrs.get("format", "")) != SESSION_FORMAT or not FIRST_FOLDER_SCHEMA <= version <= SCHEMA_VERSION:
            raise StoreError("not a session file of this schema", path)
        out = []
        for name in ("info", "patient"):
            if name not in f:
                raise StoreError(f"no /{name} group (written before recovery data existed)", path)
            node = packed.read_tree(f[name])
            if ser.node_digest(node) != f[name].attrs.get("__digest__"):
                raise StoreError(f"/{name} does not match its checksum", path)
            out.append(ser.decode(node, name))
        written = str(f.attrs.get("written_utc", ""))
    return written, out[0], out[1]


def recover_index(path: Path | str, patient: Optional[PatientInfo] = None) -> tuple[PatientStore, list[str]]:
    """Write a new index for the store folder ``path`` from its session files.

    Returns the store opened for writing (the caller closes it) and the report lines.
    The old index, if any, is kept as ``index.h5.damaged``.

    Raises
    ------
    StoreLockedError: a live process writes the store.
    StoreError: no usable session file.
    """
    path = Path(path)
    lock = StoreLock(path / LOCK_NAME).acquire()
    try:
        best: dict[str, tuple[str, SessionInfo, PatientInfo, Path]] = {}
        report = []
        for f in sorted((path / SESSIONS_DIR).glob("*.h5")):
            try:
                written, info, pat = _read_session_file(f)
            except StoreError as exc:
                report.append(f"skipped {f.name}: {exc.reason}")
                continue
            if info.session_id not in best or written > best[info.session_id][0]:
                best[info.session_id] = (written, info, pat, f)
        if not best:
            raise StoreError("no usable session file to rebuild the index from"
                             + "".join(f"\n  {line}" for line in report), path)
        newest = max(best.values(), key=lambda b: b[0])
        sessions = [replace(info, file=f.name, file_size=f.stat().st_size, file_sha256=file_sha256(f))
                    for _, info, _, f in best.values()]
        if (path / INDEX_NAME).exists():
            (path / INDEX_NAME).replace(path / (INDEX_NAME + ".damaged"))
        store = PatientStore(path, True, lock)
        store._write_index(patient or newest[2], sorted(sessions, key=_session_order))
        store._cleanup()
        store.check(full=True)
    except BaseException:
        lock.release()
        raise
    report += [f"session {s.label!r} ({s.session_id}): {len(s.trials)} trial(s) from {s.file}" for s in sessions]
    return store, report
