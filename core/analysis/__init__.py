"""The clinical analysis of processed trials and sessions (docs/analysis.md).

``types`` (the result objects and settings: the documented contract; imports no step) <-
``valgus`` (metrics and phases), ``tasks`` (task, side and task windows), ``chain``
(kinetic-chain summary), ``spatiotemporal``, ``normative`` (normal bands), ``stats``
(cycle statistics, GVS/GPS, change rules) <- ``trial`` (one trial) <- ``session`` (a
session) and ``comparison`` (pre/post).

Imports: the layers below (core.gait, core.kinematics, core.io, core.model); never
core.store, core.report or app (tests/test_architecture.py). This package's own
``__init__`` imports nothing, so ``import core.analysis.types`` stays cheap.
"""
