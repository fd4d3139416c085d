"""Regions drawn by hand (engine.annotations.editing): each tool's geometry, the eraser, undo,
and the LabelMe file beside the image that LabelMe and ConvScope's own reader open again."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.annotations import AnnotationError, Region, read_labelme
from engine.annotations.editing import (
    RegionEditor,
    box_between,
    ellipse_between,
    has_regions,
    labelme_path,
    load_regions,
    region_pixels,
    save_regions,
)
from engine.trust.verdict import MIN_IMAGES, images_short

H, W = 40, 60


def test_a_box_dragged_either_way_covers_the_pixels_between_its_corners():
    forward = region_pixels(box_between("spot", (10, 5), (20, 15)), H, W)
    backward = region_pixels(box_between("spot", (20, 15), (10, 5)), H, W)
    assert np.array_equal(forward, backward)
    rows, cols = np.nonzero(forward)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (5, 14, 10, 19)


def test_a_click_without_a_drag_draws_no_box_or_ellipse():
    assert box_between("spot", (10, 5), (10.4, 5.2)) is None
    assert ellipse_between("spot", (10, 5), (30, 5.5)) is None


def test_an_ellipse_fills_the_box_it_was_dragged_in():
    region = ellipse_between("spot", (10, 10), (30, 20))
    assert region.points == ((20, 15), (10, 5))
    covered = region_pixels(region, H, W)
    assert covered[15, 20] and covered[15, 11] and not covered[10, 10]  # the box's corner lies outside


def test_brush_strokes_of_one_class_join_and_another_class_keeps_its_own_region():
    editor = RegionEditor(H, W)
    editor.paint("scratch", [(5, 5), (25, 5)], 2)
    editor.paint("scratch", [(5, 30)], 2)
    editor.paint("spot", [(50, 30)], 2)
    assert [(r.label, r.kind) for r in editor.regions] == [("scratch", "pixel"), ("spot", "pixel")]
    scratch = region_pixels(editor.regions[0], H, W)
    assert scratch[5, 5] and scratch[5, 25] and scratch[5, 15] and scratch[30, 5]  # the line between the dabs too
    assert not scratch[30, 50]


def test_the_eraser_cuts_painted_pixels_and_removes_a_shape_it_touches_whole():
    editor = RegionEditor(H, W, [Region.box("spot", 40, 0, 50, 10)])
    editor.paint("scratch", [(5, 20), (35, 20)], 3)
    editor.erase([(20, 10), (20, 30)], 2)
    scratch = region_pixels(editor.regions[-1], H, W)
    assert scratch[20, 6] and scratch[20, 34] and not scratch[20, 20]
    assert any(r.kind == "box" for r in editor.regions)
    editor.erase([(45, 5)], 1)
    assert [r.kind for r in editor.regions] == ["pixel"]


def test_undo_steps_back_through_every_edit_and_then_stops():
    editor = RegionEditor(H, W)
    editor.add(box_between("spot", (1, 1), (9, 9)))
    editor.paint("spot", [(30, 30)], 3)
    editor.erase([(5, 5)], 1)
    assert editor.regions[0].kind == "pixel" and len(editor.regions) == 1
    assert editor.undo() and [r.kind for r in editor.regions] == ["box", "pixel"]
    assert editor.undo() and [r.kind for r in editor.regions] == ["box"]
    assert editor.undo() and editor.regions == []
    assert not editor.undo()


def test_saved_regions_come_back_from_a_file_labelme_opens(tmp_path):
    image = tmp_path / "part.png"
    drawn = [Region.box("spot", 2, 3, 12, 13), Region.polygon("crack", [(20, 5), (30, 5), (25, 15)])]
    editor = RegionEditor(H, W)
    editor.paint("scratch", [(40, 30), (50, 32)], 2)
    drawn.append(editor.regions[0])
    path = save_regions(image, drawn, H, W)
    assert path == tmp_path / "part.json"
    data = json.loads(path.read_text())
    assert {k: data[k] for k in ("imagePath", "imageData", "imageHeight", "imageWidth")} == {
        "imagePath": "part.png", "imageData": None, "imageHeight": H, "imageWidth": W}
    assert [s["shape_type"] for s in data["shapes"]] == ["rectangle", "polygon", "mask"]
    loaded, ours = load_regions(image, H, W)
    assert ours
    for before, after in zip(drawn, loaded, strict=True):
        assert after.label == before.label
        assert np.array_equal(region_pixels(after, H, W), region_pixels(before, H, W))


def test_saving_no_regions_removes_our_file_but_never_theirs(tmp_path):
    image = tmp_path / "part.png"
    save_regions(image, [Region.box("spot", 0, 0, 5, 5)], H, W)
    save_regions(image, [], H, W)
    assert not labelme_path(image).exists()
    theirs = labelme_path(image)
    theirs.write_text(json.dumps({"shapes": [], "imagePath": "part.png"}))
    with pytest.raises(AnnotationError):
        save_regions(image, [Region.box("spot", 0, 0, 5, 5)], H, W)
    with pytest.raises(AnnotationError):
        save_regions(image, [], H, W)
    assert theirs.exists() and load_regions(image, H, W) == ([], False)
    save_regions(image, [Region.box("spot", 0, 0, 5, 5)], H, W, overwrite_theirs=True)
    assert len(read_labelme(theirs).regions) == 1


def test_an_image_has_regions_with_a_mask_or_a_non_empty_annotation_beside_it(tmp_path):
    image = tmp_path / "part.png"
    image.write_bytes(b"")
    assert not has_regions(image)
    labelme_path(image).write_text(json.dumps({"shapes": []}))
    assert not has_regions(image)  # an empty LabelMe file marks nothing
    save_regions(image, [Region.box("spot", 0, 0, 5, 5)], H, W, overwrite_theirs=True)
    assert has_regions(image)
    other = tmp_path / "other.png"
    (tmp_path / "other_mask.png").write_bytes(b"")
    assert has_regions(other)


class _Row:
    def __init__(self, kept, correct=True, kind="box", control=False):
        self.kept_after_removal, self.correct, self.mask_kind = kept, correct, kind
        self.control_kept_after_removal, self.flag = control, ""


def test_images_short_counts_only_correct_conclusive_removals():
    rows = [_Row(True), _Row(False, control=True), _Row(True, correct=False), _Row(None), _Row(False, control=None)]
    assert images_short(rows) == MIN_IMAGES - 2  # kept, and lost with the control kept; not the wrong, the untested
    assert images_short([_Row(True)] * (MIN_IMAGES + 1)) == 0
