"""Work-arounds for defects of the Qt binding in use.

PySide6 6.12.0 (abi3 wheels) assumes the CPython 3.12 rule that ``None``, ``True`` and
``False`` are immortal (PEP 683): methods returning ``void`` hand out ``None`` and
``SignalInstance.emit()`` hands out ``True``/``False`` without taking a reference for the
caller. On CPython 3.11 every such call removes one reference from the singleton, and after
some thousands of calls (a minute of playback) the interpreter aborts with
"none_dealloc: deallocating None" or "bool_dealloc".

:func:`protect_singletons` gives those three objects the immortality the binding assumes
(a very large reference count, as CPython 3.12 does), only on CPython < 3.12 and only when a
probe shows the defect. :func:`emit` is kept as the one place signals are emitted from.
"""
from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, QTimer, Signal

#: references added to each singleton: far more than any session can consume, far below
#: the Py_ssize_t limit
_RESERVE = 1 << 48


class _Probe(QObject):
    fired = Signal()


def _lost_references() -> int:
    """References of None/True/False lost by 8 void calls and 8 emits (0 when the binding is right)."""
    probe, timer = _Probe(), QTimer()
    before = [sys.getrefcount(o) for o in (None, True, False)]
    for _ in range(8):
        timer.stop()
        probe.fired.emit()
    after = [sys.getrefcount(o) for o in (None, True, False)]
    lost = [max(b - a, 0) for b, a in zip(before, after)]
    for obj, n in zip((None, True, False), lost):      # repair what the probe removed
        for _ in range(n):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
    return sum(lost)


def protect_singletons() -> bool:
    """Make None/True/False immortal where the binding needs it; True if it was needed."""
    if sys.version_info >= (3, 12) or _lost_references() == 0:
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _RESERVE
    return True


SINGLETONS_PROTECTED = protect_singletons()


def emit(signal, *args):
    """``signal.emit(*args)``: the app's single emission point (see the module notes)."""
    return signal.emit(*args)
