"""Session folders under an archive root.

A session folder is a folder holding at least one ``.c3d`` file (any case), as
``genulab import`` takes it; what it holds (static, dynamics, subject file) is decided by
:func:`core.gait.session.discover_session` inside the task, so a folder that cannot be
understood is reported by its own task and never stops the discovery. Hidden folders,
patient stores (``.genu``) and the output folder are not entered.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from core.errors import GenuError


@dataclass(frozen=True)
class SessionEntry:
    """One session folder found under the root.

    path: the folder. rel: its path relative to the root (POSIX form, ``"."`` for the root
    itself). n_c3d: number of C3D files in it (the static included), for progress counts.
    """

    path: Path
    rel: str
    n_c3d: int


def _skip(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(".genu") or name == "__pycache__"


def find_sessions(root: Path | str, exclude: Iterable[Path | str] = ()) -> list[SessionEntry]:
    """Every session folder under ``root``, sorted by relative path.

    Parameters
    ----------
    root: the archive folder.
    exclude: folders not to enter (e.g. the output folder when it lies inside the root).

    Raises
    ------
    GenuError: the root is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise GenuError("archive folder not found", root)
    skip = {Path(p).resolve() for p in exclude}
    found: list[SessionEntry] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _skip(d) and (Path(here) / d).resolve() not in skip)
        n = sum(1 for f in files if f.lower().endswith(".c3d") and not f.startswith("."))
        if n:
            rel = Path(here).relative_to(root).as_posix()
            found.append(SessionEntry(Path(here), rel, n))
    return sorted(found, key=lambda e: e.rel)


def output_folder(out: Path, rel: str) -> Path:
    """The output folder of a session: ``out`` mirroring the root (``out`` itself for ``"."``)."""
    return out if rel in ("", ".") else out / rel


def nested_sessions(entries: Iterable[SessionEntry]) -> Optional[tuple[str, str]]:
    """A pair (outer, inner) of session folders where one lies inside the other, or None.

    Their output folders would be nested too, and replacing the outer one would remove the
    inner one's outputs, so the runner refuses such a tree.
    """
    rels = {e.rel for e in entries}
    for rel in sorted(rels):
        if rel != "." and "." in rels:
            return ".", rel
        parts = rel.split("/")
        for i in range(1, len(parts)):
            outer = "/".join(parts[:i])
            if outer in rels:
                return outer, rel
    return None
