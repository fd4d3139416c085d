"""Drawing heatmaps for people and saving them for programs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.errors import OutputPathError

# name -> OpenCV's constant for it (by name: cv2 loads at the first colouring, not at import)
COLORMAPS: dict[str, str] = {
    "jet": "COLORMAP_JET", "turbo": "COLORMAP_TURBO", "viridis": "COLORMAP_VIRIDIS",
    "inferno": "COLORMAP_INFERNO", "magma": "COLORMAP_MAGMA", "plasma": "COLORMAP_PLASMA",
    "hot": "COLORMAP_HOT", "bone": "COLORMAP_BONE", "cividis": "COLORMAP_CIVIDIS",
}


def colorize(heatmap: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """(H, W) map in [0, 1] -> (H, W, 3) uint8 RGB through a named colour map."""
    import cv2
    if colormap not in COLORMAPS:
        raise ValueError(f"unknown colour map '{colormap}'; choose from {', '.join(COLORMAPS)}")
    levels = np.clip(np.rint(np.asarray(heatmap, dtype=np.float32) * 255.0), 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(levels, getattr(cv2, COLORMAPS[colormap])), cv2.COLOR_BGR2RGB)


def colormap_lut(colormap: str = "jet") -> np.ndarray:
    """The 256 RGB entries of a colour map, (256, 3) uint8, for colour bars."""
    return colorize(np.linspace(0.0, 1.0, 256, dtype=np.float32)[None, :], colormap)[0]


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4, colormap: str = "jet",
            threshold: float = 0.0) -> np.ndarray:
    """Blend the coloured heatmap on the RGB image at the image's own resolution.

    Pixels whose heat is below `threshold` show the image alone.
    """
    import cv2
    height, width = image.shape[:2]
    if heatmap.shape[:2] != (height, width):
        heatmap = cv2.resize(heatmap.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    colours = colorize(heatmap, colormap).astype(np.float32)
    weight = np.full(heatmap.shape, float(alpha), dtype=np.float32)
    weight[heatmap < threshold] = 0.0
    blended = image.astype(np.float32) * (1.0 - weight[..., None]) + colours * weight[..., None]
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def write_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an RGB (or gray, 8- or 16-bit) array as PNG through bytes, so any path works."""
    import cv2
    path = Path(path)
    array = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 and rgb.shape[2] == 3 else rgb
    ok, data = cv2.imencode(".png", array)
    if not ok:
        raise OutputPathError(f"{path.name}: could not encode the PNG")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        data.tofile(str(path))
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path


def heatmap_16bit(heatmap: np.ndarray) -> np.ndarray:
    """[0, 1] float map -> uint16 for a lossless 16-bit PNG."""
    return np.clip(np.rint(heatmap * 65535.0), 0, 65535).astype(np.uint16)


def save_heatmap(path: str | Path, heatmap: np.ndarray) -> Path:
    """Save a map as .npy (float32, exact) or as a 16-bit PNG, by the path's suffix."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, heatmap.astype(np.float32))
        except OSError as exc:
            raise OutputPathError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return path
    if path.suffix.lower() == ".png":
        return write_png(path, heatmap_16bit(heatmap))
    raise OutputPathError(f"{path.name}: save the heatmap as .npy or .png")
