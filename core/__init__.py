"""Genu Lab engine: headless, never imports Qt, VTK or ``app``."""
__version__ = "0.1.0"
