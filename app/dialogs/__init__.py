"""Dialogs of the desktop app: errors, subject parameters, export, about."""
