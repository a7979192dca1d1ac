"""Settings > Normative data: the lab default normative set (shared with ``genulab norms``).

The choice is written to the lab settings file (``core.analysis.norm_choice.settings_path``)
that the command line reads too, so the app and ``genulab analyze`` judge a patient against
the same bands. Precedence: the analysis' own choice > this lab default > automatic by age.
It applies to sessions opened or re-analysed after the change.
"""
from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout

AUTOMATIC = "Automatic by the patient's age (no lab default)"


def set_choices() -> list[tuple[str, Optional[str]]]:
    """(display text, set name or None for automatic) of every choice."""
    from core.analysis.norm_choice import known_sets, load_any
    out: list[tuple[str, Optional[str]]] = [(AUTOMATIC, None)]
    for name in known_sets():
        try:
            ns = load_any(name)
        except Exception:  # noqa: BLE001 - an unreadable lab file is listed, not fatal
            out.append((f"{name} (unreadable)", name))
            continue
        n = f", n = {ns.n_subjects}" if ns.n_subjects else ""
        out.append((f"{ns.title or ns.name} \u2014 {ns.population} ({ns.age_text()}{n})", name))
    return out


class NormativeDialog(QDialog):
    """A combo box of the sets; :meth:`accept` writes the lab default."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from core.analysis.norm_choice import lab_default, settings_path
        self.setWindowTitle("Normative data")
        self.choices = set_choices()
        self.combo = QComboBox()
        for text, _ in self.choices:
            self.combo.addItem(text)
        current = lab_default()
        names = [n for _, n in self.choices]
        self.combo.setCurrentIndex(names.index(current) if current in names else 0)
        info = QLabel("Lab default normal bands, used when an analysis names no set. Without a lab default the "
                      "set is chosen by the patient's age; no adult set is shipped, so adults are judged against "
                      "Schwartz 2008 (children) with a caution. Import the lab's own adult set with "
                      "'genulab norms import'. Applies to sessions opened or re-analysed from now on.\n"
                      f"Settings file: {settings_path()}")
        info.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(info)
        lay.addWidget(self.combo)
        lay.addWidget(buttons)

    def chosen(self) -> Optional[str]:
        """The selected set name (None = automatic by age)."""
        return self.choices[self.combo.currentIndex()][1]

    def accept(self) -> None:
        from core.analysis.norm_choice import set_lab_default
        set_lab_default(self.chosen())
        super().accept()
