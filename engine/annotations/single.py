"""One image's ground truth as the window uses it (the mask line, the Trust tab): the same
search as a review (pixel masks first, then LabelMe, VOC or YOLO files beside the image), so a
region drawn and saved in the window counts at once."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from engine.annotations.source import Annotator, FoundMask


@lru_cache(maxsize=8)
def _annotator(root: str, class_names: tuple[str, ...]) -> Annotator:
    return Annotator(root, class_names)


def image_ground_truth(image_path: str | os.PathLike, height: int, width: int, class_names: tuple[str, ...],
                       root: str | os.PathLike | None = None) -> FoundMask | None:
    """The image's FoundMask at (height, width), None when it has none. `root`: the folder the
    image was opened from (None: any folder, as for a single image). Raises AnnotationError for
    a malformed annotation file, ConvScopeError for an unreadable mask."""
    image = Path(image_path)
    top = Path(root) if root else Path(image.resolve().anchor)  # the anchor: every folder is inside it
    return _annotator(str(top), tuple(class_names)).find(image, height, width)
