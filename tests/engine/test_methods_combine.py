"""engine.maps.combine: the image-space combinations, checked on hand-made maps."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.maps import combine


def _seed_threshold(values: np.ndarray, percentage: float) -> float:
    """Seed 004's get_thresholded_attributions, as the oracle."""
    if percentage == 100.0:
        return float(np.min(values))
    flat = values.flatten()
    ordered = np.sort(np.abs(flat))[::-1]
    cumulative = 100.0 * np.cumsum(ordered) / np.sum(flat)
    return float(ordered[np.where(cumulative >= percentage)[0][0]])


def _seed_linear(values: np.ndarray, above: float, below: float) -> np.ndarray:
    m, e = _seed_threshold(values, 100 - above), _seed_threshold(values, 100 - below)
    out = (np.abs(values) - e) / (m - e) * np.sign(values)
    out *= out >= 0.0
    return np.clip(out, 0.0, 1.0)


@pytest.mark.parametrize("above, below", [(99.9, 0.0), (99.0, 0.0), (95.0, 28.0), (100.0, 0.0)])
def test_linear_transformation_matches_seed(above, below):
    values = np.random.default_rng(0).gamma(1.0, size=(40, 50)).astype(np.float32)
    np.testing.assert_allclose(combine.linear_transformation(values, above, below),
                               _seed_linear(values, above, below), rtol=1e-5, atol=1e-6)


def test_linear_transformation_of_zeros_is_zero_not_nan():
    out = combine.linear_transformation(np.zeros((5, 5), np.float32), 99.0, 10.0)
    assert not np.isnan(out).any() and out.max() == 0.0


def test_polarity_keeps_one_sign_and_averages_channels():
    attributions = np.zeros((2, 2, 3), np.float32)
    attributions[0, 0] = [3.0, -3.0, 0.0]
    assert combine.polarity_map(attributions, "positive")[0, 0] == pytest.approx(1.0)
    assert combine.polarity_map(attributions, "negative")[0, 0] == pytest.approx(1.0)
    attributions[1, 1] = [-6.0, -6.0, -6.0]
    assert combine.polarity_map(attributions, "positive")[1, 1] == 0.0
    assert combine.polarity_map(attributions, "negative")[1, 1] == pytest.approx(6.0)


def test_sobel_edges_peak_at_a_step():
    image = np.zeros((32, 32, 3), np.uint8)
    image[:, 16:] = 200
    edges = combine.sobel_edges(image)
    assert edges.max() == pytest.approx(1.0, abs=1e-6)
    assert edges[:, 15:17].min() > 0.9 and edges[:, :10].max() == 0.0  # dilated, but not everywhere


def test_emphasize_is_a_steep_sigmoid_around_the_threshold():
    values = np.array([0.0, 0.4, 0.5, 0.6, 1.0], np.float32)
    out = combine.emphasize(values, 0.5)
    assert out[2] == pytest.approx(0.5)
    assert out[0] < 1e-6 and out[1] < 0.01 and out[3] > 0.99 and out[4] > 1 - 1e-6


def test_outline_draws_borders_of_the_largest_regions():
    heatmap = np.zeros((64, 64), np.float32)
    heatmap[10:30, 10:30] = 1.0  # big region with a hole: holes are filled
    heatmap[18:22, 18:22] = 0.0
    heatmap[40:44, 40:44] = 1.0  # small region: kept only if needed to reach 90 % of the area
    border = combine.outline(heatmap, 0.5)
    assert set(np.unique(border)) == {0.0, 1.0}
    assert border[10, 15] == 1.0 and border[20, 20] == 0.0 and border[15, 15] == 0.0
    assert border[40:44, 40:44].max() == 0.0
    assert combine.outline(np.zeros((8, 8), np.float32)).max() == 0.0


def test_morphological_cleanup_removes_specks():
    heatmap = np.zeros((20, 20), np.float32)
    heatmap[5, 5] = 1.0
    heatmap[10:16, 10:16] = 1.0
    cleaned = combine.morphological_cleanup(heatmap)
    assert cleaned[5, 5] == 0.0 and cleaned[12, 12] == 1.0


def test_finish_combines_in_order_and_never_returns_nan():
    _, options = combine.split_options({"edges": True, "emphasize": True, "cleanup": True})
    display = np.random.default_rng(0).integers(0, 255, (40, 60, 3)).astype(np.uint8)
    raw = np.random.default_rng(1).random((5, 6)).astype(np.float32)
    heatmap, empty = combine.finish(raw, None, display, options)
    assert heatmap.shape == (40, 60) and not empty and 0.0 <= heatmap.min() <= heatmap.max() <= 1.0
    zeros, empty = combine.finish(np.zeros((5, 6), np.float32), None, display, options)
    assert empty and zeros.max() == 0.0 and not np.isnan(zeros).any()
    _, guided_options = combine.split_options({"guided": True})
    guided, _ = combine.finish(raw, None, display, guided_options, guided=np.zeros((10, 12), np.float32))
    assert guided.max() == 0.0


def test_options_are_split_from_method_parameters_and_checked():
    method, options = combine.split_options({"steps": 5, "outline": True, "polarity": "negative"})
    assert method == {"steps": 5} and options["outline"] is True and options["polarity"] == "negative"
    assert options["clip_percentile"] == 100.0 and options["emphasize"] is False  # defaults filled in
    for bad, named in (({"polarity": "up"}, "polarity"), ({"clip_percentile": -1}, "clip-percentile"),
                       ({"clip_percentile": 50, "clip_below": 60}, "clip-below"),
                       ({"emphasize_threshold": 2}, "emphasize-threshold"), ({"outline": 1}, "outline")):
        with pytest.raises(MethodError, match=named):
            combine.split_options(bad)
    with pytest.raises(MethodError):
        combine.check_options(options, "gradcam", is_cam=True)
    with pytest.raises(MethodError):
        combine.check_options({**options, "guided": True, "polarity": None}, "saliency", is_cam=False)


@pytest.mark.parametrize("method", ["gradcam", "saliency", "integrated-gradients"])
def test_full_resolution_map_spans_zero_to_one(method):
    from tests.models import image, session, tiny_cnn

    explanation = session(tiny_cnn(seed=1)).explain(image(75, 101, seed=6), method, **(
        {"layer": "conv2"} if method == "gradcam" else {}))
    assert explanation.heatmap.shape == (75, 101) and explanation.heatmap.max() == pytest.approx(1.0, abs=1e-5)
    if method == "gradcam":  # (min, max) normalised; gradient maps are scaled linearly, keeping their floor
        assert explanation.heatmap.min() == 0.0
    else:
        assert explanation.heatmap.min() >= 0.0
