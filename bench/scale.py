"""`python -m bench.scale [--images 1440] [--repeat 2]`: the same review single-process and on
Ray Data with 1 and 2 actors on this machine, side by side and repeated (a shared machine's
load changes from minute to minute, so each Ray run is compared with the single-process
runs just before and after it): steady throughput (images/s, from the first finished batch to the last, so Ray's and
the actors' start-up are reported apart), one actor's rate over the single process's,
scaling efficiency, and from these a paper estimate of a 10-node cluster's time for
1,000,000 demo-size images.

`cpu_ms_per_image` is the CPU time of the driver and the actors (not Ray's own raylet and
GCS) per image from the first finished batch to the last: unlike images/s, it hardly depends
on how many cores other jobs leave free. `actor_call_s` is the median time a batch spends inside an actor; an actor runs several
batches at once (decoding, model, overlays; see engine.review.ray_runner), so it exceeds
the interval between batches at the driver.
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


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) of a process on this machine, from /proc
    (Linux); nan where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clock:
    """Timestamps of finished batches (progress calls or received tables), and the CPU time
    the driver and the actors had used by then: CPU per image does not depend on how many
    cores other jobs left free, where images/s does."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.times: list[float] = []
        self.done: list[int] = []
        self.driver_cpu: list[float] = []
        self.inside: list[float] = []  # seconds inside the actor per batch (Ray)
        self.actor_cpu: dict[int, list[float]] = {}  # pid -> CPU seconds at each of its batches

    def progress(self, done: int, _total: int) -> None:
        self.times.append(time.perf_counter())
        self.done.append(done)
        self.driver_cpu.append(process_cpu(os.getpid()))

    def table(self, table) -> None:
        self.inside.append(float(table.column("_seconds")[0].as_py()))
        pid = int(table.column("_worker")[0].as_py())
        self.actor_cpu.setdefault(pid, []).append(process_cpu(pid))

    def figures(self, batch_size: int) -> dict:
        """Steady images/s (first to last finished batch), time to the first batch, per-batch
        times, and CPU milliseconds per image over the same span (driver + actors)."""
        times, done = self.times[1:], self.done[1:]  # the first call is the start (0 done)
        steady = (done[-1] - done[0]) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
        between = float(np.median(np.diff(times))) if len(times) > 2 else float("nan")
        cpu = self.driver_cpu[-1] - self.driver_cpu[1] + sum(c[-1] - c[0] for c in self.actor_cpu.values())
        result = {"images_per_s": round(steady, 2), "first_batch_s": round(times[0] - self.started, 1),
                  "total_s": round(times[-1] - self.started, 1), "batch_interval_s": round(between, 3),
                  "cpu_ms_per_image": round(1000 * cpu / max(1, done[-1] - done[0]), 2)}
        if self.inside:
            result["actor_call_s"] = round(float(np.median(self.inside[1:] or self.inside)), 3)
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


def run(count: int, batch_size: int, repeat: int = 2, inline: bool = False) -> dict:
    """Every configuration on one generated lot, `repeat` rounds side by side; the figures."""
    import ray

    from engine import Session
    from engine.review import ReviewOptions
    from engine.review.ray_runner import connect

    session = Session.open(DEMO_MODEL)
    options = ReviewOptions("gradcam", batch_size=batch_size)
    with tempfile.TemporaryDirectory() as temp:
        lot = make_lot(Path(temp) / "lot", count)
        figures: dict = {"images": count, "batch_size": batch_size, "cpus": os.cpu_count(),
                         "load_average_before": round(os.getloadavg()[0], 1)}
        figures["driver_rows_per_s"] = round(driver_ceiling(session, Path(temp) / "driver", batch_size=batch_size))
        started = time.perf_counter()
        connect(None, num_cpus=os.cpu_count())
        figures["ray_start_s"] = round(time.perf_counter() - started, 1)
        try:
            figures["rounds"] = [_round(session, lot, Path(temp) / f"round{i}", options, inline) for i in range(repeat)]
        finally:
            ray.shutdown()
        figures["load_average_after"] = round(os.getloadavg()[0], 1)
    rounds = figures["rounds"]
    keys = ["ray_1_inline_over_single"] if inline else []
    for key in (*keys, "ray_1_over_single", "ray_2_over_single", "scaling_efficiency_2_actors"):
        figures[key] = {"median": round(float(np.median([r[key] for r in rounds])), 2),
                        "rounds": [r[key] for r in rounds]}
    two = float(np.median([r["ray_2"]["images_per_s"] for r in rounds]))
    first = float(np.median([r["ray_1"]["first_batch_s"] for r in rounds]))
    figures["estimate_10_nodes_like_this_one"] = estimate(two, 1.0, figures["ray_start_s"] + first)
    return figures


def _round(session, lot: Path, folder: Path, options, inline: bool = False) -> dict:
    """Single process, then each Ray configuration followed by the single process again, on
    the same lot: each Ray rate is compared with the single-process runs just before and
    after it (bracketing), so that a change of the machine's load between them weighs less.
    `inline` adds one actor taking one batch at a time (the actor before the pipeline)."""
    from engine.review import ray_runner

    figures: dict = {"load_average": round(os.getloadavg()[0], 1)}
    singles = [single(session, lot, folder / "single0", options)]
    configurations = [("ray_1_inline", 1, 1)] if inline else []
    configurations += [("ray_1", 1, ray_runner.CALLS_PER_ACTOR), ("ray_2", 2, ray_runner.CALLS_PER_ACTOR)]
    calls = ray_runner.CALLS_PER_ACTOR
    for index, (name, actors, calls_per_actor) in enumerate(configurations):
        ray_runner.CALLS_PER_ACTOR = calls_per_actor  # read when the dataset is built
        try:
            figures[name] = on_ray(session, lot, folder / name, options, actors)
        finally:
            ray_runner.CALLS_PER_ACTOR = calls
        singles.append(single(session, lot, folder / f"single{index + 1}", options))
        beside = (singles[-2]["images_per_s"] + singles[-1]["images_per_s"]) / 2
        figures[f"{name}_over_single"] = round(figures[name]["images_per_s"] / beside, 2)
    figures["single"] = singles
    two, one = figures["ray_2"]["images_per_s"], figures["ray_1"]["images_per_s"]
    figures["scaling_efficiency_2_actors"] = round(two / (2 * one), 2)
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
    parser.add_argument("--images", type=int, default=1440)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2,
                        help="rounds of single / 1 actor / single / 2 actors / single (default 2)")
    parser.add_argument("--inline-actor", action="store_true",
                        help="also one actor taking one batch at a time (as before the actor pipeline)")
    parser.add_argument("--driver-only", action="store_true", help="only the driver's rows/s ceiling")
    args = parser.parse_args(argv)
    if args.driver_only:
        driver_only()
        return 0
    print(json.dumps(run(args.images, args.batch_size, args.repeat, args.inline_actor), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
