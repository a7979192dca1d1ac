"""Generic, typed serializer: frozen dataclasses <-> HDF5 groups.

Any frozen dataclass of the engine (``core.model``, ``core.gait.pipeline``, ``core.analysis`` ...)
is stored without per-type code, in two steps so that each step stays small and testable:

1. :func:`encode` turns a value into a neutral tree of :class:`Node` (an HDF5 group) and
   :class:`Leaf` (an HDF5 dataset), scalars becoming attributes; :func:`decode` rebuilds the
   value from such a tree.
2. :func:`write_node` / :func:`read_node` move a tree to / from an open ``h5py.Group``.

Encoding rules (attribute ``__kind__`` names the kind of each group or dataset):

* dataclass -> group, ``__type__`` = ``module.qualname``, ``__fields__`` = init fields in order;
* ``None``, ``bool``, ``int``, ``float``, ``str`` -> attribute; ``None``, :class:`pathlib.Path`,
  :class:`datetime.date`/``datetime``, enums get their type in the ``__scalars__`` attribute
  (JSON ``{slot: type}``) and are stored as strings (ISO 8601 for dates);
* ``numpy.ndarray`` -> dataset, dtype and bytes kept exactly (NaN payloads included); large
  arrays are chunked, gzip-compressed (lossless) with a Fletcher-32 checksum;
* tuple/list/set of ``str``, of ``int`` or of ``float`` -> one 1-D dataset; other
  sequences -> group with ordered slots ``"0"``, ``"1"`` ...;
* Mapping -> group, keys kept in order in ``__keys__`` (JSON), slot names escaped.

Loading imports a type only from :data:`ALLOWED_MODULES` (or types registered with
:func:`register_types`), never an arbitrary module named by the file. Fields the class has
gained since the file was written take their defaults (forward compatible within a schema
version); fields the class no longer has are ignored.

:func:`node_digest` is a SHA-256 over a tree in a canonical order (names sorted, arrays as
dtype + shape + bytes); the store keeps it beside each trial to detect damaged content.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import functools
import hashlib
import importlib
import json
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Optional, Union
from urllib.parse import quote

import h5py
import numpy as np

from core.errors import StoreError

#: modules whose dataclasses may be rebuilt from a file (prefix match on the module name)
ALLOWED_MODULES = (
    "core.model", "core.io", "core.kinematics", "core.kinetics", "core.gait", "core.analysis", "core.store",
)
#: where the modules of stores written before the core layout (issue 13) now live: a stored
#: ``__type__`` such as ``core.analysis.TrialAnalysis`` is looked up as
#: ``core.analysis.types.TrialAnalysis``
MOVED_MODULES: Mapping[str, str] = MappingProxyType({
    "core.analysis": "core.analysis.types",
    "core.analysis_trial": "core.analysis.trial", "core.analysis_session": "core.analysis.session",
    **{f"core.{m}": f"core.gait.{m}" for m in
       ("gaps", "filtering", "events", "cycles", "pipeline", "trial_checks", "session")},
    **{f"core.{m}": f"core.analysis.{m}" for m in
       ("valgus", "tasks", "chain", "comparison", "stats", "normative", "spatiotemporal")},
    "core.markersets": "core.io.markersets",
})
_FORMER = {new: old for old, new in MOVED_MODULES.items()}
_REGISTERED: dict[str, type] = {}

#: arrays with at least this many bytes are chunked, compressed and checksummed
COMPRESS_MIN_BYTES = 16384
#: dataset options of those arrays: lossless gzip with byte shuffle, Fletcher-32 checksum
COMPRESSED = MappingProxyType(dict(chunks=True, compression="gzip", compression_opts=4, shuffle=True,
                                   fletcher32=True))
#: strings longer than this are stored as datasets rather than attributes
LONG_STRING = 8192

KIND = "__kind__"
STR_DT = h5py.string_dtype("utf-8")


@dataclasses.dataclass
class Leaf:
    """An array to become a dataset; ``attrs`` describe how to rebuild the value."""

    data: np.ndarray
    attrs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Node:
    """A group: ``attrs`` (native HDF5 attribute values) and ``members`` (Node or Leaf)."""

    attrs: dict = dataclasses.field(default_factory=dict)
    members: dict = dataclasses.field(default_factory=dict)


Tree = Union[Node, Leaf]


# ------------------------------------------------------------------------ type lookup
def type_tag(cls: type) -> str:
    """``module.qualname`` of a class, as stored in ``__type__``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register_types(*classes: type) -> None:
    """Allow extra dataclasses (e.g. a test's own) to be rebuilt from files."""
    for cls in classes:
        _REGISTERED[type_tag(cls)] = cls


def _allowed(module: str) -> bool:
    return any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def resolve_type(tag: str, where: str = "") -> type:
    """The class named by a stored tag, from the allow-list only.

    Raises
    ------
    StoreError
        If the tag names a module outside the allow-list or a class that does not exist.
    """
    if tag in _REGISTERED:
        return _REGISTERED[tag]
    found = _import_type(tag)
    if found is None:
        found = _import_type(_moved(tag))
    if found is not None:
        return found
    raise StoreError(f"{where or 'store'}: stored type {tag!r} is not a known Genu Lab type "
                     "(unknown, or outside the allowed core modules)")


def _moved(tag: str) -> str:
    """The tag with a module of an older layout replaced by its new place (or unchanged)."""
    module, _, qual = tag.rpartition(".")
    while module:
        if module in MOVED_MODULES:
            return f"{MOVED_MODULES[module]}.{qual}"
        module, _, head = module.rpartition(".")
        qual = f"{head}.{qual}"
    return tag


def with_former_tags(tree: Tree) -> Tree:
    """A copy of an encoded tree whose ``__type__`` tags name the modules of the layout
    before issue 13 (``core.gait.pipeline.X`` -> ``core.pipeline.X``), so that digests taken
    by earlier versions (settings digests in a store's index) can still be compared."""
    if isinstance(tree, Leaf):
        return tree
    attrs = dict(tree.attrs)
    tag = attrs.get("__type__")
    if isinstance(tag, str):
        module, _, qual = tag.rpartition(".")
        attrs["__type__"] = f"{_FORMER.get(module, module)}.{qual}"
    return Node(attrs, {k: with_former_tags(v) for k, v in tree.members.items()})


@functools.lru_cache(maxsize=None)
def _import_type(tag: str) -> Optional[type]:
    """The class a ``module.qualname`` tag names, from the allow-list only (None if none;
    cached: a store names the same few dozen types thousands of times)."""
    parts = tag.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module, qual = ".".join(parts[:i]), parts[i:]
        if not _allowed(module):
            continue
        try:
            obj: Any = importlib.import_module(module)
        except ImportError:
            continue
        try:
            for q in qual:
                obj = getattr(obj, q)
        except AttributeError:
            break
        if isinstance(obj, type):
            return obj
    return None


# ------------------------------------------------------------------------ slot names
def slot_name(key: str) -> str:
    """A valid, injective HDF5 link name for a mapping key ('/', '%' escaped)."""
    s = quote(key, safe=" !$&'()*+,-.:;=@[]^_`{|}~", errors="surrogatepass")
    if not s or s[0] in "._":
        s = "%" + s  # never produced by quote(), so the mapping stays injective
    return s


def _key_json(key: Any) -> Any:
    """A mapping key as JSON: str, int, float, bool, None as themselves, tuples as {"t": [...]}."""
    if key is None or isinstance(key, (str, bool, int, float)):
        return key
    if isinstance(key, tuple):
        return {"t": [_key_json(k) for k in key]}
    raise TypeError(type(key).__name__)


def _key_from_json(code: Any) -> Any:
    if isinstance(code, dict):
        return tuple(_key_from_json(k) for k in code["t"])
    return code


def _key_slot(key: Any) -> str:
    """Slot of a key: the escaped string, or '#' + JSON for other keys ('#' never starts a str slot)."""
    if isinstance(key, str):
        return slot_name(key)
    return "#" + quote(json.dumps(_key_json(key)), safe=" ,:[]{}-.")


# ------------------------------------------------------------------------ encode
def _scalar(value: Any) -> tuple[Any, Optional[str]]:
    """(native attribute value, special type or None) of a scalar, or raise TypeError."""
    if value is None:
        return "", "none"
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return value, f"np:{value.dtype.str}"  # numpy scalar: its exact type comes back
    if isinstance(value, (bool, np.bool_)):
        return np.bool_(value), None
    if isinstance(value, enum.Enum):
        return f"{type_tag(type(value))}:{value.name}", "enum"
    if isinstance(value, (int, np.integer)):
        if -2 ** 63 <= value < 2 ** 63:
            return np.int64(value), None
        return str(int(value)), "bigint"
    if isinstance(value, (float, np.floating)):
        return np.float64(value), None
    if isinstance(value, str):
        return value, None
    if isinstance(value, PurePath):
        return str(value), "path"
    if isinstance(value, _dt.datetime):
        return value.isoformat(), "datetime"
    if isinstance(value, _dt.date):
        return value.isoformat(), "date"
    raise TypeError(type(value).__name__)


def _str_ok(s: str) -> bool:
    """True for a string stored as an HDF5 (UTF-8, NUL-terminated) attribute or item."""
    if "\x00" in s or len(s) > LONG_STRING:
        return False
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. undecodable bytes of a C3D label)
        return False
    return True


def _seq_leaf(value: Any, kind: str) -> Optional[Leaf]:
    """A homogeneous sequence of str/int/float as one dataset, or None."""
    items = list(value)
    if not items:
        return None
    if all(type(x) is str and _str_ok(x) for x in items):
        return Leaf(np.array(items, dtype=object), {KIND: kind, "__items__": "str"})
    if all(type(x) is int for x in items):
        try:
            return Leaf(np.array(items, dtype=np.int64), {KIND: kind, "__items__": "int"})
        except OverflowError:
            return None
    if all(type(x) is float for x in items):
        return Leaf(np.array(items, dtype=np.float64), {KIND: kind, "__items__": "float"})
    return None


def _array_leaf(arr: np.ndarray, where: str) -> Leaf:
    if arr.dtype.kind in "biufc":
        return Leaf(arr, {KIND: "array"})
    if arr.dtype.kind == "U":
        return Leaf(arr, {KIND: "array", "__dtype__": arr.dtype.str})
    raise StoreError(f"cannot store {where}: arrays of dtype {arr.dtype} are not supported")


def _fill(node: Node, slot: str, value: Any, where: str, scalars: dict) -> None:
    """Put one value in a container node under ``slot``."""
    try:
        native, special = _scalar(value)
    except TypeError:
        node.members[slot] = encode(value, where)
        return
    if isinstance(native, str) and not _str_ok(native):  # long, NUL or surrogates: UTF-8 bytes
        attrs = {KIND: "str", **({"__special__": special} if special else {})}
        node.members[slot] = Leaf(np.frombuffer(native.encode("utf-8", "surrogatepass"), dtype=np.uint8).copy(), attrs)
        return
    node.attrs[slot] = native
    if special is not None:
        scalars[slot] = special


def _container(kind: str, slots: Iterator[tuple[str, Any]], where: str, attrs: dict) -> Node:
    node = Node(attrs={KIND: kind, **attrs})
    scalars: dict[str, str] = {}
    for slot, value in slots:
        _fill(node, slot, value, f"{where}.{slot}" if where else slot, scalars)
    if scalars:
        node.attrs["__scalars__"] = json.dumps(scalars, sort_keys=True)
    return node


def encode(value: Any, where: str = "") -> Tree:
    """Encode a dataclass, array, sequence or mapping as a tree.

    Raises
    ------
    StoreError
        Naming the field path of a value of an unsupported type.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value) if f.init]
        return _container("dataclass", ((n, getattr(value, n)) for n in names), where,
                          {"__type__": type_tag(type(value)),
                           "__fields__": np.array(names, dtype=object)})
    if isinstance(value, np.ndarray):
        return _array_leaf(value, where or "array")
    if isinstance(value, (tuple, list, set, frozenset)):
        kind = {tuple: "tuple", list: "list", set: "set", frozenset: "frozenset"}[
            next(t for t in (tuple, list, set, frozenset) if isinstance(value, t))]
        items = list(value)
        leaf = _seq_leaf(items, kind)
        if leaf is not None:
            return leaf
        return _container(kind, ((str(i), v) for i, v in enumerate(items)), where,
                          {"__len__": np.int64(len(items))})
    if isinstance(value, Mapping):
        keys = list(value.keys())
        try:
            coded = [_key_json(k) for k in keys]
        except TypeError as exc:
            raise StoreError(f"cannot store {where or 'mapping'}: key type {exc} is not supported") from None
        slots = [_key_slot(k) for k in keys]
        kind = "mappingproxy" if isinstance(value, MappingProxyType) else "mapping"
        return _container(kind, zip(slots, (value[k] for k in keys)), where,
                          {"__keys__": json.dumps(coded)})
    raise StoreError(f"cannot store {where or 'value'}: type {type(value).__name__} is not supported")


# ------------------------------------------------------------------------ decode
def _unscalar(native: Any, special: Optional[str], where: str) -> Any:
    if special == "none":
        return None
    if special == "bigint":
        return int(native)
    if special == "path":
        return Path(str(native))
    if special == "date":
        return _dt.date.fromisoformat(str(native))
    if special == "datetime":
        return _dt.datetime.fromisoformat(str(native))
    if special is not None and special.startswith("np:"):
        return np.dtype(special[3:]).type(native)
    if special == "enum":
        tag, name = str(native).rsplit(":", 1)
        return resolve_type(tag, where)[name]
    if isinstance(native, bytes):
        return native.decode("utf-8")
    if isinstance(native, np.bool_):
        return bool(native)
    if isinstance(native, np.integer):
        return int(native)
    if isinstance(native, np.floating):
        return float(native)
    return native


def _decode_leaf(leaf: Leaf, where: str) -> Any:
    kind = leaf.attrs.get(KIND, "array")
    if kind == "array":
        return leaf.data
    if kind == "str":
        text = leaf.data.tobytes().decode("utf-8", "surrogatepass")
        special = leaf.attrs.get("__special__")
        return _unscalar(text, str(special), where) if special else text
    items = leaf.attrs.get("__items__")
    conv = {"str": str, "int": int, "float": float}.get(items)
    if conv is None:
        raise StoreError(f"{where}: unknown sequence item type {items!r}")
    return _rebuild_seq(kind, [conv(x) for x in leaf.data.tolist()], where)


def _rebuild_seq(kind: str, items: list, where: str) -> Any:
    ctor = {"tuple": tuple, "list": list, "set": set, "frozenset": frozenset}.get(kind)
    if ctor is None:
        raise StoreError(f"{where}: unknown container kind {kind!r}")
    return ctor(items)


def _slot_value(node: Node, slot: str, scalars: dict, where: str) -> Any:
    if slot in node.members:
        return decode(node.members[slot], where)
    if slot in node.attrs:
        return _unscalar(node.attrs[slot], scalars.get(slot), where)
    raise KeyError(slot)


def _decode_dataclass(node: Node, scalars: dict, where: str) -> Any:
    tag = str(node.attrs.get("__type__", ""))
    cls = resolve_type(tag, where)
    if not dataclasses.is_dataclass(cls):
        raise StoreError(f"{where}: stored type {tag!r} is not a dataclass")
    kwargs, missing = {}, []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        try:
            kwargs[f.name] = _slot_value(node, f.name, scalars, f"{where}.{f.name}")
        except KeyError:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                missing.append(f.name)
    if missing:
        raise StoreError(f"{where}: stored {tag} lacks required field(s) {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except Exception as exc:  # the class's own validation refused the stored values
        raise StoreError(f"{where}: stored {tag} could not be rebuilt: {exc}") from exc


def decode(tree: Tree, where: str = "") -> Any:
    """Rebuild the value encoded by :func:`encode` (see module docstring)."""
    if isinstance(tree, Leaf):
        return _decode_leaf(tree, where)
    kind = str(tree.attrs.get(KIND, ""))
    scalars = json.loads(tree.attrs.get("__scalars__", "{}"))
    if kind == "dataclass":
        return _decode_dataclass(tree, scalars, where or "object")
    if kind in ("tuple", "list", "set", "frozenset"):
        n = int(tree.attrs.get("__len__", 0))
        try:
            items = [_slot_value(tree, str(i), scalars, f"{where}[{i}]") for i in range(n)]
        except KeyError as exc:
            raise StoreError(f"{where}: item {exc.args[0]} of a {kind} is missing") from None
        return _rebuild_seq(kind, items, where)
    if kind in ("mapping", "mappingproxy"):
        keys = [_key_from_json(k) for k in json.loads(tree.attrs.get("__keys__", "[]"))]
        out = {}
        for k in keys:
            slot = _key_slot(k)
            try:
                out[k] = _slot_value(tree, slot, scalars, f"{where}[{k!r}]")
            except KeyError:
                raise StoreError(f"{where}: entry {k!r} of a mapping is missing") from None
        return MappingProxyType(out) if kind == "mappingproxy" else out
    raise StoreError(f"{where or 'group'}: not a stored Genu Lab object (kind {kind!r})")


# ------------------------------------------------------------------------ HDF5 I/O
def _dataset(group: h5py.Group, name: str, leaf: Leaf, links: dict) -> None:
    arr = leaf.data
    key = None
    if arr.dtype != object and arr.nbytes >= 1024:
        key = (arr.dtype.str, arr.shape, repr(sorted((k, _canon(v)) for k, v in leaf.attrs.items())),
               hashlib.sha256(np.ascontiguousarray(arr).tobytes()).digest())
        if key in links:  # identical array already in this file: hard link, stored once
            group[name] = links[key]
            return
    kw: dict = {}
    if arr.dtype.kind == "U":
        data = np.array(arr.tolist() if arr.ndim else str(arr), dtype=object)
        dtype = STR_DT
    elif arr.dtype == object:
        data, dtype = arr, STR_DT
    else:
        data, dtype = arr, arr.dtype
        if arr.nbytes >= COMPRESS_MIN_BYTES and arr.ndim:
            kw = dict(COMPRESSED)
    ds = group.create_dataset(name, data=data, dtype=dtype, **kw)
    for k, v in leaf.attrs.items():
        ds.attrs[k] = v
    if key is not None:
        links[key] = ds


def write_node(group: h5py.Group, node: Node, links: Optional[dict] = None) -> None:
    """Write a tree into an open (empty) group; identical large arrays are hard-linked."""
    links = {} if links is None else links
    for k, v in node.attrs.items():
        if isinstance(v, np.ndarray) and v.dtype == object:
            group.attrs.create(k, v, dtype=STR_DT)
        else:
            group.attrs[k] = v
    for name, member in node.members.items():
        if isinstance(member, Leaf):
            _dataset(group, name, member, links)
        else:
            write_node(group.create_group(name), member, links)


def _read_attrs(obj: h5py.HLObject) -> dict:
    out = {}
    for k, v in obj.attrs.items():
        if isinstance(v, bytes):
            v = v.decode("utf-8")
        elif isinstance(v, np.ndarray) and v.dtype == object:
            v = np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in v.ravel()],
                         dtype=object).reshape(v.shape)
        out[k] = v
    return out


def _read_leaf(ds: h5py.Dataset) -> Leaf:
    attrs = _read_attrs(ds)
    if h5py.check_string_dtype(ds.dtype) is not None:
        raw = ds.asstr()[()]
        if "__dtype__" in attrs:
            data = np.array(raw, dtype=np.dtype(attrs["__dtype__"]))
        else:
            data = np.asarray(raw, dtype=object)
    else:
        data = ds[()]
        if not isinstance(data, np.ndarray):
            data = np.asarray(data, dtype=ds.dtype)
    return Leaf(data, attrs)


def read_node(group: h5py.Group) -> Node:
    """Read a whole group (attributes and datasets, recursively) into a tree."""
    try:
        node = Node(attrs=_read_attrs(group))
        names = list(group.keys())
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise StoreError(f"cannot read {group.name}: {exc}") from exc
    for name in names:
        try:
            obj = group[name]
            if isinstance(obj, h5py.Dataset):
                node.members[name] = _read_leaf(obj)
                continue
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise StoreError(f"cannot read {group.name.rstrip('/')}/{name}: {exc}") from exc
        if isinstance(obj, h5py.Group):
            node.members[name] = read_node(obj)
    return node


def save(group: h5py.Group, value: Any, where: str = "", links: Optional[dict] = None,
         write=write_node) -> str:
    """Encode and write ``value`` into ``group``; returns the content digest.

    links: share one dict between saves into the same file to store identical arrays once.
    write: the layout, ``write(group, tree, links)`` (:func:`write_node`, or
    ``core.store.packed.write_tree``).
    """
    tree = encode(value, where)
    if isinstance(tree, Leaf):
        raise StoreError(f"{where or 'value'}: only containers can be saved as a group")
    write(group, tree, links)
    return node_digest(tree)


def load(group: h5py.Group, where: str = "") -> Any:
    """Read and rebuild the value stored in ``group``."""
    return decode(read_node(group), where or group.name)


# ------------------------------------------------------------------------ digest
def _canon(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return [_canon(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8")
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return v


def _feed(h: "hashlib._Hash", tree: Tree, skip: tuple[str, ...]) -> None:
    for k in sorted(tree.attrs):
        if k in skip:
            continue
        h.update(b"A" + k.encode() + b"=" + repr(_canon(tree.attrs[k])).encode() + b";")
    if isinstance(tree, Leaf):
        arr = tree.data
        if arr.dtype == object:
            h.update(b"S" + repr(_canon(arr)).encode())
        else:
            h.update(b"D" + arr.dtype.str.encode() + repr(arr.shape).encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        return
    for name in sorted(tree.members):
        h.update(b"M" + name.encode() + b"{")
        _feed(h, tree.members[name], ())
        h.update(b"}")


def node_digest(tree: Tree, skip: tuple[str, ...] = ("__digest__",)) -> str:
    """SHA-256 (hex) of a tree in canonical order; top-level attributes in ``skip`` ignored."""
    h = hashlib.sha256()
    _feed(h, tree, skip)
    return h.hexdigest()
