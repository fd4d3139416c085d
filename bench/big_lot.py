"""`python -m bench.big_lot [--images 10000 100000]`: a single-process review of a big generated
lot (the demo's images and masks linked under many names), with its memory and throughput.

For each lot size, in a fresh process: peak resident memory (VmHWM) and the rise over the
memory after loading the model, the review's images/s (decoding, explaining, scoring, writing
results.csv, results.parquet/ and every overlay), and, on the same preprocessed batches, the
model's own rates: `model.predict` (Keras's per-call overhead included), `predict_on_batch`
and `session.explain_batch` alone (no I/O). The review's
rate over the explain-only rate says how well decoding and writing overlap the model's work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGES = ROOT / "resources" / "demo" / "images"


def memory_mb(field: str = "VmRSS") -> float:
    """A /proc/self/status memory field in MB (VmRSS now, VmHWM the peak); 0 off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def make_lot(root: Path, count: int) -> Path:
    """`count` images under label folders: hard links (else copies) of the demo's images, each
    with its mask linked beside it, so every image is decoded and scored like a real one."""
    import shutil

    sources = sorted(p for p in DEMO_IMAGES.rglob("*.png") if not p.stem.endswith("_mask"))
    for i in range(count):
        source = sources[i % len(sources)]
        folder = root / source.parent.name
        folder.mkdir(parents=True, exist_ok=True)
        for src, name in ((source, f"{source.stem}_{i:07d}.png"),
                          (source.with_name(source.stem + "_mask.png"), f"{source.stem}_{i:07d}_mask.png")):
            if src.exists():
                try:
                    os.link(src, folder / name)
                except OSError:
                    shutil.copyfile(src, folder / name)
    return root


def model_rates(session, method: str, batch_size: int, batches: int = 12) -> dict[str, float]:
    """images/s of model.predict and of explain_batch on the same preprocessed demo batches."""
    sources = sorted(p for p in DEMO_IMAGES.rglob("*.png") if not p.stem.endswith("_mask"))
    images = [session.load_image(p) for p in sources[:batch_size]]
    inputs = session.batch(images)
    session.model.predict(inputs, batch_size=batch_size, verbose=0)  # warm-up: tracing
    session.model.predict_on_batch(inputs)
    session.explain_batch(images, method)
    started = time.perf_counter()
    for _ in range(batches):
        session.model.predict(inputs, batch_size=batch_size, verbose=0)
    predict = batches * len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        session.model.predict_on_batch(inputs)
    on_batch = batches * len(images) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        session.explain_batch(images, method)
    explain = batches * len(images) / (time.perf_counter() - started)
    return {"predict_images_per_s": round(predict, 1), "predict_on_batch_images_per_s": round(on_batch, 1),
            "explain_images_per_s": round(explain, 1)}


def one(count: int, method: str, batch_size: int, rates: bool) -> dict:
    """Review a generated lot of `count` images in this process; the figures."""
    from engine import Session
    from engine.review import ReviewOptions
    from engine.review.outdir import open_review_output

    session = Session.open(DEMO_MODEL)
    figures: dict = {"images": count}
    if rates:
        figures.update(model_rates(session, method, batch_size))
    with tempfile.TemporaryDirectory() as temp:
        started = time.perf_counter()
        lot = make_lot(Path(temp) / "lot", count)
        figures["generate_s"] = round(time.perf_counter() - started, 1)
        options = ReviewOptions(method, batch_size=batch_size)
        output = open_review_output(session, lot, Path(temp) / "out", options)
        baseline, samples = memory_mb(), []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.5):
                samples.append(memory_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        result = output.review(session, lot, options)
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        output.close()
        figures.update({
            "review_s": round(seconds, 1), "review_images_per_s": round(len(result.rows) / seconds, 1),
            "rss_after_model_mb": round(baseline), "peak_rss_mb": round(max(samples or [memory_mb()])),
            "rise_mb": round(max(samples or [memory_mb()]) - baseline),
            "rss_at_10pct_mb": round(samples[len(samples) // 10]) if samples else None,
            "rows_written": sum(1 for _ in open(Path(temp) / "out" / "results.csv", encoding="utf-8")) - 1,
        })
    if rates:
        figures["review_over_explain"] = round(figures["review_images_per_s"] / figures["explain_images_per_s"], 2)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Each lot size in a fresh process; a line (or JSON) of figures per size."""
    parser = argparse.ArgumentParser(prog="python -m bench.big_lot", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--method", default="gradcam")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # run one size here
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.images[0], args.method, args.batch_size, rates=True)))
        return 0
    for count in args.images:
        command = [sys.executable, "-m", "bench.big_lot", "--one", "--images", str(count), "--method", args.method,
                   "--batch-size", str(args.batch_size)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr[-2000:])
            return done.returncode
        print(done.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
