"""Long computations run in chunks whose size follows from the memory available (issue 7):
Score-CAM over a 2048-channel layer and Integrated Gradients at 300 steps are split, never
score more inputs at once than the chunk size, and give what one big chunk gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine import memory
from engine.methods import common
from engine.methods.integrated import COMPLETENESS_TOLERANCE
from engine.methods.scorecam import masked_scores
from engine.model.backend import keras
from tests.models import image, session, tiny_cnn

MiB = 2**20


def wide_model():
    """16x16x3 -> conv (8x8x16) -> "wide": conv with 2048 channels at 4x4 -> GAP -> softmax(3)."""
    keras.utils.set_random_seed(7)
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="stem")(inputs)
    x = keras.layers.Conv2D(2048, 3, strides=2, padding="same", activation="relu", name="wide")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="wide")


@pytest.fixture(scope="module")
def wide():
    return session(wide_model())


@pytest.fixture(scope="module")
def small():
    return session(tiny_cnn((16, 16, 3), classes=3, seed=5))


class Recorder:
    """Wraps a cached compiled function and records the rows (batch size) of every call."""

    def __init__(self, context, key, function) -> None:
        self.rows: list[int] = []
        self.function = function
        context._cache[key] = self

    def __call__(self, x, *rest):
        self.rows.append(int(x.shape[0]))
        return self.function(x, *rest)


def _budget(monkeypatch, megabytes: float) -> None:
    monkeypatch.setenv(memory.ENV_BUDGET, str(megabytes))


# ---------------------------------------------------------------- the budget itself


def test_budget_is_a_tenth_of_meminfo_available_within_bounds(tmp_path, monkeypatch):
    monkeypatch.delenv(memory.ENV_BUDGET, raising=False)
    meminfo = tmp_path / "meminfo"

    def with_available(kib: int) -> int:
        meminfo.write_text(f"MemTotal:       99999999 kB\nMemFree:  1 kB\nMemAvailable:   {kib} kB\n")
        return memory.budget_bytes(str(meminfo))

    assert memory._meminfo_available(str(tmp_path / "absent")) is None  # unreadable: no error
    meminfo.write_text("MemTotal: 8 kB\n")  # an old kernel without MemAvailable
    assert memory._meminfo_available(str(meminfo)) is None
    assert with_available(2_000_000) == int(2_000_000 * 1024 * 0.1)
    assert with_available(100_000_000) == memory.MAX_BUDGET == 1024 * MiB
    assert with_available(10_000) == memory.MIN_BUDGET
    assert memory.available_bytes(str(meminfo)) == 10_000 * 1024


def test_budget_falls_back_to_sysconf_then_to_a_default(tmp_path, monkeypatch):
    monkeypatch.delenv(memory.ENV_BUDGET, raising=False)
    absent = str(tmp_path / "no-meminfo")
    pages = {"SC_AVPHYS_PAGES": 500_000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", lambda name: pages[name])
    assert memory.available_bytes(absent) == 500_000 * 4096
    assert memory.budget_bytes(absent) == int(500_000 * 4096 * 0.1)

    def unsupported(name):
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(memory.os, "sysconf", unsupported)
    assert memory.available_bytes(absent) is None
    assert memory.budget_bytes(absent) == memory.DEFAULT_BUDGET


def test_env_override_and_real_machine(monkeypatch):
    monkeypatch.delenv(memory.ENV_BUDGET, raising=False)
    available = memory.available_bytes()
    assert available is None or available > 0  # Linux: /proc/meminfo; elsewhere sysconf
    assert memory.MIN_BUDGET <= memory.budget_bytes() <= memory.MAX_BUDGET
    _budget(monkeypatch, 0.5)
    assert memory.budget_bytes() == MiB // 2
    _budget(monkeypatch, 3000)
    assert memory.budget_bytes() == 3000 * MiB  # the override is not capped: tests need it
    for nonsense in ("lots", "-5", "0", ""):
        monkeypatch.setenv(memory.ENV_BUDGET, nonsense)
        assert memory.MIN_BUDGET <= memory.budget_bytes() <= memory.MAX_BUDGET


def test_chunk_size_follows_the_budget(wide, monkeypatch):
    context, shape = wide.context, (16, 16, 3)
    per_row = 4 * (16 * 16 * 3 + 2 * 4 * 4 * 2048)  # the input and the 4x4x2048 map twice
    sizes = []
    for megabytes in (64, 8, 2, 0.5, 0.01):
        _budget(monkeypatch, megabytes)
        size = common.chunk_size(context, shape)
        assert size == common.chunk_size(context, shape, memory.budget_bytes())
        assert size == 1 or size * per_row <= memory.budget_bytes()
        sizes.append(size)
    assert sizes == [common.MAX_CHUNK, 31, 7, 1, 1]
    _budget(monkeypatch, 2)
    assert common.chunk_size(context, shape, backward=True) < common.chunk_size(context, shape)
    monkeypatch.setattr(memory, "budget_bytes", lambda *a: 4 * MiB)  # the default comes from engine.memory
    assert common.chunk_size(context, shape) == 4 * MiB // per_row


# ---------------------------------------------------------------- Score-CAM, 2048 channels


def _scorecam(sess, progress):
    recorder = Recorder(sess.context, ("scorecam-scores", 0), masked_scores(sess.context, 0))
    result = sess.explain(image(16, 16, seed=3), "scorecam", layer="wide", class_index=1,
                          progress=lambda done, total: progress.append((done, total)))
    del sess.context._cache[("scorecam-scores", 0)]
    return result, recorder.rows


def test_scorecam_2048_channels_is_chunked_and_equals_one_chunk(wide, monkeypatch):
    _budget(monkeypatch, 2)
    size = common.chunk_size(wide.context, (16, 16, 3))
    assert size == 7
    progress: list[tuple[int, int]] = []
    chunked, rows = _scorecam(wide, progress)
    assert sum(rows) == 2048 and max(rows) <= size  # never more masked inputs than a chunk
    assert len(rows) >= math.ceil(2048 / size)
    assert progress[0] == (0, 2048) and progress[-1] == (2048, 2048)
    assert len(progress) == len(rows) + 1
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    _budget(monkeypatch, 100_000)
    monkeypatch.setattr(common, "MAX_CHUNK", 4096)
    progress_one: list[tuple[int, int]] = []
    whole, rows_one = _scorecam(wide, progress_one)
    assert rows_one == [2048] and progress_one == [(0, 2048), (2048, 2048)]

    assert chunked.raw.shape == (4, 4) and chunked.raw.max() > 0.0 and not chunked.empty
    np.testing.assert_allclose(chunked.raw, whole.raw, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(chunked.heatmap, whole.heatmap, rtol=1e-4, atol=1e-5)
    assert chunked.class_index == whole.class_index == 1


def test_faster_scorecam_uses_the_same_bound(wide, monkeypatch):
    _budget(monkeypatch, 0.5)
    recorder = Recorder(wide.context, ("scorecam-scores", 0), masked_scores(wide.context, 0))
    wide.explain(image(16, 16, seed=4), "faster-scorecam", layer="wide", top_n=5)
    del wide.context._cache[("scorecam-scores", 0)]
    assert recorder.rows == [1] * 5


# ---------------------------------------------------------------- Integrated Gradients, 300 steps


def _integrated(sess, progress):
    key = ("input-gradients", 0, "plain")
    recorder = Recorder(sess.context, key, common.input_gradients(sess.context, 0))
    result = sess.explain(image(16, 16, seed=6), "integrated-gradients", steps=300,
                          progress=lambda done, total: progress.append((done, total)))
    del sess.context._cache[key]
    return result, recorder.rows


def test_integrated_gradients_300_steps_is_chunked_and_complete(small, monkeypatch):
    _budget(monkeypatch, 0.25)
    size = common.chunk_size(small.context, (16, 16, 3), backward=True)
    assert 1 < size < 301
    progress: list[tuple[int, int]] = []
    chunked, rows = _integrated(small, progress)
    assert rows[0] == 1  # the prediction on the image itself, then the path
    assert sum(rows[1:]) == 301 and max(rows) <= size and len(rows) - 1 >= math.ceil(301 / size)
    assert progress[0] == (0, 301) and progress[-1] == (301, 301) and len(progress) == len(rows)

    # completeness: the attributions sum to F(x) - F(black), within 5%
    black = small.logits(np.zeros((1, 16, 16, 3), np.float32))[0, chunked.class_index]
    expected = chunked.logit - black
    assert abs(expected) > 0.01
    assert chunked.raw.sum() == pytest.approx(expected, rel=COMPLETENESS_TOLERANCE)
    assert not any("integrated gradients" in note for note in chunked.notes)

    _budget(monkeypatch, 100_000)
    monkeypatch.setattr(common, "MAX_CHUNK", 4096)
    whole, rows_one = _integrated(small, [])
    assert rows_one == [1, 301]
    np.testing.assert_allclose(chunked.raw, whole.raw, rtol=1e-4, atol=1e-6)
    assert chunked.raw.sum() == pytest.approx(whole.raw.sum(), rel=1e-4)
