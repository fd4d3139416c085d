"""The command line's options and the text it prints, exactly: declared parameters as options
(cli.params), method names as the window spells them, number options, tables, JSON and the
progress lines (cli.common), the README's usage lines (cli.usage). No TensorFlow."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import pytest

from cli import common, params, usage
from cli.app import build_parser
from cli.common import (
    Progress,
    fraction,
    method_help,
    method_name,
    positive_int,
    print_json,
    progress_for,
    table,
)
from engine.errors import MethodError
from engine.methods import METHODS
from engine.params import Param


# -- numbers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0", "1", "0.5", "1.0", "0.0"])
def test_a_fraction_from_0_to_1_inclusive_is_taken(text):
    assert fraction(text) == float(text)


@pytest.mark.parametrize(("text", "message"), [
    ("-0.01", "-0.01 is not between 0 and 1"), ("1.01", "1.01 is not between 0 and 1"),
    ("nan", "nan is not between 0 and 1"), ("half", "'half' is not a number")])
def test_a_fraction_outside_0_to_1_is_refused_saying_why(text, message):
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        fraction(text)
    assert str(refused.value) == message


def test_a_positive_whole_number_starts_at_1():
    assert positive_int("1") == 1 and positive_int("64") == 64
    with pytest.raises(argparse.ArgumentTypeError, match=r"^0 is less than 1$"):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match=r"^'2\.5' is not a whole number$"):
        positive_int("2.5")


# -- method names --------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "name"), [
    ("gradcam", "gradcam"), ("Grad-CAM++", "gradcam++"), ("GradCAM ++", "gradcam++"), ("GRAD-CAM", "gradcam"),
    ("Integrated Gradients", "integrated-gradients"), ("integrated-gradients", "integrated-gradients"),
    ("Saliency (gradients)", "saliency"), ("Score-CAM", "scorecam"), ("faster_scorecam", "faster-scorecam")])
def test_a_method_is_taken_by_engine_name_or_window_title_in_any_case(text, name):
    assert method_name(text) == name


def test_every_engine_name_and_title_is_accepted():
    for name, cls in METHODS.items():
        assert method_name(name) == name and method_name(cls.title) == name


def test_a_typo_suggests_the_closest_method_and_lists_them_all():
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        method_name("gradcma")
    assert str(refused.value) == f"unknown method 'gradcma'; did you mean 'gradcam'? methods: {', '.join(METHODS)}"
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        method_name("zzzz")
    assert str(refused.value) == f"unknown method 'zzzz'; methods: {', '.join(METHODS)}"


def test_a_far_typo_gets_no_suggestion():
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        method_name("gradxyzw")  # ratio to 'gradcam' below 0.6
    assert "did you mean" not in str(refused.value)
    with pytest.raises(argparse.ArgumentTypeError, match="did you mean 'saliency'"):
        method_name("salincy")


def test_the_method_help_names_the_default_and_every_method():
    assert method_help() == (f"explanation method (default gradcam): {', '.join(METHODS)}; "
                             "the window's titles work too (e.g. Grad-CAM++, any case)")
    assert method_help("occlusion").startswith("explanation method (default occlusion): ")


def test_the_commands_default_methods(tmp_path):
    parser = build_parser()
    common_ = ["--model", "m", "--images", "d", "--out", "o"]
    assert parser.parse_args(["batch", *common_]).method == "gradcam"
    assert parser.parse_args(["compare", *common_, "--against", "b"]).method == "occlusion"
    assert parser.parse_args(["explain", "--model", "m", "--image", "i"]).method == "gradcam"
    assert parser.parse_args(["sanity", "--model", "m", "--image", "i", "--method", "Grad-CAM++",
                              "--method", "saliency"]).method == ["gradcam++", "saliency"]


# -- tables and JSON -------------------------------------------------------------------------------
def test_a_table_sizes_its_columns_to_the_longest_cell():
    text = table([("conv1", "Conv2D", 448), ("dense_final", "Dense", "")], ("layer", "type", "params"))
    assert text.splitlines() == ["layer        type    params",
                                 "-----------  ------  ------",
                                 "conv1        Conv2D  448",
                                 "dense_final  Dense"]


def test_a_row_longer_than_the_headers_is_an_error_not_a_cut_cell():
    with pytest.raises(ValueError):
        table([("conv1", "Conv2D", "extra")], ("layer", "type"))


def test_json_takes_numpy_values_and_paths(capsys):
    print_json({"shape": np.array([2, 3]), "p": np.float32(0.5), "file": Path("a") / "b.png"})
    out = capsys.readouterr().out
    assert json.loads(out) == {"shape": [2, 3], "p": 0.5, "file": str(Path("a") / "b.png")}
    assert out.endswith("}\n") and out.splitlines()[1] == '  "shape": ['  # indented by 2, one final newline


def test_json_refuses_what_it_cannot_write():
    with pytest.raises(TypeError, match="^cannot write object as JSON$"):
        print_json({"x": object()})


# -- progress ---------------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(common.time, "perf_counter", fake)
    return fake


def test_progress_lines_give_the_rate_from_the_first_finished_step_and_the_time_left(clock):
    stream = io.StringIO()
    progress = Progress(stream, "review", "img")
    clock.now = 110.0  # a slow start (Ray's actors, a first trace) does not count in the rate
    progress(0, 10)
    clock.now = 111.0
    progress(2, 10)
    clock.now = 113.0
    progress(6, 10)  # 4 images in 2 s: 2 img/s, 4 left: ~2 s
    clock.now = 115.0
    progress(10, 10)
    assert stream.getvalue().splitlines() == [
        "review: img 0/10 (0%), 10.0 s",
        "review: img 2/10 (20%), 11.0 s",
        "review: img 6/10 (60%), 13.0 s, 2.0 img/s, ~2 s left",
        "review: img 10/10 (100%), 15.0 s, 2.0 img/s"]


def test_a_resumed_run_counts_its_rate_from_its_own_first_step(clock):
    stream = io.StringIO()
    progress = Progress(stream, "review", "img")
    progress(5, 20)  # five done by the earlier run
    clock.now = 101.0
    progress(5, 20)  # no step finished yet: no base
    clock.now = 102.0
    progress(6, 20)
    clock.now = 104.0
    progress(6, 20)  # nothing new: no rate from a standstill
    clock.now = 106.0
    progress(10, 20)
    assert stream.getvalue().splitlines()[2:] == ["review: img 6/20 (30%), 2.0 s",
                                                  "review: img 6/20 (30%), 4.0 s",
                                                  "review: img 10/20 (50%), 6.0 s, 1.0 img/s, ~10 s left"]


def test_progress_in_a_log_writes_one_line_per_tenth(clock):
    stream = io.StringIO()
    progress = Progress(stream, "review", "img", every=0.1)
    for done in range(101):
        progress(done, 100)
    done_counts = [int(line.split(" ")[2].split("/")[0]) for line in stream.getvalue().splitlines()]
    assert len(done_counts) == 11 and done_counts[0] == 0 and done_counts[-1] == 100
    steps = [b - a for a, b in zip(done_counts[:-2], done_counts[1:-1], strict=True)]  # the last: at the total
    assert all(10 <= step <= 11 for step in steps)  # a tenth, give or take float rounding (30.000000000000004)


def test_progress_of_nothing_to_do_does_not_divide_by_zero(clock):
    stream = io.StringIO()
    Progress(stream, "review", "img")(0, 0)
    assert stream.getvalue() == "review: img 0/0 (0%), 0.0 s\n"


def test_progress_of_one_item_reaches_100_percent(clock):
    stream = io.StringIO()
    progress = Progress(stream, "review", "img")
    progress(0, 1)
    progress(1, 1)
    assert stream.getvalue().splitlines() == ["review: img 0/1 (0%), 0.0 s", "review: img 1/1 (100%), 0.0 s"]


def test_notes_go_between_the_progress_lines(clock):
    stream = io.StringIO()
    progress = Progress(stream, "review", "img")
    progress(0, 2)
    progress.note("ray: 2 actors")
    assert stream.getvalue().splitlines() == ["review: img 0/2 (0%), 0.0 s", "ray: 2 actors"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_bar_that_ends_at_the_total(clock):
    stream = Terminal()
    progress = Progress(stream, "filters", "step")
    progress(0, 4)
    bar = progress._bar  # noqa: SLF001 - the tqdm bar itself
    assert bar is not None and (bar.total, bar.n, bar.desc, bar.unit) == (4, 0, "filters", "step")
    progress(3, 4)
    assert bar.n == 3 and progress._bar is bar  # noqa: SLF001
    progress.note("a note")
    assert "a note" in stream.getvalue()
    progress(4, 4)
    assert progress._bar is None and progress.total == 4  # noqa: SLF001 - closed at the end
    assert "filters" in stream.getvalue() and "4/4" in stream.getvalue()


def test_a_resumed_runs_bar_starts_at_the_earlier_count_and_follows_the_terminals_width(clock):
    progress = Progress(Terminal(), "review", "img")
    progress(5, 20)
    bar = progress._bar  # noqa: SLF001
    assert (bar.initial, bar.n, bar.total) == (5, 5, 20)  # the rate counts this run's images only
    assert callable(bar.dynamic_ncols) and bar.leave  # redrawn at the terminal's width, kept at the end


class LogFile:
    """A stream with no isatty at all (some loggers' wrappers)."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_a_stream_without_isatty_gets_plain_lines(clock):
    stream = LogFile()
    progress = Progress(stream, "review", "img")
    assert progress.total == 0  # before the first step: what an interrupted review records
    progress(1, 2)
    assert stream.text == "review: img 1/2 (50%), 0.0 s\n" and progress._bar is None  # noqa: SLF001


def test_a_quiet_command_has_no_progress():
    assert progress_for(io.StringIO(), "x", "step", quiet=True) is None
    shown = progress_for(io.StringIO(), "sanity", "layer", every=0.5)
    assert isinstance(shown, Progress) and (shown.label, shown.unit, shown.every) == ("sanity", "layer", 0.5)
    stream = io.StringIO()
    every_step = progress_for(stream, "sanity", "layer")
    assert every_step.stream is stream and every_step.every == 0.0  # a line per step by default


# -- declared parameters as options ------------------------------------------------------------------
def test_a_number_option_takes_whole_numbers_as_int_and_decimals_as_float():
    number = params._parser_for({float})  # noqa: SLF001
    assert number("3") == 3 and isinstance(number("3"), int)
    assert number("0.25") == 0.25 and number("1e-3") == 0.001
    with pytest.raises(argparse.ArgumentTypeError, match=r"^'many' is not a number$"):
        number("many")
    whole = params._parser_for({int})  # noqa: SLF001
    assert whole("12") == 12
    with pytest.raises(argparse.ArgumentTypeError, match=r"^'1\.5' is not a whole number$"):
        whole("1.5")
    mixed = params._parser_for({int, float})  # noqa: SLF001 - one option, two methods' declarations
    assert mixed("1.5") == 1.5
    assert params._parser_for({str})("12") == "12"  # noqa: SLF001


def test_every_declared_parameter_is_an_option_with_its_metavar():
    explain = build_parser()._subparsers._group_actions[0].choices["explain"]  # noqa: SLF001
    actions = {a.dest: a for a in explain._actions}  # noqa: SLF001
    assert actions["param__samples"].metavar == "INT" and actions["param__samples"].option_strings == ["--samples"]
    assert actions["param__noise"].metavar == "FLOAT"
    assert actions["param__fill"].metavar == "{mean,zero,blur}"
    assert actions["param__fill"].choices == ["blur", "mean", "zero"]
    assert actions["param__fuse"].choices == ["max", "mean"]
    assert actions["param__top_n"].option_strings == ["--top-n"]
    assert actions["param__edges"].option_strings == ["--edges"] and actions["param__edges"].const is True
    for action in actions.values():
        if action.dest.startswith(params.DEST):
            assert action.default is None  # not given: the method's own default applies


def test_parameter_help_names_the_owner_default_and_range():
    explain = build_parser()._subparsers._group_actions[0].choices["explain"]  # noqa: SLF001
    helps = {a.dest: a.help for a in explain._actions}  # noqa: SLF001
    assert helps["param__samples"] == "smoothgrad: noisy copies averaged (default 25; a whole number between 1 and 10000)"
    assert helps["param__polarity"].startswith("methods on the input (not CAMs): ")
    assert helps["param__cleanup"] == "morphological closing then opening (default off)"  # no range for a flag
    assert helps["param__clip_percentile"] == ("methods on the input (not CAMs): attribution mass percentile mapped "
                                               "to 1 (100 = no clipping) (default 100; a number between 0 and 100)")


def test_the_help_of_every_command_prints(capsys):
    for command in ("explain", "batch", "compare"):
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        out = capsys.readouterr().out
        assert "method parameters:" in out and "combinations:" in out and "--samples INT" in out


def _declaring(monkeypatch, declared: dict[str, list[tuple[str, Param]]], combos: tuple[Param, ...] = ()):
    monkeypatch.setattr(params, "method_declarations", lambda: declared)
    monkeypatch.setattr(params, "combinations", lambda: combos)
    parser = argparse.ArgumentParser(prog="convscope explain")
    params.add_param_options(parser)
    return parser


def test_a_flag_that_is_on_by_default_is_turned_off_with_no(monkeypatch):
    on = Param("smooth", bool, True, "smooth the map")
    parser = _declaring(monkeypatch, {"smooth": [("m", on)]})
    assert parser.parse_args([]).param__smooth is None
    assert parser.parse_args(["--no-smooth"]).param__smooth is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--smooth"])


def test_an_option_shared_by_two_methods_names_both_and_takes_both_kinds(monkeypatch):
    steps_a, steps_b = Param("steps", int, 5, "steps of a", 1, 9), Param("steps", float, 0.5, "steps of b", 0, 1)
    parser = _declaring(monkeypatch, {"steps": [("a", steps_a), ("b", steps_b)]})
    action = next(a for a in parser._actions if a.dest == "param__steps")  # noqa: SLF001
    assert action.help == ("a: steps of a (default 5; a whole number between 1 and 9); "
                           "b: steps of b (default 0.5; a number between 0 and 1)")
    assert parser.parse_args(["--steps", "0.5"]).param__steps == 0.5
    assert parser.parse_args(["--steps", "2"]).param__steps == 2


def test_a_percent_in_a_help_text_is_printed_as_is(monkeypatch, capsys):
    top = Param("top", float, 10.0, "the top 10% of the map", 0, 100, applies_to="cam")
    parser = _declaring(monkeypatch, {}, (top,))
    parser.print_help()
    assert "CAMs: the top 10% of the map (default 10; a number between 0 and 100)" in " ".join(capsys.readouterr().out.split())


def test_a_parameter_named_like_an_option_of_the_command_is_refused_at_start(monkeypatch):
    clash = Param("out", str, None, "clash", choices=("a", "b"))
    monkeypatch.setattr(params, "method_declarations", lambda: {"out": [("m", clash)]})
    monkeypatch.setattr(params, "combinations", lambda: ())
    parser = argparse.ArgumentParser(prog="convscope explain")
    parser.add_argument("--out")
    with pytest.raises(RuntimeError) as refused:
        params.add_param_options(parser)
    assert str(refused.value).startswith("the declared parameter out clashes with an option of convscope explain: "
                                         "rename the parameter (")


def test_only_the_given_parameters_are_passed_on():
    args = argparse.Namespace(param__samples=3, param__noise=None, param__edges=False, method="smoothgrad",
                              samples_other=5)
    assert params.given_params(args) == {"samples": 3, "edges": False}


def test_request_params_fill_defaults_and_refuse_what_does_not_apply():
    given = argparse.Namespace(param__samples=3, param__edges=True)
    values = params.request_params(given, "smoothgrad")
    assert values["samples"] == 3 and values["noise"] == 0.15 and values["edges"] is True
    with pytest.raises(MethodError, match=r"^unknown method 'nope'; choose from gradcam, "):
        params.request_params(given, "nope")
    with pytest.raises(MethodError, match="samples"):
        params.request_params(argparse.Namespace(param__samples=3), "gradcam")
    with pytest.raises(MethodError):
        params.request_params(argparse.Namespace(param__samples=0), "smoothgrad")


def test_the_readme_table_rows_escape_pipes_and_name_the_scope():
    table_text = params.markdown_table()
    lines = table_text.splitlines()
    assert lines[:2] == ["| method | parameter | option | default | allowed | help |", "|---|---|---|---|---|---|"]
    assert "| `smoothgrad` | samples | `--samples` | 25 | a whole number between 1 and 10000 | noisy copies averaged |" in lines
    assert any(line.startswith("| combination (input methods) | polarity |") for line in lines)
    row = params._row("x", Param("p", str, "a", "a | b", choices=("a", "b")))  # noqa: SLF001
    assert row == "| x | p | `--p` | a | one of a, b | a \\| b |"


# -- usage lines ---------------------------------------------------------------------------------------
def test_usage_shows_class_rather_than_argparses_dest():
    named = usage._named(argparse.Action(["--class"], dest="class_"))  # noqa: SLF001
    assert named.metavar == "CLASS"
    kept = usage._named(argparse.Action(["--layer"], dest="layer"))  # noqa: SLF001
    assert kept.metavar is None
    chosen = usage._named(argparse.Action(["--kind"], dest="kind_", choices=("a", "b")))  # noqa: SLF001
    assert chosen.metavar is None
    given = usage._named(argparse.Action(["--x"], dest="x_", metavar="PATH"))  # noqa: SLF001
    assert given.metavar == "PATH"


def test_a_usage_word_goes_on_a_new_line_only_past_the_width():
    fits = "x" * (usage.WIDTH - len(" WORD"))
    assert usage._append(fits, "WORD", 4) == fits + " WORD"  # noqa: SLF001 - exactly WIDTH
    longer = fits + "y"
    assert usage._append(longer, "WORD", 4) == longer + "\n    WORD"  # noqa: SLF001
    assert usage._append("a\n" + fits, "WORD", 2) == "a\n" + fits + " WORD"  # noqa: SLF001 - the last line counts


def test_usage_lines_sum_up_the_method_parameters():
    lines = usage.usage_lines()
    explain = next(b for b in lines.split("\npython main.py ") if b.startswith("explain"))
    assert "[METHOD PARAMETERS]" in explain and "--samples" not in explain and "[--class CLASS]" in explain
    info = next(b for b in lines.split("\npython main.py ") if b.startswith("info"))
    assert "METHOD PARAMETERS" not in info and "-h" not in info
    assert lines.startswith("python main.py gui [--model MODEL]")
    assert all(len(line) <= usage.WIDTH for line in lines.splitlines())


@pytest.mark.parametrize(("module", "prog"), [(usage, "python -m cli.usage"), (params, "python -m cli.params")])
def test_the_generators_name_themselves_in_their_help(capsys, module, prog):
    with pytest.raises(SystemExit):
        module.main(["--help"])
    assert capsys.readouterr().out.startswith(f"usage: {prog} [-h] [--update FILE]")


def test_the_generators_print_their_text(capsys):
    assert usage.main([]) == 0
    assert capsys.readouterr().out.strip() == usage.usage_lines()
    assert params.main([]) == 0
    assert capsys.readouterr().out.strip() == params.markdown_table()


def _help(command: str) -> str:
    parser = build_parser()._subparsers._group_actions[0].choices[command]  # noqa: SLF001
    return " ".join(parser.format_help().split())


@pytest.mark.parametrize("command", ["info", "predict", "explain", "activations", "filters", "batch", "sanity",
                                     "compare"])
def test_every_model_command_explains_the_model_options_and_warns_about_trusting_a_model(command):
    text = _help(command)
    assert ("--model MODEL model: Keras (.keras, .h5) or a deployed export opened as a black box "
            "(.tflite, .onnx, a SavedModel folder)") in text
    assert "input preprocessing (overrides the sidecar)" in text
    assert "--trust-model load a model that safe mode refuses (it may run code); only for models you trust" in text


@pytest.mark.parametrize("command", ["explain", "batch", "compare"])
def test_the_parameter_groups_say_how_they_apply(command):
    text = _help(command)
    assert "method parameters: each applies to the methods named in its help; the others refuse it" in text
    assert "combinations: applied to the finished map, in the order listed" in text


def test_a_combination_named_like_an_option_of_the_command_is_refused_at_start(monkeypatch):
    monkeypatch.setattr(params, "method_declarations", lambda: {})
    monkeypatch.setattr(params, "combinations", lambda: (Param("out", bool, False, "clash"),))
    parser = argparse.ArgumentParser(prog="convscope batch")
    parser.add_argument("--out")
    with pytest.raises(RuntimeError, match="^the declared parameter out clashes with an option of convscope batch"):
        params.add_param_options(parser)
