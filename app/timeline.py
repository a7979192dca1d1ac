"""Timeline strip under the 3D view: valgus phases per side, cycles, events, cursor.

Click: go to that frame; click on a phase: go to its peak; drag: scrub. Events can be
dragged to move them, and the context menu adds or deletes foot strikes / foot offs; the
strip only *requests* edits (signals), the undoable commands live in :mod:`app.events_edit`.

Task windows (squat repetitions, landings, holds; not walking stance, which follows the
events) are edited here too: Shift+drag a window's edge to resize it or its middle to move
it, Ctrl+drag on a side's row to draw a new one, right-click for "Add window here" /
"Delete window" / "Back to the detected windows", click a window then Delete to delete it.
The requests go through ``AppState.request_window_edit``.
"""
from __future__ import annotations

from typing import Optional

from app.qtcompat import emit
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from core.model import EVENT_FOOT_OFF, EVENT_FOOT_STRIKE, GaitEvent
from app.engine import window_edit_reason
from app.scene_data import LEFT_RGB, RIGHT_RGB, VALGUS_HIGH_RGB
from app.state import AppState
from app.viewdata import CycleSpan, PhaseSpan, TrialView

SIDES = ("Left", "Right")
_SIDE_QCOLOR = {"Left": QColor(*LEFT_RGB), "Right": QColor(*RIGHT_RGB), "General": QColor(200, 200, 200)}
MARGIN_L = 56
MARGIN_R = 12
LANE_H = 22
TOP = 18
HELP = ("\u25bc foot strike, \u25b3 foot off, shaded: stance, violet: valgus phase (white line: its peak).\n"
        "Click: go to a frame or a phase's peak; drag: scrub; right-click: add or delete an event; "
        "Shift+drag an event: move it.\nTask windows (outlined): Shift+drag an edge to resize, the middle to move; "
        "Ctrl+drag on a row: new window; click one then Delete, or right-click, to delete it.")
EDGE_PX = 5.0
NEW_WINDOW_S = 1.0       # length of a window added from the context menu


class TimelineStrip(QWidget):
    """Painted strip; frame <-> x mapping over the whole trial."""

    addEventRequested = Signal(str, str, int)          # label, context, frame
    moveEventRequested = Signal(object, int)           # GaitEvent, new frame
    deleteEventRequested = Signal(object)              # GaitEvent

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setMinimumHeight(TOP + 2 * LANE_H + 26)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip(HELP)
        self._drag_event: Optional[GaitEvent] = None
        self._drag_frame: Optional[int] = None
        self._scrubbing = False
        self._win_drag: Optional[tuple] = None       # (CycleSpan or None for a new one, mode, anchor frame)
        self._win_preview: Optional[tuple] = None    # (side, start, end) while dragging
        self.selected_window: Optional[tuple] = None  # (side, start, end) for the Delete key
        self.setFocusPolicy(Qt.ClickFocus)
        state.trialChanged.connect(lambda *_: self._forget_window())
        state.trialChanged.connect(lambda *_: self.update())
        state.trialUpdated.connect(lambda *_: self.update())
        state.frameChanged.connect(lambda *_: self.update())
        state.cycleChanged.connect(lambda *_: self.update())

    # ------------------------------------------------------------------ geometry
    @property
    def trial(self) -> Optional[TrialView]:
        return self.state.trial

    def x_of(self, frame: float) -> float:
        lo, hi = self.state.frame_range
        w = max(self.width() - MARGIN_L - MARGIN_R, 1)
        return MARGIN_L + (frame - lo) / max(hi - lo, 1) * w

    def frame_at(self, x: float) -> int:
        lo, hi = self.state.frame_range
        w = max(self.width() - MARGIN_L - MARGIN_R, 1)
        return int(round(lo + (x - MARGIN_L) / w * max(hi - lo, 1)))

    def lane_y(self, side: str) -> float:
        return TOP + SIDES.index(side) * LANE_H

    def phase_at(self, x: float, y: float) -> Optional[PhaseSpan]:
        if self.trial is None:
            return None
        for p in self.trial.phases:
            y0 = self.lane_y(p.side)
            if y0 <= y <= y0 + LANE_H and self.x_of(p.onset_frame) - 2 <= x <= self.x_of(p.offset_frame) + 2:
                return p
        return None

    def event_at(self, x: float, y: float) -> Optional[GaitEvent]:
        if self.trial is None:
            return None
        best, dist = None, 6.0
        for e in self.trial.events:
            if e.context not in SIDES:
                continue
            y0 = self.lane_y(e.context)
            if y0 - 4 <= y <= y0 + LANE_H + 4 and abs(self.x_of(e.frame) - x) < dist:
                best, dist = e, abs(self.x_of(e.frame) - x)
        return best

    def side_at(self, y: float) -> str:
        return "Left" if y < TOP + LANE_H else "Right"

    def window_at(self, x: float, y: float, pad: float = EDGE_PX) -> Optional[CycleSpan]:
        """The task window (not a gait cycle) under a point, ``pad`` px around its edges included."""
        if self.trial is None:
            return None
        for c in self.trial.cycles:
            if c.kind == "cycle" or c.side not in SIDES:
                continue
            y0 = self.lane_y(c.side)
            if y0 <= y <= y0 + LANE_H and self.x_of(c.start_frame) - pad <= x <= self.x_of(c.end_frame) + pad:
                return c
        return None

    def edge_of(self, w: CycleSpan, x: float) -> str:
        """``"start"``, ``"end"`` (within EDGE_PX of that edge) or ``"move"``."""
        if abs(x - self.x_of(w.start_frame)) <= EDGE_PX:
            return "start"
        if abs(x - self.x_of(w.end_frame)) <= EDGE_PX:
            return "end"
        return "move"

    @property
    def windows_editable(self) -> bool:
        return self.trial is not None and window_edit_reason(self.trial) == ""

    def _forget_window(self) -> None:
        self._win_drag = self._win_preview = self.selected_window = None

    # ------------------------------------------------------------------ painting
    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        p.fillRect(self.rect(), QColor(250, 251, 252))
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        p.setFont(font)
        tv = self.trial
        if tv is None:
            p.setPen(QColor(140, 140, 140))
            p.drawText(self.rect(), Qt.AlignCenter, "No trial selected")
            return
        self._paint_lanes(p, tv)
        self._paint_cycle(p)
        self._paint_phases(p, tv)
        self._paint_window_edit(p, tv)
        self._paint_events(p, tv)
        self._paint_axis(p)
        self._paint_cursor(p)

    def _paint_lanes(self, p: QPainter, tv: TrialView) -> None:
        for side in SIDES:
            y = self.lane_y(side)
            p.fillRect(QRectF(MARGIN_L, y + 2, self.width() - MARGIN_L - MARGIN_R, LANE_H - 4), QColor(236, 239, 243))
            p.setPen(_SIDE_QCOLOR[side])
            p.drawText(QRectF(4, y, MARGIN_L - 8, LANE_H), Qt.AlignVCenter | Qt.AlignRight, side)
            for c in tv.cycles:
                if c.side == side and c.kind != "cycle":              # task windows outlined
                    x0, x1 = self.x_of(c.start_frame), self.x_of(c.end_frame)
                    col = QColor(_SIDE_QCOLOR[side])
                    col.setAlpha(60)
                    p.fillRect(QRectF(x0, y + 6, x1 - x0, LANE_H - 12), col)
                    p.setPen(QPen(_SIDE_QCOLOR[side], 1.0))
                    p.drawRect(QRectF(x0, y + 6, x1 - x0, LANE_H - 12))
                if c.side == side and c.foot_off_frame is not None:   # stance shaded
                    x0, x1 = self.x_of(c.start_frame), self.x_of(c.foot_off_frame)
                    col = QColor(_SIDE_QCOLOR[side])
                    col.setAlpha(45)
                    p.fillRect(QRectF(x0, y + 6, x1 - x0, LANE_H - 12), col)

    def _paint_cycle(self, p: QPainter) -> None:
        c = self.state.cycle
        if c is None:
            return
        x0, x1 = self.x_of(c.start_frame), self.x_of(c.end_frame)
        p.fillRect(QRectF(x0, TOP - 4, x1 - x0, 2 * LANE_H + 8), QColor(52, 120, 200, 35))
        p.setPen(QPen(QColor(52, 120, 200), 1.2))
        p.drawRect(QRectF(x0, TOP - 4, x1 - x0, 2 * LANE_H + 8))

    def _paint_phases(self, p: QPainter, tv: TrialView) -> None:
        col = QColor(*VALGUS_HIGH_RGB)
        for ph in tv.phases:
            y = self.lane_y(ph.side)
            x0, x1 = self.x_of(ph.onset_frame), self.x_of(ph.offset_frame)
            p.fillRect(QRectF(x0, y + 4, max(x1 - x0, 2), LANE_H - 8), col)
            p.setPen(QPen(QColor(255, 255, 255), 1.5))
            xp = self.x_of(ph.peak_frame)
            p.drawLine(QPointF(xp, y + 5), QPointF(xp, y + LANE_H - 5))

    def _paint_window_edit(self, p: QPainter, tv: TrialView) -> None:
        """The selected window (thick outline) and the window being dragged (dashed)."""
        for item, style in ((self.selected_window, Qt.SolidLine), (self._win_preview, Qt.DashLine)):
            if item is None:
                continue
            side, a, b = item
            y = self.lane_y(side)
            pen = QPen(QColor(20, 24, 30), 2.0 if style == Qt.SolidLine else 1.5, style)
            p.setPen(pen)
            p.setBrush(Qt.NoBrush)
            p.drawRect(QRectF(self.x_of(a), y + 3, max(self.x_of(b) - self.x_of(a), 2), LANE_H - 6))

    def _paint_events(self, p: QPainter, tv: TrialView) -> None:
        for e in tv.events:
            if e.context not in SIDES:
                continue
            frame = self._drag_frame if self._drag_event is e and self._drag_frame is not None else e.frame
            x, y = self.x_of(frame), self.lane_y(e.context)
            col = _SIDE_QCOLOR[e.context]
            p.setPen(QPen(col.darker(120), 1.6))
            p.drawLine(QPointF(x, y + 1), QPointF(x, y + LANE_H - 1))
            tri = QPolygonF([QPointF(x - 5, y + 1), QPointF(x + 5, y + 1), QPointF(x, y + 8)])
            if e.label == EVENT_FOOT_STRIKE:
                p.setBrush(col)
            else:
                p.setBrush(QColor(255, 255, 255))
                tri = QPolygonF([QPointF(x - 5, y + LANE_H - 1), QPointF(x + 5, y + LANE_H - 1), QPointF(x, y + LANE_H - 8)])
            if e.source == "edited":
                p.setPen(QPen(QColor(30, 30, 30), 1.2))
            p.drawPolygon(tri)
            p.setBrush(Qt.NoBrush)

    def _paint_axis(self, p: QPainter) -> None:
        lo, hi = self.state.frame_range
        y = TOP + 2 * LANE_H + 4
        p.setPen(QColor(120, 126, 134))
        step = max(10, int(round((hi - lo) / 10 / 10.0)) * 10)
        f = (lo // step + 1) * step
        while f <= hi:
            x = self.x_of(f)
            p.drawLine(QPointF(x, y), QPointF(x, y + 4))
            p.drawText(QRectF(x - 30, y + 4, 60, 14), Qt.AlignCenter, str(f))
            f += step
        p.drawText(QRectF(4, y + 2, MARGIN_L - 8, 16), Qt.AlignRight | Qt.AlignVCenter, "frame")

    def _paint_cursor(self, p: QPainter) -> None:
        x = self.x_of(self.state.frame)
        p.setPen(QPen(QColor(20, 24, 30), 1.5))
        p.drawLine(QPointF(x, TOP - 8), QPointF(x, TOP + 2 * LANE_H + 2))
        p.setBrush(QColor(20, 24, 30))
        p.drawPolygon(QPolygonF([QPointF(x - 5, TOP - 12), QPointF(x + 5, TOP - 12), QPointF(x, TOP - 6)]))
        p.drawText(QRectF(x + 6, 0, 80, 14), Qt.AlignLeft | Qt.AlignVCenter, str(self.state.frame))

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, ev) -> None:  # noqa: N802
        if self.trial is None or ev.button() != Qt.LeftButton:
            return
        pos = ev.position()
        e = self.event_at(pos.x(), pos.y())
        if e is not None and ev.modifiers() & Qt.ShiftModifier or e is not None and ev.modifiers() & Qt.AltModifier:
            self._drag_event, self._drag_frame = e, e.frame
            return
        if self._press_window(pos.x(), pos.y(), ev.modifiers()):
            return
        ph = self.phase_at(pos.x(), pos.y())
        if ph is not None:
            self.state.set_frame(ph.peak_frame)
            return
        self._scrubbing = True
        self.state.set_frame(self.frame_at(pos.x()))

    def _press_window(self, x: float, y: float, mods) -> bool:
        """Start a window drag (Shift on a window, Ctrl on a row); remember the clicked window."""
        w = self.window_at(x, y)
        self.selected_window = (w.side, w.start_frame, w.end_frame) if w is not None else None
        if not self.windows_editable or not (mods & (Qt.ShiftModifier | Qt.ControlModifier)):
            return False
        frame = self.frame_at(x)
        if w is not None and mods & Qt.ShiftModifier and not mods & Qt.ControlModifier:
            self._win_drag = (w, self.edge_of(w, x), frame)
            self._win_preview = (w.side, w.start_frame, w.end_frame)
        elif self.window_at(x, y, 0.0) is None and mods & Qt.ControlModifier:
            self._win_drag = (None, "new", frame)
            self._win_preview = (self.side_at(y), frame, frame)
        else:
            return False
        self.update()
        return True

    def _drag_window_to(self, x: float) -> None:
        lo, hi = self.state.frame_range
        f = min(max(self.frame_at(x), lo), hi)
        w, mode, anchor = self._win_drag
        side, a, b = self._win_preview
        if mode == "new":
            a, b = sorted((anchor, f))
        elif mode == "start":
            a, b = sorted((f, w.end_frame))
        elif mode == "end":
            a, b = sorted((w.start_frame, f))
        else:
            d = min(max(f - anchor, lo - w.start_frame), hi - w.end_frame)
            a, b = w.start_frame + d, w.end_frame + d
        self._win_preview = (side, a, b)
        self.update()

    def _release_window(self) -> None:
        (w, mode, _), (side, a, b) = self._win_drag, self._win_preview
        self._win_drag = self._win_preview = None
        if mode == "new":
            if b > a:
                self.state.request_window_edit("add", side=side, start=a, end=b)
        elif (a, b) != (w.start_frame, w.end_frame):
            self.selected_window = (side, a, b)
            self.state.request_window_edit("move", side=side, start=w.start_frame, end=w.end_frame,
                                           new_start=a, new_end=b)
        self.update()

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if ev.key() in (Qt.Key_Delete, Qt.Key_Backspace) and self.selected_window is not None \
                and self.windows_editable:
            side, a, b = self.selected_window
            self.selected_window = None
            self.state.request_window_edit("delete", side=side, start=a, end=b)
            self.update()
            return
        super().keyPressEvent(ev)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        pos = ev.position()
        if self._win_drag is not None:
            self._drag_window_to(pos.x())
        elif self._drag_event is not None:
            lo, hi = self.state.frame_range
            self._drag_frame = min(max(self.frame_at(pos.x()), lo), hi)
            self.update()
        elif self._scrubbing:
            self.state.set_frame(self.frame_at(pos.x()))
        else:
            e = self.event_at(pos.x(), pos.y())
            ph = self.phase_at(pos.x(), pos.y())
            if e is not None:
                self.setToolTip(f"{e.context} {e.label} at frame {e.frame} ({e.source}); Shift+drag to move, right-click to delete")
            elif (w := self.window_at(pos.x(), pos.y())) is not None and ph is None:
                self.setToolTip(f"{w.side} {w.kind} window {w.start_frame}-{w.end_frame}"
                                + ("; Shift+drag an edge to resize, the middle to move; Delete to delete"
                                   if self.windows_editable else ""))
            elif ph is not None:
                self.setToolTip(f"{ph.side} valgus phase {ph.onset_frame}-{ph.offset_frame}, peak {ph.peak_value:.1f} at "
                                f"{ph.peak_frame} ({ph.metric}); click to go to the peak")
            else:
                self.setToolTip(HELP)

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        if self._win_drag is not None:
            self._drag_window_to(ev.position().x())
            self._release_window()
        if self._drag_event is not None:
            e, f = self._drag_event, self._drag_frame
            self._drag_event = self._drag_frame = None
            if f is not None and f != e.frame:
                emit(self.moveEventRequested, e, int(f))
            self.update()
        self._scrubbing = False

    def contextMenuEvent(self, ev) -> None:  # noqa: N802
        if self.trial is None:
            return
        pos = ev.pos()
        frame = self.frame_at(pos.x())
        side = self.side_at(pos.y())
        menu = QMenu(self)
        for label in (EVENT_FOOT_STRIKE, EVENT_FOOT_OFF):
            menu.addAction(f"Add {side} {label} at frame {frame}",
                           lambda l=label: emit(self.addEventRequested, l, side, frame))
        e = self.event_at(pos.x(), pos.y())
        if e is not None:
            menu.addSeparator()
            menu.addAction(f"Delete {e.context} {e.label} at frame {e.frame}",
                           lambda: emit(self.deleteEventRequested, e))
        self._window_menu(menu, pos.x(), pos.y(), side, frame)
        menu.exec(ev.globalPos())

    def new_window_span(self, side: str, frame: int) -> Optional[tuple[int, int]]:
        """Frames of a window added at ``frame``: NEW_WINDOW_S long, centred, within the gap
        between the side's neighbouring windows (None if the frame is inside a window)."""
        lo, hi = self.state.frame_range
        wins = [c for c in self.trial.cycles if c.side == side and c.kind != "cycle"]
        if any(c.start_frame <= frame <= c.end_frame for c in wins):
            return None
        left = max([c.end_frame + 1 for c in wins if c.end_frame < frame], default=lo)
        right = min([c.start_frame - 1 for c in wins if c.start_frame > frame], default=hi)
        half = int(round(NEW_WINDOW_S * self.trial.trial.point_rate_hz / 2))
        a, b = max(frame - half, left), min(frame + half, right)
        return (a, b) if b > a else None

    def _window_menu(self, menu: QMenu, x: float, y: float, side: str, frame: int) -> None:
        """Task-window entries of the context menu (only where windows can be edited)."""
        if not self.windows_editable:
            return
        menu.addSeparator()
        w = self.window_at(x, y)
        if w is not None:
            menu.addAction(f"Delete {side} {w.kind} window {w.start_frame}-{w.end_frame}",
                           lambda: self.state.request_window_edit("delete", side=side, start=w.start_frame,
                                                                  end=w.end_frame))
        elif (span := self.new_window_span(side, frame)) is not None:
            menu.addAction(f"Add {side} window here ({span[0]}-{span[1]})",
                           lambda: self.state.request_window_edit("add", side=side, start=span[0], end=span[1]))
        menu.addAction(f"Back to the detected {side} windows",
                       lambda: self.state.request_window_edit("reset", side=side))
