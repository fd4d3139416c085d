"""Reading images from files or bytes with OpenCV, keeping 16-bit and float precision.

Every failure (missing, empty, truncated, corrupt, not an image, too large) is an
:class:`ImageLoadError` with a one-line reason; cv2 exceptions and ``None`` never leak.
"""

from __future__ import annotations

import os
import pathlib
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from engine import memory
from engine.errors import ImageLoadError
from engine.images.headers import header_size, jpeg_scan

MAX_PIXELS: int = 120_000_000
# A file this large cannot hold an image within MAX_PIXELS in any sane encoding.
MAX_FILE_BYTES: int = MAX_PIXELS * 16
# Peak bytes per pixel while decoding: the decoded array (up to 4 x float32), its float
# copy, the RGB float copy and the 8-bit display copy. Refused when above what is free.
DECODE_BYTES_PER_PIXEL: int = 48

IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".jp2"}
)
_MASK_STEM_ENDINGS = ("_mask", "_label")
_MASK_FOLDERS = frozenset({"ground_truth", "label"})


@dataclass(frozen=True)
class LoadedImage:
    """A decoded image: an 8-bit display copy and a full-precision float copy, both RGB."""

    path: str
    display: np.ndarray
    pixels: np.ndarray
    gray_source: bool
    source_dtype: str
    significant_bits: int

    @property
    def height(self) -> int:
        """Rows of the (orientation-corrected) image."""
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        """Columns of the (orientation-corrected) image."""
        return int(self.pixels.shape[1])


# ---------------------------------------------------------------- header sizes


def _check_size(name: str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageLoadError(f"{name}: image has zero size ({width} x {height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageLoadError(
            f"{name}: image is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels),"
            f" more than the {MAX_PIXELS / 1e6:.0f}-megapixel limit"
        )


def _check_memory(name: str, width: int, height: int) -> None:
    """Before decoding: refuse an image whose decoding would need more memory than is free."""
    needed, available = width * height * DECODE_BYTES_PER_PIXEL, memory.available_bytes()
    if available is not None and needed > available:
        raise ImageLoadError(
            f"{name}: image is {width} x {height} pixels; decoding it needs about"
            f" {needed / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB of memory is available"
        )


# ---------------------------------------------------------------- pixel conversion


def _scale_to_255(raw: np.ndarray, bit_depth: int | None = None) -> tuple[np.ndarray, int]:
    """Float32 copy on a 0..255 scale, and the number of significant bits of the source.
    16-bit data: `bit_depth` (1..16) when given, else 12 when the maximum is <= 4095."""
    if raw.dtype == np.uint8:
        return raw.astype(np.float32), 8
    if raw.dtype == np.bool_:
        return raw.astype(np.float32) * 255.0, 1
    if raw.dtype == np.uint16:
        bits = bit_depth or (12 if int(raw.max()) <= 4095 else 16)
        return raw.astype(np.float32) * np.float32(255.0 / (2**bits - 1)), bits
    values: np.ndarray = raw.astype(np.float64 if raw.dtype.itemsize > 4 else np.float32)
    finite = np.isfinite(values)
    lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0, 0)
    if lo >= 0.0 and hi <= 1.0:
        values = values * 255.0  # the usual convention for float images in 0..1
    elif lo < 0.0 or hi > 255.0:
        values = (values - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(values)
    values[~finite] = 0.0
    np.clip(values, 0.0, 255.0, out=values)  # float32 overflow of extreme ranges
    return values.astype(np.float32), raw.dtype.itemsize * 8


def _to_rgb(scaled: np.ndarray) -> tuple[np.ndarray, bool]:
    """(H, W, 3) RGB float from 1/2/3/4-channel data; alpha is composited on white."""
    channels = scaled.shape[2]
    if channels not in (1, 2, 3, 4):
        raise ImageLoadError(f"unsupported number of channels ({channels})")
    color = scaled[..., : 1 if channels <= 2 else 3]
    if channels in (2, 4):
        alpha = np.clip(scaled[..., -1:], 0.0, 255.0) / 255.0
        color = color * alpha + 255.0 * (1.0 - alpha)
    if channels <= 2:
        return np.repeat(color, 3, axis=2), True
    return np.ascontiguousarray(color[..., ::-1]), False


def _from_decoded(raw: np.ndarray, name: str, bit_depth: int | None = None) -> LoadedImage:
    if raw.ndim == 2:
        raw = raw[:, :, None]
    _check_size(name, raw.shape[1], raw.shape[0])
    scaled, bits = _scale_to_255(raw, bit_depth)
    try:
        pixels, gray = _to_rgb(scaled)
    except ImageLoadError as exc:
        raise ImageLoadError(f"{name}: {exc}") from None
    pixels = pixels.astype(np.float32, copy=False)
    display = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return LoadedImage(name, display, pixels, gray, str(raw.dtype), bits)


# ---------------------------------------------------------------- public API

_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved: tuple[int | None, int | None] = (None, None)


def _silence() -> tuple[int | None, int | None]:
    """Mute OpenCV's log and native stderr (fd 2); return what restores them."""
    import cv2
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    level = None
    if log is not None:
        level = log.getLogLevel()
        log.setLogLevel(log.LOG_LEVEL_SILENT)
    saved = None
    try:
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    try:
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:  # no stderr at all (a windowed app): nothing to mute
        if saved is not None:
            os.close(saved)
        saved = None
    return level, saved


def _restore(level: int | None, saved: int | None) -> None:
    import cv2
    if saved is not None:
        os.dup2(saved, 2)
        os.close(saved)
    if level is not None:
        cv2.utils.logging.setLogLevel(level)


@contextmanager
def _decoder_quiet() -> Iterator[None]:
    """While decoding, mute what codecs print themselves (OpenCV's log, libtiff warnings,
    "libpng error: ...", libjpeg's "Corrupt JPEG data"): a bad file is reported once, as
    the ImageLoadError's line. Reference-counted, so concurrent decodes are safe; other
    threads' native stderr is muted for the same short time."""
    global _quiet_depth, _quiet_saved
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = _silence()
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                _restore(*_quiet_saved)
                _quiet_saved = (None, None)


def _decode(data: bytes, name: str, bit_depth: int | None = None) -> LoadedImage:
    import cv2
    if len(data) == 0:
        raise ImageLoadError(f"{name}: file is empty")
    try:
        fmt, size = header_size(data)
    except (struct.error, ValueError, IndexError):
        raise ImageLoadError(f"{name}: truncated or corrupt image header") from None
    if size is not None:
        _check_size(name, *size)
        _check_memory(name, *size)
    if fmt == "JPEG" and data.find(b"\xff\xd9", max(jpeg_scan(data)[1], 0)) < 0:
        raise ImageLoadError(f"{name}: truncated JPEG (no end-of-image marker)")
    # JPEG: ANYDEPTH|ANYCOLOR applies EXIF orientation and converts CMYK to BGR.
    # Others: UNCHANGED keeps alpha, 16-bit and float (cv2 ignores orientation there).
    flags = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR if fmt == "JPEG" else cv2.IMREAD_UNCHANGED
    with _decoder_quiet():
        raw = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flags)
    if raw is None or raw.size == 0:
        what = f"corrupt or truncated {fmt} data" if fmt else "not a readable image"
        raise ImageLoadError(f"{name}: {what}")
    return _from_decoded(raw, name, bit_depth)


def decode_image(data: bytes, name: str = "<bytes>", bit_depth: int | None = None) -> LoadedImage:
    """Decode encoded image bytes (any format cv2 reads) into a :class:`LoadedImage`.

    ``pixels`` keeps full precision: 8-bit data as is, 16-bit scaled by 2**bit_depth - 1
    (without ``bit_depth``: by 4095 when the maximum is <= 4095, reported as 12 significant
    bits, else by 65535), float data in 0..1
    times 255, float or signed data already within 0..255 as is, anything else stretched
    from its finite min..max to 0..255 (NaN and inf become 0). Alpha is composited on
    white. EXIF orientation is applied to JPEG. Only :class:`ImageLoadError` is raised.
    """
    try:
        return _decode(bytes(data), name, bit_depth)
    except ImageLoadError:
        raise
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to decode the image") from None
    except Exception as exc:  # cv2.error and anything a malformed file may provoke
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ImageLoadError(f"{name}: cannot decode image ({reason})") from None


def load_image(path: str | os.PathLike, bit_depth: int | None = None) -> LoadedImage:
    """Read and decode an image file; every failure is an ImageLoadError naming the file.

    The file is read as bytes in Python (so non-ASCII and space paths work on every OS)
    and decoded with ``cv2.imdecode``; see :func:`decode_image` for the conversion.
    """
    name = os.fspath(path)
    file = pathlib.Path(name)
    try:
        if file.is_dir():
            raise ImageLoadError(f"{name}: is a folder, not an image")
        if not file.is_file():
            raise ImageLoadError(f"{name}: file not found")
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ImageLoadError(f"{name}: file is too large ({file.stat().st_size} bytes)")
        data = file.read_bytes()
    except OSError as exc:
        raise ImageLoadError(f"{name}: cannot read file ({exc.strerror or exc})") from None
    return decode_image(data, name, bit_depth)


def _is_mask(relative: pathlib.PurePath) -> bool:
    if relative.stem.lower().endswith(_MASK_STEM_ENDINGS):
        return True
    folders = relative.parts[:-1]
    return any(p.lower() in _MASK_FOLDERS or p.startswith(".") for p in folders)


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[pathlib.Path]:
    """Image files under ``folder``, sorted; mask/label files and hidden files are skipped.

    Skipped: names ending in ``_mask`` or ``_label`` before the suffix, anything under a
    folder named ``ground_truth`` or ``Label`` (any case), and names starting with ".".
    """
    root = pathlib.Path(folder)
    if not root.is_dir():
        raise ImageLoadError(f"{os.fspath(folder)}: folder not found")
    candidates = root.rglob("*") if recursive else root.iterdir()
    found = []
    for path in candidates:
        relative = path.relative_to(root)
        if path.suffix.lower() not in IMAGE_SUFFIXES or path.name.startswith("."):
            continue
        if not _is_mask(relative) and path.is_file():
            found.append(path)
    return sorted(found)


def label_from_path(path: str | os.PathLike, root: str | os.PathLike) -> str | None:
    """Name of the first sub-folder of ``root`` that holds ``path``; None if directly in root."""
    file, base = pathlib.Path(path), pathlib.Path(root)
    try:
        parts = file.relative_to(base).parts
    except ValueError:
        try:
            parts = file.resolve().relative_to(base.resolve()).parts
        except (ValueError, OSError):
            return None
    return parts[0] if len(parts) >= 2 else None
