"""Fast structural checks of a C3D file, done before its data are decoded.

Some corrupt files make ezc3d spend 10-20 s before it refuses them (a negative description
length is read as a 4-gigabyte string, for instance). The parameter section is walked
first with the tolerant walk of :mod:`core.io.c3d_params` (C3D.ORG, *The C3D File Format
User Guide*, 2008, chapter "The parameter section"), which repairs what can be repaired
and refuses, at once and with the entry named, what cannot.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from core.io.c3d_params import ParameterSectionError, Section, read_section


def parameter_section_problem(path: Path) -> Optional[str]:
    """Why ``path``'s parameter section cannot be read, or None if it can (possibly after
    repairs, see :func:`core.io.c3d_params.read_section`)."""
    try:
        read_section(path)
    except ParameterSectionError as exc:
        return str(exc)
    return None


def declared_frames(path: Path, section: Optional[Section] = None) -> Optional[int]:
    """Number of frames the file's own ``POINT:FRAMES`` parameter declares (ezc3d
    overwrites it with the number it could read), or None when not found."""
    if section is None:
        try:
            section = read_section(path)
        except ParameterSectionError:
            return None
    if section is None:
        return None
    point = next((g for k, g in section.groups.items() if k.upper() == "POINT"), {})
    entry = next((p for k, p in point.items() if k.upper() == "FRAMES"), None)
    if entry is None or isinstance(entry["value"], list) or not np.size(entry["value"]):
        return None
    value = float(np.asarray(entry["value"]).reshape(-1)[0])
    if entry["type"] == 2:
        return int(value) % 65536  # stored as unsigned 16-bit by convention
    return int(value) if entry["type"] == 4 and np.isfinite(value) else None
