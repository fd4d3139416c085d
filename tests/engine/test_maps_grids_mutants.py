"""Grids of feature maps and filter patterns against independent oracles, written from the
survivors of a mutation run of engine/maps (README, "Mutation testing").

Each test names the bug it guards against; the oracles are written from the docstrings
(min/max scaling per tile or shared, seed 002's per-image standardisation), not from the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.images.preprocessing import preprocess
from engine.maps.grids import activation_grid, deprocess, draw_label, pattern_grid, to_pixels
from engine.maps.render import colorize


def _tiles(grid, channels: int) -> list[np.ndarray]:
    height, width = grid.tile
    step_y, step_x = height + grid.margin, width + grid.margin
    return [grid.image[(k // grid.columns) * step_y:(k // grid.columns) * step_y + height,
                       (k % grid.columns) * step_x:(k % grid.columns) * step_x + width] for k in range(channels)]


@pytest.mark.parametrize("scale", ["shared", "tile"])
def test_each_tile_is_its_channel_scaled_by_min_and_max(scale):
    # guards: the low end added instead of subtracted, the range taken as max + min, the
    # per-tile scale taken over all channels (maps whose minimum is not zero show all three)
    rng = np.random.default_rng(3)
    maps = np.stack([rng.uniform(-3, 1, (4, 5)), rng.uniform(2, 9, (4, 5)), rng.uniform(-8, -6, (4, 5))], axis=2)
    grid = activation_grid(maps.astype(np.float32), scale=scale, tile=5, margin=1, labels=False, colormap="jet")
    for channel, tile in enumerate(_tiles(grid, 3)):
        values = maps[..., channel]
        low, high = (maps.min(), maps.max()) if scale == "shared" else (values.min(), values.max())
        np.testing.assert_array_equal(tile, colorize(((values - low) / (high - low)).astype(np.float32), "jet"))


def test_quantised_integer_maps_do_not_overflow():
    # guards: the map kept in its integer type (int8 arithmetic wraps: 100 - (-100) = -56)
    maps = np.array([[[-100], [0]], [[50], [100]]], np.int8)
    grid = activation_grid(maps, tile=2, margin=0, labels=False, colormap="jet")
    expected = (maps[..., 0].astype(np.float32) + 100) / 200
    np.testing.assert_array_equal(grid.image, colorize(expected, "jet"))


def test_mean_order_keeps_channel_order_among_ties():
    # guards: an unstable sort (many channels with the same mean come out shuffled)
    maps = np.zeros((2, 2, 40), np.float32)
    maps[..., 7] = 1.0
    assert activation_grid(maps, order="mean", labels=False).order == (7, *[c for c in range(40) if c != 7])


def test_the_documented_defaults_label_tiles_two_pixels_apart():
    # guards: the default margin or the default labels changed (the window's hover relies on both)
    maps = np.ones((4, 4, 2), np.float32)
    grid = activation_grid(maps)
    assert grid.margin == 2 and grid.image.shape[:2] == (64, 64 * 2 + 2)
    assert not np.array_equal(grid.image, activation_grid(maps, labels=False).image)


def test_the_default_tile_is_the_smallest_multiple_reaching_64_pixels():
    # guards: 64 changed; a thin map's one-pixel side rounded up
    assert activation_grid(np.ones((16, 16, 1), np.float32), labels=False).tile == (64, 64)
    assert activation_grid(np.ones((8, 13, 1), np.float32), labels=False).tile == (40, 65)
    assert activation_grid(np.ones((1, 100, 1), np.float32), labels=False).tile == (1, 100)
    assert activation_grid(np.ones((100, 1, 1), np.float32), labels=False).tile == (100, 1)


def test_a_refused_scale_or_order_lists_the_choices():
    maps = np.ones((2, 2, 2), np.float32)
    with pytest.raises(ValueError, match=r"^scale must be one of shared, tile$"):
        activation_grid(maps, scale="global")
    with pytest.raises(ValueError, match=r"^order must be one of index, mean$"):
        activation_grid(maps, order="max")
    with pytest.raises(ValueError, match=r"^one label per pattern$"):
        pattern_grid(np.zeros((2, 8, 8, 3), np.uint8), labels=[1])


def test_a_point_right_of_the_last_column_or_below_the_last_row_is_no_channel():
    # guards: the edge test needing both conditions, or column > columns (the next row's tile)
    grid = activation_grid(np.ones((4, 4, 4), np.float32), columns=2, tile=4, margin=1, labels=False)
    assert grid.channel_at(0, 0) == 0 and grid.channel_at(5, 0) == 1 and grid.channel_at(0, 5) == 2
    assert grid.channel_at(10, 0) is None  # column 2 of 2, first row
    assert grid.channel_at(10, 5) is None
    assert grid.channel_at(0, 10) is None


def test_pattern_grid_defaults_and_the_labels_written():
    # guards: the default eight columns or five-pixel margin changed, the label text lost
    patterns = np.full((9, 16, 16, 3), 128, np.uint8)
    assert pattern_grid(patterns).shape == (16 * 2 + 5, 16 * 8 + 5 * 7, 3)
    labelled = pattern_grid(patterns[:2], columns=2, margin=0, labels=[3, 41])
    np.testing.assert_array_equal(labelled[:, :16], draw_label(patterns[0].copy(), "3"))
    np.testing.assert_array_equal(labelled[:, 16:], draw_label(patterns[1].copy(), "41"))


@pytest.mark.parametrize("mode", ["unit", "symmetric", "caffe", "torch", "none"])
def test_to_pixels_gives_float32_even_for_integer_input(mode):
    assert to_pixels(np.full((1, 2, 2, 3), 3, np.int32), mode).dtype == np.float32


def _seed_002_deprocess(pixels: np.ndarray, contrast: float) -> np.ndarray:
    """Seed 002's deprocess, per image: standardise, x contrast, + 0.5, clip, x 255, to bytes."""
    out = []
    for image in pixels.astype(np.float64):
        image = (image - image.mean()) / (image.std() + 1e-5)
        out.append(np.rint(np.clip(image * contrast + 0.5, 0, 1) * 255).astype(np.uint8))
    return np.stack(out)


@pytest.mark.parametrize("mode", ["caffe", "torch", "unit"])
def test_deprocess_standardises_each_image_alone_in_pixel_space(mode):
    # guards: the standardisation over the batch or over rows only, the BGR order of caffe not
    # undone (the mode not passed on), a 256 scale, clipping at 1 instead of 0
    rng = np.random.default_rng(5)
    pixels = np.stack([rng.uniform(0, 255, (6, 6, 3)), rng.uniform(100, 110, (6, 6, 3))]).astype(np.float32)
    pixels[0, :3] *= 0.1  # rows of different contrast
    pixels[0, ..., 0] = 255  # a red image: caffe's BGR order is visible
    got = deprocess(preprocess(pixels, mode), mode, contrast=0.4)
    expected = _seed_002_deprocess(pixels, 0.4)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1  # float32 against float64 rounding ...
    assert (got != expected).mean() < 0.02  # ... at a few pixels on a .5 boundary, not a scale of 256
    assert (expected == 0).any() and (got == 0).any()  # high contrast: black is reached, not 1


def test_tiles_enlarge_each_cell_nearest_neighbour_in_viridis_with_the_channel_written():
    # guards: cells blurred by bilinear enlargement, the default colour map changed, the label text lost
    maps = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    grid = activation_grid(maps, tile=64, margin=0, scale="tile")  # large enough for the label to show
    for channel, tile in enumerate(_tiles(grid, 2)):
        unit = (maps[..., channel] - maps[..., channel].min()) / np.ptp(maps[..., channel])
        picture = colorize(np.kron(unit, np.ones((32, 32))).astype(np.float32), "viridis")
        np.testing.assert_array_equal(tile, draw_label(picture, str(channel)))


def test_tile_grid_refusals_name_the_rule_and_the_grid_is_bytes():
    from engine.maps.grids import tile_grid

    with pytest.raises(ValueError, match=r"^columns must be at least 1 and the margin not negative$"):
        tile_grid(np.zeros((1, 2, 2, 3), np.uint8), 1, -1)
    assert tile_grid(np.ones((3, 2, 2, 3), np.uint8), 2, 1).dtype == np.uint8
