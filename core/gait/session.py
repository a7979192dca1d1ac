"""A Vicon-like session folder: static trial, dynamic trials, subject file, patient.

Layout understood (as Nexus leaves it)::

    Patient/                      <- may hold patient.json
        2024-05-02 pre/           <- the session; its label is the folder name
            Static 01.c3d         <- static: name says static/cal/calibration ...
            Walk 01.c3d, Walk 02.c3d, SLS 01.c3d ...
            Subject.vsk | Subject.mp | subject.json

The static trial is recognised by its name (a word starting with ``static``, ``cal``,
``calib`` or ``calibration``, any case). When no name says so, by its content: a short trial
(at most ``max_static_s`` seconds) whose pelvis moves less than ``max_static_travel_mm``.
When several candidates remain, the one whose pelvis moves least is chosen and the choice is
reported; the caller can choose another by passing ``static=``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import numpy as np

from core.errors import GenuError
from core.model import Trial

STATIC_WORDS = ("static", "cal", "calib", "calibration")


@dataclass(frozen=True)
class SessionFolder:
    """What a session folder holds.

    path: the folder. label: its name. static: the static trial chosen (or None).
    dynamics: the other C3D files, sorted by name. subject_file: ``.vsk``/``.mp``/
    ``subject.json`` found (or None). patient: contents of ``patient.json`` in the parent
    folder (or None); patient_file: its path. static_candidates: every trial that could be
    the static. notes: the decisions made (static choice, several subject files ...).
    sha256: file name -> SHA-256 (hex) of every C3D file of the folder (hashed once here).
    """

    path: Path
    label: str
    static: Optional[Path]
    dynamics: tuple[Path, ...]
    subject_file: Optional[Path] = None
    patient: Optional[Mapping[str, object]] = None
    patient_file: Optional[Path] = None
    static_candidates: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    sha256: Mapping[str, str] = field(default_factory=dict)

    def sha256_of(self, path: Path) -> str:
        """SHA-256 (hex) of one of the folder's C3D files (computed once, by discovery)."""
        return self.sha256.get(Path(path).name) or file_sha256(path)


def _c3d_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".c3d"),
                  key=lambda p: p.name.lower())


def is_static_name(path: Path) -> bool:
    """True if a word of the file name is static / cal / calib / calibration (digits ignored)."""
    words = [w.rstrip("0123456789") for w in re.split(r"[^a-z0-9]+", path.stem.lower())]
    return any(w in STATIC_WORDS for w in words)


def pelvis_travel_mm(trial: Trial) -> float:
    """Largest horizontal excursion (mm) of the ASIS midpoint over the trial (NaN if absent)."""
    if not (trial.has("LASI") and trial.has("RASI")):
        return float("nan")
    mid = 0.5 * (trial.point("LASI") + trial.point("RASI"))
    ok = ~np.isnan(mid).any(axis=1)
    if not ok.any():
        return float("nan")
    xy = mid[ok, :2]
    return float(np.ptp(xy, axis=0).max())


def _read(path: Path) -> Optional[Trial]:
    from core.io.c3d import read_c3d
    try:
        return read_c3d(path)
    except GenuError:
        return None


def _choose_static(files: Sequence[Path], max_static_s: float, max_travel_mm: float) -> tuple[Optional[Path], tuple[Path, ...], list[str]]:
    notes: list[str] = []
    named = [p for p in files if is_static_name(p)]
    pool = named
    if not named:
        pool = []
        for p in files:
            t = _read(p)
            if t is None:
                continue
            dur = t.n_frames / t.point_rate_hz
            travel = pelvis_travel_mm(t)
            if dur <= max_static_s and travel <= max_travel_mm:
                pool.append(p)
        if pool:
            notes.append("no file name says static: chosen by content (short trial, little pelvis displacement)")
    if not pool:
        notes.append("no static trial found")
        return None, (), notes
    if len(pool) == 1:
        if named:
            notes.append(f"static trial: {pool[0].name} (by name)")
        else:
            notes.append(f"static trial: {pool[0].name}")
        return pool[0], tuple(pool), notes
    travel = {p: pelvis_travel_mm(t) if (t := _read(p)) is not None else np.inf for p in pool}
    best = min(pool, key=lambda p: (np.nan_to_num(travel[p], nan=np.inf), p.name.lower()))
    notes.append(f"several static candidates ({', '.join(p.name for p in pool)}): chose {best.name} "
                 "(least pelvis displacement); pass static= to choose another")
    return best, tuple(pool), notes


def _subject_rank(p: Path) -> Optional[int]:
    name = p.name.lower()
    if name.endswith(".vsk"):
        return 0
    if name.endswith(".mp"):
        return 1
    if name == "subject.json":
        return 2
    return None


def _subject_file(folder: Path) -> tuple[Optional[Path], list[str]]:
    """The subject file of the folder: a .vsk, else a .mp, else subject.json."""
    found = sorted((p for p in folder.iterdir() if p.is_file() and _subject_rank(p) is not None),
                   key=lambda p: (_subject_rank(p), p.name.lower()))
    if not found:
        return None, []
    notes = [] if len(found) == 1 else [f"several subject files ({', '.join(p.name for p in found)}): using {found[0].name}"]
    return found[0], notes


def _patient(folder: Path) -> tuple[Optional[Mapping[str, object]], Optional[Path], list[str]]:
    for p in (folder.parent / "patient.json", folder / "patient.json"):
        if p.is_file():
            try:
                data = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise GenuError(f"cannot read patient file ({exc})", p) from exc
            if not isinstance(data, dict):
                raise GenuError("patient file must hold a JSON object", p)
            return data, p, []
    return None, None, []


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks."""
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _without_copies(files: Sequence[Path]) -> tuple[list[Path], list[str], dict[str, str]]:
    """Byte-identical copies of a file (e.g. 'walk - Copy.c3d') are used once: the original
    (a name without 'copy', else the shortest name) is kept and each copy named in a note.

    Counting a trial twice would double its cycles and narrow the pre/post intervals.
    Returns the files kept, the notes and every file's SHA-256 (file name -> hex).
    """
    kept, notes, seen, digests = [], [], {}, {}
    # the original before its copies: names without 'copy', then the shortest, then by name
    for p in sorted(files, key=lambda q: ("copy" in q.stem.lower(), len(q.name), q.name)):
        digest = digests[p.name] = file_sha256(p)
        if digest in seen:
            notes.append(f"{p.name} is a byte-identical copy of {seen[digest].name}: used once")
            continue
        seen[digest] = p
        kept.append(p)
    return sorted(kept), notes, digests


def discover_session(folder: Union[str, Path], static: Union[str, Path, None] = None,
                     max_static_s: float = 10.0, max_static_travel_mm: float = 200.0) -> SessionFolder:
    """Describe a session folder (see the module docstring).

    Parameters
    ----------
    folder: the session folder.
    static: the caller's choice of static trial (a path or a file name in the folder).
    max_static_s, max_static_travel_mm: content rule for a static trial when no name says so.

    Raises
    ------
    GenuError: the folder does not exist or holds no C3D file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise GenuError("session folder not found", folder)
    files = _c3d_files(folder)
    if not files:
        raise GenuError("no C3D file in the session folder", folder)
    files, dup_notes, digests = _without_copies(files)
    if static is not None:
        chosen = folder / static if (folder / static).is_file() else Path(static)
        if not chosen.is_file():
            raise GenuError("static trial not found", chosen)
        st, cands, notes = chosen, (chosen,), [f"static trial: {chosen.name} (chosen by the caller)"]
    else:
        st, cands, notes = _choose_static(files, max_static_s, max_static_travel_mm)
    dynamics = tuple(p for p in files if st is None or p.resolve() != st.resolve())
    subj, n2 = _subject_file(folder)
    patient, pfile, n3 = _patient(folder)
    return SessionFolder(folder, folder.name, st, dynamics, subj, patient, pfile, cands,
                         tuple(dup_notes + notes + n2 + n3), digests)
