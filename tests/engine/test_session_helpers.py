"""The Session's model-free decisions (engine.session): which preprocessing wins (option over
sidecar over the guess from the config), which layer is the default target when a sidecar
names one, and the note explaining a blank map."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import MethodError
from engine.model.layers import LayerInfo
from engine.model.sidecar import Sidecar
from engine.session import _default_layer, _empty_note, _preprocessing

RESCALING = '{"class_name": "Rescaling", "config": {}}'


def test_the_option_wins_over_the_sidecar_and_the_guess() -> None:
    assert _preprocessing(Sidecar(preprocessing="caffe"), "torch", RESCALING) == ("torch", "option")
    assert _preprocessing(Sidecar(preprocessing="caffe"), None, RESCALING) == ("caffe", "sidecar")
    assert _preprocessing(Sidecar(), None, RESCALING) == ("none", "guess")
    assert _preprocessing(Sidecar(), None, "") == ("unit", "guess")


def test_an_unknown_preprocessing_option_is_refused_in_one_line() -> None:
    with pytest.raises(MethodError) as refused:
        _preprocessing(Sidecar(), "imagenet", "")
    assert str(refused.value) == "preprocessing must be one of unit, symmetric, caffe, torch, none"


def _info(path: str, shape: tuple = (None, 8, 8, 16), kind: str = "Conv2D") -> LayerInfo:
    return LayerInfo(path, path.rsplit("/", 1)[-1], kind, shape, 1, 0, False)


LAYERS = (_info("input", kind="InputLayer"), _info("early"), _info("late"), _info("dense", (None, 3), "Dense"))


def test_the_sidecar_target_layer_is_the_default_when_spatial() -> None:
    warnings: list[str] = []
    assert _default_layer(LAYERS, Sidecar(target_layer="early"), 3, warnings) == "early"
    assert warnings == []
    assert _default_layer(LAYERS, Sidecar(), 3, warnings) == "late"
    assert warnings == []


def test_a_sidecar_layer_that_cannot_serve_is_ignored_with_a_warning() -> None:
    warnings: list[str] = []
    assert _default_layer(LAYERS, Sidecar(target_layer="dense"), 3, warnings) == "late"
    assert warnings == ["sidecar target layer 'dense' has no spatial output; ignored"]
    warnings.clear()
    assert _default_layer(LAYERS, Sidecar(target_layer="lat"), 3, warnings) == "late"
    assert warnings == ["sidecar target layer ignored: no layer named 'lat' in the model; did you mean 'late'?"]


def test_no_spatial_layer_gives_no_default() -> None:
    assert _default_layer((_info("dense", (None, 3), "Dense"),), Sidecar(), 3, []) is None


def test_a_blank_map_says_why() -> None:
    none = "no positive evidence for this class: the map is all zero"
    assert _empty_note(np.zeros((4, 4), np.float32)) == none
    assert _empty_note(np.full((4, 4), -2.0, np.float32)) == none
    assert _empty_note(np.array([[np.nan, 0.0]], np.float32)) == none
    assert _empty_note(np.array([[0.0, 1.0]], np.float32)) == none  # not flat: blank for another reason
    flat = np.array([[0.0, 2e-8]], np.float32)
    assert _empty_note(flat) == ("the map is flat (largest value 2.0e-08): the class score barely depends on the "
                                 "input; an untrained, saturated or wrongly loaded model?")
