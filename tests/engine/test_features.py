"""Feature views: activations, their grid, and filter patterns by batched gradient ascent."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Cancelled, LayerError, MethodError, Session
from engine.features import patterns as F
from engine.features.activations import activations
from engine.images.decoding import decode_image
from engine.images.preprocessing import PREPROCESSING_MODES, preprocess

FAST = F.PatternSettings(size=24, steps=12)


def _save(model, path) -> Session:
    model.save(path)
    return Session.open(path)


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Session:
    """32x32 RGB input, fixed size; conv2 is linear so every filter can be driven up."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(name="pool1")(x)
    x = keras.layers.Conv2D(12, 3, padding="same", name="conv2")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv3")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="head")(x)
    return _save(keras.Model(inputs, outputs), tmp_path_factory.mktemp("plain") / "m.keras")


@pytest.fixture(scope="module")
def nested(tmp_path_factory) -> Session:
    """Transfer-learning shape: Sequential([functional base, pooling, dense])."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(2)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="b_conv1")(inputs)
    x = keras.layers.Conv2D(10, 3, strides=2, padding="same", name="b_conv2")(x)
    base = keras.Model(inputs, x, name="base")
    model = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(2, activation="softmax")])
    return _save(model, tmp_path_factory.mktemp("nested") / "m.keras")


@pytest.fixture(scope="module")
def reshaping(tmp_path_factory) -> Session:
    """A Reshape before the convolutions pins the input size: the resize fallback."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(3)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Reshape((32, 32, 3))(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(x)
    outputs = keras.layers.Dense(2)(keras.layers.Flatten()(x))
    return _save(keras.Model(inputs, outputs), tmp_path_factory.mktemp("reshape") / "m.keras")


def _image(height: int = 40, width: int = 50):
    import cv2

    rng = np.random.default_rng(0)
    ok, data = cv2.imencode(".png", (rng.random((height, width, 3)) * 255).astype(np.uint8))
    return decode_image(data.tobytes(), "noise.png")


# -- activations ----------------------------------------------------------------------------
def test_activations_of_a_layer_and_of_a_nested_layer(plain, nested):
    assert activations(plain, _image(), "conv1").shape == (32, 32, 8)
    maps = activations(nested, _image(), "base/b_conv2")
    assert maps.shape == (16, 16, 10) and maps.dtype == np.float32
    assert activations(nested, _image(), "b_conv1").shape == (32, 32, 8)


def test_only_4d_layers_are_feature_layers(plain):
    with pytest.raises(LayerError, match="4-D"):
        activations(plain, _image(), "head")
    with pytest.raises(LayerError):
        activations(plain, _image(), "no_such_layer")


def test_activation_grid_size_order_and_lookup():
    maps = np.random.default_rng(0).random((8, 6, 10)).astype(np.float32)
    maps[..., 7] += 5.0
    grid = F.activation_grid(maps, scale="tile", order="mean", columns=4, tile=48, margin=2)
    assert grid.tile == (48, 36) and (grid.rows, grid.columns) == (3, 4)
    assert grid.image.shape == (3 * 48 + 2 * 2, 4 * 36 + 3 * 2, 3) and grid.image.dtype == np.uint8
    assert grid.order[0] == 7 and sorted(grid.order) == list(range(10))
    assert grid.channel_at(0, 0) == 7
    assert grid.channel_at(36 + 2, 48 + 2) == grid.order[5]
    assert grid.channel_at(36, 0) is None  # margin
    assert grid.channel_at(3 * 38, 2 * 50) is None  # past the last tile


def test_activation_grid_defaults_and_scales():
    maps = np.zeros((16, 16, 9), np.float32)
    maps[..., 1] = 1.0
    maps[..., 2] = np.linspace(0, 0.01, 256).reshape(16, 16)
    shared = F.activation_grid(maps)
    assert shared.order == tuple(range(9)) and shared.tile == (64, 64)
    assert shared.image.shape == (3 * 64 + 2 * 2, 3 * 64 + 2 * 2, 3)
    tile = F.activation_grid(maps, scale="tile", labels=False)
    right = slice(2 * 66 + 20, 2 * 66 + 64)  # tile 2, away from the label
    assert np.ptp(tile.image[40:64, right]) > np.ptp(F.activation_grid(maps, labels=False).image[40:64, right])
    with pytest.raises(ValueError):
        F.activation_grid(maps, scale="log")


# -- grids ---------------------------------------------------------------------------------
def test_pattern_grid_has_the_seed_layout():
    patterns = np.full((64, 64, 64, 3), 200, np.uint8)
    grid = F.pattern_grid(patterns)
    assert grid.shape == (8 * 64 + 7 * 5, 8 * 64 + 7 * 5, 3)
    assert grid[64:69].max() == 0 and grid[:, 64:69].max() == 0 and grid[:64, :64].min() == 200
    assert F.pattern_grid(patterns[:10], columns=4, margin=3).shape == (3 * 64 + 2 * 3, 4 * 64 + 3 * 3, 3)
    labelled = F.pattern_grid(patterns[:2], labels=[5, 17])
    assert labelled.shape == (64, 133, 3) and (labelled != 200).any()


# -- filter patterns -----------------------------------------------------------------------
def test_pattern_raises_its_filter_well_above_the_noise(plain):
    filters = list(range(12))
    noise = F.starting_noise(filters, 32, 3, plain.info.preprocessing)
    # Steps are in pixel levels; an untrained model on unit inputs needs a full-range step.
    raw = F.ascend(plain, "conv2", filters, F.PatternSettings(size=32, step_size=255.0))
    before = F.filter_means(plain, "conv2", noise, filters)
    after = F.filter_means(plain, "conv2", raw, filters)
    assert np.all(after > before) and np.median(after - before) > 5.0
    # each pattern excites its own filter more than the other patterns do
    assert np.all(after > [F.filter_means(plain, "conv2", np.roll(raw, 1, axis=0), filters)])


def test_pre_activation_moves_a_filter_silent_on_the_noise(plain):
    noise = F.starting_noise(range(6), 32, 3, plain.info.preprocessing)
    before = F.filter_means(plain, "conv3", noise, range(6))
    settings = F.PatternSettings(size=32, pre_activation=True, step_size=255.0)
    after = F.filter_means(plain, "conv3", F.ascend(plain, "conv3", range(6), settings), range(6))
    assert np.all(after > before) and after.min() > 0.1


def test_step_size_is_in_pixel_levels_whatever_the_preprocessing() -> None:
    np.testing.assert_allclose(F.pixel_scale("unit", 3), [1 / 255] * 3, rtol=1e-6)
    np.testing.assert_allclose(F.pixel_scale("symmetric", 1), [1 / 127.5], rtol=1e-6)
    np.testing.assert_allclose(F.pixel_scale("caffe", 3), [1.0] * 3, rtol=1e-6)
    np.testing.assert_allclose(F.pixel_scale("torch", 3), 1 / (255 * np.array([0.229, 0.224, 0.225])), rtol=1e-5)


def test_batched_and_one_at_a_time_give_the_same_patterns(plain):
    filters = [3, 0, 7, 5]
    for settings in (FAST, F.PatternSettings(size=24, steps=12, jitter=2, blur_every=4, tv=0.05)):
        together = F.ascend(plain, "conv2", filters, settings)
        alone = np.concatenate([F.ascend(plain, "conv2", [f], settings) for f in filters])
        chunked = F.ascend(plain, "conv2", filters, F.PatternSettings(**{**settings.__dict__, "batch": 3}))
        scale = np.abs(together).max()
        np.testing.assert_allclose(alone, together, atol=1e-4 * scale)
        np.testing.assert_allclose(chunked, together, atol=1e-4 * scale)
    assert not np.allclose(F.ascend(plain, "conv2", [3], F.PatternSettings(size=24, steps=12, seed=1)),
                           together[:1])


def test_one_compiled_step_per_layer_and_size(plain):
    F.filter_patterns(plain, "conv2", [0, 1], FAST)
    step = plain.context.cached(("features/ascent", "conv2", 24, False), lambda: None)
    traces = step.experimental_get_tracing_count()
    F.filter_patterns(plain, "conv2", [4, 5, 6], F.PatternSettings(size=24, steps=3, step_size=0.5, jitter=1))
    assert step.experimental_get_tracing_count() == traces


def test_patterns_at_another_size_than_a_fixed_input(plain, nested, reshaping):
    assert F.filter_patterns(plain, "conv2", [0, 1], F.PatternSettings(size=16, steps=2)).shape == (2, 16, 16, 3)
    assert F.filter_patterns(plain, "conv2", [0], F.PatternSettings(size=64, steps=2)).shape == (1, 64, 64, 3)
    out = F.filter_patterns(nested, "base/b_conv2", range(10), F.PatternSettings(size=20, steps=2))
    assert out.shape == (10, 20, 20, 3) and out.dtype == np.uint8
    assert F.filter_patterns(reshaping, "conv", [1, 2], F.PatternSettings(size=16, steps=2)).shape == (2, 16, 16, 3)


def test_progress_partial_views_and_cancel(plain):
    seen, partial = [], []
    F.filter_patterns(plain, "conv2", [0, 1, 2], F.PatternSettings(size=24, steps=10, batch=2),
                      progress=lambda d, t: seen.append((d, t)), on_partial=partial.append)
    assert seen == [(d, 20) for d in range(1, 21)]
    assert len(partial) == 4 and all(p.shape == (3, 24, 24, 3) and p.dtype == np.uint8 for p in partial)

    calls = []
    with pytest.raises(Cancelled):
        F.filter_patterns(plain, "conv2", [0, 1], FAST, progress=lambda d, t: calls.append(d),
                          cancel=lambda: len(calls) >= 3)
    assert calls == [1, 2, 3]
    with pytest.raises(Cancelled):
        F.filter_patterns(plain, "conv2", [0], FAST, progress=calls.append, cancel=lambda: True)


def test_bad_requests_are_one_line_errors(plain):
    with pytest.raises(MethodError, match="out of range"):
        F.filter_patterns(plain, "conv2", [12], FAST)
    with pytest.raises(MethodError, match="no filters"):
        F.filter_patterns(plain, "conv2", [], FAST)
    with pytest.raises(MethodError):
        F.PatternSettings(steps=-1)
    with pytest.raises(LayerError):
        F.filter_patterns(plain, "head", [0], FAST)


def test_too_small_a_pattern_for_a_valid_convolution(tmp_path):
    from engine.model.backend import keras

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 5, name="c1")(inputs)
    x = keras.layers.Conv2D(4, 5, name="c2")(x)
    session = _save(keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)), tmp_path / "m.keras")
    with pytest.raises(MethodError, match="too small"):
        F.filter_patterns(session, "c2", [0], F.PatternSettings(size=8, steps=1))
    assert F.filter_patterns(session, "c2", [0], F.PatternSettings(size=12, steps=1)).shape == (1, 12, 12, 3)


@pytest.mark.parametrize("mode", PREPROCESSING_MODES)
def test_deprocess_undoes_the_preprocessing(mode):
    pixels = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32) * 255
    pixels[..., 0] += 40  # a reddish tint must stay red, whatever the channel order
    np.testing.assert_allclose(F.to_pixels(preprocess(pixels, mode), mode), pixels, atol=1e-3)
    out = F.deprocess(preprocess(pixels, mode), mode)
    assert out.shape == (2, 8, 8, 3) and out.dtype == np.uint8
    assert out[..., 0].mean() > out[..., 2].mean() + 10
    assert F.deprocess(np.zeros((1, 4, 4, 1)), mode).shape == (1, 4, 4, 3)


# -- pre-activation of standalone activation layers (issue 20, item 1) ----------------------
def _activation_layers():
    """One instance of every keras.layers activation class (and the variants MobileNet uses)."""
    import inspect

    from engine.model.backend import keras

    classes = {cls for _, cls in inspect.getmembers(keras.layers, inspect.isclass)
               if cls.__module__.startswith("keras.src.layers.activations")}
    made = {"Activation": lambda: keras.layers.Activation("relu"), "ReLU6": lambda: keras.layers.ReLU(max_value=6.0),
            "LeakyReLU": lambda: keras.layers.LeakyReLU(negative_slope=0.2)}
    layers = {name: make() for name, make in made.items()}
    layers.update({cls.__name__: cls() for cls in classes if cls.__name__ not in layers})
    assert {type(layer) for layer in layers.values()} == classes and len(classes) >= 6
    return sorted(layers.items())


@pytest.mark.parametrize("nested_base", [False, True], ids=["top-level", "nested"])
def test_pre_activation_of_every_activation_layer_is_its_input(tmp_path, nested_base):
    """Guards: the twin rebuilt with activation='linear' (Unrecognized keyword arguments passed
    to ReLU), and an activation layer's output taken for its pre-activation."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(4)
    for name, activation in _activation_layers():
        inputs = keras.Input((16, 16, 3))
        x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
        x = type(activation).from_config({**activation.get_config(), "name": "act"})(x)
        if nested_base:
            base = keras.Model(inputs, x, name="base")
            model = keras.Sequential([keras.Input((16, 16, 3)), base, keras.layers.GlobalAveragePooling2D(),
                                      keras.layers.Dense(2, activation="softmax")])
            conv, act = "base/conv", "base/act"
        else:
            model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(
                keras.layers.GlobalAveragePooling2D()(x)))
            conv, act = "conv", "act"
        session = _save(model, tmp_path / f"{name}-{nested_base}.keras")
        settings = F.PatternSettings(size=16, steps=2, **F.REGULARISED)
        assert F.filter_patterns(session, act, [0, 3], settings).shape == (2, 16, 16, 3), name
        images = F.starting_noise(range(4), 16, 3, session.info.preprocessing) * 4.0 - 2.0
        before = F.filter_means(session, conv, images, range(4))
        np.testing.assert_allclose(F.filter_means(session, act, images, range(4), pre_activation=True), before,
                                   rtol=1e-5, atol=1e-6, err_msg=name)
        assert not np.allclose(F.filter_means(session, act, images, range(4)), before), name


def test_the_size_probe_is_static_shape_inference_not_an_eager_call():
    """Guards: deciding by whether an eager call raises. On AVX-512 with TensorFlow 2.21, an
    eager VALID convolution larger than its input returns a tensor instead of raising; this
    layer does the same (eagerly it passes a too-small input through), while its declared
    output shape refuses it, so only static shape inference gives the one-line refusal."""
    from engine.model.backend import keras
    from tests.models import session as make_session

    class Crop9(keras.layers.Layer):
        """A 9x9 VALID window's output size, and the oneDNN behaviour on too small an input."""

        def compute_output_shape(self, shape):
            if shape[1] is not None and shape[1] < 9:
                raise ValueError("Computed output size would be zero or negative")
            return (shape[0], None if shape[1] is None else shape[1] - 8,
                    None if shape[2] is None else shape[2] - 8, shape[3])

        def call(self, x):
            return x if x.shape[1] is not None and x.shape[1] < 9 else x[:, 8:, 8:, :]

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = Crop9(name="crop")(x)
    session = make_session(keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)))
    with pytest.raises(MethodError, match="too small"):
        F.filter_patterns(session, "crop", [0], F.PatternSettings(size=8, steps=1))
    assert F.filter_patterns(session, "crop", [0], F.PatternSettings(size=12, steps=1)).shape == (1, 12, 12, 3)


def test_pre_activation_of_a_layer_without_an_activation_is_its_output(tmp_path):
    """Guards: BatchNormalization or Add rebuilt with activation='linear' (a Keras error), or skipped."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(5)
    inputs = keras.Input((16, 16, 3))
    conv = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(conv)
    x = keras.layers.Add(name="add")([x, conv])
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    session = _save(model, tmp_path / "bn.keras")
    images = F.starting_noise(range(4), 16, 3, session.info.preprocessing)
    for layer in ("bn", "add"):
        np.testing.assert_allclose(F.filter_means(session, layer, images, range(4), pre_activation=True),
                                   F.filter_means(session, layer, images, range(4)), rtol=1e-5, atol=1e-6)
