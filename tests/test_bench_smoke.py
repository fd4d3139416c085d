"""bench imports, and its seed-000 Grad-CAM computes the same map as ours (no timing asserts)."""

from __future__ import annotations

import numpy as np

from tests.models import image, session, tiny_cnn


def test_reference_gradcam_matches_ours():
    from bench.reference import linear_copy, make_gradcam_heatmap

    model = tiny_cnn(classes=3, seed=3)
    ours_session = session(model)
    picture = image(32, 32, seed=4)
    ours = ours_session.explain(picture, "gradcam", "conv2").raw
    reference = make_gradcam_heatmap(ours_session.batch([picture]), linear_copy(model), "conv2")
    assert ours.shape == reference.shape == (16, 16)
    assert np.ptp(ours) > 0
    # keras.io scales its map to a maximum of 1; float32 gradients agree to ~1e-6 of the peak.
    np.testing.assert_allclose(ours / ours.max(), reference, atol=1e-4)


def test_demo_times_cover_every_method(capsys):
    from bench.demo_times import main
    from engine.methods import METHODS

    assert main(["--repeats", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(METHODS)
    assert all(float(line.split()[1]) > 0 and line.endswith(" ms") for line in lines)
