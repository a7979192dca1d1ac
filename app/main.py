"""GUI entry point: QApplication, logging, the error-dialog excepthook, the main window."""
from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Optional, Sequence

log = logging.getLogger("genulab.app")


def _icon_path() -> Optional[Path]:
    try:
        from core.resources import resource_path
        p = resource_path("icons", "genulab.png")
        return p if p.exists() else None
    except Exception:  # noqa: BLE001
        return None


def install_excepthook(window) -> None:
    """Uncaught exceptions in Qt slots show the error dialog instead of killing the app."""
    def hook(exc_type, exc, tb):
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception\n%s", details)
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        try:
            window.show_error(exc, details)
        except Exception:  # noqa: BLE001 - never recurse
            sys.__excepthook__(exc_type, exc, tb)
    sys.excepthook = hook


def style_application(app) -> None:
    """A calm, readable clinical look (Fusion style, light palette, 10 pt UI font)."""
    from PySide6.QtGui import QFont
    app.setStyle("Fusion")
    f = QFont(app.font())
    f.setPointSizeF(max(f.pointSizeF(), 9.5))
    app.setFont(f)
    app.setStyleSheet("""
        QMainWindow, QDockWidget { background: #f4f6f8; }
        QDockWidget::title { background: #e5e9ef; padding: 4px 8px; font-weight: bold; }
        QTabWidget::pane { border: 1px solid #d5dbe3; background: white; }
        QTabBar::tab { padding: 5px 14px; background: #e9edf2; border: 1px solid #d5dbe3; }
        QTabBar::tab:selected { background: white; font-weight: bold; }
        QToolBar { background: #eef1f5; border: 0; spacing: 2px; }
        QToolBar QToolButton { padding: 2px 4px; font-size: 9pt; }
        QToolBar QToolButton:checked { background: #cfdcec; border-radius: 3px; }
        QTreeWidget, QTableWidget { background: white; alternate-background-color: #f6f8fa; }
        QHeaderView::section { background: #eef1f5; padding: 3px; border: 0; border-bottom: 1px solid #d5dbe3; }
        QStatusBar { background: #eef1f5; }
    """)


def create_app(argv: Optional[Sequence[str]] = None):
    """The QApplication (existing one reused)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setOrganizationName("GenuLab")
    app.setApplicationName("Genu Lab")
    icon = _icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    style_application(app)
    return app


def setup_logging() -> Optional[Path]:
    """Log to stderr and to ``genulab.log`` in the user's application-data folder (rotated)."""
    from logging.handlers import RotatingFileHandler
    from PySide6.QtCore import QStandardPaths
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt)
    folder = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation)
    if not folder:
        return None
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(Path(folder) / "genulab.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(fmt))
    logging.getLogger().addHandler(handler)
    return Path(folder) / "genulab.log"


def run(paths: Sequence[str] = (), exit_after_ms: Optional[int] = None) -> int:
    """Start the desktop app, open ``paths``; returns the exit code.

    ``exit_after_ms`` quits after that delay (used by the packaging smoke test).
    """
    app = create_app()
    log_file = setup_logging()
    from core import __version__
    log.info("Genu Lab %s started (log file: %s)", __version__, log_file)
    from PySide6.QtCore import QTimer
    from app.main_window import MainWindow
    win = MainWindow()
    install_excepthook(win)
    win.show()
    if paths:
        QTimer.singleShot(0, lambda: win.open_paths(list(paths)))
    if exit_after_ms is not None:
        def finish():
            n = sum(len(s.trials) for s in win.state.sessions)
            print(f"genulab gui: opened {len(win.state.sessions)} session(s), {n} trial(s)", flush=True)
            win.close()
            app.exit(0 if (n or not paths) else 3)
        QTimer.singleShot(int(exit_after_ms), finish)
    return int(app.exec())
