"""`batch --annotations / --label-map`: bad files and maps refused in one line with nothing
written, unknown labels reported, one bad file among many skipped with a count, and the
mask columns and inconclusive counts in the outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from cli.common import DEMO_MODEL
from engine.annotations import Region, write_labelme
from resources.demo.lots import write_lot
from tests.cli_run import refused, run


@pytest.fixture(scope="module")
def boxed(tmp_path_factory) -> Path:
    """A small lot whose pixel masks were replaced by LabelMe boxes, one labelled in German."""
    import cv2

    from resources.demo.annotate_lot import boxes_of

    lot = write_lot(tmp_path_factory.mktemp("lot"), per_class=2, size=(96, 96), seed=5)
    for mask_path in sorted(lot.rglob("*_mask.png")):
        mask = cv2.imread(str(mask_path), cv2.IMREAD_UNCHANGED)
        regions = boxes_of(mask)
        if mask_path.name == "scratch_0_mask.png":
            regions = [Region("Kratzer", r.kind, r.points) for r in regions]
        stem = mask_path.name.removesuffix("_mask.png")
        write_labelme(mask_path.with_name(stem + ".json"), regions, stem + ".png", *mask.shape)
        mask_path.unlink()
    return lot


def _assert_box_outlined(overlay: Path, labelme: Path) -> None:
    """The worst case's overlay shows its box: the box's border is drawn in white."""
    import cv2

    picture = cv2.imread(str(overlay))
    (x0, y0), (x1, y1) = json.loads(labelme.read_text())["shapes"][0]["points"]
    x0, y0, x1, y1 = int(x0), int(y0), int(x1) - 1, int(y1) - 1
    border = np.concatenate([picture[y0, x0:x1], picture[y1, x0:x1], picture[y0:y1, x0], picture[y0:y1, x1]])
    assert np.mean(border.min(axis=1) > 200) > 0.8


@pytest.mark.parametrize(("content", "why"), [("{", "not readable JSON"), ('{"images": []}', "not a COCO file")])
def test_a_malformed_annotations_file_is_one_line_and_nothing_is_written(boxed, tmp_path, capsys, content, why):
    bad = tmp_path / "coco.json"
    bad.write_text(content)
    err = refused(capsys, "batch", "--model", DEMO_MODEL, "--images", boxed, "--out", tmp_path / "out",
                  "--annotations", bad)
    assert str(bad) in err and why in err and not (tmp_path / "out").exists()


def test_a_bad_label_map_is_one_line(boxed, tmp_path, capsys):
    err = refused(capsys, "batch", "--model", DEMO_MODEL, "--images", boxed, "--out", tmp_path / "out",
                  "--label-map", "Kratzer=dent")
    assert "'dent' is not a class" in err and not (tmp_path / "out").exists()


# Guards: unknown labels dropped without a word; one malformed file stopping the review;
# the mask columns or the inconclusive counts missing from the outputs.
def test_labels_reported_mapped_and_a_bad_file_skipped(boxed, tmp_path, capsys):
    broken = boxed / "spot" / "spot_1.json"
    saved = broken.read_text()
    broken.write_text("{ not json")
    try:
        code, out, _ = run(capsys, "batch", "--model", DEMO_MODEL, "--images", boxed, "--out", tmp_path / "a",
                           "--trust")
    finally:
        broken.write_text(saved)
    assert code == 0
    assert "labels that are not classes of the model, their regions left out: 'Kratzer' (1 image)" in out
    assert "1 malformed annotation file(s) skipped" in out
    with open(tmp_path / "a" / "results.csv", newline="", encoding="utf-8") as handle:
        records = {r["path"]: r for r in csv.DictReader(handle)}
    assert records["spot/spot_1.png"]["mask"] == "" and "spot_1.json" in records["spot/spot_1.png"]["note"]
    assert records["scratch/scratch_0.png"]["mask"] == ""
    assert records["crack/crack_0.png"]["mask_source"] == "labelme" and records["crack/crack_0.png"]["mask_kind"] == "box"
    assert records["crack/crack_0.png"]["control_kept_after_removal"] in ("0", "1", "")
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert "inconclusive_removals" in summary["trust"]["overall"]
    assert summary["trust"]["overall"]["measured_against"] == "box regions"
    report = (tmp_path / "a" / "report.html").read_text()
    assert "against the box (labelme, outlined)" in report
    _assert_box_outlined(tmp_path / "a" / "overlays" / "crack" / "crack_0.png", boxed / "crack" / "crack_0.json")

    code, out, _ = run(capsys, "batch", "--model", DEMO_MODEL, "--images", boxed, "--out", tmp_path / "b",
                       "--label-map", "kratzer=Scratch")
    assert code == 0 and "Kratzer" not in out
    with open(tmp_path / "b" / "results.csv", newline="", encoding="utf-8") as handle:
        records = {r["path"]: r for r in csv.DictReader(handle)}
    assert records["scratch/scratch_0.png"]["mask_source"] == "labelme"
