"""engine.model.keras_private on a Keras 2 .h5 file written by Keras 2 itself (tf_keras): the
rebuilt model keeps safe mode unless trusted. The loader refuses such a file before this
point (its layer scan), so this is the second line of defence, tested on its own."""

from __future__ import annotations

import numpy as np
import pytest

from engine.model.keras_private import model_from_legacy_h5
from engine.model.loading import _h5_config, keras2_compatible_config


@pytest.fixture(scope="module")
def lambda_h5(tmp_path_factory):
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    tk = tf_keras.layers
    model = tf_keras.Sequential([
        tk.InputLayer(input_shape=(8, 8, 3)),
        tk.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
        tk.Lambda(lambda x: x * 2.0, name="double_it"),
        tk.GlobalAveragePooling2D(name="gap"),
        tk.Dense(2, activation="softmax", name="predictions"),
    ])
    path = tmp_path_factory.mktemp("h5") / "lambda.h5"
    model.save(path, save_format="h5")
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32)
    return path, x, model.predict(x, verbose=0)


def test_a_lambda_in_a_keras2_file_is_rebuilt_only_when_trusted(lambda_h5):
    # guards: safe mode off (or inverted) while deserialising: Lambda bytecode would run untrusted
    import h5py

    path, x, expected = lambda_h5
    config = keras2_compatible_config(_h5_config(path))
    with h5py.File(path, "r") as handle:
        with pytest.raises(ValueError, match="(?i)lambda"):
            model_from_legacy_h5(config, handle["model_weights"], trust=False)
        model = model_from_legacy_h5(config, handle["model_weights"], trust=True)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)
