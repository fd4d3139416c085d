"""Defect removal: paint the defect out and predict again.

The defect's mask is dilated slightly (so the defect's anti-aliased rim goes too) and filled
by OpenCV's inpainting (Telea 2004, ``cv2.INPAINT_TELEA``) from the surrounding surface,
at the image's full resolution and precision (16-bit and float images are inpainted per
channel in float32). The painted image is predicted again: a model that looked at the
defect loses the defect class; one whose defect prediction *survives* was looking at
something else (a shortcut: the texture, the camera, a fixture).

The control: the same region, moved off the defect to where the surface looks most like
the defect's surroundings (mean and spread of the grey level), is painted out too. Painting
out a coarse region (a box a third of the image wide) can change any prediction; when the
control changes it as well, a lost prediction says nothing about the defect and the removal
is *inconclusive*. When no place off the defect can hold the region, there is no control
and a lost prediction is inconclusive too.
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
    control: np.ndarray | None = None  # the control region (boolean), None when none fits off the defect
    control_predicted_after: int | None = None  # the class predicted with the control painted out

    @property
    def kept(self) -> bool:
        """True when the explained class is still the prediction after removal."""
        return self.predicted_after == self.class_index

    @property
    def control_kept(self) -> bool | None:
        """True when the explained class survived painting out the control; None without a control."""
        return None if self.control_predicted_after is None else self.control_predicted_after == self.class_index

    @property
    def inconclusive(self) -> bool:
        """True when the removal lost the prediction but the control did not keep it (or there was none)."""
        return not self.kept and self.control_kept is not True


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


def _grey(image: LoadedImage) -> np.ndarray:
    display = np.asarray(image.display, np.float32)
    return display.mean(axis=2) if display.ndim == 3 else display


def control_region(image: LoadedImage, region: np.ndarray, avoid: np.ndarray | None = None) -> np.ndarray | None:
    """`region` moved off the defect (`region` and `avoid`, both grown by twice the removal's
    dilation, so neither painted area touches the defect) to the place whose grey level's mean
    and standard deviation are closest to those of the defect's surroundings; None when the
    region fits nowhere off the defect."""
    region = np.asarray(region, bool)
    if not region.any():
        return None
    grow = dilation_pixels(image.height, image.width)
    defect = region | (np.asarray(avoid, bool) if avoid is not None else False)
    keep_out = dilate(defect, 2 * grow).astype(np.float32)
    rows, cols = np.nonzero(region)
    shape = region[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.float32)
    if shape.shape[0] > image.height or shape.shape[1] > image.width:
        return None
    overlap = cv2.matchTemplate(keep_out, shape, cv2.TM_CCORR)  # defect pixels under each placement
    cost = _surface_cost(_grey(image), shape, dilate(region, 3 * grow) & ~dilate(defect, grow))
    cost[overlap > 0.5] = np.inf
    if not np.isfinite(cost).any():
        return None
    top, left = np.unravel_index(int(np.argmin(cost)), cost.shape)
    control = np.zeros_like(region)
    control[top:top + shape.shape[0], left:left + shape.shape[1]] = shape > 0
    return control


def _surface_cost(grey: np.ndarray, shape: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Per placement of `shape`: how far the grey level's mean and std under it are from the ring's."""
    area = float(shape.sum())
    mean = cv2.matchTemplate(grey, shape, cv2.TM_CCORR) / area
    spread = np.sqrt(np.maximum(cv2.matchTemplate(grey * grey, shape, cv2.TM_CCORR) / area - mean ** 2, 0.0))
    reference = grey[ring] if ring.any() else grey
    return np.abs(mean - reference.mean()) + np.abs(spread - reference.std())


def remove_defects(session, images: Sequence[LoadedImage], regions: Sequence[np.ndarray],
                   classes: Sequence[int], before: Sequence[float], output: int = 0,
                   avoid: Sequence[np.ndarray | None] | None = None) -> list[Removal]:
    """Paint each image's region out, and its control (see :func:`control_region`; `avoid`:
    each image's other defects, kept clear of the control), and predict all of them again in
    one batch.

    `before` holds each explained class's probability on the untouched image.
    """
    if not images:
        return []
    avoid = avoid if avoid is not None else [None] * len(images)
    painted = [paint_out(image, region) for image, region in zip(images, regions, strict=True)]
    controls = [control_region(image, region, other) for image, region, other in zip(images, regions, avoid,
                                                                                        strict=True)]
    placed = [(k, control) for k, control in enumerate(controls) if control is not None]
    with_control = [k for k, _ in placed]
    batch = painted + [paint_out(images[k], control) for k, control in placed]
    output = session.check_output(output)
    probabilities = session.context.heads[output].probabilities(session.logits(session.batch(batch), output))
    control_class = {k: int(np.argmax(probabilities[len(painted) + n])) for n, k in enumerate(with_control)}
    return [Removal(int(c), float(b), float(p[c]), int(np.argmax(p)), image, controls[k], control_class.get(k))
            for k, (image, c, b, p) in enumerate(zip(painted, classes, before, probabilities[:len(painted)],
                                                     strict=True))]
