"""Fused multi-layer maps and tiled explanations of large frames (issue 14, items 3 and 4).

The fused map is checked against LayerCAM's multi-layer combination written here from the
paper (per-layer LayerCAM by tf.GradientTape, tanh(2 M / max M), bilinear resize to the
finest grid, element-wise max): agreement within 1e-4 at the finest layer's grid. Tiles:
a defect pasted into a corner of a large frame is found by the demo model and the map peaks
on it; a 9000 x 9000 frame stays within a memory bound (tracemalloc) that holding every
tile's map or input would break; cancel stops the tiles.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import Cancelled, MethodError
from engine.images.decoding import LoadedImage
from engine.model.backend import keras, tf
from tests.models import image, session, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]


def _layercam_reference(model, x: np.ndarray, class_index: int, mode: str) -> np.ndarray:
    features = keras.Model(model.inputs[0], [model.get_layer("conv1").output, model.get_layer("conv2").output])
    weights, bias = model.get_layer("predictions").get_weights()
    with tf.GradientTape() as tape:
        first, second = features(tf.constant(x))
        tape.watch([first, second])
        score = (tf.reduce_mean(second, axis=(1, 2)) @ weights + bias)[:, class_index]
    maps = []
    for activations, grads in zip((first, second), tape.gradient(score, [first, second]), strict=True):
        cam = np.maximum((np.maximum(grads.numpy(), 0) * activations.numpy()).sum(-1)[0], 0)
        maps.append(np.tanh(2.0 * cam / cam.max()))
    size = maps[0].shape
    maps[1] = cv2.resize(maps[1].astype(np.float32), size[::-1], interpolation=cv2.INTER_LINEAR)
    return np.max(maps, axis=0) if mode == "max" else np.mean(maps, axis=0)


@pytest.mark.parametrize("mode", ["max", "mean"])
def test_fused_layercam_matches_the_paper(mode):
    model = tiny_cnn((32, 32, 3))
    ours_session = session(model)
    picture = image(32, 32, seed=2)
    x = ours_session.model_input(picture)[None]
    result = ours_session.explain(picture, "layercam", layer=["conv1", "conv2"], fuse=mode, class_index=1)
    theirs = _layercam_reference(model, x, 1, mode)
    assert result.layer == "conv1 + conv2" and result.params["fuse"] == mode
    assert result.raw.shape == theirs.shape == (32, 32)
    np.testing.assert_allclose(result.raw, theirs, rtol=0, atol=1e-4)


def test_fusion_layers_default_and_refusals():
    ours_session = session(tiny_cnn((32, 32, 3)))
    assert ours_session.target_layers(None, "max") == ["conv1", "conv2"]
    assert ours_session.target_layers("conv1, conv2") == ["conv1", "conv2"]
    picture = image(32, 32)
    fused = ours_session.explain(picture, "gradcam", layer="conv1,conv2")
    assert fused.params["fuse"] == "max" and fused.raw.shape == (32, 32)
    with pytest.raises(MethodError, match="fuse"):
        ours_session.explain(picture, "saliency", fuse="max")


def _corner_frame(label: int, texture: str = "granular") -> tuple[LoadedImage, np.ndarray]:
    """A 1024 x 1024 defect-free frame with one defect pasted 12 px from the bottom-right
    corner, all at the demo model's scale (its 256 px images are seen at 128 px)."""
    from resources.demo.synthetic import make_sample

    rng = np.random.default_rng(label)
    frame = cv2.resize(make_sample(rng, 0, (2048, 2048), texture=texture).image, (1024, 1024),
                       interpolation=cv2.INTER_AREA)
    defect = make_sample(rng, label, (256, 256), texture=texture)
    frame[-140:-12, -140:-12] = cv2.resize(defect.image, (128, 128), interpolation=cv2.INTER_AREA)
    mask = np.zeros(frame.shape[:2], np.uint8)
    mask[-140:-12, -140:-12] = cv2.resize(defect.mask, (128, 128), interpolation=cv2.INTER_NEAREST)
    return LoadedImage("frame.png", frame, frame.astype(np.float32), False, "uint8", 8), mask


@pytest.fixture(scope="module")
def demo():
    from engine.session import Session

    return Session.open(ROOT / "resources" / "demo" / "defects.keras")


@pytest.mark.parametrize("label", [1, 3])
def test_tiles_find_a_defect_in_a_corner_of_a_large_frame(demo, label):
    frame, mask = _corner_frame(label)
    result = demo.explain(frame, "gradcam", tiles=True, tile_overlap=0.25)
    assert result.heatmap.shape == (1024, 1024) and result.class_index == label and result.probability > 0.5
    left, top, width, height = result.tile
    assert mask[top:top + height, left:left + width].any(), "the verdict tile holds the defect"
    y, x = np.unravel_index(np.argmax(result.heatmap), result.heatmap.shape)
    distance = cv2.distanceTransform((mask == 0).astype(np.uint8), cv2.DIST_L2, 3)[y, x]
    assert distance <= 4, f"the map peaks {distance:.0f} px away from the defect"
    assert any(note.startswith("tiles:") for note in result.notes)
    assert result.heatmap[mask > 0].mean() > 5 * result.heatmap[mask == 0].mean()


def test_tiles_fall_back_to_the_whole_image_when_it_is_small(demo):
    small = LoadedImage("s.png", np.zeros((100, 300, 3), np.uint8), np.zeros((100, 300, 3), np.float32), False,
                        "uint8", 8)
    result = demo.explain(small, "gradcam", tiles=True)
    assert result.tile is None and result.heatmap.shape == (100, 300)
    assert any("explained whole" in note for note in result.notes)
    with pytest.raises(MethodError, match="tiles"):
        demo.explain(_corner_frame(1)[0], "gradcam", tiles=True, guided=True)


def _strided_model(side: int):
    """A cheap one-channel model with a large input: stride-4 convolution, GAP, softmax."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((side, side, 1))
    x = keras.layers.Conv2D(4, 4, strides=4, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="predictions")(x))


def _gray_frame(side: int) -> LoadedImage:
    plane = np.zeros((side, side, 1), np.float32)
    plane[-600:-300, 200:500] = 255.0
    return LoadedImage("huge.png", np.broadcast_to(plane.astype(np.uint8), (side, side, 3)),
                       np.broadcast_to(plane, (side, side, 3)), True, "uint8", 8)


def test_tiles_memory_stays_bounded_on_a_9000_pixel_frame(monkeypatch):
    """576 tiles of 500 px: every tile's map at tile size would be 576 MB and every input more;
    the run holds the 324 MB full-resolution map and one chunk."""
    monkeypatch.setenv("CONVSCOPE_MEMORY_BUDGET_MB", "32")
    ours_session = session(_strided_model(500))
    frame = _gray_frame(9000)
    full_map = 9000 * 9000 * 4
    reports: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        result = ours_session.explain(frame, "gradcam", layer="conv", tiles=True, tile_overlap=0.25,
                                      progress=lambda done, total: reports.append((done, total)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.heatmap.shape == (9000, 9000) and result.heatmap.dtype == np.float32
    assert peak < 1.5 * full_map, f"peak {peak / 2**20:.0f} MiB for a {full_map / 2**20:.0f} MiB map"
    assert reports[-1] == (2 * 576, 2 * 576) and len(reports) > 20


def test_tiles_cancel(monkeypatch):
    monkeypatch.setenv("CONVSCOPE_MEMORY_BUDGET_MB", "1")
    ours_session = session(_strided_model(100))
    calls = []
    with pytest.raises(Cancelled):
        ours_session.explain(_gray_frame(1000), "gradcam", layer="conv", tiles=True,
                             cancel=lambda: calls.append(1) or len(calls) > 5)
    assert len(calls) == 6


@pytest.mark.parametrize("method", ["layercam", "eigencam", "ablationcam"])
def test_fused_map_is_the_fusion_of_the_single_layer_maps(method):
    """One pass for several layers (gradient CAMs) or one run per layer (the others): the same
    as fusing the single-layer maps by the paper's rule."""
    from engine.methods.fusion import fuse

    ours_session = session(tiny_cnn((32, 32, 3)))
    picture = image(32, 32, seed=6)
    singles = [ours_session.explain(picture, method, layer=layer, class_index=2).raw for layer in ("conv1", "conv2")]
    fused = ours_session.explain(picture, method, layer="conv1,conv2", class_index=2)
    np.testing.assert_allclose(fused.raw, fuse(singles, "max"), rtol=0, atol=1e-5)


def test_defect_classes():
    from engine.model.heads import defect_classes

    assert defect_classes(("ok", "scratch", "spot")).tolist() == [1, 2]
    assert defect_classes(("Good", "bad")).tolist() == [1]
    assert defect_classes(("class 0", "class 1"), binary=True).tolist() == [1]
    assert defect_classes(("cat", "dog", "bird")).tolist() == [0, 1, 2]


def test_tiles_on_a_sigmoid_model_explain_class_1():
    from tests.models import sigmoid_model

    ours_session = session(sigmoid_model((32, 32, 3)))
    result = ours_session.explain(image(64, 96, seed=1), "gradcam", tiles=True, tile_overlap=0.0)
    assert result.class_index == 1 and result.heatmap.shape == (64, 96)
    assert result.tile is not None and result.tile[2:] == (32, 32)
