"""The image-space combinations against independent implementations (scipy.ndimage for the
Sobel edges and the morphology, scipy.special.expit for the emphasis, seed 004's linear
transformation with its lower end) and at their boundaries, written from the survivors of a
mutation run of engine/maps (README, "Mutation testing").
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage, special

from engine.maps import combine
from tests.engine.test_methods_combine import _seed_threshold


def test_sobel_edges_are_the_dilated_gradient_magnitude_of_the_gray_image():
    # guards: a second derivative or a mixed one, another dilation than 5 x 5, the gray step lost
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (23, 31)).astype(np.uint8)
    gray[8:15, 10:20] = 255  # a bright patch: strong edges
    level = gray.astype(np.float64)
    magnitude = np.hypot(ndimage.sobel(level, axis=1, mode="mirror"), ndimage.sobel(level, axis=0, mode="mirror"))
    dilated = ndimage.grey_dilation(magnitude, size=(5, 5), mode="reflect")
    expected = dilated / dilated.max()
    rgb = np.repeat(gray[..., None], 3, axis=2)  # R = G = B: the gray conversion is exact
    np.testing.assert_allclose(combine.sobel_edges(rgb), expected, atol=1e-5)
    np.testing.assert_allclose(combine.sobel_edges(gray), expected, atol=1e-5)  # a gray display as it is


def test_morphological_cleanup_is_a_3x3_grey_closing_then_opening():
    # guards: another square size by default, opening and closing swapped or replaced
    rng = np.random.default_rng(1)
    heat = rng.random((30, 30)).astype(np.float32) * (rng.random((30, 30)) > 0.7)
    expected = ndimage.grey_opening(ndimage.grey_closing(heat, size=(3, 3)), size=(3, 3))
    inner = (slice(4, -4), slice(4, -4))  # OpenCV and scipy treat the image border differently
    got = combine.morphological_cleanup(heat)
    np.testing.assert_allclose(got[inner], expected[inner], atol=1e-7)
    wider = ndimage.grey_opening(ndimage.grey_closing(heat, size=(5, 5)), size=(5, 5))
    np.testing.assert_allclose(combine.morphological_cleanup(heat, 5)[inner], wider[inner], atol=1e-7)


def test_emphasis_is_the_seed_sigmoid_centred_at_one_half_by_default():
    heat = np.linspace(0.0, 1.0, 101, dtype=np.float32).reshape(1, -1)
    got = combine.emphasize(heat)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, special.expit(50.0 * (heat - 0.5)), rtol=1e-5, atol=1e-7)


def _seed_linear(values, above, below, lower_end):
    """Seed 004's LinearTransform with its lower end."""
    m, e = _seed_threshold(values, 100 - above), _seed_threshold(values, 100 - below)
    out = (1 - lower_end) * (np.abs(values) - e) / (m - e) + lower_end
    out *= np.sign(values)
    out *= out >= lower_end
    return np.clip(out, 0.0, 1.0)


def test_the_linear_transformation_with_a_lower_end_and_its_defaults():
    # guards: the lower end subtracted, the default 99.9 / 0 percentiles changed (a map of many
    # small values, where the top 0.1 % is not the single largest one)
    values = np.random.default_rng(2).gamma(1.0, size=(60, 70)).astype(np.float32)
    np.testing.assert_allclose(combine.linear_transformation(values, 95.0, 30.0, lower_end=0.2),
                               _seed_linear(values, 95.0, 30.0, 0.2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(combine.linear_transformation(values), _seed_linear(values, 99.9, 0.0, 0.0),
                               rtol=1e-5, atol=1e-6)


def test_a_narrow_span_is_stretched_and_only_an_empty_span_is_binary():
    # guards: the binary fallback taken for spans up to 1 (small attributions), a tie at the
    # threshold dropped, everything below the threshold kept, a threshold of 1 taken as none
    small = np.linspace(0.0, 0.5, 50, dtype=np.float32).reshape(5, 10)
    np.testing.assert_allclose(combine.linear_transformation(small, 99.0, 0.0), _seed_linear(small, 99.0, 0.0, 0.0),
                               rtol=1e-5, atol=1e-6)
    tied = np.array([[1.0, 1.0, 1.0, 1.0, 0.001]], np.float32)  # 99.9 and 50 % thresholds are both 1
    np.testing.assert_array_equal(combine.linear_transformation(tied, 99.9, 50.0), [[1, 1, 1, 1, 0]])
    np.testing.assert_array_equal(combine.linear_transformation(np.full((2, 2), 0.3, np.float32), 99.0, 10.0),
                                  np.ones((2, 2)))


def test_polarity_maps_are_float32():
    attributions = np.random.default_rng(3).normal(size=(4, 5, 3))  # float64, as a caller may give
    assert combine.polarity_map(attributions, "positive").dtype == np.float32


def _blob_map(size: int) -> np.ndarray:
    heat = np.zeros((size, size), np.float32)
    heat[: size // 2, : size // 3] = 0.9  # touches the top and left edges
    return heat


def test_the_outline_level_is_one_half_by_default_and_exclusive():
    # guards: the default level changed, a region exactly at the level outlined
    heat = np.zeros((40, 40), np.float32)
    heat[5:15, 5:15] = 1.0
    heat[25:35, 25:35] = 0.5  # exactly at the level: not above it
    got = combine.outline(heat)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, combine.outline(heat, 0.5))
    assert got[5:15, 5:15].any() and not got[25:35, 25:35].any()


def test_a_weak_map_under_the_level_outlines_its_own_peak():
    # guards: the peak computed with another floor than 0 (a map peaking at 0.4 would come out blank)
    heat = np.zeros((30, 30), np.float32)
    heat[10:20, 10:20] = 0.4
    border = combine.outline(heat, 0.5)
    assert border[10, 10:20].all() and not border[12:18, 12:18].any()


def test_a_region_on_the_image_edge_keeps_its_border_along_the_edge():
    # guards: the erosion's border not constant zero (a region touching the edge loses that side)
    border = combine.outline(_blob_map(60))
    assert border[0, :20].all() and border[:30, 0].all()


@pytest.mark.parametrize("size, thickness", [(300, 1), (384, 2), (768, 3)])
def test_the_outline_thickens_with_the_image_one_pixel_per_256(size, thickness):
    # guards: the 256-pixel step changed, thickness 2 left undilated, another kernel
    border = combine.outline(_blob_map(size))
    assert border.dtype == np.float32 and set(np.unique(border)) == {0.0, 1.0}
    column = border[size // 4, :]  # crosses the region's right side once
    assert column[size // 3 - 5: size // 3 + 5].sum() == thickness
    assert combine.outline(np.zeros((size, size), np.float32)).dtype == np.float32
