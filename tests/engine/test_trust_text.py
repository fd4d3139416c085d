"""Faithfulness verdicts and the trust lines the command line prints (engine.trust.faithfulness,
engine.trust.cli_text), on hand-made curves with known areas.

Bugs guarded against: the inconclusive threshold compared the wrong way at its boundary, a
map that only beats one control called faithful, areas printed for the wrong curve or
without the edge control, and a sanity line that drops the verdict or a stage.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.trust.cli_text import faithfulness_lines, sanity_lines, verdict_sentence
from engine.trust.faithfulness import (
    INCONCLUSIVE,
    MIN_SCORE_DROP,
    NOT_FAITHFUL,
    Curves,
    Faithfulness,
)
from engine.trust.sanity import SanityResult, SanityStage

FRACTIONS = np.linspace(0.0, 1.0, 5)


def _flat(deletion: float, insertion: float) -> Curves:
    return Curves(np.full(5, deletion), np.full(5, insertion))


def _found(map_curves: Curves, random: Curves, edges: Curves | None = None) -> Faithfulness:
    return Faithfulness(1, FRACTIONS, map_curves, random, edges, seeds=3)


def _random(drop: float) -> Curves:
    return Curves(np.array([0.9, 0.9, 0.9 - drop, 0.9 - drop / 2, 0.9]), np.full(5, 0.5))


@settings(max_examples=50, deadline=None)
@given(drop=st.floats(0.0, 0.85))
def test_inconclusive_exactly_when_random_removal_moves_the_score_less_than_the_minimum(drop):
    found = _found(_flat(0.1, 0.95), _random(drop))
    assert found.score_drop == pytest.approx(drop)
    assert found.conclusive == (found.score_drop >= MIN_SCORE_DROP)
    assert (found.verdict == INCONCLUSIVE) == (not found.conclusive)


def test_the_minimum_drop_itself_is_conclusive():
    start = MIN_SCORE_DROP  # from p = the minimum drop down to 0: a drop of exactly the minimum
    random = Curves(np.array([start, 0.0, start, start, start]), np.full(5, 0.5))
    found = _found(_flat(0.0, 0.95), random)
    assert found.score_drop == MIN_SCORE_DROP and found.conclusive
    under = float(np.nextafter(start, 0.0))
    just_under = Curves(np.array([under, 0.0, under, under, under]), np.full(5, 0.5))
    assert not _found(_flat(0.0, 0.95), just_under).conclusive


def test_faithful_needs_both_curves_better_than_every_control():
    random = _random(0.5)
    assert _found(_flat(0.1, 0.95), random).faithful
    assert not _found(_flat(0.9, 0.95), random).faithful  # deletion no better than random
    assert not _found(_flat(0.1, 0.4), random).faithful  # insertion worse than random
    edges_better = _flat(0.05, 0.99)
    assert not _found(_flat(0.1, 0.95), random, edges_better).faithful
    assert _found(_flat(0.1, 0.95), random).verdict == "faithful"
    assert _found(_flat(0.9, 0.95), random).verdict == NOT_FAITHFUL


def test_faithfulness_lines_give_every_area_and_the_verdict():
    found = _found(_flat(0.1, 0.95), _random(0.5), _flat(0.3, 0.7))
    a = found.aucs()
    deletion, insertion, sentence = faithfulness_lines(found)
    assert deletion == (f"deletion AUC {a['deletion_auc']:.3f} (random {a['random_deletion_auc']:.3f}, "
                        f"edges {a['edges_deletion_auc']:.3f}) lower is better")
    assert insertion == (f"insertion AUC {a['insertion_auc']:.3f} (random {a['random_insertion_auc']:.3f}, "
                         f"edges {a['edges_insertion_auc']:.3f}) higher is better")
    assert a["deletion_auc"] == pytest.approx(0.1) and a["insertion_auc"] == pytest.approx(0.95)
    assert sentence == "faithful: the map beats both controls"
    plain = faithfulness_lines(_found(_flat(0.9, 0.95), _random(0.5)))
    b = _found(_flat(0.9, 0.95), _random(0.5)).aucs()
    assert plain[0] == f"deletion AUC 0.900 (random {b['random_deletion_auc']:.3f}) lower is better"
    assert plain[1] == f"insertion AUC 0.950 (random {b['random_insertion_auc']:.3f}) higher is better"
    assert plain[2] == "not faithful: a control does as well as the map"


def test_inconclusive_sentence_says_why():
    random = Curves(np.array([0.9, 0.85, 0.8, 0.85, 0.9]), np.full(5, 0.5))  # from p=0.90, never under 0.80
    assert verdict_sentence(_found(_flat(0.1, 0.95), random)) == (
        f"inconclusive: removing pixels barely moves the score (random order keeps p >= 0.80, a fall under "
        f"{MIN_SCORE_DROP:g} from p=0.90), so the curves cannot rank this map")


def test_sanity_lines_give_the_verdict_and_one_line_per_randomised_stage():
    stages = (SanityStage("", np.zeros((2, 2)), 1.0, 1.0), SanityStage("dense", np.zeros((2, 2)), 0.42, -0.05),
              SanityStage("conv2", np.zeros((2, 2)), -0.1, 0.013))
    lines = sanity_lines(SanityResult("gradcam", 1, stages, True, "the map changed"))
    assert lines[0] == "gradcam: PASS: the map changed"
    assert lines[1] == f"  randomised down to {'dense':<24} rank correlation +0.420  SSIM -0.050"
    assert lines[2] == f"  randomised down to {'conv2':<24} rank correlation -0.100  SSIM +0.013"
    assert len(lines) == 3
    assert sanity_lines(SanityResult("saliency", 1, stages[:1], False, "barely changed")) == [
        "saliency: FAIL: barely changed"]
