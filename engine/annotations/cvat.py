"""CVAT for images 1.1 XML (one file for a lot, `batch --annotations FILE.xml`): per `image`
(its `name` relative to the images folder, `width`, `height`), `box` (xtl, ytl, xbr, ybr),
`polygon` (points "x,y;x,y"), `ellipse` (cx, cy, rx, ry) and `mask` (`rle`: comma-separated
run lengths, background first, row-major inside its left/top/width/height box).
Polylines, points and tags have no area and are not regions."""

from __future__ import annotations

import os
from xml.etree.ElementTree import Element

import numpy as np

from engine.annotations.regions import CVAT, Annotation, AnnotationError, Region
from engine.annotations.xmlsafe import number, parse_xml


def read_cvat(path: str | os.PathLike) -> dict[str, Annotation]:
    """{image name (posix, relative): its annotation}; AnnotationError for a malformed file."""
    name = os.fspath(path)
    root = parse_xml(path)
    if root.tag != "annotations":
        raise AnnotationError(f"{name}: not a CVAT for images file (root <{root.tag}>, not <annotations>)")
    found: dict[str, Annotation] = {}
    for image in root.iter("image"):
        where = f"{name}: image {image.get('name')!r}"
        if not image.get("name"):
            raise AnnotationError(f"{name}: an <image> has no name")
        size = (int(number(image, "height", where)), int(number(image, "width", where)))
        regions = tuple(r for child in image if (r := _region(child, where)) is not None)
        found[image.get("name", "").replace("\\", "/")] = Annotation(CVAT, regions, size)
    return found


def _region(element: Element, where: str) -> Region | None:
    label = element.get("label")
    if element.tag not in ("box", "polygon", "ellipse", "mask"):
        return None
    if not label:
        raise AnnotationError(f"{where}: a <{element.tag}> has no label")
    value = lambda tag: number(element, tag, f"{where}, {element.tag}")  # noqa: E731
    if element.tag == "box":
        return Region.box(label, value("xtl"), value("ytl"), value("xbr"), value("ybr"))
    if element.tag == "ellipse":
        return Region.ellipse(label, value("cx"), value("cy"), value("rx"), value("ry"))
    if element.tag == "polygon":
        return Region.polygon(label, _points(element.get("points", ""), where))
    left, top, width, height = (int(value(t)) for t in ("left", "top", "width", "height"))
    return Region.pixels(label, _decode_rle(element.get("rle", ""), height, width, where), left, top)


def _points(text: str, where: str) -> list[tuple[float, float]]:
    try:
        points = [(float(x), float(y)) for x, y in (pair.split(",") for pair in text.split(";") if pair)]
    except ValueError:
        raise AnnotationError(f"{where}: polygon points {text[:40]!r} are not 'x,y;x,y'") from None
    if len(points) < 3:
        raise AnnotationError(f"{where}: a polygon needs 3 points, has {len(points)}")
    return points


def _decode_rle(text: str, height: int, width: int, where: str) -> np.ndarray:
    try:
        counts = np.array([int(c) for c in text.split(",")], np.int64)
    except ValueError:
        raise AnnotationError(f"{where}: mask rle {text[:40]!r} is not comma-separated counts") from None
    if counts.sum() != height * width or (counts < 0).any():
        raise AnnotationError(f"{where}: mask rle covers {counts.sum()} pixels, its box {height}x{width}")
    values = np.arange(len(counts)) % 2  # runs alternate, background first
    return np.repeat(values, counts).astype(bool).reshape(height, width)
