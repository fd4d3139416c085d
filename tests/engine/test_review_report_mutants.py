"""report.html piece by piece: what the run table, the confusion matrix, the per-label table,
the worst-case pictures, the errors and the trust parts say, for a reader who opens the report
alone. Model-free, for every mutant of engine.review.report, trust_report and readme_columns.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from engine.review import readme_columns, report, trust_report
from engine.review.report import render_report, thumbnail_uri
from engine.review.rows import ReviewRow, registry
from engine.review.stats import summarise

CLASSES = ("ok", "scratch")


def _row(path="scratch/a.png", label="scratch", predicted=1, **more) -> ReviewRow:
    fields = dict(predicted=CLASSES[predicted], predicted_index=predicted, confidence=0.875,
                  correct=None if label is None else CLASSES.index(label) == predicted)
    fields.update(more)
    return ReviewRow(path, label, None if label is None else CLASSES.index(label), **fields)


def _result(rows, **trust):
    result = summarise(rows, CLASSES, total=len(rows) + 3)
    return dataclasses.replace(result, trust=trust["trust"]) if trust else result


RUN = {"convscope_version": "1.2", "date": "2026-12-06", "model": "m.keras", "model_sha256": "f00d",
       "images": "/lot/<x>", "method": "gradcam", "layer": "conv2", "params": {"b": 1, "a": 2}, "target": "label",
       "preprocessing": "unit", "tolerance": 2.5, "threshold": 0.4, "batch_size": 8}


def _cells(html: str) -> dict[str, str]:
    return dict(re.findall(r"<tr><th class=name>([^<]*)</th><td class=mono>([^<]*)</td></tr>", html))


def test_the_run_table_names_everything_that_produced_the_review():
    html = report._meta_table(RUN, _result([_row()]))
    assert _cells(html) == {
        "ConvScope version": "1.2", "date": "2026-12-06", "model": "m.keras", "model SHA-256": "f00d",
        "images": "/lot/&lt;x&gt;", "method": "gradcam", "layer": "conv2",
        "method parameters": "{&quot;a&quot;: 2, &quot;b&quot;: 1}", "explained class": "label",
        "preprocessing": "unit", "pointing-game tolerance": "2.5 px", "IoU threshold": "0.4", "batch size": "8",
        "images reviewed": "1 of 4"}
    bare = _cells(report._meta_table({}, _result([_row()])))
    assert bare["layer"] == "(input)" and bare["method parameters"] == "{}" and bare["method"] == "None"


def test_a_class_agnostic_method_says_so():
    assert report._method_text("eigencam") == ("eigencam (class-agnostic: the mask scores are about the image, "
                                               "against every defect)")
    assert report._method_text("gradcam") == "gradcam"
    assert report._method_text("no-such") == "no-such" and report._method_text(None) is None


def test_the_confusion_matrix_shades_by_share_and_totals_each_row():
    rows = [_row("scratch/a.png"), _row("scratch/b.png"), _row("scratch/c.png", predicted=0),
            _row("ok/d.png", "ok", 0)]
    html = report._confusion_table(_result(rows))
    assert html.startswith("<table class=confusion id=confusion-matrix><tr><th class=name>true \\ predicted</th>"
                           "<th>ok</th><th>scratch</th><th>total</th></tr>")
    assert "<tr><th class=name>ok</th><td class=diag style=\"background:rgba(60,120,220,0.68)\">1</td><td>0</td>" \
           "<td>1</td></tr>" in html
    assert "<tr><th class=name>scratch</th><td style=\"background:rgba(60,120,220,0.28)\">1</td>" \
           "<td class=diag style=\"background:rgba(60,120,220,0.48)\">2</td><td>3</td></tr>" in html
    empty = report._confusion_table(_result([_row("x.png", None)]))
    assert "<tr><th class=name>ok</th><td class=diag>0</td><td>0</td><td>0</td></tr>" in empty


def test_the_label_table_counts_images_correct_masks_and_errors():
    rows = [_row("scratch/a.png", mask="binary", pointing_hit=True, energy_inside=0.5, iou=0.25),
            _row("scratch/b.png", predicted=0), ReviewRow("scratch/c.png", "scratch", 1, error="unreadable")]
    html = report._label_table(_result(rows))
    assert html.startswith("<table class=labels id=per-class><tr><th class=name>label (folder)</th><th>images</th>"
                           "<th>correct</th><th>with mask</th>")
    line = re.search(r"<tr><td class=name>scratch</td>(.*?)</tr>", html).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", line)
    assert cells[:3] == ["3", "1/2", "1"] and cells[-1] == "1"
    unlabelled = report._label_table(_result([_row("x.png", None)]))
    assert re.findall(r"<td>([^<]*)</td>", re.search(r"<tr><td class=name>all</td>(.*?)</tr>", unlabelled)
                      .group(1))[1] == "–"


def test_thumbnails_keep_small_pictures_and_shrink_large_ones(tmp_path):
    small, tall = tmp_path / "s.png", tmp_path / "t.png"
    cv2.imwrite(str(small), np.full((30, 50, 3), 90, np.uint8))
    cv2.imwrite(str(tall), np.full((report.THUMBNAIL_SIDE * 2, 101, 3), 90, np.uint8))
    edge = tmp_path / "e.png"
    cv2.imwrite(str(edge), np.full((report.THUMBNAIL_SIDE, 10, 3), 90, np.uint8))

    def decoded(path):
        uri = thumbnail_uri(path)
        assert uri is not None and uri.startswith("data:image/jpeg;base64,")
        data = base64.b64decode(uri.split(",", 1)[1])
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)

    assert decoded(small).shape == (30, 50, 3)
    assert decoded(tall).shape == (report.THUMBNAIL_SIDE, 50, 3)  # 101 / 2 = 50.5 rounds to even
    assert decoded(edge).shape == (report.THUMBNAIL_SIDE, 10, 3)
    assert abs(int(decoded(small).mean()) - 90) <= 2
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert thumbnail_uri(tmp_path / "bad.png") is None and thumbnail_uri(tmp_path / "missing.png") is None
    assert report.THUMBNAIL_SIDE == 400 and report.THUMBNAIL_QUALITY == 85


def test_a_thumbnail_is_the_area_averaged_jpeg_of_the_overlay(tmp_path):
    rng = np.random.default_rng(1)
    picture = rng.integers(0, 255, (900, 300, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "p.png"), picture)
    small = cv2.resize(picture, (133, 400), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert thumbnail_uri(tmp_path / "p.png") == "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode()
    medium = tmp_path / "m.png"
    cv2.imwrite(str(medium), picture[:300, :150])  # under 400 px: kept at its size
    data = base64.b64decode(thumbnail_uri(medium).split(",", 1)[1])
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == (300, 150, 3)


@pytest.mark.parametrize("shape, thumbnail", [((4000, 3), (400, 1)), ((3, 4000), (1, 400))])
def test_a_thin_overlay_keeps_at_least_one_pixel(tmp_path, shape, thumbnail):
    cv2.imwrite(str(tmp_path / "t.png"), np.full((*shape, 3), 90, np.uint8))
    data = base64.b64decode(thumbnail_uri(tmp_path / "t.png").split(",", 1)[1])
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape[:2] == thumbnail


def test_the_readme_column_command_names_itself_in_its_help(capsys):
    with pytest.raises(SystemExit):
        readme_columns.main(["--help"])
    assert "usage: python -m engine.review.readme_columns" in capsys.readouterr().out


def test_the_thumbnail_quality_is_the_declared_one(tmp_path, monkeypatch):
    noisy = tmp_path / "n.png"
    cv2.imwrite(str(noisy), np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    good = len(thumbnail_uri(noisy))
    monkeypatch.setattr(report, "THUMBNAIL_QUALITY", 20)
    assert len(thumbnail_uri(noisy)) < good


def test_a_picture_is_embedded_and_linked_or_linked_or_missing(tmp_path):
    row = _row("scratch/<a>.png")
    cv2.imwrite(str(tmp_path / "o.png"), np.zeros((8, 8, 3), np.uint8))
    assert report._picture(row, None, tmp_path) == "<p>(no overlay)</p>"
    embedded = report._picture(row, "o.png", tmp_path)
    assert embedded.startswith('<a href="o.png" title="full size (in the overlays folder)"><img src="data:image/jpeg')
    assert embedded.endswith('alt="scratch/&lt;a&gt;.png" loading="lazy"></a>')
    assert report._picture(row, "o.png", None) == '<img src="o.png" alt="scratch/&lt;a&gt;.png" loading="lazy">'
    assert report._picture(row, "gone.png", tmp_path) == '<img src="gone.png" alt="scratch/&lt;a&gt;.png" loading="lazy">'


def test_a_figure_caption_says_label_prediction_confidence_and_localisation():
    wrong = report._figure(_row("scratch/a.png", predicted=0), None)
    assert "scratch → ok (0.88) <b class=bad>misclassified</b>" in wrong and "<figure>" in wrong
    right = report._figure(_row(mask="binary", pointing_hit=True, energy_inside=0.5, iou=None), None)
    assert "scratch → scratch (0.88) correct<br>energy 0.500, IoU –, hit" in right
    missed = report._figure(_row(mask="binary", pointing_hit=False, energy_inside=0.25, iou=0.125), None)
    assert "energy 0.250, IoU 0.125, <span class=bad>miss</span>" in missed
    unlabelled = report._figure(_row("x.png", None, confidence=None), None)
    assert "<span class=mono>x.png</span><br>– → scratch </figcaption>" in unlabelled
    assert "correct" not in unlabelled and "(0." not in unlabelled
    assert report._figure(_row(flag="off-defect"), None).startswith("<figure class=flagged>")
    assert report._figure(_row(flag="clear"), None).startswith("<figure>")


def test_the_contact_sheet_and_the_errors():
    assert report._contact_sheet(_result([_row("ok/a.png", "ok", 0)]), lambda r: None, None) == \
        "<p>No misclassified images and no images with a mask.</p>"
    sheet = report._contact_sheet(_result([_row("scratch/a.png", predicted=0)]), lambda r: "x.png", None)
    assert sheet.startswith("<div class=sheet><figure>") and '<img src="x.png"' in sheet
    assert report._errors(_result([_row()])) == ""
    failed = [_row(f"e/{i}.png", None, error=f"bad <{i}>") for i in range(205)]
    errors = report._errors(_result(failed))
    assert errors.startswith("<h2>Images not reviewed (205)</h2><ul><li><span class=mono>e/0.png</span>: bad &lt;0&gt;")
    assert errors.count("<li>") == 200


def test_the_whole_report_shows_status_title_and_sections():
    html = render_report(_result([_row()]), RUN, "complete", lambda r: None)
    assert "<title>ConvScope review: /lot/&lt;x&gt;</title>" in html
    assert '<span class="status">complete</span> 1 of 4 images;' in html
    assert "Trust metrics" not in html and "id=verdict" not in html and "<h2>Metrics</h2>" in html
    partial = render_report(_result([_row()]), {}, "interrupted", lambda r: None)
    assert '<span class="status partial">interrupted</span>' in partial and "<title>ConvScope review: </title>" in partial


def _group(**more):
    group = {"verdict": "right-reason", "verdict_reason": "fine <ok>", "flagged": 2, "kept_after_removal": 1,
             "removal_images": 4, "inconclusive_removals": 0, "aupro": 0.5, "mean_pixel_auroc": 0.75,
             "deletion_auc": 0.125, "insertion_auc": 0.875, "random_deletion_auc": 0.25,
             "random_insertion_auc": 0.625}
    group.update(more)
    return group


CURVES = {"fractions": [0.0, 0.5, 1.0], "images": 3, "map": {"deletion": [1.0, 0.2, 0.0], "insertion": [0.0, 0.8, 1.0]},
          "random": {"deletion": [1.0, 0.5, 0.0], "insertion": [0.0, 0.5, 1.0]}}


def test_the_verdict_banner_and_the_trust_table():
    trust = {"overall": _group(verdict="shortcut-suspected", verdict_reason="kept <4>"),
             "per_label": {"scratch": _group(inconclusive_removals=3, mean_curves=CURVES)}}
    result = _result([_row()], trust=trust)
    assert trust_report.verdict_banner(result) == ('<div class="verdict shortcut-suspected" id=verdict>'
                                                   "<b>shortcut-suspected</b><br>kept &lt;4&gt;. 2 image(s) flagged.</div>")
    assert trust_report.verdict_banner(_result([_row()])) == "" and trust_report.trust_section(_result([_row()])) == ""
    section = trust_report.trust_section(result)
    assert section.startswith("<h2>Trust: right for the right reason?</h2><table id=trust>")
    assert ("<tr><td class=name>scratch</td><td class=name><span class='tag right-reason'>right-reason</span></td>"
            "<td>1/4 (3 inconclusive)</td><td>0.500</td><td>0.750</td><td>0.125</td><td>0.875</td><td>2</td>"
            "<td class=name>fine &lt;ok&gt;</td></tr>") in section
    assert "<tr><td class=name>all</td>" in section and "<td>1/4</td>" in section
    assert section.count("<svg") == 2 and "<div class=curves><figure>" in section and "Mean deletion (left)" in section
    assert ("<b>scratch</b> (3 images): deletion AUC 0.125 (random 0.250), insertion AUC 0.875 (random 0.625)"
            in section)
    flat = trust_report.trust_section(_result([_row()], trust={"overall": _group(), "per_label": {}}))
    assert "<svg" not in flat and "Mean deletion" not in flat and "<div class=curves>" not in flat
    html = render_report(result, {}, "complete", lambda r: None)
    assert "Trust metrics" in html and html.index("id=verdict") < html.index("<table class=meta>")


def test_missing_figures_are_dashes():
    assert trust_report._num(None) == "–" and trust_report._num(0.12345) == "0.123"
    assert report._num(None) == "–" and report._num(1.0) == "1.000"
    assert trust_report._unsure({}) == "" and trust_report._unsure({"inconclusive_removals": None}) == ""
    assert trust_report._unsure({"inconclusive_removals": 1}) == " (1 inconclusive)"
    assert trust_report._label_curves("x", {}) == "" and trust_report._label_curves("x", {"mean_curves": None}) == ""


def test_a_curve_is_drawn_in_its_frame_the_control_dashed_under_the_map():
    svg = trust_report.curves_svg(CURVES, "insertion", size=100)
    assert svg.startswith('<svg width="100" height="100" viewBox="0 0 100 100" role="img" aria-label="insertion curve">'
                          '<rect x="4" y="4" width="92" height="92" fill="white" stroke="#bbb"/>')
    lines = re.findall(r"<polyline[^>]*>", svg)
    assert lines == ['<polyline fill="none" stroke="#999999" stroke-width="1.6" stroke-dasharray="4 3" '
                     'points="4.0,96.0 50.0,50.0 96.0,4.0"/>',
                     '<polyline fill="none" stroke="#1f5fbf" stroke-width="1.6" points="4.0,96.0 50.0,22.4 96.0,4.0"/>']
    assert svg.endswith("".join(lines) + "</svg>")
    assert 'width="150"' in trust_report.curves_svg(CURVES, "deletion")


def test_flagged_images_come_first_within_the_count():
    flagged = [_row(f"f/{i}.png", flag="off-defect") for i in range(3)]
    worst = [_row(f"w/{i}.png") for i in range(3)]
    rows = [_row("c.png", flag="clear"), *flagged, *worst]
    assert [r.path for r in trust_report.flagged_first(rows, worst, count=4)] == \
        ["f/0.png", "f/1.png", "f/2.png", "w/0.png"]
    assert [r.path for r in trust_report.flagged_first(rows, worst, count=2)] == ["f/0.png", "f/1.png"]
    again = [flagged[0], *worst]
    assert [r.path for r in trust_report.flagged_first(rows, again, count=5)] == \
        ["f/0.png", "f/1.png", "f/2.png", "w/0.png", "w/1.png"]
    assert len(trust_report.flagged_first(rows, worst)) == 6  # 24 places by default


@pytest.mark.parametrize("fields, caption", [
    ({}, ""),
    ({"flag": "clear", "pixel_auroc": 0.9}, "<br><span>clear</span>: pixel AUROC 0.900"),
    ({"flag": "survives-removal", "pixel_auroc": None, "kept_after_removal": True, "removal_probability": 0.75},
     "<br><span class=bad>survives-removal</span>: pixel AUROC –, after removal p=0.750 (kept)"),
    ({"flag": "clear", "pixel_auroc": 0.5, "kept_after_removal": False, "removal_probability": 0.25,
      "mask_kind": "box", "mask_source": "coco", "control_kept_after_removal": True},
     "<br><span>clear</span>: pixel AUROC 0.500 against the box (coco, outlined), after removal p=0.250 (lost); "
     "control kept it"),
    ({"flag": "clear", "pixel_auroc": 0.5, "kept_after_removal": False, "removal_probability": 0.25,
      "mask_kind": "pixel", "mask_source": "mask", "control_kept_after_removal": False},
     "<br><span>clear</span>: pixel AUROC 0.500 against the pixel (mask, outlined), after removal p=0.250 (lost) "
     "<b>inconclusive</b>: the control lost it too"),
    ({"flag": "clear", "pixel_auroc": 0.5, "kept_after_removal": False, "removal_probability": 0.25,
      "mask_kind": "pixel", "mask_source": "mask"},
     "<br><span>clear</span>: pixel AUROC 0.500 against the pixel (mask, outlined), after removal p=0.250 (lost) "
     "<b>inconclusive</b>: no room for a control"),
    ({"flag": "clear", "pixel_auroc": 0.5, "kept_after_removal": False, "removal_probability": 0.25},
     "<br><span>clear</span>: pixel AUROC 0.500, after removal p=0.250 (lost)"),
])
def test_the_trust_caption_of_an_image(fields, caption):
    assert trust_report.flag_caption(_row(**fields)) == caption


def _column(name, aggregate=None, trust=False, help="what | it is"):
    return SimpleNamespace(name=name, type_name=lambda: "number", header="Head", aggregate=aggregate, trust=trust,
                           help=help)


def test_the_readme_column_table_is_generated_from_the_declarations():
    columns = [_column("iou", SimpleNamespace(key="mean_iou")), _column("auroc", SimpleNamespace(key="auroc"), True),
               _column("path", help="file")]
    assert readme_columns.markdown_table(columns).splitlines() == [
        "| column | type | window | per label (summary.json) | what it is |", "|---|---|---|---|---|",
        "| `iou` | number | Head | mean as `mean_iou` | what \\| it is |",
        "| `auroc` | number | Head | mean as `trust.auroc` | what \\| it is (`--trust`) |",
        "| `path` | number | Head |  | file |"]
    text = f"x\n{readme_columns.SECTION.markers[0]}\nTABLE\n{readme_columns.SECTION.markers[1]}\ny"
    assert readme_columns.readme_table(text).strip() == "TABLE"


def test_the_readme_column_command_prints_the_registry_table(capsys):
    assert readme_columns.main([]) == 0
    assert capsys.readouterr().out.strip() == readme_columns.markdown_table(registry()).strip()
