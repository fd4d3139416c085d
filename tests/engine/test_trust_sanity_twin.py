"""The sanity check's randomised twin session: the copy's weights, the original's settings.
A tiny Keras model (TensorFlow); only engine.trust.sanity._twin_session's mutants run it."""

from __future__ import annotations

import numpy as np


def test_the_twin_explains_with_the_copys_weights_and_the_originals_settings(tmp_path):
    import cv2

    from engine import Session
    from engine.model.sidecar import Sidecar
    from engine.trust.sanity import _twin_session, copy_model, reinitialise
    from tests.models import tiny_cnn

    session = Session(tiny_cnn(), "tiny.keras", Sidecar(), "symmetric")
    path = tmp_path / "x.png"
    cv2.imwrite(str(path), (np.random.default_rng(2).random((32, 32, 3)) * 255).astype(np.uint8))
    image = session.load_image(path)
    copy = copy_model(session.model)
    twin = _twin_session(session, copy)
    assert twin.model is copy and twin.info is session.info
    assert np.array_equal(twin.batch([image]), session.batch([image]))  # the same preprocessing
    same = twin.explain(image, "gradcam", class_index=1).heatmap
    assert np.allclose(same, session.explain(image, "gradcam", class_index=1).heatmap, atol=1e-6)
    reinitialise(copy.get_layer("conv2"))
    changed = _twin_session(session, copy).explain(image, "gradcam", class_index=1).heatmap  # one twin per stage
    assert not np.allclose(changed, same, atol=1e-3)
    assert np.allclose(session.explain(image, "gradcam", class_index=1).heatmap, same, atol=1e-6)
