"""A4 report pages: header, footer, text blocks and tables on matplotlib ``Figure`` objects.

Only the matplotlib object API is used (``Figure``), never pyplot, so the report builds
headless and in worker threads. Coordinates are figure fractions; a page's usable area
is ``Page.top`` .. ``Page.bottom``, and ``Page.cursor`` moves down as blocks are added.
"""
from __future__ import annotations

import logging
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from core.errors import ReportError

A4_INCHES = (8.27, 11.69)
LEFT, RIGHT = 0.07, 0.93
HEADER_TOP, CONTENT_TOP, CONTENT_BOTTOM = 0.975, 0.90, 0.06
INK = "#1d2733"
MUTED = "#5f6b7a"
ACCENT = "#1f5f8b"
RULE = "#b9c3cf"
SIDE_COLOURS = {"Left": "#c0392b", "Right": "#1e8449"}   # gait-lab convention: left red, right green
BAND_COLOUR = "#d5d8dc"
#: table row height in font sizes with linespacing "normal": DejaVu Sans (ascent + descent +
#: line gap) / em = (1556 + 492 + 410) / 2048; Helvetica (AFM) 1.2 x (718 + 207) / 1000
ROW_PITCH = {"embedded": 2458 / 2048, "standard": 1.2 * 925 / 1000}

#: Two font set-ups of the same pages. "standard": the PDF standard Helvetica (every viewer has
#: it; no embedding, text written as whole strings), about twice as fast to write; usable when
#: every text is in its WinAnsi (cp1252) encoding. "embedded": DejaVu Sans embedded as TrueType
#: (Type 42), for any other character (a patient name in Greek, a ≤ sign ...).
FONT_SETS = ("standard", "embedded")
RC = {
    "pdf.fonttype": 42,          # embed TrueType fonts: selectable, searchable text
    "ps.fonttype": 42,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.0,
    "axes.titlesize": 8.5,
    "axes.labelsize": 7.0,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "axes.edgecolor": "#6c7a89",
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "svg.fonttype": "none",
}
STANDARD_RC = {**RC, "pdf.use14corefonts": True, "font.sans-serif": ["Helvetica"], "axes.unicode_minus": False}


class _WeightNotice(logging.Filter):
    """Drops matplotlib's notice that Helvetica's AFM weight is 'Medium', not 'normal' (the
    standard font is used as intended); every other font message passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to find font weight" not in record.getMessage()


@contextmanager
def report_style(fonts: str = "embedded") -> Iterator[None]:
    """Matplotlib settings of every report figure (font set of :data:`FONT_SETS`, sizes)."""
    if fonts not in FONT_SETS:
        raise ValueError(f"font set {fonts!r} is not one of {FONT_SETS}")
    fm_log = logging.getLogger("matplotlib.font_manager")
    notice = _WeightNotice()
    fm_log.addFilter(notice)
    try:
        with matplotlib.rc_context(STANDARD_RC if fonts == "standard" else RC):
            yield
    finally:
        fm_log.removeFilter(notice)


def _active_fonts() -> str:
    return "standard" if matplotlib.rcParams["pdf.use14corefonts"] else "embedded"


def _texts(figure) -> Iterator[str]:
    """Every string a figure will draw. Axis ticks are not instantiated (that costs ~1 ms per
    tick): their labels come from the formatter, numbers (ASCII with ``axes.unicode_minus``
    off) unless it is a fixed list of strings, which is checked."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter
    stack = [figure]
    while stack:
        artist = stack.pop()
        if isinstance(artist, Text):
            yield artist.get_text()
        if isinstance(artist, Axis):
            yield artist.label.get_text()
            for fmt in (artist.get_major_formatter(), artist.get_minor_formatter()):
                if isinstance(fmt, FixedFormatter):
                    yield from (str(x) for x in fmt.seq)
            continue
        stack.extend(artist.get_children())


def fit_standard_fonts(pages: Sequence["Page"]) -> bool:
    """True when every text of the pages can be written in the standard fonts' encoding (cp1252)."""
    for page in pages:
        for text in _texts(page.figure):
            try:
                text.encode("cp1252")
            except UnicodeEncodeError:
                return False
    return True


@dataclass(frozen=True)
class ReportHeader:
    """What every page shows at the top."""

    lab_name: str
    patient_name: str
    patient_id: str
    session_date: str
    title: str = "Clinical gait analysis"
    session_label: str = ""

    @property
    def session_line(self) -> str:
        """'Session date 2026-09-07', or 'Session pre · date unknown' without a date."""
        if self.session_date:
            return f"Session date {self.session_date}"
        return f"Session {self.session_label} · date unknown" if self.session_label else "Session date unknown"


@dataclass
class Page:
    """One A4 page under construction."""

    figure: Figure
    header: ReportHeader
    section: str
    cursor: float = CONTENT_TOP

    def take(self, height: float) -> tuple[float, float]:
        """Reserve ``height`` (figure fraction) below the cursor; returns (bottom, top)."""
        top = self.cursor
        bottom = top - height
        if bottom < CONTENT_BOTTOM - 1e-9:
            raise ReportError(f"page '{self.section}' overflows ({bottom:.3f} < {CONTENT_BOTTOM})")
        self.cursor = bottom
        return bottom, top

    @property
    def room(self) -> float:
        return self.cursor - CONTENT_BOTTOM


def new_page(header: ReportHeader, section: str) -> Page:
    """A blank A4 page with the header band and the section title."""
    fig = Figure(figsize=A4_INCHES)
    fig.text(LEFT, HEADER_TOP, header.lab_name, ha="left", va="top", fontsize=10, weight="bold", color=ACCENT)
    fig.text(LEFT, HEADER_TOP - 0.018, header.title, ha="left", va="top", fontsize=8, color=MUTED)
    fig.text(RIGHT, HEADER_TOP, f"{header.patient_name}  ·  ID {header.patient_id}", ha="right", va="top",
             fontsize=9, weight="bold", color=INK)
    fig.text(RIGHT, HEADER_TOP - 0.018, header.session_line, ha="right", va="top",
             fontsize=8, color=MUTED)
    fig.add_artist(Line2D([LEFT, RIGHT], [0.935, 0.935], color=ACCENT, lw=1.2,
                                           transform=fig.transFigure))
    fig.text(LEFT, 0.922, section, ha="left", va="top", fontsize=12.5, weight="bold", color=INK)
    return Page(figure=fig, header=header, section=section, cursor=0.895)


def add_footers(pages: Sequence[Page], software: str) -> None:
    """Write 'Page i of N' and the software line at the bottom of every page."""
    n = len(pages)
    for i, page in enumerate(pages, start=1):
        fig = page.figure
        fig.add_artist(Line2D([LEFT, RIGHT], [0.04, 0.04], color=RULE, lw=0.6,
                                               transform=fig.transFigure))
        fig.text(LEFT, 0.03, software, ha="left", va="top", fontsize=6.5, color=MUTED)
        fig.text(RIGHT, 0.03, f"Page {i} of {n}", ha="right", va="top", fontsize=7.5, color=INK)


def heading(page: Page, text: str, size: float = 10.0) -> None:
    """A sub-heading at the cursor."""
    bottom, top = page.take(0.028)
    page.figure.text(LEFT, top - 0.004, text, ha="left", va="top", fontsize=size, weight="bold", color=ACCENT)


def paragraph(page: Page, text: str, size: float = 8.0, chars_per_line: int = 118,
              color: str = INK) -> None:
    """Wrapped text at the cursor (simple word wrap on a character budget)."""
    import textwrap
    lines: list[str] = []
    for para in text.split("\n"):
        lines.extend(textwrap.wrap(para, width=chars_per_line) or [""])
    line_h = size * 1.45 / 72 / A4_INCHES[1]
    bottom, top = page.take(line_h * len(lines) + 0.006)
    page.figure.text(LEFT, top, "\n".join(lines), ha="left", va="top", fontsize=size, color=color,
                     linespacing=1.45)


CAUTION_INK = "#8a4b00"
CAUTION_FILL = "#fdf1dc"


def caution(page: Page, text: str, size: float = 8.0, chars_per_line: int = 112) -> None:
    """A boxed caution (bold, amber on a light fill) at the cursor; nothing when ``text`` is empty."""
    import textwrap
    from matplotlib.patches import Rectangle
    if not text:
        return
    lines = textwrap.wrap(f"Caution: {text}", width=chars_per_line) or [""]
    line_h = size * 1.45 / 72 / A4_INCHES[1]
    bottom, top = page.take(line_h * len(lines) + 0.016)
    page.figure.add_artist(Rectangle((LEFT - 0.006, bottom + 0.002), RIGHT - LEFT + 0.012, top - bottom - 0.004,
                                     transform=page.figure.transFigure, facecolor=CAUTION_FILL,
                                     edgecolor=CAUTION_INK, lw=0.7))
    page.figure.text(LEFT, top - 0.006, "\n".join(lines), ha="left", va="top", fontsize=size, color=CAUTION_INK,
                     fontweight="bold", linespacing=1.45)


def table(page: Page, header: Sequence[str], rows: Sequence[Sequence[str]],
          col_widths: Optional[Sequence[float]] = None, size: float = 7.8,
          highlight: Optional[Sequence[bool]] = None) -> None:
    """A ruled table at the cursor. ``col_widths`` are fractions of the text width."""
    ncol = len(header)
    widths = list(col_widths) if col_widths else [1.0 / ncol] * ncol
    total = sum(widths)
    xs = [LEFT]
    for w in widths[:-1]:
        xs.append(xs[-1] + (RIGHT - LEFT) * w / total)
    row_h = size * ROW_PITCH[_active_fonts()] / 72 / A4_INCHES[1]
    show_header = any(str(h) for h in header)
    bottom, top = page.take(row_h * (len(rows) + 1.15 * int(show_header)) + 0.008)
    fig = page.figure
    y = top
    if show_header:
        for x, h in zip(xs, header):
            fig.text(x + 0.003, y - row_h * 0.5, h, ha="left", va="center", fontsize=size, weight="bold", color=INK)
        y -= row_h * 1.15
    fig.add_artist(Line2D([LEFT, RIGHT], [y, y], color=INK, lw=0.7, transform=fig.transFigure))
    # One multi-line text per column (not per cell) keeps a 10-page report fast to write.
    # With linespacing "normal" every line gets the font's own ascent, descent and line gap,
    # so baselines are regular and the pitch is ROW_PITCH x the font size (per font set);
    # rows are told apart by shading instead of rules.
    for r in range(len(rows)):
        shade = "#fdebd0" if highlight is not None and highlight[r] else ("#f2f4f7" if r % 2 else None)
        if shade:
            fig.add_artist(Rectangle((LEFT, y - (r + 1) * row_h), RIGHT - LEFT, row_h,
                                     transform=fig.transFigure, color=shade, lw=0, zorder=-1))
    for c, x in enumerate(xs):
        column = "\n".join(str(row[c]) if c < len(row) else "" for row in rows)
        fig.text(x + 0.003, y, column, ha="left", va="top", fontsize=size, color=INK, linespacing="normal")
    y -= row_h * len(rows)
    fig.add_artist(Line2D([LEFT, RIGHT], [y, y], color=RULE, lw=0.6, transform=fig.transFigure))


def axes_block(page: Page, height: float, nrows: int, ncols: int, hspace: float = 0.55,
               wspace: float = 0.32, left_pad: float = 0.045, bottom_pad: float = 0.035):
    """Reserve a block and return a 2-D list of axes laid out in it."""
    bottom, top = page.take(height)
    gs = page.figure.add_gridspec(nrows, ncols, left=LEFT + left_pad, right=RIGHT - 0.005,
                                  bottom=bottom + bottom_pad, top=top - 0.012, hspace=hspace, wspace=wspace)
    return [[page.figure.add_subplot(gs[r, c]) for c in range(ncols)] for r in range(nrows)]


def save_pdf(pages: Sequence[Page], path: Path | str, metadata: Optional[dict] = None,
             fonts: str = "embedded") -> Path:
    """Write the pages to a PDF atomically (temporary file beside the target, then replace).

    fonts: the font set the pages were built with (:func:`report_style`)."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    if path.is_dir():
        raise ReportError("is a folder: give the PDF file to write (e.g. report.pdf)", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with report_style(fonts), PdfPages(tmp, metadata=metadata or {}) as pdf:
            for page in pages:
                pdf.savefig(page.figure)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)   # an ordinary file's mode (mkstemp makes 0600), for shared drives
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - any failure becomes a ReportError naming the file
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, ReportError):
            raise
        raise ReportError(f"cannot write the PDF: {exc}", path) from exc
    return path
