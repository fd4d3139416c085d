"""`activations` and `filters` on the command line, on the demo model and on a tiny model."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from cli.app import main
from cli.common import DEMO_MODEL


@pytest.fixture(scope="module")
def image_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "noise.png"
    rng = np.random.default_rng(0)
    cv2.imwrite(str(path), (rng.random((90, 110, 3)) * 255).astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.models import one_conv_model, save_model

    return save_model(one_conv_model((32, 32, 3), filters=6, conv_name="conv1", seed=0),
                      tmp_path_factory.mktemp("tiny"), "tiny.keras")


def _read(path):
    return cv2.imread(str(path))


def test_activations_on_the_demo_model(tmp_path, image_path, capsys):
    out = tmp_path / "acts.png"
    code = main(["activations", "--model", str(DEMO_MODEL), "--image", str(image_path), "--layer", "block2_conv",
                 "--out", str(out), "--scale", "tile", "--sort", "mean", "--columns", "16", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    height, width, channels = report["map_shape"]
    rows = -(-channels // 16)
    assert report["columns"] == 16 and report["rows"] == rows and sorted(report["order"]) == list(range(channels))
    tile_h, tile_w = report["tile"]
    assert min(tile_h, tile_w) >= 64 and tile_h * width == tile_w * height
    assert _read(out).shape == (rows * tile_h + (rows - 1) * 2, 16 * tile_w + 15 * 2, 3)


def test_filters_on_the_demo_model_at_half_its_input_size(tmp_path, capsys):
    out = tmp_path / "filters.png"
    code = main(["filters", "--model", str(DEMO_MODEL), "--layer", "last_conv", "--count", "6", "--first", "2",
                 "--columns", "3", "--steps", "3", "--out", str(out), "--labels"])
    assert code == 0
    captured = capsys.readouterr()
    assert "6 filter patterns of last_conv (64 px, 3 steps)" in captured.out
    assert "step 3/3" in captured.err
    assert _read(out).shape == (2 * 64 + 5, 3 * 64 + 2 * 5, 3)


def test_filters_json_and_options(tmp_path, tiny_model, capsys):
    out = tmp_path / "f.png"
    code = main(["filters", "--model", str(tiny_model), "--layer", "conv1", "--size", "20", "--steps", "4",
                 "--step-size", "0.5", "--jitter", "2", "--blur-every", "2", "--tv", "0.1",
                 "--pre-activation", "--out", str(out), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["filters"] == list(range(6)) and report["grid_shape"] == [20, 6 * 20 + 5 * 5, 3]
    assert _read(out).shape == (20, 145, 3)


@pytest.mark.parametrize("args, message", [
    (["filters", "--layer", "nope"], "no layer named 'nope'"),
    (["filters", "--layer", "conv1", "--first", "6"], "out of range"),
    (["filters", "--layer", "conv1", "--steps", "-2"], "steps must not be negative"),
    (["activations", "--layer", "conv1", "--image", "missing.png"], "missing.png"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, tiny_model, capsys, args, message):
    code = main([*args, "--model", str(tiny_model), "--out", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err
