"""The one rule of the layout. Which package may import which (bench -> cli -> gui -> engine, the
engine free of Qt, methods below the session, gui reaching TensorFlow only through the engine)
is import-linter's: pyproject.toml's contracts, run here and in .ci/run. What it cannot see is when
an import happens: that the window's modules load no TensorFlow when imported is checked in fresh
interpreters, so nothing else in the test run can interfere, and each check first proves that what
it looks at was really imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TENSORFLOW = ("tensorflow", "keras", "tf_keras")

# Every module under gui/ (walked, so a new view is covered the day it is added).
IMPORT_ALL_GUI = """
import importlib, pkgutil, gui
names = [info.name for info in pkgutil.walk_packages(gui.__path__, "gui.")]
for name in names:
    importlib.import_module(name)
print(json.dumps(names))
"""


def _run(code: str) -> tuple[list[str], list[str]]:
    """(lines printed by `code`, names in sys.modules afterwards), in a fresh interpreter."""
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])


def _top_level(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return sorted({m for m in modules if m.split(".")[0] in roots})


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 kept, 0 broken" in result.stdout


def test_every_gui_module_imports_without_tensorflow():
    printed, modules = _run(IMPORT_ALL_GUI)
    walked = json.loads(printed[-1])
    # The modules that build the window are among those imported, and Qt really loaded.
    assert {"gui.app", "gui.main_window", "gui.controller", "gui.worker"} <= set(walked)
    assert set(walked) <= set(modules) and "PySide6.QtWidgets" in modules
    assert _top_level(modules, TENSORFLOW) == []


def test_engine_registry_loads_no_tensorflow():
    """The method registry and its declared parameters are free: the CLI's parser and --help
    are built from them before anything needs TensorFlow."""
    _, modules = _run("import engine.session, engine.methods, engine.review, cli")
    assert "engine.methods" in modules
    assert _top_level(modules, TENSORFLOW) == []
