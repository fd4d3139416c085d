"""Ablation-CAM (Desai and Ramaswamy 2020): a gradient-free CAM from channel ablations.

The weight of channel k is the relative drop of the explained class's score when that
channel's activation map is set to zero: w_k = (y_c - y_c^k) / y_c, and the map is
ReLU(sum_k w_k A_k). Scores are pre-activation logits, as in the paper. We divide by |y_c|
rather than y_c: the paper assumes the explained class scores positively, and a negative
y_c (explaining a class the model rejects) would otherwise turn every weight around; for a
positive y_c both are the same. The ablated scores come from the model *from the layer
onward* (engine.model.probe.build_tail), one row per (image, channel), in memory-bounded
chunks with progress and cancel.
"""

from __future__ import annotations

import numpy as np

from engine.methods.base import Job, Method, RawMaps
from engine.methods.common import chunk_size, layer_forward, resolve, run_chunks
from engine.model.backend import tf
from engine.model.probe import build_tail

TAIL_CHUNK = 32  # rows per call kept at least: a dense tail (VGG's fc layers) reads its weights per call
TINY_SCORE = 1e-12  # |y_c| below this: the drop itself is the weight (no relative scale)


def ablated_scores(context, layer: str, output: int):
    """Compiled (x_rows, a_rows, channels, classes) -> the class score of each row with its
    channel of A zeroed; x_rows is used only when the tail needs the image (a skip connection
    around the layer), otherwise pass an empty batch. Built once per (layer, output)."""

    def build():
        head = context.heads[output]
        tail, takes_image = build_tail(context.model, layer, output)
        a_shape = tuple(tail.inputs[-1].shape[1:])

        @tf.function(input_signature=[context.input_spec(), tf.TensorSpec((None, *a_shape), tf.float32),
                                      tf.TensorSpec((None,), tf.int32), tf.TensorSpec((None,), tf.int32)])
        def run(x_rows, a_rows, channels, classes):
            keep = 1.0 - tf.one_hot(channels, a_shape[-1], dtype=a_rows.dtype)
            ablated = a_rows * keep[:, None, None, :]
            logits = tail([x_rows, ablated], training=False) if takes_image else tail(ablated, training=False)
            return tf.gather(head.class_logits(logits), classes, batch_dims=1)

        return run, takes_image

    return context.cached(("ablation-scores", layer, output), build)


class AblationCam(Method):
    """Ablation-CAM: channel weights from the class score's drop when the channel is zeroed."""

    name = "ablationcam"
    title = "Ablation-CAM"
    needs_layer = True

    def run(self, job: Job) -> RawMaps:
        """Every (image, channel) ablation in chunks, then ReLU(sum_k w_k A_k)."""
        activations, logits = layer_forward(self.context, job.cam_layer, job.output)(tf.constant(job.inputs))
        activations, logits = activations.numpy(), logits.numpy()
        head = self.context.heads[job.output]
        chosen = resolve(head, logits, job.classes)
        batch, channels = len(activations), activations.shape[-1]
        base = head.class_logits(logits)[np.arange(batch), chosen].astype(np.float64)
        score, takes_image = ablated_scores(self.context, job.cam_layer, job.output)
        image_of, channel_of = np.repeat(np.arange(batch), channels), np.tile(np.arange(channels), batch)
        ablated = np.zeros(batch * channels, np.float64)
        empty = tf.zeros((0, *job.inputs.shape[1:]), tf.float32)

        def work(start: int, stop: int) -> None:
            rows = image_of[start:stop]
            x_rows = tf.constant(job.inputs[rows]) if takes_image else empty
            ablated[start:stop] = score(x_rows, tf.constant(activations[rows]), tf.constant(channel_of[start:stop],
                                        tf.int32), tf.constant(chosen[rows])).numpy()

        shape = job.inputs.shape[1:] if takes_image else activations.shape[1:]
        size = chunk_size(self.context, shape)
        run_chunks(job, batch * channels, size, work, smallest=min(size, TAIL_CHUNK))
        drops = base[:, None] - ablated.reshape(batch, channels)
        scale = np.where(np.abs(base) > TINY_SCORE, np.abs(base), 1.0)
        weights = (drops / scale[:, None]).astype(np.float32)
        cams = np.maximum(np.einsum("bhwk,bk->bhw", activations, weights), 0.0)
        return RawMaps(cams.astype(np.float32), logits, chosen)
