"""The region model (engine.annotations.regions, labelme, labels): which pixels each kind
covers, how regions follow a resized image, which class wins where they overlap, LabelMe's
shapes read and written, and labels matched to the model's classes."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.annotations import (
    AnnotationError,
    LabelMapError,
    LabelResolver,
    Region,
    coarsest,
    is_ours,
    parse_label_map,
    rasterise,
    read_labelme,
    write_labelme,
)
from engine.annotations.regions import (
    BOX,
    DRAWN,
    ELLIPSE,
    KINDS,
    LABELME,
    PIXEL,
    POLYGON,
    Annotation,
)

# ---------------------------------------------------------------------------- regions


def _drawn(region: Region, height: int = 8, width: int = 10) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    region.draw(canvas, 3)
    return canvas


def test_kinds_run_from_finest_to_coarsest() -> None:
    assert KINDS == (PIXEL, POLYGON, ELLIPSE, BOX) == ("pixel", "polygon", "ellipse", "box")
    assert coarsest(["pixel", "box", "polygon"]) == "box"
    assert coarsest(["polygon", "ellipse"]) == "ellipse"
    assert coarsest(["pixel", "polygon"]) == "polygon"
    assert coarsest(["pixel"]) == "pixel"
    assert coarsest(["line"]) == "" and coarsest([]) == ""


def test_box_covers_every_pixel_it_overlaps() -> None:
    canvas = _drawn(Region.box("s", 3.5, 1.0, 1.2, 4.0))  # corners in either order
    expected = np.zeros((8, 10), np.uint8)
    expected[1:4, 1:4] = 3
    np.testing.assert_array_equal(canvas, expected)


def test_box_edges_within_a_millionth_of_a_boundary_lie_on_it() -> None:
    canvas = _drawn(Region.box("s", 2.0000005, 1 - 5e-7, 5.0000005, 3 - 5e-7))
    expected = np.zeros((8, 10), np.uint8)
    expected[1:3, 2:5] = 3
    np.testing.assert_array_equal(canvas, expected)
    wider = _drawn(Region.box("s", 2 - 1e-5, 1.0, 5 + 1e-5, 3.0))
    assert wider[1, 1] == 3 and wider[1, 5] == 3


def test_box_outside_the_image_is_clipped() -> None:
    canvas = _drawn(Region.box("s", -3, -2, 20, 1))
    assert canvas[0].all() and not canvas[1:].any()
    assert not _drawn(Region.box("s", 12, 2, 15, 4)).any()


def test_ellipse_radii_are_absolute_and_fill_the_outline() -> None:
    region = Region.ellipse("s", 5, 4, -3, -2)
    assert region.kind == ELLIPSE and region.points == ((5, 4), (3, 2))
    canvas = _drawn(region)
    assert canvas[4, 5] == 3 and canvas[4, 2] == 3 and canvas[4, 8] == 3 and canvas[2, 5] == 3
    assert canvas[4, 1] == 0 and canvas[4, 9] == 0 and canvas[1, 5] == 0 and canvas[2, 2] == 0


def test_polygon_vertices_are_rounded_and_filled() -> None:
    region = Region.polygon("s", [(1.4, 1.4), (5.6, 1), (5.6, 3.6), (1, 4)])
    assert region.points == ((1.4, 1.4), (5.6, 1.0), (5.6, 3.6), (1.0, 4.0))
    canvas = _drawn(region)
    expected = np.zeros((8, 10), np.uint8)
    expected[1:5, 1:7] = 3
    np.testing.assert_array_equal(canvas, expected)


def test_pixel_region_is_pasted_at_its_corner_and_clipped() -> None:
    bitmap = np.array([[1, 0], [1, 1]], np.uint8)
    region = Region.pixels("s", bitmap, 8, 6)
    assert region.points == ((8.0, 6.0),) and region.bitmap.dtype == bool
    canvas = _drawn(region)
    assert canvas[6, 8] == 3 and canvas[6, 9] == 0 and canvas[7, 8] == 3 and canvas[7, 9] == 3
    assert canvas.sum() == 9
    clipped = _drawn(Region.pixels("s", bitmap, 9, 7))
    assert clipped[7, 9] == 3 and clipped.sum() == 3
    left = _drawn(Region.pixels("s", bitmap, -1, -1))
    assert left[0, 0] == 3 and left.sum() == 3
    assert not _drawn(Region.pixels("s", bitmap, 10, 0)).any()
    assert not _drawn(Region.pixels("s", bitmap, 0, 8)).any()
    assert not _drawn(Region.pixels("s", bitmap, -2, 0)).any()
    assert not _drawn(Region.pixels("s", bitmap, 0, -2)).any()
    assert Region.pixels("s", bitmap).points == ((0.0, 0.0),)


def test_scaling_moves_points_and_resizes_a_bitmap_nearest() -> None:
    box = Region.box("s", 1, 2, 3, 4)
    assert box.scaled(1, 1) is box
    assert box.scaled(2, 3).points == ((2, 6), (6, 12))
    assert box.scaled(2, 1).points == ((2, 2), (6, 4))
    assert box.scaled(1, 2).points == ((1, 4), (3, 8))
    assert box.scaled(2, 3).kind == BOX and box.scaled(2, 3).label == "s"
    bitmap = Region.pixels("s", np.array([[1, 0, 1]]), 2, 1).scaled(2, 3)
    assert bitmap.points == ((4, 3),) and bitmap.bitmap.dtype == bool
    np.testing.assert_array_equal(bitmap.bitmap, np.repeat(np.repeat([[1, 0, 1]], 3, 0), 2, 1).astype(bool))
    tiny = Region.pixels("s", np.ones((2, 3)), 0, 0).scaled(0.1, 0.1)
    assert tiny.bitmap.shape == (1, 1)


def test_annotation_fits_its_regions_to_the_image_size() -> None:
    box = Region.box("s", 10, 20, 30, 40)
    drawn_on = Annotation(LABELME, (box,), (100, 200))
    assert drawn_on.fitted(100, 200) == (box,)
    assert drawn_on.fitted(50, 400)[0].points == ((20, 10), (60, 20))  # x by width, y by height
    assert Annotation(LABELME, (box,)).fitted(50, 400) == (box,)
    assert Annotation(LABELME, (box,), (0, 200)).fitted(50, 400) == (box,)


def test_rasterise_draws_coarse_regions_first_and_skips_unknown_or_background() -> None:
    classes = {"scratch": 1, "spot": 2, "ok": 0}
    regions = [Region.pixels("spot", np.ones((2, 2)), 1, 1), Region.box("scratch", 0, 0, 4, 4),
               Region.box("ghost", 5, 5, 6, 6), Region.box("ok", 6, 6, 7, 7)]
    mask, kinds = rasterise(regions, 8, 8, classes.get)
    assert mask.dtype == np.uint8
    assert mask[1, 1] == 2 and mask[0, 0] == 1 and mask[3, 3] == 1
    assert mask[5, 5] == 0 and mask[6, 6] == 0
    assert kinds == {2: PIXEL, 1: BOX}


def test_rasterise_keeps_each_class_coarsest_kind_and_widens_for_many_classes() -> None:
    regions = [Region.polygon("a", [(0, 0), (3, 0), (3, 3)]), Region.ellipse("a", 5, 5, 1, 1)]
    mask, kinds = rasterise(regions, 8, 8, lambda label: 1)
    assert kinds == {1: ELLIPSE}
    wide, _ = rasterise([Region.box("a", 0, 0, 1, 1)], 4, 4, lambda label: 300)
    assert wide.dtype == np.uint16 and wide[0, 0] == 300
    edge, _ = rasterise([Region.box("a", 0, 0, 1, 1)], 4, 4, lambda label: 255)
    assert edge.dtype == np.uint8 and edge[0, 0] == 255
    edge, _ = rasterise([Region.box("a", 0, 0, 1, 1)], 4, 4, lambda label: 256)
    assert edge.dtype == np.uint16 and edge[0, 0] == 256
    empty, kinds = rasterise([], 3, 5, lambda label: 1)
    assert empty.shape == (3, 5) and not empty.any() and kinds == {}


# ---------------------------------------------------------------------------- LabelMe


def _labelme(tmp_path: Path, shapes: list, **top: object) -> Path:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"shapes": shapes, **top}), encoding="utf-8")
    return path


def _png(bitmap: np.ndarray) -> str:
    return base64.b64encode(cv2.imencode(".png", bitmap.astype(np.uint8) * 255)[1].tobytes()).decode("ascii")


def test_labelme_shapes_read_as_their_kinds(tmp_path: Path) -> None:
    shapes = [
        {"label": "a", "points": [[5, 6], [1, 2]], "shape_type": "rectangle"},
        {"label": "b", "points": [[3, 4], [6, 8]], "shape_type": "circle"},
        {"label": "c", "points": [[0, 0], [2, 0], [2, 2]]},  # no shape_type: a polygon
        {"label": "d", "points": [[0, 0], [2, 0], [2, 2]], "shape_type": None},
        {"label": 7, "points": [[1.7, 2.2], [3, 3]], "shape_type": "mask", "mask": _png(np.eye(2))},
        {"label": "e", "points": [[0, 0]], "shape_type": "point"},
        {"label": "e", "points": [[0, 0], [1, 1]], "shape_type": "line"},
        {"label": "e", "points": [[0, 0], [1, 1]], "shape_type": "linestrip"},
        {"label": "e", "points": [[0, 0], [1, 1]], "shape_type": "points"},
    ]
    found = read_labelme(_labelme(tmp_path, shapes, imageHeight=40, imageWidth=60))
    assert found.source == LABELME and found.size == (40, 60)
    box, circle, poly, poly2, mask = found.regions
    assert box.points == ((1, 2), (5, 6)) and box.kind == BOX
    assert circle.kind == ELLIPSE and circle.points == ((3, 4), (5.0, 5.0))
    assert poly.kind == POLYGON == poly2.kind
    assert mask.kind == PIXEL and mask.label == "7" and mask.points == ((1.0, 2.0),)
    np.testing.assert_array_equal(mask.bitmap, np.eye(2, dtype=bool))


def test_labelme_colour_mask_counts_any_channel(tmp_path: Path) -> None:
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[0, 1, 2] = 9
    text = base64.b64encode(cv2.imencode(".png", colour)[1].tobytes()).decode("ascii")
    found = read_labelme(_labelme(tmp_path, [{"label": "a", "points": [[0, 0]], "shape_type": "mask", "mask": text}]))
    np.testing.assert_array_equal(found.regions[0].bitmap, [[False, True], [False, False]])


@pytest.mark.parametrize(("height", "width"), [(0, 60), (40, 0), (40.0, 60), ("40", 60), (None, 60), (-1, 60)])
def test_labelme_size_needs_two_positive_whole_numbers(tmp_path: Path, height: object, width: object) -> None:
    assert read_labelme(_labelme(tmp_path, [], imageHeight=height, imageWidth=width)).size is None


@pytest.mark.parametrize(("shape", "why"), [
    ({"label": "a", "points": [[0, 0], [1, 1]], "shape_type": "polygon"}, "a polygon needs 3 points, has 2"),
    ({"label": "a", "points": [[0, 0], [1, 1]], "shape_type": "blob"}, "unknown shape_type 'blob'"),
    ({"points": [[0, 0]]}, "'label'"),
    ({"label": "a", "points": [[0, 0]], "shape_type": "mask", "mask": base64.b64encode(b"nope").decode()},
     "its mask is not a PNG"),
    ({"label": "a", "points": [[0, 0]], "shape_type": "mask", "mask": ""}, "its mask is not a PNG"),
    ({"label": "a", "points": [[0, 0]], "shape_type": "circle"}, "not enough values to unpack (expected 2, got 1)"),
])
def test_labelme_malformed_shape_is_refused_with_its_number(tmp_path: Path, shape: dict, why: str) -> None:
    path = _labelme(tmp_path, [{"label": "ok", "points": [[0, 0], [1, 1]], "shape_type": "rectangle"}, shape])
    with pytest.raises(AnnotationError) as refused:
        read_labelme(path)
    assert str(refused.value) == f"{path}: shape 2 is malformed ({why})"


def test_a_fault_is_named_by_its_first_line_or_its_type() -> None:
    from engine.annotations.labelme import _why
    assert _why(ValueError("first\nsecond")) == "first"
    assert _why(ValueError()) == "ValueError"


@pytest.mark.parametrize("data", [[], {"shapes": {}}, {}])
def test_a_json_that_is_not_labelme_is_refused(tmp_path: Path, data: object) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AnnotationError) as refused:
        read_labelme(path)
    assert str(refused.value) == f"{path}: not a LabelMe file (no 'shapes' list)"


def test_unreadable_labelme_names_the_first_line_of_the_fault(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"shapes": ["\xff"]}')
    with pytest.raises(AnnotationError) as refused:
        read_labelme(path)
    assert str(refused.value).startswith(f"{path}: not readable JSON ('utf-8' codec can't decode")


def test_written_labelme_reads_back_as_drawn_only_when_drawn(tmp_path: Path) -> None:
    regions = [Region.box("a", 1, 2, 5, 6), Region.ellipse("b", 10, 10, 3, 3), Region.ellipse("c", 10, 10, 4, 2),
               Region.polygon("d", [(0, 0), (4, 0), (4, 4)]), Region.pixels("e", np.eye(3), 2, 3)]
    path = write_labelme(tmp_path / "a.json", regions, "a.png", 40, 60, drawn=True)
    assert path == tmp_path / "a.json" and not (tmp_path / "a.json.part").exists()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == "5.5.0" and data["imagePath"] == "a.png" and data["imageData"] is None
    assert data["convscope"] == {"written_by": "ConvScope", "drawn": True}
    assert [s["shape_type"] for s in data["shapes"]] == ["rectangle", "circle", "polygon", "polygon", "mask"]
    assert data["shapes"][0] == {"label": "a", "group_id": None, "description": "", "flags": {},
                                 "shape_type": "rectangle", "points": [[1, 2], [5, 6]]}
    assert data["shapes"][1]["points"] == [[10, 10], [13, 10]]
    assert data["shapes"][4]["points"] == [[2.0, 3.0], [4.0, 5.0]]
    back = read_labelme(path)
    assert back.source == DRAWN and back.size == (40, 60)
    assert [r.kind for r in back.regions] == [BOX, ELLIPSE, POLYGON, POLYGON, PIXEL]
    np.testing.assert_array_equal(back.regions[4].bitmap, np.eye(3, dtype=bool))
    outline = np.asarray(back.regions[2].points)
    assert outline[:, 0].min() == 6 and outline[:, 0].max() == 14 and outline[:, 1].min() == 8
    assert len(outline) == 24 and tuple(outline[0]) != tuple(outline[-1])  # the closing point dropped
    assert read_labelme(write_labelme(path, regions, "a.png", 40, 60)).source == LABELME


def test_writer_refuses_another_tools_file_unless_told(tmp_path: Path) -> None:
    theirs = tmp_path / "a.json"
    theirs.write_text(json.dumps({"shapes": []}), encoding="utf-8")
    assert not is_ours(theirs) and is_ours(tmp_path / "none.json")
    with pytest.raises(AnnotationError) as refused:
        write_labelme(theirs, [], "a.png", 4, 4)
    assert str(refused.value) == f"{theirs}: a LabelMe file ConvScope did not write; not overwritten"
    write_labelme(theirs, [], "a.png", 4, 4, overwrite_theirs=True)
    assert is_ours(theirs)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    assert not is_ours(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    assert not is_ours(tmp_path / "list.json")


def test_a_region_without_a_bitmap_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot save a pixel region"):
        write_labelme(tmp_path / "a.json", [Region("a", PIXEL, ((0.0, 0.0),))], "a.png", 4, 4)


def test_a_near_circle_is_saved_as_a_circle() -> None:
    from engine.annotations.labelme import _shape
    assert _shape(Region.ellipse("a", 0, 0, 3, 3 * (1 + 5e-7)))["shape_type"] == "circle"
    assert _shape(Region.ellipse("a", 0, 0, 3, 3 * (1 + 5e-6)))["shape_type"] == "polygon"
    assert math.isclose(_shape(Region.ellipse("a", 1, 2, 3, 3))["points"][1][0], 4)


# ---------------------------------------------------------------------------- labels


def test_label_map_is_case_folded_and_targets_the_models_spelling() -> None:
    classes = ("ok", "Scratch", "spot")
    assert parse_label_map(" Kratzer = scratch , ,FLECK=SPOT,", classes) == {"kratzer": "Scratch", "fleck": "spot"}
    assert parse_label_map(None, classes) == {} and parse_label_map("", classes) == {}


@pytest.mark.parametrize(("text", "message"), [
    ("kratzer", "--label-map: 'kratzer' is not LABEL=CLASS"),
    ("=scratch", "--label-map: '=scratch' is not LABEL=CLASS"),
    ("kratzer= ", "--label-map: 'kratzer=' is not LABEL=CLASS"),
    ("a=dent", "--label-map: 'dent' is not a class of the model (ok, Scratch)"),
])
def test_label_map_refusals_are_one_line(text: str, message: str) -> None:
    with pytest.raises(LabelMapError) as refused:
        parse_label_map(text, ("ok", "Scratch"))
    assert str(refused.value) == message


def test_resolver_maps_first_then_matches_ignoring_case() -> None:
    resolver = LabelResolver(["ok", "Scratch", "spot"], {"KRATZER": "Scratch"})
    assert resolver.index(" kratzer ") == 1
    assert resolver.index("SPOT") == 2 and resolver.index("ok") == 0
    assert resolver.index("dent") is None
    assert resolver.unknown(["dent", "spot", "Dent", "dent", "axe"]) == ["Dent", "axe", "dent"]
    assert LabelResolver(["a"]).mapping == {}


def test_a_scaled_bitmap_keeps_its_label_and_kind_and_is_resized_nearest() -> None:
    rng = np.random.default_rng(3)
    bitmap = rng.random((7, 5)) > 0.5
    scaled = Region.pixels("spot", bitmap, 2, 2).scaled(1.5, 2.5)
    assert scaled.label == "spot" and scaled.kind == PIXEL
    rows = np.arange(18) * 7 // 18  # 7 rows x 2.5 = 18 (rounded): each output row takes the source row it falls in
    cols = np.arange(8) * 5 // 8
    np.testing.assert_array_equal(scaled.bitmap, bitmap[rows][:, cols])


def test_a_label_map_splits_at_the_first_equals_sign() -> None:
    with pytest.raises(LabelMapError, match=r"^--label-map: 'y=scratch' is not a class of the model"):
        parse_label_map("x=y=scratch", ("ok", "scratch"))
