"""The one rule of the layout: engine never imports Qt or the GUI; gui never imports TensorFlow
at import time. Checked in fresh interpreters, so nothing else in the test run can interfere."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules_after(code: str) -> list[str]:
    """Names in sys.modules after running `code` in a fresh interpreter at the repo root."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_engine_imports_no_qt_and_no_gui():
    modules = _modules_after("import engine\nimport engine.session\nimport engine.methods\n"
                             "from engine.model.backend import load\nload()")
    assert "engine.session" in modules
    assert "tensorflow" in modules  # TensorFlow really loaded: the check below means something
    banned = [m for m in modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "gui", "shiboken6")]
    assert banned == []


def test_gui_package_does_not_import_tensorflow():
    modules = _modules_after("import gui")
    assert "gui" in modules
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")]


def test_engine_registry_loads_no_tensorflow():
    """The method registry and its declared parameters are free: the CLI's parser and --help
    are built from them before anything needs TensorFlow."""
    modules = _modules_after("import engine.session\nimport engine.methods\nimport engine.review")
    assert "engine.methods" in modules
    assert not [m for m in modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")]
