"""Reading annotations: files written by other libraries (globox for LabelMe, VOC, YOLO, COCO
and CVAT boxes; pycocotools for RLE) give the regions they describe, pixel for pixel."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

from engine.annotations import (
    AnnotationError,
    Annotator,
    Region,
    parse_label_map,
    rasterise,
    read_coco,
    read_cvat,
    read_labelme,
    read_voc,
    write_labelme,
)

CLASSES = ("ok", "scratch", "spot", "crack")
H, W = 40, 60
BOX = (12, 5, 31, 17)  # x0, y0, x1, y1: the box covers columns 12..30 and rows 5..16


def _expected_box() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1 = BOX
    mask[y0:y1, x0:x1] = 1
    return mask


def _lot(tmp_path: Path, name: str = "a.png") -> Path:
    (tmp_path / "scratch").mkdir(exist_ok=True)
    image = tmp_path / "scratch" / name
    cv2.imwrite(str(image), np.full((H, W, 3), 128, np.uint8))
    return image


def _found(tmp_path: Path, image: Path, annotations: Path | None = None, mapping=None):
    return Annotator(tmp_path, CLASSES, mapping, annotations).find(image, H, W)


def _globox_set(image_id: str, label: str = "Scratch", ltrb=BOX):
    globox = pytest.importorskip("globox")
    box = globox.BoundingBox(label=label, xmin=ltrb[0], ymin=ltrb[1], xmax=ltrb[2], ymax=ltrb[3])
    return globox.AnnotationSet([globox.Annotation(image_id, image_size=(W, H), boxes=[box])])


# Guards: LabelMe rectangle corners read as (x, y, w, h); labels matched case-sensitively.
def test_labelme_box_written_by_globox(tmp_path):
    image = _lot(tmp_path)
    _globox_set("a.png").save_labelme(tmp_path / "scratch")
    found = _found(tmp_path, image)
    assert found.source == "labelme" and found.kind_for(1) == "box"
    assert np.array_equal(found.mask, _expected_box())


# Guards: VOC's 1-based inclusive corners read as 0-based (the box one pixel off).
def test_voc_box_is_one_based_inclusive(tmp_path):
    image = _lot(tmp_path)
    x0, y0, x1, y1 = BOX
    _globox_set("a.png", ltrb=(x0 + 1, y0 + 1, x1, y1)).save_xml(tmp_path / "scratch")  # as LabelImg writes
    found = _found(tmp_path, image)
    assert found.source == "voc" and np.array_equal(found.mask, _expected_box())


# Guards: YOLO centre read as a corner; class ids without classes.txt silently dropped.
def test_yolo_box_with_classes_txt_and_without(tmp_path):
    image = _lot(tmp_path)
    _globox_set("a.png", label="scratch").save_yolo_darknet(tmp_path / "scratch", label_to_id={"scratch": 0})
    found = _found(tmp_path, image)
    assert found.unknown == ("0",) and not found.mask.any()  # no class names: the id is reported
    (tmp_path / "classes.txt").write_text("scratch\n")
    found = _found(tmp_path, image)
    assert found.source == "yolo" and found.unknown == () and np.array_equal(found.mask, _expected_box())


# Guards: the segmentation form read as boxes; data.yaml's mapping form ignored.
def test_yolo_polygon_with_data_yaml(tmp_path):
    image = _lot(tmp_path)
    (tmp_path / "data.yaml").write_text("names:\n  0: dust\n  1: spot\n")
    (tmp_path / "scratch" / "a.txt").write_text("1 0.1 0.1 0.5 0.1 0.1 0.9\n")
    found = _found(tmp_path, image)
    expected = np.zeros((H, W), np.uint8)
    cv2.fillPoly(expected, [np.array([[6, 4], [30, 4], [6, 36]], np.int32)], 2)
    assert found.kind_for(2) == "polygon" and np.array_equal(found.mask, expected)


# Guards: COCO bbox read as corners; file_name matched only by full path.
def test_coco_boxes_written_by_globox(tmp_path):
    image = _lot(tmp_path)
    _globox_set("scratch/a.png").save_coco(tmp_path / "coco.json", label_to_id={"Scratch": 7},
                                          imageid_to_id={"scratch/a.png": 3})
    found = _found(tmp_path, image, tmp_path / "coco.json")
    assert found.source == "coco" and np.array_equal(found.mask, _expected_box())


def _coco_with(segmentation, tmp_path: Path, file_name="a.png") -> Path:
    data = {"images": [{"id": 1, "file_name": file_name, "height": H, "width": W}],
            "categories": [{"id": 5, "name": "crack"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 5, "bbox": [0, 0, 1, 1],
                             "segmentation": segmentation, "iscrowd": 1}]}
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(data))
    return path


# Guards: RLE decoded row-major (transposed); uncompressed counts not handled; basename fallback.
def test_coco_rle_from_pycocotools_is_column_major(tmp_path):
    image = _lot(tmp_path)
    truth = np.zeros((H, W), np.uint8)
    truth[3:9, 2:50] = 1  # wide and short: a transposed decode cannot match
    truth[20, 40] = 1
    rle = coco_mask.encode(np.asfortranarray(truth))
    rle["counts"] = rle["counts"].decode("ascii")
    found = _found(tmp_path, image, _coco_with(rle, tmp_path))
    assert found.source == "coco" and found.kind_for(3) == "pixel" and np.array_equal(found.mask, truth * 3)
    flat = truth.flatten(order="F").astype(int)  # uncompressed RLE: run lengths, background first
    runs = np.diff([0, *(np.flatnonzero(np.diff(flat)) + 1), flat.size])
    counts = ([0] if flat[0] else []) + runs.tolist()
    found = _found(tmp_path, image, _coco_with({"size": [H, W], "counts": counts}, tmp_path))
    assert np.array_equal(found.mask, truth * 3)


# Guards: a COCO polygon's flat list paired wrongly (x with x).
def test_coco_polygon(tmp_path):
    image = _lot(tmp_path)
    found = _found(tmp_path, image, _coco_with([[10, 5, 50, 5, 50, 30, 10, 30]], tmp_path))
    assert found.kind_for(3) == "polygon"
    assert found.mask[5:30, 10:50].all() and found.mask.sum() > 0 and not found.mask[:4].any()


# Guards: CVAT box attributes misread; mask RLE decoded column-major or with the first run as defect.
def test_cvat_box_from_globox_and_mask_polygon_ellipse(tmp_path):
    image = _lot(tmp_path)
    _globox_set("scratch/a.png").save_cvat(tmp_path / "cvat.xml")
    found = _found(tmp_path, image, tmp_path / "cvat.xml")
    assert found.source == "cvat" and np.array_equal(found.mask, _expected_box())
    (tmp_path / "cvat.xml").write_text(
        '<annotations><version>1.1</version><image id="0" name="scratch/a.png" width="60" height="40">'
        '<mask label="spot" rle="1,2,3,4,2" left="10" top="20" width="4" height="3"/>'
        '<polygon label="crack" points="40,2;50,2;50,8"/><ellipse label="scratch" cx="5" cy="5" rx="2" ry="2"/>'
        '<polyline label="crack" points="0,0;5,5"/></image></annotations>')
    found = _found(tmp_path, image, tmp_path / "cvat.xml")
    spot = np.zeros((3, 4), np.uint8)
    spot.flat[1:3] = 1
    spot.flat[6:10] = 1
    assert np.array_equal(found.mask[20:23, 10:14] == 2, spot.astype(bool))
    assert found.kinds == {2: "pixel", 3: "polygon", 1: "ellipse"}


# Guards: a LabelMe circle's second point taken as its radius; a mask shape placed at 0,0.
def test_labelme_written_by_convscope_reads_back(tmp_path):
    bitmap = np.zeros((5, 7), bool)
    bitmap[1:4, 2:6] = True
    regions = [Region.box("scratch", 2, 3, 10, 8), Region.ellipse("spot", 30, 20, 5, 5),
               Region.ellipse("spot", 45, 20, 6, 3), Region.polygon("crack", [(1, 30), (20, 30), (10, 38)]),
               Region.pixels("crack", bitmap, 50, 30)]
    index = {"scratch": 1, "spot": 2, "crack": 3}.get
    path = write_labelme(tmp_path / "a.json", regions, "a.png", H, W, drawn=True)
    back = read_labelme(path)
    assert back.source == "drawn" and read_labelme(write_labelme(path, regions, "a.png", H, W)).source == "labelme"
    assert [r.kind for r in back.regions] == ["box", "ellipse", "polygon", "polygon", "pixel"]  # no ellipse shape
    assert np.array_equal(rasterise(back.regions, H, W, index)[0], rasterise(regions, H, W, index)[0])
    assert back.size == (H, W)


def test_labelme_writer_never_overwrites_a_file_it_did_not_make(tmp_path):
    theirs = tmp_path / "a.json"
    theirs.write_text(json.dumps({"shapes": [], "imagePath": "a.png"}))
    with pytest.raises(AnnotationError, match="did not write"):
        write_labelme(theirs, [Region.box("spot", 0, 0, 3, 3)], "a.png", H, W)
    write_labelme(theirs, [Region.box("spot", 0, 0, 3, 3)], "a.png", H, W, overwrite_theirs=True)
    write_labelme(theirs, [], "a.png", H, W)  # ours now: saved again without asking
    assert read_labelme(theirs).regions == ()


# Guards: the annotation winning over a pixel mask; an unknown label dropped without a word.
def test_pixel_masks_win_and_unknown_labels_are_named(tmp_path):
    image = _lot(tmp_path)
    write_labelme(tmp_path / "scratch" / "a.json", [Region.box("Kratzer", 0, 0, 5, 5)], "a.png", H, W)
    found = _found(tmp_path, image)
    assert found.unknown == ("Kratzer",) and not found.mask.any() and "Kratzer" in found.note()
    mapped = _found(tmp_path, image, mapping=parse_label_map("kratzer=Scratch", CLASSES))
    assert mapped.unknown == () and mapped.mask[:5, :5].all() and mapped.mask.max() == 1
    cv2.imwrite(str(tmp_path / "scratch" / "a_mask.png"), np.full((H, W), 2, np.uint8))
    found = _found(tmp_path, image)
    assert found.source == "mask" and found.kind_for(1) == "pixel" and (found.mask == 2).all()


def test_label_map_refuses_unknown_classes_and_bad_items():
    assert parse_label_map("Kratzer=scratch, Fleck=SPOT", CLASSES) == {"kratzer": "scratch", "fleck": "spot"}
    with pytest.raises(AnnotationError.__mro__[1], match="'dent' is not a class"):
        parse_label_map("Delle=dent", CLASSES)
    with pytest.raises(AnnotationError.__mro__[1], match="not LABEL=CLASS"):
        parse_label_map("Kratzer", CLASSES)


def test_annotations_scale_to_the_image(tmp_path):
    image = _lot(tmp_path)
    write_labelme(tmp_path / "scratch" / "a.json", [Region.box("spot", 0, 0, 60, 40)], "a.png", 2 * H, 2 * W)
    found = _found(tmp_path, image)
    assert found.mask[:20, :30].all() and not found.mask[20:, :].any()  # drawn on a twice-as-large original


BILLION_LAUGHS = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><object><name>&lol3;</name></object></annotation>"""
EXTERNAL = """<?xml version="1.0"?><!DOCTYPE a [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<annotation><object><name>&secret;</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>
</bndbox></object></annotation>"""


# Guards: XML parsed with the standard library (entities expanded, other files read).
@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused_in_one_line(tmp_path, text):
    path = tmp_path / "a.xml"
    path.write_text(text)
    for reader in (read_voc, read_cvat):
        with pytest.raises(AnnotationError) as caught:
            reader(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: refused, the XML declares entities") and "\n" not in message


@pytest.mark.parametrize(("name", "text", "why"), [
    ("a.json", "{not json", "not readable JSON"),
    ("a.json", '{"shapes": [{"label": "spot", "points": [[1, 2]], "shape_type": "polygon"}]}', "shape 1"),
    ("a.xml", "<annotation><object><name>spot</name><bndbox><xmin>x</xmin></bndbox></object></annotation>",
     "xmin is 'x'"),
    ("a.txt", "0 0.5 0.5\n", "line 1"),
])
def test_malformed_files_name_the_file_and_the_fault(tmp_path, name, text, why):
    image = _lot(tmp_path)
    (tmp_path / "scratch" / name).write_text(text)
    with pytest.raises(AnnotationError) as caught:
        _found(tmp_path, image)
    assert name in str(caught.value) and why in str(caught.value)


def test_malformed_lot_files(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png", "height": 4,
                                                             "width": 4}], "annotations": [
        {"id": 9, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}], "categories": [{"id": 1, "name": "s"}]}))
    with pytest.raises(AnnotationError, match="refers to image 2"):
        read_coco(tmp_path / "c.json")
    (tmp_path / "c.xml").write_text("<annotations><image name='a.png' width='4'/></annotations>")
    with pytest.raises(AnnotationError, match="height is None"):
        read_cvat(tmp_path / "c.xml")
    (tmp_path / "c.csv").write_text("a.png,1,2,3,4\n")
    with pytest.raises(AnnotationError, match="not a COCO"):
        Annotator(tmp_path, CLASSES, annotations=tmp_path / "c.csv")


# Guards: a folder listing kept from one review to the next (a file drawn since is not seen).
def test_files_added_between_reviews_are_found_after_fresh(tmp_path):
    image = _lot(tmp_path)
    annotator = Annotator(tmp_path, CLASSES)
    assert annotator.find(image, H, W) is None
    write_labelme(tmp_path / "scratch" / "a.json", [Region.box("spot", 0, 0, 5, 5)], "a.png", H, W)
    annotator.fresh()
    assert annotator.find(image, H, W).source == "labelme"
