"""Generated lots on disk, laid out as ConvScope reads them: one sub-folder per class, each
defect image beside its ground-truth mask `<name>_mask.png`."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from resources.demo.synthetic import CLASS_NAMES, make_sample


def write_lot(folder: str | Path, per_class: int, size: tuple[int, int] = (96, 96), seed: int = 0) -> Path:
    """Write `per_class` synthetic images of every class (`size` = (height, width)) into
    `folder/<class>/<class>_<i>.png`, with a mask for each defect image; returns the folder."""
    root = Path(folder)
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASS_NAMES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            sample = make_sample(rng, label, size)
            cv2.imwrite(str(root / name / f"{name}_{i}.png"), sample.image[..., ::-1])
            if label:
                cv2.imwrite(str(root / name / f"{name}_{i}_mask.png"), sample.mask)
    return root
