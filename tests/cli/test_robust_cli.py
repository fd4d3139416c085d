"""Every kind of image file through the command line (issue 7): valid files give a heatmap at
their own size (demo model and a grayscale non-square model); every bad file makes `explain`
and `predict` exit 2 with one line on stderr (native stderr included) and no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.cli_run import run
from tests.engine.test_robust_images import BAD, DEMO_MODEL, VALID, gray_model_file, write_files

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("robust cli é")
    valid, bad = write_files(folder)
    return {"valid": valid, "bad": bad, "gray": gray_model_file(folder), "folder": folder}



@pytest.mark.parametrize("model", ["demo", "gray"])
@pytest.mark.parametrize("name", sorted(VALID))
def test_explain_valid_file_gives_a_heatmap_at_its_size(capfd, files, tmp_path, name, model):
    model_path = DEMO_MODEL if model == "demo" else files["gray"]
    heatmap = tmp_path / "map é.npy"
    code, out, err = run(capfd, "explain", "--model", model_path, "--image", files["valid"][name],
                         "--save-heatmap", heatmap, "--out", tmp_path / "overlay.png", "--json")
    assert (code, err) == (0, ""), err
    data = json.loads(out)
    assert data["method"] == "gradcam" and data["image"] == str(files["valid"][name])
    assert data["heatmap_shape"] == list(VALID[name][1])
    saved = np.load(heatmap)
    assert saved.shape == VALID[name][1] and saved.dtype == np.float32
    assert np.isfinite(saved).all() and 0.0 <= saved.min() and saved.max() <= 1.0
    assert (tmp_path / "overlay.png").stat().st_size > 0


def test_predict_reads_every_valid_file_at_once(capfd, files):
    paths = [files["valid"][name] for name in sorted(VALID)]
    code, out, err = run(capfd, "predict", "--model", files["gray"], *paths, "--json", "--top", "3")
    assert (code, err) == (0, ""), err
    predictions = json.loads(out)["predictions"]
    assert [p["path"] for p in predictions] == [str(p) for p in paths]


@pytest.mark.parametrize("command", ["explain", "predict"])
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_exits_2_with_one_line(capfd, files, name, command):
    path = files["bad"][name]
    image_args = ["--image", path] if command == "explain" else [path]
    code, out, err = run(capfd, command, "--model", DEMO_MODEL, *image_args)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err  # nothing from libpng, libtiff, OpenCV
    assert err.startswith(f"convscope: error: {path}: ") and BAD[name][1] in err
    assert "Traceback" not in err


def test_predict_stops_at_the_first_bad_file_with_its_name(capfd, files):
    good, bad = files["valid"]["plain.bmp"], files["bad"]["huge.png"]
    code, out, err = run(capfd, "predict", "--model", DEMO_MODEL, good, bad)
    assert code == 2 and out == "" and err.count("\n") == 1 and "huge.png" in err


def test_real_entry_point_damaged_png_is_one_line(files):
    """`python main.py`: libpng's own complaint about the damaged file must not reach stderr."""
    path = files["bad"]["bad checksum.png"]
    result = subprocess.run(
        [sys.executable, "main.py", "explain", "--model", str(DEMO_MODEL), "--image", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"convscope: error: {path}: corrupt or truncated PNG data\n"
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["info", "explain"])
def test_a_damaged_saved_model_directory_is_refused_with_a_reason(capfd, files, command):
    """A SavedModel folder opens as a black box (issue 23); one with no usable graph is refused in
    one line naming the folder and the format."""
    folder = files["folder"] / "exported model"
    (folder / "variables").mkdir(parents=True, exist_ok=True)
    (folder / "saved_model.pb").write_bytes(b"\x08\x01")
    extra = ["--image", files["valid"]["plain.bmp"]] if command == "explain" else []
    code, out, err = run(capfd, command, "--model", folder, *extra)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "SavedModel" in err and "exported model" in err and "Traceback" not in err
