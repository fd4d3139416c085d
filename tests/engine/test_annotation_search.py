"""Where an image's ground truth is found (engine.annotations.source, single): pixel masks
first, then a lot file (COCO or CVAT), then a folder laid out like the images, then the files
beside the image (LabelMe over VOC over YOLO); what each class's regions trace; the note for
labels that met no class."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.annotations import (
    SKIPPED_NOTE,
    UNKNOWN_NOTE,
    AnnotationError,
    Annotator,
    FoundMask,
    Region,
    read_index,
    write_labelme,
)
from engine.annotations.single import image_ground_truth

CLASSES = ("ok", "scratch", "spot")
H, W = 20, 30


def _image(folder: Path, name: str = "a.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / name), np.zeros((H, W, 3), np.uint8))
    return folder / name


def _voc(path: Path, label: str, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    path.write_text(f"<annotation><object><name>{label}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
                    f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object></annotation>", encoding="utf-8")


def test_notes_are_the_documented_ones() -> None:
    assert UNKNOWN_NOTE == "labels not classes of the model, left out: "
    assert SKIPPED_NOTE == "annotation skipped: "


def test_found_mask_kind_per_class_else_the_coarsest_else_the_default() -> None:
    found = FoundMask(np.zeros((2, 2), np.uint8), "voc", {1: "polygon", 2: "box"})
    assert found.kind_for(1) == "polygon" and found.kind_for(2) == "box"
    assert found.kind_for(3) == "box" and found.kind_for(None) == "box"
    binary = FoundMask(np.zeros((2, 2), np.uint8), "dagm", default_kind="ellipse")
    assert binary.kind_for(1) == "ellipse" and binary.kind_for(None) == "ellipse"
    assert FoundMask(np.zeros((1, 1)), "mask").default_kind == "pixel"
    assert binary.note() == "" and binary.unknown == ()
    assert FoundMask(np.zeros((1, 1)), "voc", unknown=("dent", "axe")).note() == \
        "labels not classes of the model, left out: dent, axe"


def test_beside_the_image_labelme_wins_over_voc_over_yolo(tmp_path: Path) -> None:
    image = _image(tmp_path / "lot")
    (tmp_path / "lot" / "a.txt").write_text("2 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (tmp_path / "lot" / "classes.txt").write_text("ok\nscratch\nspot\n", encoding="utf-8")
    annotator = Annotator(tmp_path / "lot", CLASSES)
    yolo = annotator.find(image, H, W)
    assert yolo.source == "yolo" and yolo.mask.max() == 2 and yolo.kinds == {2: "box"}
    _voc(tmp_path / "lot" / "a.xml", "scratch", (1, 1, 5, 5))
    annotator.fresh()
    voc = annotator.find(image, H, W)
    assert voc.source == "voc" and voc.mask[:5, :5].all() and voc.mask.max() == 1
    write_labelme(tmp_path / "lot" / "a.json", [Region.polygon("spot", [(0, 0), (9, 0), (9, 9)])], "a.png", H, W)
    annotator.fresh()
    labelme = annotator.find(image, H, W)
    assert labelme.source == "labelme" and labelme.kinds == {2: "polygon"} and labelme.default_kind == "polygon"


def test_without_a_fresh_listing_a_new_file_is_not_seen(tmp_path: Path) -> None:
    image = _image(tmp_path)
    annotator = Annotator(tmp_path, CLASSES)
    assert annotator.find(image, H, W) is None
    _voc(tmp_path / "a.xml", "spot", (1, 1, 2, 2))
    assert annotator.find(image, H, W) is None
    annotator.fresh()
    assert annotator.find(image, H, W).source == "voc"


def test_a_folder_named_like_an_annotation_is_not_one(tmp_path: Path) -> None:
    image = _image(tmp_path)
    (tmp_path / "a.json").mkdir()
    assert Annotator(tmp_path, CLASSES).find(image, H, W) is None
    assert not Annotator(tmp_path, CLASSES).exists(tmp_path / "missing" / "a.json")


def test_a_pixel_mask_wins_and_traces_its_layout(tmp_path: Path) -> None:
    image = _image(tmp_path)
    _voc(tmp_path / "a.xml", "spot", (1, 1, 2, 2))
    cv2.imwrite(str(tmp_path / "a_mask.png"), np.full((H // 2, W // 2), 255, np.uint8))
    found = Annotator(tmp_path, CLASSES).find(image, H, W)
    assert found.source == "mask" and found.mask.shape == (H, W) and found.default_kind == "pixel"
    assert found.kinds == {} and found.unknown == ()


def test_a_lot_file_wins_over_files_beside_the_image(tmp_path: Path) -> None:
    image = _image(tmp_path / "lot" / "sub")
    _voc(tmp_path / "lot" / "sub" / "a.xml", "spot", (1, 1, 2, 2))
    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({"images": [{"id": 1, "file_name": "sub/a.png", "height": H, "width": W}],
                                "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 3, 3]}],
                                "categories": [{"id": 5, "name": "Scratch"}]}), encoding="utf-8")
    found = Annotator(tmp_path / "lot", CLASSES, annotations=coco).find(image, H, W)
    assert found.source == "coco" and found.mask[:3, :3].all() and found.mask.max() == 1
    other = _image(tmp_path / "lot" / "sub", "b.png")
    _voc(tmp_path / "lot" / "sub" / "b.xml", "spot", (1, 1, 2, 2))
    assert Annotator(tmp_path / "lot", CLASSES, annotations=coco).find(other, H, W).source == "voc"


def test_a_cvat_file_matches_by_relative_path_or_by_name(tmp_path: Path) -> None:
    image = _image(tmp_path / "lot" / "sub")
    cvat = tmp_path / "c.xml"
    cvat.write_text(f"<annotations><image name='a.png' width='{W}' height='{H}'>"
                    "<box label='spot' xtl='0' ytl='0' xbr='2' ybr='2'/></image></annotations>", encoding="utf-8")
    found = Annotator(tmp_path / "lot", CLASSES, annotations=cvat).find(image, H, W)
    assert found.source == "cvat" and found.mask[0, 0] == 2
    cvat.write_text(f"<annotations><image name='sub/a.png' width='{W}' height='{H}'>"
                    "<box label='scratch' xtl='0' ytl='0' xbr='2' ybr='2'/></image></annotations>", encoding="utf-8")
    found = Annotator(tmp_path / "lot", CLASSES, annotations=cvat).find(image, H, W)
    assert found.mask[0, 0] == 1


def test_an_annotations_folder_mirrors_the_lot_and_reads_its_yolo_names(tmp_path: Path) -> None:
    image = _image(tmp_path / "lot" / "sub")
    labels = tmp_path / "labels"
    (labels / "sub").mkdir(parents=True)
    (labels / "classes.txt").write_text("ok\nscratch\nspot\n", encoding="utf-8")
    (labels / "sub" / "a.txt").write_text("1 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    annotator = Annotator(tmp_path / "lot", CLASSES, annotations=labels)
    assert annotator.folder == labels and annotator.index is None
    found = annotator.find(image, H, W)
    assert found.source == "yolo" and found.mask.max() == 1
    found = annotator.find(tmp_path / "elsewhere" / "a.png", H, W, relative="sub/a.png")
    assert found is not None and found.source == "yolo"


def test_an_image_outside_the_root_is_looked_up_by_its_name(tmp_path: Path) -> None:
    image = _image(tmp_path / "else")
    labels = tmp_path / "labels"
    labels.mkdir()
    _voc(labels / "a.xml", "spot", (1, 1, 2, 2))
    found = Annotator(tmp_path / "lot", CLASSES, annotations=labels).find(image, H, W)
    assert found.source == "voc"


def test_a_root_given_through_a_link_still_finds_the_relative_path(tmp_path: Path) -> None:
    image = _image(tmp_path / "real" / "sub")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    labels = tmp_path / "labels"
    (labels / "sub").mkdir(parents=True)
    _voc(labels / "sub" / "a.xml", "spot", (1, 1, 2, 2))
    assert Annotator(tmp_path / "link", CLASSES, annotations=labels).find(image, H, W).source == "voc"


def test_regions_are_fitted_and_unknown_labels_named(tmp_path: Path) -> None:
    image = _image(tmp_path)
    write_labelme(tmp_path / "a.json", [Region.box("scratch", 0, 0, 15, 10), Region.box("dent", 0, 0, 1, 1),
                                        Region.box("axe", 0, 0, 1, 1)], "a.png", H // 2, W // 2)
    found = Annotator(tmp_path, CLASSES).find(image, H, W)
    assert found.mask[:20, :30].all()  # drawn on a half-size image: scaled to the full one
    assert found.unknown == ("axe", "dent") and found.note().endswith("axe, dent")


@pytest.mark.parametrize(("name", "message"), [
    ("c.csv", "not a COCO .json or CVAT .xml file (or a folder)"),
    ("none.json", "no such annotation file or folder"),
])
def test_a_wrong_lot_file_is_refused_before_any_image(tmp_path: Path, name: str, message: str) -> None:
    if name == "c.csv":
        (tmp_path / name).write_text("x", encoding="utf-8")
    with pytest.raises(AnnotationError) as refused:
        read_index(tmp_path / name)
    assert str(refused.value) == f"{tmp_path / name}: {message}"
    with pytest.raises(AnnotationError):
        Annotator(tmp_path, CLASSES, annotations=tmp_path / name)


def test_lot_file_suffixes_are_case_insensitive(tmp_path: Path) -> None:
    (tmp_path / "c.JSON").write_text(json.dumps({"images": [], "annotations": []}), encoding="utf-8")
    (tmp_path / "c.XML").write_text("<annotations/>", encoding="utf-8")
    assert read_index(tmp_path / "c.XML") == {}
    assert read_index(tmp_path / "c.JSON").images == {}


def test_single_image_ground_truth_sees_a_file_saved_a_moment_ago(tmp_path: Path) -> None:
    image = _image(tmp_path / "lot")
    assert image_ground_truth(image, H, W, CLASSES) is None
    _voc(tmp_path / "lot" / "a.xml", "spot", (1, 1, 4, 4))
    found = image_ground_truth(str(image), H, W, CLASSES)
    assert found is not None and found.mask[0:4, 0:4].all() and found.mask.max() == 2
    assert image_ground_truth(image, H, W, CLASSES, root=tmp_path).source == "voc"


def test_single_image_mvtec_mask_is_found_only_inside_the_root(tmp_path: Path) -> None:
    image = _image(tmp_path / "bottle" / "test" / "broken")
    (tmp_path / "bottle" / "ground_truth" / "broken").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "bottle" / "ground_truth" / "broken" / "a_mask.png"), np.full((H, W), 255, np.uint8))
    assert image_ground_truth(image, H, W, CLASSES).source == "mvtec"
    assert image_ground_truth(image, H, W, CLASSES, root=tmp_path / "bottle").source == "mvtec"
    assert image_ground_truth(image, H, W, CLASSES, root=tmp_path / "bottle" / "test" / "broken") is None
