"""Patient store: patients, sessions and trials in HDF5 files that never lose work.

Public API::

    from core.store import PatientStore, open_store, PatientInfo, SessionInfo, TrialInfo, TrialRecord
    store = PatientStore.create("jane.genu", PatientInfo(name="Jane Doe", patient_id="P001"))
    store.save_session(SessionInfo("S01", "pre"), [record])
    with open_store("jane.genu") as s:           # read-only, lists without loading arrays
        rec = s.load_trial("pre", "walk_01")     # arrays read (and checked) on demand

See docs/store.md for the layout and its schema version.
"""
from core.store.schema import (SCHEMA_VERSION, EventEdit, PatientInfo, SessionInfo,
                               SessionRecord, TrialInfo, TrialRecord)
from core.store.store import PatientStore, file_sha256, open_store, settings_digest, staleness

__all__ = ["SCHEMA_VERSION", "EventEdit", "PatientInfo", "SessionInfo", "SessionRecord",
           "TrialInfo", "TrialRecord", "PatientStore", "open_store", "file_sha256",
           "settings_digest", "staleness"]
