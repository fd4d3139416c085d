"""engine.review and engine.annotations export their names lazily (PEP 562, so the window's first
paint does not import every reader): each public name still resolves, to its module's object."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ("engine.review", "engine.annotations")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves_to_its_home(package):
    module = importlib.import_module(package)
    homes = {name: home for home, names in module._MODULES.items() for name in names}
    assert set(homes) == set(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is getattr(importlib.import_module(homes[name]), name)
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES)
def test_a_star_import_and_a_submodule_import_work(package):
    code = (f"from {package} import *\nimport {package} as p\n"
            f"missing = [n for n in p.__all__ if n not in globals()]\nassert not missing, missing\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-1000:]


def test_importing_a_light_submodule_leaves_the_readers_out():
    code = ("import sys\nimport engine.review.metrics, engine.annotations.regions\n"
            "heavy = ('engine.review.runner', 'engine.annotations.source', 'yaml')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr[-1000:]
