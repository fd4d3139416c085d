"""Properties of the methods on a real Keras model (issue 24 item 3), with hypothesis:

- every method's heatmap is float32 in [0, 1] at the image's resolution, never NaN, and is
  reported empty exactly when it is all zero;
- normalised maps do not change when the logits are scaled by a positive factor c (the last
  Dense layer's weights and bias times c), for the methods whose map is homogeneous in the
  score: the gradient CAMs (Grad-CAM, LayerCAM, HiResCAM, element-wise Grad-CAM, XGrad-CAM),
  the input-gradient maps (saliency, SmoothGrad, Integrated Gradients, gradient x input,
  guided backprop), Ablation-CAM (drops divided by the score) and Eigen-CAM (no score at all).
  Not for Grad-CAM++ (its second/third-order weights of exp(score) mix powers of c), nor for
  Score-CAM, Faster Score-CAM, occlusion and RISE (they use softmax probabilities, which a
  scale of the logits changes, like a temperature);
- SmoothGrad takes its gradients at the noisy copies: with no noise it is saliency, with
  noise it is not (the bug it guards against: gradients taken at the clean input, which
  turns SmoothGrad into saliency).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.images.decoding import LoadedImage
from engine.methods import METHODS
from engine.model.backend import keras
from engine.model.sidecar import Sidecar
from engine.session import Session
from tests.engine.test_methods_properties import (
    _cnn,  # the same small softmax CNN, head named "head"
)

SIZE = 24
SCALE_INVARIANT = ("gradcam", "layercam", "hirescam", "gradcam-elementwise", "xgradcam", "saliency", "smoothgrad",
                   "integrated-gradients", "gradient-input", "guided-backprop", "ablationcam", "eigencam")
NOT_SCALE_INVARIANT = ("gradcam++", "scorecam", "faster-scorecam", "occlusion", "rise")
FAST = {"smoothgrad": {"samples": 6}, "integrated-gradients": {"steps": 8}, "rise": {"masks": 64},
        "occlusion": {"patch": 8, "stride": 8}}


def _image(seed: int) -> LoadedImage:
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.random((SIZE + 8, SIZE, 3)).astype(np.float32), (0, 0), 1.5)
    pixels = (255 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.float32)
    return LoadedImage("blobs.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)



def _session(model) -> Session:
    return Session(model, "tiny.keras", Sidecar(preprocessing="unit"))


def _scaled(model, scale: float):
    """A copy of the model whose logits are `scale` times the original's."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    head = copy.get_layer("head")
    head.set_weights([w * np.float32(scale) for w in head.get_weights()])
    return copy


@pytest.fixture(scope="module")
def model():
    return _cnn()


@pytest.fixture(scope="module")
def session(model):
    return _session(model)


def _explain(session: Session, image: LoadedImage, method: str, **params):
    layer = "last" if METHODS[method].needs_layer else None
    return session.explain(image, method, layer=layer, class_index=1, **{**FAST.get(method, {}), **params})


def test_the_lists_cover_every_method():
    assert set(SCALE_INVARIANT) | set(NOT_SCALE_INVARIANT) == set(METHODS)


@pytest.mark.parametrize("method", sorted(METHODS))
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16))
def test_every_map_is_in_0_1_at_the_image_resolution(session, method, seed):
    image = _image(seed)
    found = _explain(session, image, method)
    heatmap = found.heatmap
    assert heatmap.dtype == np.float32 and heatmap.shape == (image.height, image.width)
    assert np.all(np.isfinite(heatmap)) and heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    assert found.empty == (not heatmap.any())
    if not found.empty:
        assert heatmap.max() == pytest.approx(1.0, abs=1e-3)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(0.05, 20.0))
@example(scale=0.05)
@example(scale=20.0)
def test_normalised_maps_ignore_a_positive_scale_of_the_logits(model, session, scale):
    image = _image(5)
    scaled = _session(_scaled(model, scale))
    assert scaled.explain(image, "saliency", class_index=1).logit == pytest.approx(
        scale * session.explain(image, "saliency", class_index=1).logit, rel=1e-4)
    for method in SCALE_INVARIANT:
        base, other = _explain(session, image, method), _explain(scaled, image, method)
        assert not base.empty, method
        np.testing.assert_allclose(other.heatmap, base.heatmap, atol=2e-3, err_msg=method)


def test_a_scale_of_the_logits_does_change_the_probability_based_maps(model, session):
    """The exclusions above are real: were these invariant, the list would be wrong."""
    image, scaled = _image(5), _session(_scaled(_cnn(), 8.0))
    for method in ("scorecam", "occlusion"):
        base, other = _explain(session, image, method), _explain(scaled, image, method)
        assert np.abs(other.heatmap - base.heatmap).max() > 1e-2, method


def test_smoothgrad_without_noise_is_saliency(session):
    image = _image(7)
    smooth = _explain(session, image, "smoothgrad", noise=0.0)
    plain = _explain(session, image, "saliency")
    np.testing.assert_allclose(smooth.raw, plain.raw, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("seed", [7, 11])
def test_smoothgrad_takes_its_gradients_at_the_noisy_copies(session, seed):
    image = _image(seed)
    plain = _explain(session, image, "saliency").raw
    for noise in (0.2, 0.5):
        smooth = _explain(session, image, "smoothgrad", noise=noise, samples=16).raw
        assert np.abs(smooth - plain).max() > 0.05 * plain.max(), noise
    # more noise moves the map further from saliency (the gradients are read at noisier points)
    near = np.abs(_explain(session, image, "smoothgrad", noise=0.05, samples=16).raw - plain).mean()
    far = np.abs(_explain(session, image, "smoothgrad", noise=1.0, samples=16).raw - plain).mean()
    assert far > near
