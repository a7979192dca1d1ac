"""The machine-readable batch log: one JSON object per line, flushed as it is written.

Records: ``{"event": "start", ...}`` (root, output, engine, workers, sessions found),
``{"event": "task", ...}`` per finished session (:meth:`SessionResult.record`), and
``{"event": "end", ...}`` with the counts and whether the run was interrupted. Lines are
appended, so the log of a resumed run follows the earlier one.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Mapping, Optional, TextIO


class JsonLinesLog:
    """Append JSON lines to a file (``None``: keep nothing)."""

    def __init__(self, path: Optional[Path | str]) -> None:
        self.path = Path(path) if path is not None else None
        self._fh: Optional[TextIO] = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")

    def write(self, event: str, record: Mapping[str, Any]) -> None:
        """One line ``{"event": event, "time": ISO UTC, **record}``."""
        if self._fh is None:
            return
        line = {"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **record}
        self._fh.write(json.dumps(line, default=str) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "JsonLinesLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_log(path: Path | str) -> list[dict]:
    """Every record of a JSON-lines log (blank lines ignored)."""
    return [json.loads(l) for l in Path(path).read_text(encoding="utf-8").splitlines() if l.strip()]
