"""Painting a defect out: the defect disappears, the rest of the image stays, the batch is predicted."""

from __future__ import annotations

import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.trust.removal import dilate, dilation_pixels, paint_out


def _image(height=60, width=80) -> tuple[LoadedImage, np.ndarray]:
    display = np.full((height, width, 3), 120, np.uint8)
    region = np.zeros((height, width), bool)
    region[30, 10:70] = True
    display[region] = (20, 20, 20)
    pixels = display.astype(np.float32) * 257.0  # a 16-bit image's float copy
    return LoadedImage("x.png", display, pixels, False, "uint16", 16), region


def test_dilation_grows_by_the_stated_pixels():
    assert dilation_pixels(256, 300) == 3 and dilation_pixels(40, 40) == 2
    region = np.zeros((11, 11), bool)
    region[5, 5] = True
    grown = dilate(region, 2)
    yy, xx = np.mgrid[:11, :11]
    distance = np.hypot(yy - 5, xx - 5)
    assert grown[distance <= 2].all() and not grown[distance > 2.9].any()


def test_paint_out_removes_the_defect_and_keeps_the_rest():
    image, region = _image()
    painted = paint_out(image, region)
    assert painted.display.dtype == np.uint8 and painted.pixels.dtype == np.float32
    assert np.all(np.abs(painted.display[region].astype(int) - 120) <= 2)
    assert np.all(np.abs(painted.pixels[region] - 120 * 257.0) <= 2 * 257.0)
    far = ~dilate(region, dilation_pixels(60, 80))
    assert np.array_equal(painted.display[far], image.display[far])
    assert np.array_equal(image.display[region], np.full((60, 3), 20))  # the input is untouched
    with pytest.raises(ValueError):
        paint_out(image, region[:10])


def test_remove_defects_predicts_the_painted_batch():
    from engine import Session
    from engine.model.sidecar import Sidecar
    from engine.trust.removal import remove_defects
    from tests.models import tiny_cnn

    session = Session(tiny_cnn(), "tiny.keras", Sidecar())
    image, region = _image(32, 32)[0], np.zeros((32, 32), bool)
    image = LoadedImage("x.png", image.display, image.display.astype(np.float32), False, "uint8", 8)
    region[16, 4:28] = True
    done = remove_defects(session, [image, image], [region, region], [0, 2], [0.5, 0.5])
    expected = session.predict([done[0].painted], top=3)[0]
    probs = {c.index: c.probability for c in expected.top}
    assert done[0].probability_after == pytest.approx(probs[0], abs=1e-5)
    assert done[1].probability_after == pytest.approx(probs[2], abs=1e-5)
    assert done[0].predicted_after == expected.best.index
    assert done[0].kept == (expected.best.index == 0) and done[1].kept == (expected.best.index == 2)
