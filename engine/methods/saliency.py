"""Input-gradient maps: vanilla saliency (seed 004's "normal gradients") and SmoothGrad."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.errors import MethodError
from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import accumulate, chunk_size, input_gradients, run_chunks
from engine.model.backend import tf

NOISE_SEED = 0  # SmoothGrad's noise is reproducible: the same image gives the same map


def magnitude(grads: np.ndarray) -> np.ndarray:
    """(B, H, W, C) gradients -> (B, H, W) max over channels of |gradient|."""
    return np.abs(grads).max(axis=-1).astype(np.float32)


class Saliency(Method):
    """|d score / d input|, max over colour channels, at the model input's resolution."""

    name = "saliency"
    title = "Saliency (gradients)"
    needs_layer = False

    def run(self, job: Job) -> RawMaps:
        """One compiled gradient pass over the batch."""
        job.report(0, 1)
        grads, logits, chosen = input_gradients(self.context, job.output)(
            tf.constant(job.inputs), tf.constant(job.classes))
        grads = grads.numpy()
        job.report(1, 1)
        return RawMaps(magnitude(grads), logits.numpy(), chosen.numpy(), attributions=grads)


def check_number(name: str, value: Any, low: float, integer: bool = False, high: float | None = None):
    """A parameter value, refused with a one-line reason when of the wrong type or range."""
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        kind = "a whole number" if integer else "a number"
        raise MethodError(f"{name} must be {kind} {bound}, not {value!r}")
    return int(value) if integer else float(value)


class SmoothGrad(Method):
    """Mean saliency over noisy copies (Smilkov et al. 2017); noise sigma = `noise` times the
    image's value range. The signed mean gradient is kept for polarity views."""

    name = "smoothgrad"
    title = "SmoothGrad"
    needs_layer = False
    defaults = {"samples": 25, "noise": 0.15}

    def params(self, given: dict[str, Any]) -> dict[str, Any]:
        """samples >= 1 (whole), noise >= 0 (fraction of the value range)."""
        chosen = super().params(given)
        return {"samples": check_number("samples", chosen["samples"], 1, integer=True),
                "noise": check_number("noise", chosen["noise"], 0.0)}

    def run(self, job: Job) -> RawMaps:
        """Noisy copies in memory-bounded chunks, each image's class fixed on the clean input."""
        gradients = input_gradients(self.context, job.output)
        _, logits, chosen = gradients(tf.constant(job.inputs), tf.constant(job.classes))
        chosen = chosen.numpy()
        samples, batch = job.params["samples"], len(job.inputs)
        spans = np.ptp(job.inputs.reshape(batch, -1), axis=1) if job.inputs.size else np.zeros(batch)
        sigma = (job.params["noise"] * spans).astype(np.float32)
        rng = np.random.default_rng(NOISE_SEED)
        maps = np.zeros(job.inputs.shape[:3], np.float32)
        mean_grads = np.zeros(job.inputs.shape, np.float32)
        image_of = np.repeat(np.arange(batch), samples)

        def work(start: int, stop: int) -> None:
            rows = image_of[start:stop]
            noise = rng.standard_normal((len(rows), *job.inputs.shape[1:]), dtype=np.float32)
            noisy = job.inputs[rows] + noise * sigma[rows, None, None, None]
            grads = gradients(tf.constant(noisy), tf.constant(chosen[rows]))[0].numpy()
            accumulate(maps, rows, magnitude(grads) / samples)
            accumulate(mean_grads, rows, grads / samples)

        run_chunks(job, batch * samples, chunk_size(self.context, job.inputs.shape[1:], backward=True), work)
        return RawMaps(maps, logits.numpy(), chosen, attributions=mean_grads)
