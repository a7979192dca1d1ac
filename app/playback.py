"""Playback at the trial's rate: play/pause, speed, frame step, loop over a cycle.

A ``QTimer`` ticks at the trial rate times the speed (at most every 10 ms); each tick goes
to the frame that *wall-clock time* calls for, so slow rendering drops frames instead of
slowing the motion down. With a selected cycle/repetition the playback loops over it.
"""
from __future__ import annotations

from typing import Optional

from app.qtcompat import emit
from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal

from app.state import AppState

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0)


class Playback(QObject):
    """Drives :attr:`AppState.frame` in time. ``playingChanged(bool)``."""

    playingChanged = Signal(bool)

    def __init__(self, state: AppState, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.speed = 1.0
        self.loop = True
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._start_frame = 1
        self.ticks = 0
        state.trialChanged.connect(lambda *_: self.pause())

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def range(self) -> tuple[int, int]:
        c = self.state.cycle
        if c is not None and self.loop:
            return c.start_frame, c.end_frame
        return self.state.frame_range

    def play(self) -> None:
        if self.state.trial is None:
            return
        lo, hi = self.range()
        if not lo <= self.state.frame < hi:
            self.state.set_frame(lo)
        rate = self.state.trial.trial.point_rate_hz
        self.timer.start(max(10, int(1000.0 / (rate * self.speed))))
        self._restart_clock()
        emit(self.playingChanged, True)

    def _restart_clock(self) -> None:
        self._clock.start()
        self._start_frame = self.state.frame

    def pause(self) -> None:
        if self.timer.isActive():
            self.timer.stop()
            emit(self.playingChanged, False)

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_speed(self, speed: float) -> None:
        self.speed = float(speed)
        if self.playing:
            self.play()

    def step(self, n: int) -> None:
        self.pause()
        self.state.set_frame(self.state.frame + int(n))

    def _tick(self) -> None:
        if self.state.trial is None:
            self.pause()
            return
        self.ticks += 1
        rate = self.state.trial.trial.point_rate_hz
        lo, hi = self.range()
        target = self._start_frame + int(self._clock.elapsed() / 1000.0 * rate * self.speed)
        if target > hi:
            if self.loop:
                self.state.set_frame(lo)
                self._restart_clock()
                return
            self.state.set_frame(hi)
            self.pause()
            return
        self.state.set_frame(target)
