"""The layer tree and layer lookup (engine.model.layers) on plain layer records, without
Keras: which layers serve a CAM, the default target, names resolved by path or bare name,
the hint for a misspelt name, and the tree walked with nested models expanded."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.errors import LayerError
from engine.model.layers import (
    PATH_SEPARATOR,
    LayerInfo,
    default_target_layer,
    iter_layers,
    list_layers,
    not_a_target,
    resolve_layer,
)


def _info(path: str, kind: str = "Conv2D", shape: tuple = (None, 8, 8, 16), model: bool = False) -> LayerInfo:
    return LayerInfo(path, path.rsplit("/", 1)[-1], kind, shape, 10, path.count("/"), model)


def test_parent_is_the_enclosing_model_path() -> None:
    assert PATH_SEPARATOR == "/"
    assert _info("a/b/c").parent == "a/b"
    assert _info("c").parent is None


@pytest.mark.parametrize(("shape", "spatial"), [
    ((None, 8, 8, 16), True), ((None, 1, 8, 16), True), ((None, 8, 1, 16), True), ((None, 1, 1, 16), False),
    ((None, 16), False), ((None, 8, 8), False), ((None, 4, 8, 8, 3), False), ((None, None, None, 3), True),
])
def test_spatial_means_4d_and_larger_than_one_pixel(shape: tuple, spatial: bool) -> None:
    assert _info("x", shape=shape).is_spatial is spatial


def test_cam_targets_exclude_input_and_containers() -> None:
    assert _info("c").is_cam_target
    assert not _info("in", "InputLayer").is_cam_target
    assert not _info("m", "Functional", model=True).is_cam_target
    assert not _info("d", "Dense", (None, 4)).is_cam_target


def test_shape_text_is_as_summary_writes_it() -> None:
    assert _info("x", shape=(None, 8, 8, 16)).shape_text == "(None, 8, 8, 16)"
    assert _info("x", shape=(None,)).shape_text == "(None)"


def test_why_a_layer_is_not_a_target() -> None:
    assert not_a_target(_info("in", "InputLayer"), "a CAM") == \
        "'in' is the model's input, not a layer; a CAM needs a layer after it"
    assert not_a_target(_info("base", "Functional", model=True), "feature views") == \
        "'base' is a nested model; feature views needs one of its layers, e.g. 'base/<layer name>' (see `info`)"
    assert not_a_target(_info("d", "Dense", (None, 4)), "a CAM") == \
        "layer 'd' has output (None, 4); a CAM needs a 4-D (batch, height, width, channels) output with a spatial " \
        "size above 1x1"


LAYERS = (_info("input", "InputLayer"), _info("conv"), _info("base", "Functional", model=True),
          _info("base/conv"), _info("base/block_1"), _info("head"), _info("dense", "Dense", (None, 3)))


def test_resolve_by_full_path_first_then_by_a_unique_bare_name() -> None:
    assert resolve_layer(LAYERS, "conv") is LAYERS[1]  # the path "conv" wins over base/conv's bare name
    assert resolve_layer(LAYERS, "base/conv") is LAYERS[3]
    assert resolve_layer(LAYERS, "block_1") is LAYERS[4]


def test_an_ambiguous_bare_name_lists_the_paths() -> None:
    layers = (_info("a/conv"), _info("b/conv"))
    with pytest.raises(LayerError) as refused:
        resolve_layer(layers, "conv")
    assert str(refused.value) == "layer name 'conv' is ambiguous; use one of: a/conv, b/conv"


def test_a_misspelt_name_suggests_the_closest_ones() -> None:
    with pytest.raises(LayerError) as refused:
        resolve_layer(LAYERS, "base/blok_1")
    assert str(refused.value) == ("no layer named 'base/blok_1' in the model; did you mean 'base/block_1' or "
                                  "'block_1' or 'base/conv'?")
    with pytest.raises(LayerError) as refused:
        resolve_layer(LAYERS, "cnv")
    assert str(refused.value) == "no layer named 'cnv' in the model; did you mean 'conv'?"
    with pytest.raises(LayerError, match=r"did you mean 'base/conv' or 'base' or 'base/block_1'\?$"):
        resolve_layer(LAYERS, "base/con")


def test_an_unrelated_name_lists_the_last_eight_cam_targets() -> None:
    with pytest.raises(LayerError) as refused:
        resolve_layer(LAYERS, "zzzzzz")
    assert str(refused.value) == ("no layer named 'zzzzzz' in the model; layers with a spatial output: conv, "
                                  "base/conv, base/block_1, head (`info --model M` lists every layer)")
    many = tuple(_info(f"c{i}") for i in range(9))
    with pytest.raises(LayerError) as refused:
        resolve_layer(many, "zzzzzz")
    assert str(refused.value) == ("no layer named 'zzzzzz' in the model; layers with a spatial output: …, "
                                  "c1, c2, c3, c4, c5, c6, c7, c8 (`info --model M` lists every layer)")
    eight = many[:8]
    with pytest.raises(LayerError, match=r"output: c0, c1, c2, c3, c4, c5, c6, c7 \("):
        resolve_layer(eight, "zzzzzz")


def test_default_target_is_the_last_rich_spatial_layer() -> None:
    layers = (_info("input", "InputLayer"), _info("conv1"), _info("conv2"), _info("pool", "MaxPooling2D"),
              _info("drop", "Dropout"), _info("dense", "Dense", (None, 10)))
    assert default_target_layer(layers, 10) is layers[2]


def test_default_target_skips_a_logits_convolution() -> None:
    layers = (_info("conv1", shape=(None, 8, 8, 64)), _info("conv10", shape=(None, 8, 8, 5)),
              _info("bn", "BatchNormalization", (None, 8, 8, 5)))
    assert default_target_layer(layers, 5) is layers[2]
    assert default_target_layer(layers[:2], 5) is layers[0]
    assert default_target_layer(layers[:2], 6) is layers[1]


def test_default_target_falls_back_to_a_pass_through_layer_or_none() -> None:
    only_pooling = (_info("input", "InputLayer"), _info("pool", "AveragePooling2D"), _info("up", "UpSampling2D"))
    assert default_target_layer(only_pooling, 3) is only_pooling[2]
    for kind in ("ZeroPadding2D", "Cropping2D", "GaussianNoise", "GlobalMaxPooling2D"):
        layers = (_info("conv"), _info("x", kind))
        assert default_target_layer(layers, 3) is layers[0]
    assert default_target_layer((_info("d", "Dense", (None, 3)),), 3) is None


class _Layer(SimpleNamespace):
    def count_params(self) -> int:
        if self.params is None:
            raise ValueError("unbuilt")
        return self.params


class _Model(_Layer):
    pass


def _no_output(self: _Layer) -> None:
    raise AttributeError("no output")


def test_the_tree_is_walked_depth_first_with_nested_models_expanded() -> None:
    tensor = SimpleNamespace(shape=(None, 4, 4, 2))
    inner = _Layer(name="c", output=tensor, params=7)
    base = _Model(name="base", layers=[inner], inputs=[], output=[tensor, tensor], params=7)
    unbuilt = _Layer(name="u", output=tensor, params=None)
    model = SimpleNamespace(layers=[_Layer(name="in", output=tensor, params=0), base, unbuilt])
    infos = list_layers(model)
    assert [(i.path, i.name, i.depth, i.is_model, i.params) for i in infos] == [
        ("in", "in", 0, False, 0), ("base", "base", 0, True, 7), ("base/c", "c", 1, False, 7),
        ("u", "u", 0, False, 0)]
    assert infos[1].type == "_Model" and infos[1].output_shape == (None, 4, 4, 2)
    pairs = list(iter_layers(model))
    assert pairs[2][1] is inner


def test_a_layer_without_an_output_has_an_empty_shape() -> None:
    class Detached(_Layer):
        output = property(_no_output)

    (info,) = list_layers(SimpleNamespace(layers=[Detached(name="x", params=1)]))
    assert info.output_shape == () and not info.is_spatial
    half_model = SimpleNamespace(layers=[_Layer(name="y", layers=[], output=SimpleNamespace(shape=(None, 2)),
                                                params=0)])
    assert not list_layers(half_model)[0].is_model  # layers without inputs: not a model


def test_a_layer_with_several_outputs_shows_its_first() -> None:
    first, second = SimpleNamespace(shape=(None, 4, 4, 2)), SimpleNamespace(shape=(None, 9))
    (info,) = list_layers(SimpleNamespace(layers=[_Layer(name="split", output=[first, second], params=0)]))
    assert info.output_shape == (None, 4, 4, 2)


def test_at_most_three_close_names_are_suggested() -> None:
    layers = tuple(_info(f"conv{i}") for i in range(1, 6))
    with pytest.raises(LayerError) as refused:
        resolve_layer(layers, "conv")
    assert str(refused.value).count("'conv") == 4  # the name asked for and three suggestions
