"""The Genu Lab exception family.

Every problem the engine can report to a user is one of these, carrying enough context
(file, marker, parameter) to be shown as a one-line message on the command line or in an
error dialog. No engine function returns a sentinel for failure.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Sequence


class GenuError(Exception):
    """Base class of every error Genu Lab raises on purpose.

    Parameters
    ----------
    message:
        What went wrong, in words a gait-lab user understands.
    path:
        The file concerned, if any; it is prefixed to the message.
    """

    def __init__(self, message: str, path: Optional[Path | str] = None) -> None:
        self.path = Path(path) if path is not None else None
        self.reason = message
        super().__init__(f"{self.path}: {message}" if self.path is not None else message)


class C3DReadError(GenuError):
    """A C3D file could not be read (empty, truncated, corrupt, unsupported)."""


class C3DWriteError(GenuError):
    """A C3D or CSV output could not be written."""


class MissingMarkersError(GenuError):
    """Markers required by the model are absent from a trial.

    Attributes
    ----------
    markers:
        The missing marker names, as the marker set spells them.
    """

    def __init__(self, markers: Iterable[str], path: Optional[Path | str] = None,
                 context: str = "") -> None:
        self.markers: tuple[str, ...] = tuple(markers)
        what = f" for {context}" if context else ""
        super().__init__(f"missing required markers{what}: {', '.join(self.markers)}", path)


class SubjectParameterError(GenuError):
    """Required subject parameters are missing or invalid.

    Attributes
    ----------
    parameters:
        Names of the offending parameters (Vicon VSK names).
    searched:
        Where the values were looked for, lowest precedence first.
    """

    def __init__(self, parameters: Sequence[str], searched: Sequence[str] = (),
                 detail: str = "", path: Optional[Path | str] = None) -> None:
        self.parameters = tuple(parameters)
        self.searched = tuple(searched)
        msg = f"subject parameter(s) {', '.join(self.parameters)} "
        msg += detail or "missing"
        if self.searched:
            msg += f" (looked in: {'; '.join(self.searched)})"
        super().__init__(msg, path)


class CalibrationError(GenuError):
    """The static calibration could not be done (e.g. no frame with all needed markers)."""


class InsufficientEventsError(GenuError):
    """A step needs gait events (or task windows) that the trial does not have."""


class AnalysisError(GenuError):
    """The clinical analysis could not be run on the given input."""


class NormativeDataError(GenuError):
    """A normative data set is malformed or lacks a requested variable."""


class StoreError(GenuError):
    """A patient store is damaged, locked, of an unknown schema, or cannot be saved."""


class StoreLockedError(StoreError):
    """Another process is writing the store."""


class ReportError(GenuError):
    """The PDF report could not be produced."""


class CancelledError(GenuError):
    """The user cancelled a long-running operation."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)


class ForcePlateError(GenuError):
    """A force platform cannot be used: a parameter or channel it needs is absent or invalid.

    Attributes
    ----------
    plate:
        1-based number of the plate in FORCE_PLATFORM (as Nexus and Mokka number them).
    parameter:
        The FORCE_PLATFORM / ANALOG parameter or channel concerned.
    """

    def __init__(self, plate: int, parameter: str, detail: str,
                 path: Optional[Path | str] = None) -> None:
        self.plate = int(plate)
        self.parameter = parameter
        super().__init__(f"force plate {self.plate}: {parameter}: {detail}", path)
