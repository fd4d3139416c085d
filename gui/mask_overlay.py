"""Ground truth on the heatmap canvas: when the current image has a defect mask, a line with
the localisation scores of the map shown (pointing hit, energy inside, IoU; the same
engine.review.image_metrics as `convscope batch`) and an optional mask outline.

Masks are small files read on the GUI thread (numpy and OpenCV only, no TensorFlow)."""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from engine.errors import ConvScopeError
from engine.review import class_mask, fit_mask, image_metrics
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

OUTLINE_PEN = (64, 255, 160)
CACHE_LIMIT = 64


def mask_outline(region: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and connect arrays of the region's closed contours (pixel centres), for a PlotCurveItem."""
    import cv2
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    xs, ys, links = [], [], []
    for contour in contours:
        points = contour[:, 0, :].astype(np.float64) + 0.5
        points = np.vstack([points, points[:1]])
        xs.append(points[:, 0])
        ys.append(points[:, 1])
        link = np.ones(len(points), bool)
        link[-1] = False
        links.append(link)
    if not xs:
        return np.zeros(0), np.zeros(0), np.zeros(0, bool)
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(links)


def metrics_text(metrics, class_name: str) -> str:
    """One line of localisation scores."""
    if not metrics.has_mask:
        return "Mask: empty for this class, no localisation scores"
    hit = "✓ hit" if metrics.pointing_hit else "✗ miss"
    mode = "class pixels" if metrics.mask_mode == "class" else "all mask pixels"
    return (f"Mask vs map of {class_name} ({mode}): pointing {hit} · energy inside {metrics.energy_inside:.3f}"
            f" · IoU {metrics.iou:.3f}")


class MaskOverlay(QObject):
    """The metrics line and the outline for the canvas's current image and explanation."""

    def __init__(self, canvas, class_names=lambda: (), root=lambda: "", outline: bool = True) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.class_names = class_names
        self.root = root
        self.toggle = QCheckBox("Show mask outline")
        self.toggle.setToolTip("Draw the ground-truth defect mask's contour over the image")
        self.toggle.setChecked(outline)
        self.toggle.toggled.connect(lambda _on: self.update())
        self.label = QLabel()
        self.label.setStyleSheet("padding: 0 6px;")
        self.label.setWordWrap(True)  # the whole line (with its IoU) on a narrow canvas
        self.label.setToolTip("Pointing: the map's peak lies on the mask (within 15 px). Energy inside: share of "
                              "the map inside the mask. IoU: overlap of the map's region >= 0.5 with the mask. "
                              "The same figures as “python main.py batch”.")
        self.row = QWidget()
        layout = QHBoxLayout(self.row)
        layout.setContentsMargins(6, 0, 6, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.toggle)
        canvas.layout().insertWidget(1, self.row)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(OUTLINE_PEN, width=2))
        self.curve.setZValue(10)
        canvas.view.addItem(self.curve)
        self.metrics = None
        self.shown_region: np.ndarray | None = None  # the outlined mask region (image resolution)
        self._cache: OrderedDict[tuple, tuple[np.ndarray | None, str]] = OrderedDict()
        self.row.hide()

    def mask(self, path: str, height: int, width: int) -> tuple[np.ndarray | None, str]:
        """The image's ground truth at (height, width): a pixel mask, or the regions of a LabelMe,
        VOC or YOLO file beside it (None if it has none), and an error text for an unreadable one."""
        try:
            key = (path, os.stat(path).st_mtime_ns, self.root(), tuple(self.class_names()), height, width)
        except OSError:
            return None, ""
        if key not in self._cache:
            # every annotation reader: imported when idle after the first paint (gui.app), not before it
            from engine.annotations.single import image_ground_truth

            try:
                found = image_ground_truth(path, height, width, key[3], self.root() or None)
                self._cache[key] = (None if found is None else found.mask, "")
            except ConvScopeError as exc:
                self._cache[key] = (None, f"mask unreadable: {exc}")
            while len(self._cache) > CACHE_LIMIT:
                self._cache.popitem(last=False)
        return self._cache[key]

    def forget(self) -> None:
        """Read the masks again (regions were drawn or saved)."""
        self._cache.clear()

    def update(self) -> None:
        """Recompute for what the canvas shows now."""
        canvas = self.canvas
        self.metrics = None
        self.shown_region = None
        self.curve.setData([], [])
        shown = canvas.path and canvas.image is not None
        mask, error = self.mask(canvas.path, *canvas.image.shape[:2]) if shown else (None, "")
        if mask is None:
            self.label.setText(error)
            self.row.setVisible(bool(error))
            return
        self.row.show()
        names = tuple(self.class_names())
        explanation = canvas.explanation
        if explanation is None:
            self.label.setText("This image has a defect mask: scores follow the map")
            region = fit_mask(mask, *canvas.image.shape[:2]) > 0
        else:
            heatmap = explanation.heatmap
            fitted = fit_mask(mask, *heatmap.shape[:2])
            self.metrics = image_metrics(heatmap, fitted, explanation.class_index, num_classes=len(names) or None)
            self.label.setText(metrics_text(self.metrics, explanation.class_name))
            display = fit_mask(mask, *canvas.image.shape[:2])
            region = class_mask(display, explanation.class_index, len(names) or None)[0]
        if self.toggle.isChecked() and region.any():
            self.shown_region = region
            x, y, connect = mask_outline(region)
            self.curve.setData(x, y, connect=connect)
