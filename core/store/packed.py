"""Packed layout of a stored tree (store schema 3): one JSON record + one byte blob per group.

The tree of :mod:`core.store.serialize` (``Node`` groups, ``Leaf`` arrays, scalar attributes)
is the same in both layouts; only its placement in HDF5 differs. In the *group layout*
(schema 2, :func:`core.store.serialize.write_node`) every node is an HDF5 group and every
scalar an HDF5 attribute: a trial of the sample session is ~260 groups, ~220 datasets and
~1,800 attributes, and reading a session of 6 trials makes ~21,000 attribute reads (about
1.4 s of the 2 s a report spent reading its session). The *packed layout* writes the same
tree into one group as:

* ``__tree__``: one UTF-8 string dataset holding the whole structure as JSON: every node's
  attributes and members, every leaf's attributes and where its data is;
* ``__small__``: one ``uint8`` dataset with the bytes of every numeric array smaller than
  :data:`OWN_DATASET_BYTES`, concatenated (8-byte aligned; gzip + Fletcher-32 when large);
* every numeric array of :data:`OWN_DATASET_BYTES` or more as its own dataset at its natural
  path (``raw/points``, ``outputs/channels/LKneeAngles`` ...: still browsable with HDFView or
  h5py), chunked, gzip-compressed and checksummed like the group layout, identical arrays
  of a file hard-linked once;
* attribute ``__layout__ = "packed-1"`` on the group.

String arrays are kept in the JSON. Reading rebuilds exactly the tree the group layout
gives (dtypes, bytes, attribute values), so :func:`core.store.serialize.node_digest` and the
stored ``__digest__`` guard both layouts alike, and :func:`read_tree` reads either.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Optional

import h5py
import numpy as np

from core.errors import StoreError
from core.store import serialize as ser

LAYOUT_ATTR = "__layout__"
LAYOUT = "packed-1"
TREE = "__tree__"
SMALL = "__small__"
#: numeric arrays of at least this many bytes get their own dataset (the rest go in ``__small__``)
OWN_DATASET_BYTES = 16384
_ALIGN = 8


# ------------------------------------------------------------------------ attribute values
def _attr_json(v: Any, where: str) -> Any:
    """An attribute value as JSON: bool/int/float/str as themselves, others tagged."""
    if type(v) in (bool, np.bool_):
        return bool(v)
    if type(v) in (int, np.int64):
        return int(v)
    if type(v) in (float, np.float64):
        return float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray) and v.dtype == object:
        return _str_json(v)
    if isinstance(v, np.generic):
        value = v.item()
        if isinstance(value, complex):
            value = [value.real, value.imag]
        return {"np": v.dtype.str, "v": value}
    raise StoreError(f"{where}: attribute of type {type(v).__name__} cannot be packed")


def _attr_value(j: Any) -> Any:
    """Inverse of :func:`_attr_json`, giving the value h5py gives for the group layout."""
    if isinstance(j, bool):
        return np.bool_(j)
    if isinstance(j, int):
        return np.int64(j)
    if isinstance(j, float):
        return np.float64(j)
    if isinstance(j, str):
        return j
    if "strs" in j:
        return _str_array(j)
    value = j["v"]
    if isinstance(value, list):
        value = complex(*value)
    return np.dtype(j["np"]).type(value)


def _str_json(arr: np.ndarray) -> dict:
    """A string array (object or ``U`` dtype) as JSON: items flat, and the shape."""
    return {"strs": [str(x) for x in arr.ravel().tolist()], "shape": list(arr.shape)}


def _str_array(j: dict) -> np.ndarray:
    """Inverse of :func:`_str_json`: an object array of str (never split into characters)."""
    out = np.empty(len(j["strs"]), dtype=object)
    out[:] = j["strs"]
    return out.reshape(j["shape"])


def _attrs_json(attrs: dict, where: str) -> dict:
    return {k: _attr_json(v, f"{where}@{k}") for k, v in attrs.items()}


def _attrs_value(j: dict) -> dict:
    return {k: _attr_value(v) for k, v in j.items()}


# ------------------------------------------------------------------------ write
class _Writer:
    """Collects the JSON record and the small-array blob while walking a tree."""

    def __init__(self, group: h5py.Group, links: dict) -> None:
        self.group, self.links = group, links
        self.chunks: list[bytes] = []
        self.size = 0

    def node(self, node: ser.Node, path: str) -> dict:
        out: dict = {"a": _attrs_json(node.attrs, path or "/")}
        members = {}
        for name, member in node.members.items():
            sub = f"{path}/{name}" if path else name
            members[name] = self.leaf(member, sub) if isinstance(member, ser.Leaf) else self.node(member, sub)
        if members:
            out["m"] = members
        return out

    def leaf(self, leaf: ser.Leaf, path: str) -> dict:
        arr = leaf.data
        out: dict = {"a": _attrs_json(leaf.attrs, path)}
        if arr.dtype == object or arr.dtype.kind == "U":
            out["L"] = _str_json(arr)
        elif arr.nbytes >= OWN_DATASET_BYTES:
            self.dataset(path, arr)
            out["L"] = {"ds": path}
        else:
            raw = np.ascontiguousarray(arr).tobytes()
            out["L"] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "at": self.size, "n": len(raw)}
            pad = -len(raw) % _ALIGN
            self.chunks.append(raw + b"\0" * pad)
            self.size += len(raw) + pad
        return out

    def dataset(self, path: str, arr: np.ndarray) -> None:
        key = ("packed", arr.dtype.str, arr.shape, hashlib.sha256(np.ascontiguousarray(arr).tobytes()).digest())
        if key in self.links:  # identical array already in this file: hard link, stored once
            self.group[path] = self.links[key]
            return
        kw = dict(ser.COMPRESSED) if arr.ndim else {}
        self.links[key] = self.group.create_dataset(path, data=arr, **kw)


def write_tree(group: h5py.Group, node: ser.Node, links: Optional[dict] = None) -> None:
    """Write a tree into an open (empty) group in the packed layout.

    links: share one dict between writes into the same file to store identical large arrays once.
    """
    w = _Writer(group, {} if links is None else links)
    record = w.node(node, "")
    blob = np.frombuffer(b"".join(w.chunks), dtype=np.uint8)
    kw = dict(ser.COMPRESSED) if blob.nbytes >= ser.COMPRESS_MIN_BYTES else {}
    group.create_dataset(SMALL, data=blob, **kw)
    group.create_dataset(TREE, data=json.dumps(record, ensure_ascii=False, allow_nan=True), dtype=ser.STR_DT)
    group.attrs[LAYOUT_ATTR] = LAYOUT


def save(group: h5py.Group, value: Any, where: str = "", links: Optional[dict] = None) -> str:
    """Encode ``value`` and write it into ``group`` in the packed layout; returns its digest."""
    return ser.save(group, value, where, links, write=write_tree)


# ------------------------------------------------------------------------ read
class _Reader:
    def __init__(self, group: h5py.Group) -> None:
        self.group = group
        self.small = group[SMALL][()] if SMALL in group else np.zeros(0, np.uint8)
        #: arrays read so far by HDF5 object: a hard-linked array (raw and processed trial, a
        #: trial's outputs stored twice) is decompressed once and copied
        self.seen: dict = {}

    def node(self, j: dict, path: str) -> ser.Node:
        node = ser.Node(attrs=_attrs_value(j.get("a", {})))
        for name, sub in j.get("m", {}).items():
            where = f"{path}/{name}" if path else name
            node.members[name] = self.leaf(sub, where) if "L" in sub else self.node(sub, where)
        return node

    def leaf(self, j: dict, path: str) -> ser.Leaf:
        attrs = _attrs_value(j.get("a", {}))
        spec = j["L"]
        if "strs" in spec:
            raw = _str_array(spec)
            data = np.array(raw, dtype=np.dtype(str(attrs["__dtype__"]))) if "__dtype__" in attrs else raw
        elif "ds" in spec:
            try:
                ds = self.group[spec["ds"]]
                if ds.id in self.seen:
                    return ser.Leaf(self.seen[ds.id].copy(), attrs)
                data = ds[()]
            except (KeyError, OSError, RuntimeError, ValueError) as exc:
                raise StoreError(f"cannot read {self.group.name.rstrip('/')}/{spec['ds']}: {exc}") from exc
            if not isinstance(data, np.ndarray):
                data = np.asarray(data)
            self.seen[ds.id] = data
        else:
            start, n = int(spec["at"]), int(spec["n"])
            if start + n > self.small.size:
                raise StoreError(f"{self.group.name}/{path}: outside the stored small-array data")
            dtype = np.dtype(spec["dtype"])
            data = self.small[start:start + n].view(dtype).reshape(spec["shape"]).copy()
        return ser.Leaf(data, attrs)


def is_packed(group: h5py.Group) -> bool:
    return group.attrs.get(LAYOUT_ATTR) == LAYOUT


def read_tree(group: h5py.Group) -> ser.Node:
    """Read a stored tree in either layout (packed, or the group layout of schema 2).

    The top-level attributes written on the group itself (e.g. ``__digest__``) are not part
    of the packed record; :func:`core.store.serialize.node_digest` skips them in both layouts.
    """
    try:
        packed = is_packed(group)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise StoreError(f"cannot read {group.name}: {exc}") from exc
    if not packed:
        return ser.read_node(group)
    try:
        record = json.loads(group[TREE].asstr()[()])
        reader = _Reader(group)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise StoreError(f"cannot read {group.name}: {exc}") from exc
    if not isinstance(record, dict):
        raise StoreError(f"{group.name}: its {TREE} record is not a stored tree")
    try:
        return reader.node(record, "")
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{group.name}: its {TREE} record is damaged ({type(exc).__name__}: {exc})") from exc
