"""The Ray review's driver and actor logic without starting Ray: a fake `ray` module for
connect / default_actors / review_with_ray, the batches' Arrow tables handed to review_on_ray
directly (in place of Ray Data), and an actor built without opening a model. Ray itself
(`_row_tables`, `ReviewActor.__init__`) is exercised by test_ray_review.py and
test_ray_actor_pipeline.py, too slow to run per mutant.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pyarrow as pa
import pytest

from engine.errors import ConvScopeError
from engine.images.decoding import LoadedImage
from engine.review import ray_runner
from engine.review.outdir import CSV_NAME, ReviewOutput, draw_review_overlay
from engine.review.ray_runner import ModelSource, ReviewActor, _RowBuffer, review_on_ray
from engine.review.rows import ReviewRow, read_rows
from engine.review.runner import ReviewedImage, ReviewOptions
from engine.review.table import rows_to_table

CLASSES = ("ok", "scratch")


class _FakeRay:
    """The parts of the ray module the driver calls."""

    def __init__(self, initialised=False, fail=None, cpus=8.0):
        self.initialised, self.fail, self.cpus = initialised, fail, cpus
        self.inits: list[dict] = []
        self.shutdowns = 0
        self.data = SimpleNamespace()

    def is_initialized(self):
        return self.initialised

    def init(self, **kwargs):
        self.inits.append({**kwargs, "backend": os.environ.get("RAY_BACKEND_LOG_LEVEL")})
        if self.fail:
            raise self.fail

    def shutdown(self):
        self.shutdowns += 1

    def cluster_resources(self):
        return {"CPU": self.cpus} if self.cpus is not None else {}


@pytest.fixture()
def fake_ray(monkeypatch):
    ray = _FakeRay()
    monkeypatch.setattr(ray_runner, "import_ray", lambda: ray)
    monkeypatch.delenv("RAY_BACKEND_LOG_LEVEL", raising=False)
    return ray


def test_without_ray_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConvScopeError, match=r'^Ray is not installed: pip install -e "\.\[cluster\]"'):
        ray_runner.import_ray()
    monkeypatch.setitem(sys.modules, "ray", SimpleNamespace())
    monkeypatch.setitem(sys.modules, "ray.data", None)  # ray without its Data library
    with pytest.raises(ConvScopeError, match="Ray is not installed"):
        ray_runner.import_ray()


def test_a_local_start_uses_this_machine_quietly(fake_ray, monkeypatch):
    import logging

    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    logging.getLogger("ray.data").setLevel(logging.NOTSET)
    assert ray_runner.connect() is True
    (call,) = fake_ray.inits
    assert call["address"] == "local" and call["num_cpus"] == 6 and call["include_dashboard"] is False
    assert call["logging_level"] == "error" and call["log_to_driver"] is False and call["backend"] == "fatal"
    env = call["runtime_env"]["env_vars"]
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "2" and env["PYTHONPATH"].split(os.pathsep)[0] == \
        str(Path(ray_runner.__file__).resolve().parents[2])
    assert logging.getLogger("ray.data").level == logging.ERROR
    assert "RAY_BACKEND_LOG_LEVEL" not in os.environ  # set only while Ray starts


def test_a_verbose_start_lets_ray_talk(fake_ray, monkeypatch):
    import logging

    logging.getLogger("ray.data").setLevel(logging.NOTSET)
    assert ray_runner.connect(num_cpus=3, verbose=True) is True
    (call,) = fake_ray.inits
    assert call["num_cpus"] == 3 and call["logging_level"] == "info" and call["log_to_driver"] is True
    assert call["backend"] is None and call["runtime_env"]["env_vars"]["TF_CPP_MIN_LOG_LEVEL"] == "0"
    assert logging.getLogger("ray.data").level == logging.NOTSET


def test_joining_a_cluster_passes_only_its_address(fake_ray):
    assert ray_runner.connect("ray://head:10001") is True
    assert fake_ray.inits == [{"address": "ray://head:10001", "logging_level": "error", "log_to_driver": False,
                               "backend": "fatal"}]


def test_an_initialised_ray_is_used_as_it_is(fake_ray):
    fake_ray.initialised = True
    assert ray_runner.connect("auto") is False and fake_ray.inits == []


@pytest.mark.parametrize("address, message", [("head:6379", "^cannot join Ray at head:6379: refused$"),
                                              (None, "^cannot start Ray: refused$")])
def test_a_failed_start_is_one_line(fake_ray, address, message):
    fake_ray.fail = ConnectionError("refused")
    with pytest.raises(ConvScopeError, match=message):
        ray_runner.connect(address)
    fake_ray.fail = ValueError("refused")
    with pytest.raises(ConvScopeError, match=message):
        ray_runner.connect(address)
    fake_ray.fail = RuntimeError("refused")
    with pytest.raises(ConvScopeError, match=message):
        ray_runner.connect(address)


def test_the_users_native_log_level_wins(monkeypatch):
    monkeypatch.setenv("RAY_BACKEND_LOG_LEVEL", "debug")
    with ray_runner._native_log_level("fatal"):
        assert os.environ["RAY_BACKEND_LOG_LEVEL"] == "debug"
    assert os.environ["RAY_BACKEND_LOG_LEVEL"] == "debug"
    monkeypatch.delenv("RAY_BACKEND_LOG_LEVEL")
    with ray_runner._native_log_level(None):
        assert "RAY_BACKEND_LOG_LEVEL" not in os.environ
    with ray_runner._native_log_level("fatal"):
        assert os.environ["RAY_BACKEND_LOG_LEVEL"] == "fatal"
    assert "RAY_BACKEND_LOG_LEVEL" not in os.environ


def test_native_stderr_is_hidden_only_while_ray_starts(capfd):
    with ray_runner._native_stderr_hidden(True):
        os.write(2, b"ray core chatter\n")
    os.write(2, b"after\n")
    with ray_runner._native_stderr_hidden(False):
        os.write(2, b"shown\n")
    err = capfd.readouterr().err
    assert "chatter" not in err and "after" in err and "shown" in err


def test_workers_find_this_checkout_first(monkeypatch):
    root = str(Path(ray_runner.__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    assert ray_runner._project_path() == root + os.pathsep + "/elsewhere"
    monkeypatch.delenv("PYTHONPATH")
    assert ray_runner._project_path() == root


def test_one_actor_per_cpu_share_and_threads_per_actor(fake_ray):
    assert ray_runner.default_actors() == 8 and ray_runner.default_actors(2.0) == 4
    assert ray_runner.default_actors(3.0) == 2 and ray_runner.default_actors(16.0) == 1
    fake_ray.cpus = None
    assert ray_runner.default_actors() == 1
    assert ray_runner._thread_limits(2.5) == {"TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "1",
                                              "OMP_NUM_THREADS": "2"}
    assert ray_runner._thread_limits(0.5)["OMP_NUM_THREADS"] == "1"


def _lot(root: Path, names=("ok/a.png", "ok/b.png", "scratch/c.png", "scratch/d.png", "scratch/e.png")) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / name), np.full((8, 8, 3), 100, np.uint8))
    return root


def _row(path: str) -> ReviewRow:
    label = path.split("/")[0]
    return ReviewRow(path, label, CLASSES.index(label), predicted=label, predicted_index=CLASSES.index(label),
                     confidence=0.9, correct=True)


def _tables(paths, trust=None, size=2):
    """What the actors send: one Arrow table per batch with the driver-only columns."""
    for start in range(0, len(paths), size):
        table = rows_to_table([_row(p) for p in paths[start:start + size]])
        n = table.num_rows
        table = table.append_column("_worker", pa.array([1] * n, pa.int64()))
        table = table.append_column("_node", pa.array(["n"] * n, pa.string()))
        table = table.append_column("_trust", pa.array([trust] + [None] * (n - 1), pa.binary()))
        table = table.append_column("_started", pa.array([0.0] * n, pa.float64()))
        yield table.append_column("_seconds", pa.array([0.0] * n))


RUN = {"class_names": list(CLASSES)}


def test_the_driver_writes_every_row_in_order_and_reports_progress(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot")
    asked: list = []

    def row_tables(pending, root, output, options, model, actors, cpus):
        asked.append((pending, root, options.batch_size, model, actors, cpus))
        return _tables(pending)

    monkeypatch.setattr(ray_runner, "_row_tables", row_tables)
    output = ReviewOutput(tmp_path / "out", RUN)
    progress, seen = [], []
    result = review_on_ray(output, images, ReviewOptions(batch_size=2), ModelSource("m.keras"), CLASSES, actors=3,
                           cpus_per_actor=2.0, progress=lambda d, t: progress.append((d, t)), on_table=seen.append)
    output.close()
    assert asked == [(["ok/a.png", "ok/b.png", "scratch/c.png", "scratch/d.png", "scratch/e.png"], images, 2,
                      ModelSource("m.keras"), 3, 2.0)]
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)] and len(seen) == 3 and "_worker" in seen[0].column_names
    assert [r.path for r in read_rows(tmp_path / "out" / CSV_NAME)] == asked[0][0]
    assert result.complete and result.total == 5 and len(result.rows) == 5 and result.trust is None
    assert result.class_names == CLASSES and result.overall.correct == 5


def test_a_resumed_ray_review_sends_only_the_missing_images(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot")
    first = ReviewOutput(tmp_path / "out", RUN)
    first.on_rows([_row("ok/a.png"), _row("scratch/d.png")])
    first.finish(None, "interrupted")
    first.close()
    asked: list = []
    monkeypatch.setattr(ray_runner, "_row_tables", lambda pending, *rest: asked.append(pending) or _tables(pending))
    output = ReviewOutput(tmp_path / "out", RUN, resume=True)
    progress: list = []
    result = review_on_ray(output, images, ReviewOptions(), ModelSource("m.keras"), CLASSES,
                           progress=lambda d, t: progress.append((d, t)))
    output.close()
    assert asked == [["ok/b.png", "scratch/c.png", "scratch/e.png"]]
    assert progress[0] == (2, 5) and progress[-1] == (5, 5) and result.total == 5 and len(result.rows) == 5


def test_nothing_left_to_review_starts_no_actor(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot", names=("ok/a.png",))
    first = ReviewOutput(tmp_path / "out", RUN)
    first.on_rows([_row("ok/a.png")])
    first.close()
    monkeypatch.setattr(ray_runner, "_row_tables", lambda *args: pytest.fail("no batch to send"))
    output = ReviewOutput(tmp_path / "out", RUN, resume=True)
    result = review_on_ray(output, images, ReviewOptions(), ModelSource("m.keras"), CLASSES)
    output.close()
    assert result.complete and len(result.rows) == 1


def test_the_review_folder_inside_the_images_is_not_reviewed(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot", names=("ok/a.png",))
    asked: list = []
    monkeypatch.setattr(ray_runner, "_row_tables", lambda pending, *rest: asked.append(pending) or _tables(pending))
    output = ReviewOutput(images / "review", RUN)
    cv2.imwrite(str(images / "review" / "overlays" / "x.png"), np.zeros((4, 4, 3), np.uint8))
    review_on_ray(output, images, ReviewOptions(), ModelSource("m.keras"), CLASSES)
    output.close()
    assert asked == [["ok/a.png"]]


def test_the_actors_trust_figures_are_merged(tmp_path, monkeypatch):
    from engine.trust.review import TrustAccumulator

    images = _lot(tmp_path / "lot")
    added: list = []

    class Merger(ray_runner._TrustMerger):
        def add(self, pickled):
            added.append(pickled)
            super().add(pickled)

    monkeypatch.setattr(ray_runner, "_TrustMerger", Merger)
    payload = pickle.dumps(TrustAccumulator())
    monkeypatch.setattr(ray_runner, "_row_tables", lambda pending, *rest: _tables(pending, trust=payload))
    summarised: list = []
    real = ray_runner.summarise

    def summarise(*args, trust=None):
        summarised.append(trust)
        return real(*args, trust=trust)

    monkeypatch.setattr(ray_runner, "summarise", summarise)
    output = ReviewOutput(tmp_path / "out", RUN)
    review_on_ray(output, images, ReviewOptions(trust=True, batch_size=2), ModelSource("m.keras", trust=True), CLASSES)
    output.close()
    assert added == [payload] * 3 and isinstance(summarised[0], TrustAccumulator)
    output = ReviewOutput(tmp_path / "out2", RUN)
    review_on_ray(output, images, ReviewOptions(batch_size=2), ModelSource("m.keras"), CLASSES)
    output.close()
    assert len(added) == 3 and summarised[1] is None


def test_rows_received_before_an_interruption_are_written(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot")
    closed: list = []

    def tables(pending, *rest):
        try:
            yield from _tables(pending[:2])
            raise KeyboardInterrupt
        finally:
            closed.append(True)

    monkeypatch.setattr(ray_runner, "_row_tables", tables)
    monkeypatch.setattr(ray_runner, "FLUSH_ROWS", 10**6)
    monkeypatch.setattr(ray_runner, "FLUSH_SECONDS", 10**6)
    output = ReviewOutput(tmp_path / "out", RUN)
    with pytest.raises(KeyboardInterrupt):
        review_on_ray(output, images, ReviewOptions(), ModelSource("m.keras"), CLASSES)
    output.close()
    assert [r.path for r in read_rows(tmp_path / "out" / CSV_NAME)] == ["ok/a.png", "ok/b.png"]
    assert closed == [True]


def test_an_on_table_error_stops_the_dataset(tmp_path, monkeypatch):
    images = _lot(tmp_path / "lot")
    state = {"closed": False}

    def tables(pending, *rest):
        try:
            yield from _tables(pending)
        finally:
            state["closed"] = True

    monkeypatch.setattr(ray_runner, "_row_tables", tables)
    output = ReviewOutput(tmp_path / "out", RUN)

    def fail(table):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        review_on_ray(output, images, ReviewOptions(), ModelSource("m.keras"), CLASSES, on_table=fail)
    output.close()
    assert state["closed"]


class _Output:
    def __init__(self):
        self.written: list[list[str]] = []

    def on_rows(self, rows):
        self.written.append([r.path for r in rows])


def test_the_row_buffer_writes_at_the_row_count_or_after_the_time(monkeypatch):
    clock = {"now": 100.0}
    monkeypatch.setattr(ray_runner.time, "perf_counter", lambda: clock["now"])
    monkeypatch.setattr(ray_runner, "FLUSH_ROWS", 3)
    output = _Output()
    buffer = _RowBuffer(output)
    buffer.add([_row("ok/a.png"), _row("ok/b.png")])
    assert output.written == []
    buffer.add([_row("ok/c.png")])  # the third row: written
    assert output.written == [["ok/a.png", "ok/b.png", "ok/c.png"]] and buffer.rows == []
    clock["now"] += ray_runner.FLUSH_SECONDS - 0.01
    buffer.add([_row("ok/d.png")])
    assert len(output.written) == 1
    clock["now"] += 0.01  # exactly FLUSH_SECONDS since the last write
    buffer.add([_row("ok/e.png")])
    assert output.written[-1] == ["ok/d.png", "ok/e.png"]
    buffer.flush()
    assert len(output.written) == 2  # nothing buffered: no empty write
    assert ray_runner.FLUSH_SECONDS == 1.0


def test_the_row_buffer_default_counts():
    assert ray_runner.FLUSH_ROWS == 1024 and ray_runner.CALLS_PER_ACTOR == 3


def _actor(tmp_path, trust=False) -> ReviewActor:
    actor = ReviewActor.__new__(ReviewActor)  # no model: the parts that do not need one
    actor.out, actor.node, actor.options = tmp_path, "node-1", ReviewOptions(trust=trust)
    actor.alpha, actor.colormap = 0.0, "viridis"
    return actor


def _reviewed(path: str, drawn=True) -> ReviewedImage:
    display = np.full((8, 8, 3), 100, np.uint8)
    image = LoadedImage(path, display, display.astype(np.float32), False, "uint8", 8)
    return ReviewedImage(_row(path), image if drawn else None, np.ones((8, 8), np.float32) if drawn else None, None)


def test_an_actor_sends_its_rows_with_worker_node_and_timing(tmp_path):
    actor = _actor(tmp_path)
    table = actor._table([_reviewed("ok/a.png"), _reviewed("ok/b.png")], started=0.0, clock=1234.5)
    assert table.column("path").to_pylist() == ["ok/a.png", "ok/b.png"]
    assert table.column("_worker").to_pylist() == [os.getpid()] * 2 and table.column("_node").to_pylist() == ["node-1"] * 2
    assert table.column("_started").to_pylist() == [1234.5] * 2 and table.column("_trust").to_pylist() == [None, None]
    assert all(s > 0 for s in table.column("_seconds").to_pylist())
    assert table.schema.field("_worker").type == pa.int64() and table.schema.field("_trust").type == pa.binary()


class _CountingAccumulator:
    """Stands for engine.trust.review.TrustAccumulator in an actor (picklable: module level)."""

    seen: list[int] = []

    def add(self, reviewed):
        self.seen.append(len(reviewed))


def test_an_actor_pickles_its_batch_trust_only_with_trust(tmp_path, monkeypatch):
    from engine.trust import review as trust_review

    assert _actor(tmp_path)._trust([_reviewed("ok/a.png")]) is None
    _CountingAccumulator.seen.clear()
    monkeypatch.setattr(trust_review, "TrustAccumulator", _CountingAccumulator)
    actor = _actor(tmp_path, trust=True)
    payload = actor._trust([_reviewed("ok/a.png"), _reviewed("ok/b.png")])
    assert _CountingAccumulator.seen == [2] and isinstance(pickle.loads(payload), _CountingAccumulator)
    table = actor._table([_reviewed("ok/a.png"), _reviewed("ok/b.png")], 0.0, 0.0)
    assert table.column("_trust").to_pylist()[1] is None and table.column("_trust").to_pylist()[0] is not None


def test_an_actor_writes_the_overlays_of_drawn_images_only(tmp_path):
    actor = _actor(tmp_path)
    drawn = _reviewed("ok/a.png")
    actor._write_overlays([drawn, _reviewed("ok/b.png", drawn=False)])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png")) == ["overlays/ok/a.png"]
    saved = cv2.imread(str(tmp_path / "overlays" / "ok" / "a.png"))[..., ::-1]
    assert np.array_equal(saved, draw_review_overlay(drawn, 0.0, "viridis"))


def test_review_with_ray_opens_the_same_model_everywhere_and_shuts_down_what_it_started(fake_ray, monkeypatch,
                                                                                       tmp_path):
    calls: list = []

    def on_ray(output, images, options, model, class_names, **kwargs):
        calls.append((model, class_names, kwargs["actors"], kwargs["progress"]))
        table = kwargs["on_table"]
        if table is not None:
            table(None)
            table(None)
        return "result"

    monkeypatch.setattr(ray_runner, "review_on_ray", on_ray)
    session = SimpleNamespace(info=SimpleNamespace(path=Path("/m/model.keras"), class_names=["ok", "scratch"]))
    notes: list = []
    got = ray_runner.review_with_ray("out", session, "lot", ReviewOptions(), None, trust=True, preprocessing="unit",
                                     actors=2, progress=print, note=notes.append)
    assert got == "result" and fake_ray.shutdowns == 1
    assert calls == [(ModelSource("/m/model.keras", True, "unit"), ("ok", "scratch"), 2, print)]
    assert len(notes) == 1 and notes[0].startswith("Ray: started in ") and "first rows after" in notes[0]
    assert fake_ray.inits[0]["address"] == "local"
    ray_runner.review_with_ray("out", session, "lot", ReviewOptions(), "head:6379", note=notes.append)
    assert notes[-1].startswith("Ray: joined head:6379 in ") and fake_ray.inits[-1]["address"] == "head:6379"
    assert fake_ray.shutdowns == 2
    fake_ray.initialised = True
    ray_runner.review_with_ray("out", session, "lot", ReviewOptions(), "local", note=notes.append)
    assert notes[-1].startswith("Ray: already running, first rows") and fake_ray.shutdowns == 2
    assert ray_runner.review_with_ray("out", session, "lot", ReviewOptions()) == "result"
    assert calls[-1][0] == ModelSource("/m/model.keras", False, None)


def test_review_with_ray_shuts_ray_down_after_an_error(fake_ray, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("actor died")

    monkeypatch.setattr(ray_runner, "review_on_ray", broken)
    session = SimpleNamespace(info=SimpleNamespace(path="m.keras", class_names=["ok"]))
    with pytest.raises(RuntimeError):
        ray_runner.review_with_ray("out", session, "lot", ReviewOptions())
    assert fake_ray.shutdowns == 1


def _warning_from(module: str, text: str, monkeypatch) -> SimpleNamespace:
    """review_on_ray stubbed to warn `text` as if from `module`; returns a stand-in session."""
    def on_ray(*args, **kwargs):
        warnings.warn_explicit(text, UserWarning, "x.py", 1, module=module)
        return "result"

    monkeypatch.setattr(ray_runner, "review_on_ray", on_ray)
    return SimpleNamespace(info=SimpleNamespace(path="m.keras", class_names=["ok"]))


def test_ray_warnings_stay_quiet_unless_verbose(fake_ray, monkeypatch):
    session = _warning_from("ray.data.context", "ray note", monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ray_runner.review_with_ray("out", session, "lot", ReviewOptions())
        assert caught == []
        ray_runner.review_with_ray("out", session, "lot", ReviewOptions(), verbose=True)
        assert [str(w.message) for w in caught] == ["ray note"]
    assert fake_ray.inits[-1]["logging_level"] == "info"


def test_an_actor_call_reviews_its_batch_like_the_single_process_runner(tmp_path):
    from tests.engine.test_review_runner_mutants import _Session, _write

    images = tmp_path / "lot"
    _write(images / "scratch" / "s1.png", mask_box=(3, 5, 8, 10))
    _write(images / "ok" / "o1.png")
    (images / "ok" / "broken.png").write_bytes(b"not an image")
    actor = _actor(tmp_path / "out")
    actor.session, actor.root, actor.model_lock = _Session(), images, threading.Lock()
    actor.options = ReviewOptions(tolerance=0.0)
    table = actor({"path": np.array(["scratch/s1.png", "ok/o1.png", "ok/broken.png"])})
    assert table.column("path").to_pylist() == ["scratch/s1.png", "ok/o1.png", "ok/broken.png"]
    assert table.column("pointing_hit").to_pylist()[:2] == [True, None]
    assert table.column("error").to_pylist()[2] != "" and table.column("predicted").to_pylist()[0] == "scratch"
    assert all(abs(t - time.time()) < 3600 for t in table.column("_started").to_pylist())  # the wall clock
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.png"))
    assert written == ["overlays/ok/o1.png", "overlays/scratch/s1.png"]
    loaded = actor._load_batch(["scratch/s1.png"])
    assert loaded[0].relative == "scratch/s1.png" and loaded[0].image is not None and loaded[0].label == "scratch"


def test_the_start_up_note_gives_the_times_and_why(fake_ray, monkeypatch):
    monkeypatch.setattr(ray_runner.time, "perf_counter", lambda: 5.0)
    received: list = []

    def on_ray(output, images, options, model, class_names, **kwargs):
        received.append((output, images, options))
        kwargs["on_table"](None)
        return "result"

    monkeypatch.setattr(ray_runner, "review_on_ray", on_ray)
    session = SimpleNamespace(info=SimpleNamespace(path="m.keras", class_names=["ok"]))
    notes: list = []
    options = ReviewOptions(batch_size=3)
    ray_runner.review_with_ray("out", session, "lot", options, "", note=notes.append)
    assert notes == ["Ray: started in 0.0 s, first rows after 0.0 s (each actor loads TensorFlow and the model once)"]
    assert received == [("out", "lot", options)]
    ray_runner.review_with_ray("out", session, "lot", options, "local", note=notes.append)
    assert notes[-1].startswith("Ray: started in 0.0 s") and "runtime_env" in fake_ray.inits[-1]


def test_only_rays_own_warnings_are_silenced(fake_ray, monkeypatch):
    session = _warning_from("engine.review.table", "ours", monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ray_runner.review_with_ray("out", session, "lot", ReviewOptions())
    assert [str(w.message) for w in caught] == ["ours"]


def test_ray_core_chatter_is_hidden_unless_verbose(fake_ray, capfd):
    fake_ray.init = lambda **kwargs: os.write(2, b"core says hello\n")
    ray_runner.connect()
    assert "core says hello" not in capfd.readouterr().err
    ray_runner.connect(verbose=True)
    assert "core says hello" in capfd.readouterr().err


def test_a_machine_that_does_not_know_its_cores_starts_one_cpu(fake_ray, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    ray_runner.connect()
    assert fake_ray.inits[-1]["num_cpus"] == 1
