"""Package data of Genu Lab (marker sets, normative data, icons)."""
