"""Deletion / insertion curves on hand-made predictors with known answers, and on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.trust.faithfulness import (
    auc,
    blurred,
    curve_probabilities,
    pixel_ranks,
    random_ranks,
    step_counts,
    step_fractions,
)

SIZE = 16
LINE = (slice(8, 9), slice(2, 14))  # a one-pixel-wide line of 12 pixels


def _line_image() -> np.ndarray:
    x = np.zeros((1, SIZE, SIZE, 1), np.float32)
    x[0][LINE] = 1.0
    return x


def _line_predictor(calls: list[int]):
    """Class 1 probability = share of the line's pixels still at full brightness (blur dims them)."""
    def predict(batch: np.ndarray) -> np.ndarray:
        calls.append(len(batch))
        p = (batch[:, LINE[0], LINE[1], 0] > 0.99).mean(axis=(1, 2))
        return np.stack([1 - p, p], axis=1)
    return predict


def test_auc_is_the_trapezoidal_rule():
    assert auc(np.array([0.0, 0.25, 1.0]), np.array([1.0, 0.5, 0.0])) == pytest.approx(0.375)
    assert auc(np.linspace(0, 1, 11), np.ones(11)) == pytest.approx(1.0)


def test_steps_are_quadratic_and_end_at_every_pixel():
    assert step_fractions(4).tolist() == [0.0, 0.0625, 0.25, 0.5625, 1.0]
    assert step_counts(100, 4).tolist() == [0, 6, 25, 56, 100]


def test_ranks_take_the_largest_value_first_and_break_ties_without_bias():
    values = np.array([[0.1, 0.9], [0.5, 0.9]])
    ranks = pixel_ranks(values)
    assert sorted(ranks.tolist()) == [0, 1, 2, 3]
    assert set(ranks[[1, 3]].tolist()) == {0, 1} and ranks[2] == 2 and ranks[0] == 3
    flat = pixel_ranks(np.zeros((32, 32)))
    assert np.mean(flat[:16]) > 32  # a flat map is not taken top-left first
    assert sorted(random_ranks(50, 3).tolist()) == list(range(50))
    assert np.array_equal(random_ranks(50, 3), random_ranks(50, 3))


def test_blur_keeps_shape_and_mean():
    x = np.random.default_rng(0).random((2, 20, 20, 3)).astype(np.float32)
    b = blurred(x, 2.0)
    assert b.shape == x.shape and abs(b.mean() - x.mean()) < 0.02 and b.std() < x.std()
    assert blurred(np.ones((1, 8, 8, 1), np.float32)).shape == (1, 8, 8, 1)


def test_perfect_map_curves_match_the_formula_and_beat_the_controls():
    x, steps, calls = _line_image(), 10, []
    perfect = np.zeros((SIZE, SIZE), np.float32)
    perfect[LINE] = 1.0
    result = curve_probabilities(_line_predictor(calls), x, [perfect], [1], steps=steps, seeds=3,
                                 edge_maps=[1.0 - perfect], chunk=7)[0]
    counts, line = step_counts(SIZE * SIZE, steps), 12
    expected_deletion = 1.0 - np.minimum(counts, line) / line  # the line goes first
    assert np.allclose(result.map.deletion, expected_deletion)
    assert np.allclose(result.map.insertion, np.minimum(counts, line) / line)
    assert np.allclose(result.fractions, counts / (SIZE * SIZE)) and np.allclose(result.fractions, step_fractions(steps), atol=0.01)
    assert result.deletion_auc == pytest.approx(auc(result.fractions, expected_deletion))
    # the inverted "edge" map removes the line last: its deletion curve stays at 1 until the end
    assert np.allclose(result.edges.deletion[:-1], [1.0 if c <= SIZE * SIZE - line else 0 for c in counts[:-1]])
    assert result.faithful
    rows = 2 + 5 * 2 * (steps - 1)  # original + blurred, then 5 orders x 2 curves x interior points
    assert sum(calls) == rows and max(calls) == 7 and len(calls) == -(-rows // 7)
    json = result.to_json()
    assert set(json["curves"]) == {"fractions", "map", "random", "edges"} and json["faithful"] is True


def test_inverted_map_is_not_faithful_and_random_is_in_between():
    x = _line_image()
    wrong = np.ones((SIZE, SIZE), np.float32)
    wrong[LINE] = 0.0
    result = curve_probabilities(_line_predictor([]), x, [wrong], [1], steps=12, seeds=4)[0]
    aucs = result.aucs()
    assert aucs["deletion_auc"] > aucs["random_deletion_auc"]
    assert aucs["insertion_auc"] < aucs["random_insertion_auc"]
    assert aucs["edges_deletion_auc"] is None and not result.faithful


def test_bad_settings_are_refused():
    with pytest.raises(MethodError):
        curve_probabilities(_line_predictor([]), _line_image(), [np.zeros((SIZE, SIZE))], [1], steps=0)


def test_session_faithfulness_on_a_tiny_model(tmp_path):
    import cv2

    from engine import Session
    from engine.model.sidecar import Sidecar
    from engine.trust.faithfulness import faithfulness
    from tests.models import tiny_cnn

    session = Session(tiny_cnn(), "tiny.keras", Sidecar())
    rng = np.random.default_rng(1)
    images = []
    for i in range(2):
        path = tmp_path / f"tiny_{i}.png"
        cv2.imwrite(str(path), (rng.random((40, 40, 3)) * 255).astype(np.uint8))
        images.append(session.load_image(path))
    explained = session.explain_batch(images, "gradcam")
    results = faithfulness(session, images, [e.heatmap for e in explained], [e.class_index for e in explained],
                           steps=5, seeds=2)
    for found, e in zip(results, explained, strict=True):
        assert found.map.deletion[0] == pytest.approx(e.probability, abs=1e-5)
        assert found.map.insertion[-1] == pytest.approx(e.probability, abs=1e-5)
        assert found.map.deletion[-1] == pytest.approx(found.random.insertion[0])
        assert found.edges is not None and len(found.fractions) == 6


def test_large_images_are_split_to_the_memory_budget(monkeypatch):
    from types import SimpleNamespace

    from engine.trust.faithfulness import images_per_call

    fixed = SimpleNamespace(info=SimpleNamespace(input_shape=(100, 100, 3)))
    agnostic = SimpleNamespace(info=SimpleNamespace(input_shape=(None, None, 3)))
    monkeypatch.setenv("CONVSCOPE_MEMORY_BUDGET_MB", "4")
    per_image = 100 * 100 * (2 * 4 * 3 + 4 * 5)  # inputs and blurred copies, and 5 pixel orders
    assert images_per_call(fixed, 64, 5) == (4 * 2**20 // 4) // per_image
    assert images_per_call(agnostic, 64, 5, 2000 * 2000) == 1
    assert images_per_call(fixed, 2, 5) == 2


def _constant_predictor(batch: np.ndarray) -> np.ndarray:
    """A model that ignores its input: class 1 at p = 0.97 whatever the pixels."""
    return np.tile([0.03, 0.97], (len(batch), 1))


def test_curves_that_cannot_move_are_inconclusive_not_faithful():
    from engine.trust.faithfulness import INCONCLUSIVE, MIN_SCORE_DROP

    x = _line_image()
    perfect = np.zeros((SIZE, SIZE), np.float32)
    perfect[LINE] = 1.0
    result = curve_probabilities(_constant_predictor, x, [perfect], [1], steps=8, seeds=2,
                                 edge_maps=[1.0 - perfect])[0]
    assert result.score_drop < MIN_SCORE_DROP and result.random_lowest == pytest.approx(0.97)
    assert not result.conclusive and result.verdict == INCONCLUSIVE
    assert result.faithful is False  # kept a bool for JSON consumers, never True when inconclusive
    json = result.to_json()
    assert json["verdict"] == "inconclusive" and json["conclusive"] is False and json["faithful"] is False


def test_small_wobbles_stay_inconclusive_even_when_the_map_wins_them():
    """The demo's two-defect image: every curve within a few hundredths of the start."""
    from engine.trust.faithfulness import Curves, Faithfulness

    x = np.linspace(0, 1, 5)
    flat = Curves(np.array([0.99, 0.99, 0.98, 0.98, 0.97]), np.array([0.97, 0.97, 0.98, 0.98, 0.99]))
    wobble = Curves(np.array([0.99, 0.90, 0.91, 0.93, 0.97]), np.array([0.97, 1.0, 1.0, 1.0, 0.99]))
    found = Faithfulness(1, x, wobble, flat, flat, 3)
    assert found.beats_controls and not found.conclusive and not found.faithful


def test_conclusive_curves_keep_their_verdict():
    from engine.trust.faithfulness import FAITHFUL, NOT_FAITHFUL

    x = _line_image()
    perfect = np.zeros((SIZE, SIZE), np.float32)
    perfect[LINE] = 1.0
    good = curve_probabilities(_line_predictor([]), x, [perfect], [1], steps=10, seeds=3,
                               edge_maps=[1.0 - perfect])[0]
    assert good.conclusive and good.verdict == FAITHFUL and good.faithful and good.to_json()["verdict"] == FAITHFUL
    bad = curve_probabilities(_line_predictor([]), x, [1.0 - perfect], [1], steps=10, seeds=3)[0]
    assert bad.conclusive and bad.verdict == NOT_FAITHFUL and not bad.faithful


def test_cli_lines_say_inconclusive():
    from engine.trust.cli_text import faithfulness_lines

    x = _line_image()
    found = curve_probabilities(_constant_predictor, x, [np.zeros((SIZE, SIZE))], [1], steps=4, seeds=1)[0]
    assert faithfulness_lines(found)[-1].startswith("inconclusive: removing pixels barely moves the score")
