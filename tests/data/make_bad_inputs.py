"""Damaged inputs for tests/test_bad_input.py, generated at test time from the sample sessions.

Nothing here is committed as data: every file is written into a pytest ``tmp_path`` from
``sample_c3d/`` (never from ../shared/reference).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterable, Mapping, Optional

import numpy as np

#: a complete subject file (JSON, VSK names, mm/kg) for the sample patient
SUBJECT = {"Bodymass": 63, "Height": 1680, "LeftLegLength": 882, "RightLegLength": 878,
           "LeftKneeWidth": 98, "RightKneeWidth": 100, "LeftAnkleWidth": 68, "RightAnkleWidth": 69}


def without(trial, *labels: str):
    """The trial without the points named ``labels`` (labels, kinds and data dropped together)."""
    keep = [i for i, l in enumerate(trial.labels) if l not in labels]

    def pick(seq):
        return tuple(seq[i] for i in keep) if seq else ()
    return trial.with_changes(labels=pick(trial.labels), original_labels=pick(trial.original_labels),
                              point_kinds=pick(trial.point_kinds), points=trial.points[:, keep])


def make_bad_files(d: Path, walk_path: Path, static_path: Path, vsk_path: Path) -> dict[str, Path]:
    """Write the damaged C3D and subject files into ``d``; returns name -> path.

    Parameters
    ----------
    d: an empty folder. walk_path, static_path, vsk_path: a sample walk, its static and VSK.
    """
    from core.io.c3d import read_c3d, write_trial_c3d
    raw = walk_path.read_bytes()
    files = {"empty": d / "empty.c3d", "truncated_header": d / "truncated_header.c3d",
             "truncated_data": d / "truncated_data.c3d", "random": d / "random.c3d",
             "text": d / "notes_renamed.c3d", "cut_on_block": d / "cut_on_block.c3d",
             "missing": d / "does_not_exist.c3d"}
    files["empty"].write_bytes(b"")
    files["truncated_header"].write_bytes(raw[:3000])                 # inside the parameter section
    files["truncated_data"].write_bytes(raw[:20000])                  # inside a frame of the point data
    files["cut_on_block"].write_bytes(raw[:(len(raw) // 3) // 4096 * 4096])  # copy cut on a 4 KiB page
    files["random"].write_bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    files["text"].write_text("Gait lab notes: patient walked 5 trials, see sheet.\n" * 60, encoding="utf-8")
    walk, static = read_c3d(walk_path), read_c3d(static_path)
    files["walk_noRKNE"] = write_trial_c3d(d / "walk_noRKNE.c3d", without(walk, "RKNE"))
    files["static_noRKNE"] = write_trial_c3d(d / "static_noRKNE.c3d", without(static, "RKNE"))
    # no subject values in the files themselves: only the subject file can give them
    files["walk_noproc"] = write_trial_c3d(d / "walk_noproc.c3d", walk.with_changes(processing={}))
    files["static_noproc"] = write_trial_c3d(d / "static_noproc.c3d", static.with_changes(processing={}))
    # a 'walking' trial (GENULAB:TASK walk, no events) in which the subject stands still
    params = dict(static.parameters)
    params["GENULAB:TASK"] = "walk"
    files["standing_walk"] = write_trial_c3d(d / "standing_walk_01.c3d",
                                             static.with_changes(parameters=params, events=()))
    subj = dict(SUBJECT)
    del subj["LeftLegLength"]
    texts = {"json_no_leg": ("no_leg_length.json", json.dumps(subj)),
             "json_text_value": ("text_value.json", json.dumps({**SUBJECT, "LeftKneeWidth": "wide"})),
             "json_negative": ("negative_knee.json", json.dumps({**SUBJECT, "RightKneeWidth": -100})),
             "json_broken": ("broken.json", '{"LeftLegLength": 88')}
    vsk = vsk_path.read_text(encoding="utf-8")
    assert 'NAME="LeftKneeWidth" VALUE="98"' in vsk
    texts["vsk_text_value"] = ("text_value.vsk", vsk.replace('NAME="LeftKneeWidth" VALUE="98"',
                                                             'NAME="LeftKneeWidth" VALUE="9 8"'))
    for key, (name, text) in texts.items():
        (d / name).write_text(text, encoding="utf-8")
        files[key] = d / name
    return files


def write_in_units(src: Path, out: Path, unit: str, scale: float) -> Path:
    """A copy of ``src`` with its points scaled by ``scale`` and POINT:UNITS set to ``unit`` (ezc3d)."""
    import ezc3d
    c = ezc3d.c3d(str(src))
    pts = c["data"]["points"]
    pts[:3] *= scale
    c["data"]["points"] = pts
    c["parameters"]["POINT"]["UNITS"]["value"] = [unit]
    c.write(str(out))
    return out


def session_folder(root: Path, label: str, files: Iterable[Path], patient_json: Optional[Path] = None,
                   patient: Optional[Mapping[str, object]] = None) -> Path:
    """``root/<label>/`` holding copies of ``files``, with patient.json beside it (copied or written)."""
    d = root / label
    d.mkdir(parents=True)
    for f in files:
        shutil.copy(f, d)
    if patient is not None:
        (root / "patient.json").write_text(json.dumps(dict(patient)), encoding="utf-8")
    elif patient_json is not None:
        shutil.copy(patient_json, root / "patient.json")
    return d


def walk_with_left_events_only(src: Path, out: Path) -> Path:
    """The walk with only the left foot's events (some labs mark one side only)."""
    from core.io.c3d import read_c3d, write_trial_c3d
    t = read_c3d(src)
    left = tuple(e for e in t.events if e.context == "Left")
    assert len(left) == 8
    return write_trial_c3d(out, t.with_changes(events=left))


# ----------------------------------------------------------------------- C3D byte surgery
# A small C3D serialiser of its own (not core.io.c3d_params, which it tests): a well-formed
# Intel file is split into its header, parameter entries and data section, the entries are
# damaged or converted, and the file is put together again (C3D User Guide, C3D.ORG 2008).

class RawEntry:
    """One parameter-section entry as bytes, with the damage to apply when it is written.

    ``desc_byte``: None writes ``len(desc)``, ``"omit"`` writes no description-length byte
    (nor description); ``pad``: bytes written after the entry and covered by its offset;
    ``offset``: an explicit (wrong) offset to the next entry."""

    def __init__(self, gid: int, name: bytes, ptype: int = 0, dims: tuple = (), data: bytes = b"",
                 desc: bytes = b""):
        self.gid, self.name, self.ptype, self.dims, self.data, self.desc = gid, name, ptype, dims, data, desc
        self.desc_byte: object = None
        self.pad = b""
        self.offset: Optional[int] = None


def _s8(b: int) -> int:
    return b - 256 if b > 127 else b


def split_c3d(path: Path) -> tuple[bytes, list[RawEntry], bytes]:
    """``(header, entries, data section)`` of a well-formed Intel C3D file."""
    raw = path.read_bytes()
    head, start = raw[:512], 512 * (raw[0] - 1)
    assert raw[start + 3] == 84, "split_c3d needs an Intel file"
    entries, pos = [], start + 4
    while raw[pos] != 0:
        nchar, gid = abs(_s8(raw[pos])), _s8(raw[pos + 1])
        name = raw[pos + 2:pos + 2 + nchar]
        p = op = pos + 2 + nchar
        nxt = int.from_bytes(raw[p:p + 2], "little")
        p += 2
        e = RawEntry(gid, name)
        if gid > 0:
            e.ptype, ndim = _s8(raw[p]), raw[p + 1]
            e.dims = tuple(raw[p + 2:p + 2 + ndim])
            p += 2 + ndim
            size = abs(e.ptype) * int(np.prod(e.dims) if e.dims else (0 if e.ptype == -1 else 1))
            e.data, p = raw[p:p + size], p + size
        e.desc = raw[p + 1:p + 1 + raw[p]]
        entries.append(e)
        if nxt == 0:
            break
        pos = p + 1 + raw[p]
        assert pos == op + nxt, "split_c3d needs a well-formed chain"
    data_block = int.from_bytes(head[16:18], "little")
    return head, entries, raw[512 * (data_block - 1):]


def find_entry(entries: list[RawEntry], group: str, name: str) -> RawEntry:
    """The parameter ``GROUP:NAME`` of ``entries``."""
    gid = next(-e.gid for e in entries if e.gid < 0 and e.name.decode().upper() == group)
    return next(e for e in entries if e.gid == gid and e.name.decode().upper() == name)


def _swapped(e: RawEntry) -> bytes:
    if e.ptype == 2:
        return np.frombuffer(e.data, "<i2").astype(">i2").tobytes()
    if e.ptype == 4:
        return np.frombuffer(e.data, "<f4").astype(">f4").tobytes()
    return e.data


def join_c3d(out: Path, head: bytes, entries: list[RawEntry], data: bytes, big_endian: bool = False,
             data_block: Optional[int] = None) -> Path:
    """Write the file: entries (with their damage) in blocks after the header, then ``data``.

    ``big_endian`` converts header words, parameters and data to a MIPS (processor 86) file
    (``data`` must then be given already swapped); ``data_block`` overrides where the header
    says the data start (to make the data section overlap the parameters)."""
    body = _body(entries, "big" if big_endian else "little")
    nblocks = (len(body) + 4 + 511) // 512
    block = 2 + nblocks if data_block is None else data_block
    point = next((-x.gid for x in entries if x.gid < 0 and x.name.upper() == b"POINT"), None)
    ds = next((x for x in entries if x.gid == point and x.name.upper() == b"DATA_START"), None)
    if ds is not None and data_block is None:  # keep POINT:DATA_START right
        ds.data = int(block).to_bytes(2, "little")
        body = _body(entries, "big" if big_endian else "little")
    return _write(out, head, body, nblocks, block, data, big_endian)


def _body(entries: list[RawEntry], bo: str) -> bytes:
    """The entry chain (and its terminating zero byte) in byte order ``bo``."""
    body = bytearray()
    for i, e in enumerate(entries):
        rest = bytearray()
        if e.gid > 0:
            rest += bytes([e.ptype & 0xFF, len(e.dims)]) + bytes(e.dims)
            rest += _swapped(e) if bo == "big" else e.data
        if e.desc_byte != "omit":
            rest += bytes([len(e.desc) if e.desc_byte is None else int(e.desc_byte) & 0xFF]) + e.desc
        rest += e.pad
        last = i == len(entries) - 1
        offset = e.offset if e.offset is not None else (0 if last else 2 + len(rest))
        body += bytes([len(e.name), e.gid & 0xFF]) + e.name + offset.to_bytes(2, bo) + rest
    return bytes(body + b"\x00")


def _write(out: Path, head: bytes, body: bytes, nblocks: int, block: int, data: bytes, big: bool) -> Path:
    h = bytearray(head)
    h[16:18] = int(block).to_bytes(2, "little")
    if big:
        words = np.frombuffer(bytes(h[2:12]) + bytes(h[16:20]), "<u2").astype(">u2").tobytes()
        h[2:12], h[16:20] = words[:10], words[10:]
        h[12:16] = np.frombuffer(bytes(h[12:16]), "<f4").astype(">f4").tobytes()
        h[20:24] = np.frombuffer(bytes(h[20:24]), "<f4").astype(">f4").tobytes()
    section = bytes([0x01, 0x50, nblocks, 86 if big else 84]) + body
    section += b"\x00" * (512 * nblocks - len(section))
    start = 512 * (block - 1)
    blob = bytes(h) + section
    blob = blob[:start] + b"\x00" * max(0, start - len(blob)) + data
    out.write_bytes(blob)
    return out


def mips_copy(src: Path, out: Path) -> Path:
    """``src`` (an Intel file) as a MIPS big-endian file: every 16-bit word and float of the
    header's layout words, the parameters and the data byte-swapped, processor byte 86."""
    head, entries, data = split_c3d(src)
    scale = np.frombuffer(head[12:16], "<f4")[0]
    data = data[:len(data) // 4 * 4]
    swapped = (np.frombuffer(data, "<f4").astype(">f4") if scale < 0
               else np.frombuffer(data, "<i2").astype(">i2")).tobytes()
    return join_c3d(out, head, entries, swapped, big_endian=True)
