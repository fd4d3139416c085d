"""`python -m bench.demo_times`: every method's warm time on the demo model, one image.

The README's "time on the demo (warm)" column: each method runs once to build and trace its
compiled function, then the median of `--repeats` calls is printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGE = ROOT / "resources" / "demo" / "images" / "mixed" / "mixed_02_scratch_crack.png"


def method_times(repeats: int = 5) -> dict[str, float]:
    """Median warm seconds per method on the demo image."""
    from engine.methods import METHODS
    from engine.session import Session

    session = Session.open(DEMO_MODEL)
    image = session.load_image(DEMO_IMAGE)
    times = {}
    for name in METHODS:
        session.explain(image, name)  # build and trace once
        samples = []
        for _ in range(repeats):
            began = time.perf_counter()
            session.explain(image, name)
            samples.append(time.perf_counter() - began)
        times[name] = statistics.median(samples)
    return times


def main(argv: list[str] | None = None) -> int:
    """Print one line per method."""
    parser = argparse.ArgumentParser(prog="python -m bench.demo_times", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    for name, seconds in method_times(args.repeats).items():
        print(f"{name:22s} {seconds * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
