"""The window's logic: one `ViewState` of the user's choices, the engine requests it turns
into, and what to show when the answers come back.

Views emit what the user changed (an image, a class, a layer, a method and its parameters,
the compare mode, the view settings, the tab); the controller updates the state, remembers
it, asks the engine worker for what is missing and tells the views what to show through
their own small methods (`show_explanation`, `show_prediction`, ...)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.errors import ImageLoadError
from engine.images.decoding import list_images
from PySide6.QtCore import QObject, Signal

from .cache import ResultCache
from .canvas import HINT
from .compare import MAX_TILES, compare_scope, tile_label
from .protocol import (
    Activations,
    Compare,
    EngineStarted,
    Explain,
    ExplanationComputed,
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
from .state import ViewState
from .worker import EngineClient, as_params

BUSY_TEXT = {"model": "Loading the model…", "predict": "Predicting the folder…", "explain": "Explaining…",
             "compare": "Computing the compare grid…", "features": "Computing feature views…",
             "review": "Reviewing the folder…"}
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

    def __init__(self, window, state: ViewState, client: EngineClient | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.state = state
        self.client = client or EngineClient(self)
        self.cache = ResultCache()
        self.info = None
        self.specs: tuple = ()
        self.titles: dict[str, str] = {}  # method name -> display title, from the engine
        self.predictions: dict[str, object] = {}
        self.busy: dict[str, int] = {}
        self.pending_model: str | None = None
        self.explaining: Explain | None = None  # the explanation request on its way
        self.errors: list[str] = []
        signals = self.client.signals
        signals.on(EngineStarted, self._engine_started)
        signals.on(ModelOpened, self._model_opened)
        signals.on(PredictionsComputed, self._predictions_computed)
        signals.on(ImageLoaded, self._image_loaded)
        signals.on(ExplanationComputed, self._explanation_computed)
        signals.on(FeaturesComputed, self._features_computed)
        signals.on(ProgressReported, self._progress_reported)
        signals.on(JobFailed, self._job_failed)
        signals.on(JobFinished, self._job_finished)

    # -- the state --------------------------------------------------------------------------
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
        self.state = replace(self.state, **changes)
        for key, value in self.state.remembered().items():
            if before.get(key) != value:
                self.window.settings.set(key, value)
        self.stateChanged.emit(self.state)

    def spec_of(self, method: str | None) -> MethodSpec | None:
        """The engine's description of a method (None before the engine has started, or unknown)."""
        return next((s for s in self.specs if s.name == method), None)

    def title(self, method: str) -> str:
        """A method's display title ("gradcam" -> "Grad-CAM")."""
        return self.titles.get(method, method)

    # -- what the user changed --------------------------------------------------------------
    def select_image(self, path: str) -> None:
        """A new image: explain its predicted class. The same image again recomputes what
        a cancel stopped (or shows the cached map at once)."""
        if path != self.state.image:
            self.update(image=path, class_index=None)
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
        self.update(layer=path)
        self.window.layer_tree.set_target(path)
        self.window.features.set_layer(path.split(",")[-1])  # several layers (fused): the deepest one's features
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
        self.refresh_compare()

    def set_compare_methods(self, methods: tuple[str, ...]) -> None:
        """Which methods the compare tiles show (the Compare tab's Methods menu)."""
        self.update(compare_methods=tuple(methods))
        self.refresh_compare()

    def set_view(self, view) -> None:
        """Opacity, threshold, colour map, outline or view mode."""
        self.update(view=view)
        self.window.canvas.apply(view)
        self.window.compare.apply(view)

    def set_tab(self, tab: str) -> None:
        """The tab in front changed: fill it for the current image."""
        self.update(tab=tab)
        if tab == "compare":
            self.refresh_compare()
        self.sync_activations()

    def cancel(self) -> None:
        """Stop the running job now and drop the queued ones; the canvas keeps saying which
        image is selected (selecting it again recomputes). Folder predictions resume: the
        browser and the predictions panel would otherwise wait for them forever."""
        if not self.busy:
            return  # nothing runs: Esc has nothing to say
        self._stop_jobs()
        self.window.compare.mark_cancelled()
        self.window.features.mark_cancelled()
        self._predict_all()
        canvas = self.window.canvas
        path = self.state.image
        if path and (canvas.path != path or canvas.explanation is None):
            canvas.show_note(path, f"{Path(path).name} · cancelled: select the image again to explain it")
            self.canvasChanged.emit()
        elif path and not self._shows_current_request(path):
            canvas.title.setText(f"{canvas.title_text()} · cancelled: this map is for the earlier settings")
        self.window.status("Cancelled")

    def _shows_current_request(self, path: str) -> bool:
        """Whether the canvas's map is the one the current choices ask for (a cancel may leave
        the map of earlier settings in place while the panel shows the new ones)."""
        request = self.explain_request(path)
        cached = self.cache.get(request.key(self.info.path)) if request and self.info else None
        return cached is not None and cached[0] is self.window.canvas.explanation

    # -- files ------------------------------------------------------------------------------
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
            self.client.supersede("explain")
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

    def explain_request(self, path: str, method: str | None = None, layer: str | None = None,
                        class_index: int | None | str = "current") -> Explain | None:
        """The request for the current state (any of its choices can be overridden)."""
        state = self.state
        method = method or state.method
        if method is None or self.info is None or method not in self.titles:
            return None
        spec = self.spec_of(method)
        needs_layer = spec.needs_layer if spec else True
        params = state.params_of(method)  # its own parameters and the combinations that apply to it
        chosen = state.class_index if class_index == "current" else class_index
        return Explain(path, method, (layer or state.layer) if needs_layer else None, chosen, params, state.output)

    def refresh(self) -> None:
        """Explain the current image with the current choices (instant when cached)."""
        path = self.state.image
        if path is None:
            return
        request = self.explain_request(path)
        if request is None:
            self._waiting_for_engine(path)
            return
        cached = self.cache.get(request.key(self.info.path))
        if cached is not None:
            self.client.supersede("explain")  # a running request is stale now
            self.busy.pop("explain", None)
            self._update_busy()
            self._show(request, *cached)
        else:
            if not ("explain" in self.busy and self.explaining == request):  # the same one runs already
                self.explaining = request
                self.submit(request)
        if self.state.tab == "compare":
            self.refresh_compare()
        self.sync_activations()

    def _waiting_for_engine(self, path: str) -> None:
        """Say what the canvas waits for instead of a hint to open a folder that is open."""
        what = "the engine (TensorFlow)" if not self.specs else "the model"
        if self.window.canvas.path != path:
            self.window.canvas.show_note(path, f"{Path(path).name} · loading {what}…")

    def sync_activations(self) -> None:
        """Recompute the shown activations when they belong to another image (they depend on the
        image and the layer only, not on the method or class)."""
        shown = self.window.features.results.get("activations")
        if self.state.tab == "features" and shown is not None and shown.path != self.state.image:
            self.show_activations(self.window.features.layer or self.state.layer)

    def refresh_compare(self) -> None:
        """Fill the compare grid for the current image and compare mode."""
        if self.state.image is None or self.info is None:
            return
        mode = self.state.compare_mode
        items = self._compare_items(mode)
        labels = [tile_label(mode, self.title(r.method), r.layer, self._class_name(r.class_index)) for r in items]
        keys = [r.key(self.info.path) for r in items]
        compare = self.window.compare
        compare.set_scope(self._compare_scope(mode, len(items)))
        compare.set_tiles(labels, keys)
        missing = []
        for request, key in zip(items, keys, strict=True):
            cached = self.cache.get(key)
            if cached is not None:
                compare.set_result(key, cached[1], cached[0])
            else:
                missing.append(request)
        if missing:
            self.submit(Compare(tuple(missing)))

    def _compare_scope(self, mode: str, shown: int) -> str:
        total = {"layers": len(self.info.cam_layers), "classes": len(self.info.class_names)}.get(mode, shown)
        spec = self.spec_of(self.state.method)
        layer = self.state.layer if spec is None or spec.needs_layer or mode == "methods" else None
        return compare_scope(mode, self.title(self.state.method or ""), layer, shown, total)

    def _compare_items(self, mode: str) -> list[Explain]:
        path = self.state.image
        if mode == "layers":
            layers = [info.path for info in self.info.cam_layers][-MAX_TILES:]
            return [r for r in (self.explain_request(path, layer=layer) for layer in layers) if r]
        if mode == "classes":
            classes = range(min(MAX_TILES, len(self.info.class_names)))
            return [r for r in (self.explain_request(path, class_index=c) for c in classes) if r]
        chosen = self.state.compare_methods
        methods = [s.name for s in self.specs if not chosen or s.name in chosen]
        return [r for r in (self.explain_request(path, method=m) for m in methods) if r]

    def _class_name(self, index: int | None) -> str | None:
        return None if index is None else self.info.class_names[index]

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
        self.specs = reply.specs
        self.titles = {s.name: s.title for s in self.specs}
        self.window.compare.set_methods(self.specs, self.state.compare_methods)
        self.window.method_panel.set_methods(self.specs, self.state.method)
        panel = self.window.method_panel
        self.update(method=panel.method(), params=per_method({name: panel.params_for(name) for name in panel.specs}))
        if "model" not in self.busy:
            self.window.status("Engine ready")

    def _model_opened(self, reply: ModelOpened) -> None:
        info = reply.info
        self.info, self.predictions = info, {}
        self.cache.clear()
        self.window.browser.clear_predictions()
        cam = {layer.path for layer in info.cam_layers}
        self.update(layer=self.state.layer if self.state.layer in cam else info.default_layer)
        self.window.model_loaded(info, self.state.layer)
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
        self.window.predictions.show_prediction(self.predictions.get(path), self.window.browser.label_of(path),
                                                classes)

    def _image_loaded(self, reply: ImageLoaded) -> None:
        path = reply.path
        if self.client.is_current("explain", reply.generation) and path == self.state.image:
            if self.window.canvas.path != path or self.window.canvas.image is None:
                self.window.canvas.show_loading(path, reply.display)
                self.canvasChanged.emit()

    def _explanation_computed(self, reply: ExplanationComputed) -> None:
        channel, request, explanation, display = reply.channel, reply.request, reply.explanation, reply.display
        key = request.key(self.info.path) if self.info else None
        if key is not None:
            self.cache.put(key, (explanation, display))
        if channel == "compare":
            self.window.compare.set_result(key, display, explanation)
        elif self.client.is_current(channel, reply.generation) and request.path == self.state.image:
            self._show(request, explanation, display)

    def _show(self, request: Explain, explanation, display) -> None:
        spec = self.spec_of(explanation.method)
        self.window.canvas.show_explanation(request.path, display, explanation, self.title(explanation.method),
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
        if channel == "model":
            self.busy.pop("model", None)
            self._update_busy()
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
