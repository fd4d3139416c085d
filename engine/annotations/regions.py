"""The annotation model every reader returns and every writer takes: labelled regions of one
image, and their rasterisation to a class-index mask.

Coordinates are continuous image coordinates in pixels: pixel (col, row) covers
[col, col+1) x [row, row+1). A box covers every pixel it overlaps; a polygon or an ellipse
covers the pixels OpenCV fills for it; a pixel region is a bitmap placed at an offset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.errors import ConvScopeError

PIXEL, POLYGON, ELLIPSE, BOX = "pixel", "polygon", "ellipse", "box"
KINDS = (PIXEL, POLYGON, ELLIPSE, BOX)  # finest first: how tightly each follows a defect's outline

# Where regions came from (`mask_source`); pixel masks name their layout (engine.review.masks: mask, dagm, mvtec).
LABELME, VOC, YOLO, COCO, CVAT, DRAWN = "labelme", "voc", "yolo", "coco", "cvat", "drawn"


class AnnotationError(ConvScopeError):
    """An annotation file is malformed: the message names the file and what is wrong."""


Point = tuple[float, float]
EDGE = 1e-6  # px: a box edge this close to a pixel boundary lies on it


@dataclass(frozen=True, eq=False)
class Region:
    """One labelled region: a box (x0, y0, x1, y1), an ellipse (cx, cy, rx, ry), a polygon
    (its vertices) or a pixel bitmap (`bitmap`, boolean, its top-left corner at `points[0]`)."""

    label: str
    kind: str
    points: tuple[Point, ...]
    bitmap: np.ndarray | None = field(default=None, repr=False)

    @staticmethod
    def box(label: str, x0: float, y0: float, x1: float, y1: float) -> Region:
        """A box from its corners (in either order)."""
        return Region(label, BOX, ((min(x0, x1), min(y0, y1)), (max(x0, x1), max(y0, y1))))

    @staticmethod
    def ellipse(label: str, cx: float, cy: float, rx: float, ry: float) -> Region:
        """An axis-aligned ellipse from its centre and radii."""
        return Region(label, ELLIPSE, ((cx, cy), (abs(rx), abs(ry))))

    @staticmethod
    def polygon(label: str, points: Sequence[Point]) -> Region:
        """A polygon from its vertices (at least three)."""
        return Region(label, POLYGON, tuple((float(x), float(y)) for x, y in points))

    @staticmethod
    def pixels(label: str, bitmap: np.ndarray, x: int = 0, y: int = 0) -> Region:
        """A bitmap region (non-zero = inside) with its top-left corner at (x, y)."""
        return Region(label, PIXEL, ((float(x), float(y)),), np.asarray(bitmap).astype(bool))

    def scaled(self, sx: float, sy: float) -> Region:
        """The region with x multiplied by sx and y by sy (a bitmap is resized, nearest)."""
        import cv2
        if sx == 1 and sy == 1:
            return self
        points = tuple((x * sx, y * sy) for x, y in self.points)
        if self.bitmap is None:
            return Region(self.label, self.kind, points)
        h, w = self.bitmap.shape
        size = (max(1, round(w * sx)), max(1, round(h * sy)))
        bitmap = cv2.resize(self.bitmap.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        return Region(self.label, self.kind, points, bitmap.astype(bool))

    def draw(self, canvas: np.ndarray, value: int) -> None:
        """Write `value` into the pixels of `canvas` (2-D) the region covers."""
        import cv2
        height, width = canvas.shape
        if self.kind == BOX:
            (x0, y0), (x1, y1) = self.points
            # EDGE: normalised coordinates (YOLO) come back as 12.000000001; that is not a 13th column
            cols = slice(max(0, int(np.floor(x0 + EDGE))), min(width, int(np.ceil(x1 - EDGE))))
            rows = slice(max(0, int(np.floor(y0 + EDGE))), min(height, int(np.ceil(y1 - EDGE))))
            canvas[rows, cols] = value
        elif self.kind == ELLIPSE:
            (cx, cy), (rx, ry) = self.points
            outline = cv2.ellipse2Poly((round(cx), round(cy)), (round(rx), round(ry)), 0, 0, 360, 5)
            _fill(canvas, np.asarray(outline, np.int32), value)
        elif self.kind == POLYGON:
            _fill(canvas, np.round(np.asarray(self.points)).astype(np.int32), value)
        elif self.bitmap is not None:
            _paste(canvas, self.bitmap, round(self.points[0][0]), round(self.points[0][1]), value)


def _fill(canvas: np.ndarray, points: np.ndarray, value: int) -> None:
    import cv2
    layer = np.zeros(canvas.shape, np.uint8)
    cv2.fillPoly(layer, [points.reshape(-1, 1, 2)], 1)
    canvas[layer > 0] = value


def _paste(canvas: np.ndarray, bitmap: np.ndarray, x: int, y: int, value: int) -> None:
    height, width = canvas.shape
    top, left = max(0, y), max(0, x)
    bottom, right = min(height, y + bitmap.shape[0]), min(width, x + bitmap.shape[1])
    if bottom <= top or right <= left:
        return
    window = canvas[top:bottom, left:right]
    window[bitmap[top - y:bottom - y, left - x:right - x]] = value


@dataclass(frozen=True)
class Annotation:
    """The regions of one image as a file gave them, with the size they were drawn on
    (None: the image's own size, as YOLO's normalised coordinates are scaled to it)."""

    source: str  # labelme, voc, yolo, coco, cvat, drawn
    regions: tuple[Region, ...]
    size: tuple[int, int] | None = None  # (height, width) the coordinates refer to

    def fitted(self, height: int, width: int) -> tuple[Region, ...]:
        """The regions in the coordinates of an image of (height, width)."""
        if self.size is None or self.size == (height, width) or 0 in self.size:
            return self.regions
        sy, sx = height / self.size[0], width / self.size[1]
        return tuple(region.scaled(sx, sy) for region in self.regions)


def coarsest(kinds: Sequence[str]) -> str:
    """The least precise kind among `kinds` (box over ellipse over polygon over pixel), "" for none."""
    present = [KINDS.index(k) for k in kinds if k in KINDS]
    return KINDS[max(present)] if present else ""


def rasterise(regions: Sequence[Region], height: int, width: int,
              index_of: Callable[[str], int | None]) -> tuple[np.ndarray, dict[int, str]]:
    """A class-index mask of (height, width) and the kind of each class's regions.

    `index_of(label)` gives a label's class index (>= 1 for a defect class); regions whose
    label has none are left out (the caller reports them). Coarse regions are drawn first,
    so a fine region of another class on top of a box keeps its own pixels.
    """
    dtype = np.uint8 if all((index_of(r.label) or 0) < 256 for r in regions) else np.uint16
    mask = np.zeros((height, width), dtype)
    kinds: dict[int, list[str]] = {}
    for region in sorted(regions, key=lambda r: -KINDS.index(r.kind)):
        index = index_of(region.label)
        if index is None or index < 1:
            continue
        region.draw(mask, index)
        kinds.setdefault(index, []).append(region.kind)
    return mask, {index: coarsest(found) for index, found in kinds.items()}
