"""bench/papers.py, the bench's references for the issue-14 methods, computes the same maps as
the engine on a tiny model (no timing asserts): the speed-ups in the README compare equals."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models import image, session, tiny_cnn


@pytest.fixture(scope="module")
def setup():
    from bench.reference import linear_copy

    model = tiny_cnn(classes=3, seed=3)
    ours = session(model)
    picture = image(32, 32, seed=4)
    return ours, picture, linear_copy(model), ours.batch([picture])


def _corr(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.mark.parametrize("method, call", [
    ("hirescam", lambda p, m, x: p.hirescam(m, x, "conv2")),
    ("gradcam-elementwise", lambda p, m, x: p.gradcam_elementwise(m, x, "conv2")),
    ("xgradcam", lambda p, m, x: p.xgradcam(m, x, "conv2")),
    ("eigencam", lambda p, m, x: p.eigencam(m, x, "conv2", agree_with_mean=True)),
    ("ablationcam", lambda p, m, x: p.ablation_cam(m, x, "conv2")),
    ("occlusion", lambda p, m, x: p.occlusion(m, x, patch=8, stride=4)),
    ("rise", lambda p, m, x: p.rise(m, x, n_masks=100, s=4)),
    ("gradient-input", lambda p, m, x: p.gradient_input(m, x)),
])
def test_paper_implementations_match_ours(setup, method, call):
    from bench import papers

    ours_session, picture, reference_model, x = setup
    params = {"occlusion": {"patch": 8, "stride": 4}, "rise": {"masks": 100, "grid": 4}}.get(method, {})
    ours = ours_session.explain(picture, method, "conv2", **params).raw
    theirs = call(papers, reference_model, x)
    if method == "gradient-input":
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * np.abs(theirs).max())
        return
    ours = np.squeeze(ours)
    assert ours.shape == np.shape(theirs)
    assert _corr(ours, theirs) >= 0.999


def test_paper_ablation_cam_follows_branches_after_the_target():
    """The tail after the target is a graph, not a chain: a residual block branches right after
    "stem_act" (the seeds' layer-by-layer chain cannot run it)."""
    from bench import papers
    from bench.reference import linear_copy
    from tests.models import residual_bn_separable_model

    model = residual_bn_separable_model(seed=5)
    ours_session = session(model)
    picture = image(32, 32, seed=6)
    ours = np.squeeze(ours_session.explain(picture, "ablationcam", "stem_act").raw)
    theirs = papers.ablation_cam(linear_copy(model), ours_session.batch([picture]), "stem_act")
    assert _corr(ours, theirs) >= 0.999
