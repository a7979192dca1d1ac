"""Normative gait curves (normal bands): the shipped sets and a lab's own.

A normative set gives, per kinematic variable (keys of :mod:`core.variables`, e.g.
``"KneeAngles.y"``), the mean and standard deviation over the gait cycle at the set's own
percent points (Schwartz 2008: 51 points, every 2 % from 0 to 100). :meth:`Band.at`
interpolates linearly to any grid; the cycle grid of Genu Lab is ``CYCLE_GRID`` (101 samples,
0, 1, ..., 100 % of the cycle).

Shipped sets: ``pinzone2014_centre1`` / ``pinzone2014_centre2`` (Pinzone et al. 2014, Gait
Posture 40:286-290, two gait services, children and adolescents, nine kinematic variables,
no speed classes) and Schwartz MH, Rozumalski A, Trost JP (2008) "The effect of walking speed on the
gait of typically developing children", J Biomech 41(8):1639-1650, in five speed classes of
dimensionless speed v / sqrt(g L) (L = leg length): VerySlow 0.17, Slow 0.29, Free 0.43,
Fast 0.56, VeryFast 0.69 (class means). Its population is **typically developing children**;
always show :attr:`NormativeSet.population` and :attr:`NormativeSet.citation` with a band.

Channels that have no data in a source are *absent* (``band(key)`` returns ``None``), never a
band at zero. Lab sets are read by :func:`load_lab_normative` (formats in docs/normative.md).
"""
from __future__ import annotations

import csv
import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Optional, Sequence

import numpy as np

from core.errors import NormativeDataError
from core.resources import resource_path
from core.model import SIDES
from core.model import readonly_array as _ro

FORMAT = "genulab-normative/1"
CYCLE_GRID = np.linspace(0.0, 100.0, 101)
GRAVITY_M_S2 = 9.81
DEFAULT_SET = "schwartz2008"
DEFAULT_SPEED_CLASS = "Free"
#: Schwartz 2008 class means of dimensionless speed (ANOVA sheet of the supplementary data)
SCHWARTZ_SPEED_CLASSES: Mapping[str, float] = MappingProxyType(
    {"VerySlow": 0.17, "Slow": 0.29, "Free": 0.43, "Fast": 0.56, "VeryFast": 0.69})




@dataclass(frozen=True)
class Band:
    """Mean and SD of one variable over the gait cycle.

    Attributes
    ----------
    percent: ``(N,)`` percent of the gait cycle, strictly increasing, within 0..100.
    mean: ``(N,)`` mean curve (degrees for angles).
    sd: ``(N,)`` standard deviation (>= 0), same unit.
    unit: unit of mean and sd.
    """

    percent: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    unit: str = "deg"

    def __post_init__(self) -> None:
        p, m, s = _ro(self.percent), _ro(self.mean), _ro(self.sd)
        if p.ndim != 1 or m.shape != p.shape or s.shape != p.shape or p.size < 2:
            raise NormativeDataError(f"band needs equal 1-D percent/mean/sd of >= 2 points, got {p.shape}, {m.shape}, {s.shape}")
        if not np.all(np.isfinite(p)) or np.any(np.diff(p) <= 0):
            raise NormativeDataError("band percent must be finite and strictly increasing")
        if p[0] < 0 or p[-1] > 100:
            raise NormativeDataError(f"band percent must lie within 0..100, got {p[0]}..{p[-1]}")
        if np.any(s[np.isfinite(s)] < 0):
            raise NormativeDataError("band SD must not be negative")
        object.__setattr__(self, "percent", p)
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "sd", s)

    def at(self, percent_grid: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and SD linearly interpolated to ``percent_grid``.

        Parameters
        ----------
        percent_grid: ``(K,)`` percent of cycle; default ``CYCLE_GRID`` (101 samples, 0..100).
            Points outside the band's own range are NaN (no extrapolation).

        Returns
        -------
        mean, sd: ``(K,)`` each.
        """
        g = CYCLE_GRID if percent_grid is None else np.asarray(percent_grid, dtype=float)
        mean = np.interp(g, self.percent, self.mean, left=np.nan, right=np.nan)
        sd = np.interp(g, self.percent, self.sd, left=np.nan, right=np.nan)
        return mean, sd


@dataclass(frozen=True)
class NormativeSet:
    """One normative set at one speed class.

    Attributes
    ----------
    name: identifier (``"schwartz2008"`` or the lab set's name).
    citation: full reference, shown with every band.
    population: e.g. ``"typically developing children"``; shown with every band.
    speed_class: ``"VerySlow"``..``"VeryFast"`` for Schwartz 2008, ``""`` when the set has none.
    bands: variable key -> :class:`Band`; absent channels are not in the mapping.
    source: where the numbers come from (file, conversion).
    dimensionless_speed: class mean of v / sqrt(g L), NaN when unknown.
    title: short display name.
    cycle_events_pct: class-mean timing of cycle events in % of the cycle (``foot_off_pct``,
        ``opposite_foot_off_pct``, ``opposite_foot_strike_pct``, ``double_support_pct``);
        empty when the set has none.
    age_min_years, age_max_years: age range of the population (years); NaN when not stated.
    n_subjects: number of subjects behind the set; 0 when not stated.
    licence: terms under which the numbers are distributed ("" when not stated).
    """

    name: str
    citation: str
    population: str
    speed_class: str
    bands: Mapping[str, Band]
    source: str = ""
    dimensionless_speed: float = float("nan")
    title: str = ""
    cycle_events_pct: Mapping[str, float] = field(default_factory=dict)
    age_min_years: float = float("nan")
    age_max_years: float = float("nan")
    n_subjects: int = 0
    licence: str = ""

    def __post_init__(self) -> None:
        lo, hi = float(self.age_min_years), float(self.age_max_years)
        if math.isfinite(lo) and math.isfinite(hi) and lo > hi:
            raise NormativeDataError(f"normative set {self.name!r}: age range {lo:g}-{hi:g} years is reversed")
        if int(self.n_subjects) < 0:
            raise NormativeDataError(f"normative set {self.name!r}: number of subjects must be >= 0")
        object.__setattr__(self, "age_min_years", lo)
        object.__setattr__(self, "age_max_years", hi)
        object.__setattr__(self, "n_subjects", int(self.n_subjects))
        object.__setattr__(self, "bands", MappingProxyType(dict(self.bands)))
        object.__setattr__(self, "cycle_events_pct", MappingProxyType(
            {str(k): float(v) for k, v in self.cycle_events_pct.items()}))

    def band(self, key: str) -> Optional[Band]:
        """The band of a variable key (``"KneeAngles.y"``), or None where the set has no data."""
        return self.bands.get(key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.bands)

    def age_text(self) -> str:
        """The age range as printed, e.g. ``"4-17 y"``, ``"from 18 y"``, or ``"age range not stated"``."""
        lo, hi = self.age_min_years, self.age_max_years
        if math.isfinite(lo) and math.isfinite(hi):
            return f"{lo:g}-{hi:g} y"
        if math.isfinite(lo):
            return f"from {lo:g} y"
        if math.isfinite(hi):
            return f"up to {hi:g} y"
        return "age range not stated"

    def covers_age(self, age_years: Optional[float]) -> Optional[bool]:
        """Whether an age (years) lies inside the set's age range; None when either is unknown.

        A stated maximum covers the whole year (a set of 4-17 y covers 17.9 y).
        """
        lo, hi = self.age_min_years, self.age_max_years
        if age_years is None or not math.isfinite(float(age_years)) or not (math.isfinite(lo) or math.isfinite(hi)):
            return None
        a = float(age_years)
        return (not math.isfinite(lo) or a >= lo) and (not math.isfinite(hi) or a < hi + 1.0)

    def label(self) -> str:
        """One-line description to print with a band, e.g. in a report legend."""
        cls = f", {self.speed_class} speed" if self.speed_class else ""
        return f"{self.title or self.name}{cls} ({self.population}) - {self.citation}"


# ----------------------------------------------------------------------------------------
def available_normative_sets() -> tuple[str, ...]:
    """Names of the normative sets shipped in ``resources/normative`` (e.g. ``("schwartz2008",)``)."""
    folder = resource_path("normative")
    return tuple(sorted(p.stem for p in Path(folder).glob("*.json")))


def _canonical_class(name: str, classes) -> str:
    want = str(name).replace(" ", "").replace("_", "").replace("-", "").lower()
    for c in classes:
        if c.lower() == want:
            return c
    raise NormativeDataError(f"speed class {name!r} not in this set (available: {', '.join(classes)})")


def _bands_from_json(variables: Mapping, percent, path) -> dict[str, Band]:
    bands = {}
    for key, v in variables.items():
        if not isinstance(v, Mapping) or "mean" not in v or "sd" not in v:
            raise NormativeDataError(f"variable {key!r} needs 'mean' and 'sd' lists", path)
        p = v.get("percent", percent)
        if p is None:
            raise NormativeDataError(f"variable {key!r}: no 'percent' grid given", path)
        try:
            band = Band(np.asarray(p, float), np.asarray(v["mean"], float), np.asarray(v["sd"], float),
                        str(v.get("unit", "deg")))
        except NormativeDataError as exc:
            raise NormativeDataError(f"variable {key!r}: {exc.reason}", path) from None
        except (TypeError, ValueError) as exc:
            raise NormativeDataError(f"variable {key!r}: non-numeric values ({exc})", path) from None
        bands[str(key)] = band
    if not bands:
        raise NormativeDataError("the set holds no variables", path)
    return bands


def _set_from_dict(doc: Mapping, speed_class: Optional[str], path) -> NormativeSet:
    """Build a NormativeSet from the resource/lab JSON structure (docs/normative.md)."""
    if not isinstance(doc, Mapping):
        raise NormativeDataError("top level must be a JSON object", path)
    for k in ("name", "citation", "population"):
        if not str(doc.get(k, "")).strip():
            raise NormativeDataError(f"missing metadata field {k!r}", path)
    percent = doc.get("percent")
    classes = doc.get("speed_classes")
    cls_name, speed, events = "", float("nan"), doc.get("cycle_events_pct") or {}
    if classes:
        default = doc.get("default_speed_class") or (DEFAULT_SPEED_CLASS if DEFAULT_SPEED_CLASS in classes else next(iter(classes)))
        cls_name = _canonical_class(speed_class or default, list(classes))
        entry = classes[cls_name]
        variables = entry.get("variables", {})
        speed = float(entry.get("dimensionless_speed", float("nan")))
        events = entry.get("cycle_events_pct") or events
    elif "variables" in doc:
        variables = doc["variables"]  # a set without speed classes ignores the requested class
    else:
        raise NormativeDataError("expected 'variables' or 'speed_classes'", path)
    bands = _bands_from_json(variables, percent, path)
    lo, hi, n = _population_numbers(doc, path)
    try:
        return NormativeSet(name=str(doc["name"]), citation=str(doc["citation"]), population=str(doc["population"]),
                            speed_class=cls_name, bands=bands, source=str(doc.get("source", path or "")),
                            dimensionless_speed=speed, title=str(doc.get("title", doc["name"])),
                            cycle_events_pct=_events(events, path), age_min_years=lo, age_max_years=hi,
                            n_subjects=n, licence=str(doc.get("licence", "") or ""))
    except NormativeDataError as exc:
        raise NormativeDataError(exc.reason, path) from None


def _population_numbers(doc: Mapping, path) -> tuple[float, float, int]:
    """(age_min_years, age_max_years, n_subjects) of a set's metadata; NaN / 0 where not stated.

    JSON: ``"age_range_years": [min, max]`` (either may be null) and ``"n_subjects"``; lab CSV
    metadata lines ``# age_min_years:``, ``# age_max_years:``, ``# n_subjects:``.
    """
    rng = doc.get("age_range_years")
    lo, hi = doc.get("age_min_years"), doc.get("age_max_years")
    if rng is not None:
        if not isinstance(rng, Sequence) or isinstance(rng, str) or len(rng) != 2:
            raise NormativeDataError("'age_range_years' must be [min, max] in years", path)
        lo, hi = rng
    try:
        vals = [float("nan") if v in (None, "") else float(v) for v in (lo, hi)]
        n = int(float(doc.get("n_subjects") or 0))
    except (TypeError, ValueError):
        raise NormativeDataError("age range and number of subjects must be numbers", path) from None
    if any(math.isfinite(v) and not 0 <= v <= 120 for v in vals):
        raise NormativeDataError(f"age range {vals[0]:g}-{vals[1]:g} years is not plausible", path)
    return vals[0], vals[1], n


def _events(events, path) -> dict[str, float]:
    if not isinstance(events, Mapping):
        raise NormativeDataError("'cycle_events_pct' must be an object of name: percent", path)
    try:
        return {str(k): float(v) for k, v in events.items()}
    except (TypeError, ValueError):
        raise NormativeDataError("'cycle_events_pct' values must be numbers (percent of cycle)", path) from None


def _read_json(path: Path) -> Mapping:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NormativeDataError("normative file not found", path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NormativeDataError(f"not a readable JSON normative file ({exc})", path) from None


@functools.lru_cache(maxsize=32)
def load_normative(name: str = DEFAULT_SET, speed_class: Optional[str] = None) -> NormativeSet:
    """A shipped normative set at one speed class.

    Parameters
    ----------
    name: set name, one of :func:`available_normative_sets`.
    speed_class: ``"VerySlow"``, ``"Slow"``, ``"Free"``, ``"Fast"``, ``"VeryFast"`` (case and
        spaces ignored); None = the set's default (``"Free"``). Use :func:`choose_speed_class`
        to pick the class from the patient's speed. Ignored by sets without speed classes
        (Pinzone 2014, lab sets): their ``speed_class`` is ``""``.
    """
    if name not in available_normative_sets():
        raise NormativeDataError(f"unknown normative set {name!r} (available: {', '.join(available_normative_sets())})")
    path = resource_path("normative", f"{name}.json")
    return _set_from_dict(_read_json(path), speed_class, path)


def speed_classes(name: str = DEFAULT_SET) -> Mapping[str, float]:
    """Speed class -> class-mean dimensionless speed of a shipped set (empty if it has none)."""
    doc = _read_json(resource_path("normative", f"{name}.json"))
    return {c: float(v.get("dimensionless_speed", float("nan"))) for c, v in (doc.get("speed_classes") or {}).items()}


def dimensionless_speed(speed_m_s: float, leg_length_mm: float) -> float:
    """Dimensionless walking speed v / sqrt(g L) (Hof 1996), L = leg length in metres."""
    if not (leg_length_mm and leg_length_mm > 0) or not math.isfinite(speed_m_s):
        return float("nan")
    return float(speed_m_s / math.sqrt(GRAVITY_M_S2 * leg_length_mm / 1000.0))


def choose_speed_class(dimensionless_speed_value: float,
                       classes: Mapping[str, float] = SCHWARTZ_SPEED_CLASSES) -> str:
    """The speed class whose mean dimensionless speed is closest to the patient's.

    Parameters
    ----------
    dimensionless_speed_value: v / sqrt(g L) of the patient (see :func:`dimensionless_speed`).
    classes: class name -> class mean (default Schwartz 2008).

    Returns
    -------
    The class name; ``"Free"`` (the default class) when the speed is not finite.
    """
    v = float(dimensionless_speed_value)
    if not math.isfinite(v):
        return DEFAULT_SPEED_CLASS if DEFAULT_SPEED_CLASS in classes else next(iter(classes))
    names = list(classes)
    means = np.array([classes[n] for n in names], dtype=float)
    return names[int(np.argmin(np.abs(means - v)))]


# ----------------------------------------------------------------------------------------
def load_lab_normative(path: Path | str) -> NormativeSet:
    """Read a lab's own normative set from CSV or JSON (formats in docs/normative.md).

    CSV: ``#`` metadata lines ``# name: ...``, ``# citation: ...``, ``# population: ...``
    (optional ``# source:``, ``# title:``, ``# age_min_years:``, ``# age_max_years:``,
    ``# n_subjects:``, ``# licence:``), then a header ``variable,percent,mean,sd`` (an
    optional ``unit`` column) and one row per variable and percent point.
    JSON: the resource format (``genulab-normative/1``) with ``variables`` or ``speed_classes``.

    Raises
    ------
    NormativeDataError naming the file, line and problem for any malformed input.
    """
    path = Path(path)
    if not path.is_file():
        raise NormativeDataError("normative file not found", path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _set_from_dict(_read_json(path), None, path)
    if suffix in (".csv", ".txt"):
        return _read_lab_csv(path)
    raise NormativeDataError("normative file must be .csv or .json", path)


def _read_lab_csv(path: Path) -> NormativeSet:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise NormativeDataError(f"cannot read ({exc})", path) from None
    meta: dict[str, str] = {}
    body: list[tuple[int, str]] = []
    for no, line in enumerate(lines, start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            k, sep, v = s.lstrip("#").partition(":")
            if sep:
                meta[k.strip().lower()] = v.strip()
            continue
        body.append((no, line))
    if not body:
        raise NormativeDataError("no header line 'variable,percent,mean,sd'", path)
    rows = list(csv.reader([l for _, l in body]))
    header = [h.strip().lower() for h in rows[0]]
    need = ("variable", "percent", "mean", "sd")
    if any(h not in header for h in need):
        raise NormativeDataError(f"line {body[0][0]}: header must contain {', '.join(need)}, got {', '.join(header)}", path)
    col = {h: header.index(h) for h in header}
    data: dict[str, dict[str, list]] = {}
    for (no, _), row in zip(body[1:], rows[1:]):
        if len(row) < len(header):
            raise NormativeDataError(f"line {no}: expected {len(header)} columns, got {len(row)}", path)
        try:
            key = row[col["variable"]].strip()
            vals = [float(row[col[h]]) for h in ("percent", "mean", "sd")]
        except ValueError:
            raise NormativeDataError(f"line {no}: percent, mean and sd must be numbers", path) from None
        d = data.setdefault(key, {"percent": [], "mean": [], "sd": [], "unit": "deg"})
        for h, v in zip(("percent", "mean", "sd"), vals):
            d[h].append(v)
        if "unit" in col and row[col["unit"]].strip():
            d["unit"] = row[col["unit"]].strip()
    for d in data.values():  # rows of a variable may come in any order
        order = np.argsort(d["percent"], kind="stable")
        for h in ("percent", "mean", "sd"):
            d[h] = list(np.asarray(d[h])[order])
    doc = {k: meta.get(k, "") for k in ("name", "citation", "population", "title", "licence",
                                         "age_min_years", "age_max_years", "n_subjects")}
    doc["source"] = meta.get("source") or str(path.name)
    doc["variables"] = data
    return _set_from_dict(doc, None, path)


def choose_normative(settings, walking: Sequence, normative=None, name: Optional[str] = None, loader=None):
    """The normative set and the spatio-temporal summary of the walking trials.

    settings: ``core.analysis.types.AnalysisSettings``; walking: processed walking trials;
    normative: a set to use as is; name: the set to load (default ``settings.normative``, and
    ``DEFAULT_SET`` when that is None; ``""`` = no set); loader: ``loader(name, speed_class)``
    (default :func:`load_normative`; :func:`core.analysis.norm_choice.load_any` also reads
    lab sets and files). Which set applies to a patient is decided by
    :mod:`core.analysis.norm_choice`.

    Speed class: ``settings.speed_class`` or the class closest to the patient's mean
    dimensionless speed v / sqrt(g L) (Schwartz et al. 2008), L = mean leg length.
    """
    from core.analysis.spatiotemporal import pool_spatiotemporal, spatiotemporal
    st = None
    if walking:
        st = pool_spatiotemporal([spatiotemporal(p.events or p.trial.events, p.trial) for p in walking])
    if name is None:
        name = DEFAULT_SET if settings.normative is None else settings.normative
    if normative is not None or not name:
        return normative, st
    cls = settings.speed_class
    if cls is None:
        speed = st.overall()["speed_m_s"] if st is not None else math.nan
        legs = [p.subject.get(f"{s}LegLength") for p in walking[:1] for s in SIDES
                if getattr(p, "subject", None) is not None]
        legs = [x for x in legs if x]
        cls = choose_speed_class(dimensionless_speed(speed, float(np.mean(legs)) if legs else math.nan))
    return (loader or load_normative)(name, cls), st
