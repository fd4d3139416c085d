"""Reviewing a folder of labelled images: batched prediction and explanation, ground-truth
masks, localisation metrics, and the CSV / JSON / HTML outputs of `convscope batch`.

For a GUI worker thread: :func:`review_folder` takes progress(done, total) and cancel()
callbacks and returns a frozen :class:`ReviewResult`; :func:`load_mask` and
:func:`image_metrics` score a single image. `runner` reviews in one process, `ray_runner`
on Ray Data (`batch --ray`); `rows`, `table`, `outdir` and `report` write and read the
review folder (CSV, Parquet, JSON, HTML). Every column is declared once, on its ReviewRow
field (`columns` says how and how to add one); `stats` sums rows and columnar reviews alike.

May import numpy, OpenCV, pyarrow, `engine.errors`, `engine.images`, `engine.maps`,
`engine.methods.base` and `engine.trust`; a `Session` is passed in, never imported, and Ray
only inside `ray_runner`'s functions, so importing the package loads no TensorFlow (the GUI's
Review tab builds on it). Never Qt, pyqtgraph or `gui`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.lazy_names import lazy_exports

if TYPE_CHECKING:
    from engine.review.masks import (
        class_mask,
        find_mask,
        fit_mask,
        is_class_mask,
        load_mask,
        read_mask,
    )
    from engine.review.metrics import (
        DEFAULT_THRESHOLD,
        DEFAULT_TOLERANCE,
        ImageMetrics,
        energy_inside,
        heatmap_peak,
        image_metrics,
        pointing_hit,
        region_iou,
    )
    from engine.review.rows import COLUMNS, ReviewRow, read_rows
    from engine.review.runner import (
        ReviewedImage,
        ReviewOptions,
        check_options,
        folder_images,
        review_folder,
    )
    from engine.review.stats import LabelStats, ReviewResult, summarise, worst_cases

# Each name is imported from its module at its first use (PEP 562): importing one light
# submodule (the window needs a few at start-up) does not load every reader and OpenCV.
_MODULES = {
    "engine.review.masks": ("class_mask", "find_mask", "fit_mask", "is_class_mask", "load_mask", "read_mask"),
    "engine.review.metrics": (
        "DEFAULT_THRESHOLD", "DEFAULT_TOLERANCE", "ImageMetrics", "energy_inside", "heatmap_peak",
        "image_metrics", "pointing_hit", "region_iou",
    ),
    "engine.review.rows": ("COLUMNS", "ReviewRow", "read_rows"),
    "engine.review.runner": ("ReviewedImage", "ReviewOptions", "check_options", "folder_images", "review_folder"),
    "engine.review.stats": ("LabelStats", "ReviewResult", "summarise", "worst_cases"),
}

__all__ = [
    "COLUMNS", "DEFAULT_THRESHOLD", "DEFAULT_TOLERANCE", "ImageMetrics", "LabelStats", "ReviewOptions",
    "ReviewResult", "ReviewRow", "ReviewedImage", "check_options", "class_mask", "energy_inside",
    "find_mask", "fit_mask", "folder_images", "heatmap_peak", "image_metrics", "is_class_mask",
    "load_mask", "pointing_hit", "read_mask", "read_rows", "region_iou", "review_folder", "summarise",
    "worst_cases",
]

__getattr__ = lazy_exports(__name__, _MODULES, globals())
