"""The model-free helpers every method runs through (engine/methods/common.py, base.py): the
predicted class for a -1 request, per-image sums of rows, the memory-bounded chunk size, the
chunk loop's progress, slowdown and cancel. A stand-in context answers for the model, so a
mutant costs milliseconds; the methods themselves are checked on models elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import Cancelled
from engine.methods import common
from engine.methods.base import Job
from engine.model.heads import Head


class _Context:
    """What chunk_size reads: a cache and the largest activation per sample."""

    def __init__(self, largest: int, max_chunk: int | None = None) -> None:
        self.largest = largest
        if max_chunk is not None:
            self.max_chunk = max_chunk

    def cached(self, key, build):
        assert key == "largest-activation"
        return self.largest


def _job(**kwargs) -> Job:
    return Job(np.zeros((1, 4, 4, 3), np.float32), np.array([-1], np.int32), None, **kwargs)


def test_a_minus_one_request_becomes_each_images_top_class_and_others_stay():
    logits = np.array([[0.1, 2.0, 0.3], [5.0, 0.0, 1.0], [0.0, 0.0, 9.0]])
    resolved = common.resolve(Head("softmax", 3), logits, np.array([-1, 2, -1]))
    np.testing.assert_array_equal(resolved, [1, 2, 2])
    assert resolved.dtype == np.int32


def test_a_one_unit_head_resolves_to_class_one_for_a_positive_logit_and_zero_for_a_negative():
    resolved = common.resolve(Head("sigmoid", 1), np.array([[2.0], [-3.0]]), np.array([-1, -1]))
    np.testing.assert_array_equal(resolved, [1, 0])


def test_accumulate_adds_every_row_to_its_image_repeats_included():
    target = np.zeros((3, 2))
    common.accumulate(target, np.array([2, 0, 2, 2]), np.array([[1.0, 1.0], [5.0, 0.0], [2.0, 0.0], [0.5, 3.0]]))
    np.testing.assert_allclose(target, [[5.0, 0.0], [0.0, 0.0], [3.5, 4.0]])


def test_the_chunk_holds_the_input_and_twice_the_largest_activation_per_row_within_the_budget():
    inputs = 8 * 8 * 3
    per_row = 4 * (inputs + 2 * 1000)  # float32 input + the largest layer's input and output
    assert common.chunk_size(_Context(1000), (8, 8, 3), budget=10 * per_row) == 10
    assert common.chunk_size(_Context(1000), (8, 8, 3), budget=10 * per_row - 1) == 9
    backward = 4 * (inputs + 4 * 1000)  # gradients double the activations
    assert common.chunk_size(_Context(1000), (8, 8, 3), budget=10 * backward, backward=True) == 10


def test_an_unknown_largest_activation_counts_as_32_inputs():
    inputs = 10 * 10 * 1
    per_row = 4 * (inputs + 2 * 32 * inputs)
    assert common.chunk_size(_Context(0), (10, 10, 1), budget=7 * per_row) == 7


def test_the_chunk_is_at_least_one_and_at_most_the_cap_or_the_exports_own():
    assert common.chunk_size(_Context(10**9), (8, 8, 3), budget=1) == 1
    assert common.chunk_size(_Context(1), (1, 1, 1), budget=10**12) == common.MAX_CHUNK
    assert common.chunk_size(_Context(1, max_chunk=5), (1, 1, 1), budget=10**12) == 5


def test_the_default_budget_is_the_engines(monkeypatch):
    monkeypatch.setattr("engine.memory.budget_bytes", lambda: 4 * (3 + 2 * 10) * 3)
    assert common.chunk_size(_Context(10), (1, 1, 3)) == 3


def test_chunks_cover_every_row_once_and_report_progress_after_each():
    calls, reports = [], []
    job = _job(progress=lambda done, total: reports.append((done, total)))
    common.run_chunks(job, 10, 4, lambda start, stop: calls.append((start, stop)))
    assert calls == [(0, 4), (4, 8), (8, 10)]
    assert reports == [(0, 10), (4, 10), (8, 10), (10, 10)]


def test_a_slow_chunk_halves_the_next_ones_down_to_the_smallest(monkeypatch):
    clock = iter(np.arange(0.0, 100.0, common.CHUNK_SECONDS + 0.01))  # every chunk just over the limit
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    calls = []
    common.run_chunks(_job(), 40, 16, lambda start, stop: calls.append(stop - start), smallest=3)
    assert calls == [16, 8, 4, 3, 3, 3, 3]


def test_a_chunk_at_the_time_limit_keeps_the_size(monkeypatch):
    ticks = iter([0.0, common.CHUNK_SECONDS] * 10)  # exactly the limit: not slower than it
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(ticks))
    calls = []
    common.run_chunks(_job(), 12, 4, lambda start, stop: calls.append(stop - start))
    assert calls == [4, 4, 4]


def test_a_cancel_stops_before_the_next_chunk_and_progress_is_not_reported_then():
    calls, reports = [], []
    job = _job(progress=lambda done, total: reports.append(done), cancel=lambda: len(calls) >= 2)
    with pytest.raises(Cancelled):
        common.run_chunks(job, 10, 3, lambda start, stop: calls.append(start))
    assert calls == [0, 3] and reports == [0, 3]


def test_a_cam_job_without_a_layer_is_a_programming_error():
    with pytest.raises(ValueError, match="needs a target layer"):
        _ = _job().cam_layer
    assert Job(np.zeros((1, 2, 2, 1), np.float32), np.array([0]), "conv").cam_layer == "conv"


class _BlackBox:
    """A black-box export's context: its heads and a logits function, no Keras model."""

    black_box = True

    def __init__(self) -> None:
        self.heads = (Head("softmax", 3), Head("sigmoid", 1))
        self.seen: list[np.ndarray] = []

    def logits(self, x_rows: np.ndarray) -> np.ndarray:
        self.seen.append(x_rows)
        return x_rows.reshape(len(x_rows), -1)[:, :3] * np.array([1.0, 2.0, 3.0])


def test_a_black_box_export_scores_rows_with_its_own_logits_and_the_outputs_head():
    context = _BlackBox()
    rows = np.arange(12, dtype=np.float32).reshape(2, 2, 3, 1) / 10
    scores = common.row_scores(context, 0)  # type: ignore[arg-type]
    log_p, log_q = scores(rows, np.array([2, 0]))
    want = common.log_pair(context.heads[0], context.logits(rows), np.array([2, 0]))
    np.testing.assert_allclose(log_p, want[0])
    np.testing.assert_allclose(log_q, want[1])
    assert context.seen[0] is rows  # the rows themselves went to the export


def test_a_black_box_exports_clean_logits_classes_and_probabilities():
    context = _BlackBox()
    x = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3) / 24
    assert common.forward_logits(context, 0)(x).tolist() == context.logits(x).tolist()  # type: ignore[arg-type]
    job = Job(x, np.array([-1, 0], np.int32), None)
    logits, chosen, probabilities = common.clean_classes(context, job)  # type: ignore[arg-type]
    np.testing.assert_array_equal(chosen, [2, 0])
    want = context.heads[0].probabilities(logits)[[0, 1], [2, 0]]
    np.testing.assert_allclose(probabilities, want, rtol=1e-6)
    assert probabilities.dtype == np.float32


def test_slow_chunks_shrink_down_to_single_rows_by_default(monkeypatch):
    clock = iter(np.arange(0.0, 100.0, common.CHUNK_SECONDS + 0.01))
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    calls = []
    common.run_chunks(_job(), 10, 4, lambda start, stop: calls.append(stop - start))
    assert calls == [4, 2, 1, 1, 1, 1]
