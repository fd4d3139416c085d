"""Loading Keras models safely: local files only, safe mode, executable layers refused."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from .errors import ModelLoadError, UnsafeModelError

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
# Layers whose config carries Python code that would run on load or call.
EXECUTABLE_LAYERS = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})
REMOTE_PREFIXES = ("http:", "https:", "gs:", "s3:", "hf:", "hdfs:", "ftp:", "file:")


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
    head = path.read_bytes()[:8]
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
    return _keras_load(local, trust)


def _keras_load(path: Path, trust: bool):
    from ._keras import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=not trust)
    except Exception as exc:  # Keras raises many types; all mean "cannot load".
        raise ModelLoadError(f"{path.name}: cannot load the model: {_explain(exc)}") from None
    if not isinstance(model, keras.Model):
        raise ModelLoadError(f"{path.name}: the file holds a {type(model).__name__}, not a Keras model")
    return model


def _explain(exc: Exception) -> str:
    text = str(exc)
    if "Could not locate class" in text or "Unknown layer" in text:
        name = text.split("'")[1] if "'" in text else "?"
        return f"unknown custom layer class '{name}' (its Python code is not available here)"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
