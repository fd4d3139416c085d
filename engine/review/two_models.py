"""One lot compared by two models as a job: what `main.py compare` does after parsing its
arguments, for callers that already hold both sessions (the window's engine loop).

With an output folder it writes comparison.csv (row by row as batches finish), comparison.parquet,
comparison.json and report.html there, exactly as `compare --out` does; without one it only
computes. Either way it returns the Comparison and comparison.json's body."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import ImageLoadError, OutputPathError
from engine.review.columns import declared
from engine.review.compare import Comparison, ComparisonRow, check_pair, compare_folder
from engine.review.compare_output import ComparisonOutput, comparison_summary
from engine.review.runner import ReviewOptions, folder_images

if TYPE_CHECKING:
    from engine.methods.base import CancelCheck, Progress


def comparison_run(session_a, session_b, images: str | os.PathLike, options: ReviewOptions) -> dict[str, Any]:
    """The "run" record of comparison.json: both models, the lot and the settings (as the CLI writes it)."""
    return {"model_a": session_a.info.path, "model_b": session_b.info.path, "images": str(Path(images).resolve()),
            "method": options.method, "params": dict(options.params), "target": options.target,
            "trust": options.trust}


def compare_lot(session_a, session_b, images: str | os.PathLike, options: ReviewOptions, out: str = "",
                progress: Progress | None = None, cancel: CancelCheck | None = None,
                on_rows: Callable[[list[ComparisonRow]], None] | None = None) -> tuple[Comparison, dict[str, Any]]:
    """Compare the two models on `images` (into `out` when given; nothing is written elsewhere).

    A cancel ends early with `complete` False; the folder then holds a readable partial
    comparison. Raises OutputPathError / ImageLoadError / MethodError before any work for a bad
    folder, no images, or two models that cannot be compared."""
    if out and Path(out).resolve() == Path(images).resolve():
        raise OutputPathError("the comparison's folder must be a folder of its own, not the images folder")
    if not folder_images(images, exclude=out or None):
        raise ImageLoadError(f"{images}: no images found")
    check_pair(session_a, session_b, options)
    run = comparison_run(session_a, session_b, images, options)
    output = ComparisonOutput(out, run, trust=options.trust) if out else None

    def rows_done(rows: list[ComparisonRow]) -> None:
        if output is not None:
            output.on_rows(rows)
        if on_rows is not None:
            on_rows(rows)

    try:
        comparison = compare_folder(session_a, session_b, images, options, progress, cancel, rows_done,
                                    exclude=out or None)
    except BaseException:
        if output is not None:
            output.close()
        raise
    summary = output.finish(comparison) if output is not None else {"run": run, **comparison_summary(comparison)}
    return comparison, summary


def read_comparison(folder: str | os.PathLike) -> tuple[list[ComparisonRow], dict[str, Any]]:
    """The rows and comparison.json's body of a comparison folder (`compare --out` or the window).

    Rows come from comparison.parquet when there is one, else from comparison.csv (a line cut
    short by an interruption is dropped). Without comparison.json (a comparison that was
    interrupted before it ended) the summary holds the figures of the rows read, with
    `complete` False and no verdicts. Raises OutputPathError when the folder holds no comparison."""
    from engine.review.compare_output import CSV_NAME, JSON_NAME, PARQUET_NAME, group_summary

    folder = Path(folder)
    if not (folder / CSV_NAME).is_file() and not (folder / PARQUET_NAME).is_file():
        raise OutputPathError(f"{folder}: holds no comparison ({CSV_NAME})")
    rows = _parquet_rows(folder / PARQUET_NAME) if (folder / PARQUET_NAME).is_file() else None
    if rows is None:
        rows = _csv_rows(folder / CSV_NAME)
    try:
        summary = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = {"run": {}, **group_summary(rows, None, None), "complete": False}
    return rows, summary if isinstance(summary, dict) else {}


def _csv_rows(path: Path) -> list[ComparisonRow]:
    from engine.review.rows import _parse

    columns = {c.name: c for c in declared(ComparisonRow)}
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "path" not in (reader.fieldnames or ()):
            raise OutputPathError(f"{path}: not a comparison table (no path column)")
        for record in reader:
            try:
                rows.append(ComparisonRow(**{name: _parse(columns[name], text) for name, text in record.items()
                                             if name in columns and text is not None}))
            except (TypeError, ValueError):
                continue
    return rows


def _parquet_rows(path: Path) -> list[ComparisonRow] | None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None
    names = {c.name for c in declared(ComparisonRow)}
    try:
        records = pq.read_table(path).to_pylist()
    except (OSError, ValueError):  # a damaged copy: the CSV holds the same rows
        return None
    return [ComparisonRow(**{k: v for k, v in record.items() if k in names}) for record in records]
