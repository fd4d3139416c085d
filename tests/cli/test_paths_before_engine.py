"""Every path a command reads (the model, an image, a folder, predict's images) is checked
before the engine loads: a missing one is refused in one line naming it, with exit 2, and
TensorFlow never reaches sys.modules (issue 20, items 6 and 9). `gui` included: a typo in
`--model` or `--images` used to open the demo with exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.app import build_parser
from cli.common import INPUT_PATHS, check_inputs

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_FOLDER = ROOT / "resources" / "demo" / "images"
DEMO_IMAGE = DEMO_FOLDER / "crack" / "crack_01.png"

RUN = """
import contextlib, io, json, sys
from cli.app import main
runs = []
for argv in json.loads(sys.argv[1]):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    runs.append({"argv": argv, "code": code, "err": err.getvalue()})
print(json.dumps({"runs": runs, "tensorflow": sorted(m for m in sys.modules
                                                    if m.split(".")[0] in ("tensorflow", "keras"))}))
"""


def _commands() -> dict:
    return build_parser()._subparsers._group_actions[0].choices


def _valid_argv(command: str, out: Path, replace: tuple[str, str] | None = None) -> list[str]:
    """Every required argument of `command` with a valid value, the path arguments too; with
    `replace=(dest, path)` that one path (given even when optional) is `path`."""
    parser = _commands()[command]
    valid = {"model": str(DEMO_MODEL), "against": str(DEMO_MODEL), "image": str(DEMO_IMAGE),
             "images": str(DEMO_FOLDER), "layer": "conv", "out": str(out / "out.png"), "method": "gradcam"}
    argv = [command]
    for action in parser._actions:
        chosen = replace[1] if replace and action.dest == replace[0] else None
        if not (action.required or chosen):
            continue
        if not action.option_strings:  # predict's IMAGE...
            argv += [chosen or str(DEMO_IMAGE)]
        else:
            argv += [action.option_strings[0], chosen or valid[action.dest]]
    return argv


def _path_arguments() -> list[tuple[str, str]]:
    return [(name, action.dest) for name, parser in _commands().items() for action in parser._actions
            if action.dest in INPUT_PATHS]


def test_every_command_names_its_path_arguments():
    """The check covers what the commands read: if a command gains one, this list shows it."""
    found = {(c, d) for c, d in _path_arguments()}
    assert {("gui", "model"), ("gui", "images"), ("explain", "image"), ("sanity", "image"),
            ("activations", "image"), ("predict", "images"), ("batch", "images"), ("info", "model"),
            ("batch", "annotations"), ("compare", "model"), ("compare", "against")} <= found


@pytest.mark.parametrize("command", sorted(_commands()))
def test_valid_paths_pass_the_check(command, tmp_path):
    args = build_parser().parse_args(_valid_argv(command, tmp_path))
    check_inputs(args)  # raises for a path it wrongly refuses
    given = [getattr(args, dest, None) for dest in INPUT_PATHS]
    assert all(Path(p).exists() for value in given if value for p in (value if isinstance(value, list) else [value]))


def test_a_wrong_path_is_refused_in_one_line_before_tensorflow(tmp_path):
    missing = str(tmp_path / "typo")
    cases = [(_valid_argv(c, tmp_path, (d, missing)), missing) for c, d in _path_arguments()]
    cases += [(_valid_argv(c, tmp_path, ("images", str(DEMO_IMAGE))), str(DEMO_IMAGE))  # a file, not a folder
              for c in ("gui", "batch")]
    cases += [(_valid_argv(c, tmp_path, ("image", str(DEMO_FOLDER))), str(DEMO_FOLDER))  # a folder, not a file
              for c in ("explain", "sanity")]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-c", RUN, json.dumps([argv for argv, _ in cases])], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for run, (argv, named) in zip(report["runs"], cases, strict=True):
        assert run["code"] == 2, argv
        assert run["err"].count("\n") == 1 and named in run["err"], (argv, run["err"])
    assert report["tensorflow"] == []
