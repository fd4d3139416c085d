"""Grad-CAM (Selvaraju et al. 2017): ReLU(sum_k mean(dy/dA_k) * A_k), seeds 000 and 003, and the
base every gradient-weighted CAM shares: one compiled function per (layer, output) gives the
layer's activations A and the class score's gradients dy/dA, computed once per batch and class
and cached, and each method is a `combine(A, dy/dA)` (as pytorch-grad-cam's methods are a
weighting over its BaseCAM)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.model.backend import tf

RESULTS_KEPT = 4  # batches whose activations and gradients stay cached ...
RESULTS_BYTES = 64 * 2**20  # ... holding at most this many bytes together


def cam_gradients(context, layer: str, output: int):
    """Compiled (x, classes) -> (A, dy/dA, logits, chosen), built and traced once per (layer,
    output) and shared by every gradient-weighted CAM.

    `classes` holds -1 for "the predicted class", resolved inside the graph so that one
    forward pass serves both the choice and the explanation.
    """

    def build():
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

    return context.cached(("cam-gradients", layer, output), build)


def _batch_key(inputs: np.ndarray, classes: np.ndarray) -> bytes:
    data = np.ascontiguousarray(inputs)
    digest = hashlib.blake2b(data.tobytes(), digest_size=16)
    digest.update(repr((data.shape, str(data.dtype))).encode() + np.asarray(classes, np.int32).tobytes())
    return digest.digest()


def layer_gradients(context, inputs: np.ndarray, classes: np.ndarray, layer: str, output: int) -> tuple:
    """(A, dy/dA, logits, chosen) of a batch as tensors, computed once per (images, classes,
    layer, output) and kept for the next gradient CAM: a Compare grid's Grad-CAM, Grad-CAM++,
    LayerCAM, ... all combine the same activations and gradients. The last RESULTS_KEPT
    batches are kept, within RESULTS_BYTES together."""
    kept = context.cached("cam-gradients/results", OrderedDict)
    key = (layer, output, _batch_key(inputs, classes))
    if key in kept:
        kept.move_to_end(key)
        return kept[key]
    result = tuple(cam_gradients(context, layer, output)(tf.constant(inputs), tf.constant(classes, tf.int32)))
    if _size(result) <= RESULTS_BYTES:
        kept[key] = result
        while len(kept) > RESULTS_KEPT or sum(_size(r) for r in kept.values()) > RESULTS_BYTES:
            kept.popitem(last=False)
    return result


def _size(result: tuple) -> int:
    """Bytes of the activations and gradients of one cached batch."""
    return 2 * result[0].shape.num_elements() * result[0].dtype.size


def gradcam_map(activations, grads):
    """Grad-CAM: channel weights are the spatial means of the gradients."""
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))


class GradientCam(Method):
    """A CAM computed from (A, dy/dA) by `combine`: the activations and gradients come from one
    compiled function per (layer, output), computed once per batch and class (layer_gradients),
    so each method only combines them (a few eager tensor operations)."""

    needs_layer = True

    @staticmethod
    def combine(activations, grads):
        """The map from activations and gradients (subclasses)."""
        raise NotImplementedError

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
        """Maps at the layer's resolution, from the shared activations and gradients."""
        job.report(0, 1)
        activations, grads, logits, chosen = layer_gradients(self.context, job.inputs, job.classes, job.cam_layer,
                                                             job.output)
        cam = self.combine(activations, grads)
        job.report(1, 1)
        return RawMaps(np.asarray(cam, np.float32), logits.numpy(), chosen.numpy())


class GradCam(GradientCam):
    """Gradient-weighted class activation map."""

    name = "gradcam"
    title = "Grad-CAM"
    combine = staticmethod(gradcam_map)
