"""Regions drawn by hand on one image (no Qt): the geometry of each tool, an eraser, undo,
and loading / saving them as the LabelMe file beside the image.

Coordinates are image pixels (x right, y down), as in engine.annotations.regions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from engine.annotations.labelme import is_ours, read_labelme, write_labelme
from engine.annotations.regions import PIXEL, AnnotationError, Point, Region

UNDO_LIMIT = 200
MIN_SIZE = 1.0  # px: a box or ellipse smaller than this in either direction is a stray click


def labelme_path(image_path: str | os.PathLike) -> Path:
    """The LabelMe file beside an image: `<stem>.json`."""
    image = Path(image_path)
    return image.with_name(image.stem + ".json")


def box_between(label: str, start: Point, end: Point) -> Region | None:
    """The box dragged from `start` to `end`, None for a click without a drag."""
    if abs(end[0] - start[0]) < MIN_SIZE or abs(end[1] - start[1]) < MIN_SIZE:
        return None
    return Region.box(label, start[0], start[1], end[0], end[1])


def ellipse_between(label: str, start: Point, end: Point) -> Region | None:
    """The ellipse inscribed in the box dragged from `start` to `end`, None for a click."""
    if abs(end[0] - start[0]) < MIN_SIZE or abs(end[1] - start[1]) < MIN_SIZE:
        return None
    return Region.ellipse(label, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2,
                          abs(end[0] - start[0]) / 2, abs(end[1] - start[1]) / 2)


def stroke_bitmap(points: Sequence[Point], radius: float, height: int, width: int) -> np.ndarray:
    """The pixels a round brush of `radius` covers along `points`, as an image-sized bitmap."""
    import cv2
    canvas = np.zeros((height, width), np.uint8)
    thickness = max(1, round(2 * radius))
    centres = [(round(x), round(y)) for x, y in points]
    for centre in centres:
        cv2.circle(canvas, centre, max(0, round(radius)), 1, -1)
    for a, b in zip(centres, centres[1:], strict=False):
        cv2.line(canvas, a, b, 1, thickness)
    return canvas > 0


def cropped(label: str, bitmap: np.ndarray) -> Region | None:
    """A pixel region holding the set pixels of an image-sized bitmap, cut to their bounding box."""
    rows, cols = np.nonzero(bitmap)
    if rows.size == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    return Region.pixels(label, bitmap[top:bottom, left:right], int(left), int(top))


def region_pixels(region: Region, height: int, width: int) -> np.ndarray:
    """The image-sized bitmap a region covers."""
    canvas = np.zeros((height, width), np.uint8)
    region.draw(canvas, 1)
    return canvas > 0


class RegionEditor:
    """The regions of one image as they are being drawn, with undo.

    The brush paints into one pixel region per class (a second stroke of a class joins the
    first); the eraser removes the pixels it covers from those, and removes any box, ellipse
    or polygon it touches whole (LabelMe has no way to keep a box with a hole).
    """

    def __init__(self, height: int, width: int, regions: Iterable[Region] = ()) -> None:
        """An editor for an image of (height, width) starting from `regions`."""
        self.height, self.width = height, width
        self.regions: list[Region] = list(regions)
        self._undo: list[list[Region]] = []
        self.changed = False

    def _remember(self) -> None:
        self._undo.append(list(self.regions))
        del self._undo[:-UNDO_LIMIT]
        self.changed = True

    def add(self, region: Region | None) -> bool:
        """Add a region (None: nothing); True if one was added."""
        if region is None:
            return False
        self._remember()
        self.regions.append(region)
        return True

    def paint(self, label: str, points: Sequence[Point], radius: float) -> bool:
        """A brush stroke of class `label`, merged into that class's painted region."""
        stroke = stroke_bitmap(points, radius, self.height, self.width)
        if not stroke.any():
            return False
        self._remember()
        keep = []
        for region in self.regions:
            if region.kind == PIXEL and region.label == label:
                stroke |= region_pixels(region, self.height, self.width)
            else:
                keep.append(region)
        merged = cropped(label, stroke)
        self.regions = keep + ([merged] if merged is not None else [])
        return True

    def erase(self, points: Sequence[Point], radius: float) -> bool:
        """Erase along a stroke; True if anything changed."""
        rubber = stroke_bitmap(points, radius, self.height, self.width)
        result, changed = [], False
        for region in self.regions:
            covered = region_pixels(region, self.height, self.width)
            if not (covered & rubber).any():
                result.append(region)
                continue
            changed = True
            if region.kind == PIXEL:
                rest = cropped(region.label, covered & ~rubber)
                if rest is not None:
                    result.append(rest)
        if changed:
            self._remember()
            self.regions = result
        return changed

    def undo(self) -> bool:
        """Go back one step; False when there is nothing to undo."""
        if not self._undo:
            return False
        self.regions = self._undo.pop()
        self.changed = True
        return True

    def index_mask(self, labels: Sequence[str]) -> np.ndarray:
        """The regions as an image-sized array of 1 + the position of their label in `labels`
        (0 outside every region), later regions on top, for display."""
        canvas = np.zeros((self.height, self.width), np.uint8)
        for region in self.regions:
            value = labels.index(region.label) + 1 if region.label in labels else len(labels) + 1
            region.draw(canvas, min(value, 255))
        return canvas


def load_regions(image_path: str | os.PathLike, height: int, width: int) -> tuple[list[Region], bool]:
    """The regions of the LabelMe file beside the image, fitted to (height, width), and whether
    ConvScope wrote that file (True when there is none). Raises AnnotationError for a malformed one."""
    path = labelme_path(image_path)
    if not path.is_file():
        return [], True
    return list(read_labelme(path).fitted(height, width)), is_ours(path)


def save_regions(image_path: str | os.PathLike, regions: Sequence[Region], height: int, width: int,
                 overwrite_theirs: bool = False) -> Path:
    """Write the regions as the LabelMe file beside the image (see write_labelme for
    `overwrite_theirs`); with no regions, remove a file ConvScope wrote instead of leaving an empty one."""
    path = labelme_path(image_path)
    if not regions and path.is_file() and is_ours(path):
        path.unlink()
        return path
    if not regions and not path.is_file():
        return path
    return write_labelme(path, list(regions), Path(image_path).name, height, width, overwrite_theirs, drawn=True)


def has_regions(image_path: str | os.PathLike, root: str | os.PathLike | None = None) -> bool:
    """True when the image has ground truth already: a pixel mask, or a LabelMe, VOC or YOLO
    file beside it (a LabelMe file counts when it holds at least one region)."""
    from engine.review.masks import find_mask_source  # engine.review imports this package

    image = Path(image_path)
    if find_mask_source(image, root) is not None:
        return True
    if any(image.with_name(image.stem + suffix).is_file() for suffix in (".xml", ".txt")):
        return True
    path = labelme_path(image)
    if not path.is_file():
        return False
    try:
        return bool(read_labelme(path).regions)
    except AnnotationError:
        return True  # a file is there: marking would have to overwrite it
