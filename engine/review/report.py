"""A self-contained HTML report of a review: inline CSS, overlays linked relatively."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from typing import Any

from engine.review import trust_report
from engine.review.columns import aggregated, figure_text
from engine.review.rows import ReviewRow, registry
from engine.review.stats import LabelStats, ReviewResult, figures_line, worst_cases

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td.name,th.name{text-align:left}.meta td{text-align:left}
.status{display:inline-block;padding:2px 8px;border-radius:4px;background:#dfd}.status.partial{background:#fdd}
.confusion td.diag{font-weight:bold;outline:2px solid #4a4}
.sheet{display:flex;flex-wrap:wrap;gap:12px}.sheet figure{margin:0;width:200px;font-size:.8em}
.sheet img{width:200px;height:auto;border:1px solid #999}.bad{color:#b00}.mono{font-family:monospace}
"""


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _method_text(method: str | None) -> str | None:
    """The method's name, saying when its map (and so its mask scores) is about the image, not a class."""
    from engine.methods import METHODS

    if method is not None and method in METHODS and METHODS[method].class_agnostic:
        return f"{method} (class-agnostic: the mask scores are about the image, against every defect)"
    return method


def _meta_table(run: dict[str, Any], result: ReviewResult) -> str:
    items = [
        ("ConvScope version", run.get("convscope_version")), ("date", run.get("date")),
        ("model", run.get("model")), ("model SHA-256", run.get("model_sha256")),
        ("images", run.get("images")), ("method", _method_text(run.get("method"))), ("layer", run.get("layer") or "(input)"),
        ("method parameters", json.dumps(run.get("params", {}), sort_keys=True)),
        ("explained class", run.get("target")), ("preprocessing", run.get("preprocessing")),
        ("pointing-game tolerance", f"{run.get('tolerance')} px"),
        ("IoU threshold", run.get("threshold")), ("batch size", run.get("batch_size")),
        ("images reviewed", f"{len(result.rows)} of {result.total}"),
    ]
    body = "".join(f"<tr><th class=name>{escape(k)}</th><td class=mono>{escape(str(v))}</td></tr>"
                   for k, v in items)
    return f"<table class=meta>{body}</table>"


def _confusion_table(result: ReviewResult) -> str:
    names = result.class_names
    matrix = result.confusion
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    lines = []
    for i, name in enumerate(names):
        total = max(1, int(matrix[i].sum()))
        cells = []
        for j in range(len(names)):
            share = matrix[i, j] / total
            style = f' style="background:rgba(60,120,220,{0.08 + 0.6 * share:.2f})"' if matrix[i, j] else ""
            cells.append(f"<td{' class=diag' if i == j else ''}{style}>{int(matrix[i, j])}</td>")
        lines.append(f"<tr><th class=name>{escape(name)}</th>{''.join(cells)}<td>{int(matrix[i].sum())}</td></tr>")
    return (f"<table class=confusion id=confusion-matrix><tr><th class=name>true \\ predicted</th>{head}"
            f"<th>total</th></tr>{''.join(lines)}</table>")


def _label_row(stats: LabelStats) -> str:
    figures = [figure_text(c, stats.figures.get(c.summed.key)) for c in aggregated(registry())]
    cells = [stats.images, f"{stats.correct}/{stats.labelled}" if stats.labelled else "–", stats.with_mask,
             *figures, stats.errors]
    return f"<tr><td class=name>{escape(stats.label)}</td>{''.join(f'<td>{c}</td>' for c in cells)}</tr>"


def _label_table(result: ReviewResult) -> str:
    titles = "".join(f"<th>{escape(c.summed.title)}</th>" for c in aggregated(registry()))
    head = (f"<tr><th class=name>label (folder)</th><th>images</th><th>correct</th><th>with mask</th>{titles}"
            "<th>errors</th></tr>")
    rows = "".join(_label_row(s) for s in (*result.per_label, result.overall))
    return f"<table class=labels id=per-class>{head}{rows}</table>"


def _figure(row: ReviewRow, link: str | None) -> str:
    picture = f'<img src="{escape(link)}" alt="{escape(row.path)}" loading="lazy">' if link else "<p>(no overlay)</p>"
    verdict = "" if row.correct is None else ("correct" if row.correct else "<b class=bad>misclassified</b>")
    confidence = f" ({row.confidence:.2f})" if row.confidence is not None else ""
    local = (f"<br>energy {_num(row.energy_inside)}, IoU {_num(row.iou)}, "
             f"{'hit' if row.pointing_hit else '<span class=bad>miss</span>'}") if row.has_mask else ""
    flagged = " class=flagged" if row.flag and row.flag != "clear" else ""
    return (f"<figure{flagged}>{picture}<figcaption><span class=mono>{escape(row.path)}</span><br>"
            f"{escape(row.label or '–')} → {escape(row.predicted)}{confidence} {verdict}{local}"
            f"{trust_report.flag_caption(row)}</figcaption></figure>")


def _contact_sheet(result: ReviewResult, link: Callable[[ReviewRow], str | None]) -> str:
    worst = trust_report.flagged_first(result.rows, worst_cases(result.rows))
    if not worst:
        return "<p>No misclassified images and no images with a mask.</p>"
    return f"<div class=sheet>{''.join(_figure(row, link(row)) for row in worst)}</div>"


def _errors(result: ReviewResult) -> str:
    failed = [r for r in result.rows if r.error]
    if not failed:
        return ""
    items = "".join(f"<li><span class=mono>{escape(r.path)}</span>: {escape(r.error)}</li>" for r in failed[:200])
    return f"<h2>Images not reviewed ({len(failed)})</h2><ul>{items}</ul>"


_DEFINITIONS = """<h2>Metrics</h2><ul>
<li><b>Pointing game</b> (Zhang et al. 2016): a hit when the heatmap maximum lies in the mask or within the
tolerance (in pixels of the image) of it; the share of hits among images with a mask.</li>
<li><b>Energy in mask</b> (energy-based pointing game, Wang et al. 2020, Score-CAM): the sum of the heatmap
inside the mask divided by its sum over the whole image.</li>
<li><b>IoU</b>: intersection over union of the emphasized region (heatmap ≥ threshold) with the mask.</li>
<li>Masks are binary (non-zero = defect), except class-index masks: when every non-zero value is a class
index and the explained class occurs, only that class's pixels count.</li></ul>"""


def render_report(result: ReviewResult, run: dict[str, Any], status: str,
                  link: Callable[[ReviewRow], str | None]) -> str:
    """The report as one HTML document; `link(row)` gives an overlay's relative path or None."""
    partial = "" if status == "complete" else " partial"
    overall = result.overall
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ConvScope review: {escape(str(run.get('images', '')))}</title>
<style>{_CSS}{trust_report.CSS}</style></head><body>
<h1>ConvScope review</h1>
{trust_report.verdict_banner(result)}
<p><span class="status{partial}">{escape(status)}</span> {len(result.rows)} of {result.total} images;
{escape(figures_line(overall, "; "))}</p>
{_meta_table(run, result)}
<h2>Confusion matrix</h2>{_confusion_table(result)}
<h2>Per-class accuracy and localisation</h2>{_label_table(result)}
{trust_report.trust_section(result)}
<h2>Worst cases</h2><p>Misclassified images (most confident first) and the lowest energy inside the mask.
White outline: the mask region scored; magenta cross: the heatmap peak.</p>{_contact_sheet(result, link)}
{_errors(result)}{_DEFINITIONS}{trust_report.DEFINITIONS if result.trust else ''}
</body></html>
"""
