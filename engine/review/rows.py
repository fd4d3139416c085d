"""One result row per reviewed image, its columns declared on its fields (engine.review.columns),
and its CSV form (written a batch at a time)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.review.columns import Aggregate, Column, column, declared


@dataclass(frozen=True, slots=True)  # slots: a big lot holds 100,000s of rows
class ReviewRow:
    """What the review found for one image; each field declares its column (engine.review.columns).
    Metric fields are None without a usable mask, trust fields None without `--trust`."""

    path: str = column("path of the image relative to the reviewed folder, with / separators", header="Image",
                       tip="File name (hover for its path relative to the reviewed folder)", format="file",
                       unreadable=None)
    label: str | None = column("sub-folder name; empty for images directly in the folder", header="Label",
                               tip="Sub-folder name", format="label", unreadable=None)
    label_index: int | None = column("the label's class index, when the label names a class")
    predicted: str = column("predicted class", default="", header="Predicted", tip="Predicted (and explained) class",
                            unreadable="unreadable", warn=("misclassified", "unreadable"))
    predicted_index: int | None = column("predicted class index", default=None)
    confidence: float | None = column("probability of the predicted class", default=None, header="Conf.",
                                      format="percent")
    correct: bool | None = column(
        "prediction equals the label; empty when the label is not a class", default=None, header="Correct",
        tip="Prediction equals the label (– when the label is not a class)", format="mark",
        warn=("misclassified", "unreadable"), aggregate=Aggregate("accuracy", "accuracy", "Accuracy", share=True))
    explained: str = column("class whose map was computed", default="")
    explained_index: int | None = column("its class index", default=None)
    peak_x: int | None = column("column of the map's maximum, in image pixels", default=None)
    peak_y: int | None = column("row of the map's maximum, in image pixels", default=None)
    mask: str = column('"class", "binary" or empty (no usable mask)', default="")
    pointing_hit: bool | None = column(
        "the map's peak lies on the mask (within `--tolerance` px)", default=None, header="Pointing",
        tip="The map's peak lies on the mask (within 15 px); – without a mask", format="hit",
        aggregate=Aggregate("pointing", "pointing game", "Pointing", share=True))
    energy_inside: float | None = column(
        "share of the map's energy inside the mask (0..1)", default=None, header="Energy",
        aggregate=Aggregate("energy_inside", "energy in mask", "Energy"))
    iou: float | None = column(
        "IoU of the map's region >= `--threshold` with the mask", default=None, header="IoU",
        tip="IoU of the map's region >= 0.5 with the mask", aggregate=Aggregate("iou", "IoU", "IoU"))
    width: int | None = column("image width in pixels", default=None)
    height: int | None = column("image height in pixels", default=None)
    empty_map: bool = column("no positive evidence: the map is all zero", default=False)
    note: str = column("for example an unreadable mask", default="")
    error: str = column("why the image could not be reviewed (then most fields are empty)", default="")
    # Trust columns (engine.trust), empty without `--trust`; the last four also without a mask.
    deletion_auc: float | None = column(
        "area under the map's deletion curve (lower: more faithful)", default=None, trust=True,
        aggregate=Aggregate("deletion_auc", "deletion AUC"))
    insertion_auc: float | None = column(
        "area under its insertion curve (higher: more faithful)", default=None, trust=True,
        aggregate=Aggregate("insertion_auc", "insertion AUC"))
    random_deletion_auc: float | None = column(
        "the same for a random pixel order (the control)", default=None, trust=True,
        aggregate=Aggregate("random_deletion_auc", "random deletion AUC"))
    random_insertion_auc: float | None = column(
        "the insertion area for a random pixel order", default=None, trust=True,
        aggregate=Aggregate("random_insertion_auc", "random insertion AUC"))
    pixel_auroc: float | None = column(
        "the map as a per-pixel score against the mask", default=None, trust=True,
        aggregate=Aggregate("mean_pixel_auroc", "pixel AUROC"))
    removal_probability: float | None = column(
        "the explained class's probability with the defect painted out", default=None, trust=True)
    kept_after_removal: bool | None = column(
        "the explained class still predicted after removal", default=None, trust=True)
    flag: str = column(
        '"clear", "off-defect", "survives-removal" or both (engine.trust.verdict); empty without a mask',
        default="", header="Flag", tip="Trust flag (Trust metrics on): clear, off-defect, survives-removal; "
        "– without a mask", warn=("off-defect", "survives-removal"), trust=True)
    # Where the mask came from and what it traces (engine.annotations); empty without a mask.
    mask_source: str = column("where the mask came from: labelme, voc, yolo, coco, cvat, mask, dagm, mvtec or drawn",
                              default="")
    mask_kind: str = column("what the mask traces: pixel, polygon, ellipse or box (the figures were measured "
                            "against it)", default="")
    control_kept_after_removal: bool | None = column(
        "the explained class still predicted with the control (the same shape off the defect) painted out; "
        "empty without a control", default=None, trust=True)

    @property
    def has_mask(self) -> bool:
        """True when the localisation metrics were computed."""
        return self.pointing_hit is not None


def registry() -> tuple[Column, ...]:
    """Every review column, in CSV order: the declarations of ReviewRow's fields."""
    return declared(ReviewRow)


def column_names() -> tuple[str, ...]:
    """The names of the review columns, in CSV order."""
    return tuple(c.name for c in registry())


COLUMNS: tuple[str, ...] = column_names()  # this version's columns, as written (readers use column_names())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _parse(item: Column, text: str) -> Any:
    if text == "":
        if item.nullable:
            return None
        return False if item.kind is bool else ""
    if item.kind is bool:
        return text == "1"
    return item.kind(text)


def row_to_cells(row: ReviewRow) -> list[str]:
    """The CSV cells of a row, in column order (booleans as 1/0, None as empty)."""
    return [_cell(getattr(row, c.name)) for c in registry()]  # not asdict: it deep-copies every value


def row_from_cells(record: dict[str, str], present: Sequence[str] | None = None) -> ReviewRow:
    """A row back from a CSV record holding the columns `present` (default: all of this
    version's; a column added since an older CSV takes its default). Raises ValueError for a
    malformed record."""
    wanted = [c for c in registry() if present is None or c.name in present]
    if any(record.get(c.name) is None for c in wanted):
        raise ValueError("incomplete record")
    return ReviewRow(**{c.name: _parse(c, record[c.name]) for c in wanted})


def check_header(names: Sequence[str]) -> None:
    """ValueError unless `names` are review columns (this version's, or an older version's subset)."""
    known = set(column_names())
    if "path" not in names or not set(names) <= known or len(set(names)) != len(names):
        raise ValueError("the CSV's columns are not those of a ConvScope review")


def read_rows(path: str | os.PathLike) -> list[ReviewRow]:
    """The well-formed rows of a results CSV (a line cut short by an interruption is dropped).

    Raises ValueError when the header is not a review's header.
    """
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        present = tuple(reader.fieldnames or ())
        check_header(present)
        rows = []
        for record in reader:
            try:
                rows.append(row_from_cells(record, present))
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
            writer.writerow(column_names())
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
