"""How a comparison pairs two reviews of one lot: the map figures, the rows, the kept images and
the folder loop, on numpy black boxes (tests/numpy_runtime.py) so that no TensorFlow model runs."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.model.sidecar import Sidecar
from engine.review import ReviewOptions
from engine.review import runner as review_runner
from engine.review.compare import (
    MAP_SIDE,
    SHOWN,
    ComparisonRow,
    Pairing,
    Shown,
    _Keeper,
    _level_ranks,
    compare_folder,
    comparison_columns,
    map_agreement,
    map_spearman,
    map_top_iou,
    pair_row,
)
from engine.review.rows import ReviewRow
from engine.review.runner import ReviewedImage
from tests.numpy_runtime import CLASSES, RegionRuntime, region_session, write_lot

OCCLUSION = ReviewOptions("occlusion", batch_size=2, params={"patch": 4, "stride": 4, "fill": "zero"})


def displayed_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """The definition: scipy's Spearman of the two maps rounded to 256 display levels (scipy is
    imported here: the module's other tests need none, which keeps mutation runs fast)."""
    from scipy.stats import spearmanr

    return float(spearmanr(*(np.round(np.clip(m, 0, 1) * 255).ravel() for m in (a, b))).statistic)


@pytest.mark.parametrize("seed", range(4))
def test_map_spearman_is_spearmans_rho_at_display_levels(seed):
    # guards: tied levels ranked by position instead of averaged, ranks off by one level, the
    # correlation not centred or not divided by both maps' spreads
    rng = np.random.default_rng(seed)
    a = rng.random((40, 30)).astype(np.float32) ** (seed + 1)  # skewed: many ties at the low levels
    b = np.clip(a + rng.normal(0, 0.2, a.shape), 0, 1).astype(np.float32)
    assert map_spearman(a, b) == pytest.approx(displayed_spearman(a, b), abs=1e-12)
    assert map_spearman(a, b[::-1]) == pytest.approx(displayed_spearman(a, b[::-1]), abs=1e-12)


def test_level_ranks_average_ties_as_rankdata_does():
    # guards: the rank of a level counted from 0, or the tie average taken as the first place
    from scipy.stats import rankdata

    levels = np.array([3, 0, 3, 255, 3, 0])
    assert _level_ranks(levels) == pytest.approx(rankdata(levels))
    assert _level_ranks(np.full(5, 7)) is None  # a constant map has no ranks


def test_values_outside_zero_one_count_as_the_nearest_display_level():
    # guards: the clip dropped (a map value above 1 would be a level past the last)
    a = np.linspace(-0.5, 1.5, 64, dtype=np.float32).reshape(8, 8)
    assert map_spearman(a, np.clip(a, 0, 1)) == pytest.approx(1.0)


def test_a_constant_map_correlates_with_nothing():
    flat, ramp = np.full((8, 8), 0.3, np.float32), np.arange(64, dtype=np.float32).reshape(8, 8) / 63
    assert map_spearman(flat, ramp) == 0.0 and map_spearman(ramp, flat) == 0.0
    assert map_spearman(ramp, ramp) == pytest.approx(1.0) and map_spearman(ramp, 1 - ramp) == pytest.approx(-1.0)


def test_maps_of_different_sizes_are_compared_at_the_first_maps_size():
    # guards: the second map left at its own size (a shape error) or the first one resized instead
    ramp = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    assert map_agreement(ramp, ramp[::2, ::2]) == pytest.approx((1.0, 1.0), abs=0.01)
    assert map_agreement(ramp, ramp[::2, ::-2])[0] == pytest.approx(-1.0, abs=0.01)


def test_large_maps_are_compared_at_most_at_map_side():
    # a fine checkerboard against its shifted copy: the exact opposite at full size, averaged
    # away to the same grey once both are brought down to MAP_SIDE (2x area averaging)
    side = 2 * MAP_SIDE
    board = (np.indices((side, side)).sum(axis=0) % 2).astype(np.float32)
    ramp = np.tile(np.linspace(0, 1, side, dtype=np.float32), (side, 1))
    a, b = 0.5 * ramp + 0.5 * board, 0.5 * ramp + 0.5 * (1 - board)
    spearman, iou = map_agreement(a, b)
    assert spearman == pytest.approx(1.0, abs=0.01) and iou == pytest.approx(1.0, abs=0.05)
    small = slice(0, MAP_SIDE)  # at MAP_SIDE itself nothing is averaged: the checkerboard counts
    assert map_spearman(a[small, small], b[small, small]) < 0.5


def test_map_agreement_is_the_two_figures():
    rng = np.random.default_rng(3)
    a, b = rng.random((20, 20)), rng.random((20, 20))
    assert map_agreement(a, b) == (map_spearman(a, b), map_top_iou(a, b))


def reviewed(path="ok/a.png", predicted=0, heatmap=None, error="", flag="", removal=None, confidence=0.9):
    row = ReviewRow(path, "ok", 0, predicted=f"class {predicted}", predicted_index=None if error else predicted,
                    confidence=None if error else confidence, error=error, flag=flag, removal_probability=removal,
                    kept_after_removal=None if removal is None else removal > 0.5)
    return ReviewedImage(row, None, heatmap, None)


def test_pair_row_reads_each_side_from_its_own_review():
    # guards: a side's prediction, probability or trust figures taken from the other side
    ramp = np.arange(16, dtype=np.float32).reshape(4, 4) / 15
    a = reviewed(predicted=0, heatmap=ramp, flag="clear", removal=0.2, confidence=0.7)
    b = reviewed(predicted=1, heatmap=1 - ramp, flag="survives-removal", removal=0.8, confidence=0.6)
    row = pair_row(a, b)
    assert (row.probability_a, row.probability_b) == (0.7, 0.6)
    assert (row.path, row.label, row.predicted_a, row.predicted_b) == ("ok/a.png", "ok", "class 0", "class 1")
    assert row.agree is False and row.error == ""
    assert (row.removal_probability_a, row.kept_after_removal_a, row.flag_a) == (0.2, False, "clear")
    assert (row.removal_probability_b, row.kept_after_removal_b, row.flag_b) == (0.8, True, "survives-removal")
    assert row.map_spearman == pytest.approx(-1.0) and row.map_top_iou == 0.0
    assert pair_row(a, reviewed(predicted=0, heatmap=ramp)).agree is True


def test_a_side_that_failed_names_itself_and_is_not_judged():
    # guards: agree computed from a missing prediction, the error of one side lost or unlabelled
    ramp = np.arange(16, dtype=np.float32).reshape(4, 4)
    row = pair_row(reviewed(heatmap=ramp), reviewed(error="unreadable"))
    assert row.error == "B: unreadable" and row.agree is None
    assert row.map_spearman is None and row.map_top_iou is None
    both = pair_row(reviewed(error="too big"), reviewed(error="unreadable"))
    assert both.error == "A: too big; B: unreadable"
    assert pair_row(reviewed(), reviewed(heatmap=ramp)).map_spearman is None  # no map on A


def test_trust_columns_only_with_trust():
    names = {c.name for c in comparison_columns(trust=False)}
    assert "flag_a" not in names and "map_spearman" in names and "error" in names
    assert {"flag_a", "flag_b", "removal_probability_b"} <= {c.name for c in comparison_columns(trust=True)}


def shown(spearman: float | None, agree: bool | None = True, path: str = "x.png") -> Shown:
    pixels = np.zeros((2, 2), np.float32)
    return Shown(ComparisonRow(path=path, label=None, agree=agree, map_spearman=spearman), pixels, pixels, pixels)


def test_the_keeper_holds_the_first_flips_and_the_lowest_spearman():
    # guards: later flips replacing the first ones, the highest correlations kept instead of the
    # lowest, an image kept twice in the report
    keeper = _Keeper()
    for index in range(SHOWN + 5):
        keeper.keep(shown(index / 100, agree=False, path=f"f{index}.png"))
    for index in range(SHOWN + 5):
        keeper.keep(shown(0.5 - index / 100, path=f"m{index}.png"))
    assert [s.row.path for s in keeper.flips] == [f"f{i}.png" for i in range(SHOWN)]
    changes = keeper.largest_changes()
    assert len(changes) == SHOWN
    values = [s.row.map_spearman for s in changes]
    assert values == sorted(values) and values[0] == 0.0
    assert max(values) < 0.5 - 4 / 100  # the five highest of all are gone
    assert len(keeper.shown()) == len({id(s) for s in keeper.shown()})


def test_the_keeper_skips_images_without_maps_and_keeps_ties_in_order():
    keeper = _Keeper()
    keeper.keep(shown(None, agree=True))
    assert keeper.shown() == [] and keeper.largest_changes() == ()
    first, second = shown(0.2, path="first.png"), shown(0.2, path="second.png")
    keeper.keep(first)
    keeper.keep(second)
    assert [s.row.path for s in keeper.largest_changes()] == ["first.png", "second.png"]


def test_the_keeper_replaces_only_when_the_new_image_moved_more():
    keeper = _Keeper()
    for index in range(SHOWN):
        keeper.keep(shown(0.1, path=f"k{index}.png"))
    keeper.keep(shown(0.1, path="equal.png"))  # no lower than the highest kept: not kept
    keeper.keep(shown(0.05, path="lower.png"))
    paths = [s.row.path for s in keeper.largest_changes()]
    assert "equal.png" not in paths and paths[0] == "lower.png" and len(paths) == SHOWN


@pytest.fixture
def lot(tmp_path):
    return write_lot(tmp_path / "lot")


def test_a_model_compared_with_itself_agrees_everywhere(lot):
    # guards: B's rows built from A's maps swapped or shifted by one image across batches
    same = region_session()
    comparison = compare_folder(same, region_session(), lot, OCCLUSION)
    assert len(comparison.rows) == 6 and comparison.complete
    assert [r.path for r in comparison.rows] == sorted(r.path for r in comparison.rows)
    assert all(r.agree and r.predicted_a == r.label for r in comparison.rows)
    assert all(r.map_spearman == pytest.approx(1.0) and r.map_top_iou == 1.0 for r in comparison.rows)
    assert comparison.flips == () and comparison.a.overall.accuracy == comparison.b.overall.accuracy == 1.0


def test_models_that_look_at_different_places_have_unlike_maps(lot):
    # guards: both maps taken from one model; the shown images not the ones whose maps moved
    comparison = compare_folder(region_session(), region_session(slice(8, 16), slice(8, 16)), lot, OCCLUSION)
    assert all(r.agree for r in comparison.rows)  # both right: the colour is in both quadrants
    assert all(r.map_spearman < 0 and r.map_top_iou == 0.0 for r in comparison.rows)
    assert len(comparison.moved) == 6
    top_left = comparison.moved[0]
    assert top_left.heatmap_a[:8, :8].mean() > top_left.heatmap_a[8:, 8:].mean()
    assert top_left.heatmap_b[8:, 8:].mean() > top_left.heatmap_b[:8, :8].mean()
    assert top_left.display.shape == (16, 16, 3)


def test_a_flip_is_kept_for_the_report(lot):
    # B reads the wrong quadrant's channel order: it calls red blue and blue red
    flipped = region_session(rows=slice(0, 8), columns=slice(0, 8))
    flipped.runtime.run = (lambda run: lambda x: run(x[..., ::-1]))(flipped.runtime.run)
    comparison = compare_folder(region_session(), flipped, lot, OCCLUSION)
    flips = {r.path for r in comparison.rows if r.agree is False}
    assert flips == {"blue/blue_0.png", "blue/blue_1.png", "red/red_0.png", "red/red_1.png"}
    assert {s.row.path for s in comparison.flips} == flips
    assert comparison.b.overall.accuracy == pytest.approx(2 / 6)


def test_each_image_and_its_mask_are_read_once(lot, monkeypatch):
    # guards: B decoding the images again, or B looking its ground truth up a second time
    reads: list[str] = []
    masks: list[str] = []
    session_a, session_b = region_session(), region_session()
    load, find = session_a.load_image, review_runner._mask_for
    monkeypatch.setattr(session_a, "load_image", lambda path: reads.append(str(path)) or load(path))
    monkeypatch.setattr(session_b, "load_image", lambda path: pytest.fail("B decoded an image"))
    monkeypatch.setattr(review_runner, "_mask_for", lambda item, *rest: masks.append(item.relative)
                        or find(item, *rest))
    compare_folder(session_a, session_b, lot, OCCLUSION)
    assert len(reads) == len(set(reads)) == 6
    assert sorted(masks) == sorted(set(masks)) and len(masks) == 6


def test_progress_rows_and_cancel(lot):
    # guards: progress counting batches instead of images, on_rows skipped, a cancel reported complete
    seen, batches = [], []
    comparison = compare_folder(region_session(), region_session(), lot, OCCLUSION,
                                progress=lambda done, total: seen.append((done, total)), on_rows=batches.append)
    assert seen == [(0, 6), (2, 6), (4, 6), (6, 6)]
    assert [len(b) for b in batches] == [2, 2, 2] and [r for b in batches for r in b] == list(comparison.rows)
    done: list = []  # cancelled once the first batch's rows are out
    stopped = compare_folder(region_session(), region_session(), lot, OCCLUSION, on_rows=done.append,
                             cancel=lambda: bool(done))
    assert not stopped.complete and len(stopped.rows) == 2
    assert stopped.a.complete is False and stopped.a.total == 6


def test_pairing_merge_appends_another_pairings_batches(lot):
    # guards: a Ray actor's rows, side rows or kept images lost or put first when merged
    a, b = region_session(), region_session(slice(8, 16), slice(8, 16))
    whole = compare_folder(a, b, lot, OCCLUSION)
    first, second = Pairing(False), Pairing(False)
    rows = list(whole.rows)
    from engine.review.compare import compare_batch
    from engine.review.runner import _item, _load, folder_images

    items = [_load(_item(p, lot), a) for p in folder_images(lot)]
    first.add(*compare_batch(a, b, items[:3], lot, OCCLUSION))
    second.add(*compare_batch(a, b, items[3:], lot, OCCLUSION))
    first.merge(second)
    merged = first.result(a, b, 6, True, 1.0)
    assert [r.path for r in merged.rows] == [r.path for r in rows]
    assert [r.path for r in merged.a.rows] == [r.path for r in whole.a.rows]
    assert len(merged.moved) == 6 and merged.seconds == 1.0 and merged.complete


def test_models_whose_classes_differ_are_refused_naming_both(lot):
    # guards: rows paired by class index across models that mean different things by it
    from engine.black_box import BlackBoxSession

    other = BlackBoxSession(RegionRuntime(slice(0, 8), slice(0, 8)), "b.npy", Sidecar(("ok", "scratch", "spot"), "unit"))
    with pytest.raises(MethodError) as error:
        compare_folder(region_session(), other, lot, OCCLUSION)
    assert str(error.value) == ("the two models name their classes differently (red, green, blue against ok, scratch, "
                                "spot); give both the same class names (a .convscope.json sidecar)")
    with pytest.raises(MethodError, match="gradcam"):
        compare_folder(region_session(), region_session(), lot, ReviewOptions("gradcam"))


def test_trust_figures_are_kept_per_side_and_merged(tmp_path):
    # guards: one side's trust accumulator fed the other's images, a merged actor's trust dropped
    lot = write_lot(tmp_path / "lot", masks=True)
    a, b = region_session(), region_session(slice(8, 16), slice(8, 16))
    options = ReviewOptions("occlusion", batch_size=2, params={"patch": 4, "stride": 4, "fill": "zero"}, trust=True)
    whole = compare_folder(a, b, lot, options)
    assert whole.a.trust["overall"]["removal_images"] == whole.b.trust["overall"]["removal_images"] == 6
    assert whole.a.trust["overall"]["mean_curves"]["images"] == whole.b.trust["overall"]["mean_curves"]["images"] == 6
    assert all(r.flag_b and "off-defect" in r.flag_b and "off-defect" not in r.flag_a for r in whole.rows)
    from engine.review.compare import compare_batch
    from engine.review.runner import _item, _load, annotator_for, folder_images

    annotator = annotator_for(lot, options, CLASSES)
    items = [_load(_item(p, lot, annotator), a) for p in folder_images(lot)]
    first, second = Pairing(True), Pairing(True)
    first.add(*compare_batch(a, b, items[:2], lot, options))
    second.add(*compare_batch(a, b, items[2:], lot, options))
    first.merge(second)
    merged = first.result(a, b, 6, True, 0.0)
    for side in ("a", "b"):
        mine, theirs = getattr(merged, side).trust["overall"], getattr(whole, side).trust["overall"]
        assert mine["removal_images"] == 6 and mine["flagged"] == theirs["flagged"]
        assert mine["deletion_auc"] == pytest.approx(theirs["deletion_auc"])
        # the mean curves come from each side's accumulator, not from the rows: both halves merged
        assert mine["mean_curves"]["images"] == theirs["mean_curves"]["images"] == 6
        assert mine["mean_curves"]["map"]["deletion"] == pytest.approx(theirs["mean_curves"]["map"]["deletion"])
    assert merged.a.trust["overall"]["off_defect"] == 0 and merged.b.trust["overall"]["off_defect"] == 6


def test_an_image_a_could_not_read_is_not_kept():
    # guards: the report reaching for A's display pixels when only B has a map
    ramp = np.arange(16, dtype=np.float32).reshape(4, 4)
    keeper = _Keeper()
    missing_a = reviewed(error="unreadable")
    keeper.add(pair_row(missing_a, reviewed(heatmap=ramp)), missing_a, reviewed(heatmap=ramp))
    assert keeper.shown() == []


def test_a_side_that_lost_an_image_is_an_error_not_a_shorter_comparison():
    # guards: zip quietly pairing the first n images when one side returned fewer
    ramp = np.arange(16, dtype=np.float32).reshape(4, 4)
    with pytest.raises(ValueError):
        Pairing(False).add([reviewed(heatmap=ramp), reviewed(path="ok/b.png", heatmap=ramp)], [reviewed(heatmap=ramp)])


def test_each_sides_result_carries_the_run_figures():
    session = region_session()
    pairing = Pairing(False)
    pairing.add([reviewed(predicted=0)], [reviewed(predicted=1)])
    result = pairing.result(session, session, 3, False, 2.5)
    for side in (result.a, result.b):
        assert (side.total, side.complete, side.seconds, len(side.rows)) == (3, False, 2.5, 1)
    assert [r.predicted for r in result.a.rows] == ["class 0"] and [r.predicted for r in result.b.rows] == ["class 1"]


def test_a_cancel_stops_model_a_inside_the_batch(lot):
    # guards: the cancel check not handed to A's explanation, so A finishes the whole batch first
    from engine.errors import Cancelled
    from engine.review.compare import compare_batch
    from engine.review.runner import _item, _load, folder_images

    a, b = region_session(), region_session()
    items = [_load(_item(p, lot), a) for p in folder_images(lot)]
    with pytest.raises(Cancelled):
        compare_batch(a, b, items, lot, OCCLUSION, cancel=lambda: True)
    assert sum(a.runtime.calls) < 6 * 16 and b.runtime.calls == []


def test_an_image_b_could_not_explain_is_not_kept():
    # guards: a pair kept for the report with only A's map (the overlay of B's missing map fails)
    from engine.images.decoding import LoadedImage

    ramp = np.arange(16, dtype=np.float32).reshape(4, 4)
    pixels = np.zeros((4, 4, 3), np.uint8)
    a = ReviewedImage(reviewed(heatmap=ramp).row, LoadedImage("x.png", pixels, pixels.astype(np.float32), False,
                                                                  "uint8", 8), ramp, None)
    keeper = _Keeper()
    failed_b = reviewed(error="explanation failed")
    keeper.add(pair_row(a, failed_b), a, failed_b)
    assert keeper.shown() == []
    keeper.add(pair_row(a, a), a, a)
    assert len(keeper.shown()) == 1


def test_a_cancel_inside_the_first_batch_leaves_no_rows(lot):
    # guards: the cancel check not passed down to the batch (the batch would finish: two rows)
    checks: list[int] = []
    stopped = compare_folder(region_session(), region_session(), lot, OCCLUSION,
                             cancel=lambda: checks.append(1) or len(checks) > 1)
    assert not stopped.complete and stopped.rows == ()


def test_the_output_folder_inside_the_lot_is_not_compared(lot):
    # guards: `exclude` dropped, so a comparison's own pair overlays are compared next time
    (lot / "out" / "pairs").mkdir(parents=True)
    for name in ("a.png", "b.png"):
        (lot / "out" / "pairs" / name).write_bytes((lot / "red" / "red_0.png").read_bytes())
    import time

    began = time.perf_counter()
    comparison = compare_folder(region_session(), region_session(), lot, OCCLUSION, exclude=lot / "out")
    elapsed = time.perf_counter() - began
    assert len(comparison.rows) == 6 and not any(r.path.startswith("out/") for r in comparison.rows)
    assert len(compare_folder(region_session(), region_session(), lot, OCCLUSION).rows) == 8
    assert 0.0 < comparison.seconds <= elapsed  # the run's own duration, not a clock reading


def test_the_keeper_evicts_the_highest_correlation_it_holds():
    # guards: the new image compared with another kept one than the highest (the heap's root)
    keeper = _Keeper()
    for index in range(1, SHOWN + 1):
        keeper.keep(shown(index / 100, path=f"k{index}.png"))
    keeper.keep(shown((SHOWN - 0.5) / 100, path="between.png"))  # below the highest kept, above the rest
    paths = [s.row.path for s in keeper.largest_changes()]
    assert paths[-1] == "between.png" and f"k{SHOWN}.png" not in paths and len(paths) == SHOWN


def test_top_iou_is_intersection_over_union_of_each_maps_top_tenth():
    # guards: the union counted from one map only, a quantile at the share instead of 1 - share
    base = np.arange(100, dtype=np.float32).reshape(10, 10)
    half = base.copy()
    half[9, :5] = 0.0  # half of the top tenth moved to the bottom
    assert map_top_iou(base, half) == pytest.approx(5 / 15) == map_top_iou(half, base)
    assert map_top_iou(base, base[::-1]) == 0.0 and map_top_iou(base, base * 7.0) == 1.0


def test_top_iou_ignores_the_zero_floor_of_mostly_blank_maps():
    # bug seen in the window: two ReLU'd CAMs zero on over 90 % of the image had their 90 %
    # quantile at 0, so "top 10 %" took every pixel and every pair scored 0.1 or 1.0 whatever
    # the evidence; a blob on the left against a blob on the right must score 0
    left, right = np.zeros((20, 20), np.float32), np.zeros((20, 20), np.float32)
    left[5:8, 2:5], right[5:8, 15:18] = 1.0, 1.0
    assert map_top_iou(left, right) == 0.0
    assert map_top_iou(left, left * 3.0) == 1.0
    wider = left.copy()
    wider[5:8, 5:8] = 0.5  # more evidence beside the same blob, still under a tenth of the image
    assert map_top_iou(left, wider) == pytest.approx(9 / 18)
    blank = np.zeros((20, 20), np.float32)
    assert map_top_iou(blank, blank) == 1.0 and map_top_iou(left, blank) == 0.0


def test_the_columns_include_the_trust_ones_unless_told_not_to():
    assert comparison_columns() == comparison_columns(trust=True) != comparison_columns(trust=False)


def test_a_cancel_stops_model_b_inside_the_batch(lot):
    # guards: the cancel check not handed to B's explanation, so B finishes the whole batch
    from engine.errors import Cancelled
    from engine.review.compare import compare_batch
    from engine.review.runner import _item, _load, folder_images

    a, b = region_session(), region_session()
    items = [_load(_item(p, lot), a) for p in folder_images(lot)]
    with pytest.raises(Cancelled):
        compare_batch(a, b, items, lot, OCCLUSION, cancel=lambda: bool(b.runtime.calls))
    assert sum(a.runtime.calls) >= 6 * 16 and 0 < sum(b.runtime.calls) < 6 * 16
