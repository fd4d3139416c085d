"""One image's ground truth as the window uses it (the mask line, the Trust tab): the same
search as a review (pixel masks first, then LabelMe, VOC or YOLO files beside the image), so a
region drawn and saved in the window counts at once."""

from __future__ import annotations

import os
from pathlib import Path

from engine.annotations.source import Annotator, FoundMask


def image_ground_truth(image_path: str | os.PathLike, height: int, width: int, class_names: tuple[str, ...],
                       root: str | os.PathLike | None = None) -> FoundMask | None:
    """The image's FoundMask at (height, width), None when it has none. `root`: the folder the
    image was opened from (None: any folder, as for a single image). Raises AnnotationError for
    a malformed annotation file, ConvScopeError for an unreadable mask."""
    image = Path(image_path)
    top = Path(root) if root else Path(image.resolve().anchor)  # the anchor: every folder is inside it
    # a new Annotator each time: one keeps its folder listings, and a region saved a moment ago must count
    return Annotator(top, tuple(class_names)).find(image, height, width)
