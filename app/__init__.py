"""Genu Lab application layer (command line and Qt desktop app). Imports nothing heavy."""
