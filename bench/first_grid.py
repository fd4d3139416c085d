"""`python -m bench.first_grid`: what the first Compare > methods grid of gradient CAMs costs on a
model nothing has been traced for yet, against each method's own first call.

Each measurement runs in a fresh Python process (nothing compiled or cached): "grid" explains
the demo image with every gradient CAM in turn, as the Compare tab does, and reports the
total; "alone" times one method's first call in its own process. The grid's target is to
cost little more than its slowest method alone (issue 20, item 14): ratio = grid / slowest.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
DEMO_IMAGE = ROOT / "resources" / "demo" / "images" / "mixed" / "mixed_02_scratch_crack.png"
GRADIENT_CAMS = ("gradcam", "gradcam++", "layercam", "hirescam", "gradcam-elementwise", "xgradcam")


def first_calls(methods: list[str]) -> dict[str, float]:
    """Seconds of each method's first call, in order, in this process (model opened first)."""
    from engine.session import Session

    session = Session.open(DEMO_MODEL)
    image = session.load_image(DEMO_IMAGE)
    session.predict([image])  # the window has predicted before the grid is asked for
    seconds = {}
    for name in methods:
        began = time.perf_counter()
        session.explain(image, name)
        seconds[name] = time.perf_counter() - began
    return seconds


def _fresh(methods: list[str]) -> dict[str, float]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-m", "bench.first_grid", "--child", *methods], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Print the grid's first cost, each method's first call alone, and the ratio."""
    parser = argparse.ArgumentParser(prog="python -m bench.first_grid", description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(first_calls(args.child)))
        return 0
    grid = _fresh(list(GRADIENT_CAMS))
    alone = {name: _fresh([name])[name] for name in GRADIENT_CAMS}
    for name in GRADIENT_CAMS:
        print(f"{name:<20} in the grid {grid[name] * 1000:7.0f} ms   alone {alone[name] * 1000:7.0f} ms")
    total, slowest = sum(grid.values()), max(alone.values())
    print(f"first grid of {len(GRADIENT_CAMS)} gradient CAMs: {total * 1000:.0f} ms; slowest alone "
          f"{slowest * 1000:.0f} ms; ratio {total / slowest:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
