"""Defect annotations as labelling tools write them, read into one model (no Qt).

Readers: LabelMe JSON, Pascal VOC XML and YOLO txt beside each image (or in a folder laid out
like the images), COCO JSON and CVAT for images XML for a whole lot. Every reader returns an
:class:`Annotation` of :class:`Region` objects (label, kind, geometry); :func:`rasterise`
turns regions into a class-index mask; :class:`Annotator` finds an image's ground truth
(pixel masks first) as a :class:`FoundMask`. :func:`write_labelme` saves drawn regions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.lazy_names import lazy_exports

if TYPE_CHECKING:
    from engine.annotations.coco import CocoIndex, read_coco
    from engine.annotations.cvat import read_cvat
    from engine.annotations.labelme import is_ours, read_labelme, write_labelme
    from engine.annotations.labels import LabelMapError, LabelResolver, parse_label_map
    from engine.annotations.regions import (
        BOX,
        ELLIPSE,
        KINDS,
        PIXEL,
        POLYGON,
        Annotation,
        AnnotationError,
        Region,
        coarsest,
        rasterise,
    )
    from engine.annotations.source import (
        SKIPPED_NOTE,
        UNKNOWN_NOTE,
        Annotator,
        FoundMask,
        read_index,
    )
    from engine.annotations.voc import read_voc
    from engine.annotations.yolo import class_names_for, read_yolo

# Each name is imported from its module at its first use (PEP 562): importing one light
# submodule (the window needs a few at start-up) does not load every reader and OpenCV.
_MODULES = {
    "engine.annotations.coco": ("CocoIndex", "read_coco"),
    "engine.annotations.cvat": ("read_cvat",),
    "engine.annotations.labelme": ("is_ours", "read_labelme", "write_labelme"),
    "engine.annotations.labels": ("LabelMapError", "LabelResolver", "parse_label_map"),
    "engine.annotations.regions": (
        "BOX", "ELLIPSE", "KINDS", "PIXEL", "POLYGON", "Annotation", "AnnotationError", "Region", "coarsest",
        "rasterise",
    ),
    "engine.annotations.source": ("SKIPPED_NOTE", "UNKNOWN_NOTE", "Annotator", "FoundMask", "read_index"),
    "engine.annotations.voc": ("read_voc",),
    "engine.annotations.yolo": ("class_names_for", "read_yolo"),
}

__all__ = [
    "BOX", "ELLIPSE", "KINDS", "PIXEL", "POLYGON", "SKIPPED_NOTE", "UNKNOWN_NOTE", "Annotation", "AnnotationError",
    "Annotator", "CocoIndex", "FoundMask", "LabelMapError", "LabelResolver", "Region", "class_names_for", "coarsest",
    "is_ours", "parse_label_map", "rasterise", "read_coco", "read_cvat", "read_index", "read_labelme", "read_voc",
    "read_yolo", "write_labelme",
]

__getattr__ = lazy_exports(__name__, _MODULES, globals())
