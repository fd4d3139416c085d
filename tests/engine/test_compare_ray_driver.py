"""`compare --ray`'s driver and actor without starting Ray: a fake `ray` whose Data pipeline
calls PairActor in this process, one block at a time in the folder's order. Ray itself is
exercised by test_compare_ray.py; this file is what a mutation run can afford per mutant.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("pyarrow")  # the actor sends its pairing as an Arrow table

from cli.common import DEMO_IMAGES, DEMO_MODEL  # noqa: E402
from engine import Session  # noqa: E402
from engine.review import ReviewOptions, compare_ray  # noqa: E402
from engine.review.compare import compare_folder  # noqa: E402
from engine.review.ray_runner import ModelSource, _thread_limits  # noqa: E402

SHORTCUT = Path(DEMO_MODEL).parent / "shortcut.keras"


class _Dataset:
    """ray.data's from_arrow -> map_batches -> iter_batches, run in order in this process."""

    def __init__(self, ray: _FakeRay, blocks: list) -> None:
        self.ray, self.blocks = ray, blocks

    def map_batches(self, fn, **kwargs):
        self.ray.mapped = kwargs
        self.fn = fn
        return self

    def iter_batches(self, **kwargs):
        self.ray.iterated = kwargs
        actor = self.fn(**self.ray.mapped["fn_constructor_kwargs"])
        for block in self.blocks:
            self.ray.block_sizes.append(block.num_rows)
            yield actor({"path": np.array(block.column("path").to_pylist())})


class _FakeRay:
    def __init__(self) -> None:
        self.shutdowns = 0
        self.mapped: dict = {}
        self.iterated: dict = {}
        self.block_sizes: list[int] = []
        self.pools: list[int] = []
        self.context = SimpleNamespace(execution_options=SimpleNamespace(preserve_order=False),
                                       enable_progress_bars=True)
        self.data = SimpleNamespace(
            DataContext=SimpleNamespace(get_current=lambda: self.context),
            from_arrow=lambda blocks: _Dataset(self, blocks),
            ActorPoolStrategy=self._pool)

    def _pool(self, size):
        self.pools.append(size)
        return ("pool", size)

    def shutdown(self) -> None:
        self.shutdowns += 1


@pytest.fixture()
def fake_ray(monkeypatch, sessions):
    opened = {str(Path(s.info.path).resolve()): s for s in sessions}  # actors reuse the driver's sessions
    monkeypatch.setattr(Session, "open", staticmethod(lambda path, **_: opened[str(Path(path).resolve())]))
    ray = _FakeRay()
    ray.addresses = []
    monkeypatch.setattr(compare_ray, "import_ray", lambda: ray)

    def connect(address=None):
        ray.addresses.append(address)
        return ray.started

    ray.started = True
    monkeypatch.setattr(compare_ray, "connect", connect)
    monkeypatch.setattr(compare_ray, "default_actors", lambda: 3)
    return ray


@pytest.fixture(scope="module")
def lot(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pair") / "lot"
    for label, count in (("scratch", 2), ("crack", 2), ("ok", 1)):
        (root / label).mkdir(parents=True)
        images = [p for p in sorted((DEMO_IMAGES / label).glob("*.png")) if not p.stem.endswith("_mask")]
        for source in images[:count]:
            for kept in (source, source.with_name(source.stem + "_mask.png")):  # with its defect mask
                if kept.is_file():
                    shutil.copy(kept, root / label / kept.name)
    return root


@pytest.fixture(scope="module")
def sessions():
    return Session.open(DEMO_MODEL), Session.open(SHORTCUT)


def _args(lot: Path, ray: str | None = "local", **kwargs) -> argparse.Namespace:
    values = dict(ray=ray, images=str(lot), out=str(lot / "out"), trust_model=False, preprocessing=None,
                  against_preprocessing=None)
    return argparse.Namespace(**{**values, **kwargs})


def test_the_rows_in_the_folders_order_equal_the_single_process_comparison(fake_ray, lot, sessions):
    # guards: a batch's pairing merged twice or not at all, one side's rows or trust lost, the
    # progress or the streamed rows not reported per batch, the result marked incomplete
    a, b = sessions
    options = ReviewOptions(batch_size=2, trust=True)
    local = compare_folder(a, b, lot, options)
    streamed: list = []
    progress: list = []
    began = time.perf_counter()
    remote = compare_ray.compare_with_ray(a, b, _args(lot), options, on_rows=streamed.extend,
                                          progress=lambda done, total: progress.append((done, total)))
    assert 0.0 < remote.seconds <= time.perf_counter() - began
    assert fake_ray.block_sizes == [2, 2, 1]
    assert [r.path for r in remote.rows] == [r.path for r in local.rows] and len(remote.rows) == 5
    assert [r.path for r in streamed] == [r.path for r in local.rows]
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]
    for mine, theirs in zip(remote.rows, local.rows, strict=True):
        assert (mine.predicted_a, mine.predicted_b, mine.flag_a, mine.flag_b) == \
            (theirs.predicted_a, theirs.predicted_b, theirs.flag_a, theirs.flag_b)
        assert mine.map_spearman == pytest.approx(theirs.map_spearman, abs=1e-6)
    assert remote.complete and remote.a.total == 5 and remote.b.total == 5
    assert [r.path for r in remote.a.rows] == [r.path for r in local.a.rows]
    assert remote.a.verdict == local.a.verdict and remote.b.verdict == local.b.verdict
    for mine, theirs in ((remote.a, local.a), (remote.b, local.b)):  # the lot-level figures merged from the actors
        ours, reference = mine.trust["overall"], theirs.trust["overall"]
        assert ours["aupro"] == pytest.approx(reference["aupro"], abs=1e-6)
        for curve in ("deletion", "insertion"):
            assert ours["mean_curves"]["map"][curve] == pytest.approx(reference["mean_curves"]["map"][curve], abs=1e-6)
        assert [r.energy_inside for r in mine.rows] == pytest.approx([r.energy_inside for r in theirs.rows])
    assert [s.row.path for s in remote.flips] == [s.row.path for s in local.flips]
    assert fake_ray.shutdowns == 1 and fake_ray.addresses == [None]


def test_the_pipeline_keeps_order_and_gives_each_actor_one_cpu(fake_ray, lot, sessions):
    # guards: order not preserved (rows shuffled against the folder), progress bars on the
    # terminal, actors contending for threads, a chosen actor count not reaching the pool
    a, b = sessions
    logging.getLogger("ray.data").setLevel(logging.INFO)
    compare_ray.compare_with_ray(a, b, _args(lot), ReviewOptions(batch_size=4), actors=2)
    assert fake_ray.context.execution_options.preserve_order is True
    assert fake_ray.context.enable_progress_bars is False
    assert logging.getLogger("ray.data").level == logging.ERROR
    mapped = fake_ray.mapped
    assert (mapped["batch_size"], mapped["batch_format"], mapped["num_cpus"]) == (4, "numpy", 1)
    assert mapped["compute"] == ("pool", 2) and fake_ray.pools == [2]
    assert mapped["runtime_env"] == {"env_vars": _thread_limits(1)}
    assert fake_ray.iterated == {"batch_size": None, "batch_format": "pyarrow", "prefetch_batches": 0}
    assert fake_ray.block_sizes == [4, 1]
    compare_ray.compare_with_ray(a, b, _args(lot), ReviewOptions(batch_size=4))
    assert fake_ray.pools == [2, 3]  # no count given: one actor per CPU of the cluster


def test_each_actor_opens_both_models_as_the_driver_did(fake_ray, lot, sessions, monkeypatch):
    # guards: --trust-model or a side's --preprocessing not reaching the actors (they would
    # explain other inputs than the driver's session), A and B swapped
    a, b = sessions
    opened: list = []
    reused = Session.open

    def open_recorded(path, trust=False, preprocessing=None):
        opened.append((Path(path).name, trust, preprocessing))
        return reused(path)

    monkeypatch.setattr(Session, "open", staticmethod(open_recorded))
    args = _args(lot, trust_model=True, preprocessing="tf", against_preprocessing="caffe")
    compare_ray.compare_with_ray(a, b, args, ReviewOptions(batch_size=8))
    kwargs = fake_ray.mapped["fn_constructor_kwargs"]
    assert kwargs["model_a"] == ModelSource(a.info.path, True, "tf")
    assert kwargs["model_b"] == ModelSource(b.info.path, True, "caffe")
    assert kwargs["images"] == str(lot) and kwargs["options"].batch_size == 8
    assert opened == [("defects.keras", True, "tf"), ("shortcut.keras", True, "caffe")]


def test_a_cluster_address_is_joined_and_local_starts_this_machine(fake_ray, lot, sessions):
    a, b = sessions
    for given, joined in (("local", None), ("", None), (None, None), ("ray://head:10001", "ray://head:10001")):
        compare_ray.compare_with_ray(a, b, _args(lot, ray=given), ReviewOptions(batch_size=8))
        assert fake_ray.addresses[-1] == joined
    assert fake_ray.shutdowns == 4


def test_ray_already_running_is_left_running_and_a_failure_still_disconnects(fake_ray, lot, sessions, monkeypatch):
    # guards: shutting down a Ray the caller started (a notebook's), or leaving a started one
    # running after an error
    a, b = sessions
    fake_ray.started = False
    compare_ray.compare_with_ray(a, b, _args(lot), ReviewOptions(batch_size=8))
    assert fake_ray.shutdowns == 0
    fake_ray.started = True

    def broken(*_args, **_kwargs):
        raise RuntimeError("actor died")

    monkeypatch.setattr(compare_ray, "_pairings", broken)
    with pytest.raises(RuntimeError, match="actor died"):
        compare_ray.compare_with_ray(a, b, _args(lot), ReviewOptions(batch_size=8))
    assert fake_ray.shutdowns == 1


def test_an_empty_folder_and_the_output_folder_inside_the_lot(fake_ray, tmp_path, lot, sessions):
    # guards: an empty lot building an empty pipeline (Ray refuses it), the output folder's
    # overlays compared as images of the lot
    a, b = sessions
    empty = tmp_path / "empty"
    empty.mkdir()
    progress: list = []
    result = compare_ray.compare_with_ray(a, b, _args(empty), ReviewOptions(),
                                          progress=lambda done, total: progress.append((done, total)))
    assert result.rows == () and result.complete and progress == [(0, 0)] and fake_ray.block_sizes == []
    copy = tmp_path / "with_out"
    shutil.copytree(lot, copy)
    (copy / "out").mkdir()
    shutil.copy(next((copy / "ok").glob("ok_*.png")), copy / "out" / "overlay.png")
    result = compare_ray.compare_with_ray(a, b, _args(copy, out=str(copy / "out")), ReviewOptions(batch_size=8))
    assert len(result.rows) == 5 and not any("overlay" in r.path for r in result.rows)
