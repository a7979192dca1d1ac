"""Curves panel: kinematics, valgus metrics and kinetics over the trial, with the time cursor.

Kinetics (groups "Knee" and "Kinetics"): knee/hip/ankle moments (N.m/kg) and powers (W/kg)
of ``TrialView.kinetics`` (the engine's, else Vicon's stored in the file), Plug-in Gait
signs with the direction words of ``core.variables.KINETIC_VARIABLES`` (knee Y: external
adduction up, abduction down), NaN outside clean plate contacts.

Matplotlib (``FigureCanvasQTAgg``). Left = red, right = green, as in the 3D view. Each gait
cycle of a side gets the normal band (mean +- 1 SD, grey) stretched over its frames, so the
patient's curve is read against normal cycle by cycle; valgus phases are shaded violet.
Direction words of each axis come from :mod:`core.variables`. The cursor is *blitted*: the
static figure is cached once per layout, a frame change restores it and draws only the
cursor lines. Clicking a plot moves the current frame (synchronised both ways).
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.analysis.kinetics_types import KINETIC_DISPLAY
from core.variables import KINEMATIC_VARIABLES, KINETIC_VARIABLES_BY_KEY, VALGUS_METRICS, Variable
from app.scene_data import LEFT_RGB, RIGHT_RGB, VALGUS_HIGH_RGB
from app.state import AppState
from app.viewdata import SIDE_INDEX, TrialView

LEFT = tuple(np.array(LEFT_RGB) / 255)
RIGHT = tuple(np.array(RIGHT_RGB) / 255)
SIDE_COLOURS = {"Left": LEFT, "Right": RIGHT}
VIOLET = tuple(np.array(VALGUS_HIGH_RGB) / 255)
_KIN = {v.key: v for v in KINEMATIC_VARIABLES}
GROUPS = {
    "Kinematics": ("PelvisAngles.x", "PelvisAngles.y", "PelvisAngles.z", "HipAngles.x", "HipAngles.y",
                   "HipAngles.z", "KneeAngles.x", "KneeAngles.y", "KneeAngles.z", "AnkleAngles.x",
                   "AnkleAngles.y", "AnkleAngles.z", "FootProgressAngles.z"),
    "Valgus": ("valgus_3d", "fppa", "mkd", "HipAngles.y", "HipAngles.z", "KneeAngles.x"),
    "Knee": ("KneeAngles.x", "KneeAngles.y", "KneeAngles.z", "valgus_3d", "fppa", "mkd",
             "KneeMoment.y", "KneeMoment.x", "KneePower.z"),
    "Kinetics": ("KneeMoment.y", "KneeMoment.x", "KneePower.z", "HipMoment.x", "HipMoment.y", "HipPower.z",
                 "AnkleMoment.x", "AnklePower.z"),
}
_VALG = {v.key: v for v in VALGUS_METRICS}
TIME_MODE, CYCLE_MODE = "Trial time", "Gait cycle %"
PCT = np.linspace(0.0, 100.0, 101)


def load_bands(analysis=None):
    """The normative set of a session analysis (its name and speed class), else the set an
    analysis would choose now (``core.analysis.norm_choice``: lab default, else the default);
    None when the analysis used none or the set is unavailable."""
    try:
        from core.analysis.norm_choice import choose_set_name, lab_default, load_any
        if analysis is not None and getattr(analysis, "normative_name", None) is not None:
            if not analysis.normative_name:
                return None
            return load_any(analysis.normative_name, analysis.speed_class)
        return load_any(choose_set_name(None, lab_default(), None)[0])
    except Exception:  # noqa: BLE001 - the curves are still useful without bands
        return None


def normative_caution(session, norms) -> str:
    """The caution shown over the curves and in the info panel ("" = none).

    With an analysis: its own check (:func:`core.analysis.norm_choice.analysis_caution`, which
    also checks analyses stored before the check existed); without one (plain C3D files), the
    age from the folder's ``patient.json`` checked against the bands shown.
    """
    from core.analysis.norm_choice import age_at, age_caution, analysis_caution, session_age
    raw = getattr(session, "raw_session", None)
    analysis = getattr(session, "raw_analysis", None)
    patient = getattr(getattr(raw, "folder", None), "patient", None) or {}
    if analysis is not None and getattr(analysis, "normative_name", ""):
        entry = (patient.get("sessions") or {}).get(getattr(session, "label", ""), {}) if hasattr(patient, "get") else {}
        return analysis_caution(analysis, patient.get("birth_date") if hasattr(patient, "get") else None,
                                entry.get("date") if hasattr(entry, "get") else None)
    if norms is None:
        return ""
    age, why = session_age(raw) if raw is not None else (None, "no patient record")
    return age_caution(norms, age, why)


def kinetic_series(tv: TrialView, key: str) -> Optional[np.ndarray]:
    """``(F, 2)`` Left/Right kinetic series in display units (N.m/kg, W/kg), or None."""
    kv = getattr(tv, "kinetics", None)
    if kv is None or not kv.channels:
        return None
    v = KINETIC_VARIABLES_BY_KEY[key]
    out = np.full((tv.trial.n_frames, 2), np.nan)
    found = False
    for side, k in SIDE_INDEX.items():
        ch = kv.channels.get(side[0] + v.channel)
        if ch is not None and np.asarray(ch).shape[0] == tv.trial.n_frames:
            out[:, k] = np.asarray(ch)[:, v.axis] * KINETIC_DISPLAY[key][0]
            found = True
    return out if found and np.isfinite(out).any() else None


def series(tv: TrialView, key: str) -> Optional[np.ndarray]:
    """``(F, 2)`` Left/Right series of a variable key of the trial, or None."""
    if key in KINETIC_VARIABLES_BY_KEY:
        return kinetic_series(tv, key)
    if key in _VALG:
        if key in tv.metrics:
            return np.asarray(tv.metrics[key])
        if key == "valgus_3d":
            return tv.overlay().valgus if tv.outputs is not None else None
        return None
    v = _KIN[key]
    if tv.outputs is None:
        return None
    out = np.full((tv.trial.n_frames, 2), np.nan)
    found = False
    for side, k in SIDE_INDEX.items():
        ch = tv.outputs.channels.get(side[0] + v.channel)
        if ch is not None:
            out[:, k] = np.asarray(ch)[:, v.axis]
            found = True
    return out if found else None


def band_for(norms, key: str):
    """(band, sign) of a key: valgus_3d uses minus the KneeAngles.y band."""
    if norms is None:
        return None, 1.0
    if key == "valgus_3d":
        return norms.band("KneeAngles.y"), -1.0
    band = norms.band(key)
    if band is not None and key in KINETIC_DISPLAY:         # Vicon N.mm/kg -> N.m/kg
        from core.analysis.normative import Band
        f = KINETIC_DISPLAY[key][0]
        band = Band(band.percent, band.mean * f, band.sd * f, KINETIC_DISPLAY[key][1])
    return band, 1.0


#: shorter titles where the variable's own title does not fit a panel of the 3-column grid
PANEL_TITLES = {"mkd": "Medial knee displ."}

class CurvesPanel(QWidget):
    """Grid of curves for the selected trial with a blitted time cursor."""

    def __init__(self, state: AppState, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.state = state
        self.norms = None
        self.figure = Figure(figsize=(6, 8), dpi=100, facecolor="white")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.group = QComboBox()
        self.group.addItems(list(GROUPS))
        self.group.currentTextChanged.connect(lambda *_: self.rebuild())
        self.xmode = QComboBox()
        self.xmode.addItems([TIME_MODE, CYCLE_MODE])
        self.xmode.setToolTip("Trial time (frames), or each gait cycle / repetition over 0-100 %")
        self.xmode.currentTextChanged.connect(lambda *_: self.rebuild())
        self.band_label = QLabel("")
        self.band_label.setStyleSheet("color: #6b7280;")
        self.caution = QLabel("")
        self.caution.setWordWrap(True)
        self.caution.setObjectName("normativeCaution")
        self.caution.setStyleSheet("background: #fdf1dc; color: #8a4b00; border: 1px solid #8a4b00; "
                                   "padding: 3px; font-weight: bold;")
        self.caution.setVisible(False)
        self.caution.setMinimumWidth(1)   # wraps to the panel, never widens it
        top = QHBoxLayout()
        top.addWidget(QLabel("Curves:"))
        top.addWidget(self.group)
        top.addWidget(self.xmode)
        top.addStretch(1)
        top.addWidget(self.band_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.caution)
        lay.addWidget(self.canvas, 1)
        self.cursors = []
        self._background = None
        self.n_blits = 0
        self.canvas.mpl_connect("draw_event", self._on_draw)
        self.canvas.mpl_connect("button_press_event", self._on_click)
        state.trialChanged.connect(lambda *_: self.rebuild())
        state.trialUpdated.connect(lambda *_: self.rebuild())
        state.frameChanged.connect(self.move_cursor)
        self.rebuild()

    def _update_norms(self) -> None:
        """Bands of the current session's analysis and the caution banner over the curves."""
        session = self.state.session
        self.norms = load_bands(getattr(session, "raw_analysis", None))
        if self.norms is not None:
            cls = f" {self.norms.speed_class}" if self.norms.speed_class else ""
            self.band_label.setText(f"Normal band: {self.norms.title or self.norms.name}{cls} "
                                    f"({self.norms.age_text()}, mean \u00b1 1 SD)")
            self.band_label.setToolTip(self.norms.label())
        else:
            self.band_label.setText("No normal band")
            self.band_label.setToolTip("")
        text = normative_caution(session, self.norms) if self.state.trial is not None else ""
        self.caution.setText(f"Caution: {text}" if text else "")
        self.caution.setVisible(bool(text))

    # ------------------------------------------------------------------ drawing
    def rebuild(self) -> None:
        """Redraw everything (new trial, new group or edited events)."""
        fig = self.figure
        fig.clear()
        self.cursors = []
        self._background = None
        self._update_norms()
        tv = self.state.trial
        if tv is None:
            fig.text(0.5, 0.5, "Open a trial to see its curves", ha="center", va="center", color="0.5")
            self.canvas.draw_idle()
            return
        keys = [k for k in GROUPS[self.group.currentText()] if series(tv, k) is not None]
        if not keys or tv.trial.n_frames < 2:
            what = ("joint kinetics (no force plates, or no body mass: see the trial notes)"
                    if self.group.currentText() == "Kinetics" else "model outputs")
            fig.text(0.5, 0.5, f"This trial has no {what}", ha="center", va="center", color="0.5")
            self.canvas.draw_idle()
            return
        ncols = 3
        nrows = int(np.ceil(len(keys) / ncols))
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
        frames = tv.trial.frames
        cycle_mode = self.xmode.currentText() == CYCLE_MODE and bool(tv.cycles)
        for ax, key in zip(axes.ravel(), keys):
            if cycle_mode:
                self._plot_cycles(ax, tv, key)
            else:
                self._plot_one(ax, tv, key, frames)
            self._decorate(ax, key)
        for ax in axes.ravel()[len(keys):]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("% cycle" if cycle_mode else "frame", fontsize=8)
        self.move_cursor(self.state.frame)
        fig.subplots_adjust(left=0.09, right=0.985, top=0.955, bottom=0.07, hspace=0.55, wspace=0.32)
        self.canvas.draw_idle()

    def _plot_one(self, ax, tv: TrialView, key: str, frames: np.ndarray) -> None:
        data = series(tv, key)
        band, sign = band_for(self.norms, key)
        for side, k in SIDE_INDEX.items():
            if band is not None:
                for c in tv.cycles:
                    if c.side == side and c.kind == "cycle":
                        f = np.arange(c.start_frame, c.end_frame + 1)
                        mean, sd = band.at((f - c.start_frame) / max(c.end_frame - c.start_frame, 1) * 100.0)
                        ax.fill_between(f, sign * mean - sd, sign * mean + sd, color="0.82", lw=0, zorder=0)
            for p in tv.phases:
                if p.side == side and key in ("valgus_3d", "fppa", "mkd", p.metric):
                    ax.axvspan(p.onset_frame, p.offset_frame, color=VIOLET, alpha=0.13, lw=0, zorder=0)
            ax.plot(frames, data[:, k], color=SIDE_COLOURS[side], lw=1.3, zorder=2)
        for e in tv.events:
            if e.context in SIDE_COLOURS and e.label == "Foot Strike":
                ax.axvline(e.frame, color=SIDE_COLOURS[e.context], lw=0.6, alpha=0.45, zorder=1)
        ax.set_xlim(frames[0], frames[-1])
        cur = ax.axvline(self.state.frame, color="0.1", lw=1.0, animated=True)
        self.cursors.append((cur, ""))

    def _plot_cycles(self, ax, tv: TrialView, key: str) -> None:
        """Each cycle (repetition) of each side over 0-100 %, on the normal band."""
        from core.gait.cycles import normalise_cycle
        data = series(tv, key)
        band, sign = band_for(self.norms, key)
        if band is not None and any(c.kind == "cycle" for c in tv.cycles):
            mean, sd = band.at(PCT)
            ax.fill_between(PCT, sign * mean - sd, sign * mean + sd, color="0.82", lw=0, zorder=0)
        for c in tv.cycles:
            k = SIDE_INDEX[c.side]
            try:
                y = normalise_cycle(data[:, k], tv.trial.first_frame, c.start_frame, c.end_frame)
            except Exception:  # noqa: BLE001 - a cycle outside the data is skipped
                continue
            ax.plot(PCT, y, color=SIDE_COLOURS[c.side], lw=1.0, alpha=0.75, zorder=2)
        ax.set_xlim(0, 100)
        for side in ("Left", "Right"):
            cur = ax.axvline(0, color=SIDE_COLOURS[side], lw=1.2, ls="--", animated=True)
            self.cursors.append((cur, side))

    def _decorate(self, ax, key: str) -> None:
        v: Variable = _VALG.get(key) or _KIN.get(key) or KINETIC_VARIABLES_BY_KEY[key]
        external = " (ext.)" in v.title                       # knee/hip Y: external moment words
        title = PANEL_TITLES.get(key, v.title.replace(" (ext.)", ""))
        ax.set_title(f"{title} ({v.unit})", fontsize=8.5 if key in _KIN or key in _VALG else 7.8, pad=3)
        ax.tick_params(labelsize=7, length=2)
        ax.axhline(0, color="0.55", lw=0.5, zorder=1)
        ax.text(0.01, 0.97, v.positive + (" (external)" if external else ""), transform=ax.transAxes,
                fontsize=6.5, va="top", color="0.35")
        ax.text(0.01, 0.03, v.negative, transform=ax.transAxes, fontsize=6.5, va="bottom", color="0.35")
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)

    # ------------------------------------------------------------------ cursor (blit)
    def _on_draw(self, _event) -> None:
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_cursors()

    def _draw_cursors(self) -> None:
        for c, _ in self.cursors:
            if c.get_visible():
                c.axes.draw_artist(c)

    def cursor_x(self, frame: int, side: str) -> Optional[float]:
        """x of the cursor: the frame, or (cycle mode) its percent within that side's cycle."""
        if not side:
            return float(frame)
        tv = self.state.trial
        for c in (tv.cycles if tv is not None else ()):
            if c.side == side and c.start_frame <= frame <= c.end_frame:
                return 100.0 * (frame - c.start_frame) / max(c.end_frame - c.start_frame, 1)
        return None

    def move_cursor(self, frame: int) -> None:
        """Move the cursor lines to ``frame`` by blitting (no full redraw)."""
        if not self.cursors:
            return
        for c, side in self.cursors:
            x = self.cursor_x(frame, side)
            c.set_visible(x is not None)
            if x is not None:
                c.set_xdata([x, x])
        if self._background is None:
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        self._draw_cursors()
        self.canvas.blit(self.figure.bbox)
        self.n_blits += 1

    def _on_click(self, event) -> None:
        if event.inaxes is None or event.xdata is None or event.button != 1:
            return
        if self.cursors and self.cursors[0][1]:       # cycle mode: a percent of the current cycle
            c = self.state.cycle or next((c for c in (self.state.trial.cycles if self.state.trial else ())
                                          if c.start_frame <= self.state.frame <= c.end_frame), None)
            if c is not None:
                self.state.set_frame(int(round(c.start_frame + event.xdata / 100.0 * (c.end_frame - c.start_frame))))
            return
        self.state.set_frame(int(round(event.xdata)))
