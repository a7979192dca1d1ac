"""File input/output (C3D via ezc3d, subject files, CSV)."""
