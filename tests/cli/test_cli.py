"""The headless commands: info, predict, explain; their outputs; and exit 2 with exactly one
line on stderr (no traceback) for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.model.sidecar import Sidecar, write_sidecar
from tests.cli_run import run
from tests.models import dense_only_model, lambda_model, save_model, tiny_cnn

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("ok", "scratch", "spot")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    model = save_model(tiny_cnn(classes=3, seed=1), folder, "defects.keras")
    write_sidecar(model, Sidecar(class_names=CLASSES, preprocessing="unit"))
    rng = np.random.default_rng(0)
    picture = folder / "part.png"
    cv2.imwrite(str(picture), rng.integers(0, 256, (45, 70, 3), dtype=np.uint8))
    other = folder / "other.png"
    cv2.imwrite(str(other), rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    corrupt = folder / "corrupt.png"
    corrupt.write_bytes(picture.read_bytes()[:60])
    broken = folder / "broken.keras"
    broken.write_bytes(model.read_bytes()[:200])
    return {
        "model": model, "image": picture, "other": other, "corrupt": corrupt, "broken": broken,
        "lambda": save_model(lambda_model(), folder, "lam.keras"),
        "dense": save_model(dense_only_model(input_shape=(32, 32, 3)), folder, "dense.keras"),
        "folder": folder,
    }



# -- info -----------------------------------------------------------------------------------

def test_info_text(capsys, files):
    code, out, err = run(capsys, "info", "--model", files["model"])
    assert code == 0 and err == ""
    assert "ok, scratch, spot" in out and "conv2" in out and "(None, 16, 16, 16)" in out
    assert "default layer  conv2" in out and "unit (sidecar)" in out


def test_info_json(capsys, files):
    code, out, _ = run(capsys, "info", "--model", files["model"], "--json")
    assert code == 0
    data = json.loads(out)
    assert data["class_names"] == list(CLASSES) and data["default_layer"] == "conv2"
    assert data["input_shape"] == [32, 32, 3]
    layers = {layer["path"]: layer for layer in data["layers"]}
    assert layers["conv2"]["output_shape"] == [None, 16, 16, 16] and layers["conv2"]["cam_target"]
    assert layers["predictions"]["params"] == 16 * 3 + 3
    assert data["outputs"] == [{"name": "predictions", "activation": "softmax", "units": 3}]


# -- predict --------------------------------------------------------------------------------

def test_predict_text_with_class_names(capsys, files):
    code, out, err = run(capsys, "predict", "--model", files["model"], files["image"], files["other"],
                         "--top", "2")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == str(files["image"]) and lines[3] == str(files["other"])
    assert len(lines) == 6 and all(any(name in line for name in CLASSES) for line in lines[1:3])


def test_predict_json(capsys, files):
    code, out, _ = run(capsys, "predict", "--model", files["model"], files["image"], "--top", "3", "--json")
    assert code == 0
    top = json.loads(out)["predictions"][0]["top"]
    assert [t["name"] for t in top] and {t["name"] for t in top} == set(CLASSES)
    assert sum(t["probability"] for t in top) == pytest.approx(1.0, abs=1e-5)
    assert top[0]["probability"] >= top[1]["probability"] >= top[2]["probability"]


# -- explain --------------------------------------------------------------------------------

def test_explain_writes_overlay_and_heatmaps(capsys, files, tmp_path):
    overlay, npy, png = tmp_path / "overlay.png", tmp_path / "map.npy", tmp_path / "map16.png"
    code, out, err = run(capsys, "explain", "--model", files["model"], "--image", files["image"],
                         "--out", overlay, "--save-heatmap", npy)
    assert code == 0 and err == ""
    assert "gradcam on conv2" in out and "wrote overlay" in out
    picture = cv2.imread(str(overlay), cv2.IMREAD_UNCHANGED)
    assert picture.shape == (45, 70, 3) and picture.dtype == np.uint8
    heatmap = np.load(npy)
    assert heatmap.shape == (45, 70) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0 and np.isfinite(heatmap).all()

    code, _, _ = run(capsys, "explain", "--model", files["model"], "--image", files["image"],
                     "--save-heatmap", png)
    assert code == 0
    sixteen = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
    assert sixteen.shape == (45, 70) and sixteen.dtype == np.uint16
    np.testing.assert_allclose(sixteen / 65535.0, heatmap, atol=1.0 / 65535 + 1e-6)


def test_explain_without_outputs_says_how_to_keep_the_map(capsys, files):
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--image", files["image"])
    assert code == 0 and "wrote" not in out and "nothing written: add --out" in out


@pytest.mark.parametrize("class_arg, index", [("2", 2), ("scratch", 1)])
def test_explain_class_and_layer_json(capsys, files, class_arg, index):
    code, out, _ = run(capsys, "explain", "--model", files["model"], "--image", files["image"],
                       "--class", class_arg, "--layer", "conv1", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["class_index"] == index and data["class_name"] == CLASSES[index]
    assert data["layer"] == "conv1" and data["map_shape"] == [32, 32]
    assert data["heatmap_shape"] == [45, 70] and data["method"] == "gradcam"


def test_trusted_lambda_model_explains(capsys, files):
    code, out, err = run(capsys, "info", "--model", files["lambda"], "--trust-model", "--json")
    assert code == 0 and json.loads(out)["default_layer"] == "conv1"


# -- bad input: exit 2, one line, no traceback ----------------------------------------------

BAD = {
    "missing model": (["info", "--model", "{folder}/absent.keras"], "no such file"),
    "broken model": (["info", "--model", "{broken}"], "damaged or truncated"),
    "lambda without trust": (["predict", "--model", "{lambda}", "{image}"], "--trust-model"),
    "missing image": (["explain", "--model", "{model}", "--image", "{folder}/absent.png"], "absent.png"),
    "corrupt image": (["explain", "--model", "{model}", "--image", "{corrupt}"], "corrupt.png"),
    "unknown layer": (["explain", "--model", "{model}", "--image", "{image}", "--layer", "conv9"], "conv9"),
    "unknown class": (["explain", "--model", "{model}", "--image", "{image}", "--class", "dent"], "dent"),
    "class out of range": (["explain", "--model", "{model}", "--image", "{image}", "--class", "7"], "range"),
    "non-4-D layer": (["explain", "--model", "{model}", "--image", "{image}", "--layer", "gap"], "4-D"),
    "no CAM layer": (["explain", "--model", "{dense}", "--image", "{image}"], "CAMs are unavailable"),
    "bad preprocessing": (["info", "--model", "{model}", "--preprocessing", "imagenet"], "preprocessing"),
    "remote model": (["info", "--model", "https://example.com/m.keras"], "remote"),
    "wrong model suffix": (["info", "--model", "{image}"], "unknown model format"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2(capsys, files, case):
    argv, fragment = BAD[case]
    code, out, err = run(capsys, *[a.format(**files) for a in argv])
    assert code == 2
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and fragment in err
    assert out == ""


def test_bad_model_in_a_subprocess_is_one_line(files):
    """The real entry point: TensorFlow's native start-up chatter must not reach stderr."""
    result = subprocess.run(
        [sys.executable, "main.py", "explain", "--model", str(files["broken"]), "--image", str(files["image"])],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("convscope: error: broken.keras:")
    assert result.stdout == ""
