"""What the canvas shows, computed from the image and the engine's map (numpy and OpenCV only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from engine.maps.render import colorize, overlay
from engine.params import Param, changed

VIEW_MODES = ("overlay", "heatmap", "image")
OUTLINE_COLOUR = (255, 255, 255)
DEFAULT_OUTLINE_LEVEL = 0.5


@dataclass(frozen=True)
class ViewSettings:
    """How a heatmap is drawn: the same for the single view, the compare grid and exports."""

    opacity: float = 0.45
    threshold: float = 0.0
    colormap: str = "jet"
    outline: bool = False
    mode: str = "overlay"

    @property
    def outline_level(self) -> float:
        """The contour level: the threshold, or 0.5 while the threshold is off."""
        return self.threshold if self.threshold > 0 else DEFAULT_OUTLINE_LEVEL


def fit_map(heatmap: np.ndarray, height: int, width: int) -> np.ndarray:
    """The map at the image's size (engine maps already are; this guards odd cases)."""
    import cv2
    if heatmap.shape[:2] == (height, width):
        return heatmap.astype(np.float32, copy=False)
    return cv2.resize(heatmap.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def outline_contours(heatmap: np.ndarray, level: float) -> list[np.ndarray]:
    """Contours of the region where the map reaches `level` (cv2.findContours)."""
    import cv2
    mask = (heatmap >= level).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return list(contours)


def compose(image: np.ndarray, heatmap: np.ndarray | None, view: ViewSettings) -> np.ndarray:
    """The RGB picture for a view mode: overlay (engine.maps.render.overlay), heatmap alone, or image."""
    import cv2
    if heatmap is None or view.mode == "image":
        picture = image.copy()
    else:
        heat = fit_map(heatmap, *image.shape[:2])
        if view.mode == "heatmap":
            picture = colorize(heat, view.colormap)
            picture[heat < view.threshold] = 0
        else:
            picture = overlay(image, heat, view.opacity, view.colormap, view.threshold)
    if view.outline and heatmap is not None:
        heat = fit_map(heatmap, *image.shape[:2])
        thickness = max(1, round(max(image.shape[:2]) / 256))
        cv2.drawContours(picture, outline_contours(heat, view.outline_level), -1, OUTLINE_COLOUR, thickness,
                         lineType=cv2.LINE_AA)
    return picture


def duration_text(seconds: float) -> str:
    """A compute time as people read it: "3 ms" under a second, "1.25 s" above."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def titled_grid(pictures: list[np.ndarray], titles: list[str], columns: int, margin: int = 6) -> np.ndarray:
    """Pictures side by side, each under a two-line title bar, resized to the first one's height."""
    import cv2
    height = pictures[0].shape[0]
    bar = max(22, height // 12)
    tiles = []
    for picture, title in zip(pictures, titles, strict=True):
        scale = height / picture.shape[0]
        picture = cv2.resize(picture, (round(picture.shape[1] * scale), height), interpolation=cv2.INTER_AREA)
        tile = np.full((height + 2 * bar, picture.shape[1], 3), 32, np.uint8)
        tile[2 * bar:] = picture
        _put_title(tile, title, bar)
        tiles.append(tile)
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 0), (0, width - t.shape[1]), (0, 0))) for t in tiles]
    from engine.maps.grids import tile_grid

    return tile_grid(np.stack(tiles), columns, margin)


def _put_title(tile: np.ndarray, title: str, bar: int) -> None:
    """The title in the tile's top 2 x `bar` rows: on one line if it fits, else broken after its
    first part; the font shrinks until every line fits the tile's width."""
    import cv2
    font, width = cv2.FONT_HERSHEY_SIMPLEX, tile.shape[1] - 12
    title = title.replace("·", "-")  # OpenCV's Hershey fonts draw ASCII only
    lines = [title] if cv2.getTextSize(title, font, bar / 40, 1)[0][0] <= width else title.split(" - ", 1)
    scale = bar / 40
    while scale > 0.25 and max(cv2.getTextSize(line, font, scale, 1)[0][0] for line in lines) > width:
        scale *= 0.9
    for k, line in enumerate(lines):
        cv2.putText(tile, line, (6, (k + 1) * bar - 7), font, scale, (235, 235, 235), 1, cv2.LINE_AA)


def parameter_text(params: dict, declared: tuple[Param, ...]) -> str:
    """The values that differ from their declared defaults, in words: `samples 3, emphasize`."""
    words = []
    for name, value in changed(declared, params).items():
        if isinstance(value, bool):
            words.append(name.replace("_", " ") if value else f"no {name.replace('_', ' ')}")
        else:
            words.append(f"{name.replace('_', ' ')} {value:g}" if isinstance(value, (int, float))
                         else f"{name.replace('_', ' ')} {value}")
    return ", ".join(words)
