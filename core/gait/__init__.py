"""The gait pipeline: from a read trial to model outputs, events and cycles.

``gaps`` (gap report and bounded filling) -> ``filtering`` (NaN-aware Butterworth) ->
``pipeline`` (subject, CGM1 calibration and reconstruction, the processing chain) ->
``events`` (file events, Zeni 2008 detection) -> ``cycles`` (gait cycles, time
normalisation); ``trial_checks`` (plausibility of the capture), ``trial_task`` (what a
trial is meant to be, from its name and parameters), ``session`` (session folders).

Imports: core.model/errors/variables, core.io, core.kinematics (never core.analysis,
core.store, core.report or app: tests/test_architecture.py).
"""
