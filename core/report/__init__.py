"""Clinical PDF report (matplotlib object API only, never pyplot)."""
