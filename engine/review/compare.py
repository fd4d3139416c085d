"""Comparing two models on one lot: the same images, method and settings, row by row.

:func:`compare_folder` decodes each batch once and hands it to both models through the
review's own batch step (engine.review.runner), so each side's rows, trust figures and
verdicts are exactly what `batch` would give it. Per image it adds whether the predictions
agree, the Spearman rank correlation of the two maps and the IoU of their top 10 % regions;
the result keeps both sides' ReviewResults and the images worth looking at (flips, the
largest map changes) with their maps, for the report.
"""

from __future__ import annotations

import heapq
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import Cancelled, MethodError
from engine.maps.normalise import resize_map
from engine.review.columns import Column, column, declared
from engine.review.runner import (
    ReviewedImage,
    ReviewOptions,
    _item,
    _loaded_batches,
    _review_batch,
    annotator_for,
    check_options,
    folder_images,
)
from engine.review.stats import ReviewResult, summarise

if TYPE_CHECKING:
    from engine.methods.base import CancelCheck, Progress

TOP_SHARE = 0.10  # map_top_iou compares the two maps' top 10 % of pixels
MAP_SIDE = 256  # maps larger than this are compared at this size (ranks of a smooth map barely change)
DISPLAY_LEVELS = 256  # map_spearman ranks the maps as displayed (8 bits)
SHOWN = 12  # flips and largest map changes kept, with their maps, for the report


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One image reviewed by both models; its columns declared as the review's are (engine.review.columns)."""

    path: str = column("image path relative to the compared folder", header="Image", format="file")
    label: str | None = column("sub-folder name (the expected class)", header="Label", format="label")
    predicted_a: str = column("class model A predicts", default="", header="A says")
    predicted_b: str = column("class model B predicts", default="", header="B says")
    probability_a: float | None = column("model A's probability of its class", default=None, header="p A",
                                         format="number")
    probability_b: float | None = column("model B's probability of its class", default=None, header="p B",
                                         format="number")
    agree: bool | None = column("both models predict the same class", default=None, header="Agree", format="mark")
    map_spearman: float | None = column("Spearman rank correlation of the two maps (at 256 display levels)",
                                        default=None, header="Map ρ", format="number")
    map_top_iou: float | None = column("IoU of the two maps' top 10 % pixels", default=None, header="Top IoU",
                                       format="number")
    removal_probability_a: float | None = column("model A's probability of its class with the defect painted out",
                                                 default=None, trust=True, format="number")
    kept_after_removal_a: bool | None = column("model A still predicts its class after removal", default=None,
                                               trust=True, format="yes-no")
    flag_a: str = column("model A's trust flag (clear, off-defect, survives-removal)", default="", trust=True)
    removal_probability_b: float | None = column("model B's probability of its class with the defect painted out",
                                                 default=None, trust=True, format="number")
    kept_after_removal_b: bool | None = column("model B still predicts its class after removal", default=None,
                                               trust=True, format="yes-no")
    flag_b: str = column("model B's trust flag", default="", trust=True)
    error: str = column("why the image could not be compared", default="")


def comparison_columns(trust: bool = True) -> tuple[Column, ...]:
    """The comparison table's columns; the trust ones only with `trust`."""
    return tuple(c for c in declared(ComparisonRow) if trust or not c.trust)


@dataclass(frozen=True)
class Shown:
    """An image kept for the report: its row, display pixels and both heatmaps."""

    row: ComparisonRow
    display: np.ndarray
    heatmap_a: np.ndarray
    heatmap_b: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """Everything a comparison produced (possibly partial, see `complete`)."""

    rows: tuple[ComparisonRow, ...]
    a: ReviewResult
    b: ReviewResult
    flips: tuple[Shown, ...]  # first SHOWN images whose prediction flipped
    moved: tuple[Shown, ...]  # SHOWN images with the lowest map Spearman, lowest first
    complete: bool
    seconds: float


def map_spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps of one image, at the 256 levels a display shows
    (0 when either is constant). Ranks are taken on the displayed levels because the ranks of
    near-equal values are float noise: two runtimes computing a confident prediction (p = 0.9998)
    differ by 1e-7, which reorders the faint half of an occlusion map, never what is seen."""
    return _level_spearman(*_comparable(a, b))


def map_top_iou(a: np.ndarray, b: np.ndarray, share: float = TOP_SHARE) -> float:
    """IoU of the two maps' top `share` of pixels (each map's own (1 - share) quantile and above,
    positive pixels only: a ReLU'd CAM is often zero on more than 1 - share of the image, and
    "no evidence" is not a top region); 1 when neither map has any."""
    return _top_iou(*_comparable(a, b), share)


def map_agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(map_spearman, map_top_iou) of two maps, brought to one comparable size once."""
    a, b = _comparable(a, b)
    return _level_spearman(a, b), _top_iou(a, b, TOP_SHARE)


def _level_spearman(a: np.ndarray, b: np.ndarray) -> float:
    levels_a, levels_b = _display_levels(a), _display_levels(b)
    ranks_a, ranks_b = _level_ranks(levels_a), _level_ranks(levels_b)
    if ranks_a is None or ranks_b is None:
        return 0.0
    ranks_a -= ranks_a.mean()
    ranks_b -= ranks_b.mean()
    # einsum, not a BLAS dot: on a busy machine a threaded BLAS took 20-50 ms for this 16k-element product
    cross, own_a, own_b = (float(np.einsum("i,i->", x, y)) for x, y in
                           ((ranks_a, ranks_b), (ranks_a, ranks_a), (ranks_b, ranks_b)))
    return float(np.clip(cross / np.sqrt(own_a * own_b), -1.0, 1.0))


def _display_levels(values: np.ndarray) -> np.ndarray:
    return np.rint(np.clip(np.ravel(values), 0.0, 1.0) * (DISPLAY_LEVELS - 1)).astype(np.intp)


def _level_ranks(levels: np.ndarray) -> np.ndarray | None:
    """Each pixel's rank among the map's pixels, ties averaged (scipy's rankdata 'average'), counted
    per level rather than sorted; None for a constant map."""
    counts = np.bincount(levels, minlength=DISPLAY_LEVELS)
    if counts.max() == len(levels):
        return None
    below = np.cumsum(counts) - counts
    return (below + (counts + 1) / 2.0)[levels]


def _top_iou(a: np.ndarray, b: np.ndarray, share: float) -> float:
    top_a = (a >= np.quantile(a, 1.0 - share)) & (a > 0.0)
    top_b = (b >= np.quantile(b, 1.0 - share)) & (b > 0.0)
    union = np.logical_or(top_a, top_b).sum()
    return float(np.logical_and(top_a, top_b).sum() / union) if union else 1.0


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = a.shape[:2]
    if b.shape[:2] != (height, width):
        b = resize_map(b, height, width)
    if max(height, width) > MAP_SIDE:
        scale = MAP_SIDE / max(height, width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        a, b = resize_map(a, *size), resize_map(b, *size)
    return a, b


def pair_row(a: ReviewedImage, b: ReviewedImage) -> ComparisonRow:
    """The comparison row of one image reviewed by model A and model B."""
    ra, rb = a.row, b.row
    error = "; ".join(f"{side}: {r.error}" for side, r in (("A", ra), ("B", rb)) if r.error)
    spearman, top_iou = map_agreement(a.heatmap, b.heatmap) if a.heatmap is not None and b.heatmap is not None \
        else (None, None)
    return ComparisonRow(
        path=ra.path, label=ra.label, predicted_a=ra.predicted, predicted_b=rb.predicted,
        probability_a=ra.confidence, probability_b=rb.confidence,
        agree=None if error else ra.predicted_index == rb.predicted_index,
        map_spearman=spearman, map_top_iou=top_iou,
        removal_probability_a=ra.removal_probability, kept_after_removal_a=ra.kept_after_removal, flag_a=ra.flag,
        removal_probability_b=rb.removal_probability, kept_after_removal_b=rb.kept_after_removal, flag_b=rb.flag,
        error=error)


def check_pair(session_a, session_b, options: ReviewOptions) -> None:
    """Both models can run the method with these options, and their classes line up."""
    check_options(session_a, options)
    check_options(session_b, options)
    names_a, names_b = session_a.info.class_names, session_b.info.class_names
    if names_a != names_b:
        raise MethodError(f"the two models name their classes differently ({', '.join(names_a)} against "
                          f"{', '.join(names_b)}); give both the same class names (a .convscope.json sidecar)")


class _Keeper:
    """The first flips and the largest map changes, with their maps (bounded memory)."""

    def __init__(self) -> None:
        self.flips: list[Shown] = []
        self.moved: list[tuple[float, int, Shown]] = []  # a min-heap of -spearman: the lowest SHOWN stay
        self._count = 0

    def add(self, row: ComparisonRow, a: ReviewedImage, b: ReviewedImage) -> None:
        """Keep the image if it flipped (among the first) or its maps moved among the most."""
        if a.image is not None and a.heatmap is not None and b.heatmap is not None:
            self.keep(Shown(row, a.image.display, a.heatmap, b.heatmap))

    def keep(self, shown: Shown) -> None:
        """Keep an already assembled image (from another keeper, e.g. a Ray actor's)."""
        if shown.row.agree is False and len(self.flips) < SHOWN:
            self.flips.append(shown)
        if shown.row.map_spearman is not None:
            self._count += 1
            entry = (-shown.row.map_spearman, self._count, shown)
            if len(self.moved) < SHOWN:
                heapq.heappush(self.moved, entry)
            elif entry[0] > self.moved[0][0]:
                heapq.heapreplace(self.moved, entry)

    def shown(self) -> list[Shown]:
        """Everything kept (flips first), each once."""
        kept = {id(s): s for s in (*self.flips, *(e[2] for e in self.moved))}
        return list(kept.values())

    def largest_changes(self) -> tuple[Shown, ...]:
        """The kept map changes, lowest Spearman first."""
        return tuple(s for _, _, s in sorted(self.moved, key=lambda e: (-e[0], e[1])))


class Pairing:
    """What a comparison gathers batch by batch: rows, each side's review rows and trust, the kept images."""

    def __init__(self, trust: bool) -> None:
        from engine.review.runner import _trust_accumulator

        self.rows: list[ComparisonRow] = []
        self.sides: tuple[list, list] = ([], [])
        self.trust = (_trust_accumulator(ReviewOptions(trust=trust)), _trust_accumulator(ReviewOptions(trust=trust)))
        self.keeper = _Keeper()

    def add(self, reviewed_a: list[ReviewedImage], reviewed_b: list[ReviewedImage]) -> list[ComparisonRow]:
        """Pair one batch reviewed by both models; returns its comparison rows."""
        new = [pair_row(a, b) for a, b in zip(reviewed_a, reviewed_b, strict=True)]
        for row, a, b in zip(new, reviewed_a, reviewed_b, strict=True):
            self.keeper.add(row, a, b)
        for side, acc, reviewed in zip(self.sides, self.trust, (reviewed_a, reviewed_b), strict=True):
            side.extend(item.row for item in reviewed)
            if acc is not None:
                acc.add(reviewed)
        self.rows.extend(new)
        return new

    def merge(self, other: Pairing) -> None:
        """Add another pairing's batches after this one's (a Ray actor's batch)."""
        self.rows.extend(other.rows)
        for mine, theirs in zip(self.sides, other.sides, strict=True):
            mine.extend(theirs)
        for mine_acc, theirs_acc in zip(self.trust, other.trust, strict=True):
            if mine_acc is not None and theirs_acc is not None:
                mine_acc.merge(theirs_acc)
        for shown in other.keeper.shown():
            self.keeper.keep(shown)

    def result(self, session_a, session_b, total: int, complete: bool, seconds: float) -> Comparison:
        """The Comparison of everything added, with each side's ReviewResult."""
        results = [summarise(side, session.info.class_names, total, complete, seconds, trust=acc)
                   for side, session, acc in zip(self.sides, (session_a, session_b), self.trust, strict=True)]
        return Comparison(tuple(self.rows), results[0], results[1], tuple(self.keeper.flips),
                          self.keeper.largest_changes(), complete, seconds)


def compare_batch(session_a, session_b, batch: list, root: Path, options: ReviewOptions,
                  cancel: CancelCheck | None = None) -> tuple[list[ReviewedImage], list[ReviewedImage]]:
    """One decoded batch reviewed by model A, then by model B (the same images and masks)."""
    masks = [item.mask for item in batch]  # the A side consumes each mask: B gets it without a re-read
    reviewed_a = _review_batch(session_a, batch, root, options, cancel)
    for item, mask in zip(batch, masks, strict=True):
        item.mask = mask
    return reviewed_a, _review_batch(session_b, batch, root, options, cancel)


def compare_folder(session_a, session_b, folder: str | os.PathLike, options: ReviewOptions | None = None,
                   progress: Progress | None = None, cancel: CancelCheck | None = None,
                   on_rows: Callable[[list[ComparisonRow]], None] | None = None,
                   exclude: str | os.PathLike | None = None) -> Comparison:
    """Review every image under `folder` with both models (the same batches, decoded once).

    `on_rows` receives each batch's comparison rows. A cancel ends early: the result then
    holds the rows so far and `complete` is False.
    """
    options = options or ReviewOptions()
    check_pair(session_a, session_b, options)
    root = Path(folder)
    annotator = annotator_for(root, options, session_a.info.class_names)  # masks read once, while decoding
    annotator.fresh()
    pending = [_item(p, root, annotator) for p in folder_images(root, exclude)]
    total, started = len(pending), time.perf_counter()
    pairing, complete = Pairing(options.trust), True
    if progress is not None:
        progress(0, total)
    try:
        for batch in _loaded_batches(pending, options.batch_size, session_a):
            if cancel is not None and cancel():
                raise Cancelled()
            new = pairing.add(*compare_batch(session_a, session_b, batch, root, options, cancel))
            if on_rows is not None:
                on_rows(new)
            if progress is not None:
                progress(len(pairing.rows), total)
    except Cancelled:
        complete = False
    return pairing.result(session_a, session_b, total, complete, time.perf_counter() - started)
