"""What the canvas and the exports draw (gui.compose) and how long a finished map stays at hand
(gui.cache), at their boundaries: the threshold's own level, the outline's level and width,
the first start's view, a compute time of exactly one second, titles too long for a tile."""

from __future__ import annotations

import numpy as np
import pytest
from engine.maps.grids import tile_grid
from engine.maps.render import colorize, overlay
from engine.params import Param
from gui.cache import ResultCache
from gui.compose import (
    OUTLINE_COLOUR,
    ViewSettings,
    compose,
    duration_text,
    fit_map,
    outline_contours,
    parameter_text,
    titled_grid,
)

GREY = 100


def _image(height: int = 64, width: int = 96) -> np.ndarray:
    return np.full((height, width, 3), GREY, np.uint8)


def _square_map(height: int = 64, width: int = 96) -> np.ndarray:
    heat = np.zeros((height, width), np.float32)
    heat[16:48, 24:72] = 1.0
    heat[30:34, 40:56] = 0.5
    return heat


# -- the view ---------------------------------------------------------------------------------------
def test_the_first_start_shows_an_overlay_at_45_percent_in_jet_with_nothing_cut():
    assert ViewSettings() == ViewSettings(opacity=0.45, threshold=0.0, colormap="jet", outline=False, mode="overlay")


def test_the_outline_follows_the_threshold_or_sits_at_half_while_it_is_off():
    assert ViewSettings(threshold=0.3).outline_level == 0.3
    assert ViewSettings(threshold=0.0).outline_level == 0.5
    assert ViewSettings(threshold=0.01).outline_level == 0.01


def test_a_map_at_the_images_size_is_kept_and_another_is_resized_to_it():
    heat = np.linspace(0, 1, 12, dtype=np.float64).reshape(3, 4)
    same = fit_map(heat, 3, 4)
    assert same.dtype == np.float32 and np.allclose(same, heat)
    grown = fit_map(np.float32([[0.0, 1.0]]), 4, 6)  # (1, 2) -> (4, 6): rows then columns
    assert grown.shape == (4, 6) and grown.dtype == np.float32
    assert grown[:, 0].max() < 0.2 and grown[:, -1].min() > 0.8  # left stays cold, right hot


def test_the_outline_surrounds_the_region_at_or_above_its_level():
    heat = _square_map()
    (square,) = outline_contours(heat, 1.0)  # the level itself is inside
    x, y, w, h = __import__("cv2").boundingRect(square)
    assert (x, y, w, h) == (24, 16, 48, 32)
    assert outline_contours(heat, 1.01) == []
    assert len(outline_contours(heat, 0.5)) == 1  # one outer contour, not the inner 0.5 band


def test_the_image_mode_shows_the_image_untouched_and_a_copy():
    image, heat = _image(), _square_map()
    shown = compose(image, heat, ViewSettings(mode="image"))
    assert np.array_equal(shown, image) and shown is not image
    shown[:] = 0
    assert image.max() == GREY  # drawing on the picture never paints the image
    assert np.array_equal(compose(image, None, ViewSettings()), image)  # no map yet


def test_the_heatmap_mode_is_the_colour_map_blacked_out_below_the_threshold_only():
    image, heat = _image(), _square_map()
    shown = compose(image, heat, ViewSettings(mode="heatmap", threshold=0.5))
    colours = colorize(heat, "jet")
    assert np.array_equal(shown[30:34, 40:56], colours[30:34, 40:56])  # exactly at the threshold: shown
    assert np.array_equal(shown[20, 30], colours[20, 30])
    assert not shown[0:16].any()  # below: black
    viridis = compose(image, heat, ViewSettings(mode="heatmap", colormap="viridis"))
    assert np.array_equal(viridis, colorize(heat, "viridis"))  # the chosen colour map, no threshold


def test_the_overlay_mode_blends_with_the_views_opacity_colours_and_threshold():
    image, heat = _image(), _square_map()
    view = ViewSettings(opacity=0.7, threshold=0.6, colormap="magma")
    assert np.array_equal(compose(image, heat, view), overlay(image, heat, 0.7, "magma", 0.6))


def test_a_smaller_map_is_drawn_over_the_whole_image():
    image = _image(64, 96)
    small = _square_map(16, 24)
    shown = compose(image, small, ViewSettings(mode="heatmap"))
    assert shown.shape == image.shape
    assert np.array_equal(shown, colorize(fit_map(small, 64, 96), "jet"))


def test_the_outline_is_drawn_in_white_at_the_outline_level_over_any_mode():
    image, heat = _image(), _square_map()
    for mode in ("image", "overlay", "heatmap"):
        plain = compose(image, heat, ViewSettings(mode=mode))
        drawn = compose(image, heat, ViewSettings(mode=mode, outline=True))
        changed = np.any(drawn != plain, axis=-1)
        assert changed.any()
        assert np.all(drawn[changed] >= plain[changed])  # lighter: white lines, antialiased
    drawn = compose(image, heat, ViewSettings(mode="image", outline=True))
    assert drawn[16, 40].min() > 200 and drawn[16, 40].max() <= max(OUTLINE_COLOUR)  # the square's top edge: white
    assert tuple(drawn[30, 48]) == (GREY,) * 3  # the inner 0.5 band is inside, not outlined
    assert np.array_equal(compose(image, None, ViewSettings(outline=True)), image)  # no map: no outline


def test_the_outline_uses_the_threshold_as_its_level():
    image = _image()
    heat = np.zeros((64, 96), np.float32)
    heat[16:48, 24:72] = 0.6
    heat[24:40, 36:60] = 0.9
    at_half = compose(image, heat, ViewSettings(mode="image", outline=True))  # threshold off: level 0.5
    assert at_half[16, 48].min() > 200 and tuple(at_half[24, 48]) == (GREY,) * 3
    at_threshold = compose(image, heat, ViewSettings(mode="image", outline=True, threshold=0.75))
    assert at_threshold[24, 48].min() > 200 and tuple(at_threshold[16, 48]) == (GREY,) * 3


@pytest.mark.parametrize(("size", "width"), [(64, 1), (384, 2), (640, 3)])
def test_the_outline_thickens_with_the_image_one_pixel_per_256(size, width):
    image = np.zeros((size, size, 3), np.uint8)
    heat = np.zeros((size, size), np.float32)
    heat[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1.0
    drawn = compose(image, heat, ViewSettings(mode="image", outline=True))
    column = drawn[:, size // 2, 0]
    top = column[: size // 2]
    assert int((top > 128).sum()) in (width, width + 1)  # the line's width across it (antialiased)


# -- words under the maps -------------------------------------------------------------------------------
def test_compute_times_read_in_ms_under_a_second_and_in_seconds_from_one():
    assert duration_text(0.0004) == "0 ms"
    assert duration_text(0.9994) == "999 ms"
    assert duration_text(1.0) == "1.00 s"
    assert duration_text(12.345) == "12.35 s"


def test_parameter_text_says_each_changed_value_in_words():
    declared = (Param("samples", int, 25, "n", 1, 100), Param("noise", float, 0.15, "s", 0.0, 1.0),
                Param("fill_with", str, "mean", "f", choices=("mean", "zero")), Param("top_n", int, 10, "t", 1, 99),
                Param("edges", bool, False, "e"), Param("smooth_map", bool, True, "m"),
                Param("fill_holes", bool, False, "h"))
    given = {"samples": 25, "noise": 0.5, "fill_with": "zero", "top_n": 3, "edges": True, "smooth_map": False,
             "fill_holes": True, "unknown": 1}
    assert parameter_text(given, declared) == "noise 0.5, fill with zero, top n 3, edges, no smooth map, fill holes"
    assert parameter_text({"noise": 1e-05}, declared) == "noise 1e-05"  # :g, not a row of zeros
    assert parameter_text({"noise": 2.0, "samples": 30}, declared) == "samples 30, noise 2"  # not "2.0"
    assert parameter_text({}, declared) == ""


# -- the compare grid's picture ----------------------------------------------------------------------------
def test_titled_tiles_share_the_first_pictures_height_under_a_title_bar():
    first = np.full((120, 100, 3), 200, np.uint8)
    second = np.full((60, 80, 3), 90, np.uint8)  # half the height: scaled to 120 x 160
    grid = titled_grid([first, second], ["Grad-CAM", "LayerCAM"], columns=2, margin=4)
    bar = 22  # at least 22 px, height // 12 = 10 here
    tiles = np.zeros((2, 120 + 2 * bar, 160, 3), np.uint8)
    assert grid.shape == tile_grid(tiles, 2, 4).shape
    left = grid[:120 + 2 * bar, :160]  # the margin is between tiles
    assert np.all(left[2 * bar:, :100] == 200) and not left[2 * bar:, 100:].any()  # padded to the widest
    title_bar = left[:2 * bar, :100]
    assert title_bar.min() == 32 and (title_bar == 32).mean() > 0.8  # dark grey under light text
    assert not left[:2 * bar, 100:].any()  # then the padding to the widest tile
    assert (left[:bar] > 200).any()  # the title, light on dark
    right = grid[:120 + 2 * bar, 160 + 4:2 * 160 + 4]
    assert np.all(right[2 * bar:] == 90)
    one_column = titled_grid([first, second], ["a", "b"], columns=1, margin=4)
    assert one_column.shape == tile_grid(tiles, 1, 4).shape


def test_a_tall_pictures_title_bar_grows_with_it():
    tall = np.zeros((600, 100, 3), np.uint8)
    grid = titled_grid([tall], ["x"], columns=1, margin=0)
    assert grid.shape[0] == 600 + 2 * 50


def test_a_long_title_breaks_after_its_first_part_and_stays_inside_the_tile():
    picture = np.zeros((120, 120, 3), np.uint8)
    long = "Guided Backpropagation · crack 100% · 234 ms"
    grid = titled_grid([picture], [long], columns=1, margin=0)
    bar = 22
    text = grid[:2 * bar] > 100
    assert text[:bar].any() and text[bar:2 * bar].any()  # two lines
    assert not text[:, -5:].any()  # inside the tile's right margin
    short = titled_grid([picture], ["Grad-CAM"], columns=1, margin=0)[:2 * bar] > 100
    assert short[:bar].any() and not short[bar:2 * bar].any()  # one line


# -- the cache ----------------------------------------------------------------------------------------------
def test_the_cache_keeps_the_most_recently_used_maps():
    cache = ResultCache(limit=2)
    assert cache.get(("a",)) is None and len(cache) == 0
    cache.put(("a",), (1, "a"))
    cache.put(("b",), (2, "b"))
    assert cache.get(("a",)) == (1, "a")  # a used again: b is now the oldest
    cache.put(("c",), (3, "c"))
    assert cache.get(("b",)) is None and cache.get(("a",)) == (1, "a") and cache.get(("c",)) == (3, "c")
    assert len(cache) == 2


def test_storing_a_map_again_refreshes_it():
    cache = ResultCache(limit=2)
    cache.put(("a",), (1,))
    cache.put(("b",), (2,))
    cache.put(("a",), (10,))
    cache.put(("c",), (3,))
    assert cache.get(("a",)) == (10,) and cache.get(("b",)) is None


def test_the_cache_holds_96_maps_by_default_and_forgets_all_on_a_new_model():
    cache = ResultCache()
    for k in range(97):
        cache.put((k,), (k,))
    assert len(cache) == 96 and cache.get((0,)) is None and cache.get((1,)) == (1,)
    cache.clear()
    assert len(cache) == 0 and cache.get((5,)) is None


def test_the_compare_grid_keeps_6_pixels_between_tiles_unless_told():
    picture = np.zeros((120, 100, 3), np.uint8)
    grid = titled_grid([picture, picture], ["a", "b"], columns=2)
    tiles = np.zeros((2, 120 + 2 * 22, 100, 3), np.uint8)
    assert grid.shape == tile_grid(tiles, 2, 6).shape


def test_a_larger_picture_is_shrunk_by_averaging_so_fine_texture_does_not_alias():
    first = np.zeros((40, 40, 3), np.uint8)
    fine = np.indices((120, 120)).sum(axis=0) % 2 * 255  # a one-pixel checkerboard, three times larger
    checker = np.repeat(fine[..., None], 3, axis=-1).astype(np.uint8)
    grid = titled_grid([first, checker], ["a", "b"], columns=2, margin=0)
    shrunk = grid[2 * 22:, 40:80]
    assert 90 <= shrunk.min() and shrunk.max() <= 165  # greys (4/9 or 5/9 of white), not black and white


def test_every_picture_needs_its_title():
    picture = np.zeros((40, 40, 3), np.uint8)
    with pytest.raises(ValueError):
        titled_grid([picture, picture], ["only one"], columns=2)


# -- titles: one line when they fit, else broken after their first part, at the tile's left margin --------
FONT, TALL_BAR = __import__("cv2").FONT_HERSHEY_SIMPLEX, 50  # a 600 px picture: bars of 50 px, font scale 1.25


def _text_width(text: str) -> int:
    return __import__("cv2").getTextSize(text, FONT, TALL_BAR / 40, 1)[0][0]


def _drawn_width(text: str) -> int:
    """The width of the text's ink, drawn alone at the bar's font size."""
    cv2 = __import__("cv2")
    alone = np.zeros((TALL_BAR, 1000), np.uint8)
    cv2.putText(alone, text, (0, 40), FONT, TALL_BAR / 40, 255, 1, cv2.LINE_AA)
    left, right = _extent(alone)
    return right - left


def _title_of(title: str, width: int) -> np.ndarray:
    """The title bar (2 x 50 rows) of one 600 x `width` black picture."""
    grid = titled_grid([np.zeros((600, width, 3), np.uint8)], [title], columns=1, margin=0)
    assert not grid[2 * TALL_BAR:].any()  # the title never reaches into the picture
    return grid[:2 * TALL_BAR, :, 0]


def _extent(rows: np.ndarray) -> tuple[int, int]:
    columns = np.flatnonzero((rows > 100).any(axis=0))
    return int(columns[0]), int(columns[-1])


def test_a_title_that_just_fits_stays_on_one_line_at_full_size():
    title = "Grad-CAM - crack"
    bar = _title_of(title, _text_width(title) + 12)  # 6 px each side
    assert (bar[:TALL_BAR] > 100).any() and not (bar[TALL_BAR:] > 100).any()
    left, right = _extent(bar)
    assert abs((right - left) - _drawn_width(title)) <= 1  # not shrunk


def test_a_title_one_pixel_too_wide_breaks_after_its_first_part_at_full_size():
    title = "Grad-CAM - crack"
    bar = _title_of(title, _text_width(title) + 11)
    first, second = bar[:TALL_BAR], bar[TALL_BAR:]
    assert (second > 100).any()
    left, right = _extent(first)
    assert abs((right - left) - _drawn_width("Grad-CAM")) <= 1  # "Grad-CAM", at the bar's own size
    left, right = _extent(second)
    assert abs((right - left) - _drawn_width("crack")) <= 1


def test_a_title_of_three_parts_breaks_once():
    title = "LayerCAM - conv2 - scratch"
    bar = _title_of(title, _text_width("LayerCAM") + 40)  # too narrow for even the rest: shrunk, two lines
    assert (bar[:TALL_BAR] > 100).any() and (bar[TALL_BAR:] > 100).any()
    assert _extent(bar)[1] < bar.shape[1] - 6 + 1


def test_titles_start_6_pixels_from_the_left_and_are_antialiased_thin_strokes():
    cv2 = __import__("cv2")
    alone = np.zeros((TALL_BAR, 300), np.uint8)
    cv2.putText(alone, "Grad-CAM", (0, 40), FONT, TALL_BAR / 40, 255, 1, cv2.LINE_AA)
    bearing = _extent(alone)[0]  # the glyph's own left side bearing
    bar = _title_of("Grad-CAM", 300)
    assert _extent(bar)[0] == 6 + bearing
    lit = bar[:TALL_BAR]
    assert ((lit > 40) & (lit < 200)).any()  # antialiased edges, not only bar and text colours
    assert (lit > 100).mean() < 0.2  # thin strokes, not a blot
    assert lit.max() == 235  # light grey on the dark bar


def test_a_titles_baseline_sits_7_pixels_above_its_bars_bottom():
    cv2 = __import__("cv2")
    alone = np.full((TALL_BAR, 300), 32, np.uint8)  # as in the bar: light grey on dark grey
    cv2.putText(alone, "GRAD", (0, 40), FONT, TALL_BAR / 40, 235, 1, cv2.LINE_AA)
    below_baseline = int(np.flatnonzero((alone > 100).any(axis=1))[-1]) - 40
    bar = _title_of("GRAD", 300)
    assert int(np.flatnonzero((bar > 100).any(axis=1))[-1]) == TALL_BAR - 7 + below_baseline


def test_every_region_is_outlined_smoothly():
    image = np.zeros((64, 96, 3), np.uint8)
    heat = np.zeros((64, 96), np.float32)
    heat[8:24, 8:24] = 1.0
    heat[40:56, 60:90] = 1.0  # a second, separate region
    drawn = compose(image, heat, ViewSettings(mode="image", outline=True))
    assert drawn[8:24, 8:24].any() and drawn[40:56, 60:90].any()
    circle = np.zeros((64, 96), np.float32)
    __import__("cv2").circle(circle, (48, 32), 20, 1.0, -1)
    round_ = compose(image, circle, ViewSettings(mode="image", outline=True))
    assert ((round_ > 0) & (round_ < 200)).any()  # antialiased, not a jagged 8-connected line


def test_title_text_is_grey():
    grid = titled_grid([np.zeros((600, 300, 3), np.uint8)], ["Grad-CAM"], columns=1, margin=0)
    bar = grid[:2 * TALL_BAR].astype(int)
    assert np.array_equal(bar[..., 0], bar[..., 1]) and np.array_equal(bar[..., 0], bar[..., 2])
