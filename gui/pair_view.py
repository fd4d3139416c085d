"""The Heatmap tab: model A's canvas and, while two models are compared, model B's beside it.

B's canvas is built the first time a second model opens (most sessions never compare). Both
canvases take the same view settings, and B's view is linked to A's (pyqtgraph view linking),
so zoom and pan move both. A line above them names the two models, with a Stop button."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .canvas import HeatmapCanvas
from .compose import ViewSettings
from .style import hint_style

QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's largest widget size: no maximum


def wrapped_height(label: QLabel) -> int:
    """The height a word-wrapped label needs at its width (QLabel.heightForWidth counts the style
    sheet's padding twice and asked for a line too many)."""
    margins = label.height() - label.contentsRect().height()
    room = QRect(0, 0, max(1, label.contentsRect().width()), 100_000)
    return label.fontMetrics().boundingRect(room, Qt.TextFlag.TextWordWrap, label.text()).height() + margins


class PairView(QWidget):
    """`canvas` (model A's) alone, or beside `canvas_b` while comparing; `stopRequested` asks the
    window to go back to one model."""

    stopRequested = Signal()

    def __init__(self, canvas: HeatmapCanvas, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.canvas_b: HeatmapCanvas | None = None
        self.shared_rows: tuple[QWidget, ...] = ()  # rows of A's canvas (mask line, drawing bar) that go above
        # both panes while comparing: in A's pane they kept it wider than half the room, and linked views of
        # unequal widths with a locked aspect shrink each other's image
        self.settings = ViewSettings()
        self.names = QLabel()
        self.names.setStyleSheet(hint_style() + " padding: 1px 6px;")
        self.names.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.names.setWordWrap(True)  # long model names take a second line rather than lose their end
        self.stop = QPushButton("Stop comparing")
        self.stop.setToolTip("Back to one model (File › Stop comparing)")
        self.stop.clicked.connect(self.stopRequested.emit)
        self.header = QWidget()
        row = QHBoxLayout(self.header)
        row.setContentsMargins(0, 0, 4, 0)
        row.addWidget(self.names, 1)
        row.addWidget(self.stop)
        self.header.hide()
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.split, 1)

    @property
    def comparing(self) -> bool:
        """Whether B's canvas is shown."""
        return self.canvas_b is not None and not self.canvas_b.isHidden()

    def compare(self, name_a: str, name_b: str) -> HeatmapCanvas:
        """Show B's canvas beside A's (built at the first call), zoom and pan linked; returns it."""
        if self.canvas_b is None:
            self.canvas_b = HeatmapCanvas()
            self.canvas_b.apply(self.settings)
            self.split.addWidget(self.canvas_b)
            for pane in (self.canvas, self.canvas_b):
                pane.title.changed.connect(self._even_titles)
                pane.title.installEventFilter(self)
        self.canvas_b.show_hint(f"B · {name_b}: waiting for its map…")
        self.canvas_b.show()
        self.canvas_b.view.setXLink(self.canvas.view)
        self.canvas_b.view.setYLink(self.canvas.view)
        for k, row in enumerate(self.shared_rows):
            self.layout().insertWidget(1 + k, row)
        self.canvas.show_colorbar(False)  # B's, at the right, serves both
        QTimer.singleShot(0, self._halve)
        self.set_names(name_a, name_b)
        self.header.show()
        return self.canvas_b

    def set_names(self, name_a: str, name_b: str) -> None:
        """Name the two models above the panes (A changes when another model is opened)."""
        self.names.setText(f"A: {name_a} · B: {name_b} · zoom, pan and view settings apply to both")
        self.names.setToolTip(f"Comparing model A, {name_a}, with model B, {name_b}")

    def stop_comparing(self) -> None:
        """Back to A's canvas alone (B's is kept, hidden and unlinked, for the next comparison)."""
        self.header.hide()
        for k, row in enumerate(self.shared_rows):  # back under A's title
            self.canvas.layout().insertWidget(1 + k, row)
        self.canvas.show_colorbar(True)
        self.canvas.title.setMinimumHeight(0)
        self.canvas.title.setMaximumHeight(QWIDGETSIZE_MAX)
        if self.canvas_b is not None:
            self.release()
            self.canvas_b.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A title of a new width may wrap onto another line count."""
        if event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._even_titles)
        return False

    def _even_titles(self) -> None:
        """Both titles as tall as the taller one, so that both images start at the same height: linked
        views with a locked aspect line up by screen position, and unequal heights shrink the images."""
        if not self.comparing or self.canvas_b is None:
            return
        titles = (self.canvas.title, self.canvas_b.title)
        height = max(wrapped_height(t) for t in titles)
        for title in titles:
            if title.height() != height or title.minimumHeight() != height:
                title.setFixedHeight(height)

    def _halve(self) -> None:
        """Equal images once the layout has settled: linked views with a locked aspect need equal widths
        to show the same region at the same scale. B's pane is wider by its colour bar (measured, then
        corrected once the views have their new widths)."""
        if self.comparing and self.canvas_b is not None:
            bar = self.canvas_b.colour_bar().boundingRect().width()
            half = (self.split.width() - self.split.handleWidth() - bar) / 2
            self.split.setSizes([round(half), round(half + bar)])
            QTimer.singleShot(0, self._even_views)

    def _even_views(self) -> None:
        if self.comparing and self.canvas_b is not None:
            wider = round((self.canvas.view.width() - self.canvas_b.view.width()) / 2)
            if wider:
                a, b = self.split.sizes()
                self.split.setSizes([a - wider, b + wider])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A new width shares out again (the splitter scales both panes, the colour bar does not scale)."""
        super().resizeEvent(event)
        QTimer.singleShot(0, self._halve)

    def release(self) -> None:
        """Undo the view links (linked ViewBoxes left to the interpreter's exit can crash PySide6)."""
        if self.canvas_b is not None:
            self.canvas_b.view.setXLink(None)
            self.canvas_b.view.setYLink(None)

    def apply(self, settings: ViewSettings) -> None:
        """The view settings (opacity, threshold, colour map, outline, mode) for both canvases."""
        self.settings = settings
        self.canvas.apply(settings)
        if self.canvas_b is not None:
            self.canvas_b.apply(settings)
