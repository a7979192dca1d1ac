"""Atomic file replacement: a reader sees the old file or the new one, never a mix.

The new content is written to a temporary file beside the target (same directory, hence
the same file system), flushed and ``fsync``-ed, then moved over the target with
:func:`os.replace` (atomic on POSIX and Windows), and the directory entry is ``fsync``-ed.
A process killed at any point leaves the previous file intact; the orphan temporary file
is removed by the next writer (:func:`remove_orphans`).
"""
from __future__ import annotations

import errno
import os
import re
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


def write_failure(exc: BaseException) -> str:
    """A short reason for a failed HDF5/OS write (h5py wraps the C library's text).

    ``errno = 28`` (no space left on device) and ``errno = 27`` (file too large, e.g. a
    file-size limit) are named in words; otherwise the system's or h5py's message.
    """
    text = " ".join(str(exc).split())
    code = getattr(exc, "errno", None)
    m = re.search(r"errno = (\d+)", text)
    code = int(m.group(1)) if m else code
    if code == errno.ENOSPC:
        return "no space left on device"
    if code == errno.EFBIG:
        return "file too large (no space left or a file-size limit)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    m = re.search(r"error message = '([^']*)'", text)
    return m.group(1) if m else text[:200]


@contextmanager
def atomic_h5(target: Path, libver=("v108", "latest")) -> Iterator[h5py.File]:
    """Write an HDF5 file atomically: ``with atomic_h5(p) as f: ...`` replaces ``p`` on success.

    The file is built in memory (HDF5 "core" driver without backing store) and its image
    written to the temporary file by Python, so that a failed write (disk full, file-size
    limit) is an ordinary ``OSError`` here: the HDF5 library never holds a half-flushed
    file, which it would try to flush again at interpreter exit and crash. The temporary
    file is created empty first, so that a writer killed at any point leaves an orphan the
    next writer removes.

    Raises
    ------
    StoreError
        If the file cannot be written (disk full, permissions...), naming the target; the
        target is untouched and the temporary file removed.
    """
    target = Path(target)
    tmp = temp_path(target)
    try:
        tmp.open("xb").close()
        f = h5py.File(f"{tmp}.mem", "w", driver="core", backing_store=False, libver=libver)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write: {write_failure(exc)}", target) from None
    try:
        yield f
        f.flush()
        image = f.id.get_file_image()
        f.close()
        with open(tmp, "wb") as fh:
            fh.write(image)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        fsync_path(target.parent)
    except BaseException as exc:
        try:
            f.close()
        except Exception:
            pass
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (OSError, ValueError)) and not isinstance(exc, StoreError):
            raise StoreError(f"cannot save: {write_failure(exc)}", target) from None
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
