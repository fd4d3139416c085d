"""Loading Keras models safely: local files only, safe mode, executable layers refused."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

from engine.errors import ModelLoadError, UnsafeModelError

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
# Layers whose config carries Python code that would run on load or call.
EXECUTABLE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})
REMOTE_PREFIXES = ("http:", "https:", "gs:", "s3:", "hf:", "hdfs:", "ftp:", "file:")
# Config keys Keras 2 (tf.keras) writes to .h5 files that Keras 3 layers refuse as unknown arguments.
_KERAS2_ONLY_KEYS = {
    "DepthwiseConv1D": ("groups",),
    "DepthwiseConv2D": ("groups",),
    "SeparableConv1D": ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"),
    "SeparableConv2D": ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"),
    "Conv1DTranspose": ("groups",),
    "Conv2DTranspose": ("groups",),
    "Conv3DTranspose": ("groups",),
    "SpatialDropout1D": ("noise_shape", "trainable"),
    "SpatialDropout2D": ("noise_shape", "trainable"),
    "SpatialDropout3D": ("noise_shape", "trainable"),
}
_DESERIALIZING = re.compile(r"Error when deserializing class '([^']+)'.*?Exception encountered:\s*([^\n]+)", re.S)
_MODEL_CLASSES = ("Functional", "Model", "Sequential")
_UNKNOWN_CLASS = re.compile(r"(?:Could not locate class|Unknown layer:?)\s*'?([\w.>]+)'?")


def check_local_path(path: str | Path) -> Path:
    """Refuse remote locations (Keras would fetch them) and return the local path."""
    text = str(path)
    if "://" in text or text.lower().startswith(REMOTE_PREFIXES):
        raise ModelLoadError(f"{text}: remote locations are not loaded; copy the model to a local folder")
    local = Path(text).expanduser()
    if not local.exists():
        raise ModelLoadError(f"{local}: no such file or folder")
    return local


def read_model_config(path: Path) -> dict[str, Any]:
    """The architecture JSON stored in a .keras or .h5 file, without building the model."""
    if path.is_dir():
        return _directory_config(path)
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path.name}: the file is empty")
    with path.open("rb") as handle:  # not read_bytes(): models can be hundreds of MB
        head = handle.read(8)
    if head.startswith(b"PK"):
        return _zip_config(path)
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return _h5_config(path)
    raise ModelLoadError(f"{path.name}: not a Keras model (expected a .keras zip or an HDF5 .h5 file)")


def _directory_config(path: Path) -> dict[str, Any]:
    if (path / "saved_model.pb").is_file():
        raise ModelLoadError(
            f"{path.name}: a TensorFlow SavedModel has no Keras layers to explain; "
            "re-save the model with model.save('model.keras') and open that file"
        )
    if (path / "config.json").is_file():
        return _json_config((path / "config.json").read_text(encoding="utf-8"), path.name)
    raise ModelLoadError(f"{path.name}: a folder that holds no Keras model")


def _zip_config(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("config.json").decode("utf-8")
    except KeyError:
        raise ModelLoadError(f"{path.name}: a zip file without a Keras config.json") from None
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path.name}: the .keras file is damaged or truncated ({exc})") from None
    return _json_config(text, path.name)


def _h5_config(path: Path) -> dict[str, Any]:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            text = handle.attrs.get("model_config")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path.name}: the HDF5 file is damaged or truncated ({_first_line(exc)})") from None
    if text is None:
        raise ModelLoadError(f"{path.name}: holds weights only, no model architecture; save the whole model")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return _json_config(text, path.name)


def _json_config(text: str, name: str) -> dict[str, Any]:
    try:
        config = json.loads(text)
    except json.JSONDecodeError:
        raise ModelLoadError(f"{name}: the model configuration is not valid JSON") from None
    if not isinstance(config, dict):
        raise ModelLoadError(f"{name}: the model configuration is not a Keras model")
    return config


def executable_layers(config: Any) -> list[str]:
    """Names of the layers in a model config that carry executable Python code."""
    found: list[str] = []
    if isinstance(config, dict):
        if config.get("class_name") in EXECUTABLE_LAYERS:
            inner = config.get("config") or {}
            found.append(f"{inner.get('name', '?')} ({config['class_name']})")
        for value in config.values():
            found.extend(executable_layers(value))
    elif isinstance(config, list):
        for value in config:
            found.extend(executable_layers(value))
    return found


def load_keras_model(path: str | Path, trust: bool = False):
    """Load a model with compile=False and, unless trusted, refuse executable layers.

    Returns a `keras.Model`. Raises ModelLoadError (UnsafeModelError for refused content).
    """
    return open_model(path, trust)[0]


def open_model(path: str | Path, trust: bool = False) -> tuple[Any, dict[str, Any], list[str]]:
    """`load_keras_model`, also returning the architecture config read on the way (read once)
    and the executable layers it holds (loaded only when trusted)."""
    local = check_local_path(path)
    if local.is_file() and local.suffix.lower() not in MODEL_SUFFIXES:
        raise ModelLoadError(f"{local.name}: unknown model format; expected .keras, .h5 or .hdf5")
    config = read_model_config(local)
    unsafe = executable_layers(config)
    if unsafe and not trust:
        raise UnsafeModelError(
            f"{local.name}: refused in safe mode: layer {', '.join(unsafe)} runs Python code when loaded; "
            "load it only if you trust its author (--trust-model)"
        )
    if local.is_file() and local.suffix.lower() in (".h5", ".hdf5"):
        legacy = keras2_compatible_config(config)
        if legacy != config:
            return _keras_load(local, trust, legacy), config, unsafe
    return _keras_load(local, trust), config, unsafe


def keras2_compatible_config(config: Any) -> Any:
    """A copy of a Keras 2 (tf.keras) model config that Keras 3 can build.

    Drops the arguments Keras 3 no longer accepts (`groups` of depthwise, separable and
    transposed convolutions, the unused `kernel_*` of separable ones, SpatialDropout's
    `noise_shape`), turns BatchNormalization's `axis: [3]` into `3`, removes the "module"
    tag from layers of nested models whose inbound nodes are in the Keras 2 form, writes a
    single input or output `[["name", 0, 0]]` as `["name", 0, 0]`, numbers the calls of
    nested models from 0 as Keras 3 does, and replaces "/" in layer names (DenseNet's
    "conv1/conv"), which Keras 3 refuses, by "_". Renaming is safe for .h5 files: their
    weights are matched to layers by order, not by name.
    """
    renamed: dict[str, str] = {}

    def clean(node: Any) -> Any:
        if isinstance(node, list):
            return [clean(value) for value in node]
        if not isinstance(node, dict):
            return node
        node = {key: clean(value) for key, value in node.items()}
        nodes = node.get("inbound_nodes")
        if nodes and isinstance(nodes[0], list) and "module" in node:
            # tf.keras >= 2.13 tags the layers of nested models with "module"; Keras 3 then reads
            # their Keras 2 (list) inbound nodes as Keras 3 ones and wires the graph wrongly.
            node = {k: v for k, v in node.items() if k not in ("module", "registered_name")}
        if isinstance(node.get("layers"), list) and "output_layers" in node:
            node["layers"] = _renumber_nested_model_nodes(node["layers"])
        for key in ("input_layers", "output_layers"):
            ends = node.get(key)
            if isinstance(ends, list) and len(ends) == 1 and isinstance(ends[0], list):
                # [["b_bn", 0, 0]]: one tensor, but Keras 3 would make a nested model return a list
                node[key] = ends[0]
        inner = node.get("config")
        if isinstance(inner, dict) and isinstance(node.get("class_name"), str):
            dropped = _KERAS2_ONLY_KEYS.get(node["class_name"], ())
            node["config"] = inner = {k: v for k, v in inner.items() if k not in dropped}
            axis = inner.get("axis")
            if node["class_name"] == "BatchNormalization" and isinstance(axis, list) and len(axis) == 1:
                inner["axis"] = axis[0]  # tf.keras writes [3] once built; Keras 3 wants an int
            name = inner.get("name")
            if isinstance(name, str) and "/" in name:
                renamed[name] = name.replace("/", "_")
        return node

    def rename(node: Any) -> Any:
        if isinstance(node, list):
            return [rename(value) for value in node]
        if isinstance(node, dict):
            return {key: rename(value) for key, value in node.items()}
        return renamed.get(node, node) if isinstance(node, str) else node

    cleaned = clean(config)
    return rename(cleaned) if renamed else cleaned


def _renumber_nested_model_nodes(layer_list: list) -> list:
    """tf.keras numbers the calls of a nested model from 1 (node 0 is the model's own); Keras 3
    numbers them from 0 when it reads Keras 2 inbound nodes, so "base", 1 must become "base", 0."""
    nested = {entry.get("name") or entry.get("config", {}).get("name") for entry in layer_list
              if isinstance(entry, dict) and entry.get("class_name") in _MODEL_CLASSES}
    if not nested:
        return layer_list

    def renumber(ref: Any) -> Any:
        if isinstance(ref, list) and len(ref) >= 3 and ref[0] in nested and isinstance(ref[1], int) \
                and ref[1] >= 1:
            return [ref[0], ref[1] - 1, *ref[2:]]
        return ref

    fixed = []
    for entry in layer_list:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        if nodes and isinstance(nodes[0], list):
            entry = {**entry, "inbound_nodes": [[renumber(ref) for ref in call] for call in nodes]}
        fixed.append(entry)
    return fixed


def _legacy_h5_load(path: Path, config: dict[str, Any], trust: bool):
    """Build a Keras 2 .h5 model from an adapted config, then load its weights by layer order
    (what keras.saving.load_model does for .h5 files, with the config swapped)."""
    import h5py

    from engine.model.keras_private import model_from_legacy_h5

    with h5py.File(path, "r") as handle:
        return model_from_legacy_h5(config, handle["model_weights"], trust)


def _keras_load(path: Path, trust: bool, legacy_config: dict[str, Any] | None = None):
    from engine.model.backend import keras

    try:
        if legacy_config is not None:
            model = _legacy_h5_load(path, legacy_config, trust)
        else:
            model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception as exc:  # Keras raises many types; all mean "cannot load".
        raise ModelLoadError(f"{path.name}: cannot load the model: {_explain(exc)}") from None
    if not isinstance(model, keras.Model):
        raise ModelLoadError(f"{path.name}: the file holds a {type(model).__name__}, not a Keras model")
    return model


def _explain(exc: Exception) -> str:
    found = _UNKNOWN_CLASS.search(str(exc))
    if found:
        return f"unknown custom layer class '{found.group(1)}' (its Python code is not available here)"
    failed = _DESERIALIZING.search(str(exc))
    if failed:  # the first line would be a whole layer config
        return f"layer class '{failed.group(1)}' cannot be rebuilt: {failed.group(2).strip()[:200]}"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
