"""A review column is one declaration: a column added to ReviewRow in a fixture (the registry
monkeypatched) shows in the CSV, the Parquet dataset, the summary, the report, both Qt table
models, the per-label table and the README's table; a folder written before it existed opens."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engine.review import rows as rows_module
from engine.review.columns import Aggregate, column
from engine.review.rows import CsvAppender, ReviewRow, read_rows
from engine.review.table import PARQUET_NAME, ParquetAppender, read_review_table, table_to_rows
from PySide6.QtCore import Qt

NAMES = ("ok", "scratch")


@dataclass(frozen=True, slots=True)
class SharpRow(ReviewRow):
    """ReviewRow with one more column, as another engineer would add it."""

    sharpness: float | None = column("variance of the image's Laplacian", default=None, header="Sharp.",
                                     format="number", aggregate=Aggregate("sharpness", "sharpness", "Sharp."))


def _rows(kind: type) -> list:
    extra = {"sharpness": (0.25, 0.75, None)} if kind is SharpRow else {}
    made = []
    for i, label in enumerate(("ok", "scratch", "scratch")):
        values = {name: found[i] for name, found in extra.items()}
        made.append(kind(f"{label}/img_{i}.png", label, NAMES.index(label), predicted=label,
                         predicted_index=NAMES.index(label), confidence=0.9, correct=True, **values))
    return made


def _write(folder, rows) -> None:
    csv, parquet = CsvAppender(folder / "results.csv"), ParquetAppender(folder / PARQUET_NAME)
    parquet.start()
    csv.append(rows)
    parquet.append(rows)
    csv.close()
    parquet.close()


@pytest.fixture
def sharp(monkeypatch):
    """The registry with the new column (ReviewRow's fields are the registry)."""
    monkeypatch.setattr(rows_module, "ReviewRow", SharpRow)
    return _rows(SharpRow)


def test_a_declared_column_shows_everywhere(qtbot, sharp, tmp_path):
    from engine.review.readme_columns import markdown_table
    from engine.review.report import render_report
    from engine.review.stats import summarise
    from gui.review.columnar_model import ColumnarReviewModel, OpenedReview
    from gui.review.confusion import LabelStatsTable
    from gui.review.table import ReviewTableModel

    _write(tmp_path, sharp)
    assert "sharpness" in (tmp_path / "results.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert read_rows(tmp_path / "results.csv") == sharp
    review = read_review_table(tmp_path)
    assert review.source == "parquet" and review.table.column("sharpness").to_pylist() == [0.25, 0.75, None]
    assert table_to_rows(review.table) == sharp

    result = summarise(sharp, NAMES)
    assert result.overall.figures["sharpness"] == 0.5 and result.to_json()["per_label"]["scratch"]["sharpness"] == 0.75
    html = render_report(result, {}, "complete", lambda _row: None)
    assert "<th>sharpness</th>" in html and "<td>0.500</td>" in html

    live = ReviewTableModel()
    live.reset(str(tmp_path), sharp)
    place = [live.headerData(c, Qt.Orientation.Horizontal) for c in range(live.columnCount())].index("Sharp.")
    assert [live.index(r, place).data() for r in range(3)] == ["0.250", "0.750", "–"]
    opened = ColumnarReviewModel()
    opened.set_review(OpenedReview(review))
    qtbot.waitUntil(lambda: len(opened.orders) == opened.columnCount())  # sorted in a thread
    assert opened.headerData(place, Qt.Orientation.Horizontal) == "Sharp."
    assert [opened.index(r, place).data() for r in range(3)] == ["0.250", "0.750", "–"]
    assert opened.opened.result.overall.figures["sharpness"] == 0.5  # the columnar summary too

    stats = LabelStatsTable()
    stats.set_stats(result.per_label, result.overall)
    headers = [stats.horizontalHeaderItem(c).text() for c in range(stats.columnCount())]
    assert stats.item(len(result.per_label), headers.index("Sharp.")).text() == "0.500"
    assert "| `sharpness` | number, may be empty | Sharp. | mean as `sharpness` |" in markdown_table(
        rows_module.registry())


def test_a_folder_from_before_the_column_opens(qtbot, tmp_path, monkeypatch):
    from gui.review.columnar_model import ColumnarReviewModel, OpenedReview

    _write(tmp_path, _rows(ReviewRow))  # written by the version without the column
    monkeypatch.setattr(rows_module, "ReviewRow", SharpRow)
    assert [r.sharpness for r in read_rows(tmp_path / "results.csv")] == [None] * 3
    for review in (read_review_table(tmp_path), _csv_only(tmp_path)):
        assert review.table.column("sharpness").null_count == 3
        model = ColumnarReviewModel()
        model.set_review(OpenedReview(review))
        qtbot.waitUntil(lambda m=model: len(m.orders) == m.columnCount())  # sorted in a thread, the new column too
        place = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index("Sharp.")
        assert model.index(0, place).data() == "–" and model.index(0, 0).data() == "img_0.png"


def _csv_only(folder):
    for part in (folder / PARQUET_NAME).iterdir():
        part.unlink()
    review = read_review_table(folder)
    assert review.source == "csv"
    return review
