"""C3D input and output of Genu Lab (public entry points).

* :func:`read_c3d` - a C3D file (Intel, DEC or MIPS; damaged parameter sections repaired
  where they can be) -> :class:`core.model.Trial` (see :mod:`core.io.c3d_read`).
* :func:`write_processed_c3d`, :func:`write_trial_c3d` - C3D writers
  (see :mod:`core.io.c3d_write`).
* :func:`write_outputs_csv` - model outputs as CSV (see :mod:`core.io.csv_out`).
"""
from __future__ import annotations

from core.io.c3d_read import normalise_label, read_c3d, unit_scale

__all__ = ["read_c3d", "normalise_label", "unit_scale"]

try:  # the writers land after the reader; keep the reader importable on its own
    from core.io.c3d_write import write_processed_c3d, write_trial_c3d  # noqa: F401
    from core.io.csv_out import write_outputs_csv  # noqa: F401

    __all__ += ["write_processed_c3d", "write_trial_c3d", "write_outputs_csv"]
except ImportError:  # pragma: no cover
    pass
