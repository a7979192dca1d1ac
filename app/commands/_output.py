"""Output helpers shared by the subcommands."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from core.errors import GenuError


def default_file_mode() -> int:
    """0666 & ~umask: the mode an ordinary new file gets (temporary files are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def check_output_path(target: str | Path | None) -> None:
    """Fail early (before long work) when an output file cannot be written where asked.

    Raises GenuError naming the path when a parent on the way is an existing file.
    """
    if target in (None, "-"):
        return
    for parent in Path(target).parents:
        if parent.exists():
            if not parent.is_dir():
                raise GenuError(f"cannot write here: {parent} is a file, not a folder", target)
            return


def write_json(data: object, target: str | Path, indent: int = 2) -> None:
    """Write JSON to ``target`` atomically (temporary file + replace), ``'-'`` = standard output.

    The folder is created if needed; problems raise GenuError naming the path.
    """
    text = json.dumps(data, indent=indent)
    if str(target) == "-":
        sys.stdout.write(text + "\n")
        return
    out = Path(target)
    check_output_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GenuError(f"cannot write the JSON: {exc.strerror or exc}", out) from None
