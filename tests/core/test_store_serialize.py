"""The generic serializer: every supported value comes back equal, types from the allow-list only."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import MappingProxyType
from typing import Optional

import h5py
import numpy as np
import pytest

from core.errors import StoreError
from core.store import packed, serialize as ser
from tests.core.test_store_helpers import ODD_NAN, assert_same, make_outputs, make_record, make_trial


@dataclasses.dataclass(frozen=True)
class Inner:
    a: int
    b: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Outer:
    name: str
    when: dt.date
    stamp: dt.datetime
    where: Path
    flags: tuple[bool, ...]
    inner: tuple[Inner, ...]
    table: dict
    arr: np.ndarray
    long_text: str = ""


@dataclasses.dataclass(frozen=True)
class OldShape:
    a: int


@dataclasses.dataclass(frozen=True)
class NewShape:
    a: int
    added: str = "default"


ser.register_types(Inner, Outer)


def _roundtrip(tmp_path: Path, value):
    """Write the value in both layouts (schema-2 groups, schema-3 packed); each must read back
    as the very tree that was encoded (same canonical digest); returns the packed one decoded."""
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        digest = ser.save(f.create_group("v"), value)
        assert packed.save(f.create_group("p"), value) == digest
    with h5py.File(tmp_path / "x.h5", "r") as f:
        node = ser.read_node(f["v"])
        assert not packed.is_packed(f["v"]) and packed.is_packed(f["p"])
        node_p = packed.read_tree(f["p"])
        assert ser.node_digest(packed.read_tree(f["v"])) == digest    # read_tree reads both layouts
    assert ser.node_digest(node) == digest and ser.node_digest(node_p) == digest
    assert_same(ser.decode(node), ser.decode(node_p))
    return ser.decode(node_p)


def test_model_types_round_trip_bit_equal(tmp_path):
    rec = make_record()
    back = _roundtrip(tmp_path, rec)
    assert_same(rec, back)
    assert np.isnan(back.raw.points[5, 1]).all()
    assert back.raw.points[20, 2, 1].tobytes() == ODD_NAN.tobytes()  # NaN payload kept
    assert back.raw.original_labels[0] == "Zoë:M00 "
    assert back.raw.path == Path("session") / "walk_01.c3d"
    assert isinstance(back.raw.processing, MappingProxyType)
    assert back.event_edits[0].when_utc == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)


def test_generic_values_round_trip(tmp_path):
    value = Outer(name="ßtrange/näme", when=dt.date(2020, 2, 29),
                  stamp=dt.datetime(2021, 1, 2, 3, 4, 5), where=Path("a") / "b c.c3d",
                  flags=(True, False), inner=(Inner(1), Inner(2, float("nan")), Inner(-3, 2.5)),
                  table={"": None, "a/b": [1, 2.0, "x", (3, 4)], "_x": {"nested": np.arange(5)},
                         ".": frozenset({"p"}), 7: "int key", "nul": "a\x00b"},
                  arr=np.array([["ab", "c"], ["d", "éé"]]), long_text="x" * 20000)
    value = dataclasses.replace(value, table={**value.table, ("walk", "Left"): 1.5, ("a", None, 2): "t", 2.5: True})
    back = _roundtrip(tmp_path, value)
    assert_same(value, back)


def test_large_arrays_compressed_and_identical_ones_stored_once(tmp_path):
    out = make_outputs(2000)
    pair = {"a": out, "b": out}  # the same object twice: arrays hard-linked, not duplicated
    with h5py.File(tmp_path / "x.h5", "w") as f:
        ser.save(f.create_group("v"), pair)
    with h5py.File(tmp_path / "x.h5", "r") as f:
        ds = f["v/a/channels/LKneeAngles"]
        assert ds.compression == "gzip" and ds.fletcher32
        assert ds.id == f["v/b/channels/LKneeAngles"].id  # one object, two links
    assert (tmp_path / "x.h5").stat().st_size < 2 * 2000 * 3 * 8 * 3 + 2 * 2000 * 16 * 8 * 2


def test_added_field_takes_its_default(tmp_path):
    tag = ser.type_tag(OldShape)
    ser._REGISTERED[tag] = OldShape
    with h5py.File(tmp_path / "x.h5", "w") as f:
        ser.save(f.create_group("v"), OldShape(5))
    ser._REGISTERED[tag] = NewShape  # the class gained a field since the file was written
    try:
        with h5py.File(tmp_path / "x.h5", "r") as f:
            back = ser.load(f["v"])
    finally:
        ser._REGISTERED[tag] = OldShape
    assert back == NewShape(5, "default")


def test_required_field_missing_is_reported(tmp_path):
    tree = ser.encode(Inner(1))
    del tree.attrs["a"]
    with pytest.raises(StoreError, match="lacks required field.*a"):
        ser.decode(tree, "x")


def test_types_outside_the_allow_list_are_refused():
    tree = ser.encode(Inner(1))
    tree.attrs["__type__"] = "os.system"
    with pytest.raises(StoreError, match="not a known Genu Lab type"):
        ser.decode(tree)
    tree.attrs["__type__"] = "subprocess.Popen"
    with pytest.raises(StoreError, match="outside the allowed core modules"):
        ser.decode(tree)


def test_unsupported_value_names_the_field():
    with pytest.raises(StoreError, match=r"x\.table\['k'\]|table.k|cannot store"):
        ser.encode({"table": {"k": object()}}, "x")


def test_digest_detects_a_changed_value():
    t = make_trial()
    a = ser.encode(t)
    b = ser.encode(t.with_changes(points=np.where(np.isnan(t.points), t.points, t.points + 1e-12)))
    assert ser.node_digest(a) != ser.node_digest(b)
    assert ser.node_digest(a) == ser.node_digest(ser.encode(t))


@dataclasses.dataclass(frozen=True)
class NoFields:
    pass


ser.register_types(NoFields)


def test_edge_values_round_trip(tmp_path):
    value = {"empty": NoFields(), "surrogate": "a\udc80b", "key\udc81": 1, "items": ("x", "y\udc82"),
             "no_str": np.array([], dtype="<U3"), "no_rows": np.zeros((0, 3)), "bools": np.array([True, False]),
             "complex": np.array([1 + 2j]), "i8": np.int8(3), "f32": np.float32(1.5), "nb": np.bool_(True),
             "inf": float("-inf"), "big": 2 ** 62, "huge": -(3 ** 90), "nested": ((), [], {}, (None,)),
             "odd_path": Path("caf\udce9") / ("x" * 9000)}
    assert_same(value, _roundtrip(tmp_path, value))


# ------------------------------------------- stores written before the core layout (issue 13)
def test_types_of_the_former_layout_resolve_to_their_new_modules():
    from core.analysis.types import TrialAnalysis
    from core.gait.pipeline import ProcessedTrial, ProcessingSettings
    from core.io.markersets import MarkerSet
    assert ser.resolve_type("core.analysis.TrialAnalysis") is TrialAnalysis
    assert ser.resolve_type("core.pipeline.ProcessedTrial") is ProcessedTrial
    assert ser.resolve_type("core.pipeline.ProcessingSettings") is ProcessingSettings
    assert ser.resolve_type("core.markersets.MarkerSet") is MarkerSet
    with pytest.raises(StoreError, match="not a known Genu Lab type"):
        ser.resolve_type("core.pipeline.NoSuchThing")


def test_a_tree_written_with_former_tags_decodes_and_its_settings_are_current(tmp_path):
    from core.gait.pipeline import ProcessingSettings
    from core.store.schema import TrialInfo
    from core.store.store import settings_digest, staleness
    settings = ProcessingSettings(fill_gaps_max_frames=3)
    old_tree = ser.with_former_tags(ser.encode(settings))
    assert old_tree.attrs["__type__"] == "core.pipeline.ProcessingSettings"
    with h5py.File(tmp_path / "old.h5", "w") as f:
        ser.write_node(f.create_group("v"), old_tree)
    with h5py.File(tmp_path / "old.h5", "r") as f:
        assert ser.decode(ser.read_node(f["v"])) == settings
    former_digest = ser.node_digest(old_tree)[:16]
    assert former_digest != settings_digest(settings)
    info = TrialInfo(trial_id="T001", name="walk", settings_digest=former_digest)
    assert staleness(info, settings) == ""
    assert staleness(info, ProcessingSettings(fill_gaps_max_frames=4)) == "processed with other settings"


# ------------------------------------------------------------------------ packed layout
def test_packed_layout_keeps_large_arrays_browsable_and_hard_linked(tmp_path):
    rec = make_record()
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        links: dict = {}
        packed.save(f.create_group("a"), rec, links=links)
        packed.save(f.create_group("b"), rec, links=links)
    with h5py.File(tmp_path / "x.h5", "r") as f:
        pts = f["a/raw/points"]                                    # natural path, compressed, checksummed
        assert pts.shape == rec.raw.points.shape and pts.compression == "gzip" and pts.fletcher32
        assert f["b/raw/points"].id == pts.id                     # second copy stored once
        assert set(f["a"].keys()) >= {packed.TREE, packed.SMALL}
        node = packed.read_tree(f["a"])
    assert_same(rec, ser.decode(node))


def test_packed_identical_arrays_decompressed_once_decoded_apart(tmp_path):
    big = np.random.default_rng(3).normal(size=(3000, 3))
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        packed.save(f.create_group("v"), {"x": big, "y": big.copy(), "small": big[:2].copy()})
    with h5py.File(tmp_path / "x.h5", "r") as f:
        assert f["v/x"].id == f["v/y"].id
        back = ser.decode(packed.read_tree(f["v"]))
    assert np.array_equal(back["x"], big) and np.array_equal(back["y"], big)
    back["x"][0] = 0.0                                        # separate arrays once decoded
    assert np.array_equal(back["y"], big) and np.array_equal(back["small"], big[:2])


def test_damaged_packed_record_is_named(tmp_path):
    with h5py.File(tmp_path / "x.h5", "w", libver=("v108", "latest")) as f:
        packed.save(f.create_group("v"), make_record())
    with h5py.File(tmp_path / "x.h5", "r+") as f:
        text = f["v/__tree__"].asstr()[()]
        del f["v/__tree__"]
        f["v"].create_dataset("__tree__", data=text[: len(text) // 2], dtype=h5py.string_dtype("utf-8"))
    with h5py.File(tmp_path / "x.h5", "r") as f, pytest.raises(StoreError, match=r"/v"):
        packed.read_tree(f["v"])
    with h5py.File(tmp_path / "x.h5", "r+") as f:
        del f["v/__tree__"]
        f["v"].create_dataset("__tree__", data=text, dtype=h5py.string_dtype("utf-8"))
        del f["v/raw/points"]
    with h5py.File(tmp_path / "x.h5", "r") as f, pytest.raises(StoreError, match=r"/v/raw/points"):
        packed.read_tree(f["v"])
