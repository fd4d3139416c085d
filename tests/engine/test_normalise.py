"""Normalisation by what a map's zero means (issue 20, item 3): declared per method, applied by
`finish`, and written in the README's Methods table."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from engine.maps.normalise import FLOORS, normalise
from engine.methods import METHODS
from tests.models import image, session, tiny_cnn

README = Path(__file__).resolve().parents[2] / "README.md"


def test_no_meaningful_zero_spreads_the_map_over_zero_to_one():
    """Guards: min(initial=0) for a map without a meaningful zero (0.86-1.0 shows as solid red)."""
    raw = np.linspace(0.86, 1.0, 15, dtype=np.float32).reshape(3, 5)
    spread, empty = normalise(raw, "min")
    assert not empty and spread.min() == 0.0 and spread.max() == pytest.approx(1.0, abs=1e-6)
    peak, empty = normalise(raw, "zero")  # zero is "no evidence": the map is divided by its peak
    assert not empty and peak.min() == pytest.approx(0.86, abs=1e-6)
    np.testing.assert_allclose(normalise(raw - 5.0, "min")[0], spread, atol=1e-5)  # all negative: still a peak
    assert normalise(np.full((3, 3), 0.9, np.float32), "min")[1]  # flat: empty, never NaN
    with pytest.raises(ValueError):
        normalise(raw, "max")


def test_rise_shows_its_peak_and_cams_keep_zero_as_no_evidence():
    """Guards: RISE normalised with zero as its floor (its heatmap never reaches 0); a CAM
    normalised by (min, max) (its weakest evidence drawn as none)."""
    sess = session(tiny_cnn(seed=2))
    picture = image(32, 32, seed=4)
    rise = sess.explain(picture, "rise", masks=200, grid=4)
    assert rise.raw.min() > 0.3 * rise.raw.max()  # all positive, as RISE maps are
    assert rise.heatmap.min() == pytest.approx(0.0, abs=1e-3) and rise.heatmap.max() == pytest.approx(1.0, abs=1e-6)
    occlusion = sess.explain(picture, "occlusion", patch=8, stride=4)
    raw = occlusion.raw[..., 0]
    assert raw.max() > 0
    if raw.min() > 0:  # a strictly positive drop map keeps its floor above zero
        assert occlusion.heatmap.min() > 0.0
    np.testing.assert_allclose(occlusion.heatmap, np.maximum(raw, 0) / raw.max(), atol=1e-3)


def test_every_method_declares_its_floor_and_the_readme_says_it():
    """Guards: a method without a declaration, or a README column that says otherwise."""
    text = README.read_text(encoding="utf-8")
    start = text.index("| `--method` |")
    text = text[start:text.index("\n\n", start)]
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([a-z+-]+)` \|.*\| ([^|]+) \|$", text, re.MULTILINE)
            if m.group(1) in METHODS}
    assert set(rows) == set(METHODS)
    for name, cls in METHODS.items():
        assert cls.floor in FLOORS, name
        assert rows[name].strip() == FLOORS[cls.floor], f"README's Methods table disagrees for {name}"
    assert METHODS["rise"].floor == "min" and METHODS["gradcam"].floor == "zero"
