"""`batch` and `compare` hand the engine exactly what the user asked for (models, options,
folders, Ray), print the summary and exit 0, or 130 when the run ended early; Ctrl+C during a
review still finishes its files. The engine's review is a stand-in here (no TensorFlow); the
real reviews run in tests/cli/test_batch_cli.py and test_compare_cli.py."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from cli import common
from engine.review import ReviewOptions
from engine.review.stats import LabelStats
from tests.cli_run import run

CLASSES = ("good", "scratch", "spot")


class Opened:
    """Models opened through engine.Session.open, each with the model's own name as its path."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, model, trust, preprocessing):
        self.calls.append((model, trust, preprocessing))
        info = SimpleNamespace(path=f"/models/{Path(model).name}", class_names=CLASSES, warnings=())
        return SimpleNamespace(info=info, model=model)


@pytest.fixture
def lot(tmp_path, monkeypatch) -> SimpleNamespace:
    (tmp_path / "lot" / "ok").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "lot" / "ok" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    for name in ("a.keras", "b.keras"):
        (tmp_path / name).write_bytes(b"x")
    import engine.session

    opened = Opened()
    monkeypatch.setattr(engine.session.Session, "open", staticmethod(opened))
    rays = []
    monkeypatch.setattr("engine.review.ray_runner.import_ray", lambda: rays.append("checked"))
    return SimpleNamespace(root=tmp_path, images=tmp_path / "lot", a=tmp_path / "a.keras", b=tmp_path / "b.keras",
                           out=tmp_path / "out", opened=opened, rays=rays)


def _result(rows: int, complete: bool = True):
    return SimpleNamespace(overall=LabelStats("all", rows, 0, rows, rows, 0), rows=tuple(
        SimpleNamespace(note="") for _ in range(rows)), total=rows, seconds=1.0, trust=None, complete=complete)


class Output:
    """engine.review.outdir's ReviewOutput, recording what the command did with it."""

    def __init__(self, done: int = 0, interrupt: bool = False, complete: bool = True) -> None:
        self.done, self.rows, self.calls = ["x"] * done, ["r"] * 3, []
        self.interrupt, self.complete = interrupt, complete

    def review(self, session, images, options, progress):
        self.calls.append(("review", session, images, options, progress))
        if self.interrupt:
            progress(2, 7)
            raise KeyboardInterrupt
        return _result(5, self.complete)

    def finish(self, result, state, total):
        self.calls.append(("finish", result, state, total))

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def review(monkeypatch):
    asked = SimpleNamespace(output=Output(), opened=[], annotators=[], ray=[])

    def open_output(session, images, out, options, resume, alpha, colormap):
        asked.opened.append((session, images, out, options, resume, alpha, colormap))
        return asked.output

    monkeypatch.setattr("engine.review.outdir.open_review_output", open_output)
    monkeypatch.setattr("engine.review.runner.annotator_for",
                        lambda images, options, classes: asked.annotators.append((images, options, classes)))

    def with_ray(output, session, images, options, address, **kwargs):
        asked.ray.append((output, session, images, options, address, kwargs))
        return _result(5)

    monkeypatch.setattr("engine.review.ray_runner.review_with_ray", with_ray)
    return asked


def test_batch_reviews_the_folder_with_every_option_given(lot, review, capsys):
    code, out, _ = run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out, "--method",
                       "occlusion", "--patch", "8", "--layers", "a,b", "--layer", "c", "--batch-size", "4",
                       "--target", "label", "--tolerance", "3", "--threshold", "0.4", "--trust", "--label-map",
                       "Kratzer=scratch", "--resume", "--alpha", "0.7", "--colormap", "viridis", "--preprocessing",
                       "caffe", "--trust-model", "--annotations", lot.a)
    assert code == 0
    assert lot.opened.calls == [(str(lot.a), True, "caffe")] and lot.rays == []
    options = review.opened[0][3]
    assert options == ReviewOptions("occlusion", "a,b", 4, "label", 3.0, 0.4, options.params, trust=True,
                                    annotations=str(lot.a), label_map=(("kratzer", "scratch"),))
    assert options.params["patch"] == 8 and options.params["stride"] == 8  # given and default
    session = review.opened[0][0]
    assert review.opened[0][1:] == (str(lot.images), str(lot.out), options, True, 0.7, "viridis")
    assert review.annotators == [(str(lot.images), options, CLASSES)]
    kind, reviewed, images, passed, progress = review.output.calls[0]
    assert (kind, reviewed, images, passed) == ("review", session, str(lot.images), options)
    assert (progress.label, progress.unit, progress.every) == ("review", "img", 0.1)
    assert review.output.calls[-1] == ("close",)
    assert out.startswith("reviewed 5 images in 1.0s, 5 of 5 done: ")


def test_batch_defaults(lot, review, capsys):
    code, _out, _ = run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out)
    options = review.opened[0][3]
    assert code == 0 and options.method == "gradcam" and options.layer is None and options.label_map == ()
    assert review.opened[0][4:] == (False, 0.4, "jet") and lot.opened.calls == [(str(lot.a), False, None)]


def test_a_resumed_batch_counts_only_its_new_images(lot, review, capsys):
    review.output = Output(done=2)
    _code, out, _ = run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out, "--resume")
    assert out.startswith("reviewed 3 images in 1.0s (+2 from the earlier run), 5 of 5 done")


def test_an_unfinished_batch_exits_130(lot, review, capsys):
    review.output = Output(complete=False)
    assert run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out)[0] == 130


def test_ctrl_c_during_a_batch_finishes_its_files_and_says_how_to_continue(lot, review, capsys):
    review.output = Output(interrupt=True)
    code, out, err = run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out)
    assert code == 130 and out == ""
    assert review.output.calls[1:] == [("finish", None, "interrupted", 7), ("close",)]
    assert err.endswith(f"\nconvscope: interrupted; 3 images written to {lot.out} (continue with --resume)\n")


def test_batch_on_ray_checks_ray_first_and_passes_the_models_options(lot, review, capsys):
    code, _out, _ = run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out, "--ray",
                        "auto", "--verbose", "--trust-model", "--preprocessing", "unit")
    assert code == 0 and lot.rays == ["checked"] and review.output.calls == [("close",)]
    output, session, images, options, address, kwargs = review.ray[0]
    assert (output, images, address) == (review.output, str(lot.images), "auto")
    assert session.model == str(lot.a) and options.method == "gradcam" and options is review.opened[0][3]
    assert (kwargs["trust"], kwargs["preprocessing"], kwargs["verbose"]) == (True, "unit", True)
    assert kwargs["note"] == kwargs["progress"].note and kwargs["progress"].label == "review"


def test_batch_without_ray_is_quiet_about_it(lot, review, capsys):
    run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out)
    assert review.ray == [] and lot.rays == []


# -- compare ---------------------------------------------------------------------------------------
@pytest.fixture
def comparing(monkeypatch):
    asked = SimpleNamespace(pairs=[], outputs=[], folders=[], rays=[], complete=True)
    monkeypatch.setattr("engine.review.compare.check_pair", lambda a, b, options: asked.pairs.append((a, b, options)))

    class ComparisonOutput:
        def __init__(self, out, run, trust):
            asked.outputs.append((out, run, trust))
            asked.instance = self

        def on_rows(self, rows):
            pass

        def finish(self, comparison):
            asked.finished = comparison
            return {"images": 1, "seconds": 1.0, "agreement": 1.0, "flips": 0, "mean_map_spearman": None,
                    "mean_map_top_iou": None, "verdict_a": None, "verdict_b": None}

    monkeypatch.setattr("engine.review.compare_output.ComparisonOutput", ComparisonOutput)

    def folder(a, b, images, options, progress, on_rows, exclude):
        asked.folders.append((a, b, images, options, progress, on_rows, exclude))
        asked.comparison = SimpleNamespace(complete=asked.complete)
        return asked.comparison

    monkeypatch.setattr("engine.review.compare.compare_folder", folder)

    def with_ray(a, b, args, options, on_rows, progress):
        asked.rays.append((a, b, args.ray, options, progress, on_rows))
        asked.comparison = SimpleNamespace(complete=True)
        return asked.comparison

    monkeypatch.setattr("engine.review.compare_ray.compare_with_ray", with_ray)
    return asked


def test_compare_opens_both_models_with_their_own_preprocessing(lot, comparing, capsys):
    code, out, _ = run(capsys, "compare", "--model", lot.a, "--against", lot.b, "--images", lot.images, "--out",
                       lot.out, "--preprocessing", "caffe", "--against-preprocessing", "torch", "--trust-model",
                       "--method", "occlusion", "--patch", "8", "--layer", "conv", "--batch-size", "4", "--target",
                       "label", "--trust")
    assert code == 0 and lot.opened.calls == [(str(lot.a), True, "caffe"), (str(lot.b), True, "torch")]
    a, b, options = comparing.pairs[0]
    assert (a.model, b.model) == (str(lot.a), str(lot.b))
    assert options == ReviewOptions("occlusion", "conv", 4, "label", params=options.params, trust=True)
    assert options.params["patch"] == 8
    out_folder, description, trust = comparing.outputs[0]
    assert (out_folder, trust) == (str(lot.out), True)
    assert description == {"model_a": "/models/a.keras", "model_b": "/models/b.keras",
                           "images": str(lot.images.resolve()), "method": "occlusion", "params": options.params,
                           "target": "label", "trust": True}
    fa, fb, images, passed, progress, on_rows, exclude = comparing.folders[0]
    assert (fa, fb, images, passed, exclude) == (a, b, str(lot.images), options, str(lot.out))
    assert (progress.label, progress.unit, progress.every) == ("compare", "img", 0.1)
    import sys

    assert progress.stream is sys.stderr and on_rows == comparing.instance.on_rows
    assert comparing.finished is comparing.comparison  # the summary is of this comparison
    assert comparing.rays == [] and lot.rays == [] and out.startswith("compared 1 images")


def test_compare_defaults_and_an_unfinished_comparison(lot, comparing, capsys):
    comparing.complete = False
    code, _out, _ = run(capsys, "compare", "--model", lot.a, "--against", lot.b, "--images", lot.images, "--out",
                        lot.out)
    assert code == 130 and lot.opened.calls == [(str(lot.a), False, None), (str(lot.b), False, None)]
    options = comparing.pairs[0][2]
    assert (options.method, options.layer, options.batch_size, options.target, options.trust) == (
        "occlusion", None, 16, "predicted", False)
    assert comparing.outputs[0][2] is False


def test_compare_on_ray(lot, comparing, capsys):
    code, _out, _ = run(capsys, "compare", "--model", lot.a, "--against", lot.b, "--images", lot.images, "--out",
                        lot.out, "--ray")
    assert code == 0 and lot.rays == ["checked"] and comparing.folders == []
    a, b, address, options, progress, on_rows = comparing.rays[0]
    assert (a.model, b.model, address, progress.label) == (str(lot.a), str(lot.b), "local", "compare")
    assert options is comparing.pairs[0][2] and on_rows == comparing.instance.on_rows
    assert comparing.finished is comparing.comparison


def test_progress_is_on_stderr(lot, review, capsys, monkeypatch):
    made = []
    real = common.Progress

    def recorded(stream, label, unit, every=0.0):
        made.append(stream)
        return real(stream, label, unit, every)

    monkeypatch.setattr("cli.batch_cmd.Progress", recorded)
    import sys

    run(capsys, "batch", "--model", lot.a, "--images", lot.images, "--out", lot.out)
    assert made == [sys.stderr]


@pytest.mark.parametrize("command", ["batch", "compare"])
def test_an_output_folder_inside_the_lot_is_not_taken_for_its_images(lot, review, comparing, capsys, tmp_path,
                                                                     command):
    inside = tmp_path / "only" / "out"
    inside.mkdir(parents=True)
    cv2.imwrite(str(inside / "overlay.png"), np.zeros((8, 8, 3), np.uint8))  # an earlier run's overlay
    against = ["--against", lot.b] if command == "compare" else []
    code, _out, err = run(capsys, command, "--model", lot.a, *against, "--images", tmp_path / "only", "--out", inside)
    assert code == 2 and err == f"convscope: error: {tmp_path / 'only'}: no images found\n"


@pytest.mark.parametrize("command", ["batch", "compare", "explain"])
def test_a_window_title_names_the_method_of_every_command(command):
    from cli.app import build_parser

    argv = {"batch": ["--images", "d", "--out", "o"], "compare": ["--against", "b", "--images", "d", "--out", "o"],
            "explain": ["--image", "i"]}[command]
    assert build_parser().parse_args([command, "--model", "m", *argv, "--method", "Grad-CAM++"]).method == "gradcam++"
