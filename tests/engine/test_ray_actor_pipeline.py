"""One Ray actor works like the single-process runner's pipeline (issue 20, item 15): while the
model reviews one batch, another batch is decoded or has its overlays written, and the model
still takes one batch at a time. Inline, one actor ran at 0.52-0.62x the single process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from cli.common import DEMO_IMAGES, DEMO_MODEL  # noqa: E402
from engine.review import ReviewOptions, folder_images, ray_runner  # noqa: E402
from engine.review.outdir import open_review_output, overlay_name  # noqa: E402
from engine.review.ray_runner import ModelSource, ReviewActor, connect, review_on_ray  # noqa: E402
from engine.review.runner import ReviewedImage  # noqa: E402


def test_the_model_takes_one_batch_at_a_time_when_calls_run_at_once(monkeypatch, tmp_path):
    """Ray runs an actor's calls in threads; two batches in the model at once would share its
    graph and TensorFlow's threads (and the Session was never made for it)."""
    inside, most = [0], [0]

    def review_batch(_session, items, *_args):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.05)  # long enough for the other threads to arrive
        inside[0] -= 1
        return [ReviewedImage(item, None, None, None) for item in items]

    monkeypatch.setattr(ray_runner, "_review_batch", review_batch)
    actor = ReviewActor.__new__(ReviewActor)  # no model: only the call's locking is under test
    actor.model_lock, actor.session, actor.root, actor.options = threading.Lock(), None, Path("."), None
    monkeypatch.setattr(actor, "_load_batch", lambda paths: list(paths), raising=False)
    monkeypatch.setattr(actor, "_write_overlays", lambda reviewed: None, raising=False)
    monkeypatch.setattr(actor, "_table", lambda reviewed, *_: reviewed, raising=False)
    threads = [threading.Thread(target=actor, args=({"path": [f"{i}.png"]},)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


@pytest.fixture(scope="module")
def local_ray():
    assert connect(None, num_cpus=2)
    yield ray
    ray.shutdown()


def test_one_actor_overlaps_batches_and_keeps_their_order(local_ray, tmp_path):
    from engine import Session

    session = Session.open(DEMO_MODEL)
    options = ReviewOptions(batch_size=4)  # the demo's 42 images: 11 batches
    output = open_review_output(session, DEMO_IMAGES, tmp_path / "out", options)
    spans: list[tuple[int, float, float]] = []

    def on_table(table) -> None:
        started, seconds = table.column("_started")[0].as_py(), table.column("_seconds")[0].as_py()
        spans.append((table.column("_worker")[0].as_py(), started, started + seconds))

    try:
        review_on_ray(output, DEMO_IMAGES, options, ModelSource(str(DEMO_MODEL)), session.info.class_names,
                      actors=1, on_table=on_table)
    finally:
        output.close()
    assert len({worker for worker, _, _ in spans}) == 1 and len(spans) == 11
    overlapping = [(a, b) for a, b in zip(spans, spans[1:], strict=False) if b[1] < a[2]]
    assert overlapping, "each batch waited for the previous one to finish"
    expected = [p.relative_to(DEMO_IMAGES).as_posix() for p in folder_images(DEMO_IMAGES)]
    assert [row.path for row in output.rows] == expected
    assert all((tmp_path / "out" / overlay_name(row)).is_file() for row in output.rows if not row.error)
