"""The window's logic: one `ViewState` of the user's choices, the engine requests it turns
into, and what to show when the answers come back.

Views emit what the user changed (an image, a class, a layer, a method and its parameters,
the compare mode, the view settings, the tab); the controller updates the state, remembers
it, sends the requests `gui.plan` says the state needs (a plain function, tested headless)
and tells the views what to show through their own small methods (`show_explanation`,
`show_prediction`, ...). Views that only mirror the state (the layer tree's target, the view
settings) subscribe to `stateChanged` instead (gui.main_window)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ImageLoadError
from engine.images.decoding import list_images
from PySide6.QtCore import QObject, Signal

from .cache import ResultCache
from .canvas import HINT
from .compare import MAX_TILES, compare_scope, models_scope, tile_label
from .plan import EngineFacts, changed, compare_items, explain_request, requests_for
from .protocol import (
    CHANNELS,
    Activations,
    EngineStarted,
    Explain,
    ExplanationComputed,
    ExplanationFailed,
    FeaturesComputed,
    ImageLoaded,
    JobFailed,
    JobFinished,
    MethodSpec,
    ModelOpened,
    OpenModel,
    Patterns,
    PredictFolder,
    PredictionsComputed,
    ProgressReported,
    Request,
    channel_of,
)
from .second_model import SecondModel
from .state import ViewState
from .worker import EngineClient, as_params

if TYPE_CHECKING:
    from engine.results import ModelInfo

BUSY_TEXT = {"model": "Loading the model…", "predict": "Predicting the folder…", "explain": "Explaining…",
             "compare": "Computing the compare grid…", "features": "Computing feature views…",
             "review": "Reviewing the folder…", "trust": "Checking the map…",
             "model_b": "Loading the model to compare with…", "explain_b": "Explaining with model B…"}
assert set(BUSY_TEXT) == set(CHANNELS), "every channel says what it is busy with"
STARTING = "Loading the engine (TensorFlow)…"


def per_method(params: dict) -> tuple:
    """{method: {name: value}} -> the hashable per-method form ViewState.params holds."""
    return tuple(sorted((method, as_params(values)) for method, values in params.items()))


class Controller(QObject):
    """Holds the engine client, the cache and the window's state; drives the views."""

    modelChanged = Signal(object)  # ModelInfo
    explanationShown = Signal(object)  # Explanation on the canvas
    busyChanged = Signal(bool)
    canvasChanged = Signal()  # the canvas shows another image, map or error
    stateChanged = Signal(object)  # ViewState, after any change
    cancelled = Signal()  # the user stopped the running jobs (Esc, Cancel): views waiting for one stop waiting

    def __init__(self, window, state: ViewState, client: EngineClient | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.client = client or EngineClient(self)
        self.cache = ResultCache()
        self.facts = EngineFacts()  # the engine's methods and the open model
        self.predictions: dict[str, object] = {}
        self.busy: dict[str, int] = {}
        self.pending_model: str | None = None
        self.explaining: Explain | None = None  # the explanation request on its way
        self.errors: list[str] = []
        self.second = SecondModel(self)  # the model compared with this one (gui.second_model)
        signals = self.client.signals
        signals.on(EngineStarted, self._engine_started)
        signals.on(ModelOpened, self._model_opened)
        signals.on(PredictionsComputed, self._predictions_computed)
        signals.on(ImageLoaded, self._image_loaded)
        signals.on(ExplanationComputed, self._explanation_computed)
        signals.on(ExplanationFailed, self._explanation_failed)
        signals.on(FeaturesComputed, self._features_computed)
        signals.on(ProgressReported, self._progress_reported)
        signals.on(JobFailed, self._job_failed)
        signals.on(JobFinished, self._job_finished)

    # -- the state --------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo | None:
        """The open model (None before one has opened)."""
        return self.facts.info

    @property
    def info_b(self) -> ModelInfo | None:
        """The model compared with the open one (None when not comparing)."""
        return self.facts.info_b

    def key_of(self, request: Explain) -> tuple | None:
        """A request's cache key, with the path of the model it is for (None: that model is not open)."""
        info = self.facts.info_b if request.model == "b" else self.facts.info
        return request.key(info.path) if info is not None else None

    @property
    def specs(self) -> tuple[MethodSpec, ...]:
        """The engine's methods (empty before TensorFlow has loaded)."""
        return self.facts.specs

    @property
    def path(self) -> str | None:
        """The selected image."""
        return self.state.image

    @property
    def layer(self) -> str | None:
        """The CAM target layer."""
        return self.state.layer

    @property
    def class_index(self) -> int | None:
        """The explained class (None: the predicted one)."""
        return self.state.class_index

    def update(self, **changes) -> None:
        """Change the state and remember what the settings keep."""
        before = self.state.remembered()
        self.state = changed(self.state, **changes)
        for key, value in self.state.remembered().items():
            if before.get(key) != value:
                self.window.settings.set(key, value)
        self.stateChanged.emit(self.state)

    def spec_of(self, method: str | None) -> MethodSpec | None:
        """The engine's description of a method (None before the engine has started, or unknown)."""
        return self.facts.spec_of(method)

    def title(self, method: str) -> str:
        """A method's display title ("gradcam" -> "Grad-CAM")."""
        return self.facts.title(method)

    # -- what the user changed --------------------------------------------------------------
    def select_image(self, path: str) -> None:
        """A new image: explain its predicted class. The same image again recomputes what
        a cancel stopped (or shows the cached map at once)."""
        if path != self.state.image:
            self.update(image=path)  # and the predicted class: gui.plan.changed
            self.window.predictions.mark_explained(None)  # the previous image's class until this map arrives
            self._show_prediction()
            self.refresh()
        elif "explain" not in self.busy and not self.window.canvas.shows_map_of(path):
            self.refresh()

    def select_class(self, index: int) -> None:
        """Explain another class of the current image."""
        self.update(class_index=index)
        self.refresh()

    def select_layer(self, path: str) -> None:
        """Make a layer the CAM target."""
        self.update(layer=path)  # the layer tree and the features tab follow the state (gui.main_window)
        self.refresh()

    def set_method(self, method: str | None, params: dict) -> None:
        """Another method or other parameters; `params`: per method, the parameters and
        combinations chosen for it (MethodPanel.params_for)."""
        if method:
            self.update(method=method, params=per_method(params))
            self.refresh()

    def set_compare_mode(self, mode: str) -> None:
        """What the compare tiles vary: methods, layers or classes."""
        self.update(compare_mode=mode)
        self.fill_tab()

    def set_compare_methods(self, methods: tuple[str, ...]) -> None:
        """Which methods the compare tiles show (the Compare tab's Methods menu)."""
        self.update(compare_methods=tuple(methods))
        self.fill_tab()

    def set_view(self, view) -> None:
        """Opacity, threshold, colour map, outline or view mode."""
        self.update(view=view)  # the canvas and the compare grid redraw on their own (gui.main_window)

    def set_tab(self, tab: str) -> None:
        """The tab in front changed: fill it for the current image."""
        self.update(tab=tab)
        self.fill_tab()

    def cancel(self) -> None:
        """Stop the running job now and drop the queued ones; the canvas keeps saying which
        image is selected (selecting it again recomputes). Folder predictions resume: the
        browser and the predictions panel would otherwise wait for them forever."""
        if not self.busy:
            return  # nothing runs: Esc has nothing to say
        self._stop_jobs()
        self.cancelled.emit()
        for name in ("compare", "features"):  # a tab never built waits for nothing
            view = self.window.built_view(name)
            if view is not None:
                view.mark_cancelled()
        self._predict_all()
        canvas = self.window.canvas
        path = self.state.image
        if path and (canvas.path != path or canvas.explanation is None):
            canvas.show_note(path, f"{Path(path).name} · cancelled: select the image again to explain it")
            self.canvasChanged.emit()
        elif path and not self._shows_current_request(path):
            canvas.title.setText(f"{canvas.title_text()} · cancelled: this map is for the earlier settings")
        self.second.cancelled()
        self.window.status("Cancelled")

    def _shows_current_request(self, path: str) -> bool:
        """Whether the canvas's map is the one the current choices ask for (a cancel may leave
        the map of earlier settings in place while the panel shows the new ones)."""
        cached = self.cached_result(self.explain_request(path))
        return cached is not None and cached[0] is self.window.canvas.explanation

    def cached_result(self, request: Explain | None) -> tuple | None:
        """The cached (Explanation, display) of a request, or None."""
        key = self.key_of(request) if request is not None else None
        return self.cache.get(key) if key is not None else None

    def _known(self, request: Explain) -> bool:
        """Whether a request's answer is here: its map, or the reason it cannot be made."""
        return self.cached_result(request) is not None or self.key_of(request) in self.second.refused

    # -- files ------------------------------------------------------------------------------
    def drop(self, channel: str) -> None:
        """Make the channel's running or queued request stale and stop waiting for it: the engine
        skips a stale request without a reply, so nothing else would clear its busy mark."""
        self.client.supersede(channel)
        self.busy.pop(channel, None)
        self._update_busy()

    def _stop_jobs(self) -> None:
        self.client.cancel()
        self.busy.clear()
        self._update_busy()

    def open_model(self, path: str, trust: bool = False) -> None:
        """Load a model in the worker, first stopping what runs for the old one (the load
        waited behind it); the previous model stays usable if this one fails."""
        self.pending_model = str(path)
        if self.busy:
            self._stop_jobs()
        if self.specs:  # before, the status line says the engine itself is loading
            self.window.status(f"Opening {Path(path).name}…")
        self.submit(OpenModel(str(path), trust))

    def open_model_b(self, path: str, trust: bool = False) -> None:
        """Load a second model to compare with the open one (File › Compare with another model…)."""
        self.second.open(path, trust)

    def stop_comparing(self) -> None:
        """Back to one model."""
        self.second.stop()

    def open_folder(self, folder: str, select: str | None = None) -> bool:
        """List a folder's images in the browser, then predict them all in the worker."""
        try:
            paths = [str(p) for p in list_images(folder)]
        except ImageLoadError as exc:
            self.window.report_error(str(exc))
            return False
        self._show_folder(str(folder), paths)
        self.window.remember_folder(str(folder))
        if not paths:
            return True
        if not (select and self.window.browser.select_path(select)):
            self.window.browser.select_row(0)
        return True

    def open_image(self, path: str) -> None:
        """Show one image: inside the open folder select it, otherwise list it alone."""
        if self.window.browser.select_path(str(path)):
            return
        image = Path(path)
        self._show_folder(str(image.parent.parent), [str(image)])
        self.window.browser.select_row(0)

    def _show_folder(self, folder: str, paths: list[str]) -> None:
        """Put a folder's images in the browser with the predictions already known; forget the
        previous folder's image when this one has none."""
        browser = self.window.browser
        browser.set_folder(folder, paths)
        browser.set_predictions([self.predictions[p] for p in paths if p in self.predictions])
        self._predict_all()
        if self.info is not None:  # while the engine loads, the status line says so
            self.window.status(f"{len(paths)} images in {folder}")  # what was said of the last folder is stale
        if not paths:
            self.drop("explain")
            self.update(image=None, class_index=None)
            self.window.predictions.show_prediction(None)
            self.window.canvas.show_hint(f"No images in {folder}: open another folder (Ctrl+Shift+O)")
            self.canvasChanged.emit()

    # -- requests ---------------------------------------------------------------------------
    def submit(self, request: Request) -> int:
        """Send a request to the engine and show progress for it."""
        channel = channel_of(request)
        generation = self.client.submit(request)
        self.busy[channel] = generation
        self.window.show_busy(BUSY_TEXT[channel] if self.specs else STARTING, True)
        return generation

    def _predict_all(self) -> None:
        paths = tuple(p for p in self.window.browser.paths() if p not in self.predictions)
        if self.info is not None and paths:
            self.submit(PredictFolder(paths))

    def explain_request(self, path: str) -> Explain | None:
        """The current state's explanation of an image (None: no engine, model or method yet)."""
        return explain_request(self.state, self.facts, path)

    def refresh(self) -> None:
        """Explain the current image with the current choices (instant when cached), and fill the
        tab in front: the requests are gui.plan.requests_for's."""
        path = self.state.image
        if path is None:
            return
        request = self.explain_request(path)
        if request is None:
            self._waiting_for_engine(path)
            return
        cached = self.cached_result(request)
        if cached is not None:
            self.drop("explain")  # a running request is stale now
            self._show(request, *cached)
        if self.state.tab == "compare":
            self._show_compare_tiles()
        request_b = self.second.request_for(request)
        self.second.show(request_b)
        running = self.explaining if "explain" in self.busy else None
        running_b = self.second.running if "explain_b" in self.busy else None
        for needed in requests_for(self.state, self.facts, self._known, MAX_TILES,
                                   running, *self._shown_activations(), running_b=running_b):
            if isinstance(needed, Explain):
                if needed.model == "b":
                    self.second.running = needed
                else:
                    self.explaining = needed
            self.submit(needed)

    def _shown_activations(self) -> tuple[str | None, str | None]:
        """The image of the activations the Features tab shows, and its layer."""
        features = self.window.built_view("features")
        if features is None:  # never shown: it shows no activations
            return None, None
        shown = features.results.get("activations")
        return (shown.path if shown is not None else None), features.layer

    def _waiting_for_engine(self, path: str) -> None:
        """Say what the canvas waits for instead of a hint to open a folder that is open."""
        what = "the engine (TensorFlow)" if not self.specs else "the model"
        if self.window.canvas.path != path:
            self.window.canvas.show_note(path, f"{Path(path).name} · loading {what}…")

    def fill_tab(self) -> None:
        """Fill the tab in front (compare tiles, stale activations) without re-explaining."""
        if self.state.image is None:
            return
        if self.state.tab == "compare":
            self._show_compare_tiles()
        for needed in requests_for(self.state, self.facts, self._known, MAX_TILES,
                                   None, *self._shown_activations(), canvas=False):
            self.submit(needed)

    def _show_compare_tiles(self) -> None:
        """Lay out the compare grid for the current image and mode, with the tiles already computed."""
        if self.info is None:
            return
        mode = self.state.compare_mode
        items = compare_items(self.state, self.facts, MAX_TILES)
        labels = [tile_label(mode, self.title(r.method), r.layer, self.facts.class_name(r.class_index), r.model)
                  for r in items]
        keys = [self.key_of(r) for r in items]
        compare = self.window.compare
        compare.set_scope(self._compare_scope(mode, len(items)))
        compare.set_tiles(labels, keys)
        for key in keys:
            cached = self.cache.get(key) if key is not None else None
            if cached is not None:
                compare.set_result(key, cached[1], cached[0])
            elif key in self.second.refused:
                compare.set_failure(key, self.second.refused[key], self._reason(items[keys.index(key)]))

    def _compare_scope(self, mode: str, shown: int) -> str:
        assert self.info is not None
        if mode == "models":
            limited = bool(self.facts.black_box) and not self.state.compare_methods
            chosen = len(self.state.compare_methods or self.specs)
            return models_scope(self.info.name, self.info_b.name if self.info_b else None, shown // 2, limited, chosen)
        total = {"layers": len(self.info.cam_layers), "classes": len(self.info.class_names)}.get(mode, shown)
        spec = self.spec_of(self.state.method)
        layer = self.state.layer if spec is None or spec.needs_layer or mode == "methods" else None
        return compare_scope(mode, self.title(self.state.method or ""), layer, shown, total)

    def show_activations(self, layer: str | None) -> None:
        """Ask for a layer's activations on the current image."""
        if layer and self.state.image and self.info is not None:
            self.window.features.set_layer(layer)
            self.submit(Activations(self.state.image, layer))

    def show_patterns(self, request: Patterns | None) -> None:
        """Ask for filter patterns (the grid fills in as they run)."""
        if request and self.info is not None:
            self.submit(request)

    # -- answers ----------------------------------------------------------------------------
    def _engine_started(self, reply: EngineStarted) -> None:
        self.facts = replace(self.facts, specs=reply.specs)
        compare = self.window.built_view("compare")
        if compare is not None:  # else it takes them when it is built
            compare.set_methods(self.specs, self.state.compare_methods)
        self.window.method_panel.set_methods(self.specs, self.state.method)
        panel = self.window.method_panel
        self.update(method=panel.method(), params=per_method({name: panel.params_for(name) for name in panel.specs}))
        if "model" not in self.busy:
            self.window.status("Engine ready")

    def _model_opened(self, reply: ModelOpened) -> None:
        if reply.model == "b":
            self.second.opened(reply)
            return
        info = reply.info
        black_box = self.facts.black_box | {"a"} if reply.black_box else self.facts.black_box - {"a"}
        self.facts, self.predictions = replace(self.facts, info=info, black_box=black_box), {}
        self.cache.clear()
        self.window.browser.clear_predictions()
        cam = {layer.path for layer in info.cam_layers}
        self.update(layer=self.state.layer if self.state.layer in cam else info.default_layer)
        self.window.model_loaded(info, self.state.layer)
        if self.info_b is not None:  # still compared with B: the header and the title name the new A
            self.window.pair.set_names(info.name, self.info_b.name)
            self.window.comparing_changed(self.info_b)
        self.modelChanged.emit(info)
        self._predict_all()
        if self.state.image:
            self._show_prediction()
            self.refresh()
        elif not self.window.browser.paths():
            self.window.canvas.show_hint(HINT)

    def _predictions_computed(self, reply: PredictionsComputed) -> None:
        predictions = reply.predictions
        for prediction in predictions:
            self.predictions[prediction.path] = prediction
        self.window.browser.set_predictions(predictions)
        if self.state.image in {p.path for p in predictions}:
            self._show_prediction()

    def _show_prediction(self) -> None:
        path = self.state.image
        classes = self.info.class_names if self.info else ()
        prediction = self.predictions.get(path) if path else None
        self.window.predictions.show_prediction(prediction, self.window.browser.label_of(path), classes)

    def _image_loaded(self, reply: ImageLoaded) -> None:
        path = reply.path
        if self.client.is_current("explain", reply.generation) and path == self.state.image:
            if self.window.canvas.path != path or self.window.canvas.image is None:
                self.window.canvas.show_loading(path, reply.display)
                self.canvasChanged.emit()

    def _explanation_computed(self, reply: ExplanationComputed) -> None:
        channel, request, explanation, display = reply.channel, reply.request, reply.explanation, reply.display
        key = self.key_of(request)
        if key is not None:
            self.cache.put(key, (explanation, display))
        if channel == "explain_b":
            self.second.computed(reply)
        elif channel == "compare":
            self.window.compare.set_result(key, display, explanation)
        elif self.client.is_current(channel, reply.generation) and request.path == self.state.image:
            self._show(request, explanation, display)

    def _explanation_failed(self, reply: ExplanationFailed) -> None:
        """A compare tile or model B's map could not be made: the engine's line in its tile or pane."""
        key = self.key_of(reply.request)
        if reply.request.model == "b" and key is not None:
            self.second.refusal(reply)
        if reply.channel == "compare":
            compare = self.window.built_view("compare")
            if compare is not None:
                compare.set_failure(key, reply.message, self._reason(reply.request))
        if reply.request.model != "b":  # B's pane or tile says it: the status line keeps A's notes
            self.window.report_error(f"{self.title(reply.request.method)}: {reply.message}")

    def _reason(self, request: Explain) -> str:
        """A few words for a tile whose model is a black box that cannot run its method ("": the engine's)."""
        return "" if self.facts.runs(request.model, request.method) else "a black box cannot run it"

    def _show(self, request: Explain, explanation, display) -> None:
        spec = self.spec_of(explanation.method)
        title = self.title(explanation.method)
        if self.state.model_b is not None and self.info is not None:  # two panes: each title names its model
            title = f"A · {self.info.name} · {title}"
        self.window.canvas.show_explanation(request.path, display, explanation, title,
                                            spec.parameters if spec else ())
        self.window.predictions.mark_explained(explanation.class_index)
        self.window.clear_error()
        # The status line speaks of the map on the canvas: its notes, or none (a note of an earlier map would mislead).
        self.window.status("; ".join(explanation.notes) if explanation.notes else self.window.ready_text())
        self.canvasChanged.emit()
        self.explanationShown.emit(explanation)

    def _features_computed(self, reply: FeaturesComputed) -> None:
        if self.client.is_current("features", reply.generation):
            self.window.features.show_result(reply.result)

    def _progress_reported(self, reply: ProgressReported) -> None:
        if reply.channel in self.busy:
            self.window.show_progress(BUSY_TEXT[reply.channel], reply.done, reply.total)

    def _job_failed(self, reply: JobFailed) -> None:
        channel, message = reply.channel, reply.message
        self.errors.append(message)
        if channel in ("model", "model_b"):
            self.busy.pop(channel, None)
            self._update_busy()
            if channel == "model_b":
                self.second.failed(reply)
            else:
                self.window.model_failed(message, reply.unsafe, self.pending_model)
        else:
            self.window.report_error(message)
            if channel == "explain":
                self._explain_failed(message)

    def _explain_failed(self, message: str) -> None:
        canvas = self.window.canvas
        path = self.state.image
        if path and canvas.path != path:  # the image itself could not be read
            canvas.show_error(path, f"{Path(path).name}: cannot be shown")
            self.window.predictions.show_error(message)
        else:
            canvas.show_map_error(message)
        self.canvasChanged.emit()

    def _job_finished(self, reply: JobFinished) -> None:
        if self.busy.get(reply.channel) == reply.generation:
            del self.busy[reply.channel]
        self._update_busy()

    def _update_busy(self) -> None:
        if self.busy:
            self.window.show_busy(BUSY_TEXT[next(iter(self.busy))], True)
        else:
            self.window.show_busy("", False)
        self.busyChanged.emit(bool(self.busy))
