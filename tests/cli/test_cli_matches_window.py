"""The command line matches the window: method titles, a suggestion for a typo, the regularised
filter patterns with labelled tiles by default, a real progress bar on a terminal and one line
per step in a log, and output paths printed as paths."""

from __future__ import annotations

import io
import json
import shutil

import cv2
import numpy as np
import pytest

from cli.app import build_parser, main
from cli.common import DEMO_IMAGES, DEMO_MODEL, Progress


def _parse(*argv: str):
    return build_parser().parse_args(list(argv))


def _explain_method(text: str) -> str:
    return _parse("explain", "--model", "m.keras", "--image", "i.png", "--method", text).method


def test_every_window_title_and_engine_name_is_accepted_in_any_case():
    from engine.methods import METHODS

    for name, cls in METHODS.items():
        assert _explain_method(name) == name
        assert _explain_method(cls.title) == name
        assert _explain_method(cls.title.upper()) == name
    assert _explain_method("Grad-CAM") == "gradcam" and _explain_method("grad-cam++") == "gradcam++"
    assert _parse("batch", "--model", "m", "--images", "d", "--out", "o", "--method", "Score-CAM").method == "scorecam"


@pytest.mark.parametrize("typo, suggestion", [("gradcm", "gradcam"), ("Grad-CAM+", "gradcam++"),
                                              ("scorcam", "scorecam"), ("integrated gradient", "integrated-gradients")])
def test_a_typo_gets_the_closest_name_in_one_line(capsys, typo, suggestion):
    code = main(["explain", "--model", "m.keras", "--image", "i.png", "--method", typo])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"unknown method '{typo}'; did you mean '{suggestion}'?" in err


def test_a_name_far_from_any_method_lists_them_without_a_guess(capsys):
    assert main(["explain", "--model", "m.keras", "--image", "i.png", "--method", "xyzzy"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "gradcam, gradcam++" in err and err.count("\n") == 1


def _filters_args(*extra: str):
    return _parse("filters", "--model", "m.keras", "--layer", "conv", "--out", "f.png", *extra)


def test_filters_default_to_the_windows_regularised_ascent_with_labels():
    from cli.features_cmd import pattern_settings
    from engine.features.patterns import REGULARISED, PatternSettings
    from gui.protocol import Patterns

    args = _filters_args()
    assert args.labels is True and args.plain is False
    assert pattern_settings(args) == PatternSettings(size=64, steps=40, **REGULARISED)
    assert Patterns("conv").regularised  # the window's default is the same ascent
    assert pattern_settings(_filters_args("--plain")) == PatternSettings()  # seed 002
    assert pattern_settings(_filters_args("--plain", "--jitter", "2")).jitter == 2
    assert pattern_settings(_filters_args("--no-pre-activation")).pre_activation is False
    assert _filters_args("--no-labels").labels is False


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from tests.models import one_conv_model, save_model

    model = one_conv_model((24, 24, 3), filters=4, conv_name="conv", seed=1)
    return save_model(model, tmp_path_factory.mktemp("tiny"), "tiny.keras")


def test_filters_in_a_log_print_one_line_per_step_and_label_tiles(tmp_path, tiny_model, capsys):
    labelled, plain = tmp_path / "labelled.png", tmp_path / "bare.png"
    assert main(["filters", "--model", str(tiny_model), "--layer", "conv", "--size", "24", "--steps", "5",
                 "--out", str(labelled)]) == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert "\r" not in captured.err and len(lines) == 5
    assert [line.split(": step ")[1].split()[0] for line in lines] == [f"{i}/5" for i in range(1, 6)]
    assert "regularised ascent" in captured.out
    assert main(["filters", "--model", str(tiny_model), "--layer", "conv", "--size", "24", "--steps", "5",
                 "--out", str(plain), "--no-labels", "--quiet"]) == 0
    assert capsys.readouterr().err == ""
    with_labels, without = cv2.imread(str(labelled)), cv2.imread(str(plain))
    assert with_labels.shape == without.shape and not np.array_equal(with_labels, without)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_a_tqdm_bar_with_rate_and_time_left():
    terminal = _Terminal()
    progress = Progress(terminal, "filter patterns", "step")
    for done in range(1, 41):
        progress(done, 40)
    text = terminal.getvalue()
    assert text.count("\n") == 1 and "\r" in text  # one line, redrawn
    final = text.rstrip("\n").split("\r")[-1]
    assert final.startswith("filter patterns: 100%") and "40/40" in final
    assert "step/s]" in final and "<00:00" in final  # rate, and elapsed<left as tqdm writes it


def test_batch_prints_paths_without_doubled_slashes(tmp_path, capsys):
    folder = tmp_path / "lot" / "ok"
    folder.mkdir(parents=True)
    for source in sorted((DEMO_IMAGES / "ok").glob("*.png"))[:2]:
        shutil.copy(source, folder / source.name)
    out = tmp_path / "review"
    assert main(["batch", "--model", str(DEMO_MODEL), "--images", str(tmp_path / "lot"), "--out", f"{out}/",
                 "--method", "Grad-CAM"]) == 0
    captured = capsys.readouterr()
    assert "//" not in captured.out and f"wrote {out / 'results.csv'}," in captured.out
    assert json.loads((out / "summary.json").read_text())["run"]["method"] == "gradcam"
