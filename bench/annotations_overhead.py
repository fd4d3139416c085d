"""`python -m bench.annotations_overhead [--images 10000]`: what reading annotations adds to a review.

One lot of N images (hard links of the boxed demo lot's images, resources/demo/boxed_lot),
reviewed (Grad-CAM, no trust, no output files) four times with one opened model:

- `none`: no ground truth at all (the baseline);
- `mask`: the pixel masks of the demo (`_mask.png` beside each defect image);
- `labelme`: a LabelMe box file beside each defect image;
- `coco`: one COCO file for the lot (`--annotations coco.json`).

Prints each review's wall and CPU seconds (this process: the model's threads, decoding, the
annotations) and their ratios to `none`, the median over `--repeat` rounds run in turn (on a
shared machine, wall time follows the other jobs; CPU time far less), and the time the
Annotator alone takes to read every image's annotations in one thread (a review reads them
in its decoding threads, beside the model), as a share of the `none` review's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"
VARIANTS = ("none", "mask", "labelme", "coco")


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def make_lots(root: Path, count: int) -> dict[str, Path]:
    """The four lots of `count` images each (the same image files, linked)."""
    boxed = json.loads((DEMO / "boxed_lot" / "coco.json").read_text())
    entries = {image["file_name"]: image for image in boxed["images"]}
    items = {image["id"]: [a for a in boxed["annotations"] if a["image_id"] == image["id"]] for image in boxed["images"]}
    names = sorted(entries)
    lots = {name: root / name for name in VARIANTS}
    images, annotations = [], []
    for i in range(count):
        relative = names[i % len(names)]
        stem = f"{Path(relative).stem}_{i:07d}"
        folder = Path(relative).parent
        source = DEMO / "boxed_lot" / relative
        for lot in lots.values():
            (lot / folder).mkdir(parents=True, exist_ok=True)
            _link(source, lot / folder / f"{stem}.png")
        mask = DEMO / "shortcut_lot" / folder / f"{Path(relative).stem}_mask.png"
        if mask.is_file():
            _link(mask, lots["mask"] / folder / f"{stem}_mask.png")
            _link(source.with_suffix(".json"), lots["labelme"] / folder / f"{stem}.json")
        entry = entries[relative]
        images.append({**entry, "id": i + 1, "file_name": f"{folder.as_posix()}/{stem}.png"})
        annotations += [{**a, "id": len(annotations) + k + 1, "image_id": i + 1}
                        for k, a in enumerate(items[entry["id"]])]
    (root / "coco.json").write_text(json.dumps({**boxed, "images": images, "annotations": annotations}))
    return lots


def review_seconds(session, lot: Path, annotations: Path | None) -> tuple[float, float, int]:
    """The review's wall and CPU time and the number of images scored against a mask."""
    from engine.review import ReviewOptions, review_folder

    options = ReviewOptions(batch_size=32, annotations=str(annotations) if annotations else None)
    started, cpu = time.perf_counter(), time.process_time()
    result = review_folder(session, lot, options)
    return time.perf_counter() - started, time.process_time() - cpu, result.overall.with_mask


def read_seconds(session, lot: Path, annotations: Path | None) -> float:
    """The Annotator alone: every image's ground truth found and rasterised, in one thread."""
    from engine.annotations import Annotator
    from engine.review import folder_images

    annotator = Annotator(lot, session.info.class_names, None, annotations)
    paths = folder_images(lot)
    started = time.perf_counter()
    for path in paths:
        annotator.find(path, 256, 256)
    return time.perf_counter() - started


def main() -> None:
    """Build the lots in a temporary folder, review each, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the four reviews (medians printed)")
    args = parser.parse_args()
    from engine import Session

    session = Session.open(DEMO / "defects.keras")
    with tempfile.TemporaryDirectory(prefix="convscope-annotations-") as temp:
        lots = make_lots(Path(temp), args.images)
        coco = Path(temp) / "coco.json"
        review_seconds(session, DEMO / "boxed_lot", None)  # warm-up: compiled functions built once
        ratios: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        walls = []
        for round_ in range(args.repeat):
            times = {}
            for name in VARIANTS[round_ % 2:] + VARIANTS[:round_ % 2]:  # alternate which goes first
                times[name] = review_seconds(session, lots[name], coco if name == "coco" else None)
                wall, cpu, scored = times[name]
                print(f"round {round_ + 1} {name:8s} wall {wall:7.1f} s  cpu {cpu:7.1f} s  "
                      f"{args.images / wall:6.1f} img/s  scored against a region: {scored:5d}", flush=True)
            walls.append(times["none"][0])
            for name in VARIANTS:
                ratios[name].append((times[name][0] / times["none"][0], times[name][1] / times["none"][1]))
        for name in VARIANTS[1:]:
            wall = statistics.median(r[0] for r in ratios[name])
            cpu = statistics.median(r[1] for r in ratios[name])
            print(f"{name:8s} over none: wall x{wall:.3f}, cpu x{cpu:.3f} (median of {args.repeat})", flush=True)
        for name in ("labelme", "coco"):
            alone = read_seconds(session, lots[name], coco if name == "coco" else None)
            print(f"reading {name} alone (one thread): {alone:.1f} s = {alone / statistics.median(walls):.1%} of the "
                  f"'none' review", flush=True)


if __name__ == "__main__":
    main()
