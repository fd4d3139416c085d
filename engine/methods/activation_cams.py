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
    """A CAM computed from the layer's activations by `project` (subclasses), compiled with the
    forward pass once per (method, layer, output); the class explained is still resolved (and
    reported) from the logits of the same pass."""

    needs_layer = True

    @staticmethod
    def project(activations):
        """(B, h, w, C) activations (a TensorFlow tensor) -> (B, h, w) maps."""
        raise NotImplementedError

    def _function(self, job: Job):
        def build():
            forward = layer_forward(self.context, job.layer, job.output)

            @tf.function(input_signature=[self.context.input_spec()])
            def run(x):
                activations, logits = forward(x)
                return self.project(activations), logits

            return run

        return self.context.cached((self.name, job.layer, job.output), build)

    def run(self, job: Job) -> RawMaps:
        """One compiled pass: forward to the layer, then `project`."""
        job.report(0, 1)
        maps, logits = self._function(job)(tf.constant(job.inputs))
        logits = logits.numpy()
        job.report(1, 1)
        return RawMaps(maps.numpy().astype(np.float32), logits, resolve(self.context.heads[job.output], logits,
                                                                          job.classes))


def first_component_projection(activations):
    """(B, h, w, C) -> (B, h, w): each image's centred activations projected on their first
    principal direction (the first right singular vector), signed so that the projection
    correlates positively with the channel mean; zero where the activations are constant."""
    shape = tf.shape(activations)
    matrix = tf.reshape(activations, (shape[0], shape[1] * shape[2], shape[3]))
    centred = matrix - tf.reduce_mean(matrix, axis=1, keepdims=True)
    _, _, v = tf.linalg.svd(centred, full_matrices=False)
    projection = tf.linalg.matvec(centred, v[:, :, 0])
    mean_map = tf.reduce_mean(matrix, axis=2)
    agreement = tf.reduce_sum((projection - tf.reduce_mean(projection, axis=1, keepdims=True))
                              * (mean_map - tf.reduce_mean(mean_map, axis=1, keepdims=True)), axis=1, keepdims=True)
    projection *= tf.where(agreement < 0, -1.0, 1.0)
    return tf.reshape(projection, shape[:3])


class EigenCam(ActivationCam):
    """Eigen-CAM: the first principal component of the activations, class-agnostic."""

    name = "eigencam"
    title = "Eigen-CAM"
    class_agnostic = True

    @staticmethod
    def project(activations):
        """The positive part of the first-component projection."""
        return tf.nn.relu(first_component_projection(activations))
