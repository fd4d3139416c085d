"""Review rows as columns: the Arrow schema of results.csv, the Parquet dataset beside it,
and reading a finished review folder (Parquet first, else the CSV) without a Python object
per row, so a million-row review opens in seconds and in a few hundred MB.

pyarrow is imported lazily (the review itself does not need it).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import OutputPathError
from engine.review import rows as _rows
from engine.review.columns import Column, flag_mask
from engine.review.rows import ReviewRow, check_header
from engine.review.stats import LabelStats, per_label_stats, source_confusion

if TYPE_CHECKING:
    import pyarrow as pa

PARQUET_NAME = "results.parquet"  # a folder of part-*.parquet files beside results.csv
PART_ROWS = 4096  # rows per Parquet part written during a review


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.csv  # noqa: F401 - submodules used through `pa`
        import pyarrow.parquet  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow ships with the cluster and test extras
        raise OutputPathError('pyarrow is needed for Parquet and large reviews: pip install -e ".[cluster]"') from None
    return pa


def column_type(item: Column):
    """The Arrow type of a review column (ints and floats as 64-bit, nullable)."""
    pa = _arrow()
    return {int: pa.int64(), float: pa.float64(), bool: pa.bool_(), str: pa.string()}[item.kind]


def schema() -> pa.Schema:
    """The Arrow schema of a review's rows, in column order."""
    pa = _arrow()
    return pa.schema([pa.field(c.name, column_type(c)) for c in _rows.registry()])


def rows_to_table(rows: Sequence[ReviewRow]) -> pa.Table:
    """Rows as an Arrow table with the review schema."""
    pa = _arrow()
    columns = _rows.registry()
    values = [[getattr(row, c.name) for row in rows] for c in columns]  # not astuple: it deep-copies
    return pa.table([pa.array(v, type=column_type(c)) for c, v in zip(columns, values, strict=True)],
                    schema=schema())


def table_to_rows(table: pa.Table) -> list[ReviewRow]:
    """Arrow rows back as ReviewRow objects (for small tables: a batch, a test)."""
    columns = [c for c in _rows.registry() if c.name in table.column_names]
    values = [table.column(c.name).to_pylist() for c in columns]
    return [_rows.ReviewRow(**{c.name: _plain(c, v) for c, v in zip(columns, record, strict=True)})
            for record in zip(*values, strict=True)]


def _plain(item: Column, value: Any) -> Any:
    if value is None and not item.nullable:
        return False if item.kind is bool else ""
    return value


def complete_table(table: pa.Table) -> pa.Table:
    """A table read from an older review with this version's schema: columns added since
    then are empty (null), columns in this version's order."""
    pa = _arrow()
    check_header(table.column_names)
    target = schema()
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in target]
    return pa.table(columns, schema=target)


class ParquetAppender:
    """Appends rows to a Parquet dataset folder, one part file per PART_ROWS rows.

    Each part is written beside its final name and renamed, so a reader never sees half a
    file; `close()` writes what is buffered. `start(rows)` empties the folder and writes
    `rows` (the rows a resumed review keeps), so the dataset always equals results.csv.
    """

    def __init__(self, folder: str | os.PathLike, part_rows: int = PART_ROWS) -> None:
        self.folder, self.part_rows = Path(folder), part_rows
        self._buffer: list[ReviewRow] = []
        self._run = uuid.uuid4().hex[:8]
        self._parts = 0

    def start(self, rows: Sequence[ReviewRow] = ()) -> None:
        """Empty the dataset folder (creating it) and write `rows`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("part-*.parquet*"):
            old.unlink()
        self._buffer = list(rows)
        self.flush()

    def append(self, rows: Sequence[ReviewRow]) -> None:
        """Buffer rows; write a part once PART_ROWS have gathered."""
        self._buffer.extend(rows)
        if len(self._buffer) >= self.part_rows:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as one part (nothing when the buffer is empty)."""
        if not self._buffer:
            return
        pa = _arrow()
        name = self.folder / f"part-{self._run}-{self._parts:05d}.parquet"
        staging = name.with_name(name.name + ".part")
        pa.parquet.write_table(rows_to_table(self._buffer), staging)
        os.replace(staging, name)
        self._parts += 1
        self._buffer = []

    def close(self) -> None:
        """Write what is buffered."""
        self.flush()


@dataclass(frozen=True)
class ColumnarReview:
    """A finished review's rows as an Arrow table (no Python object per row), where it came
    from, and what its summary.json says (run, class names, status; {} without one).

    Filters are boolean numpy masks and sorting is an argsort of indices, so a million rows
    filter and sort in milliseconds to a few hundred (strings) without a Python loop.
    """

    table: Any  # pyarrow.Table with the review schema
    folder: Path
    source: str  # "parquet" or "csv"
    summary: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def class_names(self) -> tuple[str, ...]:
        """The model's classes, from summary.json (else "class 0", "class 1", ...)."""
        names = self.summary.get("class_names") or self.summary.get("run", {}).get("class_names")
        if names:
            return tuple(names)
        highest = max((int(np.max(self.numpy(n), initial=-1)) for n in ("label_index", "predicted_index")), default=-1)
        return tuple(f"class {i}" for i in range(highest + 1))

    def numpy(self, name: str, fill: float | int | bool | str = -1) -> np.ndarray:
        """A column as a numpy array, missing values replaced by `fill` (numbers and flags)."""
        column = self.table.column(name)
        if column.null_count:
            column = column.fill_null(fill)
        return column.to_numpy()

    def mask_of(self, name: str) -> np.ndarray:
        """True where a column has a value."""
        return self.table.column(name).is_valid().to_numpy(zero_copy_only=False)

    def text(self, name: str) -> Any:
        """A string column as one Arrow array, missing values as "" (cheap per-cell access)."""
        return self.table.column(name).fill_null("").combine_chunks()

    def label_codes(self) -> tuple[np.ndarray, list[str]]:
        """Each row's label as an index into the sorted label names ("" = no label)."""
        encoded = self.text("label").dictionary_encode()
        names = encoded.dictionary.to_pylist()
        order = np.argsort(np.array(names, dtype=object)) if names else np.zeros(0, np.int64)
        rank = np.empty(len(names), np.int64)
        rank[order] = np.arange(len(names))
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        return rank[codes] if len(names) else codes.astype(np.int64), [names[i] for i in order]

    def contains(self, name: str, word: str) -> np.ndarray:
        """True where a text column contains `word`."""
        found = _arrow().compute.match_substring(self.text(name), word)
        return found.to_numpy(zero_copy_only=False).astype(bool)

    def flag_mask(self, flag: str) -> np.ndarray:
        """Rows with a flag (one of engine.review.columns.FLAGS)."""
        return flag_mask(self, flag)

    def filter_mask(self, label: str | None = None, cell: tuple[int, int] | None = None,
                    flag: str | None = None) -> np.ndarray:
        """Rows of one label ("" = no label; None = any), one confusion cell (true, predicted)
        and one flag (None = any), as a boolean mask."""
        keep = np.ones(len(self), bool)
        if label is not None:
            codes, names = self.label_codes()
            keep &= codes == (names.index(label) if label in names else -1)
        if cell is not None:
            keep &= (self.numpy("label_index") == cell[0]) & (self.numpy("predicted_index") == cell[1])
        if flag is not None:
            keep &= self.flag_mask(flag)
        return keep

    def sort_order(self, name: str) -> np.ndarray:
        """Row indices in ascending order of a column: text columns by lower-case text then
        path, numbers and flags with missing values first (stable)."""
        pa = _arrow()
        if pa.types.is_string(self.table.column(name).type):  # text: as Column.sort_key sorts it
            keys = pa.table({"key": pa.compute.utf8_lower(self.text(name)), "path": self.text("path")})
            return pa.compute.sort_indices(keys, sort_keys=[("key", "ascending"), ("path", "ascending")]).to_numpy()
        values = self.table.column(name).cast(pa.float64()).fill_null(-np.inf).to_numpy()
        return np.argsort(values, kind="stable")

    def result(self) -> ReviewSummary:
        """The confusion matrix and the per-label figures, computed from the columns."""
        return columnar_summary(self)


@dataclass(frozen=True)
class ReviewSummary:
    """What stats.summarise gives for rows, computed from columns (no rows held)."""

    class_names: tuple[str, ...]
    confusion: np.ndarray
    per_label: tuple[LabelStats, ...]
    overall: LabelStats
    done: int  # rows in the review
    total: int  # images found (summary.json), else `done`
    complete: bool
    seconds: float


def columnar_summary(review: ColumnarReview) -> ReviewSummary:
    """Confusion matrix and per-label statistics of a review, by the code that summarises rows
    (engine.review.stats)."""
    names = review.class_names
    per_label, overall = per_label_stats(review)
    summary = review.summary
    return ReviewSummary(names, source_confusion(review, len(names)), per_label, overall, len(review),
                         int(summary.get("images_total", len(review))), bool(summary.get("complete", True)),
                         float(summary.get("seconds", 0.0)))


def read_review_table(folder: str | os.PathLike) -> ColumnarReview:
    """The rows of a review folder: results.parquet/ when it holds as many rows as results.csv
    says it should (a complete dataset), else results.csv read by pyarrow's CSV reader.

    Raises OutputPathError (one line) when the folder holds no readable review.
    """
    pa, root = _arrow(), Path(folder)
    dataset, csv_path = root / PARQUET_NAME, root / _CSV
    if dataset.is_dir() and any(dataset.glob("part-*.parquet")):
        try:
            table = complete_table(pa.parquet.read_table(dataset))
            if not csv_path.exists() or _csv_lines(csv_path) == table.num_rows:
                return ColumnarReview(table, root, "parquet", _summary(root))
        except (OSError, ValueError, pa.ArrowException):
            pass  # fall back to the CSV
    if not csv_path.is_file():
        raise OutputPathError(f"{root}: no {_CSV} or {PARQUET_NAME}: not a ConvScope review folder")
    return ColumnarReview(_read_csv(csv_path), root, "csv", _summary(root))


def _summary(root: Path) -> dict:
    """summary.json of a review folder ({} when missing or unreadable)."""
    try:
        data = json.loads((root / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


_CSV = "results.csv"


def _csv_lines(path: Path) -> int:
    """Data rows in a results CSV: the newlines outside quoted cells, minus the header. A quote
    toggles "inside a cell" and an escaped quote ("") toggles twice, so the parity of the quotes
    before a newline says whether it ends a row; blocks without quotes are only counted."""
    count, inside = 0, False
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            if not inside and b'"' not in block:
                count += block.count(b"\n")
                continue
            data = np.frombuffer(block, np.uint8)
            quoted = (np.cumsum(data == ord('"')) + inside) % 2 == 1
            count += int(np.count_nonzero((data == ord("\n")) & ~quoted))
            inside = bool(quoted[-1])
    return max(0, count - 1)


def _read_csv(path: Path) -> pa.Table:
    pa = _arrow()
    convert = pa.csv.ConvertOptions(
        column_types={c.name: column_type(c) for c in _rows.registry()}, strings_can_be_null=False,
        true_values=["1"], false_values=["0"], null_values=[""],
        quoted_strings_can_be_null=False)
    parse = pa.csv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda _row: "skip")
    try:
        table = pa.csv.read_csv(path, parse_options=parse, convert_options=convert)
    except (pa.ArrowException, OSError) as exc:
        raise OutputPathError(f"{path}: cannot read ({exc})") from None
    try:
        return complete_table(table)
    except ValueError:
        raise OutputPathError(f"{path}: the columns are not those of a ConvScope review") from None
