"""app.qtcompat: the app survives PySide6 6.12.0's missing references to None/True/False.

Without the protection this test aborts the interpreter (none_dealloc / bool_dealloc) on
CPython 3.11; with a correct binding it simply passes.
"""
from __future__ import annotations

import sys

import pytest

pytest.importorskip("PySide6")


def test_emit_keeps_reference_counts_of_true_false_and_none():
    from PySide6.QtCore import QObject, Signal          # no application object needed (none created
    from app.qtcompat import emit                      # here, so later tests can make a QApplication)

    class Source(QObject):
        value = Signal(object)
        plain = Signal()

    src, got = Source(), []
    src.value.connect(got.append)
    from PySide6.QtCore import QTimer
    timer = QTimer()
    for i in range(300000):          # far more calls than None/True/False had references on 3.11
        emit(src.value, None if i % 2 else i)
        emit(src.plain)
        timer.stop()                 # a void method
    assert len(got) == 300000 and got[:3] == [0, None, 2]
    assert sys.getrefcount(None) > 1000 and sys.getrefcount(True) > 1000 and sys.getrefcount(False) > 1000
