"""YOLO txt (`<stem>.txt` beside the image, or laid out like the images under
`--annotations FOLDER`): one region per line, "class cx cy w h" (a box) or
"class x1 y1 x2 y2 x3 y3 ..." (the segmentation polygon form), coordinates normalised to
0..1 of the image's width and height. Class names come from `classes.txt` (one per line,
line number = class id) or a `data.yaml` (`names:` a list or an {id: name} mapping), the
first found in the txt's folder or above it; without either, a class id is its own label
(reported as unknown unless mapped: `--label-map '1=scratch'`)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import yaml

from engine.annotations.regions import YOLO, Annotation, AnnotationError, Region

CLASS_FILES = ("classes.txt", "data.yaml", "data.yml")


def read_yolo(path: str | os.PathLike, height: int, width: int, names: tuple[str, ...] = ()) -> Annotation:
    """The regions of a YOLO txt for an image of (height, width); AnnotationError when malformed."""
    name = os.fspath(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{name}: cannot read ({exc})") from None
    regions = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            regions.append(_region(line.split(), height, width, names, f"{name}: line {number}"))
    return Annotation(YOLO, tuple(regions), None)


def _region(fields: list[str], height: int, width: int, names: tuple[str, ...], where: str) -> Region:
    try:
        class_id, values = int(fields[0]), [float(v) for v in fields[1:]]
    except ValueError:
        raise AnnotationError(f"{where}: {' '.join(fields)[:40]!r} is not 'class cx cy w h'") from None
    label = names[class_id] if 0 <= class_id < len(names) else str(class_id)
    if len(values) == 4:
        cx, cy, w, h = values
        return Region.box(label, (cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width,
                          (cy + h / 2) * height)
    if len(values) >= 6 and len(values) % 2 == 0:
        return Region.polygon(label, [(x * width, y * height) for x, y in zip(values[::2], values[1::2], strict=True)])
    raise AnnotationError(f"{where}: {len(values)} numbers after the class, not 4 (a box) or an even 6+ (a polygon)")


def class_names_for(txt: str | os.PathLike, top: str | os.PathLike) -> tuple[str, ...]:
    """The class names of a YOLO txt: the first classes.txt / data.yaml in its folder or a
    parent, up to one folder above `top`; () when there is none."""
    folder, limit = Path(txt).resolve().parent, Path(top).resolve().parent
    while True:
        for file_name in CLASS_FILES:
            if (folder / file_name).is_file():
                return _read_names(folder / file_name)
        if folder == limit or folder.parent == folder:
            return ()
        folder = folder.parent


@lru_cache(maxsize=64)
def _read_names(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".txt":
            return tuple(line.strip() for line in text.splitlines() if line.strip())
        names = (yaml.safe_load(text) or {}).get("names")
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError) as exc:
        raise AnnotationError(f"{path}: cannot read the class names ({str(exc).splitlines()[0]})") from None
    if isinstance(names, dict):
        return tuple(str(names.get(i, names.get(str(i), i))) for i in range(max(map(int, names)) + 1))
    if isinstance(names, list):
        return tuple(str(n) for n in names)
    raise AnnotationError(f"{path}: no 'names' list or mapping")
