"""The heatmap canvas: image with the engine's map over it, a colour bar, zoom, pan and a
read-out of the pixel and heat value under the cursor (pyqtgraph, row-major images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from engine.maps.combine import COMBINATIONS
from engine.maps.render import colormap_lut
from engine.params import Param
from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from .compose import ViewSettings, compose, duration_text, fit_map, parameter_text
from .style import hint_style

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
HINT = "Open a folder (Ctrl+Shift+O) and pick an image on the left"
STARTING = "Loading the engine and the model…"
POINT_HINT = "Point at the image for pixel and heat values"


def make_colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph colour map with the engine's colours."""
    lut = colormap_lut(name)
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)


def image_view(layout: pg.GraphicsLayout, row: int = 0, col: int = 0) -> tuple[pg.ViewBox, pg.ImageItem]:
    """A locked-aspect, y-down ViewBox holding one ImageItem."""
    view = layout.addViewBox(row=row, col=col, lockAspect=True, invertY=True, enableMenu=False)
    item = pg.ImageItem(axisOrder="row-major")
    view.addItem(item)
    return view, item


class TitleLabel(QLabel):
    """The line above the image; `changed` after every new text (a pane beside another evens their heights)."""

    changed = Signal()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Show `text` and say so."""
        super().setText(text)
        self.changed.emit()


class HeatmapCanvas(QWidget):
    """One image and its explanation; `hovered(text)` describes the pixel under the cursor, also
    when the image or the map under a still cursor changes (the read-out never keeps old values).
    The read-out is a line under the canvas, not in the status bar, where it hid the messages."""

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = TitleLabel(STARTING)
        self.title.setStyleSheet("font-weight: 600; padding: 2px 6px;")
        self.title.setWordWrap(True)  # a long title takes two lines on a narrow canvas
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202124")
        self.view, self.item = image_view(self.graphics.ci)
        # Made right after the canvas first paints (colour_bar), not with it: its colours need OpenCV
        # and its pyqtgraph plot a sixth of the window's construction, while the first paint has no
        # picture for it to describe.
        self.colorbar: pg.ColorBarItem | None = None
        self.bar_colormap: str | None = None  # the colour map the bar shows
        self.bar_shown = True  # False beside another canvas, whose bar serves both (gui.pair_view)
        self.graphics.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        self.readout = QLabel(POINT_HINT)
        self.readout.setStyleSheet(hint_style() + " padding: 1px 6px;")
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hovered.connect(lambda text: self.readout.setText(text or POINT_HINT))
        layout.addWidget(self.readout)
        self.cursor_at: tuple[int, int] | None = None  # image column, row of the last read-out
        self.image: np.ndarray | None = None
        self.heatmap: np.ndarray | None = None
        self.path: str | None = None
        self.explanation = None
        self.settings = ViewSettings()
        self.picture: np.ndarray | None = None
        self._mouse = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=30, slot=self._mouse_moved)

    # -- contents ---------------------------------------------------------------------------
    def show_hint(self, text: str) -> None:
        """No image: an empty canvas and what to do."""
        self.path, self.image, self.heatmap, self.explanation = None, None, None, None
        self.title.setText(text)
        self._redraw()

    def show_note(self, path: str, text: str) -> None:
        """An image that is selected but not shown yet (the engine is loading, a cancel): keep
        it only if it is this image, and say why there is no map."""
        if path != self.path:
            self.image = None
        self.path, self.heatmap, self.explanation = path, None, None
        self.title.setText(text)
        self._redraw()

    def show_loading(self, path: str, image: np.ndarray) -> None:
        """A new image without a map (the map follows when it is ready)."""
        self._set_image(path, image)
        self.title.setText(f"{Path(path).name} · explaining…")

    def show_explanation(self, path: str, image: np.ndarray, explanation, title: str,
                         declared: tuple[Param, ...] = ()) -> None:
        """The engine's map for an image; `title` is the method's display title, `declared` its
        parameters. The canvas keeps `heatmap` as the engine gave it."""
        if path != self.path or self.image is None or self.image.shape != image.shape:
            self._set_image(path, image)
        self.explanation = explanation
        self.heatmap = fit_map(explanation.heatmap, *image.shape[:2])
        self.title.setText(describe(explanation, title, declared))
        self._redraw()

    def show_map_error(self, message: str) -> None:
        """Keep the image, drop the map, say why."""
        self.heatmap, self.explanation = None, None
        self.title.setText(message)
        self._redraw()

    def show_error(self, path: str, message: str) -> None:
        """An image that could not be read: an empty canvas and the reason."""
        self.path, self.image, self.heatmap, self.explanation = path, None, None, None
        self.title.setText(message)
        self._redraw()

    def shows_map_of(self, path: str) -> bool:
        """Whether the canvas shows a map of this image."""
        return self.path == path and self.explanation is not None

    def title_text(self) -> str:
        """What the line above the image says."""
        return self.title.text()

    def _set_image(self, path: str, image: np.ndarray) -> None:
        new_size = self.image is None or self.image.shape[:2] != image.shape[:2]
        self.path, self.image, self.heatmap, self.explanation = path, image, None, None
        self.colour_bar()  # a picture has its bar (a canvas grabbed before it has painted)
        self._redraw()
        if new_size:
            self.view.autoRange(padding=0.02)

    def show_colorbar(self, shown: bool) -> None:
        """Show or remove the colour bar (a pane beside another shares that one's: the room goes to the image)."""
        self.bar_shown = shown
        layout, bar = self.graphics.ci, self.colorbar
        if bar is None:
            return  # made as it should be shown (colour_bar)
        if shown and bar.scene() is None:
            layout.addItem(bar, row=0, col=1)
        elif not shown and bar.scene() is not None:
            layout.removeItem(bar)

    def apply(self, settings: ViewSettings) -> None:
        """Redraw with new opacity, threshold, colour map, outline or mode."""
        self.settings = settings
        if self.bar_colormap is not None:
            self.colour_bar()
        self._redraw()

    def colour_bar(self) -> pg.ColorBarItem:
        """The colour bar with the settings' colour map (made now if it was not)."""
        if self.colorbar is None:
            self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=make_colormap(self.settings.colormap),
                                            interactive=False, width=16, label="heat")
            self.bar_colormap = self.settings.colormap
            if self.bar_shown:
                self.graphics.ci.addItem(self.colorbar, row=0, col=1)
        elif self.bar_colormap != self.settings.colormap:
            self.colorbar.setColorMap(make_colormap(self.settings.colormap))
            self.bar_colormap = self.settings.colormap
        return self.colorbar

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """Make the bar right after the canvas's first paint (queued: the paint is not delayed)."""
        if event.type() == QEvent.Type.Paint and self.bar_colormap is None:
            watched.removeEventFilter(self)
            QTimer.singleShot(1, self.colour_bar)  # a timer, not a posted call: after the paint's pass
        return False

    def _redraw(self) -> None:
        self._tell_cursor()
        if self.image is None:
            self.item.clear()
            self.picture = None
            return
        self.picture = compose(self.image, self.heatmap, self.settings)
        self.item.setImage(self.picture, autoLevels=False, levels=(0, 255))

    def _tell_cursor(self) -> None:
        """The read-out of the pixel under the cursor for what the canvas shows now."""
        if self.cursor_at is not None:
            self.hovered.emit(self.value_at(*self.cursor_at))

    # -- cursor read-out --------------------------------------------------------------------
    def value_at(self, x: int, y: int) -> str:
        """The pixel and heat value at image column x, row y."""
        if self.image is None or not (0 <= y < self.image.shape[0] and 0 <= x < self.image.shape[1]):
            return ""
        r, g, b = (int(v) for v in self.image[y, x, :3])
        text = f"x {x}, y {y}   RGB ({r}, {g}, {b})"
        if self.heatmap is not None:
            text += f"   heat {float(self.heatmap[y, x]):.3f}"
        return text

    def _mouse_moved(self, event) -> None:
        position: QPointF = event[0]
        if not self.view.sceneBoundingRect().contains(position):
            return
        point = self.view.mapSceneToView(position)
        self.cursor_at = int(np.floor(point.x())), int(np.floor(point.y()))
        self._tell_cursor()


def describe(explanation, title: str | None = None, declared: tuple[Param, ...] = ()) -> str:
    """A one-line title for an explanation (`title`: the method's display title; `declared`: its
    parameters, so the values that differ from their defaults are named, as combinations are)."""
    layer = f" · layer {explanation.layer}" if explanation.layer else ""
    tile = getattr(explanation, "tile", None)  # tiles: the tile the verdict comes from
    layer += f" · verdict from the tile at x {tile[0]}, y {tile[1]}" if tile else ""
    changed = parameter_text(explanation.params, declared + COMBINATIONS)
    changed = f" ({changed})" if changed else ""  # the combinations and parameters that shaped this map
    agnostic = getattr(explanation, "class_agnostic", False)  # Eigen-CAM: the map is about the image
    subject = "class-agnostic" if agnostic else f"class {explanation.class_name} ({explanation.probability:.1%})"
    text = f"{title or explanation.method}{changed} · {subject}{layer} · {duration_text(explanation.seconds)}"
    return text + evidence_note(explanation)


def evidence_note(explanation) -> str:
    """" · no positive evidence for this class" (or why the map is flat) for an all-zero map, else ""."""
    if not explanation.empty:
        return ""
    if any(note.startswith("the map is flat") for note in explanation.notes):
        return " · flat map: the score barely depends on the input"
    agnostic = getattr(explanation, "class_agnostic", False)
    return " · no positive evidence" + ("" if agnostic else " for this class")
