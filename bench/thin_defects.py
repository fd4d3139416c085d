"""`python -m bench.thin_defects`: how well maps cover thin scratches, single layer vs fused.

On the demo's scratch images (the bundled ones and `--generated` more from
resources/demo/synthetic.py with a fixed seed), each map is scored against the scratch mask
at the image's resolution: IoU of the emphasized region (the review's threshold), the share
of the map's energy inside the mask, and the pixel AUROC (scikit-learn). Rows: Grad-CAM and
LayerCAM on the default layer, and LayerCAM / Grad-CAM fused over the default layer set
(engine.methods.fusion), max and mean.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODEL = ROOT / "resources" / "demo" / "defects.keras"
SCRATCH_FOLDER = ROOT / "resources" / "demo" / "images" / "scratch"
SCRATCH = 1
ROWS = (("Grad-CAM, last_conv", "gradcam", {}), ("LayerCAM, last_conv", "layercam", {}),
        ("HiResCAM, last_conv", "hirescam", {}),
        ("Grad-CAM fused (max)", "gradcam", {"fuse": "max"}), ("LayerCAM fused (max)", "layercam", {"fuse": "max"}),
        ("LayerCAM fused (mean)", "layercam", {"fuse": "mean"}))


def scratch_samples(generated: int) -> list[tuple[object, np.ndarray]]:
    """(LoadedImage, boolean scratch mask) for the bundled scratch images and `generated` more."""
    import cv2

    from engine.images.decoding import LoadedImage, load_image
    from resources.demo.synthetic import make_sample

    samples = []
    for path in sorted(SCRATCH_FOLDER.glob("scratch_??.png")):
        mask = cv2.imread(str(path.with_name(path.stem + "_mask.png")), cv2.IMREAD_GRAYSCALE)
        samples.append((load_image(path), mask == SCRATCH))
    rng = np.random.default_rng(1414)
    for i in range(generated):
        sample = make_sample(rng, SCRATCH, (256, 256))
        image = sample.image
        samples.append((LoadedImage(f"generated_{i}", image, image.astype(np.float32), False, "uint8", 8),
                        sample.mask == SCRATCH))
    return samples


def scores(heatmap: np.ndarray, mask: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """(IoU of heatmap >= threshold with the mask, energy inside the mask, pixel AUROC)."""
    from sklearn.metrics import roc_auc_score

    region = heatmap >= threshold
    iou = float(np.logical_and(region, mask).sum() / max(1, np.logical_or(region, mask).sum()))
    energy = float(heatmap[mask].sum() / max(heatmap.sum(), 1e-12))
    return iou, energy, float(roc_auc_score(mask.ravel(), heatmap.ravel()))


def measure(generated: int = 40) -> list[tuple[str, float, float, float, float, int]]:
    """One row per map kind: (title, mean IoU, mean energy inside, mean pixel AUROC, share of
    images whose IoU beats single-layer Grad-CAM's, images)."""
    from engine.review.metrics import DEFAULT_THRESHOLD
    from engine.session import Session

    session = Session.open(DEMO_MODEL)
    samples = scratch_samples(generated)
    table: dict[str, list[tuple[float, float, float]]] = {}
    for title, method, params in ROWS:
        table[title] = [scores(session.explain(image, method, class_index=SCRATCH, **params).heatmap, mask,
                               DEFAULT_THRESHOLD) for image, mask in samples]
    base = [row[0] for row in table[ROWS[0][0]]]
    return [(title, statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows),
             statistics.mean(r[2] for r in rows), float(np.mean([r[0] > b for r, b in zip(rows, base, strict=True)])),
             len(rows)) for title, rows in table.items()]


def main(argv: list[str] | None = None) -> int:
    """Print the table (markdown)."""
    parser = argparse.ArgumentParser(prog="python -m bench.thin_defects", description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=40, help="generated scratch images besides the bundled ones")
    args = parser.parse_args(argv)
    rows = measure(args.generated)
    print(f"| map (class scratch, {rows[0][5]} images) | IoU | energy in mask | pixel AUROC | IoU > Grad-CAM's |")
    print("|---|---|---|---|---|")
    for title, iou, energy, auroc, better, _ in rows:
        print(f"| {title} | {iou:.3f} | {energy:.3f} | {auroc:.3f} | {better:.0%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
