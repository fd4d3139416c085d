"""The engine worker: one QObject in its own QThread owns the Session and runs every
TensorFlow call. Requests and results travel by queued signals; only numpy arrays and
frozen dataclasses cross. Every call into the engine lives in this module.

Why not the QThread's event loop: PySide6 gives each queued slot call a fresh Python
thread state, so thread-local data (TensorFlow keeps its graph-building state there) is lost
between calls and tracing can crash. The thread therefore runs one long Python loop that
takes requests from a queue; the GUI thread puts requests on that queue directly
(`EngineClient.submit`), and the worker answers with queued signals named for what happened
(`model_opened`, `image_loaded`, `explanation_computed`, ...). Requests are dispatched by type
from one table (`HANDLERS`).

Superseding: each channel ("model", "predict", "explain", "compare", "features", "review") has a
generation counter written by the GUI thread. A request whose generation is no longer the
latest is skipped, and a running job's cancel check also returns True once it is stale,
so a newer request stops an older one within one engine step.

A folder review is one long engine call; between its batches the worker serves queued
explain / compare / features requests, so the window stays usable while a lot is reviewed.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from engine.errors import Cancelled, ConvScopeError, UnsafeModelError
from PySide6.QtCore import QObject, QThread, Signal

from .jobs import (
    Activations,
    Compare,
    Explain,
    OpenModel,
    Patterns,
    PredictFolder,
    ReviewFolder,
)
from .worker_tasks import activation_result, method_specs, pattern_result, review_result

PREDICT_BATCH = 16
STACK_BYTES = 64 * 1024 * 1024
CHANNELS = ("model", "predict", "explain", "compare", "features", "review")
NOT_DURING_REVIEW = ("model", "review")  # wait for the review to end (or be cancelled)


@dataclass(frozen=True)
class Envelope:
    """A request with its channel and generation."""

    channel: str
    generation: int
    request: Any


class EngineWorker(QObject):
    """Owns the Session; lives in the worker thread."""

    engine_started = Signal(object)  # tuple[MethodSpec, ...], once TensorFlow is imported
    model_opened = Signal(object)  # ModelInfo
    predictions_computed = Signal(int, object)  # generation, tuple[Prediction, ...] of one batch
    image_loaded = Signal(int, str, object)  # generation, path, display (before the map is ready)
    explanation_computed = Signal(str, int, object, object, object)  # channel, generation, Explain, Explanation, display
    features_computed = Signal(int, object)  # generation, FeatureResult
    review_rows_computed = Signal(int, object)  # generation, list[ReviewRow] of one finished batch
    review_finished = Signal(int, object)  # generation, ReviewResult (complete=False when cancelled)
    progress_reported = Signal(str, int, int)  # channel, done, total
    job_failed = Signal(str, str, bool)  # channel, message, unsafe-model refusal
    job_cancelled = Signal(str)  # channel
    job_finished = Signal(str, int)  # channel, generation

    def __init__(self, latest: dict[str, int]) -> None:
        super().__init__()
        self._latest = latest
        self._session = None
        self._event = threading.Event()
        self._pending: deque[str] = deque()
        self._predict_generation = -1
        self._total = 0
        self.inbox: queue.Queue[Envelope | None] = queue.Queue()

    # -- called from the GUI thread ---------------------------------------------------------
    def cancel(self) -> None:
        """Stop the running job at its next cancel check (thread-safe)."""
        self._event.set()

    def enqueue(self, envelope: Envelope | None) -> None:
        """Queue a request (thread-safe; None stops the loop)."""
        self.inbox.put(envelope)

    # -- worker thread ----------------------------------------------------------------------
    def loop(self) -> None:
        """Import the engine, then serve requests until None arrives; folder predictions run
        one batch at a time whenever no other request waits."""
        self._start()
        while True:
            try:
                envelope = self.inbox.get(block=not self._pending)
            except queue.Empty:
                self._predict_batch()
                continue
            if envelope is None:
                return
            self.handle(envelope)

    def _start(self) -> None:
        """Import the engine (and TensorFlow) here, never on the GUI thread."""
        try:
            from engine.methods import METHODS

            self.engine_started.emit(method_specs(METHODS))
        except Exception as exc:  # noqa: BLE001 - a broken install is reported, not raised
            self.job_failed.emit("model", f"the engine could not start: {exc}", False)

    def handle(self, envelope: Envelope) -> None:
        """Run one request unless a newer one on its channel superseded it."""
        if self._stale(envelope):
            return
        self._event = threading.Event()
        channel = envelope.channel
        try:
            self._dispatch(envelope)
        except Cancelled:
            self.job_cancelled.emit(channel)
        except UnsafeModelError as exc:
            self.job_failed.emit(channel, str(exc), True)
        except ConvScopeError as exc:
            self.job_failed.emit(channel, str(exc), False)
        except Exception as exc:  # noqa: BLE001 - never let a job take the window down
            self.job_failed.emit(channel, f"{type(exc).__name__}: {exc}", False)
        if channel != "predict":
            self.job_finished.emit(channel, envelope.generation)

    def _stale(self, envelope: Envelope) -> bool:
        return self._latest.get(envelope.channel, 0) != envelope.generation

    def _cancel_check(self, envelope: Envelope):
        event = self._event
        return lambda: event.is_set() or self._stale(envelope)

    def _progress(self, channel: str):
        return lambda done, total: self.progress_reported.emit(channel, int(done), int(total))

    def _dispatch(self, envelope: Envelope) -> None:
        """Run the handler registered for the request's type (see HANDLERS below the class)."""
        request = envelope.request
        handler = HANDLERS[type(request)]
        if self._session is None and not isinstance(request, OpenModel):
            raise ConvScopeError("no model is loaded yet")
        handler(self, envelope, request)

    def _activations(self, envelope: Envelope, request: Activations) -> None:
        self.features_computed.emit(envelope.generation, activation_result(self._session, request))

    def _open(self, envelope: Envelope, request: OpenModel) -> None:
        from engine.session import Session

        session = Session.open(request.path, trust=request.trust)  # a failure keeps the old one
        self._session = session
        self.model_opened.emit(session.info)

    def _explain_one(self, envelope: Envelope, request: Explain, progress=None, image=None):
        image = image or self._session.load_image(request.path)
        result = self._session.explain(
            image, request.method, request.layer, request.class_index,
            progress=progress, cancel=self._cancel_check(envelope), **dict(request.params))
        return result, image.display

    def _explain(self, envelope: Envelope, request: Explain) -> None:
        image = self._session.load_image(request.path)
        self.image_loaded.emit(envelope.generation, request.path, image.display)
        result, display = self._explain_one(envelope, request, self._progress(envelope.channel), image)
        self.explanation_computed.emit(envelope.channel, envelope.generation, request, result, display)

    def _compare(self, envelope: Envelope, request: Compare) -> None:
        total = len(request.items)
        loaded: dict[str, object] = {}  # the tiles explain one image: read it once
        for done, item in enumerate(request.items):
            self.progress_reported.emit(envelope.channel, done, total)
            try:
                if item.path not in loaded:
                    loaded[item.path] = self._session.load_image(item.path)
                result, display = self._explain_one(envelope, item, image=loaded[item.path])
            except ConvScopeError as exc:  # one tile failing does not stop the others
                self.job_failed.emit(envelope.channel, f"{item.method}: {exc}", False)
                continue
            self.explanation_computed.emit(envelope.channel, envelope.generation, item, result, display)
        self.progress_reported.emit(envelope.channel, total, total)

    def _patterns(self, envelope: Envelope, request: Patterns) -> None:
        def partial(result) -> None:
            self.features_computed.emit(envelope.generation, result)

        result = pattern_result(self._session, request, self._progress(envelope.channel),
                                self._cancel_check(envelope), partial)
        self.features_computed.emit(envelope.generation, result)

    def _review(self, envelope: Envelope, request: ReviewFolder) -> None:
        def on_rows(rows) -> None:
            self.review_rows_computed.emit(envelope.generation, list(rows))
            self._serve_waiting()

        result = review_result(self._session, request, self._progress(envelope.channel),
                               self._cancel_check(envelope), on_rows)
        self.review_finished.emit(envelope.generation, result)

    def _serve_waiting(self) -> None:
        """Handle queued quick requests now (called between the batches of a review)."""
        deferred = []
        while True:
            try:
                envelope = self.inbox.get_nowait()
            except queue.Empty:
                break
            if envelope is None or envelope.channel in NOT_DURING_REVIEW:
                deferred.append(envelope)
            else:
                self.handle(envelope)
        for envelope in deferred:
            self.inbox.put(envelope)

    # -- folder predictions, one batch at a time so that other requests interleave ------------
    def _start_predict(self, envelope: Envelope, request: PredictFolder) -> None:
        self._pending = deque(request.paths)
        self._predict_generation = envelope.generation
        self._total = len(self._pending)

    def _predict_batch(self) -> None:
        generation = self._predict_generation
        if self._latest.get("predict", 0) != generation:
            self._pending.clear()
            return
        images = []
        while self._pending and len(images) < PREDICT_BATCH:
            path = self._pending.popleft()
            try:
                images.append(self._session.load_image(path))
            except ConvScopeError:
                continue  # the browser shows the image as unreadable on its own
        try:
            predictions = self._predict(images)
        except ConvScopeError as exc:
            self.job_failed.emit("predict", str(exc), False)
            predictions = ()
        self.predictions_computed.emit(generation, predictions)
        self.progress_reported.emit("predict", self._total - len(self._pending), self._total)
        if not self._pending:
            self.job_finished.emit("predict", generation)

    def _predict(self, images: list) -> tuple:
        if not images:
            return ()
        if None in tuple(self._session.info.input_shape[:2]):  # size-agnostic: one at a time
            return tuple(p for image in images for p in self._session.predict([image], top=5))
        return tuple(self._session.predict(images, top=5))


HANDLERS = {  # request type -> the worker method that runs it, (worker, envelope, request)
    OpenModel: EngineWorker._open,
    PredictFolder: EngineWorker._start_predict,
    Explain: EngineWorker._explain,
    Compare: EngineWorker._compare,
    Activations: EngineWorker._activations,
    Patterns: EngineWorker._patterns,
    ReviewFolder: EngineWorker._review,
}


class EngineThread(QThread):
    """The worker thread: runs the worker's loop (one persistent Python thread state)."""

    def __init__(self, worker: EngineWorker) -> None:
        super().__init__()
        self.worker = worker

    def run(self) -> None:
        self.worker.loop()


class EngineClient(QObject):
    """The GUI side: starts the thread, stamps requests with generations, stops cleanly."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.latest: dict[str, int] = dict.fromkeys(CHANNELS, 0)
        self.worker = EngineWorker(self.latest)
        self.thread = EngineThread(self.worker)
        self.thread.setObjectName("convscope-engine")
        self.thread.setStackSize(STACK_BYTES)  # TensorFlow tracing recurses deeply
        self.worker.moveToThread(self.thread)

    def start(self) -> None:
        """Start the worker thread (the engine imports there)."""
        self.thread.start()

    def submit(self, channel: str, request: Any) -> int:
        """Queue a request; it supersedes any older one on the same channel."""
        self.latest[channel] += 1
        generation = self.latest[channel]
        self.worker.enqueue(Envelope(channel, generation, request))
        return generation

    def is_current(self, channel: str, generation: int) -> bool:
        """Whether a result is for the latest request on its channel."""
        return self.latest.get(channel, 0) == generation

    def supersede(self, channel: str) -> None:
        """Make the running or queued request of a channel stale (the worker drops it)."""
        self.latest[channel] += 1

    def cancel(self) -> None:
        """Stop the running job and drop every queued one (loading a model is never dropped)."""
        for channel in CHANNELS:
            if channel != "model":
                self.supersede(channel)
        self.worker.cancel()

    def stop(self, timeout_ms: int = 10000) -> None:
        """Cancel and stop the thread; waits for the running engine step to return."""
        if not self.thread.isRunning():
            return
        self.cancel()
        self.worker.enqueue(None)
        self.thread.wait(timeout_ms)


def as_params(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Method parameters as a hashable, ordered tuple for requests and cache keys."""
    return tuple(sorted((k, v.item() if isinstance(v, np.generic) else v) for k, v in values.items()))
