"""The canvas's colour bar (gui.canvas): made right after the canvas first paints, so the window's
first paint waits neither for OpenCV nor for the bar's pyqtgraph plot, with the engine's colour
map; recoloured at a change of colour map; made at once for a canvas that shows a picture before
it has painted; and left out of the layout when a pane beside it shows the shared bar."""

from __future__ import annotations

import numpy as np
from engine.maps.render import colormap_lut
from gui.canvas import HeatmapCanvas
from gui.compose import ViewSettings


def _bar_colours(canvas: HeatmapCanvas) -> np.ndarray:
    return canvas.colorbar.colorMap().getColors(mode="byte")[:, :3]


def test_the_bar_takes_the_engines_jet_right_after_the_canvas_first_paints(qtbot):
    canvas = HeatmapCanvas()
    qtbot.addWidget(canvas)
    assert canvas.bar_colormap is None and canvas.colorbar is None  # built: no bar yet, OpenCV not needed
    canvas.resize(640, 480)
    canvas.show()
    qtbot.waitUntil(lambda: canvas.bar_colormap == "jet", timeout=5000)
    np.testing.assert_array_equal(_bar_colours(canvas), colormap_lut("jet"))


def test_a_new_colour_map_recolours_a_painted_bar(qtbot):
    canvas = HeatmapCanvas()
    qtbot.addWidget(canvas)
    canvas.show()
    qtbot.waitUntil(lambda: canvas.bar_colormap == "jet", timeout=5000)
    canvas.apply(ViewSettings(colormap="viridis"))
    np.testing.assert_array_equal(_bar_colours(canvas), colormap_lut("viridis"))


def test_a_canvas_that_shows_a_picture_before_painting_has_the_engines_bar(qtbot):
    canvas = HeatmapCanvas()
    qtbot.addWidget(canvas)
    canvas.apply(ViewSettings(colormap="magma"))
    canvas.show_loading("a.png", np.zeros((8, 8, 3), np.uint8))
    np.testing.assert_array_equal(_bar_colours(canvas), colormap_lut("magma"))


def test_a_bar_hidden_before_it_is_made_is_made_out_of_the_layout_and_can_come_back(qtbot):
    canvas = HeatmapCanvas()
    qtbot.addWidget(canvas)
    canvas.show_colorbar(False)  # beside another pane, before the first paint
    canvas.show()
    qtbot.waitUntil(lambda: canvas.colorbar is not None, timeout=5000)
    assert canvas.colorbar.scene() is None
    canvas.show_colorbar(True)
    assert canvas.colorbar.scene() is canvas.graphics.scene()
    canvas.show_colorbar(False)
    assert canvas.colorbar.scene() is None
