"""Pieces the methods share: compiled gradient / forward functions and memory-bounded chunks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from engine import memory
from engine.methods.base import Job
from engine.model.backend import tf
from engine.model.context import ModelContext

MAX_CHUNK = 64  # rows per chunk, whatever the budget says
CHUNK_SECONDS = 0.5  # a chunk slower than this halves the next ones: cancel stays prompt


def _probe_output(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _class_scores(head, logits, classes):
    """(scores of the chosen classes, chosen classes); -1 picks the top class in-graph."""
    scores_all = head.class_logits(logits)
    top = tf.argmax(scores_all, axis=-1, output_type=tf.int32)
    chosen = tf.where(classes < 0, top, classes)
    return tf.gather(scores_all, chosen, batch_dims=1), chosen


def input_gradients(context: ModelContext, output: int, variant: str = "plain", substitute=None):
    """Compiled (x, classes) -> (d score / d x, logits, chosen): the gradient methods' core.

    Scores are pre-activation class logits (Head.class_logits); `variant`/`substitute`
    select a modified probe (guided backprop). Built once per (output, variant).
    """

    def build():
        head = context.heads[output]
        probe = context.probe((), output, variant=variant, substitute=substitute)

        @tf.function(input_signature=[context.input_spec(), tf.TensorSpec((None,), tf.int32)])
        def run(x, classes):
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits = _probe_output(probe(x, training=False))[-1]
                scores, chosen = _class_scores(head, logits, classes)
            return tape.gradient(scores, x), logits, chosen

        return run

    return context.cached(("input-gradients", output, variant), build)


def layer_forward(context: ModelContext, layer: str, output: int):
    """Compiled x -> (activations of `layer`, logits), built once per (layer, output)."""

    def build():
        probe = context.probe((layer,), output)

        @tf.function(input_signature=[context.input_spec()])
        def run(x):
            activations, logits = _probe_output(probe(x, training=False))
            return activations, logits

        return run

    return context.cached(("layer-forward", layer, output), build)


def resolve(head, logits: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Replace -1 class requests by the top class of each image (numpy)."""
    top = np.argmax(head.class_logits(np.asarray(logits)), axis=-1)
    return np.where(classes < 0, top, classes).astype(np.int32)


def accumulate(target: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """target[rows[r]] += values[r] for every row r (rows may repeat)."""
    for index in np.unique(rows):
        target[index] += values[rows == index].sum(axis=0)


def _largest_activation(context: ModelContext) -> int:
    """Elements of the largest single-layer output per sample (0 when unknown)."""
    from engine.model.layers import iter_layers

    largest = 0
    for info, _ in iter_layers(context.model):
        dims = info.output_shape[1:]
        if dims and all(isinstance(d, int) for d in dims):
            largest = max(largest, math.prod(dims))
    return largest


def chunk_size(context: ModelContext, sample_shape: tuple, budget: int | None = None,
               backward: bool = False) -> int:
    """Rows per chunk so that the inputs and the largest activations stay within `budget`.

    `budget` in bytes defaults to engine.memory.budget_bytes() (a share of the memory
    available now, or CONVSCOPE_MEMORY_BUDGET_MB). Per row: the input, plus the largest
    layer output twice (its input and output live together), doubled again when gradients
    are taken. At least 1, at most MAX_CHUNK.
    """
    budget = memory.budget_bytes() if budget is None else budget
    inputs = math.prod(sample_shape)
    largest = context.cached("largest-activation", lambda: _largest_activation(context)) or 32 * inputs
    per_row = 4 * (inputs + 2 * largest * (2 if backward else 1))
    return int(max(1, min(MAX_CHUNK, budget // per_row)))


def run_chunks(job: Job, total: int, size: int, work: Callable[[int, int], None], smallest: int = 1) -> None:
    """Call work(start, stop) over [0, total) in chunks of at most `size` rows.

    Reports progress after each chunk (job.report also raises Cancelled); a chunk taking
    longer than CHUNK_SECONDS halves the size of the following ones, down to `smallest`
    (kept larger where a row costs little but each call reads large weights: Ablation-CAM's
    dense tails).
    """
    start = 0
    job.report(0, total)
    while start < total:
        stop = min(total, start + size)
        began = time.perf_counter()
        work(start, stop)
        if time.perf_counter() - began > CHUNK_SECONDS and size > smallest:
            size = max(smallest, size // 2)
        start = stop
        job.report(start, total)


def class_log_probabilities(head, logits):
    """Per-class log-probabilities from raw logits, computed stably in TensorFlow (no underflow
    to log 0 where a probability is below float32's range)."""
    if head.binary:
        return tf.concat([tf.math.log_sigmoid(-logits), tf.math.log_sigmoid(logits)], axis=-1)
    if head.activation == "sigmoid":
        return tf.math.log_sigmoid(logits)
    return tf.nn.log_softmax(logits, axis=-1)


def class_log_complement(head, logits, classes):
    """log(1 - p_c) of each row's class `classes[r]`, computed stably in TensorFlow: on a saturated
    model p_c rounds to 1 and 1 - p_c to 0, but its logarithm stays exact (log-sigmoid of the
    negated logit; for a softmax, logsumexp of the other logits minus logsumexp of all)."""
    if head.binary:
        return tf.gather(tf.concat([tf.math.log_sigmoid(logits), tf.math.log_sigmoid(-logits)], axis=-1),
                         classes, batch_dims=1)
    if head.activation == "sigmoid":
        return tf.math.log_sigmoid(-tf.gather(logits, classes, batch_dims=1))
    others = tf.where(tf.one_hot(classes, tf.shape(logits)[-1]) > 0, -tf.constant(float("inf")), logits)
    return tf.reduce_logsumexp(others, axis=-1) - tf.reduce_logsumexp(logits, axis=-1)


def row_probabilities(context: ModelContext, output: int):
    """Compiled (x_rows, classes) -> (log p, log(1 - p)) of each row's class, for the perturbation
    methods (each row a modified input): probabilities as logarithms, so that neither a tiny
    nor an almost-certain probability is lost to float32 rounding. Built once per output."""

    def build():
        head = context.heads[output]
        probe = context.probe((), output)

        @tf.function(input_signature=[context.input_spec(), tf.TensorSpec((None,), tf.int32)])
        def run(x_rows, classes):
            logits = tf.cast(_probe_output(probe(x_rows, training=False))[-1], tf.float32)
            return (tf.gather(class_log_probabilities(head, logits), classes, batch_dims=1),
                    class_log_complement(head, logits, classes))

        return run

    return context.cached(("row-log-probabilities", output), build)


def probability_drops(base: tuple[np.ndarray, np.ndarray], rows: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """p_base - p_row in float64 from (log p, log(1 - p)) pairs, without cancellation: from the
    complements, (1 - p_row) - (1 - p_base), where the base probability is above one half (on a
    saturated model both probabilities round to 1.0 in float32 and their difference to 0)."""
    log_p_base, log_q_base = (np.asarray(v, np.float64) for v in base)
    log_p, log_q = (np.asarray(v, np.float64) for v in rows)
    from_p = np.exp(log_p_base) - np.exp(log_p)
    from_q = np.exp(log_q) - np.exp(log_q_base)
    return np.where(log_p_base > np.log(0.5), from_q, from_p)


def logits_forward(context: ModelContext, output: int):
    """Compiled x -> logits of `output` (pre-activation), built once per output."""

    def build():
        probe = context.probe((), output)

        @tf.function(input_signature=[context.input_spec()])
        def run(x):
            return _probe_output(probe(x, training=False))[-1]

        return run

    return context.cached(("forward-logits", output), build)


def clean_classes(context: ModelContext, job: Job) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(logits, chosen classes, probability of the chosen class) of the job's unmodified inputs."""
    head = context.heads[job.output]
    logits = logits_forward(context, job.output)(tf.constant(job.inputs)).numpy()
    chosen = resolve(head, logits, job.classes)
    probabilities = head.probabilities(logits)[np.arange(len(logits)), chosen]
    return logits, chosen, probabilities.astype(np.float32)
