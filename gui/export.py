"""Export: overlay PNG, raw heatmap (16-bit PNG and .npy), and the compare, activations and
filter grids, into a folder the user chooses."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path

import numpy as np
from engine.maps.render import save_heatmap, write_png

from .compose import ViewSettings, compose
from .mask_overlay import OUTLINE_PEN


def safe_stem(text: str) -> str:
    """A file-name-safe version of a label."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "image"


def draw_mask_outline(picture: np.ndarray, region: np.ndarray | None) -> np.ndarray:
    """The ground-truth mask's contour drawn on an RGB picture of the same size, as on the canvas."""
    import cv2
    if region is None or region.shape[:2] != picture.shape[:2]:
        return picture
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    picture = np.ascontiguousarray(picture)
    cv2.drawContours(picture, contours, -1, OUTLINE_PEN, max(1, min(picture.shape[:2]) // 256), cv2.LINE_8)
    return picture


def export_explanation(folder: str | Path, image_path: str, image: np.ndarray, explanation,
                       settings: ViewSettings, mask_region: np.ndarray | None = None) -> list[Path]:
    """overlay PNG (as shown, with the mask outline when one is drawn), heatmap 16-bit PNG and
    heatmap .npy for one explanation."""
    folder = Path(folder)
    layer = f"_{safe_stem(explanation.layer)}" if explanation.layer else ""  # maps differ by layer: so do names
    stem = (f"{safe_stem(Path(image_path).stem)}_{safe_stem(explanation.method)}{layer}"
            f"_{safe_stem(explanation.class_name)}")
    shown = ViewSettings(settings.opacity, settings.threshold, settings.colormap, settings.outline, "overlay")
    picture = draw_mask_outline(compose(image, explanation.heatmap, shown), mask_region)
    return [
        write_png(folder / f"{stem}_overlay.png", picture),
        save_heatmap(folder / f"{stem}_heatmap.png", explanation.heatmap),
        save_heatmap(folder / f"{stem}_heatmap.npy", explanation.heatmap),
    ]


def export_picture(folder: str | Path, name: str, picture: np.ndarray | None) -> list[Path]:
    """One grid picture as PNG (nothing when there is no picture)."""
    if picture is None:
        return []
    return [write_png(Path(folder) / f"{safe_stem(name)}.png", picture)]


def export_all(window, folder: str | Path) -> list[Path]:
    """Everything the window currently shows that can be exported, into `folder`."""
    written: list[Path] = []
    canvas = window.canvas
    if canvas.explanation is not None and canvas.image is not None:
        mask = getattr(window, "mask_overlay", None)
        written += export_explanation(folder, canvas.path or "image", canvas.image, canvas.explanation,
                                      canvas.settings, mask.shown_region if mask is not None else None)
    stem = safe_stem(Path(canvas.path or "image").stem)
    if window.compare.image_path() == canvas.path:  # a grid of another image is not this image's
        written += export_picture(folder, f"{stem}_compare", window.compare.grid_image())
    results = window.features.results
    if "activations" in results and results["activations"].path == canvas.path:
        written += export_picture(folder, f"{stem}_activations", results["activations"].image)
    if "filters" in results:
        written += export_picture(folder, "filter_patterns", results["filters"].image)
    if written:
        written.append(write_record(folder, stem, window, written))
    return written


def write_record(folder: str | Path, stem: str, window, written: list[Path]) -> Path:
    """`<image>_export.json`: what each exported file shows (model, image, method, layer, class,
    parameters, view settings, grid captions), so the evidence can be reproduced."""
    canvas, results = window.canvas, window.features.results
    info = window.controller.info
    record = {
        "model": info.path if info is not None else None,
        "image": canvas.path,
        "explanation": canvas.explanation.to_json() if canvas.explanation is not None else None,
        "view": asdict(canvas.settings),
        "compare": {"mode": window.compare.mode(), "scope": window.compare.scope, "tiles": window.compare.captions()}
        if window.compare.image_path() == canvas.path else None,
        "activations": results["activations"].caption if "activations" in results else None,
        "filter_patterns": results["filters"].caption if "filters" in results else None,
        "files": [p.name for p in written],
    }
    path = Path(folder) / f"{stem}_export.json"
    path.write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return path
