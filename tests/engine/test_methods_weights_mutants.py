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
