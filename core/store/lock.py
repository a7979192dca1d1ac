"""A lock file that lets one process write a store at a time.

The lock is a file created with ``O_CREAT | O_EXCL`` (atomic on local file systems) holding
the writer's pid, host name and start time as JSON. Another process asking to write gets
:class:`core.errors.StoreLockedError` ("locked by pid N on HOST since ...") and may open the
store read-only. A lock whose process no longer runs on this host is stale (the writer was
killed) and is taken over; a lock from another host is never broken automatically.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Optional

from core.errors import StoreError, StoreLockedError
from core.store.schema import utc_now


def _pid_alive_windows(pid: int) -> bool:
    import ctypes  # os.kill(pid, 0) would TERMINATE the process on Windows
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    try:
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    finally:
        kernel32.CloseHandle(handle)
    return bool(ok) and code.value == 259  # STILL_ACTIVE


def _pid_alive(pid: int) -> bool:
    """True if a process of this pid runs on this machine."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def read_lock(path: Path) -> Optional[dict]:
    """The holder described by a lock file ({} if unreadable), None if there is no lock."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError:
        return {}
    try:
        info = json.loads(text)
        return info if isinstance(info, dict) else {}
    except ValueError:
        return {}  # being written right now, or damaged


def is_stale(info: dict) -> bool:
    """True when the lock's process is known to be gone (same host, pid not running)."""
    if not info or info.get("host") != socket.gethostname():
        return False
    return not _pid_alive(int(info.get("pid", -1)))


class StoreLock:
    """The write lock of one store folder. Use as a context manager or acquire/release."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.held = False
        self.broke_stale: Optional[dict] = None

    def acquire(self) -> "StoreLock":
        """Take the lock or raise StoreLockedError naming the holder."""
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = read_lock(self.path)
                if info is None:
                    continue  # released meanwhile: try again
                if is_stale(info):
                    self._remove_stale(info)
                    continue
                raise StoreLockedError(self._message(info), self.path.parent)
            except OSError as exc:
                raise StoreError(f"cannot create the lock file: {exc}", self.path) from exc
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"pid": os.getpid(), "host": socket.gethostname(),
                           "since": utc_now().isoformat()}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            self.held = True
            return self
        raise StoreLockedError("the lock file keeps changing; another process is starting to write", self.path.parent)

    def _remove_stale(self, info: dict) -> None:
        # re-read just before removing, so a lock taken meanwhile by a live process survives
        if read_lock(self.path) == info:
            try:
                self.path.unlink()
                self.broke_stale = info
            except FileNotFoundError:
                pass

    @staticmethod
    def _message(info: dict) -> str:
        if not info:
            return "locked by another process (unreadable lock file); open it read-only"
        return (f"locked by pid {info.get('pid')} on {info.get('host')} since {info.get('since')}; "
                "it is being written by another process - open it read-only")

    def release(self) -> None:
        if self.held:
            info = read_lock(self.path)
            if info and info.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> "StoreLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
