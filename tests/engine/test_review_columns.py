"""The review columns' declarations drive both paths: a list of rows and a columnar review
folder answer every flag, every sort and every aggregate alike; headers from elsewhere are refused."""

from __future__ import annotations

import numpy as np
import pytest
from test_review_table import folder, random_rows  # noqa: F401 - the fixture and its rows (tests/engine is on the path)

from engine.review.columns import FLAG_NAMES, RowColumns, flag_mask
from engine.review.rows import check_header, column_names, registry
from engine.review.table import read_review_table


def test_every_flag_answers_alike_for_rows_and_columns(folder):  # noqa: F811
    root, rows = folder
    review = read_review_table(root)
    for flag in FLAG_NAMES:
        ours, theirs = flag_mask(RowColumns(rows), flag), review.flag_mask(flag)
        assert ours.tolist() == theirs.tolist(), flag
        assert 0 < ours.sum() < len(rows), flag  # the sample has rows with and without each flag
    assert flag_mask(RowColumns(rows), "misclassified").tolist() == [r.correct is False for r in rows]
    assert flag_mask(RowColumns(rows), "no mask").tolist() == [r.pointing_hit is None for r in rows]
    with pytest.raises(ValueError, match="unknown flag"):
        flag_mask(RowColumns(rows), "nonsense")


def test_the_window_sorts_rows_as_the_columnar_review_does(folder):  # noqa: F811
    root, rows = folder
    review = read_review_table(root)
    for item in (c for c in registry() if c.header):
        keys = [item.sort_key(getattr(r, item.name), r.path) for r in rows]
        expected = sorted(range(len(rows)), key=lambda i, k=keys: (k[i], i))
        assert review.sort_order(item.name).tolist() == expected, item.name


def test_cells_show_as_declared():
    by_name = {c.name: c for c in registry()}
    assert by_name["confidence"].show(0.5) == "50.0%" and by_name["confidence"].show(None) == "–"
    assert by_name["correct"].show(True) == "✓" and by_name["pointing_hit"].show(False) == "miss"
    assert by_name["path"].show("scratch/a.png") == "a.png" and by_name["label"].show(None) == "—"
    assert by_name["predicted"].show("ok", unreadable=True) == "unreadable"
    assert by_name["path"].show("a/b.png", unreadable=True) == "b.png" and by_name["iou"].show(0.5, True) == ""


def test_headers_from_an_older_version_pass_and_foreign_ones_do_not():
    check_header(column_names())
    check_header(column_names()[:20])  # before the trust columns
    for foreign in (("file", "label"), (*column_names(), "mystery"), ("label", "predicted"), ("path", "path")):
        with pytest.raises(ValueError):
            check_header(foreign)


def test_aggregates_skip_missing_values():
    from engine.review.columns import aggregated, means

    rows = random_rows(50)
    found = means(RowColumns(rows), np.ones(50, bool), aggregated(registry()))
    energy = [r.energy_inside for r in rows if r.energy_inside is not None]
    assert found["energy_inside"] == pytest.approx(np.mean(energy))
    assert found["accuracy"] == pytest.approx(np.mean([r.correct for r in rows if r.correct is not None]))
