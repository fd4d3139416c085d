"""Annotations in a real review: the demo lot's pixel masks rewritten as LabelMe boxes, VOC,
YOLO and COCO (boxes, RLE, polygons) give the same verdicts, RLE the very same pixel AUROC,
and the right-reason demo model and its shortcut twin are told apart from boxes alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

from engine.annotations import write_labelme
from resources.demo.annotate_lot import boxes_of
from resources.demo.synthetic import CLASS_NAMES

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"


@pytest.fixture(scope="module")
def session():
    from engine import Session

    return Session.open(DEMO / "defects.keras")


def _copy(source: Path, target: Path) -> list[tuple[Path, np.ndarray]]:
    """The lot's images copied without masks; (relative image path, mask) for each defect image."""
    found = []
    for image in sorted(p for p in source.rglob("*.png") if not p.stem.endswith("_mask")):
        relative = image.relative_to(source)
        (target / relative.parent).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target / relative)
        mask = image.with_name(f"{image.stem}_mask.png")
        if mask.is_file():
            found.append((relative, cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)))
    return found


def _write_voc(path: Path, mask: np.ndarray) -> None:
    objects = "".join(f"<object><name>{r.label}</name><bndbox><xmin>{int(r.points[0][0]) + 1}</xmin>"
                      f"<ymin>{int(r.points[0][1]) + 1}</ymin><xmax>{int(r.points[1][0])}</xmax>"
                      f"<ymax>{int(r.points[1][1])}</ymax></bndbox></object>" for r in boxes_of(mask))
    h, w = mask.shape
    path.write_text(f"<annotation><size><width>{w}</width><height>{h}</height></size>{objects}</annotation>")


def _write_yolo(path: Path, mask: np.ndarray) -> None:
    h, w = mask.shape
    lines = [f"{CLASS_NAMES.index(r.label)} {(r.points[0][0] + r.points[1][0]) / 2 / w} "
             f"{(r.points[0][1] + r.points[1][1]) / 2 / h} {(r.points[1][0] - r.points[0][0]) / w} "
             f"{(r.points[1][1] - r.points[0][1]) / h}" for r in boxes_of(mask)]
    path.write_text("\n".join(lines) + "\n")


def _coco_segmentations(mask: np.ndarray, form: str) -> list[tuple[int, object]]:
    out: list[tuple[int, object]] = []
    for value in (int(v) for v in np.unique(mask) if v):
        region = (mask == value).astype(np.uint8)
        if form == "rle":
            rle = coco_mask.encode(np.asfortranarray(region))
            out.append((value, {"size": rle["size"], "counts": rle["counts"].decode("ascii")}))
        else:
            contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            out.append((value, [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]))
    return out


def _write_coco(path: Path, masks: list[tuple[Path, np.ndarray]], form: str) -> None:
    images, annotations = [], []
    for k, (relative, mask) in enumerate(masks, 1):
        images.append({"id": k, "file_name": relative.as_posix(), "height": mask.shape[0], "width": mask.shape[1]})
        for value, segmentation in _coco_segmentations(mask, form):
            annotations.append({"id": len(annotations) + 1, "image_id": k, "category_id": value, "bbox": [0, 0, 1, 1],
                                "segmentation": segmentation, "iscrowd": int(form == "rle")})
    categories = [{"id": i, "name": n} for i, n in enumerate(CLASS_NAMES) if i]
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))


def _review(session, lot: Path, annotations: Path | None = None):
    from engine.review import ReviewOptions, review_folder

    return review_folder(session, lot, ReviewOptions(trust=True, annotations=str(annotations) if annotations else None))


def _lot_in(tmp_path: Path, form: str) -> tuple[Path, Path | None]:
    lot = tmp_path / form
    masks = _copy(DEMO / "images", lot)
    for relative, mask in masks:
        h, w = mask.shape
        stem = lot / relative.with_suffix("")
        if form == "labelme":
            write_labelme(stem.with_suffix(".json"), boxes_of(mask), relative.name, h, w)
        elif form == "voc":
            _write_voc(stem.with_suffix(".xml"), mask)
        elif form == "yolo":
            _write_yolo(stem.with_suffix(".txt"), mask)
    (lot / "classes.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    if form.startswith("coco"):
        _write_coco(tmp_path / f"{form}.json", masks, form.removeprefix("coco-"))
        return lot, tmp_path / f"{form}.json"
    return lot, None


def _verdicts(trust) -> dict[str, str]:
    return {name: group["verdict"] for name, group in [("all", trust["overall"]), *trust["per_label"].items()]}


# Guards: a format's coordinates misread in a review (a shifted box changes figures), a source
# that does not reach the rows, RLE decoded differently from the pixel mask it encodes.
def test_every_format_gives_the_pixel_masks_verdicts(session, tmp_path):
    pixel = _review(session, DEMO / "images")
    results = {form: _review(session, *_lot_in(tmp_path, form))
               for form in ("labelme", "voc", "yolo", "coco-rle", "coco-polygon")}
    for form, result in results.items():
        assert _verdicts(result.trust) == _verdicts(pixel.trust), form
        scored = [r for r in result.rows if r.mask]
        assert len(scored) == sum(1 for r in pixel.rows if r.mask) and scored, form
        source = "coco" if form.startswith("coco") else form
        assert {r.mask_source for r in scored} == {source}, form
    kinds = {form: {r.mask_kind for r in results[form].rows if r.mask} for form in results}
    assert kinds == {"labelme": {"box"}, "voc": {"box"}, "yolo": {"box"}, "coco-rle": {"pixel"},
                     "coco-polygon": {"polygon"}}
    boxes = [[r.pixel_auroc for r in results[form].rows] for form in ("labelme", "voc", "yolo")]
    assert boxes[0] == boxes[1] == boxes[2]  # the same boxes, read from three formats
    by_path = {r.path: r for r in pixel.rows}
    for row in results["coco-rle"].rows:
        assert row.pixel_auroc == by_path[row.path].pixel_auroc and row.mask == by_path[row.path].mask
    assert "(pixel masks)" in pixel.trust["overall"]["verdict_reason"]
    assert "(box regions)" in results["labelme"].trust["overall"]["verdict_reason"]


# Guards: the box lot's verdict carried by the pixel masks (it has none) or by one model's bias.
@pytest.mark.parametrize("annotations", [None, "coco.json"], ids=["labelme", "coco"])
def test_demo_models_told_apart_from_boxes_alone(annotations):
    from engine import Session

    lot = DEMO / "boxed_lot"
    assert not list(lot.rglob("*_mask.png"))
    path = lot / annotations if annotations else None
    right = _review(Session.open(DEMO / "defects.keras"), lot, path)
    twin = _review(Session.open(DEMO / "shortcut.keras"), lot, path)
    assert right.verdict == "right-reason", right.trust["overall"]["verdict_reason"]
    assert twin.verdict == "shortcut-suspected", twin.trust["overall"]["verdict_reason"]
    assert {r.mask_source for r in right.rows if r.mask} == {"coco" if annotations else "labelme"}
