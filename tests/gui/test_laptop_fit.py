"""At 1280 x 720 (the offscreen screen of tests/gui/conftest.py) every compare tile lies inside
the grid with its whole title wrapped to its width (the ★ of the most faithful map included),
and the browser shows the demo images' names whole."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QApplication

from .conftest import WAIT_MS


def _viewport_rect(graphics, item) -> QRectF:
    return QRectF(graphics.mapFromScene(item.sceneBoundingRect()).boundingRect())


def test_every_compare_tile_is_inside_the_grid_with_a_readable_title(qtbot, window):
    assert QApplication.primaryScreen().size().toTuple() == (1280, 720)
    grid = window.compare
    grid.set_mode("methods")
    window.show_tab("compare")
    qtbot.waitUntil(lambda: len(grid.tiles) == len(window.controller.specs)
                    and all(t.explanation for t in grid.tiles), timeout=WAIT_MS)
    qtbot.wait(50)  # the layout settles and the column count follows the grid's size
    QApplication.processEvents()
    seen = QRectF(grid.graphics.viewport().rect()).adjusted(-1, -1, 1, 1)
    for tile in grid.tiles:
        for item in (tile.title, tile.view):
            rect = _viewport_rect(grid.graphics, item)
            assert min(rect.width(), rect.height()) > 20 and seen.contains(rect), f"{tile.label}: {rect} outside {seen}"
    assert grid.tiles[0].view.width() >= 80  # images of a useful size, not thumbnails
    from gui.compare import TileTitle
    from gui.trust.compare_faithfulness import tile_line

    best = grid.tiles[3]  # Faster Score-CAM: the title that lost its end at 1280 x 720
    best.title.setText(f"{best.two_line_caption()}<br>{tile_line({'deletion_auc': 0.1, 'insertion_auc': 0.9}, True, True)}")
    QApplication.processEvents()
    for tile in grid.tiles:
        assert isinstance(tile.title, TileTitle)
        assert tile.title.shown_width() <= tile.title.rect().width(), f"{tile.label}: title wider than its tile"
        whole = tile.title.toolTip()
        assert whole.split("\n")[:2] == tile.caption().split(" · ", 1)  # the whole title on hover
        shown = tile.title.shown_lines()
        assert "".join(shown).replace(" ", "") == whole.replace("\n", "").replace(" ", ""), \
            f"{tile.label}: {shown} cut from {whole!r}"  # every letter painted: wrapped, not elided
        needed = tile.title.effectiveSizeHint(Qt.SizeHint.PreferredSize).height()
        assert _viewport_rect(grid.graphics, tile.title).height() >= needed - 1, f"{tile.label}: lines cut below"
    assert "★ most faithful" in " ".join(best.title.shown_lines())


def test_grid_columns_fit_the_room():
    from gui.compare import MIN_TILE_WIDTH, grid_columns

    assert grid_columns(1, 600, 400) == 1
    assert grid_columns(4, 800, 800) == 2
    assert grid_columns(18, 680, 540) * MIN_TILE_WIDTH <= 680
    assert grid_columns(6, 1200, 200) == 6  # a wide, low grid: one row
    assert grid_columns(6, 200, 1200) == 1  # a narrow, tall one: one column (some tiles below MIN_TILE_WIDTH)


def test_browser_shows_the_demo_names_whole(qtbot, window):
    from gui.thumbnails import THUMB_SIZE

    view = window.browser.view
    metrics = view.fontMetrics()
    cells = {}
    for row in range(window.browser.proxy.rowCount()):
        index = window.browser.proxy.index(row, 0)
        cells[Path(index.data(Qt.ItemDataRole.UserRole)).name] = view.visualRect(index)
    assert "mixed_02_scratch_crack.png" in cells  # the longest demo name
    margins = 16  # the thumbnail's and the text's margins in the cell
    cut = [f"{name}: {cell.width()} px" for name, cell in cells.items()
           if cell.width() < THUMB_SIZE + metrics.horizontalAdvance(name) + margins]
    assert not cut, f"names without room: {cut}"
    from gui.browser import text_rect

    for name, cell in cells.items():
        assert metrics.elidedText(name, Qt.TextElideMode.ElideMiddle, text_rect(cell).width()) == name
    model = window.browser.model
    qtbot.waitUntil(lambda: model.rows[0].prediction is not None, timeout=WAIT_MS)
    name, label, prediction, _flagged = model.parts(model.rows[0])
    assert (name, label) == (model.rows[0].name, model.rows[0].label) and prediction.endswith("%")


def test_a_narrower_grid_takes_fewer_columns_and_tiles_stay_in_sync(qtbot, window):
    grid = window.compare
    grid.set_mode("classes")
    window.show_tab("compare")
    qtbot.waitUntil(lambda: len(grid.tiles) == 4 and all(t.explanation for t in grid.tiles), timeout=WAIT_MS)
    assert grid.columns == 2  # 2 x 2 makes the largest images in the tab
    grid.graphics.setFixedWidth(150)  # a narrow grid: the tiles move to one column
    qtbot.waitUntil(lambda: grid.columns == 1, timeout=WAIT_MS)
    QApplication.processEvents()
    seen = QRectF(grid.graphics.viewport().rect()).adjusted(-1, -1, 1, 1)
    assert all(seen.contains(_viewport_rect(grid.graphics, t.view)) for t in grid.tiles)
    assert all(t.item.image is not None for t in grid.tiles)  # moved tiles keep their pictures
    grid.tiles[0].view.setRange(xRange=(10, 60), yRange=(10, 60), padding=0)
    first, last = grid.tiles[0].view.viewRange(), grid.tiles[-1].view.viewRange()
    assert abs(sum(first[1]) - sum(last[1])) < 1e-6 and last[1][1] - last[1][0] < 100  # still in sync
    grid.graphics.setMinimumWidth(0)
    grid.graphics.setMaximumWidth(16777215)
