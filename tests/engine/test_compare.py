"""`compare`: two models on one lot. The demo's own exports must come out as the same model;
the demo model against its shortcut twin as two accurate models that look at different things."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cli.common import DEMO_IMAGES, DEMO_MODEL
from engine import Session
from engine.review import ReviewOptions
from engine.review.compare import compare_folder, map_spearman, map_top_iou
from engine.review.compare_output import comparison_summary

DEMO = Path(DEMO_MODEL).parent
FAST_OCCLUSION = {"patch": 16, "stride": 16, "fill": "mean"}


def test_top_iou_compares_each_maps_top_tenth():
    # guards: a quantile taken at the share instead of 1 - share, or one map's threshold used for both
    base = np.arange(100, dtype=np.float32).reshape(10, 10)
    assert map_top_iou(base, base) == 1.0
    assert map_top_iou(base, base[::-1]) == 0.0  # the top rows against the bottom rows
    assert map_top_iou(base, base * 1000.0) == 1.0  # scale-free: each map's own quantile
    half = base.copy()
    half[9, :5] = 0.0  # half of the top tenth moved to the bottom
    assert map_top_iou(base, half) == pytest.approx(5 / 15)


def test_map_spearman_is_rank_based_and_resizes():
    base = np.random.default_rng(0).random((64, 48)).astype(np.float32)
    assert map_spearman(base, base ** 3) == pytest.approx(1.0, abs=2e-3)  # 8-bit levels: near-ties merge
    assert map_spearman(base, 1.0 - base) == pytest.approx(-1.0)
    assert map_spearman(base, np.zeros_like(base)) == 0.0


@pytest.fixture(scope="module")
def keras_session():
    return Session.open(DEMO_MODEL)


@pytest.mark.parametrize("export", ["defects_float.tflite", "defects.onnx"])
def test_the_demo_model_and_its_float_export_are_the_same_model(keras_session, export):
    # guards: an export run with other preprocessing or class order, maps from the wrong side
    comparison = compare_folder(keras_session, Session.open(DEMO / export), DEMO_IMAGES,
                                ReviewOptions("occlusion", params=FAST_OCCLUSION))
    assert len(comparison.rows) == 42 and comparison.complete
    assert all(row.agree for row in comparison.rows)
    assert min(row.map_spearman for row in comparison.rows) >= 0.99
    assert comparison_summary(comparison)["agreement"] == 1.0


def test_the_shortcut_twin_is_accurate_but_looks_elsewhere(keras_session):
    # guards: B reviewed with A's model, the two sides' verdicts swapped or not kept apart
    twin = Session.open(DEMO / "shortcut.keras")
    comparison = compare_folder(keras_session, twin, DEMO / "shortcut_lot",
                                ReviewOptions("occlusion", params=FAST_OCCLUSION, trust=True))
    summary = comparison_summary(comparison)
    assert summary["accuracy_a"] >= 0.9 and summary["accuracy_b"] >= 0.9
    assert summary["agreement"] >= 0.9
    assert summary["mean_map_spearman"] < 0.5 and summary["mean_map_top_iou"] < 0.5
    assert (summary["verdict_a"], summary["verdict_b"]) == ("right-reason", "shortcut-suspected")
    assert [s.row.map_spearman for s in comparison.moved] == sorted(s.row.map_spearman for s in comparison.moved)
    assert all(s.row.agree is False for s in comparison.flips) and len(comparison.flips) == summary["flips"]
    rows = {r.path: r for r in comparison.rows}
    assert any(r.kept_after_removal_b and not r.kept_after_removal_a for r in rows.values())
