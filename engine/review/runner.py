"""Reviewing a folder: predict, explain and score every image, a batch at a time.

A plain function for the CLI and the GUI worker thread: it reports progress(done, total),
polls cancel() between and inside batches, hands each finished batch to callbacks (so a
caller can append CSV rows or draw overlays as it goes), and returns frozen results.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.annotations import SKIPPED_NOTE, AnnotationError, Annotator, FoundMask
from engine.errors import Cancelled, ConvScopeError, ImageLoadError, MethodError
from engine.images.decoding import LoadedImage, label_from_path, list_images
from engine.review.masks import class_mask
from engine.review.metrics import DEFAULT_THRESHOLD, DEFAULT_TOLERANCE, image_metrics
from engine.review.rows import ReviewRow
from engine.review.stats import ReviewResult, summarise

if TYPE_CHECKING:  # engine.methods loads TensorFlow; this module must not
    from engine.methods.base import CancelCheck, Progress

TARGETS = ("predicted", "label")


@dataclass(frozen=True)
class ReviewOptions:
    """How to explain and score: the method, its layer and parameters, and the metric settings."""

    method: str = "gradcam"
    layer: str | None = None
    batch_size: int = 16
    target: str = "predicted"  # explain the predicted class, or the folder label's class
    tolerance: float = DEFAULT_TOLERANCE  # pointing game, pixels at the image's scale
    threshold: float = DEFAULT_THRESHOLD  # emphasized region for IoU
    params: dict[str, Any] = field(default_factory=dict)  # method parameters and combinations
    trust: bool = False  # add the trust columns and verdicts (engine.trust.review)
    annotations: str | None = None  # a COCO / CVAT file or a folder of per-image files (engine.annotations)
    label_map: tuple[tuple[str, str], ...] = ()  # annotation label -> class name (engine.annotations.labels)


@dataclass(frozen=True)
class ReviewedImage:
    """One finished image with its arrays, for callers that draw or save it."""

    row: ReviewRow
    image: LoadedImage | None  # None when the image could not be read
    heatmap: np.ndarray | None  # (H, W) float32 in [0, 1] at the image's resolution
    region: np.ndarray | None  # the boolean mask region the metrics used, or None
    trust: Any = None  # engine.trust.review.ImageTrust with ReviewOptions.trust, else None
    others: np.ndarray | None = None  # the image's other defects (kept clear of the removal's control)


@dataclass(slots=True)
class _Item:
    path: Path
    relative: str
    label: str | None
    image: LoadedImage | None = None
    error: str = ""
    root: Path | None = None  # the reviewed folder (for the mask, read with the image)
    mask: tuple[FoundMask | None, str] | None = None  # (ground truth at the image's size, note) once read
    annotator: Annotator | None = None  # finds the mask; without one it is found when the image is scored


def check_options(session, options: ReviewOptions) -> None:
    """Fail early, with a one-line ConvScopeError, on a bad method, layer, target or setting."""
    from engine.maps.combine import check_request

    worker = session.method(options.method)
    check_request(worker, dict(options.params))  # method parameters and combinations
    if worker.needs_layer:
        session.target_layers(options.layer, options.params.get("fuse"))  # one layer, or several fused
    if options.target not in TARGETS:
        raise MethodError(f"target must be one of {', '.join(TARGETS)}")
    if options.batch_size < 1:
        raise MethodError("the batch size must be at least 1")
    if options.tolerance < 0 or not 0.0 <= options.threshold <= 1.0:
        raise MethodError("the tolerance must be >= 0 and the threshold within 0..1")


def folder_images(folder: str | os.PathLike, exclude: str | os.PathLike | None = None) -> list[Path]:
    """Images under `folder` (see engine.images.decoding.list_images), leaving out those under `exclude`
    and the overlays of earlier reviews written inside `folder` (folders holding a review's
    results.csv and summary.json)."""
    root = Path(folder).resolve()
    skip = Path(exclude).resolve() if exclude is not None else None
    reports: dict[Path, bool] = {}  # folder -> holds a review's output; each folder checked once

    def is_report(directory: Path) -> bool:
        if directory not in reports:
            reports[directory] = directory == skip or all(
                (directory / name).is_file() for name in ("results.csv", "summary.json"))
        return reports[directory]

    def keep(path: Path) -> bool:
        parents = path.resolve().parents
        return not any(is_report(d) for d in parents[:len(parents) - len(root.parents) - 1])

    return [p for p in list_images(folder) if keep(p)]


def review_folder(session, folder: str | os.PathLike, options: ReviewOptions | None = None,
                  progress: Progress | None = None, cancel: CancelCheck | None = None,
                  on_rows: Callable[[list[ReviewRow]], None] | None = None, *, done: Sequence[ReviewRow] = (),
                  on_images: Callable[[list[ReviewedImage]], None] | None = None,
                  exclude: str | os.PathLike | None = None) -> ReviewResult:
    """Predict, explain and score every image under `folder` (labels from sub-folder names).

    `options` says how (method, layer, parameters, batch size, target, metric settings; the
    defaults when None). Rows in `done` (from an earlier run) are kept and their images
    skipped. After each batch, `on_rows(rows)` and `on_images(items)` receive the new results. A cancel (or Cancelled raised inside) ends
    the review early: the result then holds the rows so far and `complete` is False.
    """
    options = options or ReviewOptions()
    check_options(session, options)
    root = Path(folder)
    finished = {row.path for row in done}
    annotator = annotator_for(root, options, session.info.class_names)
    annotator.fresh()
    pending = [_item(p, root, annotator) for p in folder_images(root, exclude)]
    pending = [item for item in pending if item.relative not in finished]
    rows, total, started = list(done), len(done) + len(pending), time.perf_counter()
    trust = _trust_accumulator(options)
    complete = True
    if progress is not None:
        progress(len(rows), total)
    writer = _WriteBehind(on_images)
    batches = _loaded_batches(pending, options.batch_size, session)
    pending = []  # the batches hold the items now, and drop each batch once reviewed
    try:
        for batch in batches:
            if cancel is not None and cancel():
                raise Cancelled()
            reviewed = _review_batch(session, batch, root, options, cancel)
            for item in batch:
                item.image = None  # held by `reviewed` until written, then freed: memory stays flat
            writer.wait()  # the previous batch's overlays (written while this batch ran)
            if trust is not None:
                trust.add(reviewed)
            rows.extend(item.row for item in reviewed)
            if on_rows is not None:
                on_rows([item.row for item in reviewed])
            writer.submit(reviewed)
            if progress is not None:
                progress(len(rows), total)
    except Cancelled:
        complete = False
    finally:
        writer.close()
    return summarise(rows, session.info.class_names, total, complete, time.perf_counter() - started, trust=trust)


def _trust_accumulator(options: ReviewOptions):
    if not options.trust:
        return None
    from engine.trust.review import TrustAccumulator

    return TrustAccumulator()


def annotator_for(root: str | os.PathLike, options: ReviewOptions, class_names: Sequence[str]) -> Annotator:
    """The lot's Annotator (one per folder, annotations, label map and classes in this process:
    a COCO file is read once, again when it changes). A malformed annotations file raises AnnotationError."""
    path = options.annotations
    changed = os.stat(path).st_mtime_ns if path is not None and os.path.isfile(path) else 0
    return _annotator(str(Path(root).resolve()), path, changed, options.label_map, tuple(class_names))


@lru_cache(maxsize=4)
def _annotator(root: str, annotations: str | None, changed: int, label_map: tuple[tuple[str, str], ...],
               class_names: tuple[str, ...]) -> Annotator:
    return Annotator(root, class_names, dict(label_map), annotations)


def _item(path: Path, root: Path, annotator: Annotator | None = None) -> _Item:
    return _Item(path, path.relative_to(root).as_posix(), label_from_path(path, root), root=root,
                 annotator=annotator)


def _load(item: _Item, session) -> _Item:
    """Read the image and its mask (in a decoding thread: both leave the model's thread free)."""
    try:
        item.image = session.load_image(item.path)
    except ImageLoadError as exc:
        item.error = str(exc)
    if item.image is not None and item.annotator is not None:
        item.mask = _mask_for(item, item.annotator, item.image)
    return item


class _WriteBehind:
    """`on_images` in a background thread, one batch behind: a batch's overlays are drawn and
    written while the model works on the next one. `wait()` before recording the next batch's
    rows keeps the order (and an error, or Ctrl+C raised inside, surfaces at the same batch)."""

    def __init__(self, write: Callable[[list[ReviewedImage]], None] | None) -> None:
        self.write = write
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-writer") if write else None
        self.pending: Future | None = None

    def submit(self, items: list[ReviewedImage]) -> None:
        """Write a batch (after the previous one)."""
        if self.pool is not None and self.write is not None:
            self.wait()
            self.pending = self.pool.submit(self.write, items)

    def wait(self) -> None:
        """Until the batch being written is on disk; re-raises its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Write what is pending, then stop the thread."""
        try:
            self.wait()
        finally:
            if self.pool is not None:
                self.pool.shutdown()


DECODE_AHEAD = 2  # batches decoded ahead of the model


def _loaded_batches(items: list[_Item], size: int, session) -> Iterator[list[_Item]]:
    """Batches of items with their images read by a thread pool, DECODE_AHEAD batches ahead of
    the one being reviewed (decoding releases the GIL in OpenCV)."""
    chunks: list[list[_Item] | None] = [items[i:i + size] for i in range(0, len(items), size)]
    items.clear()
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)),
                            thread_name_prefix="review-decode") as pool:
        def submit(chunk: list[_Item] | None):
            return [pool.submit(_load, item, session) for item in chunk or ()]

        ahead = [submit(chunk) for chunk in chunks[:DECODE_AHEAD]]
        for index in range(len(chunks)):
            current = ahead.pop(0)
            if index + DECODE_AHEAD < len(chunks):
                ahead.append(submit(chunks[index + DECODE_AHEAD]))
            chunks[index] = None  # reviewed items are not kept
            yield [future.result() for future in current]


def _size_groups(items: list[_Item], session) -> list[list[_Item]]:
    """One group for a fixed-size model; groups of equal image size for a size-agnostic one."""
    height, width = session.info.input_shape[:2]
    if height is not None and width is not None:
        return [items] if items else []
    groups: dict[tuple[int, int], list[_Item]] = {}
    for item in items:
        if item.image is not None:
            groups.setdefault(item.image.pixels.shape[:2], []).append(item)
    return list(groups.values())


def _review_batch(session, batch: list[_Item], root: Path, options: ReviewOptions,
                  cancel: CancelCheck | None) -> list[ReviewedImage]:
    readable = [item for item in batch if item.image is not None]
    done: dict[str, ReviewedImage] = {}
    for group in _size_groups(readable, session):
        for item, reviewed in zip(group, _explain_group(session, group, root, options, cancel), strict=True):
            done[item.relative] = reviewed
    return [done.get(item.relative) or _error_result(item) for item in batch]


def _error_result(item: _Item) -> ReviewedImage:
    row = ReviewRow(item.relative, item.label, None, error=item.error or "not reviewed")
    return ReviewedImage(row, None, None, None)


AGNOSTIC_NOTE = "{method} is class-agnostic: its mask scores are about the image (every defect), not a class"


def _explain_group(session, group: list[_Item], root: Path, options: ReviewOptions,
                   cancel: CancelCheck | None) -> list[ReviewedImage]:
    names = session.info.class_names
    labels = [names.index(item.label) if item.label in names else None for item in group]
    images = [item.image for item in group]
    classes = labels if options.target == "label" else None
    explanations = session.explain_batch(images, options.method, options.layer, classes, cancel=cancel,
                                         **options.params)
    if options.target == "label":
        predicted = [(p.best.index, p.best.probability) for p in session.predict(images, top=1)]
    else:
        predicted = [(e.class_index, e.probability) for e in explanations]
    scored = [_score(session, item, label, guess, explanation, root, options)
              for item, label, guess, explanation in zip(group, labels, predicted, explanations, strict=True)]
    if options.trust:
        from engine.trust.review import add_trust

        scored = add_trust(session, scored, cancel=cancel)
    return scored


def _score(session, item: _Item, label: int | None, guess: tuple[int, float], explanation,
           root: Path, options: ReviewOptions) -> ReviewedImage:
    image, heatmap = item.image, explanation.heatmap
    assert image is not None  # only readable images are explained
    if item.mask is None:
        item.mask = _mask_for(item, annotator_for(root, options, session.info.class_names), image)
    found, note = item.mask
    item.mask = None
    mask = found.mask if found is not None else None
    if options.target == "label" and label is None:
        fallback = (f"label {item.label!r} is not a class" if item.label else "no label") + \
            ": the predicted class is explained"
        note = "; ".join(n for n in (fallback, note) if n)
    count = len(session.info.class_names)
    if explanation.class_agnostic:  # the map is about the image: scored against every defect in it
        mask = None if mask is None else np.where(mask > 0, 255, 0).astype(np.uint8)  # 0/255: always binary
        note = "; ".join(n for n in (note, AGNOSTIC_NOTE.format(method=explanation.method)) if n)
    metrics = image_metrics(heatmap, mask, explanation.class_index, num_classes=count,
                            tolerance=options.tolerance, threshold=options.threshold)
    region = class_mask(mask, explanation.class_index, count)[0] if metrics.has_mask and mask is not None else None
    others = (mask > 0) & ~region if region is not None and mask is not None else None
    scored = region is not None and found is not None
    source, kind = (found.source, found.kind_for(explanation.class_index)) if scored and found else ("", "")
    row = ReviewRow(
        path=item.relative, label=item.label, label_index=label, predicted=session.class_name(guess[0]),
        predicted_index=guess[0], confidence=guess[1], correct=None if label is None else guess[0] == label,
        explained=explanation.class_name, explained_index=explanation.class_index,
        peak_x=metrics.peak_x, peak_y=metrics.peak_y, mask=metrics.mask_mode,
        pointing_hit=metrics.pointing_hit, energy_inside=metrics.energy_inside, iou=metrics.iou,
        width=image.width, height=image.height, empty_map=explanation.empty, note=note,
        mask_source=source, mask_kind=kind,
    )
    return ReviewedImage(row, image, heatmap, region, others=others)


def _mask_for(item: _Item, annotator: Annotator, image: LoadedImage) -> tuple[FoundMask | None, str]:
    try:
        found = annotator.find(item.path, image.height, image.width, item.relative)
    except AnnotationError as exc:
        return None, f"{SKIPPED_NOTE}{exc}"
    except ConvScopeError as exc:
        return None, f"mask ignored: {exc}"
    return found, found.note() if found is not None else ""
