"""Input-gradient maps: vanilla saliency (seed 004's "normal gradients"), SmoothGrad and gradient x input."""

from __future__ import annotations

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import accumulate, chunk_size, input_gradients, run_chunks
from engine.model.backend import tf
from engine.params import Param

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
        attributions = self.attribute(grads.numpy(), job.inputs)
        job.report(1, 1)
        return RawMaps(self.show(attributions), logits.numpy(), chosen.numpy(), attributions=attributions)

    @staticmethod
    def attribute(grads: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """The signed attributions from the input gradients: the gradients themselves."""
        return grads

    @staticmethod
    def show(attributions: np.ndarray) -> np.ndarray:
        """(B, H, W, C) attributions -> (B, H, W) map: max |gradient| over channels."""
        return magnitude(attributions)


class SmoothGrad(Method):
    """Mean saliency over noisy copies (Smilkov et al. 2017); noise sigma = `noise` times the
    image's value range. The signed mean gradient is kept for polarity views."""

    name = "smoothgrad"
    title = "SmoothGrad"
    needs_layer = False
    parameters = (Param("samples", int, 25, "noisy copies averaged", low=1, high=10000),
                  Param("noise", float, 0.15, "noise sigma as a fraction of the image's value range",
                        low=0.0, high=10.0))

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


class GradientInput(Saliency):
    """Gradient x input (Shrikumar et al. 2016): x * d score / d x in the model's input space
    (after preprocessing). The signed product is kept for polarity views; the map shows its
    positive part averaged over channels, as Integrated Gradients does."""

    name = "gradient-input"
    title = "Gradient x Input"
    needs_layer = False

    @staticmethod
    def attribute(grads: np.ndarray, inputs: np.ndarray) -> np.ndarray:
        """x * d score / d x."""
        return (grads * inputs).astype(np.float32)

    @staticmethod
    def show(attributions: np.ndarray) -> np.ndarray:
        """The positive part averaged over channels."""
        return np.maximum(attributions, 0.0).mean(axis=-1).astype(np.float32)
