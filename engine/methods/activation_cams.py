"""CAMs from the activations alone (no gradients): one compiled forward pass to the layer.

Eigen-CAM (Muhammad and Yeasin 2020) projects the layer's activations, an (h*w, C) matrix
per image, on their first principal component. The paper is class-agnostic and leaves the
sign of the component open (an SVD returns v or -v); here the activations are centred per
channel (principal components, as pytorch-grad-cam does), projected on the first right
singular vector, and the sign is chosen so that the projection correlates positively with
the activations' channel mean; the map is the positive part of that projection.
"""

from __future__ import annotations

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import layer_forward, resolve
from engine.model.backend import tf


class ActivationCam(Method):
    """A CAM computed from the layer's activations by `project` (subclasses); the class explained
    is still resolved (and reported) from the logits of the same pass."""

    needs_layer = True

    @staticmethod
    def project(activations: np.ndarray) -> np.ndarray:
        """(h, w, C) activations of one image -> (h, w) map."""
        raise NotImplementedError

    def run(self, job: Job) -> RawMaps:
        """One forward pass to the layer, then `project` per image."""
        job.report(0, 1)
        activations, logits = layer_forward(self.context, job.layer, job.output)(tf.constant(job.inputs))
        activations, logits = activations.numpy(), logits.numpy()
        maps = np.stack([self.project(a) for a in activations]).astype(np.float32)
        job.report(1, 1)
        return RawMaps(maps, logits, resolve(self.context.heads[job.output], logits, job.classes))


def first_component_projection(activations: np.ndarray) -> np.ndarray:
    """(h, w, C) -> (h, w): centred activations projected on their first principal direction,
    signed to agree with the channel mean (zero map when the activations are constant)."""
    height, width, channels = activations.shape
    matrix = np.nan_to_num(activations.reshape(-1, channels).astype(np.float64))
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    if not np.any(centred):
        return np.zeros((height, width), np.float32)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    projection = centred @ vt[0]
    mean_map = matrix.mean(axis=1)
    if np.dot(projection - projection.mean(), mean_map - mean_map.mean()) < 0:
        projection = -projection
    return projection.reshape(height, width).astype(np.float32)


class EigenCam(ActivationCam):
    """Eigen-CAM: the first principal component of the activations, class-agnostic."""

    name = "eigencam"
    title = "Eigen-CAM"

    @staticmethod
    def project(activations: np.ndarray) -> np.ndarray:
        """The positive part of the first-component projection."""
        return np.maximum(first_component_projection(activations), 0.0)
