"""Ground-truth defect masks: finding them beside images and reading them.

Three layouts are recognised, tried in this order for an image ``<dir>/<stem>.<ext>``:

1. ConvScope / generic: ``<dir>/<stem>_mask.<ext>`` beside the image;
2. DAGM 2007: ``<dir>/Label/<stem>_label.PNG`` (a ``Label`` folder beside the images);
3. MVTec AD: ``<category>/ground_truth/<defect>/<stem>_mask.png`` for the image
   ``<category>/test/<defect>/<stem>.png``, when that ``test`` folder is the review root
   or inside it.

Name matching accepts the usual case variants (``Label``/``label``, ``.png``/``.PNG``).

A mask is binary (non-zero = defect) except for class-index masks (the demo's): when
every non-zero value is a class index 1..num_classes-1 and the explained class's value is
present, only the pixels holding that value count (see :func:`class_mask`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.errors import ImageLoadError

_MASK_SUFFIXES = (".png", ".PNG", ".bmp", ".BMP", ".tif", ".tiff", ".jpg")
_LABEL_FOLDERS = ("Label", "label", "LABEL")


def _suffixes(image: Path) -> list[str]:
    return list(dict.fromkeys([image.suffix, *_MASK_SUFFIXES]))


def _first_file(candidates: list[Path], exists: Callable[[Path], bool] = Path.is_file) -> Path | None:
    return next((path for path in candidates if exists(path)), None)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except (ValueError, OSError):
        return False


def find_mask(image_path: str | os.PathLike, root: str | os.PathLike | None = None) -> Path | None:
    """The mask file of an image in one of the three layouts, or None."""
    found = find_mask_source(image_path, root)
    return None if found is None else found[0]


def find_mask_source(image_path: str | os.PathLike, root: str | os.PathLike | None = None,
                     exists: Callable[[Path], bool] = Path.is_file) -> tuple[Path, str] | None:
    """The mask file of an image and its layout ("mask", "dagm" or "mvtec"), or None.

    `exists(path)` says whether a candidate file exists (a caller with folder listings at hand
    saves the dozens of stat calls the name variants take)."""
    image = Path(image_path)
    stem, folder = image.stem, image.parent
    beside = [folder / f"{stem}_mask{s}" for s in _suffixes(image)]
    dagm = [folder / f"{d}/{stem}_label{s}" for d in _LABEL_FOLDERS for s in _suffixes(image)]
    for candidates, layout in ((beside, "mask"), (dagm, "dagm")):
        found = _first_file(candidates, exists)
        if found is not None:
            return found, layout
    test = folder.parent
    if test.name.lower() == "test" and (root is None or _inside(test, Path(root))):
        truth = test.parent / "ground_truth" / folder.name
        found = _first_file([truth / f"{stem}_mask{s}" for s in _suffixes(image)], exists)
        return None if found is None else (found, "mvtec")
    return None


# What a layout's masks trace: DAGM 2007's labels are coarse ellipses drawn around each defect,
# the others follow the defect pixel by pixel.
LAYOUT_KINDS = {"mask": "pixel", "dagm": "ellipse", "mvtec": "pixel"}


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """A mask file as a 2-D integer array with its values kept (colour masks: channel max)."""
    import cv2
    name = os.fspath(path)
    try:
        data = np.fromfile(name, dtype=np.uint8)
        mask = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    except (OSError, cv2.error) as exc:
        raise ImageLoadError(f"{name}: cannot read mask ({exc})") from None
    if mask is None or mask.size == 0:
        raise ImageLoadError(f"{name}: not a readable mask image")
    if mask.ndim == 3:
        mask = mask.max(axis=2)
    if not np.issubdtype(mask.dtype, np.integer):
        mask = (np.nan_to_num(mask) > 0).astype(np.uint8)
    return mask


def load_mask(image_path: str | os.PathLike, root: str | os.PathLike | None = None) -> np.ndarray | None:
    """The ground-truth mask of an image (values kept, 2-D), or None when it has none.

    An unreadable mask file raises :class:`ImageLoadError`.
    """
    path = find_mask(image_path, root)
    return None if path is None else read_mask(path)


def fit_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """The mask at (height, width), nearest-neighbour so class values stay exact."""
    import cv2
    if mask.shape[:2] == (height, width):
        return mask
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)


def is_class_mask(mask: np.ndarray, class_index: int, num_classes: int | None = None) -> bool:
    """True when `mask` holds class indices and `class_index` is one of them.

    That is: the class is a defect class (>= 1), its value occurs in the mask, and no
    value exceeds num_classes - 1 (254 when the class count is unknown, so 0/255 masks
    are always binary).
    """
    if class_index < 1:
        return False
    top = (num_classes - 1) if num_classes is not None else 254
    if class_index > top:
        return False
    highest = int(mask.max(initial=0))
    return highest <= top and bool(np.any(mask == class_index))


def class_mask(mask: np.ndarray, class_index: int, num_classes: int | None = None) -> tuple[np.ndarray, str]:
    """The boolean defect region used to score an explanation of `class_index`, and its mode.

    Mode "class": only the pixels equal to `class_index` (a class-index mask, see
    :func:`is_class_mask`); mode "binary": every non-zero pixel.
    """
    if is_class_mask(mask, class_index, num_classes):
        return mask == class_index, "class"
    return mask > 0, "binary"
