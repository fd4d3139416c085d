"""Thumbnails decoded and shrunk off the GUI thread (QThreadPool), delivered as QImages."""

from __future__ import annotations

import numpy as np
from engine.errors import ConvScopeError
from engine.images.decoding import load_image
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

THUMB_SIZE = 48


def to_qimage(rgb: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 RGB array as a QImage that owns its pixels."""
    rgb = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


def thumbnail(path: str, size: int = THUMB_SIZE) -> np.ndarray:
    """The image shrunk so its longer side is `size` pixels (cv2 INTER_AREA)."""
    import cv2
    display = load_image(path).display
    height, width = display.shape[:2]
    scale = size / max(height, width)
    shape = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(display, shape, interpolation=cv2.INTER_AREA)


class _Signals(QObject):
    done = Signal(str, QImage)
    failed = Signal(str, str)


class _ThumbnailJob(QRunnable):
    def __init__(self, path: str, signals: _Signals) -> None:
        super().__init__()
        self.path = path
        self.signals = signals

    def run(self) -> None:
        try:
            image = to_qimage(thumbnail(self.path))
        except ConvScopeError as exc:
            self.signals.failed.emit(self.path, str(exc))
            return
        self.signals.done.emit(self.path, image)


class ThumbnailLoader(QObject):
    """Requests thumbnails once each; `loaded(path, QImage)` arrives on the GUI thread."""

    loaded = Signal(str, QImage)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._signals = _Signals()
        self._signals.done.connect(self.loaded)
        self._signals.failed.connect(self.failed)
        self._requested: set[str] = set()

    def request(self, path: str) -> None:
        """Start decoding `path` unless it was already requested."""
        if path in self._requested:
            return
        self._requested.add(path)
        self.pool.start(_ThumbnailJob(path, self._signals))

    def reset(self) -> None:
        """Forget requests (a new folder) and drop queued jobs."""
        self.pool.clear()
        self._requested.clear()

    def wait(self, ms: int = 5000) -> bool:
        """Wait for running jobs (tests, shutdown)."""
        return self.pool.waitForDone(ms)
