"""Writing a comparison into one output folder: comparison.csv (+ .parquet), comparison.json,
report.html and the overlays of the images it shows. Nothing is written outside that folder."""

from __future__ import annotations

import csv
import json
import os
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import OutputPathError
from engine.maps.render import overlay, write_png
from engine.review.compare import (
    SHOWN,
    Comparison,
    ComparisonRow,
    Shown,
    comparison_columns,
)
from engine.review.outdir import _write_text
from engine.review.rows import _cell

CSV_NAME, PARQUET_NAME, JSON_NAME, REPORT_NAME, PAIRS = (
    "comparison.csv", "comparison.parquet", "comparison.json", "report.html", "pairs")
_OLD = (CSV_NAME, JSON_NAME, "results.csv")


def columns(trust: bool) -> tuple[str, ...]:
    """The CSV columns: the trust ones only with --trust."""
    return tuple(c.name for c in comparison_columns(trust))


class ComparisonOutput:
    """An output folder being filled by a comparison (refuses one that already holds results)."""

    def __init__(self, folder: str | os.PathLike, run: dict[str, Any], trust: bool = False) -> None:
        """Create the folder and start comparison.csv with its header."""
        self.folder, self.run, self.trust = Path(folder), dict(run), trust
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputPathError(f"{self.folder}: exists and is not a folder")
        old = [name for name in _OLD if (self.folder / name).exists()]
        if old:
            raise OutputPathError(f"{self.folder}: already holds {old[0]}; choose an empty output folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.folder / CSV_NAME, "w", newline="", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise OutputPathError(f"{self.folder}: cannot write ({exc.strerror or exc})") from None
        self.columns = columns(trust)
        self._writer = csv.writer(self._handle)
        self._writer.writerow(self.columns)

    def on_rows(self, rows: list[ComparisonRow]) -> None:
        """Append a batch's rows and flush them to disk."""
        self._writer.writerows([_cell(getattr(r, c)) for c in self.columns] for r in rows)
        self._handle.flush()

    def close(self) -> None:
        """Close comparison.csv (what was written stays readable): for a run that failed part-way."""
        self._handle.close()

    def finish(self, comparison: Comparison) -> dict[str, Any]:
        """Write comparison.json, the Parquet copy, the pair overlays and report.html; returns the summary."""
        self.close()
        summary = {"run": self.run, **comparison_summary(comparison)}
        _write_text(self.folder / JSON_NAME, json.dumps(summary, indent=2) + "\n")
        self._write_parquet(comparison.rows)
        links = {id(s): self._write_pair(s) for s in (*comparison.flips, *comparison.moved)}
        _write_text(self.folder / REPORT_NAME, render_comparison(comparison, summary, links))
        return summary

    def _write_parquet(self, rows: tuple[ComparisonRow, ...]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:  # the CSV holds the same rows; Parquet comes with the cluster and test extras
            return
        from engine.review.table import column_type

        schema = pa.schema([pa.field(c.name, column_type(c)) for c in comparison_columns(self.trust)])
        data = {name: [getattr(r, name) for r in rows] for name in self.columns}
        pq.write_table(pa.table(data, schema=schema), self.folder / PARQUET_NAME)

    def _write_pair(self, shown: Shown) -> tuple[str, str]:
        stem = Path(PAIRS) / Path(shown.row.path).with_suffix("")
        names = (f"{stem.as_posix()}.a.png", f"{stem.as_posix()}.b.png")
        for name, heatmap in zip(names, (shown.heatmap_a, shown.heatmap_b), strict=True):
            write_png(self.folder / name, overlay(shown.display, heatmap))
        return names


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def group_summary(rows: list[ComparisonRow], a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    """Agreement, mean map figures and both verdicts of a group of rows (`a`, `b`: each side's
    trust object for the group, or None without trust)."""
    judged = [r for r in rows if r.agree is not None]
    return {"images": len(rows), "agreement": (sum(1 for r in judged if r.agree) / len(judged)) if judged else None,
            "flips": sum(1 for r in judged if not r.agree),
            "mean_map_spearman": _mean([r.map_spearman for r in rows]),
            "mean_map_top_iou": _mean([r.map_top_iou for r in rows]),
            "verdict_a": a["verdict"] if a else None, "verdict_b": b["verdict"] if b else None,
            "verdict_reason_a": a["verdict_reason"] if a else None,
            "verdict_reason_b": b["verdict_reason"] if b else None}


def comparison_summary(comparison: Comparison) -> dict[str, Any]:
    """comparison.json's body: the overall figures, per label the same, and where to look."""
    a, b = comparison.a.trust, comparison.b.trust
    labels = sorted({r.label or "(no label)" for r in comparison.rows})
    per_label = {name: group_summary([r for r in comparison.rows if (r.label or "(no label)") == name],
                                     a["per_label"].get(name) if a else None, b["per_label"].get(name) if b else None)
                 for name in labels}
    flipped = [r for r in comparison.rows if r.agree is False]
    moved = sorted((r for r in comparison.rows if r.map_spearman is not None), key=lambda r: r.map_spearman or 0.0)
    return {**group_summary(list(comparison.rows), a["overall"] if a else None, b["overall"] if b else None),
            "complete": comparison.complete, "seconds": round(comparison.seconds, 3),
            "accuracy_a": comparison.a.overall.accuracy, "accuracy_b": comparison.b.overall.accuracy,
            "per_label": per_label,
            "flipped": [{"path": r.path, "label": r.label, "predicted_a": r.predicted_a,
                         "predicted_b": r.predicted_b} for r in flipped],
            "evidence_moved_most": [{"path": r.path, "label": r.label, "map_spearman": r.map_spearman,
                                     "map_top_iou": r.map_top_iou} for r in moved[:SHOWN]]}


_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}h2{border-bottom:1px solid #ccc}
.verdicts{display:flex;gap:16px}.verdicts>div{flex:1}
.verdict{padding:12px 16px;border-radius:6px;border:2px solid #999}.verdict b{text-transform:uppercase}
.verdict.right-reason{background:#e6f6e6;border-color:#3a3}.verdict.shortcut-suspected{background:#fde8e8;border-color:#c22}
.verdict.insufficient-data{background:#fff6dd;border-color:#c90}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f0f0f0}
td.name{text-align:left}.pairs{display:flex;flex-wrap:wrap;gap:16px}.pair{font-size:.8em}
.pair img{width:180px;border:1px solid #999}.mono{font-family:monospace}
"""


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _verdict(side: str, model: str, verdict: str | None, reason: str | None, accuracy: float | None) -> str:
    kind = escape(verdict or "no-trust")
    text = f"<b>{kind}</b><br>{escape(reason or '')}" if verdict else "no verdict: run with --trust"
    acc = "–" if accuracy is None else f"{accuracy:.1%}"
    return (f'<div><h3>{side}: <span class=mono>{escape(model)}</span></h3>'
            f'<div class="verdict {kind}">{text}</div><p>accuracy {acc}</p></div>')


def _pairs(shown: tuple[Shown, ...], links: dict[int, tuple[str, str]]) -> str:
    if not shown:
        return "<p>None.</p>"
    cells = []
    for s in shown:
        a, b = links[id(s)]
        r = s.row
        cells.append(f'<figure class=pair><img src="{escape(a)}" alt="A"> <img src="{escape(b)}" alt="B">'
                     f'<figcaption><span class=mono>{escape(r.path)}</span> ({escape(r.label or "–")})<br>'
                     f'A: {escape(r.predicted_a)} {_num(r.probability_a)} · B: {escape(r.predicted_b)} '
                     f'{_num(r.probability_b)}<br>map Spearman {_num(r.map_spearman)}, top-10% IoU '
                     f'{_num(r.map_top_iou)}</figcaption></figure>')
    return f"<div class=pairs>{''.join(cells)}</div>"


def _label_table(summary: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td class=name>{escape(name)}</td><td>{g['images']}</td><td>{_num(g['agreement'])}</td>"
                   f"<td>{g['flips']}</td><td>{_num(g['mean_map_spearman'])}</td><td>{_num(g['mean_map_top_iou'])}</td>"
                   f"<td>{escape(g['verdict_a'] or '–')}</td><td>{escape(g['verdict_b'] or '–')}</td></tr>"
                   for name, g in summary["per_label"].items())
    return ("<table><tr><th>label</th><th>images</th><th>agreement</th><th>flips</th><th>map Spearman</th>"
            f"<th>top-10% IoU</th><th>verdict A</th><th>verdict B</th></tr>{rows}</table>")


def render_comparison(comparison: Comparison, summary: dict[str, Any], links: dict[int, tuple[str, str]]) -> str:
    """The comparison report: both verdicts first, then the flips and the largest map changes side by side."""
    run = summary["run"]
    status = "complete" if comparison.complete else "partial"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ConvScope comparison</title><style>{_CSS}</style></head><body>
<h1>ConvScope comparison</h1>
<div class=verdicts>{_verdict("A", run.get("model_a", ""), summary["verdict_a"], summary["verdict_reason_a"],
                              summary["accuracy_a"])}
{_verdict("B", run.get("model_b", ""), summary["verdict_b"], summary["verdict_reason_b"], summary["accuracy_b"])}</div>
<p>{status}: {summary["images"]} images of <span class=mono>{escape(str(run.get("images", "")))}</span>, method
{escape(str(run.get("method", "")))}; agreement {_num(summary["agreement"])} ({summary["flips"]} flipped);
mean map Spearman {_num(summary["mean_map_spearman"])}; mean top-10% IoU {_num(summary["mean_map_top_iou"])}</p>
<h2>Per label</h2>{_label_table(summary)}
<h2>Flipped predictions (first {len(comparison.flips)} of {summary["flips"]}): A left, B right</h2>
{_pairs(comparison.flips, links)}
<h2>Largest map changes (lowest map Spearman first): A left, B right</h2>{_pairs(comparison.moved, links)}
<h2>Figures</h2><ul><li><b>agreement</b>: share of images both models give the same class.</li>
<li><b>map Spearman</b>: rank correlation of the two heatmaps of an image (1: the same order of evidence).</li>
<li><b>top-10% IoU</b>: intersection over union of the two maps' top 10 % pixels.</li>
<li>Verdicts (with --trust) as in a lot review: defect removal and evidence on the defect.</li></ul>
</body></html>
"""


__all__ = ["ComparisonOutput", "columns", "render_comparison"]
