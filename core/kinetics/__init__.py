"""Plug-in Gait kinetics: force plates, foot contacts, inverse dynamics (docs/kinetics.md).

The one entry point is :func:`core.kinetics.inverse_dynamics.compute_kinetics`.
"""
