"""Atomic file replacement: a reader sees the old file or the new one, never a mix.

The new content is written to a temporary file beside the target (same directory, hence
the same file system), flushed and ``fsync``-ed, then moved over the target with
:func:`os.replace` (atomic on POSIX and Windows), and the directory entry is ``fsync``-ed.
A process killed at any point leaves the previous file intact; the orphan temporary file
is removed by the next writer (:func:`remove_orphans`).
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import h5py

from core.errors import StoreError

TMP_SUFFIX = ".tmp"


def temp_path(target: Path) -> Path:
    """A unique temporary name beside ``target`` (hidden, ``.tmp`` suffix)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_path(path: Path) -> None:
    """Flush a file's (or a directory's) content to disk; directories where the OS allows."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        return  # e.g. directories on Windows: nothing to flush
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_h5(target: Path, libver=("v108", "latest")) -> Iterator[h5py.File]:
    """Write an HDF5 file atomically: ``with atomic_h5(p) as f: ...`` replaces ``p`` on success.

    Raises
    ------
    StoreError
        If the file cannot be written (disk full, permissions...); the target is untouched.
    """
    target = Path(target)
    tmp = temp_path(target)
    try:
        f = h5py.File(tmp, "w", libver=libver)
    except OSError as exc:
        raise StoreError(f"cannot write: {exc}", target) from exc
    try:
        yield f
        f.flush()
        f.close()
        fsync_path(tmp)
        os.replace(tmp, target)
        fsync_path(target.parent)
    except BaseException as exc:
        try:
            f.close()
        except Exception:
            pass
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot save: {exc}", target) from exc
        raise


def remove_orphans(folder: Path) -> list[Path]:
    """Delete temporary files left by killed writers in ``folder``; returns what was removed."""
    removed = []
    for p in folder.glob(f".*{TMP_SUFFIX}"):
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed
