"""`python -m bench.trust [--images 500] [--seed 0]`: the cost of a lot review with --trust.

Generates a lot of demo-like images with their masks (resources/demo/synthetic.make_sample,
256x256, the four classes in equal numbers) in a temporary folder, then reviews it with the
demo model and Grad-CAM twice, plain and with the trust metrics (engine.trust: deletion and
insertion curves with the random control, pixel AUROC, defect removal, AUPRO, verdicts),
after one warm-up review of a few images. Prints seconds in total and per image, the ratio,
the verdict, and the machine's load (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"


def make_lot(folder: Path, count: int, seed: int = 0, size: tuple[int, int] = (256, 256)) -> Path:
    """`count` images in class sub-folders, each defect image with its `_mask.png`."""
    import cv2
    import numpy as np

    from resources.demo.synthetic import CLASS_NAMES, make_sample

    rng = np.random.default_rng(seed)
    for i in range(count):
        label = i % len(CLASS_NAMES)
        name = CLASS_NAMES[label]
        (folder / name).mkdir(parents=True, exist_ok=True)
        sample = make_sample(rng, label, size)
        cv2.imwrite(str(folder / name / f"{name}_{i:04d}.png"), sample.image[..., ::-1])
        if label:
            cv2.imwrite(str(folder / name / f"{name}_{i:04d}_mask.png"), sample.mask)
    return folder


def time_reviews(count: int, seed: int = 0, model: Path = DEMO_MODEL) -> dict:
    """Seconds of a plain and of a --trust review of the same generated lot."""
    from engine.review import ReviewOptions, review_folder
    from engine.session import Session

    session = Session.open(model)
    with tempfile.TemporaryDirectory(prefix="convscope-bench-trust-") as tmp:
        lot = make_lot(Path(tmp) / "lot", count, seed)
        warm = make_lot(Path(tmp) / "warm", 8, seed + 1)
        review_folder(session, warm, ReviewOptions(trust=True))
        began = time.perf_counter()
        review_folder(session, lot, ReviewOptions())
        plain = time.perf_counter() - began
        began = time.perf_counter()
        result = review_folder(session, lot, ReviewOptions(trust=True))
        trust = time.perf_counter() - began
    return {"images": count, "plain_s": plain, "trust_s": trust, "plain_per_image_ms": 1000 * plain / count,
            "trust_per_image_ms": 1000 * trust / count, "ratio": trust / plain,
            "verdict": result.trust["overall"]["verdict"], "reason": result.trust["overall"]["verdict_reason"],
            "load_1min": os.getloadavg()[0], "cores": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.trust", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    found = time_reviews(args.images, args.seed)
    print(f"{found['images']} images, demo model, Grad-CAM, {found['cores']} cores, 1-min load {load:.2f} at start, "
          f"{found['load_1min']:.2f} at end")
    print(f"plain review : {found['plain_s']:7.1f} s  ({found['plain_per_image_ms']:.1f} ms per image)")
    print(f"with --trust : {found['trust_s']:7.1f} s  ({found['trust_per_image_ms']:.1f} ms per image), "
          f"x{found['ratio']:.1f}")
    print(f"verdict      : {found['verdict']}: {found['reason']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
