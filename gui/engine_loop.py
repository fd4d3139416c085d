"""The engine's request loop: owns the Session and runs every TensorFlow call. No Qt.

It runs in a child process started with multiprocessing's 'spawn' context (see
`gui.worker`): TensorFlow's import, model loading and tracing hold the GIL for hundreds of
milliseconds at a time, which a thread of the window's process cannot hide, and a crash inside
TensorFlow then ends only this process. Requests and replies are the frozen dataclasses of
`gui.protocol`; each request type has one handler here (`HANDLERS`), and results leave through
`emit(reply)`. The same loop can run in a thread of the window's process
(`CONVSCOPE_ENGINE=thread`), with `emit` relaying to the window's signals directly.

Superseding: each channel ("model", "predict", "explain", "compare", "features", "review") has a
generation counter written by the GUI (shared memory with a process). A request whose
generation is no longer the latest is skipped, and a running job's cancel check also returns
True once it is stale, so a newer request stops an older one within one engine step.

A folder review is one long engine call; between its batches the loop serves queued
explain / compare / features requests, so the window stays usable while a lot is reviewed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
from collections import deque
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.errors import Cancelled, ConvScopeError, UnsafeModelError

from .protocol import (
    CHANNELS,
    REQUESTS,
    Activations,
    CloseModelB,
    Compare,
    CompareFinished,
    CompareFolder,
    CompareRowsComputed,
    EngineStarted,
    Explain,
    ExplanationComputed,
    ExplanationFailed,
    FeaturesComputed,
    ImageLoaded,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    ModelOpened,
    OpenModel,
    OpenModelB,
    Patterns,
    PredictFolder,
    PredictionsComputed,
    ProgressReported,
    Reply,
    Request,
    ReviewFinished,
    ReviewFolder,
    ReviewRowsComputed,
)
from .trust.tasks import TRUST_HANDLERS

if TYPE_CHECKING:
    from engine.session import Session
from .worker_tasks import activation_result, method_specs, pattern_result, review_result

PREDICT_BATCH = 16
NOT_DURING_REVIEW = ("model", "review")  # wait for the review to end (or be cancelled)
NOT_DURING_PATTERNS = ("model", "review", "features")  # an explanation runs between ascent steps
NOT_DURING_COMPARE = ("model", "review", "features", "compare", "model_b")  # and between compare tiles
ENGINE_NICENESS = 5  # scheduling priority below the window's (POSIX nice)
IDLE_POLL_SECONDS = 1.0  # how often an idle loop checks that its parent still lives


@dataclass(frozen=True)
class Envelope:
    """A request with its channel and generation."""

    channel: str
    generation: int
    request: Request


class Inbox(Protocol):
    """queue.Queue or multiprocessing's Queue."""

    def get(self, block: bool = True, timeout: float | None = None) -> Envelope | None: ...

    def get_nowait(self) -> Envelope | None: ...

    def put(self, item: Envelope | None) -> None: ...


class Flag(Protocol):
    """threading.Event or multiprocessing's Event."""

    def is_set(self) -> bool: ...

    def set(self) -> None: ...

    def clear(self) -> None: ...


class EngineLoop:
    """Serves requests from `inbox` until None arrives or `alive()` turns False."""

    def __init__(self, inbox: Inbox, emit: Callable[[Reply], None], latest: MutableMapping[str, int], cancel: Flag,
                 alive: Callable[[], bool] = lambda: True) -> None:
        self.inbox, self.emit, self.latest, self.cancel_flag, self.alive = inbox, emit, latest, cancel, alive
        self.session: Session | None = None
        self.session_b: Session | None = None  # the second model, compared with the first
        self.methods: Mapping[str, Any] = {}  # the engine's method registry, with the window's extra methods
        self._pending: deque[str] = deque()
        self._predict_generation = -1
        self._total = 0
        self._compared: tuple[tuple, Session] | None = None  # model B of the last comparison, by (path, trust, mtime)

    def run(self, methods: dict[str, str] | None = None) -> None:
        """Import the engine, then serve requests; folder predictions run one batch at a time
        whenever no other request waits."""
        self.start(methods or {})
        while True:
            try:
                envelope = self.inbox.get(block=True, timeout=IDLE_POLL_SECONDS) if not self._pending \
                    else self.inbox.get_nowait()
            except queue.Empty:
                if self._pending:
                    self._predict_batch()
                elif not self.alive():
                    return
                continue
            if envelope is None:
                return
            self.handle(envelope)

    def start(self, methods: dict[str, str]) -> None:
        """Import the engine (and TensorFlow) here, register the parent's extra methods
        ("module:QualName"), and announce the method list."""
        try:
            from engine.methods import registry
            from engine.model.backend import load

            self.methods = registry({name: _import(where) for name, where in methods.items()})
            load()
            self.emit(EngineStarted(method_specs(self.methods)))
        except Exception as exc:  # noqa: BLE001 - a broken install is reported, not raised
            self.emit(JobFailed("model", f"the engine could not start: {exc}"))

    def handle(self, envelope: Envelope) -> None:
        """Run one request unless a newer one on its channel superseded it."""
        if self._stale(envelope):
            return
        self.cancel_flag.clear()  # a cancel of earlier jobs also made them stale
        channel = envelope.channel
        self.emit(JobStarted(channel, envelope.generation))
        try:
            self._dispatch(envelope)
        except Cancelled:
            self.emit(JobCancelled(channel, envelope.generation))
        except UnsafeModelError as exc:
            self.emit(JobFailed(channel, str(exc), unsafe=True))
        except ConvScopeError as exc:
            self.emit(JobFailed(channel, str(exc)))
        except Exception as exc:  # noqa: BLE001 - never let a job take the window down
            self.emit(JobFailed(channel, f"{type(exc).__name__}: {exc}"))
        if channel != "predict":
            self.emit(JobFinished(channel, envelope.generation))

    def _stale(self, envelope: Envelope) -> bool:
        return self.latest.get(envelope.channel, 0) != envelope.generation

    def cancel_check(self, envelope: Envelope) -> Callable[[], bool]:
        return lambda: self.cancel_flag.is_set() or self._stale(envelope)

    def progress(self, channel: str) -> Callable[[int, int], None]:
        return lambda done, total: self.emit(ProgressReported(channel, int(done), int(total)))

    @property
    def opened(self) -> Session:
        """The open model's session (handlers other than OpenModel run only with one)."""
        if self.session is None:
            raise ConvScopeError("no model is loaded yet")
        return self.session

    def _dispatch(self, envelope: Envelope) -> None:
        """Run the handler registered for the request's type (HANDLERS below the class)."""
        request = envelope.request
        handler = HANDLERS[type(request)]  # every request type has one: checked at import
        if self.session is None and not isinstance(request, OpenModel | OpenModelB | CloseModelB):
            raise ConvScopeError("no model is loaded yet")
        handler(self, envelope, request)

    def _open(self, envelope: Envelope, request: OpenModel) -> None:
        from engine.session import Session

        session = Session.open(request.path, trust=request.trust, methods=self.methods)  # a failure keeps the old one
        self.session = session
        self.emit(ModelOpened(session.info, bool(getattr(session, "black_box", False))))

    def _activations(self, envelope: Envelope, request: Activations) -> None:
        self.emit(FeaturesComputed(envelope.generation, activation_result(self.opened, request)))

    def explain_one(self, envelope: Envelope, request: Explain, progress=None, image=None):
        session = self.session_for(request.model)
        image = image or session.load_image(request.path)
        result = session.explain(
            image, request.method, request.layer, request.class_index, request.output,
            progress=progress, cancel=self.cancel_check(envelope), **dict(request.params))
        return result, image.display

    def _explain(self, envelope: Envelope, request: Explain) -> None:
        if request.model == "b":
            self._explain_b(envelope, request)
            return
        image = self.opened.load_image(request.path)
        self.emit(ImageLoaded(envelope.generation, request.path, image.display))
        result, display = self.explain_one(envelope, request, self.progress(envelope.channel), image)
        self.emit(ExplanationComputed(envelope.channel, envelope.generation, request, result, display))

    def _compare(self, envelope: Envelope, request: Compare) -> None:
        total = len(request.items)
        loaded: dict[tuple[str, str], object] = {}  # the tiles explain one image (per model): read it once
        for done, item in enumerate(request.items):
            self.emit(ProgressReported(envelope.channel, done, total))
            try:
                if (item.model, item.path) not in loaded:
                    loaded[item.model, item.path] = self.session_for(item.model).load_image(item.path)
                result, display = self.explain_one(envelope, item, image=loaded[item.model, item.path])
            except ConvScopeError as exc:  # one tile failing does not stop the others
                self.emit(ExplanationFailed(envelope.channel, envelope.generation, item, str(exc)))
                continue
            self.emit(ExplanationComputed(envelope.channel, envelope.generation, item, result, display))
            self.serve_waiting(NOT_DURING_COMPARE)
        self.emit(ProgressReported(envelope.channel, total, total))

    # -- the second model (comparing two models): its own session, opened by path --------------
    def session_for(self, model: str) -> Session:
        """The session a request's `model` names: "a", the open model, or "b", the one compared with it."""
        if model != "b":
            return self.opened
        if self.session_b is None:
            raise ConvScopeError("no second model is loaded: File › Compare with another model…")
        return self.session_b

    def _open_b(self, envelope: Envelope, request: OpenModelB) -> None:
        from engine.session import Session

        session = Session.open(request.path, trust=request.trust, methods=self.methods)  # a failure keeps B as it was
        self.session_b = session
        self.emit(ModelOpened(session.info, bool(getattr(session, "black_box", False)), model="b"))

    def _close_b(self, envelope: Envelope, request: CloseModelB) -> None:
        self.session_b = None

    def _explain_b(self, envelope: Envelope, request: Explain) -> None:
        """Model B's map of an image: a refusal (a gradient method on a black box) is B's one line."""
        try:
            result, display = self.explain_one(envelope, request, self.progress(envelope.channel))
        except ConvScopeError as exc:
            self.emit(ExplanationFailed(envelope.channel, envelope.generation, request, str(exc)))
            return
        self.emit(ExplanationComputed(envelope.channel, envelope.generation, request, result, display))

    def _patterns(self, envelope: Envelope, request: Patterns) -> None:
        def partial(result) -> None:
            self.emit(FeaturesComputed(envelope.generation, result))

        progress = self.stepping(envelope, NOT_DURING_PATTERNS)  # a newer explanation never waits for the ascent
        result = pattern_result(self.opened, request, progress, self.cancel_check(envelope), partial)
        self.emit(FeaturesComputed(envelope.generation, result))

    def _review(self, envelope: Envelope, request: ReviewFolder) -> None:
        def on_rows(rows) -> None:
            self.emit(ReviewRowsComputed(envelope.generation, tuple(rows)))
            self.serve_waiting()

        result = review_result(self.opened, request, self.progress(envelope.channel),
                               self.cancel_check(envelope), on_rows)
        self.emit(ReviewFinished(envelope.generation, result))

    # -- comparing two models on a lot (CompareFolder) -----------------------------------------
    def comparison_model(self, path: str, trust: bool) -> Session:
        """Model B of a comparison, opened by path as `main.py compare` opens `--against` (a Keras
        session, or a black box for .tflite / .onnx / a SavedModel); kept for the next comparison
        while the file is unchanged. The window's model B (opened, and trusted if the user chose
        to) is used as it is: one copy, the same model the Heatmap tab's B pane shows."""
        from engine.session import Session

        if self.session_b is not None and self.session_b.info.path == path:
            return self.session_b
        key = (path, trust, os.stat(path).st_mtime_ns if os.path.exists(path) else -1)
        if self._compared is None or self._compared[0] != key:
            self._compared = (key, Session.open(path, trust=trust, methods=self.methods))
        return self._compared[1]

    def _compare_folder(self, envelope: Envelope, request: CompareFolder) -> None:
        from engine.review.two_models import compare_lot

        def on_rows(rows) -> None:
            self.emit(CompareRowsComputed(envelope.generation, tuple(rows)))
            self.serve_waiting()

        session_b = self.comparison_model(request.model_b, request.trust_b)
        comparison, summary = compare_lot(self.opened, session_b, request.folder, request.options,
                                          request.report_folder, self.progress(envelope.channel),
                                          self.cancel_check(envelope), on_rows)
        self.emit(CompareFinished(envelope.generation, comparison.rows, summary))

    def stepping(self, envelope: Envelope, defer: tuple[str, ...]) -> Callable[[int, int], None]:
        """A progress callback for a long job that also serves the quick requests waiting meanwhile
        (an explanation of a newly selected image runs between two steps, not after the job)."""
        report = self.progress(envelope.channel)

        def progress(done: int, total: int) -> None:
            report(done, total)
            self.serve_waiting(defer)

        return progress

    def serve_waiting(self, defer: tuple[str, ...] = NOT_DURING_REVIEW) -> None:
        """Handle queued quick requests now (called between the batches of a review)."""
        deferred = []
        while True:
            try:
                envelope = self.inbox.get_nowait()
            except queue.Empty:
                break
            if envelope is None or envelope.channel in defer:
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
        if self.latest.get("predict", 0) != generation:
            self._pending.clear()
            return
        images: list = []
        while self._pending and len(images) < PREDICT_BATCH:
            path = self._pending.popleft()
            try:
                images.append(self.opened.load_image(path))
            except ConvScopeError:
                continue  # the browser shows the image as unreadable on its own
        try:
            predictions = self._predict(images)
        except ConvScopeError as exc:
            self.emit(JobFailed("predict", str(exc)))
            predictions = ()
        self.emit(PredictionsComputed(generation, predictions))
        self.emit(ProgressReported("predict", self._total - len(self._pending), self._total))
        if not self._pending:
            self.emit(JobFinished("predict", generation))

    def _predict(self, images: list) -> tuple:
        if not images:
            return ()
        if None in tuple(self.opened.info.input_shape[:2]):  # size-agnostic: one at a time
            return tuple(p for image in images for p in self.opened.predict([image], top=5))
        return tuple(self.opened.predict(images, top=5))


Handler = Callable[[EngineLoop, Envelope, Any], None]
HANDLERS: dict[type, Handler] = {  # request type -> the loop method that runs it, (loop, envelope, request)
    OpenModel: EngineLoop._open,
    PredictFolder: EngineLoop._start_predict,
    Explain: EngineLoop._explain,
    Compare: EngineLoop._compare,
    Activations: EngineLoop._activations,
    Patterns: EngineLoop._patterns,
    ReviewFolder: EngineLoop._review,
    CompareFolder: EngineLoop._compare_folder,
    OpenModelB: EngineLoop._open_b,
    CloseModelB: EngineLoop._close_b,
    **TRUST_HANDLERS,  # the Trust view's requests (gui.trust.tasks)
}
if set(HANDLERS) != set(REQUESTS):  # a request without a handler would otherwise fail only when sent
    raise RuntimeError(f"engine requests without a handler: {set(REQUESTS) ^ set(HANDLERS)}")


def _import(where: str) -> Any:
    """The class a "module:QualName" names."""
    module, _, qualname = where.partition(":")
    return getattr(importlib.import_module(module), qualname)


class Generations(MutableMapping):
    """The channels' generation counters over a shared multiprocessing Array of int64."""

    def __init__(self, array) -> None:
        self.array = array

    def __getitem__(self, channel: str) -> int:
        return int(self.array[CHANNELS.index(channel)]) if channel in CHANNELS else _missing(channel)

    def __setitem__(self, channel: str, value: int) -> None:
        self.array[CHANNELS.index(channel)] = value

    def __delitem__(self, channel: str) -> None:
        raise TypeError("channels are fixed")

    def __iter__(self):
        return iter(CHANNELS)

    def __len__(self) -> int:
        return len(CHANNELS)


def _missing(channel: str) -> int:
    raise KeyError(channel)


def serve(inbox, sender, latest_array, cancel, methods: dict[str, str]) -> None:
    """The child process's entry point: run the loop, sending every emitted message to the
    parent through `sender` (a multiprocessing Connection); ends with its parent. The engine
    runs a little below the window's priority, so that on a busy machine the window's thread is
    scheduled before TensorFlow's."""
    import multiprocessing

    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(ENGINE_NICENESS)
    parent = multiprocessing.parent_process()

    def emit(reply: Reply) -> None:
        sender.send(reply)

    loop = EngineLoop(inbox, emit, Generations(latest_array), cancel,
                      alive=lambda: parent is None or parent.is_alive())
    try:
        loop.run(methods)
    except (BrokenPipeError, EOFError):  # the window went away
        pass
    finally:
        sender.close()
