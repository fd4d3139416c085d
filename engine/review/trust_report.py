"""The trust parts of the HTML report: the verdict banner, the per-class table with the
curves averaged per class (inline SVG), the flagged images first, and the definitions."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from engine.review.rows import ReviewRow
from engine.review.stats import ReviewResult

CSS = """
.verdict{padding:14px 18px;border-radius:6px;margin:12px 0;font-size:1.1em;border:2px solid}
.verdict b{font-size:1.3em;text-transform:uppercase;letter-spacing:.04em}
.verdict.right-reason{background:#e6f6e6;border-color:#3a3}.verdict.shortcut-suspected{background:#fde8e8;border-color:#c22}
.verdict.insufficient-data{background:#fff6dd;border-color:#c90}
.tag{padding:1px 6px;border-radius:3px;font-size:.85em}.tag.right-reason{background:#dfd}
.tag.shortcut-suspected{background:#fcc}.tag.insufficient-data{background:#ffd}
.curves{display:flex;flex-wrap:wrap;gap:16px}.curves figure{margin:0;font-size:.8em}
.flagged img{outline:3px solid #c22}
"""

_COLOURS = {"map": "#1f5fbf", "random": "#999999"}


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def verdict_banner(result: ReviewResult) -> str:
    """The lot's verdict in a box a reader cannot miss ("" without trust figures)."""
    if not result.trust:
        return ""
    overall = result.trust["overall"]
    kind = escape(overall["verdict"])
    return (f'<div class="verdict {kind}" id=verdict><b>{kind}</b><br>{escape(overall["verdict_reason"])}. '
            f'{overall["flagged"]} image(s) flagged.</div>')


def _polyline(xs: Sequence[float], ys: Sequence[float], colour: str, dashed: bool, size: int) -> str:
    points = " ".join(f"{4 + x * (size - 8):.1f},{size - 4 - y * (size - 8):.1f}" for x, y in zip(xs, ys, strict=True))
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="1.6"{dash} points="{points}"/>'


def curves_svg(curves: dict[str, Any], kind: str, size: int = 150) -> str:
    """One mean curve (deletion or insertion) of the map (blue) and the random control (grey, dashed)."""
    xs = curves["fractions"]
    lines = "".join(_polyline(xs, curves[name][kind], _COLOURS[name], name == "random", size)
                    for name in ("random", "map"))
    frame = f'<rect x="4" y="4" width="{size - 8}" height="{size - 8}" fill="white" stroke="#bbb"/>'
    return (f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
            f'aria-label="{kind} curve">{frame}{lines}</svg>')


def _label_curves(label: str, figures: dict[str, Any]) -> str:
    curves = figures.get("mean_curves")
    if not curves:
        return ""
    return (f"<figure>{curves_svg(curves, 'deletion')}{curves_svg(curves, 'insertion')}<figcaption>"
            f"<b>{escape(label)}</b> ({curves['images']} images): deletion AUC {_num(figures['deletion_auc'])} "
            f"(random {_num(figures['random_deletion_auc'])}), insertion AUC {_num(figures['insertion_auc'])} "
            f"(random {_num(figures['random_insertion_auc'])})</figcaption></figure>")


def _unsure(group: dict[str, Any]) -> str:
    count = group.get("inconclusive_removals") or 0
    return f" ({count} inconclusive)" if count else ""


def trust_section(result: ReviewResult) -> str:
    """Per-label verdicts and figures, and the mean curves per class ("" without trust)."""
    if not result.trust:
        return ""
    groups = [*result.trust["per_label"].items(), ("all", result.trust["overall"])]
    head = ("<tr><th class=name>label</th><th class=name>verdict</th><th>kept after removal</th><th>AUPRO</th>"
            "<th>pixel AUROC</th><th>deletion AUC</th><th>insertion AUC</th><th>flagged</th>"
            "<th class=name>why</th></tr>")
    body = "".join(
        f"<tr><td class=name>{escape(name)}</td><td class=name><span class='tag {escape(g['verdict'])}'>"
        f"{escape(g['verdict'])}</span></td><td>{g['kept_after_removal']}/{g['removal_images']}{_unsure(g)}</td>"
        f"<td>{_num(g['aupro'])}</td><td>{_num(g['mean_pixel_auroc'])}</td><td>{_num(g['deletion_auc'])}</td>"
        f"<td>{_num(g['insertion_auc'])}</td><td>{g['flagged']}</td><td class=name>{escape(g['verdict_reason'])}</td></tr>"
        for name, g in groups)
    curves = "".join(_label_curves(name, g) for name, g in groups)
    legend = ("<p>Mean deletion (left) and insertion (right) curves per class: the explained class's probability "
              "against the fraction of pixels removed / inserted in the map's order (blue) and in a random order "
              "(grey, dashed).</p>")
    return (f"<h2>Trust: right for the right reason?</h2><table id=trust>{head}{body}</table>"
            + (f"{legend}<div class=curves>{curves}</div>" if curves else ""))


def flagged_first(rows: Sequence[ReviewRow], worst: Sequence[ReviewRow], count: int = 24) -> list[ReviewRow]:
    """Flagged images first (up to `count`), then the worst cases not already shown."""
    flagged = [r for r in rows if r.flag and r.flag != "clear"][:count]
    seen = {r.path for r in flagged}
    return flagged + [r for r in worst if r.path not in seen][: max(0, count - len(flagged))]


def flag_caption(row: ReviewRow) -> str:
    """The trust line of an image's caption ("" without trust figures)."""
    if not row.flag:
        return ""
    kept = "" if row.kept_after_removal is None else (
        f", after removal p={_num(row.removal_probability)} ({'kept' if row.kept_after_removal else 'lost'})")
    if row.kept_after_removal is False and row.mask_kind:
        kept += ("; control kept it" if row.control_kept_after_removal
                 else " <b>inconclusive</b>: " + ("the control lost it too" if row.control_kept_after_removal is False
                                                  else "no room for a control"))
    against = f" against the {escape(row.mask_kind)} ({escape(row.mask_source)}, outlined)" if row.mask_kind else ""
    style = " class=bad" if row.flag != "clear" else ""
    return f"<br><span{style}>{escape(row.flag)}</span>: pixel AUROC {_num(row.pixel_auroc)}{against}{kept}"


DEFINITIONS = """<h2>Trust metrics</h2><ul>
<li><b>Deletion / insertion AUC</b> (Petsiuk et al. 2018): the explained class's probability as the pixels are
replaced by a blurred copy (deletion) or restored into the blurred image (insertion) in the map's order; the
area under the curve over the fraction of pixels. Lower deletion and higher insertion than the random order mean
the map ranks the pixels the model uses.</li>
<li><b>Pixel AUROC</b>: the map as a per-pixel score for the defect mask (0.5 = chance, 1 = perfect).
<b>AUPRO</b> (Bergmann et al. 2021): the per-region overlap integrated up to 30 % false-positive rate, normalised.</li>
<li><b>Kept after removal</b>: the defect painted out (mask dilated, OpenCV Telea inpainting) and the image predicted
again; the explained class still predicted means the model did not need the defect. The <b>control</b> paints out the
same shape off the defect, on the most similar surface: a lost prediction counts only when the control kept it, else
the removal is <i>inconclusive</i> (a large box changes the prediction wherever it is painted out). Each figure names
what it was measured against (pixel mask, polygon, ellipse or box); pixel AUROC does not flag boxes and ellipses,
whose defect-free pixels a sharp map rightly ranks low.</li>
<li><b>Flags</b>: <i>off-defect</i> (energy in the mask under twice the mask's area share, or pixel AUROC under 0.7),
<i>survives-removal</i>. <b>Verdict</b> per class and lot over correctly classified images with a mask:
shortcut-suspected when at least half survive removal or have evidence off the defect; insufficient-data under 5
images; right-reason otherwise.</li></ul>"""
