"""Defect removal: paint the defect out and predict again.

The defect's mask is dilated slightly (so the defect's anti-aliased rim goes too) and filled
by OpenCV's inpainting (Telea 2004, ``cv2.INPAINT_TELEA``) from the surrounding surface,
at the image's full resolution and precision (16-bit and float images are inpainted per
channel in float32). The painted image is predicted again: a model that looked at the
defect loses the defect class; one whose defect prediction *survives* was looking at
something else (a shortcut: the texture, the camera, a fixture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from engine.images.decoding import LoadedImage

INPAINT_RADIUS = 3  # px: the neighbourhood Telea's method fills each pixel from
DILATION_FRACTION = 0.01  # the mask grows by 1 % of the image's shorter side, at least MIN_DILATION px
MIN_DILATION = 2


@dataclass(frozen=True)
class Removal:
    """One image before and after its defect was painted out."""

    class_index: int  # the explained class
    probability_before: float
    probability_after: float  # the explained class's probability after removal
    predicted_after: int  # the class predicted after removal
    painted: LoadedImage  # the image with the defect painted out

    @property
    def kept(self) -> bool:
        """True when the explained class is still the prediction after removal."""
        return self.predicted_after == self.class_index


def dilation_pixels(height: int, width: int) -> int:
    """How far the mask grows: 1 % of the shorter side, at least 2 px."""
    return max(MIN_DILATION, round(DILATION_FRACTION * min(height, width)))


def dilate(region: np.ndarray, pixels: int) -> np.ndarray:
    """The boolean region grown by `pixels` (an elliptical structuring element)."""
    if pixels <= 0:
        return np.asarray(region, bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * pixels + 1, 2 * pixels + 1))
    return cv2.dilate(np.asarray(region, np.uint8), kernel).astype(bool)


def paint_out(image: LoadedImage, region: np.ndarray, grow: int | None = None,
              radius: int = INPAINT_RADIUS) -> LoadedImage:
    """The image with `region` (boolean, the image's size) dilated and inpainted (Telea)."""
    if region.shape[:2] != (image.height, image.width):
        raise ValueError(f"mask {region.shape[:2]} and image {(image.height, image.width)} differ in size")
    grow = dilation_pixels(image.height, image.width) if grow is None else grow
    mask = dilate(region, grow).astype(np.uint8)
    display = cv2.inpaint(np.ascontiguousarray(image.display), mask, radius, cv2.INPAINT_TELEA)
    if _is_display(image):  # an 8-bit image: its float copy holds the display's values, one call does
        return replace(image, display=display, pixels=display.astype(image.pixels.dtype))
    pixels = np.asarray(image.pixels, dtype=np.float32)
    channels = [cv2.inpaint(np.ascontiguousarray(pixels[..., c]), mask, radius, cv2.INPAINT_TELEA)
                for c in range(pixels.shape[-1])]
    return replace(image, display=display, pixels=np.stack(channels, axis=-1).astype(image.pixels.dtype))


def _is_display(image: LoadedImage) -> bool:
    """True when the float pixels are exactly the 8-bit display copy (an 8-bit RGB source)."""
    return (image.source_dtype == "uint8" and image.pixels.shape == image.display.shape
            and np.array_equal(image.pixels, image.display))


def remove_defects(session, images: Sequence[LoadedImage], regions: Sequence[np.ndarray],
                   classes: Sequence[int], before: Sequence[float], output: int = 0) -> list[Removal]:
    """Paint each image's region out and predict all of them again in one batch.

    `before` holds each explained class's probability on the untouched image.
    """
    if not images:
        return []
    painted = [paint_out(image, region) for image, region in zip(images, regions, strict=True)]
    output = session.check_output(output)
    probabilities = session.context.heads[output].probabilities(session.logits(session.batch(painted), output))
    return [Removal(int(c), float(b), float(p[c]), int(np.argmax(p)), image)
            for image, c, b, p in zip(painted, classes, before, probabilities, strict=True)]
