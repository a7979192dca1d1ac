"""Entry point of the frozen application: ``genulab`` with no arguments starts the GUI.

``genulab gui PATH...`` and every headless subcommand (``genulab process ...``) work as in
the installed package.
"""
import sys

from app.cli import COMMANDS, main

if __name__ == "__main__":
    import multiprocessing
    multiprocessing.freeze_support()   # the batch's worker processes start from this executable
    argv = sys.argv[1:]
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["gui"] + argv          # double-click, or paths dropped on the executable
    sys.exit(main(argv))
