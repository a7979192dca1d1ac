"""Conventional Gait Model 1.0 (Plug-in Gait lower body) kinematics."""
