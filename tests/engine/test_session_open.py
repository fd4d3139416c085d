"""Opening a model through Session.open (the options reaching the session, black boxes, models
loaded on trust) and what an Explanation carries, on tiny saved models. Written from the
survivors of a mutation run of engine/session.py: each test names the bug it catches."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from scipy import special

from engine.errors import UnsafeModelError
from engine.images.decoding import load_image
from engine.methods import METHODS
from engine.session import Session
from tests.engine.test_methods_properties import SIZE, _cnn, _image
from tests.engine.test_savedmodel_runtime import _signature_module
from tests.models import lambda_model, rescaling_model, save_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return save_model(_cnn(), tmp_path_factory.mktemp("open"), "cnn.keras")


def test_the_options_reach_the_opened_session(saved):
    # guards: the preprocessing option, the path or the method registry dropped on the way
    registry = {name: METHODS[name] for name in ("gradcam", "saliency")}
    session = Session.open(saved, preprocessing="caffe", methods=registry)
    assert session.info.preprocessing == "caffe" and session.info.preprocessing_source == "option"
    assert session.info.path == str(saved) and session.methods is registry
    assert Session.open(saved).methods is METHODS


def test_the_preprocessing_is_guessed_from_the_models_own_config(tmp_path):
    # guards: the saved config not passed to the guess (a model that rescales its input itself
    # would get its pixels divided by 255 twice)
    path = save_model(rescaling_model((SIZE, SIZE, 3)), tmp_path, "rescaling.keras")
    session = Session.open(path)
    assert (session.info.preprocessing, session.info.preprocessing_source) == ("none", "guess")
    assert Session.open(save_model(_cnn(), tmp_path, "plain.keras")).info.preprocessing == "unit"


def test_a_model_that_runs_code_opens_only_on_trust_and_says_so(tmp_path):
    path = save_model(lambda_model(), tmp_path, "lam.keras")
    with pytest.raises(UnsafeModelError):
        Session.open(path)  # safe mode by default
    session = Session.open(path, trust=True)
    first = session.info.warnings[0]
    assert first.startswith("loaded on trust: safe mode refuses layer ") and "double_it" in first
    assert first.endswith(", which runs Python code when loaded")
    assert session.predict([_image(size=16)], top=1)[0].top  # and it works


def test_an_export_opens_as_a_black_box_with_the_options(tmp_path):
    # guards: the path, trust, preprocessing or registry not passed to the black box
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, SIZE, SIZE, 3), tf.float32)])
    def serve(x):
        tf.print("scores")  # an operator that needs trust
        return {"scores": tf.nn.softmax(tf.reduce_mean(x, axis=(1, 2)))}

    _signature_module(tmp_path / "export", serving_default=serve)
    with pytest.raises(UnsafeModelError):
        Session.open(tmp_path / "export")
    registry = {name: METHODS[name] for name in ("occlusion", "rise")}
    session = Session.open(tmp_path / "export", trust=True, preprocessing="symmetric", methods=registry)
    assert session.black_box and session.info.path == str(tmp_path / "export")
    assert session.info.preprocessing == "symmetric" and session.methods is registry


def test_images_are_read_with_the_sidecars_bit_depth(tmp_path):
    path = save_model(_cnn(), tmp_path, "deep.keras")
    (tmp_path / "deep.convscope.json").write_text(json.dumps({"bit_depth": 10}))
    picture = np.linspace(0, 1023, 64).reshape(8, 8).astype(np.uint16)  # a 10-bit camera's full range
    cv2.imwrite(str(tmp_path / "deep.png"), picture)
    session = Session.open(path)
    loaded = session.load_image(tmp_path / "deep.png")
    np.testing.assert_array_equal(loaded.display, load_image(tmp_path / "deep.png", 10).display)
    assert loaded.display.max() == 255  # 1023 of 10 bits is white, not the dark grey of a guessed 12 bits


@pytest.fixture(scope="module")
def session() -> Session:
    from engine.model.sidecar import Sidecar

    return Session(_cnn(), "tiny.keras", Sidecar(class_names=("ok", "scratch", "crack"), preprocessing="unit"))


def test_an_explanation_names_its_method_class_and_scores(session):
    # guards: the method, the class, its name, probability, logit or time left out of the result
    image = _image(7)
    explanation = session.explain(image, "gradcam", class_index=2)
    logits = session.logits(session.batch([image]))[0]
    assert (explanation.method, explanation.class_index, explanation.class_name) == ("gradcam", 2, "crack")
    assert explanation.probability == pytest.approx(special.softmax(logits)[2], rel=1e-5)
    assert explanation.logit == pytest.approx(logits[2], rel=1e-5)
    assert explanation.seconds > 0 and explanation.notes == () and not explanation.empty


def test_an_explanation_uses_the_methods_floor_its_polarity_and_the_guided_map(session):
    # guards: RISE normalised as if zero meant no evidence, signed attributions not given to the
    # polarity view, the guided-backprop product dropped
    image = _image(8)
    rise = session.explain(image, "rise", class_index=1, masks=64, grid=4)
    assert rise.heatmap.min() == 0.0 and rise.heatmap.max() == pytest.approx(1.0)
    positive = session.explain(image, "saliency", class_index=1, polarity="positive")
    negative = session.explain(image, "saliency", class_index=1, polarity="negative")
    assert not np.allclose(positive.heatmap, negative.heatmap)
    plain = session.explain(image, "gradcam", class_index=1)
    guided = session.explain(image, "gradcam", class_index=1, guided=True)
    assert not np.allclose(plain.heatmap, guided.heatmap)


def test_an_image_too_small_to_tile_is_explained_whole_as_asked(session):
    # guards: the chosen layer or class lost when tiling falls back to the whole image
    image = _image(9, size=SIZE - 4)  # smaller than the model input
    first = next(i.path for i in session.info.layers if i.is_cam_target and i.path != session.info.default_layer)
    whole = session.explain(image, "gradcam", layer=first, class_index=0, tiles=True)
    assert whole.layer == first and whole.class_index == 0 and whole.params["tiles"] is True
    assert whole.notes[-1].startswith("tiles: the image (20 x 20) is smaller than the model input")


def test_a_class_named_with_stray_letters_is_unknown(session):
    with pytest.raises(Exception, match=r"^unknown class 'X1'; classes: ok, scratch, crack$"):
        session.class_index("X1")
    assert session.logits(np.zeros((0, SIZE, SIZE, 3), np.float32)).dtype == np.float32


def test_the_requests_defaults_and_switches_reach_the_method(session):
    # guards: another default method, a layer given to a method on the input, a fusion rule set
    # for one layer, the fuse option not reaching the layer choice, classes of a whole batch
    # not defaulting to the predicted ones
    image = _image(10)
    assert session.explain(image).method == "gradcam"
    assert session.explain(image).params["fuse"] is None
    assert session.explain(image, "saliency").layer is None
    fused = session.explain(image, "gradcam", fuse="max")
    assert fused.layer == " + ".join(session.target_layers(None, "max")) and " + " in fused.layer
    images = [_image(11), _image(12)]
    predicted = [p.best.index for p in session.predict(images, top=1)]
    assert [e.class_index for e in session.explain_batch(images)] == predicted


def test_progress_and_cancel_reach_the_method(session):
    from engine.errors import Cancelled

    seen: list = []
    session.explain(_image(13), "occlusion", class_index=0, patch=8, stride=8, progress=lambda d, t: seen.append(d))
    assert seen and seen[-1] > 0
    with pytest.raises(Cancelled):
        session.explain(_image(13), "occlusion", class_index=0, patch=8, stride=8, cancel=lambda: True)


def test_integrated_gradients_start_from_black_in_the_models_own_input_space():
    # guards: the session's preprocessing not passed to the method (a caffe model's black baseline
    # is -mean per channel, not zeros): completeness then fails
    from engine.images.preprocessing import preprocess
    from engine.model.sidecar import Sidecar

    caffe = Session(_cnn(), "caffe.keras", Sidecar(preprocessing="caffe"))
    image = _image(14)
    explanation = caffe.explain(image, "integrated-gradients", class_index=1, steps=128)
    black = preprocess(np.zeros((1, SIZE, SIZE, 3), np.float32), "caffe")
    gap = caffe.logits(caffe.batch([image]))[0, 1] - caffe.logits(black)[0, 1]
    assert float(np.sum(explanation.raw)) == pytest.approx(float(gap), rel=0.05, abs=1e-3)


def test_a_class_of_the_second_output_is_checked_against_that_output():
    from engine.errors import MethodError
    from engine.model.sidecar import Sidecar
    from tests.models import multi_output_model

    two = Session(multi_output_model((SIZE, SIZE, 3), classes=(3, 5)), "two.keras", Sidecar(preprocessing="unit"))
    assert two.explain(_image(15), "gradcam", layer="conv2", class_index=4, output=1).class_index == 4
    with pytest.raises(MethodError, match="out of range: the model has 3 classes"):
        two.explain(_image(15), "gradcam", layer="conv2", class_index=4)  # output 0 by default


def test_tiles_keep_the_class_and_the_whole_image_fallback_keeps_everything_else(session):
    # guards: a chosen class 0 taken for "the predicted one" on tiles, the method's parameters,
    # progress or cancel dropped when an image is explained whole instead
    from engine.errors import Cancelled

    big = _image(16, size=SIZE * 2)
    predicted = session.predict([big], top=1)[0].best.index
    for wanted in {0, (predicted + 1) % 3}:
        assert session.explain(big, "gradcam", class_index=wanted, tiles=True).class_index == wanted
    small = _image(17, size=SIZE - 4)
    seen: list = []
    whole = session.explain(small, "occlusion", class_index=1, patch=6, stride=6, tiles=True,
                            progress=lambda d, t: seen.append(d))
    assert whole.params["patch"] == 6 and whole.params["stride"] == 6 and seen
    with pytest.raises(Cancelled):
        session.explain(small, "occlusion", class_index=1, patch=6, stride=6, tiles=True, cancel=lambda: True)


def test_every_layer_that_runs_code_is_named_in_the_trust_note(tmp_path):
    from tests.models import keras, layers

    inputs = keras.Input((8, 8, 3))
    x = layers.Lambda(lambda t: t * 2.0, name="double_it")(inputs)
    x = layers.Lambda(lambda t: t + 1.0, name="shift_it")(x)
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(layers.Flatten()(x)))
    session = Session.open(save_model(model, tmp_path, "two_lambdas.keras"), trust=True)
    note = session.info.warnings[0]
    names = note.removeprefix("loaded on trust: safe mode refuses layer ").removesuffix(
        ", which runs Python code when loaded")
    assert names.split(", ")[0].startswith("double_it") and names.split(", ")[1].startswith("shift_it")


def test_the_seconds_are_per_image_of_the_batch(session):
    # guards: the time multiplied by the batch, measured from the wrong start, divided by two for one image
    import time

    images = [_image(18), _image(19)]
    session.explain_batch(images, "occlusion", patch=4, stride=2)  # compiled once, outside the measure
    began = time.perf_counter()
    pair = session.explain_batch(images, "occlusion", patch=4, stride=2)
    elapsed = time.perf_counter() - began
    assert 0.3 * elapsed / 2 <= pair[0].seconds == pair[1].seconds <= elapsed / 2
    began = time.perf_counter()
    one = session.explain(images[0], "occlusion", patch=4, stride=2)
    elapsed = time.perf_counter() - began
    assert 0.6 * elapsed <= one.seconds <= elapsed  # the time of the one image, not half of it


def test_the_guided_step_reports_its_progress(session):
    plain: list = []
    guided: list = []
    session.explain(_image(20), "gradcam", class_index=1, progress=lambda d, t: plain.append((d, t)))
    session.explain(_image(20), "gradcam", class_index=1, guided=True, progress=lambda d, t: guided.append((d, t)))
    assert len(guided) > len(plain)
