"""A review folder read as columns, at its edges: where the class names come from, which of
Parquet and CSV is trusted, folders that hold no review, parts written and restarted, filters.

Each test names the bug it guards against (found surviving by mutation testing, README
"Mutation testing").
"""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.errors import OutputPathError
from engine.review.rows import CsvAppender, ReviewRow
from engine.review.table import (
    PARQUET_NAME,
    ParquetAppender,
    complete_table,
    read_review_table,
    rows_to_table,
    table_to_rows,
)


def _rows() -> list[ReviewRow]:
    return [
        ReviewRow("b/1.png", "b", 1, "b", 1, 0.9, True, pointing_hit=True),
        ReviewRow("b/2.png", "b", 1, "a", 0, 0.6, False, pointing_hit=False, flag="off-defect"),
        ReviewRow("3.png", None, None, "c", 2, 0.7, None),
        ReviewRow("A/4.png", "A", 0, error="cannot read"),
    ]


def _folder(tmp_path, rows, parquet=True, summary=None):
    CsvAppender(tmp_path / "results.csv", rows).close()
    if parquet:
        writer = ParquetAppender(tmp_path / PARQUET_NAME)
        writer.start(rows)
        writer.close()
    if summary is not None:
        (tmp_path / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return tmp_path


def test_class_names_from_the_summary_its_run_or_the_indices(tmp_path):
    # bugs: the run's class names ignored, or the fallback missing the highest class index
    rows = _rows()
    assert read_review_table(_folder(tmp_path, rows, summary={"class_names": ["x", "y", "z"]})).class_names == (
        "x", "y", "z")
    (tmp_path / "summary.json").write_text(json.dumps({"run": {"class_names": ["p", "q", "r"]}}), encoding="utf-8")
    assert read_review_table(tmp_path).class_names == ("p", "q", "r")
    (tmp_path / "summary.json").write_text("[1, 2]", encoding="utf-8")  # not an object: ignored
    review = read_review_table(tmp_path)
    assert review.summary == {} and review.class_names == ("class 0", "class 1", "class 2")


def test_the_summary_gives_total_completeness_and_time(tmp_path):
    # bugs: the folder's total, its completeness or its time not taken from summary.json
    summary = {"images_total": 9, "complete": False, "seconds": 2.5, "class_names": ["a", "b", "c"]}
    result = read_review_table(_folder(tmp_path, _rows(), summary=summary)).result()
    assert (result.done, result.total, result.complete, result.seconds) == (4, 9, False, 2.5)
    assert result.confusion.tolist() == [[0, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert [s.label for s in result.per_label] == ["(no label)", "A", "b"]
    (tmp_path / "summary.json").unlink()
    result = read_review_table(tmp_path).result()
    assert (result.total, result.complete, result.seconds) == (4, True, 0.0)


def test_parquet_is_read_only_when_it_holds_the_csv_rows(tmp_path):
    # bugs: a Parquet dataset behind the CSV (an interrupted run) trusted, or a complete one ignored
    rows = _rows()
    folder = _folder(tmp_path, rows)
    assert read_review_table(folder).source == "parquet"
    CsvAppender(folder / "results.csv", rows + [ReviewRow("5.png", None, None)]).close()
    review = read_review_table(folder)
    assert (review.source, len(review)) == ("csv", 5)
    (folder / "results.csv").unlink()
    assert read_review_table(folder).source == "parquet"


def test_a_broken_parquet_part_falls_back_to_the_csv(tmp_path):
    # bug: an unreadable part ending the read instead of falling back
    folder = _folder(tmp_path, _rows())
    next((folder / PARQUET_NAME).glob("part-*.parquet")).write_bytes(b"not parquet")
    assert read_review_table(folder).source == "csv"


def test_a_folder_without_a_review_is_one_clear_error(tmp_path):
    # bugs: a folder without results raising a traceback, a foreign CSV read as a review
    with pytest.raises(OutputPathError, match="no results.csv or results.parquet: not a ConvScope review folder"):
        read_review_table(tmp_path)
    (tmp_path / "results.csv").write_text("name,size\na,1\n", encoding="utf-8")
    with pytest.raises(OutputPathError, match="results.csv: the columns are not those of a ConvScope review"):
        read_review_table(tmp_path)


def test_an_older_table_gains_empty_new_columns_in_order(tmp_path):
    # bugs: a column added since an older review missing, or the columns out of this version's order
    old = rows_to_table(_rows()).select(["label", "path", "correct"])
    table = complete_table(old)
    assert table.column_names[:3] == ["path", "label", "label_index"]
    assert table.column("path").to_pylist()[0] == "b/1.png"
    assert table.column("flag").null_count == 4
    assert table.column("correct").to_pylist() == [True, False, None, None]


def test_parts_hold_every_row_and_a_restart_empties_the_folder(tmp_path):
    # bugs: a part written before part_rows rows gather (or never), no part left half-written, a restart
    # keeping the earlier run's parts
    folder = tmp_path / PARQUET_NAME
    writer = ParquetAppender(folder, part_rows=3)
    writer.start()
    assert list(folder.glob("part-*")) == []
    writer.append(_rows()[:2])
    assert list(folder.glob("part-*")) == []
    writer.append(_rows()[2:3])
    assert len(list(folder.glob("part-*.parquet"))) == 1
    writer.append(_rows()[3:])
    writer.close()
    assert len(list(folder.glob("part-*.parquet"))) == 2 and not list(folder.glob("*.part"))
    assert pq.read_table(folder).num_rows == 4
    again = ParquetAppender(folder, part_rows=3)
    again.start(_rows()[:1])
    again.close()
    assert pq.read_table(folder).column("path").to_pylist() == ["b/1.png"]


def test_filters_by_label_cell_and_flag(tmp_path):
    # bugs: the no-label filter ("") or an unknown label matching rows, a cell's true and predicted swapped
    review = read_review_table(_folder(tmp_path, _rows()))
    assert review.filter_mask().tolist() == [True] * 4
    assert review.filter_mask(label="").tolist() == [False, False, True, False]
    assert review.filter_mask(label="b").tolist() == [True, True, False, False]
    assert review.filter_mask(label="nobody").tolist() == [False] * 4
    assert review.filter_mask(cell=(1, 0)).tolist() == [False, True, False, False]
    assert review.filter_mask(label="b", flag="off-defect").tolist() == [False, True, False, False]


def test_sort_orders_of_text_and_numbers(tmp_path):
    # bugs: text sorted case-sensitively, missing numbers not first
    review = read_review_table(_folder(tmp_path, _rows()))
    assert review.sort_order("label").tolist() == [2, 3, 0, 1]
    assert review.sort_order("confidence").tolist() == [3, 1, 2, 0]
    codes, names = review.label_codes()
    assert names == ["", "A", "b"] and codes.tolist() == [2, 2, 0, 1]


def test_an_empty_review_has_no_classes(tmp_path):
    # bug: the class-name fallback failing on a review without rows
    review = read_review_table(_folder(tmp_path, [], parquet=False))
    assert len(review) == 0 and review.class_names == ()
    assert isinstance(review.table, pa.Table)


def _awkward_rows() -> list[ReviewRow]:
    return [
        ReviewRow("0/1.png", "0", 0, "", None, None, None, note='two\nlines, a comma and "quotes"'),
        ReviewRow("1/2.png", "1", 1, "1", 1, 0.5, True, pointing_hit=False, empty_map=True, flag="clear"),
        ReviewRow("3.png", "", None, error="cannot read"),  # no label: the CSV's empty cell
    ]


def test_a_csv_review_reads_back_every_value_as_written(tmp_path):
    # bugs: the CSV read without the review's column types, 1/0 not read as booleans, empty text read
    # as missing (or missing numbers as text), a quoted line break splitting a row
    rows = _awkward_rows()
    review = read_review_table(_folder(tmp_path, rows, parquet=False))
    assert review.source == "csv"
    assert table_to_rows(review.table) == rows
    assert review.table.column("predicted").null_count == 0  # text is never missing, only empty
    assert review.table.column("label").to_pylist() == ["0", "1", ""]
    assert review.contains("flag", "clear").dtype == bool


def test_a_broken_csv_line_is_skipped(tmp_path):
    # bug: a line with too many cells (an interrupted write) ending the read
    folder = _folder(tmp_path, _awkward_rows(), parquet=False)
    with open(folder / "results.csv", "a", encoding="utf-8") as handle:
        handle.write("x.png,a,1,too,many,cells" + ",x" * 60 + "\n")
    assert len(read_review_table(folder)) == 3


def test_a_csv_with_a_bad_value_is_one_clear_error(tmp_path):
    # bug: the reason lost from the one-line error
    (tmp_path / "results.csv").write_text("path,label,label_index\na.png,a,not a number\n", encoding="utf-8")
    with pytest.raises(OutputPathError, match=r"results.csv: cannot read \(.+\)"):
        read_review_table(tmp_path)


def test_missing_flags_and_text_of_an_older_table_read_as_false_and_empty():
    # bug: a column added since an older review read as None (or True, or text) where rows need a value
    old = rows_to_table(_rows()).select(["path", "label", "label_index"])
    back = table_to_rows(complete_table(old))
    assert [(r.empty_map, r.predicted, r.flag, r.confidence) for r in back] == [(False, "", "", None)] * 4


def test_a_big_csv_with_line_breaks_in_cells_keeps_every_row(tmp_path):
    # bug: the CSV read in parallel blocks that may cut a quoted line break (newlines_in_values off)
    note = "a note\nover two lines " + "x" * 400
    rows = [ReviewRow(f"a/{i}.png", "a", 0, "a", 0, 0.5, True, note=note) for i in range(12000)]
    review = read_review_table(_folder(tmp_path, rows, parquet=False))
    assert (review.source, len(review)) == ("csv", 12000)
    assert set(review.table.column("note").to_pylist()) == {note}


def test_a_big_complete_dataset_is_read_from_parquet(tmp_path):
    # bug: the line count of a results.csv over one read block (4 MiB) taken from its last block only,
    # so a complete Parquet dataset is passed over for the slower CSV
    rows = [ReviewRow(f"a/{i}.png", "a", 0, "a", 0, 0.5, True, note="x" * 400) for i in range(12000)]
    folder = _folder(tmp_path, rows)
    assert (folder / "results.csv").stat().st_size > 4 << 20
    assert read_review_table(folder).source == "parquet"


def test_a_csv_with_no_row_is_not_matched_by_a_one_row_dataset(tmp_path):
    # bug: a header-only results.csv counted as one row, so a stale one-row dataset is read instead
    folder = _folder(tmp_path, _rows()[:1])
    CsvAppender(folder / "results.csv").close()
    review = read_review_table(folder)
    assert (review.source, len(review)) == ("csv", 0)


def test_a_nan_figure_reads_from_the_csv_as_nan_not_missing(tmp_path):
    # bug: pyarrow's default null words ("nan", "NA", ...) applied, so a NaN figure (written "nan")
    # becomes a missing value in the columnar review while read_rows keeps it NaN
    rows = [ReviewRow("a.png", "a", 0, "a", 0, 0.5, True, pointing_hit=True, energy_inside=float("nan"))]
    review = read_review_table(_folder(tmp_path, rows, parquet=False))
    assert review.table.column("energy_inside").null_count == 0
    assert math.isnan(review.table.column("energy_inside").to_pylist()[0])


def test_a_complete_dataset_with_line_breaks_in_notes_is_read_from_parquet(tmp_path):
    # bug: every newline counted as a row end, so a quoted multi-line note made the CSV look longer
    # than the complete Parquet dataset and the review always fell back to the slower CSV
    rows = _rows() + [ReviewRow("5.png", None, None, note='two\nlines, "quoted"\nand three')]
    review = read_review_table(_folder(tmp_path, rows))
    assert (review.source, len(review)) == ("parquet", 5)
