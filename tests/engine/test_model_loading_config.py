"""Model files read before Keras builds anything (engine.model.loading): remote paths refused,
the architecture read from .keras zips, .h5 files and folders, executable layers found at any
depth, Keras 2 configs adapted for Keras 3, and Keras's errors turned into one line."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from engine.errors import ModelLoadError, UnsafeModelError
from engine.model import loading
from engine.model.loading import (
    check_local_path,
    executable_layers,
    keras2_compatible_config,
    open_model,
    read_model_config,
)


@pytest.mark.parametrize("path", ["http://x/m.keras", "HTTPS:m.keras", "gs:b/m.keras", "s3:b/m", "hf:org/m",
                                  "hdfs:m", "ftp:m", "file:m.keras", "a://b"])
def test_remote_locations_are_refused_in_one_line(path: str) -> None:
    with pytest.raises(ModelLoadError) as refused:
        check_local_path(path)
    assert str(refused.value) == f"{path}: remote locations are not loaded; copy the model to a local folder"


def test_a_local_path_is_returned_and_a_missing_one_refused(tmp_path: Path) -> None:
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    assert check_local_path(str(model)) == model
    with pytest.raises(ModelLoadError) as refused:
        check_local_path(tmp_path / "none.keras")
    assert str(refused.value) == f"{tmp_path / 'none.keras'}: no such file or folder"


def _zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def _refused(path: Path) -> str:
    with pytest.raises(ModelLoadError) as refused:
        read_model_config(path)
    return str(refused.value)


def test_config_of_a_keras_zip(tmp_path: Path) -> None:
    path = _zip(tmp_path / "m.keras", {"config.json": json.dumps({"class_name": "Sequential"})})
    assert read_model_config(path) == {"class_name": "Sequential"}


def test_broken_keras_files_are_refused_in_one_line(tmp_path: Path) -> None:
    assert _refused(_zip(tmp_path / "a.keras", {"model.weights.h5": ""})) == \
        "a.keras: a zip file without a Keras config.json"
    assert _refused(_zip(tmp_path / "b.keras", {"config.json": "{nope"})) == \
        "b.keras: the model configuration is not valid JSON"
    assert _refused(_zip(tmp_path / "c.keras", {"config.json": "[1]"})) == \
        "c.keras: the model configuration is not a Keras model"
    damaged = tmp_path / "d.keras"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 20)
    assert _refused(damaged).startswith("d.keras: the .keras file is damaged or truncated (")
    empty = tmp_path / "e.keras"
    empty.write_bytes(b"")
    assert _refused(empty) == "e.keras: the file is empty"
    other = tmp_path / "f.keras"
    other.write_bytes(b"\x00PK not a zip")
    assert _refused(other) == "f.keras: not a Keras model (expected a .keras zip or an HDF5 .h5 file)"


def test_config_of_an_h5_file_and_a_weights_only_one(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "m.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Functional"}).encode("utf-8")
    assert read_model_config(tmp_path / "m.h5") == {"class_name": "Functional"}
    with h5py.File(tmp_path / "s.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps({"class_name": "Model"})
    assert read_model_config(tmp_path / "s.h5") == {"class_name": "Model"}
    with h5py.File(tmp_path / "w.h5", "w") as handle:
        handle.create_dataset("w", data=[1.0])
    assert _refused(tmp_path / "w.h5") == "w.h5: holds weights only, no model architecture; save the whole model"
    truncated = tmp_path / "t.h5"
    truncated.write_bytes((tmp_path / "m.h5").read_bytes()[:600])
    assert _refused(truncated).startswith("t.h5: the HDF5 file is damaged or truncated (")


def test_folders_a_savedmodel_a_config_or_nothing(tmp_path: Path) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"")
    assert _refused(saved) == ("saved: a TensorFlow SavedModel has no Keras layers to explain; re-save the model "
                               "with model.save('model.keras') and open that file")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "config.json").write_text('{"class_name": "Functional"}', encoding="utf-8")
    assert read_model_config(unpacked) == {"class_name": "Functional"}
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _refused(empty) == "empty: a folder that holds no Keras model"


def test_executable_layers_are_found_at_any_depth() -> None:
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "Lambda", "config": {"name": "f"}},
        {"class_name": "Functional", "config": {"layers": [{"class_name": "TFOpLambda", "config": {"name": "g"}},
                                                           {"class_name": "SlicingOpLambda", "config": None}]}},
        {"class_name": "Dense", "config": {"name": "lambda_like"}},
    ]}}
    assert executable_layers(config) == ["f (Lambda)", "g (TFOpLambda)", "? (SlicingOpLambda)"]
    assert executable_layers([{"class_name": "Conv2D"}, 3, "Lambda"]) == []


def test_an_executable_layer_is_refused_before_keras_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"class_name": "Functional", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "f"}}]}}
    path = _zip(tmp_path / "m.keras", {"config.json": json.dumps(config)})
    monkeypatch.setattr(loading, "_keras_load", lambda *args: pytest.fail("Keras must not be reached"))
    with pytest.raises(UnsafeModelError) as refused:
        open_model(path)
    assert str(refused.value) == ("m.keras: refused in safe mode: layer f (Lambda) runs Python code when loaded; "
                                  "load it only if you trust its author (--trust-model)")
    calls: list[tuple] = []
    monkeypatch.setattr(loading, "_keras_load", lambda *args: calls.append(args) or "model")
    assert open_model(path, trust=True) == ("model", config, ["f (Lambda)"])
    assert calls == [(path, True)]
    assert loading.load_keras_model(path, trust=True) == "model"


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    path = _zip(tmp_path / "m.zip", {"config.json": "{}"})
    with pytest.raises(ModelLoadError) as refused:
        open_model(path)
    assert str(refused.value) == "m.zip: unknown model format; expected .keras, .h5 or .hdf5"


def test_h5_models_get_the_adapted_config_only_when_it_differs(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    h5py = pytest.importorskip("h5py")
    calls: list[tuple] = []
    monkeypatch.setattr(loading, "_keras_load", lambda *args: calls.append(args) or "model")
    for name, config in (("old.HDF5", {"class_name": "BatchNormalization", "config": {"axis": [3]}}),
                         ("new.h5", {"class_name": "BatchNormalization", "config": {"axis": 3}})):
        with h5py.File(tmp_path / name, "w") as handle:
            handle.attrs["model_config"] = json.dumps(config)
        assert open_model(tmp_path / name)[1] == config
    assert calls == [(tmp_path / "old.HDF5", False, {"class_name": "BatchNormalization", "config": {"axis": 3}}),
                     (tmp_path / "new.h5", False)]


def test_keras2_arguments_keras3_refuses_are_dropped() -> None:
    config = {"layers": [
        {"class_name": "DepthwiseConv2D", "config": {"name": "d", "groups": 1, "kernel_size": 3}},
        {"class_name": "SeparableConv2D", "config": {"groups": 1, "kernel_initializer": "x", "kernel_regularizer": None,
                                                     "kernel_constraint": None, "depth_multiplier": 1}},
        {"class_name": "SpatialDropout2D", "config": {"noise_shape": None, "trainable": True, "rate": 0.1}},
        {"class_name": "Conv2D", "config": {"groups": 2}},
        {"class_name": "BatchNormalization", "config": {"axis": [1, 2]}},
    ]}
    assert keras2_compatible_config(config) == {"layers": [
        {"class_name": "DepthwiseConv2D", "config": {"name": "d", "kernel_size": 3}},
        {"class_name": "SeparableConv2D", "config": {"depth_multiplier": 1}},
        {"class_name": "SpatialDropout2D", "config": {"rate": 0.1}},
        {"class_name": "Conv2D", "config": {"groups": 2}},
        {"class_name": "BatchNormalization", "config": {"axis": [1, 2]}},
    ]}
    assert config["layers"][0]["config"]["groups"] == 1  # the original is not changed


def test_slashes_in_layer_names_become_underscores_everywhere() -> None:
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "Conv2D", "name": "conv1/conv", "config": {"name": "conv1/conv"}},
        {"class_name": "ReLU", "config": {"name": "relu"}, "inbound_nodes": [[["conv1/conv", 0, 0, {}]]]}],
        "output_layers": [["relu", 0, 0]]}}
    adapted = keras2_compatible_config(config)
    assert adapted["config"]["layers"][0] == {"class_name": "Conv2D", "name": "conv1_conv",
                                              "config": {"name": "conv1_conv"}}
    assert adapted["config"]["layers"][1]["inbound_nodes"] == [[["conv1_conv", 0, 0, {}]]]
    assert adapted["config"]["output_layers"] == ["relu", 0, 0]
    plain = {"class_name": "Dense", "config": {"name": "a/b"}, "note": "a/b"}
    assert keras2_compatible_config({"x": "a/b", "y": 3}) == {"x": "a/b", "y": 3}
    assert keras2_compatible_config(plain)["note"] == "a_b"


def test_single_inputs_and_outputs_are_unwrapped_and_lists_of_two_kept() -> None:
    config = {"input_layers": [["in", 0, 0]], "output_layers": [["a", 0, 0], ["b", 0, 0]]}
    assert keras2_compatible_config(config) == {"input_layers": ["in", 0, 0],
                                                "output_layers": [["a", 0, 0], ["b", 0, 0]]}
    assert keras2_compatible_config({"input_layers": ["in", 0, 0]}) == {"input_layers": ["in", 0, 0]}


def test_module_tags_are_removed_only_with_keras2_inbound_nodes() -> None:
    old = {"module": "keras.layers", "registered_name": None, "class_name": "Dense", "config": {},
           "inbound_nodes": [[["x", 0, 0, {}]]]}
    assert keras2_compatible_config(old) == {"class_name": "Dense", "config": {}, "inbound_nodes": [[["x", 0, 0, {}]]]}
    new = {"module": "keras.layers", "class_name": "Dense", "config": {}, "inbound_nodes": [{"args": []}]}
    assert keras2_compatible_config(new) == new
    no_nodes = {"module": "keras.layers", "class_name": "Dense", "config": {}, "inbound_nodes": []}
    assert keras2_compatible_config(no_nodes) == no_nodes


def test_calls_of_nested_models_are_numbered_from_zero() -> None:
    layers = [
        {"class_name": "Functional", "name": "base", "config": {"name": "base"}, "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Sequential", "config": {"name": "head"}, "inbound_nodes": [[["base", 1, 0, {}]]]},
        {"class_name": "Dense", "config": {"name": "out"},
         "inbound_nodes": [[["head", 2, 0, {}], ["base", 0, 0], ["dense", 1, 0], ["base", "1", 0], ["base", 1]]]},
        "not a layer",
    ]
    fixed = loading._renumber_nested_model_nodes(layers)
    assert fixed[1]["inbound_nodes"] == [[["base", 0, 0, {}]]]
    assert fixed[2]["inbound_nodes"] == [[["head", 1, 0, {}], ["base", 0, 0], ["dense", 1, 0], ["base", "1", 0],
                                          ["base", 1]]]
    assert fixed[0] == layers[0] and fixed[3] == "not a layer"
    plain = [{"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["x", 1, 0]]]}]
    assert loading._renumber_nested_model_nodes(plain) is plain
    keras3 = [{"class_name": "Model", "config": {"name": "m"}},
              {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [{"args": [["m", 1, 0]]}]}]
    assert loading._renumber_nested_model_nodes(keras3) == keras3


def test_nested_models_inside_a_model_config_are_renumbered() -> None:
    config = {"class_name": "Functional", "config": {"output_layers": ["d", 0, 0], "layers": [
        {"class_name": "Model", "config": {"name": "base"}},
        {"class_name": "Dense", "config": {"name": "d"}, "inbound_nodes": [[["base", 1, 0, {}]]]}]}}
    adapted = keras2_compatible_config(config)
    assert adapted["config"]["layers"][1]["inbound_nodes"] == [[["base", 0, 0, {}]]]
    without_outputs = {"layers": config["config"]["layers"]}
    assert keras2_compatible_config(without_outputs) == without_outputs


@pytest.mark.parametrize(("message", "expected"), [
    ("Could not locate class 'MyBlock'. Make sure ...", "unknown custom layer class 'MyBlock' (its Python code "
                                                         "is not available here)"),
    ("Unknown layer: 'pkg>Attention'", "unknown custom layer class 'pkg>Attention' (its Python code is not "
                                       "available here)"),
    ("Unknown layer Foo", "unknown custom layer class 'Foo' (its Python code is not available here)"),
    ("Error when deserializing class 'Dense' using config={...}.\n\nException encountered:  bad units \nmore",
     "layer class 'Dense' cannot be rebuilt: bad units"),
    ("\n  first line  \nsecond", "first line"),
    ("", "RuntimeError"),
])
def test_keras_errors_become_one_line(message: str, expected: str) -> None:
    assert loading._explain(RuntimeError(message)) == expected


def test_long_messages_are_cut() -> None:
    assert loading._first_line(ValueError("x" * 400)) == "x" * 300
    long = "Error when deserializing class 'D' a\nException encountered: " + "y" * 300
    assert loading._explain(ValueError(long)) == "layer class 'D' cannot be rebuilt: " + "y" * 200


def test_a_broken_config_in_a_folder_names_the_folder(tmp_path: Path) -> None:
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "config.json").write_text("{nope", encoding="utf-8")
    assert _refused(unpacked) == "unpacked: the model configuration is not valid JSON"


def test_only_layer_entries_are_adapted() -> None:
    assert keras2_compatible_config({"class_name": "Dense", "config": None}) == {"class_name": "Dense", "config": None}
    untyped = {"config": {"name": "a/b", "groups": 1}}
    assert keras2_compatible_config(untyped) == untyped  # no class name: not a layer, nothing renamed or dropped


def test_nested_models_are_known_by_their_entry_name_or_their_config_name() -> None:
    layers = [
        {"class_name": "Functional", "name": "base", "config": {"name": "base_model"}},
        {"class_name": "Model", "name": "head"},
        {"class_name": "Dense", "config": {"name": "d"},
         "inbound_nodes": [[["base", 1, 0], ["head", 2, 0, {}], ["base_model", 1, 0]]]},
    ]
    fixed = loading._renumber_nested_model_nodes(layers)
    assert fixed[2]["inbound_nodes"] == [[["base", 0, 0], ["head", 1, 0, {}], ["base_model", 1, 0]]]


class _Model:
    pass


@pytest.fixture
def fake_keras(monkeypatch: pytest.MonkeyPatch) -> list:
    from types import SimpleNamespace

    from engine.model import backend

    calls: list = []

    def load_model(path, compile, safe_mode):  # noqa: A002 - Keras's own argument name
        calls.append((path, compile, safe_mode))
        return _Model()

    monkeypatch.setattr(backend, "keras", SimpleNamespace(Model=_Model, saving=SimpleNamespace(load_model=load_model)))
    return calls


def test_keras_loads_without_compiling_in_safe_mode_unless_trusted(tmp_path: Path, fake_keras: list) -> None:
    path = tmp_path / "m.keras"
    assert isinstance(loading._keras_load(path, False), _Model)
    assert isinstance(loading._keras_load(path, True), _Model)
    assert fake_keras == [(path, False, True), (path, False, False)]


def test_keras_failures_and_non_models_are_one_line(tmp_path: Path, fake_keras: list,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.model import backend

    def fail(path, compile, safe_mode):  # noqa: A002
        raise RuntimeError("Could not locate class 'Block'")

    monkeypatch.setattr(backend.keras.saving, "load_model", fail)
    with pytest.raises(ModelLoadError) as refused:
        loading._keras_load(tmp_path / "m.keras", False)
    assert str(refused.value) == ("m.keras: cannot load the model: unknown custom layer class 'Block' (its Python "
                                  "code is not available here)")
    monkeypatch.setattr(backend.keras.saving, "load_model", lambda path, compile, safe_mode: {"a": 1})  # noqa: A006
    with pytest.raises(ModelLoadError) as refused:
        loading._keras_load(tmp_path / "m.keras", False)
    assert str(refused.value) == "m.keras: the file holds a dict, not a Keras model"


def test_a_keras2_h5_is_built_from_the_adapted_config_and_its_weights(tmp_path: Path, fake_keras: list,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    h5py = pytest.importorskip("h5py")
    from engine.model import keras_private

    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as handle:
        handle.create_group("model_weights").attrs["layer_names"] = [b"d"]
    seen: list = []

    def build(config, weights, trust):
        seen.append((config, weights.name, dict(weights.attrs)["layer_names"].tolist(), trust))
        return _Model()

    monkeypatch.setattr(keras_private, "model_from_legacy_h5", build)
    assert isinstance(loading._keras_load(path, True, {"class_name": "Functional"}), _Model)
    assert seen == [({"class_name": "Functional"}, "/model_weights", ["d"], True)]
    assert fake_keras == []


def test_every_executable_layer_is_named_in_the_refusal(tmp_path: Path) -> None:
    config = {"layers": [{"class_name": "Lambda", "config": {"name": "f"}},
                         {"class_name": "Lambda", "config": {"name": "g"}}]}
    with pytest.raises(UnsafeModelError, match=r"layer f \(Lambda\), g \(Lambda\) runs Python code"):
        open_model(_zip(tmp_path / "m.keras", {"config.json": json.dumps(config)}))


def test_only_h5_files_take_the_keras2_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    h5py = pytest.importorskip("h5py")
    calls: list[tuple] = []
    monkeypatch.setattr(loading, "_keras_load", lambda *args: calls.append(args) or "model")
    old = {"class_name": "BatchNormalization", "config": {"axis": [3]}}
    keras3 = _zip(tmp_path / "m.keras", {"config.json": json.dumps(old)})
    open_model(keras3)
    with h5py.File(tmp_path / "old.h5", "w") as handle:
        handle.attrs["model_config"] = json.dumps(old)
    open_model(tmp_path / "old.h5")
    assert calls == [(keras3, False), (tmp_path / "old.h5", False, {"class_name": "BatchNormalization",
                                                                     "config": {"axis": 3}})]
