"""How engine.trust.review fills a lot review's trust columns: which images get curves, which
get a removal, and what each row then holds. The model-bound steps (curves, removal) are
replaced by recorders here; their own tests run them on real models."""

from __future__ import annotations

import numpy as np
import pytest

import engine.trust.review as trust_review
from engine.images.decoding import LoadedImage
from engine.review.rows import ReviewRow
from engine.review.runner import ReviewedImage
from engine.trust.faithfulness import Curves, Faithfulness
from engine.trust.removal import Removal
from engine.trust.review import ImageTrust, add_trust, has_trust, label_trust, verdict_line
from engine.trust.verdict import CLEAR, OFF_DEFECT, SURVIVES

FRACTIONS = np.array([0.0, 0.5, 1.0])


def _image() -> LoadedImage:
    display = np.zeros((10, 10, 3), np.uint8)
    return LoadedImage("x.png", display, display.astype(np.float32), False, "uint8", 8)


def _curve(start: float) -> Faithfulness:
    return Faithfulness(1, FRACTIONS, Curves(np.array([start, 0.2, 0.0]), np.array([0.0, 0.6, 1.0])),
                        Curves(np.array([start, 0.5, 0.0]), np.array([0.0, 0.4, 1.0])), None, 1)


def _item(index: int, region: np.ndarray | None, image: bool = True, kind: str = "pixel",
          energy: float = 0.5, correct: bool = True) -> ReviewedImage:
    row = ReviewRow(f"spot/{index}.png", "spot", 1, correct=correct, explained_index=index, energy_inside=energy,
                    mask_kind=kind)
    heatmap = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    return ReviewedImage(row, _image() if image else None, heatmap, region,
                         others=np.eye(10, dtype=bool) if region is not None else None)


def _region() -> np.ndarray:
    region = np.zeros((10, 10), bool)
    region[:2, :5] = True  # the map's lowest values: pixel AUROC well under 0.7
    return region


@pytest.fixture
def recorded(monkeypatch):
    """Replace the curves and the removal by recorders: curves start at 0.9 + index / 100, the
    removal keeps the class of even indices, and the control keeps it for index 2 only."""
    calls: dict = {}

    def curves(session, images, heatmaps, classes, steps, seeds, edges, output, cancel):
        calls["curves"] = (session, len(images), classes, edges, output, steps, seeds, cancel)
        calls["heatmaps"] = heatmaps
        return [_curve(0.9 + c / 100) for c in classes]

    def removal(session, images, regions, classes, before, output, avoid):
        calls["removal"] = (session, len(images), classes, before, output, [a is not None for a in avoid])
        calls["regions"] = regions
        found = [Removal(c, b, 0.3, c if c % 2 == 0 else c + 1, image, None, c if c == 2 else 9)
                 for image, c, b in zip(images, classes, before, strict=True)]
        return found[:calls.get("removals", len(found))]

    monkeypatch.setattr(trust_review, "faithfulness", curves)
    monkeypatch.setattr(trust_review, "remove_defects", removal)
    return calls


# Guards: curves asked for images that could not be read, a removal for an image without a
# mask (or with an empty one), the wrong class, map, mask, settings or starting probability
# passed on, the other defects not kept clear of the control, results given to the wrong rows,
# the flag judged without the energy or the correctness.
def test_add_trust_fills_each_row_from_its_own_curves_and_removal(recorded):
    empty = np.zeros((10, 10), bool)
    items = [_item(2, _region()), _item(3, None), _item(4, _region(), image=False),
             _item(5, _region(), kind="box", energy=0.1), _item(6, empty), _item(8, _region(), correct=False),
             _item(7, _region(), kind="box")]
    stop = lambda: False  # noqa: E731
    out = add_trust("session", items, output=1, cancel=stop, steps=7, seeds=3)
    assert recorded["curves"] == ("session", 6, [2, 3, 5, 6, 8, 7], False, 1, 7, 3, stop)
    assert [m is items[k].heatmap for m, k in zip(recorded["heatmaps"], (0, 1, 3, 4, 5, 6), strict=True)] == [True] * 6
    assert recorded["removal"] == ("session", 4, [2, 5, 8, 7], [pytest.approx(0.92), pytest.approx(0.95),
                                                                pytest.approx(0.98), pytest.approx(0.97)], 1, [True] * 4)
    assert [r is items[k].region for r, k in zip(recorded["regions"], (0, 3, 5, 6), strict=True)] == [True] * 4
    assert out[6].row.pixel_auroc < 0.7 and out[6].row.flag == CLEAR  # a box: only the energy test judges it
    assert out[2] is items[2]
    first, no_mask, box, empty_mask = out[0].row, out[1].row, out[3].row, out[4].row
    assert out[5].row.kept_after_removal and SURVIVES not in out[5].row.flag  # a wrong prediction is no shortcut
    assert out[0].trust.faithfulness.map.deletion[0] == pytest.approx(0.92)
    assert first.deletion_auc == pytest.approx(_curve(0.92).aucs()["deletion_auc"])
    assert first.random_insertion_auc == pytest.approx(0.45)
    assert (first.kept_after_removal, first.control_kept_after_removal, first.removal_probability) == (True, True, 0.3)
    assert first.pixel_auroc < 0.7 and first.flag == f"{OFF_DEFECT}; {SURVIVES}"
    assert (box.kept_after_removal, box.control_kept_after_removal, box.flag) == (False, False, OFF_DEFECT)
    assert no_mask.kept_after_removal is None and no_mask.flag == "" and no_mask.deletion_auc is not None
    assert empty_mask.kept_after_removal is None and empty_mask.pixel_auroc is None
    assert out[0].trust.removal.class_index == 2 and out[1].trust == ImageTrust(out[1].trust.faithfulness, None)


def test_add_trust_without_readable_images_asks_nothing(recorded):
    items = [_item(2, _region(), image=False)]
    assert add_trust("session", items) is items and recorded == {}


# Guards: removals paired with images by position although fewer came back than were asked
# (each row would then hold another image's removal); the default output head not the first.
def test_add_trust_refuses_removals_that_do_not_match_the_images(recorded):
    recorded["removals"] = 1
    with pytest.raises(ValueError):
        add_trust("session", [_item(2, _region()), _item(4, _region())])
    assert recorded["curves"][4] == 0


# Guards: a group's counts mixed up (flagged counting clear rows), has_trust missing rows with
# only a flag, a terminal line without the verdict.
def test_label_trust_counts_and_the_terminal_line():
    rows = [ReviewRow("spot/a.png", "spot", 1, correct=True, kept_after_removal=False, flag=CLEAR,
                      mask_kind="box", control_kept_after_removal=True)] * 4
    rows += [ReviewRow("spot/b.png", "spot", 1, correct=True, kept_after_removal=True, flag=SURVIVES,
                       mask_kind="box", control_kept_after_removal=None)]
    found = label_trust(rows, None, None, {"extra": 1})
    assert (found["flagged"], found["kept_after_removal"], found["removal_images"]) == (1, 1, 5)
    assert (found["aupro"], found["aupro_images"], found["extra"], found["measured_against"]) == (None, 0, 1,
                                                                                                 "box regions")
    assert verdict_line({"overall": found}) == f"verdict: RIGHT-REASON: {found['verdict_reason']}"
    assert has_trust([ReviewRow("a.png", "a", 1, flag=CLEAR)])
    assert not has_trust([ReviewRow("a.png", "a", 1)])


SUMMARY_KEYS = {"verdict", "verdict_reason", "kept_after_removal_rate", "kept_after_removal", "removal_images",
                "off_defect", "flagged", "inconclusive_removals", "measured_against", "aupro", "aupro_images",
                "mean_curves"}


def _trusted(label: str, start: float, region: np.ndarray | None) -> ReviewedImage:
    row = ReviewRow(f"{label}/x.png", label, 1, correct=True, kept_after_removal=False, flag=CLEAR, deletion_auc=0.2)
    removal = object() if region is not None else None
    return ReviewedImage(row, None, np.ones((10, 10), np.float32), region, ImageTrust(_curve(start), removal))


# Guards: a summary key renamed (the JSON the report and other tools read), a label's AUPRO or
# curves taken from the whole lot (or dropped), the random curves replaced or subtracted
# instead of summed, rows without a label lost from the per-label figures.
def test_summary_keys_and_per_label_figures_come_from_the_label():
    acc = trust_review.TrustAccumulator()
    items = [ReviewedImage(ReviewRow("x.png", "", 1), None, None, None), _trusted("spot", 0.8, _region()),
             _trusted("spot", 0.4, _region()), _trusted("", 0.6, None)]
    acc.add(items)
    other = trust_review.TrustAccumulator()
    other.add([_trusted("spot", 0.6, _region())])
    acc.merge(other)
    asked = []
    summary = trust_review.trust_summary([it.row for it in items], acc,
                                         lambda name: asked.append(name) or {"label": name})
    assert set(summary["overall"]) == SUMMARY_KEYS | {"label"}
    assert set(summary["per_label"]) == {"(no label)", "spot"} and asked == ["(no label)", "spot", None]
    spot, overall, unlabelled = summary["per_label"]["spot"], summary["overall"], summary["per_label"]["(no label)"]
    assert (spot["aupro_images"], overall["aupro_images"], unlabelled["aupro_images"]) == (3, 3, 0)
    assert unlabelled["aupro"] is None and unlabelled["mean_curves"]["images"] == 1
    assert (unlabelled["removal_images"], spot["removal_images"], overall["removal_images"]) == (1, 2, 3)
    assert spot["mean_curves"] == {"images": 3, "fractions": [0.0, 0.5, 1.0],
                                   "map": {"deletion": pytest.approx([0.6, 0.2, 0.0]),
                                           "insertion": pytest.approx([0.0, 0.6, 1.0])},
                                   "random": {"deletion": pytest.approx([0.6, 0.5, 0.0]),
                                              "insertion": pytest.approx([0.0, 0.4, 1.0])}}
    assert overall["mean_curves"]["images"] == 4 and overall["mean_curves"]["random"]["deletion"][0] == pytest.approx(0.6)
    assert (spot["label"], overall["label"]) == ("spot", None)
