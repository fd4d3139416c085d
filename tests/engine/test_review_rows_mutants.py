"""Review columns and their CSV form at their edges: every cell format, missing values, the
flag filter's rules, headers from elsewhere, a line cut short, a file replaced safely.

Each test names the bug it guards against (found surviving by mutation testing, README
"Mutation testing").
"""

from __future__ import annotations

import csv
import math
import typing
from dataclasses import dataclass

import numpy as np
import pytest

from engine.review.columns import (
    FLAG_NAMES,
    Cached,
    RowColumns,
    aggregated,
    column,
    declared,
    figure_text,
    flag_mask,
    means,
)
from engine.review.compare import comparison_columns
from engine.review.rows import (
    CsvAppender,
    ReviewRow,
    check_header,
    column_names,
    read_rows,
    registry,
    row_from_cells,
    row_to_cells,
)

BY_NAME = {c.name: c for c in registry()}


def test_each_format_shows_its_cells():
    # bugs: a format's text, its empty-value dash or its rounding changed
    shown = {name: [BY_NAME[name].show(v) for v in values] for name, values in {
        "path": ["cat/a b.png", None], "label": ["cat", None, ""], "predicted": ["dog", ""],
        "label_index": [3, 2.0, None], "confidence": [0.1234, None], "energy_inside": [0.12345, None],
        "correct": [True, False, None], "pointing_hit": [True, False, None], "empty_map": [True, False],
    }.items()}
    assert shown == {
        "path": ["a b.png", ""], "label": ["cat", "—", "—"], "predicted": ["dog", "–"],
        "label_index": ["3", "2", "–"], "confidence": ["12.3%", "–"], "energy_inside": ["0.123", "–"],
        "correct": ["✓", "✗", "–"], "pointing_hit": ["hit", "miss", "–"], "empty_map": ["yes", "no"],
    }


def test_an_unreadable_image_shows_its_declared_cell():
    # bug: the unreadable cell ignored, or shown for a readable image
    assert BY_NAME["predicted"].show("", unreadable=True) == "unreadable"
    assert BY_NAME["predicted"].show("dog", unreadable=False) == "dog"
    assert BY_NAME["confidence"].show(0.5, unreadable=True) == ""
    assert BY_NAME["path"].show("x/a.png", unreadable=True) == "a.png"  # None: the value itself


def test_only_aggregated_columns_have_a_summed_figure():
    # bug: a column without an aggregate answering with None instead of saying so
    assert BY_NAME["pointing_hit"].summed.key == "pointing"
    with pytest.raises(ValueError, match="review column path declares no aggregate"):
        BY_NAME["path"].summed  # noqa: B018


def test_numbers_sort_with_missing_first_and_text_by_lower_case_then_path():
    # bugs: missing numbers sorted as 0 or last; text sorted case-sensitively or ties not by path
    assert BY_NAME["confidence"].numeric and not BY_NAME["label"].numeric
    assert BY_NAME["confidence"].sort_key(None, "a") == -math.inf
    # a comparison's rank correlation reaches -1: a missing one must still sort before it
    spearman = next(c for c in comparison_columns() if c.name == "map_spearman")
    assert spearman.sort_key(None, "a") < spearman.sort_key(-1.0, "b")
    assert BY_NAME["confidence"].sort_key(0.25, "a") == 0.25
    assert BY_NAME["label"].sort_key("Cat", "b.png") == "cat\0b.png"
    assert BY_NAME["label"].sort_key(None, "b.png") == "\0b.png"


def test_types_in_words_for_the_readme():
    # bug: "may be empty" missing, or written for text and for non-nullable columns
    assert [BY_NAME[n].type_name() for n in ("label", "label_index", "confidence", "correct", "empty_map")] == [
        "text", "integer, may be empty", "number, may be empty", "0 / 1, may be empty", "0 / 1"]


def test_a_declared_row_type_reads_both_optional_spellings_and_refuses_other_types():
    # bugs: `Optional[int]` (typing.Union) not read as nullable, a union without None read as
    # nullable, a declared default lost or given to a required field, a list type accepted
    @dataclass
    class Row:
        key: str = column("a key")
        count: typing.Optional[int] = column("a count", default=None)  # noqa: UP045 - the spelling under test
        size: float | None = column("a size", default=None)
        ratio: int | float = column("a ratio", default=1)
        name: str = column("a name", default="none")

    assert [(c.name, c.kind, c.nullable, c.help) for c in declared(Row)] == [
        ("key", str, False, "a key"), ("count", int, True, "a count"), ("size", float, True, "a size"),
        ("ratio", int, False, "a ratio"), ("name", str, False, "a name")]
    assert Row("k") == Row("k", None, None, 1, "none")
    with pytest.raises(TypeError):
        Row()  # type: ignore[call-arg]

    @dataclass
    class Bad:
        tags: list = column("tags", default=None)

    with pytest.raises(TypeError, match="review column tags: type must be"):
        declared(Bad)


def test_yes_no_formats_answer_for_true_false_and_missing():
    # bug: a two-word format showing a missing value as a word, or a value as the wrong word
    from engine.review.columns import _words

    words = _words("on", "off")
    assert [words(True), words(1), words(False), words(0), words(None)] == ["on", "on", "off", "off", "–"]


def test_a_column_without_default_is_required():
    # bug: column() giving every field a default, so a row without a path can be made
    with pytest.raises(TypeError):
        ReviewRow(label="cat")  # type: ignore[call-arg]


def _rows() -> list[ReviewRow]:
    return [
        ReviewRow("b/1.png", "b", 1, "b", 1, 0.9, True, pointing_hit=True, energy_inside=0.8, flag="clear"),
        ReviewRow("a/2.png", "a", 0, "b", 1, 0.6, False, pointing_hit=False, energy_inside=0.2,
                  flag="off-defect survives-removal", empty_map=True),
        ReviewRow("3.png", None, None, "a", 0, 0.7, None),
        ReviewRow("a/4.png", "a", None, error="cannot read"),
    ]


def test_row_columns_fill_missing_values_and_code_labels():
    # bugs: missing values not filled, a label code off, "no label" not sorted first
    source = RowColumns(_rows())
    assert source.numpy("label_index").tolist() == [1, 0, -1, -1]
    assert source.numpy("confidence", 0.0).tolist() == [0.9, 0.6, 0.7, 0.0]
    assert source.mask_of("correct").tolist() == [True, True, False, False]
    assert source.contains("flag", "off-defect").tolist() == [False, True, False, False]
    codes, names = source.label_codes()
    assert names == ["", "a", "b"] and codes.tolist() == [2, 1, 0, 1]
    empty = RowColumns([]).numpy("confidence", 0.0)
    assert empty.shape == (0,) and empty.dtype == np.float64
    assert RowColumns([]).contains("flag", "clear").dtype == bool  # a mask even over no rows
    assert RowColumns([]).numpy("correct", False).dtype == bool  # a column of no rows keeps its fill's type
    assert RowColumns([]).label_codes()[0].dtype == np.int64


def test_cached_columns_keep_true_and_one_apart():
    # bug: the cache keyed by value only, so numpy(name, True) answers numpy(name, 1)'s array
    source = Cached(RowColumns(_rows()))
    assert source.numpy("correct", True).dtype == bool
    assert source.numpy("correct", 1).tolist() == [1, 0, 1, 1]
    assert source.numpy("correct", True).tolist() == [True, False, True, True]
    assert len(source) == 4 and source.mask_of("correct").tolist() == [True, True, False, False]
    assert source.contains("flag", "clear").tolist() == [True, False, False, False]
    assert source.contains("flag", "off-defect").tolist() == [False, True, False, False]  # not the cached "clear"
    assert source.label_codes()[1] == ["", "a", "b"]


def test_each_flag_selects_its_rows():
    # bugs: a flag's rule inverted, a missing value counted as a hit or a miss
    source = RowColumns(_rows())
    expected = {
        "misclassified": [False, True, False, False], "correct": [True, False, False, False],
        "pointing miss": [False, True, False, False], "no mask": [False, False, True, True],
        "empty map": [False, True, False, False], "unreadable": [False, False, False, True],
        "off-defect": [False, True, False, False], "survives-removal": [False, True, False, False],
        "clear": [True, False, False, False],
    }
    assert list(expected) == list(FLAG_NAMES)
    assert {name: flag_mask(source, name).tolist() for name in FLAG_NAMES} == expected
    with pytest.raises(ValueError, match="unknown flag 'nonsense'; one of misclassified, correct, "):
        flag_mask(source, "nonsense")


def test_means_skip_missing_values_and_count_booleans_as_shares():
    # bugs: a missing value counted as 0 (or False), a label without values given 0 instead of None
    source = RowColumns(_rows())
    keep = np.array([True, True, True, True])
    found = means(source, keep, aggregated(registry()))
    assert found == {"accuracy": 0.5, "pointing": 0.5, "energy_inside": pytest.approx(0.5), "iou": None}
    only_third = means(source, np.array([False, False, True, False]), aggregated(registry()))
    assert only_third == {"accuracy": None, "pointing": None, "energy_inside": None, "iou": None}


def test_trust_columns_aggregate_apart():
    # bug: trust columns mixed into the summary's per-label figures (or left out of the trust object)
    assert [c.name for c in aggregated(registry(), trust=True)] == [
        "deletion_auc", "insertion_auc", "random_deletion_auc", "random_insertion_auc", "pixel_auroc"]
    assert "deletion_auc" not in [c.name for c in aggregated(registry())]


def test_figures_show_as_percent_or_number():
    # bug: a share shown as a number or a mean as a percentage
    assert figure_text(BY_NAME["correct"], 0.5) == "50.0%"
    assert figure_text(BY_NAME["iou"], 0.5) == "0.500"
    assert figure_text(BY_NAME["iou"], None) == "–"


def test_cells_round_trip_with_booleans_as_digits_and_missing_as_empty():
    # bugs: a boolean written as True/False, None as "None", a float's digits cut, "0" read as True
    row = ReviewRow("a/1.png", None, None, "b", 1, 0.123456789, False, pointing_hit=True, empty_map=False)
    cells = dict(zip(column_names(), row_to_cells(row), strict=True))
    assert (cells["label"], cells["label_index"], cells["confidence"]) == ("", "", "0.123457")
    assert (cells["correct"], cells["pointing_hit"], cells["empty_map"], cells["predicted_index"]) == (
        "0", "1", "0", "1")
    back = row_from_cells(cells)
    assert back == ReviewRow("a/1.png", None, None, "b", 1, 0.123457, False, pointing_hit=True)
    assert back.label is None and back.correct is False and back.empty_map is False


def test_an_older_csv_without_a_column_reads_with_its_default():
    # bugs: the columns present ignored (a missing one refused) or an empty flag not read as False
    record = {"path": "a.png", "label": "a", "label_index": "", "empty_map": ""}
    row = row_from_cells(record, present=tuple(record))
    assert row == ReviewRow("a.png", "a", None)
    with pytest.raises(ValueError, match="incomplete record"):
        row_from_cells({"path": "a.png"})


@pytest.mark.parametrize("names", [["label"], ["path", "colour"], ["path", "path"]])
def test_a_header_from_elsewhere_is_refused(names):
    # bugs: a header without `path`, with an unknown column or a repeated one accepted
    with pytest.raises(ValueError, match="not those of a ConvScope review"):
        check_header(names)


def test_an_older_header_is_accepted():
    # bug: a subset of this version's columns (an older review) refused
    assert check_header(["path", "label", "correct"]) is None  # no ValueError


def test_the_csv_keeps_its_rows_and_drops_a_broken_line(tmp_path):
    # bugs: the header written per batch, a batch not flushed, a bad line ending the read
    path = tmp_path / "results.csv"
    rows = _rows()
    path.write_text("old", encoding="utf-8")
    writer = CsvAppender(path, rows[:1])
    writer.append(rows[1:3])
    assert read_rows(path) == rows[:3]  # flushed before close
    writer.append(rows[3:])
    writer.close()
    writer.close()
    with pytest.raises(ValueError):  # closed: no row is written after the end
        writer.append(rows[:1])
    assert read_rows(path) == rows
    assert not (tmp_path / "results.csv.part").exists()
    with open(path, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x.png", "a", "not a number"])
        writer.writerow(row_to_cells(rows[0]))  # a good line after the broken one
    assert read_rows(path) == rows + rows[:1]
    assert path.read_text(encoding="utf-8").count("path,label") == 1


def test_a_csv_from_elsewhere_is_refused(tmp_path):
    # bug: a foreign CSV read as an empty review
    path = tmp_path / "other.csv"
    path.write_text("name,size\na,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not those of a ConvScope review"):
        read_rows(path)


def test_an_older_csv_reads_with_the_columns_it_has(tmp_path):
    # bug: each record checked against this version's columns, so every row of an older review is dropped
    path = tmp_path / "results.csv"
    path.write_text("path,label,label_index,correct\na.png,a,0,1\nb.png,,,\n", encoding="utf-8")
    assert read_rows(path) == [ReviewRow("a.png", "a", 0, correct=True), ReviewRow("b.png", None, None)]


def test_a_note_with_line_breaks_reads_back_unchanged(tmp_path):
    # bug: the CSV opened with newline translation, so a quoted \r\n in a cell comes back as \n
    row = ReviewRow("a.png", "a", 0, note="first line\r\nsecond, line")
    CsvAppender(tmp_path / "results.csv", [row]).close()
    assert read_rows(tmp_path / "results.csv") == [row]
