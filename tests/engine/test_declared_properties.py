"""Properties that hold for every input (issue 24 item 3), checked with hypothesis: declared
parameter ranges, the verdict thresholds, the resume keys and normalised maps.

Each property names the bug it guards against:
- a range check with `<` for `<=` (a boundary refused) or a missing check (one step past accepted);
- a verdict threshold compared the wrong way at its boundary (the README's rules say "at least");
- a setting left out of the resume check, so a resumed review mixes rows from two settings;
- a normalisation that leaves [0, 1] or returns NaN for a flat or non-finite map.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.errors import MethodError, OutputPathError
from engine.maps.combine import COMBINATIONS
from engine.maps.normalise import EPS, normalise
from engine.methods import METHODS
from engine.params import Param, check_params
from engine.review.outdir import SUMMARY_NAME, ReviewOutput
from engine.review.rows import ReviewRow
from engine.trust.verdict import (
    CLEAR,
    INSUFFICIENT,
    LOW_PIXEL_AUROC,
    MIN_IMAGES,
    OFF_DEFECT,
    OFF_DEFECT_RATIO,
    RIGHT_REASON,
    SHORTCUT,
    SHORTCUT_SHARE,
    SURVIVES,
    image_flag,
    verdict,
)

# ----------------------------------------------------------------- declared parameter ranges

DECLARED = [(name, p) for name, method in sorted(METHODS.items()) for p in method.parameters] + \
           [("combinations", p) for p in COMBINATIONS]
RANGED = [(owner, p) for owner, p in DECLARED if p.kind in (int, float) and (p.low is not None or p.high is not None)]


def _past(p: Param, bound: float, direction: float) -> float | int:
    """One step past a bound: the next whole number for an int, the next float for a float."""
    return int(bound + direction) if p.kind is int else float(np.nextafter(bound, direction * math.inf))


def test_every_method_declares_some_ranged_parameter_here():
    assert len(RANGED) >= 10 and {"smoothgrad", "integrated-gradients", "combinations"} <= {o for o, _ in RANGED}


@pytest.mark.parametrize("owner, param", RANGED, ids=[f"{o}.{p.name}" for o, p in RANGED])
def test_range_boundaries_are_accepted_and_one_step_past_refused(owner, param):
    for bound, direction in ((param.low, -1.0), (param.high, 1.0)):
        if bound is None:
            continue
        value = param.kind(bound)
        assert check_params([param], {param.name: value}, owner)[param.name] == value
        with pytest.raises(MethodError, match=param.name.replace("_", "-")):
            check_params([param], {param.name: _past(param, bound, direction)}, owner)


@pytest.mark.parametrize("owner, param", RANGED, ids=[f"{o}.{p.name}" for o, p in RANGED])
@settings(max_examples=30, deadline=None)
@given(fraction=st.floats(0.0, 1.0))
def test_values_inside_the_range_are_accepted_with_the_declared_type(owner, param, fraction):
    low = param.low if param.low is not None else (param.high or 0) - 1000
    high = param.high if param.high is not None else low + 1000
    value = param.kind(low + fraction * (high - low)) if param.kind is float else int(low + round(fraction * (high - low)))
    checked = param.check(value, owner)
    assert checked == value and type(checked) is param.kind


@pytest.mark.parametrize("owner, param", RANGED, ids=[f"{o}.{p.name}" for o, p in RANGED])
@settings(max_examples=30, deadline=None)
@given(beyond=st.floats(1e-6, 1e9))
def test_values_outside_the_range_are_refused_naming_the_parameter(owner, param, beyond):
    for bound, direction in ((param.low, -1.0), (param.high, 1.0)):
        if bound is None:
            continue
        value = bound + direction * max(beyond, 1.0 if param.kind is int else beyond)
        with pytest.raises(MethodError, match=param.option[2:]):
            param.check(int(value) if param.kind is int else float(value), owner)


# ----------------------------------------------------------------- verdict thresholds


@settings(max_examples=100, deadline=None)
@given(share=st.floats(1e-4, 0.45))
def test_energy_threshold_at_below_and_above_its_boundary(share):
    boundary = OFF_DEFECT_RATIO * share
    assert image_flag(boundary, share, 0.95, False, True) == CLEAR  # "less than": the boundary is on the defect
    assert image_flag(float(np.nextafter(boundary, 0)), share, 0.95, False, True) == OFF_DEFECT
    assert image_flag(float(np.nextafter(boundary, 1)), share, 0.95, False, True) == CLEAR
    assert image_flag(None, share, None, False, True) == CLEAR  # no map, no AUROC: nothing to flag


def test_pixel_auroc_threshold_at_below_and_above_its_boundary():
    assert image_flag(0.9, 0.1, LOW_PIXEL_AUROC, False, True) == CLEAR
    assert image_flag(0.9, 0.1, float(np.nextafter(LOW_PIXEL_AUROC, 0)), False, True) == OFF_DEFECT
    assert image_flag(0.9, 0.1, float(np.nextafter(LOW_PIXEL_AUROC, 1)), False, True) == CLEAR


@given(kept=st.sampled_from([True, False, None]), correct=st.sampled_from([True, False, None]))
def test_survives_removal_needs_the_class_kept_and_a_prediction_not_known_wrong(kept, correct):
    flag = image_flag(0.9, 0.1, 0.95, kept, correct)
    assert (flag == SURVIVES) == (kept is True and correct is not False)
    assert flag in (SURVIVES, CLEAR)


def _rows(n: int, kept: int, off: int, label: str = "scratch") -> list[ReviewRow]:
    """n correctly classified masked images, the first `kept` kept after removal, the last `off` off the defect."""
    return [ReviewRow(f"{label}/{i}.png", label, 1, correct=True, kept_after_removal=i < kept,
                      flag=OFF_DEFECT if i >= n - off else CLEAR) for i in range(n)]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(MIN_IMAGES, 200), data=st.data())
def test_kept_share_at_below_and_above_its_boundary(n, data):
    at = math.ceil(SHORTCUT_SHARE * n)  # the fewest kept images that make the share at least SHORTCUT_SHARE
    kept = data.draw(st.sampled_from([at - 1, at, min(at + 1, n)]))
    found = verdict(_rows(n, kept, 0))
    assert found.verdict == (SHORTCUT if kept >= SHORTCUT_SHARE * n else RIGHT_REASON)
    assert (found.images, found.kept, found.off_defect) == (n, kept, 0)
    assert f"for {kept} of {n} " in found.reason or f"for {n - kept} of {n} " in found.reason


@settings(max_examples=60, deadline=None)
@given(n=st.integers(MIN_IMAGES, 200), data=st.data())
def test_off_defect_share_at_below_and_above_its_boundary(n, data):
    at = math.ceil(SHORTCUT_SHARE * n)
    off = data.draw(st.sampled_from([at - 1, at, min(at + 1, n)]))
    found = verdict(_rows(n, 0, off))
    assert found.verdict == (SHORTCUT if off >= SHORTCUT_SHARE * n else RIGHT_REASON)
    assert (found.images, found.kept, found.off_defect) == (n, 0, off)
    if found.verdict == SHORTCUT:
        assert f"off the defect for {off} of {n} " in found.reason
    else:
        assert f"lay on the defect for {n - off} of them" in found.reason


@given(n=st.integers(0, 2 * MIN_IMAGES))
def test_minimum_number_of_images_at_below_and_above(n):
    found = verdict(_rows(n, 0, 0))
    assert (found.verdict == INSUFFICIENT) == (n < MIN_IMAGES)
    assert found.images == n and found.kept == 0 and found.off_defect == 0


def test_insufficient_data_sentence_counts_images_in_words():
    assert verdict(_rows(1, 1, 1)).reason.startswith("only 1 correctly classified image with a defect mask")
    assert verdict(_rows(0, 0, 0)).reason.startswith("only 0 correctly classified images with")
    assert verdict(_rows(2, 1, 1)).reason.startswith("only 2 correctly classified images with")
    assert (verdict(_rows(2, 1, 1)).kept, verdict(_rows(2, 1, 1)).off_defect) == (1, 1)
    assert f"at least {MIN_IMAGES} are needed" in verdict(_rows(1, 0, 0)).reason


def test_verdict_sentence_names_every_label_once_and_rows_without_label():
    rows = _rows(3, 3, 0, "scratch") + _rows(2, 2, 0, "spot") + _rows(1, 1, 0, "crack")
    assert "classified scratch, spot and crack images" in verdict(rows).reason
    two = _rows(3, 3, 0, "scratch") + _rows(3, 3, 0, "spot")
    assert "classified scratch and spot images" in verdict(two).reason
    unlabelled = [ReviewRow(f"{i}.png", None, None, correct=True, kept_after_removal=True) for i in range(MIN_IMAGES)]
    assert "classified (no label) images" in verdict(unlabelled).reason


def test_rows_without_a_flag_count_as_on_the_defect():
    rows = [ReviewRow(f"s/{i}.png", "s", 1, correct=True, kept_after_removal=False, flag=None) for i in range(MIN_IMAGES)]
    assert verdict(rows).verdict == RIGHT_REASON and verdict(rows).off_defect == 0


# ----------------------------------------------------------------- resume keys

RUN = {"images": "/lots/a", "model_sha256": "ab" * 32, "method": "smoothgrad", "layer": None,
       "params": {"samples": 25, "noise": 0.15}, "target": "predicted", "tolerance": 15.0,
       "threshold": 0.5, "trust": False, "class_names": ["ok", "scratch"], "batch_size": 16,
       "date": "2026-12-06T03:00:00+00:00", "convscope_version": "0.1.0"}
# What a resumed review must match (a change would mix rows computed two ways)...
RESUME_KEYS = ("images", "model_sha256", "method", "layer", "params", "target", "tolerance", "threshold", "trust")
# ...and what may change (the date, the batch size: the same rows either way).
FREE_KEYS = ("date", "batch_size", "convscope_version")
OTHER_VALUES = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=8), st.booleans(), st.none(),
                         st.dictionaries(st.sampled_from(["samples", "noise", "fuse"]), st.integers(0, 99), max_size=2))


def _interrupted_review(folder: Path) -> None:
    output = ReviewOutput(folder, RUN)
    output.on_rows([ReviewRow("scratch/a.png", "scratch", 1, predicted="scratch", predicted_index=1)])
    output.finish(None, "interrupted")
    output.close()


@settings(max_examples=60, deadline=None)
@given(key=st.sampled_from(RESUME_KEYS), value=OTHER_VALUES)
def test_every_resume_key_changed_alone_refuses_the_resume(key, value):
    if json.loads(json.dumps(value)) == RUN[key]:
        return  # the same setting, not a change
    with tempfile.TemporaryDirectory() as folder:
        _interrupted_review(Path(folder))
        with pytest.raises(OutputPathError, match=f"cannot resume: {key} differs"):
            ReviewOutput(folder, {**RUN, key: value}, resume=True)


@pytest.mark.parametrize("change", [{"params": {"samples": 26, "noise": 0.15}},
                                    {"params": {"samples": 25, "noise": 0.15, "emphasize": True}},
                                    {"params": {"samples": 25}}])
def test_a_resume_with_other_method_parameters_is_refused(tmp_path, change):
    _interrupted_review(tmp_path)
    with pytest.raises(OutputPathError, match="params differs"):
        ReviewOutput(tmp_path, {**RUN, **change}, resume=True)


@settings(max_examples=30, deadline=None)
@given(key=st.sampled_from(FREE_KEYS), value=OTHER_VALUES)
def test_the_same_settings_resume_with_the_rows_so_far(key, value):
    with tempfile.TemporaryDirectory() as folder:
        _interrupted_review(Path(folder))
        resumed = ReviewOutput(folder, {**RUN, key: value}, resume=True)
        resumed.close()
        assert [r.path for r in resumed.done] == ["scratch/a.png"]
        assert json.loads((Path(folder) / SUMMARY_NAME).read_text())["run"][key] == json.loads(json.dumps(value))


# ----------------------------------------------------------------- normalised maps


@settings(max_examples=300, deadline=None)
@given(raw=arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                  elements=st.one_of(st.floats(-1e6, 1e6, width=32),
                                     st.sampled_from([np.nan, np.inf, -np.inf]))))
@example(raw=np.zeros((3, 3), np.float32))
@example(raw=np.full((2, 2), np.nan, np.float32))
@example(raw=np.array([[1e-7]], np.float32))  # a map near eps: its top is well under 1
def test_normalised_maps_are_in_0_1_never_nan(raw):
    values, empty = normalise(raw)
    assert values.shape == raw.shape and values.dtype == np.float32
    assert np.all(np.isfinite(values)) and values.min() >= 0.0 and values.max() <= 1.0
    assert empty == (not values.any())
    finite = np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)
    if not empty:  # (x - min) / (max - min + eps), min counting zero: the strongest evidence is the top
        span = float(finite.max()) - min(float(finite.min()), 0.0)
        assert values.max() == pytest.approx(span / (span + EPS), abs=1e-4)
        assert values.flat[np.argmax(finite)] == values.max()
        assert values.min() == (0.0 if finite.min() <= 0 else pytest.approx(finite.min() / (span + EPS), abs=1e-4))


@settings(max_examples=100, deadline=None)
@given(raw=arrays(np.float32, (6, 5), elements=st.floats(0, 1e3, width=32)),
       scale=st.floats(1e-2, 1e2))
def test_normalised_maps_ignore_a_positive_scale(raw, scale):
    # (max - min + eps) with an absolute eps: exact only while the map is well above eps
    assume(raw.max() * min(scale, 1.0) >= 1e-2)
    values, empty = normalise(raw)
    scaled, scaled_empty = normalise(raw * np.float32(scale))
    assert empty == scaled_empty
    np.testing.assert_allclose(scaled, values, atol=1e-4)
