"""Transport bar: play/pause, frame step, scrub slider, speed, loop over the selected cycle."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from app.playback import SPEEDS, Playback
from app.state import AppState


class TransportBar(QWidget):
    """Controls bound to :class:`Playback` and :class:`AppState`."""

    def __init__(self, state: AppState, playback: Playback, parent=None) -> None:
        super().__init__(parent)
        self.state, self.playback = state, playback
        self.play_button = self._button("\u25b6", "Play / pause (Space)", playback.toggle)
        self.back_button = self._button("\u25c0\u2759", "Previous frame (Left arrow)", lambda: playback.step(-1))
        self.fwd_button = self._button("\u2759\u25b6", "Next frame (Right arrow)", lambda: playback.step(1))
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("Scrub")
        self.slider.valueChanged.connect(self._on_slider)
        self.speed = QComboBox()
        self.speed.setToolTip("Playback speed")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}\u00d7", s)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.currentIndexChanged.connect(lambda i: playback.set_speed(self.speed.itemData(i)))
        self.loop = QCheckBox("Loop cycle")
        self.loop.setToolTip("Loop over the selected cycle or repetition (select it in the browser)")
        self.loop.setChecked(True)
        self.loop.toggled.connect(lambda on: setattr(playback, "loop", on))
        self.frame_label = QLabel("--")
        # wide enough for the longest text ("frame 12345 / 12345   123.456 s"), so the speed
        # box never runs into it when the centre column is narrow
        self.frame_label.setMinimumWidth(self.frame_label.fontMetrics().horizontalAdvance(
            "frame 00000 / 00000   000.000 s") + 8)
        self.frame_label.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 2, 6, 2)
        outer.setSpacing(0)
        outer.addWidget(self.slider)
        lay = QHBoxLayout()
        outer.addLayout(lay)
        for w in (self.back_button, self.play_button, self.fwd_button):
            lay.addWidget(w)
        lay.addWidget(self.frame_label)
        lay.addStretch(1)
        lay.addSpacing(10)
        lay.addWidget(QLabel("Speed"))
        lay.addWidget(self.speed)
        lay.addWidget(self.loop)
        state.trialChanged.connect(self._on_trial)
        state.frameChanged.connect(self._on_frame)
        playback.playingChanged.connect(lambda on: self.play_button.setText("\u275a\u275a" if on else "\u25b6"))
        self._on_trial(None)

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(True)
        b.setMinimumWidth(34)
        b.clicked.connect(slot)
        return b

    def _on_trial(self, tv) -> None:
        lo, hi = self.state.frame_range
        self.slider.blockSignals(True)
        self.slider.setRange(lo, hi)
        self.slider.setValue(self.state.frame)
        self.slider.blockSignals(False)
        self.setEnabled(tv is not None)
        self._on_frame(self.state.frame)

    def _on_frame(self, frame: int) -> None:
        if self.slider.value() != frame:
            self.slider.blockSignals(True)
            self.slider.setValue(frame)
            self.slider.blockSignals(False)
        tv = self.state.trial
        if tv is None:
            self.frame_label.setText("--")
            return
        t = (frame - 1) / tv.trial.point_rate_hz
        self.frame_label.setText(f"frame {frame} / {tv.trial.last_frame}   {t:6.3f} s")

    def _on_slider(self, value: int) -> None:
        self.playback.pause()
        self.state.set_frame(value)
