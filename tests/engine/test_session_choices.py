"""What a session makes of a user's choices before any map: a class by name or index (a name
wins when classes are named by digits; the range checked at both ends), the CAM target layer
(the default, a named one, one that cannot serve), several layers (a comma list, duplicates and
blanks dropped, the default fusion set), and logits in batches. On a tiny model: each check is
a fraction of a second."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import LayerError, MethodError
from engine.model.sidecar import Sidecar
from engine.session import Session
from tests.engine.test_methods_properties import _cnn, _image


@pytest.fixture(scope="module")
def named():
    return Session(_cnn(), "tiny.keras", Sidecar(class_names=("1", "0", "scratch"), preprocessing="unit"))


@pytest.mark.parametrize(("value", "index"), [("scratch", 2), (" scratch ", 2), ("1", 0), ("0", 1), (2, 2), (1, 1),
                                              ("2", 2), (0, 0)])
def test_a_class_by_name_or_index_a_digit_name_winning(named, value, index):
    assert named.class_index(value) == index


@pytest.mark.parametrize("value", [3, "3", -1, "-1"])
def test_a_class_index_outside_the_model_is_refused(named, value):
    with pytest.raises(MethodError, match=f"class index {int(value)} is out of range: the model has 3 classes"):
        named.class_index(value)


def test_an_unknown_class_name_lists_the_classes(named):
    with pytest.raises(MethodError, match="unknown class 'crack'; classes: 1, 0, scratch"):
        named.class_index("crack")


def test_the_default_layer_a_named_one_and_one_that_cannot_serve(named):
    assert named.layer(None).path == named.info.default_layer == "last"
    assert named.layer("last").path == "last"
    with pytest.raises(LayerError):
        named.layer("head")  # a Dense layer: no spatial map


def test_several_layers_in_order_without_blanks_or_repeats(named):
    first = named.info.layers[1].path  # the first convolution
    assert named.target_layers(f"{first}, last,, last") == [first, "last"]
    assert named.target_layers([first, "last", first]) == [first, "last"]
    assert named.target_layers(None) == ["last"]
    assert named.target_layers("") == ["last"]


def test_fusion_without_layers_takes_the_default_set_ending_at_the_named_or_default_layer(named):
    from engine.methods.fusion import default_layers

    assert named.target_layers(None, fuse="mean") == (default_layers(named.info.layers, "last") or ["last"])
    assert named.target_layers("last", fuse="mean")[-1] == "last"
    first = named.info.layers[1].path
    assert named.target_layers(f"{first},last", fuse="mean") == [first, "last"]  # named layers: as named


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_logits_are_the_same_whatever_the_batch_size_and_empty_for_no_input(named, batch_size):
    inputs = np.stack([named.model_input(_image(seed)) for seed in range(3)]).astype(np.float32)
    want = np.asarray(named.model(inputs, training=False))  # softmax outputs of the same model
    logits = named.logits(inputs, batch_size=batch_size)
    assert logits.shape == (3, 3)
    np.testing.assert_allclose(named.context.heads[0].probabilities(logits), want, rtol=1e-4, atol=1e-6)
    assert named.logits(inputs[:0]).shape == (0, 3)
