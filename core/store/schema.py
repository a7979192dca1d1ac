"""What a patient store holds: layout constants, schema version and the record types.

Layout of schemas 2 and 3 (see docs/store.md for the justification)::

    <patient>.genu/                  a folder per patient
        index.h5                     schema version, patient, session and trial listing
        sessions/<id>.<gen>.h5       one file per session (trials with their arrays)
        .lock                        present while a process writes the store

The index is small and is the commit point of every save: a session file is written
under a new generation name, then the index is atomically replaced to point at it, then the
old generation is deleted. A save therefore rewrites one session file and the index, never
years of unrelated sessions.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Optional

from core.errors import StoreError
from core.model import GaitEvent, ModelOutputs, QualityReport, SubjectParameters, Trial

#: schema of the files written by this version: 3 = packed layout (core.store.packed)
SCHEMA_VERSION = 3
#: oldest folder schema read as it is: 2 = group layout (core.store.serialize.write_node); its
#: trees are the same, so a schema-2 store opens without migration and every save writes schema 3
FIRST_FOLDER_SCHEMA = 2
#: ``format`` attribute of the index file and of session files
INDEX_FORMAT = "genulab-store"
SESSION_FORMAT = "genulab-session"
INDEX_NAME = "index.h5"
SESSIONS_DIR = "sessions"
LOCK_NAME = ".lock"
#: HDF5 file-format bounds: 1.8 object headers (dense attribute storage), readable by HDF5 >= 1.8
LIBVER = ("v108", "latest")


def utc_now() -> _dt.datetime:
    """Current UTC time to the second, timezone-aware."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def app_version() -> str:
    from core import __version__
    return __version__


@dataclass(frozen=True)
class PatientInfo:
    """The patient of a store.

    birth_date or age_years may be None (a de-identified store keeps only the age).
    sex: ``"F"``, ``"M"``, another word, or ``""`` when unknown.
    """

    name: str = ""
    patient_id: str = ""
    birth_date: Optional[_dt.date] = None
    age_years: Optional[float] = None
    sex: str = ""
    height_mm: Optional[float] = None
    mass_kg: Optional[float] = None
    notes: str = ""
    pseudonymised: bool = False

    def age_at(self, when: Optional[_dt.date]) -> Optional[float]:
        """Age in whole years at a date (from the birth date, else the stored age)."""
        if self.birth_date is not None and when is not None:
            b = self.birth_date
            return float(when.year - b.year - ((when.month, when.day) < (b.month, b.day)))
        return self.age_years


@dataclass(frozen=True)
class TrialInfo:
    """Metadata of one stored trial, listed without loading any array.

    trial_id: stable key inside its session (``"T001"`` ...). source_file: original C3D
    file name; sha256: SHA-256 (hex) of the original C3D bytes (recognises re-imports).
    key_numbers: a few headline values for listings (e.g. ``"speed_m_s"``,
    ``"peak_valgus_Right_deg"``). app_version / settings_digest: what produced the results
    (compared with the running app to flag stale results).
    """

    trial_id: str
    name: str
    source_file: str = ""
    sha256: str = ""
    is_static: bool = False
    task: str = ""
    side: str = ""
    n_frames: int = 0
    rate_hz: float = 0.0
    first_frame: int = 1
    n_events: int = 0
    n_cycles: Mapping[str, int] = field(default_factory=dict)
    key_numbers: Mapping[str, float] = field(default_factory=dict)
    app_version: str = ""
    settings_digest: str = ""
    processed_utc: Optional[_dt.datetime] = None
    stale_reason: str = ""


@dataclass(frozen=True)
class SessionInfo:
    """Metadata of one session and the listing of its trials.

    label: e.g. ``"pre"``, ``"post"``, ``"6 weeks"``; condition: ``"barefoot"``,
    ``"shoes"``, ``"orthoses"``, ``"walking aid"`` ...; file: the session file name under
    ``sessions/``; file_size / file_sha256: of that file (checked on open / by verify).
    key_numbers: headline session values for listings (walking speed, cadence, GPS ...).
    static_trial / static_choice: the static trial used and how it was chosen.
    """

    session_id: str
    label: str
    date: Optional[_dt.date] = None
    condition: str = ""
    examiner: str = ""
    notes: str = ""
    source_folder: str = ""
    static_trial: str = ""
    static_choice: str = ""
    trials: tuple[TrialInfo, ...] = ()
    key_numbers: Mapping[str, float] = field(default_factory=dict)
    file: str = ""
    file_size: int = 0
    file_sha256: str = ""
    app_version: str = ""
    modified_utc: Optional[_dt.datetime] = None

    def trial(self, key: str) -> Optional[TrialInfo]:
        """A trial by id, name or source file name."""
        for t in self.trials:
            if key in (t.trial_id, t.name, t.source_file):
                return t
        return None


@dataclass(frozen=True)
class EventEdit:
    """One user edit of the events of a trial (kept so the report can say where events came from).

    action: ``"add"``, ``"move"`` or ``"delete"``; before/after: the event before and after
    (None for add/delete); source: who or what made it (``"app"``, ``"cli"``, a user name).
    """

    action: str
    before: Optional[GaitEvent] = None
    after: Optional[GaitEvent] = None
    source: str = "app"
    when_utc: Optional[_dt.datetime] = None


@dataclass(frozen=True)
class WindowEdit:
    """One user edit of the task windows of a trial (``core.analysis.TaskWindow``).

    action: ``"add"``, ``"move"`` (start and/or end changed) or ``"delete"``; side:
    ``"Left"``/``"Right"``; before/after: the window before and after (None for add/delete);
    source: who or what made it (``"app"``, ``"cli"``, a user name).
    """

    action: str
    side: str
    before: Any = None
    after: Any = None
    source: str = "app"
    when_utc: Optional[_dt.datetime] = None


@dataclass(frozen=True)
class TrialRecord:
    """Everything stored for one trial.

    raw: the trial exactly as read from the C3D (markers, labels, events, parameters).
    processed: the engine's result (``core.gait.pipeline.ProcessedTrial``) or None (static trial,
    or migrated data). subject, events, settings, outputs, quality: the subject parameters
    used (with their sources), events used (after edits), processing settings, model outputs
    and quality report; filled from ``processed`` when it is given (see
    :meth:`from_processed`). analysis: ``core.analysis.TrialAnalysis`` or None.
    windows: side -> the task windows (``core.analysis.TaskWindow``) the user set for that
    side, used instead of the detected ones (``analyze_trial(..., windows=...)``);
    window_source: side -> ``"edited"`` for those sides; window_edits: their edit history.
    """

    info: TrialInfo
    raw: Trial
    processed: Any = None
    subject: Optional[SubjectParameters] = None
    events: tuple[GaitEvent, ...] = ()
    event_edits: tuple[EventEdit, ...] = ()
    settings: Any = None
    outputs: Optional[ModelOutputs] = None
    quality: QualityReport = QualityReport()
    analysis: Any = None
    windows: Mapping[str, tuple] = field(default_factory=dict)
    window_source: Mapping[str, str] = field(default_factory=dict)
    window_edits: tuple[WindowEdit, ...] = ()

    @classmethod
    def from_processed(cls, info: TrialInfo, raw: Trial, processed: Any,
                       analysis: Any = None, event_edits: tuple[EventEdit, ...] = ()) -> "TrialRecord":
        """A record whose fields come from a ``ProcessedTrial`` (shared, stored once)."""
        return cls(info=info, raw=raw, processed=processed,
                   subject=getattr(processed, "subject", None),
                   events=tuple(getattr(processed, "events", ()) or ()),
                   event_edits=tuple(event_edits),
                   settings=getattr(processed, "settings", None),
                   outputs=getattr(processed, "outputs", None),
                   quality=getattr(processed, "quality", None) or QualityReport(),
                   analysis=analysis)

    def with_info(self, **changes) -> "TrialRecord":
        return replace(self, info=replace(self.info, **changes))


@dataclass(frozen=True)
class SessionRecord:
    """Session-level results stored beside the trials.

    calibration: ``core.kinematics.cgm1.StaticCalibration`` (or None); analysis:
    ``core.analysis.SessionAnalysis`` (or None); import_report: lines saying what the
    import decided (static choice, duplicates skipped ...).
    """

    calibration: Any = None
    analysis: Any = None
    import_report: tuple[str, ...] = ()


def check_schema(version: int, written_by: str, path: Path) -> None:
    """Refuse a schema newer than this app knows (StoreError saying what to do)."""
    if version > SCHEMA_VERSION:
        raise StoreError(f"written by a newer Genu Lab ({written_by}, store schema {version}); "
                         f"this version reads schemas up to {SCHEMA_VERSION}: update Genu Lab "
                         "to open it (the store was not modified)", path)
    if version < 1:
        raise StoreError(f"unknown store schema version {version}", path)
