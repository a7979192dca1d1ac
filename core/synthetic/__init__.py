"""Synthetic sample sessions with known truth (an independent forward model of CGM1 markers).

Modules: ``rotations`` (own Cardan YXZ), ``subject`` (patient and geometry), ``curves``
(prescribed shapes), ``skeleton`` (angles -> segment poses), ``markers`` (Plug-in Gait marker
placement), ``tasks`` (static, walk, single-leg squat, drop landing), ``valgus_truth`` (true
metrics and phases), ``catalogue`` (the sessions), ``generate`` (in-memory API),
``writer`` (C3D/VSK/JSON), ``make_samples`` (command line).

This package must never import the engine (``core.kinematics``, ``core.analysis.valgus``,
``core.analysis``, ``core.io``): the samples test the engine.
"""
