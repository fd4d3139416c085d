"""Large frames explained tile by tile at their own resolution: a way of running any method
over a session, so it sits beside the facade (engine.session), above engine.methods.

The model runs on overlapping tiles of the image at its own input size (the way
patch-trained inspection models are used), no resizing. First pass: every tile's class
probabilities; the image's verdict is the highest defect probability over the tiles (a
defect class is any class not named like "ok"/"good"/"normal"; when none is, class 1 of a
one-unit sigmoid model, else every class) or,
when a class is asked for, that class's highest probability; that tile is reported. Second
pass: the method's raw map of every tile for that one class, resized to the tile, weighted by
a 2-D sin^2 (Hann) window and added into one float32 map at the image's full resolution.
Because the tiles form a grid, the sum of the windows is separable (row sums x column
sums) and never stored whole: memory is the full-resolution map plus one chunk of tiles,
never every tile's map. The map is normalised in place and becomes the explanation's heatmap.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np

from engine.errors import Cancelled, MethodError
from engine.images.decoding import LoadedImage
from engine.images.preprocessing import to_model_input
from engine.maps.normalise import EPS, resize_map
from engine.methods.base import CancelCheck, Job, Method, Progress
from engine.methods.common import MAX_CHUNK, chunk_size, logits_forward
from engine.methods.perturbation import patch_starts
from engine.model.backend import tf
from engine.model.heads import defect_classes
from engine.types import InputBatch

if TYPE_CHECKING:
    from engine.model.context import ModelContext
    from engine.results import ModelInfo


class TiledSession(Protocol):
    """What tiling needs of the facade (engine.session.Session calls this module, so it is not
    imported here: the dependency points one way)."""

    info: ModelInfo
    context: ModelContext

    def class_name(self, index: int) -> str:
        """A class's name."""
        ...

ROW_BLOCK = 1024  # rows of the full-resolution map divided by the window sums at a time


@dataclass(frozen=True)
class TileGrid:
    """Where the tiles are: their top and left offsets, and their size (the model input's)."""

    tops: np.ndarray
    lefts: np.ndarray
    height: int
    width: int

    @property
    def count(self) -> int:
        """Number of tiles."""
        return len(self.tops) * len(self.lefts)

    def corner(self, index: int) -> tuple[int, int]:
        """(top, left) of tile `index` (row-major)."""
        return int(self.tops[index // len(self.lefts)]), int(self.lefts[index % len(self.lefts)])


def tile_grid(image_height: int, image_width: int, height: int, width: int, overlap: float) -> TileGrid:
    """Tiles of (height, width) covering the image, neighbours overlapping by `overlap` of a tile."""
    stride_y = max(1, round(height * (1.0 - overlap)))
    stride_x = max(1, round(width * (1.0 - overlap)))
    return TileGrid(patch_starts(image_height, height, stride_y), patch_starts(image_width, width, stride_x),
                    height, width)


def window(size: int) -> np.ndarray:
    """sin^2(pi (i + 0.5) / size): a Hann window sampled between its zeros, positive everywhere."""
    return (np.sin(np.pi * (np.arange(size) + 0.5) / size) ** 2).astype(np.float32)


def window_sums(starts: np.ndarray, size: int, length: int) -> np.ndarray:
    """The sum of the windows of every tile along one axis, at each of `length` pixels."""
    total = np.zeros(length, np.float64)
    profile = window(size)
    for start in starts:
        total[start:start + size] += profile
    return total


def crop(image: LoadedImage, top: int, left: int, height: int, width: int) -> LoadedImage:
    """A view of one tile of the image (no copy)."""
    area = (slice(top, top + height), slice(left, left + width))
    return replace(image, display=image.display[area], pixels=image.pixels[area])


@dataclass
class TileRun:
    """One tiled explanation in progress: the session's pieces, the grid and the reporting."""

    session: TiledSession
    worker: Method
    image: LoadedImage
    grid: TileGrid
    output: int
    params: dict
    layers: list[str | None]
    fuse: str | None
    progress: Progress | None
    cancel: CancelCheck | None

    def inputs(self, indices: range) -> InputBatch:
        """Model inputs of the tiles `indices`."""
        height, width, channels = self.session.info.input_shape
        return np.stack([to_model_input(crop(self.image, *self.grid.corner(i), height, width), (height, width),
                                        channels, self.session.info.preprocessing) for i in indices])

    def chunks(self, offset: int, work: Callable[[range], None]) -> None:
        """work(tile indices) over every tile in chunks; progress counts both passes (2 x tiles)."""
        size = min(MAX_CHUNK, chunk_size(self.session.context, self.session.info.input_shape, backward=True))
        total = 2 * self.grid.count
        for start in range(0, self.grid.count, size):
            self.check(offset + start, total)
            work(range(start, min(self.grid.count, start + size)))
        self.check(offset + self.grid.count, total)

    def check(self, done: int, total: int) -> None:
        """Report progress; raise Cancelled when asked to stop."""
        if self.cancel is not None and self.cancel():
            raise Cancelled()
        if self.progress is not None:
            self.progress(done, total)


def verdict(run: TileRun, wanted: int | None) -> tuple[int, int, np.ndarray]:
    """First pass: (tile index, class, that tile's logits) of the highest (defect) probability."""
    head = run.session.context.heads[run.output]
    forward = logits_forward(run.session.context, run.output)
    logits = np.zeros((run.grid.count, head.units), np.float32)

    def work(indices: range) -> None:
        logits[indices.start:indices.stop] = forward(tf.constant(run.inputs(indices))).numpy()

    run.chunks(0, work)
    probabilities = head.probabilities(logits)
    candidates = np.array([wanted]) if wanted is not None else defect_classes(run.session.info.class_names,
                                                                             head.binary)
    tile, column = divmod(int(np.argmax(probabilities[:, candidates])), len(candidates))
    return tile, int(candidates[column]), logits[tile]


def blend(run: TileRun, class_index: int, keep: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Second pass: (full-resolution blended map, tile `keep`'s raw map, notes). Only the running
    sum is held at full resolution; each chunk's tile maps are dropped once added."""
    from engine.methods.fusion import run_fused

    total = np.zeros((run.image.height, run.image.width), np.float32)
    weights = np.outer(window(run.grid.height), window(run.grid.width))
    notes: dict[str, None] = {}
    kept = np.zeros((1, 1), np.float32)

    def work(indices: range) -> None:
        nonlocal kept
        inputs = run.inputs(indices)
        job = Job(inputs, np.full(len(inputs), class_index, np.int32), run.layers[0], run.output, run.params,
                  None, run.cancel, run.session.info.preprocessing)
        raw = run_fused(run.worker, job, run.layers, run.fuse or "max") if len(run.layers) > 1 else run.worker.run(job)
        notes.update(dict.fromkeys(raw.notes))
        for i, tile_map in zip(indices, raw.maps, strict=True):
            top, left = run.grid.corner(i)
            total[top:top + run.grid.height, left:left + run.grid.width] += \
                resize_map(np.maximum(tile_map, 0.0), run.grid.height, run.grid.width) * weights
            if i == keep:
                kept = tile_map

    run.chunks(run.grid.count, work)
    rows = window_sums(run.grid.tops, run.grid.height, run.image.height).astype(np.float32)
    columns = window_sums(run.grid.lefts, run.grid.width, run.image.width).astype(np.float32)
    for start in range(0, run.image.height, ROW_BLOCK):
        block = slice(start, start + ROW_BLOCK)
        total[block] /= rows[block, None] * columns[None, :]
    return total, kept, tuple(notes)


def normalise_in_place(values: np.ndarray) -> bool:
    """(x - min) / (max - min) without a copy (row blocks: no full-size temporaries); True, and
    zeros, when the map is flat or not positive."""
    blocks = [values[start:start + ROW_BLOCK] for start in range(0, len(values), ROW_BLOCK)]
    for block in blocks:
        np.nan_to_num(block, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    low = min(float(block.min(initial=0.0)) for block in blocks)
    high = max(float(block.max(initial=0.0)) for block in blocks)
    if high <= 0.0 or high - low <= EPS * max(1.0, abs(high)):
        values[...] = 0.0
        return True
    for block in blocks:
        block -= low
        block /= high - low
    return False


def unfit(session: TiledSession, image: LoadedImage) -> str:
    """'' when the image can be tiled, else why not: a size-agnostic model, or an image smaller
    than the model input in one direction."""
    height, width = session.info.input_shape[:2]
    if height is None or width is None:
        return "tiles need a model with a fixed input size"
    if image.height < height or image.width < width:
        return (f"tiles: the image ({image.width} x {image.height}) is smaller than the model input ({width} x "
                f"{height}); explained whole")
    return ""


def check_tiles(options: dict) -> None:
    """Refuse the combinations that need signed attributions or a second map, which tiles do not keep."""
    if options.get("guided") or options.get("polarity") is not None or options.get("clip_percentile", 100.0) < 100.0 \
            or options.get("clip_below", 0.0) > 0.0:
        raise MethodError("tiles give one blended map: guided, polarity and percentile clipping are not available "
                          "with tiles")


FINISHING = ("cleanup", "edges", "emphasize", "outline")


def explain_tiled(session: TiledSession, image: LoadedImage, worker: Method, wanted: int | None, layers: list[str | None],
                  output: int, params: dict, options: dict, progress: Progress | None,
                  cancel: CancelCheck | None):
    """One Explanation of a large image from its tiles (see the module docstring)."""
    from engine.maps import combine
    from engine.results import Explanation

    started = time.perf_counter()
    height, width = session.info.input_shape[:2]
    grid = tile_grid(image.height, image.width, height, width, options["tile_overlap"])
    run = TileRun(session, worker, image, grid, output, params, layers, options["fuse"], progress, cancel)
    tile, class_index, logits = verdict(run, wanted)
    heatmap, raw, notes = blend(run, class_index, tile)
    if any(options[name] for name in FINISHING):
        heatmap, empty = combine.finish(heatmap, None, image.display, options)
    else:
        empty = normalise_in_place(heatmap)
    head = session.context.heads[output]
    top, left = grid.corner(tile)
    notes = (*notes, tile_note(grid, tile))
    if empty:
        notes = (*notes, "no positive evidence for this class in any tile: the map is all zero")
    layer = " + ".join(str(name) for name in layers) if layers[0] is not None else None
    return Explanation(worker.name, layer, class_index, session.class_name(class_index),
                       float(head.probabilities(logits[None])[0, class_index]),
                       float(head.class_logits(logits[None])[0, class_index]), heatmap, raw,
                       time.perf_counter() - started, {**params, **options}, empty, notes,
                       tile=(left, top, width, height))


def tile_note(grid: TileGrid, tile: int) -> str:
    """How the image was tiled and which tile gave the verdict."""
    top, left = grid.corner(tile)
    return (f"tiles: {grid.count} tiles of {grid.width} x {grid.height} ({len(grid.tops)} rows x "
            f"{len(grid.lefts)} columns); the verdict comes from the tile at x={left}, y={top}")
