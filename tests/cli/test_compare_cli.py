"""`compare` and deployed exports on the command line: files written, one-line refusals."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from cli.common import DEMO_IMAGES, DEMO_MODEL
from tests.cli_run import refused, run

DEMO = Path(DEMO_MODEL).parent
FLOAT = DEMO / "defects_float.tflite"
FAST = ("--method", "occlusion", "--patch", "32", "--stride", "32")


@pytest.fixture(scope="module")
def lot(tmp_path_factory) -> Path:
    """Four demo images with their masks, two labels."""
    folder = tmp_path_factory.mktemp("lot")
    for label, name in (("scratch", "scratch_01"), ("scratch", "scratch_02"), ("crack", "crack_01"), ("ok", "ok_01")):
        (folder / label).mkdir(exist_ok=True)
        for source in (DEMO_IMAGES / label).glob(f"{name}*.png"):
            shutil.copy(source, folder / label / source.name)
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_compare_writes_the_table_the_summary_and_the_report(capfd, lot, tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = run(capfd, "compare", "--model", DEMO_MODEL, "--against", FLOAT, "--images", lot, "--out", out,
                          *FAST)
    assert code == 0 and "agreement 1.000" in stdout
    rows = _rows(out / "comparison.csv")
    assert list(rows[0]) == ["path", "label", "predicted_a", "predicted_b", "probability_a", "probability_b",
                             "agree", "map_spearman", "map_top_iou", "error"]
    assert len(rows) == 4 and all(r["agree"] == "1" and float(r["map_spearman"]) > 0.99 for r in rows)
    summary = json.loads((out / "comparison.json").read_text())
    assert summary["agreement"] == 1.0 and set(summary["per_label"]) == {"scratch", "crack", "ok"}
    assert {"mean_map_spearman", "mean_map_top_iou", "verdict_a", "verdict_b", "flipped",
            "evidence_moved_most"} <= set(summary)
    report = (out / "report.html").read_text()
    assert report.index("verdicts") < report.index("Flipped") < report.index("Largest map changes")
    assert all((out / p).is_file() for p in (report.split('src="')[1].split('"')[0],))
    import pyarrow.parquet as pq

    assert pq.read_table(out / "comparison.parquet").num_rows == 4
    assert {p.name for p in tmp_path.iterdir()} == {"out"}  # nothing beside the output folder


def test_compare_with_trust_adds_each_models_removal_and_verdict(capfd, lot, tmp_path):
    out = tmp_path / "out"
    code, stdout, _ = run(capfd, "compare", "--model", DEMO_MODEL, "--against", DEMO / "defects_int8.tflite",
                          "--images", lot, "--out", out, "--trust", *FAST)
    assert code == 0 and "verdict A:" in stdout
    rows = _rows(out / "comparison.csv")
    assert {"removal_probability_a", "kept_after_removal_a", "flag_a", "flag_b"} <= set(rows[0])
    masked = [r for r in rows if r["label"] != "ok"]
    assert all(r["flag_a"] and r["flag_b"] and r["removal_probability_b"] for r in masked)


def test_compare_refuses_models_whose_classes_differ(capfd, lot, tmp_path):
    other = tmp_path / "other.tflite"
    shutil.copy(FLOAT, other)
    (tmp_path / "other.convscope.json").write_text(json.dumps({"class_names": ["a", "b", "c", "d"]}))
    line = refused(capfd, "compare", "--model", DEMO_MODEL, "--against", other, "--images", lot,
                   "--out", tmp_path / "out", *FAST)
    assert "class names" in line


def test_info_lists_the_operators_and_no_cam_target(capfd):
    code, stdout, _ = run(capfd, "info", "--model", DEMO / "defects_int8.tflite")
    assert code == 0 and "CONV_2D" in stdout and "SOFTMAX" in stdout
    assert all(not line.rstrip().endswith("yes") for line in stdout.splitlines())


def test_predict_on_an_export(capfd):
    code, stdout, _ = run(capfd, "predict", "--model", DEMO / "defects.onnx", DEMO_IMAGES / "crack" / "crack_01.png",
                          "--json")
    assert code == 0 and json.loads(stdout)["predictions"][0]["top"][0]["name"] == "crack"


@pytest.mark.parametrize("argv, words", [
    (("explain", "--method", "gradcam"), "occlusion and rise"),
    (("activations", "--layer", "001:image", "--out", "grid.png"), "black box"),
    (("sanity", "--method", "occlusion"), "sanity check"),
])
def test_what_a_black_box_cannot_do_is_one_line(capfd, tmp_path, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    image = DEMO_IMAGES / "scratch" / "scratch_01.png"
    line = refused(capfd, argv[0], "--model", FLOAT, "--image", image, *argv[1:])
    assert words in line


@pytest.mark.parametrize("name, content", [("bad.tflite", b"not a flatbuffer" * 40), ("bad.onnx", b"\x08" * 300),
                                           ("empty.onnx", b"")])
def test_a_damaged_export_is_one_line_exit_2(capfd, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    line = refused(capfd, "predict", "--model", path, DEMO_IMAGES / "ok" / "ok_01.png")
    assert name in line


def test_predict_on_a_tflite_export_loads_no_tensorflow():
    # guards: the black-box path reaching the Keras machinery (TensorFlow takes seconds to import)
    import subprocess
    import sys

    code = ("import sys; from cli.app import main; "
            f"rc = main(['predict', '--model', {str(DEMO / 'defects_int8.tflite')!r}, "
            f"{str(DEMO_IMAGES / 'ok' / 'ok_01.png')!r}]); "
            "print(rc, 'tensorflow' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                           cwd=Path(__file__).resolve().parents[2])
    assert found.stdout.strip().splitlines()[-1] == "0 False", found.stdout + found.stderr
