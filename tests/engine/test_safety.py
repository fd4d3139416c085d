"""No network, ever: loading, predicting and explaining run with every socket connection
failing; safe mode holds for nested executable layers."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from engine.errors import ModelLoadError, UnsafeModelError
from engine.model.backend import keras
from engine.session import Session
from tests.models import image, keras2_h5, lambda_model, nested_functional, save_model


@pytest.fixture
def offline(monkeypatch):
    """Every attempt to open a connection fails the test."""
    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted during a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize("kind", [".keras", ".h5", "keras2.h5"])
def test_load_predict_explain_offline(tmp_path, offline, kind):
    if kind == "keras2.h5":
        path = keras2_h5(tmp_path / "old.h5")
    else:
        path = save_model(nested_functional(), tmp_path, "model" + kind)
    sess = Session.open(path)
    images = [image(40, 30, seed=s) for s in range(2)]
    predictions = sess.predict(images)
    assert len(predictions) == 2
    results = sess.explain_batch(images, "gradcam")
    assert all(np.isfinite(r.heatmap).all() for r in results)
    assert offline == []


def test_every_method_and_feature_view_offline(tmp_path, offline):
    from engine.features.activations import activations
    from engine.features.patterns import PatternSettings, filter_patterns
    from engine.methods import METHODS

    sess = Session.open(save_model(nested_functional(), tmp_path, "model.keras"))
    picture = image(40, 30, seed=3)
    for name in METHODS:
        assert np.isfinite(sess.explain(picture, name).heatmap).all()
    layer = sess.info.default_layer
    assert activations(sess, picture, layer).ndim == 3
    patterns = filter_patterns(sess, layer, [0, 1], PatternSettings(size=32, steps=3))
    assert patterns.shape == (2, 32, 32, 3)
    assert offline == []


def test_remote_model_refused_offline(offline):
    for url in ("http://example.com/m.keras", "gs://bucket/m.h5", "hf://org/model"):
        with pytest.raises(ModelLoadError, match="remote"):
            Session.open(url)
    assert offline == []


def test_lambda_nested_in_a_sub_model_is_refused(tmp_path, offline):
    inner = lambda_model()
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, inner(inputs))
    path = save_model(model, tmp_path, "wrapped.keras")
    with pytest.raises(UnsafeModelError, match="double_it"):
        Session.open(path)
    assert Session.open(path, trust=True).info.layers
