"""report.html shows its pictures on its own (issue 20, item 11): the worst cases' overlays
are embedded as JPEG thumbnails, each a link to its full-size PNG in overlays/."""

from __future__ import annotations

import base64
import re
import shutil

import cv2
import numpy as np

from engine.maps.render import write_png
from engine.review.outdir import overlay_name
from engine.review.report import THUMBNAIL_SIDE, render_report
from engine.review.rows import ReviewRow
from engine.review.stats import summarise


def _misclassified(name: str) -> ReviewRow:
    return ReviewRow(f"scratch/{name}.png", "scratch", 1, predicted="ok", predicted_index=0, confidence=0.9,
                     correct=False, explained="ok", explained_index=0)


def _report(tmp_path, rows, pictures):
    for row, picture in zip(rows, pictures, strict=True):
        write_png(tmp_path / overlay_name(row), picture)
    return render_report(summarise(rows, ("ok", "scratch")), {}, "complete", lambda row: overlay_name(row), tmp_path)


def _embedded(html: str) -> list[np.ndarray]:
    found = re.findall(r'<img src="data:image/jpeg;base64,([^"]+)"', html)
    return [cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR) for data in found]


def test_every_picture_is_in_the_report_and_links_its_full_size_overlay(tmp_path):
    rows = [_misclassified("a"), _misclassified("b")]
    red = np.zeros((1000, 800, 3), np.uint8)
    red[..., 0] = 255  # RGB
    html = _report(tmp_path, rows, [red, np.full((64, 48, 3), 128, np.uint8)])
    pictures = _embedded(html)
    assert [p.shape[:2] for p in pictures] == [(THUMBNAIL_SIDE, 320), (64, 48)]  # large ones shrunk, small kept
    assert pictures[0][..., 2].mean() > 240 and pictures[0][..., :2].mean() < 15  # still red (BGR on decoding)
    assert not re.findall(r'<img src="(?!data:)', html)  # no picture needs a file beside the report
    assert all(f'<a href="{overlay_name(row)}"' in html for row in rows)


def test_the_report_alone_in_another_folder_still_has_its_pictures(tmp_path):
    html = _report(tmp_path / "review", [_misclassified("a")], [np.zeros((32, 32, 3), np.uint8)])
    shutil.rmtree(tmp_path / "review")
    assert len(_embedded(html)) == 1


def test_a_missing_or_unreadable_overlay_is_linked_not_embedded(tmp_path):
    row = _misclassified("a")
    (tmp_path / overlay_name(row)).parent.mkdir(parents=True)
    (tmp_path / overlay_name(row)).write_bytes(b"not a png")
    html = render_report(summarise([row], ("ok", "scratch")), {}, "complete", lambda r: overlay_name(r), tmp_path)
    assert f'<img src="{overlay_name(row)}"' in html and not _embedded(html)
