"""The manifest of a session's batch outputs: what went in, with which settings and version.

``batch_manifest.json`` is written last into the session's temporary output folder, which
is then renamed into place, so an output folder that holds a valid manifest is complete.
``--resume`` skips a session whose manifest names the same inputs (file name -> SHA-256),
the same settings digest and the same Genu Lab version, and whose listed outputs exist.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional

from core import __version__

MANIFEST = "batch_manifest.json"
FORMAT = 1


def settings_digest(settings: Any) -> str:
    """SHA-256 (hex, 16 characters) of a settings object's plain JSON form (sorted keys)."""
    from core.analysis.types import to_jsonable
    text = json.dumps(to_jsonable(settings), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def manifest_record(inputs: Mapping[str, str], digest: str, outputs: Mapping[str, str],
                    status: str, extra: Optional[Mapping[str, Any]] = None) -> dict:
    """The manifest content.

    inputs: input file name -> SHA-256. digest: :func:`settings_digest` of the batch
    settings. outputs: output file name -> SHA-256. status: ``"ok"`` or ``"warnings"``.
    extra: more plain values (failures, store import ...).
    """
    return {"format": FORMAT, "app_version": __version__, "settings_digest": digest,
            "inputs": dict(sorted(inputs.items())), "outputs": dict(sorted(outputs.items())),
            "status": status, **dict(extra or {})}


def write_manifest(folder: Path, record: Mapping[str, Any]) -> Path:
    """Write the manifest into ``folder`` atomically (temporary file, fsync, replace)."""
    target = folder / MANIFEST
    tmp = folder / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def read_manifest(folder: Path) -> Optional[dict]:
    """The manifest of an output folder, or None when absent or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def manifest_current(folder: Path, inputs: Mapping[str, str], digest: str,
                     need_store: bool = False) -> tuple[bool, str]:
    """Whether the outputs in ``folder`` are complete and made from these inputs and settings.

    Returns ``(True, "")`` or ``(False, reason)`` (the reason is logged when a session is
    redone). With ``need_store`` the manifest must also record a successful store import.
    """
    m = read_manifest(folder)
    if m is None:
        return False, "no valid manifest"
    if m.get("app_version") != __version__:
        return False, f"made by Genu Lab {m.get('app_version')}, this is {__version__}"
    if m.get("settings_digest") != digest:
        return False, "settings changed"
    if m.get("inputs") != dict(sorted(inputs.items())):
        return False, "input files changed"
    missing = [n for n in m.get("outputs", {}) if not (folder / n).is_file()]
    if missing:
        return False, f"output missing: {missing[0]}"
    if need_store and m.get("store", {}).get("status") != "imported":
        return False, "not imported into the patient store"
    return True, ""
