"""Filter-pattern settings and the model-free steps of feature views (engine.features): each
setting's range refused one step past it, the seeded noise, the per-channel pixel scale, the
jitter and blur, filter numbers checked against the layer, and which layers have feature maps."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.errors import LayerError, MethodError
from engine.features import patterns
from engine.features.activations import feature_layer
from engine.features.patterns import REGULARISED, PatternSettings, pixel_scale, starting_noise
from engine.model.layers import LayerInfo


def test_defaults_are_seed_002() -> None:
    settings = PatternSettings()
    assert (settings.size, settings.steps, settings.step_size, settings.seed, settings.jitter, settings.blur_every,
            settings.blur_sigma, settings.tv, settings.contrast, settings.batch, settings.partial_every,
            settings.pre_activation) == (64, 40, 1.0, 0, 0, 0, 0.5, 0.0, 0.1, 64, 5, False)
    assert REGULARISED == {"pre_activation": True, "jitter": 4, "blur_every": 4, "step_size": 4.0}


@pytest.mark.parametrize("changes", [
    {"size": 8}, {"size": 2048}, {"steps": 0}, {"jitter": 0, "blur_every": 0, "tv": 0.0}, {"batch": 1},
    {"partial_every": 1}, {"step_size": 1e-9}, {"blur_sigma": 1e-9, "contrast": 1e-9},
])
def test_range_boundaries_are_accepted(changes: dict) -> None:
    settings = PatternSettings(**changes)
    assert all(getattr(settings, name) == value for name, value in changes.items())


@pytest.mark.parametrize(("changes", "message"), [
    ({"size": 7}, "size must be between 8 and 2048 pixels"),
    ({"size": 2049}, "size must be between 8 and 2048 pixels"),
    ({"steps": -1}, "steps must not be negative"),
    ({"step_size": 0.0}, "the step size must be positive"),
    ({"jitter": -1}, "jitter, blur-every and tv must not be negative"),
    ({"blur_every": -1}, "jitter, blur-every and tv must not be negative"),
    ({"tv": -0.1}, "jitter, blur-every and tv must not be negative"),
    ({"blur_sigma": 0.0}, "blur sigma and contrast must be positive"),
    ({"contrast": 0.0}, "blur sigma and contrast must be positive"),
    ({"batch": 0}, "batch and partial_every must be positive"),
    ({"partial_every": 0}, "batch and partial_every must be positive"),
])
def test_one_step_past_a_range_is_refused_in_one_line(changes: dict, message: str) -> None:
    with pytest.raises(MethodError) as refused:
        PatternSettings(**changes)
    assert str(refused.value) == message


def test_starting_noise_is_grey_seeded_per_filter_and_preprocessed() -> None:
    noise = starting_noise([3, 5], 8, 3, "none", seed=1)
    assert noise.shape == (2, 8, 8, 3) and noise.dtype == np.float32
    assert 128.0 <= noise.min() and noise.max() < 148.0
    np.testing.assert_array_equal(noise[1], starting_noise([5], 8, 3, "none", seed=1)[0])  # same alone or batched
    expected = np.random.default_rng([1, 5]).random((8, 8, 3), dtype=np.float32) * 20.0 + 128.0
    np.testing.assert_allclose(noise[1], expected)
    assert not np.array_equal(starting_noise([5], 8, 3, "none", seed=2), noise[1:])
    np.testing.assert_allclose(starting_noise([5], 8, 3, "unit", seed=1)[0], expected / 255.0, rtol=1e-6)
    assert starting_noise(np.array([0]), 4, 1, "none").shape == (1, 4, 4, 1)


def test_pixel_scale_is_the_preprocessing_slope_per_channel() -> None:
    np.testing.assert_allclose(pixel_scale("none", 3), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(pixel_scale("unit", 1), [1 / 255])
    np.testing.assert_allclose(pixel_scale("symmetric", 3), [2 / 255] * 3, rtol=1e-5)
    np.testing.assert_allclose(pixel_scale("torch", 3), 1 / 255 / np.array([0.229, 0.224, 0.225]), rtol=1e-5)
    assert pixel_scale("caffe", 3).dtype == np.float32 and pixel_scale("caffe", 3).shape == (3,)


def test_jitter_is_off_at_zero_and_bounded_and_seeded_otherwise() -> None:
    assert patterns._jitter_shift(PatternSettings(), 3).tolist() == [0, 0]
    settings = PatternSettings(jitter=2, seed=5)
    shifts = np.array([patterns._jitter_shift(settings, step) for step in range(200)])
    assert shifts.dtype == np.int32 and shifts.min() == -2 and shifts.max() == 2
    np.testing.assert_array_equal(patterns._jitter_shift(settings, 7), patterns._jitter_shift(settings, 7))
    expected = np.random.default_rng([5, 7919, 7]).integers(-2, 3, size=2)
    np.testing.assert_array_equal(patterns._jitter_shift(settings, 7), expected)


def test_blur_smooths_each_image_and_keeps_the_shape() -> None:
    x = np.zeros((2, 9, 9, 1), np.float32)
    x[0, 4, 4, 0] = 1.0
    blurred = patterns._blur(x, 1.0)
    assert blurred.shape == x.shape
    assert 0 < blurred[0, 4, 4, 0] < 1 and blurred[0, 4, 5, 0] > 0 and not blurred[1].any()
    assert blurred[0].sum() == pytest.approx(1.0, rel=1e-3)
    edge = np.zeros((1, 9, 9, 1), np.float32)
    edge[0, 0, 0, 0] = 1.0
    corner = patterns._blur(edge, 1.0)
    assert corner.sum() == pytest.approx(1.0, rel=1e-3)  # reflected at the border, not lost
    assert corner[0, 0, 0, 0] == pytest.approx(0.4108, abs=1e-3)  # BORDER_REFLECT keeps the edge pixel twice


@pytest.mark.parametrize(("shape", "usable"), [
    ((None, 4, 4, 8), True), ((None, 0, 4, 8), False), ((None, 4, 0, 8), False), ((None, 4, 8), False), (None, False),
    ((None, 4, 4, 0), True),
])
def test_a_usable_size_probe_is_4d_with_a_spatial_size(shape: tuple | None, usable: bool) -> None:
    assert patterns._usable(shape) is usable


def _info(path: str, shape: tuple = (None, 8, 8, 4), kind: str = "Conv2D") -> LayerInfo:
    return LayerInfo(path, path, kind, shape, 1, 0, False)


def test_filters_are_checked_against_the_layer() -> None:
    info = _info("conv")
    assert patterns._check_filters(info, [0, 3, np.int64(2)]).tolist() == [0, 3, 2]
    assert patterns._check_filters(info, [1]).dtype == np.int32
    for bad, first in (([4], 4), ([1, -1, 9], -1)):
        with pytest.raises(MethodError) as refused:
            patterns._check_filters(info, bad)
        assert str(refused.value) == f"filter {first} is out of range: layer 'conv' has 4 filters"
    with pytest.raises(MethodError, match="^no filters chosen$"):
        patterns._check_filters(info, [])
    unknown = _info("dyn", (None, 8, 8, None))
    assert patterns._check_filters(unknown, [99]).tolist() == [99]
    with pytest.raises(MethodError, match="filter -2 is out of range: layer 'dyn' has None filters"):
        patterns._check_filters(unknown, [-2])


def _session(*layers: LayerInfo, black_box: bool = False) -> SimpleNamespace:
    asked: list[str] = []
    return SimpleNamespace(info=SimpleNamespace(layers=layers), black_box=black_box, asked=asked,
                           layer=lambda name: asked.append(name))


def test_feature_layers_have_4d_outputs_and_are_not_the_input() -> None:
    session = _session(_info("in", (None, 8, 8, 3), "InputLayer"), _info("conv"), _info("flat", (None, 8), "Flatten"),
                       _info("p", (None, 1, 1, 4), "GlobalMaxPooling2D"))
    assert feature_layer(session, "conv").path == "conv"
    assert feature_layer(session, "p").path == "p"  # a 1x1 map still has feature maps to show
    with pytest.raises(LayerError, match="^'in' is the model's input, not a layer; feature views needs"):
        feature_layer(session, "in")
    with pytest.raises(LayerError, match=r"^layer 'flat' has output \(None, 8\); feature views needs a 4-D"):
        feature_layer(session, "flat")
    assert session.asked == []


def test_a_black_box_is_asked_first() -> None:
    session = _session(_info("conv"), black_box=True)
    assert feature_layer(session, "conv").path == "conv"
    assert session.asked == ["conv"]
