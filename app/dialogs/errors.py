"""Error dialog: the file and the reason in plain words, details (traceback) on demand."""
from __future__ import annotations

import logging
from typing import Optional

from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import CancelledError, GenuError

log = logging.getLogger("genulab.app")


def describe(exc: BaseException) -> tuple[str, str]:
    """(file, reason) of an exception; file is "" when none applies."""
    if isinstance(exc, GenuError):
        return (str(exc.path) if exc.path is not None else ""), str(exc.reason)
    fname = getattr(exc, "filename", None)
    return (str(fname) if fname else ""), f"{type(exc).__name__}: {exc}"


def error_box(parent: Optional[QWidget], exc: BaseException, details: str = "",
              title: str = "Genu Lab") -> QMessageBox:
    """A non-blocking (``open()``) error message box; returned so tests can close it."""
    path, reason = describe(exc)
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Warning if isinstance(exc, GenuError) else QMessageBox.Critical)
    box.setWindowTitle(title)
    head = "Could not complete the operation." if not isinstance(exc, CancelledError) else "Cancelled."
    box.setText(f"<b>{head}</b>")
    info = (f"<b>File:</b> {path}<br>" if path else "") + f"<b>Reason:</b> {reason}"
    box.setInformativeText(info)
    if details and not isinstance(exc, GenuError):
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.Ok)
    log.warning("error shown: %s | %s", path, reason)
    box.open()
    return box
