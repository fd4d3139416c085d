"""`explain --method NAME` with every method and every combination, from the command line, on
the demo model and on a nested transfer-learning model built here."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from cli.app import main
from cli.common import DEMO_IMAGES, DEMO_MODEL
from engine.methods import METHODS

CAMS = sorted(name for name, cls in METHODS.items() if cls.needs_layer)
METHOD_OPTIONS = {
    "faster-scorecam": ["--top-n", "5"], "smoothgrad": ["--samples", "4", "--noise", "0.1"],
    "integrated-gradients": ["--steps", "16", "--baselines", "2"],
}
CAM_COMBINATIONS = ["--guided", "--edges", "--emphasize", "--cleanup"]
GRADIENT_COMBINATIONS = ["--polarity", "negative", "--clip-percentile", "99", "--clip-below", "10",
                         "--cleanup", "--edges"]


def _image(folder: Path) -> Path:
    found = sorted(DEMO_IMAGES.glob("scratch/*[0-9].png")) or sorted(DEMO_IMAGES.glob("*/*[0-9].png"))
    if found:
        return found[0]
    from resources.demo.synthetic import make_sample

    sample = make_sample(np.random.default_rng(3), 1, (160, 200))
    path = folder / "scratch.png"
    cv2.imwrite(str(path), cv2.cvtColor(np.asarray(sample.image, np.uint8), cv2.COLOR_RGB2BGR))
    return path


def _nested_model(folder: Path) -> Path:
    """A base network used as one layer, then pooling and a dense softmax head."""
    from engine.model.backend import keras

    keras.utils.set_random_seed(0)
    base_in = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(base_in)
    x = keras.layers.BatchNormalization(name="stem_bn")(x)
    x = keras.layers.ReLU(name="stem_relu")(x)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="top_conv")(x)
    base = keras.Model(base_in, x, name="backbone")
    inputs = keras.Input((64, 64, 3))
    x = base(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    path = folder / "nested.keras"
    keras.Model(inputs, outputs, name="transfer").save(path)
    (folder / "nested.convscope.json").write_text(json.dumps(
        {"class_names": ["ok", "scratch", "spot"], "preprocessing": "symmetric"}))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    found = {"nested": (_nested_model(folder), "backbone/top_conv"), "demo": (DEMO_MODEL, "last_conv")}
    return found, _image(folder)


def _explain(capsys, model: Path, image: Path, method: str, out: Path, extra: list[str]) -> dict:
    code = main(["explain", "--model", str(model), "--image", str(image), "--method", method,
                 "--out", str(out / "overlay.png"), "--save-heatmap", str(out / "map.npy"), "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / "overlay.png").stat().st_size > 0
    heatmap = np.load(out / "map.npy")
    assert np.isfinite(heatmap).all() and heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    return json.loads(captured.out)


@pytest.mark.parametrize("which", ["demo", "nested"])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_and_combination_runs(models, which, method, tmp_path, capsys):
    found, image = models
    model, layer = found[which]
    cam = method in CAMS
    layer_option = ["--layer", layer] if cam else []
    plain = _explain(capsys, model, image, method, tmp_path / "plain", layer_option + METHOD_OPTIONS.get(method, []))
    assert plain["method"] == method and plain["layer"] == (layer if cam else None)
    assert plain["seconds"] > 0 and "class_name" in plain
    combined = _explain(capsys, model, image, method, tmp_path / "combined",
                        layer_option + METHOD_OPTIONS.get(method, [])
                        + (CAM_COMBINATIONS if cam else GRADIENT_COMBINATIONS) + ["--emphasize"])
    params = combined["params"]
    assert params["emphasize"] and params["edges"] and params["cleanup"]
    assert params["guided"] if cam else params["polarity"] == "negative" and params["clip_percentile"] == 99
    if method in METHOD_OPTIONS:
        assert {"top_n", "samples", "steps"} & set(params)
    outline = _explain(capsys, model, image, method, tmp_path / "outline", layer_option + ["--outline"])
    assert outline["params"]["outline"] is True


def test_combinations_that_do_not_apply_are_refused(models, tmp_path, capsys):
    found, image = models
    model, _ = found["nested"]
    for method, extra in (("saliency", ["--guided"]), ("gradcam", ["--polarity", "positive"]),
                          ("scorecam", ["--steps", "4"])):
        code = main(["explain", "--model", str(model), "--image", str(image), "--method", method, *extra])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
