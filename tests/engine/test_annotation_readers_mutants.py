"""Each annotation reader's coordinate convention and refusals, exactly (engine.annotations):
VOC boxes are 1-based and inclusive, YOLO's are a normalised centre and size, COCO's bbox is
x, y, width, height, CVAT masks are row-major runs starting with background; a malformed
file is refused in one line naming the file and what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.annotations import (
    AnnotationError,
    class_names_for,
    read_coco,
    read_cvat,
    read_voc,
    read_yolo,
)
from engine.annotations.regions import BOX, COCO, CVAT, ELLIPSE, PIXEL, POLYGON, VOC, YOLO
from engine.annotations.xmlsafe import number, parse_xml
from engine.annotations.yolo import CLASS_FILES, _read_names


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _voc(tmp_path: Path, objects: str, size: str = "<size><width>60</width><height>40</height></size>") -> Path:
    return _write(tmp_path / "a.xml", f"<annotation>{size}{objects}</annotation>")


def _obj(name: str, x0: object, y0: object, x1: object, y1: object) -> str:
    return (f"<object><name>{name}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>"
            f"<ymax>{y1}</ymax></bndbox></object>")


# ------------------------------------------------------------------------------------ VOC


def test_voc_box_is_one_based_inclusive_and_keeps_every_object(tmp_path: Path) -> None:
    found = read_voc(_voc(tmp_path, _obj(" scratch ", 1, 2, 10, 20) + _obj("spot", 5, 5, 5, 5)))
    assert found.source == VOC and found.size == (40, 60)
    first, second = found.regions
    assert (first.label, first.kind, first.points) == ("scratch", BOX, ((0.0, 1.0), (10.0, 20.0)))
    assert second.points == ((4.0, 4.0), (5.0, 5.0))  # a one-pixel box


def test_voc_size_is_optional_and_a_zero_size_is_none(tmp_path: Path) -> None:
    assert read_voc(_voc(tmp_path, _obj("s", 1, 1, 2, 2), size="")).size is None
    assert read_voc(_voc(tmp_path, _obj("s", 1, 1, 2, 2), "<size><width>60</width></size>")).size is None
    assert read_voc(_voc(tmp_path, _obj("s", 1, 1, 2, 2), "<size><height>60</height></size>")).size is None
    zero = "<size><width>0</width><height>40</height></size>"
    assert read_voc(_voc(tmp_path, _obj("s", 1, 1, 2, 2), zero)).size is None
    zero = "<size><width>60</width><height>0</height></size>"
    assert read_voc(_voc(tmp_path, _obj("s", 1, 1, 2, 2), zero)).size is None
    one = "<size><width>1</width><height>1</height></size>"
    assert read_voc(_voc(tmp_path, "", one)).size == (1, 1)


@pytest.mark.parametrize(("objects", "message"), [
    ("<object><bndbox/></object>", "object 1 has no name or no bndbox"),
    (_obj("s", 1, 1, 2, 2) + "<object><name>s</name></object>", "object 2 has no name or no bndbox"),
    (_obj("s", 5, 1, 4, 2), "object 1: xmax/ymax lie before xmin/ymin"),
    (_obj("s", 1, 5, 2, 4), "object 1: xmax/ymax lie before xmin/ymin"),
    (_obj("s", 1, "a", 2, 4), "object 1: ymin is 'a', not a number"),
])
def test_voc_refusals_name_the_file_and_the_object(tmp_path: Path, objects: str, message: str) -> None:
    path = _voc(tmp_path, objects)
    with pytest.raises(AnnotationError) as refused:
        read_voc(path)
    assert str(refused.value) == f"{path}: {message}"


def test_voc_bad_size_names_the_file(tmp_path: Path) -> None:
    for size, tag in (("<size><width>x</width><height>40</height></size>", "width"),
                      ("<size><width>60</width><height>y</height></size>", "height")):
        path = _voc(tmp_path, _obj("s", 1, 1, 2, 2), size)
        with pytest.raises(AnnotationError) as refused:
            read_voc(path)
        assert str(refused.value).startswith(f"{path}: {tag} is ")


def test_voc_refuses_another_xml_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.xml", "<annotations/>")
    with pytest.raises(AnnotationError) as refused:
        read_voc(path)
    assert str(refused.value) == f"{path}: not a Pascal VOC file (root <annotations>, not <annotation>)"


def test_xml_number_reads_an_attribute_or_a_child_and_names_where() -> None:
    from xml.etree.ElementTree import fromstring
    element = fromstring('<e width=" 12.5 "><height>7</height><bad> x </bad></e>')
    assert number(element, "width", "w") == 12.5
    assert number(element, "height", "w") == 7.0
    with pytest.raises(AnnotationError) as refused:
        number(element, "bad", "f.xml: image 'a'")
    assert str(refused.value) == "f.xml: image 'a': bad is ' x ', not a number"
    with pytest.raises(AnnotationError, match="^w: depth is None, not a number$"):
        number(element, "depth", "w")


def test_broken_or_missing_xml_is_refused_in_one_line(tmp_path: Path) -> None:
    broken = _write(tmp_path / "b.xml", "<annotation><object>")
    with pytest.raises(AnnotationError, match=rf"^{broken}: not well-formed XML \(no element found"):
        parse_xml(broken)
    missing = tmp_path / "none.xml"
    with pytest.raises(AnnotationError, match=rf"^{missing}: cannot read \(No such file or directory\)$"):
        parse_xml(missing)


def test_a_doctype_without_entities_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.xml", "<?xml version='1.0'?><!DOCTYPE annotation><annotation/>")
    assert parse_xml(path).tag == "annotation"


# ----------------------------------------------------------------------------------- YOLO


def test_yolo_box_is_normalised_centre_and_size(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "1 0.5 0.25 0.2 0.5\n\n   \n0 0.1 0.1 0.2 0.2\n")
    found = read_yolo(path, 40, 60, ("ok", "scratch"))
    assert found.source == YOLO and found.size is None
    first, second = found.regions
    assert first.label == "scratch" and first.kind == BOX
    np.testing.assert_allclose(first.points, ((24.0, 0.0), (36.0, 20.0)))
    assert second.label == "ok"


def test_yolo_class_without_a_name_keeps_its_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "2 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n")
    assert [r.label for r in read_yolo(path, 10, 10, ("ok", "scratch")).regions] == ["2", "-1"]
    assert [r.label for r in read_yolo(path, 10, 10).regions] == ["2", "-1"]


def test_yolo_polygon_scales_x_by_width_and_y_by_height(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "0 0.1 0.2 0.5 0.2 0.5 0.5 0.1 0.5\n")
    region = read_yolo(path, 40, 60, ("spot",)).regions[0]
    assert region.kind == POLYGON and region.label == "spot"
    np.testing.assert_allclose(region.points, [(6, 8), (30, 8), (30, 20), (6, 20)])
    six = read_yolo(_write(tmp_path / "b.txt", "0 0 0 1 0 1 1\n"), 10, 10).regions[0]
    assert six.kind == POLYGON and len(six.points) == 3


@pytest.mark.parametrize(("line", "message"), [
    ("0 0.5 0.5 0.1", "line 1: 3 numbers after the class, not 4 (a box) or an even 6+ (a polygon)"),
    ("0 0.5 0.5 0.1 0.1 0.2", "line 1: 5 numbers after the class, not 4 (a box) or an even 6+ (a polygon)"),
    ("0 1 2 3 4 5 6 7", "line 1: 7 numbers after the class, not 4 (a box) or an even 6+ (a polygon)"),
    ("cat 0.5 0.5 0.1 0.1", "line 1: 'cat 0.5 0.5 0.1 0.1' is not 'class cx cy w h'"),
    ("0 0.5 x 0.1 0.1", "line 1: '0 0.5 x 0.1 0.1' is not 'class cx cy w h'"),
    ("0 0.123456789 0.123456789 0.123456789 0.1z",
     "line 1: '0 0.123456789 0.123456789 0.123456789 0.' is not 'class cx cy w h'"),  # cut at 40 characters
])
def test_yolo_refusals_name_the_file_and_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path / "a.txt", line + "\n")
    with pytest.raises(AnnotationError) as refused:
        read_yolo(path, 10, 10)
    assert str(refused.value) == f"{path}: {message}"


def test_yolo_counts_lines_from_one_including_blank_ones(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.txt", "0 0.5 0.5 0.1 0.1\n\n0 1\n")
    with pytest.raises(AnnotationError, match=r": line 3: 1 numbers after the class"):
        read_yolo(path, 10, 10)


def test_yolo_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"0 \xff\n")
    with pytest.raises(AnnotationError, match=rf"^{path}: cannot read \('utf-8' codec"):
        read_yolo(path, 10, 10)


def test_class_files_are_looked_for_in_the_folder_then_upwards_to_one_above_top(tmp_path: Path) -> None:
    assert CLASS_FILES == ("classes.txt", "data.yaml", "data.yml")
    lot = tmp_path / "lot"
    deep = lot / "a" / "b"
    deep.mkdir(parents=True)
    txt = deep / "x.txt"
    assert class_names_for(txt, lot) == ()
    _write(tmp_path / "classes.txt", "far\n")
    assert class_names_for(txt, lot) == ("far",)  # one folder above the top is still looked at
    _write(lot / "a" / "data.yml", "names: [yml]\n")
    assert class_names_for(txt, lot) == ("yml",)
    _write(lot / "a" / "data.yaml", "names: [yaml]\n")
    assert class_names_for(txt, lot) == ("yaml",)
    _write(lot / "a" / "classes.txt", "first\n\n second \n")
    assert class_names_for(txt, lot) == ("first", "second")


def test_class_files_above_the_limit_are_not_read(tmp_path: Path) -> None:
    _write(tmp_path / "classes.txt", "too far\n")
    lot = tmp_path / "x" / "lot"
    (lot / "a").mkdir(parents=True)
    assert class_names_for(lot / "a" / "i.txt", lot) == ()


def test_data_yaml_names_as_a_mapping_fill_gaps_with_the_id(tmp_path: Path) -> None:
    mapping = _write(tmp_path / "m.yaml", "names: {0: ok, 2: crack, '3': spot}\n")
    assert _read_names(mapping) == ("ok", "1", "crack", "spot")
    strings = _write(tmp_path / "s.yaml", "names: {'0': ok, '1': scratch}\n")
    assert _read_names(strings) == ("ok", "scratch")


@pytest.mark.parametrize(("text", "message"), [
    ("names: 3\n", "no 'names' list or mapping"),
    ("other: [a]\n", "no 'names' list or mapping"),
    ("", "no 'names' list or mapping"),
    ("[a, b]\n", "cannot read the class names ('list' object has no attribute 'get')"),
    ("names: [a\n", "cannot read the class names (while parsing a flow sequence)"),
])
def test_a_wrong_data_yaml_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    _read_names.cache_clear()
    path = _write(tmp_path / "data.yaml", text)
    with pytest.raises(AnnotationError) as refused:
        _read_names(path)
    assert str(refused.value) == f"{path}: {message}"


def test_data_yaml_names_list_keeps_its_order_as_text(tmp_path: Path) -> None:
    _read_names.cache_clear()
    assert _read_names(_write(tmp_path / "data.yaml", "names: [b, 1, a]\n")) == ("b", "1", "a")


# ----------------------------------------------------------------------------------- COCO


def _coco(tmp_path: Path, annotations: list, images: list | None = None, categories: list | None = None) -> Path:
    data = {"images": images if images is not None else [{"id": 7, "file_name": "sub\\a.png", "height": 40,
                                                          "width": 60}],
            "annotations": annotations,
            "categories": categories if categories is not None else [{"id": 3, "name": "scratch"}]}
    return _write(tmp_path / "c.json", json.dumps(data))


def test_coco_bbox_is_x_y_width_height(tmp_path: Path) -> None:
    index = read_coco(_coco(tmp_path, [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [10, 5, 20, 8]}]))
    found = index.annotation("sub/a.png")
    assert found is not None and found.source == COCO and found.size == (40, 60)
    (region,) = found.regions
    assert (region.label, region.kind, region.points) == ("scratch", BOX, ((10.0, 5.0), (30.0, 13.0)))


def test_coco_image_found_by_path_or_by_a_unique_base_name(tmp_path: Path) -> None:
    images = [{"id": 1, "file_name": "x/a.png", "height": 4, "width": 4},
              {"id": 2, "file_name": "y/a.png", "height": 4, "width": 4},
              {"id": 3, "file_name": "y/b.png", "height": 4, "width": 5}]
    index = read_coco(_coco(tmp_path, [], images))
    assert index.annotation("x/a.png") is not None
    assert index.annotation("other/a.png") is None  # two images named a.png: the base name is ambiguous
    assert index.annotation("z/b.png") is not None and index.annotation("z/b.png").size == (4, 5)
    assert index.annotation("c.png") is None
    assert index.annotation("x/a.png").regions == ()


def test_coco_polygons_one_region_each(tmp_path: Path) -> None:
    item = {"id": 1, "image_id": 7, "category_id": 3, "bbox": [0, 0, 1, 1],
            "segmentation": [[0, 0, 4, 0, 4, 4], [10, 10, 12, 10, 12, 12, 10, 12]]}
    regions = read_coco(_coco(tmp_path, [item])).annotation("a.png").regions
    assert [r.kind for r in regions] == [POLYGON, POLYGON]
    assert regions[1].points == ((10.0, 10.0), (12.0, 10.0), (12.0, 12.0), (10.0, 12.0))


def test_coco_empty_segmentation_falls_back_to_the_bbox(tmp_path: Path) -> None:
    item = {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "segmentation": []}
    (region,) = read_coco(_coco(tmp_path, [item])).annotation("a.png").regions
    assert region.kind == BOX and region.points == ((1.0, 2.0), (4.0, 6.0))


def test_coco_uncompressed_rle_is_column_major(tmp_path: Path) -> None:
    # 2 x 3 image, column-major counts: 1 background, 2 foreground, 3 background
    item = {"id": 1, "image_id": 7, "category_id": 3, "segmentation": {"size": [2, 3], "counts": [1, 2, 3]}}
    images = [{"id": 7, "file_name": "a.png", "height": 2, "width": 3}]
    (region,) = read_coco(_coco(tmp_path, [item], images)).annotation("a.png").regions
    assert region.kind == PIXEL
    np.testing.assert_array_equal(region.bitmap, [[False, True, False], [True, False, False]])


@pytest.mark.parametrize(("annotations", "message"), [
    ([{"id": 9, "image_id": 2, "category_id": 3, "bbox": [0, 0, 1, 1]}],
     "malformed COCO entry (ValueError: annotation 9 refers to image 2, not in 'images')"),
    ([{"id": 9, "image_id": 7, "category_id": 4, "bbox": [0, 0, 1, 1]}],
     "malformed COCO entry (ValueError: annotation 9 has category 4, not in 'categories')"),
    ([{"id": 9, "category_id": 3}], "malformed COCO entry (KeyError: 'image_id')"),
])
def test_coco_refusals_name_the_file_and_the_entry(tmp_path: Path, annotations: list, message: str) -> None:
    path = _coco(tmp_path, annotations)
    with pytest.raises(AnnotationError) as refused:
        read_coco(path)
    assert str(refused.value) == f"{path}: {message}"


@pytest.mark.parametrize("data", [[], {"images": []}, {"annotations": []}, {"images": {}, "annotations": []}])
def test_coco_without_both_lists_is_not_coco(tmp_path: Path, data: object) -> None:
    path = _write(tmp_path / "c.json", json.dumps(data))
    with pytest.raises(AnnotationError) as refused:
        read_coco(path)
    assert str(refused.value) == f"{path}: not a COCO file (no 'images' and 'annotations' lists)"


def test_coco_without_categories_and_unreadable_json(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.json", json.dumps({"images": [], "annotations": []}))
    assert read_coco(path).categories == {}
    broken = _write(tmp_path / "d.json", "{\n")
    with pytest.raises(AnnotationError, match=rf"^{broken}: not readable JSON \(Expecting property name"):
        read_coco(broken)


def test_coco_malformed_annotation_of_an_image_is_refused_when_reached(tmp_path: Path) -> None:
    path = _coco(tmp_path, [{"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2]}])
    index = read_coco(path)
    with pytest.raises(AnnotationError) as refused:
        index.annotation("sub/a.png")
    assert str(refused.value).startswith(f"{path}: an annotation of 'sub/a.png' is malformed (")


# ----------------------------------------------------------------------------------- CVAT


def _cvat(tmp_path: Path, children: str, attrs: str = "name='sub\\a.png' width='60' height='40'") -> Path:
    return _write(tmp_path / "c.xml", f"<annotations><meta/><image {attrs}>{children}</image></annotations>")


def test_cvat_box_ellipse_polygon_and_size(tmp_path: Path) -> None:
    children = ("<box label='scratch' xtl='10' ytl='5' xbr='30' ybr='13'/>"
                "<ellipse label='spot' cx='20' cy='10' rx='-4' ry='3'/>"
                "<polygon label='crack' points='1,2;5,2;5,6;'/>"
                "<polyline label='x' points='0,0;1,1'/><points label='x' points='0,0'/><tag label='x'/>")
    found = read_cvat(_cvat(tmp_path, children))
    assert list(found) == ["sub/a.png"]
    annotation = found["sub/a.png"]
    assert annotation.source == CVAT and annotation.size == (40, 60)
    box, ellipse, polygon = annotation.regions
    assert (box.label, box.kind, box.points) == ("scratch", BOX, ((10.0, 5.0), (30.0, 13.0)))
    assert (ellipse.kind, ellipse.points) == (ELLIPSE, ((20.0, 10.0), (4.0, 3.0)))
    assert (polygon.kind, polygon.points) == (POLYGON, ((1.0, 2.0), (5.0, 2.0), (5.0, 6.0)))


def test_cvat_mask_runs_are_row_major_starting_with_background(tmp_path: Path) -> None:
    children = "<mask label='spot' rle='1,2,3' left='4' top='5' width='3' height='2'/>"
    (region,) = read_cvat(_cvat(tmp_path, children))["sub/a.png"].regions
    assert region.kind == PIXEL and region.points == ((4.0, 5.0),)
    np.testing.assert_array_equal(region.bitmap, [[False, True, True], [False, False, False]])


@pytest.mark.parametrize(("children", "message"), [
    ("<box xtl='1' ytl='1' xbr='2' ybr='2'/>", "image 'sub\\\\a.png': a <box> has no label"),
    ("<box label='s' xtl='1' ytl='1' xbr='2'/>", "image 'sub\\\\a.png', box: ybr is None, not a number"),
    ("<polygon label='s' points='1,2;3,4'/>", "image 'sub\\\\a.png': a polygon needs 3 points, has 2"),
    ("<polygon label='s' points='1,2;3;4,5'/>",
     "image 'sub\\\\a.png': polygon points '1,2;3;4,5' are not 'x,y;x,y'"),
    ("<mask label='s' rle='1,x' left='0' top='0' width='1' height='2'/>",
     "image 'sub\\\\a.png': mask rle '1,x' is not comma-separated counts"),
    ("<mask label='s' rle='1,2' left='0' top='0' width='2' height='2'/>",
     "image 'sub\\\\a.png': mask rle covers 3 pixels, its box 2x2"),
    ("<mask label='s' rle='5,-1' left='0' top='0' width='2' height='2'/>",
     "image 'sub\\\\a.png': mask rle covers 4 pixels, its box 2x2"),
])
def test_cvat_refusals_name_the_file_and_the_image(tmp_path: Path, children: str, message: str) -> None:
    path = _cvat(tmp_path, children)
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert str(refused.value) == f"{path}: {message}"


def test_cvat_image_without_a_name_or_a_wrong_root(tmp_path: Path) -> None:
    path = _cvat(tmp_path, "", "width='2' height='2'")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert str(refused.value) == f"{path}: an <image> has no name"
    other = _write(tmp_path / "v.xml", "<annotation/>")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(other)
    assert str(refused.value) == f"{other}: not a CVAT for images file (root <annotation>, not <annotations>)"


def test_cvat_mask_runs_may_start_with_no_background(tmp_path: Path) -> None:
    children = "<mask label='spot' rle='0,2,2' left='0' top='0' width='2' height='2'/>"
    (region,) = read_cvat(_cvat(tmp_path, children))["sub/a.png"].regions
    np.testing.assert_array_equal(region.bitmap, [[True, True], [False, False]])


def test_cvat_quotes_at_most_forty_characters_of_a_bad_value(tmp_path: Path) -> None:
    points = "1,2;" * 9 + "x;5;7,8"  # 43 characters: the quote stops at 40
    path = _cvat(tmp_path, f"<polygon label='s' points='{points}'/>")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert f"polygon points {points[:40]!r} are not" in str(refused.value)
    rle = "1," * 20 + "x"
    path = _cvat(tmp_path, f"<mask label='s' rle='{rle}' left='0' top='0' width='1' height='1'/>")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert f"mask rle {rle[:40]!r} is not comma-separated counts" in str(refused.value)


def test_cvat_polygon_or_mask_without_its_data_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _cvat(tmp_path, "<polygon label='s'/>")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert str(refused.value) == f"{path}: image 'sub\\\\a.png': a polygon needs 3 points, has 0"
    path = _cvat(tmp_path, "<mask label='s' left='0' top='0' width='1' height='1'/>")
    with pytest.raises(AnnotationError) as refused:
        read_cvat(path)
    assert str(refused.value) == f"{path}: image 'sub\\\\a.png': mask rle '' is not comma-separated counts"


def test_coco_polygon_with_an_odd_number_of_coordinates_is_refused(tmp_path: Path) -> None:
    item = {"id": 1, "image_id": 7, "category_id": 3, "segmentation": [[0, 0, 4, 0, 4, 4, 9]]}
    path = _coco(tmp_path, [item])
    with pytest.raises(AnnotationError, match=r"an annotation of 'sub/a.png' is malformed \(zip\(\) argument 2 is "):
        read_coco(path).annotation("sub/a.png")


def test_coco_base_name_of_a_deep_path_is_its_last_part(tmp_path: Path) -> None:
    images = [{"id": 1, "file_name": "lot/day1/cam2/a.png", "height": 4, "width": 4}]
    index = read_coco(_coco(tmp_path, [], images))
    assert index.basenames == {"a.png": "lot/day1/cam2/a.png"}
    assert index.annotation("elsewhere/a.png") is not None
