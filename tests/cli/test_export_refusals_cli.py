"""Unusable or damaged exports on the command line: `info`, `predict` and `compare --against`
each say what is wrong in one line and exit 2, and compare writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.common import DEMO_IMAGES, DEMO_MODEL
from tests.cli_run import refused
from tests.exports_unusable import onnx_models, saved_models

IMAGE = DEMO_IMAGES / "ok" / "ok_01.png"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    (folder / "noise.tflite").write_bytes(bytes(range(256)) * 4)
    (folder / "noise.onnx").write_bytes(b"\x08" * 300)
    saved = saved_models(folder)
    onnx = onnx_models(folder)
    return {"no-signature": saved["no-signature"], "no-graph": saved["no-graph"],
            "uint8.onnx": onnx["uint8-input"], "noise.tflite": folder / "noise.tflite",
            "noise.onnx": folder / "noise.onnx"}


def commands(model: Path, out: Path) -> dict[str, tuple]:
    return {"info": ("info", "--model", model),
            "predict": ("predict", "--model", model, IMAGE),
            "compare": ("compare", "--model", DEMO_MODEL, "--against", model, "--images", DEMO_IMAGES / "ok",
                        "--out", out, "--patch", "64", "--stride", "64")}


@pytest.mark.parametrize("command", ["info", "predict", "compare"])
@pytest.mark.parametrize("case", ["no-signature", "no-graph", "uint8.onnx", "noise.tflite", "noise.onnx"])
def test_an_unusable_export_is_one_line_exit_2(capfd, models, tmp_path, command, case):
    # guards: TensorFlow's or a runtime's message (or traceback) reaching the user; compare
    # creating its output folder before the second model is known to open
    line = refused(capfd, *commands(models[case], tmp_path / "out")[command])
    assert models[case].name in line
    assert not (tmp_path / "out").exists()
