"""review_folder and the output folder: batches, masks, cancel, interruption and resume."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.errors import OutputPathError
from engine.review import ReviewOptions, read_rows, review_folder
from engine.review.outdir import CSV_NAME, SUMMARY_NAME, ReviewOutput, run_description
from resources.demo.synthetic import CLASS_NAMES, make_sample

FOUR = ReviewOptions(batch_size=4)  # Grad-CAM in batches of four
DEMO_MODEL = Path(__file__).resolve().parents[2] / "resources" / "demo" / "defects.keras"


def make_folder(root: Path, per_class: int = 2, size: tuple[int, int] = (96, 96), seed: int = 0) -> Path:
    """Synthetic images in label sub-folders with class-index masks beside the defects."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASS_NAMES):
        for i in range(per_class):
            sample = make_sample(rng, label, size)
            folder = root / name
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{name}_{i}.png"), sample.image[..., ::-1])
            if label:
                cv2.imwrite(str(folder / f"{name}_{i}_mask.png"), sample.mask)
    return root


@pytest.fixture(scope="module")
def session():
    from engine import Session

    return Session.open(DEMO_MODEL)


@pytest.fixture()
def images(tmp_path) -> Path:
    root = make_folder(tmp_path / "images")
    (root / "spot" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return root


def _cancel_after(checks: int):
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > checks

    return cancel


def test_review_folder_scores_every_image(session, images):
    seen, batches = [], []
    result = review_folder(session, images, FOUR, progress=lambda d, t: seen.append((d, t)),
                           on_rows=batches.append)
    assert result.complete and result.total == 9 and len(result.rows) == 9
    assert seen[0] == (0, 9) and seen[-1] == (9, 9)
    assert sum(len(b) for b in batches) == 9 and max(len(b) for b in batches) == 4
    broken = [r for r in result.rows if r.error]
    assert [r.path for r in broken] == ["spot/broken.png"]
    assert int(result.confusion.sum()) == 8
    assert sum(r.has_mask for r in result.rows) == 6
    assert all(r.peak_x is not None and 0 <= r.peak_x < 96 for r in result.rows if not r.error)
    assert {s.label for s in result.per_label} == set(CLASS_NAMES)
    scratch = next(r for r in result.rows if r.path == "scratch/scratch_0.png")
    assert scratch.label_index == 1 and scratch.correct == (scratch.predicted_index == 1)


def test_cancel_between_batches_returns_partial_result(session, images):
    arrived: list = []  # cancel as soon as the first batch's rows are in
    result = review_folder(session, images, FOUR, on_rows=arrived.extend,
                           cancel=lambda: bool(arrived))
    assert not result.complete and result.total == 9 and len(result.rows) == 4


def test_cancel_inside_a_batch_is_caught(session, images):
    result = review_folder(session, images, FOUR, cancel=_cancel_after(1))
    assert not result.complete and len(result.rows) == 0


def test_resume_skips_done_rows(session, images):
    arrived: list = []
    first = review_folder(session, images, FOUR, on_rows=arrived.extend,
                          cancel=lambda: bool(arrived))
    assert len(first.rows) == 4
    new_rows = []
    second = review_folder(session, images, FOUR, done=first.rows,
                           on_rows=new_rows.extend)
    assert second.complete and len(second.rows) == 9
    assert len(new_rows) == 9 - len(first.rows)
    assert not {r.path for r in new_rows} & {r.path for r in first.rows}


def test_target_label_explains_the_folder_class(session, images):
    result = review_folder(session, images, ReviewOptions(target="label", batch_size=16))
    for row in result.rows:
        if not row.error:
            assert row.explained_index == row.label_index


def _output(session, out: Path, images: Path, resume: bool = False, **changes) -> ReviewOutput:
    options = ReviewOptions(batch_size=4, **changes)
    return ReviewOutput(out, run_description(session, options, images), resume=resume)


def test_interrupted_output_is_readable_and_resumable(session, images, tmp_path):
    out = tmp_path / "out"
    output = _output(session, out, images)
    arrived: list = []  # cancelled once the first batch's rows are written, so there is something to keep

    def record(rows) -> None:
        output.on_rows(rows)
        arrived.extend(rows)

    partial = review_folder(session, images, FOUR, cancel=lambda: bool(arrived), on_rows=record,
                            on_images=output.on_images)
    output.finish(partial, "interrupted")
    output.close()
    rows = read_rows(out / CSV_NAME)
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert len(partial.rows) == 4 and not partial.complete
    assert [(r.path, r.predicted_index) for r in rows] == [(r.path, r.predicted_index) for r in partial.rows]
    assert summary["images_done"] == 4 and summary["status"] == "interrupted"
    assert (out / "report.html").read_text().count("confusion-matrix") == 1
    written = [r for r in rows if not r.error]
    assert written and all((out / "overlays" / Path(r.path).with_suffix(".png")).is_file() for r in written)

    with open(out / CSV_NAME, "a", encoding="utf-8") as handle:
        handle.write("crack/crack_1.png,crack,3,scr")  # a line cut short by a kill
    resumed = _output(session, out, images, resume=True)
    assert sorted(r.path for r in resumed.done) == sorted(r.path for r in rows)
    new_rows: list = []

    def record_resumed(rows) -> None:
        resumed.on_rows(rows)
        new_rows.extend(rows)

    final = review_folder(session, images, FOUR, done=resumed.done, on_rows=record_resumed)
    resumed.finish(final, "complete")
    resumed.close()
    assert len(new_rows) == 5 and not {r.path for r in new_rows} & {r.path for r in rows}
    paths = [r.path for r in read_rows(out / CSV_NAME)]
    assert len(paths) == 9 and len(set(paths)) == 9
    assert json.loads((out / SUMMARY_NAME).read_text())["status"] == "complete"


def test_fresh_run_refuses_old_results_and_resume_refuses_other_settings(session, images, tmp_path):
    out = tmp_path / "out"
    _output(session, out, images).close()
    with pytest.raises(OutputPathError, match="--resume"):
        _output(session, out, images)
    with pytest.raises(OutputPathError, match="tolerance"):
        _output(session, out, images, resume=True, tolerance=3)


def test_target_label_says_when_a_label_is_not_a_class(session, tmp_path):
    import shutil

    root = DEMO_MODEL.parent
    folder = tmp_path / "lot" / "mixed"
    folder.mkdir(parents=True)
    sources = [p for p in sorted((root / "images" / "mixed").glob("*.png")) if not p.stem.endswith("_mask")]
    for source in sources[:2]:
        shutil.copy(source, folder / source.name)
    result = review_folder(session, tmp_path / "lot", ReviewOptions(target="label"))
    assert len(result.rows) == 2
    for row in result.rows:
        assert row.label == "mixed" and row.label_index is None
        assert row.explained_index == row.predicted_index
        assert "label 'mixed' is not a class: the predicted class is explained" in row.note
