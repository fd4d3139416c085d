"""review_folder driven by a fake session (no model): which images are reviewed, in what
batches, which class is explained, how masks, labels, errors, cancel, resume and the callbacks
reach the rows. The fake 'model' puts its map's peak on the darkest pixel and predicts the
class named by the file's first letter, so every figure in a row can be worked out by hand.
Runs without TensorFlow for every mutant of engine.review.runner.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from engine.errors import Cancelled, ConvScopeError, MethodError
from engine.images.decoding import load_image
from engine.methods import METHODS
from engine.review import runner
from engine.review.runner import ReviewOptions, check_options, folder_images, review_folder

CLASSES = ("ok", "scratch", "spot")


class _Explanation(SimpleNamespace):
    pass


class _Session:
    """Explains every image with a map peaked on its darkest pixel; predicts from the file name."""

    def __init__(self, input_shape=(32, 32, 3), agnostic=False):
        self.info = SimpleNamespace(class_names=CLASSES, input_shape=input_shape)
        self.agnostic = agnostic
        self.explained: list[tuple[list[str], str, str | None, list | None, dict]] = []
        self.layers: list = []
        self.predicted: list[int] = []

    def method(self, name):
        if name not in METHODS:
            raise MethodError(f"unknown method '{name}'")
        return METHODS[name]

    def target_layers(self, layer, fuse):
        self.layers.append((layer, fuse))
        if layer == "missing":
            raise MethodError("no layer 'missing'")
        return [layer or "conv2"]

    def load_image(self, path):
        return load_image(path)

    @staticmethod
    def guess(image) -> int:
        return {"o": 0, "s": 1, "p": 2}.get(Path(image.path).name[0], 0)

    def explain_batch(self, images, method, layer, classes, cancel=None, **params):
        self.explained.append(([Path(i.path).name for i in images], method, layer, classes, params))
        if cancel is not None and cancel():
            raise Cancelled()
        out = []
        for k, image in enumerate(images):
            grey = image.display.mean(axis=2)
            y, x = np.unravel_index(int(np.argmin(grey)), grey.shape)
            heat = _cone(grey.shape, y, x)
            chosen = classes[k] if classes is not None and classes[k] is not None else self.guess(image)
            out.append(_Explanation(heatmap=heat, class_index=chosen, probability=0.75, class_name=CLASSES[chosen],
                                    class_agnostic=self.agnostic, empty=False, method=method))
        return out

    def predict(self, images, top=1):
        self.predicted.append(len(images))
        return [SimpleNamespace(best=SimpleNamespace(index=self.guess(i), probability=0.6)) for i in images]

    def class_name(self, index):
        return CLASSES[index]


def _cone(shape, y, x) -> np.ndarray:
    """1 at (y, x), falling linearly to 0 ten pixels away."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    return np.clip(1.0 - np.hypot(yy - y, xx - x) / 10.0, 0.0, 1.0).astype(np.float32)


def _energy(box) -> float:
    heat = _cone((24, 32), 5, 7)
    top, left, bottom, right = box
    return float(heat[top:bottom, left:right].sum() / heat.sum())


def _write(path: Path, size=(24, 32), dark=(5, 7), mask_box=None, mask_value=255) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = np.full((*size, 3), 200, np.uint8)
    picture[dark] = 10
    cv2.imwrite(str(path), picture)
    if mask_box is not None:
        mask = np.zeros(size, np.uint8)
        top, left, bottom, right = mask_box
        mask[top:bottom, left:right] = mask_value
        cv2.imwrite(str(path.with_name(path.stem + "_mask.png")), mask)


@pytest.fixture()
def lot(tmp_path) -> Path:
    root = tmp_path / "lot"
    _write(root / "ok" / "o1.png")
    _write(root / "scratch" / "s1.png", mask_box=(3, 5, 8, 10))  # the dark pixel is inside
    _write(root / "scratch" / "s2.png", mask_box=(15, 5, 20, 10))  # outside, 10 px below
    _write(root / "scratch" / "p3.png", mask_box=(3, 5, 8, 10))  # predicted spot
    _write(root / "spot" / "p1.png", mask_box=(3, 5, 8, 10), mask_value=2)  # a class-index mask
    (root / "spot" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    return root


def _rows(result):
    return {r.path: r for r in result.rows}


def test_every_image_is_reviewed_with_its_figures(lot):
    session = _Session()
    result = review_folder(session, lot, ReviewOptions(tolerance=0.0, threshold=0.5))
    rows = _rows(result)
    assert sorted(rows) == ["ok/o1.png", "scratch/p3.png", "scratch/s1.png", "scratch/s2.png", "spot/broken.png",
                            "spot/p1.png"]
    assert result.complete and result.total == 6 and result.class_names == CLASSES
    hit = rows["scratch/s1.png"]
    assert (hit.label, hit.label_index, hit.predicted, hit.predicted_index, hit.correct) == \
        ("scratch", 1, "scratch", 1, True)
    assert (hit.explained, hit.explained_index, hit.confidence) == ("scratch", 1, 0.75)
    assert (hit.peak_x, hit.peak_y, hit.pointing_hit, hit.mask) == (7, 5, True, "binary")
    assert hit.energy_inside == pytest.approx(_energy((3, 5, 8, 10)), rel=1e-5) and (hit.width, hit.height) == (32, 24)
    assert hit.mask_source == "mask" and hit.mask_kind == "pixel" and hit.note == "" and not hit.empty_map
    miss = rows["scratch/s2.png"]
    assert miss.pointing_hit is False and miss.energy_inside == 0.0 and miss.iou == 0.0  # the cone stops short
    wrong = rows["scratch/p3.png"]
    assert wrong.predicted == "spot" and wrong.correct is False and wrong.label_index == 1
    plain = rows["ok/o1.png"]
    assert plain.mask == "" and plain.pointing_hit is None and plain.mask_source == "" and plain.mask_kind == ""
    indexed = rows["spot/p1.png"]
    assert indexed.mask == "class" and indexed.pointing_hit is True
    broken = rows["spot/broken.png"]
    assert broken.error.startswith(str(lot / "spot" / "broken.png")) and broken.error != "not reviewed"
    assert broken.predicted_index is None and broken.label == "spot"


def test_the_tolerance_and_threshold_reach_the_metrics(lot):
    near = _rows(review_folder(_Session(), lot, ReviewOptions(tolerance=10.0)))["scratch/s2.png"]
    far = _rows(review_folder(_Session(), lot, ReviewOptions(tolerance=9.9)))["scratch/s2.png"]
    assert near.pointing_hit is True and far.pointing_hit is False  # 10 px from the mask (its nearest pixel)
    low = _rows(review_folder(_Session(), lot, ReviewOptions(threshold=0.0)))["scratch/s1.png"]
    high = _rows(review_folder(_Session(), lot, ReviewOptions(threshold=1.0)))["scratch/s1.png"]
    assert low.iou != high.iou


def test_the_method_layer_and_parameters_reach_the_explanation(lot):
    session = _Session()
    review_folder(session, lot, ReviewOptions(method="smoothgrad", layer="conv1", params={"samples": 3},
                                              batch_size=2))
    assert {(m, layer, str(p)) for _, m, layer, _, p in session.explained} == {("smoothgrad", "conv1",
                                                                               "{'samples': 3}")}
    assert [len(names) for names, *_ in session.explained] == [2, 2, 1]  # batches of 2, the broken image not explained
    assert session.layers == []  # smoothgrad needs no layer
    review_folder(session, lot, ReviewOptions(method="gradcam", layer="conv1", params={"fuse": "max"}))
    assert session.layers == [("conv1", "max")]


def test_target_label_explains_the_folder_class_and_says_when_there_is_none(lot, tmp_path):
    session = _Session()
    _write(lot / "other" / "o9.png")
    _write(lot / "root.png")
    rows = _rows(review_folder(session, lot, ReviewOptions(target="label", batch_size=100)))
    names, _, _, classes, _ = session.explained[0]
    assert dict(zip(names, classes, strict=True)) == {"o1.png": 0, "o9.png": None, "p1.png": 2, "p3.png": 1,
                                                      "root.png": None, "s1.png": 1, "s2.png": 1}
    assert session.predicted == [7]  # the prediction asked separately
    wrong = rows["scratch/p3.png"]
    assert wrong.explained == "scratch" and wrong.predicted == "spot" and wrong.confidence == 0.6
    assert rows["other/o9.png"].note == "label 'other' is not a class: the predicted class is explained"
    assert rows["root.png"].note == "no label: the predicted class is explained"
    assert rows["ok/o1.png"].note == ""
    predicted = _rows(review_folder(_Session(), lot, ReviewOptions()))
    assert predicted["other/o9.png"].note == "" and predicted["scratch/p3.png"].explained == "spot"


def test_a_class_agnostic_map_is_scored_against_every_defect(lot):
    rows = _rows(review_folder(_Session(agnostic=True), lot, ReviewOptions(method="eigencam")))
    indexed = rows["spot/p1.png"]
    assert indexed.mask == "binary" and indexed.pointing_hit is True
    assert indexed.note == runner.AGNOSTIC_NOTE.format(method="eigencam")
    assert rows["ok/o1.png"].note == runner.AGNOSTIC_NOTE.format(method="eigencam")


def test_progress_callbacks_and_resume(lot):
    progress, batches, drawn = [], [], []
    result = review_folder(_Session(), lot, ReviewOptions(batch_size=4), progress=lambda d, t: progress.append((d, t)),
                           on_rows=lambda rows: batches.append([r.path for r in rows]),
                           on_images=lambda items: drawn.append([i.row.path for i in items]))
    assert progress == [(0, 6), (4, 6), (6, 6)]
    assert batches == drawn and [len(b) for b in batches] == [4, 2]
    assert [p for b in batches for p in b] == [r.path for r in result.rows]
    done = [r for r in result.rows if r.path.startswith("scratch/")]
    session, again = _Session(), []
    resumed = review_folder(session, lot, ReviewOptions(batch_size=4), done=done,
                            progress=lambda d, t: again.append((d, t)))
    assert again == [(3, 6), (6, 6)] and resumed.total == 6 and len(resumed.rows) == 6
    assert [r.path for r in resumed.rows[:3]] == [r.path for r in done]
    assert {n for names, *_ in session.explained for n in names} == {"o1.png", "p1.png"}


def test_overlays_come_with_the_arrays_and_regions(lot):
    items = []
    review_folder(_Session(), lot, ReviewOptions(), on_images=items.extend)
    found = {i.row.path: i for i in items}
    hit = found["scratch/s1.png"]
    assert hit.image is not None and hit.heatmap is not None and hit.region is not None
    assert hit.region.sum() == 25 and hit.others is not None and not hit.others.any()
    assert found["ok/o1.png"].region is None and found["ok/o1.png"].others is None
    assert found["spot/broken.png"].image is None and found["spot/broken.png"].heatmap is None


def test_cancel_between_or_inside_batches_keeps_the_rows_so_far(lot):
    seen = []
    calls = {"n": 0}

    def cancel_second() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # the first batch's two checks pass

    partial = review_folder(_Session(), lot, ReviewOptions(batch_size=2), cancel=cancel_second,
                            on_rows=lambda rows: seen.extend(rows))
    assert not partial.complete and len(partial.rows) == 2 and partial.total == 6 and len(seen) == 2
    nothing = review_folder(_Session(), lot, ReviewOptions(batch_size=2), cancel=lambda: True)
    assert not nothing.complete and nothing.rows == ()


def test_a_size_agnostic_model_gets_one_group_per_image_size(lot):
    _write(lot / "ok" / "o2.png", size=(40, 50))
    session = _Session(input_shape=(None, None, 3))
    result = review_folder(session, lot, ReviewOptions(batch_size=100))
    assert sorted(len(names) for names, *_ in session.explained) == [1, 5]
    assert len(result.rows) == 7 and _rows(result)["ok/o2.png"].width == 50
    fixed = _Session()
    review_folder(fixed, lot, ReviewOptions(batch_size=100))
    assert [len(names) for names, *_ in fixed.explained] == [6]


@pytest.mark.parametrize("options, message", [
    (ReviewOptions(target="both"), "target must be one of predicted, label"),
    (ReviewOptions(batch_size=0), "the batch size must be at least 1"),
    (ReviewOptions(tolerance=-0.1), "the tolerance must be >= 0"),
    (ReviewOptions(threshold=-0.01), "the threshold within 0..1"),
    (ReviewOptions(threshold=1.01), "the threshold within 0..1"),
    (ReviewOptions(method="nope"), "unknown method"),
    (ReviewOptions(layer="missing"), "no layer"),
    (ReviewOptions(params={"samples": 3}), "samples"),  # not a Grad-CAM parameter
])
def test_bad_options_are_refused_before_anything_is_read(options, message, lot):
    session = _Session()
    with pytest.raises(ConvScopeError, match=message):
        review_folder(session, lot, options)
    assert session.explained == []


def test_the_boundaries_of_the_options_are_accepted_and_one_step_past_refused():
    session = _Session()
    for options in (ReviewOptions(batch_size=1, tolerance=0.0, threshold=0.0), ReviewOptions(threshold=1.0),
                    ReviewOptions(target="label")):
        assert check_options(session, options) is None  # accepted: no refusal raised
    for past in (ReviewOptions(batch_size=0), ReviewOptions(tolerance=-1e-9), ReviewOptions(threshold=-1e-9),
                 ReviewOptions(threshold=1.0 + 1e-9)):
        with pytest.raises(MethodError):
            check_options(session, past)


def test_folder_images_skip_earlier_review_outputs_and_the_excluded_folder(tmp_path):
    root = tmp_path / "lot"
    for name in ("a/x.png", "out/overlays/a/x.png", "b/report/y.png", "b/z.png", "keep/w.png"):
        _write(root / name)
    (root / "b" / "report" / "results.csv").write_text("")
    (root / "b" / "report" / "summary.json").write_text("{}")
    (root / "keep" / "results.csv").write_text("")  # only one of the two files: not a review
    found = [p.relative_to(root).as_posix() for p in folder_images(root, exclude=root / "out")]
    assert found == ["a/x.png", "b/z.png", "keep/w.png"]
    everything = [p.relative_to(root).as_posix() for p in folder_images(root)]
    assert everything == ["a/x.png", "b/z.png", "keep/w.png", "out/overlays/a/x.png"]
    (root / "results.csv").write_text("")
    (root / "summary.json").write_text("{}")
    assert len(folder_images(root)) == 4  # the reviewed folder itself holding a review is still reviewed


def test_masks_that_cannot_be_used_are_noted(lot, monkeypatch):
    from engine.annotations import Annotator

    def broken(self, *args):
        raise ConvScopeError("bad mask")

    monkeypatch.setattr(Annotator, "find", broken)
    rows = _rows(review_folder(_Session(), lot, ReviewOptions()))
    assert rows["scratch/s1.png"].note == "mask ignored: bad mask" and rows["scratch/s1.png"].mask == ""


def test_a_malformed_annotation_is_skipped_with_its_reason(lot, monkeypatch):
    from engine.annotations import AnnotationError, Annotator

    def malformed(self, *args):
        raise AnnotationError("polygon has 2 points")

    monkeypatch.setattr(Annotator, "find", malformed)
    rows = _rows(review_folder(_Session(), lot, ReviewOptions()))
    assert rows["scratch/s1.png"].note == "annotation skipped: polygon has 2 points"


def test_the_annotator_is_reread_when_its_file_changes(tmp_path):
    options = ReviewOptions(annotations=str(tmp_path / "coco.json"))
    (tmp_path / "coco.json").write_text('{"images": [], "annotations": [], "categories": []}')
    first = runner.annotator_for(tmp_path, options, CLASSES)
    assert runner.annotator_for(tmp_path, options, CLASSES) is first
    stat = os.stat(tmp_path / "coco.json")
    os.utime(tmp_path / "coco.json", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert runner.annotator_for(tmp_path, options, CLASSES) is not first
    mapped = ReviewOptions(annotations=str(tmp_path / "coco.json"), label_map=(("a", "ok"),))
    assert runner.annotator_for(tmp_path, mapped, CLASSES) is not runner.annotator_for(tmp_path, options, CLASSES)


def test_trust_adds_the_accumulator_only_when_asked(monkeypatch, lot):
    import engine.trust.review as trust_review

    added, accumulated, summarised = [], [], []

    def add_trust(session, scored, cancel=None):
        added.append(len(scored))
        return scored

    class Accumulator(trust_review.TrustAccumulator):
        def add(self, reviewed):
            accumulated.append(len(reviewed))
            super().add(reviewed)

    def summarise(*args, trust=None):
        summarised.append(trust)
        return "result"

    monkeypatch.setattr(trust_review, "add_trust", add_trust)
    monkeypatch.setattr(trust_review, "TrustAccumulator", Accumulator)
    monkeypatch.setattr(runner, "summarise", summarise)
    review_folder(_Session(), lot, ReviewOptions())
    assert added == [] and accumulated == [] and summarised == [None]
    assert review_folder(_Session(), lot, ReviewOptions(trust=True, batch_size=3)) == "result"
    assert added == [3, 2] and accumulated == [3, 3]  # every reviewed item, unreadable ones too
    assert isinstance(summarised[-1], Accumulator)


def test_a_write_error_surfaces_and_stops_the_review(lot):
    def fail(items):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        review_folder(_Session(), lot, ReviewOptions(batch_size=2), on_images=fail)
