"""Drawing and saving heatmaps (engine.maps.render): what the overlay PNG, the 16-bit PNG and
the .npy a user exports hold.

Bugs guarded against: an overlay blending the wrong way round or ignoring the threshold, a
heatmap not resized to the image, a colour map silently replaced, a 16-bit export that
truncates instead of rounding or overflows, a PNG written with red and blue swapped, a
.npy losing precision, and an unwritable path raising a traceback instead of one line.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.errors import OutputPathError
from engine.maps.render import (
    COLORMAPS,
    colorize,
    colormap_lut,
    heatmap_16bit,
    overlay,
    save_heatmap,
    write_png,
)


def test_colorize_uses_the_named_map_and_refuses_others():
    ramp = np.linspace(0, 1, 256, dtype=np.float32)[None, :]
    for name, code in COLORMAPS.items():
        bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[None, :], getattr(cv2, code))
        np.testing.assert_array_equal(colorize(ramp, name), bgr[..., ::-1])
        np.testing.assert_array_equal(colormap_lut(name), bgr[0, :, ::-1])
    with pytest.raises(ValueError, match="unknown colour map 'grey'"):
        colorize(ramp, "grey")


def test_colorize_clips_values_outside_0_1():
    np.testing.assert_array_equal(colorize(np.array([[-3.0, 7.0]], np.float32)), colorize(np.array([[0.0, 1.0]])))


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.0, 1.0), threshold=st.floats(0.0, 1.0), seed=st.integers(0, 999))
def test_overlay_blends_where_the_heat_reaches_the_threshold(alpha, threshold, seed):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    heat = rng.random((6, 8)).astype(np.float32)
    out = overlay(image, heat, alpha, "viridis", threshold)
    expected = np.rint(image * (1 - alpha) + colorize(heat, "viridis").astype(np.float32) * alpha)
    shown = heat >= threshold
    np.testing.assert_allclose(out[shown], expected[shown], atol=1)
    np.testing.assert_array_equal(out[~shown], image[~shown])  # under the threshold: the image alone


def test_overlay_resizes_the_map_to_the_image():
    image = np.zeros((40, 60, 3), np.uint8)
    heat = np.zeros((4, 6), np.float32)
    heat[:, 3:] = 1.0  # the right half hot
    out = overlay(image, heat, alpha=1.0, colormap="jet")
    assert out.shape == (40, 60, 3)
    np.testing.assert_array_equal(out[:, 0], np.repeat(colorize(np.zeros((1, 1)))[0], 40, axis=0))
    np.testing.assert_array_equal(out[:, -1], np.repeat(colorize(np.ones((1, 1)))[0], 40, axis=0))


@settings(max_examples=60, deadline=None)
@given(heat=arrays(np.float32, (3, 4), elements=st.floats(-0.5, 1.5, width=32)))
def test_16_bit_heatmap_rounds_and_clips(heat):
    out = heatmap_16bit(heat)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, np.rint(np.clip(heat, 0, 1) * 65535).astype(np.uint16))


def test_png_keeps_the_colours_and_16_bit_maps(tmp_path):
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 255  # pure red
    path = write_png(tmp_path / "sub" / "é.png", rgb)
    back = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(back[..., ::-1], rgb)
    heat = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    saved = save_heatmap(tmp_path / "map.PNG", heat)
    read = cv2.imdecode(np.fromfile(str(saved), np.uint8), cv2.IMREAD_UNCHANGED)
    assert read.dtype == np.uint16
    np.testing.assert_array_equal(read, heatmap_16bit(heat))


def test_npy_keeps_the_exact_float32_map(tmp_path):
    heat = np.random.default_rng(0).random((5, 5))
    saved = save_heatmap(tmp_path / "deep" / "map.npy", heat)
    loaded = np.load(saved)
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, heat.astype(np.float32))


def test_unwritable_or_unknown_paths_are_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for call in (lambda: write_png(blocker / "x.png", np.zeros((2, 2, 3), np.uint8)),
                 lambda: save_heatmap(blocker / "x.npy", np.zeros((2, 2))),
                 lambda: save_heatmap(tmp_path / "x.tiff", np.zeros((2, 2)))):
        with pytest.raises(OutputPathError) as refused:
            call()
        assert "\n" not in str(refused.value)
    with pytest.raises(OutputPathError, match=".npy or .png"):
        save_heatmap(tmp_path / "x.tiff", np.zeros((2, 2)))
    assert not (tmp_path / "x.tiff").exists()
