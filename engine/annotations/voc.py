"""Pascal VOC XML (`<stem>.xml` beside the image), as LabelImg writes it: one `object` per
region with its `name` and a `bndbox` of 1-based, inclusive pixel coordinates
(xmin=1, xmax=10 is the image's first ten columns)."""

from __future__ import annotations

import os

from engine.annotations.regions import VOC, Annotation, AnnotationError, Region
from engine.annotations.xmlsafe import number, parse_xml


def read_voc(path: str | os.PathLike) -> Annotation:
    """The boxes of a VOC file; AnnotationError naming the file when it is malformed."""
    name = os.fspath(path)
    root = parse_xml(path)
    if root.tag != "annotation":
        raise AnnotationError(f"{name}: not a Pascal VOC file (root <{root.tag}>, not <annotation>)")
    regions = []
    for index, item in enumerate(root.iter("object"), 1):
        label, box = item.findtext("name"), item.find("bndbox")
        if not label or box is None:
            raise AnnotationError(f"{name}: object {index} has no name or no bndbox")
        where = f"{name}: object {index}"
        x0, y0, x1, y1 = (number(box, tag, where) for tag in ("xmin", "ymin", "xmax", "ymax"))
        if x1 < x0 or y1 < y0:
            raise AnnotationError(f"{where}: xmax/ymax lie before xmin/ymin")
        regions.append(Region.box(label.strip(), x0 - 1, y0 - 1, x1, y1))
    return Annotation(VOC, tuple(regions), _size(root, name))


def _size(root, name: str) -> tuple[int, int] | None:
    size = root.find("size")
    if size is None or size.find("width") is None or size.find("height") is None:
        return None
    height, width = int(number(size, "height", name)), int(number(size, "width", name))
    return (height, width) if height > 0 and width > 0 else None
