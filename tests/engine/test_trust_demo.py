"""The story the demo tells: the right-reason model and its shortcut twin get their verdicts,
and the sanity check passes Grad-CAM on the demo model, whose map changes far more than guided
backprop's."""

from __future__ import annotations

from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo"
SHORTCUT_MODEL, SHORTCUT_LOT = DEMO / "shortcut.keras", DEMO / "shortcut_lot"


def _verdict(model: Path, lot: Path):
    from engine import Session
    from engine.review import ReviewOptions, review_folder

    return review_folder(Session.open(model), lot, ReviewOptions(trust=True)).trust


def test_demo_is_right_for_the_right_reason():
    trust = _verdict(DEMO / "defects.keras", DEMO / "images")
    assert trust["overall"]["verdict"] == "right-reason", trust["overall"]["verdict_reason"]
    assert trust["overall"]["kept_after_removal_rate"] <= 0.1
    for label in ("scratch", "spot", "crack"):
        assert trust["per_label"][label]["verdict"] == "right-reason"


@pytest.mark.skipif(not SHORTCUT_MODEL.exists() or not SHORTCUT_LOT.is_dir(), reason="shortcut demo not shipped")
def test_shortcut_twin_is_suspected():
    trust = _verdict(SHORTCUT_MODEL, SHORTCUT_LOT)
    assert trust["overall"]["verdict"] == "shortcut-suspected", trust["overall"]["verdict_reason"]
    assert trust["overall"]["kept_after_removal_rate"] >= 0.5


def test_sanity_check_passes_gradcam_and_guided_backprop_keeps_more_of_its_map():
    from engine import Session
    from engine.trust.sanity import sanity_check

    session = Session.open(DEMO / "defects.keras")
    image = session.load_image(DEMO / "images" / "scratch" / "scratch_01.png")
    gradcam, guided = sanity_check(session, image, ["gradcam", "guided-backprop"])
    # Since the demo model's class-map head (issue 13 item 9) guided backprop passes too,
    # by a margin (0.42 against 0.5; README "Sanity check"), but keeps far more of its map.
    layers = len(gradcam.stages) - 1
    half = (layers + 1) // 2  # the stage after the top ceil(L/2) layers, as the rule reads
    assert gradcam.passed and gradcam.stages[half].rank_correlation < 0.2
    assert guided.stages[half].rank_correlation > gradcam.stages[half].rank_correlation + 0.2
