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
    many = np.random.default_rng(2).random((100, 100)).astype(np.float32)  # the top 0.1 % is a few values
    assert _seed_threshold(many, 0.1) < many.max()
    np.testing.assert_allclose(combine.linear_transformation(many), _seed_linear(many, 99.9, 0.0, 0.0),
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
    heat[5:15, 25:35] = 0.7  # above the default level, below the peak
    got = combine.outline(heat)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, combine.outline(heat, 0.5))
    assert got[5:15, 5:15].any() and got[5:15, 25:35].any() and not got[25:35, 25:35].any()


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


def _options(**given):
    return combine.split_options(given)[1]


def test_clipping_applies_when_either_percentile_is_set():
    # guards: clipping only when both percentiles are set, clip-below counted from 1 instead of 0
    raw = np.random.default_rng(4).gamma(1.0, size=(12, 12)).astype(np.float32)
    raw[0, 0] = 50.0  # an outlier that clipping maps to 1 with its neighbours' share
    display = np.zeros((12, 12, 3), np.uint8)
    for given in ({"clip_percentile": 99.0}, {"clip_below": 0.5}, {"clip_percentile": 95.0, "clip_below": 30.0}):
        options = _options(**given)
        expected = combine.linear_transformation(raw, options["clip_percentile"], options["clip_below"])
        heatmap, empty = combine.finish(raw, None, display, options)
        assert not empty and heatmap.max() == 1.0  # back to an exact peak of 1 after the resize
        np.testing.assert_allclose(heatmap, expected / expected.max(), atol=1e-6)
    unclipped, _ = combine.finish(raw, None, display, _options())
    assert (unclipped > 0.5).sum() < (combine.finish(raw, None, display, _options(clip_percentile=60.0))[0] > 0.5).sum()


def test_the_chosen_polarity_reaches_the_map():
    # guards: the polarity option not passed on (positive attributions shown as negative ones)
    attributions = np.random.default_rng(5).normal(size=(10, 10, 3)).astype(np.float32)
    display = np.zeros((10, 10, 3), np.uint8)
    for polarity in ("positive", "negative"):
        heatmap, _ = combine.finish(np.zeros((10, 10), np.float32), attributions, display,
                                    _options(polarity=polarity))
        part = combine.polarity_map(attributions, polarity)
        np.testing.assert_allclose(heatmap, part / part.max(), atol=1e-6)


def test_combinations_that_apply_are_accepted_and_missing_ones_are_defaults():
    # guards: the applicability test ignoring which kind the method is; an option left out
    # of the dictionary taken as set
    accepted = [({**_options(), "guided": True}, "gradcam", True),
                ({**_options(), "polarity": "positive", "clip_percentile": 99.0}, "saliency", False),
                ({}, "gradcam", True), ({}, "saliency", False)]
    for options, method, is_cam in accepted:
        assert combine.check_options(options, method, is_cam) is None  # no MethodError


def test_the_threshold_is_the_last_magnitude_when_the_share_is_reached_only_there():
    # guards: the clamp to the last index off by one (the smallest magnitude never chosen, or
    # an index past the end when float32 sums leave the last cumulative share under 100)
    assert combine.threshold_at(np.array([[3.0, 1.0]], np.float32), 80.0) == 1.0
    rng = np.random.default_rng(0)
    while True:  # float32 magnitudes whose running sum ends just under 100 % of their total
        values = rng.random(10007).astype(np.float32)
        ordered = np.sort(values)[::-1]
        if (100.0 * np.cumsum(ordered) / ordered.sum())[-1] < 100.0:
            break
    assert combine.threshold_at(values, 99.99999) == values.min()


@pytest.mark.parametrize("shape, size", [((8, 8), (4, 4)), ((4, 8), (4, 2)), ((8, 4), (2, 4)), ((16, 2), (4, 2))])
def test_shrinking_a_map_averages_its_blocks(shape, size):
    # guards: area averaging only when both sides strictly shrink (or either), the sides swapped
    from engine.maps.normalise import resize_map

    values = np.random.default_rng(6).random(shape)  # float64 in: float32 out
    got = resize_map(values, *size)
    rows, columns = shape[0] // size[0], shape[1] // size[1]
    expected = values.reshape(size[0], rows, size[1], columns).mean(axis=(1, 3))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    np.testing.assert_allclose(resize_map(values, 1, 1), [[values.mean()]], rtol=1e-5)


def test_enlarging_or_mixed_resizing_is_bilinear():
    import cv2

    from engine.maps.normalise import resize_map

    values = np.random.default_rng(7).random((4, 4)).astype(np.float32)
    for size in ((8, 8), (2, 8), (8, 2)):
        np.testing.assert_array_equal(resize_map(values, *size),
                                      cv2.resize(values, size[::-1], interpolation=cv2.INTER_LINEAR))
    ramp = np.array([[0.0, 1.0]], np.float32)  # output centres at source x = -0.25, 0.25, 0.75, 1.25, ends clamped
    np.testing.assert_allclose(resize_map(ramp, 1, 4), [[0.0, 0.25, 0.75, 1.0]], atol=1e-6)


def test_a_refused_combination_names_only_itself():
    # guards: a method name or a stray prefix in front of the combination's message
    with pytest.raises(Exception, match=r"^clip-percentile must be a number between 0 and 100, not -1$"):
        combine.split_options({"clip_percentile": -1})


def test_normalise_treats_infinities_as_no_evidence_and_keeps_float32():
    # guards: -inf kept as the most negative float (a "min" map squashed to one level), a
    # float64 map returned as float64 zeros when flat
    from engine.maps.normalise import normalise

    values, empty = normalise(np.array([[0.0, 1.0, -np.inf, 2.0, np.nan, np.inf]]), "min")
    np.testing.assert_allclose(values, [[0.0, 0.5, 0.0, 1.0, 0.0, 0.0]], atol=1e-6)
    assert not empty and values.dtype == np.float32
    flat, empty = normalise(np.zeros((3, 3), np.float64))
    assert empty and flat.dtype == np.float32
    with pytest.raises(ValueError, match=r"^unknown floor 'max'; one of zero, min$"):
        normalise(np.zeros((2, 2)), "max")


@pytest.mark.parametrize("floor", ["zero", "min"])
def test_a_span_is_flat_below_a_ten_millionth_of_the_map_or_of_one(floor):
    # guards: the flatness test relative to the map's size only (tiny maps always flat or never),
    # a scale floor of 2, the relative tolerance divided instead of multiplied
    from engine.maps.normalise import normalise

    assert normalise(np.array([[0.0, 5e-8]], np.float32), floor)[1]  # under 1e-7 of 1: flat
    assert not normalise(np.array([[0.0, 1.5e-7]], np.float32), floor)[1]  # above: a (weak) map
    noise = np.array([[1000.0, np.nextafter(np.float32(1000), np.float32(2000))]], np.float32)  # one float32 step
    if floor == "min":
        assert normalise(noise, floor)[1]
    else:
        assert normalise(noise, floor)[0].min() > 0.99  # zero floor: a map of 1000s is bright everywhere


def _regions(*shapes: tuple[int, int]) -> np.ndarray:
    """A map with one rectangle of level 1 per (height, width), left to right, 3 pixels apart."""
    heat = np.zeros((max(h for h, _ in shapes) + 6, sum(w + 3 for _, w in shapes) + 3), np.float32)
    left = 3
    for height, width in shapes:
        heat[3:3 + height, left:left + width] = 1.0
        left += width + 3
    return heat


def _kept(border: np.ndarray, *shapes: tuple[int, int]) -> list[bool]:
    kept, left = [], 3
    for _height, width in shapes:
        kept.append(bool(border[:, left:left + width].any()))
        left += width + 3
    return kept


@pytest.mark.parametrize("shapes, kept", [
    (((2, 5), (20, 20), (10, 10)), [False, True, True]),  # 90 % of 505 needs the two largest
    (((5, 179), (10, 10), (1, 5)), [True, True, False]),  # 895 of 1000: just under 90 %, the second is needed
    (((8, 5), (6, 5), (4, 5), (2, 5)), [True, True, True, False]),  # 90 % needs three: at most three kept
    (((30, 30), (2, 2), (2, 2)), [True, False, False]),  # the largest alone holds 90 %
])
def test_the_outline_keeps_the_largest_regions_holding_90_percent(shapes, kept):
    # guards: regions kept in label order instead of by area, the 90 % share or the three-region
    # cap computed wrongly
    assert _kept(combine.outline(_regions(*shapes)), *shapes) == kept


def test_an_outline_is_the_four_connected_inner_border():
    # guards: a square structuring element or a shifted cross (diagonal steps counted as border)
    yy, xx = np.mgrid[:41, :41]
    disc = ((yy - 20) ** 2 + (xx - 20) ** 2 <= 15 ** 2)
    cross = ndimage.generate_binary_structure(2, 1)
    expected = disc & ~ndimage.binary_erosion(disc, cross, border_value=0)
    np.testing.assert_array_equal(combine.outline(disc.astype(np.float32)), expected.astype(np.float32))


def test_finish_passes_each_combination_its_settings():
    # guards: the emphasis threshold or the outline level not reaching their step, edges divided
    # instead of multiplied, the guided map dropped
    rng = np.random.default_rng(8)
    raw = rng.random((16, 16)).astype(np.float32)
    display = rng.integers(0, 256, (16, 16, 3)).astype(np.uint8)
    base, _ = combine.finish(raw, None, display, _options())
    emphasized, _ = combine.finish(raw, None, display, _options(emphasize=True, emphasize_threshold=0.3))
    np.testing.assert_allclose(emphasized, combine.emphasize(base, 0.3), atol=1e-6)
    outlined, _ = combine.finish(raw, None, display, _options(outline=True, outline_level=0.8))
    np.testing.assert_array_equal(outlined, combine.outline(base, 0.8))
    from engine.maps.normalise import normalise

    edged, _ = combine.finish(raw, None, display, _options(edges=True))
    np.testing.assert_allclose(edged, normalise(base * combine.sobel_edges(display))[0], atol=1e-6)
    guide = rng.random((16, 16)).astype(np.float32)
    guided, _ = combine.finish(raw, None, display, _options(guided=True), guided=guide)
    np.testing.assert_allclose(guided, normalise(base * normalise(guide)[0])[0], atol=1e-6)
