"""The layer tree (names, types, shapes, parameters, depths as summary() shows them), layer
lookup by path or unique name, and the choice of the default CAM layer."""

from __future__ import annotations

import pytest

from engine.errors import LayerError
from engine.model.backend import keras
from engine.model.layers import default_target_layer, list_layers, resolve_layer
from tests.models import (
    dense_only_model,
    nested_functional,
    nested_sequential,
    residual_bn_separable_model,
    sequential_in_functional,
    squeezenet_like,
    tiny_cnn,
)


def _walk(model, depth=0):
    """Reference flattening: (layer, depth) in summary() order, nested models expanded."""
    for layer in model.layers:
        yield layer, depth
        if isinstance(layer, keras.Model):
            yield from _walk(layer, depth + 1)


def _check_against_keras(model):
    infos = list_layers(model)
    reference = list(_walk(model))
    assert [i.name for i in infos] == [layer.name for layer, _ in reference]
    for info, (layer, depth) in zip(infos, reference, strict=True):
        assert info.type == type(layer).__name__
        assert info.params == layer.count_params()
        assert info.depth == depth
        assert info.is_model == isinstance(layer, keras.Model)
        assert info.output_shape == tuple(layer.output.shape)
    return infos


def test_functional_with_nested_base():
    infos = _check_against_keras(nested_functional())
    by_path = {i.path: i for i in infos}
    assert list(by_path) == ["image", "base", "base/base_input", "base/base_conv1", "base/base_pool",
                             "base/base_conv2", "gap", "predictions"]
    base = by_path["base"]
    assert base.is_model and base.type == "Functional" and base.depth == 0
    assert base.params == 8 * 27 + 8 + 16 * 72 + 16
    assert base.output_shape == (None, 16, 16, 16) and base.shape_text == "(None, 16, 16, 16)"
    conv = by_path["base/base_conv2"]
    assert conv.depth == 1 and conv.parent == "base" and conv.is_cam_target
    assert not base.is_cam_target  # a container is expanded, not targeted
    assert not by_path["base/base_input"].is_cam_target
    assert by_path["predictions"].params == 16 * 3 + 3 and by_path["predictions"].output_shape == (None, 3)


def test_sequential_with_nested_functional_base():
    infos = _check_against_keras(nested_sequential())
    assert [i.path for i in infos] == ["base", "base/base_input", "base/base_conv1", "base/base_pool",
                                       "base/base_conv2", "gap", "predictions"]
    assert sum(i.params for i in infos if i.depth == 0) == nested_sequential().count_params()


def test_sequential_nested_in_functional():
    infos = _check_against_keras(sequential_in_functional())
    by_path = {i.path: i for i in infos}
    assert by_path["block"].type == "Sequential" and by_path["block"].is_model
    assert by_path["block/block_conv"].depth == 1
    bn = by_path["block/block_bn"]
    assert bn.params == 4 * 16 and bn.output_shape == (None, 32, 32, 16)  # BN counts moving stats


def test_resolve_by_path_and_unique_name():
    infos = list_layers(nested_functional())
    assert resolve_layer(infos, "base/base_conv2").path == "base/base_conv2"
    assert resolve_layer(infos, "base_conv2").path == "base/base_conv2"
    assert resolve_layer(infos, "gap").path == "gap"
    with pytest.raises(LayerError, match="no layer named 'conv9'"):
        resolve_layer(infos, "conv9")


def test_an_unknown_layer_gets_the_closest_names_or_the_targets():
    infos = list_layers(nested_functional())
    with pytest.raises(LayerError) as typo:
        resolve_layer(infos, "base_conv3")
    assert "did you mean 'base_conv2'" in str(typo.value) or "'base/base_conv2'" in str(typo.value)
    with pytest.raises(LayerError) as unknown:
        resolve_layer(infos, "xyzzy")
    message = str(unknown.value)
    assert "spatial output" in message and "base/base_conv2" in message and "\n" not in message


def test_ambiguous_name_lists_the_paths():
    base = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="conv")],
                            name="base")
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Concatenate()([keras.layers.Conv2D(4, 3, name="conv")(inputs), base(inputs)])
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    infos = list_layers(model)
    assert resolve_layer(infos, "conv").path == "conv"  # a full path wins over a bare name
    assert resolve_layer(infos, "base/conv").depth == 1
    inner = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="c")], name="m1")
    other = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="c")], name="m2")
    y = keras.layers.Concatenate()([inner(inputs), other(inputs)])
    twins = list_layers(keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(y))))
    with pytest.raises(LayerError, match="ambiguous") as info:
        resolve_layer(twins, "c")
    assert "m1/c" in str(info.value) and "m2/c" in str(info.value) and "\n" not in str(info.value)


def test_default_is_last_conv_not_pooling():
    infos = list_layers(tiny_cnn())
    assert default_target_layer(infos, 3).path == "conv2"
    # conv -> pool: the pool only re-samples the conv's map
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, name="last_conv")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Dropout(0.1, name="drop")(x)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))
    assert default_target_layer(list_layers(model), 2).path == "last_conv"


def test_default_skips_squeezenet_logits_conv():
    infos = list_layers(squeezenet_like(classes=4))
    assert default_target_layer(infos, 4).path == "features"


def test_default_in_nested_base_and_residual_models():
    assert default_target_layer(list_layers(nested_functional()), 3).path == "base/base_conv2"
    assert default_target_layer(list_layers(nested_sequential()), 3).path == "base/base_conv2"
    assert default_target_layer(list_layers(residual_bn_separable_model()), 4).path == "post_act"


def test_default_skips_one_by_one_maps():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="spatial")(inputs)
    x = keras.layers.Conv2D(8, 8, name="to_1x1")(x)  # (None, 1, 1, 8)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    infos = list_layers(model)
    assert not resolve_layer(infos, "to_1x1").is_spatial
    assert default_target_layer(infos, 2).path == "spatial"


def test_dense_only_model_has_no_default():
    infos = list_layers(dense_only_model())
    assert default_target_layer(infos, 3) is None
    assert not any(i.is_cam_target for i in infos)
