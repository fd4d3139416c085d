"""SavedModel folders as black boxes (engine.model.savedmodel_runtime), on folders written by
Keras' own exporter (`model.export`) and by `tf.saved_model.save`: what the runtime reads from
the graph (input, classes, head, parameters, operators), fixed batch sizes, text graphs,
several graphs, and the operators that need the user's trust.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.errors import ModelLoadError, UnsafeModelError
from engine.model.savedmodel_runtime import SavedModelRuntime, _first_line, read_proto, serving_tags
from tests.models import keras, layers, sigmoid_model, tiny_cnn


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, object]:
    model = tiny_cnn((20, 28, 3), classes=4)
    folder = tmp_path_factory.mktemp("saved") / "cnn"
    model.export(folder)  # Keras' own SavedModel exporter
    return folder, model


def test_an_exported_keras_model_is_read_from_its_graph(exported):
    # guards: height and width swapped, the class count or the softmax head misread, the
    # parameters not counted, operators not listed by type
    folder, model = exported
    runtime = SavedModelRuntime(folder)
    assert runtime.kind == "SavedModel" and runtime.input_shape == (20, 28, 3) and runtime.units == 4
    assert runtime.fixed_batch == 0 and runtime.activation == "softmax"
    assert runtime.params == model.count_params()
    first = runtime.nodes[0]
    assert first.path.startswith("000:") and first.type == "Input" and tuple(first.output_shape[1:]) == (20, 28, 3)
    names = [n.name for n in runtime.nodes[1:]]
    assert names == sorted(names) and "Conv2D x2" in names  # each operator type once, with its count
    assert [n.path[:3] for n in runtime.nodes] == [f"{i:03d}" for i in range(len(runtime.nodes))]
    x = np.random.default_rng(0).random((3, 20, 28, 3)).astype(np.float32)
    np.testing.assert_allclose(runtime.run(x), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_a_one_unit_sigmoid_head_is_read_as_sigmoid(tmp_path):
    model = sigmoid_model((16, 16, 3))
    model.export(tmp_path / "sig")
    runtime = SavedModelRuntime(tmp_path / "sig")
    assert runtime.units == 1 and runtime.activation == "sigmoid"
    inputs = keras.Input((16, 16, 3))
    linear = keras.Model(inputs, layers.Dense(2, name="scores")(layers.Flatten()(inputs)))
    linear.export(tmp_path / "linear")
    assert SavedModelRuntime(tmp_path / "linear").activation == "linear"


def _fixed_batch_module(folder: Path, batch: int) -> None:
    import tensorflow as tf

    class Fixed(tf.Module):
        def __init__(self):
            super().__init__()
            self.w = tf.Variable(np.arange(3, dtype=np.float32).reshape(3, 1) + 1.0)

        @tf.function(input_signature=[tf.TensorSpec((batch, 4, 4, 3), tf.float32, name="pixels")])
        def serve(self, pixels):
            return {"scores": tf.reduce_mean(pixels, axis=(1, 2)) @ self.w, "aux": tf.zeros((batch, 7))}

    module = Fixed()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})


def test_a_fixed_batch_graph_is_fed_in_chunks_and_the_first_output_by_name_is_read(tmp_path):
    # guards: a batch of 5 sent to a graph that takes 2, the outputs read in dict order
    _fixed_batch_module(tmp_path / "fixed", 2)
    runtime = SavedModelRuntime(tmp_path / "fixed")
    assert runtime.fixed_batch == 2 and runtime.input_shape == (4, 4, 3) and runtime.units == 7
    x = np.random.default_rng(1).random((5, 4, 4, 3)).astype(np.float32)
    assert runtime.run(x).shape == (5, 7)  # "aux" sorts before "scores"
    assert runtime.nodes[0].name == "pixels" and runtime.activation == "linear"


def test_a_text_graph_opens_like_the_binary_one(exported, tmp_path):
    import shutil

    from google.protobuf import text_format

    folder, model = exported
    copy = tmp_path / "text"
    shutil.copytree(folder, copy)
    proto = read_proto(copy)
    (copy / "saved_model.pbtxt").write_text(text_format.MessageToString(proto), encoding="utf-8")
    (copy / "saved_model.pb").unlink()
    assert read_proto(copy) == proto
    x = np.random.default_rng(2).random((2, 20, 28, 3)).astype(np.float32)
    np.testing.assert_allclose(SavedModelRuntime(copy).run(x), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_the_serve_graph_is_chosen_among_several(exported):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.CopyFrom(read_proto(exported[0]))
    assert serving_tags("m", proto) is None  # one graph: no tags needed
    proto.meta_graphs[0].meta_info_def.ClearField("tags")
    proto.meta_graphs[0].meta_info_def.tags.append("train")
    with pytest.raises(ModelLoadError, match=r"^m: the SavedModel holds several graphs and none is tagged 'serve'$"):
        serving_tags("m", _with_graph(proto, ["eval"]))
    assert serving_tags("m", _with_graph(proto, ["serve", "gpu"])) == ["serve", "gpu"]


def _with_graph(proto, tags: list[str]):
    from tensorflow.core.protobuf import saved_model_pb2

    copy = saved_model_pb2.SavedModel()
    copy.CopyFrom(proto)
    extra = copy.meta_graphs.add()
    extra.meta_info_def.tags.extend(tags)
    return copy


def test_operators_that_touch_files_need_trust_and_are_named(tmp_path):
    import tensorflow as tf

    class Printer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float32)])
        def serve(self, x):
            tf.print("scores")
            return {"output": tf.reduce_mean(x, axis=(1, 2))}

    module = Printer()
    tf.saved_model.save(module, str(tmp_path / "printing"), signatures={"serving_default": module.serve})
    with pytest.raises(UnsafeModelError, match=r"^printing: refused in safe mode: the graph holds operator PrintV2, "
                                               r"which reads or writes files or runs Python code; load it only if you "
                                               r"trust its author \(--trust-model\)$"):
        SavedModelRuntime(tmp_path / "printing")
    trusted = SavedModelRuntime(tmp_path / "printing", trust=True)
    assert trusted.run(np.ones((1, 4, 4, 3), np.float32)).shape == (1, 3)


def test_the_first_line_of_an_error_is_kept_short():
    assert _first_line(ValueError("\n  first line  \nsecond")) == "first line"
    assert _first_line(ValueError("")) == "ValueError"
    assert _first_line(ValueError("x" * 300)) == "x" * 200


def _signature_module(folder: Path, **signatures) -> None:
    import tensorflow as tf

    module = tf.Module()
    for name, function in signatures.items():
        setattr(module, name, function)
    tf.saved_model.save(module, str(folder), signatures=signatures)


def test_a_double_precision_graph_is_fed_and_read_as_the_engine_expects(tmp_path):
    # guards: float32 images sent to a float64 input (TensorFlow refuses), float64 scores returned
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float64)])
    def serve(x):
        return {"scores": tf.reduce_mean(x, axis=(1, 2)) * 2.0}

    _signature_module(tmp_path / "double", serving_default=serve)
    runtime = SavedModelRuntime(tmp_path / "double")
    x = np.random.default_rng(3).random((2, 4, 4, 3)).astype(np.float32)
    scores = runtime.run(x)
    assert scores.dtype == np.float32
    np.testing.assert_allclose(scores, x.mean(axis=(1, 2)) * 2.0, rtol=1e-6)
    assert [n.type for n in runtime.nodes[1:]] == [n.name.split(" x")[0] for n in runtime.nodes[1:]]


def test_an_output_of_unknown_rank_is_refused_in_one_line(tmp_path):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float32)])
    def serve(x):
        pooled = tf.reduce_mean(x, axis=(1, 2))
        shape = tf.boolean_mask(tf.shape(pooled), tf.shape(pooled) > 0)  # of unknown length when traced
        return {"scores": tf.reshape(pooled, shape)}

    _signature_module(tmp_path / "open", serving_default=serve)
    with pytest.raises(ModelLoadError, match=r"^open: the serving output 'scores' has an open size .*; "
                                             r"one score per class expected$"):
        SavedModelRuntime(tmp_path / "open")


@pytest.fixture(scope="module")
def unusable(tmp_path_factory):
    from tests.exports_unusable import saved_models

    return saved_models(tmp_path_factory.mktemp("unusable"))


@pytest.mark.parametrize("case, message", [
    ("no-signature", "no-signature: the SavedModel has no 'serving_default' signature (signatures: none); "
                     "export it with one that takes a batch of images"),
    ("other-signature", "other-signature: the SavedModel has no 'serving_default' signature (signatures: other); "
                        "export it with one that takes a batch of images"),
    ("uint8-input", "uint8-input: the serving input takes uint8; ConvScope feeds preprocessed float images: "
                    "export the model with a float input"),
    ("open-size", "open-size: the serving input [None, None, None, 3] is not (batch, height, width, channels) "
                  "with a fixed image size"),
    ("text-output", "text-output: the serving output 'scores' holds string, not scores"),
])
def test_each_refusal_says_what_is_wrong_and_what_to_do(unusable, case, message):
    with pytest.raises(ModelLoadError) as refused:
        SavedModelRuntime(unusable[case])
    assert str(refused.value) == message


@pytest.mark.parametrize("spec, shown", [((None, 8, 8), "[None, 8, 8]"), ((None, None, 8, 3), "[None, None, 8, 3]"),
                                         (None, "None")])
def test_inputs_that_are_not_fixed_size_images_are_refused(tmp_path, spec, shown):
    # guards: a 3-D input, an open height, an input of unknown rank accepted (or failing with a traceback)
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec(spec, tf.float32)])
    def serve(x):
        return {"scores": tf.reshape(tf.reduce_mean(x), (1, 1))}

    _signature_module(tmp_path / "bad", serving_default=serve)
    with pytest.raises(ModelLoadError, match=rf"^bad: the serving input {re.escape(shown)} is not \(batch, height, "
                                             r"width, channels\) with a fixed image size$"):
        SavedModelRuntime(tmp_path / "bad")


def test_two_inputs_and_other_signatures_are_named(tmp_path):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float32), tf.TensorSpec((None, 2), tf.float32)])
    def two(x, extra):
        return {"scores": tf.reduce_mean(x, axis=(1, 2)) + extra[:, :1]}

    _signature_module(tmp_path / "two", serving_default=two)
    with pytest.raises(ModelLoadError, match=r"^two: the serving signature takes 2 inputs; one image expected$"):
        SavedModelRuntime(tmp_path / "two")
    _signature_module(tmp_path / "others", predict=two, score=two)
    with pytest.raises(ModelLoadError, match=r"\(signatures: predict, score\);"):
        SavedModelRuntime(tmp_path / "others")


def test_a_folder_tensorflow_cannot_load_is_one_line_with_its_reason(exported, tmp_path):
    import shutil

    copy = tmp_path / "novars"
    shutil.copytree(exported[0], copy)
    shutil.rmtree(copy / "variables")
    with pytest.raises(ModelLoadError) as refused:
        SavedModelRuntime(copy)
    message = str(refused.value)
    assert message.startswith("novars: cannot load the SavedModel (") and "\n" not in message
    assert not message.endswith("(None)") and len(message) > len("novars: cannot load the SavedModel ()")


def _two_graphs(path: Path, tags: tuple[list[str], list[str]], scale: float = 1.0) -> None:
    """A TF1-style folder (an estimator's export) holding two graphs with these tags: images -> scale x mean."""
    import tensorflow as tf

    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        x = tf.compat.v1.placeholder(tf.float32, (None, 4, 4, 3), name="x")
        y = tf.reduce_mean(x, axis=[1, 2], name="y") * scale
        signature = tf.compat.v1.saved_model.predict_signature_def({"x": x}, {"y": y})
        builder = tf.compat.v1.saved_model.Builder(str(path))
        builder.add_meta_graph_and_variables(session, tags[0], signature_def_map={"serving_default": signature})
        builder.add_meta_graph(tags[1], signature_def_map={"serving_default": signature})
        builder.save()


def test_the_serve_graph_of_a_two_graph_folder_is_loaded(tmp_path):
    # guards: the serve graph's tags not passed to the loader (TensorFlow refuses a folder of several graphs)
    path = tmp_path / "two_graphs"
    _two_graphs(path, (["train"], ["serve", "cpu"]), scale=3.0)
    runtime = SavedModelRuntime(path)
    images = np.random.default_rng(4).random((2, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(runtime.run(images), images.mean(axis=(1, 2)) * 3.0, rtol=1e-6)


def test_a_damaged_graph_file_names_the_parser_s_reason(unusable):
    with pytest.raises(ModelLoadError) as refused:
        SavedModelRuntime(unusable["damaged"])
    message = str(refused.value)
    assert message.startswith("damaged: saved_model.pb is damaged (") and not message.endswith("(None)")


def test_every_unsafe_operator_is_named(tmp_path):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 4, 3), tf.float32)])
    def serve(x):
        tf.print("scores")
        tf.io.write_file(str(tmp_path / "never.txt"), "x")
        return {"output": tf.reduce_mean(x, axis=(1, 2))}

    _signature_module(tmp_path / "both", serving_default=serve)
    with pytest.raises(UnsafeModelError, match=r"the graph holds operator PrintV2, WriteFile, which"):
        SavedModelRuntime(tmp_path / "both")
    assert not (tmp_path / "never.txt").exists()


def test_several_graphs_none_for_serving_is_refused_by_folder_name(tmp_path):
    _two_graphs(tmp_path / "estimator", (["train"], ["eval"]))
    with pytest.raises(ModelLoadError, match=r"^estimator: the SavedModel holds several graphs and none is tagged"):
        SavedModelRuntime(tmp_path / "estimator")


def test_a_one_unit_linear_head_stays_linear_and_no_tensor_size_is_claimed(tmp_path):
    # guards: every one-unit head taken for a sigmoid; a largest-tensor size invented (0 means unknown:
    # the methods then estimate their chunks themselves)
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, layers.Dense(1, name="score")(layers.Flatten()(inputs))).export(tmp_path / "one")
    runtime = SavedModelRuntime(tmp_path / "one")
    assert runtime.units == 1 and runtime.activation == "linear" and runtime.largest_tensor == 0

