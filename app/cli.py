"""The ``genulab`` command line.

Each subcommand lives in ``app/commands/<name>.py`` and is loaded only when used, so the
headless commands never import Qt. Errors of the ``GenuError`` family are printed as one
line (``genulab: <file>: <reason>``) with exit code 2; nothing prints a raw traceback for
bad input.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

#: subcommand name -> module under app.commands
COMMANDS = {
    "inspect": "inspect_cmd",
    "calibrate": "calibrate_cmd",
    "process": "process_cmd",
    "analyze": "analyze_cmd",
    "compare": "compare_cmd",
    "import": "import_cmd",
    "ls": "ls_cmd",
    "norms": "norms_cmd",
    "export": "export_cmd",
    "report": "report_cmd",
    "demo": "demo_cmd",
    "batch": "batch_cmd",
    "gui": "gui_cmd",
}


def _available_modules() -> dict[str, str]:
    found = {}
    for name, mod in COMMANDS.items():
        if importlib.util.find_spec(f"app.commands.{mod}") is not None:
            found[name] = mod
    return found


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only`` the module of that one subcommand is imported."""
    parser = argparse.ArgumentParser(prog="genulab", description="Genu Lab: CGM1 gait kinematics and dynamic knee valgus analysis.")
    from core import __version__
    parser.add_argument("--version", action="version", version=f"genulab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, mod in _available_modules().items():
        if only is not None and name != only:
            sub.add_parser(name, help="")  # placeholder so usage lists every command
            continue
        module = importlib.import_module(f"app.commands.{mod}")
        module.register(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    from core.errors import GenuError
    try:
        return int(args.func(args) or 0)
    except GenuError as exc:
        print(f"genulab: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # a file system problem the command did not anticipate (output path is a file, no
        # permission, disk full ...): one line naming the path, never a traceback
        import errno
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        why = {errno.EEXIST: "a file is in the way where a folder is needed",
               errno.ENOTDIR: "a file is in the way where a folder is needed",
               errno.EISDIR: "is a folder, not a file",
               errno.ENOSPC: "no space left on the device",
               errno.EACCES: "permission denied"}.get(exc.errno, exc.strerror or str(exc))
        print(f"genulab: {where}{why}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("genulab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
