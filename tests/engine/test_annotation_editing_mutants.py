"""Drawing by hand (engine.annotations.editing), exactly: the stray-click threshold in each
direction, the brush's width, the crop of a painted region, the changed flag, the display
mask's class numbers, and which files beside an image count as ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.annotations import Region, read_labelme
from engine.annotations.editing import (
    MIN_SIZE,
    UNDO_LIMIT,
    RegionEditor,
    box_between,
    cropped,
    ellipse_between,
    has_regions,
    labelme_path,
    load_regions,
    region_pixels,
    save_regions,
    stroke_bitmap,
)

H, W = 20, 30


@pytest.mark.parametrize("drag", [box_between, ellipse_between])
def test_a_drag_of_one_pixel_counts_and_less_in_either_direction_does_not(drag) -> None:
    assert MIN_SIZE == 1.0
    assert drag("s", (10, 10), (11, 11)) is not None
    assert drag("s", (10, 10), (9, 9)) is not None
    assert drag("s", (10, 10), (10.9, 15)) is None
    assert drag("s", (10, 10), (15, 10.9)) is None
    assert drag("s", (10, 10), (5, 9.5)) is None
    assert drag("s", (-10, -10), (10.5, 10.5)) is not None  # the size is the difference, not the sum
    assert drag("s", (3, 12), (20, 12.5)) is None  # x and y are not mixed up
    assert drag("s", (12, 3), (12.5, 20)) is None
    assert drag("s", (0, 10), (5, 10.5)) is None


def test_dragged_regions_keep_their_label_and_geometry() -> None:
    box = box_between("spot", (9, 8), (2, 3))
    assert box.label == "spot" and box.points == ((2, 3), (9, 8))
    ellipse = ellipse_between("crack", (2, 4), (12, 10))
    assert ellipse.label == "crack" and ellipse.points == ((7.0, 7.0), (5.0, 3.0))


def test_a_dab_is_a_filled_disc_and_a_stroke_is_as_wide_as_the_brush() -> None:
    dab = stroke_bitmap([(10, 10)], 2, H, W)
    assert dab.dtype == bool and dab.shape == (H, W)
    assert dab[10, 8] and dab[10, 12] and dab[8, 10] and dab[10, 10] and not dab[10, 13] and not dab[7, 10]
    single = stroke_bitmap([(10, 10)], 0.2, H, W)
    assert single.sum() == 1 and single[10, 10]  # radius rounds to 0: one pixel
    line = stroke_bitmap([(5, 10), (25, 10)], 2, H, W)
    assert line[8:13, 15].all() and not line[7, 15] and not line[13, 15]  # 2 * radius + 1 rows across
    thin = stroke_bitmap([(5, 10), (25, 10)], 0.2, H, W)
    assert thin[10, 5:26].all() and thin[:, 15].sum() == 1
    assert stroke_bitmap([(3.4, 4.6)], 0, H, W)[5, 3]  # centres are rounded


def test_a_stroke_joins_consecutive_points_only() -> None:
    stroke = stroke_bitmap([(2, 2), (2, 17), (27, 17)], 0.5, H, W)
    assert stroke[10, 2] and stroke[17, 15] and not stroke[10, 15]


def test_cropped_region_is_cut_to_the_painted_pixels() -> None:
    bitmap = np.zeros((H, W), bool)
    bitmap[3:5, 7:10] = True
    region = cropped("s", bitmap)
    assert region.points == ((7.0, 3.0),) and region.bitmap.shape == (2, 3) and region.bitmap.all()
    one = np.zeros((H, W), bool)
    one[0, 0] = True
    assert cropped("s", one).bitmap.shape == (1, 1)
    assert cropped("s", np.zeros((H, W), bool)) is None


def test_region_pixels_is_a_boolean_image_of_what_the_region_covers() -> None:
    covered = region_pixels(Region.box("s", 1, 2, 4, 5), H, W)
    assert covered.dtype == bool and covered.sum() == 9 and covered[2:5, 1:4].all()


def test_the_changed_flag_and_the_return_values() -> None:
    editor = RegionEditor(H, W)
    assert editor.changed is False and editor.regions == []
    assert editor.add(None) is False and editor.changed is False
    assert editor.add(box_between("s", (1, 1), (5, 5))) is True and editor.changed is True
    editor.changed = False
    assert editor.paint("s", [(100, 100)], 2) is False and editor.changed is False  # off the image
    assert editor.paint("s", [(10, 10)], 2) is True and editor.changed is True
    editor.changed = False
    assert editor.erase([(25, 18)], 0.5) is False and editor.changed is False
    assert editor.erase([(10, 10)], 3) is True and editor.changed is True
    editor.changed = False
    assert editor.undo() is True and editor.changed is True


def test_erasing_a_painted_region_entirely_removes_it() -> None:
    editor = RegionEditor(H, W)
    editor.paint("s", [(10, 10)], 1)
    assert editor.erase([(10, 10)], 3)
    assert editor.regions == []
    editor.paint("s", [(10, 10), (20, 10)], 1)
    editor.erase([(10, 10)], 2)
    assert [r.label for r in editor.regions] == ["s"]


def test_undo_keeps_the_last_two_hundred_steps() -> None:
    assert UNDO_LIMIT == 200
    editor = RegionEditor(H, W)
    for i in range(UNDO_LIMIT + 5):
        editor.add(Region.box(str(i), 0, 0, 2, 2))
    steps = 0
    while editor.undo():
        steps += 1
    assert steps == UNDO_LIMIT and len(editor.regions) == 5


def test_index_mask_numbers_regions_by_label_and_unknown_ones_last() -> None:
    editor = RegionEditor(4, 6, [Region.box("b", 0, 0, 2, 2), Region.box("x", 2, 0, 4, 2), Region.box("a", 0, 2, 2, 4),
                                 Region.box("b", 1, 1, 3, 3)])
    mask = editor.index_mask(["a", "b"])
    assert mask.dtype == np.uint8 and mask.shape == (4, 6)
    assert mask[0, 0] == 2 and mask[0, 3] == 3 and mask[3, 0] == 1 and mask[0, 5] == 0
    assert mask[2, 1] == 2  # later regions on top: the second "b" over the "a"
    many = [f"c{i}" for i in range(300)]
    over = RegionEditor(2, 2, [Region.box("c299", 0, 0, 1, 1), Region.box("c3", 1, 1, 2, 2)]).index_mask(many)
    assert over[0, 0] == 255 and over[1, 1] == 4


def test_saved_regions_read_back_as_drawn(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    path = save_regions(image, [Region.box("s", 0, 0, 2, 2)], H, W)
    assert read_labelme(path).source == "drawn"
    assert json.loads(path.read_text(encoding="utf-8"))["imagePath"] == "a.png"


def test_nothing_to_save_and_no_file_writes_nothing(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    assert save_regions(image, [], H, W) == tmp_path / "a.json"
    assert not (tmp_path / "a.json").exists()
    assert load_regions(image, H, W) == ([], True)


def test_loaded_regions_fit_the_image(tmp_path: Path) -> None:
    image = tmp_path / "a.png"
    save_regions(image, [Region.box("s", 1, 1, 3, 3)], H, W)
    regions, ours = load_regions(image, 2 * H, 2 * W)
    assert ours and regions[0].points == ((2, 2), (6, 6))
    assert labelme_path(tmp_path / "x.y.png") == tmp_path / "x.y.json"


@pytest.mark.parametrize("suffix", [".xml", ".txt"])
def test_a_voc_or_yolo_file_beside_the_image_counts(tmp_path: Path, suffix: str) -> None:
    image = tmp_path / "a.png"
    assert not has_regions(image)
    (tmp_path / f"a{suffix}").write_text("", encoding="utf-8")
    assert has_regions(image)
    (tmp_path / f"b{suffix.upper()}").write_text("", encoding="utf-8")
    assert not has_regions(tmp_path / "c.png")


def test_a_broken_labelme_file_counts_so_it_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{", encoding="utf-8")
    assert has_regions(tmp_path / "a.png")


def test_an_mvtec_mask_counts_only_inside_the_root(tmp_path: Path) -> None:
    image = tmp_path / "bottle" / "test" / "broken" / "a.png"
    truth = tmp_path / "bottle" / "ground_truth" / "broken"
    truth.mkdir(parents=True)
    (truth / "a_mask.png").write_bytes(b"")
    assert has_regions(image, tmp_path / "bottle")
    assert not has_regions(image, tmp_path / "bottle" / "test" / "broken")
