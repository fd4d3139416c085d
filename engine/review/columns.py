"""Review columns declared once: each field of engine.review.rows.ReviewRow carries its
declaration (`column(...)`), and everything else is derived from it: the CSV and Arrow /
Parquet schema, the window's two table models, the per-label figures of summary.json, the
report's and the window's per-label tables, the summary lines and the README's column table.
The flag filter (misclassified, off-defect, ...) is declared here too, once, over columns.

Adding a column:

1. Add a field to ReviewRow with its declaration, for example::

       sharpness: float | None = column("Laplacian variance of the image", header="Sharp.",
                                        format="number", aggregate=Aggregate("sharpness", "sharpness", "Sharp."))

   The field's name is the CSV / Parquet column and its annotation the type (str, int,
   float or bool; `| None` when it may be missing). `header` shows it in the window's review
   table; `aggregate` adds its mean per label to summary.json, the report and the window
   (`trust=True` puts it in the summary's `trust` object instead).
2. Compute it where rows are made (engine/review/runner.py `_score`, engine/trust/review.py).
3. `python -m engine.review.readme_columns --update README.md` rewrites the README's column table.

Older review folders (without the new column) still open: the missing column reads as empty.
Imports numpy only.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from operator import attrgetter
from pathlib import PurePosixPath
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Aggregate:
    """How a column sums up over a label's images: the mean of the values present (a boolean
    as the share of True), under `key` in summary.json."""

    key: str  # in summary.json's per_label / overall (or its trust object)
    title: str  # in words: the report, the summary lines
    header: str = ""  # the window's per-label table ("" = not shown there)
    share: bool = False  # shown as a percentage


def _percent(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _words(yes: str, no: str) -> Callable[[Any], str]:
    return lambda value: "–" if value is None else (yes if value else no)


FORMATS: dict[str, Callable[[Any], str]] = {
    "text": lambda value: "–" if value in (None, "") else str(value),
    "file": lambda value: PurePosixPath(value or "").name,  # the whole path is in the tool tip
    "label": lambda value: value or "—",
    "integer": lambda value: "–" if value is None else str(int(value)),
    "percent": _percent,
    "number": _number,
    "mark": _words("✓", "✗"),
    "hit": _words("hit", "miss"),
    "yes-no": _words("yes", "no"),
}


@dataclass(frozen=True)
class Column:
    """One column of a review: what it holds and how it shows, sorts and sums up."""

    name: str
    kind: type  # str, int, float or bool
    nullable: bool  # may be missing (None; empty in the CSV)
    help: str  # what the value is (README, tool tips)
    header: str = ""  # title in the window's review table; "" = not shown there
    tip: str = ""  # the header's tool tip when it differs from `help`
    format: str = ""  # a key of FORMATS ("" = by kind)
    unreadable: str | None = ""  # the cell of an unreadable image (None: its value)
    warn: tuple[str, ...] = ()  # flags (FLAGS) that colour the cell as a warning
    aggregate: Aggregate | None = None
    trust: bool = False  # filled by `batch --trust` (engine.trust.review)

    @property
    def summed(self) -> Aggregate:
        """The declared aggregate (ValueError for a column without one)."""
        if self.aggregate is None:
            raise ValueError(f"review column {self.name} declares no aggregate")
        return self.aggregate

    @property
    def numeric(self) -> bool:
        """Numbers and booleans (right-aligned, sorted by value); text otherwise."""
        return self.kind is not str

    def show(self, value: Any, unreadable: bool = False) -> str:
        """The value as a table cell shows it (`unreadable`: the image could not be reviewed)."""
        if unreadable and self.unreadable is not None:
            return self.unreadable
        default = {str: "text", int: "integer", float: "number", bool: "yes-no"}[self.kind]
        return FORMATS[self.format or default](value)

    def sort_key(self, value: Any, path: str) -> Any:
        """What a cell sorts by: text in lower case, then the path; numbers with missing ones first
        (before every number: a missing rank correlation is not a perfectly opposite map's -1)."""
        if self.numeric:
            return -math.inf if value is None else float(value)
        return (value or "").lower() + "\0" + path  # ties by path, as ColumnarReview.sort_order

    def type_name(self) -> str:
        """The type in words, for the README."""
        name = {str: "text", int: "integer", float: "number", bool: "0 / 1"}[self.kind]
        return f"{name}, may be empty" if self.nullable and self.kind is not str else name


def column(help: str, *, default: Any = MISSING, **declared: Any) -> Any:
    """A ReviewRow field carrying its column declaration (see Column for `declared`)."""
    metadata = {"column": {"help": help, **declared}}
    if default is MISSING:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


def _kind(hint: Any) -> tuple[type, bool]:
    """(type, nullable) of an annotation such as `float | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


@cache
def declared(row_type: type) -> tuple[Column, ...]:
    """The columns a row dataclass declares, in field order."""
    hints = typing.get_type_hints(row_type)
    found = []
    for item in fields(row_type):
        kind, nullable = _kind(hints[item.name])
        if kind not in (str, int, float, bool):
            raise TypeError(f"review column {item.name}: type must be str, int, float or bool")
        found.append(Column(item.name, kind, nullable, **item.metadata["column"]))
    return tuple(found)


# -- columns as arrays: one code path for a list of rows and a columnar review ------------------
class ColumnSource(Protocol):
    """Review rows seen as columns (a list of ReviewRow, or engine.review.table.ColumnarReview)."""

    def __len__(self) -> int: ...

    def numpy(self, name: str, fill: float | int | bool | str = -1) -> np.ndarray:
        """A column as an array, missing values replaced by `fill`."""
        ...

    def mask_of(self, name: str) -> np.ndarray:
        """True where a column has a value."""
        ...

    def contains(self, name: str, word: str) -> np.ndarray:
        """True where a text column contains `word`."""
        ...

    def label_codes(self) -> tuple[np.ndarray, list[str]]:
        """Each row's label as an index into the sorted label names ("" = no label)."""
        ...


class RowColumns:
    """A list of ReviewRow objects as a ColumnSource (arrays built on demand)."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = rows
        self._read: dict[str, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def _values(self, name: str) -> list[Any]:
        if name not in self._read:  # each column read from the rows once (the reading is what costs)
            self._read[name] = list(map(attrgetter(name), self.rows))
        return self._read[name]

    def numpy(self, name: str, fill: float | int | bool | str = -1) -> np.ndarray:
        """A column as an array, missing values replaced by `fill`."""
        values = [fill if v is None else v for v in self._values(name)]
        return np.array(values) if values else np.zeros(0, type(fill))

    def mask_of(self, name: str) -> np.ndarray:
        """True where a column has a value."""
        values = self._values(name)
        return np.fromiter((v is not None for v in values), bool, count=len(values))

    def contains(self, name: str, word: str) -> np.ndarray:
        """True where a text column contains `word`."""
        return np.array([word in (v or "") for v in self._values(name)], bool)

    def label_codes(self) -> tuple[np.ndarray, list[str]]:
        """Each row's label as an index into the sorted label names ("" = no label)."""
        labels = [v or "" for v in self._values("label")]
        names = sorted(set(labels))
        index = {name: i for i, name in enumerate(names)}
        return np.array([index[label] for label in labels], np.int64), names


class Cached:
    """A ColumnSource whose arrays are built once (a summary reads each column per label)."""

    def __init__(self, source: ColumnSource) -> None:
        self.source = source
        self._found: dict[tuple, Any] = {}

    def __len__(self) -> int:
        return len(self.source)

    def _get(self, key: tuple, make: Callable[[], Any]) -> Any:
        if key not in self._found:
            self._found[key] = make()
        return self._found[key]

    def numpy(self, name: str, fill: float | int | bool | str = -1) -> np.ndarray:
        """A column as an array, missing values replaced by `fill`."""
        key = ("numpy", name, type(fill), fill)  # the type: True == 1 == 1.0 as keys
        return self._get(key, lambda: self.source.numpy(name, fill))

    def mask_of(self, name: str) -> np.ndarray:
        """True where a column has a value."""
        return self._get(("mask_of", name), lambda: self.source.mask_of(name))

    def contains(self, name: str, word: str) -> np.ndarray:
        """True where a text column contains `word`."""
        return self._get(("contains", name, word), lambda: self.source.contains(name, word))

    def label_codes(self) -> tuple[np.ndarray, list[str]]:
        """Each row's label as an index into the sorted label names."""
        return self._get(("label_codes",), self.source.label_codes)


def means(source: ColumnSource, keep: np.ndarray, columns: Sequence[Column]) -> dict[str, float | None]:
    """{aggregate key: mean of the column's present values among the rows in `keep`}."""
    found: dict[str, float | None] = {}
    for item in columns:
        if item.aggregate is not None:
            where = keep & source.mask_of(item.name)
            values = source.numpy(item.name, False if item.kind is bool else 0).astype(np.float64)
            found[item.summed.key] = float(np.mean(values[where])) if where.any() else None
    return found


def aggregated(columns: Sequence[Column], trust: bool = False) -> tuple[Column, ...]:
    """The columns that sum up per label: those of the summary (or of its trust object)."""
    return tuple(c for c in columns if c.aggregate is not None and c.trust == trust)


def figure_text(item: Column, value: float | None) -> str:
    """An aggregate's value as the summaries show it (a percentage or a number)."""
    return _percent(value) if item.summed.share else _number(value)


# -- flags: the filter by flag, for rows and for columns ---------------------------------------
@dataclass(frozen=True)
class Flag:
    """A property a row may have, as a boolean mask over a ColumnSource."""

    name: str
    help: str
    test: Callable[[ColumnSource], np.ndarray]
    trust: bool = False  # a word of the trust `flag` column


FLAGS: tuple[Flag, ...] = (
    Flag("misclassified", "prediction differs from the label", lambda s: s.numpy("correct", True) == False),  # noqa: E712
    Flag("correct", "prediction equals the label", lambda s: s.numpy("correct", False) == True),  # noqa: E712
    Flag("pointing miss", "the map's peak is off the mask", lambda s: s.numpy("pointing_hit", True) == False),  # noqa: E712
    Flag("no mask", "no usable mask", lambda s: ~s.mask_of("pointing_hit")),
    Flag("empty map", "no positive evidence", lambda s: s.numpy("empty_map", False).astype(bool)),
    Flag("unreadable", "the image could not be reviewed", lambda s: s.numpy("error", "") != ""),
    Flag("off-defect", "evidence off the defect", lambda s: s.contains("flag", "off-defect"), trust=True),
    Flag("survives-removal", "prediction kept with the defect painted out",
         lambda s: s.contains("flag", "survives-removal"), trust=True),
    Flag("clear", "neither trust flag", lambda s: s.contains("flag", "clear"), trust=True),
)
FLAG_NAMES = tuple(f.name for f in FLAGS)


def flag_mask(source: ColumnSource, name: str) -> np.ndarray:
    """The rows of `source` that have the flag `name` (ValueError for an unknown flag)."""
    for flag in FLAGS:
        if flag.name == name:
            return np.asarray(flag.test(source), bool)
    raise ValueError(f"unknown flag {name!r}; one of {', '.join(FLAG_NAMES)}")
