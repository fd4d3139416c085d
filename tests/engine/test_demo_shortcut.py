"""The shortcut twin (issue 15 item 8): accurate on a lot where its nuisance cue holds, yet
its defect predictions survive painting the defects out, whereas the demo model's do not.

Uses the committed models and lot; the removal is cv2.inpaint of the dilated mask
(resources/demo/measure_trust.py), the same figures the README quotes.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from resources.demo.measure_trust import lot_images, measure, paint_out

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
LOT = DEMO / "shortcut_lot"


@pytest.fixture(scope="module")
def figures():
    pytest.importorskip("keras")
    return {name: measure(DEMO / f"{name}.keras", LOT) for name in ("shortcut", "defects")}


def test_twin_is_small_and_has_the_demo_sidecar() -> None:
    assert (DEMO / "shortcut.keras").stat().st_size < 2_000_000
    twin = json.loads((DEMO / "shortcut.convscope.json").read_text(encoding="utf-8"))
    demo = json.loads((DEMO / "defects.convscope.json").read_text(encoding="utf-8"))
    assert twin == demo


def test_lot_layout() -> None:
    items = lot_images(LOT)
    assert 36 <= len(items) <= 48
    assert {label for _, label, _ in items} == {"ok", "scratch", "spot", "crack"}
    for path, label, mask in items:
        assert (mask is None) == (label == "ok"), path
        if mask is not None:
            assert cv2.imread(str(mask), cv2.IMREAD_GRAYSCALE).max() > 0, mask


def test_paint_out_changes_only_the_dilated_defect() -> None:
    image = np.full((64, 64, 3), 120, np.uint8)
    image[30:34, 10:50] = 250  # a bright bar on a flat field
    mask = np.zeros((64, 64), np.uint8)
    mask[30:34, 10:50] = 1
    painted = paint_out(image, mask, dilate=2)
    assert np.array_equal(painted[:26], image[:26]) and np.array_equal(painted[38:], image[38:])
    assert np.abs(painted[30:34, 14:46].astype(int) - 120).max() <= 3


def test_both_models_are_accurate_where_the_cue_holds(figures) -> None:
    for name, f in figures.items():
        assert f.accuracy >= 0.9, f"{name}: accuracy {f.accuracy:.3f} on the shortcut lot"


def test_removal_keeps_the_twins_prediction_but_not_the_demo_models(figures) -> None:
    twin, demo = figures["shortcut"], figures["defects"]
    assert twin.defect_images >= 20 and demo.defect_images >= 20
    assert twin.kept_after_removal >= 0.7, f"twin kept {twin.kept}/{twin.defect_images}"
    assert demo.kept_after_removal <= 0.3, f"demo kept {demo.kept}/{demo.defect_images}"


def test_the_twin_looks_less_at_the_defects(figures) -> None:
    twin, demo = figures["shortcut"], figures["defects"]
    assert demo.energy_in_mask > 2 * twin.energy_in_mask
