"""Marker sets as data: which labels a model needs, and the spellings labs use for them.

Definitions live in ``resources/markersets/<name>.json`` (see docs/io.md for the format):
required markers, markers needed for the static trial only, the rear-pelvis options
(SACR, or both PSIS), optional markers (KAD, medial knee and ankle) and aliases
(``L.ASIS``, ``LASIS``, ``l asis``, Helen Hayes names such as ``V.Sacral`` or ``L.Knee``).
A lab can add its own names with a label map, a JSON object ``{"lab label": "PiG label"}``.

Labels are compared case-insensitively after removing spaces, dots, underscores and
hyphens and turning a leading ``left``/``right`` into ``l``/``r``.

The Plug-in Gait lower-body marker placement follows Davis et al. 1991 (*A gait analysis
data collection and reduction technique*, Hum Mov Sci 10:575-587) and the Vicon
Plug-in Gait reference guide.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from core.errors import GenuError, MissingMarkersError
from core.model import Trial
from core.resources import resource_path


def label_key(label: str) -> str:
    """Comparison key of a label: lower case, no spaces/dots/underscores/hyphens,
    leading ``left``/``right`` -> ``l``/``r``."""
    k = re.sub(r"[\s._\-:]+", "", str(label).strip().lower())
    for word, letter in (("left", "l"), ("right", "r")):
        if k.startswith(word) and len(k) > len(word):
            return letter + k[len(word):]
    return k


@dataclass(frozen=True)
class MarkerSet:
    """A marker set definition.

    Attributes
    ----------
    name, title: identifier and display name.
    required: markers every trial needs (canonical names).
    required_static: markers needed only in the static trial (e.g. heels).
    rear_pelvis: option name -> markers; one option must be complete
        (``{"SACR": ("SACR",), "PSIS": ("LPSI", "RPSI")}``).
    optional: markers used when present (KAD, medial markers).
    aliases: label key (see :func:`label_key`) -> canonical name.
    """

    name: str
    title: str
    required: tuple[str, ...]
    required_static: tuple[str, ...] = ()
    rear_pelvis: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    @property
    def canonical(self) -> tuple[str, ...]:
        """Every canonical name of the set."""
        names = list(self.required) + list(self.required_static) + list(self.optional)
        for markers in self.rear_pelvis.values():
            names += list(markers)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class MarkerSetMatch:
    """How a trial's labels match a marker set.

    present: canonical names found (with at least one valid sample);
    missing_required: required names absent (for the static or dynamic case asked), the
    rear pelvis given as ``"SACR or LPSI+RPSI"``; missing_optional: optional names absent;
    rear_pelvis: ``"SACR"``, ``"PSIS"`` or None; renamed: trial label -> canonical name for
    labels that matched through an alias or the label map; recognised: True when at least
    half of the required markers are present.
    """

    name: str
    present: tuple[str, ...]
    missing_required: tuple[str, ...]
    missing_optional: tuple[str, ...]
    rear_pelvis: Optional[str]
    renamed: Mapping[str, str] = field(default_factory=dict)
    recognised: bool = False


def _expand(template: str, sides: list[str]) -> list[tuple[str, str]]:
    """``'{S}ASI'`` -> [('L', 'LASI'), ('R', 'RASI')]; no placeholder -> [('', name)]."""
    if "{S}" not in template:
        return [("", template)]
    return [(s, template.replace("{S}", s)) for s in sides]


def marker_set_from_dict(d: dict, source: str = "") -> MarkerSet:
    """Build a MarkerSet from its JSON form (see docs/io.md)."""
    try:
        sides = list(d.get("sides", ["L", "R"]))
        aliases: dict[str, str] = {}
        for canon_t, alias_list in d.get("aliases", {}).items():
            for side, canon in _expand(canon_t, sides):
                aliases[label_key(canon)] = canon
                for a in alias_list:
                    aliases.setdefault(label_key(a.replace("{S}", side)), canon)
        for name in d["required"] + d.get("required_static", []) + d.get("optional", []):
            aliases.setdefault(label_key(name), name)
        rear = {k: tuple(v) for k, v in d.get("rear_pelvis", {}).items()}
        for markers in rear.values():
            for m in markers:
                aliases.setdefault(label_key(m), m)
        return MarkerSet(str(d["name"]), str(d.get("title", d["name"])), tuple(d["required"]),
                         tuple(d.get("required_static", ())), MappingProxyType(rear),
                         tuple(d.get("optional", ())), MappingProxyType(aliases))
    except (KeyError, TypeError, AttributeError) as exc:
        raise GenuError(f"marker set definition is malformed ({exc})", source or None) from None


def load_marker_set(name: str = "pig_lower_body") -> MarkerSet:
    """Load ``resources/markersets/<name>.json`` (or a JSON file path)."""
    path = Path(name) if str(name).endswith(".json") else resource_path("markersets", f"{name}.json")
    if not path.is_file():
        raise GenuError(f"no marker set named {name!r}", path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GenuError(f"marker set file cannot be read ({exc})", path) from None
    return marker_set_from_dict(data, str(path))


def load_label_map(path: str | Path) -> dict[str, str]:
    """Read a lab label map: a JSON object ``{"lab label": "PiG label"}``.

    Keys starting with ``_`` are comments. Raises GenuError naming the file when it is
    not a JSON object of strings.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GenuError(f"label map cannot be read ({exc})", path) from None
    if not isinstance(data, dict):
        raise GenuError('label map must be a JSON object {"lab label": "PiG label"}', path)
    out = {}
    for k, v in data.items():
        if str(k).startswith("_"):
            continue
        if not isinstance(k, str) or not isinstance(v, str) or not v.strip():
            raise GenuError(f"label map entry {k!r}: {v!r} is not a pair of labels", path)
        out[k.strip()] = v.strip()
    return out


def resolve_labels(labels: tuple[str, ...], marker_set: MarkerSet,
                   label_map: Optional[Mapping[str, str]] = None) -> dict[int, str]:
    """Index of a label -> canonical name it stands for (label map first, then aliases).

    A canonical name is given to one label only: an exact (case-sensitive) canonical label
    wins, then the first label in file order.
    """
    user = {label_key(k): v for k, v in (label_map or {}).items()}
    wanted: dict[int, str] = {}
    for i, lab in enumerate(labels):
        key = label_key(lab)
        canon = user.get(key) or marker_set.aliases.get(key)
        if canon:
            wanted[i] = canon
    taken: dict[str, int] = {}
    for i, canon in sorted(wanted.items(), key=lambda kv: (labels[kv[0]] != kv[1], kv[0])):
        taken.setdefault(canon, i)
    return {i: c for c, i in taken.items()}


def normalise_labels(trial: Trial, marker_set: Optional[MarkerSet] = None,
                     label_map: Optional[Mapping[str, str]] = None) -> Trial:
    """A copy of ``trial`` whose marker labels use the marker set's canonical names.

    Aliases (``L.ASIS`` -> ``LASI``, ``V.Sacral`` -> ``SACR``) and the lab label map are
    applied to marker points only; a label is not renamed when its canonical name is
    already used by another point. ``original_labels`` are kept.
    """
    marker_set = marker_set or load_marker_set()
    resolved = resolve_labels(trial.labels, marker_set, label_map)
    labels = list(trial.labels)
    used = set(labels)
    for i, canon in sorted(resolved.items()):
        if trial.point_kinds[i] != "marker" or labels[i] == canon or canon in used:
            continue
        used.discard(labels[i])
        labels[i] = canon
        used.add(canon)
    if labels == list(trial.labels):
        return trial
    return trial.with_changes(labels=tuple(labels))


def _valid(trial: Trial, index: int) -> bool:
    return trial.n_frames > 0 and bool(np.isfinite(trial.points[:, index, :]).all(axis=1).any())


def match_marker_set(trial: Trial, marker_set: Optional[MarkerSet] = None, static: bool = False,
                     label_map: Optional[Mapping[str, str]] = None) -> MarkerSetMatch:
    """Which markers of ``marker_set`` the trial holds (through aliases and the label map).

    A marker counts as present only if it has at least one valid (non-NaN) sample.
    ``static=True`` also requires the static-only markers (heels).
    """
    marker_set = marker_set or load_marker_set()
    resolved = resolve_labels(trial.labels, marker_set, label_map)
    found = {c: i for i, c in resolved.items() if trial.point_kinds[i] == "marker" and _valid(trial, i)}
    renamed = {trial.labels[i]: c for c, i in found.items() if trial.labels[i] != c}
    needed = list(marker_set.required) + (list(marker_set.required_static) if static else [])
    missing = [m for m in needed if m not in found]
    rear = next((opt for opt, ms in marker_set.rear_pelvis.items() if all(m in found for m in ms)), None)
    if marker_set.rear_pelvis and rear is None:
        missing.append(" or ".join("+".join(ms) for ms in marker_set.rear_pelvis.values()))
    optional = [m for m in marker_set.optional if m not in found and m not in needed]
    present = tuple(m for m in marker_set.canonical if m in found)
    recognised = sum(m in found for m in marker_set.required) * 2 >= len(marker_set.required)
    return MarkerSetMatch(marker_set.name, present, tuple(missing), tuple(optional), rear,
                          MappingProxyType(renamed), recognised)


def require_markers(trial: Trial, static: bool, marker_set: Optional[MarkerSet] = None,
                    label_map: Optional[Mapping[str, str]] = None) -> MarkerSetMatch:
    """Raise MissingMarkersError listing every required marker the trial lacks.

    Dynamic trials need the pelvis (ASIS and SACR or both PSIS), thigh, knee, tibia, ankle
    and toe markers; static trials also the heels. Returns the match when complete.
    """
    match = match_marker_set(trial, marker_set, static=static, label_map=label_map)
    if match.missing_required:
        raise MissingMarkersError(match.missing_required, trial.path,
                                  context="static calibration" if static else "dynamic trial")
    return match
