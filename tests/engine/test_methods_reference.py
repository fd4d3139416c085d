"""Our CAMs and saliency against tf-keras-vis, an independent implementation, on one small model.

tf-keras-vis is written for tf.keras; on TF 2.21 `tf.keras` is Keras 3, so its visualisers
accept our Keras 3 model directly (cloned, softmax head replaced by linear). Maps are
compared at the same grid: the layer's for CAMs (expand_cam=False), the input's for saliency.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("tf_keras_vis")

from engine.images.decoding import LoadedImage  # noqa: E402
from engine.model.backend import keras  # noqa: E402
from engine.model.sidecar import Sidecar  # noqa: E402
from engine.session import Session  # noqa: E402

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


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(np.corrcoef(a, b)[0, 1])


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
    if kind == "saliency":
        return np.asarray(visualiser(score, x, normalize_map=False))[0]
    return np.asarray(visualiser(score, x, penultimate_layer=LAYER, expand_cam=False, normalize_cam=False,
                                 **kwargs))[0]


@pytest.mark.parametrize("class_index", [0, 2])
@pytest.mark.parametrize("method, reference, kwargs", [
    ("gradcam++", "gradcam++", {}),
    ("layercam", "layercam", {}),
    ("scorecam", "scorecam", {}),
    ("faster-scorecam", "scorecam", {"max_N": 10}),
])
def test_cams_match_tf_keras_vis(setup, method, reference, kwargs, class_index):
    model, session, image, x = setup
    ours = session.explain(image, method, layer=LAYER, class_index=class_index)
    theirs = _reference(reference, model, x, class_index, **kwargs)
    assert ours.raw.shape == theirs.shape
    assert theirs.max() > 0, "the reference map is empty: pick another class or seed"
    assert _correlation(ours.raw, theirs) >= 0.98


@pytest.mark.parametrize("class_index", [1, 3])
def test_saliency_matches_tf_keras_vis(setup, class_index):
    model, session, image, x = setup
    ours = session.explain(image, "saliency", class_index=class_index)
    theirs = _reference("saliency", model, x, class_index)
    assert ours.heatmap.shape == theirs.shape == (SIZE, SIZE)
    assert _correlation(ours.heatmap, theirs) >= 0.98
    assert _correlation(np.abs(ours.raw).max(axis=-1), theirs) >= 0.999
