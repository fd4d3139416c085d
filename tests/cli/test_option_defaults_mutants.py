"""Every command's options parse to the documented defaults and types, and refuse what their
help says they refuse (the parser only: no model is opened)."""

from __future__ import annotations

import pytest

from cli.app import build_parser
from engine.review import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE
from tests.cli_run import refused

MODEL = ["--model", "m.keras"]
MINIMAL = {
    "info": MODEL,
    "predict": [*MODEL, "a.png"],
    "explain": [*MODEL, "--image", "a.png"],
    "activations": [*MODEL, "--image", "a.png", "--layer", "conv", "--out", "g.png"],
    "filters": [*MODEL, "--layer", "conv", "--out", "f.png"],
    "batch": [*MODEL, "--images", "lot", "--out", "out"],
    "sanity": [*MODEL, "--image", "a.png"],
    "compare": [*MODEL, "--against", "b.keras", "--images", "lot", "--out", "out"],
}
MODEL_DEFAULTS = {"model": "m.keras", "preprocessing": None, "trust_model": False}
DEFAULTS = {
    "info": {"json": False},
    "predict": {"images": ["a.png"], "top": 5, "output": "0", "json": False},
    "explain": {"image": "a.png", "method": "gradcam", "layer": None, "layers": None, "class_": None, "output": "0",
                "out": None, "save_heatmap": None, "alpha": 0.4, "colormap": "jet", "json": False,
                "faithfulness": False},
    "activations": {"image": "a.png", "layer": "conv", "out": "g.png", "scale": "shared", "sort": "index",
                    "columns": None, "tile": None, "output": "0", "json": False},
    "filters": {"layer": "conv", "out": "f.png", "count": 64, "first": 0, "size": 64, "steps": 40, "plain": False,
                "step_size": None, "seed": 0, "columns": 8, "jitter": None, "blur_every": None, "tv": 0.0,
                "pre_activation": None, "labels": True, "quiet": False, "json": False},
    "batch": {"images": "lot", "method": "gradcam", "out": "out", "resume": False, "batch_size": 16, "layer": None,
              "layers": None, "target": "predicted", "tolerance": DEFAULT_TOLERANCE, "threshold": DEFAULT_THRESHOLD,
              "alpha": 0.4, "colormap": "jet", "trust": False, "annotations": None, "label_map": None, "ray": None,
              "verbose": False},
    "sanity": {"image": "a.png", "method": None, "layer": None, "class_": None, "json": False},
    "compare": {"against": "b.keras", "against_preprocessing": None, "images": "lot", "method": "occlusion",
                "out": "out", "batch_size": 16, "layer": None, "target": "predicted", "trust": False, "ray": None},
}


@pytest.mark.parametrize("command", list(MINIMAL))
def test_each_command_parses_to_its_documented_defaults(command):
    args = vars(build_parser().parse_args([command, *MINIMAL[command]]))
    expected = {**MODEL_DEFAULTS, **DEFAULTS[command], "command": command}
    assert {key: args[key] for key in expected} == expected
    assert args["run"].__name__ == f"run_{command}"


def test_numbers_parse_as_numbers():
    args = build_parser().parse_args(["batch", *MINIMAL["batch"], "--batch-size", "8", "--tolerance", "2",
                                      "--threshold", "0.25", "--alpha", "1"])
    assert (args.batch_size, args.tolerance, args.threshold, args.alpha) == (8, 2.0, 0.25, 1.0)
    assert isinstance(args.batch_size, int) and isinstance(args.tolerance, float)
    args = build_parser().parse_args(["compare", *MINIMAL["compare"], "--batch-size", "4"])
    assert args.batch_size == 4
    args = build_parser().parse_args(["filters", *MINIMAL["filters"], "--first", "3", "--steps", "7", "--seed", "9",
                                      "--step-size", "0.5", "--jitter", "2", "--blur-every", "3", "--tv", "0.1",
                                      "--no-pre-activation", "--no-labels", "--columns", "4", "--count", "2",
                                      "--size", "32"])
    assert (args.first, args.steps, args.seed, args.step_size, args.jitter, args.blur_every, args.tv) == (
        3, 7, 9, 0.5, 2, 3, 0.1)
    assert (args.pre_activation, args.labels, args.columns, args.count, args.size) == (False, False, 4, 2, 32)
    assert build_parser().parse_args(["filters", *MINIMAL["filters"], "--pre-activation"]).pre_activation is True
    args = build_parser().parse_args(["activations", *MINIMAL["activations"], "--columns", "3", "--tile", "16"])
    assert (args.columns, args.tile) == (3, 16)
    assert build_parser().parse_args(["predict", *MINIMAL["predict"], "--top", "2"]).top == 2


def test_ray_runs_locally_unless_given_an_address():
    assert build_parser().parse_args(["batch", *MINIMAL["batch"], "--ray"]).ray == "local"
    assert build_parser().parse_args(["batch", *MINIMAL["batch"], "--ray", "auto"]).ray == "auto"
    assert build_parser().parse_args(["compare", *MINIMAL["compare"], "--ray"]).ray == "local"


def test_the_model_options_of_every_command():
    for command in MINIMAL:
        args = build_parser().parse_args([command, *MINIMAL[command], "--preprocessing", "caffe", "--trust-model"])
        assert (args.preprocessing, args.trust_model) == ("caffe", True)


@pytest.mark.parametrize(("command", "option"), [
    ("predict", "--top"), ("activations", "--columns"), ("activations", "--tile"), ("filters", "--count"),
    ("filters", "--size"), ("filters", "--columns")])
def test_counts_and_sizes_start_at_1(capsys, command, option):
    err = refused(capsys, command, *MINIMAL[command], option, "0")
    assert err == f"convscope {command}: error: argument {option}: 0 is less than 1\n"


@pytest.mark.parametrize("command", ["explain", "batch"])
def test_the_overlay_opacity_is_a_fraction(capsys, command):
    assert "1.5 is not between 0 and 1" in refused(capsys, command, *MINIMAL[command], "--alpha", "1.5")


@pytest.mark.parametrize(("command", "option", "value"), [
    ("batch", "--target", "folder"), ("compare", "--target", "x"), ("activations", "--scale", "each"),
    ("activations", "--sort", "max"), ("explain", "--colormap", "rainbowz"), ("batch", "--colormap", "x"),
    ("compare", "--against-preprocessing", "weird"), ("info", "--preprocessing", "weird")])
def test_choices_are_refused_outside_their_list(capsys, command, option, value):
    assert f"argument {option}: invalid choice: '{value}'" in refused(capsys, command, *MINIMAL[command], option, value)


def test_the_model_and_compares_second_model_are_required(capsys):
    assert "the following arguments are required: --model" in refused(capsys, "info")
    assert "required: --against" in refused(capsys, "compare", "--model", "m", "--images", "d", "--out", "o")


def test_a_whole_number_parameter_refuses_a_decimal_when_parsing(capsys):
    err = refused(capsys, "explain", *MINIMAL["explain"], "--method", "smoothgrad", "--samples", "1.5")
    assert err == "convscope explain: error: argument --samples: '1.5' is not a whole number\n"
