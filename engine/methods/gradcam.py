"""Grad-CAM (Selvaraju et al. 2017): ReLU(sum_k mean(dy/dA_k) * A_k), seeds 000 and 003."""

from __future__ import annotations

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.model.backend import tf


def cam_gradients(context, layer: str, output: int):
    """Compiled (x, classes) -> (A, dy/dA, class_logits), shared by the gradient-weighted CAMs.

    `classes` holds -1 for "the predicted class", resolved inside the graph so that one
    forward pass serves both the choice and the explanation.
    """
    head = context.heads[output]
    probe = context.probe((layer,), output)

    @tf.function(input_signature=[context.input_spec(), tf.TensorSpec((None,), tf.int32)])
    def run(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            activations, logits = probe(x, training=False)
            scores_all = head.class_logits(logits)
            top = tf.argmax(scores_all, axis=-1, output_type=tf.int32)
            chosen = tf.where(classes < 0, top, classes)
            scores = tf.gather(scores_all, chosen, batch_dims=1)
        grads = tape.gradient(scores, activations)
        return activations, grads, logits, chosen

    return run


def gradcam_map(activations, grads):
    """Grad-CAM: channel weights are the spatial means of the gradients."""
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))


class GradientCam(Method):
    """A CAM computed from (A, dy/dA) by `combine`, compiled once per (layer, output)."""

    needs_layer = True

    @staticmethod
    def combine(activations, grads):
        """The map from activations and gradients (subclasses)."""
        raise NotImplementedError

    def _function(self, job: Job):
        def build():
            gradients = cam_gradients(self.context, job.layer, job.output)

            @tf.function(input_signature=[self.context.input_spec(), tf.TensorSpec((None,), tf.int32)])
            def run(x, classes):
                activations, grads, logits, chosen = gradients(x, classes)
                return self.combine(activations, grads), logits, chosen

            return run

        return self.context.cached((self.name, job.layer, job.output), build)

    def _layers_function(self, job: Job, layers: tuple[str, ...]):
        """Compiled (x, classes) -> ([map per layer], logits, chosen): one forward and one
        backward pass for several layers (fused maps)."""

        def build():
            head = self.context.heads[job.output]
            probe = self.context.probe(layers, job.output)

            @tf.function(input_signature=[self.context.input_spec(), tf.TensorSpec((None,), tf.int32)])
            def run(x, classes):
                with tf.GradientTape() as tape:
                    *activations, logits = probe(x, training=False)
                    scores_all = head.class_logits(logits)
                    top = tf.argmax(scores_all, axis=-1, output_type=tf.int32)
                    chosen = tf.where(classes < 0, top, classes)
                    scores = tf.gather(scores_all, chosen, batch_dims=1)
                grads = tape.gradient(scores, activations)
                return [self.combine(a, g) for a, g in zip(activations, grads, strict=True)], logits, chosen

            return run

        return self.context.cached((self.name, layers, job.output), build)

    def run_layers(self, job: Job, layers: tuple[str, ...]) -> list[RawMaps]:
        """Raw maps of every layer in `layers` from one compiled pass (engine.methods.fusion)."""
        job.report(0, 1)
        cams, logits, chosen = self._layers_function(job, tuple(layers))(tf.constant(job.inputs),
                                                                        tf.constant(job.classes))
        job.report(1, 1)
        logits, chosen = logits.numpy(), chosen.numpy()
        return [RawMaps(cam.numpy().astype(np.float32), logits, chosen) for cam in cams]

    def run(self, job: Job) -> RawMaps:
        """Maps at the layer's resolution."""
        job.report(0, 1)
        cam, logits, chosen = self._function(job)(tf.constant(job.inputs), tf.constant(job.classes))
        job.report(1, 1)
        return RawMaps(cam.numpy().astype(np.float32), logits.numpy(), chosen.numpy())


class GradCam(GradientCam):
    """Gradient-weighted class activation map."""

    name = "gradcam"
    title = "Grad-CAM"
    combine = staticmethod(gradcam_map)
