"""Which engine requests the window's state needs: plain functions of the state and of what the
engine has said (its methods, the open model), with no Qt and no widgets, so that every
combination of the user's choices can be tested headless (tests/gui/test_plan.py).

The controller applies a change with `changed`, asks `requests_for` what to send, and shows what
comes back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .protocol import Activations, Compare, Explain, MethodSpec, Request
from .state import ViewState

if TYPE_CHECKING:
    from engine.results import ModelInfo

CURRENT = "current"  # explain_request's class_index: the state's


@dataclass(frozen=True)
class EngineFacts:
    """What the engine has told the window: its methods (once TensorFlow is in) and the open model."""

    specs: tuple[MethodSpec, ...] = ()
    info: ModelInfo | None = None
    info_b: ModelInfo | None = None  # the second model, compared with the open one
    black_box: frozenset[str] = frozenset()  # the models ("a", "b") that are deployed exports

    def spec_of(self, method: str | None) -> MethodSpec | None:
        """The engine's description of a method (None before the engine has started, or unknown)."""
        return next((s for s in self.specs if s.name == method), None)

    def title(self, method: str) -> str:
        """A method's display title ("gradcam" -> "Grad-CAM")."""
        spec = self.spec_of(method)
        return spec.title if spec else method

    def runs(self, model: str, method: str) -> bool:
        """Whether `model` ("a" or "b") can run a method: a black box only the gradient-free ones."""
        spec = self.spec_of(method)
        return model not in self.black_box or (spec is not None and spec.gradient_free)

    def class_name(self, index: int | None) -> str | None:
        """The name of a class of the open model (None: the predicted class)."""
        return None if index is None or self.info is None else self.info.class_names[index]


def changed(state: ViewState, **changes: Any) -> ViewState:
    """The state after the user's change. A new image starts from its predicted class: the class
    explained on the previous image says nothing about this one."""
    if changes.get("image", state.image) != state.image:
        changes.setdefault("class_index", None)
    return replace(state, **changes)


def explain_request(state: ViewState, facts: EngineFacts, path: str, method: str | None = None,
                    layer: str | None = None, class_index: int | None | str = CURRENT) -> Explain | None:
    """The explanation the state asks for on `path` (any choice can be overridden); None while the
    engine has not started, no model is open or the method is unknown."""
    method = method or state.method
    spec = facts.spec_of(method)
    if method is None or facts.info is None or spec is None:
        return None
    chosen = state.class_index if isinstance(class_index, str) else class_index
    target = (layer or state.layer) if spec.needs_layer else None
    return Explain(path, method, target, chosen, state.params_of(method), state.output)


def explain_request_b(state: ViewState, facts: EngineFacts, request: Explain | None) -> Explain | None:
    """Model B's counterpart of A's explanation `request` (None when not comparing): the same
    method, parameters and image; A's layer when B has one of that name, else B's default; A's class
    when both models name the same classes, else B's predicted class."""
    info_b, info = facts.info_b, facts.info
    if request is None or info_b is None or info is None or state.model_b is None:
        return None
    layers = {layer.path for layer in info_b.cam_layers}
    layer = request.layer if request.layer is None or request.layer in layers else info_b.default_layer
    same_classes = info_b.class_names == info.class_names
    output = request.output if request.output < len(info_b.heads) else 0
    return replace(request, layer=layer, class_index=request.class_index if same_classes else None,
                   output=output, model="b")


def model_pairs(state: ViewState, facts: EngineFacts, max_tiles: int) -> list[Explain]:
    """The "models" compare mode: A, then B, per method (at most `max_tiles` tiles). All methods
    (nothing ticked) means those both models can run (a black box runs only the gradient-free ones);
    of the methods ticked, those both can run come first."""
    if state.image is None:
        return []
    chosen = state.compare_methods
    methods = [s.name for s in facts.specs if not chosen or s.name in chosen]
    both = [m for m in methods if facts.runs("a", m) and facts.runs("b", m)]
    methods = both if not chosen and both else both + [m for m in methods if m not in both]
    tiles: list[Explain] = []
    for method in methods[:max(1, max_tiles // 2)]:
        a = explain_request(state, facts, state.image, method=method)
        tiles += [r for r in (a, explain_request_b(state, facts, a)) if r is not None]
    return tiles


def compare_items(state: ViewState, facts: EngineFacts, max_tiles: int) -> list[Explain]:
    """The compare grid's tiles for the state's compare mode: methods (the chosen ones), or up to
    `max_tiles` layers (the deepest) or classes."""
    path, info = state.image, facts.info
    if path is None or info is None:
        return []
    if state.compare_mode == "layers":
        layers = [layer.path for layer in info.cam_layers][-max_tiles:]
        found = (explain_request(state, facts, path, layer=layer) for layer in layers)
    elif state.compare_mode == "models":
        return model_pairs(state, facts, max_tiles)
    elif state.compare_mode == "classes":
        classes = range(min(max_tiles, len(info.class_names)))
        found = (explain_request(state, facts, path, class_index=c) for c in classes)
    else:
        chosen = state.compare_methods
        methods = [s.name for s in facts.specs if not chosen or s.name in chosen]
        found = (explain_request(state, facts, path, method=m) for m in methods)
    return [request for request in found if request is not None]


def activations_needed(state: ViewState, shown_path: str | None, layer: str | None) -> Activations | None:
    """The activations to recompute: the Features tab is in front and shows another image's
    (they depend on the image and layer only, not on the method or class)."""
    if state.tab != "features" or shown_path is None or shown_path == state.image or not state.image or not layer:
        return None
    return Activations(state.image, layer)


def requests_for(state: ViewState, facts: EngineFacts, cached: Callable[[Explain], bool], max_tiles: int,
                 running: Explain | None = None, shown_activations: str | None = None,
                 features_layer: str | None = None, canvas: bool = True,
                 running_b: Explain | None = None) -> tuple[Request, ...]:
    """Everything the state needs that is neither cached nor on its way: the canvas's explanation
    and, when comparing, model B's (unless `canvas` is False: only the tab in front changed), the
    compare tiles when the Compare tab is in front, the activations when the Features tab is."""
    if state.image is None:
        return ()
    wanted: list[Request] = []
    explain = explain_request(state, facts, state.image)
    if canvas and explain is not None and not cached(explain) and explain != running:
        wanted.append(explain)
    explain_b = explain_request_b(state, facts, explain)
    if canvas and explain_b is not None and not cached(explain_b) and explain_b != running_b:
        wanted.append(explain_b)
    if state.tab == "compare":
        missing = tuple(r for r in compare_items(state, facts, max_tiles) if not cached(r))
        if missing:
            wanted.append(Compare(missing))
    activations = activations_needed(state, shown_activations, features_layer or state.layer)
    if activations is not None:
        wanted.append(activations)
    return tuple(wanted)
