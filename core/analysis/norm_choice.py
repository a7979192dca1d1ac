"""Which normative set judges a patient, and whether the patient's age fits its population.

Precedence (docs/normative.md "Choice of the set"):

1. the set chosen for this analysis (``AnalysisSettings.normative`` set to a name or a file,
   ``genulab analyze --normative``, or a :class:`~core.analysis.normative.NormativeSet`
   passed to ``analyze_session``);
2. the lab default, once chosen (``genulab norms set-default NAME`` or the app's
   Settings > Normative data; kept in the lab settings file, :func:`settings_path`);
3. automatic by age: a shipped set whose age range covers the patient's age, else the
   paediatric default ``schwartz2008``.

Whatever the choice, the patient's age at the session date is checked against the set's age
range and the result is recorded (:func:`age_caution`): never a silent adult-against-children
comparison.

Lab settings file: ``$GENULAB_CONFIG`` if set, else ``$XDG_CONFIG_HOME/genulab/settings.json``
(``~/.config/genulab/settings.json``; ``%APPDATA%\\genulab\\settings.json`` on Windows). Lab
sets imported with ``genulab norms import`` are kept as JSON under ``normative/`` beside it.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional

from core.analysis.normative import (DEFAULT_SET, FORMAT, NormativeSet, available_normative_sets,
                                     load_lab_normative, load_normative)
from core.errors import NormativeDataError

SETTINGS_KEY = "normative_default"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# ----------------------------------------------------------------------------------------
# lab settings file and the lab's installed sets
# ----------------------------------------------------------------------------------------
def settings_path() -> Path:
    """The lab settings file (JSON); it need not exist."""
    env = os.environ.get("GENULAB_CONFIG")
    if env:
        return Path(env).expanduser()
    if os.name == "nt" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "genulab" / "settings.json"


def lab_norms_folder() -> Path:
    """Folder of the lab's imported normative sets (``normative/`` beside the settings file)."""
    return settings_path().parent / "normative"


def read_lab_settings() -> dict:
    """The lab settings (empty when the file does not exist).

    Raises NormativeDataError naming the file when it exists but is not a JSON object.
    """
    path = settings_path()
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NormativeDataError(f"lab settings file is not readable JSON ({exc})", path) from None
    if not isinstance(doc, dict):
        raise NormativeDataError("lab settings file must hold a JSON object", path)
    return doc


def _write_json_atomic(path: Path, doc: Mapping) -> None:
    """Write JSON to a temporary file beside ``path``, then replace ``path`` (atomic save)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError as exc:
        raise NormativeDataError(f"cannot be written ({exc.strerror or exc})", path) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def lab_sets() -> dict[str, Path]:
    """Name -> file of the lab's imported sets."""
    folder = lab_norms_folder()
    return {p.stem: p for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def known_sets() -> tuple[str, ...]:
    """Names usable as a choice: the shipped sets, then the lab's imported ones."""
    return tuple(dict.fromkeys(available_normative_sets() + tuple(lab_sets())))


def lab_default() -> Optional[str]:
    """The lab default set's name, or None when the lab has not chosen one."""
    value = read_lab_settings().get(SETTINGS_KEY)
    return str(value) if value else None


def set_lab_default(name: Optional[str]) -> Path:
    """Choose (``name``) or clear (None) the lab default; returns the settings file written.

    Raises NormativeDataError when ``name`` is neither a shipped nor an imported set.
    """
    if name is not None and name not in known_sets():
        raise NormativeDataError(f"unknown normative set {name!r} (available: {', '.join(known_sets())})")
    doc = read_lab_settings()
    if name is None:
        doc.pop(SETTINGS_KEY, None)
    else:
        doc[SETTINGS_KEY] = name
    _write_json_atomic(settings_path(), doc)
    return settings_path()


def import_lab_set(path: Path | str, name: Optional[str] = None, population: Optional[str] = None,
                   age_min: Optional[float] = None, age_max: Optional[float] = None,
                   n_subjects: Optional[int] = None, citation: Optional[str] = None,
                   licence: Optional[str] = None) -> tuple[NormativeSet, Path]:
    """Read a lab CSV/JSON set, apply the given metadata, and keep it as a lab set.

    The options override the file's own metadata. The set is written in the resource JSON
    format to :func:`lab_norms_folder` under its name (an existing set of that name is
    replaced). Returns the set as read back and the file written.

    Raises NormativeDataError for a malformed file, a name that is not a plain identifier, a
    shipped set's name, or a set with no age range (a lab set must state its population's ages).
    """
    ns = load_lab_normative(path)
    given = {"name": name, "population": population, "citation": citation, "licence": licence,
             "age_min_years": age_min, "age_max_years": age_max, "n_subjects": n_subjects}
    ns = replace(ns, **{k: v for k, v in given.items() if v not in (None, "")})
    if not _NAME.match(ns.name):
        raise NormativeDataError(f"set name {ns.name!r} must be letters, digits, '-', '_' or '.' (no spaces)", path)
    if ns.name in available_normative_sets():
        raise NormativeDataError(f"{ns.name!r} is a shipped set: give the lab set another name (--name)", path)
    if not (math.isfinite(ns.age_min_years) or math.isfinite(ns.age_max_years)):
        raise NormativeDataError("the set states no age range: give --age-min and --age-max "
                                 "(or age_min_years / age_max_years in the file)", path)
    out = lab_norms_folder() / f"{ns.name}.json"
    _write_json_atomic(out, set_to_document(ns))
    return load_lab_normative(out), out


def set_to_document(ns: NormativeSet) -> dict:
    """The resource JSON document (``genulab-normative/1``) of one set (no speed classes)."""
    def num(v: float):
        return None if not math.isfinite(v) else v
    variables = {k: {"unit": b.unit, "percent": b.percent.tolist(), "mean": [num(float(x)) for x in b.mean],
                     "sd": [num(float(x)) for x in b.sd]} for k, b in ns.bands.items()}
    return {"format": FORMAT, "name": ns.name, "title": ns.title or ns.name, "citation": ns.citation,
            "population": ns.population, "age_range_years": [num(ns.age_min_years), num(ns.age_max_years)],
            "n_subjects": ns.n_subjects, "licence": ns.licence, "source": ns.source,
            **({"cycle_events_pct": dict(ns.cycle_events_pct)} if ns.cycle_events_pct else {}),
            "variables": variables}


def load_any(name_or_file: str, speed_class: Optional[str] = None) -> NormativeSet:
    """A set by shipped name, lab set name, or CSV/JSON file path."""
    if name_or_file in available_normative_sets():
        return load_normative(name_or_file, speed_class)
    lab = lab_sets()
    if name_or_file in lab:
        return load_lab_normative(lab[name_or_file])
    if Path(name_or_file).suffix:
        return load_lab_normative(name_or_file)
    raise NormativeDataError(f"unknown normative set {name_or_file!r} (available: {', '.join(known_sets())})")


# ----------------------------------------------------------------------------------------
# the choice and the age check
# ----------------------------------------------------------------------------------------
def automatic_set(age_years: Optional[float]) -> str:
    """The shipped set whose age range covers the age (the default first), else ``DEFAULT_SET``."""
    if age_years is not None:
        names = sorted(available_normative_sets(), key=lambda n: n != DEFAULT_SET)
        for name in names:
            if load_normative(name).covers_age(age_years):
                return name
    return DEFAULT_SET


def choose_set_name(explicit: Optional[str], default: Optional[str], age_years: Optional[float]) -> tuple[str, str]:
    """(set name or file, basis of the choice) by the precedence of this module.

    explicit: the choice for this analysis (None = not chosen); default: the lab default
    (None = none chosen); age_years: the patient's age at the session (None = unknown).
    """
    if explicit:
        return explicit, "chosen for this analysis"
    if default and default in known_sets():
        return default, "lab default"
    note = f"the lab default {default!r} is not installed" if default else "no lab default chosen"
    name = automatic_set(age_years)
    why = "age unknown" if age_years is None else f"patient aged {age_years:g} y"
    return name, f"automatic by age: {why}, {note}"


@dataclass(frozen=True)
class AgeCheck:
    """The patient's age against a set's population.

    age_years: whole years at the session date (None = unknown); basis: how it was found
    (e.g. ``"birth date 1994-03-15, session 2026-09-07"``) or why it could not be;
    caution: the sentence to show with the bands ("" when the age lies inside the set's range).
    """

    age_years: Optional[float]
    basis: str
    caution: str


def age_caution(ns: Optional[NormativeSet], age_years: Optional[float], basis: str = "") -> str:
    """The caution to show with the bands of ``ns`` for a patient of ``age_years`` ("" = none)."""
    if ns is None:
        return ""
    who = f"{ns.title or ns.name} ({ns.population}, {ns.age_text()})"
    if age_years is None:
        why = f" ({basis})" if basis else ""
        return (f"The patient's age could not be checked against {who}{why}: "
                "make sure the normal bands suit this patient.")
    inside = ns.covers_age(age_years)
    if inside is None:
        return (f"Patient aged {age_years:g} y; {ns.title or ns.name} ({ns.population}) states no age range: "
                "the fit of the normal bands to this patient could not be checked.")
    if inside:
        return ""
    adult_vs_child = age_years >= 18 and math.isfinite(ns.age_max_years) and ns.age_max_years < 18
    extra = " (adult gait differs from children's in timing and amplitude)" if adult_vs_child else ""
    return (f"Patient aged {age_years:g} y judged against {who}: the normal bands, the walking valgus threshold "
            f"taken from them, GVS/GPS and 'beyond normal' flags are indicative only{extra}.")


def _date(value) -> Optional[_dt.date]:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value).strip()[:10]) if value not in (None, "") else None
    except ValueError:
        return None


def age_at(birth, when) -> Optional[float]:
    """Whole years from a birth date to a date (ISO strings or dates); None when either is unknown."""
    b, w = _date(birth), _date(when)
    if b is None or w is None or w < b:
        return None
    return float(w.year - b.year - ((w.month, w.day) < (b.month, b.day)))


def session_age(session) -> tuple[Optional[float], str]:
    """The patient's age at the session from its folder's ``patient.json`` and the reason.

    Birth date (``birth_date`` / ``dob``) and session date (the ``sessions`` entry of the
    folder's name, its ``date``); else a stated ``age_years`` / ``age``. Returns (None, why)
    when the age cannot be found.
    """
    folder = getattr(session, "folder", None)
    patient = getattr(folder, "patient", None)
    if not isinstance(patient, Mapping):
        return None, "no patient record"
    birth = patient.get("birth_date") or patient.get("dob")
    sessions = patient.get("sessions") if isinstance(patient.get("sessions"), Mapping) else {}
    entry = sessions.get(getattr(folder, "name", None) or getattr(folder, "label", "")) or {}
    when = entry.get("date") if isinstance(entry, Mapping) else None
    age = age_at(birth, when)
    if age is not None:
        return age, "from the birth date and the session date of the patient record"
    stated = patient.get("age_years", patient.get("age"))
    try:
        if stated not in (None, "") and math.isfinite(float(stated)):
            return float(stated), "age stated in the patient record"
    except (TypeError, ValueError):
        pass
    if _date(birth) is None:
        return None, "birth date unknown" if not birth else f"birth date {birth!r} is not a date"
    return None, "session date unknown"


def check_age(ns: Optional[NormativeSet], age_years: Optional[float], basis: str) -> AgeCheck:
    """:class:`AgeCheck` of a patient against a set."""
    return AgeCheck(age_years, basis, age_caution(ns, age_years, basis))


def analysis_caution(analysis, birth_date=None, session_date=None) -> str:
    """The normative caution of a session analysis, for display.

    An analysis made with the age check (``normative_basis`` recorded) gives its own
    ``normative_caution``. An older one (stored before the check existed) is checked here
    from the birth and session dates given (ISO strings or dates), so that no display shows
    bands without the check; "" when it used no normal bands.
    """
    if analysis is None or not getattr(analysis, "normative_name", ""):
        return ""
    if getattr(analysis, "normative_basis", ""):
        return str(getattr(analysis, "normative_caution", "") or "")
    try:
        ns = load_any(analysis.normative_name, getattr(analysis, "speed_class", None))
    except NormativeDataError:
        return (f"The normal bands ({analysis.normative_name}) are not installed here: the patient's age "
                "could not be checked against their population.")
    age = age_at(birth_date, session_date)
    why = "" if age is not None else ("birth date unknown" if not birth_date else "session date unknown")
    return age_caution(ns, age, why)


def with_age_check(analysis, age_years: Optional[float], basis: str):
    """An analysis stored before the age check, with the check made now (others unchanged).

    age_years / basis: the patient's age at the session and how it was found (e.g. from a
    store's patient record). The set is loaded by the analysis' name; the result's
    ``normative_basis`` says that the check was made on opening.
    """
    if analysis is None or getattr(analysis, "normative_basis", "") or not getattr(analysis, "normative_name", ""):
        return analysis
    try:
        ns = load_any(analysis.normative_name, analysis.speed_class)
    except NormativeDataError:
        ns = None
    text = age_caution(ns, age_years, basis) if ns is not None else analysis_caution(analysis)
    pop = f"{ns.population} ({ns.age_text()})" if ns is not None else ""
    return replace(analysis, normative_basis="recorded before the age check; checked when opened",
                   normative_population=pop, patient_age_years=age_years, patient_age_basis=basis,
                   normative_caution=text)


def without_age(analysis, why: str = "age removed by de-identification"):
    """The analysis with the patient's age taken out of its normative check (de-identified
    exports that drop the age); the caution then says the age could not be checked."""
    if analysis is None or getattr(analysis, "patient_age_years", None) is None:
        return analysis
    try:
        ns = load_any(analysis.normative_name, analysis.speed_class) if analysis.normative_name else None
    except NormativeDataError:
        ns = None
    text = age_caution(ns, None, why) if ns is not None else ""
    return replace(analysis, patient_age_years=None, patient_age_basis=why, normative_caution=text,
                   normative_basis=analysis.normative_basis or "recorded before the age check")
