"""The Trust tab: is this map faithful to the model, and does the prediction need the defect?"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from engine.maps.render import colorize
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.lazy import one_per_pass
from gui.thumbnails import to_qimage

from .plots import PENS, SIMILARITY_HEIGHT, StaticPlot, curve_plot, set_ticks, similarity_ticks

if TYPE_CHECKING:  # the window paints before the engine protocol is imported (gui.main_window)
    from gui.protocol import SanityDisplay, TrustResult

HINT = ("Check the map of the current image: deletion and insertion curves against a random order and the "
        "image's edges (Petsiuk et al. 2018), and, when the image has a defect mask, the defect painted out "
        "and predicted again. The sanity check re-initialises the model's weights from the top down on a copy "
        "and recomputes the map (Adebayo et al. 2018).")
THUMB = 72
CELL_WIDTH, CELL_SPACING = THUMB + 28, 6  # px: a stage map with its caption
PICTURE = 150
NOT_RUN = "Not run yet: Check this map paints the defect out and predicts again."
NO_MASK = "No defect mask for this image: nothing to paint out."  # only after a check found none
NO_SANITY = "Not run yet (it recomputes the map once per layer with weights)."
VERDICT_STYLE = "font-weight: 600; padding: 4px;"
# The similarity plot: one colour per method, one line style per measure (solid ρ, dashed SSIM).
METHOD_COLOURS = ("#1f5fbf", "#c0392b", "#2e8b57", "#8e44ad")
MEASURE_STYLES = {"ρ": (Qt.PenStyle.SolidLine, "o"), "SSIM": (Qt.PenStyle.DashLine, "t")}
SIMILARITY_LOWEST, SIMILARITY_TOP = -0.1, 1.05  # the similarity plot's y range (from lower when a value is)
VERDICT_COLOURS = {"faithful": "#e6f6e6", "not faithful": "#fff0d8", "inconclusive": "#e8e8e8"}  # neutral grey


class StageGrid(QWidget):
    """The sanity check's stage maps in as many columns as the width holds, the rest on further
    rows: in one scrolling row a laptop showed two and a half of nine."""

    def __init__(self) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(CELL_SPACING)
        self.cells: list[QWidget] = []
        self.columns = 0

    def count(self) -> int:
        """How many stage maps it holds."""
        return len(self.cells)

    def add(self, cell: QWidget) -> None:
        """One more stage map, after the others."""
        self.cells.append(cell)
        self._arrange(force=True)

    def clear(self) -> None:
        """Drop every stage map."""
        for cell in self.cells:
            self.grid.removeWidget(cell)
            cell.deleteLater()
        self.cells, self.columns = [], 0

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """Another width may hold another number of columns."""
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self, force: bool = False) -> None:
        columns = max(1, (self.width() + CELL_SPACING) // (CELL_WIDTH + CELL_SPACING))
        if columns == self.columns and not force:
            return
        self.columns = columns
        for cell in self.cells:
            self.grid.removeWidget(cell)
        for index, cell in enumerate(self.cells):
            self.grid.addWidget(cell, *divmod(index, columns))
        self.updateGeometry()


def stage_cell(picture: QLabel, index: int, stage) -> QWidget:
    """A stage map above its number, layer (elided to the cell, whole in the tool tip) and ρ."""
    name = stage.layer or "original"
    caption = QLabel()
    metrics = caption.fontMetrics()
    caption.setText(f"{metrics.elidedText(f'{index}: {name}', Qt.TextElideMode.ElideMiddle, CELL_WIDTH)}"
                    f"\nρ={stage.rank_correlation:+.2f}")
    caption.setToolTip(f"{index}: {name}")
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    cell = QWidget()
    cell.setFixedWidth(CELL_WIDTH)
    column = QVBoxLayout(cell)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(picture, 0, Qt.AlignmentFlag.AlignHCenter)
    column.addWidget(caption)
    return cell


def _similarity_frame(plot: StaticPlot, stages: int, lowest: float) -> None:
    """The similarity plot's ranges, ticks and grid for `stages` stages and values down to `lowest`
    (set, not auto-ranged: a result changes them at most once)."""
    plot.setXRange(0, max(1, stages - 1), padding=0.03)
    # a fixed padding keeps a point at the lowest value whole (the default one follows the height)
    plot.setYRange(lowest, SIMILARITY_TOP, padding=0.03)
    ys = similarity_ticks(lowest)
    set_ticks(plot, "bottom", list(range(stages)))
    set_ticks(plot, "left", ys)
    plot.set_grid(list(range(stages)), ys)


def _picture(rgb: np.ndarray, size: int) -> QPixmap:
    pixmap = QPixmap.fromImage(to_qimage(rgb))
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class TrustView(QWidget):
    """Buttons, the curves, the painted-out image and the sanity check's maps and curve."""

    checkRequested = Signal()
    sanityRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check_button = QPushButton("Check this map")
        self.check_button.setToolTip("Deletion / insertion curves and defect removal for the current image and method")
        self.sanity_button = QPushButton("Sanity check…")
        self.sanity_button.setToolTip("Randomise the model's weights layer by layer (on a copy) and recompute the map")
        self.check_button.clicked.connect(self.checkRequested)
        self.sanity_button.clicked.connect(self.sanityRequested)
        self.status = QLabel(HINT)
        self.status.setWordWrap(True)
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet(VERDICT_STYLE)
        self.method_title: Callable[[str], str] = lambda name: name  # "gradcam" -> "Grad-CAM" (the controller's)
        # The three plots, made one by one when the window is idle (build_when_idle), or all at
        # once when the tab is shown or gets a result before that.
        self.pending_plots: list[Callable[[], None]] = [self._add_deletion, self._add_insertion, self._add_similarity]
        self.removal = self._removal_box()
        self.sanity = self._sanity_box()
        self._layout()
        self.result: TrustResult | None = None
        self.sanity_result: SanityDisplay | None = None

    def _removal_box(self) -> QGroupBox:
        box = QGroupBox("Defect painted out")
        self.before_picture, self.after_picture = QLabel(), QLabel()
        self.removal_text = QLabel(NOT_RUN)
        self.removal_text.setWordWrap(True)
        layout = QGridLayout(box)
        layout.addWidget(self.removal_text, 0, 0, 1, 2)  # the outcome first: on a laptop the pictures scroll
        layout.addWidget(self.before_picture, 1, 0)
        layout.addWidget(self.after_picture, 1, 1)
        layout.setRowStretch(2, 1)  # spare height below the pictures, not around the text
        return box

    def _sanity_box(self) -> QGroupBox:
        box = QGroupBox("Sanity check: cascading randomisation")
        self.sanity_text = QLabel(NO_SANITY)
        self.sanity_text.setWordWrap(True)
        self.maps_row = StageGrid()
        layout = QVBoxLayout(box)
        layout.addWidget(self.sanity_text)
        layout.addWidget(self.maps_row)
        return box

    def _similarity_plot(self) -> pg.PlotWidget:
        """Stage numbers on the x axis (the layer names in the tool tip and under the maps), and a
        one-row legend below the axis, outside the data area, naming each method once (its colour) and
        each measure once (its line style). The plot spans the page under the removal and sanity boxes:
        inside the sanity box it had about 300 px in a 1280 px window, too narrow for its legend."""
        plot = StaticPlot()
        plot.setTitle("Sanity check: similarity with the original map", color="#222", size="9pt")
        plot.setLabel("bottom", "stage (layer names: under the maps, or hover)")
        _similarity_frame(plot, 2, SIMILARITY_LOWEST)
        plot.setFixedHeight(SIMILARITY_HEIGHT)
        self.similarity_legend = pg.LegendItem(colCount=4, horSpacing=16, labelTextSize="8pt", labelTextColor="#333333")
        plot.getPlotItem().layout.addItem(self.similarity_legend, 4, 1)  # below the bottom axis
        return plot

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.sanity_button)
        buttons.addStretch(1)
        self.curves = curves = QHBoxLayout()  # the deletion and insertion plots (_build_plots)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addLayout(buttons)
        column.addWidget(self.status)
        column.addWidget(self.verdict)
        column.addLayout(curves)
        lower = QHBoxLayout()
        lower.addWidget(self.removal, 2)
        lower.addWidget(self.sanity, 3)
        column.addLayout(lower)
        self.body_column = column  # the similarity plot goes last (_build_plots)
        self.page = QScrollArea()  # the wheel over the plots scrolls it too (StaticPlot)
        self.page.setWidget(body)
        self.page.setWidgetResizable(True)
        self.page.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fit the width, scroll down
        # the page is taller than the tab at any usual size; a scroll bar that came and went changed the
        # width, and each change laid the three plots out again
        self.page.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.page)

    @property
    def plots_built(self) -> bool:
        """Whether all three plots are made."""
        return not self.pending_plots

    def _build_plots(self) -> None:
        """The plots still missing: 0.1-0.3 s of pyqtgraph that the window's first paint does not need."""
        while self.pending_plots:
            self.pending_plots.pop(0)()

    def build_when_idle(self, pause_ms: int = 0) -> None:
        """Make the plots one per event-loop pass (each a short stall, not one long one); a plot
        already made by a show in the meantime is not made twice."""
        def next_plot() -> None:
            if self.pending_plots:
                self.pending_plots.pop(0)()

        one_per_pass([next_plot] * len(self.pending_plots), pause_ms, stop=lambda: not self.pending_plots)

    def _add_deletion(self) -> None:
        self.deletion = curve_plot("Deletion (lower is better)", "fraction of pixels removed", (-10, 90))
        self.curves.addWidget(self.deletion)

    def _add_insertion(self) -> None:
        self.insertion = curve_plot("Insertion (higher is better)", "fraction of pixels inserted", (-10, -40))
        self.curves.addWidget(self.insertion)

    def _add_similarity(self) -> None:
        self.similarity = self._similarity_plot()
        self.body_column.addWidget(self.similarity)  # the full width: its legend and stage axis need it

    def setVisible(self, visible: bool) -> None:  # noqa: N802 - Qt's name
        """The plots, before the tab is first shown (and laid out: its page then scrolls right away)."""
        if visible:
            self._build_plots()
        super().setVisible(visible)

    # -- results ----------------------------------------------------------------------------
    def shown_requests(self) -> tuple:
        """The explanation requests (gui.protocol.Explain) of what the panel shows: the check's, the sanity check's."""
        return tuple(shown.request.explain for shown in (self.result, self.sanity_result) if shown is not None)

    def reset(self) -> None:
        """Back to the initial state: the hint, no verdict, curves, pictures or sanity maps."""
        self.result = self.sanity_result = None
        self.status.setText(HINT)
        self.verdict.setText("")
        self.verdict.setStyleSheet(VERDICT_STYLE)
        self._clear_removal(NOT_RUN)
        self._clear_sanity()
        self.sanity_text.setText(NO_SANITY)
        self.sanity_text.setToolTip("")
        for plot in self._made(("deletion", "insertion")):
            plot.clear()
        for plot in self._made(("similarity",)):
            _similarity_frame(plot, 2, SIMILARITY_LOWEST)
            plot.setToolTip("")
        self.page.verticalScrollBar().setValue(0)  # a new map: start at the buttons, not where the last one was read

    def _made(self, names: tuple[str, ...]) -> list[pg.PlotWidget]:
        """The plots of `names` made so far."""
        return [getattr(self, name) for name in names if hasattr(self, name)]

    def _clear_removal(self, text: str, style: str = "") -> None:
        self.before_picture.clear()
        self.after_picture.clear()
        self.removal_text.setText(text)
        self.removal_text.setStyleSheet(style)

    def _clear_sanity(self) -> None:
        self.maps_row.clear()
        for plot in self._made(("similarity",)):
            plot.clear()
            self.similarity_legend.clear()

    def show_busy(self, text: str, sanity: bool = False) -> None:
        """Say what is running: the sanity check in its own box (the header keeps describing the panel)."""
        (self.sanity_text if sanity else self.status).setText(text)

    def show_error(self, message: str, sanity: bool = False) -> None:
        """Say why the last request failed, where it was asked for."""
        if sanity:
            self.sanity_text.setText(f"Could not run the sanity check: {message}")
        else:
            self.status.setText(f"Could not check: {message}")

    def _describe(self, explain, class_name: str) -> None:
        """The header: what the panel shows ("Grad-CAM on scratch_01.png, class 'scratch'")."""
        self.status.setText(f"{self.method_title(explain.method)} on {explain.path.rsplit('/', 1)[-1]}, "
                            f"class '{class_name}'")

    def show_result(self, result: TrustResult) -> None:
        """Draw the curves, the verdict and the removal."""
        self._build_plots()
        self.result = result
        found = result.faithfulness
        self._describe(result.request.explain, result.class_name)
        a = found.aucs()
        figures = (f"Deletion AUC {a['deletion_auc']:.3f} (random {a['random_deletion_auc']:.3f}, edges "
                   f"{a['edges_deletion_auc']:.3f}); insertion AUC {a['insertion_auc']:.3f} (random "
                   f"{a['random_insertion_auc']:.3f}, edges {a['edges_insertion_auc']:.3f}).")
        if not found.conclusive:
            head = (f"INCONCLUSIVE: removing pixels barely moves the score (random order keeps "
                    f"p ≥ {found.random_lowest:.2f}, from p={found.random.deletion[0]:.2f}), so the curves cannot "
                    "rank this map")
            background = VERDICT_COLOURS["inconclusive"]
        elif found.faithful:
            head, background = "FAITHFUL: the map beats both controls", VERDICT_COLOURS["faithful"]
        else:
            head, background = "NOT FAITHFUL: a control does as well as the map", VERDICT_COLOURS["not faithful"]
        self.verdict.setText(f"{head}. {figures}")
        self.verdict.setStyleSheet(f"{VERDICT_STYLE} background: {background};")
        for plot, kind in ((self.deletion, "deletion"), (self.insertion, "insertion")):
            plot.clear()
            for name, curves in (("map", found.map), ("random", found.random), ("edges", found.edges)):
                if curves is not None:
                    plot.plot(found.fractions, getattr(curves, kind), pen=PENS[name])  # named in the fixed legend
        self._show_removal(result)

    def _show_removal(self, result: TrustResult) -> None:
        """The removal's outcome; it means something only for a defect class's prediction."""
        if not result.defect_class:
            self._clear_removal(f"'{result.class_name}' is the defect-free class: painting the defect out "
                                "checks defect predictions only.", "color: grey;")
            return
        if result.painted is None:
            self._clear_removal(NO_MASK)
            return
        self.before_picture.setPixmap(_picture(result.display, PICTURE))
        self.after_picture.setPixmap(_picture(result.painted, PICTURE))
        outcome = ("the prediction SURVIVED: the model did not need the defect" if result.kept
                   else "the prediction was lost: the model needed the defect")
        self.removal_text.setText(
            f"'{result.class_name}' p={result.probability_before:.3f} → after painting the defect out: predicted "
            f"'{result.predicted_after}', '{result.class_name}' p={result.probability_after:.3f}; {outcome}.")
        self.removal_text.setStyleSheet("color: #b00;" if result.kept else "")

    def show_sanity(self, display: SanityDisplay) -> None:
        """The sequence of maps and the similarity curve of each method."""
        self._build_plots()
        self.sanity_result = display
        self._clear_sanity()
        self._describe(display.request.explain, display.class_name)
        lines: list[str] = []
        titles: list[tuple[str, str]] = []
        for number, result in enumerate(display.results):
            half = result.stages[result.half]
            verdict = "#070" if result.passed else "#b00"
            title = self.method_title(result.method)
            lines.append(f"<span style='color:{verdict}'><b>{title}: {'PASS' if result.passed else 'FAIL'}"
                         f"</b> (rank correlation {half.rank_correlation:.2f} after the top {result.half} of "
                         f"{len(result.stages) - 1} layers)</span>")
            x = np.arange(len(result.stages))
            colour = METHOD_COLOURS[number % len(METHOD_COLOURS)]
            for measure, values in (("ρ", [s.rank_correlation for s in result.stages]),
                                    ("SSIM", [s.ssim for s in result.stages])):
                style, symbol = MEASURE_STYLES[measure]
                self.similarity.plot(x, values, pen=pg.mkPen(colour, width=2, style=style), symbol=symbol,
                                     symbolSize=7, symbolBrush=colour, symbolPen=colour)
            titles.append((title, colour))
        first = display.results[0]
        for stage in first.stages:
            tile = QLabel()
            tile.setPixmap(_picture(colorize(stage.heatmap), THUMB))
            tile.setToolTip(stage.layer or "original")
            self.maps_row.add(stage_cell(tile, self.maps_row.count(), stage))
        self._similarity_legend(titles)
        self._similarity_axes(display)
        self.sanity_text.setText("<br>".join(lines))
        self.sanity_text.setToolTip("\n".join(r.reason for r in display.results))

    def _similarity_legend(self, titles: list[tuple[str, str]]) -> None:
        """The methods (their colours), then the measures (their line styles)."""
        legend = self.similarity_legend
        legend.clear()
        for title, colour in titles:
            legend.addItem(pg.PlotDataItem(pen=pg.mkPen(colour, width=3)), title)
        for name, (style, _symbol) in MEASURE_STYLES.items():
            label = "ρ (rank correlation)" if name == "ρ" else name
            legend.addItem(pg.PlotDataItem(pen=pg.mkPen("#444444", width=2, style=style)), label)

    def _similarity_axes(self, display: SanityDisplay) -> None:
        """Stage numbers as ticks, the layer names in the tool tip, and the rule drawn: a dashed line
        at the rank correlation a method must fall under, a dotted one at the stage where it must."""
        from engine.trust.sanity import FAIL_CORRELATION

        first = display.results[0]
        lowest = min(SIMILARITY_LOWEST, *(s.rank_correlation for r in display.results for s in r.stages))
        _similarity_frame(self.similarity, len(first.stages), lowest)
        names = "\n".join(f"{i}: {'original map' if not s.layer else 'randomised down to ' + s.layer}"
                          for i, s in enumerate(first.stages))
        self.similarity.setToolTip(f"Stages (layers with weights re-initialised from the top):\n{names}")
        grey = "#666666"
        self.similarity.addItem(pg.InfiniteLine(
            FAIL_CORRELATION, angle=0, pen=pg.mkPen(grey, width=1, style=Qt.PenStyle.DashLine),
            label=f"pass: ρ < {FAIL_CORRELATION:g} at stage {first.half}",
            labelOpts={"position": 0.98, "anchors": [(1, 1), (1, 1)], "color": grey}))
        self.similarity.addItem(pg.InfiniteLine(first.half, angle=90,
                                                pen=pg.mkPen(grey, width=1, style=Qt.PenStyle.DotLine)))
