"""A review resumed with other method settings is refused (issue 24: a named surviving bug).

Goes through what `batch --resume` and the window's review call: open_review_output builds
the run description from the session and the options (the method parameters checked and
completed with their defaults) and compares it with the interrupted run's summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import OutputPathError
from engine.review import ReviewOptions
from engine.review.outdir import open_review_output
from engine.review.rows import ReviewRow

DEMO_MODEL = Path(__file__).resolve().parents[2] / "resources" / "demo" / "defects.keras"
FIRST = ReviewOptions(method="smoothgrad", params={"samples": 4, "noise": 0.2}, batch_size=4)


@pytest.fixture(scope="module")
def session():
    from engine import Session

    return Session.open(DEMO_MODEL)


def _interrupted(session, images: Path, out: Path) -> None:
    output = open_review_output(session, images, out, FIRST)
    output.on_rows([ReviewRow("scratch/a.png", "scratch", 1, predicted="scratch", predicted_index=1)])
    output.finish(None, "interrupted")
    output.close()


@pytest.mark.parametrize("changed, named", [
    ({"params": {"samples": 5, "noise": 0.2}}, "params"),
    ({"params": {"samples": 4, "noise": 0.3}}, "params"),
    ({"params": {"samples": 4}}, "params"),  # noise back to its default
    ({"params": {"samples": 4, "noise": 0.2, "emphasize": True}}, "params"),  # a map combination
    ({"method": "saliency", "params": {}}, "method"),
    ({"tolerance": 3.0}, "tolerance"),
    ({"annotations": str(DEMO_MODEL.parent / "boxed_lot" / "coco.json")}, "annotations"),  # other ground truth
    ({"label_map": (("Kratzer", "scratch"),)}, "label_map"),
])
def test_resume_with_other_settings_is_refused(session, tmp_path, changed, named):
    images = tmp_path / "images"
    images.mkdir()
    _interrupted(session, images, tmp_path / "out")
    options = ReviewOptions(**{**FIRST.__dict__, **changed})
    with pytest.raises(OutputPathError, match=f"cannot resume: {named}"):
        open_review_output(session, images, tmp_path / "out", options, resume=True)


def test_resume_with_the_same_settings_keeps_the_rows(session, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    _interrupted(session, images, tmp_path / "out")
    same = ReviewOptions(method="smoothgrad", params={"noise": 0.2, "samples": 4}, batch_size=8)  # batch size is free
    resumed = open_review_output(session, images, tmp_path / "out", same, resume=True)
    resumed.close()
    assert [r.path for r in resumed.done] == ["scratch/a.png"]
