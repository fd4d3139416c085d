"""`batch --ray` keeps Ray's own logging out of the terminal unless --verbose, and says once
how long Ray's start-up took (issue 20, item 10: a small lot printed Ray's "E ... core_worker.cc
... actor restart will fail" line and a UserWarning)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

from engine.review import ray_runner  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGES = ROOT / "resources" / "demo" / "images"


def test_batch_ray_prints_only_its_own_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    result = subprocess.run(
        [sys.executable, "main.py", "batch", "--model", str(DEMO_MODEL), "--images", str(DEMO_IMAGES),
         "--out", str(tmp_path / "out"), "--batch-size", "8", "--ray"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    strangers = [line for line in lines if not line.startswith(("review: img ", "Ray: started in "))]
    assert strangers == [], result.stderr
    assert sum(line.startswith("Ray: started in ") for line in lines) == 1
    assert "first rows after" in result.stderr and result.stdout.startswith("reviewed 42 images")


class _FakeRay:
    """ray.init's arguments, and the native log level the driver's core would read then."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def is_initialized(self) -> bool:
        return False

    def init(self, **kwargs) -> None:
        self.calls.append({**kwargs, "native_level": os.environ.get("RAY_BACKEND_LOG_LEVEL")})


@pytest.mark.parametrize(("verbose", "level", "native", "forwarded"), [
    (False, "error", "fatal", False), (True, "info", None, True)])
def test_verbose_lets_rays_logging_through(monkeypatch, verbose, level, native, forwarded):
    fake = _FakeRay()
    monkeypatch.delenv("RAY_BACKEND_LOG_LEVEL", raising=False)
    monkeypatch.setattr(ray_runner, "import_ray", lambda: fake)
    assert ray_runner.connect(None, num_cpus=1, verbose=verbose)
    (call,) = fake.calls
    assert (call["logging_level"], call["native_level"], call["log_to_driver"]) == (level, native, forwarded)
    assert "RAY_BACKEND_LOG_LEVEL" not in os.environ  # set for the start only


def test_the_users_own_native_log_level_wins(monkeypatch):
    fake = _FakeRay()
    monkeypatch.setenv("RAY_BACKEND_LOG_LEVEL", "debug")
    monkeypatch.setattr(ray_runner, "import_ray", lambda: fake)
    ray_runner.connect(None, num_cpus=1)
    assert fake.calls[0]["native_level"] == "debug" and os.environ["RAY_BACKEND_LOG_LEVEL"] == "debug"


def test_the_rate_counts_from_the_first_finished_step(monkeypatch):
    """Ray's actors take a minute to start: the progress line's rate and time left must not
    include it (a review about to end showed 0.1 img/s and ~4 min left)."""
    import io

    from cli import common

    clock = iter([0.0, 0.0, 60.0, 61.0, 62.0])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    log = io.StringIO()
    progress = common.Progress(log, "review", "img")
    for done in (0, 8, 16, 24):
        progress(done, 40)
    assert log.getvalue().splitlines()[-1] == "review: img 24/40 (60%), 62.0 s, 8.0 img/s, ~2 s left"


def test_native_lines_while_ray_starts_are_hidden_and_stderr_comes_back(capfd):
    with ray_runner._native_stderr_hidden(True):
        os.write(2, b"logging.cc:303: Set ray log level\n")
    os.write(2, b"convscope: after\n")
    with ray_runner._native_stderr_hidden(False):
        os.write(2, b"verbose: shown\n")
    assert capfd.readouterr().err == "convscope: after\nverbose: shown\n"


@pytest.mark.parametrize(("address", "started", "opening"), [
    (None, True, "Ray: started in "), ("auto", True, "Ray: joined auto in "), (None, False, "Ray: already running,")])
def test_the_start_up_is_said_once(monkeypatch, address, started, opening):
    from types import SimpleNamespace

    notes: list[str] = []

    def review_on_ray(*_args, on_table, **_kwargs):
        for _batch in range(3):
            on_table(None)
        return "result"

    monkeypatch.setattr(ray_runner, "import_ray", lambda: SimpleNamespace(shutdown=lambda: None))
    monkeypatch.setattr(ray_runner, "connect", lambda *_args, **_kwargs: started)
    monkeypatch.setattr(ray_runner, "review_on_ray", review_on_ray)
    session = SimpleNamespace(info=SimpleNamespace(path="m.keras", class_names=("ok",)))
    assert ray_runner.review_with_ray(None, session, "lot", None, address, note=notes.append) == "result"
    assert len(notes) == 1 and notes[0].startswith(opening) and "first rows after" in notes[0], notes
