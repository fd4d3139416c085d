"""The log-space arithmetic the perturbation methods weight by, model-free (a mutant costs
milliseconds): occlusion's probability drops (p_base - p_row without cancellation on a
saturated model, issue 20 item 2) and Score-CAM's per-image relative weights (p / max p)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.methods.common import probability_drops
from engine.methods.scorecam import relative_weights


def _pair(p: list[float]) -> tuple[np.ndarray, np.ndarray]:
    p64 = np.array(p, np.float64)
    return np.log(p64), np.log1p(-p64)


def test_drops_below_one_half_are_the_plain_difference_of_probabilities():
    base, rows = _pair([0.3, 0.3, 0.45]), _pair([0.1, 0.4, 0.2])
    np.testing.assert_allclose(probability_drops(base, rows), [0.2, -0.1, 0.25], rtol=1e-12)


def test_drops_of_a_saturated_model_come_from_the_complements_not_a_zero_difference():
    """p_base = 1 - e^-40 and p_row = 1 - e^-38 are both 1.0 in float64: only (1 - p_row) - (1 - p_base)
    keeps the drop. Guards the base's threshold (above one half the complements are used)."""
    base = (np.array([-math.exp(-40.0)]), np.array([-40.0]))
    rows = (np.array([-math.exp(-38.0)]), np.array([-38.0]))
    drop = probability_drops(base, rows)
    np.testing.assert_allclose(drop, [math.exp(-38.0) - math.exp(-40.0)], rtol=1e-12)


@pytest.mark.parametrize("p_base", [0.5, 0.5000001, 0.4999999, 0.9, 0.1])
def test_either_formula_gives_the_same_drop_where_both_are_exact(p_base):
    base, rows = _pair([p_base] * 3), _pair([0.2, 0.6, 0.95])
    np.testing.assert_allclose(probability_drops(base, rows), p_base - np.array([0.2, 0.6, 0.95]), atol=1e-12)


def test_drops_are_computed_in_float64_from_float32_log_probabilities():
    """The engine's Keras path hands float32 log-probabilities; the drop is their float64 difference
    (in float32 arithmetic two probabilities 1e-8 apart are the same number)."""
    base = (np.array([np.log(0.3)], np.float32), np.array([np.log1p(-0.3)], np.float32))
    rows = (np.array([np.log(0.3) - 1e-7], np.float32), np.array([np.log1p(-0.3) + 1e-7], np.float32))
    want = np.exp(base[0].astype(np.float64)) - np.exp(rows[0].astype(np.float64))
    np.testing.assert_allclose(probability_drops(base, rows), want, rtol=1e-9)


def test_score_cam_weights_are_relative_to_each_images_own_largest_probability():
    log_p = np.log(np.array([[0.2, 0.4, 0.1], [0.001, 0.002, 0.0005]]))
    weights, notes = relative_weights(log_p)
    np.testing.assert_allclose(weights, [[0.5, 1.0, 0.25], [0.5, 1.0, 0.25]], rtol=1e-6)
    assert weights.dtype == np.float32 and notes == ()


def test_score_cam_says_when_every_masked_probability_underflows_and_how_it_weighs_then():
    log_p = np.array([[-200.0, -201.0, -203.0]])  # e^-200: 0 in float32, the paper's weights all 0
    weights, notes = relative_weights(log_p)
    np.testing.assert_allclose(weights[0], np.exp([0.0, -1.0, -3.0]), rtol=1e-6)
    assert notes == ("score-cam: every masked input's probability of this class underflows (largest e^-200); "
                     "weights are the probabilities relative to the largest, computed as log-probabilities",)


FLAT_NOTE = ("score-cam: every masked input scores this class alike; the weights are equal and the map is about "
             "the sum of the activations")


@pytest.mark.parametrize(("row", "flat"), [([-1.0, -1.0], True), ([-1.0, -1.0 - 1e-8, -1.0], True),
                                           ([-1.0, -1.0 - 1e-4], False), ([-1.0], False)])
def test_score_cam_says_when_the_weights_hardly_differ_but_not_for_a_single_mask(row, flat):
    """Within 1e-6 of the largest: no information in the scores. One mask is no comparison."""
    weights, notes = relative_weights(np.array([row]))
    assert notes == ((FLAT_NOTE,) if flat else ())


def test_score_cam_notes_are_said_once_for_several_images():
    _weights, notes = relative_weights(np.array([[-1.0, -1.0], [-2.0, -2.0]]))
    assert notes == (FLAT_NOTE,)


def test_faster_score_cam_keeps_the_channels_of_largest_spread_and_the_first_of_equal_ones():
    from engine.methods.scorecam import top_channels

    rng = np.random.default_rng(5)
    base = rng.normal(0, 1, (6, 6))
    scales = np.array([1.0, 3.0, 2.0, 3.0, 0.5])  # channels 1 and 3 tie for the largest spread
    activations = np.stack([base[..., None] * scales, -base[..., None] * scales])  # (2, 6, 6, 5)
    np.testing.assert_array_equal(top_channels(activations, 2), [[1, 3], [1, 3]])
    np.testing.assert_array_equal(top_channels(activations, 3), [[1, 3, 2], [1, 3, 2]])
    np.testing.assert_array_equal(top_channels(activations, None), [np.arange(5)] * 2)
    np.testing.assert_array_equal(top_channels(activations, 5), [np.arange(5)] * 2)


def test_faster_score_cam_breaks_ties_by_channel_index_in_a_wide_layer():
    """A 200-channel layer with four distinct spreads: the kept channels are the largest spreads,
    ties to the lower index (written out in Python, not numpy's sort), the same on every run."""
    from engine.methods.scorecam import top_channels

    levels = np.random.default_rng(0).integers(1, 5, 200).astype(float)
    pattern = np.where(np.indices((4, 4)).sum(axis=0) % 2, 1.0, -1.0)  # spread 1 per unit of level
    activations = (pattern[..., None] * levels)[None]  # (1, 4, 4, 200)
    want = sorted(range(200), key=lambda channel: (-levels[channel], channel))[:50]
    np.testing.assert_array_equal(top_channels(activations, 50)[0], want)
