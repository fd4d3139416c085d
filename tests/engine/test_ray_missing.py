"""Without Ray installed, `batch --ray` says in one line how to install it, before any work."""

from __future__ import annotations

import sys

from cli.common import DEMO_IMAGES, DEMO_MODEL
from tests.cli_run import refused


def test_batch_ray_without_ray_names_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    monkeypatch.setitem(sys.modules, "ray.data", None)
    err = refused(capsys, "batch", "--model", DEMO_MODEL, "--images", DEMO_IMAGES, "--out", tmp_path / "out", "--ray")
    assert 'pip install -e ".[cluster]"' in err
    assert not (tmp_path / "out").exists()
