"""``genulab gui [PATH...]``: the desktop application (Qt is imported only here, lazily)."""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser("gui", help="start the desktop application",
                              description="Start the Genu Lab desktop application and open C3D files, "
                                          "session folders or patient stores.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="C3D files, session folders or .genu stores to open")
    p.add_argument("--exit-after", type=float, default=None, metavar="SECONDS",
                   help=argparse.SUPPRESS)  # smoke tests: quit after this many seconds
    p.set_defaults(func=run)


def run(args) -> int:
    from app.main import run as run_gui
    ms = None if args.exit_after is None else int(args.exit_after * 1000)
    return run_gui(args.paths, exit_after_ms=ms)
