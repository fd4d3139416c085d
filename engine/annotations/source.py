"""Finding an image's defect regions wherever a lot keeps them, as one class-index mask.

For an image ``<root>/<rel>/<stem>.<ext>``, in this order (the first found wins):

1. a pixel mask (`_mask` file, DAGM, MVTec: engine.review.masks);
2. with `annotations` = a COCO ``.json`` or CVAT ``.xml`` file: its entry for the image;
   with `annotations` = a folder: ``<annotations>/<rel>/<stem>.json|.xml|.txt``;
3. beside the image: ``<stem>.json`` (LabelMe), ``<stem>.xml`` (Pascal VOC), ``<stem>.txt`` (YOLO).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.annotations.coco import CocoIndex, read_coco
from engine.annotations.cvat import read_cvat
from engine.annotations.labelme import read_labelme
from engine.annotations.labels import LabelResolver
from engine.annotations.regions import Annotation, AnnotationError, coarsest, rasterise
from engine.annotations.voc import read_voc
from engine.annotations.yolo import class_names_for, read_yolo

UNKNOWN_NOTE = "labels not classes of the model, left out: "
SKIPPED_NOTE = "annotation skipped: "


@dataclass(frozen=True)
class FoundMask:
    """An image's ground truth: a class-index (or binary) mask at the image's size, where it
    came from, what it traces per class, and the labels that met no class."""

    mask: np.ndarray
    source: str  # labelme, voc, yolo, coco, cvat, mask, dagm, mvtec, drawn
    kinds: dict[int, str] = field(default_factory=dict)  # class index -> pixel, polygon, ellipse or box
    default_kind: str = "pixel"  # for a binary mask, or a class without regions of its own
    unknown: tuple[str, ...] = ()

    def kind_for(self, class_index: int | None) -> str:
        """What the region scored for `class_index` traces: that class's kind, else the coarsest
        kind of the mask (a binary mask counts every region)."""
        if class_index is not None and class_index in self.kinds:
            return self.kinds[class_index]
        return coarsest(list(self.kinds.values())) or self.default_kind

    def note(self) -> str:
        """The row note for labels left out ("" when none)."""
        return UNKNOWN_NOTE + ", ".join(self.unknown) if self.unknown else ""


def read_index(path: str | os.PathLike) -> CocoIndex | dict[str, Annotation]:
    """A lot's annotation file: COCO (.json) or CVAT for images (.xml); AnnotationError when malformed."""
    suffix = Path(path).suffix.lower()
    if not Path(path).is_file():
        raise AnnotationError(f"{os.fspath(path)}: no such annotation file or folder")
    if suffix == ".json":
        return read_coco(path)
    if suffix == ".xml":
        return read_cvat(path)
    raise AnnotationError(f"{os.fspath(path)}: not a COCO .json or CVAT .xml file (or a folder)")


class Annotator:
    """An image's FoundMask for one lot and one model's classes (thread-safe)."""

    def __init__(self, root: str | os.PathLike, class_names: Sequence[str], mapping: Mapping[str, str] | None = None,
                 annotations: str | os.PathLike | None = None) -> None:
        """Images under `root`; `annotations`: a COCO / CVAT file or a folder laid out like `root`.

        A malformed annotations file raises AnnotationError here, before any image is read.
        """
        self.root = Path(root)
        self.resolver = LabelResolver(class_names, mapping)
        self.folder = Path(annotations) if annotations is not None and Path(annotations).is_dir() else None
        self.index = read_index(annotations) if annotations is not None and self.folder is None else None
        self._listings: dict[Path, frozenset[str]] = {}  # folder -> its file names, listed once per review

    def fresh(self) -> None:
        """Forget the folder listings (files may have been added since the last review)."""
        self._listings = {}

    def exists(self, path: Path) -> bool:
        """Whether `path` names an entry of its folder, from one listing per folder (a lot has
        few folders and many images: one scandir instead of dozens of stat calls per image)."""
        folder = path.parent
        names = self._listings.get(folder)
        if names is None:
            try:
                names = frozenset(entry.name for entry in os.scandir(folder) if not entry.is_dir())
            except OSError:
                names = frozenset()
            self._listings[folder] = names
        return path.name in names

    def find(self, image_path: str | os.PathLike, height: int, width: int,
             relative: str | None = None) -> FoundMask | None:
        """The image's ground truth at (height, width), None when it has none (`relative`: the
        image's path relative to the root, posix, when the caller knows it).

        A malformed per-image file raises AnnotationError (the caller skips the image's mask).
        """
        # engine.review imports this package for its runner: imported here, not at the top
        from engine.review.masks import LAYOUT_KINDS, find_mask_source, fit_mask, read_mask

        image = Path(image_path)
        pixel = find_mask_source(image, self.root, self.exists)
        if pixel is not None:
            path, layout = pixel
            return FoundMask(fit_mask(read_mask(path), height, width), layout, default_kind=LAYOUT_KINDS[layout])
        annotation = self._annotation(image, height, width, Path(relative) if relative else self._relative(image))
        if annotation is None:
            return None
        regions = annotation.fitted(height, width)
        unknown = self.resolver.unknown([r.label for r in regions])
        mask, kinds = rasterise(regions, height, width, self.resolver.index)
        return FoundMask(mask, annotation.source, kinds, coarsest([r.kind for r in regions]) or "pixel",
                         tuple(unknown))

    def _relative(self, image: Path) -> Path:
        try:
            return image.relative_to(self.root)
        except ValueError:
            pass
        try:
            return image.resolve().relative_to(self.root.resolve())
        except ValueError:
            return Path(image.name)

    def _annotation(self, image: Path, height: int, width: int, relative: Path) -> Annotation | None:
        if isinstance(self.index, CocoIndex):
            found = self.index.annotation(relative.as_posix())
            if found is not None:
                return found
        elif self.index is not None:
            found = self.index.get(relative.as_posix()) or self.index.get(image.name)
            if found is not None:
                return found
        if self.folder is not None:
            found = self._beside(self.folder / relative, height, width, self.folder)
            if found is not None:
                return found
        return self._beside(image, height, width, self.root)

    def _beside(self, image: Path, height: int, width: int, top: Path) -> Annotation | None:
        stem = image.with_suffix("")
        if self.exists(labelme := stem.with_name(stem.name + ".json")):
            return read_labelme(labelme)
        if self.exists(voc := stem.with_name(stem.name + ".xml")):
            return read_voc(voc)
        if self.exists(yolo := stem.with_name(stem.name + ".txt")):
            return read_yolo(yolo, height, width, class_names_for(yolo, top))
        return None
