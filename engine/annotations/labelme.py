"""LabelMe JSON (`<stem>.json` beside the image): reading its rectangle, polygon, circle and
mask shapes, and writing regions drawn in ConvScope in a form LabelMe opens.

LabelMe's format (wkentaro/labelme, LabelFile): top-level `shapes`, `imagePath`,
`imageHeight`, `imageWidth`, `imageData`; a shape has `label`, `points`, `shape_type`
and, for a mask, `mask`: a base64 PNG of the region's bounding box, placed at points[0].
Lines and points have no area and are not regions; unknown keys are kept by LabelMe, so
ConvScope marks the files it writes with a top-level `convscope` key.
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from engine.annotations.regions import (
    BOX,
    DRAWN,
    ELLIPSE,
    LABELME,
    PIXEL,
    POLYGON,
    Annotation,
    AnnotationError,
    Region,
)

AREA_FREE = {"point", "points", "line", "linestrip"}  # shapes with no area: not defect regions
WRITER_KEY = "convscope"
LABELME_VERSION = "5.5.0"


def read_labelme(path: str | os.PathLike) -> Annotation:
    """The regions of a LabelMe file; raises AnnotationError naming the file for a malformed one."""
    import cv2
    data = _load_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise AnnotationError(f"{os.fspath(path)}: not a LabelMe file (no 'shapes' list)")
    regions = []
    for number, shape in enumerate(data["shapes"], 1):
        try:
            region = _region(shape)
        except (KeyError, TypeError, ValueError, IndexError, cv2.error) as exc:
            raise AnnotationError(f"{os.fspath(path)}: shape {number} is malformed ({_why(exc)})") from None
        if region is not None:
            regions.append(region)
    ours = data.get(WRITER_KEY)
    drawn = isinstance(ours, dict) and ours.get("drawn") is True
    return Annotation(DRAWN if drawn else LABELME, tuple(regions), _size(data))


def _load_json(path: str | os.PathLike) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnnotationError(f"{os.fspath(path)}: not readable JSON ({_why(exc)})") from None


def _why(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _size(data: dict) -> tuple[int, int] | None:
    height, width = data.get("imageHeight"), data.get("imageWidth")
    if isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0:
        return height, width
    return None


def _region(shape: dict) -> Region | None:
    kind = shape.get("shape_type") or "polygon"
    label = str(shape["label"])
    points = [(float(x), float(y)) for x, y in shape["points"]]
    if kind in AREA_FREE:
        return None
    if kind == "rectangle":
        (x0, y0), (x1, y1) = _bounds(points)
        return Region.box(label, x0, y0, x1, y1)
    if kind == "circle":
        (cx, cy), (px, py) = points[:2]
        radius = math.hypot(px - cx, py - cy)
        return Region.ellipse(label, cx, cy, radius, radius)
    if kind == "polygon":
        if len(points) < 3:
            raise ValueError(f"a polygon needs 3 points, has {len(points)}")
        return Region.polygon(label, points)
    if kind == "mask":
        bitmap = _decode_png(shape["mask"])
        return Region.pixels(label, bitmap, math.floor(points[0][0]), math.floor(points[0][1]))
    raise ValueError(f"unknown shape_type {kind!r}")


def _bounds(points: list[tuple[float, float]]) -> tuple[tuple[float, float], tuple[float, float]]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys)), (max(xs), max(ys))


def _decode_png(text: str) -> np.ndarray:
    import cv2
    data = np.frombuffer(base64.b64decode(text, validate=True), np.uint8)
    bitmap = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if bitmap is None:
        raise ValueError("its mask is not a PNG")
    return (bitmap.max(axis=2) if bitmap.ndim == 3 else bitmap) > 0


def _shape(region: Region) -> dict[str, Any]:
    import cv2
    base: dict[str, Any] = {"label": region.label, "group_id": None, "description": "", "flags": {}}
    if region.kind == BOX:
        return {**base, "shape_type": "rectangle", "points": [list(p) for p in region.points]}
    if region.kind == ELLIPSE and math.isclose(*region.points[1], rel_tol=1e-6):
        (cx, cy), (rx, _) = region.points
        return {**base, "shape_type": "circle", "points": [[cx, cy], [cx + rx, cy]]}
    if region.kind == ELLIPSE:  # LabelMe has circles only: an ellipse is saved as its outline
        (cx, cy), (rx, ry) = region.points
        outline = cv2.ellipse2Poly((round(cx), round(cy)), (round(rx), round(ry)), 0, 0, 360, 10)
        return {**base, "shape_type": "polygon", "points": np.asarray(outline[:-1], float).tolist()}
    if region.kind == POLYGON:
        return {**base, "shape_type": "polygon", "points": [list(p) for p in region.points]}
    if region.kind == PIXEL and region.bitmap is not None:
        x, y = region.points[0]
        h, w = region.bitmap.shape
        encoded = cv2.imencode(".png", region.bitmap.astype(np.uint8) * 255)[1].tobytes()
        return {**base, "shape_type": "mask", "points": [[x, y], [x + w - 1, y + h - 1]],
                "mask": base64.b64encode(encoded).decode("ascii")}
    raise ValueError(f"cannot save a {region.kind} region")


def is_ours(path: str | os.PathLike) -> bool:
    """True when the LabelMe file at `path` was written by ConvScope (or does not exist)."""
    if not Path(path).exists():
        return True
    try:
        data = _load_json(path)
    except AnnotationError:
        return False
    return isinstance(data, dict) and WRITER_KEY in data


def write_labelme(path: str | os.PathLike, regions: list[Region] | tuple[Region, ...], image_name: str,
                  height: int, width: int, overwrite_theirs: bool = False, drawn: bool = False) -> Path:
    """Save regions as a LabelMe file LabelMe opens (no image data embedded); `drawn`: regions
    drawn by hand in ConvScope (read back with source "drawn", not "labelme").

    A file that ConvScope did not write is overwritten only with `overwrite_theirs`
    (the window asks first); otherwise AnnotationError. The file is replaced atomically.
    """
    target = Path(path)
    if not overwrite_theirs and not is_ours(target):
        raise AnnotationError(f"{target}: a LabelMe file ConvScope did not write; not overwritten")
    data = {"version": LABELME_VERSION, "flags": {}, "shapes": [_shape(r) for r in regions],
            "imagePath": image_name, "imageData": None, "imageHeight": int(height), "imageWidth": int(width),
            WRITER_KEY: {"written_by": "ConvScope", "drawn": drawn}}
    staging = target.with_name(target.name + ".part")
    staging.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(staging, target)
    return target
