"""Defect removal without a model: the painted image, the dilation, the control region's place,
what counts as kept / inconclusive, and remove_defects through a fake session that predicts
from the pixels (a 'defect' class while dark pixels remain). Runs for every mutant of
engine.trust.removal without TensorFlow.
"""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.trust import removal
from engine.trust.removal import (
    Removal,
    control_region,
    dilate,
    dilation_pixels,
    paint_out,
    remove_defects,
)


def _image(height=60, width=80, value=180, dtype="uint8") -> LoadedImage:
    display = np.full((height, width, 3), value, np.uint8)
    return LoadedImage("x.png", display, display.astype(np.float32), False, dtype, 8)


def _with_defect(image: LoadedImage, region: np.ndarray, value=20) -> LoadedImage:
    display = image.display.copy()
    display[region] = value
    return LoadedImage(image.path, display, display.astype(np.float32), False, image.source_dtype, 8)


def _region(height=60, width=80, box=(20, 30, 28, 40)) -> np.ndarray:
    region = np.zeros((height, width), bool)
    top, left, bottom, right = box
    region[top:bottom, left:right] = True
    return region


def _removal(predicted_after, control_after, class_index=1) -> Removal:
    return Removal(class_index, 0.9, 0.2, predicted_after, _image(), None, control_after)


@pytest.mark.parametrize("after, control, kept, control_kept, inconclusive", [
    (1, None, True, None, False),   # the defect class survived: not inconclusive whatever the control
    (1, 0, True, False, False),
    (0, None, False, None, True),   # lost, no control to compare with
    (0, 0, False, False, True),     # lost, and painting the control out lost it too
    (0, 1, False, True, False),     # lost only when the defect went: the model looked at it
    (2, 1, False, True, False),
])
def test_kept_and_inconclusive_need_the_prediction_and_the_control(after, control, kept, control_kept, inconclusive):
    found = _removal(after, control)
    assert found.kept is kept and found.control_kept is control_kept and found.inconclusive is inconclusive


def test_dilation_is_one_percent_of_the_shorter_side_at_least_two_pixels():
    assert dilation_pixels(100, 1000) == 2 and dilation_pixels(199, 800) == 2
    assert dilation_pixels(250, 300) == 2  # 2.5 rounds to even
    assert dilation_pixels(350, 300) == 3 and dilation_pixels(1000, 2000) == 10
    assert removal.MIN_DILATION == 2 and removal.DILATION_FRACTION == 0.01


def test_dilate_grows_by_an_ellipse_of_the_given_radius():
    dot = np.zeros((11, 11), bool)
    dot[5, 5] = True
    grown = dilate(dot, 2)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    assert grown.dtype == bool and np.array_equal(grown[3:8, 3:8], disc.astype(bool)) and grown.sum() == disc.sum()
    assert grown[5, 3] and grown[5, 7] and grown[3, 5] and not grown[3, 3] and not grown[5, 2]
    assert np.array_equal(dilate(dot, 0), dot) and dilate(dot.astype(np.uint8), -1).dtype == bool
    assert dilate(dot, 1).sum() == 5


def test_paint_out_fills_the_dilated_region_from_the_surroundings():
    region = _region()
    image = _with_defect(_image(), region)
    painted = paint_out(image, region)
    grown = dilate(region, dilation_pixels(60, 80)).astype(np.uint8)
    expected = cv2.inpaint(image.display, grown, removal.INPAINT_RADIUS, cv2.INPAINT_TELEA)
    assert np.array_equal(painted.display, expected)
    assert np.abs(painted.display[region].astype(int) - 180).max() <= 2  # the dark defect is gone
    assert np.array_equal(painted.pixels, painted.display.astype(np.float32))
    assert painted.pixels.dtype == np.float32 and painted.path == image.path
    assert image.display[region].max() == 20  # the original is untouched
    rim = _with_defect(image, dilate(region, 2) & ~region, value=60)  # the anti-aliased rim goes too
    assert np.abs(paint_out(rim, region).display[dilate(region, 2)].astype(int) - 180).max() <= 2
    assert not np.array_equal(paint_out(rim, region, grow=0).display, paint_out(rim, region).display)


def test_paint_out_uses_the_given_growth_and_radius():
    region = _region()
    image = _with_defect(_image(), region)
    for grow, radius in ((0, 3), (5, 1), (1, 8)):
        mask = dilate(region, grow).astype(np.uint8)
        expected = cv2.inpaint(image.display, mask, radius, cv2.INPAINT_TELEA)
        assert np.array_equal(paint_out(image, region, grow=grow, radius=radius).display, expected)


def test_paint_out_refuses_a_mask_of_another_size():
    with pytest.raises(ValueError, match=r"mask \(60, 81\) and image \(60, 80\) differ in size"):
        paint_out(_image(), np.zeros((60, 81), bool))
    with pytest.raises(ValueError):
        paint_out(_image(), np.zeros((61, 80), bool))


def test_a_sixteen_bit_image_is_painted_at_full_precision():
    region = _region()
    pixels = np.full((60, 80, 3), 40000.0, np.float32)
    pixels[..., 1] = 30000.0
    pixels[region] = 1000.0
    display = np.clip(pixels / 257.0, 0, 255).astype(np.uint8)
    image = LoadedImage("x.tif", display, pixels, False, "uint16", 16)
    painted = paint_out(image, region)
    assert painted.pixels.dtype == np.float32
    assert np.allclose(painted.pixels[region][:, 0], 40000.0, rtol=1e-3)
    assert np.allclose(painted.pixels[region][:, 1], 30000.0, rtol=1e-3)  # each channel from its own surroundings
    assert np.abs(painted.display[region].astype(int) - display[0, 0].astype(int)).max() <= 3
    float_copy = LoadedImage("x.png", display, display.astype(np.float32) + 0.5, False, "uint8", 8)
    assert not removal._is_display(float_copy)  # values that differ from the display: painted per channel
    assert removal._is_display(LoadedImage("x.png", display, display.astype(np.float32), False, "uint8", 8))
    assert not removal._is_display(LoadedImage("x.png", display, display.astype(np.float32), False, "uint16", 8))
    for radius in (1, 9):
        wide = paint_out(image, region, radius=radius)
        mask = dilate(region, dilation_pixels(60, 80)).astype(np.uint8)
        expected = cv2.inpaint(np.ascontiguousarray(pixels[..., 0]), mask, radius, cv2.INPAINT_TELEA)
        assert np.array_equal(wide.pixels[..., 0], expected)
    gray = LoadedImage("x.png", display, display[..., :1].astype(np.float32), True, "uint8", 8)
    assert not removal._is_display(gray)
    assert paint_out(gray, region).pixels.shape == (60, 80, 1)


def _textured(height=60, width=80) -> np.ndarray:
    """Left half dark and flat, right half bright and noisy (two surfaces)."""
    rng = np.random.default_rng(0)
    grey = np.full((height, width), 60.0)
    grey[:, width // 2:] = 180 + rng.normal(0, 20, (height, width - width // 2))
    return np.clip(grey, 0, 255).astype(np.uint8)


def test_the_control_goes_off_the_defect_where_the_surface_looks_like_its_surroundings():
    grey = _textured()
    region = _region(box=(10, 55, 16, 63))  # on the bright noisy half
    image = LoadedImage("x.png", np.repeat(grey[..., None], 3, 2), np.repeat(grey[..., None], 3, 2).astype(np.float32),
                        False, "uint8", 8)
    control = control_region(image, region)
    assert control is not None and control.sum() == region.sum() and control.dtype == bool
    rows, cols = np.nonzero(control)
    assert rows.max() - rows.min() == 5 and cols.max() - cols.min() == 7  # the same shape
    assert cols.min() >= 40  # on the same (bright) surface
    keep_out = dilate(region, 2 * dilation_pixels(60, 80))
    assert not (control & keep_out).any()  # clear of the defect and its painted rim
    dark = _region(box=(10, 5, 16, 13))
    dark_control = control_region(image, dark)
    assert dark_control is not None and np.nonzero(dark_control)[1].max() < 40  # dark defect: on the dark half


def test_the_control_keeps_clear_of_the_images_other_defects():
    grey = np.full((30, 60), 100, np.uint8)
    image = LoadedImage("x.png", np.repeat(grey[..., None], 3, 2), np.repeat(grey[..., None], 3, 2).astype(np.float32),
                        False, "uint8", 8)
    region = _region(30, 60, box=(10, 2, 20, 12))
    other = _region(30, 60, box=(0, 20, 30, 40))
    control = control_region(image, region, other)
    assert control is not None and not (control & dilate(other, 4)).any()
    assert np.nonzero(control)[1].min() >= 40
    everywhere = _region(30, 60, box=(0, 14, 30, 60))
    assert control_region(image, region, everywhere) is None  # nowhere left


def test_no_control_for_an_empty_or_too_large_region():
    image = _image(40, 40)
    assert control_region(image, np.zeros((40, 40), bool)) is None
    assert control_region(image, _region(40, 40, box=(0, 0, 40, 25))) is None  # no room beside it
    assert control_region(image, np.ones((50, 20), bool)) is None  # a region larger than the image


def test_the_control_keeps_exactly_twice_the_dilation_off_the_defect():
    image = _image(40, 24)  # dilation 2 px: keep 4 px clear, so a 10 px wide band fits at columns 14..23
    control = control_region(image, _region(40, 24, box=(0, 0, 40, 10)))
    assert control is not None and np.array_equal(np.nonzero(control.any(axis=0))[0], np.arange(14, 24))
    assert control.all(axis=1).sum() == 0 and control[:, 14:].all()
    assert control_region(_image(40, 23), _region(40, 23, box=(0, 0, 40, 10))) is None  # one column short
    band = control_region(_image(24, 40), _region(24, 40, box=(0, 0, 10, 40)))  # the same, lying down
    assert band is not None and np.array_equal(np.nonzero(band.any(axis=1))[0], np.arange(14, 24))


def test_a_full_width_band_gets_its_control_below_it():
    image = _image(10, 40)
    control = control_region(image, _region(10, 40, box=(0, 0, 2, 40)))
    assert control is not None and control.sum() == 80 and np.nonzero(control.any(axis=1))[0].min() >= 6


def test_the_control_has_the_regions_own_shape_and_is_boolean():
    region = np.zeros((60, 80), np.uint8)  # a 0/1 mask, L-shaped
    region[20:30, 30:33] = 1
    region[27:30, 30:40] = 1
    control = control_region(_image(), region)
    assert control is not None and control.dtype == bool and control.sum() == region.sum()
    rows, cols = np.nonzero(control)
    placed = control[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert np.array_equal(placed, region[20:30, 30:40].astype(bool))


def test_the_reference_surface_is_the_ring_around_the_defect(monkeypatch):
    rings: list = []
    real = removal._surface_cost

    def spy(grey, shape, ring):
        rings.append(ring)
        return real(grey, shape, ring)

    monkeypatch.setattr(removal, "_surface_cost", spy)
    region, other = _region(), _region(box=(40, 5, 45, 10))
    control_region(_image(), region, other)
    grow = dilation_pixels(60, 80)
    expected = dilate(region, 3 * grow) & ~dilate(region | other, grow)
    assert np.array_equal(rings[0], expected)


def test_surface_cost_is_the_distance_of_mean_and_spread():
    grey = np.zeros((4, 6), np.float32)
    grey[:, 3:] = 10.0
    shape = np.ones((2, 2), np.float32)
    ring = np.zeros((4, 6), bool)
    ring[:, 4:] = True  # the surroundings: flat 10
    cost = removal._surface_cost(grey, shape, ring)
    assert cost.shape == (3, 5)
    assert cost[0, 0] == pytest.approx(10.0) and cost[0, 3] == pytest.approx(0.0)
    assert cost[0, 2] == pytest.approx(5.0 + 5.0)  # mean 5 (off by 5), spread 5 (off by 5)
    no_ring = removal._surface_cost(grey, shape, np.zeros((4, 6), bool))  # the whole image is the reference
    assert no_ring[0, 0] == pytest.approx(5.0 + 5.0)
    textured = np.zeros((4, 6), bool)
    textured[:, 2:4] = True  # half 0, half 10: mean 5, std 5
    assert removal._surface_cost(grey, shape, textured)[0, 0] == pytest.approx(5.0 + 5.0)
    assert removal._surface_cost(grey, shape, textured)[0, 2] == pytest.approx(0.0)


def test_grey_is_the_channel_mean():
    display = np.zeros((2, 2, 3), np.uint8)
    display[..., 0], display[..., 2] = 30, 90
    image = LoadedImage("x.png", display, display.astype(np.float32), False, "uint8", 8)
    assert np.allclose(removal._grey(image), 40.0)
    flat = LoadedImage("x.png", display[..., 0], display[..., :1].astype(np.float32), True, "uint8", 8)
    assert np.allclose(removal._grey(flat), 30.0)


class _Head:
    def probabilities(self, logits):
        return logits


class _Session:
    """Predicts 'defect' (class 1) while dark pixels remain, else 'good' (0); class 2 never."""

    def __init__(self):
        self.context = SimpleNamespace(heads={0: _Head(), 1: _Head()})
        self.batches: list[int] = []
        self.outputs: list[int] = []

    def check_output(self, output):
        self.outputs.append(output)
        return output

    def batch(self, images):
        self.batches.append(len(images))
        return np.stack([im.pixels for im in images])

    def logits(self, x, output):
        dark = (x.min(axis=(1, 2, 3)) < 100).astype(np.float64)
        scores = np.stack([1.0 - dark * 0.8, dark * 0.8 + 0.1, np.full(len(x), 0.05)], axis=1)
        return {0: scores, 1: scores}[output]


def test_remove_defects_predicts_the_painted_image_and_its_control_in_one_batch():
    region = _region()
    session = _Session()
    defect = _with_defect(_image(), region)
    shortcut = _with_defect(_image(), _region(box=(0, 0, 4, 4)))  # dark elsewhere: the defect is not what counts
    found = remove_defects(session, [defect, shortcut], [region, region], [1, 1], [0.9, 0.8], output=1)
    assert session.batches == [4] and session.outputs == [1]
    first, second = found
    assert (first.class_index, first.probability_before, first.predicted_after) == (1, 0.9, 0)
    assert first.probability_after == pytest.approx(0.1) and not first.kept
    assert first.control is not None and first.control_predicted_after == 1 and first.control_kept
    assert not first.inconclusive  # lost with the defect, kept with the control: right reason
    assert second.kept and second.probability_before == 0.8 and second.probability_after == pytest.approx(0.9)
    assert np.array_equal(first.painted.display, paint_out(defect, region).display)
    assert np.array_equal(first.control, control_region(defect, region))


def test_an_image_without_a_control_is_predicted_alone():
    session = _Session()
    whole = np.ones((60, 80), bool)
    defect = _with_defect(_image(), whole)
    placed = _with_defect(_image(), _region())
    found = remove_defects(session, [defect, placed], [whole, _region()], [1, 1], [0.9, 0.9],
                           avoid=[None, np.zeros((60, 80), bool)])
    assert session.batches == [3] and session.outputs == [0]
    assert found[0].control is None and found[0].control_predicted_after is None
    assert found[1].control is not None and found[1].control_predicted_after == 1
    assert remove_defects(session, [], [], [], []) == []


def test_each_controls_prediction_is_its_own():
    session = _Session()
    images = [_with_defect(_image(), _region()), _with_defect(_image(), _region(box=(40, 50, 46, 58)))]
    found = remove_defects(session, images, [_region(), _region(box=(40, 50, 46, 58))], [1, 1], [0.9, 0.9])
    assert session.batches == [4]
    assert [f.predicted_after for f in found] == [0, 0]  # the defect gone: no dark pixel left
    assert [f.control_predicted_after for f in found] == [1, 1]  # the defect still there beside the control
    assert not any(f.inconclusive for f in found)


def test_the_images_other_defects_are_kept_clear_of_the_control():
    grey = np.full((30, 60), 100, np.uint8)
    rgb = np.repeat(grey[..., None], 3, 2)
    image = LoadedImage("x.png", rgb, rgb.astype(np.float32), False, "uint8", 8)
    region, other = _region(30, 60, box=(10, 2, 20, 12)), _region(30, 60, box=(0, 20, 30, 40))
    found = remove_defects(_Session(), [image], [region], [1], [0.9], avoid=[other])
    assert found[0].control is not None and not (found[0].control & dilate(other, 4)).any()
    free = remove_defects(_Session(), [image], [region], [1], [0.9])
    assert free[0].control is not None and (free[0].control & dilate(other, 4)).any()  # nearest spot otherwise


@pytest.mark.parametrize("regions, avoid, classes", [
    (1, None, 2), (2, [None], 2), (2, None, 1),
])
def test_lists_of_different_lengths_are_refused(regions, avoid, classes):
    images = [_image(), _image()]
    with pytest.raises(ValueError):
        remove_defects(_Session(), images, [_region()] * regions, [1] * classes, [0.9, 0.9], avoid=avoid)
