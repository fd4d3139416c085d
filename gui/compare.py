"""The compare grid: several methods, layers or classes for the same image, side by side,
zoom and pan in sync (linked ViewBoxes), each tile titled with what it shows and its time.

The grid takes as many columns as make the tiles' images largest in the room it has (at least
MIN_TILE_WIDTH each), and titles wrap at their tile's width (whole in their tool tip too), so
every tile stays inside the window, and every word of its title readable, however long it is."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pyqtgraph as pg
from engine.maps.combine import COMBINATIONS
from engine.params import Param
from PySide6.QtCore import QEvent, QObject, QRectF, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .canvas import evidence_note, image_view
from .compose import ViewSettings, compose, duration_text, parameter_text, titled_grid
from .style import hint_style

COMPARE_MODES = {"methods": "methods", "layers": "CAM layers", "classes": "every class", "models": "models A | B"}
PICKS_METHODS = ("methods", "models")  # the modes whose tiles are the methods ticked in the Methods menu
PAN_HINT = "Tiles zoom and pan together; the view settings below apply to every tile."
MAX_TILES = 12  # layers or classes: a 4 x 3 grid stays legible (methods: the ones the user ticks)
MIN_TILE_WIDTH = 96  # px: narrower tiles would elide even short titles to nothing
TITLE_POINT_SIZE = 9.0
TITLE_COLOR = "#e8eaed"
TITLE_MARGIN = 2.0  # px around the lines
TITLE_LINE_HEIGHT = 15  # px per title line at TITLE_POINT_SIZE, for choosing the columns
MARKUP = re.compile(r"<[^>]+>")  # a title line's HTML tags (a coloured word): painted as plain text


def wrap_words(line: str, room: float, advance) -> list[str]:
    """`line` broken greedily into lines at most `room` px wide (`advance(text)`: its width): at its
    " · " separators first (each kept at the end of its line), within a part at spaces, and a
    word wider than `room` on its own where it reaches the edge (as Qt's
    WrapAtWordBoundaryOrAnywhere does), so no letter is lost."""
    lines: list[str] = []
    parts = line.split(" · ")
    for number, part in enumerate(parts):
        part += " ·" if number < len(parts) - 1 else ""
        if lines and advance(f"{lines[-1]} {part}") <= room:
            lines[-1] = f"{lines[-1]} {part}"
        else:
            lines.extend(_wrap_part(part, room, advance))
    return lines or [""]


def _wrap_part(part: str, room: float, advance) -> list[str]:
    lines: list[str] = []
    for word in part.split(" "):
        if lines and advance(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
            continue
        while advance(word) > room and len(word) > 1:
            cut = next((n for n in range(len(word) - 1, 0, -1) if advance(word[:n]) <= room), 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def grid_columns(count: int, width: float, height: float, title_lines: int = 2, aspect: float = 1.0,
                 title_width: float = 0.0) -> int:
    """The column count that gives `count` tiles the largest images in `width` x `height` px,
    each tile titled with `title_lines` lines above an image of `aspect` (width / height);
    at most as many columns as MIN_TILE_WIDTH px tiles fit side by side. In tiles narrower than
    `title_width` (the widest title line) each title line wraps onto as many lines as it needs."""
    if count <= 1:
        return 1
    most = max(1, min(count, int(width // MIN_TILE_WIDTH)))
    best, best_side = 1, -1.0
    for columns in range(1, most + 1):
        rows = math.ceil(count / columns)
        cell_w = width / columns
        lines = title_lines * max(1, math.ceil(title_width / cell_w))
        cell_h = height / rows - lines * TITLE_LINE_HEIGHT
        side = min(cell_w / aspect, cell_h) if cell_h > 0 else 0.0  # the image's height
        if side > best_side + 0.5:  # ties: fewer columns
            best, best_side = columns, side
    return best


class TileTitle(pg.GraphicsWidget):
    """A tile's title (lines separated by `<br>`) that never widens its column: it paints each line
    wrapped at spaces to the width the layout gives it (a single word wider than the tile is
    broken); `text` and the tool tip keep the whole title.

    Painted, not a pg.LabelItem: a LabelItem re-measures its HTML and asks the layout for a new
    size on every text change and every resize, and across 17 tiles those requests cascade into
    stalls of over 100 ms. This one's size hint is only its height (its wrapped line count), so a
    new text or width repaints it, and only a new line count tells the layout."""

    def __init__(self, text: str = " ") -> None:
        super().__init__()
        self.text = ""
        self._lines: list[str] = []
        self._font = QFont()
        self._font.setPointSizeF(TITLE_POINT_SIZE)
        self._metrics = QFontMetricsF(self._font)
        self._wrapped: tuple[float, list[str]] = (-1.0, [])  # (width, lines) of the last wrap
        self._line_count = 0  # the count the layout last heard of
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - pyqtgraph's name
        """Show `text` (plain lines, HTML-escaped, joined by `<br>`), wrapped to the width."""
        lines = [html.unescape(MARKUP.sub("", line)) for line in text.split("<br>")]
        self.text = text
        self.setToolTip("\n".join(lines))
        self._lines = lines
        self._wrapped = (-1.0, [])
        self._tell_layout()
        self.update()

    def _tell_layout(self) -> None:
        """Ask the layout for a new height when the wrapped line count changed (and only then)."""
        count = len(self.shown_lines())
        if count != self._line_count:
            self._line_count = count
            self.updateGeometry()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """A new width may wrap the lines differently."""
        super().resizeEvent(event)
        self._tell_layout()

    def sizeHint(self, which: Qt.SizeHint, constraint: QSizeF | None = None) -> QSizeF:  # noqa: N802 - Qt's name
        """Any width (the lines wrap to it), as tall as the wrapped lines."""
        if which == Qt.SizeHint.MaximumSize:
            return QSizeF(-1, -1)
        return QSizeF(0, self._height())

    def _height(self) -> float:
        return len(self.shown_lines()) * self._metrics.lineSpacing() + 2 * TITLE_MARGIN

    def text_width(self) -> float:
        """The widest line of the whole title, with the margins: the width it needs unwrapped."""
        return max(self._metrics.horizontalAdvance(line) for line in self._lines) + 2 * TITLE_MARGIN + 2

    def shown_lines(self) -> list[str]:
        """The lines as painted at the current width (wrapped; the logical lines before the
        layout has given the title a width)."""
        room = self.rect().width() - 2 * TITLE_MARGIN
        if room < 1:
            return list(self._lines)
        if self._wrapped[0] != room:
            advance = self._metrics.horizontalAdvance
            self._wrapped = (room, [part for line in self._lines for part in wrap_words(line, room, advance)])
        return self._wrapped[1]

    def shown_width(self) -> float:
        """The widest painted line."""
        return max(self._metrics.horizontalAdvance(line) for line in self.shown_lines())

    def paint(self, painter: QPainter, *_args) -> None:
        """Each line centred."""
        painter.setFont(self._font)
        painter.setPen(QColor(TITLE_COLOR))
        rect = self.rect().adjusted(TITLE_MARGIN, TITLE_MARGIN, -TITLE_MARGIN, -TITLE_MARGIN)
        step = self._metrics.lineSpacing()
        for k, line in enumerate(self.shown_lines()):
            row = QRectF(rect.left(), rect.top() + k * step, rect.width(), step)
            painter.drawText(row, Qt.AlignmentFlag.AlignCenter, line)


class Tile:
    """One cell of the grid."""

    def __init__(self, label: str, title: TileTitle, view: pg.ViewBox, item: pg.ImageItem,
                 titles: dict[str, str] | None = None, parameters: dict[str, tuple[Param, ...]] | None = None) -> None:
        self.label, self.title, self.view, self.item = label, title, view, item
        self.titles = titles or {}  # method name -> display title
        self.parameters = parameters or {}  # method name -> its declared parameters
        self.image: np.ndarray | None = None
        self.explanation = None
        self.cancelled = False  # its request was cancelled before it came back
        self.failed = ""  # why its map could not be made (the engine's line)

    def caption(self) -> str:
        """Method (or layer, or class) with the parameters that differ from the defaults, and seconds."""
        if self.explanation is None and self.failed:
            return f"{self.label} · {self.failed}"  # short; the engine's whole line in the tool tip
        if self.explanation is None:
            return f"{self.label} · {'cancelled' if self.cancelled else 'computing…'}"
        e = self.explanation
        params = parameter_text(e.params, self.parameters.get(e.method, ()) + COMBINATIONS)
        params = f" ({params})" if params else ""
        empty = evidence_note(e)  # an all-zero tile says why, as the Heatmap tab does
        agnostic = getattr(e, "class_agnostic", False)  # Eigen-CAM: the map is about the image
        score = "class-agnostic" if agnostic else f"{e.class_name} {e.probability:.0%}"
        if self.label == e.class_name:  # comparing classes: name the method instead
            method = self.titles.get(e.method, e.method)
            lead = f"{e.class_name} · class-agnostic" if agnostic else score
            return f"{lead} · {method}{params} · {duration_text(e.seconds)}{empty}"
        return f"{self.label}{params} · {score} · {duration_text(e.seconds)}{empty}"

    def two_line_caption(self) -> str:
        """The caption broken after its first part, so long method names fit a narrow tile."""
        return self.caption().replace(" · ", "<br>", 1)


class CompareGrid(QWidget):
    """Tiles for one image; `modeChanged(mode)` and `methodsChanged(names)` (the methods ticked
    in the Methods menu) ask the window for new tiles."""

    modeChanged = Signal(str)
    methodsChanged = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode_box = QComboBox()
        for key, text in COMPARE_MODES.items():
            self.mode_box.addItem(f"Compare {text}", key)
        self.mode_box.currentIndexChanged.connect(lambda _i: self.modeChanged.emit(self.mode()))
        self.hint = QLabel(PAN_HINT)
        self.hint.setStyleSheet(hint_style())
        self.hint.setWordWrap(True)
        self.methods_menu = QMenu(self)
        self.methods_button = QToolButton()
        self.methods_button.setText("Methods")
        self.methods_button.setToolTip("The methods to compare (all by default)")
        self.methods_button.setMenu(self.methods_menu)
        self.methods_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.mode_box.currentIndexChanged.connect(
            lambda _i: self.methods_button.setVisible(self.mode() in PICKS_METHODS))
        top = QHBoxLayout()
        top.addWidget(self.mode_box)
        top.addWidget(self.methods_button)
        self.methods_button.setVisible(self.mode() in PICKS_METHODS)
        top.addWidget(self.hint, 1)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202124")
        self.graphics.installEventFilter(self)
        self.columns = 1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addLayout(top)
        layout.addWidget(self.graphics, 1)
        self.tiles: list[Tile] = []
        self.settings = ViewSettings()
        self.keys: list = []
        self.user_moved = False  # the user zoomed or panned: stop fitting the tiles
        self.linked = False  # the tiles zoom and pan together (see _link)
        self.scope = ""  # what every tile shares (set_scope)
        self.titles: dict[str, str] = {}  # method name -> display title
        self.parameters: dict[str, tuple[Param, ...]] = {}  # method name -> its declared parameters

    def set_scope(self, text: str) -> None:
        """Say what every tile shares (method, layer, how many of how many) above the grid."""
        self.scope = text
        self.hint.setText(f"{text} {PAN_HINT}")

    def set_methods(self, specs, chosen: tuple[str, ...] = ()) -> None:
        """The engine's methods (MethodSpec): titles and parameters for the captions, one
        checkable entry each in the Methods menu, ticked when in `chosen` (all when empty)."""
        self.titles = {spec.name: spec.title for spec in specs}
        self.parameters = {spec.name: spec.parameters for spec in specs}
        self.methods_menu.clear()
        for spec in specs:
            action = self.methods_menu.addAction(spec.title)
            action.setData(spec.name)
            action.setCheckable(True)
            action.setChecked(not chosen or spec.name in chosen)
            action.toggled.connect(self._methods_toggled)
        self._label_methods()

    def chosen_methods(self) -> tuple[str, ...]:
        """The ticked methods, in the engine's order."""
        return tuple(a.data() for a in self.methods_menu.actions() if a.isChecked())

    def _methods_toggled(self, checked: bool) -> None:
        if not checked and not self.chosen_methods():  # at least one method stays
            action = self.sender()
            action.blockSignals(True)
            action.setChecked(True)
            action.blockSignals(False)
            return
        self._label_methods()
        self.methodsChanged.emit(self.chosen_methods())

    def _label_methods(self) -> None:
        count, total = len(self.chosen_methods()), len(self.methods_menu.actions())
        self.methods_button.setText("All methods" if count == total else f"{count} of {total} methods")

    def mode(self) -> str:
        """"methods", "layers" or "classes"."""
        return self.mode_box.currentData()

    def set_mode(self, mode: str) -> None:
        """Choose what the tiles vary."""
        index = self.mode_box.findData(mode)
        if index >= 0:
            self.mode_box.setCurrentIndex(index)

    def set_tiles(self, labels: list[str], keys: list) -> None:
        """Lay out empty tiles; `keys` identify the requests whose results fill them. A grid of the
        same size keeps its views (building 17 pyqtgraph tiles takes a few hundred ms)."""
        self.keys, self.user_moved = list(keys), False
        if self.tiles and len(labels) == len(self.tiles):
            self._unlink()
            for tile, label in zip(self.tiles, labels, strict=True):
                tile.label, tile.image, tile.explanation, tile.cancelled, tile.failed = label, None, None, False, ""
                tile.titles, tile.parameters = self.titles, self.parameters
                tile.item.clear()
                tile.title.setText(tile.two_line_caption())
            return
        self.release()
        self.keys = list(keys)
        self.columns = columns = self._fitting_columns(len(labels))
        for k, label in enumerate(labels):
            row, column = divmod(k, columns)
            title = TileTitle(label)
            self.graphics.ci.addItem(title, row=2 * row, col=column)
            view, item = image_view(self.graphics.ci, 2 * row + 1, column)
            view.sigRangeChangedManually.connect(lambda *_args, v=view: self._moved_by_user(v))
            self.tiles.append(Tile(label, title, view, item, self.titles, self.parameters))
            title.setText(self.tiles[-1].two_line_caption())

    def _fitting_columns(self, count: int) -> int:
        size = self.graphics.viewport().size()
        aspect = next((t.image.shape[1] / t.image.shape[0] for t in self.tiles if t.image is not None), 1.0)
        if self.mode() == "models" and count > 1:  # A and B of a method side by side: lay out pairs
            return 2 * grid_columns(math.ceil(count / 2), size.width(), size.height(), aspect=2 * aspect,
                                    title_width=2 * self._title_width())
        return grid_columns(count, size.width(), size.height(), aspect=aspect, title_width=self._title_width())

    def _title_width(self) -> float:
        """The widest line of the tiles' titles, with the title's margins."""
        return max((t.title.text_width() for t in self.tiles), default=0.0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A resized grid may want another column count."""
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self._relayout)
        return super().eventFilter(watched, event)

    def _relayout(self) -> None:
        """Move the tiles to the column count that fits the grid's size now."""
        columns = self._fitting_columns(len(self.tiles))
        if not self.tiles or columns == self.columns:
            return
        self.columns = columns
        layout = self.graphics.ci
        for tile in self.tiles:
            layout.removeItem(tile.title)
            layout.removeItem(tile.view)
        for k, tile in enumerate(self.tiles):
            row, column = divmod(k, columns)
            layout.addItem(tile.title, row=2 * row, col=column)
            layout.addItem(tile.view, row=2 * row + 1, col=column)
        if not self.user_moved:
            QTimer.singleShot(0, self._fit)

    def _link(self, lead: pg.ViewBox | None = None) -> None:
        """Zoom and pan every tile with `lead` (default the first). Done once the tiles have their
        results (or at the user's first zoom): while results and titles keep resizing linked tiles,
        each change cascades range updates through all of them (hundreds of ms per result)."""
        if self.linked or not self.tiles:
            return
        lead = lead or self.tiles[0].view
        for tile in self.tiles:
            if tile.view is not lead:
                tile.view.setXLink(lead)
                tile.view.setYLink(lead)
        self.linked = True

    def _unlink(self) -> None:
        for tile in self.tiles:
            tile.view.setXLink(None)
            tile.view.setYLink(None)
        self.linked = False

    def release(self) -> None:
        """Unlink and drop every tile.

        Linked ViewBoxes left in place until interpreter exit crash PySide6 6.12 while it
        garbage-collects them (seen with a 4-column grid), so links are undone explicitly.
        """
        self._unlink()
        self.graphics.ci.clear()
        self.tiles, self.keys = [], []

    def set_result(self, key, image: np.ndarray, explanation) -> bool:
        """Fill the tile of `key`; False if no tile waits for it."""
        if key not in self.keys:
            return False
        tile = self.tiles[self.keys.index(key)]
        first_image = all(t.image is None for t in self.tiles)
        tile.image, tile.explanation = image, explanation
        tile.title.setText(tile.two_line_caption())
        self._draw(tile)
        if first_image or not self.user_moved:
            # Tiles keep resizing while results and two-line titles arrive, and views with a
            # locked aspect drift wider each time: fit again after the layout settles, until the
            # user zooms or pans.
            tile.view.autoRange(padding=0.02)
            QTimer.singleShot(0, self._fit)
        if all(t.explanation is not None for t in self.tiles):
            self._link()
            self._relayout()  # the finished titles may fit better in another column count
        return True

    def set_failure(self, key, message: str, reason: str = "") -> bool:
        """The tile of `key` could not be computed: it says why in a few words (`reason`, else the first
        clause of the engine's `message`), the whole message in its tool tip (False if no tile waits for it)."""
        if key not in self.keys:
            return False
        tile = self.tiles[self.keys.index(key)]
        tile.failed = reason or message.split(": ")[0]
        tile.title.setText(tile.two_line_caption())
        tile.title.setToolTip(message)
        return True

    def _fit(self) -> None:
        if self.user_moved:
            return
        for shown in [t for t in self.tiles if t.image is not None][: 1 if self.linked else None]:
            shown.view.autoRange(padding=0.02)

    def _moved_by_user(self, view: pg.ViewBox | None = None) -> None:
        self.user_moved = True
        self._link(view)

    def apply(self, settings: ViewSettings) -> None:
        """Redraw every tile with new view settings."""
        self.settings = settings
        for tile in self.tiles:
            self._draw(tile)

    def _draw(self, tile: Tile) -> None:
        if tile.image is not None:
            heat = tile.explanation.heatmap if tile.explanation is not None else None
            tile.item.setImage(compose(tile.image, heat, self.settings), autoLevels=False, levels=(0, 255))

    def image_path(self) -> str | None:
        """The image the tiles explain (their requests' path), None without tiles."""
        return self.keys[0][1] if self.keys else None

    def mark_cancelled(self) -> None:
        """Tiles still waiting say they were cancelled (a new grid or image asks again)."""
        for tile in self.tiles:
            if tile.explanation is None:
                tile.cancelled = True
                tile.title.setText(tile.two_line_caption())

    def captions(self) -> list[str]:
        """Every finished tile's whole caption, in grid order."""
        return [t.caption() for t in self.tiles if t.explanation is not None]

    def grid_image(self) -> np.ndarray | None:
        """All finished tiles as one picture, titled, for export."""
        done = [t for t in self.tiles if t.explanation is not None]
        if not done:
            return None
        pictures = [compose(t.image, t.explanation.heatmap, self.settings) for t in done]
        columns = max(1, math.ceil(math.sqrt(len(done))))
        return titled_grid(pictures, self.captions(), columns)


def compare_scope(mode: str, method: str, layer: str | None, shown: int, total: int) -> str:
    """What every tile shares, for the line above the grid: the method (`method`: its title)
    or the layer the tiles do not vary, and how many of the candidates are shown."""
    at = f" at layer {layer}" if layer else ""
    if mode == "layers":
        which = f"the {shown} deepest of {total} CAM layers" if shown < total else f"all {total} CAM layers"
        return f"{method} on {which}."
    if mode == "classes":
        which = f"the first {shown} of {total} classes" if shown < total else "every class"
        return f"{method}{at}, {which}."
    return f"CAM methods{at}; the others work on the input." if layer else "Methods on the input."


def models_scope(name_a: str, name_b: str | None, methods: int, black_box: bool = False, total: int = 0) -> str:
    """The line above the "models" grid: which model is A and which B, or how to choose B
    (`black_box`: the methods shown are the ones both can run, as one of them is a black box; `total`:
    how many were chosen, when only the first `methods` fit)."""
    if name_b is None:
        return "Only one model is open: choose B with File › Compare with another model…"
    which = f"the {methods} methods both can run (one is a black box)" if black_box \
        else f"the first {methods} of {total} methods" if total > methods else f"{methods} methods"
    return f"A = {name_a}, B = {name_b}: {which}, A then B; pick others in Methods."


def tile_label(mode: str, method: str, layer: str | None, class_name: str | None, model: str = "a") -> str:
    """What a tile varies, as its title (`method`: the method's display title; `model` "a" or "b")."""
    if mode == "models":
        return f"{method} ({model.upper()})"
    if mode == "layers":
        return layer or "—"
    if mode == "classes":
        return class_name or "predicted"
    return method
