"""Channel labels on grid tiles and the map files' folders and messages, written from the
engine.maps survivors of a mutation run (README, "Mutation testing").

A label is the channel number a user reads off the activation grid: it must sit in the
tile's top-left corner, white on a black outline, and grow with the tile up to OpenCV's
scale 1 (a tile 128 pixels high) and no smaller than 0.3 (tiny tiles stay legible).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.errors import OutputPathError
from engine.maps.grids import draw_label
from engine.maps.render import colorize, colormap_lut, overlay, save_heatmap, write_png

FONT = cv2.FONT_HERSHEY_SIMPLEX


def _expected_label(tile: np.ndarray, text: str) -> np.ndarray:
    """The label as specified: scale = clamp(height / 128, 0.3, 1), the baseline one text
    height below a 2-pixel margin, a 3-pixel black outline under 1-pixel white strokes."""
    scale = min(1.0, max(0.3, tile.shape[0] / 128.0))
    (_, text_height), _ = cv2.getTextSize(text, FONT, scale, 1)
    out = tile.copy()
    cv2.putText(out, text, (2, 2 + text_height), FONT, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (2, 2 + text_height), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return out


@pytest.mark.parametrize("height", [16, 38, 39, 64, 127, 128, 129, 256])
def test_a_label_is_scaled_to_its_tile_between_0_3_and_1(height):
    # guards: the clamp's bounds (0.3, 1.0) or the 128-pixel reference changed, the margin or
    # the outline's thickness changed, the outline drawn in a colour other than black
    tile = np.full((height, 96, 3), 90, np.uint8)
    np.testing.assert_array_equal(draw_label(tile.copy(), "17"), _expected_label(tile, "17"))


def _ink(tile: np.ndarray, background: int = 90) -> tuple[int, int, int, int]:
    rows, columns = np.nonzero((tile != background).any(axis=2))
    return int(rows.min()), int(columns.min()), int(rows.max()), int(columns.max())


def test_the_label_is_white_on_black_in_the_top_left_corner_and_grows_with_the_tile():
    small, large = np.full((40, 200, 3), 90, np.uint8), np.full((400, 200, 3), 90, np.uint8)
    drawn_small, drawn_large = draw_label(small, "12"), draw_label(large, "12")
    for drawn in (drawn_small, drawn_large):
        top, left, _, _ = _ink(drawn)
        assert top <= 10 and left <= 8 and _ink(drawn)[3] < 100  # the corner, not the tile's middle
        assert (drawn >= 200).all(axis=2).any() and (drawn <= 30).all(axis=2).any()  # white text, black outline
    height_small = _ink(drawn_small)[2] - _ink(drawn_small)[0]
    height_large = _ink(drawn_large)[2] - _ink(drawn_large)[0]
    assert height_large > height_small
    assert _ink(drawn_large)[2] < 40  # capped at scale 1 (a 400-pixel tile does not get a 100-pixel label)


def test_a_label_on_a_non_contiguous_tile_is_drawn_on_a_contiguous_copy():
    # guards: the contiguous copy dropped (OpenCV refuses a strided view)
    tiles = np.full((2, 64, 64, 3), 90, np.uint8)
    view = tiles[:, :, :, ::-1][0]
    drawn = draw_label(view, "3")
    assert drawn.flags["C_CONTIGUOUS"] and (drawn >= 200).any()


def test_files_go_into_new_nested_folders(tmp_path):
    # guards: mkdir without parents (a folder two levels down is the user's --out/maps/sub)
    heat = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    assert save_heatmap(tmp_path / "a" / "b" / "map.npy", heat).is_file()
    assert save_heatmap(tmp_path / "c" / "d" / "map.png", heat).is_file()
    assert write_png(tmp_path / "e" / "f" / "p.png", np.zeros((2, 2, 3), np.uint8)).is_file()
    # and into folders that exist already (exist_ok)
    assert save_heatmap(tmp_path / "a" / "b" / "again.npy", heat).is_file()
    assert write_png(tmp_path / "e" / "f" / "again.png", np.zeros((2, 2, 3), np.uint8)).is_file()


def test_an_unwritable_path_names_itself_and_why(tmp_path):
    # guards: the one-line message lost (an empty error in the status bar)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for call in (lambda: write_png(blocker / "x.png", np.zeros((2, 2, 3), np.uint8)),
                 lambda: save_heatmap(blocker / "x.npy", np.zeros((2, 2)))):
        with pytest.raises(OutputPathError, match=r"^.*file[/\\]x\.(png|npy): cannot write \(.+\)$") as refused:
            call()
        assert "[Errno" not in str(refused.value)  # the reason in words, not the exception's repr


def test_overlay_defaults_blend_jet_at_0_4_and_give_bytes():
    # guards: the documented default opacity or colour map changed, the blend returned as floats
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    heat = rng.random((5, 6)).astype(np.float32)
    blended = overlay(image, heat)
    expected = np.rint(image * 0.6 + colorize(heat, "jet").astype(np.float64) * 0.4)
    assert blended.dtype == np.uint8
    assert np.abs(blended.astype(int) - expected).max() <= 1


def test_the_colour_bar_lut_is_jet_by_default_one_entry_a_level():
    lut = colormap_lut()
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    levels = np.arange(256, dtype=np.uint8)[None, :]
    np.testing.assert_array_equal(lut, cv2.applyColorMap(levels, cv2.COLORMAP_JET)[0][:, ::-1])


def test_an_unknown_colour_map_lists_the_choices():
    with pytest.raises(ValueError, match=r"^unknown colour map 'rainbow'; choose from jet, turbo, viridis, inferno, "
                                         r"magma, plasma, hot, bone, cividis$"):
        colorize(np.zeros((2, 2)), "rainbow")
