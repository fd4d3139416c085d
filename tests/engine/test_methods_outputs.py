"""Every method explains the output it is asked for: on a two-output model, explaining output 1
gives what the same method gives on the one-output model made of that output's branch (the same
layers and weights). Guards a compiled function, probe or tail built for output 0 whatever the
request (an argument dropped on the way), which a one-output model cannot tell apart."""

from __future__ import annotations

import numpy as np
import pytest

from engine.methods import METHODS
from engine.model.backend import keras
from tests.engine.test_methods_progress import SMALL
from tests.engine.test_methods_properties import SIZE, _image, _session


def _two_outputs():
    keras.utils.set_random_seed(7)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(12, 3, padding="same", activation="relu", name="last")(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    first = keras.layers.Dense(3, activation="softmax", name="kind")(pooled)
    second = keras.layers.Dense(4, activation="softmax", name="grade",
                                kernel_initializer=keras.initializers.RandomNormal(0, 2))(pooled)
    return keras.Model(inputs, [first, second])


@pytest.fixture(scope="module")
def sessions():
    model = _two_outputs()
    branch = keras.Model(model.input, model.get_layer("grade").output)
    return _session(model), _session(branch)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_explaining_output_one_is_explaining_that_outputs_own_model(sessions, name):
    both, branch = sessions
    image = _image(4)
    layer = "last" if METHODS[name].needs_layer else None
    params = SMALL.get(name, {})
    ours = both.explain(image, name, layer, 2, output=1, **params)
    want = branch.explain(image, name, layer, 2, **params)
    assert ours.class_index == want.class_index == 2
    np.testing.assert_allclose(ours.raw, want.raw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.heatmap, want.heatmap, rtol=1e-4, atol=1e-5)
