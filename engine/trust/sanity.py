"""The cascading model-parameter randomisation test (Adebayo et al. 2018, "Sanity checks
for saliency maps", section 3.1).

On a copy of the model (``keras.models.clone_model`` + ``set_weights``: the loaded model is
never changed), the weights are re-initialised layer by layer from the top (the output
layer) down to the input, each layer with its own initialisers (Glorot for kernels, zeros
for biases, ones / zeros for batch-normalisation scales and statistics, ...); layers with
weights only, nested models flattened. After each layer the map is computed again for
the same class and compared with the original map by Spearman's rank correlation and by
SSIM (structural similarity, data range 1). A method whose map depends on the learned
weights changes; one that barely changes is showing the image, not the model.

Rule (stated in the README): a method **fails** when the rank correlation of its map with
the original is still at least :data:`FAIL_CORRELATION` (0.5) once the top half of the
layers with weights are randomised; it **passes** otherwise. A constant map (no ranking at
all) correlates 0 with anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import Cancelled, MethodError
from engine.maps.normalise import resize_map

FAIL_CORRELATION = 0.5
INIT_SEED = 2018


@dataclass(frozen=True)
class SanityStage:
    """The map after randomising the layers down to `layer` ("" for the original model)."""

    layer: str
    heatmap: np.ndarray  # (h, w) float32 in [0, 1] at the model input's resolution
    rank_correlation: float
    ssim: float


@dataclass(frozen=True)
class SanityResult:
    """One method's cascade: the original map, then one stage per randomised layer."""

    method: str
    class_index: int
    stages: tuple[SanityStage, ...]
    passed: bool
    reason: str

    @property
    def half(self) -> int:
        """Index of the stage where the top half of the layers is randomised."""
        return half_stage(len(self.stages) - 1)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form without the maps."""
        return {"method": self.method, "class_index": self.class_index, "passed": self.passed,
                "verdict": "pass" if self.passed else "fail", "reason": self.reason,
                "rule": f"fails when the rank correlation is still >= {FAIL_CORRELATION} after randomising "
                        "the top half of the layers with weights",
                "stages": [{"randomised_down_to": s.layer or None, "rank_correlation": s.rank_correlation,
                            "ssim": s.ssim} for s in self.stages]}


def half_stage(layers: int) -> int:
    """The stage (1-based count of randomised layers) where the top half is randomised."""
    return max(1, math.ceil(layers / 2)) if layers else 0


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (ties averaged); 0 when either is constant."""
    from scipy.stats import spearmanr

    x, y = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    value = float(spearmanr(x, y).statistic)
    return value if math.isfinite(value) else 0.0


def map_ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two maps in [0, 1] (scikit-image, data range 1, default 7x7 window)."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64), data_range=1.0))


def weighted_layers(model) -> list:
    """Layers holding weights, nested models flattened, in the model's order (input first)."""
    from engine.model.layers import iter_layers

    return [layer for info, layer in iter_layers(model) if not info.is_model and getattr(layer, "weights", None)]


def copy_model(model):
    """An independent copy of a model with the same weights (the original is untouched)."""
    from engine.model.backend import keras

    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    return twin


def _initializer(layer, variable, seed: int):
    from engine.model.backend import keras

    name = variable.name.split("/")[-1].split(":")[0]
    found = getattr(layer, f"{name}_initializer", None)
    if found is None:
        found = "glorot_uniform" if len(variable.shape) >= 2 else "zeros"
    init = keras.initializers.get(found)
    config = init.get_config()
    if "seed" in config:
        init = type(init).from_config({**config, "seed": seed})
    return init


def reinitialise(layer, seed: int = INIT_SEED) -> None:
    """Give every weight of `layer` a fresh value from its own initialiser (fixed seed)."""
    for index, variable in enumerate(layer.weights):
        init = _initializer(layer, variable, seed + index)
        variable.assign(np.asarray(init(tuple(variable.shape), dtype=variable.dtype)))


def _maps(session, image, methods: Sequence[str], layer: str | None, classes: dict[str, int],
          params: dict[str, dict[str, Any]]) -> dict[str, tuple[int, np.ndarray]]:
    height, width = session.batch([image]).shape[1:3]
    out = {}
    for method in methods:
        found = session.explain(image, method, layer, classes.get(method), **params.get(method, {}))
        out[method] = (found.class_index, resize_map(found.heatmap, height, width))
    return out


def _twin_session(session, model):
    from engine.model.sidecar import Sidecar
    from engine.session import Session

    twin = Session(model, session.info.path, Sidecar(), session.info.preprocessing)
    twin.info = session.info
    return twin


def sanity_check(session, image, methods: Sequence[str] = ("gradcam",), layer: str | None = None,
                 class_index: int | str | None = None, params: dict[str, dict[str, Any]] | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 cancel: Callable[[], bool] | None = None, seed: int = INIT_SEED) -> list[SanityResult]:
    """Run the cascade for each method on one image; the loaded model is never modified."""
    params = params or {}
    if getattr(session, "black_box", False):
        from engine.model.blackbox import refusal

        raise MethodError(refusal(session.info.name, "the sanity check (it randomises the model's weights)"))
    for method in methods:  # bad method, layer or parameters: fail before any copy is made
        worker = session.method(method)
        worker.params(dict(params.get(method, {})))
        if worker.needs_layer:
            session.layer(layer)
    wanted = None if class_index is None else session.class_index(class_index)
    original = _maps(session, image, methods, layer, {m: wanted for m in methods} if wanted is not None else {},
                     params)
    classes = {m: c for m, (c, _) in original.items()}
    copy = copy_model(session.model)
    targets = list(reversed(weighted_layers(copy)))
    stages: dict[str, list[SanityStage]] = {m: [SanityStage("", h, 1.0, 1.0)] for m, (_, h) in original.items()}
    for done, target in enumerate(targets, start=1):
        if cancel is not None and cancel():
            raise Cancelled()
        reinitialise(target, seed + 100 * done)
        found = _maps(_twin_session(session, copy), image, methods, layer, classes, params)
        for method, (_, heatmap) in found.items():
            base = original[method][1]
            stages[method].append(SanityStage(target.name, heatmap, rank_correlation(base, heatmap),
                                              map_ssim(base, heatmap)))
        if progress is not None:
            progress(done, len(targets))
    return [_judge(method, classes[method], tuple(stages[method])) for method in methods]


def _judge(method: str, class_index: int, stages: tuple[SanityStage, ...]) -> SanityResult:
    layers = len(stages) - 1
    if layers == 0:
        return SanityResult(method, class_index, stages, False, "the model has no layer with weights to randomise")
    half = half_stage(layers)
    value = stages[half].rank_correlation
    passed = value < FAIL_CORRELATION
    reason = (f"rank correlation with the original map {value:.2f} after randomising the top {half} of {layers} "
              f"layers with weights (down to '{stages[half].layer}'), "
              f"{'below' if passed else 'not below'} {FAIL_CORRELATION}; {stages[-1].rank_correlation:.2f} "
              "with all layers randomised")
    return SanityResult(method, class_index, stages, passed, reason)
