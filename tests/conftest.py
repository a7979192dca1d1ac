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


@pytest.fixture(scope="session", autouse=True)
def _lab_settings_session(tmp_path_factory):
    """The session's lab settings file (GENULAB_CONFIG, empty), also for module fixtures."""
    old = os.environ.get("GENULAB_CONFIG")
    os.environ["GENULAB_CONFIG"] = str(tmp_path_factory.mktemp("labcfg-session") / "settings.json")
    yield
    if old is None:
        os.environ.pop("GENULAB_CONFIG", None)
    else:
        os.environ["GENULAB_CONFIG"] = old


@pytest.fixture(autouse=True)
def _lab_settings_isolated(tmp_path_factory, monkeypatch):
    """Every test sees an empty lab settings file of its own (GENULAB_CONFIG), never the
    user's: a lab default chosen by one test must not leak into another's results."""
    monkeypatch.setenv("GENULAB_CONFIG", str(tmp_path_factory.mktemp("labcfg") / "settings.json"))
