"""COCO JSON (one file for a lot, `batch --annotations FILE.json`): `images` (id, file_name
relative to the images folder, height, width), `categories` (id, name) and `annotations`
(image_id, category_id, `bbox` [x, y, w, h], `segmentation`: polygons [[x1, y1, ...], ...],
or RLE {size, counts}, counts a list or pycocotools' compressed string, column-major).
RLE is decoded by pycocotools, when an image is reached (a lot's file is read once)."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pycocotools import mask as coco_mask

from engine.annotations.regions import COCO, Annotation, AnnotationError, Region


@dataclass(frozen=True)
class CocoIndex:
    """A COCO file's annotations by image file name."""

    path: str
    images: dict[str, tuple[int, int, tuple[dict, ...]]]  # file name -> (height, width, annotations)
    categories: dict[int, str]
    basenames: dict[str, str]  # base name -> file name, for names that occur once

    def annotation(self, relative: str) -> Annotation | None:
        """The regions of the image at `relative` (posix, relative to the images folder), None
        when the file does not list it; AnnotationError for a malformed annotation of it."""
        key = relative if relative in self.images else self.basenames.get(relative.rsplit("/", 1)[-1])
        if key is None:
            return None
        height, width, items = self.images[key]
        try:
            regions = [region for item in items for region in self._regions(item, height, width)]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise AnnotationError(f"{self.path}: an annotation of {key!r} is malformed ({exc})") from None
        return Annotation(COCO, tuple(regions), (height, width))

    def _regions(self, item: dict, height: int, width: int) -> list[Region]:
        label = self.categories[int(item["category_id"])]
        segmentation = item.get("segmentation")
        if isinstance(segmentation, list) and segmentation:
            return [Region.polygon(label, list(zip(p[::2], p[1::2], strict=True))) for p in segmentation]
        if isinstance(segmentation, dict):
            rle = segmentation
            if isinstance(rle.get("counts"), list):  # uncompressed: pycocotools compresses it first
                rle = coco_mask.frPyObjects(rle, *[int(v) for v in rle["size"]])
            return [Region.pixels(label, coco_mask.decode(rle))]
        x, y, w, h = (float(v) for v in item["bbox"])
        return [Region.box(label, x, y, x + w, y + h)]


def read_coco(path: str | os.PathLike) -> CocoIndex:
    """The index of a COCO file; AnnotationError (one line naming the file) when malformed."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnnotationError(f"{name}: not readable JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), list) for k in ("images", "annotations")):
        raise AnnotationError(f"{name}: not a COCO file (no 'images' and 'annotations' lists)")
    try:
        return _index(name, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnnotationError(f"{name}: malformed COCO entry ({type(exc).__name__}: {exc})") from None


def _index(name: str, data: dict[str, Any]) -> CocoIndex:
    categories = {int(c["id"]): str(c["name"]) for c in data.get("categories") or []}
    by_id: dict[int, dict] = {int(image["id"]): image for image in data["images"]}
    items: dict[int, list[dict]] = {}
    for item in data["annotations"]:
        image_id, category = int(item["image_id"]), int(item["category_id"])
        if image_id not in by_id:
            raise ValueError(f"annotation {item.get('id')} refers to image {image_id}, not in 'images'")
        if category not in categories:
            raise ValueError(f"annotation {item.get('id')} has category {category}, not in 'categories'")
        items.setdefault(image_id, []).append(item)
    images = {str(image["file_name"]).replace("\\", "/"): (int(image["height"]), int(image["width"]),
                                                           tuple(items.get(image_id, ())))
              for image_id, image in by_id.items()}
    counts = Counter(file_name.rsplit("/", 1)[-1] for file_name in images)
    basenames = {f.rsplit("/", 1)[-1]: f for f in images if counts[f.rsplit("/", 1)[-1]] == 1}
    return CocoIndex(name, images, categories, basenames)
