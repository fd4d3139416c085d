"""`python -m bench.scale [--images 480]`: the same review single-process and on Ray Data with
1 and 2 actors on this machine: steady throughput (images/s, from the first finished batch to
the last, so actor start-up is reported apart), scaling efficiency, Ray's overhead per batch,
and from these a paper estimate of a 10-node cluster's time for 1,000,000 demo-size images.

Ray's overhead per batch: with one actor, the driver's time between consecutive batches
minus the time the actor spent inside the batch (`_seconds`): scheduling, serialising the
paths and the rows, the object store, and the driver's own writing of results.csv and
results.parquet/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.big_lot import DEMO_MODEL, make_lot


class Clock:
    """Timestamps of finished batches (progress calls or received tables)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.times: list[float] = []
        self.done: list[int] = []
        self.inside: list[float] = []  # seconds inside the actor per batch (Ray)

    def progress(self, done: int, _total: int) -> None:
        self.times.append(time.perf_counter())
        self.done.append(done)

    def table(self, table) -> None:
        self.inside.append(float(table.column("_seconds")[0].as_py()))

    def figures(self, batch_size: int) -> dict:
        """Steady images/s (first to last finished batch), time to the first batch, per-batch times."""
        times, done = self.times[1:], self.done[1:]  # the first call is the start (0 done)
        steady = (done[-1] - done[0]) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
        between = float(np.median(np.diff(times))) if len(times) > 2 else float("nan")
        result = {"images_per_s": round(steady, 2), "first_batch_s": round(times[0] - self.started, 1),
                  "total_s": round(times[-1] - self.started, 1), "batch_interval_s": round(between, 3)}
        if self.inside:
            result["actor_batch_s"] = round(float(np.median(self.inside[1:] or self.inside)), 3)
        return result


def single(session, lot: Path, out: Path, options) -> dict:
    """The single-process review (decode-ahead and writer threads included)."""
    from engine.review.outdir import open_review_output

    output = open_review_output(session, lot, out, options)
    clock = Clock()
    output.review(session, lot, options, progress=clock.progress)
    output.close()
    return clock.figures(options.batch_size)


def on_ray(session, lot: Path, out: Path, options, actors: int) -> dict:
    """The same review on the running Ray with `actors` actors."""
    from engine.review.outdir import open_review_output
    from engine.review.ray_runner import ModelSource, review_on_ray

    output = open_review_output(session, lot, out, options)
    clock = Clock()
    review_on_ray(output, lot, options, ModelSource(str(DEMO_MODEL)), session.info.class_names, actors=actors,
                  progress=clock.progress, on_table=clock.table)
    output.close()
    return clock.figures(options.batch_size)


def driver_ceiling(session, folder: Path, rows: int = 20_000, batch_size: int = 16) -> float:
    """Rows per second the Ray driver can take in (Arrow batch -> rows -> results.csv, fsynced
    once per 1024 rows or second, + results.parquet/), on generated rows: the cluster's ceiling."""
    from bench.review_rows import generated_table
    from engine.review import ReviewOptions
    from engine.review.outdir import ReviewOutput, run_description
    from engine.review.ray_runner import _RowBuffer
    from engine.review.table import table_to_rows

    table = generated_table(rows)
    output = ReviewOutput(folder, run_description(session, ReviewOptions(), folder.parent))
    buffer = _RowBuffer(output)  # as review_on_ray: one results.csv fsync per 1024 rows or per second
    started = time.perf_counter()
    for start in range(0, rows, batch_size):
        buffer.add(table_to_rows(table.slice(start, batch_size)))
    buffer.flush()
    output.close()
    return rows / (time.perf_counter() - started)


def estimate(node_rate: float, efficiency: float, startup_s: float, nodes: int = 10, images: int = 1_000_000) -> dict:
    """Paper estimate: `nodes` nodes each reviewing at `node_rate` images/s, the cluster scaling
    at `efficiency`, plus one actor start-up."""
    rate = nodes * node_rate * efficiency
    seconds = images / rate + startup_s
    return {"nodes": nodes, "images": images, "cluster_images_per_s": round(rate, 1),
            "hours": round(seconds / 3600, 2)}


def run(count: int, batch_size: int) -> dict:
    """Every configuration on one generated lot; the figures."""
    import ray

    from engine import Session
    from engine.review import ReviewOptions
    from engine.review.ray_runner import connect

    session = Session.open(DEMO_MODEL)
    options = ReviewOptions("gradcam", batch_size=batch_size)
    with tempfile.TemporaryDirectory() as temp:
        lot = make_lot(Path(temp) / "lot", count)
        figures: dict = {"images": count, "batch_size": batch_size, "cpus": os.cpu_count(),
                         "load_average": round(os.getloadavg()[0], 1)}
        figures["driver_rows_per_s"] = round(driver_ceiling(session, Path(temp) / "driver", batch_size=batch_size))
        figures["single"] = single(session, lot, Path(temp) / "single", options)
        connect(None, num_cpus=os.cpu_count())
        try:
            for actors in (1, 2):
                figures[f"ray_{actors}"] = on_ray(session, lot, Path(temp) / f"ray{actors}", options, actors)
        finally:
            ray.shutdown()
    one, two = figures["ray_1"], figures["ray_2"]
    figures["scaling_efficiency_2_actors"] = round(two["images_per_s"] / (2 * one["images_per_s"]), 2)
    figures["ray_1_over_single"] = round(one["images_per_s"] / figures["single"]["images_per_s"], 2)
    figures["ray_overhead_per_batch_s"] = round(one["batch_interval_s"] - one["actor_batch_s"], 3)
    figures["estimate_10_nodes_like_this_one"] = estimate(two["images_per_s"], 1.0, one["first_batch_s"])
    return figures


def driver_only(argv: list[str] | None = None) -> None:
    """`--driver-only`: just the driver's ceiling (seconds, no Ray)."""
    from engine import Session

    session = Session.open(DEMO_MODEL)
    with tempfile.TemporaryDirectory() as temp:
        print(json.dumps({"driver_rows_per_s": round(driver_ceiling(session, Path(temp) / "driver"))}))


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=480)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--driver-only", action="store_true", help="only the driver's rows/s ceiling")
    args = parser.parse_args(argv)
    if args.driver_only:
        driver_only()
        return 0
    print(json.dumps(run(args.images, args.batch_size), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
