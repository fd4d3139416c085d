"""The drawing tools on the canvas: mouse gestures become regions of a RegionEditor, shown as
a tinted layer with outlines over the image (pyqtgraph items in the canvas's ViewBox)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from engine.annotations.editing import RegionEditor, box_between, ellipse_between
from engine.annotations.regions import Point, Region
from PySide6.QtCore import QObject, QRectF, Qt, Signal

from gui.mask_overlay import mask_outline

BOX, ELLIPSE, POLYGON, BRUSH, ERASER = "box", "ellipse", "polygon", "brush", "eraser"
TOOLS = (BOX, ELLIPSE, POLYGON, BRUSH, ERASER)
COLOURS = ((255, 80, 80), (80, 200, 255), (255, 210, 60), (190, 120, 255), (90, 255, 120), (255, 140, 40),
           (255, 100, 220), (160, 160, 160))
TINT_ALPHA = 90
CLOSE_DISTANCE = 6.0  # image px: a polygon click this near its first vertex closes it


def colour_of(position: int) -> tuple[int, int, int]:
    """The display colour of the class at `position` in the class list."""
    return COLOURS[position % len(COLOURS)]


def tint_lut(count: int) -> np.ndarray:
    """RGBA rows for index 0 (clear) and the `count` classes plus one for unknown labels."""
    lut = np.zeros((count + 2, 4), np.uint8)
    for position in range(count + 1):
        lut[position + 1] = (*colour_of(position), TINT_ALPHA)
    return lut


class _Catcher(pg.GraphicsObject):
    """A transparent item over the image that takes the mouse while a tool is chosen
    (otherwise it ignores it, and the ViewBox pans and zooms as usual)."""

    def __init__(self, layer: DrawingLayer) -> None:
        super().__init__()
        self.layer = layer
        self.rect = QRectF()
        self.setZValue(20)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self.rect

    def paint(self, *_args) -> None:
        return None

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph's name
        if self.layer.tool is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        point = (ev.pos().x(), ev.pos().y())
        if ev.isStart():
            self.layer.press((ev.buttonDownPos().x(), ev.buttonDownPos().y()))
        self.layer.drag(point)
        if ev.isFinish():
            self.layer.release(point)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph's name
        if self.layer.tool is None or ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self.layer.click((ev.pos().x(), ev.pos().y()), double=ev.double())


class DrawingLayer(QObject):
    """The regions of the canvas's image and the tool drawing them; `changed` after every edit."""

    changed = Signal()

    def __init__(self, canvas) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.editor: RegionEditor | None = None
        self.labels: tuple[str, ...] = ()
        self.label = ""
        self.tool: str | None = None
        self.radius = 6.0
        self._start: Point | None = None
        self._stroke: list[Point] = []
        self.polygon: list[Point] = []
        self.tint = pg.ImageItem(axisOrder="row-major")
        self.tint.setZValue(8)
        self.outline = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 255), width=1.5))
        self.outline.setZValue(9)
        self.preview = pg.PlotCurveItem(pen=pg.mkPen((255, 255, 0), width=1.5, style=Qt.PenStyle.DashLine))
        self.preview.setZValue(11)
        self.catcher = _Catcher(self)
        for item in (self.tint, self.outline, self.preview, self.catcher):
            canvas.view.addItem(item)

    # -- what is edited ---------------------------------------------------------------------
    def start(self, editor: RegionEditor | None) -> None:
        """Edit these regions (None: no image)."""
        self.editor = editor
        self.polygon, self._stroke, self._start = [], [], None
        self.catcher.prepareGeometryChange()
        self.catcher.rect = QRectF(0, 0, editor.width, editor.height) if editor else QRectF()
        self.redraw()

    def set_tool(self, tool: str | None) -> None:
        """Choose a tool from TOOLS, or None to pan and zoom again."""
        self.tool = tool
        self.polygon = []
        self._show_preview()
        self.changed.emit()

    # -- gestures (image coordinates; the mouse and tests call these) -----------------------
    def press(self, point: Point) -> None:
        """A drag starts (nothing is drawn without a class to give it: no model yet)."""
        if not self.label and self.tool != ERASER:
            self._start, self._stroke = None, []
            return
        self._start, self._stroke = point, [point]

    def drag(self, point: Point) -> None:
        """The drag moved."""
        if self._start is None:
            return
        self._stroke.append(point)
        self._show_preview(point)

    def release(self, point: Point) -> None:
        """The drag ended: the region it drew."""
        start, stroke = self._start, self._stroke + [point]
        self._start, self._stroke = None, []
        if start is None or self.editor is None:
            return
        if self.tool == BOX:
            self._edited(self.editor.add(box_between(self.label, start, point)))
        elif self.tool == ELLIPSE:
            self._edited(self.editor.add(ellipse_between(self.label, start, point)))
        elif self.tool == BRUSH:
            self._edited(self.editor.paint(self.label, stroke, self.radius))
        elif self.tool == ERASER:
            self._edited(self.editor.erase(stroke, self.radius))
        self._show_preview()

    def click(self, point: Point, double: bool = False) -> None:
        """A click: a polygon vertex (a double click or a click on the first vertex closes it),
        or a dab of the brush or eraser."""
        if self.editor is None:
            return
        if self.tool == POLYGON and self.label:
            near_start = len(self.polygon) >= 3 and np.hypot(point[0] - self.polygon[0][0],
                                                             point[1] - self.polygon[0][1]) < CLOSE_DISTANCE
            if double or near_start:
                self.close_polygon()
                return
            self.polygon.append(point)
            self._show_preview(point)
        elif self.tool in (BRUSH, ERASER):
            self.press(point)
            self.release(point)

    def close_polygon(self) -> bool:
        """Finish the polygon being clicked (three vertices at least); True if one was added."""
        vertices, self.polygon = self.polygon, []
        added = self.editor is not None and len(vertices) >= 3
        if added:
            self._edited(self.editor.add(Region.polygon(self.label, vertices)))
        self._show_preview()
        return added

    def undo(self) -> bool:
        """Take back the open polygon's last vertex, else the last edit."""
        if self.polygon:
            self.polygon.pop()
            self._show_preview()
            return True
        return self._edited(self.editor is not None and self.editor.undo())

    def _edited(self, done: bool) -> bool:
        if done:
            self.redraw()
            self.changed.emit()
        return done

    # -- display ----------------------------------------------------------------------------
    def redraw(self) -> None:
        """Show the regions: a tint per class and their outlines."""
        if self.editor is None or not self.editor.regions:
            self.tint.clear()
            self.outline.setData([], [])
            return
        index = self.editor.index_mask(list(self.labels))
        self.tint.setImage(tint_lut(len(self.labels))[index], autoLevels=False, levels=(0, 255))
        x, y, connect = mask_outline(index > 0)
        self.outline.setData(x, y, connect=connect)

    def _show_preview(self, cursor: Point | None = None) -> None:
        points = self._preview_points(cursor)
        if len(points) < 2:
            self.preview.setData([], [])
            return
        xs, ys = zip(*points, strict=True)
        self.preview.setData(np.asarray(xs), np.asarray(ys))

    def _preview_points(self, cursor: Point | None) -> list[Point]:
        if self.tool == POLYGON:
            return self.polygon + ([cursor] if cursor is not None and self.polygon else [])
        if self._start is None or cursor is None:
            return []
        (x0, y0), (x1, y1) = self._start, cursor
        if self.tool == BOX:
            return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        if self.tool == ELLIPSE:
            angles = np.linspace(0, 2 * np.pi, 49)
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
            return list(zip(cx + rx * np.cos(angles), cy + ry * np.sin(angles), strict=True))
        return list(self._stroke)
