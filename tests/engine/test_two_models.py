"""engine.review.two_models: the comparison job the window runs, and reading a comparison folder
back (the Review tab's comparison mode opens it)."""

from __future__ import annotations

import pytest

from engine.errors import OutputPathError
from engine.review.compare import ComparisonRow
from engine.review.compare_output import ComparisonOutput
from engine.review.two_models import compare_lot, read_comparison

ROWS = [ComparisonRow("crack/a.png", "crack", "crack", "ok", 0.9, 0.6, False, -0.25, 0.1),
        ComparisonRow("ok/b.png", "ok", "ok", "ok", 0.8, 0.7, True, 0.5, None),
        ComparisonRow("ok/c.png", None, "", "", None, None, None, None, None, error="A: unreadable")]


def test_an_interrupted_comparison_reads_back_from_its_csv(tmp_path):
    output = ComparisonOutput(tmp_path / "out", {"model_a": "a.keras"})
    output.on_rows(ROWS)  # the process ended here: no comparison.json, no Parquet copy
    output._handle.close()
    rows, summary = read_comparison(tmp_path / "out")
    assert rows == ROWS  # every type back: None, booleans, floats (6 significant digits), text
    assert summary["complete"] is False and summary["images"] == 3
    assert summary["flips"] == 1 and summary["agreement"] == pytest.approx(0.5)
    assert summary["verdict_a"] is None and summary["mean_map_spearman"] == pytest.approx(0.125)


def test_a_cut_line_is_dropped_and_a_folder_without_a_comparison_is_refused(tmp_path):
    output = ComparisonOutput(tmp_path / "out", {})
    output.on_rows(ROWS[:2])
    output._handle.close()
    with open(tmp_path / "out" / "comparison.csv", "a", encoding="utf-8") as handle:
        handle.write("ok/d.png,ok,ok,ok,0.5,not-a-number")
    assert [r.path for r in read_comparison(tmp_path / "out")[0]] == ["crack/a.png", "ok/b.png"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(OutputPathError, match="holds no comparison"):
        read_comparison(tmp_path / "empty")


def test_the_comparison_folder_must_not_be_the_images_folder(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(OutputPathError, match="not the images folder"):
        compare_lot(None, None, tmp_path, None, out=str(tmp_path))  # type: ignore[arg-type]
