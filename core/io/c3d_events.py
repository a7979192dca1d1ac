"""Events of a C3D file: the EVENT group in its many spellings, to and from ``GaitEvent``.

The C3D EVENT group (C3D.ORG, *The C3D File Format User Guide*, chapter "EVENT group")
stores ``LABELS``, ``CONTEXTS`` and ``TIMES`` (2 x N: minutes, seconds). Real files differ:

* Vicon: label ``Foot Strike`` / ``Foot Off``, context ``Left`` / ``Right`` / ``General``;
  older or edited files use lower case (``foot strike``) or numbered labels
  (``Foot Strike1``).
* Qualisys: ``LHS`` / ``RTO`` / ``RHS`` / ``LTO`` in LABELS and no CONTEXTS.
* Motion Analysis Cortex: the same codes in CONTEXTS with empty LABELS, or plain event
  names (``Start``, ``Take-Off``) in CONTEXTS.
* ``TIMES`` is sometimes returned by ezc3d flattened to 1-D (min, sec, min, sec ...).

Everything is canonicalised to label ``"Foot Strike"`` / ``"Foot Off"`` (or the file's own
label for other events) and context ``"Left"`` / ``"Right"`` / ``"General"``.
"""
from __future__ import annotations

import re
from typing import Optional, Sequence

import numpy as np

from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent, time_to_frame

#: normalised (lower case, single spaces, no trailing digits) label -> canonical label
_LABEL_WORDS = {
    "foot strike": EVENT_FOOT_STRIKE, "footstrike": EVENT_FOOT_STRIKE,
    "heel strike": EVENT_FOOT_STRIKE, "heelstrike": EVENT_FOOT_STRIKE,
    "initial contact": EVENT_FOOT_STRIKE, "foot contact": EVENT_FOOT_STRIKE,
    "hs": EVENT_FOOT_STRIKE, "fs": EVENT_FOOT_STRIKE, "ic": EVENT_FOOT_STRIKE,
    "foot off": EVENT_FOOT_OFF, "footoff": EVENT_FOOT_OFF, "toe off": EVENT_FOOT_OFF,
    "toeoff": EVENT_FOOT_OFF, "to": EVENT_FOOT_OFF, "fo": EVENT_FOOT_OFF,
}
_SIDE_WORDS = {"left": "Left", "l": "Left", "right": "Right", "r": "Right",
               "general": "General", "": "General"}
#: compact side-coded labels such as LHS, RTO, LFS, RFO
_CODED = re.compile(r"^([lr])\s*[._-]?\s*(hs|to|fs|fo|ic)\d*$")


def _norm(text: str) -> str:
    s = re.sub(r"[\s_\-\.]+", " ", str(text).strip().lower()).strip()
    return re.sub(r"\s*\d+$", "", s)


def _side(text: str) -> Optional[str]:
    return _SIDE_WORDS.get(_norm(text))


def canonical_event(label: str, context: str) -> tuple[str, str]:
    """Canonical ``(label, context)`` of one raw EVENT entry.

    Parameters
    ----------
    label, context:
        The raw ``EVENT:LABELS`` and ``EVENT:CONTEXTS`` strings (either may be empty).

    Returns
    -------
    (label, context):
        label ``"Foot Strike"``, ``"Foot Off"`` or the file's own (trimmed) label;
        context ``"Left"``, ``"Right"`` or ``"General"``.
    """
    label, context = str(label).strip(), str(context).strip()
    side = _side(context)
    if side is None and not label:
        label = context  # Cortex style: the event itself is written in CONTEXTS
    key = _norm(label)
    coded = _CODED.match(key.replace(" ", ""))
    if coded:
        return _LABEL_WORDS[coded.group(2)], "Left" if coded.group(1) == "l" else "Right"
    words = key.split(" ")
    if len(words) > 1 and words[0] in ("left", "right") and " ".join(words[1:]) in _LABEL_WORDS:
        return _LABEL_WORDS[" ".join(words[1:])], words[0].capitalize()
    if key in _LABEL_WORDS and (len(key) > 2 or side in ("Left", "Right")):
        return _LABEL_WORDS[key], side or "General"
    return (label or "Event"), side or "General"


def event_times_s(times: np.ndarray, n: int) -> np.ndarray:
    """``(n,)`` event times in seconds from an ``EVENT:TIMES`` value of any stored shape.

    ``(2, N)`` rows are minutes and seconds; a flat ``(2N,)`` array is (min, sec) pairs;
    a flat ``(N,)`` array is taken as seconds.
    """
    t = np.asarray(times, dtype=float)
    if t.ndim == 2 and t.shape[0] == 2:
        sec = 60.0 * t[0] + t[1]
    elif t.ndim == 2 and t.shape[1] == 2:
        sec = 60.0 * t[:, 0] + t[:, 1]
    elif t.ndim == 1 and n > 0 and t.size == 2 * n:
        pairs = t.reshape(n, 2)
        sec = 60.0 * pairs[:, 0] + pairs[:, 1]
    elif t.ndim == 1 and t.size >= n:
        sec = t[:n]
    else:
        sec = t.reshape(-1)
    return sec[:n] if n else sec


def _strings(group: dict, name: str) -> list[str]:
    p = group.get(name)
    if not isinstance(p, dict):
        return []
    v = p.get("value", [])
    if isinstance(v, str):
        return [v]
    return [str(s) for s in list(v)]


def events_from_group(group: dict, rate_hz: float) -> tuple[GaitEvent, ...]:
    """Events of an ezc3d ``EVENT`` parameter group (``c['parameters']['EVENT']``).

    Parameters
    ----------
    group: the ezc3d group dictionary (may be empty).
    rate_hz: point frame rate, for ``frame = round(time * rate) + 1``.
    """
    if not group or "TIMES" not in group or rate_hz <= 0:
        return ()
    labels, contexts = _strings(group, "LABELS"), _strings(group, "CONTEXTS")
    used = group.get("USED", {}).get("value", [])
    times_raw = np.asarray(group["TIMES"].get("value", []), dtype=float)
    n = int(np.asarray(used).reshape(-1)[0]) if np.size(used) else max(len(labels), len(contexts))
    if n <= 0:
        return ()
    sec = event_times_s(times_raw, n)
    n = min(n, sec.size)
    labels += [""] * (n - len(labels))
    contexts += [""] * (n - len(contexts))
    out = []
    for i in range(n):
        if not np.isfinite(sec[i]):
            continue
        lab, ctx = canonical_event(labels[i], contexts[i])
        out.append(GaitEvent(lab, ctx, time_to_frame(float(sec[i]), rate_hz), float(sec[i]), "file"))
    return tuple(out)


_DESCRIPTIONS = {EVENT_FOOT_STRIKE: "The instant the heel strikes the ground",
                 EVENT_FOOT_OFF: "The instant the toe leaves the ground"}
_ICONS = {EVENT_FOOT_STRIKE: 1, EVENT_FOOT_OFF: 2}


def event_group_values(events: Sequence[GaitEvent], subject: str = "") -> dict[str, object]:
    """Parameter values of a Vicon-layout EVENT group for ``events``.

    Returns a dict name -> value (``USED``, ``CONTEXTS``, ``LABELS``, ``DESCRIPTIONS``,
    ``SUBJECTS``, ``ICON_IDS``, ``GENERIC_FLAGS``, ``TIMES`` as a ``(2, N)`` array of
    minutes and seconds).
    """
    ev = list(events)
    t = np.array([e.time_s for e in ev], dtype=float)
    minutes = np.floor(t / 60.0)
    return {
        "USED": len(ev),
        "CONTEXTS": [e.context for e in ev],
        "LABELS": [e.label for e in ev],
        "DESCRIPTIONS": [_DESCRIPTIONS.get(e.label, "") for e in ev],
        "SUBJECTS": [subject] * len(ev),
        "ICON_IDS": [_ICONS.get(e.label, 0) for e in ev],
        "GENERIC_FLAGS": [0] * len(ev),
        "TIMES": np.vstack([minutes, t - 60.0 * minutes]) if ev else np.zeros((2, 0)),
    }
