"""Integrated Gradients (Sundararajan et al. 2017) as in seed 004: the straight path from a
baseline to the input, gradients at steps + 1 points, the trapezoidal rule, and either a
black baseline or the average over K random-pixel baselines. F is the explained class's
pre-activation logit, so the attributions of an image sum to about F(x) - F(baseline)."""

from __future__ import annotations

import numpy as np

from engine.images.preprocessing import preprocess
from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import chunk_size, input_gradients, run_chunks
from engine.model.backend import tf
from engine.params import Param

BASELINE_SEED = 0  # random baselines are reproducible
COMPLETENESS_TOLERANCE = 0.05


def baselines(shape: tuple, count: int, mode: str) -> np.ndarray:
    """(max(count, 1), H, W, C) baselines in model-input space: black pixels when count is 0,
    else `count` images of uniform random pixels on 0..255, each preprocessed like an image."""
    pixels = (np.zeros((1, *shape), np.float32) if count == 0
              else np.random.default_rng(BASELINE_SEED).random((count, *shape), dtype=np.float32) * 255.0)
    return preprocess(pixels, mode) if shape[-1] in (1, 3) else pixels


def trapezoid_weights(steps: int) -> np.ndarray:
    """Weights of the steps + 1 gradients: 1/steps inside, 1/(2 steps) at both ends."""
    weights = np.full(steps + 1, 1.0 / steps, np.float32)
    weights[[0, -1]] /= 2.0
    return weights


class IntegratedGradients(Method):
    """Path-integrated gradients; the map shows the positive attributions (mean over channels)."""

    name = "integrated-gradients"
    title = "Integrated Gradients"
    needs_layer = False
    parameters = (Param("steps", int, 50, "path steps (trapezoidal rule)", low=1, high=10000),
                  Param("baselines", int, 0, "0 = a black baseline, K = the mean over K random ones",
                        low=0, high=1000))

    def run(self, job: Job) -> RawMaps:
        """Gradients along every (image, baseline) path in memory-bounded chunks."""
        steps, batch = job.params["steps"], len(job.inputs)
        gradients = input_gradients(self.context, job.output)
        _, logits, chosen = gradients(tf.constant(job.inputs), tf.constant(job.classes))
        chosen = chosen.numpy()
        starts = baselines(job.inputs.shape[1:], job.params["baselines"], job.preprocessing)
        paths, points = len(starts), steps + 1
        alphas = np.linspace(0.0, 1.0, points, dtype=np.float32)
        weights = trapezoid_weights(steps)
        integral = np.zeros((batch, paths, *job.inputs.shape[1:]), np.float32)
        start_scores = np.zeros((batch, paths), np.float32)
        row_index = np.arange(batch * paths * points)
        image_of, path_of, step_of = row_index // (paths * points), (row_index // points) % paths, row_index % points

        def work(start: int, stop: int) -> None:
            i, j, s = image_of[start:stop], path_of[start:stop], step_of[start:stop]
            a = alphas[s][:, None, None, None]
            rows = starts[j] + a * (job.inputs[i] - starts[j])
            grads, row_logits, _ = gradients(tf.constant(rows), tf.constant(chosen[i]))
            weighted = grads.numpy() * weights[s][:, None, None, None]
            for key in set(zip(i.tolist(), j.tolist(), strict=True)):
                integral[key] += weighted[(i == key[0]) & (j == key[1])].sum(axis=0)
            first = s == 0
            if first.any():
                head_scores = self.context.heads[job.output].class_logits(row_logits.numpy()[first])
                start_scores[i[first], j[first]] = head_scores[np.arange(first.sum()), chosen[i[first]]]

        run_chunks(job, batch * paths * points, chunk_size(self.context, job.inputs.shape[1:], backward=True), work)
        attributions = ((job.inputs[:, None] - starts[None]) * integral).mean(axis=1).astype(np.float32)
        logits = logits.numpy()
        final = self.context.heads[job.output].class_logits(logits)[np.arange(batch), chosen]
        notes = _completeness_notes(attributions, final - start_scores.mean(axis=1))
        maps = np.maximum(attributions, 0.0).mean(axis=-1).astype(np.float32)
        return RawMaps(maps, logits, chosen, notes, attributions)


def _completeness_notes(attributions: np.ndarray, expected: np.ndarray) -> tuple[str, ...]:
    """A note when the attributions miss F(x) - F(baseline) by more than the tolerance."""
    notes = []
    for total, target in zip(attributions.reshape(len(attributions), -1).sum(axis=1), expected, strict=True):
        if abs(total - target) > COMPLETENESS_TOLERANCE * max(abs(target), 1e-6):
            notes.append(f"integrated gradients: attributions sum to {total:.4g} but F(x) - F(baseline) = "
                         f"{target:.4g}; more steps would tighten the integral")
    return tuple(notes)
