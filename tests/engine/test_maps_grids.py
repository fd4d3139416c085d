"""Grids of feature maps and filter patterns (engine.maps.grids): the layout the window and
`activations` / `filters` rely on to say which channel a pixel belongs to, with hypothesis.

Bugs guarded against: a tile placed column-major or off by a margin, a hover that names the
neighbouring channel (or one on a margin), "mean" order not ranking by mean, a shared scale
that scales each tile alone, and a deprocess that does not undo the model's preprocessing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.images.preprocessing import PREPROCESSING_MODES, preprocess
from engine.maps.grids import (
    activation_grid,
    deprocess,
    grid_shape,
    pattern_grid,
    tile_grid,
    to_pixels,
)
from engine.maps.render import colorize


@settings(max_examples=60, deadline=None)
@given(count=st.integers(1, 20), columns=st.integers(1, 8), height=st.integers(1, 6), width=st.integers(1, 6),
       margin=st.integers(0, 4))
def test_tiles_in_reading_order_with_black_margins(count, columns, height, width, margin):
    tiles = np.stack([np.full((height, width, 3), k + 1, np.uint8) for k in range(count)])
    grid = tile_grid(tiles, columns, margin)
    used = min(columns, count)
    rows = math.ceil(count / used)
    assert grid.shape[:2] == grid_shape(count, used, (height, width), margin)
    assert grid.shape[:2] == (rows * height + (rows - 1) * margin, used * width + (used - 1) * margin)
    for k in range(count):
        top, left = (k // used) * (height + margin), (k % used) * (width + margin)
        assert np.all(grid[top:top + height, left:left + width] == k + 1)
    assert int(grid.astype(int).sum()) == sum((k + 1) * height * width * 3 for k in range(count))  # the rest is black


@settings(max_examples=40, deadline=None)
@given(channels=st.integers(1, 12), columns=st.one_of(st.none(), st.integers(1, 6)), margin=st.integers(0, 3),
       seed=st.integers(0, 999), order=st.sampled_from(["index", "mean"]))
def test_every_tile_pixel_names_its_channel_and_margins_none(channels, columns, margin, seed, order):
    maps = np.random.default_rng(seed).random((3, 5, channels)).astype(np.float32)
    grid = activation_grid(maps, order=order, columns=columns, tile=10, margin=margin, labels=False)
    assert grid.columns == min(channels, columns or math.ceil(math.sqrt(channels)))
    assert grid.rows == math.ceil(channels / grid.columns) and grid.tile == (6, 10)
    assert sorted(grid.order) == list(range(channels))
    expected = list(np.argsort(-maps.mean(axis=(0, 1)), kind="stable")) if order == "mean" else list(range(channels))
    assert list(grid.order) == expected
    height, width = grid.tile
    for k, channel in enumerate(grid.order):
        top, left = (k // grid.columns) * (height + margin), (k % grid.columns) * (width + margin)
        for y, x in ((top, left), (top + height - 1, left + width - 1)):
            assert grid.channel_at(x, y) == channel
        if margin:
            assert grid.channel_at(left + width, top) is None and grid.channel_at(left, top + height) is None
    if channels % grid.columns:  # the empty places after the last tile
        assert grid.channel_at((grid.columns - 1) * (width + margin), (grid.rows - 1) * (height + margin)) is None
    assert grid.image.shape[:2] == grid_shape(channels, grid.columns, grid.tile, margin)


def test_shared_scale_compares_tiles_and_tile_scale_stretches_each():
    maps = np.zeros((4, 4, 2), np.float32)
    maps[..., 0] = np.linspace(0, 1, 16).reshape(4, 4)
    maps[..., 1] = np.linspace(0, 0.5, 16).reshape(4, 4)  # half as strong
    shared = activation_grid(maps, scale="shared", tile=4, margin=0, labels=False, colormap="jet")
    own = activation_grid(maps, scale="tile", tile=4, margin=0, labels=False, colormap="jet")
    np.testing.assert_array_equal(shared.image[:, :4], colorize(maps[..., 0]))
    np.testing.assert_array_equal(shared.image[:, 4:], colorize(maps[..., 1]))  # one min/max for both
    np.testing.assert_array_equal(own.image[:, 4:], colorize(maps[..., 1] / 0.5))  # its own min/max


def test_default_tile_reaches_64_pixels_and_keeps_the_aspect():
    grid = activation_grid(np.ones((6, 12, 1), np.float32), labels=False)
    assert grid.tile == (36, 72)  # 12 x 6 enlarged by the smallest whole factor reaching 64
    assert activation_grid(np.ones((100, 50, 1), np.float32), labels=False).tile == (100, 50)


@pytest.mark.parametrize("bad", [np.zeros((4, 4)), np.zeros((4, 4, 0))])
def test_maps_that_are_not_h_w_c_are_refused(bad):
    with pytest.raises(ValueError, match="maps must be"):
        activation_grid(bad)


def test_unknown_scale_order_and_bad_tiles_are_refused():
    maps = np.ones((2, 2, 2), np.float32)
    with pytest.raises(ValueError, match="scale"):
        activation_grid(maps, scale="global")
    with pytest.raises(ValueError, match="order"):
        activation_grid(maps, order="max")
    with pytest.raises(ValueError, match="non-empty"):
        tile_grid(np.zeros((0, 2, 2, 3), np.uint8), 2, 1)
    with pytest.raises(ValueError, match="columns"):
        tile_grid(np.zeros((1, 2, 2, 3), np.uint8), 0, 1)
    with pytest.raises(ValueError, match="one label per pattern"):
        pattern_grid(np.zeros((2, 8, 8, 3), np.uint8), labels=[1])


def test_pattern_labels_are_drawn_and_nothing_without_them():
    patterns = np.full((2, 32, 32, 3), 128, np.uint8)
    plain = pattern_grid(patterns, columns=2, margin=5)
    labelled = pattern_grid(patterns, columns=2, margin=5, labels=[3, 17])
    assert plain.shape == labelled.shape == (32, 69, 3)
    assert np.all(plain[:, :32] == 128) and not np.all(labelled[:, :32] == 128)
    assert np.all(labelled[:, 32:37] == 0)  # the margin stays black


@pytest.mark.parametrize("mode", PREPROCESSING_MODES)
@pytest.mark.parametrize("channels", [3, 1])
def test_to_pixels_undoes_the_model_preprocessing(mode, channels):
    pixels = np.random.default_rng(1).uniform(0, 255, (5, 7, channels)).astype(np.float32)
    np.testing.assert_allclose(to_pixels(preprocess(pixels, mode), mode), pixels, atol=1e-3)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 999), mode=st.sampled_from(PREPROCESSING_MODES), channels=st.sampled_from([1, 3]))
def test_deprocess_gives_rgb_bytes_centred_on_grey(seed, mode, channels):
    pixels = np.random.default_rng(seed).uniform(0, 255, (2, 8, 8, channels)).astype(np.float32)
    out = deprocess(preprocess(pixels, mode), mode)
    assert out.dtype == np.uint8 and out.shape == (2, 8, 8, 3)
    assert np.all(np.abs(out.astype(float).mean(axis=(1, 2, 3)) - 127.5) < 3)  # each image standardised alone
    if channels == 1:
        assert np.array_equal(out[..., 0], out[..., 2])
    spread = deprocess(preprocess(pixels, mode), mode, contrast=0.3).astype(float).std()
    assert spread > out.astype(float).std()  # contrast scales the spread
