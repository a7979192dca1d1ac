"""Header and parameter section of a C3D file, for every processor type, read tolerantly.

The layout follows C3D.ORG, *The C3D File Format User Guide* (Motion Lab Systems, 2008):
the parameter section starts in the block named by the first header byte with four bytes
(``?``, ``0x50``, number of blocks, processor type 83 + n: 84 Intel, 85 DEC/VAX, 86
MIPS/SGI), then a chain of entries. Each entry holds a signed name length (negative =
locked), a signed group id (negative for a group, positive for a parameter of that group),
the name, a 16-bit offset from that offset word to the next entry (0 on the last), and for
a parameter its type (-1 char, 1 byte, 2 int16, 4 float), dimensions and data; then a
description length byte and the description.

Integers and floats are stored in the processor's form: little-endian (Intel, DEC integers),
big-endian (MIPS), or DEC F-floats (16-bit words swapped with respect to IEEE, exponent
bias 128 instead of 126: the IEEE value of the swapped words divided by 4).

The entry chain is walked the way the User Guide describes it, by following each entry's
offset to the next, and every entry is checked against where it really ends. Writers of
old archives get this wrong in a few known ways, which are repaired with a warning naming
the ``GROUP:PARAMETER``: an entry without its description-length byte, a description length
stored as a negative byte (>127), an offset that skips or overlaps bytes while the entry at
the other end is sound, numeric scale/offset parameters stored with another numeric type.
What cannot be repaired (an entry cut by the data section, an offset to nothing that looks
like an entry, a chain running past the end of the file) is a problem that refuses the
file with the entry named.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

INTEL, DEC, MIPS = 84, 85, 86
PROCESSORS = {INTEL: "Intel", DEC: "DEC", MIPS: "MIPS"}
_NAME_BYTES = frozenset(range(0x20, 0x7F))
#: numeric parameters ezc3d (and most readers) expect with one type: name -> types accepted
_EXPECTED_TYPES = {("POINT", "USED"): (2,), ("POINT", "FRAMES"): (2, 4), ("POINT", "DATA_START"): (2,),
                   ("POINT", "SCALE"): (4,), ("POINT", "RATE"): (4,), ("ANALOG", "USED"): (2,),
                   ("ANALOG", "RATE"): (4,), ("ANALOG", "GEN_SCALE"): (4,), ("ANALOG", "SCALE"): (4,),
                   ("ANALOG", "OFFSET"): (2,)}
_TYPE_NAMES = {-1: "char", 1: "byte", 2: "integer", 4: "float"}


class ParameterSectionError(ValueError):
    """An unrepairable parameter section (the message names the entry)."""


def byte_order(processor: int) -> str:
    """numpy byte-order character of a processor type's integers ('>' MIPS, else '<')."""
    return ">" if processor == MIPS else "<"


def decode_floats(raw: bytes | np.ndarray, processor: int) -> np.ndarray:
    """Float32 values of 4-byte floats stored by ``processor``; shape ``(len(raw) // 4,)``.

    DEC F-floats: the two 16-bit words are swapped and the exponent bias is 2 more than
    IEEE's, so the IEEE reading of the swapped words is 4 times the value (exact in
    float32, a zero exponent stays zero)."""
    buf = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw.view(np.uint8).reshape(-1)
    buf = buf[:buf.size // 4 * 4]
    if processor == MIPS:
        return buf.view(">f4").astype(np.float32)
    if processor == DEC:
        words = buf.view("<u2").reshape(-1, 2)[:, ::-1]
        ieee = np.ascontiguousarray(words).view("<f4").reshape(-1)
        return ieee / np.float32(4.0)
    return buf.view("<f4").astype(np.float32)


def decode_value(ptype: int, dims: list[int], raw: bytes, processor: int):
    """A parameter value in ezc3d's Python form: list of str for char, else an ndarray
    (int64 for byte/int16, float64 for float) shaped ``dims`` in Fortran order."""
    if ptype == -1:
        if not dims:
            return []
        width = dims[0]
        count = int(np.prod(dims[1:])) if len(dims) > 1 else 1
        return [raw[i * width:(i + 1) * width].split(b"\x00")[0].decode("utf-8", "surrogateescape").rstrip(" ")
                for i in range(count)]
    if ptype == 4:
        a = decode_floats(raw, processor).astype(np.float64)
    else:
        a = np.frombuffer(raw, dtype="i1" if ptype == 1 else byte_order(processor) + "i2").astype(np.int64)
    return a.reshape(dims, order="F") if len(dims) > 1 else a.reshape(-1)


@dataclass(frozen=True)
class Entry:
    """One entry of the chain: where it starts, its fields and where it really ends."""

    pos: int
    gid: int
    name: str
    nxt: int          # where its offset says the next entry starts (0: last entry)
    ptype: int = 0
    dims: tuple[int, ...] = ()
    data: tuple[int, int] = (0, 0)   # byte range of the data
    desc_pos: int = 0                # position of the description-length byte
    desc_len: int = 0                # signed, as stored

    @property
    def end(self) -> int:
        """Where the entry ends when its description length is read as stored."""
        return self.desc_pos + 1 + max(self.desc_len, 0)

    @property
    def end_unsigned(self) -> int:
        return self.desc_pos + 1 + (self.desc_len % 256)


def _signed(b: int) -> int:
    return b - 256 if b > 127 else b


def _entry(buf: bytes, pos: int, order: str) -> Optional[Entry]:
    """The entry at ``pos``, or None when the bytes there do not form one."""
    n = len(buf)
    if pos + 2 > n:
        return None
    nchar, gid = abs(_signed(buf[pos])), _signed(buf[pos + 1])
    name_b = buf[pos + 2:pos + 2 + nchar]
    if nchar == 0 or gid == 0 or len(name_b) < nchar or not set(name_b) <= _NAME_BYTES:
        return None
    p = pos + 2 + nchar
    if p + 2 > n:
        return None
    offset = int.from_bytes(buf[p:p + 2], "big" if order == ">" else "little")
    nxt = p + offset if offset else 0
    p += 2
    name = name_b.decode("latin-1")
    if gid < 0:
        return Entry(pos, gid, name, nxt, desc_pos=p, desc_len=_signed(buf[p]) if p < n else 0) if p < n else None
    if p + 2 > n:
        return None
    ptype, ndim = _signed(buf[p]), buf[p + 1]
    if ptype not in (-1, 1, 2, 4) or ndim > 7 or p + 2 + ndim > n:
        return None
    dims = tuple(buf[p + 2:p + 2 + ndim])
    p += 2 + ndim
    count = int(np.prod(dims)) if dims else (0 if ptype == -1 else 1)
    data = (p, p + abs(ptype) * count)
    p = data[1]
    return Entry(pos, gid, name, nxt, ptype, dims, data, p, _signed(buf[p]) if p < n else 0)


def _is_start(buf: bytes, pos: int, order: str) -> bool:
    """Whether an entry (or the terminating zero name length) starts at ``pos``."""
    return 0 <= pos < len(buf) and (buf[pos] == 0 or _entry(buf, pos, order) is not None)


@dataclass(frozen=True)
class Section:
    """The parameter section of a file, in ezc3d's dictionary form, with the repairs made."""

    processor: int
    header: bytes
    start: int                       # byte offset of the parameter section
    groups: dict                     # group name -> {param name -> {"type", "value"}}
    repairs: tuple[str, ...] = ()
    nonstandard: bool = False        # repaired chain or types: ezc3d refuses such sections

    @property
    def ezc3d_refuses(self) -> Optional[str]:
        """Why ezc3d cannot open this file (MIPS, a repaired section), or None."""
        if self.processor == MIPS:
            return "MIPS (SGI) big-endian file"
        return "non-standard parameter section" if self.nonstandard else None

    @property
    def order(self) -> str:
        return byte_order(self.processor)


class _Walk:
    """State of one walk: the entries kept, group names and the repair messages."""

    def __init__(self, base: int = 0) -> None:
        self.base = base  # file offset of buf[0], for messages
        self.groups: dict[int, str] = {}
        self.params: list[tuple[Entry, bool]] = []   # (entry, data usable)
        self.repairs: list[str] = []
        self.nonstandard = False  # set by chain and type repairs (not by dropped orphans)

    def label(self, e: Entry) -> str:
        if e.gid < 0:
            return f"group {e.name}"
        return f"{self.groups.get(e.gid, f'group {e.gid}')}:{e.name}"


def _next_of(buf: bytes, e: Entry, order: str, w: _Walk, limit: int) -> int:
    """Position of the entry after ``e`` (0 at the end), repairing the chain where it can:
    a real entry where the offset points is preferred (the chain is the format's
    authority), then a real entry where ``e`` itself ends, then the end of the section."""
    what = w.label(e)
    standard = e.nxt == 0 or (e.nxt == e.end and e.desc_len >= 0)
    fits = e.end <= limit and e.data[1] <= limit

    def entry_at(p: int) -> bool:
        return e.pos < p < limit and _entry(buf, p, order) is not None

    def end_at(p: int) -> bool:  # the terminating zero name length, or the data section
        return e.pos < p <= limit and (p == limit or buf[p] == 0)

    if standard and fits:
        return e.nxt
    w.nonstandard = w.nonstandard or not standard
    if fits and e.desc_len < 0 and e.nxt == e.end_unsigned and (entry_at(e.nxt) or end_at(e.nxt)):
        w.repairs.append(f"{what}: description length stored as a negative byte ({e.desc_len}), "
                         f"read as {e.desc_len % 256}")
        return e.nxt
    if e.nxt == e.desc_pos and e.data[1] <= limit and (entry_at(e.nxt) or end_at(e.nxt)):
        w.repairs.append(f"{what}: the entry has no description-length byte; the next entry was "
                         "found where its offset points")
        return e.nxt
    if not standard and entry_at(e.nxt):
        if e.gid > 0 and e.nxt < e.data[1]:
            w.params[-1] = (e, False)
            w.repairs.append(f"{what}: its data ({e.data[1] - e.data[0]} bytes for dimensions "
                             f"{list(e.dims)}) overlap the next entry; the parameter was dropped")
        else:
            w.repairs.append(f"{what}: its offset to the next entry skips {e.nxt - e.end} byte(s); "
                             "the offset was followed")
        return e.nxt
    for cand in dict.fromkeys((e.end, e.end_unsigned)):
        if fits and not standard and (entry_at(cand) or end_at(cand)):
            tail = "continued there" if entry_at(cand) else "the section ends there"
            w.repairs.append(f"{what}: its offset to the next entry points to byte {w.base + e.nxt}, "
                             f"where no entry starts; the entry ends at byte {w.base + cand} and {tail}")
            return cand
    if not fits:
        where = "into the data section, which starts" if limit < len(buf) else "past the file, which ends"
        raise ParameterSectionError(f"bad parameter section (entry {what} at byte {w.base + e.pos} runs "
                                    f"{where} at byte {w.base + limit})")
    raise ParameterSectionError(f"bad parameter section (entry {what} at byte {w.base + e.pos}: neither "
                                f"its offset (byte {w.base + e.nxt}) nor its end (byte {w.base + e.end}) "
                                "leads to an entry)")


def walk_section(buf: bytes, pos: int, processor: int, limit: Optional[int] = None, base: int = 0) -> _Walk:
    """Walk the entry chain of ``buf`` from ``pos`` (``buf[0]`` is at file offset ``base``,
    entries must end before ``limit``); raises ParameterSectionError."""
    order = byte_order(processor)
    limit = len(buf) if limit is None else min(limit, len(buf))
    w = _Walk(base)
    seen: set[int] = set()
    while True:
        if pos == limit and limit < len(buf):
            return w  # the last entry ends where the data section starts
        if pos >= limit or pos in seen:
            raise ParameterSectionError("bad parameter section (the entry chain runs past the end of "
                                        "the parameter section)" if pos >= limit else
                                        "bad parameter section (the entry chain loops)")
        seen.add(pos)
        if buf[pos] == 0:
            return w
        e = _entry(buf, pos, order)
        if e is None:
            after = f" after {w.label(w.params[-1][0])}" if w.params else ""
            if limit < len(buf) and limit - pos < 140:  # an entry header is at most 140 bytes
                raise ParameterSectionError(f"bad parameter section (the entry at byte {w.base + pos}{after} "
                                            f"is cut by the data section, which starts at byte {w.base + limit})")
            raise ParameterSectionError(f"bad parameter section (no valid entry at byte {w.base + pos}{after})")
        if e.gid < 0:
            w.groups[-e.gid] = e.name
        else:
            w.params.append((e, True))
        pos = _next_of(buf, e, order, w, limit)
        if pos == 0:
            return w


def _groups(buf: bytes, w: _Walk, processor: int) -> dict:
    """The walked entries in ezc3d's dictionary form, type repairs noted in ``w``."""
    groups: dict[str, dict] = {name: {} for name in w.groups.values()}
    orphans: dict[int, list[str]] = {}
    for e, usable in w.params:
        gname = w.groups.get(e.gid)
        if gname is None:
            orphans.setdefault(e.gid, []).append(e.name)
            continue
        if not usable:
            continue
        expected = _EXPECTED_TYPES.get((gname.upper(), e.name.upper()))
        if expected and e.ptype not in expected:
            w.nonstandard = True
            if e.ptype == -1:
                w.repairs.append(f"{gname}:{e.name} is stored as text, expected {_TYPE_NAMES[expected[0]]}; "
                                 "it was dropped")
                continue
            w.repairs.append(f"{gname}:{e.name} is stored as {_TYPE_NAMES[e.ptype]} instead of "
                             f"{_TYPE_NAMES[expected[0]]}; its values are used as numbers")
        raw = buf[e.data[0]:e.data[1]]
        groups[gname][e.name] = {"type": e.ptype, "value": decode_value(e.ptype, list(e.dims), raw, processor)}
    for gid, names in orphans.items():
        w.repairs.append(f"{len(names)} parameter(s) ({', '.join(names)}) belong to group id {gid}, "
                         "which is not defined; they were dropped")
    return groups


def read_section(path: Path) -> Optional[Section]:
    """The parameter section of ``path``, or None when the file does not look like a C3D
    (first two header bytes) so that another reader decides. Raises
    ParameterSectionError for a section that cannot be read, OSError for I/O errors."""
    with open(path, "rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50 or head[0] < 2:
            return None
        start = 512 * (head[0] - 1)
        f.seek(start)
        first = f.read(4)
        if len(first) < 4:
            raise ParameterSectionError("file ends before its parameter section")
        if first[3] not in PROCESSORS:
            raise ParameterSectionError(f"unknown processor type {first[3]} in the parameter section")
        order = byte_order(first[3])
        data_block = int(np.frombuffer(head[16:18], order + "u2")[0])
        # the data section, when it starts after the parameters, bounds them
        bound = 512 * (data_block - 1) - start if data_block > head[0] else None
        section = first + f.read((bound or max(first[2], 1) * 512) + 65536 - 4)
    limit = bound if bound is not None else len(section)
    w = walk_section(section, 4, first[3], limit, base=start)
    groups = _groups(section, w, first[3])
    return Section(first[3], head, start, groups, tuple(w.repairs), w.nonstandard)
