"""`log_pair`: (log p, log(1 - p)) of each row's class from raw logits, the score a black-box
export's perturbation methods (RISE, occlusion, Score-CAM's masks) weight by. Checked against
scipy's log-softmax and log-expit, written independently of ours, on each kind of head; in log
space so that a saturated model (p = 1 - 1e-20) still has a finite, ordered log p (issue 20,
item 2). Model-free: a mutant costs milliseconds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_expit, log_softmax, logsumexp

from engine.methods.common import log_pair
from engine.model.heads import Head


def _softmax_pair(logits: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    logp = log_softmax(logits, axis=-1)
    rows = np.arange(len(classes))
    others = np.where(np.arange(logits.shape[1])[None, :] == classes[:, None], -np.inf, logp)
    return logp[rows, classes], logsumexp(others, axis=-1)


@pytest.mark.parametrize("activation", ["softmax", "linear"])
def test_a_softmax_or_logit_head_gives_the_class_log_probability_and_the_others_log_sum(activation):
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 3, (5, 4))
    classes = np.array([0, 3, 1, 2, 3])
    log_p, log_q = log_pair(Head(activation, 4), logits, classes)
    want_p, want_q = _softmax_pair(logits, classes)
    np.testing.assert_allclose(log_p, want_p, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_q, want_q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_p) + np.exp(log_q), 1.0, rtol=1e-12)  # p and 1 - p
    assert log_p.dtype == np.float64 and log_p.shape == (5,)


def test_each_row_takes_its_own_class_not_the_first_rows():
    logits = np.array([[5.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    log_p, _ = log_pair(Head("softmax", 3), logits, np.array([1, 1]))
    assert log_p[0] < -4 and log_p[1] > -0.02  # row 0's class 1 is unlikely, row 1's likely


def test_a_one_unit_sigmoid_head_gives_class_one_the_logit_and_class_zero_its_negative():
    z = np.array([[-30.0], [0.0], [2.5], [60.0]])
    for cls, sign in ((1, 1.0), (0, -1.0)):
        log_p, log_q = log_pair(Head("sigmoid", 1), z, np.full(4, cls))
        np.testing.assert_allclose(log_p, log_expit(sign * z[:, 0]), rtol=1e-12)
        np.testing.assert_allclose(log_q, log_expit(-sign * z[:, 0]), rtol=1e-12)


def test_a_multi_label_sigmoid_head_scores_each_class_on_its_own():
    logits = np.array([[3.0, -1.0, 0.5], [-2.0, 4.0, 1.0]])
    classes = np.array([2, 1])
    log_p, log_q = log_pair(Head("sigmoid", 3), logits, classes)
    chosen = logits[np.arange(2), classes]
    np.testing.assert_allclose(log_p, log_expit(chosen), rtol=1e-12)
    np.testing.assert_allclose(log_q, log_expit(-chosen), rtol=1e-12)


def test_a_saturated_model_keeps_finite_ordered_log_probabilities():
    """p rounds to 1 in float64 at these logits; log p must not: the RISE weights of a confident
    model (exp(log p_i - max log p)) need the order of the tiny differences."""
    logits = np.array([[60.0, 0.0], [50.0, 0.0], [40.0, 0.0]])
    log_p, log_q = log_pair(Head("softmax", 2), logits, np.zeros(3, int))
    assert np.all(np.isfinite(log_q)) and np.all(np.diff(log_q) > 0)  # log(1 - p): -60, -50, -40
    np.testing.assert_allclose(log_q, [-60.0, -50.0, -40.0], atol=1e-9)
    assert np.all(log_p <= 0) and np.all(log_p > -1e-15)  # p itself rounds to 1


@pytest.mark.parametrize(("activation", "units"), [("softmax", 4), ("linear", 4), ("sigmoid", 3), ("sigmoid", 1)])
def test_the_keras_path_computes_in_tensorflow_what_log_pair_does_in_numpy(activation, units):
    """class_log_probabilities / class_log_complement (the compiled row scores of a Keras model) against
    scipy on every head kind, saturated rows included (logits of +-40): p and 1 - p in log space."""
    from engine.methods.common import class_log_complement, class_log_probabilities
    from engine.model.backend import tf

    head = Head(activation, units)
    rng = np.random.default_rng(units)
    logits = rng.normal(0, 3, (5, units)).astype(np.float32)
    logits[0, 0], logits[1, -1] = 40.0, -40.0
    classes = np.array([0, units - 1, 0, 1 % head.class_count, head.class_count - 1], np.int32)
    log_p = tf.gather(class_log_probabilities(head, tf.constant(logits)), classes, batch_dims=1).numpy()
    log_q = class_log_complement(head, tf.constant(logits), tf.constant(classes)).numpy()
    scores = head.class_logits(logits.astype(np.float64))
    rows = np.arange(5)
    if head.binary or activation == "sigmoid":
        want_p, want_q = log_expit(scores[rows, classes]), log_expit(-scores[rows, classes])
    else:
        want_p, want_q = _softmax_pair(scores, classes)
    np.testing.assert_allclose(log_p, want_p, rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(log_q, want_q, rtol=2e-5, atol=1e-5)
