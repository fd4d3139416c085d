"""`compare --ray`: the comparison on Ray Data, as `batch --ray` runs a review.

Each actor opens both models once and pairs its batches with the single-process step
(engine.review.compare.compare_batch), so the rows are the same; it sends the driver one
pickled Pairing per batch (rows, each side's rows and trust figures, the images worth showing),
which the driver merges in the folder's order.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.review.compare import Comparison, ComparisonRow, Pairing, compare_batch
from engine.review.ray_runner import (
    ModelSource,
    _thread_limits,
    connect,
    default_actors,
    import_ray,
)
from engine.review.runner import ReviewOptions, _item, _load, annotator_for, folder_images


class PairActor:
    """One Ray Data actor: both models opened once, then batches of relative paths compared."""

    def __init__(self, model_a: ModelSource, model_b: ModelSource, images: str, options: ReviewOptions) -> None:
        from engine import Session

        self.a = Session.open(model_a.path, trust=model_a.trust, preprocessing=model_a.preprocessing)
        self.b = Session.open(model_b.path, trust=model_b.trust, preprocessing=model_b.preprocessing)
        self.root, self.options = Path(images), options

    def __call__(self, batch: dict[str, Any]):
        """Compare one batch ({"path": relative paths}); one row holding its pickled Pairing."""
        import pyarrow as pa

        annotator = annotator_for(self.root, self.options, self.a.info.class_names)  # masks read once per batch
        items = [_load(_item(self.root / str(p), self.root, annotator), self.a) for p in batch["path"]]
        pairing = Pairing(self.options.trust)
        pairing.add(*compare_batch(self.a, self.b, items, self.root, self.options))
        return pa.table({"pairing": pa.array([pickle.dumps(pairing)], pa.binary())})


def compare_with_ray(session_a, session_b, args, options: ReviewOptions,
                     on_rows: Callable[[list[ComparisonRow]], None] | None = None,
                     progress: Callable[[int, int], None] | None = None, actors: int | None = None) -> Comparison:
    """Connect to (or start) Ray as `batch --ray` does, compare the folder on an actor pool, disconnect."""
    import time

    ray = import_ray()
    started = connect(None if args.ray in (None, "", "local") else args.ray)
    began = time.perf_counter()
    try:
        root = Path(args.images)
        pending = [_item(p, root).relative for p in folder_images(root, exclude=args.out)]
        merged = Pairing(options.trust)
        if progress is not None:
            progress(0, len(pending))
        for table in _pairings(pending, root, options, session_a, session_b, args, actors):
            for blob in table.column("pairing").to_pylist():
                part = pickle.loads(blob)  # noqa: S301 - from our own actors
                merged.merge(part)
                if on_rows is not None:
                    on_rows(part.rows)
            if progress is not None:
                progress(len(merged.rows), len(pending))
        return merged.result(session_a, session_b, len(pending), True, time.perf_counter() - began)
    finally:
        if started:
            ray.shutdown()


def _pairings(pending: list[str], root: Path, options: ReviewOptions, session_a, session_b, args,
              actors: int | None):
    import logging

    import pyarrow as pa

    ray = import_ray()
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    size = options.batch_size
    blocks = [pa.table({"path": pending[i:i + size]}) for i in range(0, len(pending), size)]
    if not blocks:
        return
    models = {"model_a": ModelSource(session_a.info.path, args.trust_model, args.preprocessing),
              "model_b": ModelSource(session_b.info.path, args.trust_model, args.against_preprocessing)}
    compared = ray.data.from_arrow(blocks).map_batches(
        PairActor, batch_size=size, batch_format="numpy",
        fn_constructor_kwargs={**models, "images": str(root), "options": options},
        compute=ray.data.ActorPoolStrategy(size=actors or default_actors()), num_cpus=1,
        runtime_env={"env_vars": _thread_limits(1)})
    yield from compared.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0)
