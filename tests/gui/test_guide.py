"""Help > Getting started names every method the window offers (by its title), every tab, and only
combinations that exist: a new user reads it before anything else."""

from __future__ import annotations

import re

from engine.maps.combine import COMBINATIONS
from engine.methods import METHODS
from gui.guide import GUIDE


def test_the_guide_names_every_method_by_its_window_title():
    missing = [m.title for m in METHODS.values() if f"<b>{m.title}</b>" not in GUIDE]
    assert missing == []


def test_the_guide_names_every_tab_and_real_combinations():
    for tab in ("Compare", "Activations &amp; filters", "Review", "Trust"):
        assert f"<b>{tab}</b>" in GUIDE
    labels = {p.label for p in COMBINATIONS}
    named = set(re.findall(r"<i>([a-z ]+)</i> under\s+Combinations", GUIDE))
    assert named == {"edges", "tiles"} and named <= labels
