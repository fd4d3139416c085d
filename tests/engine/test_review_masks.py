"""Finding ground-truth masks in the three layouts and reading their values."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engine.images.decoding import list_images
from engine.review import class_mask, find_mask, fit_mask, is_class_mask, load_mask


def _png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def _image(path: Path) -> Path:
    return _png(path, np.full((8, 8, 3), 128, np.uint8))


def test_mask_beside_the_image(tmp_path):
    image = _image(tmp_path / "scratch" / "a.png")
    mask = np.zeros((8, 8), np.uint8)
    mask[2, 3] = 1
    _png(tmp_path / "scratch" / "a_mask.png", mask)
    assert find_mask(image, tmp_path) == tmp_path / "scratch" / "a_mask.png"
    np.testing.assert_array_equal(load_mask(image, tmp_path), mask)


def test_dagm_label_folder(tmp_path):
    folder = tmp_path / "Class1" / "Train"
    image = _image(folder / "0576.PNG")
    _png(folder / "Label" / "0576_label.PNG", np.full((8, 8), 255, np.uint8))
    assert find_mask(image, tmp_path) == folder / "Label" / "0576_label.PNG"
    assert load_mask(image, tmp_path).max() == 255
    assert list_images(tmp_path) == [image]  # the label file is not reviewed as an image


def test_mvtec_ground_truth(tmp_path):
    category = tmp_path / "bottle"
    image = _image(category / "test" / "broken_large" / "000.png")
    _image(category / "test" / "good" / "000.png")
    _png(category / "ground_truth" / "broken_large" / "000_mask.png", np.full((8, 8), 255, np.uint8))
    assert find_mask(image, tmp_path) == category / "ground_truth" / "broken_large" / "000_mask.png"
    # the review root may be the test folder itself
    assert find_mask(image, category / "test") is not None
    assert find_mask(category / "test" / "good" / "000.png", tmp_path) is None


def test_mvtec_rule_needs_the_test_folder_inside_the_root(tmp_path):
    image = _image(tmp_path / "test" / "crack" / "000.png")
    _png(tmp_path / "ground_truth" / "crack" / "000_mask.png", np.full((8, 8), 255, np.uint8))
    assert find_mask(image, tmp_path / "test" / "crack") is None


def test_no_mask(tmp_path):
    assert load_mask(_image(tmp_path / "ok" / "b.png"), tmp_path) is None


def test_colour_mask_becomes_two_dimensional(tmp_path):
    image = _image(tmp_path / "c.png")
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[1, 1, 2] = 200
    _png(tmp_path / "c_mask.png", colour)
    mask = load_mask(image, tmp_path)
    assert mask.shape == (8, 8) and mask[1, 1] == 200 and mask.sum() == 200


def test_class_index_rule():
    demo = np.array([[0, 1, 1], [0, 3, 3]], np.uint8)
    assert is_class_mask(demo, 1, 4) and is_class_mask(demo, 3, 4)
    assert not is_class_mask(demo, 2, 4)  # value absent: binary
    assert not is_class_mask(demo, 0, 4)  # background class: binary
    assert not is_class_mask(np.array([[0, 255]], np.uint8), 1, 4)  # 0/255 masks are binary
    assert not is_class_mask(np.array([[0, 1, 5]], np.uint8), 1, 4)  # value beyond the classes
    region, mode = class_mask(demo, 3, 4)
    assert mode == "class" and region.tolist() == [[False, False, False], [False, True, True]]
    region, mode = class_mask(demo, 2, 4)
    assert mode == "binary" and int(region.sum()) == 4


def test_fit_mask_keeps_class_values():
    mask = np.array([[0, 2], [3, 0]], np.uint8)
    bigger = fit_mask(mask, 4, 4)
    assert bigger.shape == (4, 4) and set(np.unique(bigger)) == {0, 2, 3}
