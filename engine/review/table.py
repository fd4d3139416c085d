"""Review rows as columns: the Arrow schema of results.csv, the Parquet dataset beside it,
and reading a finished review folder (Parquet first, else the CSV) without a Python object
per row, so a million-row review opens in seconds and in a few hundred MB.

pyarrow is imported lazily (the review itself does not need it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.errors import OutputPathError
from engine.review import rows as _rows
from engine.review.rows import COLUMNS, ReviewRow

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


def column_type(name: str):
    """The Arrow type of a results column (ints and floats as 64-bit, nullable)."""
    pa = _arrow()
    if name in _rows._INTS:
        return pa.int64()
    if name in _rows._FLOATS:
        return pa.float64()
    if name in _rows._BOOLS:
        return pa.bool_()
    return pa.string()


def schema() -> pa.Schema:
    """The Arrow schema of a review's rows, in COLUMNS order."""
    pa = _arrow()
    return pa.schema([pa.field(name, column_type(name)) for name in COLUMNS])


def rows_to_table(rows: Sequence[ReviewRow]) -> pa.Table:
    """Rows as an Arrow table with the review schema."""
    pa = _arrow()
    values = list(zip(*(astuple(row) for row in rows), strict=True)) if rows else [()] * len(COLUMNS)
    return pa.table([pa.array(list(v), type=column_type(n)) for n, v in zip(COLUMNS, values, strict=True)],
                    schema=schema())


def table_to_rows(table: pa.Table) -> list[ReviewRow]:
    """Arrow rows back as ReviewRow objects (for small tables: a batch, a test)."""
    columns = [table.column(name).to_pylist() for name in COLUMNS]
    return [ReviewRow(*(_plain(n, v) for n, v in zip(COLUMNS, values, strict=True)))
            for values in zip(*columns, strict=True)]


def _plain(name: str, value: Any) -> Any:
    if value is None and name in ("predicted", "explained", "mask", "note", "error"):
        return ""
    if value is None and name == "empty_map":
        return False
    return value


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
    """A finished review's rows as an Arrow table (no Python object per row), and where it came from."""

    table: Any  # pyarrow.Table with the review schema
    folder: Path
    source: str  # "parquet" or "csv"

    def __len__(self) -> int:
        return self.table.num_rows

    def numpy(self, name: str, fill: float | int | bool = -1) -> np.ndarray:
        """A column as a numpy array, missing values replaced by `fill` (numbers and flags)."""
        column = self.table.column(name)
        if column.null_count:
            column = column.fill_null(fill)
        return column.to_numpy()

    def mask_of(self, name: str) -> np.ndarray:
        """True where a column has a value."""
        return self.table.column(name).is_valid().to_numpy(zero_copy_only=False)


def read_review_table(folder: str | os.PathLike) -> ColumnarReview:
    """The rows of a review folder: results.parquet/ when it holds as many rows as results.csv
    says it should (a complete dataset), else results.csv read by pyarrow's CSV reader.

    Raises OutputPathError (one line) when the folder holds no readable review.
    """
    pa, root = _arrow(), Path(folder)
    dataset, csv_path = root / PARQUET_NAME, root / _CSV
    if dataset.is_dir() and any(dataset.glob("part-*.parquet")):
        try:
            table = pa.parquet.read_table(dataset, schema=schema())
            if not csv_path.exists() or _csv_lines(csv_path) == table.num_rows:
                return ColumnarReview(table, root, "parquet")
        except (OSError, ValueError, pa.ArrowException):
            pass  # fall back to the CSV
    if not csv_path.is_file():
        raise OutputPathError(f"{root}: no {_CSV} or {PARQUET_NAME}: not a ConvScope review folder")
    return ColumnarReview(_read_csv(csv_path), root, "csv")


_CSV = "results.csv"


def _csv_lines(path: Path) -> int:
    """Data lines in a results CSV (a quick count of newlines minus the header)."""
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            count += block.count(b"\n")
    return max(0, count - 1)


def _read_csv(path: Path) -> pa.Table:
    pa = _arrow()
    convert = pa.csv.ConvertOptions(
        column_types={name: column_type(name) for name in COLUMNS}, strings_can_be_null=False,
        true_values=["1"], false_values=["0"], null_values=[""],
        quoted_strings_can_be_null=False)
    parse = pa.csv.ParseOptions(newlines_in_values=True, invalid_row_handler=lambda _row: "skip")
    try:
        table = pa.csv.read_csv(path, parse_options=parse, convert_options=convert)
    except (pa.ArrowException, OSError) as exc:
        raise OutputPathError(f"{path}: cannot read ({exc})") from None
    if tuple(table.column_names) != COLUMNS:
        raise OutputPathError(f"{path}: the columns are not those of a ConvScope review")
    return table.cast(schema())
