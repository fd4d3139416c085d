"""Is a model right for the right reason on a lot with masks? Three figures, plainly computed.

Run from the repository root:

    .venv/bin/python resources/demo/measure_trust.py resources/demo/shortcut.keras resources/demo/shortcut_lot

- accuracy on the lot (labels from the sub-folder names; folders not named after a class,
  such as the demo's mixed/, are left out);
- Grad-CAM energy inside the mask (ConvScope's Grad-CAM at the sidecar's layer, on the
  logit, at full resolution): sum of the map over the mask / sum over the image, mean over
  correctly classified defect images, next to the mean share of the image the masks cover
  (what a map blind to the defect would get);
- kept after removal: the defect painted out (its mask dilated by 1 % of the image's shorter
  side, at least 2 px, then filled by OpenCV's Telea inpainting with radius 3, cv2.inpaint:
  the constants of engine/trust/removal.py), the image predicted again; the share of
  correctly classified defect images whose prediction is still their defect class.

This is the demo's own measurement; engine/trust/ holds the product's metrics and verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

INPAINT_RADIUS = 3


@dataclass(frozen=True)
class TrustFigures:
    """The three figures of one model on one lot."""

    images: int
    accuracy: float
    defect_images: int  # correctly classified defect images, the base of the next figures
    energy_in_mask: float
    mask_share: float
    kept: int
    kept_after_removal: float
    kept_by_class: dict[str, str]  # "kept/base" per defect class


def lot_images(lot: Path) -> list[tuple[Path, str, Path | None]]:
    """(image, label, mask or None) for every image of a `<label>/<stem>.png` lot."""
    items = []
    for path in sorted(lot.glob("*/*.png")):
        if path.stem.endswith("_mask"):
            continue
        mask = path.with_name(f"{path.stem}_mask.png")
        items.append((path, path.parent.name, mask if mask.exists() else None))
    return items


def paint_out(image_rgb: np.ndarray, mask: np.ndarray, dilate: int | None = None) -> np.ndarray:
    """The image with the mask, dilated by `dilate` px (default: 1 % of the shorter side, at
    least 2 px), filled by cv2.inpaint (Telea)."""
    if dilate is None:
        dilate = max(2, round(0.01 * min(mask.shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1,) * 2)
    region = cv2.dilate((mask > 0).astype(np.uint8), kernel)
    return cv2.inpaint(image_rgb, region, INPAINT_RADIUS, cv2.INPAINT_TELEA)


def _loaded(image_rgb: np.ndarray, name: str):  # noqa: ANN202 - a LoadedImage
    from engine.images.decoding import decode_image

    ok, data = cv2.imencode(".png", cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
    assert ok, name
    return decode_image(data.tobytes(), name)


def measure(model: Path, lot: Path) -> TrustFigures:
    """Accuracy, Grad-CAM energy inside the masks and the kept-after-removal rate."""
    from engine import Session

    session = Session.open(model)
    names = session.info.class_names
    items = [item for item in lot_images(lot) if item[1] in names]  # "mixed/" has no one label
    images = [session.load_image(path) for path, _, _ in items]
    labels = [session.class_index(label) for _, label, _ in items]
    predicted = [p.best.index for p in session.predict(images, top=1)]
    chosen = [i for i, (item, y, p) in enumerate(zip(items, labels, predicted, strict=True))
              if item[2] is not None and y == p and y != 0]  # fmt: skip
    masks = [cv2.imread(str(items[i][2]), cv2.IMREAD_GRAYSCALE) > 0 for i in chosen]
    maps = session.explain_batch([images[i] for i in chosen], "gradcam")
    energy = [float(m.heatmap[k].sum() / max(m.heatmap.sum(), 1e-12))
              for m, k in zip(maps, masks, strict=True)]  # fmt: skip
    removed = [_loaded(paint_out(images[i].display, k), str(items[i][0]))
               for i, k in zip(chosen, masks, strict=True)]  # fmt: skip
    after = [p.best.index for p in session.predict(removed, top=1)]
    survived = [a == labels[i] for a, i in zip(after, chosen, strict=True)]
    kept = sum(survived)
    by_class = {}
    for c in sorted({labels[i] for i in chosen}):
        base = [k for k, i in zip(survived, chosen, strict=True) if labels[i] == c]
        by_class[names[c]] = f"{sum(base)}/{len(base)}"
    n = max(1, len(chosen))
    return TrustFigures(
        images=len(items),
        accuracy=float(np.mean(np.equal(labels, predicted))),
        defect_images=len(chosen),
        energy_in_mask=float(np.mean(energy)) if energy else 0.0,
        mask_share=float(np.mean([k.mean() for k in masks])) if masks else 0.0,
        kept=int(kept),
        kept_after_removal=kept / n,
        kept_by_class=by_class,
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures of each model on each lot (or JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="+", help="one or more .keras models, then the lot")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    *models, lot = args.model
    if not models:
        parser.error("give at least one model and a lot folder")
    rows = {str(m): asdict(measure(m, lot)) for m in models}
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for model, f in rows.items():
        print(f"{model} on {lot}: accuracy {f['accuracy']:.3f} ({f['images']} images); "
              f"Grad-CAM energy in mask {f['energy_in_mask']:.3f} (mask share {f['mask_share']:.3f}); "
              f"kept after removal {f['kept']}/{f['defect_images']} = {f['kept_after_removal']:.3f} "
              f"({', '.join(f'{c} {k}' for c, k in f['kept_by_class'].items())})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
