"""One result row per reviewed image, and its CSV form (written a batch at a time)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)  # slots: a big lot holds 100,000s of rows
class ReviewRow:
    """What the review found for one image. Metric fields are None without a usable mask."""

    path: str  # relative to the reviewed folder, with "/" separators
    label: str | None  # sub-folder name, None for images directly in the folder
    label_index: int | None  # the label's class index when it names a class
    predicted: str = ""
    predicted_index: int | None = None
    confidence: float | None = None  # probability of the predicted class
    correct: bool | None = None  # None when the label is not a class name
    explained: str = ""  # class whose map was computed
    explained_index: int | None = None
    peak_x: int | None = None
    peak_y: int | None = None
    mask: str = ""  # "class", "binary" or "" (no usable mask)
    pointing_hit: bool | None = None
    energy_inside: float | None = None
    iou: float | None = None
    width: int | None = None
    height: int | None = None
    empty_map: bool = False  # no positive evidence: the map is all zero
    note: str = ""  # for example an unreadable mask
    error: str = ""  # the image could not be reviewed (then most fields are empty)
    # Trust columns (engine.trust; `batch --trust`), empty without it; the last three also without a mask.
    deletion_auc: float | None = None  # area under the map's deletion curve (lower: more faithful)
    insertion_auc: float | None = None  # area under its insertion curve (higher: more faithful)
    random_deletion_auc: float | None = None  # the same for a random pixel order (the control)
    random_insertion_auc: float | None = None
    pixel_auroc: float | None = None  # the map as a per-pixel score against the mask
    removal_probability: float | None = None  # the explained class's probability with the defect painted out
    kept_after_removal: bool | None = None  # the explained class still predicted after removal
    flag: str = ""  # "clear", "off-defect", "survives-removal" or both (engine.trust.verdict); "" without a mask
    # Where the mask came from and what it traces (engine.annotations), "" without a mask.
    mask_source: str = ""  # labelme, voc, yolo, coco, cvat, mask, dagm, mvtec or drawn
    mask_kind: str = ""  # pixel, polygon, ellipse or box
    control_kept_after_removal: bool | None = None  # the class still predicted with the control painted out

    @property
    def has_mask(self) -> bool:
        """True when the localisation metrics were computed."""
        return self.pointing_hit is not None


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ReviewRow))
_INTS = {"label_index", "predicted_index", "explained_index", "peak_x", "peak_y", "width", "height"}
_FLOATS = {"confidence", "energy_inside", "iou", "deletion_auc", "insertion_auc", "random_deletion_auc",
           "random_insertion_auc", "pixel_auroc", "removal_probability"}
_BOOLS = {"correct", "pointing_hit", "empty_map", "kept_after_removal", "control_kept_after_removal"}
TRUST_COLUMNS: tuple[str, ...] = ("deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc",
                                  "pixel_auroc", "removal_probability", "kept_after_removal", "flag",
                                  "control_kept_after_removal")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _parse(name: str, text: str) -> Any:
    if name in _INTS:
        return int(text) if text != "" else None
    if name in _FLOATS:
        return float(text) if text != "" else None
    if name in _BOOLS:
        return None if text == "" and name != "empty_map" else text == "1"
    if name == "label":
        return text or None
    return text


def row_to_cells(row: ReviewRow) -> list[str]:
    """The CSV cells of a row, in COLUMNS order (booleans as 1/0, None as empty)."""
    return [_cell(getattr(row, name)) for name in COLUMNS]  # not asdict: it deep-copies every value


def row_from_cells(record: dict[str, str]) -> ReviewRow:
    """A row back from a CSV record; raises ValueError for a malformed record."""
    if any(record.get(name) is None for name in COLUMNS):
        raise ValueError("incomplete record")
    return ReviewRow(**{name: _parse(name, record[name]) for name in COLUMNS})


def read_rows(path: str | os.PathLike) -> list[ReviewRow]:
    """The well-formed rows of a results CSV (a line cut short by an interruption is dropped).

    Raises ValueError when the header is not this version's header.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError("the CSV's columns are not those of a ConvScope review")
        rows = []
        for record in reader:
            try:
                rows.append(row_from_cells(record))
            except (TypeError, ValueError):
                continue
    return rows


class CsvAppender:
    """Writes the header once, then appends rows and flushes after every batch."""

    def __init__(self, path: str | os.PathLike, rows: list[ReviewRow] | None = None) -> None:
        """Start the file afresh holding `rows` (the header alone when None).

        The new file is written beside the old one and then replaces it, so an
        interruption here never loses the rows of an earlier run.
        """
        self.path = Path(path)
        staging = self.path.with_name(self.path.name + ".part")
        with open(staging, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(row_to_cells(row) for row in rows or [])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, self.path)
        self._handle = open(self.path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._handle)

    def append(self, rows: list[ReviewRow]) -> None:
        """Write the rows and push them to disk."""
        self._writer.writerows(row_to_cells(row) for row in rows)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        """Close the file (safe to call twice)."""
        if not self._handle.closed:
            self._handle.close()
