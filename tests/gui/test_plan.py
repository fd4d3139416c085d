"""State -> engine requests (gui.plan), without a window, Qt or an engine: image, class, method,
layer and tab changes and their combinations."""

from __future__ import annotations

from dataclasses import replace

import pytest
from engine.model.layers import LayerInfo
from engine.results import ModelInfo
from gui.plan import EngineFacts, changed, compare_items, explain_request, requests_for
from gui.protocol import Activations, Compare, Explain, MethodSpec
from gui.state import ViewState
from hypothesis import given
from hypothesis import strategies as st

TILES = 12


def _layer(path: str, spatial: int) -> LayerInfo:
    return LayerInfo(path, path, "Conv2D", (None, spatial, spatial, 8), 80, 0, False)


INFO = ModelInfo("m.keras", "m", (32, 32, 3), ("good", "scratch", "spot"), (), ("out",), "unit", "sidecar",
                 "conv2", (_layer("conv1", 16), _layer("conv2", 8)), 1000)
FACTS = EngineFacts((MethodSpec("gradcam", "Grad-CAM", True), MethodSpec("saliency", "Saliency", False),
                     MethodSpec("layercam", "LayerCAM", True)), INFO)
STATE = ViewState(image="a.png", method="gradcam", layer="conv2")


def nothing_cached(_request: Explain) -> bool:
    return False


def plan(state: ViewState, facts: EngineFacts = FACTS, cached=nothing_cached, **kwargs) -> tuple:
    return requests_for(state, facts, cached, TILES, **kwargs)


def test_a_new_image_is_explained_for_its_own_predicted_class():
    explained_spot = changed(STATE, class_index=2)
    assert plan(explained_spot) == (Explain("a.png", "gradcam", "conv2", 2),)
    assert plan(changed(explained_spot, image="b.png")) == (Explain("b.png", "gradcam", "conv2", None),)
    assert changed(explained_spot, image="a.png").class_index == 2  # the same image keeps its class


def test_class_layer_and_method_changes_each_ask_for_their_map():
    assert plan(changed(STATE, class_index=1))[0].class_index == 1
    assert plan(changed(STATE, layer="conv1"))[0].layer == "conv1"
    assert plan(changed(STATE, method="layercam", class_index=2)) == (Explain("a.png", "layercam", "conv2", 2),)
    assert plan(changed(STATE, method="saliency"))[0].layer is None  # a method without a layer


def test_a_methods_own_parameters_go_with_its_request():
    state = changed(STATE, params=(("gradcam", (("guided", True),)), ("layercam", (("edges", True),))))
    assert plan(state)[0].params == (("guided", True),)
    assert plan(changed(state, method="layercam"))[0].params == (("edges", True),)


def test_nothing_is_asked_before_the_engine_the_model_or_an_image():
    assert plan(STATE, EngineFacts()) == ()
    assert plan(STATE, EngineFacts(FACTS.specs)) == ()
    assert plan(replace(STATE, image=None)) == ()
    assert plan(changed(STATE, method="no-such-method")) == ()


def test_a_cached_or_running_map_is_not_asked_again():
    request = explain_request(STATE, FACTS, "a.png")
    assert plan(STATE, cached=lambda r: r == request) == ()
    assert plan(STATE, running=request) == ()
    assert plan(changed(STATE, class_index=1), running=request) != ()  # another map runs: this one is asked


def test_the_compare_tab_asks_for_its_missing_tiles_only():
    assert not any(isinstance(r, Compare) for r in plan(STATE))  # the Heatmap tab in front
    state = changed(STATE, tab="compare")
    done = Explain("a.png", "saliency", None, None)
    compare = plan(state, cached=lambda r: r == done)[-1]
    assert isinstance(compare, Compare)
    assert [r.method for r in compare.items] == ["gradcam", "layercam"]
    only = changed(state, compare_methods=("layercam",))
    assert [r.method for r in plan(only)[-1].items] == ["layercam"]


@pytest.mark.parametrize(("mode", "varies"), [("layers", "layer"), ("classes", "class_index")])
def test_compare_modes_vary_one_choice(mode, varies):
    state = changed(STATE, tab="compare", compare_mode=mode, class_index=1)
    items = compare_items(state, FACTS, TILES)
    values = [getattr(r, varies) for r in items]
    assert values == (["conv1", "conv2"] if mode == "layers" else [0, 1, 2])
    assert {r.method for r in items} == {"gradcam"}
    assert len(compare_items(state, FACTS, 1)) == 1  # no more tiles than the grid has


def test_compare_tiles_follow_a_new_image():
    state = changed(STATE, tab="compare", compare_mode="classes", class_index=2)
    moved = changed(state, image="b.png")
    assert {r.path for r in compare_items(moved, FACTS, TILES)} == {"b.png"}
    assert plan(moved)[0] == Explain("b.png", "gradcam", "conv2", None)


def test_activations_of_another_image_are_recomputed_on_the_features_tab():
    features = changed(STATE, tab="features")
    assert plan(features, shown_activations="old.png", features_layer="conv1")[-1] == Activations("a.png", "conv1")
    assert not any(isinstance(r, Activations) for r in plan(features, shown_activations="a.png"))
    assert not any(isinstance(r, Activations) for r in plan(features))  # none shown: nothing to refresh
    assert not any(isinstance(r, Activations) for r in plan(STATE, shown_activations="old.png"))


def test_a_tab_change_does_not_explain_the_canvas_again():
    state = changed(STATE, tab="compare")
    asked = plan(state, canvas=False)
    assert len(asked) == 1 and isinstance(asked[0], Compare)


# -- rules that hold for every state (hypothesis) ---------------------------------------------
IMAGES = ("a.png", "b.png", "c.png")
METHODS = ("gradcam", "saliency", "layercam", "no-such-method")
states = st.builds(
    ViewState,
    image=st.sampled_from(IMAGES),
    method=st.sampled_from(METHODS),
    params=st.sampled_from(((), (("gradcam", (("guided", True),)),), (("saliency", (("abs", False),)),))),
    layer=st.sampled_from(("conv1", "conv2")),
    class_index=st.none() | st.integers(0, len(INFO.class_names) - 1),
    compare_mode=st.sampled_from(("methods", "layers", "classes")),
    compare_methods=st.sampled_from(((), ("saliency",), ("gradcam", "layercam"))),
    tab=st.sampled_from(("heatmap", "compare", "features", "review", "trust")),
)
changes = st.fixed_dictionaries({}, optional={
    "image": st.sampled_from(IMAGES), "method": st.sampled_from(METHODS), "layer": st.sampled_from(("conv1", "conv2")),
    "class_index": st.none() | st.integers(0, 2), "tab": st.sampled_from(("heatmap", "compare")),
    "compare_mode": st.sampled_from(("methods", "layers", "classes"))})


@given(states, changes)
def test_only_a_new_image_resets_the_class_and_nothing_else_moves(state, change):
    after = changed(state, **change)
    new_image = change.get("image", state.image) != state.image
    if "class_index" in change:
        assert after.class_index == change["class_index"]  # the user's class, even with a new image
    else:
        assert after.class_index == (None if new_image else state.class_index)
    for name in ("image", "method", "layer", "tab", "compare_mode", "params", "compare_methods", "view"):
        assert getattr(after, name) == change.get(name, getattr(state, name))


@given(states)
def test_the_canvas_request_is_the_states_choices(state):
    asked = [r for r in plan(state) if isinstance(r, Explain)]
    spec = FACTS.spec_of(state.method)
    if spec is None:
        assert asked == []
        return
    assert asked == [Explain(state.image, state.method, state.layer if spec.needs_layer else None,
                             state.class_index, state.params_of(state.method))]


@given(states)
def test_nothing_cached_or_running_is_asked_and_a_tab_change_never_explains(state):
    everything_cached = plan(state, cached=lambda _r: True)
    assert not any(isinstance(r, (Explain, Compare)) for r in everything_cached)
    running = explain_request(state, FACTS, state.image)
    assert running not in plan(state, running=running)
    assert not any(isinstance(r, Explain) for r in plan(state, canvas=False))


@given(states, st.integers(1, 5))
def test_compare_tiles_vary_only_the_modes_choice(state, tiles):
    items = compare_items(state, FACTS, tiles)
    assert {r.path for r in items} <= {state.image}
    if state.compare_mode == "methods":
        chosen = state.compare_methods or tuple(s.name for s in FACTS.specs)
        assert [r.method for r in items] == [s.name for s in FACTS.specs if s.name in chosen]
        assert {r.class_index for r in items} <= {state.class_index}
        assert all(r.params == state.params_of(r.method) for r in items)  # each method's own parameters
        return
    assert len(items) <= tiles
    if FACTS.spec_of(state.method) is None:
        assert items == []
        return
    assert {r.method for r in items} == {state.method}
    assert {r.params for r in items} == {state.params_of(state.method)}
    if state.compare_mode == "classes":
        assert [r.class_index for r in items] == list(range(min(tiles, len(INFO.class_names))))
    else:
        assert {r.class_index for r in items} == {state.class_index}


@given(states)
def test_the_compare_grid_is_asked_on_the_compare_tab_only(state):
    compares = [r for r in plan(state) if isinstance(r, Compare)]
    if state.tab != "compare" or not compare_items(state, FACTS, TILES):
        assert compares == []
    else:
        assert compares == [Compare(tuple(compare_items(state, FACTS, TILES)))]
