"""The engine behind a QThread: the window's side of `gui.engine_loop`.

The engine (Session, TensorFlow) runs in a child process started with multiprocessing's
'spawn' context; the QThread relays its replies (gui.protocol) to the Qt signals of
`EngineSignals`, one per reply type. Requests go from the GUI
thread straight onto the child's queue (`EngineClient.submit`); supersede and cancel use
generation counters and a flag in shared memory, so a newer request or Esc stops a running
job at its next engine step. Only numpy arrays and frozen dataclasses cross.

Why a process: importing TensorFlow, loading a model and tracing hold the GIL for up to a
second at a time, which froze the window when they ran in a thread of its process
(`python -m bench.responsiveness` measures it); and a crash inside TensorFlow now ends the
child only: the relay says so in one line, starts a new child and reopens the last model.
`CONVSCOPE_ENGINE=thread` runs the same loop in the QThread instead.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, SignalInstance

from .engine_loop import EngineLoop, Envelope, Generations, serve
from .protocol import (
    CHANNELS,
    REPLIES,
    CompareFinished,
    CompareRowsComputed,
    EngineRestarted,
    EngineStarted,
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
    PredictionsComputed,
    ProgressReported,
    Reply,
    Request,
    ReviewFinished,
    ReviewRowsComputed,
    TrustComputed,
    channel_of,
)

MODEL_CHANNELS = ("model", "model_b")  # loading a model: a cancel lets it finish
STACK_BYTES = 64 * 1024 * 1024
STOP_GRACE_SECONDS = 3.0  # a child still busy after this is terminated when the window closes
RESTARTS_ALLOWED = 3  # crashes within RESTART_WINDOW_SECONDS before the relay gives up
RESTART_WINDOW_SECONDS = 60.0
EXTRA_METHODS: dict[str, str] = {}  # methods beyond the built-in ones, "name": "module:QualName", that
# the engine registers when it starts (a plug-in, or the tests' slow method); engine.methods.METHODS is read-only

R = TypeVar("R")

__all__ = ["CHANNELS", "EngineClient", "EngineSignals", "EngineThread", "Envelope", "as_params"]


class EngineSignals(QObject):
    """The engine's replies (gui.protocol) as Qt signals, one per reply type, each carrying the
    reply itself; emitted from the relay thread, delivered in the GUI thread. Connect with `on`,
    which mypy checks against the reply type."""

    engine_started = Signal(object)  # EngineStarted
    engine_restarted = Signal(object)  # EngineRestarted
    model_opened = Signal(object)  # ModelOpened
    predictions_computed = Signal(object)  # PredictionsComputed
    image_loaded = Signal(object)  # ImageLoaded
    explanation_computed = Signal(object)  # ExplanationComputed
    explanation_failed = Signal(object)  # ExplanationFailed
    features_computed = Signal(object)  # FeaturesComputed
    review_rows_computed = Signal(object)  # ReviewRowsComputed
    review_finished = Signal(object)  # ReviewFinished
    trust_computed = Signal(object)  # TrustComputed
    progress_reported = Signal(object)  # ProgressReported
    job_started = Signal(object)  # JobStarted
    job_failed = Signal(object)  # JobFailed
    job_cancelled = Signal(object)  # JobCancelled
    job_finished = Signal(object)  # JobFinished
    compare_rows_computed = Signal(object)  # CompareRowsComputed (the Review tab's comparison mode)
    compare_finished = Signal(object)  # CompareFinished

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.by_type: dict[type, SignalInstance] = {
            EngineStarted: self.engine_started, EngineRestarted: self.engine_restarted,
            ModelOpened: self.model_opened, PredictionsComputed: self.predictions_computed,
            ImageLoaded: self.image_loaded, ExplanationComputed: self.explanation_computed,
            ExplanationFailed: self.explanation_failed,
            FeaturesComputed: self.features_computed, ReviewRowsComputed: self.review_rows_computed,
            ReviewFinished: self.review_finished, TrustComputed: self.trust_computed,
            ProgressReported: self.progress_reported, JobStarted: self.job_started, JobFailed: self.job_failed,
            JobCancelled: self.job_cancelled, JobFinished: self.job_finished}
        self.by_type.update({CompareRowsComputed: self.compare_rows_computed, CompareFinished: self.compare_finished})
        if set(self.by_type) != set(REPLIES):
            raise RuntimeError(f"engine replies without a signal: {set(REPLIES) ^ set(self.by_type)}")

    def on(self, kind: type[R], slot: Callable[[R], object]) -> None:
        """Call `slot` with every reply of type `kind`."""
        self.by_type[kind].connect(slot)

    def relay(self, reply: Reply) -> None:
        """Emit the signal of the reply's type."""
        self.by_type[type(reply)].emit(reply)


class EngineThread(QThread):
    """Runs the engine loop in this thread, or relays the engine process's messages."""

    def __init__(self, client: EngineClient) -> None:
        super().__init__()
        self.client = client
        self.running: tuple[str, int] | None = None  # the job the engine works on
        self.engine_ready = False  # the engine (process) has imported TensorFlow and said so
        self.crashes: list[float] = []

    def run(self) -> None:
        if not self.client.use_process:
            self._run_here()
            return
        restarted = False
        while not self.client.stopping:
            try:
                process, reader = self.client.spawn()
            except Exception as exc:  # noqa: BLE001 - e.g. a main script without a __main__ guard
                print(f"convscope: the engine process could not start ({exc!r}); running it in a thread",
                      file=sys.stderr)
                self._run_here()
                return
            self.engine_ready = False
            if restarted:  # only now: the model request must go to the new process's queue
                self.client.signals.relay(EngineRestarted())
            self._relay(process, reader)
            if self.client.stopping or not self._restart(process.exitcode):
                return
            restarted = True

    def _run_here(self) -> None:
        """The engine loop in this thread (the window's process). Every answer is copied through
        pickle, as it is between processes, so that this mode passes on only what could cross."""
        EngineLoop(self.client.inbox, self._emit_copy, self.client.latest, self.client.cancel_flag).run(
            dict(EXTRA_METHODS))

    def _emit_copy(self, reply: Reply) -> None:
        self._emit(pickle.loads(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL)))

    def _emit(self, reply: Reply) -> None:
        if isinstance(reply, JobStarted):
            self.running = (reply.channel, reply.generation)
            return
        self.engine_ready = self.engine_ready or isinstance(reply, EngineStarted)
        self.running = None if isinstance(reply, JobFinished) else self.running
        self.client.signals.relay(reply)

    def _relay(self, process, reader) -> None:
        """Forward messages until the child ends."""
        while True:
            ready = wait([reader, process.sentinel])
            if reader in ready:
                try:
                    reply = reader.recv()
                except (EOFError, OSError):
                    break
                self._emit(reply)
            elif not reader.poll():
                break
        process.join(STOP_GRACE_SECONDS)
        reader.close()

    def _restart(self, exitcode: int | None) -> bool:
        """Say in one line that the engine stopped; True when a new one should start."""
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < RESTART_WINDOW_SECONDS] + [now]
        channel, generation = self.running or ("engine", -1)
        self.running = None
        how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
        again = len(self.crashes) <= RESTARTS_ALLOWED
        doing = f" while working on {channel}" if channel != "engine" else ""
        tail = "restarting it and reopening the model" if again else "it keeps stopping; restart ConvScope"
        self.client.signals.relay(JobFailed(channel, f"The engine process stopped ({how}){doing}; {tail}"))
        self.client.signals.relay(JobFinished(channel, generation))
        return again


class EngineClient(QObject):
    """The GUI side: starts the engine, stamps requests with generations, stops cleanly."""

    def __init__(self, parent: QObject | None = None, use_process: bool | None = None) -> None:
        super().__init__(parent)
        self.use_process = os.environ.get("CONVSCOPE_ENGINE", "process") != "thread" if use_process is None \
            else use_process
        self.signals = EngineSignals()
        self.stopping = False
        self.process = None
        self.model_request: OpenModel | None = None  # the last model that opened, reopened after a crash
        self._asked: OpenModel | None = None
        self.model_b_request: OpenModelB | None = None  # the model compared with it (None: not comparing)
        if self.use_process:
            self.context = multiprocessing.get_context("spawn")
            self.latest: Any = Generations(self.context.Array("q", len(CHANNELS), lock=False))
            self.cancel_flag: Any = self.context.Event()
            self.inbox: Any = None
        else:
            self.latest = dict.fromkeys(CHANNELS, 0)
            self.cancel_flag = threading.Event()
            self.inbox = queue.Queue()
        self.engine_thread = EngineThread(self)
        self.engine_thread.setObjectName("convscope-engine")
        self.engine_thread.setStackSize(STACK_BYTES)  # TensorFlow tracing recurses deeply (thread mode)
        self.signals.on(ModelOpened, self._model_opened)
        self.signals.on(EngineRestarted, self._reopen)

    def start(self) -> None:
        """Start the engine (TensorFlow imports there, not in the GUI thread)."""
        if self.use_process and self.inbox is None:
            self.inbox = self.context.Queue()
        self.engine_thread.start()

    def spawn(self):
        """Start an engine process (relay thread); returns it and the end its messages arrive on."""
        if self.inbox is None or self.process is not None:  # a restart: requests queued for the dead one go
            self.inbox = self.context.Queue()
        reader, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(target=serve, name="convscope-engine", daemon=True,
                                       args=(self.inbox, sender, self.latest.array, self.cancel_flag,
                                             dict(EXTRA_METHODS)))
        process.start()
        sender.close()  # the child holds the only writer: its end closing is our EOF
        self.process = process
        return process, reader

    def submit(self, request: Request) -> int:
        """Queue a request; it supersedes any older one on its channel (TypeError: not a request)."""
        channel = channel_of(request)
        self.latest[channel] += 1
        generation = self.latest[channel]
        if isinstance(request, OpenModel):
            self._asked = request
        elif channel == "model_b":  # OpenModelB, or CloseModelB: not comparing any more
            self.model_b_request = request if isinstance(request, OpenModelB) else None
        if not self.use_process:  # what a process would get: a copy (and only what pickles)
            request = pickle.loads(pickle.dumps(request, pickle.HIGHEST_PROTOCOL))
        self.inbox.put(Envelope(channel, generation, request))
        return generation

    def is_current(self, channel: str, generation: int) -> bool:
        """Whether a result is for the latest request on its channel."""
        return self.latest.get(channel, 0) == generation

    def supersede(self, channel: str) -> None:
        """Make the running or queued request of a channel stale (the engine drops it)."""
        self.latest[channel] += 1

    def cancel(self) -> None:
        """Stop the running job and drop every queued one (loading a model, A or B, is never dropped)."""
        for channel in CHANNELS:
            if channel not in MODEL_CHANNELS:
                self.supersede(channel)
        self.cancel_flag.set()

    def stop(self, timeout_ms: int = 10000) -> None:
        """Cancel and stop the engine; a process still busy after a grace period is terminated."""
        if not self.engine_thread.isRunning():
            return
        self.stopping = True
        self.cancel()
        self.inbox.put(None)
        grace = STOP_GRACE_SECONDS if self.engine_thread.engine_ready else 0.0  # still importing: nothing to lose
        if self.use_process and not self.engine_thread.wait(int(grace * 1000)) and self.process is not None:
            self.process.terminate()
        self.engine_thread.wait(timeout_ms)

    def _model_opened(self, _reply: ModelOpened) -> None:
        self.model_request = self._asked

    def _reopen(self, _reply: EngineRestarted) -> None:
        if self.model_request is not None and not self.stopping:
            self.submit(self.model_request)
        if self.model_b_request is not None and not self.stopping:
            self.submit(self.model_b_request)


def as_params(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Method parameters as a hashable, ordered tuple for requests and cache keys."""
    return tuple(sorted((k, v.item() if isinstance(v, np.generic) else v) for k, v in values.items()))
