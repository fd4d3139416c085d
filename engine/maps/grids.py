"""Tiling feature maps and filter patterns into one picture, as seed 002 stitches its grids.

Layout, for every grid here: tiles in reading order (row-major: tile k at row k // columns,
column k % columns), `margin` black pixels between tiles and none around the edge, so a
grid of R x C tiles of h x w pixels is (R*h + (R-1)*margin) x (C*w + (C-1)*margin). (Seed 002
fills its 8x8 grid column by column; reading order is easier to follow with labels.)
Also here: turning gradient-ascent images back into 8-bit pictures (`deprocess`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from engine.images.preprocessing import CAFFE_BGR_MEAN, TORCH_MEAN, TORCH_STD
from engine.maps.render import colorize

SCALES = ("shared", "tile")
ORDERS = ("index", "mean")
_EPS = 1e-12
_STD_EPS = 1e-5


@dataclass(frozen=True)
class ActivationGrid:
    """A grid of feature maps: the picture and which channel each tile shows."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    order: tuple[int, ...]  # channel index of tile k, in reading order
    columns: int
    rows: int
    tile: tuple[int, int]  # (height, width) of one tile in pixels
    margin: int

    def channel_at(self, x: int, y: int) -> int | None:
        """The channel under grid pixel (x, y), None on a margin or past the last tile."""
        height, width = self.tile
        row, dy = divmod(int(y), height + self.margin)
        column, dx = divmod(int(x), width + self.margin)
        if dy >= height or dx >= width or column >= self.columns or row >= self.rows:
            return None
        k = row * self.columns + column
        return self.order[k] if 0 <= k < len(self.order) else None


def grid_shape(count: int, columns: int, tile: tuple[int, int], margin: int) -> tuple[int, int]:
    """(height, width) in pixels of a grid of `count` tiles."""
    rows = max(1, math.ceil(count / columns))
    height, width = tile
    return rows * height + (rows - 1) * margin, columns * width + (columns - 1) * margin


def tile_grid(tiles: np.ndarray, columns: int, margin: int) -> np.ndarray:
    """Stitch (N, h, w, 3) uint8 tiles in reading order on a black background."""
    tiles = np.asarray(tiles)
    if tiles.ndim != 4 or len(tiles) == 0:
        raise ValueError(f"tiles must be a non-empty (N, h, w, 3) array, got shape {tiles.shape}")
    if columns < 1 or margin < 0:
        raise ValueError("columns must be at least 1 and the margin not negative")
    count, height, width = tiles.shape[:3]
    columns = min(columns, count)
    grid = np.zeros((*grid_shape(count, columns, (height, width), margin), tiles.shape[3]), np.uint8)
    for k in range(count):
        row, column = divmod(k, columns)
        top, left = row * (height + margin), column * (width + margin)
        grid[top:top + height, left:left + width] = tiles[k]
    return grid


def draw_label(tile: np.ndarray, text: str) -> np.ndarray:
    """Write `text` in the tile's top-left corner, white on a black outline, scaled to the tile."""
    height = tile.shape[0]
    scale = max(0.3, min(1.0, height / 128.0))
    thickness = 1
    (_, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    origin = (2, 2 + text_h)
    out = np.ascontiguousarray(tile)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thickness + 2, cv2.LINE_AA)
    cv2.putText(out, text, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return out


def _scaled(maps: np.ndarray, scale: str) -> np.ndarray:
    """(h, w, C) -> values in [0, 1], by the min/max of all channels or of each channel."""
    axes = (0, 1, 2) if scale == "shared" else (0, 1)
    low = maps.min(axis=axes, keepdims=True)
    high = maps.max(axis=axes, keepdims=True)
    return (maps - low) / np.maximum(high - low, _EPS)


def _tile_size(map_shape: tuple[int, int], tile: int | None) -> tuple[int, int]:
    """Tiles keep the map's aspect; the longer side is `tile`, by default at least 64 pixels."""
    height, width = map_shape
    longest = max(height, width)
    if tile is None:
        tile = longest * max(1, math.ceil(64 / longest))
    factor = tile / longest
    return max(1, round(height * factor)), max(1, round(width * factor))


def activation_grid(maps: np.ndarray, scale: str = "shared", order: str = "index",
                    columns: int | None = None, tile: int | None = None, margin: int = 2,
                    colormap: str = "viridis", labels: bool = True) -> ActivationGrid:
    """Every channel of an (h, w, C) feature map as a coloured tile, channel index drawn on it.

    scale "shared": one min/max for all channels (tiles compare); "tile": each its own.
    order "index": channel order; "mean": highest mean activation first.
    columns: default ceil(sqrt(C)); tile: longer tile side in pixels (nearest-neighbour
    enlargement so each cell of the map stays visible), default the map size times the
    smallest integer that reaches 64 pixels.
    """
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3 or maps.shape[2] == 0:
        raise ValueError(f"maps must be (h, w, channels), got shape {maps.shape}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}")
    maps = np.nan_to_num(maps)
    channels = maps.shape[2]
    columns = min(channels, columns or math.ceil(math.sqrt(channels)))
    if order == "mean":
        ranked = np.argsort(-maps.mean(axis=(0, 1)), kind="stable")
    else:
        ranked = np.arange(channels)
    size = _tile_size(maps.shape[:2], tile)
    unit = _scaled(maps, scale)
    tiles = []
    for channel in ranked:
        picture = cv2.resize(unit[:, :, channel], (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
        picture = colorize(picture, colormap)
        tiles.append(draw_label(picture, str(int(channel))) if labels else picture)
    image = tile_grid(np.stack(tiles), columns, margin)
    rows = math.ceil(channels / columns)
    return ActivationGrid(image, tuple(int(c) for c in ranked), columns, rows, size, margin)


def pattern_grid(patterns: np.ndarray, columns: int = 8, margin: int = 5,
                 labels: Sequence[int] | None = None) -> np.ndarray:
    """Stitch (N, s, s, 3) uint8 filter patterns as seed 002 does: black margins, no border.

    With `labels` (for example the filter indices), each tile gets its label written on it.
    """
    patterns = np.asarray(patterns)
    if labels is not None:
        if len(labels) != len(patterns):
            raise ValueError("one label per pattern")
        patterns = np.stack([draw_label(p.copy(), str(label)) for p, label in zip(patterns, labels, strict=True)])
    return tile_grid(patterns, columns, margin)


def to_pixels(x: np.ndarray, mode: str) -> np.ndarray:
    """Undo `preprocess`: model-input values back to RGB (or gray) pixels on 0..255, float32."""
    x = np.asarray(x, dtype=np.float32)
    gray = x.shape[-1] == 1
    if mode == "unit":
        return x * np.float32(255.0)
    if mode == "symmetric":
        return (x + np.float32(1.0)) * np.float32(127.5)
    if mode == "caffe":
        mean = CAFFE_BGR_MEAN.mean(keepdims=True) if gray else CAFFE_BGR_MEAN
        return x + mean if gray else (x + mean)[..., ::-1]
    if mode == "torch":
        mean = TORCH_MEAN.mean(keepdims=True) if gray else TORCH_MEAN
        std = TORCH_STD.mean(keepdims=True) if gray else TORCH_STD
        return (x * std + mean) * np.float32(255.0)
    return x.copy()


def deprocess(x: np.ndarray, mode: str, contrast: float = 0.1) -> np.ndarray:
    """Preprocessed (N, s, s, C) images -> (N, s, s, 3) uint8 RGB, as seed 002 deprocesses.

    Back to pixel space first (so caffe's BGR order and per-channel offsets are undone),
    then each image standardised on its own, x`contrast`, +0.5, clipped, x255; gray images
    are repeated on three channels.
    """
    x = to_pixels(x, mode)
    axes = tuple(range(1, x.ndim))
    x = x - x.mean(axis=axes, keepdims=True)
    x /= x.std(axis=axes, keepdims=True) + _STD_EPS
    x = np.clip(x * contrast + 0.5, 0.0, 1.0) * 255.0
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x
