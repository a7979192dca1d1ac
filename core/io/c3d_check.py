"""Fast structural check of a C3D parameter section, done before handing a file to ezc3d.

Some corrupt files make ezc3d spend 10-20 s before it refuses them (a negative description
length is read as a 4-gigabyte string, for instance). This module walks the parameter
section the way the C3D User Guide describes it (C3D.ORG, *The C3D File Format User
Guide*, 2008, chapter "The parameter section": per entry a signed name length, a signed
group id, the name, a 16-bit offset to the next entry, then for parameters the type,
dimensions, data and description) and refuses only what ezc3d would refuse as well: an
entry that does not end where the previous offset said the next one starts, an unknown
parameter type, or a section that runs past the end of the file. Anything it cannot judge
is left to ezc3d.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

_OVERRUN = "parameter section runs past the end of the file"


def _signed(b: int) -> int:
    return b - 256 if b > 127 else b


def walk_parameters(buf: bytes, pos: int, found: Optional[dict] = None) -> Optional[str]:
    """Walk the entries from ``pos``; a problem description or None when well formed.

    ``found`` (optional) receives ``{"groups": {id: name}, "params": {(id, NAME): (type,
    dims, raw bytes, name)}}`` for the entries walked (NAME upper-cased, name as stored)."""
    if found is not None:
        found.setdefault("groups", {})
        found.setdefault("params", {})
    n = len(buf)
    expected = pos
    while True:
        if pos + 2 > n:
            return _OVERRUN
        if pos != expected:
            return "bad parameter section (an entry does not end where the next one starts)"
        nchar = _signed(buf[pos])
        if nchar == 0:
            return None
        gid = _signed(buf[pos + 1])
        stored = buf[pos + 2:pos + 2 + abs(nchar)].decode("latin-1")
        name = stored.upper()
        pos += 2 + abs(nchar)
        if pos + 2 > n:
            return _OVERRUN
        offset = buf[pos] | (buf[pos + 1] << 8)
        nxt = 0 if offset == 0 else pos + offset
        pos += 2
        if gid > 0:  # a parameter: type, dimensions, data
            if pos + 2 > n:
                return _OVERRUN
            ptype, ndim = _signed(buf[pos]), _signed(buf[pos + 1])
            if ptype not in (-1, 1, 2, 4):
                return f"bad parameter section (unknown parameter type {ptype})"
            pos += 2
            if ndim < 0 or pos + ndim > n:
                return "bad parameter section (invalid dimensions)"
            dims = list(buf[pos:pos + ndim])
            pos += ndim
            count = int(np.prod(dims)) if dims else (0 if ptype == -1 else 1)
            if found is not None:
                found["params"][(gid, name)] = (ptype, dims, buf[pos:pos + abs(ptype) * count], stored)
            pos += abs(ptype) * count
        elif found is not None:
            found["groups"][-gid] = stored
        if pos + 1 > n:
            return _OVERRUN
        ndesc = _signed(buf[pos])
        if ndesc < 0:
            return "bad parameter section (negative description length)"
        pos += 1 + ndesc
        if nxt == 0:
            return None
        expected = nxt


def parameter_section_problem(path: Path) -> Optional[str]:
    """Why ezc3d will refuse ``path``'s parameter section, or None if it looks sound.

    Only little-endian (Intel, DEC) sections are walked; for other processor types and
    unusual layouts None is returned and ezc3d decides.
    """
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512:
            return None
        block = head[0]
        if block < 2 or head[1] != 0x50:
            return None
        start = 512 * (block - 1)
        f.seek(start)
        first = f.read(4)
        if len(first) < 4:
            return "file ends before its parameter section"
        if first[3] not in (84, 85):
            return None
        nblocks = first[2]
        want = max(nblocks, 1) * 512 + 65536
        section = first + f.read(want)
        complete = len(section) < want + 4  # the whole rest of the file was read
    problem = walk_parameters(section, 4)
    if problem == _OVERRUN and not complete:
        return None  # longer than the blocks it declares: let ezc3d judge
    return problem


def declared_frames(path: Path) -> Optional[int]:
    """Number of frames the file's own ``POINT:FRAMES`` parameter declares (ezc3d
    overwrites it with the number it could read), or None when not found."""
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50 or head[0] < 2:
            return None
        f.seek(512 * (head[0] - 1))
        first = f.read(4)
        if len(first) < 4 or first[3] not in (84, 85):
            return None
        section = first + f.read(max(first[2], 1) * 512 + 65536)
    found: dict = {}
    walk_parameters(section, 4, found)
    point = [g for g, n in found["groups"].items() if n.upper() == "POINT"]
    entry = found["params"].get((point[0], "FRAMES")) if point else None
    if entry is None:
        return None
    ptype, _dims, raw = entry[:3]
    if ptype == 2 and len(raw) >= 2:
        return raw[0] | (raw[1] << 8)  # stored as unsigned 16-bit by convention
    if ptype == 4 and len(raw) >= 4 and first[3] == 84:
        return int(np.frombuffer(raw[:4], "<f4")[0])
    return None
