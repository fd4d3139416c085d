"""Guards found by a product review: outputs that would overwrite inputs, out-of-range model
outputs, option ranges, resuming a review of another folder, earlier reports inside the
images folder, and saying why a trusted model was refused. Each bad input: exit 2, one line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_run import refused, run
from tests.models import lambda_model, multi_output_model, save_model

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGES = ROOT / "resources" / "demo" / "images"
IMAGE = DEMO_IMAGES / "crack" / "crack_01.png"



@pytest.mark.parametrize("command", ["predict", "explain", "activations"])
def test_output_out_of_range_is_one_line_naming_the_outputs(capfd, tmp_path, command):
    args = {"predict": ["predict", "--model", DEMO_MODEL, IMAGE],
            "explain": ["explain", "--model", DEMO_MODEL, "--image", IMAGE],
            "activations": ["activations", "--model", DEMO_MODEL, "--image", IMAGE, "--layer", "block1_conv",
                            "--out", tmp_path / "a.png"]}[command]
    for bad in ("1", "-1", "cls"):
        err = refused(capfd, *args, "--output", bad)
        assert "out of range" in err and "1 output" in err


def test_output_by_name_on_a_multi_output_model(capfd, tmp_path):
    model = save_model(multi_output_model(), tmp_path, "multi.keras")
    image = tmp_path / "i.png"
    shutil.copy(IMAGE, image)
    code, out, err = run(capfd, "predict", "--model", model, image, "--output", "grade", "--json", "--top", "5")
    assert code == 0, err
    assert len(json.loads(out)["predictions"][0]["top"]) == 5  # "grade" has 5 classes, "kind" 3


def test_outputs_never_overwrite_inputs_or_each_other(capfd, tmp_path):
    image, model = tmp_path / "victim.png", tmp_path / "victim.keras"
    shutil.copy(IMAGE, image)
    shutil.copy(DEMO_MODEL, model)
    before = image.read_bytes(), model.read_bytes()
    assert "is an input" in refused(capfd, "explain", "--model", model, "--image", image, "--out", image)
    assert "must end in .png" in refused(capfd, "activations", "--model", model, "--image", image,
                                         "--layer", "block1_conv", "--out", model)
    assert "must end in .png" in refused(capfd, "explain", "--model", model, "--image", image,
                                         "--out", tmp_path / "x.jpg")
    same = tmp_path / "same.png"
    assert "also the file of --out" in refused(capfd, "explain", "--model", model, "--image", image,
                                               "--out", same, "--save-heatmap", same)
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    assert "is a file" in refused(capfd, "explain", "--model", model, "--image", image,
                                  "--out", tmp_path / "ok.png", "--save-heatmap", blocker / "map.npy")
    assert (image.read_bytes(), model.read_bytes()) == before
    assert not same.exists() and not (tmp_path / "ok.png").exists()  # refused before any work


@pytest.mark.parametrize("argv", [["explain", "--alpha", "nan"], ["explain", "--alpha", "1.5"],
                                  ["predict", "--top", "0"]])
def test_option_ranges(capfd, argv):
    command, *rest = argv
    target = ["--image", IMAGE] if command == "explain" else [IMAGE]
    refused(capfd, command, "--model", DEMO_MODEL, *target, *rest)


def test_input_layer_and_nested_model_are_named_for_what_they_are(capfd):
    err = refused(capfd, "explain", "--model", DEMO_MODEL, "--image", IMAGE, "--layer", "image")
    assert "is the model's input" in err


def test_trusted_model_still_says_why_safe_mode_refused_it(capfd, tmp_path):
    model = save_model(lambda_model(), tmp_path, "lam.keras")
    image = tmp_path / "i.png"
    shutil.copy(IMAGE, image)
    code, _out, err = run(capfd, "predict", "--model", model, image, "--trust-model")
    assert code == 0 and "double_it" in err and "safe mode" in err


def test_resume_refuses_another_images_folder_and_skips_earlier_reports(capfd, tmp_path):
    images = tmp_path / "imgs"
    for label in ("crack", "ok"):
        (images / label).mkdir(parents=True)
        for source in sorted((DEMO_IMAGES / label).glob(f"{label}_0[12]*.png")):
            shutil.copy(source, images / label / source.name)
    first = images / "review"  # an earlier report inside the images folder
    code, out, err = run(capfd, "batch", "--model", DEMO_MODEL, "--images", images, "--out", first)
    assert code == 0, err
    reviewed = json.loads((first / "summary.json").read_text())["images_total"]
    second = tmp_path / "second"
    code, out, err = run(capfd, "batch", "--model", DEMO_MODEL, "--images", images, "--out", second)
    assert code == 0, err
    assert json.loads((second / "summary.json").read_text())["images_total"] == reviewed  # overlays not re-read
    err = refused(capfd, "batch", "--model", DEMO_MODEL, "--images", images / "crack", "--out", second, "--resume")
    assert "images differs" in err


def test_unwritable_output_is_refused_before_any_work(capfd, tmp_path):
    import os

    if os.geteuid() == 0:
        target = "/proc/convscope-test.png"  # not writable even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        target = locked / "x.png"
    assert "cannot write there" in refused(capfd, "filters", "--model", DEMO_MODEL, "--layer", "block1_conv",
                                      "--out", target, "--count", "1", "--steps", "1")


def test_duplicate_class_names_in_the_sidecar_are_refused(capfd, tmp_path):
    model = tmp_path / "m.keras"
    shutil.copy(DEMO_MODEL, model)
    (tmp_path / "m.convscope.json").write_text(json.dumps({"class_names": ["a", "b", "a", "c"]}))
    assert "'a' more than once" in refused(capfd, "info", "--model", model)


def test_no_display_is_one_line_not_a_qt_abort(capfd, monkeypatch):
    import sys

    from cli.display import display_problem

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the check is for Linux sessions")
    assert "no display" in refused(capfd, "gui")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_class_named_by_digits_is_taken_by_name(capfd, tmp_path):
    from tests.models import tiny_cnn

    model = save_model(tiny_cnn(classes=2), tmp_path, "digits.keras")
    (tmp_path / "digits.convscope.json").write_text(json.dumps({"class_names": ["1", "0"]}))
    image = tmp_path / "i.png"
    shutil.copy(IMAGE, image)
    code, out, err = run(capfd, "explain", "--model", model, "--image", image, "--class", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["class_index"], data["class_name"]) == (0, "1")
