"""Encoded image bytes for the image-reading tests."""

from __future__ import annotations

import io

import cv2
import numpy as np
import tifffile


def encode(ext: str, array: np.ndarray, params: list[int] | None = None) -> bytes:
    """`array` encoded by OpenCV in the format of `ext` (".png", ".jpg", ...)."""
    ok, buf = cv2.imencode(ext, array, params or [])
    assert ok, f"OpenCV could not encode {ext}"
    return buf.tobytes()


def tiff_bytes(array: np.ndarray, **kwargs) -> bytes:
    """`array` written as a TIFF by tifffile (keeps 16-bit, float and BigTIFF options)."""
    out = io.BytesIO()
    tifffile.imwrite(out, array, **kwargs)
    return out.getvalue()
