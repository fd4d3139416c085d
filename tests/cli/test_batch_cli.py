"""`convscope batch` end to end on a small generated folder with the demo model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cli.app import main
from cli.common import DEMO_MODEL
from resources.demo.lots import write_lot


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    return write_lot(tmp_path_factory.mktemp("images"), per_class=3, size=(80, 96), seed=7)


def _batch(images: Path, out: Path, *extra: str) -> int:
    return main(["batch", "--model", str(DEMO_MODEL), "--images", str(images), "--method", "gradcam",
                 "--out", str(out), "--batch-size", "5", *extra])


def _exit_code(argv: list[str]) -> int:
    """main's return value, or the code of the SystemExit argparse raises."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _csv_rows(out: Path) -> list[dict[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_batch_writes_everything(images, tmp_path, capsys):
    out = tmp_path / "out"
    assert _batch(images, out) == 0
    captured = capsys.readouterr()
    assert "reviewed 12 images" in captured.out and "12 of 12 done" in captured.out
    assert "img 12/12 (100%)" in captured.err and "\r" not in captured.err  # plain lines: not a terminal
    rows = _csv_rows(out)
    assert len(rows) == 12
    assert {"path", "label", "predicted", "confidence", "correct", "peak_x", "peak_y", "pointing_hit",
            "energy_inside", "iou"} <= set(rows[0])
    assert sum(1 for r in rows if r["energy_inside"]) == 9  # the defect images have masks
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete" and summary["images_done"] == 12
    for key in ("run", "accuracy", "confusion_matrix", "per_label", "overall"):
        assert key in summary
    assert len(summary["run"]["model_sha256"]) == 64 and summary["run"]["layer"] == "last_conv"
    assert np.array(summary["confusion_matrix"]["matrix"]).sum() == 12
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id=confusion-matrix' in html and summary["run"]["model_sha256"] in html and "<style>" in html
    for row in rows:
        assert (out / "overlays" / Path(row["path"]).with_suffix(".png")).is_file()
    assert (out / "overlays" / "scratch" / "scratch_0.png").is_file()


def test_resume_after_a_complete_run_adds_nothing(images, tmp_path, capsys):
    out = tmp_path / "out"
    assert _batch(images, out) == 0
    assert _batch(images, out, "--resume") == 0
    assert len(_csv_rows(out)) == 12


def test_ctrl_c_leaves_a_readable_partial_review(images, tmp_path, capsys, monkeypatch):
    from engine.review.outdir import ReviewOutput

    original = ReviewOutput.on_images

    def interrupt_after_first_batch(self, items):
        original(self, items)
        raise KeyboardInterrupt

    monkeypatch.setattr(ReviewOutput, "on_images", interrupt_after_first_batch)
    out = tmp_path / "out"
    assert _batch(images, out) == 130
    assert "--resume" in capsys.readouterr().err
    assert len(_csv_rows(out)) == 5
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["images_done"] == 5 and summary["images_total"] == 12
    assert "id=confusion-matrix" in (out / "report.html").read_text(encoding="utf-8")
    monkeypatch.setattr(ReviewOutput, "on_images", original)
    assert _batch(images, out, "--resume") == 0
    paths = [r["path"] for r in _csv_rows(out)]
    assert len(paths) == 12 and len(set(paths)) == 12


@pytest.mark.parametrize("change", [
    {"--images": "missing-folder"},
    {"--method": "no-such-method"},
    {"--layer": "no_such_layer"},
    {"--batch-size": "0"},
    {"--model": "missing.keras"},
    {"--threshold": "2"},
])
def test_bad_input_exits_2_with_one_line(images, tmp_path, capsys, change):
    options = {"--model": str(DEMO_MODEL), "--images": str(images), "--method": "gradcam",
               "--out": str(tmp_path / "out"), **change}
    if change.get("--images") == "missing-folder":
        options["--images"] = str(tmp_path / "missing-folder")
    assert _exit_code(["batch", *[part for pair in options.items() for part in pair]]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_existing_results_without_resume_and_out_is_a_file(images, tmp_path, capsys):
    out = tmp_path / "out"
    assert _batch(images, out) == 0
    capsys.readouterr()
    assert _batch(images, out) == 2
    assert "--resume" in capsys.readouterr().err
    file = tmp_path / "file.txt"
    file.write_text("x")
    assert _batch(images, file) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_empty_folder_writes_nothing(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _batch(empty, tmp_path / "out") == 2
    assert "no images" in capsys.readouterr().err and not (tmp_path / "out").exists()



class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_redraws_one_line_on_a_terminal():
    from cli.common import Progress

    terminal = _Terminal()
    progress = Progress(terminal, "review", "img", every=0.1)
    for done in range(0, 121, 8):
        progress(done, 120)
    assert terminal.text.count("\n") == 1 and terminal.text.count("\r") >= 2  # tqdm redraws one line
    last = terminal.text.rstrip().split("\r")[-1]
    assert "120/120" in last and "img/s]" in last and "100%" in last
