"""Deletion and insertion curves (Petsiuk et al. 2018, RISE, section 4.2).

Deletion: the image's pixels are removed in the order of the map (most important first),
in `steps` steps (spaced quadratically, see :func:`step_fractions`), and the explained class's probability is recorded after each;
a faithful map makes it fall fast (a low area under the curve). Insertion: starting from
an image with every pixel removed, pixels are put back in the same order; a faithful map
makes the probability rise fast (a high area). The areas use the trapezoidal rule over the
fraction of pixels (0..1).

A removed pixel takes the value of a Gaussian-blurred copy of the image (the insertion
curve's baseline in the paper, used here for both curves), at the model input's
resolution and after its preprocessing (every preprocessing mode is per-channel affine,
so blurring commutes with it).

Controls, so that a figure means something: a random order (curves averaged over a few
fixed seeds) and the order of the image's Sobel edge map (an image-only "explanation" that
ignores the model). A map is *faithful* when it beats both: a lower deletion area and a
higher insertion area than each control.

The comparison means something only when removing pixels moves the score. When the random
order, down to every pixel removed (the fully blurred image), never lowers the explained
class's probability by :data:`MIN_SCORE_DROP` or more, the curves of every order are flat
near the start and their areas differ by noise and blur artefacts: the outcome is then
*inconclusive* (``conclusive`` False, ``verdict`` "inconclusive", and ``faithful`` False).

All perturbed copies of one image (and of a batch of images) run through the model as one
batch, chunked to the memory budget (engine.methods.common.chunk_size).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine.errors import Cancelled, MethodError
from engine.maps.normalise import resize_map

DEFAULT_STEPS = 20  # curve points after the first (explain --faithfulness, the window)
REVIEW_STEPS = 4  # in a lot review: 14 model rows per image (README: cost per image; the 500-image budget)
DEFAULT_SEEDS = 3  # random orders averaged for the random control
BLUR_SIGMA_AT_224 = 5.0  # Petsiuk et al.: Gaussian blur, sigma 5 on 224 px inputs; scaled to the input side
TIE_SEED = 12345  # equal map values are taken in a fixed random order, not top-left first
# The curves can rank maps only when removing pixels moves the score: the random-order deletion
# curve (which ends at the fully blurred image) must fall at least this far below its start
# somewhere, in probability. Below it every order's curve stays in a band so narrow that which
# area is lower says more about blur artefacts than about the map (the demo's two-defect image:
# random order keeps p >= 0.97, maps 0.96 / 0.98 / 0.98 apart). 0.2 is a fifth of the probability
# scale the areas are measured on; the demo's single-defect images fall by 0.9 or more.
MIN_SCORE_DROP = 0.2
FAITHFUL, NOT_FAITHFUL, INCONCLUSIVE = "faithful", "not faithful", "inconclusive"


def auc(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve by the trapezoidal rule."""
    return float(np.trapezoid(np.asarray(values, dtype=np.float64), np.asarray(fractions, dtype=np.float64)))


@dataclass(frozen=True)
class Curves:
    """Deletion and insertion curves of one pixel order (probabilities at each fraction)."""

    deletion: np.ndarray  # (steps + 1,) probability after removing fractions[k] of the pixels
    insertion: np.ndarray  # (steps + 1,) probability after inserting fractions[k] of the pixels

    def aucs(self, fractions: np.ndarray) -> tuple[float, float]:
        """(deletion area, insertion area)."""
        return auc(fractions, self.deletion), auc(fractions, self.insertion)


@dataclass(frozen=True)
class Faithfulness:
    """The curves of a map and of its controls for one image and class."""

    class_index: int
    fractions: np.ndarray  # (steps + 1,) 0 .. 1
    map: Curves
    random: Curves  # mean over `seeds` random orders
    edges: Curves | None  # the Sobel edge map's order; None when not computed
    seeds: int
    baseline: str = "blur"

    @property
    def deletion_auc(self) -> float:
        """Area under the map's deletion curve (lower is better)."""
        return self.map.aucs(self.fractions)[0]

    @property
    def insertion_auc(self) -> float:
        """Area under the map's insertion curve (higher is better)."""
        return self.map.aucs(self.fractions)[1]

    def aucs(self) -> dict[str, float | None]:
        """The areas of the map and of the controls, by name."""
        out: dict[str, float | None] = {}
        for name, curves in (("", self.map), ("random_", self.random), ("edges_", self.edges)):
            deletion, insertion = curves.aucs(self.fractions) if curves is not None else (None, None)
            out[f"{name}deletion_auc"], out[f"{name}insertion_auc"] = deletion, insertion
        return out

    @property
    def score_drop(self) -> float:
        """How far the random-order deletion curve falls below its start (the original image's probability)."""
        return float(self.random.deletion[0] - np.min(self.random.deletion))

    @property
    def random_lowest(self) -> float:
        """The lowest probability on the random-order deletion curve."""
        return float(np.min(self.random.deletion))

    @property
    def conclusive(self) -> bool:
        """True when removing pixels moves the score enough for the curves to rank maps (MIN_SCORE_DROP)."""
        return self.score_drop >= MIN_SCORE_DROP

    @property
    def beats_controls(self) -> bool:
        """True when the map has a lower deletion and a higher insertion area than every control."""
        deletion, insertion = self.map.aucs(self.fractions)
        controls = [c for c in (self.random, self.edges) if c is not None]
        return all(deletion < c.aucs(self.fractions)[0] and insertion > c.aucs(self.fractions)[1] for c in controls)

    @property
    def faithful(self) -> bool:
        """True when the curves are conclusive and the map beats every control."""
        return self.conclusive and self.beats_controls

    @property
    def verdict(self) -> str:
        """The outcome: "faithful", "not faithful" or "inconclusive" (the curves cannot rank maps)."""
        if not self.conclusive:
            return INCONCLUSIVE
        return FAITHFUL if self.beats_controls else NOT_FAITHFUL

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form: the areas, the verdict and the curves ("faithful" stays a bool: False
        when inconclusive; "verdict" tells "not faithful" from "inconclusive")."""
        curves = {"fractions": self.fractions.tolist()}
        for name, c in (("map", self.map), ("random", self.random), ("edges", self.edges)):
            if c is not None:
                curves[name] = {"deletion": c.deletion.tolist(), "insertion": c.insertion.tolist()}
        return {**self.aucs(), "faithful": self.faithful, "conclusive": self.conclusive, "verdict": self.verdict,
                "random_lowest_probability": self.random_lowest, "class_index": self.class_index,
                "steps": len(self.fractions) - 1, "random_seeds": self.seeds, "baseline": self.baseline,
                "curves": curves}


def pixel_ranks(values: np.ndarray, tie_seed: int = TIE_SEED) -> np.ndarray:
    """rank[p] = position of pixel p (flattened) in the descending order of `values`.

    Ties are broken by a fixed random permutation, so a flat region is not taken top-left first.
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    tie = np.random.default_rng(tie_seed).permutation(flat.size)
    order = np.lexsort((tie, -flat))
    ranks = np.empty(flat.size, dtype=np.int32)
    ranks[order] = np.arange(flat.size, dtype=np.int32)
    return ranks


def random_ranks(pixels: int, seed: int) -> np.ndarray:
    """The ranks of a uniformly random pixel order (fixed by `seed`)."""
    return np.random.default_rng(seed).permutation(pixels).astype(np.int32)


def step_fractions(steps: int) -> np.ndarray:
    """The steps + 1 fractions of pixels removed (or inserted): (k / steps) ** 2, k = 0..steps.

    Quadratic spacing puts most points in the first few percent, where a small defect's
    pixels are (a defect often covers 1-5 % of the image: with equal steps of 5 % the
    whole effect falls between the first two points).
    """
    return (np.arange(steps + 1) / steps) ** 2


def step_counts(pixels: int, steps: int) -> np.ndarray:
    """Pixels removed (or inserted) at each point: round(fraction * pixels)."""
    return np.rint(step_fractions(steps) * pixels).astype(np.int64)


def blur_sigma(height: int, width: int) -> float:
    """Petsiuk et al.'s sigma (5 px at 224 px), scaled to the input's shorter side."""
    return max(1.0, BLUR_SIGMA_AT_224 * min(height, width) / 224.0)


def blurred(inputs: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Gaussian-blurred copies of a batch (B, H, W, C) of model inputs."""
    out = np.empty_like(inputs, dtype=np.float32)
    for i, x in enumerate(inputs):
        s = sigma if sigma is not None else blur_sigma(*x.shape[:2])
        smooth = cv2.GaussianBlur(np.ascontiguousarray(x, dtype=np.float32), (0, 0), s,
                                  borderType=cv2.BORDER_REFLECT)
        out[i] = smooth.reshape(x.shape)
    return out


@dataclass(frozen=True)
class _Plan:
    """Which perturbed copy each model row is: image, order, deletion or insertion, pixels."""

    image: np.ndarray  # (R,) image index
    order: np.ndarray  # (R,) order index into the ranks array's second axis
    insertion: np.ndarray  # (R,) bool
    count: np.ndarray  # (R,) pixels removed (deletion) or inserted (insertion)
    role: np.ndarray  # (R,) 0 the original image, 1 the fully blurred one, 2 an interior point


def _plan(images: int, orders: int, counts: np.ndarray) -> _Plan:
    """Rows: per image the original and the fully blurred copy (shared by every order and both
    curves), then every order's interior deletion and insertion points."""
    interior = counts[1:-1]
    image, order, insertion, count, role = [], [], [], [], []
    for i in range(images):
        image += [i, i]
        order += [0, 0]
        insertion += [False, False]
        count += [0, int(counts[-1])]
        role += [0, 1]
        for o in range(orders):
            for kind in (False, True):
                image += [i] * len(interior)
                order += [o] * len(interior)
                insertion += [kind] * len(interior)
                count += interior.tolist()
                role += [2] * len(interior)
    return _Plan(np.array(image, np.int64), np.array(order, np.int64), np.array(insertion, bool),
                 np.array(count, np.int64), np.array(role, np.int8))


def _rows(inputs: np.ndarray, smooth: np.ndarray, ranks: np.ndarray, plan: _Plan, rows: slice) -> np.ndarray:
    """The perturbed model inputs of plan rows `rows`."""
    img, order = plan.image[rows], plan.order[rows]
    removed = ranks[img, order] < plan.count[rows][:, None]  # (R, P): deletion removes, insertion inserts
    chosen = np.where(plan.insertion[rows][:, None], ~removed, removed)  # True: take the blurred pixel
    shape = (len(img), *inputs.shape[1:3], 1)
    return np.where(chosen.reshape(shape), smooth[img], inputs[img])


def _curves(probs: np.ndarray, plan: _Plan, image: int, order: int) -> Curves:
    """One order's curves of one image, from the probabilities of every plan row."""
    mine = plan.image == image
    original, blank = probs[mine & (plan.role == 0)][0], probs[mine & (plan.role == 1)][0]
    interior = mine & (plan.role == 2) & (plan.order == order)
    deletion = np.concatenate([[original], probs[interior & ~plan.insertion], [blank]])
    insertion = np.concatenate([[blank], probs[interior & plan.insertion], [original]])
    return Curves(deletion.astype(np.float64), insertion.astype(np.float64))


def _mean_curves(curves: Sequence[Curves]) -> Curves:
    return Curves(np.mean([c.deletion for c in curves], axis=0), np.mean([c.insertion for c in curves], axis=0))


def curve_probabilities(predict: Callable[[np.ndarray], np.ndarray], inputs: np.ndarray, maps: Sequence[np.ndarray],
                        classes: Sequence[int], steps: int = DEFAULT_STEPS, seeds: int = DEFAULT_SEEDS,
                        edge_maps: Sequence[np.ndarray] | None = None, chunk: int = 64,
                        cancel: Callable[[], bool] | None = None,
                        progress: Callable[[int, int], None] | None = None) -> list[Faithfulness]:
    """The curves of `maps` (each at the inputs' resolution) for a batch of model inputs; `progress`
    gets (rows predicted, rows in all) after each chunk.

    `predict(x)` returns per-class probabilities for a batch of inputs; rows are sent to it
    `chunk` at a time. `edge_maps` adds the edge control (None: random control only).
    """
    if steps < 1 or seeds < 1 or chunk < 1:
        raise MethodError("steps, random seeds and the chunk size must each be at least 1")
    count, height, width = len(inputs), inputs.shape[1], inputs.shape[2]
    pixels = height * width
    per_image = [[pixel_ranks(m)] + [random_ranks(pixels, s) for s in range(seeds)]
                 + ([pixel_ranks(edge_maps[i])] if edge_maps is not None else []) for i, m in enumerate(maps)]
    ranks = np.stack([np.stack(r) for r in per_image]) if count else np.zeros((0, 1, pixels), np.int32)
    counts = step_counts(pixels, steps)
    plan = _plan(count, ranks.shape[1], counts)
    smooth = blurred(inputs)
    wanted = np.asarray(classes, dtype=np.int64)[plan.image]
    probs = np.empty(len(plan.image), dtype=np.float64)
    for start in range(0, len(probs), chunk):
        if cancel is not None and cancel():
            raise Cancelled()
        rows = slice(start, min(len(probs), start + chunk))
        p = np.asarray(predict(_rows(inputs, smooth, ranks, plan, rows)))
        probs[rows] = p[np.arange(len(p)), wanted[rows]]
        if progress is not None:
            progress(rows.stop, len(probs))
    fractions = counts / pixels
    results = []
    for i in range(count):
        randoms = [_curves(probs, plan, i, 1 + s) for s in range(seeds)]
        edges = _curves(probs, plan, i, 1 + seeds) if edge_maps is not None else None
        results.append(Faithfulness(int(classes[i]), fractions, _curves(probs, plan, i, 0),
                                    _mean_curves(randoms), edges, seeds))
    return results


def images_per_call(session, count: int, orders: int, image_pixels: int | None = None) -> int:
    """How many images one curve computation takes so that their inputs, blurred copies and
    pixel orders stay within a quarter of the memory budget (engine.memory); at least 1."""
    from engine import memory

    height, width, channels = session.info.input_shape
    pixels = height * width if height and width else (image_pixels or 1024 * 1024)
    per_image = pixels * (2 * 4 * (channels or 3) + 4 * orders)
    return int(max(1, min(count, memory.budget_bytes() // 4 // max(1, per_image))))


def faithfulness(session, images: Sequence, heatmaps: Sequence[np.ndarray], classes: Sequence[int],
                 steps: int = DEFAULT_STEPS, seeds: int = DEFAULT_SEEDS, edges: bool = True, output: int = 0,
                 cancel: Callable[[], bool] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> list[Faithfulness]:
    """Deletion and insertion curves of each image's heatmap (full resolution, any size) and
    of the controls, for the explained class. Images must share a model-input size. `progress`
    gets (done, total) as the perturbed copies are predicted (per group of images when they
    are too large to go at once)."""
    from engine.maps.combine import sobel_edges
    from engine.methods.common import chunk_size

    if not images:
        return []
    largest = max(im.height * im.width for im in images)
    group = images_per_call(session, len(images), seeds + 1 + int(edges), largest)
    if group < len(images):  # large images: the pixel orders of every image would not fit at once
        return [found for start in range(0, len(images), group)
                for found in faithfulness(session, images[start:start + group], heatmaps[start:start + group],
                                          classes[start:start + group], steps, seeds, edges, output, cancel,
                                          progress)]
    inputs = session.batch(images)
    height, width = inputs.shape[1:3]
    maps = [resize_map(h, height, width) for h in heatmaps]
    edge_maps = None
    if edges:
        edge_maps = [sobel_edges(np.clip(session.model_pixels(im), 0, 255).astype(np.uint8)) for im in images]
    head = session.context.heads[session.check_output(output)]
    rows = chunk_size(session.context, inputs.shape[1:])

    def predict(x: np.ndarray) -> np.ndarray:
        return head.probabilities(session.logits(x, output, batch_size=rows))

    return curve_probabilities(predict, inputs, maps, classes, steps, seeds, edge_maps, rows, cancel, progress)
