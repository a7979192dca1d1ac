"""Import a Vicon-style session folder (static + dynamic C3D files + subject file) into a store.

The folder is described by :func:`core.gait.session.discover_session` (static trial recognised
by name, ``static``/``cal``, or by content; the caller's choice wins; the choice is
reported), processed by :func:`core.gait.pipeline.process_session` and analysed by
:func:`core.analysis.session.analyze_session`. Each C3D file is identified by the SHA-256 of its
bytes: a file already in the store is reported and not imported twice. Patient details
come from ``patient.json`` beside the session folders (or inside) and from explicit
values, which win; so do session details (``"sessions": {"<folder>": {"date", "label",
"condition", "examiner", "notes"}}`` in patient.json).
"""
from __future__ import annotations

import datetime as _dt
import math
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from core.errors import AnalysisError, StoreError
from core.store.schema import PatientInfo, SessionInfo, SessionRecord, TrialInfo, TrialRecord
from core.store.store import PatientStore, open_store, settings_digest

Progress = Optional[Callable[[float, str], None]]

_PATIENT_KEYS = {"name": ("name", "patient_name", "full_name"),
                 "patient_id": ("patient_id", "id", "ID", "patientId"),
                 "birth_date": ("birth_date", "dob", "date_of_birth", "birthdate"),
                 "age_years": ("age_years", "age"),
                 "sex": ("sex", "gender"),
                 "notes": ("notes",)}


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the session written (or None), trials added, files skipped, lines to report."""

    store_path: Path
    session: Optional[SessionInfo]
    added: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    report: tuple[str, ...] = field(default_factory=tuple)


def _first(data: Mapping[str, Any], names: Sequence[str]) -> Any:
    for n in names:
        if n in data and data[n] not in (None, ""):
            return data[n]
    return None


def _length_mm(data: Mapping[str, Any]) -> Optional[float]:
    for key, scale in (("height_mm", 1.0), ("height_cm", 10.0), ("height_m", 1000.0)):
        if data.get(key) not in (None, ""):
            return float(data[key]) * scale
    h = data.get("height")
    if h in (None, ""):
        return None
    h = float(h)
    return h * 1000.0 if h < 3.0 else h * 10.0 if h < 300.0 else h  # m, cm or mm


def patient_from_mapping(data: Optional[Mapping[str, Any]], source: str = "patient.json") -> PatientInfo:
    """PatientInfo from a patient.json mapping (common spellings accepted).

    Raises
    ------
    StoreError: an unreadable birth date or number, naming the source.
    """
    data = dict(data or {})
    vals = {k: _first(data, names) for k, names in _PATIENT_KEYS.items()}
    try:
        dob = vals["birth_date"]
        dob = _dt.date.fromisoformat(str(dob)) if dob is not None else None
        age = float(vals["age_years"]) if vals["age_years"] is not None else None
        mass = _first(data, ("mass_kg", "mass", "weight_kg", "weight"))
        return PatientInfo(name=str(vals["name"] or ""), patient_id=str(vals["patient_id"] or ""),
                           birth_date=dob, age_years=age, sex=str(vals["sex"] or ""),
                           height_mm=_length_mm(data), mass_kg=float(mass) if mass is not None else None,
                           notes=str(vals["notes"] or ""))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"invalid patient details ({exc})", source) from None


def _session_from_patient_json(data: Optional[Mapping[str, Any]], folder_name: str) -> dict:
    """Session details kept in patient.json under ``"sessions": {folder name: {...}}``."""
    sessions = (data or {}).get("sessions") if hasattr(data, "get") else None
    entry = sessions.get(folder_name) if isinstance(sessions, Mapping) else None
    if not isinstance(entry, Mapping):
        return {}
    keys = ("label", "date", "condition", "examiner", "notes")
    return {k: str(entry[k]) for k in keys if entry.get(k) not in (None, "")}


def merge_patient(base: PatientInfo, override: Mapping[str, Any]) -> PatientInfo:
    """``base`` with the non-empty values of ``override`` (field name -> value) applied."""
    given = {k: v for k, v in override.items() if v not in (None, "")}
    if isinstance(given.get("birth_date"), str):
        try:
            given["birth_date"] = _dt.date.fromisoformat(given["birth_date"])
        except ValueError:
            raise StoreError(f"birth date must be YYYY-MM-DD, not {given['birth_date']!r}") from None
    return replace(base, **given)


def _check_same_patient(store: PatientStore, patient: PatientInfo) -> list[str]:
    old = store.patient
    if old.patient_id and patient.patient_id and old.patient_id != patient.patient_id:
        raise StoreError(f"the store belongs to patient {old.patient_id!r}, the import is for "
                         f"{patient.patient_id!r}; use another store", store.path)
    filled = {f: getattr(patient, f) for f in ("name", "patient_id", "birth_date", "age_years", "sex",
                                                "height_mm", "mass_kg")
              if getattr(old, f) in (None, "") and getattr(patient, f) not in (None, "")}
    if filled:
        store.set_patient(replace(old, **filled))
        return [f"patient details added: {', '.join(filled)}"]
    return []


def _finite(x: Any) -> Optional[float]:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def trial_key_numbers(analysis: Any) -> dict[str, float]:
    """Headline numbers of a TrialAnalysis: valgus phases and their largest peak per side and metric."""
    out: dict[str, float] = {}
    for ph in getattr(analysis, "phases", ()) or ():
        key = f"peak {ph.metric} {ph.side}"
        v = _finite(ph.peak_value)
        if v is not None and (key not in out or abs(v) > abs(out[key])):
            out[key] = v
        out[f"phases {ph.side}"] = out.get(f"phases {ph.side}", 0.0) + 1.0
    return out


def session_key_numbers(analysis: Any) -> dict[str, float]:
    """Headline numbers of a SessionAnalysis: walking speed, cadence and GPS per side."""
    out: dict[str, float] = {}
    for side, w in (getattr(analysis, "walking", None) or {}).items():
        for name in ("speed_m_s", "cadence_steps_min"):
            v = _finite((w.spatiotemporal or {}).get(name))
            if v is not None:
                out[f"{name} {side}"] = v
        if _finite(w.gps_deg) is not None:
            out[f"GPS {side} deg"] = float(w.gps_deg)
    if analysis is not None and _finite(getattr(analysis, "gps_overall_deg", None)) is not None:
        out["GPS deg"] = float(analysis.gps_overall_deg)
    return out


def _trial_info(tid: str, raw, path: Path, sha: str, processed: Any = None, analysis: Any = None,
                static: bool = False) -> TrialInfo:
    cycles = getattr(processed, "cycles", ()) or ()
    return TrialInfo(trial_id=tid, name=raw.name, source_file=path.name, sha256=sha, is_static=static,
                     task="static" if static else str(getattr(analysis, "task", "") or raw.parameters.get("GENULAB:TASK", "")),
                     side=str(getattr(analysis, "side", "") or ""),
                     n_frames=raw.n_frames, rate_hz=float(raw.point_rate_hz), first_frame=raw.first_frame,
                     n_events=len(getattr(processed, "events", raw.events) or ()),
                     n_cycles={s: sum(1 for c in cycles if c.side == s) for s in ("Left", "Right")} if cycles else {},
                     key_numbers=trial_key_numbers(analysis),
                     settings_digest=settings_digest(getattr(processed, "settings", None)),
                     processed_utc=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0))


def _analyse(session: Any, label: str, notes: list[str]) -> Any:
    """``analyze_session`` of a ProcessedSession, or None (with a note) when it cannot run."""
    try:
        from core.analysis.session import analyze_session
    except ImportError:
        notes.append("analysis module not available: trials stored without analysis")
        return None
    try:
        return analyze_session(session, label=label)
    except AnalysisError as exc:
        notes.append(f"analysis not run: {exc}")
        return None


def import_session(folder: Path | str, store_path: Path | str, label: Optional[str] = None,
                   patient: Optional[Mapping[str, Any]] = None, static: Optional[str] = None,
                   overrides: Any = None, settings: Any = None, session_details: Optional[Mapping[str, Any]] = None,
                   progress: Progress = None, cancelled: Optional[Callable[[], bool]] = None) -> ImportResult:
    """Import a session folder into a patient store (created if absent).

    Parameters
    ----------
    folder: the session folder (static, dynamic C3D files, subject file).
    store_path: the patient store (``.genu`` folder).
    label: session label (default: the folder name); an existing session of that label is extended.
    patient: explicit patient details (PatientInfo field -> value), winning over patient.json.
    static: the user's choice of static trial (a file name in the folder).
    overrides: ``--set`` subject values (``{"MarkerDiameter": 16}`` or ``["Name=Value"]``).
    settings: ``core.gait.pipeline.ProcessingSettings`` (default settings if None).
    session_details: SessionInfo fields (``date``, ``condition``, ``examiner``, ``notes``).

    Raises
    ------
    GenuError subclasses from discovery/processing; StoreError (locked, damaged, other patient,
    a session date that is not YYYY-MM-DD, nothing in the folder could be imported). A store
    this call created is removed again when the import fails.
    """
    from core.io.c3d import read_c3d
    from core.gait.pipeline import process_session
    from core.gait.session import discover_session

    sf = discover_session(folder, static=static)
    from_json = _session_from_patient_json(sf.patient, sf.path.name)
    label = label or str(from_json.pop("label", "") or sf.label)
    details = {**from_json, **{k: v for k, v in dict(session_details or {}).items() if v not in (None, "")}}
    pinfo = merge_patient(patient_from_mapping(sf.patient, str(sf.patient_file or "patient.json")), patient or {})
    details = _checked_details(details)  # before anything is created
    store_path = Path(store_path)
    created = not store_path.exists()
    store = PatientStore.create(store_path, pinfo) if created else open_store(store_path, "a")
    try:
        return _import_into(store, sf, label, pinfo, overrides, settings, details,
                            progress, cancelled, process_session, read_c3d)
    except BaseException:
        store.close()
        if created:  # never leave a half-made new store behind
            shutil.rmtree(store_path, ignore_errors=True)
        raise
    finally:
        store.close()


def _checked_details(details: dict) -> dict:
    """Session details with the date parsed (StoreError naming the bad value)."""
    date = details.get("date")
    if isinstance(date, str) and date:
        try:
            details = {**details, "date": _dt.date.fromisoformat(date)}
        except ValueError:
            raise StoreError(f"session date must be YYYY-MM-DD, not {date!r}") from None
    return details


def _reason(path: Path, message: str) -> str:
    """``message`` without the leading ``"<path>: "`` of a GenuError."""
    for prefix in (f"{path}: ", f"{Path(path).name}: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _split_known(store, sf, hashes: dict, report: list) -> tuple[list[str], list[Path]]:
    """(names of dynamic files already stored, paths of new ones), reporting each known file."""
    skipped, new = [], []
    for p in sf.dynamics:
        hits = store.find_sha256(hashes[p])
        if hits:
            s, t = hits[0]
            skipped.append(p.name)
            report.append(f"{p.name}: already in the store (session {s.label!r}, trial {t.name!r}; "
                          "same SHA-256): not imported again")
        else:
            new.append(p)
    return skipped, new


def _whole_session_analysis(store, sf, ps, old_recs: list, label: str, report: list) -> Any:
    """Analysis of the stored and the new trials together, with the store's patient (sex sets FPPA bounds)."""
    old_processed = [r.processed for r in old_recs if r.processed is not None]
    if not (old_processed or ps.trials):
        return None
    patient = {**(sf.patient or {}), **({"sex": store.patient.sex} if store.patient.sex else {})}
    whole = replace(ps, folder=replace(sf, patient=patient), trials=tuple(old_processed) + tuple(ps.trials))
    return _analyse(whole, label, report)


def _records(old_recs: list, sf, ps, hashes: dict, analysis: Any, settings: Any, label: str,
             report: list, read_c3d) -> list[TrialRecord]:
    """Stored records (with the new analysis), the static if not stored yet, and the new trials."""
    by_name = {a.trial_name: a for a in (analysis.trials if analysis is not None else ())}
    records = [r if r.processed is None else
               replace(r, analysis=by_name.get(r.processed.trial.name, r.analysis),
                       info=replace(r.info, key_numbers=trial_key_numbers(by_name.get(r.processed.trial.name, r.analysis))))
               for r in old_recs]
    ids = [r.info.trial_id for r in records]
    if sf.static is not None and not any(r.info.sha256 == hashes[sf.static] for r in records):
        ids.append(PatientStore.new_trial_id(ids))
        raw, cal = read_c3d(sf.static), ps.calibration
        records.append(TrialRecord(info=_trial_info(ids[-1], raw, sf.static, hashes[sf.static], static=True),
                                   raw=raw, subject=getattr(cal, "subject", None), outputs=getattr(cal, "outputs", None),
                                   settings=settings if settings is not None else _default_settings()))
    for pt in ps.trials:
        ids.append(PatientStore.new_trial_id(ids))
        path = Path(pt.source_path)
        raw, an = read_c3d(path), by_name.get(pt.trial.name)
        if any(r.info.name == raw.name for r in records):
            report.append(f"{path.name}: another file of the same name is already in session {label!r}; "
                          f"stored as {ids[-1]} (refer to it by that id)")
        records.append(TrialRecord.from_processed(_trial_info(ids[-1], raw, path, hashes[path], pt, an), raw, pt, an))
    return records


def _import_into(store, sf, label, pinfo, overrides, settings, details, progress, cancelled,
                 process_session, read_c3d) -> ImportResult:
    report = list(store.notes) + _check_same_patient(store, pinfo) + list(sf.notes)
    existing = next((s for s in store.sessions if s.label == label), None)
    hashes = {p: sf.sha256_of(p) for p in ((sf.static,) if sf.static else ()) + tuple(sf.dynamics)}
    skipped, new_dyn = _split_known(store, sf, hashes, report)
    if not new_dyn and (sf.static is None or store.find_sha256(hashes[sf.static])):
        report.append("nothing new to import")
        return ImportResult(store.path, existing, (), tuple(skipped), (), tuple(report))
    ps = process_session(replace(sf, dynamics=tuple(new_dyn)), overrides, _sub(progress, 0.0, 0.7),
                         cancelled, settings)
    report += [n for n in ps.notes if n not in report]
    failed = tuple(f"{Path(p).name}: {_reason(p, str(msg))}" for p, msg in ps.failures)
    report += [f"not imported: {f}" for f in failed]
    static_new = sf.static is not None and not store.find_sha256(hashes[sf.static])
    if not ps.trials and not static_new:  # nothing could be imported: no (empty) session
        raise StoreError("nothing could be imported: " + "; ".join(failed or ("no trial",)), sf.path)
    old_recs = [store.load_trial(existing.session_id, t.trial_id) for t in existing.trials] if existing else []
    analysis = _whole_session_analysis(store, sf, ps, old_recs, label, report)
    records = _records(old_recs, sf, ps, hashes, analysis, settings, label, report, read_c3d)
    info = _session_info(store, existing, sf, label, details, analysis)
    saved = store.save_session(info, records, SessionRecord(calibration=ps.calibration, analysis=analysis,
                                                            import_report=tuple(report)),
                               keep_existing=False, progress=_sub(progress, 0.7, 1.0))
    added = tuple(Path(pt.source_path).name for pt in ps.trials)
    static_added = sf.static is not None and not any(r.info.sha256 == hashes[sf.static] for r in old_recs)
    report.append(f"session {saved.label!r} ({saved.session_id}): {len(added)} trial(s) imported"
                  + (f" and the static {sf.static.name}" if static_added else "")
                  + (f", {len(skipped)} already present" if skipped else "")
                  + ("" if ps.trials or old_recs else "; no dynamic trial yet, so no analysis"))
    return ImportResult(store.path, saved, added, tuple(skipped), failed, tuple(report))


def _default_settings() -> Any:
    from core.gait.pipeline import ProcessingSettings
    return ProcessingSettings()


def _session_info(store, existing, sf, label, details, analysis) -> SessionInfo:
    base = existing or SessionInfo(session_id=store.new_session_id(), label=label)
    static_note = next((n for n in sf.notes if n.lower().startswith("static")), "")
    date = details.pop("date", None)
    if isinstance(date, str) and date:
        try:
            date = _dt.date.fromisoformat(date)
        except ValueError:
            raise StoreError(f"session date must be YYYY-MM-DD, not {date!r}") from None
    return replace(base, source_folder=str(sf.path.name), date=date or base.date,
                   static_trial=sf.static.stem if sf.static else base.static_trial,
                   static_choice=static_note or base.static_choice,
                   key_numbers=session_key_numbers(analysis),
                   **{k: v for k, v in details.items() if v not in (None, "")})


def _sub(progress: Progress, lo: float, hi: float) -> Progress:
    if progress is None:
        return None
    return lambda f, m: progress(lo + (hi - lo) * f, m)
