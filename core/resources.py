"""One helper to locate the package data in ``resources/`` (source tree, wheel or frozen app)."""
from __future__ import annotations

from importlib import resources as _ir
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a file or folder under ``resources/``, e.g. ``resource_path('markersets', 'pig_lower_body.json')``."""
    base = Path(str(_ir.files("resources")))
    return base.joinpath(*parts)
