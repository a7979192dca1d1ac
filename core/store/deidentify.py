"""Export one session to a new store, optionally de-identified for sharing or research.

De-identification (applied to every stored object, generically, so that no copy of a name
hides in a nested result):

* patient name and ID -> a pseudonym; birth date removed; age at the session date (else at
  the date the session was saved) kept in whole years (or removed); sex, height and mass kept (the analysis needs them); notes removed;
* session date, examiner, notes and folder name removed; dates and times anywhere removed;
* source file names and trial names -> ``trial-<hash>`` (salted SHA-256, so they cannot be
  looked up), applied wherever the names occur in strings; paths reduced to that name;
  the original files' SHA-256 removed; the C3D ``SUBJECTS`` metadata dropped;
* any remaining occurrence of the name (and of its words of 3+ letters), the ID or the
  birth date in any string is replaced by the pseudonym.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import re
import secrets
from pathlib import Path, PurePath
from typing import Any, Callable, Mapping, Optional

from core.errors import StoreError
from core.model import Trial
from core.store.schema import PatientInfo, SessionInfo, SessionRecord, TrialRecord
from core.store.store import PatientStore, open_store


class Scrubber:
    """Replaces identifying strings everywhere in a value (dataclasses, mappings, sequences)."""

    def __init__(self, exact: Mapping[str, str], words: Mapping[str, str]) -> None:
        # longest first, so that a file name is replaced before its stem
        self.exact = sorted(((k, v) for k, v in exact.items() if k), key=lambda kv: -len(kv[0]))
        self.words = [(re.compile(rf"(?<![^\W_]){re.escape(k)}(?![^\W_])", re.IGNORECASE), v)
                      for k, v in words.items() if len(k) >= 3]

    def text(self, s: str, words: bool = True) -> str:
        for k, v in self.exact:
            s = s.replace(k, v)
        for rx, v in (self.words if words else ()):
            s = rx.sub(v, s)
        return s

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (_dt.date, _dt.datetime)):
            return None
        if isinstance(value, PurePath):
            return Path(self.text(value.name))
        if isinstance(value, Trial):
            params = {k: v for k, v in value.parameters.items() if not k.upper().startswith("SUBJECTS:")}
            # a C3D label prefix is the Vicon subject name, usually the patient's
            value = value.with_changes(parameters=params, path=None,
                                       original_labels=tuple(l.split(":", 1)[-1] for l in value.original_labels))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            return dataclasses.replace(value, **changes)
        if isinstance(value, Mapping):  # keys: exact names only, never vocabulary words
            return {(self.text(k, words=False) if isinstance(k, str) else k): self(v) for k, v in value.items()}
        if isinstance(value, (tuple, list, set, frozenset)):
            return type(value)(self(v) for v in value)
        return value


def pseudonym_of(patient: PatientInfo, salt: bytes) -> str:
    return "P-" + hashlib.sha256(salt + patient.patient_id.encode() + patient.name.encode()).hexdigest()[:8].upper()


def _scrubber(patient: PatientInfo, session: SessionInfo, pseudonym: str, salt: bytes) -> Scrubber:
    exact: dict[str, str] = {}
    for t in session.trials:
        code = "trial-" + hashlib.sha256(salt + t.name.encode()).hexdigest()[:10]
        exact[t.name] = code
        if t.source_file:
            exact[t.source_file] = code + Path(t.source_file).suffix
            exact[Path(t.source_file).stem] = code
    for s in (patient.name, patient.patient_id, session.examiner):
        if s and len(s) >= 2:
            exact.setdefault(s, pseudonym)
    if patient.birth_date is not None:
        b = patient.birth_date
        for form in (b.isoformat(), b.strftime("%d/%m/%Y"), b.strftime("%m/%d/%Y"), b.strftime("%d.%m.%Y"),
                     b.strftime("%Y%m%d")):
            exact[form] = "[birth date removed]"
    words = {w: pseudonym for w in re.split(r"[\s,;]+", patient.name) if w}
    return Scrubber(exact, words)


def deidentified_patient(patient: PatientInfo, session: SessionInfo, pseudonym: str, keep_age: bool) -> PatientInfo:
    when = session.date or (session.modified_utc.date() if session.modified_utc else _dt.date.today())
    age = patient.age_at(when) if keep_age else None
    return PatientInfo(name=pseudonym, patient_id=pseudonym, birth_date=None,
                       age_years=float(int(age)) if age is not None else None, sex=patient.sex,
                       height_mm=patient.height_mm, mass_kg=patient.mass_kg, notes="", pseudonymised=True)


def export_session(store_path: Path | str, session: str, out: Path | str, deidentify: bool = False,
                   keep_age: bool = True, pseudonym: Optional[str] = None,
                   progress: Optional[Callable[[float, str], None]] = None) -> tuple[Path, str]:
    """Copy one session of a store into a new store ``out``; returns (out, pseudonym or "").

    Raises
    ------
    StoreError: ``out`` exists, the session is unknown, or the source is damaged.
    """
    out = Path(out)
    if out.exists():
        raise StoreError("already exists; choose a new name for the export", out)
    with open_store(store_path) as src:
        info = src.session(session)
        records = [src.load_trial(info.session_id, t.trial_id) for t in info.trials]
        srec = src.load_session(info.session_id)
        patient = src.patient
    alias = ""
    new_info = dataclasses.replace(info, session_id="S01", trials=(), file="", file_size=0, file_sha256="")
    if deidentify:
        salt = secrets.token_bytes(16)
        alias = pseudonym or pseudonym_of(patient, salt)
        scrub = _scrubber(patient, info, alias, salt)
        patient = deidentified_patient(patient, info, alias, keep_age)
        records = [_scrub_record(scrub, r) for r in records]
        srec = scrub(srec)
        if not keep_age and getattr(srec, "analysis", None) is not None:
            from core.analysis.norm_choice import without_age
            srec = dataclasses.replace(srec, analysis=without_age(srec.analysis))
        new_info = dataclasses.replace(scrub(new_info), date=None, examiner="", notes="", source_folder="",
                                       modified_utc=None)
    try:
        with PatientStore.create(out, patient) as dst:
            dst.save_session(new_info, records, srec or SessionRecord(), keep_existing=False, progress=progress)
    except BaseException:
        import shutil
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out, alias


def _scrub_record(scrub: Scrubber, rec: TrialRecord) -> TrialRecord:
    rec = scrub(rec)
    return rec.with_info(sha256="", processed_utc=None)
