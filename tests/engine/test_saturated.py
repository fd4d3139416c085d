"""Methods that weight by probabilities, on a model saturated on purpose (issue 20, item 2).

The model: a bright 8x8 spot on a dark 32x32 grey image, an identity 1x1 convolution
("features"), and a linear head whose class-1 logit is gain * (sum of the input over the spot)
- c. With a large gain every RISE mask (which darkens the spot somewhere) sends class 1's
probability below float32's range, while the image itself is class 1 at p = 1.0; with a
moderate gain and a large margin every occlusion leaves p = 1.0 in float32 although the logit
drops by up to 150. The paper's maps are computed here in float64 from the model's weights (no engine
code), and the engine's must match them instead of coming out blank.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.model.backend import keras
from tests.models import session as make_session

SIZE, SPOT = 32, (slice(8, 16), slice(16, 24))
MASKS, GRID, KEEP, SEED = 100, 8, 0.5, 0
PATCH, STRIDE = 8, 4


def _picture() -> LoadedImage:
    pixels = np.full((SIZE, SIZE, 3), 20, np.uint8)
    pixels[SPOT] = 255
    return LoadedImage("spot.png", pixels, pixels.astype(np.float32), True, "uint8", 8)


def _template() -> np.ndarray:
    template = np.zeros((SIZE, SIZE))
    template[SPOT] = 1.0
    return template


class Saturated:
    """The model with its head set for `spot_logit` = gain * sum over the spot, `margin` = the
    clean image's class-1 logit; `head` is a two-class softmax or a one-unit sigmoid."""

    def __init__(self, head: str, spot_logit: float, margin: float) -> None:
        self.gain = spot_logit / _template().sum()
        self.bias = margin - spot_logit
        inputs = keras.Input((SIZE, SIZE, 1))
        features = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones", name="features")(inputs)
        units, activation = (2, "softmax") if head == "softmax" else (1, "sigmoid")
        outputs = keras.layers.Dense(units, activation=activation, name="predictions")(keras.layers.Flatten()(features))
        model = keras.Model(inputs, outputs)
        column = (self.gain * _template()).reshape(-1, 1)
        if head == "softmax":
            model.get_layer("predictions").set_weights([np.hstack([np.zeros_like(column), column]),
                                                        np.array([0.0, self.bias])])
        else:
            model.get_layer("predictions").set_weights([column, np.array([self.bias])])
        self.session = make_session(model)
        self.x = self.session.model_input(_picture())[..., 0].astype(np.float64)
        assert float(np.asarray(model(self.x[None, ..., None]))[0, -1]) == 1.0, "the model must be saturated"

    def logit(self, x: np.ndarray) -> np.ndarray:
        """Class 1's logit for inputs (..., H, W), float64."""
        return self.gain * (x * _template()).sum(axis=(-2, -1)) + self.bias


def _log_p(logit):
    return -np.logaddexp(0.0, -logit)


def _log_q(logit):
    return -np.logaddexp(0.0, logit)


def _rise_masks() -> np.ndarray:
    """The authors' recipe (scikit-image resize, order 1, reflect) with the engine's seeding."""
    from skimage.transform import resize

    rng = np.random.default_rng(SEED)
    grid = rng.random((MASKS, GRID, GRID)) < KEEP
    cell = int(np.ceil(SIZE / GRID))
    shifts = rng.integers(0, cell, (MASKS, 2))
    up = (GRID + 1) * cell
    return np.stack([resize(grid[i].astype(float), (up, up), order=1, mode="reflect", anti_aliasing=False)
                     [shifts[i, 0]:shifts[i, 0] + SIZE, shifts[i, 1]:shifts[i, 1] + SIZE] for i in range(MASKS)])


def _occlusion_drops(model: Saturated) -> np.ndarray:
    starts = list(range(0, SIZE - PATCH + 1, STRIDE))
    total, count = np.zeros((SIZE, SIZE)), np.zeros((SIZE, SIZE))
    base = model.logit(model.x)
    for top in starts:
        for left in starts:
            occluded = model.x.copy()
            occluded[top:top + PATCH, left:left + PATCH] = 0.0
            total[top:top + PATCH, left:left + PATCH] += np.exp(_log_q(model.logit(occluded))) - np.exp(_log_q(base))
            count[top:top + PATCH, left:left + PATCH] += 1
    return total / count


def _hotter_on_the_spot(heatmap: np.ndarray) -> bool:
    inside = _template() > 0
    return bool(heatmap[inside].mean() > heatmap[~inside].mean() + 0.2)


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_rise_is_the_papers_map_when_every_masked_probability_underflows(head):
    """Guards: RISE weighting by float32 probabilities (all 0 here: a blank map)."""
    model = Saturated(head, spot_logit=10000.0, margin=50.0)
    masks = _rise_masks()
    log_p = _log_p(model.logit(model.x * masks))
    assert np.all(np.exp(log_p).astype(np.float32) == 0.0), "every masked probability must underflow"
    theirs = np.tensordot(np.exp(log_p - log_p.max()), masks, axes=1) / MASKS / KEEP
    ours = model.session.explain(_picture(), "rise", class_index=1, masks=MASKS, grid=GRID, keep=KEEP, seed=SEED)
    assert not ours.empty and _hotter_on_the_spot(ours.heatmap)
    np.testing.assert_allclose(ours.raw, theirs, rtol=0, atol=1e-4 * theirs.max())
    assert any(note.startswith("rise: weights are p_i / max p") for note in ours.notes)


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_occlusion_drops_survive_probabilities_that_round_to_one(head):
    """Guards: p(x) - p(x occluded) taken from float32 probabilities (1.0 - 1.0 = 0 everywhere, and
    the map called "no positive evidence"). Occlusion keeps its definition, a drop of probability:
    here the drops are real but below 1e-20, so the map is reported flat, with the reason."""
    model = Saturated(head, spot_logit=150.0, margin=200.0)
    theirs = _occlusion_drops(model)
    assert 0 < theirs.max() < 1e-20 and _hotter_on_the_spot(theirs / theirs.max())
    ours = model.session.explain(_picture(), "occlusion", class_index=1, patch=PATCH, stride=STRIDE, fill="zero")
    np.testing.assert_allclose(ours.raw[..., 0], theirs, rtol=0, atol=1e-4 * theirs.max())
    assert ours.empty and any("saturated" in note for note in ours.notes)
    assert not any("no positive evidence" in note for note in ours.notes)


@pytest.mark.parametrize("method", ["scorecam", "faster-scorecam", "ablationcam"])
@pytest.mark.parametrize("spot_logit, margin", [(10000.0, 50.0), (150.0, 200.0)])
def test_the_channel_weighted_cams_see_the_spot_on_a_saturated_model(method, spot_logit, margin):
    """The other probability- (Score-CAM) or score-weighted (Ablation-CAM) methods, on the same models."""
    model = Saturated("softmax", spot_logit, margin)
    ours = model.session.explain(_picture(), method, layer="features", class_index=1)
    assert not ours.empty and _hotter_on_the_spot(ours.heatmap)
