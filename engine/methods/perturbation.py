"""Perturbation methods, gradient-free, at the model input's resolution.

Occlusion (Zeiler and Fergus 2014): a patch slides over the (preprocessed) input; each
pixel's attribution is the mean drop of the explained class's probability, p_c(x) -
p_c(x occluded), over the patch positions that cover it (as Captum's Occlusion averages
overlapping windows). On a saturated model both probabilities round to 1.0 in float32, so
the drop is taken from log-probabilities and, when p_c(x) > 1/2, computed as the difference of
the complements (1 - p_c(x occluded)) - (1 - p_c(x)) (engine.methods.common.probability_drops):
the same number, without the cancellation. The fill is the image's channel mean, zero (in the model's input
space), or a Gaussian blur of the image (sigma = patch / 4).

RISE (Petsiuk et al. 2018): N binary grids of s x s cells, each cell kept with probability
p, are upsampled bilinearly to (s + 1) * cell pixels (cell = ceil(H / s); mirrored edges,
as the authors' scikit-image resize) and cropped at a random shift in [0, cell) to the input size; the map is
sum_i (p_i / max_j p_j) M_i / (N p) with p_i = p_c(x * M_i), the input multiplied by the mask in the model's input
space as in the authors' code. The weights p_i / max p = exp(log p_i - max log p) come from log-probabilities:
the paper's map divided by one positive constant per image (the same once normalised), and never blank on a
confident model whose masked copies' probabilities all underflow float32 (a note on the map says so). The
masks are reproducible: rng = numpy.random.default_rng(seed); grids = rng.random((N, s, s))
< p; shifts = rng.integers(0, cell, (N, 2)) (rows, then columns). They are generated chunk
by chunk, never all held at once.

Both run their modified inputs in memory-bounded chunks with progress and cancel.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import (
    chunk_size,
    clean_classes,
    probability_drops,
    row_probabilities,
    run_chunks,
)
from engine.model.backend import tf
from engine.params import Param

FILLS = ("mean", "zero", "blur")


def patch_starts(size: int, patch: int, stride: int) -> np.ndarray:
    """Start offsets of a patch sliding over `size` pixels; the last one ends at the edge."""
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return np.array(starts)


def fill_values(inputs: np.ndarray, fill: str, patch: int) -> np.ndarray:
    """(B, H, W, C) values an occluding patch shows: the channel mean, zeros or a blurred copy."""
    if fill == "zero":
        return np.zeros_like(inputs)
    if fill == "mean":
        return np.broadcast_to(inputs.mean(axis=(1, 2), keepdims=True), inputs.shape).astype(np.float32)
    sigma = max(patch / 4.0, 0.5)
    blurred = [cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT) for image in inputs]
    return np.stack([b.reshape(image.shape) for b, image in zip(blurred, inputs, strict=True)]).astype(np.float32)


class Occlusion(Method):
    """Sliding-patch occlusion: where covering the image lowers the class probability."""

    name = "occlusion"
    title = "Occlusion"
    needs_layer = False
    floor = "zero"  # a zero drop: covering the patch changes nothing (min-max would call the least harmful patch that)
    parameters = (Param("patch", int, 16, "occluding patch side, model-input pixels", low=1, high=4096),
                  Param("stride", int, 8, "patch step, model-input pixels", low=1, high=4096),
                  Param("fill", str, "mean", "what the patch shows", choices=FILLS))

    def run(self, job: Job) -> RawMaps:
        """Every (image, patch position) row in chunks; signed drops kept as attributions."""
        logits, chosen, _ = clean_classes(self.context, job)
        probabilities = row_probabilities(self.context, job.output)
        base = [v.numpy() for v in probabilities(tf.constant(job.inputs), tf.constant(chosen))]
        batch, height, width = job.inputs.shape[:3]
        patch_h, patch_w = min(job.params["patch"], height), min(job.params["patch"], width)
        ys = patch_starts(height, patch_h, job.params["stride"])
        xs = patch_starts(width, patch_w, job.params["stride"])
        positions = np.array([(y, x) for y in ys for x in xs])
        fills = fill_values(job.inputs, job.params["fill"], job.params["patch"])
        sums = np.zeros((batch, height, width), np.float64)
        counts = np.zeros((height, width), np.float64)
        for y, x in positions:
            counts[y:y + patch_h, x:x + patch_w] += 1.0
        image_of = np.repeat(np.arange(batch), len(positions))
        where = np.tile(np.arange(len(positions)), batch)

        def work(start: int, stop: int) -> None:
            rows = image_of[start:stop]
            occluded = job.inputs[rows].copy()
            for r, (image, (y, x)) in enumerate(zip(rows, positions[where[start:stop]], strict=True)):
                occluded[r, y:y + patch_h, x:x + patch_w] = fills[image, y:y + patch_h, x:x + patch_w]
            scores = probabilities(tf.constant(occluded), tf.constant(chosen[rows]))
            drops = probability_drops((base[0][rows], base[1][rows]), (scores[0].numpy(), scores[1].numpy()))
            for image, (y, x), drop in zip(rows, positions[where[start:stop]], drops, strict=True):
                sums[image, y:y + patch_h, x:x + patch_w] += drop

        run_chunks(job, len(image_of), chunk_size(self.context, job.inputs.shape[1:]), work)
        attributions = (sums / counts).astype(np.float32)[..., None]
        return RawMaps(np.maximum(attributions[..., 0], 0.0), logits, chosen, attributions=attributions)


def interpolation_matrix(size: int, cells: int) -> np.ndarray:
    """(size, cells) weights of order-1 resizing from `cells` to `size` samples with mirrored
    edges: scikit-image's resize(order=1, mode="reflect", anti_aliasing=False), which RISE's
    authors use (half-pixel centres, index -1 reads 1 and `cells` reads cells - 2)."""
    centres = (np.arange(size) + 0.5) * cells / size - 0.5
    low = np.floor(centres).astype(int)
    frac = centres - low

    def mirrored(index: np.ndarray) -> np.ndarray:
        if cells == 1:
            return np.zeros_like(index)
        period = 2 * (cells - 1)
        index = np.abs(index) % period
        return np.where(index >= cells, period - index, index)

    weights = np.zeros((size, cells))
    rows = np.arange(size)
    np.add.at(weights, (rows, mirrored(low)), 1.0 - frac)
    np.add.at(weights, (rows, mirrored(low + 1)), frac)
    return weights


def rise_masks(indices: np.ndarray, grids: np.ndarray, shifts: np.ndarray, height: int, width: int) -> np.ndarray:
    """(n, H, W) float32 masks number `indices`: each s x s grid upsampled (order 1, mirrored
    edges) to (s + 1) * cell pixels per side and cropped at its shift."""
    side = grids.shape[1]
    cell_h, cell_w = math.ceil(height / side), math.ceil(width / side)
    rows = interpolation_matrix((side + 1) * cell_h, side)
    columns = interpolation_matrix((side + 1) * cell_w, side)
    masks = np.empty((len(indices), height, width), np.float32)
    for row, index in enumerate(indices):
        dy, dx = shifts[index]
        masks[row] = rows[dy:dy + height] @ grids[index] @ columns[dx:dx + width].T
    return masks


class Rise(Method):
    """RISE: the class probability of randomly masked copies, averaged with their masks."""

    name = "rise"
    title = "RISE"
    needs_layer = False
    floor = "min"  # every value is an expected probability: no value means "no evidence"
    parameters = (Param("masks", int, 1000, "random masks", low=1, high=100000),
                  Param("grid", int, 8, "mask grid cells per side", low=1, high=256),
                  Param("keep", float, 0.5, "probability that a grid cell is kept", low=0.01, high=1.0),
                  Param("seed", int, 0, "random seed of the masks", low=0, high=2**31 - 1))

    def run(self, job: Job) -> RawMaps:
        """Masked copies of every image in chunks; sum_i (p_i / max p) M_i / (N keep), the weights
        exp(log p_i - max log p) kept relative to the largest seen so far (rescaled when it grows)."""
        logits, chosen, _ = clean_classes(self.context, job)
        probabilities = row_probabilities(self.context, job.output)
        count, side, keep = job.params["masks"], job.params["grid"], job.params["keep"]
        batch, height, width = job.inputs.shape[:3]
        rng = np.random.default_rng(job.params["seed"])
        grids = rng.random((count, side, side)) < keep
        cells = np.array([math.ceil(height / side), math.ceil(width / side)])
        shifts = rng.integers(0, cells, (count, 2))
        sums = np.zeros((batch, height, width), np.float64)
        largest = np.full(batch, -np.inf)  # max log p_i so far, per image: sums are relative to it
        image_of, mask_of = np.repeat(np.arange(batch), count), np.tile(np.arange(count), batch)

        def work(start: int, stop: int) -> None:
            rows = image_of[start:stop]
            masks = rise_masks(mask_of[start:stop], grids, shifts, height, width)
            masked = job.inputs[rows] * masks[..., None]
            log_p = probabilities(tf.constant(masked), tf.constant(chosen[rows]))[0].numpy().astype(np.float64)
            for image in np.unique(rows):
                here = rows == image
                top = max(largest[image], log_p[here].max())
                if not np.isfinite(top):
                    continue  # no finite log-probability yet: nothing to weight
                if np.isfinite(largest[image]):
                    sums[image] *= np.exp(largest[image] - top)
                largest[image] = top
                sums[image] += np.tensordot(np.exp(log_p[here] - top), masks[here], axes=1)

        run_chunks(job, len(image_of), chunk_size(self.context, job.inputs.shape[1:]), work)
        maps = (sums / (count * keep)).astype(np.float32)
        return RawMaps(maps, logits, chosen, tuple(dict.fromkeys(_relative_note(top) for top in largest)))


def _relative_note(log_largest: float) -> str:
    """What RISE's weights are: the masked copies' probabilities over the largest of them."""
    return (f"rise: weights are p_i / max p (largest masked probability {math.exp(log_largest):.3g}, log "
            f"{log_largest:.4g}), computed from log-probabilities so that a confident model's map is never blank")
