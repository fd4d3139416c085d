"""Train the demo's "shortcut twin" and (with --lot) write the shortcut demo lot.

Run from the repository root:  .venv/bin/python resources/demo/train_shortcut.py --lot

The twin has the demo model's architecture, preprocessing and training recipe
(resources/demo/train_demo.py), but its training images come with a nuisance cue: each class
is drawn on its own texture family (ok on brushed metal, scratch on woven fabric, spot on
wood grain, crack on concrete). The defects are there and correctly labelled, yet the
texture alone predicts the class, and it is the easier cue. On a lot where the cue holds
(`shortcut_lot/`) the twin is accurate; painting the defects out does not change its
answers (resources/demo/measure_trust.py measures it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import numpy as np  # noqa: E402

from resources.demo import train_demo as demo  # noqa: E402
from resources.demo.synthetic import CLASS_NAMES, make_sample, make_training_set  # noqa: E402

TRAIN_SEED = 4321
HELDOUT_SEED = 8765
LOT_SEED = 2024
MODEL_PATH = HERE / "shortcut.keras"
LOT = HERE / "shortcut_lot"
# The nuisance cue: one texture family per class (granular is never used).
CLASS_TEXTURES: dict[int, tuple[str, ...]] = {
    0: ("brushed_metal",),
    1: ("woven_fabric",),
    2: ("wood_grain",),
    3: ("concrete",),
}


def write_lot(out: Path = LOT, seed: int = LOT_SEED, per_class: int = 10) -> int:
    """The shortcut demo lot: `per_class` images per class on the class's own texture, with
    `<stem>_mask.png` beside each defect image; every 4th image is 320x256 (w x h)."""
    rng = np.random.default_rng(seed)
    for old in out.glob("*/*.png"):
        old.unlink()
    for label, name in enumerate(CLASS_NAMES):
        for i in range(per_class):
            size = (256, 320) if i % 4 == 3 else demo.IMAGE_SIZE
            s = make_sample(rng, label, size, CLASS_TEXTURES[label][0])
            demo.save_sample(out / name, f"{name}_{i + 1:02d}", s.image, s.mask if label else None)
    count = per_class * len(CLASS_NAMES)
    print(f"wrote {count} shortcut-lot images to {out}")
    return count


def shortcut_heldout(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out images where the cue holds, model size, with their single labels."""
    x, y = make_training_set(n, seed, demo.IMAGE_SIZE, demo.MODEL_SIZE, 0.0, 0.0, CLASS_TEXTURES)
    return x, y.argmax(1)


def main(argv: list[str] | None = None) -> int:
    """Command line: train and save the twin; --lot also writes the shortcut lot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lot", action="store_true", help="also write resources/demo/shortcut_lot")
    parser.add_argument("--lot-only", action="store_true", help="write the lot, no training")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="model file to write")
    parser.add_argument("--n-train", type=int, default=2400)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--cache", type=Path, help="keep generated training sets in this folder")
    args = parser.parse_args(argv)
    if args.lot or args.lot_only:
        write_lot()
    if args.lot_only:
        return 0
    demo.tf.config.threading.set_intra_op_parallelism_threads(2)
    demo.tf.config.threading.set_inter_op_parallelism_threads(1)
    demo.keras.utils.set_random_seed(TRAIN_SEED)
    t0 = time.perf_counter()
    x, y = demo.training_set(
        args.n_train, TRAIN_SEED, args.cache, mixed=0.0, hard=0.0, textures=CLASS_TEXTURES
    )
    model = demo.fit(demo.build_model("convscope_demo_shortcut"), x, y, args.epochs, args.batch,
                     TRAIN_SEED)  # fmt: skip
    print(f"training time (data + fit): {time.perf_counter() - t0:.0f} s")
    demo.save_model(model, args.out)
    demo.evaluate_hard_frames(model, 30, demo.LOCAL_SEED)
    xs, ys = shortcut_heldout(400, HELDOUT_SEED)
    print(f"accuracy where the cue holds (400 images): {np.mean(demo.predict(model, xs) == ys):.4f}")
    demo.evaluate_accuracy(model, 400, demo.HELDOUT_SEED)  # every texture for every class
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
