"""`--help` and usage errors answer without importing TensorFlow (it takes seconds to load):
checked in fresh interpreters through a small wrapper that runs main.py and then reports
whether tensorflow or keras reached sys.modules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs main.py as `python main.py ARGS...` does, then prints a JSON report as the last line.
RUN_MAIN = """
import json, runpy, sys
sys.argv = ["main.py", *sys.argv[1:]]
try:
    runpy.run_path("main.py", run_name="__main__")
    code = 0
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "tensorflow": sorted(m for m in sys.modules
                                                     if m.split(".")[0] in ("tensorflow", "keras"))}))
"""

# Calls cli.app.main for each argument list, capturing stderr of each; one JSON report.
RUN_MANY = """
import contextlib, io, json, sys
from cli.app import build_parser, main
commands = sorted(build_parser()._subparsers._group_actions[0].choices)
runs = []
for argv in [["--help"], *[[c, "--help"] for c in commands], *json.loads(sys.argv[1])]:
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(argv)
    runs.append({"argv": argv, "code": code, "err": err.getvalue(), "out": out.getvalue()})
print(json.dumps({"commands": commands, "runs": runs,
                  "tensorflow": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))}))
"""

USAGE_ERRORS = [
    (["explain", "--model", "m.keras", "--image", "i.png", "--method", "gradcm"], "did you mean 'gradcam'"),
    (["batch", "--model", "m.keras", "--images", "d", "--out", "o", "--method", "grad-cam+"], "'gradcam++'"),
    (["explain", "--model", "m.keras"], "the following arguments are required: --image"),
    (["filters", "--model", "m.keras", "--layer", "x", "--out", "o.png", "--count", "0"], "less than 1"),
    (["nosuchcommand"], "invalid choice"),
    (["predict", "--model", "m.keras", "a.png", "--top", "x"], "not a whole number"),
]


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def test_main_help_imports_no_tensorflow():
    result = _python("-c", RUN_MAIN, "--help")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "tensorflow": []}, result.stderr
    assert "usage: convscope" in result.stdout and "explain" in result.stdout


def test_a_misspelled_method_is_one_line_exit_2_without_tensorflow():
    result = _python("-c", RUN_MAIN, "explain", "--model", "m.keras", "--image", "i.png", "--method", "Grad-CAM+")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 2, "tensorflow": []}
    assert result.stderr.count("\n") == 1 and "did you mean 'gradcam++'" in result.stderr, result.stderr


def test_every_help_and_usage_error_answers_without_tensorflow():
    result = _python("-c", RUN_MANY, json.dumps([argv for argv, _ in USAGE_ERRORS]))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["tensorflow"] == []
    assert {"explain", "batch", "filters", "activations", "info", "predict", "gui"} <= set(report["commands"])
    helps = report["runs"][: len(report["commands"]) + 1]
    assert all(run["code"] == 0 and run["out"].startswith("usage:") for run in helps)
    for run, (argv, message) in zip(report["runs"][len(helps):], USAGE_ERRORS, strict=True):
        assert run["code"] == 2, argv
        assert run["err"].count("\n") == 1 and message in run["err"], (argv, run["err"])
