"""Background work on a ``QThreadPool``: the core's long functions never freeze the window.

:class:`TaskRunner` runs a plain function ``fn(progress, cancelled) -> result`` in a
:class:`QRunnable`; ``progress(fraction, message)`` and ``cancelled()`` are the plain
callables the engine expects. Results and errors come back to the GUI thread through
queued signals; the function returns plain core/app objects and never touches a widget.
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable, Optional

from app.qtcompat import emit
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.errors import CancelledError


class _Signals(QObject):
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object, str)     # exception, formatted traceback
    cancelled = Signal()


class Task(QRunnable):
    """One unit of background work adapting Qt signals to the core's callables."""

    def __init__(self, fn: Callable[[Callable[[float, str], None], Callable[[], bool]], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.setAutoDelete(False)

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(lambda f, m="": emit(self.signals.progress, float(f), str(m)), self.is_cancelled)
        except CancelledError:
            emit(self.signals.cancelled)
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the dialog
            emit(self.signals.failed, exc, traceback.format_exc())
        else:
            if self.is_cancelled():
                emit(self.signals.cancelled)
            else:
                emit(self.signals.finished, result)


class TaskRunner(QObject):
    """Runs one task at a time and reports its state.

    Signals: started(str label), progress(float, str), finished(object result),
    failed(object exception, str traceback), cancelled(), idle().
    """

    started = Signal(str)
    progress = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object, str)
    cancelled = Signal()
    idle = Signal()

    def __init__(self, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool.globalInstance()
        self.task: Optional[Task] = None
        self._callbacks: dict[int, Callable[[Any], None]] = {}

    @property
    def busy(self) -> bool:
        return self.task is not None

    def run(self, label: str, fn, on_done: Optional[Callable[[Any], None]] = None) -> Task:
        """Start ``fn(progress, cancelled)`` in the pool; ``on_done(result)`` on success."""
        task = Task(fn)
        self.task = task
        s = task.signals
        s.progress.connect(self.progress)
        s.finished.connect(lambda r, t=task: self._finish(t, r, on_done))
        s.failed.connect(lambda e, tb, t=task: self._end(t, lambda: emit(self.failed, e, tb)))
        s.cancelled.connect(lambda t=task: self._end(t, lambda: emit(self.cancelled)))
        emit(self.started, label)
        self.pool.start(task)
        return task

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _finish(self, task: Task, result, on_done) -> None:
        def done():
            if on_done is not None:
                on_done(result)
            emit(self.finished, result)
        self._end(task, done)

    def _end(self, task: Task, notify: Callable[[], None]) -> None:
        if self.task is task:
            self.task = None
        try:
            notify()
        finally:
            emit(self.idle)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)
