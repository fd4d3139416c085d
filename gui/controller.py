"""The window's logic: what to ask the engine worker for, and what to do with the answers."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ImageLoadError
from engine.images.decoding import list_images
from PySide6.QtCore import QObject, Signal

from .compare import MAX_TILES, tile_label
from .compose import METHOD_TITLES
from .jobs import Activations, Compare, Explain, OpenModel, Patterns, PredictFolder, ResultCache
from .worker import EngineClient, as_params

BUSY_TEXT = {"model": "Loading the model…", "predict": "Predicting the folder…", "explain": "Explaining…",
             "compare": "Computing the compare grid…", "features": "Computing feature views…",
             "review": "Reviewing the folder…"}


class Controller(QObject):
    """Holds the engine client, the cache and the current choices; drives the window's views."""

    modelChanged = Signal(object)  # ModelInfo
    explanationShown = Signal(object)  # Explanation on the canvas
    busyChanged = Signal(bool)
    canvasChanged = Signal()  # the canvas shows another image, map or error

    def __init__(self, window, client: EngineClient | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.client = client or EngineClient(self)
        self.cache = ResultCache()
        self.info = None
        self.specs: tuple = ()
        self.predictions: dict[str, object] = {}
        self.path: str | None = None
        self.layer: str | None = None
        self.class_index: int | None = None
        self.busy: dict[str, int] = {}
        self.pending_model: str | None = None
        self.errors: list[str] = []
        worker = self.client.worker
        worker.engine_started.connect(self._engine_ready)
        worker.model_opened.connect(self._model_opened)
        worker.predictions_computed.connect(self._predicted)
        worker.image_loaded.connect(self._image_loaded)
        worker.explanation_computed.connect(self._explained)
        worker.features_computed.connect(self._features_ready)
        worker.progress_reported.connect(self._progress)
        worker.job_failed.connect(self._failed)
        worker.job_finished.connect(self._finished)

    # -- requests ---------------------------------------------------------------------------
    def submit(self, channel: str, request) -> int:
        """Send a request to the worker and show progress for it."""
        generation = self.client.submit(channel, request)
        self.busy[channel] = generation
        text = BUSY_TEXT[channel] if self.specs else "Loading the engine (TensorFlow)…"
        self.window.show_busy(text, True)
        return generation

    def open_model(self, path: str, trust: bool = False) -> None:
        """Load a model in the worker; the previous one stays usable if this one fails."""
        self.pending_model = str(path)
        self.submit("model", OpenModel(str(path), trust))

    def open_folder(self, folder: str, select: str | None = None) -> bool:
        """List a folder's images in the browser, then predict them all in the worker."""
        try:
            paths = [str(p) for p in list_images(folder)]
        except ImageLoadError as exc:
            self.window.report_error(str(exc))
            return False
        self.window.browser.set_folder(str(folder), paths)
        self.window.remember_folder(str(folder))
        self._predict_all()
        if not (select and self.window.browser.select_path(select)):
            self.window.browser.select_row(0)
        return True

    def open_image(self, path: str) -> None:
        """Show one image: inside the open folder select it, otherwise list it alone."""
        if self.window.browser.select_path(str(path)):
            return
        image = Path(path)
        self.window.browser.set_folder(str(image.parent.parent), [str(image)])
        self._predict_all()
        self.window.browser.select_row(0)

    def _predict_all(self) -> None:
        paths = tuple(p for p in self.window.browser.paths() if p not in self.predictions)
        if self.info is not None and paths:
            self.submit("predict", PredictFolder(paths))

    def explain_request(self, path: str, method: str | None = None, layer: str | None = None,
                        class_index: int | None | str = "current") -> Explain | None:
        """The request for the current choices (any of them can be overridden)."""
        spec = self.window.method_panel.spec()
        method = method or (spec.name if spec else None)
        if method is None or self.info is None:
            return None
        needs_layer = next((s.needs_layer for s in self.specs if s.name == method), True)
        params = as_params(self.window.method_panel.params_for(method))  # its parameters, the combinations
        chosen = self.class_index if class_index == "current" else class_index
        return Explain(path, method, (layer or self.layer) if needs_layer else None, chosen, params)

    def refresh(self) -> None:
        """Explain the current image with the current choices (instant when cached)."""
        request = self.explain_request(self.path) if self.path else None
        if request is None:
            return
        cached = self.cache.get(request.key(self.info.path))
        if cached is not None:
            self.client.supersede("explain")  # a running request is stale now
            self.busy.pop("explain", None)
            self._update_busy()
            self._show(request, *cached)
        else:
            self.submit("explain", request)
        if self.window.compare_visible():
            self.refresh_compare()
        self.sync_activations()

    def sync_activations(self) -> None:
        """Recompute the shown activations when they belong to another image (they depend on the
        image and the layer only, not on the method or class)."""
        shown = self.window.features.results.get("activations")
        if self.window.features_visible() and shown is not None and shown.path != self.path:
            self.show_activations(self.window.features.layer or self.layer)

    def refresh_compare(self) -> None:
        """Fill the compare grid for the current image and compare mode."""
        if self.path is None or self.info is None:
            return
        mode = self.window.compare.mode()
        items = self._compare_items(mode)
        labels = [tile_label(mode, r.method, r.layer, self._class_name(r.class_index)) for r in items]
        keys = [r.key(self.info.path) for r in items]
        self.window.compare.set_tiles(labels, keys)
        missing = []
        for request, key in zip(items, keys, strict=True):
            cached = self.cache.get(key)
            if cached is not None:
                self.window.compare.set_result(key, cached[1], cached[0])
            else:
                missing.append(request)
        if missing:
            self.submit("compare", Compare(tuple(missing)))

    def _compare_items(self, mode: str) -> list[Explain]:
        if mode == "layers":
            layers = [info.path for info in self.info.cam_layers][-MAX_TILES:]
            return [r for r in (self.explain_request(self.path, layer=layer) for layer in layers) if r]
        if mode == "classes":
            classes = range(min(MAX_TILES, len(self.info.class_names)))
            return [r for r in (self.explain_request(self.path, class_index=c) for c in classes) if r]
        methods = [s.name for s in self.specs][:MAX_TILES]
        return [r for r in (self.explain_request(self.path, method=m) for m in methods) if r]

    def _class_name(self, index: int | None) -> str | None:
        return None if index is None else self.info.class_names[index]

    def show_activations(self, layer: str | None) -> None:
        """Ask for a layer's activations on the current image."""
        if layer and self.path and self.info is not None:
            self.window.features.set_layer(layer)
            self.submit("features", Activations(self.path, layer))

    def show_patterns(self, request: Patterns | None) -> None:
        """Ask for filter patterns (the grid fills in as they run)."""
        if request and self.info is not None:
            self.submit("features", request)

    # -- choices ----------------------------------------------------------------------------
    def select_image(self, path: str) -> None:
        """A new image: explain its predicted class."""
        self.path, self.class_index = path, None
        self.window.remember("image", path)
        self.window.show_prediction(self.predictions.get(path), path)
        self.refresh()

    def select_class(self, index: int) -> None:
        """Explain another class of the current image."""
        self.class_index = index
        self.refresh()

    def select_layer(self, path: str) -> None:
        """Make a layer the CAM target."""
        self.layer = path
        self.window.layer_tree.set_target(path)
        self.window.features.set_layer(path)
        self.window.remember("layer", path)
        self.refresh()

    def cancel(self) -> None:
        """Stop the running job now and drop the queued ones."""
        self.client.cancel()
        self.busy.clear()
        self._update_busy()
        self.window.status("Cancelled")

    # -- answers ----------------------------------------------------------------------------
    def _engine_ready(self, specs) -> None:
        self.specs = tuple(specs)
        METHOD_TITLES.update({s.name: s.title for s in specs})
        self.window.method_panel.set_methods(self.specs, self.window.settings.get("method"))
        if "model" not in self.busy:
            self.window.status("Engine ready")

    def _model_opened(self, info) -> None:
        self.info, self.predictions = info, {}
        self.cache.clear()
        self.window.browser.model.clear_predictions()
        remembered = self.window.settings.get("layer")
        cam = {layer.path for layer in info.cam_layers}
        self.layer = remembered if remembered in cam else info.default_layer
        self.window.model_loaded(info, self.layer)
        self.modelChanged.emit(info)
        self._predict_all()
        if self.path:
            self.window.show_prediction(None, self.path)
            self.refresh()

    def _predicted(self, generation: int, predictions) -> None:
        for prediction in predictions:
            self.predictions[prediction.path] = prediction
        self.window.browser.set_predictions(predictions)
        if self.path in {p.path for p in predictions}:
            self.window.show_prediction(self.predictions[self.path], self.path)

    def _image_loaded(self, generation: int, path: str, display) -> None:
        if self.client.is_current("explain", generation) and path == self.path:
            if self.window.canvas.path != path:
                self.window.canvas.set_image(path, display)
                self.window.canvas.title.setText(f"{Path(path).name} · explaining…")
                self.canvasChanged.emit()

    def _explained(self, channel: str, generation: int, request: Explain, explanation, display) -> None:
        key = request.key(self.info.path) if self.info else None
        if key is not None:
            self.cache.put(key, (explanation, display))
        if channel == "compare":
            self.window.compare.set_result(key, display, explanation)
        elif self.client.is_current(channel, generation):
            self._show(request, explanation, display)

    def _show(self, request: Explain, explanation, display) -> None:
        self.window.canvas.set_explanation(request.path, display, explanation)
        self.window.predictions.mark_explained(explanation.class_index)
        self.window.clear_error()
        for note in explanation.notes:
            self.window.status(note)
        self.canvasChanged.emit()
        self.explanationShown.emit(explanation)

    def _features_ready(self, generation: int, result) -> None:
        if self.client.is_current("features", generation):
            self.window.features.show_result(result)

    def _progress(self, channel: str, done: int, total: int) -> None:
        if channel in self.busy:
            self.window.show_progress(BUSY_TEXT[channel], done, total)

    def _failed(self, channel: str, message: str, unsafe: bool) -> None:
        self.errors.append(message)
        if channel == "model":
            self.busy.pop("model", None)
            self._update_busy()
            self.window.model_failed(message, unsafe, self.pending_model)
        else:
            self.window.report_error(message)
            if channel == "explain":
                self._explain_failed(message)

    def _explain_failed(self, message: str) -> None:
        canvas = self.window.canvas
        if self.path and canvas.path != self.path:  # the image itself could not be read
            canvas.show_error(self.path, f"{Path(self.path).name}: cannot be shown")
            self.window.predictions.set_prediction(None)
            self.window.predictions.summary.setText(f"⚠ {message}")
        else:
            canvas.clear_map(message)
        self.canvasChanged.emit()

    def _finished(self, channel: str, generation: int) -> None:
        if self.busy.get(channel) == generation:
            del self.busy[channel]
        self._update_busy()

    def _update_busy(self) -> None:
        if self.busy:
            self.window.show_busy(BUSY_TEXT[next(iter(self.busy))], True)
        else:
            self.window.show_busy("", False)
        self.busyChanged.emit(bool(self.busy))
