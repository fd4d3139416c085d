"""Reading a finished review as columns: Parquet and CSV give the rows written; the columnar
summary, filters and sort orders agree with the row-by-row code (stats.summarise, Python
sorting); a generated million-row review reads into well under 1 GB."""

from __future__ import annotations

import numpy as np
import pytest

from bench.review_rows import write_generated_review
from engine.review.rows import CsvAppender, ReviewRow
from engine.review.stats import summarise
from engine.review.table import (
    PARQUET_NAME,
    ParquetAppender,
    read_review_table,
    rows_to_table,
    table_to_rows,
)

NAMES = ("ok", "scratch", "spot", "crack")


def random_rows(count: int, seed: int = 0) -> list[ReviewRow]:
    """Rows with every kind of missing value: no label, a label that is no class, no mask, errors."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        label = [None, "ok", "scratch", "spot", "crack", "other"][int(rng.integers(0, 6))]
        truth = NAMES.index(label) if label in NAMES else None
        if rng.random() < 0.05:
            rows.append(ReviewRow(f"{label or ''}/bad_{i}.png".lstrip("/"), label, truth, error="unreadable, truly"))
            continue
        guess = int(rng.integers(0, 4))
        masked = truth not in (None, 0) and rng.random() < 0.8
        rows.append(ReviewRow(
            path=f"{label or ''}/Img_{i:04d}.png".lstrip("/"), label=label, label_index=truth, predicted=NAMES[guess],
            predicted_index=guess, confidence=float(rng.random()), correct=None if truth is None else guess == truth,
            explained=NAMES[guess], explained_index=guess, peak_x=int(rng.integers(0, 96)),
            peak_y=int(rng.integers(0, 96)), mask="class" if masked else "",
            pointing_hit=bool(rng.random() < 0.7) if masked else None,
            energy_inside=float(rng.random()) if masked else None, iou=float(rng.random()) if masked else None,
            width=96, height=96, empty_map=bool(rng.random() < 0.1), note="a, note" if i % 7 == 0 else "",
            pixel_auroc=float(rng.random()) if masked else None,
            flag=("clear" if rng.random() < 0.5 else "off-defect; survives-removal") if masked else ""))
    return rows


@pytest.fixture()
def folder(tmp_path):
    rows = random_rows(300)
    csv = CsvAppender(tmp_path / "results.csv")
    parquet = ParquetAppender(tmp_path / PARQUET_NAME, part_rows=64)
    parquet.start()
    for start in range(0, len(rows), 16):
        csv.append(rows[start:start + 16])
        parquet.append(rows[start:start + 16])
    csv.close()
    parquet.close()
    return tmp_path, rows


def test_rows_survive_arrow_parquet_and_csv(folder):
    root, rows = folder
    assert table_to_rows(rows_to_table(rows)) == rows
    review = read_review_table(root)
    assert review.source == "parquet" and table_to_rows(review.table) == rows
    (root / PARQUET_NAME / sorted((root / PARQUET_NAME).iterdir())[-1].name).unlink()  # a part lost
    from_csv = read_review_table(root)
    assert from_csv.source == "csv"
    # The CSV writes floats with 6 significant digits and no label as "".
    for ours, theirs in zip(table_to_rows(from_csv.table), rows, strict=True):
        assert ours.path == theirs.path and (ours.label or None) == theirs.label and ours.note == theirs.note
        assert ours.correct == theirs.correct and ours.pointing_hit == theirs.pointing_hit
        assert ours.confidence == (None if theirs.confidence is None else pytest.approx(theirs.confidence, rel=1e-5))


def test_columnar_summary_equals_summarise(folder):
    root, rows = folder
    review = read_review_table(root)
    object.__setattr__(review, "summary", {"class_names": list(NAMES)})
    ours, theirs = review.result(), summarise(rows, NAMES)
    assert ours.confusion.tolist() == theirs.confusion.tolist()
    assert [s.label for s in ours.per_label] == [s.label for s in theirs.per_label]
    for mine, reference in zip((*ours.per_label, ours.overall), (*theirs.per_label, theirs.overall), strict=True):
        for name, value in vars(reference).items():
            assert getattr(mine, name) == (pytest.approx(value) if isinstance(value, float) else value), name


def test_filters_and_sort_orders_match_python(folder):
    root, rows = folder
    review = read_review_table(root)
    cell = review.filter_mask(cell=(1, 2))
    assert np.flatnonzero(cell).tolist() == [i for i, r in enumerate(rows) if (r.label_index, r.predicted_index) == (1, 2)]
    wrong = review.filter_mask(label="scratch", flag="misclassified")
    assert np.flatnonzero(wrong).tolist() == [i for i, r in enumerate(rows) if r.label == "scratch" and r.correct is False]
    none = review.filter_mask(label="", flag="unreadable")
    assert np.flatnonzero(none).tolist() == [i for i, r in enumerate(rows) if r.label is None and r.error]
    by_energy = review.sort_order("energy_inside")
    expected = sorted(range(len(rows)), key=lambda i: -1.0 if rows[i].energy_inside is None else rows[i].energy_inside)
    assert by_energy.tolist() == expected
    by_predicted = review.sort_order("predicted")
    assert by_predicted.tolist() == sorted(range(len(rows)), key=lambda i: (rows[i].predicted.lower(), rows[i].path))
    off = review.filter_mask(flag="off-defect")
    assert np.flatnonzero(off).tolist() == [i for i, r in enumerate(rows) if "off-defect" in r.flag]
    with pytest.raises(ValueError, match="unknown flag"):
        review.filter_mask(flag="nonsense")


def test_a_million_rows_read_as_columns(tmp_path):
    root = write_generated_review(tmp_path / "big", 1_000_000, csv=False)
    review = read_review_table(root)
    assert len(review) == 1_000_000 and review.source == "parquet"
    assert review.table.nbytes < 300 * 2**20  # columnar: well under 1 GB
    summary = review.result()
    assert summary.overall.images == 1_000_000 and summary.confusion.sum() == summary.overall.labelled
    order = review.sort_order("confidence")
    confidence = review.numpy("confidence")
    assert np.all(np.diff(confidence[order]) >= 0)
    cell = review.filter_mask(cell=(2, 1))
    assert cell.sum() == summary.confusion[2, 1]
