"""LayerCAM's multi-layer fusion, rule by rule and without a model (engine.methods.fusion; the
fused maps of real models are in test_methods_scope): which layers are fused by default, the
scaling of each map (Jiang et al. 2021, equation 9: tanh(2 M / max M)), the fusion at the finest
grid, and the order of the per-layer runs (every layer explains the class the first resolved)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engine.methods import fusion
from engine.methods.base import Job, RawMaps


def _layer(path: str, height: int, width: int, target: bool = True):
    return SimpleNamespace(path=path, output_shape=(None, height, width, 4), is_cam_target=target)


def test_default_layers_are_the_last_of_each_resolution_in_depth_order():
    layers = [_layer("a", 16, 16), _layer("b", 8, 8), _layer("c", 16, 16), _layer("d", 8, 8, target=False)]
    # "c" is the last 16 x 16 layer and comes after "b": shallow to deep is b, c
    assert fusion.default_layers(layers, last="d") == ["b", "c"]


def test_a_resolution_is_height_and_width():
    layers = [_layer("wide", 8, 16), _layer("tall", 8, 4), _layer("square", 4, 4)]
    assert fusion.default_layers(layers, last="square") == ["wide", "tall", "square"]


def test_default_layers_stop_at_the_target_layer_and_keep_the_deepest_four():
    layers = [_layer(f"l{size}", size, size) for size in (64, 32, 16, 8, 4, 2)]
    assert fusion.FUSED_LAYERS == 4
    assert fusion.default_layers(layers, last="l4") == ["l32", "l16", "l8", "l4"]
    assert fusion.default_layers(layers, last="l32") == ["l64", "l32"]


def test_scaled_is_tanh_of_twice_the_map_over_its_maximum():
    raw = np.array([[0.0, 1.0], [2.0, -1.0]], np.float64)
    found = fusion.scaled(raw)
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, np.tanh(2.0 * np.array([[0.0, 0.5], [1.0, 0.0]])), rtol=1e-6)
    assert fusion.GAMMA == 2.0


@pytest.mark.parametrize("raw", [np.zeros((3, 3)), -np.ones((2, 2))])
def test_a_map_without_positive_evidence_scales_to_zeros(raw):
    found = fusion.scaled(raw)
    assert found.dtype == np.float32 and found.shape == raw.shape and not found.any()


def test_fuse_resizes_to_the_finest_grid_then_takes_the_maximum_or_the_mean():
    fine = np.zeros((4, 6), np.float32)
    fine[0, 0] = 1.0
    coarse = np.ones((2, 3), np.float32)  # scaled: tanh(2) everywhere, resized: still tanh(2)
    peak = np.tanh(2.0)
    found = fusion.fuse([coarse, fine], "max")
    assert found.shape == (4, 6) and found.dtype == np.float32
    np.testing.assert_allclose(found, np.full((4, 6), peak), rtol=1e-6)
    mean = fusion.fuse([coarse, fine], "mean")
    expected = np.full((4, 6), peak / 2)
    expected[0, 0] = peak
    np.testing.assert_allclose(mean, expected, rtol=1e-6)
    tall = fusion.fuse([np.ones((8, 2), np.float32), np.ones((2, 5), np.float32)], "max")
    assert tall.shape == (8, 5)  # height and width of the finest grid, each on its own


class _Recorder:
    """A method that answers with a map per layer and records what it was asked."""

    name = "recorder"

    def __init__(self) -> None:
        self.asked: list[tuple[str | None, list[int]]] = []

    @staticmethod
    def maps(layer: str | None, images: int) -> np.ndarray:
        size = {"deep": 2, "shallow": 4}[str(layer)]
        maps = np.stack([np.full((size, size), float(i + 1), np.float32) for i in range(images)])
        maps[:, 0, 0] = 0.0
        maps[-1, 0, -1] = 0.0  # the images differ: rows mixed up would show
        return maps

    def run(self, job: Job) -> RawMaps:
        self.asked.append((job.layer, job.classes.tolist()))
        assert job.progress is None  # the fused run reports per layer itself
        maps = self.maps(job.layer, len(job.inputs))
        classes = np.where(job.classes < 0, 1, job.classes).astype(np.int32)
        logits = np.full((len(job.inputs), 3), 0.5 if job.layer == "deep" else -0.5, np.float32)
        return RawMaps(maps, logits, classes, notes=("same note", f"{job.layer} note"))


def test_run_fused_runs_each_layer_with_the_first_layers_classes():
    worker, reported = _Recorder(), []
    job = Job(np.zeros((2, 8, 8, 3), np.float32), np.array([-1, 2], np.int32), "deep",
              progress=lambda done, total: reported.append((done, total)))
    raw = fusion.run_fused(worker, job, ["deep", "shallow"], "max")  # type: ignore[arg-type]
    assert worker.asked == [("deep", [-1, 2]), ("shallow", [1, 2])]
    assert reported == [(0, 2), (1, 2), (2, 2)]
    assert raw.maps.shape == (2, 4, 4)
    deep, shallow = _Recorder.maps("deep", 2), _Recorder.maps("shallow", 2)
    for i in range(2):
        np.testing.assert_allclose(raw.maps[i], fusion.fuse([deep[i], shallow[i]], "max"), rtol=1e-6)
    assert not np.allclose(raw.maps[0], raw.maps[1])
    mean = fusion.run_fused(_Recorder(), job, ["deep", "shallow"], "mean")  # type: ignore[arg-type]
    np.testing.assert_allclose(mean.maps[1], fusion.fuse([deep[1], shallow[1]], "mean"), rtol=1e-6)
    np.testing.assert_array_equal(raw.classes, [1, 2])
    np.testing.assert_array_equal(raw.logits, np.full((2, 3), 0.5))  # the first layer's run
    assert raw.notes == ("same note", "deep note", "shallow note")


def test_a_method_that_runs_all_layers_at_once_is_asked_once():
    class AllLayers(_Recorder):
        def run_layers(self, job: Job, layers: tuple) -> list[RawMaps]:
            self.asked.append((tuple(layers), job.classes.tolist()))
            return [RawMaps(self.maps(layer, len(job.inputs)), np.zeros((len(job.inputs), 3), np.float32),
                            np.array([0, 2], np.int32)) for layer in layers]

    worker, reported = AllLayers(), []
    job = Job(np.zeros((2, 8, 8, 3), np.float32), np.array([-1, 2], np.int32), "deep",
              progress=lambda done, total: reported.append((done, total)))
    raw = fusion.run_fused(worker, job, ["deep", "shallow"], "max")  # type: ignore[arg-type]
    assert worker.asked == [(("deep", "shallow"), [-1, 2])] and reported == [(2, 2)]
    np.testing.assert_array_equal(raw.classes, [0, 2])
    assert raw.maps.shape == (2, 4, 4) and raw.notes == ()
