"""Several layers' CAMs fused into one sharper map: LayerCAM's multi-layer combination.

Jiang et al. 2021 (LayerCAM, section III-C): shallow layers' CAMs carry fine detail but small
values, so each layer's map is scaled before fusion, M' = tanh(gamma * M / max(M)) with
gamma = 2 (their equation 9; TorchCAM applies it to every layer's normalised map, and so do
we: tanh is monotone, the deepest map only gains contrast), resized bilinearly to the finest
layer's grid, and fused by the element-wise maximum (the paper's and TorchCAM's choice) or
the mean (pytorch-grad-cam's aggregation). Works with any CAM method; every layer explains
the same class (the first layer's run resolves the predicted class for the others).

Default layers, when the user asks for fusion without naming layers: the last CAM target of
each spatial resolution, up to the default target layer, the deepest FUSED_LAYERS of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from engine.maps.normalise import resize_map
from engine.methods.base import Job, Method, RawMaps

GAMMA = 2.0  # LayerCAM's scale factor
FUSED_LAYERS = 4  # default set: at most this many resolutions, the deepest ones


def default_layers(layers: Sequence, last: str) -> list[str]:
    """Paths of the last CAM target of each spatial resolution, shallow to deep, up to `last`
    (the default target layer), the deepest FUSED_LAYERS of them."""
    chosen: dict[tuple, str] = {}
    for info in layers:
        if info.is_cam_target:
            resolution = tuple(info.output_shape[1:3])
            chosen.pop(resolution, None)  # keep insertion order = depth of the resolution's last layer
            chosen[resolution] = info.path
        if info.path == last:
            break
    return list(chosen.values())[-FUSED_LAYERS:]


def scaled(raw: np.ndarray) -> np.ndarray:
    """One layer's map scaled as LayerCAM's equation 9: tanh(gamma * M / max M); zeros stay zeros."""
    peak = float(np.max(raw, initial=0.0))
    if peak <= 0.0:
        return np.zeros_like(raw, dtype=np.float32)
    return np.tanh(GAMMA * np.maximum(raw, 0.0) / peak).astype(np.float32)


def fuse(maps: Sequence[np.ndarray], mode: str = "max") -> np.ndarray:
    """(h_i, w_i) maps -> one map at the finest grid: scaled, resized, element-wise max or mean."""
    height = max(m.shape[0] for m in maps)
    width = max(m.shape[1] for m in maps)
    stack = np.stack([resize_map(scaled(m), height, width) for m in maps])
    return (stack.max(axis=0) if mode == "max" else stack.mean(axis=0)).astype(np.float32)


def run_fused(worker: Method, job: Job, layers: Sequence[str | None], mode: str) -> RawMaps:
    """The worker's map on every layer of `layers`, fused per image; progress counts layers."""
    results: list[RawMaps] = []
    if hasattr(worker, "run_layers"):  # gradient CAMs: every layer from one forward and backward pass
        results = worker.run_layers(job, tuple(layers))
    for number, layer in enumerate(layers if not results else ()):
        job.report(number, len(layers))
        classes = job.classes if not results else results[0].classes
        results.append(worker.run(replace(job, layer=layer, classes=np.asarray(classes, np.int32), progress=None)))
    job.report(len(layers), len(layers))
    first = results[0]
    fused = np.stack([fuse([r.maps[i] for r in results], mode) for i in range(len(job.inputs))])
    notes = tuple(dict.fromkeys(note for r in results for note in r.notes))
    return RawMaps(fused, first.logits, first.classes, notes)
