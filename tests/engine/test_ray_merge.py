"""The Ray driver sums the actors' per-batch trust accumulators into what one accumulator fed
every batch holds (AUPRO histograms and mean deletion / insertion curves)."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest

from engine.review.ray_runner import _TrustMerger
from engine.trust.localisation import AuproAccumulator
from engine.trust.review import TrustAccumulator


def _feed(accumulator: TrustAccumulator, images: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
    fractions = np.linspace(0, 1, 5)
    for heatmap, mask, curve in images:
        for label in ("all", "scratch"):
            accumulator.aupro.setdefault(label, AuproAccumulator()).add(heatmap, mask)
            accumulator._add_curves(label, SimpleNamespace(
                fractions=fractions, map=SimpleNamespace(deletion=curve, insertion=1 - curve),
                random=SimpleNamespace(deletion=curve / 2, insertion=1 - curve / 2)))


def test_merged_batches_equal_one_accumulator():
    rng = np.random.default_rng(0)
    images = []
    for _ in range(6):
        mask = np.zeros((32, 32), bool)
        mask[rng.integers(0, 20):, rng.integers(0, 20):][:8, :8] = True
        images.append((rng.random((32, 32)), mask, rng.random(5)))
    whole = TrustAccumulator()
    _feed(whole, images)
    merger = _TrustMerger()
    for start in (0, 2, 5):  # three batches of different sizes, as actors would send them
        batch = TrustAccumulator()
        _feed(batch, images[start:{0: 2, 2: 5, 5: 6}[start]])
        merger.add(pickle.dumps(batch))
    merger.add(None)  # a batch without trust data
    merged = merger.accumulator
    for label in ("all", "scratch"):
        assert merged.aupro[label].value() == pytest.approx(whole.aupro[label].value())
        assert merged.aupro[label].images == whole.aupro[label].images == 6
        ours, theirs = merged.mean_curves(label), whole.mean_curves(label)
        assert ours["images"] == theirs["images"] == 6
        for kind in ("map", "random"):
            for curve in ("deletion", "insertion"):
                assert ours[kind][curve] == pytest.approx(theirs[kind][curve])
