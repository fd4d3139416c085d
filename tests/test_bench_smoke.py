"""bench imports, and its seed-000 Grad-CAM computes the same map as ours (no timing asserts)."""

from __future__ import annotations

import numpy as np

from tests.models import image, session


def _model():
    from engine.model.backend import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="last")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def test_reference_gradcam_matches_ours():
    from bench.reference import linear_copy, make_gradcam_heatmap

    model = _model()
    ours_session = session(model)
    picture = image(32, 32, seed=4)
    ours = ours_session.explain(picture, "gradcam", "last").raw
    reference = make_gradcam_heatmap(ours_session.batch([picture]), linear_copy(model), "last")
    assert ours.shape == reference.shape == (16, 16)
    assert np.ptp(ours) > 0
    # keras.io scales its map to a maximum of 1; float32 gradients agree to ~1e-6 of the peak.
    np.testing.assert_allclose(ours / ours.max(), reference, atol=1e-4)


def test_demo_times_cover_every_method(capsys):
    from bench.demo_times import main
    from engine.methods import METHODS

    assert main(["--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(METHODS)
    assert all(float(line.split()[1]) > 0 and line.endswith(" ms") for line in lines)
