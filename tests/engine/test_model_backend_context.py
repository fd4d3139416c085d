"""The lazy TensorFlow import (engine.model.backend) and the per-model cache of probes
(engine.model.context), in this process so that a mutation run sees them (the start-up
tests check the lazy import in a fresh interpreter, which a mutated module never reaches).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest

from engine.model import backend
from engine.model.context import ModelContext
from engine.model.probe import output_heads
from tests.models import tiny_cnn


def test_native_stderr_is_hidden_inside_and_restored_after(capfd):
    # guards: file descriptor 2 not redirected (CUDA probing lines on the terminal) or not
    # restored (every later error message lost)
    with backend.quiet_native_stderr():
        os.write(2, b"probing CUDA\n")
    os.write(2, b"an error the user must see\n")
    assert capfd.readouterr().err == "an error the user must see\n"


def test_without_a_real_stderr_the_quiet_block_still_runs(monkeypatch):
    # guards: a GUI started without a console (no file descriptor 2) failing to load TensorFlow
    def no_descriptor(_fd):
        raise OSError("bad file descriptor")

    monkeypatch.setattr(os, "dup", no_descriptor)
    ran = []
    with backend.quiet_native_stderr():
        ran.append(True)
    assert ran == [True]


def test_load_imports_once_quietly_and_the_stand_ins_forward():
    import keras
    import tensorflow

    assert backend.load() == (tensorflow, keras) and backend.load()[0] is tensorflow
    assert backend.loaded()
    assert tensorflow.get_logger().level == logging.ERROR  # no retracing advice on the terminal
    assert backend.tf.constant is tensorflow.constant and backend.keras.layers is keras.layers
    assert repr(backend.tf) == "<deferred tf>" and repr(backend.keras) == "<deferred keras>"


@pytest.mark.parametrize("name, attribute", [("keras", "Model"), ("tf", "constant")])
def test_a_stand_in_imports_on_first_use(monkeypatch, name, attribute):
    # guards: the stand-in reading the wrong module of the pair (tf for keras), or its name looked
    # up under another key
    import importlib

    monkeypatch.setattr(backend, "_modules", {})
    assert not backend.loaded()
    real = importlib.import_module({"tf": "tensorflow", "keras": "keras"}[name])
    assert getattr(getattr(backend, name), attribute) is getattr(real, attribute) and backend.loaded()


@pytest.fixture(scope="module")
def context() -> ModelContext:
    model = tiny_cnn((20, 28, 1), classes=2)
    return ModelContext(model, output_heads(model))


def test_the_context_knows_its_input_and_builds_each_object_once(context):
    assert context.input_shape == (20, 28, 1)
    spec = context.input_spec()
    assert tuple(spec.shape) == (None, 20, 28, 1) and spec.dtype.name == "float32"
    built: list = []
    assert context.cached("k", lambda: built.append(1) or "v") == "v"
    assert context.cached("k", lambda: built.append(2) or "w") == "v" and built == [1]


def test_probes_are_cached_per_targets_output_and_variant(context):
    # guards: a variant (guided backprop's substituted ReLUs) sharing the plain probe's cache entry
    plain = context.probe(("conv2",))
    assert context.probe(("conv2",)) is plain
    assert context.probe(("conv1",)) is not plain
    assert context.probe(("conv2",), variant="guided") is not plain
    x = np.random.default_rng(0).random((1, 20, 28, 1)).astype(np.float32)
    features, logits = plain(x)
    assert tuple(features.shape) == (1, 10, 14, 16) and tuple(logits.shape) == (1, 2)
    doubled = context.probe(("conv1",), variant="doubled-relu",
                            substitute=lambda layer: (lambda t: 2 * layer(t)) if layer.name == "conv1" else None)
    np.testing.assert_allclose(doubled(x)[0], 2 * context.probe(("conv1",))(x)[0], rtol=1e-6)
