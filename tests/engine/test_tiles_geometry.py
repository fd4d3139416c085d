"""The geometry of tiled explanations (engine.tiles) without a model: where the tiles sit,
the Hann window that blends them, the crop, the in-place normalisation, when an image cannot
be tiled, which options tiles refuse, and the note naming the verdict tile."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine import tiles
from engine.errors import MethodError
from engine.images.decoding import LoadedImage


def _image(height: int, width: int) -> LoadedImage:
    pixels = np.arange(height * width * 3, dtype=np.float32).reshape(height, width, 3)
    return LoadedImage("x.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)


def _session(height: int | None, width: int | None) -> SimpleNamespace:
    return SimpleNamespace(info=SimpleNamespace(input_shape=(height, width, 3)))


def test_grid_strides_by_one_minus_overlap_and_ends_at_the_edge() -> None:
    grid = tiles.tile_grid(100, 120, 40, 50, 0.25)
    assert grid.tops.tolist() == [0, 30, 60]  # stride round(40 * 0.75) = 30, last at 100 - 40
    assert grid.lefts.tolist() == [0, 38, 70]  # stride round(50 * 0.75) = 38 (37.5 rounds to even 38), last 70
    assert (grid.height, grid.width) == (40, 50)
    assert grid.count == 9


def test_grid_without_overlap_is_side_by_side_and_full_overlap_steps_one_pixel() -> None:
    grid = tiles.tile_grid(64, 96, 32, 32, 0.0)
    assert grid.tops.tolist() == [0, 32] and grid.lefts.tolist() == [0, 32, 64]
    dense = tiles.tile_grid(34, 33, 32, 32, 1.0)
    assert dense.tops.tolist() == [0, 1, 2] and dense.lefts.tolist() == [0, 1]


def test_grid_rows_and_columns_use_their_own_sizes() -> None:
    grid = tiles.tile_grid(10, 100, 10, 20, 0.5)
    assert grid.tops.tolist() == [0]
    assert grid.lefts.tolist() == [0, 10, 20, 30, 40, 50, 60, 70, 80]
    assert grid.count == 9


def test_corner_is_row_major() -> None:
    grid = tiles.TileGrid(np.array([0, 30, 60]), np.array([0, 38]), 40, 50)
    assert grid.count == 6
    assert [grid.corner(i) for i in range(6)] == [(0, 0), (0, 38), (30, 0), (30, 38), (60, 0), (60, 38)]
    assert all(type(value) is int for value in grid.corner(5))


def test_window_is_sin_squared_between_its_zeros() -> None:
    values = tiles.window(4)
    expected = np.sin(np.pi * (np.arange(4) + 0.5) / 4) ** 2
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, expected, rtol=1e-6)
    assert (values > 0).all() and values.max() <= 1.0
    np.testing.assert_allclose(tiles.window(3), [0.25, 1.0, 0.25], rtol=1e-6)


def test_window_sums_add_every_tile_window_at_its_offset() -> None:
    sums = tiles.window_sums(np.array([0, 2]), 4, 6)
    profile = tiles.window(4).astype(np.float64)
    expected = np.zeros(6)
    expected[0:4] += profile
    expected[2:6] += profile
    assert sums.dtype == np.float64 and sums.shape == (6,)
    np.testing.assert_allclose(sums, expected)


def test_crop_is_a_view_of_both_copies_at_the_tile() -> None:
    image = _image(6, 8)
    tile = tiles.crop(image, 2, 3, 3, 4)
    assert tile.pixels.shape == (3, 4, 3) and tile.display.shape == (3, 4, 3)
    np.testing.assert_array_equal(tile.pixels, image.pixels[2:5, 3:7])
    np.testing.assert_array_equal(tile.display, image.display[2:5, 3:7])
    assert np.shares_memory(tile.pixels, image.pixels)
    assert tile.path == image.path and tile.significant_bits == 8


def test_normalise_in_place_maps_min_to_zero_and_max_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tiles, "ROW_BLOCK", 2)  # several row blocks: min and max are global
    values = np.array([[1.0, -1.0], [3.0, 5.0], [4.0, 7.0]], np.float32)
    assert tiles.normalise_in_place(values) is False
    np.testing.assert_allclose(values, [[0.25, 0.0], [0.5, 0.75], [0.625, 1.0]])


def test_normalise_in_place_counts_zero_as_the_floor() -> None:
    values = np.array([[2.0, 4.0]], np.float32)  # the blended map is >= 0: its floor is 0, not its min
    assert tiles.normalise_in_place(values) is False
    np.testing.assert_allclose(values, [[0.5, 1.0]])


def test_normalise_in_place_replaces_non_finite_values_with_zero() -> None:
    values = np.array([[np.nan, np.inf, -np.inf, 2.0]], np.float32)
    assert tiles.normalise_in_place(values) is False
    np.testing.assert_allclose(values, [[0.0, 0.0, 0.0, 1.0]])


@pytest.mark.parametrize("fill", [0.0, -1.0, 1e-9])
def test_a_flat_or_non_positive_map_becomes_zeros_and_is_reported_empty(fill: float) -> None:
    values = np.full((3, 2), fill, np.float32)
    values[0, 0] = min(fill, 0.0)
    assert tiles.normalise_in_place(values) is True
    assert not values.any()


def test_a_map_just_above_the_flatness_threshold_is_kept() -> None:
    values = np.array([[0.0, 1e-6]], np.float32)
    assert tiles.normalise_in_place(values) is False
    np.testing.assert_allclose(values, [[0.0, 1.0]])
    tiny = np.array([[0.0, 5e-8]], np.float32)
    assert tiles.normalise_in_place(tiny) is True


def test_a_large_map_is_scaled_not_flattened() -> None:
    big = np.array([[0.0, 1e6]], np.float32)
    assert tiles.normalise_in_place(big) is False
    np.testing.assert_allclose(big, [[0.0, 1.0]])


def test_unfit_names_a_size_agnostic_model_and_a_small_image() -> None:
    assert tiles.unfit(_session(None, 32), _image(64, 64)) == "tiles need a model with a fixed input size"
    assert tiles.unfit(_session(32, None), _image(64, 64)) == "tiles need a model with a fixed input size"
    assert tiles.unfit(_session(32, 48), _image(20, 64)) == (
        "tiles: the image (64 x 20) is smaller than the model input (48 x 32); explained whole")
    assert tiles.unfit(_session(32, 48), _image(64, 40)).startswith("tiles: the image (40 x 64)")


def test_an_image_exactly_the_model_size_can_be_tiled() -> None:
    assert tiles.unfit(_session(32, 48), _image(32, 48)) == ""


@pytest.mark.parametrize("options", [
    {"guided": True}, {"polarity": "positive"}, {"polarity": "negative"},
    {"clip_percentile": 99.9}, {"clip_below": 0.01},
])
def test_tiles_refuse_signed_or_second_map_options(options: dict) -> None:
    with pytest.raises(MethodError, match="^tiles give one blended map: guided, polarity and percentile clipping "
                                          "are not available with tiles$"):
        tiles.check_tiles(options)


@pytest.mark.parametrize("options", [
    {}, {"guided": False, "polarity": None, "clip_percentile": 100.0, "clip_below": 0.0},
])
def test_tiles_accept_the_defaults(options: dict) -> None:
    assert tiles.check_tiles(options) is None  # no MethodError


def test_tile_note_says_how_the_image_was_tiled_and_where_the_verdict_is() -> None:
    grid = tiles.TileGrid(np.array([0, 30, 60]), np.array([0, 38]), 40, 50)
    assert tiles.tile_note(grid, 3) == ("tiles: 6 tiles of 50 x 40 (3 rows x 2 columns); the verdict comes from "
                                        "the tile at x=38, y=30")


def test_finishing_options_are_the_map_finishes() -> None:
    assert tiles.FINISHING == ("cleanup", "edges", "emphasize", "outline")
    assert tiles.ROW_BLOCK == 1024
