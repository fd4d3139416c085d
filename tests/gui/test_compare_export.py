"""Compare grid (linked tiles) and export of every view."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from .conftest import WAIT_MS


def _fill_compare(qtbot, window, mode: str) -> None:
    window.compare.set_mode(mode)
    window.show_tab("compare")
    qtbot.waitUntil(lambda: window.compare.tiles and all(t.explanation for t in window.compare.tiles),
                    timeout=WAIT_MS)


def test_compare_classes_tiles_are_linked(qtbot, window, session):
    _fill_compare(qtbot, window, "classes")
    tiles = window.compare.tiles
    assert [t.explanation.class_index for t in tiles] == [0, 1, 2, 3]
    assert "s" in tiles[0].caption() and tiles[0].caption().startswith("ok")
    tiles[0].view.setRange(xRange=(10, 60), yRange=(10, 60), padding=0)
    first, last = tiles[0].view.viewRange(), tiles[3].view.viewRange()
    np.testing.assert_allclose(first[1], last[1], atol=1e-6)  # zoom and pan in sync
    assert abs(sum(first[0]) - sum(last[0])) < 1e-6  # same centre (the aspect lock sets the width)
    assert last[0][1] - last[0][0] < 100  # zoomed in from the full 256 px
    expected = session.explain(session.load_image(window.controller.path), "gradcam", "last_conv", 2)
    np.testing.assert_allclose(tiles[2].explanation.heatmap, expected.heatmap, atol=1e-4)


def test_compare_layers_and_methods(qtbot, window):
    _fill_compare(qtbot, window, "layers")
    assert [t.explanation.layer for t in window.compare.tiles] == [
        info.path for info in window.controller.info.cam_layers][-len(window.compare.tiles):]
    _fill_compare(qtbot, window, "methods")
    assert {t.explanation.method for t in window.compare.tiles} == {s.name for s in window.controller.specs}


def test_export_everything(qtbot, window, tmp_path):
    _fill_compare(qtbot, window, "classes")
    window.controller.show_activations("last_conv")
    qtbot.waitUntil(lambda: "activations" in window.features.results, timeout=WAIT_MS)
    written = window.export_to(tmp_path)
    names = sorted(p.name for p in written)
    assert any(n.endswith("_overlay.png") for n in names)
    assert any(n.endswith("_compare.png") for n in names)
    assert any(n.endswith("_activations.png") for n in names)
    heat = window.canvas.heatmap
    npy = next(p for p in written if p.suffix == ".npy")
    np.testing.assert_array_equal(np.load(npy), heat.astype(np.float32))
    png16 = cv2.imread(str(next(p for p in written if p.name.endswith("_heatmap.png"))), cv2.IMREAD_UNCHANGED)
    assert png16.dtype == np.uint16
    np.testing.assert_allclose(png16 / 65535.0, heat, atol=1 / 65535)
    overlay = cv2.imread(str(next(p for p in written if p.name.endswith("_overlay.png"))))[..., ::-1]
    assert overlay.shape == window.canvas.image.shape
    assert "Exported" in window.message.text()
    shown = window.canvas.explanation
    assert any(f"_{shown.method}_{shown.layer}_" in n for n in names)  # the layer in the map's file names
    record = json.loads(next(p for p in written if p.name.endswith("_export.json")).read_text())
    assert record["explanation"]["layer"] == shown.layer and record["explanation"]["method"] == shown.method
    assert record["model"] == window.controller.info.path and record["image"] == window.canvas.path
    assert record["compare"]["mode"] == "classes" and len(record["compare"]["tiles"]) == 4
    assert f"at layer {window.controller.state.layer}" in record["compare"]["scope"]  # the grid's own layer
    assert "last_conv" in record["activations"] and set(record["files"]) <= set(names)


def test_exported_overlay_carries_the_mask_outline_when_drawn(qtbot, window, tmp_path):
    from gui.compose import compose
    from gui.mask_overlay import OUTLINE_PEN

    masked = next(p for p in window.browser.paths() if "crack_01" in p)
    if window.controller.path != masked:
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.browser.select_path(masked)
    window.mask_overlay.toggle.setChecked(True)
    region = window.mask_overlay.shown_region
    assert region is not None and region.shape == window.canvas.image.shape[:2]
    canvas = window.canvas
    plain = compose(canvas.image, canvas.explanation.heatmap, canvas.settings)
    written = window.export_to(tmp_path / "with")
    overlay = cv2.imread(str(next(p for p in written if p.name.endswith("_overlay.png"))))[..., ::-1]
    changed = np.any(overlay != plain, axis=-1)
    assert changed.any() and np.all(overlay[changed] == OUTLINE_PEN)  # only outline pixels differ
    window.mask_overlay.toggle.setChecked(False)
    assert window.mask_overlay.shown_region is None
    written = window.export_to(tmp_path / "without")
    overlay = cv2.imread(str(next(p for p in written if p.name.endswith("_overlay.png"))))[..., ::-1]
    np.testing.assert_array_equal(overlay, plain)


def test_export_before_anything_is_shown(qtbot, tmp_path):
    from gui.export import export_picture

    assert export_picture(tmp_path, "none", None) == []


def test_views_of_another_image_are_refreshed_or_not_exported(qtbot, window, tmp_path):
    first, second = window.browser.paths()[:2]
    if window.controller.path != first:
        with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
            window.browser.select_path(first)
    window.show_tab("features")
    window.controller.show_activations("block2_conv")
    qtbot.waitUntil(lambda: "activations" in window.features.results, timeout=WAIT_MS)
    assert window.features.results["activations"].path == first
    assert Path(first).name in window.features.result.caption
    window.show_tab("heatmap")
    with qtbot.waitSignal(window.controller.explanationShown, timeout=WAIT_MS):
        window.browser.select_path(second)
    names = [p.name for p in window.export_to(tmp_path / "out")]
    assert not any(n.endswith(("_activations.png", "_compare.png")) for n in names)  # they show `first`
    window.show_tab("features")  # coming back shows the current image's maps
    qtbot.waitUntil(lambda: window.features.results["activations"].path == second, timeout=WAIT_MS)


def test_exported_titles_fit_their_tiles():
    from gui.compose import titled_grid

    picture = np.zeros((256, 256, 3), np.uint8)  # the demo's size
    grid = titled_grid([picture, picture], ["Guided Backpropagation · crack 100% · 234 ms", "Grad-CAM · 3 ms"], 2)
    assert grid.shape[0] > 256
    title_rows = grid[: grid.shape[0] - 256]
    left_tile = title_rows[:, :256]
    assert left_tile[:, -3:].max() <= 32  # no text runs into the tile's right edge
    assert left_tile.max() > 200  # but the title is there


def test_compare_tiles_fit_their_image_until_the_user_zooms(qtbot, window):
    _fill_compare(qtbot, window, "layers")
    qtbot.wait(50)  # the fit after the layout settles
    tile = window.compare.tiles[0]
    (x0, x1), (y0, y1) = tile.view.viewRange()
    height, width = tile.image.shape[:2]
    assert x0 <= 0 and y0 <= 0 and x1 >= width and y1 >= height  # the whole image shows
    # and fills its tile along the tile's tighter side (the aspect is locked, so the other side has margins)
    assert min(x1 - x0 - width, y1 - y0 - height) < 0.15 * max(width, height)
    tile.view.sigRangeChangedManually.emit(None)
    assert window.compare.user_moved
