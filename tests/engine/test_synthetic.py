"""Fast tests of the procedural defect-image generator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from resources.demo.synthetic import (
    CLASS_NAMES,
    CONDITIONS,
    TEXTURES,
    Sample,
    make_dataset,
    make_sample,
    make_training_set,
)

REPO = Path(__file__).resolve().parents[2]


def test_class_names_and_textures() -> None:
    assert CLASS_NAMES == ("ok", "scratch", "spot", "crack")
    assert len(TEXTURES) >= 4 and len(set(TEXTURES)) == len(TEXTURES)


@pytest.mark.parametrize("texture", TEXTURES)
@pytest.mark.parametrize("label", range(4))
def test_sample_shapes_and_mask_classes(texture: str, label: int) -> None:
    s = make_sample(np.random.default_rng(label), label, (96, 128), texture)
    assert isinstance(s, Sample)
    assert s.image.shape == (96, 128, 3) and s.image.dtype == np.uint8
    assert s.mask.shape == (96, 128) and s.mask.dtype == np.uint8
    assert s.label == label and s.texture == texture
    assert s.defects == ((label,) if label else ())
    assert set(np.unique(s.mask)) == ({0, label} if label else {0})
    if label:
        assert 0 < np.count_nonzero(s.mask) < s.mask.size // 3


def test_thin_defect_masks_are_wider_than_one_pixel() -> None:
    for label in (1, 3):
        mask = make_sample(np.random.default_rng(3), label).mask > 0
        rows_with_defect = mask.sum(axis=1)
        cols_with_defect = mask.sum(axis=0)
        assert max(rows_with_defect.max(), cols_with_defect.max()) >= 5


def test_image_is_not_flat() -> None:
    for texture in TEXTURES:
        img = make_sample(np.random.default_rng(0), 0, texture=texture).image
        assert img.std() > 3 and 20 < img.mean() < 235


def test_defect_changes_pixels_inside_its_mask() -> None:
    rng = np.random.default_rng(5)
    for label in (1, 2, 3):
        s = make_sample(rng, label, texture="granular")
        inside = s.image[s.mask > 0].astype(float).mean()
        outside = s.image[s.mask == 0].astype(float).mean()
        assert abs(inside - outside) > 3


def test_two_defect_sample_has_both_classes() -> None:
    rng = np.random.default_rng(11)
    for first, second in ((1, 2), (2, 3), (3, 1)):
        s = make_sample(rng, first, extra_defect=second)
        assert s.label == first and s.defects == (first, second)
        assert set(np.unique(s.mask)) == {0, first, second}


@pytest.mark.parametrize(("label", "extra"), [(0, 1), (2, 2), (1, 0), (1, 7)])
def test_bad_extra_defect_is_refused(label: int, extra: int) -> None:
    with pytest.raises(ValueError):
        make_sample(np.random.default_rng(0), label, extra_defect=extra)


def test_bad_label_and_texture_are_refused() -> None:
    with pytest.raises(ValueError):
        make_sample(np.random.default_rng(0), 4)
    with pytest.raises(ValueError):
        make_sample(np.random.default_rng(0), 1, texture="marble")


def test_sample_is_deterministic_for_a_seed() -> None:
    a = make_sample(np.random.default_rng(42), 3, extra_defect=2)
    b = make_sample(np.random.default_rng(42), 3, extra_defect=2)
    c = make_sample(np.random.default_rng(43), 3, extra_defect=2)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.texture == b.texture
    assert not np.array_equal(a.image, c.image)


def test_dataset_shapes_balance_and_determinism() -> None:
    x, y, m = make_dataset(40, seed=7, size=(128, 128), model_size=(64, 64))
    assert x.shape == (40, 64, 64, 3) and x.dtype == np.uint8
    assert m.shape == (40, 64, 64) and m.dtype == np.uint8
    assert y.shape == (40,) and np.array_equal(np.bincount(y, minlength=4), [10, 10, 10, 10])
    for label, mask in zip(y, m, strict=True):
        assert set(np.unique(mask)) <= {0, int(label)}
    x2, y2, m2 = make_dataset(40, seed=7, size=(128, 128), model_size=(64, 64))
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(m, m2)


def test_generator_imports_no_qt_or_tensorflow() -> None:
    code = (
        "import resources.demo.synthetic, sys; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'tensorflow', 'keras')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("condition", CONDITIONS)
def test_conditions_keep_shapes_and_defects(condition: str) -> None:
    rng = np.random.default_rng(8)
    for label in range(4):
        s = make_sample(rng, label, (96, 128), "granular", condition=condition)
        assert s.image.shape == (96, 128, 3) and s.defects == ((label,) if label else ())
        assert set(np.unique(s.mask)) == ({0, label} if label else {0})


def test_hard_conditions_do_what_they_say() -> None:
    def frames(condition: str) -> np.ndarray:
        rng = np.random.default_rng(9)
        return np.stack([make_sample(rng, 0, (64, 64), t, condition=condition).image for t in TEXTURES])

    normal = frames("normal").astype(float)
    assert frames("dark").mean() < 0.5 * normal.mean() and frames("bright").mean() > 200
    detail = [np.abs(np.diff(f.astype(float), axis=1)).mean() for f in (frames("blurred"), normal)]
    assert detail[0] < 0.5 * detail[1]
    uniform = frames("uniform").astype(float)
    assert np.abs(np.diff(uniform, axis=1)).mean() < 2  # no texture: a lighting ramp and noise


def test_unknown_condition_is_refused() -> None:
    with pytest.raises(ValueError, match="condition"):
        make_sample(np.random.default_rng(0), 1, condition="foggy")


def test_training_set_labels_are_multi_hot() -> None:
    x, y = make_training_set(60, seed=3, size=(96, 96), model_size=(48, 48), mixed=0.3, hard=0.3)
    assert x.shape == (60, 48, 48, 3) and y.shape == (60, 4)
    assert set(y.sum(1)) <= {1.0, 2.0} and (y.sum(1) == 2).any()
    assert np.all(y[:, 0][y.sum(1) == 2] == 0)  # two defects are never "ok"
    x2, y2 = make_training_set(60, seed=3, size=(96, 96), model_size=(48, 48), mixed=0.3, hard=0.3)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)

