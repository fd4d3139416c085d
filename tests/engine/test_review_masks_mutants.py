"""Ground-truth masks at their edges: layout names, folder listings, the review root, odd files.

Each test names the bug it guards against (found surviving by mutation testing, README
"Mutation testing").
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import ImageLoadError
from engine.review.masks import (
    LAYOUT_KINDS,
    class_mask,
    find_mask_source,
    is_class_mask,
    load_mask,
    read_mask,
)


def _png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def test_each_layout_is_named_and_has_its_kind(tmp_path):
    # bug: a misspelt layout name, which the annotation source looks up in LAYOUT_KINDS
    mask = np.ones((4, 4), np.uint8)
    beside = _png(tmp_path / "a_mask.png", mask)
    dagm = _png(tmp_path / "Label" / "b_label.PNG", mask)
    mvtec = _png(tmp_path / "bottle" / "ground_truth" / "crack" / "c_mask.png", mask)
    found = [find_mask_source(tmp_path / "a.png"), find_mask_source(tmp_path / "b.PNG"),
             find_mask_source(tmp_path / "bottle" / "test" / "crack" / "c.png")]
    assert found == [(beside, "mask"), (dagm, "dagm"), (mvtec, "mvtec")]
    assert [LAYOUT_KINDS[layout] for _, layout in found] == ["pixel", "ellipse", "pixel"]


def test_a_folder_listing_replaces_the_file_checks(tmp_path):
    # bug: the caller's `exists` ignored, so masks known from a listing are looked up on disk
    listed = {tmp_path / "Label" / "b_label.png", tmp_path / "cat" / "ground_truth" / "cut" / "c_mask.png"}
    assert find_mask_source(tmp_path / "b.png", exists=listed.__contains__) == (
        tmp_path / "Label" / "b_label.png", "dagm")
    assert find_mask_source(tmp_path / "cat" / "test" / "cut" / "c.png", exists=listed.__contains__) == (
        tmp_path / "cat" / "ground_truth" / "cut" / "c_mask.png", "mvtec")


def test_an_mvtec_image_without_its_mask_has_none(tmp_path):
    # bug: a missing MVTec mask returned as (None, "mvtec") instead of None
    assert find_mask_source(tmp_path / "bottle" / "test" / "good" / "000.png") is None


def test_no_mask_is_read_from_outside_the_review_folder(tmp_path):
    # bug: load_mask dropping the review root, so an MVTec mask above the chosen folder is read
    _png(tmp_path / "bottle" / "ground_truth" / "crack" / "c_mask.png", np.ones((4, 4), np.uint8))
    image = tmp_path / "bottle" / "test" / "crack" / "c.png"
    assert load_mask(image, root=tmp_path / "bottle" / "test" / "crack") is None
    assert load_mask(image, root=tmp_path / "bottle" / "test") is not None


def test_the_class_count_decides_a_class_mask():
    # bug: class_mask not passing num_classes on, so a value past the last class reads as a class
    mask = np.array([[0, 1, 3]], np.uint8)
    region, mode = class_mask(mask, 1, num_classes=3)
    assert mode == "binary"
    np.testing.assert_array_equal(region, [[False, True, True]])
    assert class_mask(mask, 1)[1] == "class"


def test_a_class_past_the_class_count_is_not_a_class_mask():
    # bug: a class index above num_classes - 1 accepted
    mask = np.array([[0, 3]], np.uint8)
    assert not is_class_mask(mask, 3, num_classes=3)
    assert is_class_mask(mask, 3, num_classes=4)


def test_a_0_255_mask_is_binary_for_every_class():
    # bug: 255 accepted as a class index when the class count is unknown
    mask = np.array([[0, 255]], np.uint8)
    assert not is_class_mask(mask, 255)
    assert class_mask(mask, 255)[1] == "binary"


def test_a_one_pixel_mask_is_read(tmp_path):
    # bug: a 1-pixel mask refused as empty (size == 1 instead of 0)
    np.testing.assert_array_equal(read_mask(_png(tmp_path / "m.png", np.array([[7]], np.uint8))), [[7]])


def test_a_float_mask_becomes_binary(tmp_path):
    # bugs: a float TIFF mask not reduced to 0/1 uint8 (threshold at 0 or 1, NaN kept, dtype lost)
    values = np.array([[0.0, 0.4, np.nan, 2.0]], np.float32)
    path = tmp_path / "m.tiff"
    assert cv2.imwrite(str(path), values)
    mask = read_mask(path)
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask, [[0, 1, 0, 1]])


@pytest.mark.parametrize(("content", "reason"), [(None, "cannot read mask"), (b"", "not a readable mask image"),
                                                 (b"not an image", "not a readable mask image")])
def test_an_unreadable_mask_is_one_clear_error_naming_the_file(tmp_path, content, reason):
    # bugs: a missing, empty or corrupt mask file raising without its name, or crashing on
    # None (the empty and corrupt checks joined with `and`, an empty file decoded anyway)
    path = tmp_path / "broken_mask.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageLoadError, match=f"broken_mask.png: {reason}"):
        read_mask(path)
