"""Deletion / insertion curves (Petsiuk et al. 2018) checked without a model: a fake `predict`
whose probability is a known function of the pixels, and the curves recomputed from the
paper's definition (remove / insert the k most important pixels, the removed ones taking
the blurred image's value). Fast enough to run for every mutant of engine.trust.faithfulness.
"""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from engine.errors import Cancelled, MethodError
from engine.trust import faithfulness as fa
from engine.trust.faithfulness import (
    FAITHFUL,
    INCONCLUSIVE,
    MIN_SCORE_DROP,
    NOT_FAITHFUL,
    Curves,
    Faithfulness,
    blur_sigma,
    blurred,
    curve_probabilities,
    pixel_ranks,
    random_ranks,
    step_counts,
    step_fractions,
)

SIDE = 10


def _predict(x: np.ndarray) -> np.ndarray:
    """Three 'classes' whose probabilities depend differently on the pixels (rows sum to 1)."""
    a = x[:, :5, :5, 0].mean(axis=(1, 2))
    b = x[:, 5:, 3:, 0].mean(axis=(1, 2))
    c = x[..., 0].mean(axis=(1, 2))  # every pixel counts a little
    total = a + b + c + 1.0
    return np.stack([a / total, b / total, (c + 1.0) / total], axis=1)


def _image(seed: int = 0, height: int = SIDE, width: int = SIDE) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, (height, width, 1)).astype(np.float32)


def _reference(image: np.ndarray, ranks: np.ndarray, counts: np.ndarray, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """Deletion / insertion curves by the definition, one model call per point."""
    height, width = image.shape[:2]
    smooth = cv2.GaussianBlur(image, (0, 0), blur_sigma(height, width), borderType=cv2.BORDER_REFLECT)
    smooth = smooth.reshape(image.shape)
    deletion, insertion = [], []
    for k in counts:
        top = (ranks < k).reshape(height, width, 1)
        deletion.append(_predict(np.where(top, smooth, image)[None])[0, cls])
        insertion.append(_predict(np.where(top, image, smooth)[None])[0, cls])
    return np.array(deletion), np.array(insertion)


def test_curves_follow_the_papers_definition_for_map_random_and_edge_orders():
    image, heat, edges = _image(1), _image(2)[..., 0], _image(3)[..., 0]
    steps, seeds = 4, 2
    found = curve_probabilities(_predict, image[None], [heat], [1], steps=steps, seeds=seeds,
                                edge_maps=[edges], chunk=5)[0]
    counts = step_counts(SIDE * SIDE, steps)
    np.testing.assert_allclose(found.fractions, counts / (SIDE * SIDE))
    deletion, insertion = _reference(image, pixel_ranks(heat), counts, 1)
    np.testing.assert_allclose(found.map.deletion, deletion, rtol=1e-5)
    np.testing.assert_allclose(found.map.insertion, insertion, rtol=1e-5)
    randoms = [_reference(image, random_ranks(SIDE * SIDE, s), counts, 1) for s in range(seeds)]
    np.testing.assert_allclose(found.random.deletion, np.mean([r[0] for r in randoms], axis=0), rtol=1e-5)
    np.testing.assert_allclose(found.random.insertion, np.mean([r[1] for r in randoms], axis=0), rtol=1e-5)
    assert found.edges is not None
    edge_deletion, edge_insertion = _reference(image, pixel_ranks(edges), counts, 1)
    np.testing.assert_allclose(found.edges.deletion, edge_deletion, rtol=1e-5)
    np.testing.assert_allclose(found.edges.insertion, edge_insertion, rtol=1e-5)
    assert found.class_index == 1 and found.seeds == seeds and found.baseline == "blur"


def test_a_wide_image_is_perturbed_pixel_by_pixel_in_the_maps_order():
    image, heat = _image(11, 8, 14), _image(12, 8, 14)[..., 0]
    found = curve_probabilities(_predict, image[None], [heat], [0], steps=3, seeds=1)[0]
    counts = step_counts(8 * 14, 3)
    deletion, insertion = _reference(image, pixel_ranks(heat), counts, 0)
    np.testing.assert_allclose(found.map.deletion, deletion, rtol=1e-5)
    np.testing.assert_allclose(found.map.insertion, insertion, rtol=1e-5)
    np.testing.assert_allclose(found.fractions, counts / (8 * 14))


def test_each_image_of_a_batch_gets_its_own_class_map_and_curves_whatever_the_chunk():
    images = np.stack([_image(4), _image(5)])
    heats = [_image(6)[..., 0], _image(7)[..., 0]]
    one = curve_probabilities(_predict, images, heats, [0, 2], steps=3, seeds=1, chunk=1)
    many = curve_probabilities(_predict, images, heats, [0, 2], steps=3, seeds=1, chunk=1000)
    counts = step_counts(SIDE * SIDE, 3)
    for k, (found, other) in enumerate(zip(one, many, strict=True)):
        deletion, insertion = _reference(images[k], pixel_ranks(heats[k]), counts, [0, 2][k])
        np.testing.assert_allclose(found.map.deletion, deletion, rtol=1e-5)
        np.testing.assert_allclose(found.map.insertion, insertion, rtol=1e-5)
        np.testing.assert_allclose(found.map.deletion, other.map.deletion)
        assert found.edges is None and found.class_index == [0, 2][k]


def test_progress_counts_rows_up_to_all_and_cancel_stops_before_predicting():
    calls, seen = [], []
    curve_probabilities(_predict, _image()[None], [_image(1)[..., 0]], [0], steps=2, seeds=1, chunk=3,
                        progress=lambda done, total: calls.append((done, total)))
    # rows: original + blurred, then per order (map, 1 random) one interior point each way: 2 + 2 * 2 * 1
    assert calls == [(3, 6), (6, 6)]

    def predict(x):
        seen.append(len(x))
        return _predict(x)

    with pytest.raises(Cancelled):
        curve_probabilities(predict, _image()[None], [_image(1)[..., 0]], [0], steps=2, cancel=lambda: True)
    assert seen == []
    curve_probabilities(predict, _image()[None], [_image(1)[..., 0]], [0], steps=2, seeds=1, chunk=4,
                        cancel=lambda: False)
    assert seen == [4, 2]


@pytest.mark.parametrize("steps, seeds, chunk", [(0, 1, 1), (1, 0, 1), (1, 1, 0)])
def test_steps_seeds_and_chunk_below_one_are_refused(steps, seeds, chunk):
    with pytest.raises(MethodError, match="^steps, random seeds and the chunk size must each be at least 1$"):
        curve_probabilities(_predict, _image()[None], [_image()[..., 0]], [0], steps=steps, seeds=seeds, chunk=chunk)


def test_one_step_one_seed_one_row_per_chunk_is_accepted():
    found = curve_probabilities(_predict, _image()[None], [_image(1)[..., 0]], [0], steps=1, seeds=1, chunk=1)[0]
    assert found.fractions.tolist() == [0.0, 1.0]
    # with one step the curves are only the original image and the fully blurred one
    assert found.map.deletion[0] == found.map.insertion[-1] and found.map.deletion[-1] == found.map.insertion[0]


def test_no_image_gives_no_curves():
    assert curve_probabilities(_predict, np.zeros((0, SIDE, SIDE, 1), np.float32), [], [], steps=2) == []


def test_fractions_are_quadratic_and_counts_rounded():
    np.testing.assert_allclose(step_fractions(4), [0, 1 / 16, 1 / 4, 9 / 16, 1])
    assert step_counts(10, 4).tolist() == [0, 1, 2, 6, 10]  # 0.625 -> 1, 2.5 -> 2 (to even), 5.625 -> 6
    assert step_counts(10, 4).dtype == np.int64


def test_pixel_ranks_put_the_highest_value_first_and_break_ties_at_random():
    ranks = pixel_ranks(np.array([[0.1, 0.9], [0.5, 0.3]]))
    assert ranks.tolist() == [3, 0, 1, 2] and ranks.dtype == np.int32
    flat = pixel_ranks(np.zeros((8, 8)))
    assert sorted(flat.tolist()) == list(range(64))
    tie = np.random.default_rng(fa.TIE_SEED).permutation(64)
    assert flat.tolist() == tie.tolist()  # the fixed permutation decides, not top-left first
    assert pixel_ranks(np.zeros((8, 8)), tie_seed=1).tolist() != flat.tolist()


def test_an_integer_map_ranks_by_value_too():
    assert pixel_ranks(np.array([[0, 200], [100, 50]], np.uint8)).tolist() == [3, 0, 1, 2]


def test_random_ranks_are_a_seeded_permutation():
    assert random_ranks(50, 3).tolist() == np.random.default_rng(3).permutation(50).tolist()
    assert random_ranks(50, 3).dtype == np.int32


def test_blur_follows_petsiuk_sigma_scaled_to_the_shorter_side():
    assert blur_sigma(224, 300) == 5.0
    assert blur_sigma(448, 1000) == 10.0
    assert blur_sigma(20, 20) == 1.0  # never below one pixel
    assert blur_sigma(50, 40) == pytest.approx(max(1.0, 5.0 * 40 / 224))


def test_blurred_is_a_reflect_border_gaussian_of_each_image():
    batch = np.stack([_image(8), _image(9)]).astype(np.float64)
    out = blurred(batch)
    assert out.dtype == np.float32 and out.shape == batch.shape
    for i in range(2):
        expected = cv2.GaussianBlur(batch[i].astype(np.float32), (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
        np.testing.assert_allclose(out[i, ..., 0], expected, rtol=1e-6)
    wide = blurred(batch, sigma=3.0)
    expected = cv2.GaussianBlur(batch[0].astype(np.float32), (0, 0), 3.0, borderType=cv2.BORDER_REFLECT)
    np.testing.assert_allclose(wide[0, ..., 0], expected, rtol=1e-6)


def test_area_is_the_trapezoidal_rule_over_the_fractions():
    assert fa.auc(np.array([0, 0.25, 1.0]), np.array([1.0, 0.5, 0.0])) == pytest.approx(0.1875 + 0.1875)
    curves = Curves(np.array([1.0, 0.0]), np.array([0.0, 0.5]))
    assert curves.aucs(np.array([0.0, 1.0])) == (0.5, 0.25)


def _result(random_deletion, edges: Curves | None = None, map_curves: Curves | None = None) -> Faithfulness:
    fractions = np.array([0.0, 0.5, 1.0])
    random = Curves(np.array(random_deletion, dtype=np.float64), np.array([0.2, 0.5, 0.9]))
    mine = map_curves or Curves(np.array([0.9, 0.1, 0.0]), np.array([0.2, 0.9, 0.9]))
    return Faithfulness(1, fractions, mine, random, edges, 3)


def test_conclusive_needs_the_random_deletion_curve_to_fall_by_min_score_drop():
    at = _result([0.9, 0.9 - MIN_SCORE_DROP, 0.8])
    assert at.score_drop == pytest.approx(MIN_SCORE_DROP) and at.random_lowest == pytest.approx(0.7)
    exact = _result([MIN_SCORE_DROP, 0.0, 0.1])  # exactly representable: the drop is MIN_SCORE_DROP itself
    assert exact.score_drop == MIN_SCORE_DROP and exact.conclusive and exact.verdict == NOT_FAITHFUL
    below = _result([MIN_SCORE_DROP, 1e-6, 0.1])
    assert not below.conclusive and below.verdict == INCONCLUSIVE and not below.faithful
    rising = _result([0.5, 0.9, 0.95])  # the curve rising is no drop
    assert rising.score_drop == 0.0 and not rising.conclusive


def test_a_map_must_beat_every_control_strictly_on_both_areas():
    faithful = _result([0.9, 0.3, 0.1])
    assert faithful.deletion_auc == pytest.approx(0.275) and faithful.insertion_auc == pytest.approx(0.725)
    assert faithful.beats_controls and faithful.faithful and faithful.verdict == FAITHFUL
    same_deletion = _result([0.9, 0.3, 0.1], map_curves=Curves(np.array([0.9, 0.3, 0.1]), np.array([0.2, 0.9, 0.9])))
    assert not same_deletion.beats_controls and same_deletion.verdict == NOT_FAITHFUL
    same_insertion = _result([0.9, 0.3, 0.1], map_curves=Curves(np.array([0.9, 0.1, 0.0]), np.array([0.2, 0.5, 0.9])))
    assert not same_insertion.beats_controls and not same_insertion.faithful
    edges_win = _result([0.9, 0.3, 0.1], edges=Curves(np.array([0.9, 0.0, 0.0]), np.array([0.2, 0.9, 0.9])))
    assert not edges_win.beats_controls and edges_win.verdict == NOT_FAITHFUL
    edges_lose = _result([0.9, 0.3, 0.1], edges=Curves(np.array([0.9, 0.5, 0.4]), np.array([0.2, 0.3, 0.4])))
    assert edges_lose.beats_controls


def test_json_form_holds_every_area_the_verdict_and_the_curves():
    edges = Curves(np.array([0.9, 0.5, 0.4]), np.array([0.2, 0.3, 0.4]))
    out = _result([0.9, 0.3, 0.1], edges=edges).to_json()
    assert out["deletion_auc"] == pytest.approx(0.275) and out["insertion_auc"] == pytest.approx(0.725)
    assert out["random_deletion_auc"] == pytest.approx(0.4) and out["random_insertion_auc"] == pytest.approx(0.525)
    assert out["edges_deletion_auc"] == pytest.approx(0.575) and out["edges_insertion_auc"] == pytest.approx(0.3)
    assert out["faithful"] is True and out["conclusive"] is True and out["verdict"] == FAITHFUL
    assert out["random_lowest_probability"] == pytest.approx(0.1) and out["class_index"] == 1
    assert out["steps"] == 2 and out["random_seeds"] == 3 and out["baseline"] == "blur"
    assert out["curves"] == {"fractions": [0.0, 0.5, 1.0],
                             "map": {"deletion": [0.9, 0.1, 0.0], "insertion": [0.2, 0.9, 0.9]},
                             "random": {"deletion": [0.9, 0.3, 0.1], "insertion": [0.2, 0.5, 0.9]},
                             "edges": {"deletion": [0.9, 0.5, 0.4], "insertion": [0.2, 0.3, 0.4]}}
    plain = _result([0.9, 0.8, 0.8]).to_json()
    assert plain["edges_deletion_auc"] is None and plain["edges_insertion_auc"] is None
    assert "edges" not in plain["curves"] and plain["faithful"] is False and plain["verdict"] == INCONCLUSIVE


class _Head:
    def probabilities(self, logits):
        return logits


def _second_output(x: np.ndarray) -> np.ndarray:
    """The fake model's output 1: the same classes in another order."""
    return _predict(x)[:, [2, 0, 1]]


class _FakeSession:
    """What faithfulness() asks of a session: batching, model pixels, an output head, logits."""

    def __init__(self, shape=(SIDE, SIDE, 1)):
        self.info = SimpleNamespace(input_shape=shape)
        self.context = SimpleNamespace(heads={0: _Head(), 1: _Head()}, cached=lambda key, build: 8)
        self.outputs_asked: list[int] = []
        self.batch_sizes: set[int] = set()
        self.rows_sent: list[int] = []
        self.calls = 0

    def batch(self, images):
        self.calls += 1
        return np.stack([im.pixels for im in images]).astype(np.float32)

    def model_pixels(self, image):
        return np.repeat(image.pixels, 3, axis=2) * 350.0 - 50.0  # beyond 0..255 on both sides: clipped

    def check_output(self, output):
        self.outputs_asked.append(output)
        return output

    def logits(self, x, output, batch_size):
        self.batch_sizes.add(batch_size)
        self.rows_sent.append(len(x))
        return {0: _predict, 1: _second_output}[output](x)


def _loaded(seed: int, height: int = SIDE, width: int = SIDE):
    pixels = _image(seed, height, width)
    return SimpleNamespace(pixels=pixels, height=height, width=width)


def _edges(image) -> np.ndarray:
    from engine.maps.combine import sobel_edges

    rgb = np.repeat(image.pixels, 3, axis=2) * 350.0 - 50.0
    return sobel_edges(np.clip(rgb, 0, 255).astype(np.uint8))


def test_faithfulness_uses_the_sessions_inputs_the_edge_control_and_the_chosen_output():
    from engine.methods.common import chunk_size

    session, images = _FakeSession(), [_loaded(1), _loaded(2)]
    heats = [_image(3)[..., 0], _image(4)[..., 0]]
    found = fa.faithfulness(session, images, heats, [1, 0], steps=3, seeds=2, output=1)
    assert session.outputs_asked == [1]
    rows = chunk_size(session.context, (SIDE, SIDE, 1))
    assert session.batch_sizes == {rows} and max(session.rows_sent) <= rows  # the memory budget's chunk
    direct = curve_probabilities(_second_output, np.stack([im.pixels for im in images]), heats, [1, 0], steps=3,
                                 seeds=2, edge_maps=[_edges(im) for im in images])
    for got, expected in zip(found, direct, strict=True):
        np.testing.assert_allclose(got.map.deletion, expected.map.deletion, rtol=1e-6)
        assert got.edges is not None and expected.edges is not None
        np.testing.assert_allclose(got.edges.insertion, expected.edges.insertion, rtol=1e-6)
        np.testing.assert_allclose(got.edges.deletion, expected.edges.deletion, rtol=1e-6)
        assert got.seeds == 2 and len(got.fractions) == 4
    plain = fa.faithfulness(_FakeSession(), images, heats, [1, 0], steps=3, seeds=1, edges=False)
    assert all(p.edges is None and p.seeds == 1 for p in plain)
    assert fa.faithfulness(_FakeSession(), [], [], []) == []


def test_faithfulness_reports_progress_and_stops_on_cancel():
    images, heats = [_loaded(1)], [_image(3)[..., 0]]
    seen: list = []
    fa.faithfulness(_FakeSession(), images, heats, [0], steps=2, seeds=1, edges=False,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (6, 6)
    with pytest.raises(Cancelled):
        fa.faithfulness(_FakeSession(), images, heats, [0], steps=2, cancel=lambda: True)


def test_large_images_in_groups_still_report_progress_and_cancel(monkeypatch):
    from engine import memory

    monkeypatch.setattr(memory, "budget_bytes", lambda: 1)  # one image per call
    images, heats = [_loaded(1), _loaded(2)], [_image(3)[..., 0], _image(4)[..., 0]]
    seen: list = []
    fa.faithfulness(_FakeSession(), images, heats, [0, 1], steps=2, seeds=1, edges=False,
                    progress=lambda done, total: seen.append((done, total)))
    assert seen.count((6, 6)) == 2  # each group's rows
    with pytest.raises(Cancelled):
        fa.faithfulness(_FakeSession(), images, heats, [0, 1], steps=2, cancel=lambda: True)


@pytest.mark.parametrize("quarter_budget", [
    11000,  # 4 orders (map, 2 random, edges): 4000 bytes per image -> 2 per call; 3 orders would fit 3
    8500,  # still 2 per call; 5 orders (4400 bytes) would fit 1
])
def test_the_group_size_counts_every_pixel_order_of_a_size_agnostic_model(monkeypatch, quarter_budget):
    from engine import memory

    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * quarter_budget)
    session = _FakeSession(shape=(None, None, None))  # 3 channels assumed, the image's own size
    images = [_loaded(k) for k in range(3)]  # 10 x 10: per image 100 * (2 * 4 * 3 + 4 * orders) bytes
    fa.faithfulness(session, images, [_image(5)[..., 0]] * 3, [0, 1, 2], steps=2, seeds=2, edges=True)
    assert session.calls == 2  # images 1-2, then image 3


def test_images_per_call_with_one_unknown_side_uses_the_image_size(monkeypatch):
    from engine import memory

    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * 50 * (2 * 4 * 3 + 4 * 2) * 5)
    assert fa.images_per_call(_FakeSession(shape=(10, None, 3)), 100, 2, image_pixels=50) == 5
    assert fa.images_per_call(_FakeSession(shape=(None, 10, 3)), 100, 2, image_pixels=50) == 5


def test_faithfulness_resizes_a_full_resolution_map_to_the_model_input():
    session, image = _FakeSession(), _loaded(1)
    big = cv2.resize(_image(5)[..., 0], (40, 40), interpolation=cv2.INTER_NEAREST)
    found = fa.faithfulness(session, [image], [big], [0], steps=2, seeds=1, edges=False)[0]
    small = fa.resize_map(big, SIDE, SIDE)
    expected = curve_probabilities(_predict, image.pixels[None], [small], [0], steps=2, seeds=1)[0]
    np.testing.assert_allclose(found.map.deletion, expected.map.deletion, rtol=1e-6)


def test_images_too_large_for_the_budget_go_in_groups_with_the_same_curves(monkeypatch):
    from engine import memory

    images, heats = [_loaded(k) for k in range(3)], [_image(10 + k)[..., 0] for k in range(3)]
    whole = fa.faithfulness(_FakeSession(), images, heats, [0, 1, 2], steps=2, seeds=1, edges=False)
    per_image = SIDE * SIDE * (2 * 4 * 1 + 4 * 2)
    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * per_image)  # one image per call
    assert fa.images_per_call(_FakeSession(), 3, 2) == 1
    session = _FakeSession()
    grouped = fa.faithfulness(session, images, heats, [0, 1, 2], steps=2, seeds=1, edges=False)
    assert session.calls == 3
    for got, expected in zip(grouped, whole, strict=True):
        assert got.class_index == expected.class_index
        np.testing.assert_allclose(got.map.insertion, expected.map.insertion)


def test_images_per_call_keeps_a_quarter_of_the_budget(monkeypatch):
    from engine import memory

    session = _FakeSession(shape=(10, 20, 3))
    per_image = 200 * (2 * 4 * 3 + 4 * 5)
    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * per_image * 7)
    assert fa.images_per_call(session, 100, 5) == 7
    assert fa.images_per_call(session, 3, 5) == 3  # never more than asked
    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * per_image * 7 - 1)
    assert fa.images_per_call(session, 100, 5) == 6
    monkeypatch.setattr(memory, "budget_bytes", lambda: 1)
    assert fa.images_per_call(session, 100, 5) == 1  # at least one
    agnostic = _FakeSession(shape=(None, None, None))  # size-agnostic model: the image's own size, 3 channels
    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * 50 * (2 * 4 * 3 + 4 * 2) * 9)
    assert fa.images_per_call(agnostic, 100, 2, image_pixels=50) == 9
    monkeypatch.setattr(memory, "budget_bytes", lambda: 4 * 1024 * 1024 * (2 * 4 * 3 + 4 * 2) * 2)
    assert fa.images_per_call(agnostic, 100, 2) == 2  # unknown size: a megapixel


def test_the_chunk_follows_the_memory_budget_for_the_whole_input(monkeypatch):
    from engine import memory
    from engine.methods.common import chunk_size

    monkeypatch.setattr(memory, "budget_bytes", lambda: 19200)  # 41 rows of 10 x 10 x 1 (with 8 activations)
    session = _FakeSession()
    fa.faithfulness(session, [_loaded(1), _loaded(2)], [_image(3)[..., 0]] * 2, [0, 1], steps=3, seeds=1)
    assert session.batch_sizes == {chunk_size(session.context, (SIDE, SIDE, 1))} == {41}


class _EdgeSession(_FakeSession):
    """Model pixels below 0 beside pixels just above 1: the clipped edge is one grey level high."""

    def model_pixels(self, image):
        rgb = np.full((SIDE, SIDE, 3), 1.5)
        rgb[:, : SIDE // 2] = -50.0
        return rgb


def test_the_edge_control_clips_the_model_pixels_to_0_255():
    from engine.maps.combine import sobel_edges

    image, heat = _loaded(1), _image(3)[..., 0]
    found = fa.faithfulness(_EdgeSession(), [image], [heat], [1], steps=4, seeds=1)[0]
    rgb = np.clip(_EdgeSession().model_pixels(image), 0, 255).astype(np.uint8)  # 0 | 1: an edge
    expected = curve_probabilities(_predict, image.pixels[None], [heat], [1], steps=4, seeds=1,
                                   edge_maps=[sobel_edges(rgb)])[0]
    assert found.edges is not None and expected.edges is not None
    np.testing.assert_allclose(found.edges.deletion, expected.edges.deletion, rtol=1e-6)
