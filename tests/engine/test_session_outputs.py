"""What a session answers besides maps: which output a request names, the top-k prediction,
class names, the method objects, the model's description and its warnings. On tiny models;
each test states the mistake it would catch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from engine.errors import LayerError, MethodError
from engine.model.sidecar import Sidecar
from engine.session import Session
from tests.engine.test_methods_properties import SIZE, _cnn, _image
from tests.models import multi_output_model


@pytest.fixture(scope="module")
def two_outputs() -> Session:
    return Session(multi_output_model((SIZE, SIZE, 3), classes=(3, 5)), "two.keras", Sidecar(preprocessing="unit"))


@pytest.fixture(scope="module")
def one_output() -> Session:
    return Session(_cnn(), "one.keras", Sidecar(class_names=("ok", "scratch", "crack"), preprocessing="unit"))


@pytest.mark.parametrize(("given", "index"), [(0, 0), (1, 1), ("kind", 0), ("grade", 1), ("1", 1),
                                              (np.int64(1), 1)])
def test_an_output_by_index_name_or_digits(two_outputs, given, index):
    assert two_outputs.check_output(given) == index


@pytest.mark.parametrize("given", [2, -1, "-1", "2", "colour", True, 1.0])
def test_an_output_outside_the_model_names_them_all(two_outputs, given):
    # guards: -1 taken as the last output, True taken as output 1, a float index accepted
    with pytest.raises(MethodError, match=r"^output .+ is out of range: the model has 2 outputs: 0 \(kind\), 1 \(grade\)$"):
        two_outputs.check_output(given)


def test_a_single_output_is_named_in_the_singular(one_output):
    with pytest.raises(MethodError, match=r"the model has 1 output: 0 \(head\)$"):
        one_output.check_output(1)


def test_the_prediction_is_the_top_classes_best_first_with_their_logits(one_output):
    # guards: ascending order, top 0 giving no class, logits of another class, names lost
    images = [_image(seed) for seed in (1, 2)]
    logits = one_output.logits(one_output.batch(images))
    for prediction, row in zip(one_output.predict(images, top=2), logits, strict=True):
        probabilities = special.softmax(row)
        order = np.argsort(-probabilities)
        assert [s.index for s in prediction.top] == list(order[:2])
        assert [s.name for s in prediction.top] == [("ok", "scratch", "crack")[i] for i in order[:2]]
        np.testing.assert_allclose([s.probability for s in prediction.top], probabilities[order[:2]], rtol=1e-5)
        np.testing.assert_allclose([s.logit for s in prediction.top], row[order[:2]], rtol=1e-5)
        assert prediction.path == "blobs.png"
    assert [len(p.top) for p in one_output.predict(images, top=0)] == [1, 1]


def test_the_prediction_of_the_second_output(two_outputs):
    image = _image(4)
    prediction = two_outputs.predict([image], top=5, output="grade")[0]
    logits = two_outputs.logits(two_outputs.batch([image]), 1)[0]
    assert len(prediction.top) == 5 and prediction.best.index == int(np.argmax(logits))
    assert prediction.best.name == f"class {prediction.best.index}"


def test_class_names_and_an_index_past_them(one_output):
    assert one_output.class_name(2) == "crack" and one_output.class_name(3) == "class 3"
    assert one_output.class_name(-1) == "class -1"


def test_a_method_is_made_once_and_an_unknown_one_lists_the_choices(one_output):
    assert one_output.method("gradcam") is one_output.method("gradcam")
    with pytest.raises(MethodError, match=r"^unknown method 'gradcamm'; choose from gradcam, "):
        one_output.method("gradcamm")


def test_several_layers_are_fused_by_max_unless_told(one_output):
    # guards: several layers explained with the first one only, or fused by another rule by default
    image = _image(5)
    layers = [i.path for i in one_output.info.layers if i.is_cam_target][:2]
    assert len(layers) == 2
    fused = one_output.explain(image, "gradcam", layer=layers, class_index=1)
    assert fused.layer == " + ".join(layers) and fused.params["fuse"] == "max"
    mean = one_output.explain(image, "gradcam", layer=layers, class_index=1, fuse="mean")
    assert mean.params["fuse"] == "mean" and not np.allclose(mean.heatmap, fused.heatmap)


def test_the_model_info_warns_of_names_that_do_not_fit():
    session = Session(_cnn(), "m.keras", Sidecar(class_names=("a", "b"), preprocessing="unit"))
    assert session.info.class_names == ("class 0", "class 1", "class 2")
    assert "the sidecar names 2 classes but the model has 3; names ignored" in session.info.warnings
    assert session.info.input_shape == (SIZE, SIZE, 3) and session.info.params == session.model.count_params()
    assert session.info.name == "m.keras" and session.info.output_names == ("head",)


def test_model_pixels_are_rgb_levels_whatever_the_preprocessing():
    # guards: the pixels preprocessed (the window would show a caffe-shifted image)
    image = _image(6)
    for mode in ("unit", "caffe", "torch"):
        session = Session(_cnn(), "m.keras", Sidecar(preprocessing=mode))
        np.testing.assert_allclose(session.model_pixels(image), image.pixels, atol=1e-4)


def test_no_cam_layer_says_what_works_instead():
    from tests.models import dense_only_model

    session = Session(dense_only_model((SIZE, SIZE, 3)), "dense.keras", Sidecar(preprocessing="unit"))
    with pytest.raises(LayerError, match="use an input-gradient method such as saliency"):
        session.layer(None)


def test_the_model_info_from_a_session_built_directly():
    # guards: the class count not reaching the default-layer rule (SqueezeNet's logits conv taken),
    # the heads or the warnings list not passed on, the no-CAM warning given to the wrong models
    from tests.models import dense_only_model, squeezenet_like

    squeeze = Session(squeezenet_like((SIZE, SIZE, 3)), "sq.keras", Sidecar(preprocessing="unit"))
    assert squeeze.info.default_layer == "features" and squeeze.info.heads == squeeze.context.heads
    assert squeeze.info.warnings == ()
    dense = Session(dense_only_model((SIZE, SIZE, 3)), "dense.keras", Sidecar(preprocessing="unit"))
    assert dense.info.warnings == ("no layer with a spatial (4-D) output: CAMs are unavailable, "
                                   "input-gradient methods work",)
    ignored = Session(_cnn(), "m.keras", Sidecar(preprocessing="unit", target_layer="nowhere"))
    assert len(ignored.info.warnings) == 1 and ignored.info.warnings[0].startswith("sidecar target layer ignored: ")
    assert ignored.info.default_layer == "last"


def test_a_model_that_is_not_an_image_classifier_is_refused_by_its_name():
    from engine.errors import ModelLoadError
    from tests.models import keras, layers

    a, b = keras.Input((SIZE, SIZE, 3)), keras.Input((SIZE, SIZE, 3))
    two = keras.Model([a, b], layers.Dense(2)(layers.Flatten()(layers.Add()([a, b]))))
    with pytest.raises(ModelLoadError, match=r"^two.keras: the model has 2 inputs"):
        Session(two, "folder/two.keras", Sidecar())


def test_five_classes_by_default():
    session = Session(_cnn(units=7), "seven.keras", Sidecar(preprocessing="unit"))
    assert len(session.predict([_image(3)])[0].top) == 5


@pytest.fixture(scope="module")
def three_scales() -> Session:
    from tests.models import keras, layers

    keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="b")(x)
    x = layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="c")(x)
    outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D(name="gap")(x))
    return Session(keras.Model(inputs, outputs), "three.keras", Sidecar(preprocessing="unit"))


def test_fusing_from_one_named_layer_takes_the_resolutions_up_to_it(three_scales):
    # guards: the named layer ignored (the default set ending at the deepest layer taken), a single
    # name not given its default set, the set not ending at the named layer
    assert three_scales.target_layers(None, fuse="max") == ["a", "b", "c"]
    assert three_scales.target_layers("b", fuse="max") == ["a", "b"]
    assert three_scales.target_layers("b") == ["b"]


def test_layers_that_cannot_serve_say_why_in_full(three_scales):
    with pytest.raises(LayerError, match=r"^layer 'gap' has output \(None, 4\); a CAM needs a 4-D \(batch, height, "
                                         r"width, channels\) output with a spatial size above 1x1$"):
        three_scales.layer("gap")
    from tests.models import dense_only_model

    dense = Session(dense_only_model((SIZE, SIZE, 3)), "dense.keras", Sidecar(preprocessing="unit"))
    with pytest.raises(LayerError, match=r"^the model has no layer with a spatial \(4-D\) output: CAMs are unavailable; "
                                         r"use an input-gradient method such as saliency$"):
        dense.layer(None)


def test_each_output_has_its_own_compiled_forward_pass(two_outputs):
    # guards: the compiled pass cached without its output index (output 1 answered by output 0's)
    x = two_outputs.batch([_image(2)])
    assert two_outputs.logits(x, 0).shape == (1, 3) and two_outputs.logits(x, 1).shape == (1, 5)
    assert two_outputs.logits(x, 0).shape == (1, 3)
