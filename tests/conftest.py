"""Shared fixtures: the reference data in ../shared/reference (skip where absent)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_SHARED = ROOT.parent / "shared"
SHARED = Path(os.environ.get("GENULAB_SHARED", _DEFAULT_SHARED))
REFERENCE = SHARED / "reference"
NORMATIVE_SRC = SHARED / "normative"
SAMPLES = ROOT / "sample_c3d"


def reference_file(*parts: str) -> Path:
    """Path of a reference file; skips the test with a clear reason where it is absent."""
    p = REFERENCE.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"reference data not available: {p} (set GENULAB_SHARED to the shared/ folder)")
    return p


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference data not available: {REFERENCE} (set GENULAB_SHARED to the shared/ folder)")
    return REFERENCE


@pytest.fixture(autouse=True)
def _lab_settings_isolated(tmp_path_factory, monkeypatch):
    """Every test sees an empty lab settings file of its own (GENULAB_CONFIG), never the
    user's: the lab default normative set must not leak into results."""
    monkeypatch.setenv("GENULAB_CONFIG", str(tmp_path_factory.mktemp("labcfg") / "settings.json"))
