"""The optional `<model>.convscope.json` file beside a model: class names, preprocessing, layer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.errors import ModelLoadError
from engine.images.preprocessing import PREPROCESSING_MODES

SIDECAR_SUFFIX = ".convscope.json"


@dataclass(frozen=True)
class Sidecar:
    """What the user told ConvScope about a model; every field may be missing."""

    class_names: tuple[str, ...] | None = None
    preprocessing: str | None = None
    target_layer: str | None = None
    bit_depth: int | None = None  # significant bits of 16-bit images (e.g. 12); None: guess per image


def sidecar_path(model_path: str | Path) -> Path:
    """`defects.keras` -> `defects.convscope.json`; a SavedModel folder `m/` -> `m.convscope.json`."""
    path = Path(model_path)
    stem = path.name if path.is_dir() else path.stem
    return path.with_name(stem + SIDECAR_SUFFIX)


def read_sidecar(model_path: str | Path) -> Sidecar:
    """Read the sidecar of a model, or an empty one when there is none."""
    path = sidecar_path(model_path)
    if not path.is_file():
        return Sidecar()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path.name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path.name}: expected a JSON object")
    return _parse(data, path.name)


def _parse(data: dict, name: str) -> Sidecar:
    names = data.get("class_names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise ModelLoadError(f"{name}: class_names must be a list of strings")
    if names and len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ModelLoadError(f"{name}: class_names lists {', '.join(repr(n) for n in twice)} more than once")
    mode = data.get("preprocessing")
    if mode is not None and mode not in PREPROCESSING_MODES:
        raise ModelLoadError(f"{name}: preprocessing must be one of {', '.join(PREPROCESSING_MODES)}")
    layer = data.get("target_layer")
    if layer is not None and not isinstance(layer, str):
        raise ModelLoadError(f"{name}: target_layer must be a layer name")
    bits = data.get("bit_depth")
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16):
        raise ModelLoadError(f"{name}: bit_depth must be a whole number from 1 to 16 (significant bits "
                             "of 16-bit images)")
    return Sidecar(tuple(names) if names else None, mode, layer, bits)


def write_sidecar(model_path: str | Path, sidecar: Sidecar) -> Path:
    """Write the sidecar beside the model (the folder the user chose) and return its path."""
    path = sidecar_path(model_path)
    data = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(sidecar).items() if v is not None}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
