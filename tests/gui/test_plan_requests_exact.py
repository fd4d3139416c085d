"""The window's state -> requests logic, case by case at its boundaries (gui.plan, gui.state):
which map, which tiles, which activations, in which order, for the choices a user makes; and
what is remembered between runs. No Qt, no engine: plain values in, requests out."""

from __future__ import annotations

import pytest
from engine.model.layers import LayerInfo
from engine.results import ModelInfo
from gui.compose import ViewSettings
from gui.plan import (
    CURRENT,
    EngineFacts,
    activations_needed,
    changed,
    compare_items,
    explain_request,
    requests_for,
)
from gui.protocol import Activations, Compare, Explain, MethodSpec
from gui.state import ViewState, initial_state


def _layer(path: str, spatial: int) -> LayerInfo:
    return LayerInfo(path, path, "Conv2D", (None, spatial, spatial, 8), 80, 0, False)


INFO = ModelInfo("m.keras", "m", (32, 32, 3), ("good", "scratch", "spot", "crack"), (), ("out",), "unit",
                 "sidecar", "conv3", (_layer("conv1", 16), _layer("conv2", 8), _layer("conv3", 4)), 1000)
SPECS = (MethodSpec("gradcam", "Grad-CAM", True), MethodSpec("saliency", "Saliency", False),
         MethodSpec("layercam", "LayerCAM", True))
FACTS = EngineFacts(SPECS, INFO)
STATE = ViewState(image="a.png", method="gradcam", layer="conv3")
PARAMS = (("gradcam", (("guided", True),)), ("saliency", (("polarity", "negative"),)))


def nothing_cached(_request) -> bool:
    return False


# -- what the engine said ----------------------------------------------------------------------
def test_the_engines_facts_name_methods_and_classes():
    assert FACTS.spec_of("saliency") == SPECS[1] and FACTS.spec_of("nope") is None and FACTS.spec_of(None) is None
    assert FACTS.title("layercam") == "LayerCAM" and FACTS.title("nope") == "nope"
    assert EngineFacts().title("gradcam") == "gradcam"  # before the engine has started
    assert FACTS.class_name(2) == "spot" and FACTS.class_name(0) == "good"
    assert FACTS.class_name(None) is None and EngineFacts(SPECS).class_name(1) is None


# -- the class follows the image -----------------------------------------------------------------
def test_a_new_image_drops_the_class_explained_on_the_previous_one():
    explained_crack = changed(STATE, class_index=3)
    moved = changed(explained_crack, image="b.png")
    assert moved.class_index is None and moved.image == "b.png"
    assert requests_for(moved, FACTS, nothing_cached, 12)[0].class_index is None
    assert changed(explained_crack, image="a.png").class_index == 3  # the same image again
    assert changed(explained_crack, tab="compare", layer="conv1").class_index == 3  # not an image change
    assert changed(explained_crack, image="b.png", class_index=1).class_index == 1  # a class chosen with it


def test_the_first_image_starts_from_its_predicted_class():
    assert changed(ViewState(class_index=2), image="a.png").class_index is None


# -- the canvas's request --------------------------------------------------------------------------
def test_the_explanation_carries_every_choice_of_the_state():
    state = changed(STATE, class_index=2, output=1, params=PARAMS)
    assert explain_request(state, FACTS, "z.png") == Explain("z.png", "gradcam", "conv3", 2, (("guided", True),), 1)


def test_any_choice_can_be_overridden_for_one_request():
    state = changed(STATE, class_index=2, params=PARAMS)
    assert explain_request(state, FACTS, "a.png", method="saliency") == Explain(
        "a.png", "saliency", None, 2, (("polarity", "negative"),))  # the overriding method's own parameters
    assert explain_request(state, FACTS, "a.png", layer="conv1").layer == "conv1"
    assert explain_request(state, FACTS, "a.png", class_index=None).class_index is None  # the predicted class
    assert explain_request(state, FACTS, "a.png", class_index=0).class_index == 0
    assert explain_request(state, FACTS, "a.png", class_index=CURRENT).class_index == 2


def test_nothing_is_asked_without_a_method_a_model_or_the_engine():
    assert explain_request(changed(STATE, method=None), FACTS, "a.png") is None
    assert explain_request(changed(STATE, method=None), FACTS, "a.png", method="gradcam") is not None
    assert explain_request(STATE, EngineFacts(SPECS), "a.png") is None
    assert explain_request(STATE, EngineFacts((), INFO), "a.png") is None
    assert requests_for(changed(STATE, image=None, tab="features"), FACTS, nothing_cached, 12,
                        shown_activations="b.png") == ()


def test_a_method_without_a_layer_is_asked_without_one_even_when_a_layer_is_chosen():
    assert explain_request(changed(STATE, method="saliency"), FACTS, "a.png", layer="conv1").layer is None


# -- the compare grid --------------------------------------------------------------------------------
def test_compare_layers_are_the_deepest_ones_in_model_order():
    state = changed(STATE, compare_mode="layers")
    assert [r.layer for r in compare_items(state, FACTS, 2)] == ["conv2", "conv3"]
    assert [r.layer for r in compare_items(state, FACTS, 12)] == ["conv1", "conv2", "conv3"]
    assert [r.layer for r in compare_items(state, FACTS, 3)] == ["conv1", "conv2", "conv3"]


def test_compare_classes_are_the_first_ones_up_to_the_grid():
    state = changed(STATE, compare_mode="classes", class_index=3)
    assert [r.class_index for r in compare_items(state, FACTS, 2)] == [0, 1]
    assert [r.class_index for r in compare_items(state, FACTS, 4)] == [0, 1, 2, 3]
    assert [r.class_index for r in compare_items(state, FACTS, 9)] == [0, 1, 2, 3]
    assert {r.layer for r in compare_items(state, FACTS, 9)} == {"conv3"}


def test_compare_methods_are_the_chosen_ones_in_the_engines_order():
    state = changed(STATE, compare_methods=("layercam", "gradcam", "gone"), params=PARAMS, class_index=1)
    items = compare_items(state, FACTS, 1)  # the methods are the user's choice: not cut to the grid
    assert items == [Explain("a.png", "gradcam", "conv3", 1, (("guided", True),)),
                     Explain("a.png", "layercam", "conv3", 1)]
    assert [r.method for r in compare_items(STATE, FACTS, 12)] == ["gradcam", "saliency", "layercam"]


def test_compare_needs_an_image_and_a_model():
    assert compare_items(changed(STATE, image=None), FACTS, 12) == []
    assert compare_items(STATE, EngineFacts(SPECS), 12) == []
    assert compare_items(changed(STATE, compare_mode="layers", method="nope"), FACTS, 12) == []


# -- activations ------------------------------------------------------------------------------------
def test_activations_are_recomputed_only_for_another_image_on_the_features_tab():
    features = changed(STATE, tab="features")
    assert activations_needed(features, "old.png", "conv1") == Activations("a.png", "conv1")
    assert activations_needed(features, "a.png", "conv1") is None  # already this image's
    assert activations_needed(features, None, "conv1") is None  # nothing shown yet
    assert activations_needed(features, "old.png", None) is None  # no layer
    assert activations_needed(features, "old.png", "") is None
    assert activations_needed(changed(features, image=None), "old.png", "conv1") is None
    assert activations_needed(changed(features, image=""), "old.png", "conv1") is None
    assert activations_needed(changed(STATE, tab="compare"), "old.png", "conv1") is None


# -- everything at once ----------------------------------------------------------------------------
def test_the_requests_come_canvas_first_then_the_grid_then_activations():
    state = changed(STATE, tab="compare")
    asked = requests_for(state, FACTS, nothing_cached, 12)
    assert asked == (Explain("a.png", "gradcam", "conv3", None),
                     Compare(tuple(compare_items(state, FACTS, 12))))
    features = changed(STATE, tab="features")
    assert requests_for(features, FACTS, nothing_cached, 12, shown_activations="old.png") == (
        Explain("a.png", "gradcam", "conv3", None), Activations("a.png", "conv3"))  # the state's layer
    assert requests_for(features, FACTS, nothing_cached, 12, shown_activations="old.png",
                        features_layer="conv1")[-1] == Activations("a.png", "conv1")


def test_only_missing_tiles_are_asked_and_none_when_all_are_there():
    state = changed(STATE, tab="compare")
    have = {Explain("a.png", "gradcam", "conv3", None), Explain("a.png", "saliency", None, None)}
    asked = requests_for(state, FACTS, lambda r: r in have, 12)
    assert asked == (Compare((Explain("a.png", "layercam", "conv3", None),)),)
    have.add(Explain("a.png", "layercam", "conv3", None))
    assert requests_for(state, FACTS, lambda r: r in have, 12) == ()


def test_a_running_map_is_not_asked_twice_but_another_one_is():
    running = Explain("a.png", "gradcam", "conv3", None)
    assert requests_for(STATE, FACTS, nothing_cached, 12, running=running) == ()
    other = changed(STATE, class_index=1)
    assert requests_for(other, FACTS, nothing_cached, 12, running=running) == (
        Explain("a.png", "gradcam", "conv3", 1),)


def test_a_tab_change_asks_only_for_the_tabs_content():
    assert requests_for(STATE, FACTS, nothing_cached, 12, canvas=False) == ()
    state = changed(STATE, tab="compare")
    assert [type(r) for r in requests_for(state, FACTS, nothing_cached, 12, canvas=False)] == [Compare]


# -- the state remembered between runs -----------------------------------------------------------------
def test_a_methods_parameters_are_its_own():
    state = changed(STATE, params=PARAMS)
    assert state.params_of("saliency") == (("polarity", "negative"),) and state.params_of("layercam") == ()


def test_the_remembered_values_use_the_settings_keys_with_blank_for_none():
    view = ViewSettings(opacity=0.7, threshold=0.2, colormap="viridis", outline=True, mode="heatmap")
    state = ViewState(image="a.png", method=None, layer="conv2", compare_mode="classes", view=view,
                      class_index=2, tab="compare")
    assert state.remembered() == {"image": "a.png", "method": "", "layer": "conv2", "compare_mode": "classes",
                                  "opacity": 0.7, "threshold": 0.2, "colormap": "viridis", "outline": True,
                                  "view_mode": "heatmap"}


class Settings(dict):
    """The window's settings as initial_state reads them (QSettings behind a get)."""


def test_the_window_starts_from_the_remembered_choices_but_no_image():
    remembered = Settings(opacity=0.6, threshold=0.1, colormap="magma", outline=True, view_mode="image",
                          method="layercam", layer="conv1", compare_mode="layers", image="old.png")
    state = initial_state(remembered)
    assert state == ViewState(method="layercam", layer="conv1", compare_mode="layers",
                              view=ViewSettings(0.6, 0.1, "magma", True, "image"))
    blank = initial_state(Settings(remembered, method="", layer=""))
    assert blank.method is None and blank.layer is None  # blank in the settings: nothing chosen


@pytest.mark.parametrize("key", ["image", "method", "layer", "compare_mode"])
def test_each_remembered_choice_round_trips(key):
    state = ViewState(image="a.png", method="gradcam", layer="conv1", compare_mode="layers")
    again = initial_state(Settings(state.remembered()))
    if key == "image":
        assert again.image is None  # the folder reopens; the image is chosen again
    else:
        assert getattr(again, key) == getattr(state, key)
    assert again.view == state.view
