"""The Trust tab's figures: pyqtgraph plots that stay still, so a result or a resize costs little.

What made them slow (measured offscreen, CPU per repaint of one plot): pyqtgraph's own grid
(`showGrid`) is drawn by the axes over the whole data area, 4-8 ms per repaint against 0.2 ms
without it, and every range change re-laid-out the axis labels (auto SI prefix). So the grid is one
curve of line pairs at the ticks, the ranges and ticks are set, not found, and auto-range is off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QApplication

PENS = {"map": pg.mkPen("#1f5fbf", width=2), "random": pg.mkPen("#888888", width=2, style=Qt.PenStyle.DashLine),
        "edges": pg.mkPen("#e07b00", width=2, style=Qt.PenStyle.DotLine)}
GRID_PEN = pg.mkPen((0, 0, 0, 40), width=1)  # light, as showGrid(alpha=0.2) drew it
FRACTION_TICKS = tuple(round(0.2 * step, 1) for step in range(6))  # 0, 0.2, ... 1 on both axes of a curve plot
# Fixed heights, the most they had (in the Trust tab's scrolling page they always had it): a plot that
# could shrink was squeezed and grown back, its axes laid out twice, whenever a result changed the
# page's height (the sanity check's stage maps).
CURVE_HEIGHT, SIMILARITY_HEIGHT = 300, 290
PROBABILITY_TOP = 1.02  # a curve at p = 1 stays visible above the top grid line


class StaticPlot(pg.PlotWidget):
    """A figure, not an instrument: no zoom, pan, menu, auto-range button or SI prefixes (its
    ranges are set, which turns auto-range off), and the mouse wheel scrolls the page it sits in
    (the event goes on to the parents) instead of zooming the axes."""

    def __init__(self) -> None:
        super().__init__(background="w", viewBox=pg.ViewBox(enableMenu=False))  # no context menu made for nothing
        item = self.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        for name in ("left", "bottom", "top", "right"):
            item.getAxis(name).enableAutoSIPrefix(False)
        self.grid = pg.PlotCurveItem(pen=GRID_PEN, connect="pairs")
        self.grid.setZValue(-1)
        item.getViewBox().addItem(self.grid, ignoreBounds=True)  # on the ViewBox: PlotItem.clear() keeps it

    def set_grid(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        """Vertical lines at `xs` and horizontal ones at `ys`, across the current ranges."""
        (left, right), (bottom, top) = self.getViewBox().viewRange()
        starts = [(x, bottom) for x in xs] + [(left, y) for y in ys]
        ends = [(x, top) for x in xs] + [(right, y) for y in ys]
        pairs = np.array([point for pair in zip(starts, ends, strict=True) for point in pair], dtype=float)
        self.grid.setData(pairs[:, 0], pairs[:, 1], connect="pairs")

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        """Hand the wheel to the surrounding scroll area. Forwarded, not just ignored: Qt does not
        pass an ignored wheel event to the parents unless it came from the window system."""
        page = self._page()
        if page is None:
            event.ignore()
            return
        QApplication.sendEvent(page.viewport(), event)

    def _page(self) -> QAbstractScrollArea | None:
        """The nearest scroll area this plot sits in (the plot itself is one: it is skipped)."""
        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QAbstractScrollArea):
            parent = parent.parentWidget()
        return parent


def set_ticks(plot: pg.PlotWidget, axis: str, values: Sequence[float], labels: Sequence[str] | None = None) -> None:
    """Major ticks of `axis` at `values` (labelled with `labels`, else the values), no minor ones."""
    texts = labels if labels is not None else [f"{value:g}" for value in values]
    plot.getAxis(axis).setTicks([list(zip(values, texts, strict=True)), []])


def curve_plot(title: str, x_label: str, legend: tuple[int, int]) -> StaticPlot:
    """A deletion or insertion plot: probability (0 to 1) against the fraction of pixels (0 to 1),
    the ranges, ticks and grid fixed once, and the map's, random order's and edges' legend entries
    made once (the curves of each result are drawn unnamed: legend entries made anew for each result
    stalled the window 100+ ms)."""
    plot = StaticPlot()
    plot.setTitle(title, color="#222")
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", "probability")
    plot.addLegend(offset=legend)  # where the curves are not: bottom right for insertion, middle for deletion
    for name, pen in PENS.items():
        plot.getPlotItem().legend.addItem(pg.PlotDataItem(pen=pen), name)
    plot.setXRange(0.0, 1.0, padding=0.02)
    plot.setYRange(0.0, PROBABILITY_TOP, padding=0.0)
    for axis in ("bottom", "left"):
        set_ticks(plot, axis, FRACTION_TICKS)
    plot.set_grid(FRACTION_TICKS, FRACTION_TICKS)
    plot.setFixedHeight(CURVE_HEIGHT)
    return plot


def similarity_ticks(lowest: float) -> list[float]:
    """The similarity axis's ticks from `lowest` (rounded up to the step) to 1, every 0.2 (every
    0.5 when the range reaches far below zero)."""
    step = 0.2 if lowest >= -0.4 else 0.5
    first = np.ceil(lowest / step - 1e-9) * step
    return [round(float(value), 1) for value in np.arange(first, 1.0 + step / 2, step)]
