"""What each command prints and writes from the engine's answers, exactly, and what it refuses
before the model loads (cli.*_cmd). The engine's answers come from a stand-in session built
from the engine's own result types, so these tests run without TensorFlow; the real model's
path is covered by tests/cli/test_cli.py and the other command tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from cli import batch_cmd, common, compare_cmd, features_cmd
from engine.model.heads import Head
from engine.model.layers import LayerInfo
from engine.results import ClassScore, Explanation, ModelInfo, Prediction
from tests.cli_run import refused, run

LAYERS = (LayerInfo("conv", "conv", "Conv2D", (None, 8, 8, 4), 448, 0, False),
          LayerInfo("base", "base", "Functional", (None, 4, 4, 6), 1200, 0, True),
          LayerInfo("base/inner", "inner", "Conv2D", (None, 4, 4, 6), 222, 1, False),
          LayerInfo("dense", "dense", "Dense", (None, 3), 1234567, 0, False))
INFO = ModelInfo("/models/m.keras", "m", (32, 32, 3), ("good", "scratch", "spot"), (Head("softmax", 3),),
                 ("probs",), "unit", "sidecar", "conv", LAYERS, 1236789,
                 ("class names guessed", "something else"))


class FakeSession:
    """Answers as engine.Session does, from fixed values; records what it was asked."""

    def __init__(self, info: ModelInfo = INFO) -> None:
        self.info = info
        self.asked: list[tuple] = []

    def load_image(self, path):
        self.asked.append(("load", str(path)))
        return SimpleNamespace(display=np.full((32, 48, 3), 128, np.uint8), path=str(path))

    def predict(self, images, top, output):
        self.asked.append(("predict", top, output))
        return [Prediction(image.path, (ClassScore(1, "scratch", 0.875, 2.5), ClassScore(0, "good", 0.125, -1.25)))
                for image in images]

    def explain(self, image, **kwargs):
        assert image.path == self.asked[-1][1] != "None"  # the image just loaded, from --image
        self.asked.append(("explain", kwargs))
        heat = np.zeros((32, 48), np.float32)
        heat[8:24, 12:36] = 1.0
        return Explanation(kwargs["method"], "conv", 1, "scratch", 0.875, 2.5, heat, heat[::4, ::4], 0.0123,
                           params={"outline": kwargs.get("outline", False)}, notes=("a note",))

    def class_name(self, index):
        return self.info.class_names[index]


@pytest.fixture
def session(monkeypatch) -> FakeSession:
    fake = FakeSession()
    opened = []

    def open_model(model, trust, preprocessing):
        opened.append((model, trust, preprocessing))
        return fake

    import engine.session

    monkeypatch.setattr(engine.session.Session, "open", staticmethod(open_model))
    fake.opened = opened
    return fake


@pytest.fixture
def inputs(tmp_path) -> SimpleNamespace:
    (tmp_path / "lot" / "ok").mkdir(parents=True)
    image = tmp_path / "lot" / "ok" / "a.png"
    cv2.imwrite(str(image), np.full((32, 48, 3), 128, np.uint8))
    model = tmp_path / "m.keras"
    model.write_bytes(b"x")
    return SimpleNamespace(model=model, image=image, images=tmp_path / "lot", root=tmp_path)


# -- opening the model --------------------------------------------------------------------------
def test_the_session_opens_with_the_options_and_warns_of_sidecar_and_safe_mode(session, inputs, capsys):
    args = SimpleNamespace(model="m.keras", trust_model=True, preprocessing="caffe", command="explain")
    info = INFO.__class__(**{**vars(INFO), "warnings": ("sidecar: bad", "safe mode: Lambda layer", "other")})
    session.info = info
    assert common.open_session(args) is session
    assert session.opened == [("m.keras", True, "caffe")]
    assert capsys.readouterr().err == ("convscope: warning: sidecar: bad\n"
                                       "convscope: warning: safe mode: Lambda layer\n")
    common.open_session(SimpleNamespace(model="m.keras", trust_model=False, preprocessing=None, command="info"))
    assert capsys.readouterr().err == ""  # info lists every warning itself
    common.open_session(SimpleNamespace(model="m.keras", trust_model=False, preprocessing=None))  # from a script
    assert capsys.readouterr().err.count("convscope: warning: ") == 2


# -- info and predict --------------------------------------------------------------------------------
def test_info_prints_the_model_summary_and_its_layer_table(session, inputs, capsys):
    code, out, err = run(capsys, "info", "--model", inputs.model)
    assert code == 0 and err == ""
    assert out.splitlines()[:8] == [
        "model          /models/m.keras",
        "input          (32, 32, 3)   preprocessing: unit (sidecar)",
        "classes        good, scratch, spot",
        "output         probs: 3 unit(s), softmax",
        "default layer  conv",
        "parameters     1,236,789",
        "warning        class names guessed",
        "warning        something else"]
    table = out.splitlines()[9:]
    assert table[0].split() == ["layer", "type", "output", "shape", "params", "CAM", "target"]
    assert table[2].split() == ["conv", "Conv2D", "(None,", "8,", "8,", "4)", "448", "yes"]
    assert table[4].startswith("  inner ")  # nested layers indented by depth
    assert table[5].split() == ["dense", "Dense", "(None,", "3)", "1,234,567"]


def test_info_without_a_cam_layer_says_so(session, inputs, capsys):
    session.info = INFO.__class__(**{**vars(INFO), "default_layer": None, "warnings": ()})
    _code, out, _ = run(capsys, "info", "--model", inputs.model)
    assert "default layer  (none: CAMs unavailable)" in out.splitlines()


def test_info_json_is_the_models_summary(session, inputs, capsys):
    code, out, _ = run(capsys, "info", "--model", inputs.model, "--json")
    assert code == 0 and json.loads(out) == json.loads(json.dumps(INFO.to_json()))


def test_predict_lists_the_top_classes_of_each_image(session, inputs, capsys):
    code, out, _ = run(capsys, "predict", "--model", inputs.model, inputs.image, inputs.image, "--top", "2",
                       "--output", "probs")
    assert code == 0
    assert out.splitlines() == [str(inputs.image), "   87.50%  scratch (class 1, logit 2.500)",
                                "   12.50%  good (class 0, logit -1.250)"] * 2
    assert ("predict", 2, "probs") in session.asked


def test_predict_json_and_its_defaults(session, inputs, capsys):
    code, out, _ = run(capsys, "predict", "--model", inputs.model, inputs.image, "--json")
    assert code == 0 and json.loads(out)["predictions"][0]["top"][0] == {
        "index": 1, "name": "scratch", "probability": 0.875, "logit": 2.5}
    assert ("predict", 5, "0") in session.asked


# -- explain ---------------------------------------------------------------------------------------
def test_explain_prints_what_was_explained_and_writes_the_overlay_and_the_map(session, inputs, capsys):
    out_png, map_npy = inputs.root / "o.png", inputs.root / "m.npy"
    code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--method", "Grad-CAM",
                       "--layer", "conv", "--class", "scratch", "--output", "1", "--out", out_png,
                       "--save-heatmap", map_npy, "--alpha", "0.5", "--colormap", "viridis")
    assert code == 0
    assert out.splitlines() == ["gradcam on conv: class 1 'scratch' p=0.875 logit=2.500 in 0.012s",
                                "note: a note", f"wrote overlay: {out_png}", f"wrote heatmap: {map_npy}"]
    kwargs = session.asked[-1][1]
    assert (kwargs["method"], kwargs["layer"], kwargs["class_index"], kwargs["output"]) == (
        "gradcam", "conv", "scratch", "1")
    from engine.maps.render import overlay

    picture = cv2.cvtColor(cv2.imread(str(out_png)), cv2.COLOR_BGR2RGB)
    heat = np.load(map_npy)
    assert np.array_equal(picture, overlay(np.full((32, 48, 3), 128, np.uint8), heat, 0.5, "viridis", 0.0))


def test_explain_outlines_draw_strong_lines_at_half(session, inputs, capsys):
    out_png = inputs.root / "o.png"
    code, _out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--outline",
                        "--out", out_png, "--alpha", "0.3")
    from engine.maps.render import overlay

    heat = np.zeros((32, 48), np.float32)
    heat[8:24, 12:36] = 1.0
    picture = cv2.cvtColor(cv2.imread(str(out_png)), cv2.COLOR_BGR2RGB)
    assert code == 0 and np.array_equal(picture, overlay(np.full((32, 48, 3), 128, np.uint8), heat, 0.8, "jet", 0.5))


def test_explain_defaults_and_nothing_written_says_how_to_keep_the_map(session, inputs, capsys):
    code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image)
    assert code == 0 and out.splitlines()[-1] == (
        "nothing written: add --out overlay.png (and/or --save-heatmap map.npy) to keep the map")
    kwargs = session.asked[-1][1]
    assert (kwargs["method"], kwargs["layer"], kwargs["class_index"], kwargs["output"]) == ("gradcam", None, None, "0")


def test_explain_layers_win_over_layer(session, inputs, capsys):
    run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--layers", "a,b", "--layer", "c")
    assert session.asked[-1][1]["layer"] == "a,b"


def test_explain_json_adds_the_image_and_what_was_written(session, inputs, capsys):
    out_png = inputs.root / "o.png"
    code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--out", out_png, "--json")
    data = json.loads(out)
    assert code == 0 and data["image"] == str(inputs.image) and data["written"] == {"overlay": str(out_png)}
    assert data["method"] == "gradcam" and data["class_index"] == 1 and "faithfulness" not in data


def test_a_class_agnostic_map_says_the_class_is_only_the_prediction(session, inputs, capsys):
    _code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--method", "eigencam")
    assert out.splitlines()[0] == ("eigencam on conv: class-agnostic (the same map for every class; predicted 1 "
                                   "'scratch' p=0.875) in 0.012s")


def test_explain_refuses_bad_outputs_and_parameters_before_the_model(session, inputs, capsys):
    err = refused(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--out", inputs.image)
    assert "is an input" in err
    err = refused(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--save-heatmap", "m.jpg")
    assert err == "convscope: error: --save-heatmap m.jpg: the file name must end in .npy or .png\n"
    err = refused(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--out", "o.jpg")
    assert err == "convscope: error: --out o.jpg: the file name must end in .png\n"
    err = refused(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--samples", "3")
    assert "samples" in err
    assert session.opened == []


# -- activations and filters ------------------------------------------------------------------------------
@pytest.fixture
def features(monkeypatch, session, inputs):
    import engine.features.activations as acts
    import engine.features.patterns as patterns

    asked = []
    layer = LayerInfo("block/conv", "conv", "Conv2D", (None, 8, 10, 6), 100, 1, False)

    def feature_layer(s, name):
        assert s is session and name == "conv"  # the opened model, the layer the user named
        asked.append(("layer", name))
        return layer

    def activations(s, image, path, output):
        assert s is session and image.path == str(inputs.image)  # the image loaded from --image
        asked.append(("maps", path, output))
        return np.random.default_rng(0).random((8, 10, 6), dtype=np.float32) * np.arange(1, 7, dtype=np.float32)

    monkeypatch.setattr(acts, "feature_layer", feature_layer)
    monkeypatch.setattr(acts, "activations", activations)

    def filter_patterns(s, path, chosen, settings, progress=None):
        assert s is session
        asked.append(("patterns", path, list(chosen), settings, progress))
        return np.full((len(chosen), settings.size, settings.size, 3), 99, np.uint8)

    monkeypatch.setattr(patterns, "filter_patterns", filter_patterns)
    return asked


def test_activations_write_the_grid_and_say_its_size(features, inputs, capsys):
    out_png = inputs.root / "g.png"
    code, out, _ = run(capsys, "activations", "--model", inputs.model, "--image", inputs.image, "--layer", "conv",
                       "--out", out_png, "--columns", "3", "--tile", "16", "--output", "1")
    assert code == 0 and out == f"activations of block/conv 8x10x6: 2x3 tiles, wrote {out_png}\n"
    assert ("maps", "block/conv", "1") in features and out_png.exists()


def test_activations_json_and_their_grid_options(features, inputs, capsys):
    out_png = inputs.root / "g.png"
    code, out, _ = run(capsys, "activations", "--model", inputs.model, "--image", inputs.image, "--layer", "conv",
                       "--out", out_png, "--json", "--sort", "mean", "--scale", "tile", "--columns", "2",
                       "--tile", "20")
    data = json.loads(out)
    assert code == 0 and data["layer"] == "block/conv" and data["map_shape"] == [8, 10, 6]
    assert data["tile"][1] == 20 or data["tile"][0] == 20  # the tile size asked for
    assert (data["columns"], data["rows"], data["written"]) == (2, 3, str(out_png))
    assert sorted(data["order"]) == list(range(6)) and data["order"] != list(range(6))  # by mean, not index
    assert list(cv2.imread(str(out_png)).shape) == data["grid_shape"]
    per_tile = cv2.imread(str(out_png))
    run(capsys, "activations", "--model", inputs.model, "--image", inputs.image, "--layer", "conv", "--out", out_png,
        "--sort", "mean", "--columns", "2", "--tile", "20")
    assert not np.array_equal(cv2.imread(str(out_png)), per_tile)  # one colour scale for all: other colours


@pytest.mark.parametrize("command", ["activations", "filters"])
def test_a_grid_must_be_a_png(features, inputs, capsys, command):
    image = ["--image", inputs.image] if command == "activations" else []
    err = refused(capsys, command, "--model", inputs.model, *image, "--layer", "conv", "--out", "g.jpg")
    assert err == "convscope: error: --out g.jpg: the file name must end in .png\n"


def test_filters_write_the_patterns_of_the_chosen_range(features, inputs, capsys):
    out_png = inputs.root / "f.png"
    code, out, err = run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png,
                         "--first", "2", "--count", "10", "--size", "8", "--steps", "3", "--quiet")
    chosen, settings, progress = features[-1][2:]
    assert code == 0 and chosen == [2, 3, 4, 5] and progress is None and err == ""
    assert out.startswith("4 filter patterns of block/conv (8 px, 3 steps), regularised ascent, in ")
    assert out.rstrip().endswith(f"s, wrote {out_png}")
    assert (settings.size, settings.steps, settings.step_size, settings.jitter, settings.blur_every,
            settings.pre_activation) == (8, 3, 4.0, 4, 4, True)


def test_filters_json_and_plain_ascent(features, inputs, capsys):
    out_png = inputs.root / "f.png"
    code, out, _ = run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png, "--plain",
                       "--count", "3", "--size", "8", "--steps", "2", "--json", "--no-labels", "--columns", "2")
    data = json.loads(out)
    assert code == 0 and data["filters"] == [0, 1, 2] and data["regularised"] is False
    assert (data["size"], data["steps"], data["written"]) == (8, 2, str(out_png))
    assert data["settings"]["step_size"] == 1.0 and data["settings"]["jitter"] == 0
    assert features[-1][4] is None  # --json: no progress on stderr
    assert list(cv2.imread(str(out_png)).shape) == data["grid_shape"]


def test_filters_show_progress_unless_quiet(features, inputs, capsys):
    import sys

    run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", inputs.root / "f.png", "--count", "1")
    progress = features[-1][4]
    assert isinstance(progress, common.Progress) and progress.label == "filter patterns of block/conv"
    assert progress.unit == "step" and progress.stream is sys.stderr


@pytest.mark.parametrize("first", ["-1", "6"])
def test_a_first_filter_outside_the_layer_is_refused(features, inputs, capsys, first):
    err = refused(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", inputs.root / "f.png",
                  "--first", first)
    assert err == f"convscope: error: --first {first} is out of range: layer 'block/conv' has 6 filters\n"


def test_the_last_filter_is_a_valid_first(features, inputs, capsys):
    code, out, _ = run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", inputs.root / "f.png",
                       "--first", "5", "--quiet")
    assert code == 0 and features[-1][2] == [5]


def test_pattern_settings_take_each_option_over_the_regularised_defaults():
    base = SimpleNamespace(plain=False, size=32, steps=5, seed=3, tv=0.5, step_size=None, jitter=None,
                           blur_every=None, pre_activation=None)
    settings = features_cmd.pattern_settings(base)
    assert (settings.size, settings.steps, settings.seed, settings.tv) == (32, 5, 3, 0.5)
    assert (settings.step_size, settings.jitter, settings.blur_every, settings.pre_activation) == (4.0, 4, 4, True)
    given = SimpleNamespace(**{**vars(base), "step_size": 2.0, "jitter": 0, "blur_every": 0, "pre_activation": False})
    settings = features_cmd.pattern_settings(given)
    assert (settings.step_size, settings.jitter, settings.blur_every, settings.pre_activation) == (2.0, 0, 0, False)
    plain = features_cmd.pattern_settings(SimpleNamespace(**{**vars(base), "plain": True}))
    assert (plain.step_size, plain.jitter, plain.blur_every, plain.pre_activation) == (1.0, 0, 0, False)


# -- sanity ------------------------------------------------------------------------------------------
def test_sanity_checks_the_default_methods_once_each_and_prints_their_verdicts(session, inputs, capsys, monkeypatch):
    import engine.trust.sanity as sanity

    asked = []

    def check(s, image, methods, layer, class_index, progress=None):
        import sys

        assert s is session and image.path == str(inputs.image)  # the image loaded by the opened model
        assert progress.stream is sys.stderr and progress.label == "sanity"
        asked.append((methods, layer, class_index, progress))
        stage = sanity.SanityStage("", np.zeros((4, 4), np.float32), 1.0, 1.0)
        later = sanity.SanityStage("dense", np.zeros((4, 4), np.float32), 0.25, 0.5)
        return [sanity.SanityResult(m, 2, (stage, later), True, "it changed") for m in methods]

    monkeypatch.setattr(sanity, "sanity_check", check)
    code, out, _ = run(capsys, "sanity", "--model", inputs.model, "--image", inputs.image)
    assert code == 0 and asked[-1][:3] == (["gradcam", "guided-backprop"], None, None)
    assert isinstance(asked[-1][3], common.Progress) and asked[-1][3].unit == "layer"
    assert out.splitlines()[0] == "gradcam: PASS: it changed" and out.splitlines()[2] == "guided-backprop: PASS: it changed"
    code, out, _ = run(capsys, "sanity", "--model", inputs.model, "--image", inputs.image, "--method", "saliency",
                       "--method", "Saliency (gradients)", "--layer", "conv", "--class", "spot", "--json")
    data = json.loads(out)
    assert code == 0 and asked[-1][:3] == (["saliency"], "conv", "spot")
    assert (data["class_index"], data["class_name"], data["model"], data["image"]) == (
        2, "spot", "/models/m.keras", str(inputs.image))
    assert [r["method"] for r in data["results"]] == ["saliency"]


# -- batch and compare: refusals before the model, and their summaries ------------------------------------------
def test_batch_refuses_its_images_folder_as_output_and_an_empty_folder(session, inputs, capsys, tmp_path):
    err = refused(capsys, "batch", "--model", inputs.model, "--images", inputs.images, "--out", inputs.images)
    assert err == "convscope: error: --out must be a folder of its own, not the images folder\n"
    (tmp_path / "empty").mkdir()
    err = refused(capsys, "batch", "--model", inputs.model, "--images", tmp_path / "empty", "--out", tmp_path / "o")
    assert err == f"convscope: error: {tmp_path / 'empty'}: no images found\n"
    err = refused(capsys, "batch", "--model", inputs.model, "--images", inputs.images, "--out", tmp_path / "o",
                  "--patch", "0", "--method", "occlusion")
    assert "patch" in err
    assert session.opened == [] and not (tmp_path / "o").exists()


def test_compare_refuses_the_same_before_opening_either_model(session, inputs, capsys, tmp_path):
    base = ["compare", "--model", inputs.model, "--against", inputs.model]
    err = refused(capsys, *base, "--images", inputs.images, "--out", inputs.images)
    assert err == "convscope: error: --out must be a folder of its own, not the images folder\n"
    (tmp_path / "empty").mkdir()
    err = refused(capsys, *base, "--images", tmp_path / "empty", "--out", tmp_path / "o")
    assert err == f"convscope: error: {tmp_path / 'empty'}: no images found\n"
    assert "samples" in refused(capsys, *base, "--images", inputs.images, "--out", tmp_path / "o", "--samples", "2")
    assert session.opened == []


def test_annotation_lines_count_unknown_labels_per_image_and_skipped_files():
    from engine.annotations import SKIPPED_NOTE, UNKNOWN_NOTE

    rows = [SimpleNamespace(note=f"{UNKNOWN_NOTE}Kratzer, Fleck"), SimpleNamespace(note=f"x; {UNKNOWN_NOTE}Kratzer"),
            SimpleNamespace(note=f"{SKIPPED_NOTE}bad.json; other"), SimpleNamespace(note="")]
    assert batch_cmd.annotation_lines(rows) == [
        "labels that are not classes of the model, their regions left out: 'Fleck' (1 image), 'Kratzer' (2 images); "
        "map them with --label-map 'LABEL=CLASS'",
        "1 malformed annotation file(s) skipped: see the note column of results.csv"]
    assert batch_cmd.annotation_lines([SimpleNamespace(note="fine")]) == []


def _review_result(rows: int, errors: int = 0, trust=None):
    from engine.review.stats import LabelStats

    overall = LabelStats("all", rows, errors, rows, rows - 1, 2)
    return SimpleNamespace(overall=overall, rows=tuple(SimpleNamespace(note="") for _ in range(rows)), total=10,
                           seconds=3.25, trust=trust)


def test_the_batch_summary_counts_this_runs_images_and_the_earlier_ones(capsys):
    from engine.annotations import SKIPPED_NOTE
    from engine.review.stats import figures_line

    result = _review_result(6, errors=1, trust={"overall": {"verdict": "right-reason", "verdict_reason": "ok"}})
    result.rows = (*result.rows[:-1], SimpleNamespace(note=f"{SKIPPED_NOTE}bad.json"))
    batch_cmd._print_summary(result, 4, "out")  # noqa: SLF001
    lines = capsys.readouterr().out.splitlines()
    assert lines.pop(2) == "1 malformed annotation file(s) skipped: see the note column of results.csv"
    assert lines == [f"reviewed 4 images in 3.2s (+2 from the earlier run), 6 of 10 done: "
                     f"{figures_line(result.overall, ', ')} (2 with a mask)",
                     "1 image(s) could not be read: see results.csv", "verdict: RIGHT-REASON: ok",
                     f"wrote {Path('out') / 'results.csv'}, summary.json, report.html, overlays{os.sep}"]
    batch_cmd._print_summary(_review_result(6), 6, "out")  # noqa: SLF001
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("reviewed 6 images in 3.2s, 6 of 10 done: ") and len(lines) == 2


def test_the_compare_summary_gives_agreement_and_map_similarity(capsys):
    summary = {"images": 12, "seconds": 4.56, "agreement": 0.75, "flips": 3, "mean_map_spearman": 0.25,
               "mean_map_top_iou": None, "verdict_a": "right-reason", "verdict_b": "shortcut-suspected"}
    compare_cmd._print(summary, "out")  # noqa: SLF001
    assert capsys.readouterr().out.splitlines() == [
        "compared 12 images in 4.6s: agreement 0.750 (3 flipped), mean map Spearman 0.250, mean top-10% IoU –",
        "verdict A: right-reason; verdict B: shortcut-suspected",
        f"wrote {Path('out') / 'comparison.csv'}, comparison.json, report.html"]
    compare_cmd._print({**summary, "verdict_a": None, "verdict_b": None, "mean_map_spearman": None,  # noqa: SLF001
                        "mean_map_top_iou": 0.5, "agreement": None}, "out")
    assert capsys.readouterr().out.splitlines()[0] == (
        "compared 12 images in 4.6s: agreement – (3 flipped), mean map Spearman –, mean top-10% IoU 0.500")
    compare_cmd._print({**summary, "verdict_a": None, "verdict_b": "right-reason"}, "out")  # noqa: SLF001
    assert len(capsys.readouterr().out.splitlines()) == 3


def test_explain_faithfulness_prints_the_areas_and_adds_them_to_json(session, inputs, capsys, monkeypatch):
    import engine.trust.faithfulness as faithful
    from engine.trust.cli_text import faithfulness_lines

    fractions = np.linspace(0, 1, 5)
    found = faithful.Faithfulness(1, fractions, faithful.Curves(np.linspace(1, 0, 5), np.linspace(0, 1, 5)),
                                  faithful.Curves(np.full(5, 0.5), np.full(5, 0.5)), None, 3)
    asked = []

    def curves(s, images, heatmaps, classes, output=0):
        assert s is session and images[0].path == str(inputs.image)
        asked.append((len(images), heatmaps[0].shape, classes, output))
        return [found]

    monkeypatch.setattr(faithful, "faithfulness", curves)
    code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--faithfulness",
                       "--output", "probs")
    assert code == 0 and asked == [(1, (32, 48), [1], "probs")]
    assert out.splitlines()[-3:] == faithfulness_lines(found)
    code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--faithfulness", "--json")
    assert json.loads(out)["faithfulness"] == json.loads(json.dumps(found.to_json()))
    run(capsys, "explain", "--model", inputs.model, "--image", inputs.image)
    assert len(asked) == 2  # not without --faithfulness


def test_a_label_map_names_annotation_labels_by_class():
    assert batch_cmd._label_map("Kratzer=scratch, Fleck=spot", ("good", "scratch", "spot")) == (  # noqa: SLF001
        ("kratzer", "scratch"), ("fleck", "spot"))
    assert batch_cmd._label_map(None, ("good",)) == ()  # noqa: SLF001


def test_a_map_on_the_input_says_so(session, inputs, capsys, monkeypatch):
    explain = session.explain

    def on_input(image, **kwargs):
        from dataclasses import replace

        return replace(explain(image, **kwargs), layer=None)

    monkeypatch.setattr(session, "explain", on_input)
    _code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--method", "saliency")
    assert out.startswith("saliency on input: class 1 'scratch' p=0.875")
    _code, out, _ = run(capsys, "explain", "--model", inputs.model, "--image", inputs.image, "--method", "eigencam")
    assert out.startswith("eigencam on input: class-agnostic")


@pytest.fixture
def clock(monkeypatch):
    import time

    ticks = iter([10.0, 12.12345])
    monkeypatch.setattr(time, "perf_counter", lambda: next(ticks, 99.0))


def test_filters_time_their_work_and_say_which_ascent(features, inputs, capsys, clock):
    out_png = inputs.root / "f.png"
    code, out, _ = run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png, "--plain",
                       "--count", "2", "--size", "8", "--steps", "2", "--quiet")
    assert code == 0 and out == f"2 filter patterns of block/conv (8 px, 2 steps), plain ascent, in 2.1s, wrote {out_png}\n"


def test_filters_json_time_and_grid(features, inputs, capsys, clock):
    from engine.maps.grids import pattern_grid

    out_png = inputs.root / "f.png"
    code, out, _ = run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png,
                       "--count", "3", "--size", "8", "--columns", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["seconds"] == 2.123 and data["layer"] == "block/conv"
    expected = pattern_grid(np.full((3, 8, 8, 3), 99, np.uint8), columns=2, margin=5, labels=[0, 1, 2])
    assert np.array_equal(cv2.cvtColor(cv2.imread(str(out_png)), cv2.COLOR_BGR2RGB), expected)
    assert features[-1][1] == "block/conv"


def test_filter_labels_are_drawn_unless_turned_off(features, inputs, capsys):
    out_png = inputs.root / "f.png"
    run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png, "--count", "2", "--quiet")
    labelled = cv2.imread(str(out_png))
    run(capsys, "filters", "--model", inputs.model, "--layer", "conv", "--out", out_png, "--count", "2", "--quiet",
        "--no-labels")
    assert not np.array_equal(cv2.imread(str(out_png)), labelled)


def test_filters_of_a_layer_with_unknown_channels_take_the_range_asked(features, inputs, capsys, monkeypatch):
    import engine.features.activations as acts

    unknown = LayerInfo("dyn", "dyn", "Conv2D", (None, 8, 8, None), 0, 0, False)
    monkeypatch.setattr(acts, "feature_layer", lambda s, name: unknown)
    code, _out, _ = run(capsys, "filters", "--model", inputs.model, "--layer", "dyn", "--out", inputs.root / "f.png",
                        "--first", "2", "--count", "3", "--quiet")
    assert code == 0 and features[-1][2] == [2, 3, 4]
