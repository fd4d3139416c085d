"""Score-CAM (Wang et al. 2020) and Faster Score-CAM (seed 001): gradient-free CAMs.

Each channel of the target layer, upsampled to the input size and normalised to [0, 1]
by (A - min) / (max - min), masks the (preprocessed) input; the weight of the channel is
the probability of the explained class for that masked input (softmax over the logits,
or the sigmoid for a one-unit head). The map is ReLU(sum_k w_k A_k) at the layer's
resolution. Masked inputs are built and scored in chunks bounded by a memory budget.

Never blank on a confident model: the probabilities are computed as log-probabilities
(log-softmax, log-sigmoid) and the weights are p_k / max_j p_j = exp(log p_k - max_j log p_j).
That is the paper's weight times one positive constant per image, so the normalised map is
the paper's wherever the probabilities are representable; where every masked input's
probability underflows float32 (a saturated model whose masked inputs all move to another
class), the ratios still are, and the map shows the channels whose masked inputs keep the
class most plausible instead of "no positive evidence". A note on the map says when that
happened, or when the masked inputs all score alike (the weights are then equal).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import (
    chunk_size,
    class_log_probabilities,
    layer_forward,
    resolve,
    run_chunks,
)
from engine.model.backend import tf
from engine.params import Param

UNDERFLOW = float(np.finfo(np.float32).tiny)  # below this the float32 probability is 0 or denormal
FLAT_WEIGHTS = 1e-6  # weights all within this of the largest: no information in the scores


def masked_scores(context, output: int):
    """Compiled (x_rows, maps, classes) -> log-probability of each row's class for its masked input.

    Row r is the input x_rows[r] multiplied by maps[r] (h, w), bilinearly upsampled to the
    input size and min-max normalised (a flat map masks everything out).
    """

    def build():
        head = context.heads[output]
        probe = context.probe((), output)

        @tf.function(input_signature=[context.input_spec(), tf.TensorSpec((None, None, None), tf.float32),
                                      tf.TensorSpec((None,), tf.int32)])
        def run(x_rows, maps, classes):
            size = tf.shape(x_rows)[1:3]
            upsampled = tf.image.resize(maps[..., None], size, method="bilinear")
            low = tf.reduce_min(upsampled, axis=(1, 2), keepdims=True)
            high = tf.reduce_max(upsampled, axis=(1, 2), keepdims=True)
            masks = tf.math.divide_no_nan(upsampled - low, high - low)
            outputs = probe(x_rows * masks, training=False)
            logits = outputs[-1] if isinstance(outputs, (list, tuple)) else outputs
            return tf.gather(class_log_probabilities(head, logits), classes, batch_dims=1)

        return run

    return context.cached(("scorecam-scores", output), build)


def relative_weights(log_probabilities: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """(B, N) log p_c of the masked inputs -> (weights p / max p per image, notes).

    A note when the largest probability underflows float32 (the paper's weights would all be
    0 and the map blank) or when the weights hardly differ (the map is then about the plain
    sum of the activations).
    """
    values = np.asarray(log_probabilities, np.float64)
    top = values.max(axis=1, keepdims=True)
    weights = np.exp(values - top)
    notes = []
    for largest, row in zip(top[:, 0], weights, strict=True):
        if np.exp(largest) < UNDERFLOW:
            notes.append(f"score-cam: every masked input's probability of this class underflows (largest "
                         f"e^{largest:.0f}); weights are the probabilities relative to the largest, computed "
                         "as log-probabilities")
        elif len(row) > 1 and row.min() > 1.0 - FLAT_WEIGHTS:
            notes.append("score-cam: every masked input scores this class alike; the weights are equal and the "
                         "map is about the sum of the activations")
    return weights.astype(np.float32), tuple(dict.fromkeys(notes))


def top_channels(activations: np.ndarray, count: int | None) -> np.ndarray:
    """(B, N) channel indices per image: all channels (None), or the `count` with the largest
    spatial standard deviation, largest first (Faster Score-CAM)."""
    channels = activations.shape[-1]
    if count is None or count >= channels:
        return np.tile(np.arange(channels), (activations.shape[0], 1))
    spread = activations.reshape(activations.shape[0], -1, channels).std(axis=1)
    return np.argsort(-spread, axis=1, kind="stable")[:, :count]


class ScoreCam(Method):
    """Score-weighted CAM over every channel of the layer."""

    name = "scorecam"
    title = "Score-CAM"
    needs_layer = True

    def _count(self, params: dict[str, Any]) -> int | None:
        return None

    def run(self, job: Job) -> RawMaps:
        """Weights from the masked inputs' class probabilities, chunk by chunk."""
        activations, logits = layer_forward(self.context, job.cam_layer, job.output)(tf.constant(job.inputs))
        activations, logits = activations.numpy(), logits.numpy()
        chosen = resolve(self.context.heads[job.output], logits, job.classes)
        selected = top_channels(activations, self._count(job.params))
        batch, count = selected.shape
        image_of = np.repeat(np.arange(batch), count)
        channel_of = selected.reshape(-1)
        weights = np.zeros(batch * count, dtype=np.float32)
        score = masked_scores(self.context, job.output)

        def work(start: int, stop: int) -> None:
            rows, channels = image_of[start:stop], channel_of[start:stop]
            maps = activations[rows, :, :, channels]  # (n, h, w): advanced indices come first
            weights[start:stop] = score(tf.constant(job.inputs[rows]), tf.constant(maps, tf.float32),
                                        tf.constant(chosen[rows])).numpy()

        size = chunk_size(self.context, job.inputs.shape[1:])
        run_chunks(job, batch * count, size, work)
        weights, notes = relative_weights(weights.reshape(batch, count))
        used = np.take_along_axis(activations, selected[:, None, None, :], axis=-1)
        cams = np.maximum(np.einsum("bhwk,bk->bhw", used, weights), 0.0)
        return RawMaps(cams.astype(np.float32), logits, chosen, notes)


class FasterScoreCam(ScoreCam):
    """Score-CAM on the N channels with the largest activation standard deviation (seed 001)."""

    name = "faster-scorecam"
    title = "Faster Score-CAM"
    parameters = (Param("top_n", int, 10, "channels with the largest activation std", low=1, high=4096),)

    def _count(self, params: dict[str, Any]) -> int | None:
        return int(params["top_n"])
