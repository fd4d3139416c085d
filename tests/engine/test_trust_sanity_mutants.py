"""The cascading randomisation test (Adebayo et al. 2018) driven through a fake session: the
cascade goes from the output layer down, each stage keeps the class explained on the
original model, and the rule reads the stage where the top half is randomised.

The model copy and the re-initialisation are replaced by a record of which layers were
randomised (test_trust_sanity.py checks them on a tiny Keras model), so these tests run
without TensorFlow for every mutant of engine.trust.sanity.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.errors import Cancelled, MethodError
from engine.trust import sanity
from engine.trust.sanity import (
    FAIL_CORRELATION,
    INIT_SEED,
    SanityResult,
    SanityStage,
    _judge,
    half_stage,
)

SIDE = 12


class _Model:
    def __init__(self, names):
        self.layers = [SimpleNamespace(name=n) for n in names]
        self.randomised: list[tuple[str, int]] = []


class _Worker:
    def __init__(self, name, needs_layer):
        self.name, self.needs_layer = name, needs_layer

    def params(self, given):
        if given.get("bad"):
            raise MethodError(f"{self.name}: bad parameter")
        return given


def _heatmap(method: str, randomised: int, class_index: int) -> np.ndarray:
    """'stable' ignores the weights (an edge detector); 'learned' changes with every randomised layer."""
    rng = np.random.default_rng(0 if method == "stable" else 1 + randomised + 10 * class_index)
    return rng.random((6, 6)).astype(np.float32)


class _Session:
    """No `black_box` attribute: a session of an ordinary model need not declare one."""

    def __init__(self, model, calls):
        self.model, self.calls = model, calls
        self.info = SimpleNamespace(name="fake.keras")
        self.layers_checked: list = []

    def method(self, name):
        if name not in ("stable", "learned"):
            raise MethodError(f"unknown method '{name}'")
        return _Worker(name, needs_layer=name == "learned")

    def layer(self, layer):
        self.layers_checked.append(layer)
        if layer == "nope":
            raise MethodError("no layer 'nope'")

    def class_index(self, wanted):
        if wanted is None:
            raise MethodError("unknown class 'None'")  # as engine.session.Session does
        return {"scratch": 2}.get(wanted, wanted)

    def batch(self, images):
        return np.zeros((len(images), SIDE, SIDE, 3), np.float32)

    def explain(self, image, method, layer, class_index, **params):
        assert image == "image", "every stage explains the image it was given"
        chosen = 1 if class_index is None else class_index  # the fake model predicts class 1
        done = len(getattr(self.model, "randomised", ()))
        self.calls.append((method, layer, class_index, params, done))
        return SimpleNamespace(class_index=chosen, heatmap=_heatmap(method, done, chosen))


@pytest.fixture()
def cascade(monkeypatch):
    calls: list = []
    copies: list[_Model] = []

    def copy_model(model):
        copies.append(_Model([layer.name for layer in model.layers]))
        return copies[-1]

    def reinitialise(layer, seed=INIT_SEED):
        copies[-1].randomised.append((layer.name, seed))

    monkeypatch.setattr(sanity, "copy_model", copy_model)
    monkeypatch.setattr(sanity, "weighted_layers", lambda model: list(model.layers))
    monkeypatch.setattr(sanity, "reinitialise", reinitialise)
    def twin_session(session, model):
        assert isinstance(session, _Session) and isinstance(model, _Model)
        return _Session(model, calls)

    monkeypatch.setattr(sanity, "_twin_session", twin_session)
    session = _Session(_Model(["conv1", "conv2", "conv3", "predictions"]), calls)
    return SimpleNamespace(session=session, calls=calls, copies=copies)


def test_the_cascade_randomises_from_the_output_down_with_a_seed_per_layer(cascade):
    progress: list = []
    results = sanity.sanity_check(cascade.session, "image", ["learned", "stable"], layer="conv3",
                                  progress=lambda d, t: progress.append((d, t)), seed=7)
    assert cascade.copies[0].randomised == [("predictions", 107), ("conv3", 207), ("conv2", 307), ("conv1", 407)]
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.method for r in results] == ["learned", "stable"]
    for result in results:
        assert [s.layer for s in result.stages] == ["", "predictions", "conv3", "conv2", "conv1"]
        assert result.stages[0].rank_correlation == 1.0 and result.stages[0].ssim == 1.0
        assert all(s.heatmap.shape == (SIDE, SIDE) for s in result.stages)  # at the model input's size
    learned, stable = results
    assert stable.stages[2].rank_correlation == pytest.approx(1.0) and not stable.passed
    assert stable.stages[2].ssim == pytest.approx(1.0)
    assert learned.passed and abs(learned.stages[2].rank_correlation) < FAIL_CORRELATION
    base = learned.stages[0].heatmap
    assert learned.stages[3].rank_correlation == pytest.approx(sanity.rank_correlation(base, learned.stages[3].heatmap))
    assert learned.stages[3].ssim == pytest.approx(sanity.map_ssim(base, learned.stages[3].heatmap))
    assert cascade.session.model.layers[0].name == "conv1"  # the loaded model is not the one randomised


def test_the_default_seed_is_adebayo_year(cascade):
    sanity.sanity_check(cascade.session, "image", ["stable"])
    assert [seed for _, seed in cascade.copies[0].randomised] == [INIT_SEED + 100 * k for k in (1, 2, 3, 4)]
    assert INIT_SEED == 2018


def test_every_stage_explains_the_class_of_the_original_map_with_the_same_settings(cascade):
    sanity.sanity_check(cascade.session, "image", ["learned"], layer="conv3",
                        params={"learned": {"samples": 3}, "other": {"x": 1}})
    assert [c[:4] for c in cascade.calls] == [("learned", "conv3", None, {"samples": 3})] + \
        [("learned", "conv3", 1, {"samples": 3})] * 4  # class 1 was predicted on the original
    assert [c[4] for c in cascade.calls] == [0, 1, 2, 3, 4]


def test_a_class_asked_by_name_is_explained_at_every_stage(cascade):
    results = sanity.sanity_check(cascade.session, "image", ["learned", "stable"], class_index="scratch")
    assert {c[2] for c in cascade.calls} == {2}
    assert [r.class_index for r in results] == [2, 2]
    sanity.sanity_check(cascade.session, "image", ["stable"], class_index=0)
    assert cascade.calls[-1][2] == 0 and cascade.calls[-5][2] == 0


def test_bad_methods_layers_or_parameters_fail_before_any_copy(cascade):
    for methods, layer, params in ((["learned", "nope"], None, None), (["learned"], "nope", None),
                                   (["stable"], None, {"stable": {"bad": True}})):
        with pytest.raises(MethodError):
            sanity.sanity_check(cascade.session, "image", methods, layer=layer, params=params)
    assert cascade.copies == [] and cascade.calls == []
    cascade.session.layers_checked.clear()
    sanity.sanity_check(cascade.session, "image", ["stable"], layer="nope")  # no layer needed: not checked
    assert cascade.session.layers_checked == []


def test_a_black_box_is_refused(cascade):
    cascade.session.black_box = True
    with pytest.raises(MethodError, match=r"^fake.keras is a deployed export, opened as a black box: the sanity "
                                          r"check \(it randomises the model's weights\) cannot be used"):
        sanity.sanity_check(cascade.session, "image")
    assert cascade.copies == []


def test_cancel_stops_before_randomising(cascade):
    with pytest.raises(Cancelled):
        sanity.sanity_check(cascade.session, "image", ["stable"], cancel=lambda: True)
    assert cascade.copies[0].randomised == []
    sanity.sanity_check(cascade.session, "image", ["stable"], cancel=lambda: False)
    assert len(cascade.copies[1].randomised) == 4


def _stages(*correlations: float) -> tuple[SanityStage, ...]:
    m = np.zeros((2, 2), np.float32)
    return (SanityStage("", m, 1.0, 1.0),) + tuple(SanityStage(f"l{i}", m, c, 0.25) for i, c in enumerate(correlations))


def test_the_rule_reads_the_top_half_stage_strictly_below_the_threshold():
    assert half_stage(0) == 0 and half_stage(1) == 1 and half_stage(2) == 1 and half_stage(5) == 3
    assert _judge("m", 0, _stages(0.9, 0.9, 0.1, 0.9, 0.9)).passed  # stage 3 of 5 decides
    assert not _judge("m", 0, _stages(0.1, 0.1, FAIL_CORRELATION, 0.1, 0.1)).passed
    assert _judge("m", 0, _stages(0.9, 0.9, FAIL_CORRELATION - 1e-9, 0.9, 0.9)).passed
    judged = _judge("gradcam", 3, _stages(0.9, 0.1, 0.2, 0.05))
    assert judged.reason == ("rank correlation with the original map 0.10 after randomising the top 2 of 4 layers "
                             "with weights (down to 'l1'), below 0.5; 0.05 with all layers randomised")
    assert judged.half == 2 and judged.method == "gradcam" and judged.class_index == 3
    failing = _judge("gradcam", 3, _stages(0.9, 0.8, 0.7))
    assert "0.80 after randomising the top 2 of 3" in failing.reason and "not below 0.5; 0.70" in failing.reason


def test_a_model_without_weights_fails_with_the_reason():
    judged = _judge("gradcam", 4, _stages())
    assert judged.passed is False and judged.method == "gradcam" and judged.class_index == 4
    assert judged.reason == "the model has no layer with weights to randomise"
    assert judged.half == 0


def test_json_form_holds_the_verdict_rule_and_stages_without_maps():
    result = SanityResult("gradcam", 1, _stages(0.3), True, "why")
    assert result.to_json() == {
        "method": "gradcam", "class_index": 1, "passed": True, "verdict": "pass", "reason": "why",
        "rule": "fails when the rank correlation is still >= 0.5 after randomising the top half of the layers "
                "with weights",
        "stages": [{"randomised_down_to": None, "rank_correlation": 1.0, "ssim": 1.0},
                   {"randomised_down_to": "l0", "rank_correlation": 0.3, "ssim": 0.25}]}
    assert SanityResult("gradcam", 1, _stages(0.9), False, "why").to_json()["verdict"] == "fail"


def test_rank_correlation_is_zero_for_constant_maps_and_ties_are_averaged():
    ramp = np.arange(16, dtype=np.float64).reshape(4, 4)
    assert sanity.rank_correlation(np.ones((4, 4)), ramp) == 0.0
    assert sanity.rank_correlation(ramp, np.ones((4, 4))) == 0.0
    steps = np.repeat([0.0, 1.0], 8)
    averaged = np.repeat([4.5, 12.5], 8)  # the ranks of two ties of eight, averaged (Spearman's definition)
    expected = np.corrcoef(averaged, np.arange(1, 17))[0, 1]
    assert sanity.rank_correlation(steps, ramp) == pytest.approx(expected)
    assert sanity.rank_correlation(np.arange(4), np.array([1, 2, 3, 4]).astype(np.uint8)) == pytest.approx(1.0)


def test_a_map_with_nan_does_not_rank():
    ramp = np.arange(16, dtype=np.float64)
    broken = ramp.copy()
    broken[3] = np.nan
    assert sanity.rank_correlation(broken, ramp) == 0.0 and sanity.rank_correlation(ramp, broken) == 0.0


def test_ssim_measures_on_the_unit_range():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(3)
    a, b = rng.random((16, 16)) * 0.1, rng.random((16, 16)) * 0.1  # dim maps: the range must be 1, not 0.1
    assert sanity.map_ssim(a, b) == pytest.approx(structural_similarity(a, b, data_range=1.0))
    assert sanity.map_ssim(a.astype(np.float32), b) == pytest.approx(structural_similarity(a, b, data_range=1.0))
