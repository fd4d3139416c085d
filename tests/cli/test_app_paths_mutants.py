"""What the command line answers before the engine loads: usage errors, input paths, output
paths and the exit codes, each in one line (cli.app, cli.common). In-process and without
TensorFlow, so that a mutation run (tests/mutation/run.py cli) can afford them."""

from __future__ import annotations

import argparse
import errno
import subprocess
import sys
from pathlib import Path

import pytest

from cli import app, common
from cli.common import check_inputs, check_outputs
from engine.errors import Cancelled, ImageLoadError, MethodError, ModelLoadError, OutputPathError
from tests.cli_run import refused, run


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A model file, an image, a folder of images and an annotation file, all present."""
    (tmp_path / "lot" / "ok").mkdir(parents=True)
    paths = {"model": tmp_path / "m.keras", "image": tmp_path / "lot" / "ok" / "a.png",
             "images": tmp_path / "lot", "annotations": tmp_path / "coco.json"}
    for key in ("model", "image", "annotations"):
        paths[key].write_bytes(b"x")
    return paths


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(**values)


# -- input paths -------------------------------------------------------------------------------
def test_existing_inputs_of_every_kind_pass(files):
    check_inputs(_args(model=str(files["model"]), against=str(files["model"]), image=str(files["image"]),
                       images=str(files["images"]), annotations=str(files["annotations"])))
    check_inputs(_args(images=[str(files["image"]), str(files["image"])]))  # predict's list of files
    check_inputs(_args(annotations=str(files["images"])))  # a folder of annotation files
    check_inputs(_args(model=None, image="", images=None))  # options not given are not checked
    files["image"].unlink()
    with pytest.raises(ImageLoadError):  # the same call, one file gone
        check_inputs(_args(images=[str(files["image"])]))


@pytest.mark.parametrize(("dest", "message"), [
    ("image", "--image {}: no such file"), ("images", "--images {}: no such folder"),
    ("annotations", "--annotations {}: no such annotation file or folder")])
def test_a_missing_input_names_its_option_path_and_kind(tmp_path, dest, message):
    missing = str(tmp_path / "gone")
    with pytest.raises(ImageLoadError) as refused_:
        check_inputs(_args(**{dest: missing}))
    assert str(refused_.value) == message.format(missing)


@pytest.mark.parametrize("dest", ["model", "against"])
def test_a_missing_model_names_its_option(tmp_path, dest):
    missing = tmp_path / "gone.keras"
    with pytest.raises(ModelLoadError) as refused_:
        check_inputs(_args(**{dest: str(missing)}))
    assert str(refused_.value) == f"--{dest} {missing}: no such file or folder"


def test_a_model_folder_is_accepted_as_a_saved_model(tmp_path):
    check_inputs(_args(model=str(tmp_path)))
    with pytest.raises(ModelLoadError, match="no such file or folder"):
        check_inputs(_args(model=str(tmp_path / "saved_model")))


def test_inputs_of_the_wrong_kind_are_refused(files):
    with pytest.raises(ImageLoadError, match=r"^--images .*a\.png: is a file, not a folder$"):
        check_inputs(_args(images=str(files["image"])))
    with pytest.raises(ImageLoadError, match=r"^--image .*lot: is a folder, not an image file$"):
        check_inputs(_args(image=str(files["images"])))
    with pytest.raises(ImageLoadError, match=r"^/.*lot: is a folder, not an image file$"):
        check_inputs(_args(images=[str(files["image"]), str(files["images"])]))  # predict: no option name
    with pytest.raises(ImageLoadError, match=r"^/.*gone: no such file$"):
        check_inputs(_args(images=[str(files["image"]), str(files["images"] / "gone")]))


def test_a_home_relative_input_is_found(files, monkeypatch):
    monkeypatch.setenv("HOME", str(files["images"]))
    check_inputs(_args(image="~/ok/a.png", images="~/ok"))
    with pytest.raises(ImageLoadError, match=r"^--image ~/ok/b\.png: no such file$"):  # the path as the user typed it
        check_inputs(_args(image="~/ok/b.png"))


# -- output paths ------------------------------------------------------------------------------
def test_outputs_with_their_suffix_in_a_writable_folder_pass(tmp_path):
    check_outputs({"--out": (str(tmp_path / "o.PNG"), (".png",)), "--save-heatmap": (None, (".npy",)),
                   "--map": (str(tmp_path / "new" / "deeper" / "m.npy"), (".npy", ".png"))}, [None])
    assert list(tmp_path.iterdir()) == []  # checking writes nothing, creates no folder


def test_an_output_with_another_suffix_names_the_allowed_ones(tmp_path):
    with pytest.raises(OutputPathError) as refused_:
        check_outputs({"--save-heatmap": (str(tmp_path / "m.jpg"), (".npy", ".png"))}, [])
    assert str(refused_.value) == f"--save-heatmap {tmp_path / 'm.jpg'}: the file name must end in .npy or .png"


def test_an_output_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "x.png").mkdir()
    with pytest.raises(OutputPathError, match=r": is a folder, give a file name$"):
        check_outputs({"--out": (str(tmp_path / "x.png"), (".png",))}, [])


def test_outputs_never_overwrite_an_input_or_each_other(tmp_path):
    image = tmp_path / "a.png"
    with pytest.raises(OutputPathError, match=r"^--out .*a\.png: is an input; choose another file name$"):
        check_outputs({"--out": (str(image), (".png",))}, [None, str(image)])
    both = {"--out": (str(tmp_path / "m.png"), (".png",)), "--save-heatmap": (str(tmp_path / "m.png"), (".png",))}
    with pytest.raises(OutputPathError, match=r"^--save-heatmap .*: is also the file of --out; choose another"):
        check_outputs(both, [])


def test_an_output_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(OutputPathError) as refused_:
        check_outputs({"--out": (str(tmp_path / "plain" / "sub" / "o.png"), (".png",))}, [])
    assert str(refused_.value).endswith(f"cannot create it, {tmp_path / 'plain'} is a file")


def test_an_existing_output_file_is_checked_in_its_own_folder(tmp_path, monkeypatch):
    (tmp_path / "o.png").write_bytes(b"old")
    folders = []
    real = common._check_writable
    monkeypatch.setattr(common, "_check_writable", lambda o, p, folder: folders.append(folder) or real(o, p, folder))
    check_outputs({"--out": (str(tmp_path / "o.png"), (".png",))}, [])
    check_outputs({"--out": (str(tmp_path / "new" / "o.png"), (".png",))}, [])
    assert folders == [tmp_path, tmp_path]


def test_the_write_check_is_made_in_the_outputs_own_folder(tmp_path, monkeypatch):
    folders = []
    real = common.tempfile.TemporaryFile

    def recorded(**kwargs):
        folders.append(kwargs.get("dir"))
        return real(**kwargs)

    monkeypatch.setattr(common.tempfile, "TemporaryFile", recorded)
    check_outputs({"--out": (str(tmp_path / "o.png"), (".png",))}, [])
    assert folders == [tmp_path]


def test_an_unwritable_folder_is_refused_with_the_systems_reason(tmp_path, monkeypatch):
    def read_only(**_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(common.tempfile, "TemporaryFile", read_only)
    with pytest.raises(OutputPathError) as refused_:
        check_outputs({"--out": (str(tmp_path / "o.png"), (".png",))}, [])
    assert str(refused_.value) == f"--out {tmp_path / 'o.png'}: cannot write there (Read-only file system)"


def test_an_unwritable_folder_without_a_reason_still_says_why(tmp_path, monkeypatch):
    def refuse(**_kwargs):
        raise OSError("no space")

    monkeypatch.setattr(common.tempfile, "TemporaryFile", refuse)
    with pytest.raises(OutputPathError, match=r"cannot write there \(no space\)$"):
        check_outputs({"--out": (str(tmp_path / "o.png"), (".png",))}, [])


# -- the parser and the exit codes --------------------------------------------------------------
def test_a_usage_error_is_one_line_with_the_command_and_exit_2(capsys):
    err = refused(capsys, "explain", "--model", "m.keras")
    assert err == "convscope explain: error: the following arguments are required: --image\n"
    assert refused(capsys, "no-such-command").startswith("convscope: error: argument command: invalid choice")


def test_help_exits_0_and_prints_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: convscope [-h]") and "Look inside convolutional image classifiers." in out
    for command in ("gui", "info", "predict", "explain", "activations", "filters", "batch", "sanity", "compare"):
        assert command in out


def test_no_command_opens_the_window_with_the_remembered_model(capsys, monkeypatch):
    opened = []
    monkeypatch.setattr("cli.display.display_problem", lambda: None)
    monkeypatch.setattr("gui.app.run_window", lambda args: opened.append(args) or 0)
    assert app.main([]) == 0
    assert opened[0].command == "gui" and opened[0].model is None and opened[0].images is None
    assert opened[0].trust_model is False


def test_the_window_options_reach_the_window(files, monkeypatch):
    opened = []
    monkeypatch.setattr("cli.display.display_problem", lambda: None)
    monkeypatch.setattr("gui.app.run_window", lambda args: opened.append(args) or 0)
    assert app.main(["gui", "--model", str(files["model"]), "--images", str(files["images"]), "--trust-model"]) == 0
    assert (opened[0].model, opened[0].images, opened[0].trust_model) == (str(files["model"]), str(files["images"]),
                                                                          True)


def test_no_display_is_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setattr("cli.display.display_problem", lambda: "no display here")
    monkeypatch.setattr("gui.app.run_window", lambda args: pytest.fail("the window must not open"))
    assert run(capsys, "gui") == (2, "", "convscope: error: no display here\n")


def test_the_window_is_not_opened_on_a_missing_model(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("gui.app.run_window", lambda args: pytest.fail("the window must not open"))
    err = refused(capsys, "gui", "--model", str(tmp_path / "gone.keras"))
    assert err == f"convscope: error: --model {tmp_path / 'gone.keras'}: no such file or folder\n"


def test_the_start_parser_has_only_the_window():
    assert set(app.build_parser(full=False)._subparsers._group_actions[0].choices) == {"gui"}  # noqa: SLF001
    assert "explain" in app.build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001


@pytest.mark.parametrize(("raised", "code", "line"), [
    (MethodError("bad parameter"), 2, "convscope: error: bad parameter\n"),
    (Cancelled(), 130, "convscope: cancelled\n"),
    (KeyboardInterrupt(), 130, "convscope: interrupted\n")])
def test_a_commands_failure_becomes_one_line_and_its_exit_code(capsys, files, monkeypatch, raised, code, line):
    def fail(_args):
        raise raised

    monkeypatch.setattr("cli.inspect_cmds.run_info", fail)
    assert run(capsys, "info", "--model", files["model"]) == (code, "", line)


def test_a_commands_exit_code_is_returned(files, monkeypatch):
    monkeypatch.setattr("cli.inspect_cmds.run_info", lambda args: 7)
    assert app.main(["info", "--model", str(files["model"])]) == 7


def test_an_exit_with_a_message_is_exit_2(monkeypatch):
    def exit_with_text(self, argv):
        raise SystemExit("some text")

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", exit_with_text)
    assert app.main(["info"]) == 2


def test_paths_are_refused_before_the_command_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("cli.explain_cmd.run_explain", lambda args: pytest.fail("ran with a missing image"))
    (tmp_path / "m.keras").write_bytes(b"x")
    err = refused(capsys, "explain", "--model", tmp_path / "m.keras", "--image", tmp_path / "gone.png")
    assert err == f"convscope: error: --image {tmp_path / 'gone.png'}: no such file\n"


def test_the_command_line_is_read_from_sys_argv(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["convscope", "info", "--model", str(tmp_path / "gone.keras")])
    assert app.main() == 2
    assert capsys.readouterr().err == f"convscope: error: --model {tmp_path / 'gone.keras'}: no such file or folder\n"


def test_the_window_starts_without_building_the_other_commands(monkeypatch):
    for module in app.command_modules():
        monkeypatch.setattr(module, "add_commands", lambda commands: pytest.fail("built for the window"))
    monkeypatch.setattr("cli.display.display_problem", lambda: None)
    monkeypatch.setattr("gui.app.run_window", lambda args: 0)
    assert app.main(["gui"]) == 0


def test_an_exit_without_a_code_is_success(monkeypatch):
    def plain_exit(self, argv):
        raise SystemExit

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", plain_exit)
    assert app.main(["info"]) == 0


def test_the_window_path_imports_no_other_command_nor_numpy_before_qt():
    """`python main.py` reaches the window without the other commands' modules, their parameter
    declarations or numpy (issue 20, item 13: pyqtgraph imports numpy with Qt; before it, numpy
    was a fifth of the launch). Guards a command module imported at cli.app's top again."""
    code = ("import sys; import cli.app\n"
            "cli.app.run_gui = lambda args: print(sorted(m for m in sys.modules if m.startswith(('cli.', 'numpy', "
            "'engine.params')) and m.count('.') < 2)) or 0\n"
            "cli.app.main(['gui'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.strip() == "['cli.app', 'cli.common']", result.stderr[-2000:]
