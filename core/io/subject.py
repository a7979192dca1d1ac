"""Subject (anthropometric) parameters: registry, readers and precedence.

Sources, lowest to highest precedence (cgm1_spec section 2, issue 2):

1. the dynamic trial's C3D ``PROCESSING`` group,
2. the static trial's C3D ``PROCESSING`` group,
3. a subject file: Vicon Nexus ``.vsk`` (XML), Vicon Workstation ``.mp`` (text) or JSON,
4. ``--set Name=Value`` overrides.

Names are those of a Vicon VSK (``LeftLegLength``, ``InterAsisDistance`` ...). The
``PROCESSING`` short forms (``LLegLength``, ``RKneeWidth``, ``LStaticPlantFlex``,
``'Marker Diameter'``, ``'Left Foot Flat'``) are aliases everywhere; matching ignores case,
spaces and underscores.

Units. Every value is returned in its canonical unit: mm for lengths, kg for mass,
**degrees** for angles, 0/1 for flags. Angular parameters (StaticPlantFlex, StaticRotOff,
TibialTorsion, ThighRotation, ShankRotation, AnkleAbAdd) are stored in **radians** by Vicon Nexus (VSK
and Nexus PROCESSING) and in **degrees** by Vicon Workstation (PROCESSING and ``.mp``). The
rule used here (cgm1_spec section 2): a PROCESSING group is in degrees if the file's
``MANUFACTURER:SOFTWARE`` contains "Workstation" or the group has ``Marker Diameter`` (a
Workstation-only entry), otherwise radians; ``.vsk`` is radians; ``.mp``, JSON and
``--set`` are degrees. Each value's ``source`` says which unit was assumed.

Absent values. A value of 0 for a *measured* quantity (leg length, widths, inter-ASIS
distance, ASIS-trochanter distance, marker diameter, body mass, height) counts as absent in
a file; a VSK parameter with only an EXPRESSION and no VALUE is absent (and a note says so).
Given with ``--set``, 0 for a measured quantity explicitly clears it (e.g.
``--set InterAsisDistance=0`` asks the static calibration to compute it).
"""
from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from core.errors import SubjectParameterError
from core.model import ParameterValue, SubjectParameters, Trial

#: units of the parameter kinds
KIND_UNITS = {"length": "mm", "mass": "kg", "angle": "deg", "flag": "flag"}


@dataclass(frozen=True)
class ParameterSpec:
    """Definition of one subject parameter.

    name: canonical Vicon VSK name. kind: ``"length"`` (mm), ``"mass"`` (kg), ``"angle"``
    (degrees) or ``"flag"`` (0/1). measured: a measured quantity, for which 0 means absent.
    default: value used when no source gives one (None: no default). required: needed by the
    CGM1 kinematics. description: one line for reports and docs.
    """

    name: str
    kind: str
    measured: bool = False
    default: Optional[float] = None
    required: bool = False
    description: str = ""

    @property
    def unit(self) -> str:
        return KIND_UNITS[self.kind]


def _sided(stem: str, kind: str, **kw) -> tuple[ParameterSpec, ParameterSpec]:
    desc = kw.pop("description", "")
    return (ParameterSpec(f"Left{stem}", kind, description=f"left {desc}".strip(), **kw),
            ParameterSpec(f"Right{stem}", kind, description=f"right {desc}".strip(), **kw))


_SPECS: tuple[ParameterSpec, ...] = (
    ParameterSpec("Bodymass", "mass", measured=True, description="body mass"),
    ParameterSpec("Height", "length", measured=True, description="standing height"),
    *_sided("LegLength", "length", measured=True, required=True,
            description="leg length, ASIS to medial malleolus"),
    *_sided("KneeWidth", "length", measured=True, required=True, description="knee width"),
    *_sided("AnkleWidth", "length", measured=True, required=True, description="ankle (malleolar) width"),
    ParameterSpec("InterAsisDistance", "length", measured=True,
                  description="inter-ASIS distance (computed in the static trial when absent)"),
    *_sided("AsisTrocanterDistance", "length", measured=True,
            description="ASIS-trochanter distance (regression 0.1288*LegLength-48.56 when absent)"),
    ParameterSpec("MarkerDiameter", "length", measured=True, default=14.0,
                  description="marker diameter (processing option)"),
    *_sided("TibialTorsion", "angle", default=0.0, description="tibial torsion"),
    *_sided("ThighRotation", "angle", default=0.0, description="thigh rotation offset"),
    *_sided("ShankRotation", "angle", default=0.0, description="shank rotation offset"),
    *_sided("AnkleAbAdd", "angle", default=0.0,
            description="ankle ab/adduction offset of the ankle centre (medial-malleolus static)"),
    *_sided("SoleDelta", "length", default=0.0, description="sole delta (heel minus toe), flat-foot option"),
    *_sided("FootFlat", "flag", default=0.0, description="flat-foot option (1 = on)"),
    *_sided("StaticPlantFlex", "angle", description="static plantar-flexion offset (static calibration)"),
    *_sided("StaticRotOff", "angle", description="static rotation offset (static calibration)"),
)

#: canonical name -> spec, in VSK order
PARAMETERS: Mapping[str, ParameterSpec] = {s.name: s for s in _SPECS}
#: names needed by the CGM1 kinematics in every run
REQUIRED = tuple(s.name for s in _SPECS if s.required)
#: parameters produced by the static calibration
CALIBRATED = ("LeftStaticPlantFlex", "RightStaticPlantFlex", "LeftStaticRotOff", "RightStaticRotOff")
#: angular parameters whose unit depends on the source
ANGLES = tuple(s.name for s in _SPECS if s.kind == "angle")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", str(name)).lower()


def _build_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name in PARAMETERS:
        aliases[_key(name)] = name
        for long, short in (("Left", "L"), ("Right", "R")):
            if name.startswith(long):
                aliases[_key(short + name[len(long):])] = name
    aliases.update({"iad": "InterAsisDistance", "mass": "Bodymass", "bodyweight": "Bodymass"})
    return aliases


_ALIASES = _build_aliases()


def canonical_name(name: str) -> Optional[str]:
    """Canonical VSK name of a parameter name or alias, or None if unknown.

    >>> canonical_name("LLegLength"), canonical_name("marker diameter"), canonical_name("Left Foot Flat")
    ('LeftLegLength', 'MarkerDiameter', 'LeftFootFlat')
    """
    return _ALIASES.get(_key(name))


# ----------------------------------------------------------------------------------------
# one source
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubjectSource:
    """Values of one source, already converted to canonical units.

    label: the source as reported (e.g. ``"Test.vsk"``, ``"static PROCESSING of
    Static_trial.c3d (radians)"``, ``"--set"``). values: canonical name -> value. cleared:
    measured parameters explicitly cleared (``--set X=0``): they mask lower sources.
    notes: remarks worth reporting (expression-only parameters, unit decision ...).
    """

    label: str
    values: Mapping[str, float] = field(default_factory=dict)
    cleared: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    angle_unit: str = "degrees"


def _file_error(path: Path, detail: str) -> SubjectParameterError:
    """A SubjectParameterError about a whole subject file (no parameter named)."""
    exc = SubjectParameterError((), detail=detail, path=path)
    exc.reason = f"subject file {detail}"
    exc.args = (f"{path}: {exc.reason}",)
    return exc


def _to_float(value: object) -> Optional[float]:
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value).ravel()
        if arr.size == 0:
            return None
        value = arr[0]
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return v


def _check_value(name: str, value: float, label: str, path: Optional[Path] = None) -> None:
    spec = PARAMETERS[name]
    if not math.isfinite(value):
        raise SubjectParameterError([name], detail=f"is not a finite number ({value}) in {label}", path=path)
    if spec.kind in ("length", "mass") and spec.measured and value < 0:
        raise SubjectParameterError([name], detail=f"must not be negative ({value:g} {spec.unit}) in {label}", path=path)
    if spec.kind == "flag" and value not in (0.0, 1.0):
        raise SubjectParameterError([name], detail=f"must be 0 or 1, not {value:g}, in {label}", path=path)


def make_source(label: str, raw: Mapping[str, object], angle_unit: str = "degrees",
                zero_clears: bool = False, path: Optional[Path] = None,
                notes: Sequence[str] = ()) -> SubjectSource:
    """Build a :class:`SubjectSource` from raw name -> value pairs.

    Parameters
    ----------
    label: the source as reported.
    raw: names (canonical or alias) -> numbers (or numeric strings); unknown names ignored.
    angle_unit: ``"degrees"`` or ``"radians"``: the unit of the angular parameters in ``raw``.
    zero_clears: 0 for a measured quantity clears it (``--set``) instead of being absent.
    path: the subject file read (None for C3D PROCESSING groups); a known parameter whose
        value in a file is not a number raises SubjectParameterError naming it.
    """
    values: dict[str, float] = {}
    cleared: list[str] = []
    for raw_name, raw_value in raw.items():
        name = canonical_name(raw_name)
        if name is None:
            continue
        v = _to_float(raw_value)
        if v is None:
            if path is not None and str(raw_value).strip():
                # a typo in a subject file must not silently let a lower source win
                raise SubjectParameterError([name], detail=f"is not a number ({str(raw_value)!r}) in {label}",
                                            path=path)
            continue
        spec = PARAMETERS[name]
        _check_value(name, v, label, path)
        if spec.measured and v == 0.0:
            if zero_clears:
                cleared.append(name)
            continue
        if spec.kind == "angle" and angle_unit == "radians":
            v = math.degrees(v)
        values[name] = v
    return SubjectSource(label, values, tuple(cleared), tuple(notes), angle_unit)


def processing_angle_unit(trial: Trial) -> str:
    """``"degrees"`` or ``"radians"``: unit of the angles in a trial's PROCESSING group.

    Degrees when ``MANUFACTURER:SOFTWARE`` (or the manufacturer) names Vicon Workstation
    or the group has ``Marker Diameter``; radians otherwise (Vicon Nexus).
    """
    sw = f"{trial.software} {trial.manufacturer}".lower()
    if "workstation" in sw:
        return "degrees"
    if any(_key(k) == "markerdiameter" for k in trial.processing):
        return "degrees"
    return "radians"


def from_processing(trial: Trial, role: str = "dynamic") -> SubjectSource:
    """The subject parameters in a trial's PROCESSING group (``role``: dynamic/static)."""
    unit = processing_angle_unit(trial)
    fname = trial.path.name if trial.path is not None else trial.name
    label = f"{role} PROCESSING of {fname} ({unit})"
    why = ("MANUFACTURER names Workstation or the group has 'Marker Diameter'" if unit == "degrees"
           else "Nexus convention")
    notes = (f"{label}: angles read as {unit} ({why})",) if trial.processing else ()
    return make_source(label, trial.processing, angle_unit=unit, path=trial.path, notes=notes)


# ----------------------------------------------------------------------------------------
# subject files
# ----------------------------------------------------------------------------------------

def read_vsk(path: Union[str, Path]) -> SubjectSource:
    """Read a Vicon Nexus ``.vsk`` (XML) subject file; angles are radians.

    Both ``<Parameter NAME= VALUE=/>`` and the older ``<StaticParameter .../>`` are read.
    A parameter with an EXPRESSION but no VALUE is absent (a note says so).
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise _file_error(path, f"cannot be read: not a valid VSK XML file ({exc})") from exc
    raw: dict[str, object] = {}
    notes: list[str] = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1]
        if tag not in ("Parameter", "StaticParameter"):
            continue
        name = el.get("NAME")
        if not name or canonical_name(name) is None:
            continue
        value = el.get("VALUE")
        if value is None or not value.strip():
            if el.get("EXPRESSION"):
                notes.append(f"{path.name}: {name} has only an expression "
                             f"({el.get('EXPRESSION')}), no value: treated as absent")
            continue
        raw[name] = value
    return make_source(path.name, raw, angle_unit="radians", path=path, notes=notes)


_MP_LINE = re.compile(r"^\s*\$\s*([^=]+?)\s*=\s*([^\s;#]+)")


def read_mp(path: Union[str, Path]) -> SubjectSource:
    """Read a Vicon Workstation ``.mp`` subject file (``$Name = value`` lines); degrees."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise _file_error(path, f"cannot be read ({exc})") from exc
    raw = {m.group(1): m.group(2) for m in map(_MP_LINE.match, text.splitlines()) if m}
    if not raw:
        raise _file_error(path, "has no '$Name = value' lines: not a Workstation .mp file")
    return make_source(path.name, raw, angle_unit="degrees", path=path)


def read_subject_json(path: Union[str, Path]) -> SubjectSource:
    """Read a JSON subject file: ``{"LeftLegLength": 877, ...}`` (or under ``"parameters"``); degrees."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _file_error(path, f"cannot be read as JSON ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("parameters"), dict):
        data = data["parameters"]
    if not isinstance(data, dict):
        raise _file_error(path, "must hold a JSON object of name: value")
    flat: dict[str, object] = {}
    for k, v in data.items():
        flat[k] = v.get("value") if isinstance(v, dict) else v
    bad = [k for k, v in flat.items() if canonical_name(k) and v is not None and _to_float(v) is None]
    if bad:
        raise SubjectParameterError(bad, detail="must be numbers", path=path)
    return make_source(path.name, flat, angle_unit="degrees", path=path)


def read_subject_file(path: Union[str, Path]) -> SubjectSource:
    """Read a subject file by its extension: ``.vsk``/``.vst`` XML, ``.mp``/``.mkr``-free text, ``.json``."""
    path = Path(path)
    if not path.is_file():
        raise _file_error(path, "not found")
    ext = path.suffix.lower()
    if ext in (".vsk", ".vst", ".xml"):
        return read_vsk(path)
    if ext == ".mp":
        return read_mp(path)
    if ext == ".json":
        return read_subject_json(path)
    raise _file_error(path, f"unknown subject file type {ext!r} (use .vsk, .mp or .json)")


# ----------------------------------------------------------------------------------------
# --set
# ----------------------------------------------------------------------------------------

def parse_set_options(options: Iterable[str]) -> dict[str, float]:
    """Parse ``["Name=Value", ...]`` into canonical name -> value (degrees for angles).

    Aliases are accepted (``LLegLength=880``, ``"Marker Diameter=16"``). Unknown names or
    non-numeric values raise :class:`SubjectParameterError`.
    """
    out: dict[str, float] = {}
    for opt in options or ():
        if "=" not in opt:
            raise SubjectParameterError([opt], detail="must be given as Name=Value", searched=("--set",))
        raw_name, raw_value = opt.split("=", 1)
        name = canonical_name(raw_name)
        if name is None:
            known = ", ".join(PARAMETERS)
            raise SubjectParameterError([raw_name.strip()], detail=f"is not a known parameter (known: {known})",
                                        searched=("--set",))
        v = _to_float(raw_value)
        if v is None:
            raise SubjectParameterError([name], detail=f"value {raw_value.strip()!r} is not a number",
                                        searched=("--set",))
        _check_value(name, v, "--set")
        out[name] = v
    return out


def overrides_source(overrides: Union[Mapping[str, float], Sequence[str], None],
                     label: str = "--set") -> Optional[SubjectSource]:
    """A source from ``--set`` overrides (dict or ``Name=Value`` strings); degrees; 0 clears."""
    if not overrides:
        return None
    if not isinstance(overrides, Mapping):
        overrides = parse_set_options(overrides)
    return make_source(label, overrides, angle_unit="degrees", zero_clears=True)


# ----------------------------------------------------------------------------------------
# precedence
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SubjectResolution:
    """The resolved subject with where it was looked for.

    subject: the merged parameters. searched: labels of the sources, lowest precedence
    first. notes: remarks from the sources (unit decisions, expression-only values).
    defaults: names that took their default value.
    """

    subject: SubjectParameters
    searched: tuple[str, ...]
    notes: tuple[str, ...] = ()
    defaults: tuple[str, ...] = ()

    def require(self, names: Iterable[str] = REQUIRED, what: str = "") -> None:
        """Raise :class:`SubjectParameterError` naming every absent parameter of ``names``."""
        require_parameters(self.subject, names, self.searched, what)


def merge_sources(sources: Sequence[SubjectSource], base: Optional[SubjectParameters] = None,
                  defaults: bool = True) -> tuple[SubjectParameters, tuple[str, ...]]:
    """Merge sources (lowest precedence first) on top of ``base``; returns (subject, defaulted names)."""
    values: dict[str, ParameterValue] = dict(base.values) if base is not None else {}
    for src in sources:
        for name in src.cleared:
            values.pop(name, None)
        for name, v in src.values.items():
            values[name] = ParameterValue(name, float(v), PARAMETERS[name].unit, src.label)
    used_defaults = []
    if defaults:
        for spec in _SPECS:
            if spec.default is not None and spec.name not in values:
                values[spec.name] = ParameterValue(spec.name, spec.default, spec.unit, "default")
                used_defaults.append(spec.name)
    ordered = {n: values[n] for n in PARAMETERS if n in values}
    return SubjectParameters(ordered), tuple(used_defaults)


def _as_trial(obj: Union[Trial, str, Path, None]) -> Optional[Trial]:
    if obj is None or isinstance(obj, Trial):
        return obj
    from core.io.c3d import read_c3d  # local: the C3D reader is only needed for paths
    return read_c3d(Path(obj))


TrialOrPath = Union[Trial, str, Path]


def _dynamic_sources(dynamic: Union[TrialOrPath, Sequence[TrialOrPath], None]) -> list[SubjectSource]:
    """PROCESSING sources of one dynamic trial or several, lowest precedence first: of
    several, the first given wins (it is appended last); a note names each parameter on
    which they disagree."""
    if dynamic is None:
        return []
    items = [dynamic] if isinstance(dynamic, (Trial, str, Path)) else list(dynamic)
    sources = [from_processing(_as_trial(d), "dynamic") for d in items]
    first = sources[0] if sources else None
    for src in sources[1:]:
        differ = [f"{n} {first.values[n]:g} vs {v:g}" for n, v in src.values.items()
                  if n in first.values and abs(first.values[n] - v) > 1e-6 * max(1.0, abs(v))]
        if differ:
            note = (f"{first.label} and {src.label} disagree ({'; '.join(differ)}): "
                    f"the first given was used")
            sources[0] = replace(first, notes=first.notes + (note,))
            first = sources[0]
    return sources[::-1]


def collect_sources(dynamic: Union[TrialOrPath, Sequence[TrialOrPath], None] = None,
                    static: Union[Trial, str, Path, None] = None,
                    subject_file: Union[str, Path, SubjectSource, None] = None,
                    overrides: Union[Mapping[str, float], Sequence[str], None] = None) -> list[SubjectSource]:
    """The sources that exist, lowest precedence first (``dynamic``: one trial or several,
    see :func:`_dynamic_sources`)."""
    sources: list[SubjectSource] = _dynamic_sources(dynamic)
    sta = _as_trial(static)
    if sta is not None:
        sources.append(from_processing(sta, "static"))
    if subject_file is not None:
        sources.append(subject_file if isinstance(subject_file, SubjectSource) else read_subject_file(subject_file))
    ov = overrides_source(overrides)
    if ov is not None:
        sources.append(ov)
    return sources


def resolve_subject_report(dynamic: Union[TrialOrPath, Sequence[TrialOrPath], None] = None,
                           static: Union[Trial, str, Path, None] = None,
                           subject_file: Union[str, Path, SubjectSource, None] = None,
                           overrides: Union[Mapping[str, float], Sequence[str], None] = None,
                           defaults: bool = True) -> SubjectResolution:
    """Resolve the subject parameters and report where they were looked for.

    Precedence, lowest to highest: dynamic PROCESSING, static PROCESSING, subject file,
    overrides. See the module docstring for units and absent values.
    """
    sources = collect_sources(dynamic, static, subject_file, overrides)
    subject, used = merge_sources(sources, defaults=defaults)
    notes = tuple(n for s in sources for n in s.notes)
    return SubjectResolution(subject, tuple(s.label for s in sources), notes, used)


def resolve_subject(dynamic: Union[Trial, str, Path, None] = None,
                    static: Union[Trial, str, Path, None] = None,
                    subject_file: Union[str, Path, SubjectSource, None] = None,
                    overrides: Union[Mapping[str, float], Sequence[str], None] = None,
                    defaults: bool = True) -> SubjectParameters:
    """Resolved :class:`SubjectParameters` (canonical names, mm / kg / degrees / 0-1 flags).

    Parameters
    ----------
    dynamic, static: trials (or C3D paths) whose PROCESSING groups are sources.
    subject_file: ``.vsk``, ``.mp`` or ``.json`` path.
    overrides: ``{"Name": value}`` or ``["Name=Value"]`` (degrees for angles).
    defaults: fill MarkerDiameter (14 mm), rotations/torsion (0), SoleDelta (0) and the
        flat-foot flags (0) where no source gives them, with source ``"default"``.

    Raises
    ------
    SubjectParameterError: an invalid value (negative length, flag not 0/1, unknown
        ``--set`` name) or an unreadable subject file.
    """
    return resolve_subject_report(dynamic, static, subject_file, overrides, defaults).subject


def require_parameters(subject: SubjectParameters, names: Iterable[str] = REQUIRED,
                       searched: Sequence[str] = (), what: str = "") -> None:
    """Raise one :class:`SubjectParameterError` naming every parameter of ``names`` absent in ``subject``."""
    missing = [n for n in names if n not in subject]
    if missing:
        detail = f"missing{' for ' + what if what else ''}"
        raise SubjectParameterError(missing, searched=tuple(searched) or ("no source given",), detail=detail)


def format_subject(subject: SubjectParameters) -> list[str]:
    """One line per value: ``name  value unit  (source)``, for the command line and logs."""
    lines = []
    for name, p in subject.values.items():
        val = f"{int(p.value)}" if p.unit == "flag" else f"{p.value:.4f}".rstrip("0").rstrip(".")
        lines.append(f"{name:<28} {val:>12} {p.unit:<4} ({p.source})")
    return lines


__all__ = [
    "PARAMETERS", "REQUIRED", "CALIBRATED", "ANGLES", "ParameterSpec", "SubjectSource", "SubjectResolution",
    "canonical_name", "make_source", "processing_angle_unit", "from_processing", "read_vsk", "read_mp",
    "read_subject_json", "read_subject_file", "parse_set_options", "overrides_source", "merge_sources",
    "collect_sources", "resolve_subject", "resolve_subject_report", "require_parameters", "format_subject",
]
