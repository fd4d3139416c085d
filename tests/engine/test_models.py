"""Loading models: formats, Keras 2 files, safe mode, and a one-line ModelLoadError for
every broken, unsafe, remote or unsupported input."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import ModelLoadError, UnsafeModelError
from engine.model.backend import keras
from engine.model.loading import keras2_compatible_config, load_keras_model
from engine.session import Session
from tests.models import image, keras2_h5, lambda_model, save_model, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
X = np.random.default_rng(7).uniform(0, 1, (2, 32, 32, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def cnn():
    return tiny_cnn()


@pytest.fixture(scope="module")
def keras_file(folder, cnn) -> Path:
    return save_model(cnn, folder, "cnn.keras")


@pytest.fixture(scope="module")
def h5_file(folder, cnn) -> Path:
    return save_model(cnn, folder, "cnn.h5")


def _refused(path, kind=ModelLoadError, **kwargs) -> str:
    with pytest.raises(kind) as info:
        load_keras_model(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message and message
    return message


# -- formats that load --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["keras_file", "h5_file"])
def test_keras3_round_trip(name, cnn, request):
    loaded = load_keras_model(request.getfixturevalue(name))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in cnn.layers]
    np.testing.assert_allclose(loaded(X).numpy(), cnn(X).numpy(), rtol=1e-5, atol=1e-6)


def test_keras2_h5_loads_and_explains(tmp_path):
    import tf_keras

    path = keras2_h5(tmp_path / "old.h5")
    reference = tf_keras.models.load_model(path, compile=False)
    session = Session.open(path)
    np.testing.assert_allclose(session.model(X).numpy(), reference(X).numpy(), rtol=1e-5, atol=1e-6)
    assert session.info.default_layer == "conv2"
    result = session.explain(image(50, 60))
    assert result.layer == "conv2" and result.heatmap.shape == (50, 60)
    assert result.raw.shape == (16, 16) and np.isfinite(result.heatmap).all()


def test_keras2_h5_with_layers_keras3_renamed(tmp_path):
    """tf.keras writes `groups` for depthwise/separable/transposed convolutions, `noise_shape`
    for SpatialDropout and "/" in names (DenseNet): Keras 3 refuses all three as they are."""
    import tf_keras

    tf_keras.utils.set_random_seed(3)
    tk = tf_keras.layers
    inputs = tk.Input((24, 24, 3))
    x = tk.Conv2D(8, 3, padding="same", name="stem/conv")(inputs)
    x = tk.DepthwiseConv2D(3, padding="same", name="dw")(x)
    x = tk.SeparableConv2D(8, 3, padding="same", name="sep")(x)
    x = tk.Conv2DTranspose(8, 3, padding="same", name="up")(x)
    x = tk.SpatialDropout2D(0.1, name="drop")(x)
    x = tk.Activation("relu", name="block/out")(x)
    x = tk.GlobalAveragePooling2D()(x)
    outputs = tk.Dense(3, activation="softmax")(x)
    model = tf_keras.Model(inputs, outputs)
    path = tmp_path / "legacy.h5"
    model.save(path, save_format="h5")
    x_in = np.random.default_rng(0).uniform(0, 1, (2, 24, 24, 3)).astype(np.float32)

    loaded = load_keras_model(path)
    np.testing.assert_allclose(loaded(x_in).numpy(), model(x_in).numpy(), rtol=1e-5, atol=1e-6)
    names = [layer.name for layer in loaded.layers]
    assert "stem_conv" in names and "block_out" in names and not any("/" in n for n in names)
    session = Session.open(path)
    assert session.info.default_layer == "block_out"
    assert session.explain(image(24, 24)).heatmap.shape == (24, 24)


def test_keras2_compatible_config_leaves_keras3_configs_alone(folder, cnn):
    import json

    import h5py

    with h5py.File(save_model(cnn, folder, "k3.h5"), "r") as handle:
        config = json.loads(handle.attrs["model_config"])
    assert keras2_compatible_config(config) == config


# -- safe mode ----------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_refused_unless_trusted(tmp_path, suffix):
    path = save_model(lambda_model(), tmp_path, "lam" + suffix)
    message = _refused(path, UnsafeModelError)
    assert "double_it" in message and "Lambda" in message and "--trust-model" in message
    model = load_keras_model(path, trust=True)
    x = np.ones((1, 16, 16, 3), np.float32)
    assert model(x).shape == (1, 3)


def test_unknown_custom_layer_named(tmp_path):
    @keras.saving.register_keras_serializable(package="convscope_test")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3)(Doubler(name="twice")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    for suffix in (".keras", ".h5"):
        model.save(tmp_path / f"custom{suffix}")
    # A fresh interpreter has never seen the class: exactly what a user without the code gets.
    script = (
        "import sys\nfrom engine.model.loading import load_keras_model\nfrom engine.errors import ModelLoadError\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n        load_keras_model(name)\n        print('LOADED')\n"
        "    except ModelLoadError as exc:\n        print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "custom.keras"),
                             str(tmp_path / "custom.h5")], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2, result.stderr
    for line in lines:
        assert "unknown custom layer class" in line and "Doubler" in line


# -- broken and unsupported inputs --------------------------------------------------------

def test_missing_file(tmp_path):
    assert "no such file" in _refused(tmp_path / "nope.keras")


def test_empty_file(tmp_path):
    (tmp_path / "empty.keras").write_bytes(b"")
    assert "empty" in _refused(tmp_path / "empty.keras")


@pytest.mark.parametrize("saved", ["keras_file", "h5_file"])
def test_truncated_model_file(tmp_path, request, saved):
    whole = request.getfixturevalue(saved)
    cut = tmp_path / f"cut{whole.suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "damaged or truncated" in _refused(cut)


def test_keras_zip_without_config(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "config.json" in _refused(tmp_path / "other.keras")


def test_text_named_keras(tmp_path):
    (tmp_path / "notes.keras").write_text("not a model\nat all\n")
    assert "not a Keras model" in _refused(tmp_path / "notes.keras")


def test_png_named_h5(tmp_path):
    ok, data = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "picture.h5").write_bytes(data.tobytes())
    assert "not a Keras model" in _refused(tmp_path / "picture.h5")


def test_wrong_extension(tmp_path, keras_file):
    shutil.copy(keras_file, tmp_path / "model.txt")
    assert "unknown model format" in _refused(tmp_path / "model.txt")


@pytest.mark.parametrize("name", ["weights.h5", "only.weights.h5"])
def test_weights_only_h5(tmp_path, cnn, name):
    cnn.save_weights(tmp_path / "only.weights.h5")
    if name != "only.weights.h5":
        shutil.copy(tmp_path / "only.weights.h5", tmp_path / name)
    assert "weights only" in _refused(tmp_path / name)


@pytest.mark.parametrize("url", ["http://example.com/model.keras", "https://example.com/m.h5",
                                 "gs://bucket/model.keras", "hf://user/model", "s3://b/m.keras"])
def test_remote_paths_refused_offline(url, monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    assert "remote locations are not loaded" in _refused(url)


def test_saved_model_directory_refused(tmp_path, cnn):
    cnn.export(tmp_path / "exported", verbose=False)
    message = _refused(tmp_path / "exported")
    assert "SavedModel" in message and "model.keras" in message


def test_folder_without_model(tmp_path):
    (tmp_path / "folder").mkdir()
    assert "no Keras model" in _refused(tmp_path / "folder")


def test_model_that_is_not_an_image_classifier(tmp_path):
    inputs = keras.Input((10,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    path = save_model(model, tmp_path, "tabular.keras")
    with pytest.raises(ModelLoadError, match="not an image"):
        Session.open(path)
