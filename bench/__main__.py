"""`python -m bench [--quick] [--json] [--only NAME]`: the side-by-side timing table."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def table(info: dict, results, settings) -> str:
    lines = [f"Machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
             f"TensorFlow {info['tensorflow']}, Keras {info['keras']}, NumPy {info['numpy']}, "
             f"Python {info['python']}; 1-min load at start {info['load_1min_at_start']:.2f} (shared machine)",
             f"Mode: {'--quick' if settings.quick else 'full'}; medians of {settings.repeats} repeats "
             f"({settings.heavy_repeats} for heavy cases) after {settings.warmup} warm-up, contestants interleaved; "
             "ratio = reference / ours (above 1: ConvScope faster)"]
    if settings.quick:
        lines.append("--quick shrinks: " + "; ".join(settings.shrunk()))
    lines.append("")
    width = max(len(r.name) for r in results) if results else 10
    lines.append(f"{'case':<{width}}  {'ours':>10}  {'reference':>10}  {'ratio':>7}  {'target':>7}  met")
    lines.append("-" * (width + 46))
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        target = "-" if r.target is None else f">={r.target:.2f}"
        met = "" if r.met is None else ("yes" if r.met else "NO")
        lines.append(f"{r.name:<{width}}  {_seconds(r.ours_s):>10}  {_seconds(r.reference_s):>10}  "
                     f"{ratio:>7}  {target:>7}  {met}")
    notes = [(r.name, r.note) for r in results if r.note]
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"- {name}: {note}" for name, note in notes)
    return "\n".join(lines)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller grids (under 5 minutes)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--only", help="run only the case groups whose name contains this "
                        "(vgg-cams, vgg-scorecam, vgg-batch, vgg-filters, vgg-gradients, demo-...)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)  # Keras: the seeds pass a tensor for [inputs]

    from .cases import run_all
    from .harness import Settings

    settings = Settings.for_mode(args.quick)
    began = time.perf_counter()
    # Keras progress bars (tf-keras-vis calls model.predict) go to stderr, keeping stdout clean.
    with contextlib.redirect_stdout(sys.stderr):
        info, results = run_all(settings, args.only, log=_log)
    elapsed = time.perf_counter() - began
    if args.json:
        print(json.dumps({"machine": info, "quick": settings.quick, "shrunk": settings.shrunk(),
                          "seconds": elapsed, "cases": [r.to_json() for r in results]}, indent=2))
    else:
        print(table(info, results, settings))
        print(f"\nTotal {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
