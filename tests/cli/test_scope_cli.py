"""explain and batch with --layers / --fuse (fused maps) and --tiles (large frames): JSON says
which layers and which tile; batch scores the full-resolution map against the mask."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

from tests.cli_run import refused, run

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "defects.keras"
SCRATCH = ROOT / "resources" / "demo" / "images" / "scratch" / "scratch_01.png"


def _frame(folder: Path) -> Path:
    """A 512 x 640 defect-free frame with a crack pasted near its top-left corner, and its mask."""
    from resources.demo.synthetic import make_sample

    rng = np.random.default_rng(5)
    frame = cv2.resize(make_sample(rng, 0, (1024, 1280), texture="granular").image, (640, 512),
                       interpolation=cv2.INTER_AREA)
    defect = make_sample(rng, 3, (256, 256), texture="granular")
    frame[10:138, 20:148] = cv2.resize(defect.image, (128, 128), interpolation=cv2.INTER_AREA)
    mask = np.zeros(frame.shape[:2], np.uint8)
    mask[10:138, 20:148] = cv2.resize(defect.mask, (128, 128), interpolation=cv2.INTER_NEAREST)
    (folder / "crack").mkdir(parents=True)
    path = folder / "crack" / "frame.png"
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "crack" / "frame_mask.png"), mask)
    return path


def test_explain_layers_and_fuse(capsys):
    code, out, _ = run(capsys, "explain", "--model", DEMO, "--image", SCRATCH, "--method", "layercam",
                       "--layers", "block2_relu,last_conv", "--json")
    result = json.loads(out)
    assert code == 0 and result["layer"] == "block2_relu + last_conv" and result["params"]["fuse"] == "max"
    assert result["map_shape"] == [32, 32]
    code, out, _ = run(capsys, "explain", "--model", DEMO, "--image", SCRATCH, "--method", "gradcam", "--fuse",
                       "mean", "--json")
    assert code == 0 and json.loads(out)["layer"] == "block1_relu + block2_relu + last_conv"
    assert "fuse" in refused(capsys, "explain", "--model", DEMO, "--image", SCRATCH, "--method", "saliency",
                             "--fuse", "max")


def test_explain_and_batch_in_tiles(capsys, tmp_path):
    image = _frame(tmp_path / "lot")
    code, out, _ = run(capsys, "explain", "--model", DEMO, "--image", image, "--tiles", "--tile-overlap", "0.5",
                       "--json")
    result = json.loads(out)
    assert code == 0 and result["heatmap_shape"] == [512, 640] and result["class_name"] == "crack"
    left, top, width, height = result["tile"]
    assert left < 148 and top < 138 and (width, height) == (128, 128)
    code, _, _ = run(capsys, "batch", "--model", DEMO, "--images", tmp_path / "lot", "--out", tmp_path / "out",
                     "--tiles")
    with open(tmp_path / "out" / "results.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert code == 0 and row["predicted"] == "crack" and (row["width"], row["height"]) == ("640", "512")
    assert int(row["peak_x"]) < 160 and int(row["peak_y"]) < 150 and float(row["iou"]) > 0
