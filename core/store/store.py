"""The patient store: a folder per patient, one HDF5 file per session and a small index.

Opening reads only the index (patient, sessions, trial listing) and checks that every
session file is present, of the recorded size and a readable HDF5 file with the expected
structure; arrays are read when a trial is asked for (:meth:`PatientStore.load_trial`),
and each trial's content is then checked against the SHA-256 digest stored beside it.
Saving writes a new generation of one session file, then atomically replaces the index
(the commit point), then deletes the old generation (see :mod:`core.store.schema`).
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import h5py

from core.errors import StoreError, StoreLockedError
from core.store import packed
from core.store import serialize as ser
from core.store.atomic import atomic_h5, remove_orphans
from core.store.lock import StoreLock, is_stale, read_lock
from core.gait.session import file_sha256  # noqa: F401 - part of core.store's API
from core.store.schema import (check_schema,  # noqa: F401 - part of core.store.store's API
                               FIRST_FOLDER_SCHEMA, INDEX_FORMAT, INDEX_NAME, LIBVER, LOCK_NAME, SCHEMA_VERSION,
                               SESSION_FORMAT, SESSIONS_DIR, PatientInfo, SessionInfo,
                               SessionRecord, TrialInfo, TrialRecord, app_version, utc_now)

Progress = Callable[[float, str], None]


def settings_digest(settings: object) -> str:
    """Short digest of processing settings (equal settings give equal digests)."""
    if settings is None:
        return ""
    return ser.node_digest(ser.encode(settings, "settings"))[:16]


def _digests(settings: object) -> tuple[str, ...]:
    """The settings digest, and the one versions before the core layout (issue 13) wrote."""
    tree = ser.encode(settings, "settings")
    return (ser.node_digest(tree)[:16], ser.node_digest(ser.with_former_tags(tree))[:16])


def _h5_open(path: Path, what: str) -> h5py.File:
    try:
        # HDF5's own file locks are not needed (files are never modified in place; writers
        # hold the store's .lock) and fail on read-only or lock-less network file systems
        return h5py.File(path, "r", locking=False)
    except FileNotFoundError as exc:
        raise StoreError(f"{what} is missing", path) from exc
    except OSError as exc:
        raise StoreError(f"{what} is damaged or truncated (not a readable HDF5 file: {exc})", path) from exc


class PatientStore:
    """One patient's store. Create with :meth:`create`, open with :meth:`open`.

    Attributes
    ----------
    path: the store folder. writable: True when this process holds the write lock.
    patient: :class:`PatientInfo`. sessions: tuple of :class:`SessionInfo` (with trial listing).
    migrated_from: schema version the store was migrated from on open, or None.
    notes: things worth telling the user about the open (stale lock removed, migration...).
    """

    def __init__(self, path: Path, writable: bool, lock: Optional[StoreLock]) -> None:
        self.path = Path(path)
        self.writable = writable
        self._lock = lock
        self.patient = PatientInfo()
        self.sessions: tuple[SessionInfo, ...] = ()
        self.created_utc = None
        self.migrated_from: Optional[int] = None
        self.notes: list[str] = []
        self._tempdir: Optional[Path] = None

    # ------------------------------------------------------------------ open / create
    @classmethod
    def create(cls, path: Path | str, patient: PatientInfo) -> "PatientStore":
        """A new, empty, writable store folder (refuses to overwrite anything)."""
        path = Path(path)
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError("already exists; open it instead of creating it", path)
        existed = path.exists()
        try:
            (path / SESSIONS_DIR).mkdir(parents=True, exist_ok=True)
            store = cls(path, True, StoreLock(path / LOCK_NAME).acquire())
        except OSError as exc:
            _remove_created(path, existed)
            raise StoreError(f"cannot create the store: {exc.strerror or exc}", path) from None
        try:
            store.patient = patient
            store.created_utc = utc_now()
            store._write_index(patient, ())
        except BaseException:
            store.close()
            _remove_created(path, existed)  # no half-made store (e.g. a full disk)
            raise
        return store

    @classmethod
    def open(cls, path: Path | str, mode: str = "r", verify: str = "quick") -> "PatientStore":
        """Open a store read-only (``"r"``) or for writing (``"a"``).

        verify: ``"quick"`` (index digest, session files present, sizes, structure) or
        ``"full"`` (also the SHA-256 of every session file and of every trial's content).

        Raises
        ------
        StoreLockedError
            ``mode="a"`` while another live process writes the store.
        StoreError
            Not a store, damaged (naming the file and what is wrong), or a newer schema.
        """
        if mode not in ("r", "a"):
            raise StoreError(f"mode must be 'r' or 'a', not {mode!r}", path)
        path = Path(path)
        work = path.with_name(path.name + ".migrating")
        if not path.exists() and (work / INDEX_NAME).exists():
            os.replace(work, path)  # a migration was killed after its backup rename: finish it
        if path.is_file():
            from core.store.migrate import open_single_file
            return open_single_file(cls, path, mode)
        if not (path / INDEX_NAME).exists():
            holder = read_lock(path / LOCK_NAME) if path.is_dir() else None
            if holder and not is_stale(holder):
                raise StoreLockedError(f"is being created by pid {holder.get('pid')} on {holder.get('host')} "
                                       "(no index yet); try again when it is done", path)
            what = "does not exist" if not path.exists() else f"is not a Genu Lab store (no {INDEX_NAME})"
            if (path / SESSIONS_DIR).is_dir():
                what += "; `genulab ls STORE --repair-index` rebuilds the index from the session files"
            raise StoreError(what, path)
        lock = StoreLock(path / LOCK_NAME).acquire() if mode == "a" else None
        store = cls(path, mode == "a", lock)
        try:
            store._read_index()
            if lock is not None:
                if lock.broke_stale:
                    store.notes.append(f"removed a stale lock of pid {lock.broke_stale.get('pid')} "
                                       "(a writer that did not finish; the last complete save is kept)")
                store._cleanup()
            store.check(full=(verify == "full"))
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Release the write lock (if held) and temporary files."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
        self.writable = False

    def __enter__(self) -> "PatientStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ index
    def _read_index(self) -> None:
        try:
            self._read_index_file(self.path / INDEX_NAME)
        except StoreError as exc:
            if "newer Genu Lab" in exc.reason or "schema" in exc.reason:
                raise
            raise StoreError(f"{exc.reason}; `genulab ls STORE --repair-index` rebuilds the index "
                             "from the session files", exc.path) from None

    def _read_index_file(self, ipath: Path) -> None:
        with _h5_open(ipath, "the store index") as f:
            fmt = str(f.attrs.get("format", ""))
            if fmt != INDEX_FORMAT:
                raise StoreError(f"not a Genu Lab store index (format {fmt!r})", ipath)
            version = int(f.attrs.get("schema_version", -1))
            check_schema(version, str(f.attrs.get("app_version", "?")), ipath)
            if version < FIRST_FOLDER_SCHEMA:  # schema 1 was a single file (core.store.migrate)
                raise StoreError(f"schema {version} has no migration", ipath)
            try:
                patient, sessions = packed.read_tree(f["patient"]), packed.read_tree(f["sessions"])
            except KeyError as exc:
                raise StoreError(f"the index is damaged: group {exc.args[0]} is missing", ipath) from None
            except StoreError as exc:
                raise StoreError(f"the index is damaged: {exc}", ipath) from None
            digest = ser.node_digest(ser.Node(members={"patient": patient, "sessions": sessions}))
            if digest != f.attrs.get("__digest__"):
                raise StoreError("the index is damaged: its content does not match its checksum", ipath)
            created = f.attrs.get("created_utc", "")
        self.patient = ser.decode(patient, "patient")
        self.sessions = tuple(ser.decode(sessions, "sessions"))
        self.created_utc = created

    def _write_index(self, patient: PatientInfo, sessions: Sequence[SessionInfo]) -> None:
        tree = ser.Node(members={"patient": ser.encode(patient, "patient"),
                                 "sessions": ser.encode(tuple(sessions), "sessions")})
        with atomic_h5(self.path / INDEX_NAME, LIBVER) as f:
            f.attrs["format"] = INDEX_FORMAT
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["app_version"] = app_version()
            f.attrs["created_utc"] = str(self.created_utc or utc_now().isoformat())
            f.attrs["modified_utc"] = utc_now().isoformat()
            f.attrs["__digest__"] = ser.node_digest(tree)
            for name, member in tree.members.items():
                packed.write_tree(f.create_group(name), member)
        self.patient, self.sessions = patient, tuple(sessions)

    def _cleanup(self) -> None:
        """Remove what killed writers left: temporary files, unreferenced session files."""
        removed = remove_orphans(self.path) + remove_orphans(self.path / SESSIONS_DIR)
        used = {s.file for s in self.sessions}
        for p in (self.path / SESSIONS_DIR).glob("*.h5"):
            if p.name not in used:
                p.unlink(missing_ok=True)
                removed.append(p)
        if removed:
            self.notes.append(f"removed {len(removed)} file(s) left by an unfinished save")

    # ------------------------------------------------------------------ integrity
    def check(self, full: bool = False) -> None:
        """Check every session file; raise one StoreError listing everything damaged."""
        problems = [p for s in self.sessions for p in self._check_session(s, full)]
        if problems:
            raise StoreError("damaged store: " + "; ".join(problems), self.path)

    def _check_session(self, s: SessionInfo, full: bool) -> list[str]:
        p = self.path / SESSIONS_DIR / s.file
        where = f"{SESSIONS_DIR}/{s.file} (session {s.label!r})"
        if not p.exists():
            return [f"{where}: file is missing"]
        size = p.stat().st_size
        if size != s.file_size:
            return [f"{where}: truncated or altered ({size} bytes, the index says {s.file_size})"]
        if full and file_sha256(p) != s.file_sha256:
            return [f"{where}: content changed since it was saved (SHA-256 mismatch)"]
        try:
            with _h5_open(p, "session file") as f:
                probs = self._check_structure(f, s, where)
                if full and not probs:
                    for t in s.trials:
                        try:
                            self._read_trial_node(f, s, t)
                        except StoreError as exc:
                            probs.append(exc.reason)
                return probs
        except StoreError as exc:
            return [f"{where}: {exc.reason}"]

    @staticmethod
    def _check_structure(f: h5py.File, s: SessionInfo, where: str) -> list[str]:
        try:
            if str(f.attrs.get("format", "")) != SESSION_FORMAT or f.attrs.get("session_id") != s.session_id:
                return [f"{where}: not the session file the index expects"]
            if "session" not in f or "trials" not in f:
                return [f"{where}: required group /session or /trials is missing"]
            have = set(f["trials"].keys())
        except (OSError, RuntimeError, KeyError) as exc:
            return [f"{where}: unreadable structure ({exc})"]
        lost = [t.name for t in s.trials if t.trial_id not in have]
        return [f"{where}: trial(s) missing: {', '.join(lost)}"] if lost else []

    def verify(self) -> None:
        """Full check: file SHA-256 and every trial's content digest (reads everything)."""
        self.check(full=True)

    # ------------------------------------------------------------------ queries
    def session(self, key: str) -> SessionInfo:
        """A session by id or label (StoreError if absent or ambiguous)."""
        hits = [s for s in self.sessions if s.session_id == key] or \
               [s for s in self.sessions if s.label == key]
        if not hits:
            known = ", ".join(f"{s.label} ({s.session_id})" for s in self.sessions) or "none"
            raise StoreError(f"no session {key!r} (sessions: {known})", self.path)
        if len(hits) > 1:
            raise StoreError(f"several sessions are labelled {key!r}; use the id: "
                             + ", ".join(s.session_id for s in hits), self.path)
        return hits[0]

    def trial_info(self, session: str, trial: str) -> tuple[SessionInfo, TrialInfo]:
        s = self.session(session)
        t = s.trial(trial)
        if t is None:
            raise StoreError(f"session {s.label!r} has no trial {trial!r}", self.path)
        return s, t

    def find_sha256(self, sha256: str) -> list[tuple[SessionInfo, TrialInfo]]:
        """Stored trials whose original C3D had this SHA-256 (re-import detection)."""
        return [(s, t) for s in self.sessions for t in s.trials if t.sha256 == sha256]

    def n_trials(self) -> int:
        return sum(len(s.trials) for s in self.sessions)

    # ------------------------------------------------------------------ loading
    def _session_file(self, s: SessionInfo) -> h5py.File:
        p = self.path / SESSIONS_DIR / s.file
        if not p.exists() and not self.writable:  # replaced by a writer meanwhile
            self._read_index()
            s = self.session(s.session_id)
            p = self.path / SESSIONS_DIR / s.file
        return _h5_open(p, f"session file of {s.label!r}")

    def _read_trial_node(self, f: h5py.File, s: SessionInfo, t: TrialInfo) -> ser.Node:
        where = f"{SESSIONS_DIR}/{s.file}: trial {t.name!r} (/trials/{t.trial_id})"
        try:
            grp = f["trials"][t.trial_id]
        except (KeyError, OSError) as exc:
            raise StoreError(f"{where} is missing or unreadable ({exc})", self.path) from None
        try:
            node = packed.read_tree(grp)
        except StoreError as exc:
            raise StoreError(f"{where} is damaged: {exc}", self.path) from None
        if ser.node_digest(node) != grp.attrs.get("__digest__"):
            raise StoreError(f"{where} is damaged: content does not match its checksum", self.path)
        return node

    def load_trial(self, session: str, trial: str) -> TrialRecord:
        """Read one trial with its arrays (checked against its stored digest)."""
        s, t = self.trial_info(session, trial)
        with self._session_file(s) as f:
            node = self._read_trial_node(f, s, t)
        return ser.decode(node, f"{s.label}/{t.name}")

    def load_session(self, session: str) -> SessionRecord:
        """Session-level results (calibration, session analysis, import report)."""
        s = self.session(session)
        where = f"{SESSIONS_DIR}/{s.file}: /session"
        with self._session_file(s) as f:
            try:
                node = packed.read_tree(f["session"])
            except (KeyError, StoreError) as exc:
                raise StoreError(f"{where} is damaged: {exc}", self.path) from None
            if ser.node_digest(node) != f["session"].attrs.get("__digest__"):
                raise StoreError(f"{where} is damaged: content does not match its checksum", self.path)
        return ser.decode(node, s.label)

    # ------------------------------------------------------------------ saving
    def _require_writable(self) -> None:
        if not self.writable:
            raise StoreError("opened read-only; open with mode 'a' to save", self.path)

    def new_session_id(self) -> str:
        nums = [int(m.group(1)) for s in self.sessions if (m := re.fullmatch(r"S(\d+)", s.session_id))]
        return f"S{max(nums, default=0) + 1:02d}"

    @staticmethod
    def new_trial_id(existing: Iterable[str]) -> str:
        nums = [int(m.group(1)) for t in existing if (m := re.fullmatch(r"T(\d+)", t))]
        return f"T{max(nums, default=0) + 1:03d}"

    def set_patient(self, patient: PatientInfo) -> None:
        """Replace the patient details (rewrites the index only)."""
        self._require_writable()
        self._write_index(patient, self.sessions)

    def save_session(self, info: SessionInfo, trials: Sequence[TrialRecord] = (),
                     record: Optional[SessionRecord] = None, keep_existing: bool = True,
                     progress: Optional[Progress] = None) -> SessionInfo:
        """Create or update one session; only its file and the index are rewritten.

        Parameters
        ----------
        info: the session (``session_id`` new or existing; its ``trials`` listing is rebuilt).
        trials: records to write (a record whose ``info.trial_id`` exists replaces it).
        record: session-level results; None keeps the stored one (or an empty one).
        keep_existing: keep the session's other stored trials (copied without decoding).
        progress: ``progress(fraction, message)`` called as the save advances.

        Returns
        -------
        The stored :class:`SessionInfo` (with file name, size and SHA-256).
        """
        self._require_writable()
        progress = progress or (lambda fraction, message: None)
        old = next((s for s in self.sessions if s.session_id == info.session_id), None)
        if old is not None and keep_existing:
            self._verify_file(old)
        new_ids = {r.info.trial_id for r in trials}
        kept = [t for t in (old.trials if old and keep_existing else ()) if t.trial_id not in new_ids]
        if record is None and old is not None:
            record = self.load_session(old.session_id)
        name = f"{info.session_id}.{uuid.uuid4().hex[:8]}.h5"
        target = self.path / SESSIONS_DIR / name
        stamped = [r.with_info(app_version=r.info.app_version or app_version(),
                               settings_digest=r.info.settings_digest or settings_digest(r.settings))
                   for r in trials]
        listing = tuple(kept) + tuple(r.info for r in stamped)
        listing = tuple(sorted(listing, key=lambda t: (not t.is_static, t.trial_id)))
        info = replace(info, trials=listing, file="", file_size=0, file_sha256="",
                       app_version=app_version(), modified_utc=utc_now())
        self._write_session_file(target, info, stamped, kept, old, record or SessionRecord(), progress)
        new = replace(info, file=name, file_size=target.stat().st_size, file_sha256=file_sha256(target))
        progress(0.98, "committing the index")
        sessions = [s for s in self.sessions if s.session_id != info.session_id] + [new]
        self._write_index(self.patient, sorted(sessions, key=_session_order))
        if old is not None and old.file != name:
            (self.path / SESSIONS_DIR / old.file).unlink(missing_ok=True)
        progress(1.0, "saved")
        return new

    def _verify_file(self, s: SessionInfo) -> None:
        p = self.path / SESSIONS_DIR / s.file
        if not p.exists() or file_sha256(p) != s.file_sha256:
            raise StoreError(f"{SESSIONS_DIR}/{s.file} (session {s.label!r}) is damaged; "
                             "refusing to copy it into a new save", self.path)

    def _write_session_file(self, target: Path, info: SessionInfo, trials: Sequence[TrialRecord],
                            kept: Sequence[TrialInfo], old: Optional[SessionInfo],
                            record: SessionRecord, progress: Progress) -> None:
        n = max(1, len(trials) + len(kept))
        with atomic_h5(target, LIBVER) as f:
            f.attrs["format"] = SESSION_FORMAT
            f.attrs["schema_version"] = SCHEMA_VERSION
            f.attrs["session_id"] = info.session_id
            f.attrs["app_version"] = app_version()
            f.attrs["written_utc"] = utc_now().isoformat()
            # the listing and the patient, so that a lost index can be rebuilt (core.store.recover)
            for name, value in (("info", info), ("patient", self.patient)):
                g = f.create_group(name)
                g.attrs["__digest__"] = packed.save(g, value, name)
            links: dict = {}  # identical arrays (e.g. a trial's analysis in the session's) stored once
            g = f.create_group("session")
            g.attrs["__digest__"] = packed.save(g, record, "session", links)
            tg = f.create_group("trials")
            if kept:
                with _h5_open(self.path / SESSIONS_DIR / old.file, "session file") as src:
                    for i, t in enumerate(kept):
                        src.copy(src["trials"][t.trial_id], tg, name=t.trial_id)
                        progress(0.9 * (i + 1) / n, f"kept {t.name}")
            for i, r in enumerate(trials):
                progress(0.9 * (len(kept) + i) / n, f"writing {r.info.name}")
                grp = tg.create_group(r.info.trial_id)
                grp.attrs["__digest__"] = packed.save(grp, r, f"{info.label}/{r.info.name}", links)
            progress(0.9, "flushing the session file")

    def update_trial(self, session: str, record: TrialRecord,
                     progress: Optional[Progress] = None) -> SessionInfo:
        """Replace one stored trial (e.g. after event edits); other trials are copied as they are."""
        s = self.session(session)
        return self.save_session(replace(s), [record], None, True, progress)

    def edit_events(self, session: str, trial: str, events: Sequence, edits: Sequence,
                    stale_reason: str = "events edited: re-run the analysis") -> TrialRecord:
        """Store edited events of a trial with the edits that produced them.

        events: the new event list (``GaitEvent``, source ``"edited"`` for changed ones);
        edits: :class:`core.store.schema.EventEdit` records, appended to the trial's history.
        The stored results are flagged stale until a new analysis is saved with
        :meth:`update_trial`. Returns the stored record.
        """
        s, t = self.trial_info(session, trial)
        rec = self.load_trial(s.session_id, t.trial_id)
        rec = replace(rec, events=tuple(sorted(events, key=lambda e: (e.frame, e.context, e.label))),
                      event_edits=rec.event_edits + tuple(edits))
        rec = rec.with_info(n_events=len(rec.events), stale_reason=stale_reason)
        self.update_trial(s.session_id, rec)
        return rec

    def delete_session(self, session: str) -> None:
        """Remove a session (its file is deleted after the index no longer lists it)."""
        self._require_writable()
        s = self.session(session)
        self._write_index(self.patient, [x for x in self.sessions if x.session_id != s.session_id])
        (self.path / SESSIONS_DIR / s.file).unlink(missing_ok=True)


def _remove_created(path: Path, existed: bool) -> None:
    """Remove what :meth:`PatientStore.create` made: the folder, or only its content when
    the (empty) folder was there before."""
    if not existed:
        shutil.rmtree(path, ignore_errors=True)
        return
    shutil.rmtree(path / SESSIONS_DIR, ignore_errors=True)
    for p in path.iterdir() if path.is_dir() else ():
        if p.is_file():
            p.unlink(missing_ok=True)


def _session_order(s: SessionInfo):
    return (s.date is None, str(s.date or ""), s.session_id)


def staleness(info: TrialInfo, current_settings: object = None) -> str:
    """Why a trial's stored results may be stale ("" when they are current)."""
    if info.stale_reason:
        return info.stale_reason
    if info.app_version and info.app_version != app_version():
        return f"processed by Genu Lab {info.app_version} (running {app_version()})"
    if current_settings is not None and info.settings_digest not in _digests(current_settings):
        return "processed with other settings"
    return ""


def open_store(path: Path | str, mode: str = "r", verify: str = "quick") -> PatientStore:
    """Shorthand for :meth:`PatientStore.open`."""
    return PatientStore.open(path, mode, verify)
