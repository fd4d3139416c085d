"""Our CAMs and saliency against tf-keras-vis, an independent implementation, on one small model.

tf-keras-vis is written for tf.keras; on TF 2.21 `tf.keras` is Keras 3, so its visualisers
accept our Keras 3 model directly (cloned, softmax head replaced by linear). Maps are
compared at the same grid: the layer's for CAMs (expand_cam=False), the input's for saliency.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from engine.images.decoding import LoadedImage
from engine.model.backend import keras
from engine.model.sidecar import Sidecar
from engine.session import Session

SIZE = 32
LAYER = "last"


def _model():
    keras.utils.set_random_seed(11)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(12, 3, padding="same")(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name=LAYER)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(4, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(0, 2))(x)
    return keras.Model(inputs, outputs)


def _image() -> LoadedImage:
    rng = np.random.default_rng(5)
    noise = cv2.GaussianBlur(rng.random((SIZE, SIZE, 3)).astype(np.float32), (0, 0), 2.0)
    pixels = (255 * (noise - noise.min()) / (noise.max() - noise.min())).astype(np.float32)
    return LoadedImage("blobs.png", pixels.astype(np.uint8), pixels, False, "uint8", 8)


@pytest.fixture(scope="module")
def setup():
    model = _model()
    session = Session(model, "tiny.keras", Sidecar(preprocessing="unit"))
    image = _image()
    return model, session, image, session.model_input(image)[None]


def _scaled(a: np.ndarray) -> np.ndarray:
    """The map over its maximum: a CAM is defined up to a positive factor (tf-keras-vis's
    Grad-CAM++ keeps the exp(score) factor of the paper's derivation, ours divides it out)."""
    return np.asarray(a, np.float64) / np.max(a)


def _reference(kind: str, model, x: np.ndarray, class_index: int, **kwargs) -> np.ndarray:
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.layercam import Layercam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    visualiser = {"gradcam++": GradcamPlusPlus, "layercam": Layercam, "scorecam": Scorecam,
                  "saliency": Saliency}[kind](model, model_modifier=ReplaceToLinear(), clone=True)
    score = CategoricalScore([class_index])
    with warnings.catch_warnings():  # tf-keras-vis calls its models with a list of one tensor
        warnings.filterwarnings("ignore", "The structure of `inputs` doesn't match", UserWarning)
        if kind == "saliency":
            return np.asarray(visualiser(score, x, normalize_map=False))[0]
        return np.asarray(visualiser(score, x, penultimate_layer=LAYER, expand_cam=False, normalize_cam=False,
                                     **kwargs))[0]


# Tolerances, on maps scaled to a maximum of 1 at the layer's grid. Gradient CAMs: both sides
# compute the same float32 expression, so only summation order differs (measured < 1e-6).
# Score-CAM: tf-keras-vis upsamples each channel with scipy's zoom (order 1, edges clamped),
# ours with tf.image.resize (bilinear, half-pixel centres), which moves the channel weights
# slightly (measured < 6e-3).
GRADIENT_CAM_ATOL = 1e-5
SCORE_CAM_ATOL = 2e-2


@pytest.mark.parametrize("class_index", [0, 2])
@pytest.mark.parametrize("method, reference, kwargs, atol", [
    ("gradcam++", "gradcam++", {}, GRADIENT_CAM_ATOL),
    ("layercam", "layercam", {}, GRADIENT_CAM_ATOL),
    ("scorecam", "scorecam", {}, SCORE_CAM_ATOL),
    ("faster-scorecam", "scorecam", {"max_N": 10}, SCORE_CAM_ATOL),
])
def test_cams_match_tf_keras_vis(setup, method, reference, kwargs, atol, class_index):
    model, session, image, x = setup
    ours = session.explain(image, method, layer=LAYER, class_index=class_index)
    theirs = _reference(reference, model, x, class_index, **kwargs)
    assert ours.raw.shape == theirs.shape
    assert theirs.max() > 0, "the reference map is empty: pick another class or seed"
    np.testing.assert_allclose(_scaled(ours.raw), _scaled(theirs), rtol=0, atol=atol)


@pytest.mark.parametrize("class_index", [1, 3])
def test_saliency_matches_tf_keras_vis(setup, class_index):
    model, session, image, x = setup
    ours = session.explain(image, "saliency", class_index=class_index)
    theirs = _reference("saliency", model, x, class_index)
    assert ours.heatmap.shape == theirs.shape == (SIZE, SIZE)
    # The same float32 gradient, max |.| over channels: equal up to rounding.
    np.testing.assert_allclose(np.abs(ours.raw).max(axis=-1), theirs, rtol=1e-5, atol=1e-7 * theirs.max())
    np.testing.assert_allclose(ours.heatmap, _scaled(theirs), rtol=0, atol=1e-5)
