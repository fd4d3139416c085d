"""What a comparison writes: comparison.csv / .parquet / .json, report.html and the pair overlays,
from comparisons of numpy black boxes (tests/numpy_runtime.py) and from hand-made rows."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from engine.errors import OutputPathError
from engine.review import ReviewOptions
from engine.review.compare import SHOWN, Comparison, ComparisonRow, compare_folder
from engine.review.compare_output import (
    CSV_NAME,
    JSON_NAME,
    PARQUET_NAME,
    REPORT_NAME,
    ComparisonOutput,
    columns,
    comparison_summary,
    group_summary,
    render_comparison,
)
from tests.numpy_runtime import region_session, write_lot

OCCLUSION = ReviewOptions("occlusion", batch_size=4, params={"patch": 4, "stride": 4, "fill": "zero"})


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Comparison:
    """The top-left model against the bottom-right one: both right, maps unlike."""
    lot = write_lot(tmp_path_factory.mktemp("lot") / "lot")
    return compare_folder(region_session(), region_session(slice(8, 16), slice(8, 16)), lot, OCCLUSION)


def row(path="ok/a.png", label="ok", agree=True, spearman=0.5, iou=0.5, **more) -> ComparisonRow:
    return ComparisonRow(path=path, label=label, agree=agree, map_spearman=spearman, map_top_iou=iou, **more)


def test_group_summary_counts_only_judged_images():
    # guards: images with an error counted as agreeing or as flips; means taken over missing maps as 0
    rows = [row(agree=True, spearman=1.0, iou=0.5), row(agree=False, spearman=0.0, iou=None),
            row(agree=True, spearman=None, iou=1.0), row(agree=None, spearman=None, iou=None)]
    summary = group_summary(rows, None, None)
    assert summary["images"] == 4 and summary["flips"] == 1
    assert summary["agreement"] == pytest.approx(2 / 3)
    assert summary["mean_map_spearman"] == pytest.approx(0.5) and summary["mean_map_top_iou"] == pytest.approx(0.75)
    assert summary["verdict_a"] is None and summary["verdict_reason_b"] is None


def test_group_summary_of_nothing_judged_has_no_figures():
    summary = group_summary([row(agree=None, spearman=None, iou=None)], None, None)
    assert summary["agreement"] is None and summary["mean_map_spearman"] is None and summary["flips"] == 0


def test_group_summary_takes_each_sides_verdict_from_its_own_trust():
    # guards: the two sides' verdicts or reasons swapped
    a = {"verdict": "right-reason", "verdict_reason": "lost when removed"}
    b = {"verdict": "shortcut-suspected", "verdict_reason": "survives removal"}
    summary = group_summary([row()], a, b)
    assert (summary["verdict_a"], summary["verdict_b"]) == ("right-reason", "shortcut-suspected")
    assert (summary["verdict_reason_a"], summary["verdict_reason_b"]) == ("lost when removed", "survives removal")


def test_summary_per_label_flips_and_largest_changes(comparison):
    # guards: per-label groups mixing labels, flips listed from agreeing rows, the moved list
    # highest first or unbounded
    rows = list(comparison.rows)
    rows[0] = replace(rows[0], agree=False, predicted_b="green")
    rows.append(row(path="loose.png", label=None, spearman=0.9))
    rows += [row(path=f"many/{i}.png", label="many", spearman=0.5 + i / 100) for i in range(SHOWN + 2)]
    summary = comparison_summary(replace(comparison, rows=tuple(rows)))
    assert set(summary["per_label"]) == {"blue", "green", "red", "(no label)", "many"}
    assert summary["per_label"]["blue"]["images"] == 2 and summary["per_label"]["(no label)"]["images"] == 1
    assert summary["per_label"]["blue"]["flips"] == 1 and summary["per_label"]["red"]["flips"] == 0
    assert summary["flipped"] == [{"path": rows[0].path, "label": rows[0].label, "predicted_a": rows[0].predicted_a,
                                   "predicted_b": "green"}]
    moved = [m["map_spearman"] for m in summary["evidence_moved_most"]]
    assert len(moved) == SHOWN and moved == sorted(moved) and moved[0] == min(r.map_spearman for r in rows)
    assert summary["evidence_moved_most"][0]["map_top_iou"] == 0.0
    assert summary["images"] == len(rows) and summary["flips"] == 1
    assert summary["accuracy_a"] == summary["accuracy_b"] == 1.0
    assert summary["complete"] is True and summary["seconds"] == round(comparison.seconds, 3)


def test_the_output_folder_gets_every_file(comparison, tmp_path):
    # guards: rows not flushed as they come, the Parquet copy or the pairs missing, files outside OUT
    out = tmp_path / "out"
    output = ComparisonOutput(out, {"model_a": "a.npy", "model_b": "b.npy", "images": "lot", "method": "occlusion"})
    output.on_rows(list(comparison.rows[:2]))
    with open(out / CSV_NAME, newline="", encoding="utf-8") as handle:
        assert len(list(csv.reader(handle))) == 3  # the header and the first rows, before the end
    output.on_rows(list(comparison.rows[2:]))
    summary = output.finish(comparison)
    with open(out / CSV_NAME, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert tuple(table[0]) == columns(False) and "flag_a" not in table[0]
    assert [r["path"] for r in table] == [r.path for r in comparison.rows]
    assert table[0]["agree"] == "1" and float(table[0]["map_spearman"]) == pytest.approx(comparison.rows[0].map_spearman)
    written = json.loads((out / JSON_NAME).read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(summary)) and written["run"]["model_b"] == "b.npy"
    pq = pytest.importorskip("pyarrow.parquet")
    assert pq.read_table(out / PARQUET_NAME).column("path").to_pylist() == [r.path for r in comparison.rows]
    pairs = sorted(p.relative_to(out).as_posix() for p in (out / "pairs").rglob("*.png"))
    assert pairs == sorted(f"pairs/{r.path[:-4]}.{side}.png" for r in comparison.rows for side in "ab")
    assert {p.name for p in tmp_path.iterdir()} == {"out"}
    report = (out / REPORT_NAME).read_text(encoding="utf-8")
    assert 'src="pairs/blue/blue_0.a.png"' in report
    assert '<div class="verdict no-trust">no verdict: run with --trust</div>' in report
    first = comparison.moved[0].row
    assert (f"A: {first.predicted_a} {first.probability_a:.3f} · B: {first.predicted_b} {first.probability_b:.3f}"
            f"<br>map Spearman {first.map_spearman:.3f}, top-10% IoU {first.map_top_iou:.3f}") in report


def test_trust_adds_its_columns(comparison, tmp_path):
    # guards: Parquet column types guessed from the values (a column of blanks would have no type)
    output = ComparisonOutput(tmp_path / "out", {"model_a": "a"}, trust=True)
    output.finish(comparison)
    with open(tmp_path / "out" / CSV_NAME, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == columns(True) and {"flag_a", "kept_after_removal_b"} <= set(header)
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    schema = pq.read_schema(tmp_path / "out" / PARQUET_NAME)
    assert schema.field("removal_probability_a").type == pa.float64()  # every value blank here
    assert schema.field("kept_after_removal_b").type == pa.bool_() and schema.field("flag_a").type == pa.string()
    assert (tmp_path / "out" / JSON_NAME).read_text(encoding="utf-8").startswith('{\n  "run": {\n    "model_a"')


@pytest.mark.parametrize("old", [CSV_NAME, JSON_NAME, "results.csv"])
def test_a_folder_holding_results_is_refused(tmp_path, old):
    # guards: an earlier comparison or review overwritten
    (tmp_path / old).write_text("kept", encoding="utf-8")
    with pytest.raises(OutputPathError, match=old):
        ComparisonOutput(tmp_path, {})
    assert (tmp_path / old).read_text(encoding="utf-8") == "kept"


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "out").write_text("a file", encoding="utf-8")
    with pytest.raises(OutputPathError, match="not a folder"):
        ComparisonOutput(tmp_path / "out", {})
    with pytest.raises(OutputPathError, match="cannot write"):
        ComparisonOutput(tmp_path / "out" / "inside", {})


def summary_for(comparison: Comparison, **changes) -> dict:
    summary = {"run": {"model_a": "a<1>.keras", "model_b": "b.tflite", "images": "lot", "method": "occlusion"},
               **comparison_summary(comparison)}
    summary.update(changes)
    return summary


def test_the_report_puts_both_verdicts_first_and_escapes_names(comparison):
    # guards: the verdicts' classes or sides swapped, a model or image name injected as HTML
    unsafe = replace(comparison.moved[0], row=replace(comparison.moved[0].row, path="<b>x</b>.png", label=None))
    partial = replace(comparison, moved=(unsafe,), complete=False)
    links = {id(unsafe): ("pairs/x.a.png", "pairs/x.b.png")}
    html = render_comparison(partial, summary_for(partial, verdict_a="right-reason", verdict_reason_a="fine & well",
                                                   verdict_b="shortcut-suspected", verdict_reason_b="off",
                                                   accuracy_b=0.5, agreement=0.25), links)
    first_a, first_b = html.index('class="verdict right-reason"'), html.index('class="verdict shortcut-suspected"')
    assert first_a < first_b < html.index("Largest map changes")
    assert "a&lt;1&gt;.keras" in html and "fine &amp; well" in html and "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;.png" in html and "(–)" in html  # no label
    assert "accuracy 100.0%" in html and "accuracy 50.0%" in html and "agreement 0.250" in html
    assert html.startswith("<!DOCTYPE html>") and "partial: 6 images" in html
    assert f"map Spearman {unsafe.row.map_spearman:.3f}" in html


def test_the_report_without_flips_or_figures(comparison):
    empty = replace(comparison, flips=(), moved=())
    html = render_comparison(empty, summary_for(empty, agreement=None, accuracy_a=None), {})
    assert "A left, B right</h2>\n<p>None.</p>\n<h2>Largest" in html
    assert "lowest map Spearman first): A left, B right</h2><p>None.</p>\n<h2>Figures" in html
    assert "agreement –" in html and "accuracy –" in html
    assert "complete: 6 images" in html and "Flipped predictions (first 0 of 0)" in html
    table = html[html.index("<h2>Per label</h2>"):html.index("<h2>Flipped")]
    assert table.count("<tr>") == 4
    blue = summary_for(empty)["per_label"]["blue"]
    assert (f"<tr><td class=name>blue</td><td>2</td><td>1.000</td><td>0</td><td>{blue['mean_map_spearman']:.3f}</td>"
            f"<td>{blue['mean_map_top_iou']:.3f}</td><td>–</td><td>–</td></tr>") in table
    assert table.startswith("<h2>Per label</h2><table><tr><th>label</th><th>images</th><th>agreement</th><th>flips"
                            "</th><th>map Spearman</th><th>top-10% IoU</th><th>verdict A</th><th>verdict B</th></tr>")


def test_the_label_table_shows_each_sides_verdict(comparison):
    summary = summary_for(comparison)
    summary["per_label"]["red"] = {**summary["per_label"]["red"], "verdict_a": "right-reason",
                                   "verdict_b": "shortcut-suspected"}
    html = render_comparison(comparison, summary, {id(s): ("a.png", "b.png") for s in comparison.moved})
    assert "<td>right-reason</td><td>shortcut-suspected</td></tr>" in html


def test_pair_overlays_show_each_sides_map(comparison, tmp_path):
    # guards: A's map drawn twice, or the overlay drawn without the map
    import cv2

    shown = comparison.moved[0]
    output = ComparisonOutput(tmp_path / "out", {})
    names = output._write_pair(shown)
    output.finish(comparison)
    a, b = (cv2.imread(str(tmp_path / "out" / name)) for name in names)
    assert a.shape == b.shape == shown.display.shape and not np.array_equal(a, b)


def test_the_report_header_names_both_models_the_lot_and_the_figures(comparison):
    # guards: a side's label, model name, the lot, the method or a mean figure left out of the header
    flipped = replace(comparison.moved[0], row=replace(comparison.moved[0].row, agree=False))
    with_flip = replace(comparison, flips=(flipped,))
    summary = summary_for(with_flip, flips=1, agreement=0.5)
    html = render_comparison(with_flip, summary, {id(flipped): ("fa.png", "fb.png"),
                                                  **{id(s): ("a.png", "b.png") for s in comparison.moved}})
    assert "<h3>A: <span class=mono>a&lt;1&gt;.keras</span></h3>" in html
    assert "<h3>B: <span class=mono>b.tflite</span></h3>" in html
    assert ("<p>complete: 6 images of <span class=mono>lot</span>, method\nocclusion; agreement 0.500 (1 flipped);\n"
            f"mean map Spearman {summary['mean_map_spearman']:.3f}; mean top-10% IoU "
            f"{summary['mean_map_top_iou']:.3f}</p>") in html
    flips = html[html.index("<h2>Flipped predictions (first 1 of 1)"):html.index("<h2>Largest")]
    assert '<img src="fa.png" alt="A"> <img src="fb.png" alt="B">' in flips
    bare = render_comparison(comparison, {**summary_for(comparison), "run": {}}, {id(s): ("a", "b")
                                                                                for s in comparison.moved})
    assert "<h3>A: <span class=mono></span></h3>" in bare and "images of <span class=mono></span>, method\n;" in bare


def test_per_label_verdicts_come_from_each_sides_trust(comparison):
    # guards: A's per-label trust dropped or looked up under another label
    def trust(verdict):
        group = {"verdict": verdict, "verdict_reason": f"{verdict} because"}
        return {"overall": group, "per_label": {"blue": group}}

    judged = replace(comparison, a=replace(comparison.a, trust=trust("right-reason")),
                     b=replace(comparison.b, trust=trust("shortcut-suspected")))
    per_label = comparison_summary(judged)["per_label"]
    assert (per_label["blue"]["verdict_a"], per_label["blue"]["verdict_b"]) == ("right-reason", "shortcut-suspected")
    assert per_label["blue"]["verdict_reason_a"] == "right-reason because"
    assert per_label["red"]["verdict_a"] is None and per_label["red"]["verdict_b"] is None
