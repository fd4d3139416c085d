"""The demo lot as a labelling tool would leave it: boxes instead of pixel masks.

Copies a demo lot's images (not their `_mask` files) and writes, from each pixel mask, one
box per connected defect region (the region's bounding box, labelled with its class name):

- `<stem>.json` beside each image: LabelMe rectangles (engine.annotations.write_labelme);
- `coco.json` at the top: the same boxes as COCO `bbox` entries, `file_name` relative to the lot.

Run from the repository root (rewrites the folder; fixed, so the output is reproducible):

    .venv/bin/python -m resources.demo.annotate_lot resources/demo/shortcut_lot resources/demo/boxed_lot
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import cv2
import numpy as np

from engine.annotations import Region, write_labelme
from resources.demo.synthetic import CLASS_NAMES

HERE = Path(__file__).resolve().parent


def boxes_of(mask: np.ndarray) -> list[Region]:
    """One box per connected region of each class value of a class-index mask."""
    regions = []
    for value in sorted(int(v) for v in np.unique(mask) if v):
        count, _, stats, _ = cv2.connectedComponentsWithStats((mask == value).astype(np.uint8))
        for left, top, width, height, _area in stats[1:count]:
            regions.append(Region.box(CLASS_NAMES[value], float(left), float(top), float(left + width),
                                      float(top + height)))
    return regions


def _coco_entry(regions: list[Region], image_id: int, first_id: int) -> list[dict]:
    names = list(CLASS_NAMES)
    return [{"id": first_id + k, "image_id": image_id, "category_id": names.index(r.label),
             "bbox": [r.points[0][0], r.points[0][1], r.points[1][0] - r.points[0][0], r.points[1][1] - r.points[0][1]],
             "area": (r.points[1][0] - r.points[0][0]) * (r.points[1][1] - r.points[0][1]), "iscrowd": 0,
             "segmentation": []} for k, r in enumerate(regions)]


def annotate(source: Path, target: Path) -> dict[str, int]:
    """Write the boxed copy of `source` into `target` (emptied first); returns counts."""
    if target.exists():
        shutil.rmtree(target)
    images, annotations = [], []
    for image in sorted(p for p in source.rglob("*.png") if not p.stem.endswith("_mask")):
        relative = image.relative_to(source)
        (target / relative.parent).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target / relative)
        height, width = cv2.imread(str(image), cv2.IMREAD_UNCHANGED).shape[:2]
        images.append({"id": len(images) + 1, "file_name": relative.as_posix(), "height": height, "width": width})
        mask_path = image.with_name(f"{image.stem}_mask.png")
        if not mask_path.is_file():
            continue
        regions = boxes_of(cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED))
        write_labelme(target / relative.with_suffix(".json"), regions, image.name, height, width)
        annotations += _coco_entry(regions, len(images), len(annotations) + 1)
    categories = [{"id": i, "name": name} for i, name in enumerate(CLASS_NAMES) if i]
    coco = {"images": images, "annotations": annotations, "categories": categories}
    (target / "coco.json").write_text(json.dumps(coco, indent=1), encoding="utf-8")
    return {"images": len(images), "boxes": len(annotations)}


def main() -> None:
    """Command line: SOURCE TARGET."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", default=HERE / "shortcut_lot", type=Path)
    parser.add_argument("target", nargs="?", default=HERE / "boxed_lot", type=Path)
    args = parser.parse_args()
    print(annotate(args.source, args.target))


if __name__ == "__main__":
    main()
